"""Take, improve, give back through the web pages: fork, compare, sync (and its conflicts),
propose, review and accept, the family tree, the ledger, what waits for a steward, the feed."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from commons.services import proposals

from .conftest import login
from .test_forks import World, scenario

SVG = "{http://www.w3.org/2000/svg}"
ATOM = {"a": "http://www.w3.org/2005/Atom"}


@pytest.fixture
def w(inst, users):
    return World(inst)


def text(response) -> str:
    return response.get_data(as_text=True)


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page)
    assert found, f"no hidden {name} in the page"
    return found.group(1)


def switch(client, who):
    client.post("/logout")
    if who:
        login(client, who)


def ahead_fork(w, title="Weather round"):
    """alice's practice, bob's fork of it with one improvement (1 ahead, 0 behind)."""
    up = w.create("alice", title)
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Second paragraph.", "Second paragraph, as we do it.")
    return up, fork


# ---- take ---------------------------------------------------------------------------------------

def test_fork_needs_signing_in(client):
    r = client.get("/p/co-development-group/fork")
    assert r.status_code == 302
    assert r.headers["Location"] == "/login?next=%2Fp%2Fco-development-group%2Ffork"
    r = client.post("/p/co-development-group/fork", data={"agree_license": "y"})
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert client.get("/p/co-development-group-bob").status_code == 404


def test_fork_through_the_form(client, w, inst):
    login(client, "bob")
    page = text(client.get("/p/co-development-group/fork"))
    assert 'name="agree_license"' in page
    assert 'href="https://creativecommons.org/licenses/by-sa/4.0/" rel="license"' in page
    # without the licence box: refused with the reason, nothing committed
    head = inst.store.head()
    r = client.post("/p/co-development-group/fork", data={"title": "", "slug": ""})
    assert r.status_code == 422
    assert "To save, you must agree to release your contribution under CC-BY-SA-4.0" in text(r)
    assert inst.store.head() == head
    assert client.get("/p/co-development-group-bob").status_code == 404
    # with it: a new practice, bob its steward, the flash says what comes next
    upstream = w.record("co-development-group")
    r = client.post("/p/co-development-group/fork", data={"agree_license": "y"})
    assert r.status_code == 302
    assert r.headers["Location"] == "/p/co-development-group-bob"
    page = text(client.get("/p/co-development-group-bob"))
    assert "Your fork is ready." in page
    assert "Where it comes from" in page
    assert f'href="/p/co-development-group/at/{upstream.revision}"' in page
    assert w.record("co-development-group-bob").stewards == ["bob"]
    # a chosen address and title
    r = client.post("/p/co-development-group/fork", data={
        "title": "Co-dev, our way", "slug": "co-dev-our-way", "agree_license": "y"})
    assert r.headers["Location"] == "/p/co-dev-our-way"
    assert w.record("co-dev-our-way").title == "Co-dev, our way"
    # a taken address is refused on the form, with the person's input kept
    r = client.post("/p/co-development-group/fork", data={
        "title": "Mine", "slug": "co-dev-our-way", "agree_license": "y"})
    assert r.status_code == 409
    assert "The address co-dev-our-way is already used by another practice." in text(r)
    assert 'value="Mine"' in text(r)


def test_non_steward_edit_refusal_links_to_the_fork_form(client, w):
    up = w.create("alice", "Weather round")
    login(client, "bob")
    r = client.get(f"/p/{up}/edit")
    assert r.status_code == 403
    assert f'href="/p/{up}/fork"' in text(r)
    page = text(client.get(f"/p/{up}"))
    assert f'<a class="button fork" href="/p/{up}/fork">Fork it to improve it</a>' in page
    switch(client, "alice")  # the steward gets a plain link, not the prominent button
    page = text(client.get(f"/p/{up}"))
    assert f'<a class="fork" href="/p/{up}/fork">Fork</a>' in page
    switch(client, None)
    assert f'href="/p/{up}/fork"' not in text(client.get(f"/p/{up}"))


def test_practice_page_shows_where_it_comes_from_and_its_variants(client, w):
    a = w.create("alice", "Peer circle")
    b = w.fork("bob", a)
    c = w.fork("root", b)
    w.edit("bob", b, "First paragraph.", "First paragraph, bob.")
    page = text(client.get(f"/p/{c}"))
    ancestors = re.search(r'<ol class="ancestors">(.*?)</ol>', page, re.S).group(1)
    assert re.findall(r'<li><a href="/p/([a-z0-9-]+)">', ancestors) == [b, a]
    assert f'href="/p/{b}/at/{w.record(c).fork_point}"' in ancestors
    assert f'href="/p/{a}/at/{w.record(b).fork_point}"' in ancestors
    assert "This is a fork of Peer circle: 0 ahead, 1 behind." in page
    page = text(client.get(f"/p/{a}"))
    assert '<ol class="ancestors">' not in page
    variants = re.search(r'<ul class="variants">(.*)</ul>', page, re.S).group(1)
    assert re.findall(r'href="/p/([a-z0-9-]+)"', variants) == [b, c]  # the tree, to any depth
    assert re.search(rf'href="/p/{b}".*?<ul class="variants">\s*<li><a href="/p/{c}"',
                     variants, re.S)  # c is drawn under b
    assert "1 ahead · 0 behind" in variants
    assert f'href="/p/{a}/family"' in page
    # the fork's steward is invited to give back; others are not
    login(client, "bob")
    assert f'href="/p/{b}/propose"' in text(client.get(f"/p/{b}"))
    switch(client, "alice")
    assert f'href="/p/{b}/propose"' not in text(client.get(f"/p/{b}"))


# ---- improve and stay in sync -------------------------------------------------------------------

def test_compare_shows_the_numbers_the_fork_point_and_the_diff(client, w):
    up = w.create("alice", "Check-in round")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Second paragraph.", "Second paragraph, as we do it.")
    w.edit("bob", fork, "Fourth paragraph.", "Fourth paragraph, shorter.")
    w.edit("alice", up, "First paragraph.", "First paragraph, clearer.")
    r = client.get(f"/p/{fork}/compare")
    page = text(r)
    assert r.status_code == 200
    assert '<strong class="ahead">2</strong>' in page
    assert '<strong class="behind">1</strong>' in page
    point = w.record(fork).fork_point
    assert f'<a class="fork-point" href="/p/{up}/at/{point}"><code>{point[:10]}</code></a>' in page
    assert "<ins>, as we do it</ins>" in page and "<ins>, shorter</ins>" in page
    assert "clearer" not in page  # the upstream's change is not the fork's
    assert "Sync with" not in page and "Propose back" not in page  # anonymous: no tools
    login(client, "bob")
    page = text(client.get(f"/p/{fork}/compare"))
    assert f'action="/p/{fork}/sync"' in page and f'action="/p/{fork}/propose"' in page
    assert client.get("/p/co-development-group/compare").status_code == 422  # not a fork


def test_sync_through_the_form(client, w):
    up = w.create("alice", "Retro ritual")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Second paragraph.", "Second paragraph, ours.")
    w.edit("alice", up, "Fourth paragraph.", "Fourth paragraph, upstream's.")
    login(client, "alice")
    assert client.post(f"/p/{fork}/sync", data={"agree_license": "y"}).status_code == 403
    switch(client, "bob")
    r = client.post(f"/p/{fork}/sync", data={})
    assert r.status_code == 422 and "To save, you must agree" in text(r)
    r = client.post(f"/p/{fork}/sync", data={"agree_license": "y"})
    assert r.status_code == 302 and r.headers["Location"] == f"/p/{fork}"
    body = w.body(fork)
    assert "Second paragraph, ours." in body and "Fourth paragraph, upstream's." in body
    s = w.standing(fork)
    assert (s.ahead, s.behind) == (1, 0)
    assert "Synced: the fork has the new changes of retro-ritual." in text(client.get(f"/p/{fork}"))


def test_sync_conflict_is_shown_then_resolved_and_nothing_is_lost(client, w, inst):
    up = w.create("alice", "Stand-up")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Third paragraph.", "Third paragraph, bob's way.")
    w.edit("alice", up, "Third paragraph.", "Third paragraph, alice's way.")
    head = inst.store.head()
    login(client, "bob")
    r = client.post(f"/p/{fork}/sync", data={"agree_license": "y"})
    page = text(r)
    assert r.status_code == 409
    assert inst.store.head() == head  # nothing committed
    textarea = re.search(r'<textarea[^>]*name="resolved_body"[^>]*>(.*?)</textarea>', page, re.S)
    assert "&lt;&lt;&lt;&lt;&lt;&lt;&lt;" in textarea.group(1)
    assert "bob&#39;s way" in textarea.group(1) and "alice&#39;s way" in textarea.group(1)
    assert hidden(page, "upstream_revision") == w.record(up).revision
    resolved = w.body(fork).replace("Third paragraph, bob's way.", "Third paragraph, agreed.")
    # the upstream moves while bob resolves: his text comes back to him, against the new revision
    w.edit("alice", up, "Fourth paragraph.", "Fourth paragraph, meanwhile.")
    r = client.post(f"/p/{fork}/sync", data={
        "resolved_body": resolved, "agree_license": "y",
        "upstream_revision": hidden(page, "upstream_revision")})
    page = text(r)
    assert r.status_code == 409
    assert "Third paragraph, agreed." in page and "Fourth paragraph, meanwhile." in page
    assert hidden(page, "upstream_revision") == w.record(up).revision
    assert inst.store.head() == w.record(up).revision  # still nothing committed to the fork
    resolved = resolved.replace("Fourth paragraph.", "Fourth paragraph, meanwhile.")
    r = client.post(f"/p/{fork}/sync", data={
        "resolved_body": resolved, "agree_license": "y",
        "upstream_revision": hidden(page, "upstream_revision")})
    assert r.status_code == 302
    assert w.body(fork) == resolved
    assert w.standing(fork).behind == 0


# ---- give back ----------------------------------------------------------------------------------

def test_propose_through_the_form(client, w):
    up, fork = ahead_fork(w)
    login(client, "alice")
    assert client.get(f"/p/{fork}/propose").status_code == 403  # not a steward of the fork
    switch(client, "bob")
    page = text(client.get(f"/p/{fork}/propose"))
    assert "<ins>, as we do it</ins>" in page
    r = client.post(f"/p/{fork}/propose", data={"title": "", "message": "x"})
    assert r.status_code == 422 and 'value=""' in text(r)
    r = client.post(f"/p/{fork}/propose", data={"title": "Better steps",
                                                "message": "We tried it *twice*."})
    assert r.status_code == 302
    pid = int(re.fullmatch(r"/proposals/(\d+)", r.headers["Location"]).group(1))
    p = w.proposal(pid)
    assert (p["status"], p["fork"], p["upstream"]) == ("open", fork, up)
    page = text(client.get(f"/proposals/{pid}"))
    assert "<em>twice</em>" in page
    # one open proposal per fork: the practice page and the form point at it
    assert f'href="/proposals/{pid}"' in text(client.get(f"/p/{fork}"))
    r = client.post(f"/p/{fork}/propose", data={"title": "Again"})
    assert r.status_code == 409 and f"Proposal {pid} from this fork is still open" in text(r)


def test_proposal_page_shows_the_merge_and_the_accept_form_only_to_reviewers(client, w):
    up, fork = ahead_fork(w)
    w.edit("alice", up, "Fourth paragraph.", "Fourth paragraph, upstream moved.")
    pid = w.propose("bob", fork)
    page = text(client.get(f"/proposals/{pid}"))
    assert "It merges cleanly into the current text of Weather round." in page
    assert "<ins>, as we do it</ins>" in page
    assert "<ins>, upstream moved" not in page  # the upstream's own change is not proposed
    accept_action = f'action="/proposals/{pid}/accept"'
    assert accept_action not in page and "Sign in to join the discussion." in page
    login(client, "bob")  # the proposer withdraws, never accepts
    page = text(client.get(f"/proposals/{pid}"))
    assert accept_action not in page and f'action="/proposals/{pid}/withdraw"' in page
    switch(client, "alice")  # the upstream's steward
    page = text(client.get(f"/proposals/{pid}"))
    assert accept_action in page and f'action="/proposals/{pid}/decline"' in page
    assert f'action="/proposals/{pid}/withdraw"' not in page
    assert 'name="resolved_body"' not in page  # clean: nothing to resolve
    assert hidden(page, "fork_revision") == w.record(fork).revision
    assert hidden(page, "upstream_revision") == w.record(up).revision
    switch(client, "root")  # an administrator who did not propose it
    assert accept_action in text(client.get(f"/proposals/{pid}"))


def test_accept_through_the_form(client, w, inst):
    up, fork = ahead_fork(w)
    pid = w.propose("bob", fork)
    login(client, "alice")
    page = text(client.get(f"/proposals/{pid}"))
    form = {"fork_revision": hidden(page, "fork_revision"),
            "upstream_revision": hidden(page, "upstream_revision"), "agree_license": "y"}
    # the upstream moved since alice looked: refused, the page shows the new state
    w.edit("alice", up, "Fourth paragraph.", "Fourth paragraph, meanwhile.")
    r = client.post(f"/proposals/{pid}/accept", data=form)
    assert r.status_code == 409
    assert "weather-round changed since you reviewed this proposal" in text(r)
    assert hidden(text(r), "upstream_revision") == w.record(up).revision
    assert w.proposal(pid)["status"] == "open"
    form["upstream_revision"] = hidden(text(r), "upstream_revision")
    r = client.post(f"/proposals/{pid}/accept", data=form)
    assert r.status_code == 302 and r.headers["Location"] == f"/proposals/{pid}"
    assert w.proposal(pid)["status"] == "accepted"
    page = text(client.get(f"/p/{up}"))
    assert "Second paragraph, as we do it." in page and "Fourth paragraph, meanwhile." in page
    page = text(client.get(f"/proposals/{pid}"))
    assert '<span class="status status-accepted">accepted</span>' in page
    assert f"Accepted as revision <a href=\"/p/{up}/at/{w.record(up).revision}\">" in page
    assert f'action="/proposals/{pid}/accept"' not in page  # closed: no more forms to decide


def test_accept_a_conflicting_merge_after_resolving_it_in_the_browser(client, w):
    up = w.create("alice", "Detox hour")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Third paragraph.", "Third paragraph, from the fork.")
    pid = w.propose("bob", fork)
    w.edit("alice", up, "Third paragraph.", "Third paragraph, from upstream.")
    login(client, "alice")
    page = text(client.get(f"/proposals/{pid}"))
    assert "It conflicts with changes made to Detox hour" in page
    textarea = re.search(r'<textarea[^>]*name="resolved_body"[^>]*>(.*?)</textarea>', page, re.S)
    assert "&lt;&lt;&lt;&lt;&lt;&lt;&lt;" in textarea.group(1)
    resolved = w.body(up).replace("Third paragraph, from upstream.", "Third paragraph, both.")
    form = {"fork_revision": hidden(page, "fork_revision"),
            "upstream_revision": hidden(page, "upstream_revision"), "resolved_body": resolved}
    r = client.post(f"/proposals/{pid}/accept", data=form)  # the licence box forgotten
    assert r.status_code == 422 and "Third paragraph, both." in text(r)  # the text is kept
    r = client.post(f"/proposals/{pid}/accept", data={**form, "agree_license": "y"})
    assert r.status_code == 302
    assert w.body(up) == resolved


def test_decline_needs_a_reason(client, w):
    up, fork = ahead_fork(w)
    pid = w.propose("bob", fork)
    login(client, "alice")
    r = client.post(f"/proposals/{pid}/decline", data={"reason": "  "})
    assert r.status_code == 422
    assert "Say why you decline this proposal: its author deserves a reason." in text(r)
    assert w.proposal(pid)["status"] == "open"
    switch(client, "bob")
    assert client.post(f"/proposals/{pid}/decline",
                       data={"reason": "mine"}).status_code == 403  # the proposer cannot
    switch(client, "alice")
    r = client.post(f"/proposals/{pid}/decline", data={"reason": "Too specific to one place."})
    assert r.status_code == 302
    assert w.proposal(pid)["status"] == "declined"
    page = text(client.get(f"/proposals/{pid}"))
    assert "Declined: Too specific to one place." in page
    assert '<span class="status status-declined">declined</span>' in page


def test_withdraw(client, w):
    up, fork = ahead_fork(w)
    pid = w.propose("bob", fork)
    login(client, "alice")
    assert client.post(f"/proposals/{pid}/withdraw").status_code == 403
    switch(client, "bob")
    assert client.post(f"/proposals/{pid}/withdraw").status_code == 302
    assert w.proposal(pid)["status"] == "withdrawn"


def test_comments_are_sanitized_markdown_and_updates_are_announced(client, w):
    up, fork = ahead_fork(w)
    pid = w.propose("bob", fork)
    assert client.post(f"/proposals/{pid}/comment", data={"body": "x"}).status_code == 302
    assert w.proposal(pid)["events"] == ["opened"]  # anonymous: sent to sign in, nothing added
    login(client, "alice")
    r = client.post(f"/proposals/{pid}/comment",
                    data={"body": "**Why** this?<script>alert('pwned')</script>"})
    assert r.status_code == 302
    assert re.fullmatch(rf"/proposals/{pid}#event-\d+", r.headers["Location"])
    assert client.post(f"/proposals/{pid}/comment", data={"body": " "}).status_code == 422
    w.edit("bob", fork, "Fourth paragraph.", "Fourth paragraph, v2.")
    page = text(client.get(f"/proposals/{pid}"))
    assert "<strong>Why</strong> this?" in page
    assert "pwned" not in page and "<script>alert" not in page
    assert w.proposal(pid)["events"] == ["opened", "comment", "updated"]
    assert (f"The fork changed: this proposal now carries its revision "
            f"{w.record(fork).revision[:10]}.") in page
    assert '<a href="/u/alice">Alice</a> commented:' in page


def test_proposal_list_filters_by_status(client, w):
    up, fork = ahead_fork(w)
    open_id = w.propose("bob", fork)
    up2, fork2 = ahead_fork(w, "Second round")
    declined = w.propose("bob", fork2, title="Other steps")
    with w.inst.session() as s:
        proposals.decline(s, w.user(s, "alice"), declined, reason="No.")
    ids = lambda page: [int(x) for x in re.findall(r'href="/proposals/(\d+)">#', page)]  # noqa
    assert ids(text(client.get("/proposals"))) == [declined, open_id]
    page = text(client.get("/proposals?status=open"))
    assert ids(page) == [open_id] and "1 proposal" in page
    assert ids(text(client.get("/proposals?status=declined"))) == [declined]
    assert ids(text(client.get("/proposals?status=withdrawn"))) == []
    assert ids(text(client.get("/proposals?per_page=1&page=2"))) == [open_id]
    assert client.get("/proposals?status=nope").status_code == 422
    assert client.get("/proposals/999").status_code == 404


# ---- the family, the ledger, what waits --------------------------------------------------------

def test_family_tree_is_a_server_rendered_svg(client, w):
    a = w.create("alice", "Peer circle")
    b = w.fork("bob", a)
    c = w.fork("root", a, new_slug="peer-circle-root")
    d = w.fork("alice", b, new_slug="peer-circle-deep")
    w.edit("bob", b, "First paragraph.", "First paragraph, bob.")
    r = client.get(f"/p/{b}/family.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    svg = ET.fromstring(r.data)
    nodes = svg.findall(f".//{SVG}a")
    assert sorted(n.get("data-slug") for n in nodes) == sorted([a, b, c, d])
    assert [n.get("href") for n in nodes if n.get("data-slug") == c] == [f"/p/{c}"]
    assert len(svg.findall(f".//{SVG}path[@class='edge']")) == 3
    assert [n.get("data-slug") for n in nodes if "current" in n.get("class")] == [b]
    notes = {n.get("data-slug"): n.find(f"{SVG}text[@class='node-note']").text for n in nodes}
    assert notes == {a: "the original", b: "1 ahead · 0 behind", c: "0 ahead · 0 behind",
                     d: "0 ahead · 1 behind"}
    # the page inlines the same drawing, rooted at the top of the family from any member
    page = text(client.get(f"/p/{d}/family"))
    inline = ET.fromstring(re.search(r"<svg .*?</svg>", page, re.S).group(0))
    assert len(inline.findall(f".//{SVG}a")) == 4
    assert "<h1>The family of Peer circle</h1>" in page
    assert client.get("/p/nothing-here/family").status_code == 404


def test_ledger_page_figures(client, w):
    up, other, f1, f2, f3, open_id = scenario(w)
    page = text(client.get("/ledger"))
    cells = lambda row_id: [int(x) for x in re.findall(  # noqa: E731
        r'<td class="num">(\d+)</td>', re.search(rf'<tr id="{row_id}">(.*?)</tr>', page,
                                                  re.S).group(1))]
    # forks, not yet proposed, open, accepted, declined, withdrawn
    assert cells("totals") == [3, 1, 1, 1, 1, 0]
    assert cells(f"practice-{up}") == [2, 0, 1, 1, 0, 0]
    assert cells(f"practice-{other}") == [1, 1, 0, 0, 1, 0]
    assert cells("contributor-bob") == [2, 1, 0, 1, 1, 0]
    assert cells("contributor-root") == [1, 0, 1, 0, 0, 0]
    unreturned = re.search(r'<h2 id="unreturned">.*?</table>', page, re.S).group(0)
    assert re.findall(r'href="/p/([a-z0-9-]+)/compare"', unreturned) == [f3]
    assert '<td class="num">2</td>' in unreturned  # f3 is 2 ahead
    assert f'href="/proposals/{open_id}"' in re.search(r'<h2 id="open">.*?</table>', page,
                                                        re.S).group(0)
    assert "Not for us." in page  # the declined give-back, with its reason


def test_steward_sees_what_waits_and_follows_the_feed(client, w):
    up, other, f1, f2, f3, open_id = scenario(w)
    login(client, "alice")
    page = text(client.get("/"))
    waiting = re.search(r'<section class="waiting".*?</section>', page, re.S).group(0)
    assert re.findall(r'href="/proposals/(\d+)"', waiting) == [str(open_id)]
    assert '<link rel="alternate" type="application/atom+xml" title="Proposals waiting for you" ' \
           'href="/u/alice/proposals.atom">' in page
    switch(client, "bob")
    assert "No proposal waits for your review." in text(client.get("/"))
    r = client.get("/u/alice/proposals.atom")
    assert r.mimetype == "application/atom+xml"
    feed = ET.fromstring(r.data)
    entries = feed.findall("a:entry", ATOM)
    with w.inst.session() as s:
        events = proposals.events_for(s, w.user(s, "alice"))
        expected = [(e.proposal_id, e.id) for e in events]
    assert [e.find("a:link", ATOM).get("href") for e in entries] == [
        f"http://commons.test/proposals/{pid}#event-{eid}" for pid, eid in expected]
    titles = [e.find("a:title", ATOM).text for e in entries]
    assert titles[0] == f"Proposal {open_id + 1} declined: Better steps"
    assert f"Proposal {open_id} opened: Better steps" in titles
    assert entries[0].find("a:summary", ATOM).text == f"From {f3} to {other}. Not for us."
    assert 'href="/u/alice/proposals.atom"' in text(client.get("/u/alice"))
    assert client.get("/u/nobody/proposals.atom").status_code == 404


def test_feed_escapes_what_people_wrote(client, w):
    up, fork = ahead_fork(w)
    pid = w.propose("bob", fork, title="Steps & <b>tips</b>")
    with w.inst.session() as s:
        proposals.comment(s, w.user(s, "bob"), pid, body="a < b & c")
    feed = ET.fromstring(client.get("/u/alice/proposals.atom").data)
    entries = feed.findall("a:entry", ATOM)
    assert entries[0].find("a:title", ATOM).text == \
        f"Proposal {pid}, new comment: Steps & <b>tips</b>"
    assert entries[0].find("a:summary", ATOM).text.endswith("a < b & c")


def test_user_page_lists_forks_proposals_and_give_backs(client, w):
    up, other, f1, f2, f3, open_id = scenario(w)
    page = text(client.get("/u/bob"))
    forks_list = re.search(r'<ul class="forks">(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r'<a href="/p/([a-z0-9-]+)" lang', forks_list) == [f1, f3]
    assert f'href="/p/{f3}/compare">2 ahead · 0 behind</a>' in forks_list
    listed = re.search(r'<ul class="proposals">(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r'status-(\w+)', listed) == ["declined", "accepted"]
    given = re.search(r'<ul class="given-back">(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r'href="/proposals/(\d+)"', given) == [str(open_id - 1)]
    assert "No forks yet." in text(client.get("/u/alice"))


def test_pages_speak_french(client, w):
    up, fork = ahead_fork(w)
    pid = w.propose("bob", fork)
    fr = {"Accept-Language": "fr"}
    page = text(client.get(f"/p/{fork}/compare", headers=fr))
    assert '<html lang="fr"' in page
    assert "En avance" in page and "En retard" in page and "Point de départ" in page
    page = text(client.get(f"/proposals/{pid}", headers=fr))
    assert "Elle s’intègre sans conflit au texte actuel de «\u00a0Weather round\u00a0»." \
        in page
    assert '<span class="status status-open">ouverte</span>' in page
    page = text(client.get(f"/p/{up}/family", headers=fr))
    assert "1 en avance · 0 en retard" in page
    assert "<h1>La famille de «\u00a0Weather round\u00a0»</h1>" in page
    page = text(client.get("/ledger", headers=fr))
    assert "Le registre des contributions en retour" in page
    login(client, "bob")
    r = client.post(f"/p/{up}/fork", data={}, headers=fr)
    assert r.status_code == 422 and "Pour enregistrer" in text(r)
    r = client.post(f"/p/{fork}/propose", data={"title": "Encore"}, headers=fr)
    assert r.status_code == 409
    assert f"La proposition {pid} de cette variante est toujours ouverte" in text(r)


def test_a_popular_practice_page_shows_its_nearest_variants_and_counts_the_rest(
        client, w, monkeypatch):
    from commons.web import giveback
    monkeypatch.setattr(giveback, "VARIANTS_SHOWN", 2)
    a = w.create("alice", "Open space")
    b = w.fork("bob", a)
    w.fork("root", b)  # a grandchild: the deepest, so the one left out
    d = w.fork("root", a)
    page = text(client.get(f"/p/{a}"))
    variants = re.search(r'<ul class="variants">(.*)</ul>', page, re.S).group(1)
    assert re.findall(r'href="/p/([a-z0-9-]+)"', variants) == [b, d]
    assert "and 1 more variant, in the family tree" in page
    page = text(client.get(f"/p/{a}", headers={"Accept-Language": "fr"}))
    assert "et 1 autre variante, dans l’arbre de famille" in page
