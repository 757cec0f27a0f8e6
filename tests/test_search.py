"""Search, through the real parts: the Whoosh index on disk kept in step with git by every
write, the JSON API (/api/v1/search), the page (/search) and the CLI (``commons reindex``,
``commons check``) run as processes.

The seed's practices are indexed when the instance starts; the practices these tests write use
made-up words (zorblat, quixel…) so that what they find can only be what the test wrote.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from commons.models import PracticeRecord
from commons.services import catalog
from commons.services.instance import SEED_AUTHOR

from .serverproc import cli

CODEV = {"groupe-de-co-developpement", "co-development-group"}


# ---- helpers ------------------------------------------------------------------------------------

def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:2000])
    return r.get_json()


def find(api, q: str = "", **params) -> dict:
    """GET /api/v1/search; ``tag`` may be a list (repeated)."""
    return ok(api("get", "/search", query_string={"q": q, "per_page": 100, **params}))


def slugs(data: dict) -> list[str]:
    return [hit["slug"] for hit in data["results"]]


def create(api, title: str, body: str, who: str = "alice", **extra) -> dict:
    return ok(api("post", "/practices", who, json={"title": title, "body": body,
                                                   "agree_license": True, **extra}), 201)


def edit(api, slug: str, body: str, who: str = "alice") -> dict:
    current = ok(api("get", f"/practices/{slug}"))
    return ok(api("put", f"/practices/{slug}", who, json={
        "body": body, "base_revision": current["revision"], "agree_license": True}))


def fork(api, upstream: str, who: str, slug: str, **extra) -> dict:
    return ok(api("post", f"/practices/{upstream}/forks", who,
                  json={"slug": slug, "agree_license": True, **extra}), 201)


def records(inst) -> list[PracticeRecord]:
    with inst.session() as session:
        rows = session.scalars(select(PracticeRecord)).all()
        session.expunge_all()
        return rows


# ---- how words are matched ----------------------------------------------------------------------

@pytest.mark.parametrize("q", ["co-developpement", "Co-Développement", "codéveloppement"])
def test_spellings_of_co_development_find_both_practices(api, q):
    data = find(api, q)
    assert CODEV <= set(slugs(data)), (q, slugs(data))
    # the two practices about it come first, whatever the spelling
    assert set(slugs(data)[:2]) == CODEV, (q, slugs(data))


def test_french_elision_and_accents(api, inst):
    with_article, bare = find(api, "l'équipe"), find(api, "equipe")
    assert slugs(with_article) and set(slugs(with_article)) == set(slugs(bare))
    # every hit is a practice whose text says équipe (with or without article)
    texts = {r.slug: inst.store.read_blob(r.blob_id).lower() for r in records(inst)}
    for slug in slugs(bare):
        assert "équipe" in texts[slug] or "equipe" in texts[slug], slug
    assert any("l'équipe" in texts[s] or "l’équipe" in texts[s] for s in slugs(bare))
    assert "<mark" in with_article["results"][0]["snippet"]


@pytest.fixture
def made_up(api):
    """Three practices that share made-up words in known ways."""
    return {
        "both": create(api, "Zorblat method", "We practise the zorblat quixel every week.\n")["slug"],
        "quixel": create(api, "Weekly ritual", "The quixel is not a zorblat, but close.\n")["slug"],
        "frimp": create(api, "Frimpton practice", "A zorblat with frimpton instead.\n")["slug"],
    }


def test_phrase_prefix_and_operators(api, made_up):
    both, quixel, frimp = made_up["both"], made_up["quixel"], made_up["frimp"]
    assert set(slugs(find(api, "zorblat quixel"))) == {both, quixel, frimp}
    # a phrase: these words in this order ("quixel is not a zorblat" does not count)
    assert slugs(find(api, '"zorblat quixel"')) == [both]
    assert set(slugs(find(api, "zorbl*"))) == {both, quixel, frimp}
    assert set(slugs(find(api, "frimp*"))) == {frimp}
    assert slugs(find(api, "zorbz*")) == []
    assert set(slugs(find(api, "quixel AND frimpton"))) == set()
    assert set(slugs(find(api, "zorblat AND frimpton"))) == {frimp}
    assert set(slugs(find(api, "quixel OR frimpton"))) == {both, quixel, frimp}
    assert set(slugs(find(api, "zorblat AND NOT quixel"))) == {frimp}


def test_phrase_in_a_title(api, made_up):
    assert slugs(find(api, '"zorblat method"')) == [made_up["both"]]
    assert slugs(find(api, '"frimpton practice"')) == [made_up["frimp"]]


def test_each_line_of_a_paragraph_is_searchable(api):
    slug = create(api, "Two lines", "The first line ends with glorpwise\nblentic starts "
                                    "the second.\n")["slug"]
    assert slugs(find(api, "glorpwise")) == [slug]
    assert slugs(find(api, "blentic")) == [slug]


def test_not_and_field_terms_narrow_the_words(api, made_up):
    assert set(slugs(find(api, "zorblat NOT quixel"))) == {made_up["frimp"]}
    assert set(slugs(find(api, "zorblat lang:fr"))) == set()


def test_tag_lang_and_license_in_the_query(api, inst):
    rows = records(inst)
    tagged = {r.slug for r in rows if "coworking" in (r.tags or [])}
    assert tagged and set(slugs(find(api, "tag:coworking"))) == tagged
    french = {r.slug for r in rows if r.language == "fr"}
    assert french and set(slugs(find(api, "lang:fr"))) == french
    assert set(slugs(find(api, "language:en"))) == {r.slug for r in rows if r.language == "en"}
    everything = find(api, f"license:{inst.license}")
    assert everything["total"] == len(rows)
    assert everything["suggestion"] is None  # a licence id is not a misspelt word
    assert find(api, "license:MIT")["total"] == 0


# ---- facets, filters, pages ---------------------------------------------------------------------

def test_facets_count_the_whole_result_set(api):
    full, first = find(api, "team"), find(api, "team", per_page=1)
    assert full["total"] > 3 and len(first["results"]) == 1
    assert first["facets"] == full["facets"]
    counted: dict[str, dict[str, int]] = {"tags": {}, "language": {}}
    for hit in full["results"]:  # the seed has no forks: one hit per practice
        assert hit["variants"] == 0
        for tag in hit["tags"]:
            counted["tags"][tag] = counted["tags"].get(tag, 0) + 1
        counted["language"][hit["language"]] = counted["language"].get(hit["language"], 0) + 1
    assert full["facets"]["tags"] == counted["tags"]
    assert full["facets"]["language"] == counted["language"]
    assert sum(full["facets"]["license"].values()) == full["total"]


def test_filters_combine_two_tags_mean_both(api, inst):
    rows = records(inst)
    one = {r.slug for r in rows if "team" in r.tags}
    both = {r.slug for r in rows if {"team", "rituals"} <= set(r.tags)}
    assert both and len(one) > len(both)
    assert set(slugs(find(api, "", tag="team"))) == one
    data = find(api, "", tag=["team", "rituals"])
    assert set(slugs(data)) == both and data["total"] == len(both)
    assert data["facets"]["tags"]["team"] == data["facets"]["tags"]["rituals"] == len(both)
    french = {r.slug for r in rows if r.language == "fr" and "team" in r.tags}
    assert set(slugs(find(api, "", tag="team", language="fr"))) == french
    assert find(api, "", tag="team", license=inst.license)["total"] == len(one)
    assert find(api, "", tag="team", license="MIT")["total"] == 0


def test_pagination(api):
    everything = find(api, "coworking OR team OR peer")
    total = everything["total"]
    assert total > 7
    pages, page = [], 1
    while True:
        data = ok(api("get", "/search", query_string={"q": "coworking OR team OR peer",
                                                      "page": page, "per_page": 3}))
        assert (data["total"], data["page"], data["per_page"]) == (total, page, 3)
        if not data["results"]:
            break
        assert len(data["results"]) == 3 or page == -(-total // 3)
        pages += slugs(data)
        page += 1
    assert page == -(-total // 3) + 1
    assert pages == slugs(everything)


def test_bad_input_is_refused_with_422(api, client):
    for params in ({"q": "x" * 501}, {"q": "team", "page": 0}, {"q": "team", "per_page": 1000},
                   {"q": "team", "page": "abc"}, {"q": "team", "per_page": "ten"},
                   {"q": "team", "tag": "t" * 101}):
        r = api("get", "/search", query_string=params)
        assert r.status_code == 422, (params, r.status_code)
        assert r.get_json()["error"]["code"] == "validation"
        page = client.get("/search", query_string=params)
        assert page.status_code == 422, (params, page.status_code)
        assert 'role="alert"' in page.get_data(as_text=True)
    assert "page" in api("get", "/search", query_string={"q": "a", "page": "abc"}) \
        .get_json()["error"]["message"]


# ---- grouping forks under their upstream -------------------------------------------------------

def test_forks_are_grouped_under_their_upstream(api, client):
    up = create(api, "Plimbrix circle", "Sit in a plimbrix circle and talk.\n")["slug"]
    family = {up}
    for who, name in (("bob", "plimbrix-bob"), ("root", "plimbrix-root"),
                      ("alice", "plimbrix-alice")):
        family.add(fork(api, up, who, name)["slug"])
    data = find(api, "plimbrix")
    assert data["total"] == 1 and len(data["results"]) == 1, data
    hit = data["results"][0]
    assert hit["variants"] == 3 and hit["slug"] in family
    assert data["facets"]["language"] == {"en": 4}  # facets count practices, not families

    other = create(api, "Another plimbrix", "A plimbrix, alone.\n")["slug"]
    data = find(api, "plimbrix")
    assert data["total"] == 2
    assert {h["variants"] for h in data["results"]} == {0, 3}
    assert other in slugs(data)

    page = client.get("/search?q=plimbrix").get_data(as_text=True)
    assert re.search(rf'href="/p/{hit["slug"]}/family">\s*and 3 variants</a>', page)
    assert "2 practices" in page


# ---- suggestions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("typo, word", [("transparancy", "transparency"),
                                        ("bienveilance", "bienveillance")])
def test_did_you_mean(api, client, typo, word):
    data = find(api, typo)
    assert data["suggestion"] == word
    assert set(slugs(data)) == set(slugs(find(api, word)))
    assert find(api, word)["suggestion"] is None
    page = client.get(f"/search?q={typo}&tag=team").get_data(as_text=True)
    assert re.search(rf'Did you mean <a class="suggestion" href="/search\?q={word}&amp;'
                     rf'tag=team">{word}</a>\?', page), page


def test_no_suggestion_for_known_words(api):
    assert find(api, "radical transparency")["suggestion"] is None
    assert find(api, "co-développement")["suggestion"] is None


# ---- snippets are escaped ------------------------------------------------------------------------

HOSTILE = ("The snorblex trick: `<script>alert(1)</script>` in the text.\n\n"
           'Then snorblex again: "><img src=x onerror=alert(1)> and <script>alert(1)</script>\n\n'
           "```\nsnorblex <script>alert(1)</script> \"><img src=x onerror=alert(1)>\n```\n")


def test_snippets_escape_what_the_practice_says(api, client):
    slug = create(api, "Snorblex", HOSTILE)["slug"]
    data = find(api, "snorblex")
    assert slugs(data) == [slug]
    snippet = data["results"][0]["snippet"]
    assert "<mark" in snippet and "snorblex" in snippet.lower()
    assert "&lt;script&gt;" in snippet  # the text is quoted, escaped
    assert "<script" not in snippet.lower() and "<img" not in snippet.lower(), snippet
    assert not re.search(r"<(?!/?mark\b)", snippet), snippet  # no tag but <mark>

    page = client.get("/search?q=snorblex").get_data(as_text=True)
    main = page[page.index('<main'):page.index('</main>')]
    assert '<p class="snippet">' in main and "<mark" in main
    assert "<script" not in main.lower() and "<img" not in main.lower(), main
    # what the reader typed is escaped too (title, heading, form, suggestion, filters)
    page = client.get("/search", query_string={"q": '"><script>alert(1)</script> snorblx',
                                               "tag": "<img src=x>"}).get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    page = client.get("/search", query_string={"q": "<script>alert(1)</script> snorblx"}) \
        .get_data(as_text=True)
    assert 'class="suggestion"' in page and "<script>alert" not in page


# ---- always in step with git ---------------------------------------------------------------------

def test_an_edit_is_found_at_once_and_the_old_words_are_gone(api):
    created = create(api, "Keeping step", "Our quorblax ritual.\n")
    slug = created["slug"]
    assert slugs(find(api, "quorblax")) == [slug]
    edit(api, slug, "Our vintrello ritual.\n")
    assert slugs(find(api, "vintrello")) == [slug]
    assert slug not in slugs(find(api, "quorblax"))

    # a revert brings the old words back
    ok(api("post", f"/practices/{slug}/revert", "alice",
           json={"revision": created["revision"], "agree_license": True}))
    assert slugs(find(api, "quorblax")) == [slug]
    assert slug not in slugs(find(api, "vintrello"))


def test_a_rename_moves_the_practice_in_the_index(api, inst):
    slug = create(api, "Zelphorn walk", "A zelphorn walk around the block.\n")["slug"]
    ok(api("post", f"/practices/{slug}/rename", "alice",
           json={"slug": "zelphorn-stroll", "agree_license": True}))
    assert slugs(find(api, "zelphorn")) == ["zelphorn-stroll"]
    from commons.services import search
    assert slug not in search.indexed_revisions(inst)


def test_a_fork_is_found_and_grouped(api):
    up = create(api, "Wobblefrond", "The wobblefrond way.\n")["slug"]
    made = fork(api, up, "bob", "wobblefrond-bob", title="Crinklemoss wobblefrond")
    assert slugs(find(api, "crinklemoss")) == [made["slug"]]
    data = find(api, "wobblefrond")
    assert data["total"] == 1 and data["results"][0]["variants"] == 1


def test_an_accepted_proposal_updates_the_upstream(api, inst):
    up = create(api, "Glimmerfax circle", "## Steps\n\nMeet.\n\nTalk.\n")["slug"]
    theirs = fork(api, up, "bob", "other-circle-bob", title="Other circle")["slug"]
    edit(api, theirs, "## Steps\n\nMeet.\n\nTalk about the snorkelwump.\n", who="bob")
    assert find(api, "snorkelwump AND glimmerfax")["total"] == 0
    pid = ok(api("post", f"/practices/{theirs}/proposals", "bob",
                 json={"title": "Snorkelwump", "message": "Try it."}), 201)["id"]
    current = ok(api("get", f"/proposals/{pid}"))
    accepted = ok(api("post", f"/proposals/{pid}/accept", "alice", json={
        "fork_revision": current["fork_revision"],
        "upstream_revision": current["upstream_revision"], "agree_license": True}))
    assert accepted["status"] == "accepted"
    assert slugs(find(api, "snorkelwump AND glimmerfax")) == [up]
    from commons.services import search
    assert search.indexed_revisions(inst)[up] == accepted["accepted_revision"]


def test_reindex_from_git_gives_the_same_results(api, inst, home):
    slug = create(api, "Trundlewick", "A trundlewick for each team.\n")["slug"]
    edit(api, slug, "A trundlewick for each coworking team.\n")
    queries = [("trundlewick", {}), ("team", {}), ("co-developpement", {}),
               ("", {"tag": ["team", "rituals"]}), ("transparancy", {})]
    before = [find(api, q, **p) for q, p in queries]
    index_dir = Path(inst.config["INDEX_DIR"])
    assert index_dir.is_dir()
    shutil.rmtree(index_dir)
    out = cli(home, "reindex")
    assert "search index" in out.stdout
    after = [find(api, q, **p) for q, p in queries]
    for (q, _p), old, new in zip(queries, before, after):
        assert new["total"] == old["total"], q
        assert set(slugs(new)) == set(slugs(old)), q
        assert new["facets"] == old["facets"], q
        assert new["suggestion"] == old["suggestion"], q
    assert cli(home, "check", check=False).returncode == 0


def test_check_names_a_practice_whose_index_entry_is_stale(api, inst, home):
    slug = create(api, "Stale entry", "Indexed text.\n")["slug"]
    path = f"practices/{slug}.md"
    assert cli(home, "check", check=False).returncode == 0
    text = inst.store.read(path)[0]
    with inst.store.lock():  # written behind the index's back: git and the tables only
        revision = inst.store.commit({path: text.replace("Indexed text.", "Changed text.")},
                                     author=SEED_AUTHOR, message="Change outside editing",
                                     trailers=[("License", inst.license)])
        with inst.session() as session:
            catalog.catch_up(session, inst.store)
    assert revision
    checked = cli(home, "check", check=False)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    stale = [line for line in checked.stdout.splitlines() if slug in line]
    assert stale and revision in stale[0], checked.stdout
    assert all(slug in line for line in checked.stdout.splitlines()), checked.stdout
    cli(home, "reindex")
    assert cli(home, "check", check=False).returncode == 0
    assert slugs(find(api, '"changed text"')) == [slug]


# ---- the pages ----------------------------------------------------------------------------------

def test_search_box_on_every_page(client):
    for path in ("/", "/practices", "/p/co-development-group"):
        page = client.get(path).get_data(as_text=True)
        form = re.search(r'<form class="site-search" role="search"[^>]*>(.*?)</form>', page, re.S)
        assert form, path
        assert 'action="/search"' in form.group(0) and 'method="get"' in form.group(0)
        assert re.search(r'<label for="site-search-q"', form.group(1))
        assert re.search(r'<input id="site-search-q" type="search" name="q"', form.group(1))


@pytest.mark.parametrize("lang, total_word, other", [("en", "practices", "pratiques"),
                                                     ("fr", "pratiques", "practices")])
def test_search_page_in_each_language(client, lang, total_word, other):
    r = client.get("/search?q=co-d%C3%A9veloppement", headers={"Accept-Language": lang})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    assert "<title>" in page and re.search(r"<title>[^<]*co-développement", page)
    total = re.search(r'<p class="search-total" role="status">(\d+) (\w+)</p>', page)
    assert total and total.group(2) == total_word and int(total.group(1)) >= 2
    for slug in CODEV:
        assert f'<a href="/p/{slug}">' in page
    assert '<p class="snippet">' in page and "<mark" in page
    assert 'href="/search?q=co-d%C3%A9veloppement&amp;tag=co-development"' in page  # facet


def test_facet_links_add_and_remove_filters(client):
    page = client.get("/search?q=team&tag=team").get_data(as_text=True)
    facets = page[page.index('<aside class="facets"'):]
    # a chosen tag links to the search without it; another adds itself to the chosen one
    assert 'href="/search?q=team" rel="nofollow" aria-current="true">team</a>' in facets
    assert 'href="/search?q=team&amp;tag=team&amp;tag=rituals"' in facets
    assert 'href="/search?q=team&amp;tag=team&amp;language=fr"' in facets
    page = client.get("/search?q=team&tag=team&language=fr").get_data(as_text=True)
    assert 'href="/search?q=team&amp;tag=team" rel="nofollow" aria-current="true">fr</a>' \
        in page


def test_empty_search_explains_the_syntax(client):
    for path in ("/search", "/search?q=zzqqxxvv"):
        page = client.get(path).get_data(as_text=True)
        assert 'id="search-syntax"' in page
        for example in ("tag:", "lang:", "license:", "AND", "OR", "NOT", "*", '<code>"'):
            assert example in page, (path, example)
