"""Attribution that travels (CC BY-SA 4.0 §3(a)): authors from git and from imported material,
the fork chain with exact revisions and modification notices, removal on request (§3(a)(3)),
the JSON/text/HTML formats, the page's RDFa, and the Markdown download."""
from __future__ import annotations

import subprocess
from datetime import datetime, timezone

import pytest

from commons.services import accounts, catalog, editing, licensing
from commons.services import practice as doc

from .test_cli import run

BODY = "## Why\n\nFirst paragraph.\n\nSecond paragraph.\n"


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:500])
    return r.get_json()


def create(api, who, title, body=BODY):
    return ok(api("post", "/practices", who,
                  json={"title": title, "body": body, "agree_license": True}), 201)["slug"]


def edit(api, who, slug, old, new):
    current = ok(api("get", f"/practices/{slug}"))
    assert old in current["body"]
    return ok(api("put", f"/practices/{slug}", who,
                  json={"body": current["body"].replace(old, new),
                        "base_revision": current["revision"], "agree_license": True}))["revision"]


def fork(api, who, slug):
    return ok(api("post", f"/practices/{slug}/forks", who, json={"agree_license": True}), 201)


def attribution(api, slug, who=None):
    return ok(api("get", f"/practices/{slug}/attribution", who))


def names(people):
    return [p["name"] for p in people]


def add_steward(api, who, slug, username):
    ok(api("post", f"/practices/{slug}/stewards", who,
           json={"username": username, "agree_license": True}))


def import_like(inst, who, title, source, credits=None, body=BODY):
    """A practice as the importer will write it: ``source`` and ``credits`` in the front matter
    (committed through the editing service, so with the licence trailer)."""
    meta = {"source": source}
    if credits is not None:
        meta["credits"] = credits
    with inst.session() as s:
        return editing.create_practice(inst, s, accounts.get_user(s, who), title=title,
                                       body=body, agree_license=True,
                                       extra_meta=meta).record.slug


# ---- authors, copyright, licence, revision ----------------------------------------------------

def test_a_practice_edited_by_two_people_lists_both_in_order(api, users):
    slug = create(api, "alice", "Weekly retrospective")
    add_steward(api, "alice", slug, "bob")
    revision = edit(api, "bob", slug, "First paragraph.", "First paragraph, improved.")
    data = attribution(api, slug)
    assert data["authors"] == [{"name": "Alice", "username": "alice", "role": None},
                               {"name": "Bob", "username": "bob", "role": None}]
    assert data["title"] == "Weekly retrospective"
    assert data["url"] == f"http://commons.test/p/{slug}"
    assert data["revision"] == revision
    assert data["revision_url"] == f"http://commons.test/p/{slug}/at/{revision}"
    registry = licensing.get("CC-BY-SA-4.0")
    assert data["license"]["id"] == "CC-BY-SA-4.0"
    assert data["license"]["name"] == registry.name and data["license"]["url"] == registry.url
    year = datetime.now(timezone.utc).year
    assert data["copyright"] == f"© {year} Alice, Bob"
    assert data["disclaimer_url"] == registry.url + "#s5" and "as-is" in data["disclaimer"]
    assert data["modifications"] == [] and data["chain"] == []
    assert data["tasl"].startswith('"Weekly retrospective" (http://commons.test/p/')
    assert "by Alice, Bob is licensed under " + registry.name in data["tasl"]


def test_a_seeded_practice_credits_the_seed_author(api):
    data = attribution(api, "detox-zone")
    assert names(data["authors"]) == ["Commons contributors"]
    assert "Commons contributors" in data["copyright"]


def test_unknown_practice_is_404(api):
    r = api("get", "/practices/no-such-practice/attribution")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


# ---- the fork chain -----------------------------------------------------------------------------

def test_a_fork_of_a_fork_carries_the_whole_chain(api, client, users):
    a = create(api, "alice", "Daily standup")
    b_data = fork(api, "bob", a)
    b, a_point = b_data["slug"], b_data["forked_from"]["revision"]
    edit(api, "bob", b, "Second paragraph.", "Second paragraph, Bob's way.")
    c_data = fork(api, "root", b)
    c, b_point = c_data["slug"], c_data["forked_from"]["revision"]
    edit(api, "root", c, "First paragraph.", "First paragraph, Root's way.")
    edit(api, "root", a, "First paragraph.", "First paragraph, later.")  # after the fork: not in B

    data = attribution(api, c)
    assert names(data["authors"]) == ["Root"]
    assert [(w["kind"], w["slug"], w["revision"]) for w in data["chain"]] == \
        [("fork", b, b_point), ("fork", a, a_point)]
    b_work, a_work = data["chain"]
    assert names(b_work["authors"]) == ["Bob"]
    assert names(a_work["authors"]) == ["Alice"]  # root's later edit of A is not in what B took
    assert a_work["revision_url"] == f"http://commons.test/p/{a}/at/{a_point}"
    assert b_work["revision_url"] == f"http://commons.test/p/{b}/at/{b_point}"
    assert client.get(a_work["revision_url"].replace("http://commons.test", "")).status_code \
        == 200
    assert data["modifications"] == [
        f'Adapted from "Daily standup" (http://commons.test/p/{b}/at/{b_point}) by Root.']
    assert b_work["modifications"] == [
        f'Adapted from "Daily standup" (http://commons.test/p/{a}/at/{a_point}) by Bob.']
    assert a_work["modifications"] == []
    assert a_work["license"]["id"] == "CC-BY-SA-4.0"

    text = api("get", f"/practices/{c}/attribution?format=text").get_data(as_text=True)
    for line in data["modifications"] + b_work["modifications"]:
        assert f"- {line}" in text  # earlier modifications are kept
    assert a_work["revision_url"] in text and b_work["revision_url"] in text
    html = api("get", f"/practices/{c}/attribution?format=html").get_data(as_text=True)
    assert f'href="http://commons.test/p/{a}/at/{a_point}"' in html
    assert "Alice" in html and "Bob" in html


# ---- imported material --------------------------------------------------------------------------

SOURCE = {"url": "https://example.org/handbook/retro.md", "repo": "https://example.org/handbook",
          "path": "retro.md", "license": "CC-BY-3.0", "authors": ["Jane Doe", "John Roe"]}


def test_imported_practice_credits_its_source_and_original_licence(api, inst, users):
    slug = import_like(inst, "alice", "Imported retro", SOURCE,
                       credits=[{"name": "Ann Translator", "role": "translator"}])
    data = attribution(api, slug)
    assert data["authors"] == [{"name": "Ann Translator", "username": None, "role": "translator"},
                               {"name": "Alice", "username": "alice", "role": None}]
    assert data["modifications"] == ["Adapted from https://example.org/handbook/retro.md."]
    [source] = data["chain"]
    assert source["kind"] == "source" and source["url"] == SOURCE["url"]
    assert names(source["authors"]) == ["Jane Doe", "John Roe"]
    original = licensing.get("CC-BY-3.0")
    assert source["license"] == {"id": "CC-BY-3.0", "name": original.name, "url": original.url,
                                 "note": None}
    text = api("get", f"/practices/{slug}/attribution?format=text").get_data(as_text=True)
    assert "Jane Doe, John Roe" in text and original.name in text and "Ann Translator" in text


def test_a_versionless_source_licence_says_how_it_was_read(api, inst, users):
    slug = import_like(inst, "alice", "Unversioned", {
        "url": "https://example.org/x", "license": "LicenseRef-CC-BY-SA-unversioned",
        "authors": [{"name": "Old Author"}]})
    [source] = attribution(api, slug)["chain"]
    assert source["license"]["id"] == "LicenseRef-CC-BY-SA-unversioned"
    assert "2.0" in source["license"]["note"]
    assert names(source["authors"]) == ["Old Author"]


def test_a_fork_of_an_imported_practice_names_the_source_once(api, inst, users):
    upstream = import_like(inst, "alice", "Imported standup", SOURCE)
    forked = fork(api, "bob", upstream)["slug"]
    data = attribution(api, forked)
    assert [w["kind"] for w in data["chain"]] == ["fork", "source"]
    at = f'http://commons.test/p/{upstream}/at/{data["chain"][0]["revision"]}'
    # the source notice is the upstream's
    assert data["modifications"] == [f'Adapted from "Imported standup" ({at}) by Bob.']
    assert data["chain"][0]["modifications"] == [
        "Adapted from https://example.org/handbook/retro.md."]


def test_a_hostile_source_address_is_never_linked(api, inst, users):
    slug = import_like(inst, "alice", "Hostile", {
        "url": "javascript:alert(1)", "title": "<img src=x onerror=alert(1)>",
        "license": "CC0-1.0", "authors": ["<script>alert(2)</script>"]})
    data = attribution(api, slug)
    assert data["chain"][0]["url"] is None
    html = api("get", f"/practices/{slug}/attribution?format=html").get_data(as_text=True)
    assert "javascript:" not in html and "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


# ---- §3(a)(3): removal ---------------------------------------------------------------------------

def test_removal_hides_a_name_everywhere_and_survives_a_rebuild(api, client, inst, users):
    slug = create(api, "alice", "Check-in round")
    add_steward(api, "alice", slug, "bob")
    edited = edit(api, "bob", slug, "First paragraph.", "First paragraph, by Bob.")
    r = api("post", f"/practices/{slug}/attribution/removals", "bob",
            json={"name": "bob", "agree_license": True})
    data = ok(r)
    assert data["changed"] is True and names(data["authors"]) == ["Alice"]
    text = inst.store.read(doc.path_for(slug))[0]
    assert doc.parse(text).meta["attribution_removed"] == ["bob"]  # in git
    again = ok(api("post", f"/practices/{slug}/attribution/removals", "alice",
                   json={"name": "bob", "agree_license": True}))
    assert again["changed"] is False

    with inst.store.lock(), inst.session() as session:
        catalog.rebuild(session, inst.store)
        session.commit()
    data = attribution(api, slug)
    assert names(data["authors"]) == ["Alice"] and "Bob" not in data["copyright"]
    assert "Bob" not in api("get", f"/practices/{slug}/attribution?format=text"
                            ).get_data(as_text=True)
    assert names(ok(api("get", f"/practices/{slug}"))["authors"]) == ["Alice"]
    older = ok(api("get", f"/practices/{slug}?revision={edited}"))  # before the request
    assert older["revision"] == edited and names(older["authors"]) == ["Alice"]
    page = client.get(f"/p/{slug}").get_data(as_text=True)
    authors_line = page.split('class="credits"')[1].split("</p>")[0]
    assert "Alice" in authors_line and "/u/bob" not in authors_line
    # Forks keep the request: the removed name is left out of their chain too.
    forked = fork(api, "root", slug)["slug"]
    assert "Bob" not in str(attribution(api, forked))


def test_removal_from_an_ancestor_holds_in_the_forks_chain(api, users):
    a = create(api, "alice", "Pair review")
    b = fork(api, "bob", a)["slug"]
    ok(api("post", f"/practices/{a}/attribution/removals", "alice",
           json={"name": "Alice", "agree_license": True}))
    chain = attribution(api, b)["chain"]
    assert chain[0]["slug"] == a and chain[0]["authors"] == []


def test_removal_permissions(api, users):
    a = create(api, "alice", "Silent meeting")
    b = fork(api, "bob", a)["slug"]  # alice is credited in b's chain, but is no steward of b
    url = f"/practices/{b}/attribution/removals"
    r = api("post", url, json={"name": "alice", "agree_license": True})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    r = api("post", url, "alice", json={"name": "bob", "agree_license": True})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    r = api("post", url, "alice", json={"name": "alice"})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "license_required"
    r = api("post", url, "bob", json={"name": "Nobody Here", "agree_license": True})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "name"
    r = api("post", url, "bob", json={"name": "x" * 201, "agree_license": True})
    assert r.status_code == 422
    assert names(attribution(api, b)["chain"][0]["authors"]) == ["Alice"]  # nothing changed
    ok(api("post", url, "alice", json={"name": "alice", "agree_license": True}))  # herself
    assert attribution(api, b)["chain"][0]["authors"] == []
    ok(api("post", url, "root", json={"name": "Bob", "agree_license": True}))  # an admin
    assert "Bob" not in names(attribution(api, b)["authors"])
    # recording a request makes nobody an author: neither alice nor the admin
    assert names(attribution(api, b)["authors"]) == []
    assert names(attribution(api, b)["chain"][0]["authors"]) == []


def test_cli_removes_a_name(home, app, api):
    r = run(home, "attribution", "remove", "detox-zone", "Commons contributors")
    assert r.returncode == 0, r.stderr
    assert "no longer in the attribution" in r.stdout
    data = attribution(api, "detox-zone")
    assert data["authors"] == [] and "Commons contributors" not in str(data)
    bad = run(home, "attribution", "remove", "detox-zone", "Nobody Here")
    assert bad.returncode != 0 and "not among the authors" in bad.stderr
    log = subprocess.run(["git", "--git-dir", str(home / "content.git"), "log", "-1",
                          "--format=%B", "main"], capture_output=True, text=True,
                         check=True).stdout
    assert "License: CC-BY-SA-4.0" in log


# ---- formats, page, download --------------------------------------------------------------------

def test_formats(api, users):
    slug = create(api, "alice", "Formats")
    data = attribution(api, slug)
    text = api("get", f"/practices/{slug}/attribution?format=text")
    assert text.status_code == 200 and text.mimetype == "text/plain"
    body = text.get_data(as_text=True)
    assert body.startswith(data["tasl"]) and data["revision_url"] in body
    assert data["disclaimer_url"] in body and data["copyright"] in body
    html = api("get", f"/practices/{slug}/attribution?format=html")
    assert html.status_code == 200 and html.mimetype == "text/html"
    fragment = html.get_data(as_text=True)
    assert 'rel="license"' in fragment and 'property="cc:attributionName"' in fragment
    assert 'rel="cc:attributionURL"' in fragment
    assert ok(api("get", f"/practices/{slug}/attribution?format=json")) == data
    bad = api("get", f"/practices/{slug}/attribution?format=xml")
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "format"


def test_html_escapes_a_hostile_title(api, client, users):
    slug = create(api, "alice", "<script>alert(1)</script>")
    fragment = api("get", f"/practices/{slug}/attribution?format=html").get_data(as_text=True)
    assert "<script>" not in fragment and "&lt;script&gt;alert(1)&lt;/script&gt;" in fragment
    for path in (f"/p/{slug}", f"/p/{slug}/attribution"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in page


def test_practice_page_marks_the_licence_and_links_the_attribution(api, client, users):
    slug = create(api, "alice", "Open space")
    page = client.get(f"/p/{slug}").get_data(as_text=True)
    assert 'rel="license"' in page
    assert 'xmlns:cc="http://creativecommons.org/ns#"' in page
    assert 'prefix="cc: http://creativecommons.org/ns#' in page
    assert '<span property="cc:attributionName">Alice</span>' in page
    assert f'href="http://commons.test/p/{slug}" rel="cc:attributionURL"' in page
    assert f'href="/p/{slug}/attribution"' in page
    full = client.get(f"/p/{slug}/attribution")
    assert full.status_code == 200
    html = full.get_data(as_text=True)
    assert "<title>Attribution" in html and '<pre class="attribution-text"' in html
    assert "/at/" in html.split('<pre class="attribution-text"')[1].split("</pre>")[0]
    assert client.get("/p/no-such-practice/attribution").status_code == 404


def test_markdown_download_ends_with_the_attribution(api, client, users):
    slug = create(api, "alice", "Lean coffee")
    text = api("get", f"/practices/{slug}/attribution?format=text").get_data(as_text=True)
    md = client.get(f"/p/{slug}.md").get_data(as_text=True)
    assert md.startswith("---\n") and "\n---\n\n## Attribution\n\n" in md
    assert md.endswith(text)
    assert doc.parse(md).title == "Lean coffee"  # still a practice file


@pytest.mark.parametrize("name", ["", None, 12, "   "])
def test_removal_needs_a_name(api, users, name):
    slug = create(api, "alice", f"Named {name!r}")
    r = api("post", f"/practices/{slug}/attribution/removals", "alice",
            json={"name": name, "agree_license": True})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "name"


def test_a_practice_with_broken_front_matter_still_has_an_attribution(api, client, inst, users):
    """A file committed behind the app's back with invalid YAML: its attribution shows what
    git knows (the authors) instead of failing."""
    from commons.services.store import Identity
    with inst.store.lock():
        inst.store.commit({"practices/broken.md": "---\ntitle: [unclosed\n---\nText.\n"},
                          author=Identity("Eve", "eve@example.org"), message="Broken",
                          trailers=[("License", "CC-BY-SA-4.0")])
        with inst.session() as session:
            catalog.catch_up(session, inst.store)
            session.commit()
    assert client.get("/p/broken/attribution").status_code == 200
    assert client.get("/p/broken.md").get_data(as_text=True).endswith(
        api("get", "/practices/broken/attribution?format=text").get_data(as_text=True))
    data = attribution(api, "broken")
    assert names(data["authors"]) == ["Eve"]
