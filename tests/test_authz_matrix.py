"""Who may write where: every write route of the web and the API × six kinds of people.

The routes come from Flask's URL map: a new POST/PUT/PATCH/DELETE route without a row in
``ROUTES`` fails ``test_every_write_route_has_a_row``. Each row says who may call the route; the
matrix then calls it as each of

- ``anonymous``: nobody signed in, no token;
- ``contributor``: alice, who owns the forks and the proposal the row acts on;
- ``other``: bob, another contributor, who owns nothing here;
- ``steward``: sam, steward of the upstream practice;
- ``admin``: root;
- ``blocked``: mallory, blocked by an admin — yet a steward of the upstream practice and of
  alice's fork, so only the block can be what stops her.

A refusal must be a 401/403 (or the sign-in page) and leave git and every database row as they
were. The first allowed person must succeed and change something (so the row's request is a
real one, and a refusal is never a bad request passing for one); each allowed person is tried on
a fresh copy of the same world.
"""
from __future__ import annotations

import hashlib
import io
import shutil
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from sqlalchemy import select

from commons.models import Base
from commons.services import accounts, editing, moderation

from .conftest import PASSWORD, make_app
from .test_forks import World

ROLES = ("anonymous", "contributor", "other", "steward", "admin", "blocked")
PEOPLE = {"contributor": "alice", "other": "bob", "steward": "sam", "admin": "root",
          "blocked": "mallory"}
SIGNED_IN = {"contributor", "other", "steward", "admin"}
# Volatile columns a refused request may legitimately touch: the token's last use.
IGNORED_COLUMNS = {("api_tokens", "last_used_at")}

IMPORTED = ("---\ntitle: Imported round\nlicense: CC-BY-SA-4.0\nsource:\n"
            "  url: https://example.org/round\n  license: CC-BY-SA-4.0\n"
            "  authors: [Example Team]\n---\n\n## Steps\n\nSpeak in turn.\n")


@dataclass
class Route:
    """How to call one write route, and who may."""
    method: str
    rule: str
    allowed: set[str]
    url: Callable[[dict], str]
    data: Callable[[dict], Any] = lambda w: {}
    api: bool = False
    changes: bool = True  # the first allowed call must change git or the database
    upload: Callable[[dict], dict] | None = None
    headers: dict = field(default_factory=dict)
    notes: str = ""


def form(**fields):
    return lambda w: {k: (v(w) if callable(v) else v) for k, v in fields.items()}


def js(**fields):
    return form(**fields)


EVERYONE = set(ROLES)
WRITERS = SIGNED_IN  # any contributor in good standing
P_EDITORS = {"steward", "admin"}
F_EDITORS = {"contributor", "admin"}  # alice's fork; mallory co-stewards it but is blocked

ROUTES: list[Route] = [
    # ---- accounts and sessions
    Route("POST", "/login", EVERYONE, lambda w: "/login", changes=False,
          data=lambda w: {"username": "bob", "password": PASSWORD},
          notes="public; a blocked person may sign in to read and learn why"),
    Route("POST", "/register", EVERYONE, lambda w: "/register",
          data=form(username="newcomer", password=PASSWORD, display_name="Newcomer")),
    Route("POST", "/logout", EVERYONE, lambda w: "/logout", changes=False),
    Route("POST", "/account", WRITERS, lambda w: "/account",
          data=form(action="profile", **{"profile-display_name": "A new name"})),
    Route("POST", "/preview", WRITERS, lambda w: "/preview", changes=False,
          data=form(body="**bold**")),
    # ---- practices (web)
    Route("POST", "/new", WRITERS, lambda w: "/new",
          data=form(title="A brand new ritual", body="## Steps\n\nMeet.\n", language="en",
                    agree_license="y")),
    Route("POST", "/p/<slug>/edit", P_EDITORS, lambda w: f"/p/{w['p']}/edit",
          data=form(title="Upstream ritual", body="## Steps\n\nEdited on the web.\n",
                    language="en", base_revision=lambda w: w["p_rev"], agree_license="y")),
    Route("POST", "/p/<slug>/rename", P_EDITORS, lambda w: f"/p/{w['p']}/rename",
          data=form(new_slug="renamed-ritual", agree_license="y")),
    Route("POST", "/p/<slug>/stewards", P_EDITORS, lambda w: f"/p/{w['p']}/stewards",
          data=form(username="bob", agree_license="y")),
    Route("POST", "/p/<slug>/revert", P_EDITORS, lambda w: f"/p/{w['p']}/revert",
          data=form(revision=lambda w: w["p_first"], agree_license="y")),
    Route("POST", "/import", WRITERS, lambda w: "/import",
          upload=lambda w: {"files": (io.BytesIO(IMPORTED.encode()), "round.md"),
                            "agree_license": "y"}),
    # ---- take, improve, give back (web)
    Route("POST", "/p/<slug>/fork", WRITERS, lambda w: f"/p/{w['p']}/fork",
          data=form(agree_license="y")),
    Route("POST", "/p/<slug>/sync", F_EDITORS, lambda w: f"/p/{w['f']}/sync",
          data=form(agree_license="y")),
    Route("POST", "/p/<slug>/propose", F_EDITORS, lambda w: f"/p/{w['g']}/propose",
          data=form(title="Shorter rounds", message="Tried twice.")),
    Route("POST", "/proposals/<int:proposal_id>/comment", WRITERS,
          lambda w: f"/proposals/{w['x']}/comment", data=form(body="Looks good.")),
    Route("POST", "/proposals/<int:proposal_id>/accept", P_EDITORS,
          lambda w: f"/proposals/{w['x']}/accept",
          data=form(fork_revision=lambda w: w["x_fork"], upstream_revision=lambda w: w["x_up"],
                    agree_license="y")),
    Route("POST", "/proposals/<int:proposal_id>/decline", P_EDITORS,
          lambda w: f"/proposals/{w['x']}/decline", data=form(reason="Not for us.")),
    Route("POST", "/proposals/<int:proposal_id>/withdraw", {"contributor"},
          lambda w: f"/proposals/{w['x']}/withdraw", notes="the proposer only"),
    # ---- git over HTTP: fetches are public reads, pushes are refused to everyone
    Route("POST", "/commons.git/git-upload-pack", EVERYONE,
          lambda w: "/commons.git/git-upload-pack", changes=False, data=lambda w: b"0000",
          headers={"Content-Type": "application/x-git-upload-pack-request"}),
    Route("POST", "/commons.git/git-receive-pack", set(),
          lambda w: "/commons.git/git-receive-pack", changes=False, data=lambda w: b"0000",
          headers={"Content-Type": "application/x-git-receive-pack-request"}),
    # ---- moderation (web)
    Route("POST", "/admin/accounts/<username>/block", {"admin"},
          lambda w: "/admin/accounts/victim/block", data=form(reason="Spam")),
    Route("POST", "/admin/accounts/<username>/unblock", {"admin"},
          lambda w: "/admin/accounts/mallory/unblock",
          notes="mallory, blocked, may not unblock herself"),
    Route("POST", "/admin/accounts/<username>/revert", {"admin"},
          lambda w: "/admin/accounts/victim/revert",
          data=form(since=lambda w: w["since"], reason="Spam", agree_license="y")),
    Route("POST", "/p/<slug>/remove", P_EDITORS, lambda w: f"/p/{w['p']}/remove",
          data=form(reason="Duplicate of another practice")),
    Route("POST", "/p/<slug>/restore", {"admin"}, lambda w: f"/p/{w['r']}/restore",
          data=form(agree_license="y")),
    # ---- API
    Route("POST", "/api/v1/practices", WRITERS, lambda w: "/api/v1/practices", api=True,
          data=js(title="An API ritual", body="## Steps\n\nMeet.\n", agree_license=True)),
    Route("PUT", "/api/v1/practices/<slug>", P_EDITORS, lambda w: f"/api/v1/practices/{w['p']}",
          api=True, data=js(body="## Steps\n\nEdited by API.\n",
                            base_revision=lambda w: w["p_rev"], agree_license=True)),
    Route("POST", "/api/v1/practices/<slug>/revert", P_EDITORS,
          lambda w: f"/api/v1/practices/{w['p']}/revert", api=True,
          data=js(revision=lambda w: w["p_first"], agree_license=True)),
    Route("POST", "/api/v1/practices/<slug>/rename", P_EDITORS,
          lambda w: f"/api/v1/practices/{w['p']}/rename", api=True,
          data=js(slug="renamed-by-api", agree_license=True)),
    Route("POST", "/api/v1/practices/<slug>/stewards", P_EDITORS,
          lambda w: f"/api/v1/practices/{w['p']}/stewards", api=True,
          data=js(username="bob", agree_license=True)),
    Route("POST", "/api/v1/practices/<slug>/attribution/removals",
          F_EDITORS | {"steward"}, lambda w: f"/api/v1/practices/{w['f']}/attribution/removals",
          api=True, data=js(name="sam", agree_license=True),
          notes="the fork's stewards, an admin, or the person named (sam)"),
    Route("POST", "/api/v1/import", WRITERS, lambda w: "/api/v1/import", api=True,
          upload=lambda w: {"file": (io.BytesIO(IMPORTED.encode()), "round.md"),
                            "agree_license": "true"}),
    Route("POST", "/api/v1/practices/<slug>/forks", WRITERS,
          lambda w: f"/api/v1/practices/{w['p']}/forks", api=True,
          data=js(agree_license=True)),
    Route("POST", "/api/v1/practices/<slug>/sync", F_EDITORS,
          lambda w: f"/api/v1/practices/{w['f']}/sync", api=True, data=js(agree_license=True)),
    Route("POST", "/api/v1/practices/<slug>/proposals", F_EDITORS,
          lambda w: f"/api/v1/practices/{w['g']}/proposals", api=True,
          data=js(title="Shorter rounds", message="Tried twice.")),
    Route("POST", "/api/v1/proposals/<int:proposal_id>/comments", WRITERS,
          lambda w: f"/api/v1/proposals/{w['x']}/comments", api=True,
          data=js(body="Looks good.")),
    Route("POST", "/api/v1/proposals/<int:proposal_id>/accept", P_EDITORS,
          lambda w: f"/api/v1/proposals/{w['x']}/accept", api=True,
          data=js(fork_revision=lambda w: w["x_fork"], upstream_revision=lambda w: w["x_up"],
                  agree_license=True)),
    Route("POST", "/api/v1/proposals/<int:proposal_id>/decline", P_EDITORS,
          lambda w: f"/api/v1/proposals/{w['x']}/decline", api=True,
          data=js(reason="Not for us.")),
    Route("POST", "/api/v1/proposals/<int:proposal_id>/withdraw", {"contributor"},
          lambda w: f"/api/v1/proposals/{w['x']}/withdraw", api=True),
    Route("POST", "/api/v1/users/<username>/block", {"admin"},
          lambda w: "/api/v1/users/victim/block", api=True, data=js(reason="Spam")),
    Route("POST", "/api/v1/users/<username>/unblock", {"admin"},
          lambda w: "/api/v1/users/mallory/unblock", api=True),
    Route("POST", "/api/v1/users/<username>/revert", {"admin"},
          lambda w: "/api/v1/users/victim/revert", api=True,
          data=js(since=lambda w: w["since"], reason="Spam", agree_license=True)),
    Route("POST", "/api/v1/practices/<slug>/remove", P_EDITORS,
          lambda w: f"/api/v1/practices/{w['p']}/remove", api=True,
          data=js(reason="Duplicate of another practice")),
    Route("POST", "/api/v1/practices/<slug>/restore", {"admin"},
          lambda w: f"/api/v1/practices/{w['r']}/restore", api=True,
          data=js(agree_license=True)),
]


# ---- the world -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(seeded_home, tmp_path_factory) -> tuple[Path, dict]:
    """Built once, copied for every call: an upstream practice P (stewards sam and mallory),
    alice's fork F (behind P, with an open proposal X) and her fork G (ahead, no proposal), a
    removed practice R, and victim, who wrote a practice today."""
    home = tmp_path_factory.mktemp("authz") / "instance"
    shutil.copytree(seeded_home, home)
    app = make_app(home)
    inst = app.extensions["commons"]
    w: dict[str, Any] = {"tokens": {}}
    with inst.session() as s:
        for role, name in PEOPLE.items():
            user = accounts.create_user(s, name, PASSWORD, display_name=name.title(),
                                        role="admin" if role == "admin" else "contributor")
            w["tokens"][role] = accounts.create_token(s, user, "matrix")
    with inst.session() as s:
        accounts.create_user(s, "victim", PASSWORD, display_name="Victim")
    w["since"] = datetime.now(timezone.utc).date().isoformat()
    people = World(inst)
    people.create("victim", "A practice to be reverted")
    w["r"] = people.create("sam", "A practice removed by mistake")
    with inst.session() as s:
        moderation.remove_practice(inst, s, people.user(s, "root"), w["r"], reason="Oops")
    w["p"] = people.create("sam", "Upstream ritual",
                           "## Steps\n\nSpeak in turn.\n\nListen fully.\n\nClose on time.\n")
    w["p_first"] = people.record(w["p"]).revision
    with inst.session() as s:
        editing.add_steward(inst, s, people.user(s, "sam"), w["p"], "mallory",
                            agree_license=True)
    w["f"] = people.fork("alice", w["p"])
    w["g"] = people.fork("alice", w["p"], title="Alice's other ritual")
    with inst.session() as s:
        editing.add_steward(inst, s, people.user(s, "alice"), w["f"], "mallory",
                            agree_license=True)
    people.edit("alice", w["f"], "Listen fully.", "Listen fully, then wait a breath.")
    people.edit("alice", w["g"], "Close on time.", "Close five minutes early.")
    w["x"] = people.propose("alice", w["f"])
    people.edit("sam", w["p"], "Speak in turn.", "Speak in turn, with a talking piece.")
    w["p_rev"] = people.record(w["p"]).revision
    w["x_fork"], w["x_up"], clean, _merged = people.review(w["x"])
    assert clean
    with inst.session() as s:
        moderation.block_account(inst, s, people.user(s, "root"), "mallory",
                                 reason="Spam in comments")
    inst.engine.dispose()
    return home, w


def fingerprint(inst) -> str:
    """Git's head and every database row: what a refused request must leave as it was."""
    digest = hashlib.sha256(str(inst.store.head()).encode())
    with inst.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in IGNORED_COLUMNS]
            for row in conn.execute(select(*columns).order_by(*table.primary_key.columns)):
                digest.update(repr((table.name, tuple(row))).encode())
    return digest.hexdigest()


@dataclass
class Caller:
    app: Any
    inst: Any
    w: dict
    role: str
    client: Any = field(init=False)

    def __post_init__(self):
        self.client = self.app.test_client()
        if self.role != "anonymous":
            with self.inst.session() as s:
                user = accounts.get_user(s, PEOPLE[self.role])
                user_id = str(user.id)
            with self.client.session_transaction() as sess:
                sess["_user_id"] = user_id
                sess["_fresh"] = True

    def call(self, route: Route):
        headers = dict(route.headers)
        kwargs: dict[str, Any] = {}
        if route.api and self.role != "anonymous":
            headers["Authorization"] = f"Bearer {self.w['tokens'][self.role]}"
        if route.upload:
            kwargs["data"] = route.upload(self.w)
            kwargs["content_type"] = "multipart/form-data"
        elif route.api:
            kwargs["json"] = route.data(self.w)
        else:
            kwargs["data"] = route.data(self.w)
        if route.api:  # the API never looks at the session cookie
            client = self.app.test_client()
        else:
            client = self.client
        return client.open(route.url(self.w), method=route.method, headers=headers, **kwargs)


def refused(response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code in (302, 303) and "/login" in response.headers.get("Location", "")


def fresh(tmp_path: Path, world, name: str):
    home, w = world
    target = tmp_path / name
    shutil.copytree(home, target)
    app = make_app(target)
    return app, app.extensions["commons"], w


# ---- the tests -----------------------------------------------------------------------------------

def test_every_write_route_has_a_row(app):
    """Enumerate the URL map: a write route nobody thought about fails here."""
    rows = {(r.method, r.rule) for r in ROUTES}
    found = {(method, rule.rule) for rule in app.url_map.iter_rules()
             for method in rule.methods - {"GET", "HEAD", "OPTIONS"}}
    assert found - rows == set(), "write routes without a row in the matrix"
    assert rows - found == set(), "rows for routes that no longer exist"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.rule}")
def test_matrix(route: Route, world, tmp_path):
    app, inst, w = fresh(tmp_path, world, "refusals")
    try:
        before = fingerprint(inst)
        for role in ROLES:
            if role in route.allowed:
                continue
            response = Caller(app, inst, w, role).call(route)
            assert refused(response), (role, response.status_code, response.get_data()[:300])
            assert fingerprint(inst) == before, f"{role} was refused but something changed"
    finally:
        inst.engine.dispose()

    for n, role in enumerate(r for r in ROLES if r in route.allowed):
        app, inst, w = fresh(tmp_path, world, f"allowed-{n}")
        try:
            before = fingerprint(inst)
            response = Caller(app, inst, w, role).call(route)
            assert not refused(response), (role, response.status_code,
                                           response.get_data()[:300])
            assert response.status_code < 400, (role, response.status_code,
                                                response.get_data()[:500])
            if route.changes:
                assert fingerprint(inst) != before, f"{role}'s call changed nothing"
        finally:
            inst.engine.dispose()


def test_api_writes_ignore_the_session_cookie(app, world, tmp_path):
    """API writes take bearer tokens only: a signed-in browser's cookie is not enough, so a
    page elsewhere cannot make a visitor's browser write through the API."""
    app, inst, w = fresh(tmp_path, world, "cookie")
    try:
        before = fingerprint(inst)
        caller = Caller(app, inst, w, "admin")
        for route in (r for r in ROUTES if r.api):
            kwargs = ({"data": route.upload(w), "content_type": "multipart/form-data"}
                      if route.upload else {"json": route.data(w)})
            response = caller.client.open(route.url(w), method=route.method, **kwargs)
            assert response.status_code == 401, (route.rule, response.status_code)
        assert fingerprint(inst) == before
    finally:
        inst.engine.dispose()


def test_every_web_form_needs_its_csrf_token(world, tmp_path):
    """With CSRF on (as in production), every cookie-authenticated POST without the token is a
    400 and changes nothing; git's own smart-HTTP POSTs carry no cookie and are exempt."""
    home, w = world
    target = tmp_path / "csrf"
    shutil.copytree(home, target)
    app = make_app(target, WTF_CSRF_ENABLED=True)
    inst = app.extensions["commons"]
    try:
        before = fingerprint(inst)
        caller = Caller(app, inst, w, "admin")
        for route in ROUTES:
            if route.api or route.rule.startswith("/commons.git/"):
                continue
            kwargs = ({"data": route.upload(w), "content_type": "multipart/form-data"}
                      if route.upload else {"data": route.data(w)})
            response = caller.client.open(route.url(w), method=route.method, **kwargs)
            assert response.status_code == 400, (route.rule, response.status_code)
            assert b"Your form expired or was sent from another site" in response.get_data()
        assert fingerprint(inst) == before
    finally:
        inst.engine.dispose()
