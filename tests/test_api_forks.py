"""Take, improve, give back through the JSON API: forks, lineage, compare, sync, proposals and
their review, every refusal with its status and code, and the ledger."""
from __future__ import annotations

import pytest

LINES = ["## Why", "", "First paragraph.", "", "Second paragraph.", "", "Third paragraph.",
         "", "Fourth paragraph.", ""]
BODY = "\n".join(LINES)


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.get_json())
    return r.get_json()


def refused(r, status, code):
    assert r.status_code == status, (r.status_code, r.get_json())
    data = r.get_json()
    assert data["error"]["code"] == code, data
    return data


class Api:
    """The API, driven as named people."""

    def __init__(self, api):
        self.call = api

    def create(self, who, title, body=BODY):
        return ok(self.call("post", "/practices", who,
                            json={"title": title, "body": body, "agree_license": True}),
                  201)["slug"]

    def get(self, slug):
        return ok(self.call("get", f"/practices/{slug}"))

    def edit(self, who, slug, old, new):
        current = self.get(slug)
        assert old in current["body"], (old, current["body"])
        return ok(self.call("put", f"/practices/{slug}", who,
                            json={"body": current["body"].replace(old, new),
                                  "base_revision": current["revision"],
                                  "agree_license": True}))["revision"]

    def fork(self, who, upstream, **extra):
        return ok(self.call("post", f"/practices/{upstream}/forks", who,
                            json={"agree_license": True, **extra}), 201)["slug"]

    def compare(self, slug):
        return ok(self.call("get", f"/practices/{slug}/compare"))

    def propose(self, who, fork, title="Better steps", message="We tried it."):
        return ok(self.call("post", f"/practices/{fork}/proposals", who,
                            json={"title": title, "message": message}), 201)["id"]

    def proposal(self, pid):
        return ok(self.call("get", f"/proposals/{pid}"))

    def accept(self, who, pid, **extra):
        current = self.proposal(pid)
        payload = {"fork_revision": current["fork_revision"],
                   "upstream_revision": current["upstream_revision"], "agree_license": True}
        return self.call("post", f"/proposals/{pid}/accept", who, json={**payload, **extra})


@pytest.fixture
def w(api):
    return Api(api)


# ---- take ---------------------------------------------------------------------------------------

def test_fork_answers_201_with_the_new_practice(w, api):
    up = w.create("alice", "Weather round")
    upstream = w.get(up)
    r = api("post", f"/practices/{up}/forks", "bob", json={"agree_license": True})
    data = ok(r, 201)
    assert data["slug"] == "weather-round-bob"
    assert r.headers["Location"].endswith("/api/v1/practices/weather-round-bob")
    assert r.headers["ETag"] == f'"{data["revision"]}"'
    assert data["forked_from"] == {"slug": up, "revision": upstream["revision"]}
    assert data["stewards"] == ["bob"]
    assert data["title"] == "Weather round"
    assert data["body"] == upstream["body"] == BODY
    assert data["license"] == "CC-BY-SA-4.0"
    assert (data["merged"], data["changed"]) == (False, True)
    assert data["authors"] == [{"username": "bob", "name": "Bob"}]
    assert w.get("weather-round-bob")["forked_from"] == data["forked_from"]
    # a chosen address and title
    data = ok(api("post", f"/practices/{up}/forks", "root",
                  json={"slug": "weather-custom", "title": "Weather, our way",
                        "message": "Take it", "agree_license": True}), 201)
    assert (data["slug"], data["title"], data["stewards"]) == \
        ("weather-custom", "Weather, our way", ["root"])
    # refusals
    refused(api("post", f"/practices/{up}/forks", "bob",
                json={"slug": "weather-custom", "agree_license": True}), 409, "conflict")
    refused(api("post", f"/practices/{up}/forks", None, json={"agree_license": True}),
            401, "unauthorized")
    refused(api("post", f"/practices/{up}/forks", "bob", json={}), 422, "license_required")
    refused(api("post", f"/practices/{up}/forks", "bob",
                json={"slug": "../x", "agree_license": True}), 422, "validation")
    refused(api("post", "/practices/no-such-practice/forks", "bob",
                json={"agree_license": True}), 404, "not_found")


def test_lineage_of_a_fork_of_a_fork_to_depth_three(w, api):
    a = w.create("alice", "Peer circle")
    b = w.fork("bob", a)
    c = w.fork("root", b)
    d = w.fork("alice", c, slug="peer-circle-deep", title="Peer circle, deep")
    assert (b, c) == ("peer-circle-bob", "peer-circle-bob-root")
    rev = {slug: w.get(slug)["revision"] for slug in (a, b, c)}
    data = ok(api("get", f"/practices/{d}/lineage"))
    assert data == {"ancestors": [
        {"slug": c, "title": "Peer circle", "revision": rev[c]},
        {"slug": b, "title": "Peer circle", "revision": rev[b]},
        {"slug": a, "title": "Peer circle", "revision": rev[a]},
    ], "forks": []}
    w.edit("bob", b, "First paragraph.", "First paragraph, bob.")
    data = ok(api("get", f"/practices/{a}/lineage"))
    assert data == {"ancestors": [], "forks": [
        {"slug": b, "title": "Peer circle", "ahead": 1, "behind": 0, "forks": [
            {"slug": c, "title": "Peer circle", "ahead": 0, "behind": 1, "forks": [
                {"slug": d, "title": "Peer circle, deep", "ahead": 0, "behind": 0,
                 "forks": []}]}]}]}
    refused(api("get", "/practices/nope/lineage"), 404, "not_found")


# ---- improve and stay in sync -------------------------------------------------------------------

def test_compare_ahead_and_behind_after_edits_on_both_sides(w, api):
    up = w.create("alice", "Check-in round")
    fork_point = w.get(up)["revision"]
    fork = w.fork("bob", up)
    assert w.compare(fork)["ahead"] == 0 and w.compare(fork)["behind"] == 0
    w.edit("bob", fork, "Second paragraph.", "Second paragraph, as we do it.")
    w.edit("bob", fork, "Fourth paragraph.", "Fourth paragraph, shorter.")
    up_rev = w.edit("alice", up, "First paragraph.", "First paragraph, clearer.")
    data = w.compare(fork)
    assert (data["ahead"], data["behind"]) == (2, 1)
    assert data["fork_point"] == fork_point
    assert data["upstream"] == {"slug": up, "title": "Check-in round", "revision": up_rev}
    assert data["since"] is not None
    diff = data["diff"]
    assert "-Second paragraph.\n+Second paragraph, as we do it.\n" in diff
    assert "-Fourth paragraph.\n+Fourth paragraph, shorter.\n" in diff
    assert "clearer" not in diff  # the upstream's change is not the fork's
    # a practice that is not a fork has nothing to compare with
    refused(api("get", f"/practices/{up}/compare"), 422, "validation")
    refused(api("get", "/practices/nope/compare"), 404, "not_found")


def test_sync_clean_then_nothing_new(w, api):
    up = w.create("alice", "Retro ritual")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Second paragraph.", "Second paragraph, ours.")
    up_rev = w.edit("alice", up, "Fourth paragraph.", "Fourth paragraph, upstream's.")
    before = w.get(fork)["revision"]
    refused(api("post", f"/practices/{fork}/sync", None, json={"agree_license": True}),
            401, "unauthorized")
    refused(api("post", f"/practices/{fork}/sync", "alice", json={"agree_license": True}),
            403, "forbidden")  # alice stewards the upstream, not the fork
    refused(api("post", f"/practices/{fork}/sync", "bob", json={}), 422, "license_required")
    refused(api("post", f"/practices/{up}/sync", "alice", json={"agree_license": True}),
            422, "validation")  # not a fork
    assert w.get(fork)["revision"] == before
    data = ok(api("post", f"/practices/{fork}/sync", "bob", json={"agree_license": True}))
    assert (data["merged"], data["changed"]) == (True, True)
    assert data["revision"] != before
    assert data["body"] == BODY.replace("Second paragraph.", "Second paragraph, ours.") \
        .replace("Fourth paragraph.", "Fourth paragraph, upstream's.")
    assert data["forked_from"] == {"slug": up, "revision": up_rev}
    state = w.compare(fork)
    assert (state["ahead"], state["behind"], state["fork_point"]) == (1, 0, up_rev)
    data = ok(api("post", f"/practices/{fork}/sync", "bob", json={"agree_license": True}))
    assert data["changed"] is False
    assert data["revision"] == w.get(fork)["revision"] == state_after_sync(w, fork)


def state_after_sync(w, slug):
    history = w.call("get", f"/practices/{slug}/history").get_json()
    return history["history"][0]["revision"]


def test_sync_conflict_is_409_then_resolved(w, api):
    up = w.create("alice", "Stand-up")
    fork_point = w.get(up)["revision"]
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Third paragraph.", "Third paragraph, bob's way.")
    up_rev = w.edit("alice", up, "Third paragraph.", "Third paragraph, alice's way.")
    before = w.get(fork)["revision"]
    data = refused(api("post", f"/practices/{fork}/sync", "bob", json={"agree_license": True}),
                   409, "conflict")
    assert data["current_revision"] == up_rev
    assert data["base_revision"] == fork_point
    assert data["yours"] == BODY.replace("Third paragraph.", "Third paragraph, bob's way.")
    assert data["theirs"] == BODY.replace("Third paragraph.", "Third paragraph, alice's way.")
    assert "<<<<<<< this fork\nThird paragraph, bob's way.\n" in data["merged_with_markers"]
    assert "Third paragraph, alice's way.\n>>>>>>> " + up in data["merged_with_markers"]
    assert w.get(fork)["revision"] == before  # nothing committed
    resolved = BODY.replace("Third paragraph.", "Third paragraph, agreed.")
    stale = refused(api("post", f"/practices/{fork}/sync", "bob",
                        json={"agree_license": True, "resolved_body": resolved,
                              "upstream_revision": "0" * 40}), 409, "conflict")
    assert stale["current_revision"] == up_rev
    data = ok(api("post", f"/practices/{fork}/sync", "bob",
                  json={"agree_license": True, "resolved_body": resolved,
                        "upstream_revision": data["current_revision"]}))
    assert (data["merged"], data["changed"]) == (False, True)
    assert data["body"] == resolved
    assert data["forked_from"] == {"slug": up, "revision": up_rev}
    assert (w.compare(fork)["ahead"], w.compare(fork)["behind"]) == (1, 0)


# ---- give back ----------------------------------------------------------------------------------

def test_proposal_opened_reviewed_and_accepted(w, api):
    up = w.create("alice", "Welcome newcomers")
    fork = w.fork("bob", up)
    fork_rev = w.edit("bob", fork, "Second paragraph.", "Second paragraph, with a buddy.")
    up_rev = w.edit("alice", up, "First paragraph.", "First paragraph, upstream moved.")
    r = api("post", f"/practices/{fork}/proposals", "bob",
            json={"title": "A buddy for each newcomer", "message": "It worked for us."})
    data = ok(r, 201)
    pid = data["id"]
    assert r.headers["Location"].endswith(f"/api/v1/proposals/{pid}")
    assert (data["title"], data["message"], data["status"]) == \
        ("A buddy for each newcomer", "It worked for us.", "open")
    assert data["fork"] == {"slug": fork, "title": "Welcome newcomers"}
    assert data["upstream"] == {"slug": up, "title": "Welcome newcomers"}
    assert data["proposer"] == {"username": "bob", "display_name": "Bob"}
    assert (data["fork_revision"], data["upstream_revision"]) == (fork_rev, up_rev)

    r = api("get", f"/proposals/{pid}")
    data = ok(r)
    merged = BODY.replace("First paragraph.", "First paragraph, upstream moved.") \
        .replace("Second paragraph.", "Second paragraph, with a buddy.")
    assert data["clean"] is True
    assert data["merged"] == merged
    assert "-Second paragraph.\n+Second paragraph, with a buddy.\n" in data["diff"]
    assert "+First paragraph" not in data["diff"]  # already upstream: not part of the change
    assert "-First paragraph" not in data["diff"]
    assert (data["closed"], data["closed_by"], data["decline_reason"],
            data["accepted_revision"]) == (None, None, None, None)
    assert [(e["kind"], e["author"], e["revision"]) for e in data["events"]] == \
        [("opened", {"username": "bob", "display_name": "Bob"}, fork_rev)]
    assert "noreply" not in r.get_data(as_text=True) and "email" not in data["proposer"]

    data = ok(w.accept("alice", pid))
    assert data["status"] == "accepted"
    assert len(data["accepted_revision"]) == 40
    assert data["closed_by"] == {"username": "alice", "display_name": "Alice"}
    assert data["closed"] is not None
    assert [e["kind"] for e in data["events"]] == ["opened", "accepted"]
    assert data["events"][-1]["revision"] == data["accepted_revision"]
    upstream = w.get(up)
    assert upstream["body"] == merged
    assert upstream["revision"] == data["accepted_revision"]
    state = w.compare(fork)
    assert (state["ahead"], state["behind"]) == (0, 0)
    # a closed proposal can no longer be accepted
    refused(w.accept("alice", pid), 409, "conflict")


def test_accept_with_a_stale_revision_is_409(w, api):
    up = w.create("alice", "Pilot passenger mechanic")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "First paragraph.", "First paragraph, v1.")
    pid = w.propose("bob", fork)
    seen = w.proposal(pid)
    v2 = w.edit("bob", fork, "First paragraph, v1.", "First paragraph, v2.")
    data = refused(api("post", f"/proposals/{pid}/accept", "alice",
                       json={"fork_revision": seen["fork_revision"],
                             "upstream_revision": seen["upstream_revision"],
                             "agree_license": True}), 409, "conflict")
    assert (data["fork_revision"], data["upstream_revision"]) == \
        (v2, seen["upstream_revision"])
    data = w.proposal(pid)
    assert data["status"] == "open" and data["fork_revision"] == v2
    assert [(e["kind"], e["author"], e["revision"]) for e in data["events"]][-1] == \
        ("updated", None, v2)  # the reviewers are told
    moved = w.edit("alice", up, "Fourth paragraph.", "Fourth paragraph, meanwhile.")
    data = refused(api("post", f"/proposals/{pid}/accept", "alice",
                       json={"fork_revision": v2,
                             "upstream_revision": seen["upstream_revision"],
                             "agree_license": True}), 409, "conflict")
    assert data["upstream_revision"] == moved
    assert w.get(up)["revision"] == moved  # nothing committed
    data = ok(w.accept("alice", pid))  # reviewed again
    assert data["status"] == "accepted"
    assert "First paragraph, v2." in w.get(up)["body"]


def test_conflicting_proposal_is_409_until_resolved(w, api):
    up = w.create("alice", "Detox hour")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Third paragraph.", "Third paragraph, from the fork.")
    pid = w.propose("bob", fork)
    assert w.proposal(pid)["clean"] is True
    up_rev = w.edit("alice", up, "Third paragraph.", "Third paragraph, from upstream.")
    data = w.proposal(pid)
    assert data["clean"] is False
    assert data["upstream_revision"] == up_rev
    assert f"<<<<<<< {up}\nThird paragraph, from upstream.\n" in data["merged"]
    assert f"Third paragraph, from the fork.\n>>>>>>> {fork}" in data["merged"]
    conflict = refused(w.accept("alice", pid), 409, "conflict")
    assert conflict["merged_with_markers"] == data["merged"]
    assert conflict["current_revision"] == up_rev
    assert conflict["yours"] == BODY.replace("Third paragraph.", "Third paragraph, from the fork.")
    assert conflict["theirs"] == BODY.replace("Third paragraph.",
                                              "Third paragraph, from upstream.")
    assert w.get(up)["revision"] == up_rev and w.proposal(pid)["status"] == "open"
    resolved = BODY.replace("Third paragraph.", "Third paragraph, from both.")
    data = ok(w.accept("alice", pid, resolved_body=resolved))
    assert data["status"] == "accepted"
    assert w.get(up)["body"] == resolved
    assert w.compare(fork)["ahead"] == 0


def test_decline_withdraw_and_comments(w, api):
    up = w.create("alice", "Proud moments")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "First paragraph.", "First paragraph, bob.")
    pid = w.propose("bob", fork)
    # comments: anyone signed in
    refused(api("post", f"/proposals/{pid}/comments", None, json={"body": "hi"}),
            401, "unauthorized")
    refused(api("post", f"/proposals/{pid}/comments", "alice", json={"body": "  "}),
            422, "validation")
    event = ok(api("post", f"/proposals/{pid}/comments", "alice",
                   json={"body": "Why this change?"}), 201)
    assert {k: event[k] for k in ("kind", "author", "body", "revision")} == \
        {"kind": "comment", "author": {"username": "alice", "display_name": "Alice"},
         "body": "Why this change?", "revision": None}
    assert isinstance(event["id"], int) and event["created"]
    ok(api("post", f"/proposals/{pid}/comments", "bob", json={"body": "It worked for us."}),
       201)
    # decline: the upstream's stewards, with a reason
    refused(api("post", f"/proposals/{pid}/decline", None, json={"reason": "no"}),
            401, "unauthorized")
    refused(api("post", f"/proposals/{pid}/decline", "bob", json={"reason": "no"}),
            403, "forbidden")  # the proposer does not review
    refused(api("post", f"/proposals/{pid}/decline", "alice", json={}), 422, "validation")
    refused(api("post", f"/proposals/{pid}/decline", "alice", json={"reason": "   "}),
            422, "validation")
    data = ok(api("post", f"/proposals/{pid}/decline", "alice",
                  json={"reason": "Too specific to one place."}))
    assert (data["status"], data["decline_reason"]) == ("declined", "Too specific to one place.")
    assert data["closed_by"] == {"username": "alice", "display_name": "Alice"}
    assert [(e["kind"], (e["author"] or {}).get("username"), e["body"])
            for e in data["events"]] == [
        ("opened", "bob", ""), ("comment", "alice", "Why this change?"),
        ("comment", "bob", "It worked for us."),
        ("declined", "alice", "Too specific to one place.")]
    refused(api("post", f"/proposals/{pid}/decline", "alice", json={"reason": "again"}),
            409, "conflict")
    refused(api("post", f"/proposals/{pid}/withdraw", "bob"), 409, "conflict")
    # the discussion stays open after the end
    ok(api("post", f"/proposals/{pid}/comments", "alice", json={"body": "Thanks anyway."}), 201)
    # withdraw: the proposer only
    pid2 = w.propose("bob", fork, title="Second try")
    refused(api("post", f"/proposals/{pid2}/withdraw", None), 401, "unauthorized")
    refused(api("post", f"/proposals/{pid2}/withdraw", "alice"), 403, "forbidden")
    data = ok(api("post", f"/proposals/{pid2}/withdraw", "bob"))
    assert data["status"] == "withdrawn"
    assert data["closed_by"] == {"username": "bob", "display_name": "Bob"}
    assert [e["kind"] for e in data["events"]] == ["opened", "withdrawn"]


def test_permission_refusals(w, api):
    up = w.create("alice", "Sociocratic rounds")
    fork = w.fork("bob", up)
    propose = {"title": "Better", "message": ""}
    refused(api("post", f"/practices/{fork}/proposals", "bob", json=propose),
            422, "validation")  # not ahead: nothing to give back
    w.edit("bob", fork, "First paragraph.", "First paragraph, bob.")
    refused(api("post", f"/practices/{fork}/proposals", None, json=propose),
            401, "unauthorized")
    refused(api("post", f"/practices/{fork}/proposals", "alice", json=propose),
            403, "forbidden")  # not a steward of the fork
    refused(api("post", f"/practices/{fork}/proposals", "bob", json={"title": " "}),
            422, "validation")
    refused(api("post", f"/practices/{up}/proposals", "alice", json=propose),
            422, "validation")  # not a fork
    pid = ok(api("post", f"/practices/{fork}/proposals", "bob", json=propose), 201)["id"]
    again = refused(api("post", f"/practices/{fork}/proposals", "bob", json=propose),
                    409, "conflict")  # one open proposal per fork
    assert again["proposal"] == pid
    refused(w.accept(None, pid), 401, "unauthorized")
    refused(w.accept("bob", pid), 403, "forbidden")  # the proposer accepting their own
    refused(w.accept("alice", pid, agree_license=False), 422, "license_required")
    assert w.proposal(pid)["status"] == "open"
    # an admin reviews others' proposals, but not their own to a practice they do not steward
    fork2 = w.fork("root", up)
    w.edit("root", fork2, "Second paragraph.", "Second paragraph, root.")
    pid2 = w.propose("root", fork2)
    refused(w.accept("root", pid2), 403, "forbidden")
    assert ok(w.accept("root", pid))["status"] == "accepted"
    assert w.proposal(pid2)["status"] == "open"
    # the JSON body is required for writes that take one
    refused(api("post", f"/proposals/{pid2}/accept", "alice", data="x",
                content_type="text/plain"), 422, "validation")


def test_proposals_listing_filters_and_pages(w, api):
    up = w.create("alice", "Eco lunch")
    other = w.create("alice", "Radical transparency")
    f1, f2 = w.fork("bob", up), w.fork("root", up, slug="eco-lunch-root")
    f3 = w.fork("bob", other)
    w.edit("bob", f1, "First paragraph.", "First paragraph, f1.")
    w.edit("root", f2, "Second paragraph.", "Second paragraph, f2.")
    w.edit("bob", f3, "Third paragraph.", "Third paragraph, f3.")
    p1 = w.propose("bob", f1, title="One")
    p2 = w.propose("root", f2, title="Two")
    p3 = w.propose("bob", f3, title="Three")
    ok(api("post", f"/proposals/{p1}/withdraw", "bob"))
    data = ok(api("get", f"/proposals?status=open&practice={up}"))
    assert (data["total"], data["page"], data["per_page"]) == (1, 1, 50)
    assert [(p["id"], p["title"], p["status"]) for p in data["proposals"]] == \
        [(p2, "Two", "open")]
    item = data["proposals"][0]
    assert item["fork"] == {"slug": f2, "title": "Eco lunch"}
    assert item["proposer"] == {"username": "root", "display_name": "Root"}
    assert item["upstream_revision"] == w.get(up)["revision"]
    assert "events" not in item and "merged" not in item
    data = ok(api("get", f"/proposals?practice={up}"))
    assert [p["id"] for p in data["proposals"]] == [p2, p1]
    data = ok(api("get", f"/proposals?practice={f3}"))  # either end
    assert [p["id"] for p in data["proposals"]] == [p3]
    data = ok(api("get", "/proposals?status=withdrawn"))
    assert [p["id"] for p in data["proposals"]] == [p1]
    data = ok(api("get", "/proposals?per_page=2&page=2"))
    assert (data["total"], data["page"], data["per_page"]) == (3, 2, 2)
    assert [p["id"] for p in data["proposals"]] == [p1]
    data = ok(api("get", "/proposals?per_page=2"))
    assert [p["id"] for p in data["proposals"]] == [p3, p2]
    assert ok(api("get", "/proposals?practice=nothing-here"))["total"] == 0
    refused(api("get", "/proposals?status=merged"), 422, "validation")
    refused(api("get", "/proposals?page=0"), 422, "validation")


def test_unknown_proposal_is_404(w, api):
    refused(api("get", "/proposals/999"), 404, "not_found")
    for action, payload in (("accept", {"fork_revision": "a" * 40, "upstream_revision": "b" * 40,
                                        "agree_license": True}),
                            ("decline", {"reason": "no"}), ("comments", {"body": "hi"}),
                            ("withdraw", None)):
        refused(api("post", f"/proposals/999/{action}", "root", json=payload), 404, "not_found")
    refused(api("get", "/proposals/abc"), 404, "not_found")


# ---- the ledger ---------------------------------------------------------------------------------

def test_ledger_after_a_small_scenario(w, api):
    up = w.create("alice", "Eco lunch")
    other = w.create("alice", "Radical transparency")
    f1 = w.fork("bob", up)
    f2 = w.fork("root", up, slug="eco-lunch-root")
    f3 = w.fork("bob", other)
    w.edit("bob", f1, "First paragraph.", "First paragraph, f1.")
    accepted = w.propose("bob", f1, title="Given back")
    accepted_rev = ok(w.accept("alice", accepted))["accepted_revision"]
    w.edit("root", f2, "Second paragraph.", "Second paragraph, f2.")
    open_id = w.propose("root", f2, title="Still open")
    w.edit("bob", f3, "Third paragraph.", "Third paragraph, f3.")
    declined = w.propose("bob", f3, title="Declined")
    ok(api("post", f"/proposals/{declined}/decline", "alice", json={"reason": "Not for us."}))
    w.edit("bob", f3, "Fourth paragraph.", "Fourth paragraph, f3.")

    data = ok(api("get", "/ledger"))
    assert data["totals"] == {"forks": 3, "unreturned": 1, "open": 1, "accepted": 1,
                              "declined": 1, "withdrawn": 0}
    assert [(r["fork"], r["upstream"], r["ahead"], r["behind"], r["stewards"], r["age_days"])
            for r in data["unreturned"]] == [(f3, other, 2, 0, ["bob"], 0)]
    assert [(p["id"], p["fork"], p["upstream"], p["proposer"], p["age_days"])
            for p in data["open"]] == \
        [(open_id, f2, up, {"username": "root", "display_name": "Root"}, 0)]
    assert [(p["id"], p["revision"]) for p in data["accepted"]] == [(accepted, accepted_rev)]
    assert [(p["id"], p["reason"]) for p in data["declined"]] == [(declined, "Not for us.")]
    assert data["withdrawn"] == []
    by_practice = {r["slug"]: r for r in data["by_practice"]}
    assert by_practice[up] == {"slug": up, "title": "Eco lunch", "forks": 2, "unreturned": 0,
                               "open": 1, "accepted": 1, "declined": 0, "withdrawn": 0}
    assert by_practice[other] == {"slug": other, "title": "Radical transparency", "forks": 1,
                                  "unreturned": 1, "open": 0, "accepted": 0, "declined": 1,
                                  "withdrawn": 0}
    assert data["by_contributor"] == [
        {"username": "bob", "forks": 2, "unreturned": 1, "open": 0, "accepted": 1,
         "declined": 1, "withdrawn": 0},
        {"username": "root", "forks": 1, "unreturned": 0, "open": 1, "accepted": 0,
         "declined": 0, "withdrawn": 0}]
    # one person's ledger
    mine = ok(api("get", "/ledger?user=root"))
    assert mine["totals"] == {"forks": 1, "unreturned": 0, "open": 1, "accepted": 0,
                              "declined": 0, "withdrawn": 0}
    assert [p["id"] for p in mine["open"]] == [open_id] and mine["accepted"] == []
    assert ok(api("get", "/ledger?user=alice"))["totals"] == \
        {"forks": 0, "unreturned": 0, "open": 0, "accepted": 0, "declined": 0, "withdrawn": 0}
    refused(api("get", "/ledger?user=nobody"), 404, "not_found")
