"""The reading experience and the editor, through the Flask test client: the licence badge, the
table of contents, print and reading styles, the home page's figures, every page's head
(title, canonical URL, Open Graph, language), and the editor's refusals, conflicts and script."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from commons.services import editing, ledger, proposals, reading

from .conftest import login, make_app
from .test_forks import World

LONG_BODY = """Intro paragraph.

## Why it works

Because people talk.

## Steps

### Before the session

Prepare the room.

### During *the* session

Listen & <b>write</b>.

## Pitfalls

Rushing.
"""


@pytest.fixture
def w(inst, users):
    return World(inst)


def text(response) -> str:
    return response.get_data(as_text=True)


def create(api, who="alice", **json):
    json.setdefault("agree_license", True)
    r = api("post", "/practices", who, json=json)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def ahead_fork_with_proposal(w, inst):
    """alice's fork of a seeded practice, one edit ahead, proposed back: (fork, proposal id)."""
    fork = w.fork("alice", "co-development-group")
    with inst.session() as s:
        body = w.body(fork)
        editing.update_practice(inst, s, w.user(s, "alice"), fork,
                                base_revision=w.record(fork).revision,
                                body=body + "\nOne more thing we learnt.\n", agree_license=True)
    return fork, w.propose("alice", fork)


class Head(HTMLParser):
    """What a page's <html> and <head> declare."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = None
        self.title = ""
        self.in_title = False
        self.links: dict[str, str] = {}
        self.meta: dict[str, str] = {}
        self.inline_scripts = 0
        self.styles = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "title":
            self.in_title = True
        elif tag == "link" and a.get("rel"):
            self.links[a["rel"]] = a.get("href")
        elif tag == "meta" and (a.get("property") or a.get("name")):
            self.meta[a.get("property") or a.get("name")] = a.get("content")
        elif tag == "script" and not a.get("src"):
            self.inline_scripts += 1
        elif tag == "style":
            self.styles += 1
        if "style" in a:
            self.styles += 1

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.in_title:
            self.title += data


def head_of(page: str) -> Head:
    parser = Head()
    parser.feed(page)
    return parser


# ---- the practice page --------------------------------------------------------------------------

def test_licence_badge_is_visible_linked_and_local(client):
    page = text(client.get("/p/co-development-group"))
    badge = re.search(r'<span class="license-badge"[^>]*>(.*?)</span>', page, re.S).group(1)
    assert 'href="https://creativecommons.org/licenses/by-sa/4.0/"' in badge
    assert 'rel="license"' in badge
    assert re.sub(r"<[^>]+>", "", badge).strip() == "cc CC BY-SA 4.0"
    assert "<svg" in badge and 'aria-hidden="true"' in badge  # our own icon, inline
    assert "<img" not in badge and "src=" not in badge  # nothing fetched from elsewhere


def test_long_practice_has_a_table_of_contents_from_its_headings(client, api, inst):
    create(api, title="Long one", body=LONG_BODY)
    page = text(client.get("/p/long-one"))
    nav = re.search(r'<nav class="toc" aria-labelledby="([^"]+)"[^>]*>(.*?)</nav>', page, re.S)
    assert nav, "no table of contents"
    assert f'id="{nav.group(1)}"' in nav.group(2)  # the label it points to exists
    links = re.findall(r'<li class="toc-level-(\d)"><a href="#([^"]+)">([^<]*)</a>', nav.group(2))
    assert [(lvl, t) for lvl, _i, t in links] == [
        ("2", "Why it works"), ("2", "Steps"), ("3", "Before the session"),
        ("3", "During the session"), ("2", "Pitfalls")]
    body = re.search(r'<div class="body">(.*?)</div>', page, re.S).group(1)
    for _lvl, anchor, _t in links:  # every entry lands on a heading of the body
        assert re.search(rf'<h[23] id="{re.escape(anchor)}">', body), anchor


def test_table_of_contents_reads_the_cached_html(client, api, inst):
    create(api, title="Long one", body=LONG_BODY)
    client.get("/p/long-one")
    before = inst.cache.renders
    page = text(client.get("/p/long-one"))
    assert inst.cache.renders == before  # the second view renders nothing
    assert 'class="toc"' in page


def test_short_practice_has_no_table_of_contents(client, api):
    create(api, title="Short one", body="## Only\n\ntext\n\n## Two\n\nmore\n")
    assert 'class="toc"' not in text(client.get("/p/short-one"))


def test_table_of_contents_text_is_plain_and_escaped_by_the_page():
    html = ('<h2 id="a">A &amp; <em>b</em></h2><h3 id="c">&lt;script&gt;</h3>'
            '<h2>no id</h2><h4 id="d">deep</h4><h2 id="e">E</h2>')
    toc = reading.table_of_contents(html)
    assert [(h.level, h.id, h.text) for h in toc] == [
        (2, "a", "A & b"), (3, "c", "<script>"), (2, "e", "E")]
    assert reading.table_of_contents(html, minimum=4) == []


def test_toc_heading_text_cannot_inject_markup(client, api):
    create(api, title="Tricky", body="## One\n\n## `<img src=x onerror=1>`\n\n## Three\n")
    nav = re.search(r'<nav class="toc".*?</nav>', text(client.get("/p/tricky")), re.S).group(0)
    assert "<img" not in nav and "&lt;img src=x onerror=1&gt;" in nav


def test_practice_page_shows_what_a_reader_needs(client, w, inst, users):
    fork, pid = ahead_fork_with_proposal(w, inst)
    page = text(client.get(f"/p/{fork}"))
    assert "Language:" in page and 'hreflang="fr"' in page  # its translation
    assert "Authors:" in page and "Stewards:" in page and 'href="/u/alice"' in page
    assert "Last changed on" in page
    assert "Where it comes from" in page and 'href="/p/co-development-group"' in page
    assert f'href="/p/{fork}/history"' in page and f'href="/p/{fork}.md"' in page
    assert f'href="/p/{fork}/attribution"' in page
    assert f'href="/proposals/{pid}"' in page  # its proposal back
    upstream = text(client.get("/p/co-development-group"))
    assert "Variants" in upstream and f'href="/p/{fork}"' in upstream
    login(client, "alice")
    page = text(client.get(f"/p/{fork}"))
    assert f'href="/p/{fork}/edit"' in page and f'href="/p/{fork}/fork"' in page


def test_propose_back_is_offered_on_a_fork_that_is_ahead(client, w, inst):
    fork = w.fork("alice", "detox-zone")
    w.edit("alice", fork, w.body(fork)[:20], w.body(fork)[:20] + " (ours)")
    login(client, "alice")
    assert f'href="/p/{fork}/propose"' in text(client.get(f"/p/{fork}"))


# ---- styles -------------------------------------------------------------------------------------

def print_rules(css: str) -> str:
    """The inside of every ``@media print`` block."""
    blocks = []
    for match in re.finditer(r"@media print\s*\{", css):
        depth, start = 1, match.end()
        for j in range(start, len(css)):
            depth += {"{": 1, "}": -1}.get(css[j], 0)
            if depth == 0:
                blocks.append(css[start:j])
                break
    return "\n".join(blocks)


def test_print_stylesheet_keeps_the_text_and_its_attribution(client):
    css = text(client.get("/static/commons.css"))
    rules = print_rules(css)
    hidden = " ".join(re.findall(r"([^{}]*)\{\s*display:\s*none", rules))
    for selector in ("header.site", ".actions", "form", ".site-search", "nav"):
        assert selector in hidden, selector
    assert ".attribution" not in hidden and ".credits" not in hidden
    assert re.search(r"\.attribution[^{]*\{[^}]*display:\s*block", rules)
    assert 'attr(href)' in rules and "::after" in rules  # link addresses travel on paper
    assert "serif" in rules and "Georgia" in rules


def test_reading_typography(client):
    css = text(client.get("/static/commons.css"))
    assert re.search(r"\.practice \.body[^{]*\{[^}]*max-width:\s*70ch", css)
    assert re.search(r"\.practice \.body h2\s*\{[^}]*font-size", css)


# ---- home ---------------------------------------------------------------------------------------

def test_most_forked_counts_forks_per_upstream(w, inst):
    w.fork("alice", "detox-zone")
    w.fork("bob", "detox-zone")
    w.fork("alice", "co-development-group")
    with inst.session() as s:
        got = [(r.slug, n) for r, n in reading.most_forked(s)]
        assert got == [("detox-zone", 2), ("co-development-group", 1)]
        assert [r.slug for r, _n in reading.most_forked(s, limit=1)] == ["detox-zone"]


def test_ledger_headline_agrees_with_the_ledger(w, inst):
    fork, pid = ahead_fork_with_proposal(w, inst)
    quiet = w.fork("bob", "detox-zone")  # not ahead: not counted
    ahead = w.fork("bob", "co-development-group")
    w.edit("bob", ahead, w.body(ahead)[:20], w.body(ahead)[:20] + " (bob)")
    with inst.session() as s:
        head = ledger.headline(s)
        full = ledger.build(s)
        assert (head.given_back, head.open, head.unreturned) == (0, 1, 1)
        assert (head.given_back, head.open, head.unreturned) == (
            full.totals.accepted, full.totals.open, full.totals.unreturned)
        assert quiet not in [row["fork"] for row in full.unreturned]


def test_home_shows_recent_most_forked_tags_and_ledger(client, w, inst):
    fork, _pid = ahead_fork_with_proposal(w, inst)
    w.fork("bob", "co-development-group")
    page = text(client.get("/"))
    assert "Recently changed" in page and f'href="/p/{fork}"' in page
    forked = re.search(r'<ol class="most-forked">(.*?)</ol>', page, re.S).group(1)
    assert 'href="/p/co-development-group"' in forked and "2 forks" in forked
    assert re.search(r'href="/tags/peer-learning">peer-learning</a> <span class="count">\d+',
                     page)
    headline = re.search(r'<p class="ledger-headline">(.*?)</p>', page, re.S).group(1)
    assert "0 improvements given back" in headline and "1 proposal open" in headline
    assert "0 forks with improvements not yet proposed" in headline
    assert "waiting-title" not in page  # signed out: nothing waits


def test_home_lists_proposals_waiting_for_a_steward(client, w, inst):
    up = w.create("alice", "Weather round")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Second paragraph.", "Second paragraph, as we do it.")
    pid = w.propose("bob", fork)
    login(client, "alice")
    page = text(client.get("/"))
    waiting = re.search(r'<section class="waiting".*?</section>', page, re.S).group(0)
    assert f'href="/proposals/{pid}"' in waiting
    client.post("/logout")
    login(client, "bob")
    assert "No proposal waits for your review." in text(client.get("/"))


# ---- every page ---------------------------------------------------------------------------------

NOT_PAGES = {  # GET routes that answer with something other than an HTML page
    "static", "practices.download", "history.feed", "giveback.proposals_feed",
    "giveback.family_image", "export.info_refs", "export.zip_download",
    "accounts.switch_language",
}


def test_every_page_has_a_proper_head(app, client, w, inst, api):
    fork, pid = ahead_fork_with_proposal(w, inst)
    record = w.record(fork)
    first = api("get", f"/practices/{fork}/history").get_json()["history"][-1]["revision"]
    values = {"slug": fork, "username": "alice", "proposal_id": str(pid),
              "revision": record.revision, "tag": w.record("co-development-group").tags[0]}
    queries = {"history.diff": f"?from={first}&to={record.revision}", "search.search_page": "?q=group"}
    signed_in = app.test_client()
    login(signed_in, "alice")
    admin = app.test_client()
    login(admin, "root")
    seen = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES or \
                rule.endpoint.startswith("api."):
            continue
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule)
        url += queries.get(rule.endpoint, "")
        r = client.get(url)
        if r.status_code == 302 and "/login" in r.headers["Location"]:
            r = signed_in.get(url)
        if r.status_code == 403 and rule.endpoint.startswith("moderation."):
            r = admin.get(url)  # the administrators' pages
        assert r.status_code == 200, (url, r.status_code)
        assert r.mimetype == "text/html", url
        head = head_of(text(r))
        assert head.title.strip() and not head.title.strip().startswith("·"), url
        assert head.links.get("canonical", "").startswith("http://commons.test/"), url
        assert head.meta.get("og:title"), url
        assert head.meta.get("og:url") == head.links["canonical"], url
        assert head.meta.get("og:type") and head.meta.get("og:locale"), url
        assert head.lang in app.config["LANGUAGES"], url
        assert head.inline_scripts == 0 and head.styles == 0, url  # the CSP forbids them
        seen.append(rule.endpoint)
    assert {"practices.show", "practices.edit", "giveback.proposal", "history.at",
            "history.diff", "accounts.user_page", "giveback.propose"} <= set(seen)
    assert len(seen) >= 25


def test_practice_head_describes_the_practice(client):
    head = head_of(text(client.get("/p/groupe-de-co-developpement")))
    assert head.meta["og:type"] == "article"
    assert head.meta["og:locale"] == "fr_FR"  # the practice's own language
    assert head.meta["og:description"] and head.meta["description"]
    assert head.links["canonical"] == "http://commons.test/p/groupe-de-co-developpement"


def test_no_empty_description_for_a_practice_without_summary(client, api):
    create(api, title="Bare", body="text")
    head = head_of(text(client.get("/p/bare")))
    assert "og:description" not in head.meta and "description" not in head.meta


# ---- the editor ---------------------------------------------------------------------------------

def form_data(**over):
    data = {"title": "Tour de météo", "summary": "How everyone arrives.", "language": "en",
            "tags": "rituals", "body": "## Why\n\nMy precious words.\n", "message": "first",
            "agree_license": "y"}
    data.update(over)
    return data


def test_new_practice_form_has_template_message_and_licence(client, users):
    login(client, "alice")
    page = text(client.get("/new"))
    assert "## Why" in page  # the practice template
    assert 'name="message"' in page and "Describe your change" in page
    box = re.search(r'<p class="license-agree">(.*?)</p>', page, re.S).group(1)
    assert 'type="checkbox"' in box and "required" in box
    assert "CC BY-SA 4.0" in box and \
        'href="https://creativecommons.org/licenses/by-sa/4.0/" rel="license"' in box
    assert 'data-preview="/preview"' in page and "data-preview-error=" in page


@pytest.mark.parametrize("over, status, message", [
    ({"agree_license": ""}, 422, "you must agree to release your contribution under"),
    ({"title": "T" * 201}, 422, "Please correct the highlighted fields."),
    ({"slug": "detox-zone"}, 409, "The address detox-zone is already used by another practice."),
])
def test_refused_save_says_why_and_keeps_the_text(client, users, inst, over, status, message):
    login(client, "alice")
    head = inst.store.head()
    r = client.post("/new", data=form_data(body="## Why\n\nMy precious words & <notes>.\n",
                                           summary="Kept summary", **over))
    page = text(r)
    assert r.status_code == status
    assert message in page and 'role="alert"' in page
    assert "My precious words &amp; &lt;notes&gt;." in page  # kept, and escaped
    assert 'value="Kept summary"' in page
    assert inst.store.head() == head  # nothing committed


def test_conflict_view_shows_both_versions_merge_and_resubmits(client, users, api):
    login(client, "alice")
    client.post("/new", data=form_data(body="## Why\n\nline one\nline two\nline three\n"))
    page = text(client.get("/p/tour-de-meteo/edit"))
    base = re.search(r'name="base_revision" type="hidden" value="([0-9a-f]{40})"', page).group(1)
    r = api("put", "/practices/tour-de-meteo", "root", json={
        "body": "## Why\n\nline one\nline TWO (root)\nline three\n", "base_revision": base,
        "agree_license": True})
    current = r.get_json()["revision"]
    r = client.post("/p/tour-de-meteo/edit", data=form_data(
        body="## Why\n\nline one\nline two (alice)\nline three\n", base_revision=base))
    page = text(r)
    assert r.status_code == 409
    section = re.search(r'<section class="conflict".*?</section>', page, re.S).group(0)
    assert "Your version" in section and "Current version" in section and \
        "Marked merge" in section
    assert "line two (alice)" in section and "line TWO (root)" in section
    editor = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert "&lt;&lt;&lt;&lt;&lt;&lt;&lt;" in editor and "line two (alice)" in editor
    assert re.search(rf'name="base_revision" type="hidden" value="{current}"', page)
    r = client.post("/p/tour-de-meteo/edit", data=form_data(
        body="## Why\n\nline one\nline two (both)\nline three\n", base_revision=current))
    assert r.status_code == 302
    assert "line two (both)" in text(client.get("/p/tour-de-meteo"))


def test_editor_script_degrades_debounces_and_sends_csrf(client, users):
    js = text(client.get("/static/commons.js"))
    assert 'if (!area) return;' in js  # no editor, nothing done
    assert "setTimeout(refresh" in js and "clearTimeout" in js  # debounced
    assert "X-CSRFToken" in js and "csrf_token" in js
    assert "previewError" in js and ".catch(" in js  # a polite message, not silence
    assert "ctrlKey" in js and "metaKey" in js and "requestSubmit" in js
    login(client, "alice")
    page = text(client.get("/new"))
    # without JavaScript: a plain form posting to itself, the preview pane hidden
    assert re.search(r'<form method="post" class="editor" action="/new">', page)
    assert re.search(r'<section class="pane preview"[^>]*hidden', page)


def test_preview_answers_with_csrf_and_shows_what_the_page_will(home, users):
    app = make_app(home, WTF_CSRF_ENABLED=True)
    c = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      text(c.get("/login"))).group(1)
    c.post("/login", data={"username": "alice", "password": "correct horse battery",
                           "csrf_token": token})
    body = LONG_BODY + "\n<script>alert(1)</script>\n"
    assert c.post("/preview", data={"body": body}).status_code == 400  # no token: refused
    r = c.post("/preview", data={"body": body}, headers={"X-CSRFToken": token})
    assert r.status_code == 200 and "<script" not in text(r)
    with app.app_context():
        assert '<h2 id="why-it-works">Why it works</h2>' in text(r)


def test_waiting_proposals_service_is_what_home_uses(w, inst):
    up = w.create("alice", "Weather round")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Second paragraph.", "Second paragraph, better.")
    pid = w.propose("bob", fork)
    with inst.session() as s:
        assert [p.id for p in proposals.waiting_for(s, w.user(s, "alice"))] == [pid]
