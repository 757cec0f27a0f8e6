"""Hostile requests: every value that reaches git or the file system is validated, and refused
with a 4xx and a message — never a 500, never a side effect."""
import pytest

from .conftest import auth

BAD_SLUGS = ["../../outside", "..%2F..%2Foutside", "--output=x", "HEAD~1;rm", "a\x00b",
             "-rf", "UPPER", "x" * 81, "a/b", ".git", "é"]
BAD_REVISIONS = ["HEAD~1", "--output=x", "HEAD~1;rm -rf /", "0" * 41, "main", "../x", "a\x00",
                 "abc"]
BILLION_LAUGHS = """---
title: laughs
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
---
body
"""
PYTHON_TAG = "---\ntitle: !!python/object/apply:os.system ['touch /tmp/pwned']\n---\nbody\n"


@pytest.fixture
def head(inst):
    return lambda: inst.store.head()


def refused(r, *codes):
    assert r.status_code in (codes or (400, 404, 409, 413, 415, 422)), (r.status_code,
                                                                         r.get_data()[:300])
    if r.is_json:
        assert r.get_json()["error"]["message"]
    return r


@pytest.mark.parametrize("slug", BAD_SLUGS)
def test_bad_slugs_are_refused_everywhere(api, client, head, slug):
    before = head()
    refused(api("post", "/practices", "alice", json={
        "title": "Hostile", "slug": slug, "body": "x", "agree_license": True}), 422, 409)
    refused(api("get", f"/practices/{slug}"), 404, 422, 400)
    refused(api("post", "/practices/co-development-group/rename", "root", json={
        "slug": slug, "agree_license": True}), 422, 409)
    refused(api("post", "/practices/co-development-group/forks", "bob", json={
        "slug": slug, "agree_license": True}), 422, 409)
    assert client.get(f"/p/{slug}").status_code in (400, 404, 422)
    assert head() == before


@pytest.mark.parametrize("revision", BAD_REVISIONS)
def test_bad_revisions_are_refused(api, client, head, revision):
    before = head()
    refused(api("put", "/practices/detox-zone", "root", json={
        "base_revision": revision, "body": "x", "agree_license": True}), 422, 409)
    refused(api("post", "/practices/detox-zone/revert", "root", json={
        "revision": revision, "agree_license": True}), 422, 404)
    refused(api("get", f"/practices/detox-zone/diff?from={revision}&to={revision}"))
    refused(api("get", f"/practices/detox-zone?revision={revision}"))
    assert client.get(f"/p/detox-zone/at/{revision}").status_code in (400, 404, 422)
    assert head() == before


def test_huge_bodies_are_refused_before_anything_is_written(api, client, users, head):
    before = head()
    big = "x" * (10 * 1024 * 1024)
    refused(api("post", "/practices", "alice", json={"title": "Big", "body": big,
                                                     "agree_license": True}), 413)
    r = client.post("/api/v1/practices", data=b"{" + b" " * (10 * 1024 * 1024) + b"}",
                    headers={**auth(users["alice"]), "Content-Type": "application/json"})
    refused(r, 413)
    page = client.post("/new", data={"title": "Big", "body": big, "agree_license": "y"})
    assert page.status_code in (302, 413)  # anonymous: sign in first; else too large
    assert head() == before


def test_invalid_utf8_and_bad_json_are_4xx(api, client, users, head):
    before = head()
    for data in (b"\xff\xfe\xfa", b'{"title": "\xff"}', b"[1, 2", b"null", b'"text"'):
        r = client.post("/api/v1/practices", data=data, headers={
            **auth(users["alice"]), "Content-Type": "application/json"})
        refused(r, 400, 415, 422)
    assert head() == before


def test_nul_bytes_in_text_fields_are_refused(api, head):
    before = head()
    for field in ("title", "body", "summary", "message"):
        data = {"title": "Nul test", "body": "x", "agree_license": True, field: "a\x00b"}
        refused(api("post", "/practices", "alice", json=data), 422)
    assert head() == before


@pytest.mark.parametrize("text", [BILLION_LAUGHS, PYTHON_TAG], ids=["billion-laughs", "python-tag"])
def test_hostile_front_matter_is_refused_on_import(api, users, head, tmp_path, text):
    import os
    before = head()
    r = api("post", "/import", "alice", data={
        "agree_license": "true",
        "file": (__import__("io").BytesIO(text.encode()), "hostile.md")},
        content_type="multipart/form-data")
    assert r.status_code in (200, 422), r.get_data()[:300]
    if r.status_code == 200:
        data = r.get_json()
        assert data["refused"] == 1 and data["accepted"] == 0
        assert data["results"][0]["reason"]
    assert head() == before
    assert not os.path.exists("/tmp/pwned")


@pytest.mark.parametrize("text", [BILLION_LAUGHS, PYTHON_TAG], ids=["billion-laughs", "python-tag"])
def test_hostile_front_matter_is_refused_by_the_parser(text):
    from commons.errors import CommonsError
    from commons.services import practice as doc
    with pytest.raises(CommonsError):
        doc.parse(text)
