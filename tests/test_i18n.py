"""Translations: the French catalogue covers every string in the sources, and the interface
speaks the visitor's language (Accept-Language, then a remembered choice).

When a catalogue test fails after strings changed in the code or the templates, refresh with
``bash scripts/i18n.sh all``, translate the new entries in
``commons/translations/fr/LC_MESSAGES/messages.po`` and run ``bash scripts/i18n.sh compile``.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import url_for
from sqlalchemy import select

from commons import errors
from commons.models import User

from .conftest import auth, login

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "i18n.sh"
PO = ROOT / "commons" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
REFRESH = "run `bash scripts/i18n.sh all`, translate, then `bash scripts/i18n.sh compile`"

PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")


def plain(value):
    """Plural ids and forms as tuples (read_mo gives lists)."""
    return tuple(value) if isinstance(value, list) else value


def key(message) -> tuple:
    return message.context, plain(message.id)


def text(message):
    return plain(message.string)


def label(message_or_key) -> str:
    """How a failure names a message: its (singular) English msgid."""
    context, msgid = (message_or_key if isinstance(message_or_key, tuple)
                      else key(message_or_key))
    msgid = msgid[0] if isinstance(msgid, tuple) else msgid
    return repr(msgid) + (f" (context {context!r})" if context else "")


def listing(messages) -> str:
    return "\n  " + "\n  ".join(sorted(label(m) for m in messages))


def load_po():
    with PO.open("rb") as fh:
        return read_po(fh, locale="fr")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages of the current sources, extracted exactly as scripts/i18n.sh does."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    env = dict(os.environ)
    here = Path(sys.executable).parent / "pybabel"  # the pybabel of the interpreter under test
    if here.exists():
        env.setdefault("PYBABEL", str(here))
    done = subprocess.run(["bash", str(SCRIPT), "extract", str(pot)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    with pot.open("rb") as fh:
        catalog = read_po(fh)
    assert len(catalog) > 100, "the extraction found almost nothing; is babel.cfg right?"
    return catalog


@pytest.fixture(scope="module")
def french():
    return load_po()


def fr(msgid: str, **params) -> str:
    """The French of an English msgid, read from the catalogue (so rewording a translation
    does not break these tests, but an untranslated string does)."""
    message = load_po().get(msgid)
    assert message is not None and message.string, f"{msgid!r} is not translated"
    assert message.string != msgid, f"{msgid!r} reads the same in French"
    return message.string % params if params else message.string


# --- the catalogue ---------------------------------------------------------------------------

def test_every_error_class_is_an_extraction_keyword():
    """Error messages are msgids only if Babel knows each class's name."""
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    block = re.search(r"^KEYWORDS=\((.*?)^\)", SCRIPT.read_text(), re.S | re.M)
    assert block, "scripts/i18n.sh has no KEYWORDS=( ... ) list"
    keywords = {word.split(":")[0] for word in block.group(1).split()}
    classes = {errors.CommonsError.__name__} | {c.__name__ for c in subclasses(errors.CommonsError)}
    assert classes <= keywords, (
        f"add {sorted(classes - keywords)} to KEYWORDS in scripts/i18n.sh")
    assert {"_", "gettext", "ngettext", "lazy_gettext", "_l"} <= keywords


def test_error_messages_are_extracted(extracted):
    ids = {m.id for m in extracted}
    assert "A practice needs a title." in ids  # ValidationError(...) in services/practice.py
    assert "There is no practice called %(slug)s." in ids  # PracticeNotFound / NotFound
    assert ("%(num)d practice", "%(num)d practices") in ids  # ngettext in a template


def test_french_catalogue_has_every_message(extracted, french):
    known = {key(m) for m in french if m.id}
    missing = [m for m in extracted if m.id and key(m) not in known]
    assert not missing, f"not in {PO.relative_to(ROOT)} ({REFRESH}):{listing(missing)}"


def test_every_french_entry_is_translated(french):
    assert not french.fuzzy, "the catalogue header is fuzzy, so compiling skips the catalogue"
    fuzzy = [m for m in french if m.id and m.fuzzy]
    untranslated = [m for m in french if m.id and not (
        all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert not fuzzy, f"fuzzy entries (check, then drop the fuzzy flag):{listing(fuzzy)}"
    assert not untranslated, f"untranslated entries:{listing(untranslated)}"


def test_translations_keep_their_placeholders(french):
    wrong = []
    for message in french:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        if any(s and set(PLACEHOLDER.findall(s)) != expected for s in strings):
            wrong.append(message)
    problems = [f"{label(m)}: {'; '.join(map(str, errs))}" for m, errs in french.check()]
    assert not wrong, f"placeholders differ from the English:{listing(wrong)}"
    assert not problems, "\n".join(problems)


def test_compiled_catalogue_is_up_to_date(french):
    assert MO.exists(), f"{MO.relative_to(ROOT)} is missing: run `bash scripts/i18n.sh compile`"
    fresh = io.BytesIO()
    write_mo(fresh, french)
    fresh.seek(0)
    with MO.open("rb") as fh:
        shipped = {key(m): text(m) for m in read_mo(fh) if m.id}
    wanted = {key(m): text(m) for m in read_mo(fresh) if m.id}
    stale = sorted(label(k) for k in shipped.keys() | wanted.keys()
                   if shipped.get(k) != wanted.get(k))
    assert not stale, ("messages.mo does not match messages.po "
                       "(run `bash scripts/i18n.sh compile`):\n  " + "\n  ".join(stale))


def test_catalogue_scripts_are_deterministic(tmp_path, extracted):
    """A second extraction of unchanged sources gives the same messages in the same order."""
    again = tmp_path / "again.pot"
    env = dict(os.environ)
    here = Path(sys.executable).parent / "pybabel"
    if here.exists():
        env.setdefault("PYBABEL", str(here))
    subprocess.run(["bash", str(SCRIPT), "extract", str(again)], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    with again.open("rb") as fh:
        second = read_po(fh)
    assert [key(m) for m in second] == [key(m) for m in extracted]


# --- the interface ---------------------------------------------------------------------------

def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_accept_language_french(client):
    response = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    html = page(response)
    assert '<html lang="fr"' in html
    assert fr("Practices shared as a commons") in html
    assert fr("Recent changes") in html
    assert response.headers["Content-Language"] == "fr"


def test_accept_language_english(client):
    html = page(client.get("/", headers={"Accept-Language": "en"}))
    assert '<html lang="en"' in html
    assert "Practices shared as a commons" in html and "Recent changes" in html
    assert fr("Practices shared as a commons") not in html


def test_unknown_language_falls_back_to_english(client):
    assert '<html lang="en"' in page(client.get("/", headers={"Accept-Language": "de"}))


def test_chosen_language_is_remembered_in_the_session(client):
    response = client.get("/lang/fr?next=/p/co-development-group")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/p/co-development-group")
    html = page(client.get("/", headers={"Accept-Language": "en"}))
    assert '<html lang="fr"' in html and fr("Recent changes") in html
    client.get("/lang/en?next=/")
    assert '<html lang="en"' in page(client.get("/", headers={"Accept-Language": "fr"}))


def test_language_switch_refuses_unknown_languages_and_foreign_sites(client):
    assert client.get("/lang/xx?next=/").status_code == 404
    response = client.get("/lang/fr?next=https://evil.example/")
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_switcher_on_every_page(client, users, inst):
    """Every HTML page offers the other language and marks the current one."""
    app = client.application
    tag = re.search(r'href="/tags/([^"]+)"', page(client.get("/")))
    values = {"slug": "co-development-group", "tag": tag.group(1) if tag else "team",
              "username": "alice", "revision": inst.store.head()}
    login(client, "alice")
    checked = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api/", "/static/", "/lang/")):
            continue
        if not set(rule.arguments) <= values.keys():
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
        for lang, other in (("en", "fr"), ("fr", "en")):
            response = client.get(url, headers={"Accept-Language": lang})
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            html = response.get_data(as_text=True)
            assert f'<html lang="{lang}"' in html, url
            assert f'href="/lang/{other}?next=' in html, (url, lang)
            assert f'<strong lang="{lang}">{lang.upper()}</strong>' in html, (url, lang)
            checked.append((url, lang))
    assert len({url for url, _ in checked}) >= 10, checked
    # error pages too
    for lang, other in (("en", "fr"), ("fr", "en")):
        response = client.get("/no/such/page", headers={"Accept-Language": lang})
        assert response.status_code == 404
        assert f'href="/lang/{other}?next=' in response.get_data(as_text=True)
    assert fr("Not found") in client.get("/no/such/page",
                                         headers={"Accept-Language": "fr"}).get_data(as_text=True)


def test_signed_in_choice_is_stored_and_survives_a_new_session(app, client, users, inst):
    login(client, "alice")
    client.get("/lang/fr?next=/")
    with inst.session() as session:
        assert session.scalars(select(User.locale).where(User.username == "alice")).one() == "fr"
        assert session.scalars(select(User.locale).where(User.username == "bob")).one() != "fr"

    fresh = app.test_client()
    assert '<html lang="en"' in page(fresh.get("/", headers={"Accept-Language": "en"}))
    login(fresh, "alice")
    html = page(fresh.get("/", headers={"Accept-Language": "en"}))
    assert '<html lang="fr"' in html and fr("Account") in html


def test_flash_and_form_labels_in_french(client, users):
    html = page(client.get("/login", headers={"Accept-Language": "fr"}))
    assert fr("Username") in html and fr("Keep me signed in") in html
    response = client.post("/login", data={"username": "alice", "password": "nope"},
                           headers={"Accept-Language": "fr"})
    assert fr("Wrong username or password.") in response.get_data(as_text=True)


def test_api_errors_speak_french(client):
    response = client.get("/api/v1/practices/does-not-exist", headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "not_found"
    assert error["message"] == fr("There is no practice called %(slug)s.", slug="does-not-exist")

    english = client.get("/api/v1/practices/does-not-exist", headers={"Accept-Language": "en"})
    assert english.get_json()["error"]["message"] == \
        "There is no practice called does-not-exist."


def test_service_validation_error_in_french(client, users):
    """A ValidationError raised deep in the services reaches the API in the asker's language."""
    payload = {"title": "", "body": "Some text.", "agree_license": True}
    for lang, expected in (("fr", fr("A practice needs a title.")),
                           ("en", "A practice needs a title.")):
        response = client.post("/api/v1/practices", json=payload,
                               headers={**auth(users["alice"]), "Accept-Language": lang})
        assert response.status_code == 422
        assert response.get_json()["error"] == {"code": "validation", "field": "title",
                                                "message": expected}
