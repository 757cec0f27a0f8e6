"""The OpenAPI 3 description of /api/v1 (a test fails if a route is missing from it)."""
from __future__ import annotations

from typing import Any

from .. import __version__

ERROR_CODES = ["unauthorized", "forbidden", "blocked", "not_found", "gone", "validation",
               "license_required", "conflict", "too_large", "rate_limited", "busy",
               "method_not_allowed"]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(schema: dict, description: str = "OK") -> dict:
    return {"description": description, **_json(schema)}


def _errors(*codes: int) -> dict:
    names = {400: "Bad request", 401: "Not signed in (no or invalid bearer token)",
             403: "Signed in without the right, or the account is blocked (code 'blocked', "
                  "with the reason)", 404: "No such practice or revision",
             410: "The practice was removed: 'removal' says when, by whom and why",
             409: "Conflict", 413: "Too large", 422: "Validation error or licence not agreed",
             503: "Busy: the write lock timed out"}
    return {str(c): {"description": names[c], **_json(_ref("Error"))} for c in codes}


SLUG = {"name": "slug", "in": "path", "required": True,
        "schema": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 80}}
PAGING = [{"name": "page", "in": "query",
           "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000}},
          {"name": "per_page", "in": "query",
           "schema": {"type": "integer", "minimum": 1, "maximum": 100}}]
PROPOSAL_ID = {"name": "proposal_id", "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 1}}
PROPOSAL_STATUSES = ["open", "accepted", "declined", "withdrawn"]
WRITE_ERRORS = (401, 403, 404, 422, 503)


def _list(key: str, item: str) -> dict:
    return {"type": "object", "required": ["total", "page", "per_page", key], "properties": {
        "total": {"type": "integer"}, "page": {"type": "integer"},
        "per_page": {"type": "integer"}, key: {"type": "array", "items": _ref(item)}}}


def _discussion_body(required: list[str], **props: dict) -> dict:
    """A write to a proposal's review (in the database, not to a practice's text in git): no
    licence agreement needed, as nothing is added to a practice."""
    return {"required": bool(required),
            **_json({"type": "object", "required": required, "properties": props}
                    if required else {"type": "object", "properties": props})}


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
    proposal_ops = {"parameters": [PROPOSAL_ID]}
    conflict = {"description": "Edit conflict: both versions and the marked merge",
                **_json(_ref("Conflict"))}
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
            "/search": {"get": {
                "summary": "Search the practices: words, \"phrases\", prefix*, AND/OR/NOT, "
                           "tag:, lang:, license:. Forks are grouped under their family's "
                           "root (total counts families); facet counts are over the whole "
                           "result set",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 500}},
                    {"name": "tag", "in": "query", "description": "repeatable: every tag given",
                     "style": "form", "explode": True,
                     "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "language", "in": "query", "schema": {"type": "string",
                                                                   "example": "fr"}},
                    {"name": "license", "in": "query", "schema": {"type": "string",
                                                                  "example": "CC-BY-SA-4.0"}},
                    *PAGING],
                "responses": {"200": _ok(_ref("SearchResults")), **_errors(422)}}},
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
            "/practices/{slug}/attribution": {**practice_ops, "get": {
                "summary": "What CC BY-SA 4.0 §3(a) asks to keep with a copy: title, authors, "
                           "copyright, licence, disclaimer, exact revision, modifications, and "
                           "the same for every work it was adapted from",
                "parameters": [{"name": "format", "in": "query", "schema": {
                    "type": "string", "enum": ["json", "text", "html"], "default": "json"}}],
                "responses": {"200": {"description": "The attribution", "content": {
                    "application/json": {"schema": _ref("Attribution")},
                    "text/plain": {"schema": {"type": "string"}},
                    "text/html": {"schema": {"type": "string"}}}},
                              **_errors(404, 422)}}},
            "/practices/{slug}/attribution/removals": {**practice_ops, "post": {
                "summary": "Leave a name out of the attribution (CC BY-SA 4.0 §3(a)(3)): "
                           "stewards and admins, or the person for their own username",
                "requestBody": _write_body(["name"], name={
                    "type": "string", "maxLength": 200,
                    "description": "a username or a name as credited"}),
                "responses": {"200": _ok(_ref("Attribution")), **_errors(*WRITE_ERRORS)}}},
            "/import": {"post": {
                "summary": "Import practices from .md files or .zip archives, each checked "
                           "against the licence registry (anyone signed in)",
                "description": "Each file is imported on its own, all or nothing: accepted (a "
                               "new practice), updated (a source imported before, merged with "
                               "the changes made here), unchanged, or refused with the reason. "
                               "The answer is 200 with one result per file even when some "
                               "were refused.",
                "requestBody": {"required": True, "content": {"multipart/form-data": {
                    "schema": {"type": "object", "required": ["file", "agree_license"],
                               "properties": {
                                   "file": {"type": "array", "items": {
                                       "type": "string", "format": "binary"},
                                       "description": "Markdown files with front matter "
                                                      "(license, title, authors, source_url "
                                                      "or source_repo + source_path, "
                                                      "language, tags), or zips of them"},
                                   "agree_license": {"type": "string", "enum": ["true"],
                                                     "description": "Must be true: you "
                                                     "release the imports under CC BY-SA "
                                                     "4.0."}}}}}},
                "responses": {"200": _ok({"type": "object", "required": ["results"],
                                          "properties": {
                    "results": {"type": "array", "items": {"type": "object", "properties": {
                        "file": {"type": "string"},
                        "status": {"type": "string", "enum": ["accepted", "updated",
                                                              "unchanged", "refused"]},
                        "slug": {"type": "string", "nullable": True},
                        "reason": {"type": "string", "nullable": True}}}},
                    **{k: {"type": "integer"} for k in ("accepted", "updated", "unchanged",
                                                        "refused")}}}),
                              **_errors(401, 413, 422, 503)}}},
            "/licenses": {"get": {
                "summary": "The licence registry: which licences may be adapted into the "
                           "commons, and the rule with its source",
                "responses": {"200": _ok({"type": "object", "properties": {
                    "commons": {"type": "array", "items": {"type": "string"},
                                "description": "the licences a practice may carry"},
                    "licenses": {"type": "array", "items": _ref("License")}}})}}},
            "/changes": {"get": {"summary": "Recent changes across the commons",
                                 "parameters": PAGING,
                                 "responses": {"200": _ok(_list("changes", "Change"))}}},
            "/practices/{slug}/forks": {**practice_ops, "post": {
                "summary": "Fork a practice: a new practice with its text, you as its steward",
                "requestBody": _write_body([], slug={"type": "string", "description":
                                                     "default: <slug>-<username>"},
                                           title={"type": "string", "maxLength": 200}),
                "responses": {"201": _ok(_ref("Practice"), "Created"),
                              **_errors(401, 404, 409, 422, 503)}}},
            "/practices/{slug}/lineage": {**practice_ops, "get": {
                "summary": "Where a practice comes from, and its forks to any depth",
                "responses": {"200": _ok(_ref("Lineage")), **_errors(404)}}},
            "/practices/{slug}/compare": {**practice_ops, "get": {
                "summary": "How a fork stands against its upstream, and what it changed",
                "responses": {"200": _ok(_ref("Compare")),
                              **_errors(404, 422)}}},
            "/practices/{slug}/sync": {**practice_ops, "post": {
                "summary": "Pull the upstream's new changes into a fork (its stewards)",
                "requestBody": _write_body(
                    [], resolved_body={"type": "string", "description":
                                       "Markdown resolving a conflict (send upstream_revision)"},
                    upstream_revision={"type": "string", "description":
                                       "the upstream revision the resolution was made against"}),
                "responses": {"200": _ok(_ref("Practice")), "409": conflict,
                              **_errors(*WRITE_ERRORS)}}},
            "/practices/{slug}/proposals": {**practice_ops, "post": {
                "summary": "Propose a fork's improvements upstream (the fork's stewards)",
                "requestBody": _discussion_body(
                    ["title"], title={"type": "string", "maxLength": 200},
                    message={"type": "string", "maxLength": 20000}),
                "responses": {"201": _ok(_ref("Proposal"), "Created"),
                              **_errors(401, 403, 404, 409, 422)}}},
            "/proposals": {"get": {
                "summary": "Proposals, newest first",
                "parameters": PAGING + [
                    {"name": "status", "in": "query", "schema": {"type": "string",
                                                                 "enum": PROPOSAL_STATUSES}},
                    {"name": "practice", "in": "query", "description":
                     "a practice at either end (fork or upstream)",
                     "schema": {"type": "string"}}],
                "responses": {"200": _ok(_list("proposals", "ProposalSummary")),
                              **_errors(422)}}},
            "/proposals/{proposal_id}": {**proposal_ops, "get": {
                "summary": "A proposal with its merge into the upstream, the diff and the thread",
                "responses": {"200": _ok(_ref("Proposal")), **_errors(404)}}},
            "/proposals/{proposal_id}/comments": {**proposal_ops, "post": {
                "summary": "Comment on a proposal (anyone signed in)",
                "requestBody": _discussion_body(["body"], body={"type": "string",
                                                                "maxLength": 20000}),
                "responses": {"201": _ok(_ref("ProposalEvent"), "Created"),
                              **_errors(401, 404, 422)}}},
            "/proposals/{proposal_id}/accept": {**proposal_ops, "post": {
                "summary": "Accept: one upstream commit authored by the proposer (the "
                           "upstream's stewards; admins, except on their own proposals)",
                "requestBody": _write_body(
                    ["fork_revision", "upstream_revision"],
                    fork_revision={"type": "string", "description": "as reviewed"},
                    upstream_revision={"type": "string", "description": "as reviewed"},
                    resolved_body={"type": "string", "description":
                                   "Markdown resolving a conflicting merge"}),
                "responses": {"200": _ok(_ref("Proposal")),
                              "409": {"description": "Either side moved since the review "
                                                     "(fork_revision and upstream_revision "
                                                     "say where they are now), the proposal "
                                                     "is closed, or the merge conflicts",
                                      **_json(_ref("Conflict"))},
                              **_errors(*WRITE_ERRORS)}}},
            "/proposals/{proposal_id}/decline": {**proposal_ops, "post": {
                "summary": "Decline with a reason (the upstream's stewards)",
                "requestBody": _discussion_body(["reason"], reason={"type": "string",
                                                                    "maxLength": 20000}),
                "responses": {"200": _ok(_ref("Proposal")), **_errors(401, 403, 404, 409, 422)}}},
            "/proposals/{proposal_id}/withdraw": {**proposal_ops, "post": {
                "summary": "Withdraw (the proposer)",
                "requestBody": _discussion_body([]),
                "responses": {"200": _ok(_ref("Proposal")), **_errors(401, 403, 404, 409)}}},
            **_moderation_paths(practice_ops),
            "/ledger": {"get": {
                "summary": "The give-back ledger, for everyone or one person",
                "parameters": [{"name": "user", "in": "query", "description": "a username",
                                "schema": {"type": "string"}}],
                "responses": {"200": _ok(_ref("Ledger")), **_errors(404)}}},
        },
    }


def _moderation_paths(practice_ops: dict) -> dict[str, Any]:
    """Block, unblock and revert-since (administrators); remove (stewards, administrators) and
    restore (administrators). Removing and blocking add no text to the commons, so they ask
    for a reason rather than the licence agreement; revert-since and restore commit text."""
    user_ops = {"parameters": [{"name": "username", "in": "path", "required": True,
                                "schema": {"type": "string", "maxLength": 40}}]}
    reason = {"type": "string", "minLength": 1, "maxLength": 500,
              "description": "one line, shown to the people concerned"}
    account = _ok(_ref("ModeratedAccount"))
    return {
        "/users/{username}/block": {**user_ops, "post": {
            "summary": "Block an account (administrators): it can read, but every write and "
                       "every request with its tokens is refused (403, code 'blocked')",
            "requestBody": _discussion_body(["reason"], reason=reason, include_admin={
                "type": "boolean", "description": "must be true to block an administrator"}),
            "responses": {"200": account, **_errors(401, 403, 404, 409, 422, 503)}}},
        "/users/{username}/unblock": {**user_ops, "post": {
            "summary": "Unblock an account (administrators)",
            "requestBody": _discussion_body([]),
            "responses": {"200": account, **_errors(401, 403, 404, 422, 503)}}},
        "/users/{username}/revert": {**user_ops, "post": {
            "summary": "Revert every change of an account since a date, in one commit "
                       "(administrators); its open proposals are declined with the reason",
            "requestBody": _write_body(["since", "reason"], since={
                "type": "string", "example": "2026-03-01",
                "description": "a date (UTC) or an ISO date and time"}, reason=reason),
            "responses": {"200": _ok(_ref("RevertReport")),
                          **_errors(401, 403, 404, 422, 503)}}},
        "/practices/{slug}/remove": {**practice_ops, "post": {
            "summary": "Remove a practice with a reason: a commit deleting its file; its page "
                       "then answers 410 with the reason (its stewards, administrators)",
            "requestBody": _discussion_body(["reason"], reason=reason),
            "responses": {"200": _ok(_ref("Removal")),
                          **_errors(401, 403, 404, 409, 410, 422, 503)}}},
        "/practices/{slug}/restore": {**practice_ops, "post": {
            "summary": "Restore a removed practice with its last text (administrators)",
            "requestBody": _write_body([]),
            "responses": {"200": _ok(_ref("Practice")), **_errors(*WRITE_ERRORS, 409)}}},
    }


def _moderation_schemas() -> dict[str, Any]:
    string, nullable = {"type": "string"}, {"type": "string", "nullable": True}
    slugs = {"type": "array", "items": string}
    return {
        "ModeratedAccount": {"type": "object", "required": ["username", "blocked"], "properties": {
            "username": string, "display_name": string, "blocked": {"type": "boolean"},
            "blocked_at": {**nullable, "format": "date-time"}, "blocked_by": nullable,
            "blocked_reason": nullable}},
        "Removal": {"type": "object", "required": ["slug", "removed", "reason"], "properties": {
            "slug": string, "title": string, "removed": {"type": "string", "format": "date-time"},
            "revision": string, "last_revision": nullable,
            "removed_by": {"type": "object", "properties": {"username": nullable,
                                                            "name": string}},
            "reason": string}},
        "RevertReport": {"type": "object", "required": ["reverted", "removed", "manual_review"],
                         "properties": {
            "username": string, "since": {"type": "string", "format": "date-time"},
            "revision": nullable, "reverted": slugs, "removed": slugs,
            "manual_review": {"type": "array", "items": {"type": "object", "properties": {
                "slug": string, "reason": string}}},
            "declined_proposals": {"type": "array", "items": {"type": "integer"}}}},
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
                                         "merged_with_markers", "fork_revision",
                                         "upstream_revision")}}]}
    change = {"type": "object", "properties": {
        "revision": {"type": "string"}, "slug": {"type": "string"},
        "kind": {"type": "string", "enum": ["create", "edit", "delete", "rename", "revert",
                                             "fork", "sync", "give-back", "import",
                                             "metadata", "restore"]},
        "message": {"type": "string"}, "date": {"type": "string", "format": "date-time"},
        "author": person}}
    license_entry = {"type": "object", "properties": {
        "id": {"type": "string", "description": "SPDX id (or LicenseRef-…)"},
        "name": {"type": "string"}, "url": {"type": "string", "nullable": True},
        "share_alike": {"type": "boolean"},
        "adaptable_into_by_sa_4": {"type": "boolean"},
        "versionless": {"type": "boolean",
                        "description": "a source that names no version (read as 2.0 or later)"},
        "reason": {"type": "string"}, "source": {"type": "string"}}}
    counts = {"type": "object", "additionalProperties": {"type": "integer"}}
    search_results = {"type": "object", "required": ["total", "page", "per_page", "results",
                                                     "facets", "suggestion"], "properties": {
        "total": {"type": "integer", "description": "families of practices that match"},
        "page": {"type": "integer"}, "per_page": {"type": "integer"},
        "results": {"type": "array", "items": {"type": "object", "properties": {
            "slug": {"type": "string"}, "title": {"type": "string"},
            "summary": {"type": "string"},
            "snippet": {"type": "string", "description": "HTML: the matching passage, "
                                                         "escaped, matches in <mark>"},
            "score": {"type": "number"}, "language": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "forked_from": {"type": "string", "nullable": True},
            "variants": {"type": "integer", "description": "how many more practices of the "
                                                           "same family matched"}}}},
        "facets": {"type": "object", "properties": {"tags": counts, "language": counts,
                                                    "license": counts}},
        "suggestion": {"type": "string", "nullable": True,
                       "description": "the query with misspelt words corrected"}}}
    return {"SearchResults": search_results,
            "License": license_entry, "Attribution": _attribution_schema(),
            "PracticeSummary": summary, "Practice": practice, "Error": error,
            "Conflict": conflict, "Change": change, "Person": person, **_giveback_schemas(),
            **_moderation_schemas()}


def _giveback_schemas() -> dict[str, Any]:
    string, integer, revision = {"type": "string"}, {"type": "integer"}, {"type": "string"}
    date = {"type": "string", "format": "date-time"}
    nullable = lambda schema: {**schema, "nullable": True}  # noqa: E731
    contributor = {"type": "object", "required": ["username", "display_name"], "properties": {
        "username": string, "display_name": string},
        "description": "a person by username and display name (never their email)"}
    practice_ref = {"type": "object", "properties": {"slug": string,
                                                      "title": nullable(string)}}
    event = {"type": "object", "required": ["kind", "author", "body", "revision", "created"],
             "properties": {
                 "id": integer,
                 "kind": {"type": "string", "enum": ["opened", "updated", "comment", "accepted",
                                                     "declined", "withdrawn"]},
                 "author": {"allOf": [_ref("Contributor")], "nullable": True},
                 "body": string, "revision": nullable(revision), "created": date}}
    proposal_summary = {"type": "object", "properties": {
        "id": integer, "title": string, "message": string,
        "status": {"type": "string", "enum": ["open", "accepted", "declined", "withdrawn"]},
        "fork": practice_ref, "upstream": practice_ref, "proposer": _ref("Contributor"),
        "fork_revision": {**revision, "description": "the fork revision proposed (follows the "
                                                     "fork while the proposal is open)"},
        "upstream_revision": {**revision, "description": "open: the upstream's current "
                                                         "revision, what an accept sends; "
                                                         "closed: the one it was closed "
                                                         "against"},
        "opened": date, "updated": date, "closed": nullable(date),
        "closed_by": {"allOf": [_ref("Contributor")], "nullable": True},
        "decline_reason": nullable(string), "accepted_revision": nullable(revision)}}
    proposal = {"allOf": [_ref("ProposalSummary"), {"type": "object", "properties": {
        "clean": {"type": "boolean", "nullable": True,
                  "description": "whether it merges cleanly into the upstream now "
                                 "(null when a practice is gone)"},
        "merged": {"type": "string", "nullable": True,
                   "description": "the proposed text merged into the upstream's current text, "
                                  "with conflict markers if not clean"},
        "diff": {"type": "string", "nullable": True,
                 "description": "unified diff, upstream's current text → merged"},
        "events": {"type": "array", "items": _ref("ProposalEvent")}}}]}
    branch = {"type": "object", "properties": {
        "slug": string, "title": string, "ahead": integer, "behind": integer,
        "forks": {"type": "array", "items": _ref("LineageFork")}}}
    lineage = {"type": "object", "required": ["ancestors", "forks"], "properties": {
        "ancestors": {"type": "array", "description": "nearest first", "items": {
            "type": "object", "properties": {
                "slug": string, "title": nullable(string),
                "revision": {**revision, "description": "the revision its child was taken at"},
                "missing": {"type": "boolean",
                            "description": "true when it is no longer in the commons"},
                "removed": {"type": "boolean", "description":
                            "true when it was removed with a reason (its page answers 410)"}}}},
        "forks": {"type": "array", "items": _ref("LineageFork")}}}
    compare = {"type": "object", "required": ["ahead", "behind", "fork_point", "upstream",
                                              "diff"], "properties": {
        "ahead": {"type": "integer", "description": "the fork's own commits not given back"},
        "behind": {"type": "integer",
                   "description": "the upstream's commits since the fork point"},
        "since": {**date, "nullable": True,
                  "description": "when the first improvement not given back was made"},
        "fork_point": revision,
        "upstream": {"type": "object", "properties": {"slug": string, "title": string,
                                                       "revision": revision}},
        "diff": {"type": "string", "description": "what the fork changed since its fork point "
                                                  "(unified diff)"}}}
    tally = {k: integer for k in ("forks", "unreturned", "open", "accepted", "declined",
                                  "withdrawn")}
    row = {"type": "object", "properties": {
        "id": integer, "title": string, "fork": string, "upstream": string,
        "proposer": _ref("Contributor"), "status": string, "opened": date,
        "age_days": integer, "closed": date, "revision": revision}}
    ledger = {"type": "object", "properties": {
        "totals": {"type": "object", "properties": tally},
        "unreturned": {"type": "array", "items": {"type": "object", "properties": {
            "fork": string, "title": string, "upstream": string, "ahead": integer,
            "behind": integer, "since": nullable(date), "age_days": integer,
            "stewards": {"type": "array", "items": string}}}},
        "open": {"type": "array", "items": row},
        "accepted": {"type": "array", "items": row},
        "declined": {"type": "array", "items": {"allOf": [row, {
            "type": "object", "properties": {"reason": string}}]}},
        "withdrawn": {"type": "array", "items": row},
        "by_practice": {"type": "array", "items": {"type": "object", "properties": {
            "slug": string, "title": nullable(string), **tally}}},
        "by_contributor": {"type": "array", "items": {"type": "object", "properties": {
            "username": string, **tally}}}}}
    return {"Contributor": contributor, "ProposalEvent": event,
            "ProposalSummary": proposal_summary, "Proposal": proposal,
            "LineageFork": branch, "Lineage": lineage, "Compare": compare, "Ledger": ledger}


def _attribution_schema() -> dict[str, Any]:
    string = {"type": "string"}
    nullable = {"type": "string", "nullable": True}
    person = {"type": "object", "properties": {"name": string, "username": nullable,
                                               "role": nullable}}
    lic = {"type": "object", "properties": {
        "id": string, "name": string, "url": nullable,
        "note": {**nullable, "description": "how the licence was read (no version named)"}}}
    common = {
        "title": string, "revision": nullable, "authors": {"type": "array", "items": person},
        "copyright": string,
        "modifications": {"type": "array", "items": string,
                          "description": "notices that it was modified, and from what"}}
    work = {"type": "object", "properties": {
        **common, "kind": {"type": "string", "enum": ["fork", "source"]}, "slug": nullable,
        "url": nullable, "revision_url": nullable, "license": {**lic, "nullable": True},
        "missing": {"type": "boolean"}}}
    return {"type": "object", "properties": {
        **common, "slug": string, "url": string, "revision_url": string, "license": lic,
        "disclaimer": string, "disclaimer_url": nullable,
        "tasl": {"type": "string", "description": "title, author, source, licence in one line"},
        "changed": {"type": "boolean", "description": "after a removal: whether it was new"},
        "chain": {"type": "array", "items": work,
                  "description": "ancestors nearest first (each at the revision it was taken "
                                 "at), then imported sources"}}}
