"""Accounts: register, sign in and out, profile, password, deletion with a pseudonym."""
import subprocess

from sqlalchemy import select

from commons.models import ApiToken, User
from commons.services import accounts

from .conftest import PASSWORD, login


def register(client, username="claire", password="s3cret-pass", **extra):
    return client.post("/register", data={"username": username, "password": password,
                                          "display_name": extra.get("display_name", "Claire"),
                                          "email": extra.get("email", "")})


def test_register_sign_in_sign_out(client, inst):
    r = register(client)
    assert r.status_code == 302
    assert 'href="/u/claire"' in client.get("/").get_data(as_text=True)
    with inst.session() as session:
        user = accounts.get_user(session, "claire")
        assert user.password_hash.startswith("$argon2")
    client.post("/logout")
    assert 'href="/u/claire"' not in client.get("/").get_data(as_text=True)
    assert login(client, "claire", "wrong-password").status_code == 401
    r = client.post("/login?next=/p/detox-zone", data={"username": "claire",
                                                        "password": "s3cret-pass"})
    assert r.status_code == 302 and r.headers["Location"] == "/p/detox-zone"


def test_login_never_redirects_off_site(client, users):
    r = client.post("/login?next=https://evil.example/x", data={"username": "alice",
                                                                "password": PASSWORD})
    assert r.headers["Location"] == "/"
    client.post("/logout")
    r = client.post("/login?next=//evil.example", data={"username": "alice",
                                                         "password": PASSWORD})
    assert r.headers["Location"] == "/"


def test_registration_errors(client, users):
    assert register(client, username="alice").status_code == 422
    assert "taken" in register(client, username="alice").get_data(as_text=True)
    assert register(client, username="Bad Name!").status_code == 422
    assert register(client, password="short").status_code == 422


def test_profile_and_password(client, users, inst):
    login(client, "alice")
    r = client.post("/account", data={"action": "profile", "profile-display_name": "Alice L.",
                                      "profile-email_public": ""})
    assert r.status_code == 302
    r = client.post("/account", data={"action": "password",
                                      "password-current_password": "nope",
                                      "password-new_password": "another-pass"})
    assert r.status_code == 422
    r = client.post("/account", data={"action": "password",
                                      "password-current_password": PASSWORD,
                                      "password-new_password": "another-pass"})
    assert r.status_code == 302
    client.post("/logout")
    assert login(client, "alice", "another-pass").status_code == 302
    with inst.session() as session:
        assert accounts.get_user(session, "alice").display_name == "Alice L."


def test_commits_use_display_name_and_noreply_unless_email_published(api, inst, client):
    with inst.session() as session:
        user = accounts.get_user(session, "alice")
        user.email = "alice@example.org"
    api("post", "/practices", "alice", json={"title": "P1", "body": "x", "agree_license": True})
    with inst.session() as session:
        accounts.get_user(session, "alice").email_public = True
    api("post", "/practices", "alice", json={"title": "P2", "body": "x", "agree_license": True})
    log = subprocess.run(["git", "--git-dir", str(inst.store.path), "log", "-2",
                          "--format=%an <%ae>"], capture_output=True, text=True).stdout
    assert log.splitlines() == ["Alice <alice@example.org>",
                                "Alice <alice@users.noreply.commons>"]
    # the API never shows emails
    assert "example.org" not in api("get", "/practices/p2").get_data(as_text=True)


def test_delete_account_keeps_contributions_under_a_pseudonym(client, api, inst):
    api("post", "/practices", "alice", json={"title": "Alice's", "body": "x",
                                             "agree_license": True})
    login(client, "alice")
    r = client.post("/account", data={"action": "delete", "delete-password": PASSWORD,
                                      "delete-confirm": "y"})
    assert r.status_code == 302
    data = api("get", "/practices/alice-s").get_json()
    assert data["body"] == "x\n"  # the contribution stays
    names = [a["name"] for a in data["authors"]]
    assert len(names) == 1 and names[0].startswith("Former contributor")
    assert data["authors"][0]["username"] is None
    hist = api("get", "/practices/alice-s/history").get_json()["history"]
    assert hist[0]["author"]["name"] == names[0]
    # the pseudonym is in git (.mailmap), so a rebuild keeps it
    from commons.services import catalog
    with inst.store.lock(), inst.session() as session:
        catalog.rebuild(session, inst.store)
    assert api("get", "/practices/alice-s").get_json()["authors"][0]["name"] == names[0]
    # the account can no longer sign in, its tokens stop working
    client.post("/logout")
    assert login(client, "alice").status_code == 401
    assert api("post", "/practices", "alice", json={"title": "x", "body": "x",
                                                    "agree_license": True}).status_code == 401
    with inst.session() as session:
        assert session.scalars(select(ApiToken).join(User)
                               .where(User.username == "alice")).all() == []
    # and the username stays reserved
    assert register(client, username="alice").status_code == 422


def test_language_switch_is_remembered(client, users, inst):
    login(client, "bob")
    client.get("/lang/fr?next=/")
    with inst.session() as session:
        assert accounts.get_user(session, "bob").locale == "fr"
    assert client.get("/lang/xx").status_code == 404
