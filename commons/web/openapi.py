"""The OpenAPI 3 description of /api/v1 (a test fails if a route is missing from it)."""
from __future__ import annotations

from typing import Any

from .. import __version__

ERROR_CODES = ["unauthorized", "forbidden", "not_found", "validation", "license_required",
               "conflict", "too_large", "rate_limited", "busy", "method_not_allowed"]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(schema: dict, description: str = "OK") -> dict:
    return {"description": description, **_json(schema)}


def _errors(*codes: int) -> dict:
    names = {400: "Bad request", 401: "Not signed in (no or invalid bearer token)",
             403: "Signed in without the right", 404: "No such practice or revision",
             409: "Conflict", 413: "Too large", 422: "Validation error or licence not agreed",
             503: "Busy: the write lock timed out"}
    return {str(c): {"description": names[c], **_json(_ref("Error"))} for c in codes}


SLUG = {"name": "slug", "in": "path", "required": True,
        "schema": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 80}}
PAGING = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
          {"name": "per_page", "in": "query",
           "schema": {"type": "integer", "minimum": 1, "maximum": 100}}]
WRITE_ERRORS = (401, 403, 404, 422, 503)


def _list(key: str, item: str) -> dict:
    return {"type": "object", "required": ["total", "page", "per_page", key], "properties": {
        "total": {"type": "integer"}, "page": {"type": "integer"},
        "per_page": {"type": "integer"}, key: {"type": "array", "items": _ref(item)}}}


def _write_body(required: list[str], **props: dict) -> dict:
    props["agree_license"] = {"type": "boolean", "description":
                              "Must be true: you release the change under CC BY-SA 4.0."}
    props.setdefault("message", {"type": "string", "maxLength": 500})
    return {"required": True, **_json({"type": "object", "required": required + ["agree_license"],
                                       "properties": props})}


PRACTICE_FIELDS = {
    "title": {"type": "string", "maxLength": 200},
    "body": {"type": "string", "description": "Markdown"},
    "summary": {"type": "string", "maxLength": 500},
    "language": {"type": "string", "example": "fr"},
    "tags": {"type": "array", "items": {"type": "string"}},
}


def spec() -> dict[str, Any]:
    practice_ops = {"parameters": [SLUG]}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Commons API", "version": __version__,
                 "description": "Practices shared as a knowledge commons (CC BY-SA 4.0). "
                                "Writes need 'Authorization: Bearer <token>' "
                                "(commons token create NAME)."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "security": [{}, {"bearer": []}],
        "paths": {
            "/openapi.json": {"get": {"summary": "This document",
                                      "responses": {"200": _ok({"type": "object"})}}},
            "/practices": {
                "get": {"summary": "List practices", "parameters": PAGING + [
                    {"name": "tag", "in": "query", "schema": {"type": "string"}}],
                        "responses": {"200": _ok(_list("practices", "PracticeSummary"))}},
                "post": {"summary": "Create a practice",
                         "requestBody": _write_body(["title"], slug={"type": "string"},
                                                    **PRACTICE_FIELDS),
                         "responses": {"201": _ok(_ref("Practice"), "Created"),
                                       **_errors(401, 409, 422, 503)}},
            },
            "/practices/{slug}": {
                **practice_ops,
                "get": {"summary": "A practice (an older version with ?revision=)",
                        "parameters": [{"name": "revision", "in": "query",
                                        "schema": {"type": "string"}}],
                        "responses": {"200": _ok(_ref("Practice")), **_errors(404, 422)}},
                "put": {"summary": "Edit a practice (stewards and admins)",
                        "requestBody": _write_body(["base_revision"],
                                                   base_revision={"type": "string"},
                                                   license={"type": "string"},
                                                   **PRACTICE_FIELDS),
                        "responses": {"200": _ok(_ref("Practice")),
                                      "409": {"description": "Edit conflict",
                                              **_json(_ref("Conflict"))},
                                      **_errors(*WRITE_ERRORS)}},
            },
            "/practices/{slug}/history": {**practice_ops, "get": {
                "summary": "Revisions of a practice, newest first", "parameters": PAGING,
                "responses": {"200": _ok(_list("history", "Change")), **_errors(404)}}},
            "/practices/{slug}/diff": {**practice_ops, "get": {
                "summary": "Unified diff between two revisions",
                "parameters": [{"name": "from", "in": "query", "required": True,
                                "schema": {"type": "string"}},
                               {"name": "to", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Unified diff",
                                      "content": {"text/x-diff": {"schema": {"type": "string"}}}},
                              **_errors(404, 422)}}},
            "/practices/{slug}/revert": {**practice_ops, "post": {
                "summary": "Revert to an earlier revision (a new commit)",
                "requestBody": _write_body(["revision"], revision={"type": "string"}),
                "responses": {"200": _ok(_ref("Practice")), **_errors(*WRITE_ERRORS)}}},
            "/practices/{slug}/rename": {**practice_ops, "post": {
                "summary": "Rename (the old address redirects)",
                "requestBody": _write_body(["slug"], slug={"type": "string"}),
                "responses": {"200": _ok(_ref("Practice")), **_errors(*WRITE_ERRORS, 409)}}},
            "/practices/{slug}/stewards": {**practice_ops, "post": {
                "summary": "Add a steward (stewards and admins)",
                "requestBody": _write_body(["username"], username={"type": "string"}),
                "responses": {"200": _ok(_ref("Practice")), **_errors(*WRITE_ERRORS)}}},
            "/changes": {"get": {"summary": "Recent changes across the commons",
                                 "parameters": PAGING,
                                 "responses": {"200": _ok(_list("changes", "Change"))}}},
        },
    }


def _schemas() -> dict[str, Any]:
    person = {"type": "object", "properties": {"username": {"type": "string", "nullable": True},
                                               "name": {"type": "string"}}}
    summary = {"type": "object", "properties": {
        "slug": {"type": "string"}, "title": {"type": "string"}, "summary": {"type": "string"},
        "language": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
        "license": {"type": "string"}, "revision": {"type": "string"},
        "updated": {"type": "string", "format": "date-time"}}}
    practice = {"allOf": [summary, {"type": "object", "properties": {
        "stewards": {"type": "array", "items": {"type": "string"}},
        "body": {"type": "string"}, "html": {"type": "string"},
        "authors": {"type": "array", "items": person},
        "translations": {"type": "object", "additionalProperties": {"type": "string"}},
        "forked_from": {"type": "object", "nullable": True},
        "credits": {"type": "array", "items": {"type": "object"}},
        "source": {"type": "object", "nullable": True},
        "merged": {"type": "boolean"}, "changed": {"type": "boolean"}}}]}
    error = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "enum": ERROR_CODES}, "message": {"type": "string"},
            "field": {"type": "string"}}}}}
    conflict = {"allOf": [error, {"type": "object", "properties": {
        k: {"type": "string"} for k in ("current_revision", "base_revision", "yours", "theirs",
                                         "merged_with_markers")}}]}
    change = {"type": "object", "properties": {
        "revision": {"type": "string"}, "slug": {"type": "string"},
        "kind": {"type": "string", "enum": ["create", "edit", "delete", "rename", "revert"]},
        "message": {"type": "string"}, "date": {"type": "string", "format": "date-time"},
        "author": person}}
    return {"PracticeSummary": summary, "Practice": practice, "Error": error,
            "Conflict": conflict, "Change": change, "Person": person}
