"""The anonymous full-page cache and HTTP caching: a change shows at once, languages and people
never mix, and only what may be shared is stored.

Everything runs through the real parts: the Flask app behind its page cache, a real git
repository, real SQLite, and the cache folder on disk.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from commons.services import accounts, proposals
from commons.web.pagecache import HEADER, PageCache

from .conftest import login
from .test_forks import World

NEW = {"title": "Weather check", "body": "## Why\n\nStart with how people feel.\n",
       "summary": "A check-in round.", "language": "en", "tags": ["rituals"],
       "agree_license": True}


@pytest.fixture
def reader(app):
    """An anonymous visitor: no cookie, ever."""
    return app.test_client(use_cookies=False)


def cached(r) -> str | None:
    return r.headers.get(HEADER)


def create(api, who="alice", **over) -> dict:
    r = api("post", "/practices", who, json={**NEW, **over})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def page(reader, path: str, lang: str = "en", **headers):
    return reader.get(path, headers={"Accept-Language": lang, **headers})


def test_an_anonymous_page_is_stored_then_served_from_disk(reader, api, app):
    slug = create(api)["slug"]
    first = page(reader, f"/p/{slug}")
    assert first.status_code == 200 and cached(first) == "miss"
    assert "Set-Cookie" not in first.headers  # a reader's page makes no session
    second = page(reader, f"/p/{slug}")
    assert cached(second) == "hit" and second.data == first.data
    assert list(Path(app.config["CACHE_DIR"], "pages").rglob("*.page"))


def test_an_edit_through_the_api_shows_at_once(reader, api):
    data = create(api)
    page(reader, f"/p/{data['slug']}")
    assert cached(page(reader, f"/p/{data['slug']}")) == "hit"
    history = page(reader, f"/p/{data['slug']}/history").get_data(as_text=True)
    assert "1 revision" in history
    r = api("put", f"/practices/{data['slug']}", "alice",
            json={"body": "## Why\n\nA new way to start.\n", "base_revision": data["revision"],
                  "agree_license": True})
    assert r.status_code == 200
    after = page(reader, f"/p/{data['slug']}")
    assert cached(after) == "miss"
    assert "A new way to start." in after.get_data(as_text=True)
    assert "2 revisions" in page(reader, f"/p/{data['slug']}/history").get_data(as_text=True)


def test_a_rename_and_a_removal_show_at_once(reader, api, users):
    slug = create(api)["slug"]
    assert page(reader, f"/p/{slug}").status_code == 200
    assert cached(page(reader, f"/p/{slug}")) == "hit"
    r = api("post", f"/practices/{slug}/rename", "alice",
            json={"slug": "inner-weather", "agree_license": True})
    assert r.status_code == 200
    moved = page(reader, f"/p/{slug}")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/p/inner-weather")
    assert page(reader, "/p/inner-weather").status_code == 200
    assert cached(page(reader, "/p/inner-weather")) == "hit"
    r = api("post", "/practices/inner-weather/remove", "root", json={"reason": "Spam"})
    assert r.status_code == 200, r.get_json()
    gone = page(reader, "/p/inner-weather")
    assert gone.status_code == 410 and cached(gone) == "miss"
    assert cached(page(reader, "/p/inner-weather")) == "miss"  # a 410 is never stored


def test_database_only_changes_show_at_once(reader, inst, users):
    """Opening a proposal, a comment, a display name: no git commit, only the database."""
    w = World(inst)
    up = w.create("alice", "Weather round")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Second paragraph.", "Second paragraph, as we do it.")
    home = page(reader, "/").get_data(as_text=True)
    assert "0 proposals open" in home and cached(page(reader, "/")) == "hit"
    pid = w.propose("bob", fork)
    home = page(reader, "/")
    assert cached(home) == "miss" and "1 proposal open" in home.get_data(as_text=True)
    assert "Better steps" in page(reader, f"/p/{fork}").get_data(as_text=True)
    assert cached(page(reader, f"/p/{fork}")) == "hit"
    with inst.session() as s:
        proposals.comment(s, w.user(s, "alice"), pid, body="Why this?")
    assert cached(page(reader, f"/p/{fork}")) == "miss"
    assert cached(page(reader, f"/p/{fork}")) == "hit"
    with inst.session() as s:
        accounts.set_display_name(accounts.get_user(s, "bob"), "Robert")
    assert cached(page(reader, f"/p/{fork}")) == "miss"


def test_an_api_token_being_used_does_not_empty_the_cache(reader, api):
    slug = create(api)["slug"]
    page(reader, f"/p/{slug}")
    assert api("get", f"/practices/{slug}", "bob").status_code == 200  # writes last_used_at
    assert cached(page(reader, f"/p/{slug}")) == "hit"


def test_a_commit_made_behind_the_app_is_a_miss(reader, inst, api):
    slug = create(api)["slug"]
    page(reader, f"/p/{slug}")
    with inst.store.lock():
        inst.store.commit({"notes.txt": "outside\n"}, author=accounts.Identity("x", "x@x"),
                          message="outside", trailers=[("License", inst.license)])
    assert cached(page(reader, f"/p/{slug}")) == "miss"


def test_french_and_english_never_mix(reader, client, api):
    slug = create(api)["slug"]
    en = page(reader, f"/p/{slug}", "en")
    fr = page(reader, f"/p/{slug}", "fr-FR,fr;q=0.9")
    assert 'lang="en"' in en.get_data(as_text=True)[:80]
    assert 'lang="fr"' in fr.get_data(as_text=True)[:80]
    for _ in range(2):
        again_en, again_fr = page(reader, f"/p/{slug}", "en"), page(reader, f"/p/{slug}", "fr")
        assert (cached(again_en), cached(again_fr)) == ("hit", "hit")
        assert again_en.data == en.data and again_fr.data == fr.data
        assert again_en.headers["Content-Language"] == "en"
        assert again_fr.headers["Content-Language"] == "fr"
    # no Accept-Language: the default language's page
    assert page(reader, f"/p/{slug}", "").data == en.data
    # choosing French sets a session: from then on the app answers, in French
    assert client.get("/lang/fr", headers={"Accept-Language": "en"}).status_code == 302
    chosen = client.get(f"/p/{slug}", headers={"Accept-Language": "en"})
    assert cached(chosen) is None and 'lang="fr"' in chosen.get_data(as_text=True)[:80]
    # …and the English page kept for others is untouched
    assert page(reader, f"/p/{slug}", "en").data == en.data


def test_a_signed_in_person_never_gets_or_fills_the_cache(app, client, reader, api):
    slug = create(api)["slug"]
    login(client, "bob")
    mine = client.get(f"/p/{slug}")
    assert cached(mine) is None and "Bob" in mine.get_data(as_text=True)
    assert cached(page(reader, f"/p/{slug}")) == "miss"  # bob's view stored nothing
    anonymous = page(reader, f"/p/{slug}")
    assert cached(anonymous) == "hit" and "Bob" not in anonymous.get_data(as_text=True)
    again = client.get(f"/p/{slug}")
    assert cached(again) is None and "Bob" in again.get_data(as_text=True)
    # a bearer token never goes through the cache either
    assert cached(reader.get(f"/p/{slug}", headers={"Authorization": "Bearer x"})) is None


def test_hits_carry_the_security_headers_and_answer_304(reader, api):
    slug = create(api)["slug"]
    first = page(reader, f"/p/{slug}")
    hit = page(reader, f"/p/{slug}")
    assert cached(hit) == "hit"
    for response in (first, hit):
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-cache"
        assert set(response.headers["Vary"].replace(" ", "").split(",")) >= {
            "Accept-Language", "Cookie"}
    etag = hit.headers["ETag"]
    assert first.headers["ETag"] == etag
    same = page(reader, f"/p/{slug}", **{"If-None-Match": etag})
    assert same.status_code == 304 and same.data == b"" and same.headers["ETag"] == etag
    assert "Content-Security-Policy" in same.headers
    # the French page is another page: never a 304 on the English page's tag
    assert page(reader, f"/p/{slug}", "fr", **{"If-None-Match": etag}).status_code == 200
    head = reader.head(f"/p/{slug}", headers={"Accept-Language": "en"})
    assert head.status_code == 200 and head.data == b"" and cached(head) == "hit"


def test_only_a_200_html_page_without_a_cookie_is_stored(tmp_path):
    calls = []

    def app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] == "/p/cookie":
            start_response("200 OK", [("Content-Type", "text/html"),
                                      ("Set-Cookie", "session=x")])
        elif environ["PATH_INFO"] == "/p/missing":
            start_response("404 NOT FOUND", [("Content-Type", "text/html")])
        else:
            start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<p>page</p>"]

    cache = PageCache(app, tmp_path / "pages", head=lambda: "h", generation=_Fixed(),
                      languages=["en", "fr"], default_locale="en",
                      cookie_names={"session"}, max_bytes=10_000_000)

    def get(path, method="GET", **environ):
        base = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": ""}
        base.update(environ)
        statuses = []
        body = b"".join(cache(base, lambda status, headers, exc=None: statuses.append(status)))
        return statuses[0], body

    for path in ("/p/cookie", "/p/missing", "/p/fine", "/p/fine/history", "/practices"):
        get(path)
        get(path)
    assert calls.count("/p/cookie") == 2 and calls.count("/p/missing") == 2
    assert calls.count("/p/fine") == 1 and calls.count("/p/fine/history") == 1
    assert calls.count("/practices") == 2  # not on the allow-list
    get("/p/other", method="POST")
    get("/p/other", method="POST")
    assert calls.count("/p/other") == 2
    get("/p/fine", HTTP_COOKIE="session=abc")
    assert calls.count("/p/fine") == 2
    get("/p/fine", HTTP_COOKIE="theme=dark")  # an unrelated cookie is no session
    assert calls.count("/p/fine") == 2


class _Fixed:
    def read(self) -> str:
        return "g"


def test_the_cache_is_bounded_and_deletable(app, reader, api):
    slug = create(api)["slug"]
    folder = Path(app.config["CACHE_DIR"], "pages")
    for path in ("/", f"/p/{slug}", f"/p/{slug}/history"):
        page(reader, path)
    assert len(list(folder.rglob("*.page"))) == 3
    shutil.rmtree(folder)  # at any time: it only holds copies
    assert cached(page(reader, f"/p/{slug}")) == "miss"
    assert cached(page(reader, f"/p/{slug}")) == "hit"
    cache = app.wsgi_app
    while not isinstance(cache, PageCache):
        cache = cache.app
    for path in ("/", f"/p/{slug}/history"):
        page(reader, path)
    size = sum(p.stat().st_size for p in folder.rglob("*.page"))
    cache.max_bytes = size // 2
    assert cache.evict() >= 2
    assert sum(p.stat().st_size for p in folder.rglob("*.page")) <= size // 2


def test_signed_in_pages_answer_304_only_to_the_same_person(app, client, api):
    slug = create(api)["slug"]
    login(client, "bob")
    first = client.get(f"/p/{slug}")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert client.get(f"/p/{slug}", headers={"If-None-Match": etag}).status_code == 304
    other = app.test_client()
    login(other, "alice")
    theirs = other.get(f"/p/{slug}", headers={"If-None-Match": etag})
    assert theirs.status_code == 200 and "Alice" in theirs.get_data(as_text=True)
    assert app.test_client(use_cookies=False).get(
        f"/p/{slug}", headers={"If-None-Match": etag}).status_code == 200
    # a change anywhere in the commons is a new tag
    create(api, title="Another one")
    assert client.get(f"/p/{slug}", headers={"If-None-Match": etag}).status_code == 200


def test_api_practice_etag_is_its_revision_and_answers_304(api):
    data = create(api)
    r = api("get", f"/practices/{data['slug']}", headers={"If-None-Match": f'"{data["revision"]}"'})
    assert r.status_code == 304 and r.headers["ETag"] == f'"{data["revision"]}"'
    assert api("get", f"/practices/{data['slug']}",
               headers={"If-None-Match": '"0000000"'}).status_code == 200


def test_static_files_are_fingerprinted_and_kept_long(reader):
    html = page(reader, "/").get_data(as_text=True)
    import re
    css = re.search(r'href="(/static/commons\.css\?v=[0-9a-f]+)"', html).group(1)
    assert reader.get(css).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert reader.get("/static/commons.css").headers["Cache-Control"] == "no-cache"
    assert reader.get("/static/commons.css?v=stale").headers["Cache-Control"] == "no-cache"


# ---- the kept part of a practice page (commons/web/fragments.py) -------------------------------

def _signed_in(app, who: str):
    import re
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = c.post("/login", data={"username": who, "password": "correct horse battery",
                               "csrf_token": token})
    assert r.status_code == 302
    return c


def _tokens(page: str) -> list[str]:
    import re
    return re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"', page)


def test_kept_page_parts_carry_each_stewards_own_working_form_token(home, users, api):
    from commons.web.fragments import csrf_sentinel

    from .conftest import make_app
    app = make_app(home, WTF_CSRF_ENABLED=True)
    slug = create(api)["slug"]
    alice, root, bob = (_signed_in(app, who) for who in ("alice", "root", "bob"))
    seen = {}
    for who, c in (("alice", alice), ("root", root), ("alice", alice), ("root", root)):
        page = c.get(f"/p/{slug}").get_data(as_text=True)
        tokens = _tokens(page)
        assert len(tokens) == 3 and len(set(tokens)) == 1, who  # rename, steward, remove
        with app.test_request_context():
            assert csrf_sentinel() not in page
        seen.setdefault(who, set()).add(tokens[0])
    assert not seen["alice"] & seen["root"]  # never the other person's token
    assert list(Path(app.config["CACHE_DIR"], "fragments").rglob("*.html"))
    # bob is no steward: the same practice, without the tools (another kept part)
    assert "steward-tools" not in bob.get(f"/p/{slug}").get_data(as_text=True)
    # the token alice was given works
    r = alice.post(f"/p/{slug}/rename", data={"new_slug": "weather-round",
                                             "agree_license": "y",
                                             "csrf_token": seen["alice"].pop()})
    assert r.status_code == 302 and r.headers["Location"].endswith("/p/weather-round")
    assert "Weather check" in root.get("/p/weather-round").get_data(as_text=True)


def test_a_kept_page_part_follows_every_change(client, api, inst):
    from .conftest import login
    slug = create(api)["slug"]
    login(client, "bob")
    assert "Start with how people feel." in client.get(f"/p/{slug}").get_data(as_text=True)
    client.get(f"/p/{slug}")
    data = api("get", f"/practices/{slug}").get_json()
    api("put", f"/practices/{slug}", "alice",
        json={"body": "## Why\n\nChanged at once.\n", "base_revision": data["revision"],
              "agree_license": True})
    assert "Changed at once." in client.get(f"/p/{slug}").get_data(as_text=True)
    w = World(inst)  # a database-only change: a proposal shows on the fork's page at once
    fork = w.fork("bob", slug)
    w.edit("bob", fork, "Changed at once.", "Changed at once, and better.")
    assert "Better steps" not in client.get(f"/p/{fork}").get_data(as_text=True)
    w.propose("bob", fork)
    assert "Better steps" in client.get(f"/p/{fork}").get_data(as_text=True)


def test_a_kept_page_never_shows_a_message_twice_nor_to_someone_else(app, client, api):
    slug = create(api)["slug"]
    login(client, "alice")
    client.get(f"/p/{slug}")
    kept = client.get(f"/p/{slug}")  # kept for alice now
    assert "Alice" in kept.get_data(as_text=True)
    r = client.post(f"/p/{slug}/rename", data={"new_slug": "weather-round",
                                              "agree_license": "y"})
    assert r.status_code == 302
    shown = client.get("/p/weather-round").get_data(as_text=True)
    assert "the old address redirects here" in shown
    again = client.get("/p/weather-round").get_data(as_text=True)
    assert "the old address redirects here" not in again and "Alice" in again
    bob = app.test_client()
    login(bob, "bob")
    for _ in range(2):
        theirs = account_box(bob.get("/p/weather-round"))
        assert "Bob" in theirs and "Alice" not in theirs
    assert "Alice" in account_box(client.get("/p/weather-round"))


def account_box(response) -> str:
    import re
    return re.search(r'<div class="account">(.*?)</div>', response.get_data(as_text=True),
                     re.DOTALL).group(1)
