"""What every response tells the browser, and how cookies are set, on plain HTTP and behind an
HTTPS reverse proxy."""
from .conftest import login, make_app


def test_security_headers_on_pages_and_api(client):
    for path in ("/", "/p/co-development-group", "/api/v1/practices", "/search?q=groupe"):
        r = client.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
        assert r.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_is_httponly_and_samesite(client, users):
    r = login(client, "alice")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_behind_an_https_proxy_cookies_are_secure_and_links_https(home, users):
    app = make_app(home, COMMONS_BASE_URL="https://commons.example.org", PROXY_HOPS=1)
    try:
        client = app.test_client()
        r = client.post("/login", data={"username": "alice", "password": "correct horse battery"},
                        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host":
                                 "commons.example.org", "X-Forwarded-For": "203.0.113.9"})
        assert r.status_code == 302
        cookie = r.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        with app.test_request_context("/"):
            from flask import url_for
            assert url_for("practices.home", _external=True).startswith("https://")
    finally:
        app.extensions["commons"].engine.dispose()


def test_forwarded_headers_are_ignored_without_a_proxy(app):
    from flask import request
    seen = {}

    @app.get("/_scheme")
    def scheme():
        seen["scheme"], seen["host"] = request.scheme, request.host
        return "ok"

    app.test_client().get("/_scheme", headers={"X-Forwarded-Proto": "https",
                                               "X-Forwarded-Host": "evil.example"})
    assert seen == {"scheme": "http", "host": "localhost"}


def test_forwarded_headers_are_trusted_for_the_configured_hops(home):
    app = make_app(home, PROXY_HOPS=1)
    from flask import request
    seen = {}

    @app.get("/_scheme")
    def scheme():
        seen["scheme"], seen["host"] = request.scheme, request.host
        return "ok"

    try:
        app.test_client().get("/_scheme", headers={"X-Forwarded-Proto": "https",
                                                   "X-Forwarded-Host": "commons.example.org"})
        assert seen == {"scheme": "https", "host": "commons.example.org"}
    finally:
        app.extensions["commons"].engine.dispose()
