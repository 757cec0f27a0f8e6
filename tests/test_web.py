"""The web pages: reading, creating and editing with forms, conflicts, history, feeds."""
import re
import xml.etree.ElementTree as ET

from .conftest import login


def new_practice(client, **over):
    data = {"title": "Tour de météo", "summary": "How everyone arrives.", "language": "en",
            "tags": "rituals, team", "body": "## Why\n\nline one\nline two\nline three\n",
            "message": "first", "agree_license": "y"}
    data.update(over)
    return client.post("/new", data=data)


def edit_form(client, slug):
    page = client.get(f"/p/{slug}/edit").get_data(as_text=True)
    base = re.search(r'name="base_revision" type="hidden" value="([0-9a-f]{40})"', page)
    return page, base.group(1)


def test_reading_needs_no_account(client):
    r = client.get("/p/co-development-group")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "<title>Co-development group · Commons</title>" in page
    assert 'rel="canonical" href="http://commons.test/p/co-development-group"' in page
    assert 'property="og:title"' in page and 'lang="en"' in page
    assert 'href="/p/groupe-de-co-developpement"' in page  # translation link
    assert 'type="application/atom+xml"' in page
    assert "CC-BY-SA-4.0" in page


def test_new_practice_form_starts_from_template(client, users):
    assert client.get("/new").status_code == 302  # sign in first
    login(client, "alice")
    page = client.get("/new", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "## Pourquoi" in page and "## Pièges" in page
    assert "creativecommons.org/licenses/by-sa/4.0" in page  # the licence, named and linked


def test_create_and_edit_through_forms(client, users):
    login(client, "alice")
    r = new_practice(client)
    assert r.status_code == 302 and r.headers["Location"].endswith("/p/tour-de-meteo")
    page = client.get("/p/tour-de-meteo").get_data(as_text=True)
    assert "line two" in page and 'href="/p/tour-de-meteo/edit"' in page
    _page, base = edit_form(client, "tour-de-meteo")
    r = client.post("/p/tour-de-meteo/edit", data={
        "title": "Tour de météo", "language": "en", "body": "## Why\n\nline one\nline 2\n",
        "base_revision": base, "agree_license": "y"})
    assert r.status_code == 302
    assert "line 2" in client.get("/p/tour-de-meteo").get_data(as_text=True)


def test_refusals_keep_the_persons_text(client, users):
    login(client, "alice")
    r = new_practice(client, agree_license="", body="My precious text")
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "My precious text" in page and "CC-BY-SA-4.0" in page
    r = new_practice(client, title="", body="Still mine")
    assert r.status_code == 422 and "Still mine" in r.get_data(as_text=True)


def test_non_steward_is_told_why(client, users):
    login(client, "alice")
    new_practice(client)
    client.get("/logout")
    client.post("/logout")
    login(client, "bob")
    r = client.get("/p/tour-de-meteo/edit")
    assert r.status_code == 403
    assert "Fork it" in r.get_data(as_text=True)
    assert 'href="/p/tour-de-meteo/edit"' not in client.get("/p/tour-de-meteo").get_data(
        as_text=True)


def test_conflict_is_shown_and_resolved(client, users, api):
    login(client, "alice")
    new_practice(client)
    _page, base = edit_form(client, "tour-de-meteo")
    # someone else (the admin, through the API) changes line two meanwhile
    r = api("put", "/practices/tour-de-meteo", "root", json={
        "body": "## Why\n\nline one\nline TWO by admin\nline three\n", "base_revision": base,
        "agree_license": True})
    assert r.status_code == 200
    current = r.get_json()["revision"]
    r = client.post("/p/tour-de-meteo/edit", data={
        "title": "Tour de météo", "language": "en", "tags": "rituals, team",
        "summary": "How everyone arrives.",
        "body": "## Why\n\nline one\nline two by alice\nline three\n", "base_revision": base,
        "agree_license": "y"})
    page = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "line two by alice" in page and "line TWO by admin" in page
    assert "&lt;&lt;&lt;&lt;&lt;&lt;&lt;" in page
    assert f'value="{current}"' in page  # resubmits against the new revision
    r = client.post("/p/tour-de-meteo/edit", data={
        "title": "Tour de météo", "language": "en", "tags": "rituals, team",
        "summary": "How everyone arrives.",
        "body": "## Why\n\nline one\nline two by alice and admin\nline three\n",
        "base_revision": current, "agree_license": "y"})
    assert r.status_code == 302
    h = api("get", "/practices/tour-de-meteo/history").get_json()
    assert h["total"] == 3  # create, admin's edit, alice's resolution: nothing lost


def test_clean_merge_says_so(client, users, api):
    login(client, "alice")
    new_practice(client)
    _page, base = edit_form(client, "tour-de-meteo")
    api("put", "/practices/tour-de-meteo", "root", json={
        "body": "## Why\n\nline one CHANGED\nline two\nline three\n", "base_revision": base,
        "agree_license": True})
    r = client.post("/p/tour-de-meteo/edit", data={
        "title": "Tour de météo", "language": "en", "tags": "rituals, team",
        "summary": "How everyone arrives.",
        "body": "## Why\n\nline one\nline two\nline three\nline four\n", "base_revision": base,
        "agree_license": "y"}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "merged" in page
    assert "line one CHANGED" in page and "line four" in page


def test_history_at_diff_and_revert(client, users, api):
    login(client, "alice")
    new_practice(client)
    _page, base = edit_form(client, "tour-de-meteo")
    client.post("/p/tour-de-meteo/edit", data={
        "title": "Tour de météo", "language": "en", "body": "## Why\n\nline one\nline deux\n",
        "base_revision": base, "agree_license": "y", "message": "Deux"})
    page = client.get("/p/tour-de-meteo/history").get_data(as_text=True)
    assert "Deux" in page and "Alice" in page and "2 revisions" in page
    at = client.get(f"/p/tour-de-meteo/at/{base}").get_data(as_text=True)
    assert "line three" in at and "Revert to this revision" in at
    head = api("get", "/practices/tour-de-meteo").get_json()["revision"]
    diff = client.get(f"/p/tour-de-meteo/diff?from={base}&to={head}").get_data(as_text=True)
    assert "<del>two</del>" in diff and "<ins>deux</ins>" in diff  # word-level highlights
    assert client.get("/p/tour-de-meteo/diff?from=..%2F..&to=x").status_code == 422
    r = client.post("/p/tour-de-meteo/revert", data={"revision": base, "agree_license": "y"})
    assert r.status_code == 302
    assert "line three" in client.get("/p/tour-de-meteo").get_data(as_text=True)
    assert client.post("/p/tour-de-meteo/revert", data={"revision": base}).status_code == 422


def test_history_is_paginated(client, users, api):
    data = api("post", "/practices", "alice", json={"title": "Many", "body": "0",
                                                    "agree_license": True}).get_json()
    rev = data["revision"]
    for i in range(1, 6):
        rev = api("put", "/practices/many", "alice", json={
            "body": str(i), "base_revision": rev, "agree_license": True}).get_json()["revision"]
    page = client.get("/p/many/history?per_page=2").get_data(as_text=True)
    assert "Page 1 of 3" in page and 'rel="next"' in page
    assert client.get("/p/many/history?per_page=2&page=3").status_code == 200


def test_changes_atom_and_markdown_download(client, api):
    page = client.get("/changes").get_data(as_text=True)
    assert "Seed the commons" in page
    r = client.get("/changes.atom")
    assert r.mimetype == "application/atom+xml"
    root = ET.fromstring(r.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert root.find("a:title", ns).text
    assert len(root.findall("a:entry", ns)) >= 20
    assert root.find("a:entry/a:link", ns).get("href").startswith("http://commons.test/p/")
    md = client.get("/p/detox-zone.md")
    assert md.mimetype == "text/markdown" and md.get_data(as_text=True).startswith("---\n")


def test_changes_feed_escapes_titles_and_messages(client, api):
    """Titles and messages are what people typed: the feed must stay well-formed XML."""
    r = api("post", "/practices", "alice", json={
        "title": "Rôles & <cercles>", "body": "text", "message": "Tom & Jerry <b>",
        "agree_license": True})
    assert r.status_code == 201, r.get_json()
    feed = ET.fromstring(client.get("/changes.atom").data)  # raises on invalid XML
    title = feed.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}title")
    assert title.text == "Rôles & <cercles>: Tom & Jerry <b>"


def test_tags_and_user_pages(client, users):
    page = client.get("/tags/peer-learning").get_data(as_text=True)
    assert "Co-development group" in page
    assert client.get("/tags/NOT A TAG").status_code == 404
    login(client, "alice")
    new_practice(client)
    page = client.get("/u/alice").get_data(as_text=True)
    assert "Tour de météo" in page and "Alice" in page
    assert client.get("/u/nobody").status_code == 404


def test_missing_page_and_redirect_for_writes(client):
    assert client.get("/p/nothing-here").status_code == 404
    r = client.get("/p/detox-zone/edit")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_security_headers(client):
    r = client.get("/")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"


def test_preview_is_the_pages_own_renderer(client, users):
    assert client.post("/preview", data={"body": "# x"}).status_code == 302  # signed in only
    login(client, "alice")
    r = client.post("/preview", data={"body": "# Hi\n\n<script>x</script>\n\n[[detox-zone]] "
                                              "[[not-yet]]"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and '<h1 id="hi">Hi</h1>' in html
    assert "<script" not in html
    assert 'href="/p/detox-zone"' in html and 'href="/new?slug=not-yet"' in html


def test_preview_needs_csrf_token(home, users):
    from .conftest import make_app
    app = make_app(home, WTF_CSRF_ENABLED=True)
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert c.post("/login", data={"username": "alice", "password": "x"}).status_code == 400
    c.post("/login", data={"username": "alice", "password": "correct horse battery",
                           "csrf_token": token})
    assert c.post("/preview", data={"body": "x"}).status_code == 400
    assert c.post("/preview", data={"body": "x", "csrf_token": token}).status_code == 200


def test_too_large_body_is_413(client, api):
    r = api("post", "/practices", "alice", data=b"{" + b" " * (3 * 1024 * 1024) + b"}",
            content_type="application/json")
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"


def test_small_forms_say_what_is_missing(client, users):
    """Rename, add-steward and diff without their field: a 422 naming the problem, in the
    person's language, and nothing committed."""
    login(client, "root")
    head = client.application.extensions["commons"].store.head()
    r = client.post("/p/detox-zone/rename", data={"new_slug": "", "agree_license": "y"})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "The form was not filled in as expected" in page and "New address" in page
    r = client.post("/p/detox-zone/stewards", data={"username": "", "agree_license": "y"},
                    headers={"Accept-Language": "fr"})
    assert r.status_code == 422
    assert "Le formulaire n’est pas rempli" in r.get_data(as_text=True)
    assert "Nom d’utilisateur" in r.get_data(as_text=True)
    r = client.get("/p/detox-zone/diff")
    assert r.status_code == 422 and "?from=" in r.get_data(as_text=True)
    assert client.application.extensions["commons"].store.head() == head
