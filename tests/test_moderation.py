"""Moderation: blocking accounts, reverting an account's changes since a date, removing and
restoring practices — through the real git repository, SQLite, the services and the web and
API faces."""
from __future__ import annotations

import io
import subprocess
import threading
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from commons.errors import AccountBlocked, Conflict, Forbidden, ValidationError
from commons.models import ChangeRecord, Proposal, Removal, State, User
from commons.services import accounts, catalog, editing, moderation, search
from commons.services import practice as doc

from .conftest import login

BODY = "## Why\n\nLine one stays.\n\nLine two stays.\n\nLine three stays.\n"


def git(inst, *args):
    return subprocess.run(["git", "--git-dir", str(inst.store.path), *args],
                          capture_output=True, text=True, check=True).stdout


def create(api, who, title, body=BODY, **extra):
    r = api("post", "/practices", who, json={"title": title, "body": body, "agree_license": True,
                                             **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def edit(api, who, slug, body, base=None):
    if base is None:
        base = api("get", f"/practices/{slug}").get_json()["revision"]
    r = api("put", f"/practices/{slug}", who, json={"base_revision": base, "body": body,
                                                    "agree_license": True})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def body_of(inst, slug):
    found = inst.store.read(doc.path_for(slug))
    return doc.parse(found[0]).body if found else None


def user(session, name):
    return accounts.get_user(session, name)


def block(inst, name, reason="Spam links", by="root"):
    with inst.session() as s:
        moderation.block_account(inst, s, user(s, by), name, reason=reason)


def next_second() -> datetime:
    """Sleep to the next whole second: commits before it have earlier timestamps (git keeps
    whole seconds), commits after it are at or after the returned time."""
    time.sleep(1 - time.time() % 1 + 0.01)
    return datetime.fromtimestamp(int(time.time()), tz=timezone.utc)


# ---- blocking ---

def test_a_blocked_accounts_token_is_refused_on_every_kind_of_api_write(api, inst, users):
    mine = create(api, "alice", "Alice practice")["slug"]
    theirs = create(api, "bob", "Bob practice")["slug"]
    fork = api("post", f"/practices/{theirs}/forks", "alice", json={"agree_license": True})
    assert fork.status_code == 201
    fork_slug = fork.get_json()["slug"]
    edit(api, "alice", fork_slug, BODY + "\nBetter.\n")
    proposal = api("post", f"/practices/{fork_slug}/proposals", "alice", json={"title": "Take"})
    assert proposal.status_code == 201
    pid = proposal.get_json()["id"]
    revision = api("get", f"/practices/{mine}").get_json()["revision"]
    block(inst, "alice", reason="Posting spam links")
    head = inst.store.head()

    writes = [
        ("post", "/practices", {"title": "More spam", "agree_license": True}),
        ("put", f"/practices/{mine}", {"base_revision": revision, "body": "x",
                                       "agree_license": True}),
        ("post", f"/practices/{mine}/revert", {"revision": revision, "agree_license": True}),
        ("post", f"/practices/{mine}/rename", {"slug": "elsewhere", "agree_license": True}),
        ("post", f"/practices/{mine}/stewards", {"username": "bob", "agree_license": True}),
        ("post", f"/practices/{mine}/attribution/removals", {"name": "Alice",
                                                             "agree_license": True}),
        ("post", f"/practices/{theirs}/forks", {"agree_license": True}),
        ("post", f"/practices/{fork_slug}/sync", {"agree_license": True}),
        ("post", f"/practices/{fork_slug}/proposals", {"title": "Again"}),
        ("post", f"/proposals/{pid}/comments", {"body": "hello"}),
        ("post", f"/proposals/{pid}/withdraw", {}),
        ("post", f"/practices/{mine}/remove", {"reason": "mine"}),
        ("get", "/practices", None),  # its tokens stop working altogether
    ]
    for method, path, payload in writes:
        r = api(method, path, "alice", **({"json": payload} if payload is not None else {}))
        assert r.status_code == 403, (path, r.status_code, r.get_json())
        error = r.get_json()["error"]
        assert error["code"] == "blocked", path
        assert "blocked" in error["message"] and "Posting spam links" in error["message"]
    r = api("post", "/import", "alice", data={"agree_license": "true",
                                              "file": (io.BytesIO(b"# x"), "x.md")})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"
    assert inst.store.head() == head
    with inst.session() as s:
        assert s.get(Proposal, pid).status == "open"
        with pytest.raises(AccountBlocked):
            accounts.create_token(s, user(s, "alice"))
    # others are unaffected; unblocking gives the same token its rights back
    assert api("get", "/practices", "bob").status_code == 200
    with inst.session() as s:
        moderation.unblock_account(inst, s, user(s, "root"), "alice")
    assert api("get", "/practices", "alice").status_code == 200
    create(api, "alice", "Back again")


def test_a_blocked_person_can_sign_in_and_read_but_not_write_and_learns_why(client, inst,
                                                                            users, api):
    slug = create(api, "alice", "Her practice")["slug"]
    block(inst, "alice", reason="Vandalism of three practices")
    r = login(client, "alice")
    assert r.status_code == 302
    home = client.get("/")
    assert home.status_code == 200 and "Vandalism of three practices" in home.get_data(True)
    assert client.get(f"/p/{slug}").status_code == 200
    head = inst.store.head()
    r = client.post("/new", data={"title": "Spam", "body": "spam", "language": "en",
                                  "agree_license": "y"})
    assert r.status_code == 403 and "Vandalism of three practices" in r.get_data(True)
    r = client.get(f"/p/{slug}/edit")
    assert r.status_code == 403 and "blocked" in r.get_data(True)
    r = client.post("/account", data={"action": "profile", "profile-display_name": "Spam Inc"})
    assert r.status_code == 403 and "Vandalism of three practices" in r.get_data(True)
    assert client.post("/preview", data={"body": "**spam**"}).status_code == 403
    assert inst.store.head() == head
    with inst.session() as s:
        assert user(s, "alice").display_name == "Alice"


def test_who_may_block_whom(inst, users, api, client):
    with inst.session() as s:
        with pytest.raises(Forbidden):
            moderation.block_account(inst, s, user(s, "bob"), "alice", reason="no")
        with pytest.raises(Forbidden):
            moderation.block_account(inst, s, user(s, "root"), "root", reason="oops")
        accounts.create_user(s, "second", "correct horse battery", role="admin")
        s.commit()
        with pytest.raises(Conflict):
            moderation.block_account(inst, s, user(s, "root"), "second", reason="hijacked")
        assert not user(s, "second").is_blocked
        moderation.block_account(inst, s, user(s, "root"), "second", reason="hijacked",
                                 include_admin=True)
        assert user(s, "second").is_blocked
        for bad in ("", " ", "two\nlines", "nul\x00", "x" * 501, None, 5):
            with pytest.raises(ValidationError):
                moderation.block_account(inst, s, user(s, "root"), "alice", reason=bad)
        assert not user(s, "alice").is_blocked
    # API: a contributor gets 403, the admin 200 with the state
    r = api("post", "/users/alice/block", "bob", json={"reason": "no"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert api("post", "/users/alice/block", None, json={"reason": "no"}).status_code == 401
    assert api("post", "/users/nobody/block", "root", json={"reason": "x"}).status_code == 404
    assert api("post", "/users/alice/block", "root", json={"reason": ""}).status_code == 422
    r = api("post", "/users/alice/block", "root", json={"reason": "Spam"})
    assert r.status_code == 200
    assert r.get_json()["blocked"] and r.get_json()["blocked_by"] == "root"
    r = api("post", "/users/alice/unblock", "root", json={})
    assert r.status_code == 200 and not r.get_json()["blocked"]


def test_a_block_landing_while_a_write_waits_for_the_lock_stops_it(inst, users):
    """The permission check passes, the write waits for the lock, the block lands: the write
    is refused under the lock and nothing is committed."""
    head = inst.store.head()
    holding, release, outcome = threading.Event(), threading.Event(), {}

    def hold_lock():
        with inst.store.lock():
            holding.set()
            release.wait(10)

    def write():
        with inst.session() as s:
            try:
                editing.create_practice(inst, s, user(s, "alice"), title="Raced",
                                        agree_license=True)
                outcome["result"] = "saved"
            except Exception as exc:  # noqa: BLE001 - the test reports what happened
                outcome["result"] = exc

    holder = threading.Thread(target=hold_lock)
    holder.start()
    holding.wait(5)
    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.3)  # the writer has checked its permission and waits for the lock
    with inst.session() as s:  # an admin's block, straight into the database
        alice = user(s, "alice")
        alice.blocked_at, alice.blocked_reason = datetime.now(timezone.utc), "Raced spam"
        s.commit()
    release.set()
    holder.join(5)
    writer.join(15)
    assert isinstance(outcome["result"], AccountBlocked), outcome
    assert "Raced spam" in str(outcome["result"])
    assert inst.store.head() == head


def test_the_contributor_page_shows_the_block_only_to_admins(client, inst, users):
    block(inst, "alice", reason="Secret reason")
    assert "blocked" not in client.get("/u/alice").get_data(True).lower()
    login(client, "bob")
    assert "blocked" not in client.get("/u/alice").get_data(True).lower()
    client.post("/logout")
    login(client, "root")
    page = client.get("/u/alice").get_data(True)
    assert "blocked" in page and "/admin/accounts/alice" in page
    admin_page = client.get("/admin/accounts/alice")
    assert admin_page.status_code == 200 and "Secret reason" in admin_page.get_data(True)


def test_the_admin_pages_block_and_unblock_through_forms(client, inst, users):
    login(client, "bob")
    assert client.get("/admin/accounts/alice").status_code == 403
    r = client.post("/admin/accounts/alice/block", data={"reason": "by bob"})
    assert r.status_code == 403
    client.post("/logout")
    login(client, "root")
    r = client.post("/admin/accounts/alice/block", data={"reason": "Posting spam"})
    assert r.status_code == 302
    with inst.session() as s:
        alice = user(s, "alice")
        assert alice.is_blocked and alice.blocked_reason == "Posting spam"
        assert alice.blocked_by == "root"
    assert client.post("/admin/accounts/alice/block", data={}).status_code == 422
    assert client.post("/admin/accounts/root/block",
                       data={"reason": "me"}).status_code == 403
    client.post("/admin/accounts/alice/unblock", data={})
    with inst.session() as s:
        assert not user(s, "alice").is_blocked


# ---- reverting an account's changes since a date ---

def test_revert_since_undoes_the_accounts_changes_and_keeps_later_ones(api, inst, users, client):
    shared = create(api, "bob", "Shared practice")["slug"]
    clash = create(api, "bob", "Clashing practice")["slug"]
    for slug in (shared, clash):
        assert api("post", f"/practices/{slug}/stewards", "bob",
                   json={"username": "alice", "agree_license": True}).status_code == 200
    upstream = create(api, "bob", "Upstream")["slug"]
    since = next_second()

    # alice vandalises; bob keeps working after her on the same practices
    edit(api, "alice", shared, BODY.replace("Line one stays.", "BUY PILLS"))
    edit(api, "bob", shared, body_of(inst, shared).replace("Line three stays.", "Bob's line."))
    edit(api, "alice", clash, BODY.replace("Line two stays.", "SPAM"))
    edit(api, "bob", clash, body_of(inst, clash).replace("SPAM", "Bob rewrote it."))
    spam = create(api, "alice", "Spam practice")["slug"]
    fork = api("post", f"/practices/{upstream}/forks", "alice",
               json={"agree_license": True}).get_json()["slug"]
    edit(api, "alice", fork, BODY + "\nSPAM\n")
    pid = api("post", f"/practices/{fork}/proposals", "alice",
              json={"title": "Spam"}).get_json()["id"]
    head = inst.store.head()

    with inst.session() as s:
        with pytest.raises(Forbidden):
            moderation.revert_since(inst, s, user(s, "bob"), "alice", since=since,
                                    reason="Spam", agree_license=True)
    assert inst.store.head() == head
    r = api("post", "/users/alice/revert", "root",
            json={"since": since.isoformat(), "reason": "Spam campaign", "agree_license": True})
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    assert report["reverted"] == [shared]
    assert sorted(report["removed"]) == sorted([spam, fork])
    assert report["manual_review"] == [
        {"slug": clash, "reason": moderation.CONFLICTS}]
    assert report["declined_proposals"] == [pid]

    # one new commit on top, history kept
    assert git(inst, "rev-parse", "main^").strip() == head
    message = git(inst, "log", "-1", "--format=%B")
    assert f"Moderation: revert alice since {since.isoformat()}" in message
    assert "Removed-Because: Spam campaign" in message and "License: CC-BY-SA-4.0" in message
    assert "Root" in git(inst, "log", "-1", "--format=%an")
    text = body_of(inst, shared)
    assert "BUY PILLS" not in text and "Line one stays." in text and "Bob's line." in text
    assert body_of(inst, clash) == BODY.replace("Line two stays.", "Bob rewrote it.")
    assert body_of(inst, spam) is None and body_of(inst, fork) is None
    with inst.session() as s:
        proposal = s.get(Proposal, pid)
        assert proposal.status == "declined" and proposal.decline_reason == "Spam campaign"
        # the moderator is not credited as an author of what they restored
        assert "root" not in [a.get("username") for a in
                              catalog.get_record(s, shared).authors]
        assert catalog.check(s, inst.store, inst.license, inst.licenses) == []
    assert client.get(f"/p/{spam}").status_code == 410
    # again: nothing left to undo, nothing committed
    head = inst.store.head()
    r = api("post", "/users/alice/revert", "root",
            json={"since": since.isoformat(), "reason": "Again", "agree_license": True})
    assert r.status_code == 200 and r.get_json()["revision"] is None
    assert inst.store.head() == head


def test_revert_since_validates_before_doing_anything(api, inst, users):
    head = inst.store.head()
    for payload, status in (({"since": "yesterday", "reason": "x"}, 422),
                            ({"since": "2026-01-01", "reason": ""}, 422),
                            ({"since": "2026-01-01", "reason": "x", "agree_license": False}, 422),
                            ({"since": "2026-01-01", "reason": "a\nb"}, 422)):
        r = api("post", "/users/alice/revert", "root", json={"agree_license": True, **payload})
        assert r.status_code == status, payload
    assert api("post", "/users/alice/revert", "alice",
               json={"since": "2026-01-01", "reason": "x",
                     "agree_license": True}).status_code == 403
    assert inst.store.head() == head


def test_the_admin_page_reverts_since_a_date_and_shows_the_report(client, api, inst, users):
    since = next_second()
    spam = create(api, "alice", "Spam by form")["slug"]
    login(client, "root")
    r = client.post("/admin/accounts/alice/revert",
                    data={"since": since.date().isoformat(), "reason": "Spam",
                          "agree_license": "y"})
    assert r.status_code == 200
    assert spam in r.get_data(True)
    assert body_of(inst, spam) is None


# ---- removing and restoring practices ---

def test_removed_practice_answers_410_and_keeps_history_attribution_and_forks(api, client, inst,
                                                                             users):
    slug = create(api, "alice", "Zanzibar quokka ritual",
                  body="## Why\n\nThe zanzibarquokka word.\n")["slug"]
    first = api("get", f"/practices/{slug}").get_json()["revision"]
    fork = api("post", f"/practices/{slug}/forks", "bob", json={"agree_license": True})
    fork_slug = fork.get_json()["slug"]
    assert api("get", "/search?q=zanzibarquokka").get_json()["total"] >= 1

    login(client, "alice")
    assert "Remove this practice" in client.get(f"/p/{slug}").get_data(True)
    r = client.post(f"/p/{slug}/remove", data={"reason": "Copied from a book without leave"})
    assert r.status_code == 302
    message = git(inst, "log", "-1", "--format=%B")
    assert "Removed-Because: Copied from a book without leave" in message
    assert f"practices/{slug}.md" in git(inst, "show", "--stat", "--format=", "main")
    assert inst.store.read(doc.path_for(slug)) is None

    client.post("/logout")
    page = client.get(f"/p/{slug}")
    assert page.status_code == 410
    text = page.get_data(True)
    assert "Copied from a book without leave" in text and "Alice" in text
    assert f"/p/{slug}/history" in text and f"/p/{slug}/attribution" in text
    assert "Zanzibar quokka ritual" in text  # the last version's attribution
    assert client.get(f"/p/{slug}/history").status_code == 200
    at = client.get(f"/p/{slug}/at/{first}")
    assert at.status_code == 200 and "zanzibarquokka" in at.get_data(True)
    attr = client.get(f"/p/{slug}/attribution")
    assert attr.status_code == 200 and "Alice" in attr.get_data(True)
    assert client.get(f"/p/{slug}/edit").status_code in (302, 410)
    r = api("get", f"/practices/{slug}")
    assert r.status_code == 410
    assert r.get_json()["error"]["code"] == "gone"
    assert r.get_json()["removal"]["reason"] == "Copied from a book without leave"
    assert r.get_json()["removal"]["removed_by"]["username"] == "alice"
    assert api("get", f"/practices/{slug}/history").status_code == 200
    assert api("get", f"/practices/{slug}/attribution").status_code == 200
    assert api("get", "/search?q=zanzibarquokka").get_json()["total"] == 1  # the fork only
    hits = api("get", "/search?q=zanzibarquokka").get_json()["results"]
    assert [h["slug"] for h in hits] == [fork_slug]

    # the fork keeps working and says where it came from
    fork_page = client.get(f"/p/{fork_slug}")
    assert fork_page.status_code == 200 and "removed from the commons" in fork_page.get_data(True)
    lineage = api("get", f"/practices/{fork_slug}/lineage").get_json()
    assert lineage["ancestors"][0]["slug"] == slug and lineage["ancestors"][0]["removed"]
    assert api("get", f"/practices/{fork_slug}/attribution").status_code == 200
    assert api("get", f"/practices/{fork_slug}/compare").status_code == 404
    assert client.get(f"/p/{fork_slug}/family").status_code == 200

    # the address stays reserved
    r = api("post", "/practices", "bob", json={"title": "Taker", "slug": slug,
                                               "agree_license": True})
    assert r.status_code == 409
    r = api("post", f"/practices/{fork_slug}/rename", "bob",
            json={"slug": slug, "agree_license": True})
    assert r.status_code == 409
    with inst.session() as s:
        assert catalog.check(s, inst.store, inst.license, inst.licenses) == []
        assert search.check(inst, s) == []


def test_who_may_remove_a_practice(api, inst, users):
    alices = create(api, "alice", "Alice's own")["slug"]
    bobs = create(api, "bob", "Bob's own")["slug"]
    head = inst.store.head()
    r = api("post", f"/practices/{bobs}/remove", "alice", json={"reason": "I dislike it"})
    assert r.status_code == 403
    assert api("post", f"/practices/{bobs}/remove", None, json={"reason": "x"}).status_code == 401
    for bad in ("", "a\nb", "x" * 501, "nul\x00"):
        r = api("post", f"/practices/{alices}/remove", "alice", json={"reason": bad})
        assert r.status_code == 422, bad
    assert api("post", "/practices/nothing-here/remove", "root",
               json={"reason": "x"}).status_code == 404
    assert inst.store.head() == head
    r = api("post", f"/practices/{alices}/remove", "alice", json={"reason": "Outdated"})
    assert r.status_code == 200 and r.get_json()["reason"] == "Outdated"
    r = api("post", f"/practices/{bobs}/remove", "root", json={"reason": "Off-topic"})
    assert r.status_code == 200 and r.get_json()["removed_by"]["username"] == "root"
    head = inst.store.head()
    assert api("post", f"/practices/{bobs}/remove", "root",
               json={"reason": "Again"}).status_code == 410
    assert inst.store.head() == head


def test_remove_declines_open_proposals_to_the_practice(api, inst, users):
    up = create(api, "bob", "Upstream to remove")["slug"]
    fork = api("post", f"/practices/{up}/forks", "alice",
               json={"agree_license": True}).get_json()["slug"]
    edit(api, "alice", fork, BODY + "\nMore.\n")
    pid = api("post", f"/practices/{fork}/proposals", "alice",
              json={"title": "Improve"}).get_json()["id"]
    assert api("post", f"/practices/{up}/remove", "bob",
               json={"reason": "Merged elsewhere"}).status_code == 200
    r = api("get", f"/proposals/{pid}")
    assert r.status_code == 200
    assert r.get_json()["status"] == "declined"
    assert r.get_json()["decline_reason"] == "Merged elsewhere"


def test_restore_brings_the_practice_back_with_its_authors(api, client, inst, users):
    slug = create(api, "alice", "Worth keeping")["slug"]
    edit(api, "alice", slug, BODY + "\nSecond thought.\n")
    assert api("post", f"/practices/{slug}/remove", "alice",
               json={"reason": "Mistake"}).status_code == 200
    head = inst.store.head()
    assert api("post", f"/practices/{slug}/restore", "alice",
               json={"agree_license": True}).status_code == 403
    assert api("post", f"/practices/{slug}/restore", "root", json={}).status_code == 422
    assert inst.store.head() == head
    r = api("post", f"/practices/{slug}/restore", "root", json={"agree_license": True})
    assert r.status_code == 200, r.get_json()
    data = r.get_json()
    assert "Second thought." in data["body"]
    assert data["authors"] == [{"username": "alice", "name": "Alice"}]
    assert "Restores: " in git(inst, "log", "-1", "--format=%B")
    assert client.get(f"/p/{slug}").status_code == 200
    kinds = [c["kind"] for c in api("get", f"/practices/{slug}/history").get_json()["history"]]
    assert kinds[:2] == ["restore", "delete"]
    with inst.session() as s:
        assert s.get(Removal, slug) is None
        assert catalog.check(s, inst.store, inst.license, inst.licenses) == []
    assert api("post", f"/practices/{slug}/restore", "root",
               json={"agree_license": True}).status_code == 404


def test_the_removal_is_rebuilt_from_git(api, client, inst, users):
    slug = create(api, "alice", "Rebuilt removal")["slug"]
    api("post", f"/practices/{slug}/remove", "alice", json={"reason": "Rebuilt reason"})
    with inst.session() as s:
        for row in s.scalars(select(Removal)):
            s.delete(row)
        s.query(State).delete()
        s.commit()
        assert s.get(Removal, slug) is None
        catalog.rebuild(s, inst.store)
        s.commit()
        removal = s.get(Removal, slug)
        assert removal.reason == "Rebuilt reason" and removal.removed_by_username == "alice"
        assert removal.record["title"] == "Rebuilt removal"
        assert s.scalar(select(ChangeRecord.kind).where(ChangeRecord.slug == slug)
                        .order_by(ChangeRecord.id.desc()).limit(1)) == "delete"
    page = client.get(f"/p/{slug}")
    assert page.status_code == 410 and "Rebuilt reason" in page.get_data(True)


def test_a_steward_removes_through_the_page_but_not_anothers_practice(client, api, inst, users):
    bobs = create(api, "bob", "Not yours")["slug"]
    login(client, "alice")
    assert "Remove this practice" not in client.get(f"/p/{bobs}").get_data(True)
    head = inst.store.head()
    assert client.post(f"/p/{bobs}/remove", data={"reason": "mine now"}).status_code == 403
    client.post("/logout")
    assert client.post(f"/p/{bobs}/remove", data={"reason": "x"}).status_code == 302  # sign in
    assert inst.store.head() == head
    login(client, "bob")
    assert client.post(f"/p/{bobs}/remove", data={"reason": ""}).status_code == 422
    assert inst.store.head() == head


def test_user_model_block_fields_default_to_unblocked(inst, users):
    with inst.session() as s:
        u = s.scalar(select(User).where(User.username == "alice"))
        assert not u.is_blocked and u.blocked_reason is None
