"""Domain errors → HTTP, in one place: JSON ``{"error": {"code", "message"}}`` under /api,
a page everywhere else."""
from __future__ import annotations

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import CommonsError, Unauthorized

HTTP_CODES = {400: "validation", 401: "unauthorized", 403: "forbidden", 404: "not_found", 410: "gone",
              405: "method_not_allowed", 409: "conflict", 413: "too_large",
              415: "validation", 422: "validation", 429: "rate_limited", 503: "busy"}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, **extra) -> tuple:
    body = {"error": {"code": code, "message": message}}
    body.update(extra)
    return jsonify(body), status


def register(app: Flask) -> None:
    @app.errorhandler(CommonsError)
    def domain_error(exc: CommonsError):
        message = exc.message
        if wants_json():
            error = {"code": exc.code, "message": message}
            if exc.field:
                error["field"] = exc.field
            return jsonify({"error": error, **exc.details}), exc.status
        if isinstance(exc, Unauthorized):
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return render_template("error.html", status=exc.status, message=message), exc.status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = gettext("Your form expired or was sent from another site. Please reload the "
                          "page and try again.")
        return render_template("error.html", status=400, message=message), 400

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc: RateLimitExceeded):
        """Refused before the view ran, so nothing was done; says when to try again."""
        from .ratelimits import message, retry_after
        seconds = retry_after(exc)
        text = message(exc, seconds)
        if wants_json():
            response = api_error(429, "rate_limited", text, retry_after=seconds)
        else:
            response = render_template("error.html", status=429, message=text), 429
        response = app.make_response(response)
        response.headers["Retry-After"] = str(seconds)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        messages = {
            404: gettext("There is nothing at this address."),
            405: gettext("This address does not accept that kind of request."),
            413: gettext("What you sent is too large."),
        }
        message = messages.get(status, exc.description or exc.name)
        if wants_json():
            return api_error(status, HTTP_CODES.get(status, "error"), message)
        return render_template("error.html", status=status, message=message), status
