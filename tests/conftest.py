"""Fixtures: a whole Commons on temporary folders, with a real git repository and real SQLite.

Initialising an instance (migrations + seeding 20 practices) takes a moment, so it is done once
per test session and each test gets a fresh copy of that folder.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from commons import create_app
from commons.services import accounts

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def seeded_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("seeded") / "instance"
    app = create_app({"COMMONS_HOME": str(home), "SECRET_KEY": "test"})
    app.extensions["commons"].engine.dispose()
    return home


@pytest.fixture
def home(seeded_home, tmp_path) -> Path:
    target = tmp_path / "instance"
    shutil.copytree(seeded_home, target)
    return target


def make_app(home: Path, **extra):
    config = {"COMMONS_HOME": str(home), "SECRET_KEY": "test", "TESTING": True,
              "WTF_CSRF_ENABLED": False, "COMMONS_BASE_URL": "http://commons.test",
              "PASSWORD_HASH_PROFILE": "cheapest",
              # tests sign in and write dozens of times from one address; the limits have
              # their own tests (test_rate_limits.py), which turn them on
              "RATE_LIMITS": "off"}
    config.update(extra)
    return create_app(config)


@pytest.fixture
def app(home):
    app = make_app(home)
    yield app
    app.extensions["commons"].engine.dispose()


@pytest.fixture
def inst(app):
    return app.extensions["commons"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def users(inst):
    """alice (contributor), bob (contributor), root (admin); each with an API token."""
    tokens = {}
    with inst.session() as session:
        for name, role in (("alice", "contributor"), ("bob", "contributor"), ("root", "admin")):
            user = accounts.create_user(session, name, PASSWORD, display_name=name.title(),
                                        role=role)
            tokens[name] = accounts.create_token(session, user, "tests")
    return tokens


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(client, users):
    """Call the API as a named user: api('post', '/practices', 'alice', json={...})."""
    def call(method: str, path: str, who: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if who:
            headers.update(auth(users[who]))
        return getattr(client, method)("/api/v1" + path, headers=headers, **kwargs)
    return call


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})
