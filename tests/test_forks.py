"""Take, improve, give back, through the services on a real repository and database: forks and
their lineage, ahead/behind, sync, proposals accepted with credit, and the ledger."""
from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import delete, select

from commons.errors import Conflict, EditConflict, Forbidden, Unauthorized, ValidationError
from commons.models import ChangeRecord, PracticeRecord, PracticeTag, Redirect, State
from commons.services import accounts, catalog, editing, forks, ledger, proposals

from .test_cli import run

LINES = ["## Why", "", "First paragraph.", "", "Second paragraph.", "", "Third paragraph.",
         "", "Fourth paragraph.", ""]
BODY = "\n".join(LINES)


class World:
    """The instance, driven as named people."""

    def __init__(self, inst):
        self.inst = inst

    def user(self, session, name):
        return accounts.get_user(session, name) if name else None

    def create(self, who, title, body=BODY):
        with self.inst.session() as s:
            return editing.create_practice(self.inst, s, self.user(s, who), title=title,
                                           body=body, agree_license=True).record.slug

    def record(self, slug):
        with self.inst.session() as s:
            record = catalog.get_record(s, slug)
            s.expunge(record)
            return record

    def body(self, slug):
        from commons.services import practice as doc
        return doc.parse(self.inst.store.read(f"practices/{slug}.md")[0]).body

    def edit(self, who, slug, old, new):
        body = self.body(slug)
        assert old in body, (old, body)
        with self.inst.session() as s:
            return editing.update_practice(
                self.inst, s, self.user(s, who), slug, base_revision=self.record(slug).revision,
                body=body.replace(old, new), agree_license=True).revision

    def fork(self, who, slug, **kw):
        with self.inst.session() as s:
            return forks.fork_practice(self.inst, s, self.user(s, who), slug,
                                       agree_license=True, **kw).record.slug

    def standing(self, slug):
        with self.inst.session() as s:
            return forks.standing(s, catalog.get_record(s, slug))

    def sync(self, who, slug, **kw):
        with self.inst.session() as s:
            return forks.sync_fork(self.inst, s, self.user(s, who), slug, agree_license=True,
                                   **kw)

    def propose(self, who, fork, title="Better steps", message="We tried it."):
        with self.inst.session() as s:
            return proposals.open_proposal(self.inst, s, self.user(s, who), fork, title=title,
                                           message=message).id

    def review(self, proposal_id):
        with self.inst.session() as s:
            p = proposals.get(s, proposal_id)
            r = proposals.review(self.inst, s, p)
            return r.proposal.fork_revision, r.upstream.revision, r.clean, r.merged

    def accept(self, who, proposal_id, **kw):
        fork_rev, up_rev, _clean, _merged = self.review(proposal_id)
        kw.setdefault("fork_revision", fork_rev)
        kw.setdefault("upstream_revision", up_rev)
        with self.inst.session() as s:
            p = proposals.accept(self.inst, s, self.user(s, who), proposal_id,
                                 agree_license=True, **kw)
            return p.status, p.accepted_revision

    def proposal(self, proposal_id):
        with self.inst.session() as s:
            p = proposals.get(s, proposal_id)
            return {"status": p.status, "fork_revision": p.fork_revision,
                    "events": [e.kind for e in p.events], "fork": p.fork_slug,
                    "upstream": p.upstream_slug}


def git(inst, *args):
    return subprocess.run(["git", "--git-dir", str(inst.store.path), *args], check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture
def w(inst, users):
    return World(inst)


# ---- take ---------------------------------------------------------------------------------------

def test_fork_is_a_new_practice_with_its_lineage_in_git(w, inst):
    up = w.create("alice", "Weather round")
    upstream = w.record(up)
    fork = w.fork("bob", up)
    assert fork == "weather-round-bob"
    record = w.record(fork)
    assert record.forked_from == {"slug": up, "revision": upstream.revision}
    assert record.stewards == ["bob"] and record.license == "CC-BY-SA-4.0"
    assert record.upstream_slug == up and record.fork_point == upstream.revision
    message = git(inst, "log", "-1", "--format=%B", record.revision)
    assert f"Forked-from: {up}@{upstream.revision}" in message
    assert "License: CC-BY-SA-4.0" in message
    assert w.body(fork) == w.body(up)
    assert w.standing(fork).ahead == 0 and w.standing(fork).behind == 0
    # an explicit slug that is taken is refused; anonymous forks are refused
    with pytest.raises(Conflict):
        w.fork("bob", up, new_slug=up)
    with pytest.raises(Unauthorized):
        w.fork(None, up)


def test_fork_of_a_fork_and_lineage_to_depth_three_across_a_rename(w, inst):
    a = w.create("alice", "Peer circle")
    b = w.fork("bob", a)
    c = w.fork("root", b)
    d = w.fork("alice", c, new_slug="peer-circle-deep", title="Peer circle, deep")
    with inst.session() as s:
        chain = forks.ancestors(s, catalog.get_record(s, d))
    assert [x["slug"] for x in chain] == [c, b, a]
    assert chain[0]["revision"] == w.record(c).revision
    # rename the top of the family: the lineage follows
    with inst.session() as s:
        editing.rename_practice(inst, s, w.user(s, "alice"), a, new_slug="peer-circle-renamed",
                                agree_license=True)
    with inst.session() as s:
        chain = forks.ancestors(s, catalog.get_record(s, d))
        assert [x["slug"] for x in chain] == [c, b, "peer-circle-renamed"]
        tree = forks.lineage(s, catalog.get_record(s, "peer-circle-renamed"))
    assert tree["ancestors"] == []
    assert [f["slug"] for f in tree["forks"]] == [b]
    assert [f["slug"] for f in tree["forks"][0]["forks"]] == [c]
    assert [f["slug"] for f in tree["forks"][0]["forks"][0]["forks"]] == [d]
    # the renamed upstream still gets a fork's sync
    w.edit("alice", "peer-circle-renamed", "First paragraph.", "First paragraph, renamed.")
    assert w.standing(b).behind == 1
    w.sync("bob", b)
    assert "renamed." in w.body(b)
    assert w.record(b).forked_from["slug"] == "peer-circle-renamed"


# ---- improve and stay in sync -------------------------------------------------------------------

def test_ahead_and_behind_after_edits_on_both_sides(w):
    up = w.create("alice", "Check-in round")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Second paragraph.", "Second paragraph, as we do it.")
    w.edit("bob", fork, "Fourth paragraph.", "Fourth paragraph, shorter.")
    w.edit("alice", up, "First paragraph.", "First paragraph, clearer.")
    s = w.standing(fork)
    assert (s.ahead, s.behind) == (2, 1)
    assert s.since is not None
    with w.inst.session() as session:
        comparison = forks.compare(w.inst, session, catalog.get_record(session, fork))
    assert "+Second paragraph, as we do it." in comparison.diff
    assert "-Second paragraph." in comparison.diff
    assert "clearer" not in comparison.diff  # the upstream's change is not the fork's


def test_sync_clean_moves_the_fork_point(w, inst):
    up = w.create("alice", "Retro ritual")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Second paragraph.", "Second paragraph, ours.")
    w.edit("alice", up, "Fourth paragraph.", "Fourth paragraph, upstream's.")
    result = w.sync("bob", fork)
    assert result.changed and result.merged
    body = w.body(fork)
    assert "Second paragraph, ours." in body and "Fourth paragraph, upstream's." in body
    record = w.record(fork)
    assert record.fork_point == w.record(up).revision
    message = git(inst, "log", "-1", "--format=%B", record.revision)
    assert f"Synced-from: {up}@{w.record(up).revision}" in message
    s = w.standing(fork)
    assert (s.ahead, s.behind) == (1, 0)  # the sync is not an improvement of the fork
    assert not w.sync("bob", fork).changed  # nothing new upstream: no commit
    with pytest.raises(Forbidden):
        w.sync("alice", fork)  # alice stewards the upstream, not the fork


def test_sync_conflict_is_refused_then_resolved(w, inst):
    up = w.create("alice", "Stand-up")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Third paragraph.", "Third paragraph, bob's way.")
    w.edit("alice", up, "Third paragraph.", "Third paragraph, alice's way.")
    head = inst.store.head()
    with pytest.raises(EditConflict) as info:
        w.sync("bob", fork)
    details = info.value.details
    assert "<<<<<<<" in details["merged_with_markers"]
    assert "bob's way" in details["yours"] and "alice's way" in details["theirs"]
    assert inst.store.head() == head  # nothing committed
    resolved = w.body(fork).replace("Third paragraph, bob's way.", "Third paragraph, agreed.")
    with pytest.raises(Conflict):
        w.sync("bob", fork, resolved_body=resolved, upstream_revision="0" * 40)
    result = w.sync("bob", fork, resolved_body=resolved,
                    upstream_revision=details["current_revision"])
    assert result.changed and "agreed" in w.body(fork)
    assert w.standing(fork).behind == 0


# ---- give back ----------------------------------------------------------------------------------

def test_proposal_accepted_cleanly_credits_every_author(w, inst):
    up = w.create("alice", "Welcome newcomers")
    fork = w.fork("bob", up)
    with inst.session() as s:
        editing.add_steward(inst, s, w.user(s, "bob"), fork, "root", agree_license=True)
    w.edit("bob", fork, "Second paragraph.", "Second paragraph, with a buddy.")
    w.edit("root", fork, "Fourth paragraph.", "Fourth paragraph, with a map.")
    w.edit("alice", up, "First paragraph.", "First paragraph, upstream moved.")
    pid = w.propose("bob", fork)
    fork_rev, up_rev, clean, merged = w.review(pid)
    assert clean and "with a buddy" in merged and "upstream moved" in merged
    status, accepted = w.accept("alice", pid)
    assert status == "accepted"
    body = w.body(up)
    assert "with a buddy" in body and "with a map" in body and "upstream moved" in body
    fmt = "%an <%ae>%n%cn <%ce>%n%B"
    author, committer, *message = git(inst, "log", "-1", f"--format={fmt}", accepted).split("\n")
    message = "\n".join(message)
    assert author == "Bob <bob@users.noreply.commons>"
    assert committer == "Alice <alice@users.noreply.commons>"
    assert "Co-authored-by: Root <root@users.noreply.commons>" in message
    assert f"Proposal: {pid}" in message
    assert f"Forked-from: {fork}@{fork_rev}" in message
    assert "License: CC-BY-SA-4.0" in message
    s = w.standing(fork)
    assert (s.ahead, s.behind) == (0, 0)
    # the upstream now counts the proposer and the co-author among its authors
    assert [a["username"] for a in w.record(up).authors] == ["alice", "bob", "root"]
    fork_msg = git(inst, "log", "-1", "--format=%B", w.record(fork).revision)
    assert f"Given-back: {fork_rev}" in fork_msg and f"Synced-from: {up}@{accepted}" in fork_msg
    with inst.session() as session:
        assert catalog.check(session, inst.store, inst.license) == []


def test_proposal_conflicting_after_upstream_moved_is_resolved_and_accepted(w, inst):
    up = w.create("alice", "Detox hour")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Third paragraph.", "Third paragraph, from the fork.")
    pid = w.propose("bob", fork)
    w.edit("alice", up, "Third paragraph.", "Third paragraph, from upstream.")
    fork_rev, up_rev, clean, merged = w.review(pid)
    assert not clean and "<<<<<<<" in merged
    head = inst.store.head()
    with pytest.raises(EditConflict):
        w.accept("alice", pid)
    assert inst.store.head() == head
    resolved = w.body(up).replace("Third paragraph, from upstream.",
                                  "Third paragraph, from both.")
    status, _rev = w.accept("alice", pid, resolved_body=resolved)
    assert status == "accepted" and "from both" in w.body(up)
    assert w.standing(fork).ahead == 0


def test_accept_refused_when_the_fork_moved_after_review(w, inst):
    up = w.create("alice", "Pilot passenger mechanic")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "First paragraph.", "First paragraph, v1.")
    pid = w.propose("bob", fork)
    fork_rev, up_rev, _c, _m = w.review(pid)
    w.edit("bob", fork, "First paragraph, v1.", "First paragraph, v2.")
    p = w.proposal(pid)
    assert p["fork_revision"] != fork_rev and p["events"][-1] == "updated"  # reviewers told
    with pytest.raises(Conflict):
        w.accept("alice", pid, fork_revision=fork_rev, upstream_revision=up_rev)
    w.edit("alice", up, "Fourth paragraph.", "Fourth paragraph, meanwhile.")
    with pytest.raises(Conflict):  # upstream moved since the review
        w.accept("alice", pid, fork_revision=w.proposal(pid)["fork_revision"],
                 upstream_revision=up_rev)
    status, _rev = w.accept("alice", pid)  # reviewed again: accepted, with v2
    assert status == "accepted" and "v2" in w.body(up)


def test_decline_withdraw_comments_and_permissions(w, inst):
    up = w.create("alice", "Proud moments")
    fork = w.fork("bob", up)
    with pytest.raises(ValidationError):
        w.propose("bob", fork)  # not ahead: nothing to give back
    w.edit("bob", fork, "First paragraph.", "First paragraph, bob.")
    with pytest.raises(Forbidden):
        w.propose("alice", fork)  # not a steward of the fork
    pid = w.propose("bob", fork)
    with pytest.raises(Conflict):
        w.propose("bob", fork)  # one open proposal per fork
    with inst.session() as s:
        with pytest.raises(Forbidden):
            proposals.decline(s, w.user(s, "bob"), pid, reason="no")  # proposer ≠ reviewer
        with pytest.raises(Forbidden):
            proposals.withdraw(s, w.user(s, "alice"), pid)  # only the proposer withdraws
        with pytest.raises(Unauthorized):
            proposals.comment(s, None, pid, body="hi")
        with pytest.raises(ValidationError):
            proposals.decline(s, w.user(s, "alice"), pid, reason="  ")
        proposals.comment(s, w.user(s, "alice"), pid, body="Why this change?")
        proposals.comment(s, w.user(s, "bob"), pid, body="It worked for us.")
        proposals.decline(s, w.user(s, "alice"), pid, reason="Too specific to one place.")
    p = w.proposal(pid)
    assert p["status"] == "declined"
    assert p["events"] == ["opened", "comment", "comment", "declined"]
    with pytest.raises(Conflict):
        w.accept("alice", pid)  # a declined proposal stays declined
    # withdraw a second one
    pid2 = w.propose("bob", fork, title="Second try")
    with inst.session() as s:
        proposals.withdraw(s, w.user(s, "bob"), pid2)
    assert w.proposal(pid2)["status"] == "withdrawn"
    # an admin who proposes cannot accept their own proposal to a practice they do not steward
    fork2 = w.fork("root", up)
    w.edit("root", fork2, "Second paragraph.", "Second paragraph, root.")
    pid3 = w.propose("root", fork2)
    with pytest.raises(Forbidden):
        w.accept("root", pid3)
    assert w.accept("alice", pid3)[0] == "accepted"


# ---- the ledger, and rebuilding from git --------------------------------------------------------

def scenario(w):
    """Two forks of one practice and one of another; one improvement given back, one proposal
    open, one declined, one fork with improvements nobody proposed yet."""
    up = w.create("alice", "Eco lunch")
    other = w.create("alice", "Radical transparency")
    f1 = w.fork("bob", up)
    f2 = w.fork("root", up, new_slug="eco-lunch-root")
    f3 = w.fork("bob", other)
    w.edit("bob", f1, "First paragraph.", "First paragraph, f1.")
    w.accept("alice", w.propose("bob", f1))
    w.edit("root", f2, "Second paragraph.", "Second paragraph, f2.")
    open_id = w.propose("root", f2)
    w.edit("bob", f3, "Third paragraph.", "Third paragraph, f3.")
    declined = w.propose("bob", f3)
    with w.inst.session() as s:
        proposals.decline(s, w.user(s, "alice"), declined, reason="Not for us.")
    w.edit("bob", f3, "Fourth paragraph.", "Fourth paragraph, f3.")
    return up, other, f1, f2, f3, open_id


def test_ledger_figures_after_a_scripted_scenario(w, inst):
    up, other, f1, f2, f3, open_id = scenario(w)
    with inst.session() as s:
        data = ledger.as_json(ledger.build(s))
    assert data["totals"] == {"forks": 3, "unreturned": 1, "open": 1, "accepted": 1,
                              "declined": 1, "withdrawn": 0}
    assert [(r["fork"], r["ahead"]) for r in data["unreturned"]] == [(f3, 2)]
    assert [p["id"] for p in data["open"]] == [open_id]
    by_practice = {r["slug"]: r for r in data["by_practice"]}
    assert (by_practice[up]["forks"], by_practice[up]["accepted"], by_practice[up]["open"]) == \
        (2, 1, 1)
    assert (by_practice[other]["forks"], by_practice[other]["declined"],
            by_practice[other]["unreturned"]) == (1, 1, 1)
    by_person = {r["username"]: r for r in data["by_contributor"]}
    assert (by_person["bob"]["forks"], by_person["bob"]["accepted"],
            by_person["bob"]["declined"], by_person["bob"]["unreturned"]) == (2, 1, 1, 1)
    assert (by_person["root"]["forks"], by_person["root"]["open"]) == (1, 1)


def test_reindex_restores_lineage_standing_and_ledger_from_git(w, inst, home):
    up, other, f1, f2, f3, open_id = scenario(w)

    def snapshot():
        with inst.session() as s:
            top = catalog.get_record(s, up)
            return (forks.lineage(s, top),
                    {f: forks.standing(s, catalog.get_record(s, f)) for f in (f1, f2, f3)},
                    {k: v for k, v in ledger.as_json(ledger.build(s)).items()})

    before = snapshot()
    with inst.session() as s:
        for model in (PracticeTag, ChangeRecord, Redirect, PracticeRecord, State):
            s.execute(delete(model))
        s.commit()
        assert forks.resolve_slug(s, f1) is None
    result = run(home, "reindex")  # the real command, in its own process
    assert result.returncode == 0, result.stderr
    after = snapshot()
    assert after[0] == before[0]
    assert after[1] == before[1]
    assert after[2]["totals"] == before[2]["totals"]
    assert after[2]["unreturned"] == before[2]["unreturned"]
    assert after[2]["by_practice"] == before[2]["by_practice"]


def test_stewards_see_what_waits_for_them(w, inst):
    up, other, f1, f2, f3, open_id = scenario(w)
    with inst.session() as s:
        assert [p.id for p in proposals.waiting_for(s, w.user(s, "alice"))] == [open_id]
        assert proposals.waiting_for(s, w.user(s, "bob")) == []
        kinds = [(e.proposal_id, e.kind) for e in proposals.events_for(s, w.user(s, "alice"))]
    assert kinds[0][1] == "declined" and (open_id, "opened") in kinds
    assert {pid for pid, _kind in kinds} == {open_id, open_id + 1, open_id - 1}


# ---- what is refused, and what stays readable ---------------------------------------------------

def test_bad_input_to_proposals_is_a_clear_validation_error(w, inst, app):
    up = w.create("alice", "Check-in round")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "First paragraph.", "First paragraph, bob.")
    with pytest.raises(ValidationError) as info:
        w.propose("bob", fork, title="x" * 201)
    assert str(info.value) == "The title is at most 200 characters."
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert info.value.message == "Le titre fait au plus 200 caractères."
    pid = w.propose("bob", fork)
    with inst.session() as s:
        with pytest.raises(proposals.NotFound):
            proposals.get(s, True)  # a JSON true is not proposal number 1
        for bad in (None, 42, "HEAD~1", "0" * 39):
            with pytest.raises(ValidationError):
                proposals.accept(inst, s, w.user(s, "alice"), pid, fork_revision=bad,
                                 upstream_revision=w.record(up).revision, agree_license=True)
        proposals.withdraw(s, w.user(s, "bob"), pid)
    with inst.session() as s:
        with pytest.raises(Conflict) as info:
            proposals.withdraw(s, w.user(s, "bob"), pid)
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert "retirée" in info.value.message and "withdrawn" not in info.value.message


def test_sync_refuses_a_resolution_it_cannot_place(w, inst):
    up = w.create("alice", "Lean coffee")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "First paragraph.", "First paragraph, bob.")
    with pytest.raises(ValidationError):  # nothing new upstream: no conflict to resolve
        w.sync("bob", fork, resolved_body="anything", upstream_revision=w.record(up).revision)
    w.edit("alice", up, "First paragraph.", "First paragraph, alice.")
    with pytest.raises(ValidationError):  # which upstream revision was it resolved against?
        w.sync("bob", fork, resolved_body="anything")
    assert "bob" in w.body(fork) and w.standing(fork).behind == 1


def test_resolved_accept_brings_the_accepted_text_into_the_fork(w, inst):
    up = w.create("alice", "Fishbowl")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Third paragraph.", "Third paragraph, from the fork.")
    pid = w.propose("bob", fork)
    w.edit("alice", up, "Third paragraph.", "Third paragraph, from upstream.")
    resolved = w.body(up).replace("Third paragraph, from upstream.", "Third paragraph, both.")
    w.accept("alice", pid, resolved_body=resolved)
    # the fork's point moved past the accepted commit, so it must hold the accepted wording:
    # keeping "from the fork" would hide upstream's side of the conflict for good
    assert w.body(fork) == w.body(up) == resolved
    s = w.standing(fork)
    assert (s.ahead, s.behind) == (0, 0)


def test_closed_proposals_read_as_they_were_closed(w, inst):
    up = w.create("alice", "Silent meeting")
    fork = w.fork("bob", up)
    w.edit("bob", fork, "Second paragraph.", "Second paragraph, bob.")
    accepted_id = w.propose("bob", fork)
    _status, accepted = w.accept("alice", accepted_id)
    w.edit("bob", fork, "Fourth paragraph.", "Fourth paragraph, bob.")
    declined_id = w.propose("bob", fork)
    with inst.session() as s:
        proposals.decline(s, w.user(s, "alice"), declined_id, reason="Not now.")
    closed_at = w.record(up).revision
    w.edit("alice", up, "First paragraph.", "First paragraph, later.")  # upstream moves on
    with inst.session() as s:
        first = proposals.review(inst, s, proposals.get(s, accepted_id))
        second = proposals.review(inst, s, proposals.get(s, declined_id))
    # accepted: exactly the change the accepted commit made upstream
    assert "Second paragraph, bob." in first.merged and "bob" not in first.upstream_body
    assert "later" not in first.merged and first.clean
    assert any(row.kind == "add" for hunk in first.rows for row in hunk)
    # declined: the proposal against the upstream text of the moment it was declined
    assert second.upstream_revision == closed_at
    assert "later" not in second.upstream_body and "Fourth paragraph, bob." in second.merged


def test_ledger_counts_a_fork_for_each_of_its_stewards(w, inst):
    up, other, f1, f2, f3, open_id = scenario(w)
    with inst.session() as s:
        editing.add_steward(inst, s, w.user(s, "bob"), f3, "root", agree_license=True)
    with inst.session() as s:
        everyone = ledger.as_json(ledger.build(s))
        roots = ledger.as_json(ledger.build(s, username="root"))
    by_person = {r["username"]: r for r in everyone["by_contributor"]}
    assert (by_person["root"]["forks"], by_person["root"]["unreturned"]) == (2, 1)
    assert (by_person["bob"]["forks"], by_person["bob"]["unreturned"]) == (2, 1)
    assert everyone["totals"]["forks"] == 3  # the fork itself is counted once
    assert roots["totals"]["forks"] == 2 and roots["by_contributor"] == [by_person["root"]]


def test_adding_a_steward_is_not_an_improvement_nor_authorship(w, inst):
    up = w.create("alice", "Buddy system")
    fork = w.fork("bob", up)
    with inst.session() as s:
        editing.add_steward(inst, s, w.user(s, "bob"), fork, "root", agree_license=True)
        editing.add_steward(inst, s, w.user(s, "alice"), up, "root", agree_license=True)
    s = w.standing(fork)
    assert (s.ahead, s.behind) == (0, 0)  # nothing to give back, nothing to pull in
    assert [a["username"] for a in w.record(fork).authors] == ["bob"]
    assert [a["username"] for a in w.record(up).authors] == ["alice"]
    with inst.session() as session:
        kinds = session.scalars(select(ChangeRecord.kind).where(ChangeRecord.slug == fork)
                                .order_by(ChangeRecord.id)).all()
    assert kinds == ["fork", "metadata"]
    message = git(inst, "log", "-1", "--format=%B", w.record(fork).revision)
    assert "Metadata-Only: stewards" in message and "License: CC-BY-SA-4.0" in message
