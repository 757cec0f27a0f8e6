"""Fixtures for the browser tests: one real server and one Debian Chromium for the whole session.

The server is ``commons serve`` (gunicorn, in its own process group: ``tests/serverproc.py``) on a
fresh copy of the seeded instance, with alice and bob (contributors) and root (admin) created
before it starts. Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright: Playwright's
own browser download is not reachable from CI, and ``scripts/test.sh`` installs the Debian
package. A missing browser fails the tests loudly instead of skipping them.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from commons.services import accounts

from ..conftest import PASSWORD, make_app
from ..serverproc import Server, cli
from ..serverproc import request as http_request

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-quic", "--no-first-run",
                 "--disable-sync"]
# Every run writes its screens here (not tracked); the README's pictures are copies of the main
# ones in docs/screenshots/ (see README: "Browser tests and accessibility").
SCREENSHOTS = Path(os.environ.get("COMMONS_SCREENSHOTS")
                   or Path(__file__).resolve().parents[2] / "build" / "screenshots")
USERS = (("alice", "contributor"), ("bob", "contributor"), ("root", "admin"))
STEWARDED = "peer-help-channels"  # a seeded practice alice is made steward of


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives the browser: ``-m "not browser"`` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@dataclass
class Site:
    """The running server, its instance folder and each user's API token."""

    server: Server
    url: str
    home: Path
    tokens: dict[str, str]

    def api(self, method: str, path: str, who: str, payload: dict | None = None):
        """Call ``/api/v1`` as a named user; returns ``(status, json)``."""
        return http_request(method, self.url + "/api/v1" + path, self.tokens[who], payload)


@pytest.fixture(scope="session")
def site(seeded_home, tmp_path_factory, request) -> Site:
    home = tmp_path_factory.mktemp("browser") / "instance"
    shutil.copytree(seeded_home, home)
    app = make_app(home)
    inst = app.extensions["commons"]
    tokens = {}
    with inst.session() as session:
        for name, role in USERS:
            user = accounts.create_user(session, name, PASSWORD, display_name=name.title(),
                                        role=role)
            tokens[name] = accounts.create_token(session, user, "browser tests")
    inst.engine.dispose()
    cli(home, "steward", "add", STEWARDED, "alice")

    server = Server(home, workers=2, log_dir=home.parent,
                    env={"COMMONS_PASSWORD_HASH_PROFILE": "cheapest"})
    request.addfinalizer(server.stop)
    server.start()
    yield Site(server, server.url, home, tokens)
    assert server.proc is not None and server.proc.poll() is None, \
        "the server died during the browser tests:\n" + server.logs()
    logs = server.logs()
    assert "Traceback" not in logs, logs


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium package "
                    "(bash scripts/test.sh installs it with apt; as root: apt-get install "
                    "chromium)", pytrace=False)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, site):
    """Open a page in a fresh context (own cookies): ``new_page(locale="fr", width=375)``."""
    contexts = []

    def make(locale: str = "en", width: int = 1280, height: int = 900):
        context = browser.new_context(base_url=site.url, locale=locale,
                                      viewport={"width": width, "height": height})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A page in a fresh English context, 1280 px wide."""
    return new_page()


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real form, as a person would."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"signing in as {username} failed: {page.url}"


def shot(page, name: str) -> Path:
    """Save a full-page screenshot to ``build/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

