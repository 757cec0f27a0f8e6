"""Licence-checked import: the real corpora, re-import with a three-way merge, zips, the
command line, the web form and the API."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import yaml

from commons.models import ChangeRecord, PracticeRecord
from commons.services import accounts, catalog, editing, importer, provenance

from .conftest import login

# The copy of the workplace's shared corpora kept with the tests, so that a clean clone runs
# them (the refused samples as front matter only — see tests/corpora/README.md); the last test
# checks it against the shared folder where that exists.
CORPORA = Path(__file__).parent / "corpora"
SHARED_CORPORA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"
COMMONS = str(Path(sys.executable).with_name("commons"))
NON_COMMERCIAL = "the non-commercial clause is incompatible with CC BY-SA 4.0"
UNKNOWN = "not a licence Commons knows"


BODY = "## Why\n\nA first line.\n\nA second line.\n\n## How\n\nStep one.\n\nStep two.\n"


def source_text(title="Troika consulting", body=BODY,
                license="CC-BY-4.0", repo="https://github.com/example/library",
                path="practices/troika.md", **extra) -> str:
    meta = {"title": title, "license": license, "source_repo": repo, "source_path": path,
            "source_url": f"{repo}/blob/{'a' * 40}/{path}", "source_commit": "a" * 40,
            "authors": ["Ada Lovelace", "Grace Hopper"], "language": "en",
            "tags": ["Facilitation", "a" * 60], "expected_import": "accept", **extra}
    return "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n" + body


def git(inst, *args) -> str:
    return inst.store._git(*args).stdout.decode()


def run_import(inst, user, sources, operator=False):
    with inst.session() as session:
        if isinstance(user, str):
            user = accounts.require_user(session, user)
        return importer.import_many(inst, session, user, sources, agree_license=True,
                                    operator=operator)


def one(name, text) -> list[importer.Source]:
    return [importer.Source(name, text)]


def current_text(inst, slug) -> str:
    return inst.store.read(f"practices/{slug}.md")[0]


# ---- the corpora ----------------------------------------------------------------------------

def test_every_corpus_folder(inst):
    folders = sorted(p for p in CORPORA.iterdir() if p.is_dir())
    assert len(folders) == 6
    before = inst.store.head()
    started = time.perf_counter()
    results: dict[str, list[importer.Outcome]] = {}
    for folder in folders:
        results[folder.name] = run_import(inst, None, importer.read_sources(folder),
                                          operator=True)
    elapsed = time.perf_counter() - started
    print(f"imported {sum(map(len, results.values()))} files in {elapsed:.1f} s")

    statuses = Counter(o.status for outs in results.values() for o in outs)
    assert statuses == {"accepted": 382, "refused": 10}
    for name, outs in results.items():
        expected = "refused" if name.startswith("negative-") else "accepted"
        assert {o.status for o in outs} == {expected}, name
    for outcome in results["negative-liberating-structures-cards"]:
        assert outcome.reason.startswith("CC-BY-NC-3.0: ") and NON_COMMERCIAL in outcome.reason
    refused = {o.file: o.reason for o in results["negative-multibao-fr-refused"]}
    assert UNKNOWN in refused.pop("world-cafe-expert.md")
    assert refused["world-cafe.md"].startswith(
        "LicenseRef-CC-BY-NC-SA-unversioned")
    assert len(refused) == 4 and all(NON_COMMERCIAL in r for r in refused.values())

    with inst.session() as session:
        # 20 starter practices + 382 imports, each its own commit, all consistent
        assert session.query(PracticeRecord).count() == 20 + 382
        assert catalog.check(session, inst.store, inst.license) == []
        slug = next(o.slug for o in results["open-practice-library"] if o.file == "1-2-4-all.md")
        record = session.get(PracticeRecord, slug)
        assert record.license == "CC-BY-SA-4.0"
        assert record.source["license"] == "CC-BY-4.0"
        assert record.source["repo"] == "https://github.com/openpracticelibrary/openpracticelibrary"
        assert record.credits == [{"name": "Matt Napiorkowski (@mattnapro)",
                                   "role": "original author"}]
        kinds = {c.kind for c in session.query(ChangeRecord).filter_by(slug=slug)}
        assert kinds == {"import"}
        french = session.get(PracticeRecord, next(
            o.slug for o in results["multibao-fr"] if o.file == "ascenseur.md"))
        assert french.language == "fr"
        assert french.source["license"] == "LicenseRef-CC-BY-SA-unversioned"
        assert french.source["license_statements"]
    text = current_text(inst, slug)
    assert "expected_import" not in text and "body_source" not in text
    message = git(inst, "log", "-1", "--format=%B", "--", f"practices/{slug}.md")
    assert "Source-License: CC-BY-4.0" in message and "License: CC-BY-SA-4.0" in message
    assert git(inst, "log", "-1", "--format=%an", "--", f"practices/{slug}.md").strip() \
        == importer.IMPORT_AUTHOR.name
    # one commit per accepted file, none for a refused one
    assert git(inst, "rev-list", "--count", f"{before}..main").strip() == "382"
    assert git(inst, "log", "--format=%H", "--grep=^Source-License: ").count("\n") == 382

    # importing a folder again changes nothing
    head = inst.store.head()
    again = run_import(inst, None, importer.read_sources(CORPORA / "18f-methods"),
                       operator=True)
    assert {o.status for o in again} == {"unchanged"} and len(again) == 36
    assert inst.store.head() == head


# ---- re-import: a three-way merge against the text as last imported ---------------------------

def test_reimport_merges_edits_made_in_commons(inst, users):
    first = run_import(inst, "alice", one("troika.md", source_text()))[0]
    assert first.status == "accepted", first.reason
    slug = first.slug
    with inst.session() as session:
        record = session.get(PracticeRecord, slug)
        assert record.stewards == ["alice"]  # the importer becomes its steward
        assert record.tags == ["facilitation"]  # the 60-letter tag was dropped, not refused
        body = editing.read_current(inst, record).body
        editing.update_practice(inst, session, accounts.require_user(session, "alice"), slug,
                                base_revision=record.revision,
                                body=body + "\nAn edit made in the commons.\n",
                                agree_license=True)

    same = run_import(inst, "alice", one("troika.md", source_text()))[0]
    assert (same.status, same.slug) == ("unchanged", slug)

    changed = source_text(body=BODY.replace("A first line.", "A first line, improved at the "
                                                                "source."))
    head = inst.store.head()
    updated = run_import(inst, "alice", one("troika.md", changed))[0]
    assert (updated.status, updated.slug) == ("updated", slug), updated.reason
    text = current_text(inst, slug)
    assert "improved at the source" in text and "An edit made in the commons." in text
    assert inst.store.head() != head
    message = git(inst, "log", "-1", "--format=%B")
    assert "Source-License: CC-BY-4.0" in message and "License: CC-BY-SA-4.0" in message

    # a second update still keeps the commons' edit: the base is the last imported text,
    # not the merged practice
    again = source_text(title="Troika consulting (revised)",
                        body=BODY.replace("A first line.", "A first line, improved at the "
                                          "source.").replace("A second line.",
                                                             "A second line, also improved."))
    result = run_import(inst, "alice", one("troika.md", again))[0]
    assert (result.status, result.slug) == ("updated", slug), result.reason
    text = current_text(inst, slug)
    assert "also improved" in text and "An edit made in the commons." in text
    assert "title: Troika consulting (revised)" in text
    with inst.session() as session:
        assert session.query(PracticeRecord).filter(
            PracticeRecord.title.like("Troika%")).count() == 1  # never a duplicate


def test_conflicting_reimport_is_refused_and_writes_nothing(inst, users):
    slug = run_import(inst, "alice", one("troika.md", source_text()))[0].slug
    with inst.session() as session:
        record = session.get(PracticeRecord, slug)
        body = editing.read_current(inst, record).body
        editing.update_practice(inst, session, accounts.require_user(session, "alice"), slug,
                                base_revision=record.revision,
                                body=body.replace("A first line.", "A first line, ours."),
                                agree_license=True)
    head = inst.store.head()
    theirs = source_text(body=BODY.replace("A first line.", "A first line, theirs."))
    outcome = run_import(inst, "alice", one("troika.md", theirs))[0]
    assert outcome.status == "refused"
    assert "conflict" in outcome.reason and slug in outcome.reason and "text" in outcome.reason
    assert inst.store.head() == head
    assert "A first line, ours." in current_text(inst, slug)


def test_identity_is_repo_and_path_else_url_else_title(inst, users):
    a = run_import(inst, "alice", one("a.md", source_text(title="Same title")))[0]
    other_path = source_text(title="Same title", path="practices/other.md")
    b = run_import(inst, "alice", one("b.md", other_path))[0]
    assert a.status == b.status == "accepted" and a.slug != b.slug
    # the URL at another commit is the same source
    url_only = "---\ntitle: By URL\nlicense: CC0-1.0\nsource_url: https://example.org/x/blob/" \
               + "b" * 40 + "/p.md\n---\nText.\n"
    first = run_import(inst, "alice", one("u.md", url_only))[0]
    later = run_import(inst, "alice", one("u.md", url_only.replace("b" * 40, "c" * 40)
                                          .replace("Text.", "Text, later.")))[0]
    assert first.status == "accepted" and (later.status, later.slug) == ("updated", first.slug)
    assert provenance.url_without_commit("https://github.com/o/r/blob/" + "d" * 40 + "/x.md") \
        == "https://github.com/o/r/blob/x.md"


def test_only_stewards_update_what_they_did_not_import(inst, users):
    slug = run_import(inst, "alice", one("t.md", source_text()))[0].slug
    head = inst.store.head()
    outcome = run_import(inst, "bob", one("t.md", source_text(body="Changed by bob.\n")))[0]
    assert outcome.status == "refused" and "stewards" in outcome.reason and slug in outcome.reason
    assert inst.store.head() == head


@pytest.mark.parametrize("text, words", [
    ("---\ntitle: [unclosed\nlicense: CC0-1.0\n---\nx\n", "not valid YAML"),
    ("---\nlicense: CC0-1.0\n---\nNo title.\n", "needs a title"),
    ("No front matter at all.\n", "No licence"),
    ("---\ntitle: T\nlicense: CC-BY-ND-4.0\n---\nx\n", "no-derivatives"),
    ("---\ntitle: T\nlicense: CC0-1.0\n---\n" + "x" * (512 * 1024 + 10), "too long"),
])
def test_refusals_say_why(inst, users, text, words):
    head = inst.store.head()
    outcome = run_import(inst, "alice", one("f.md", text))[0]
    assert outcome.status == "refused" and words in outcome.reason
    assert inst.store.head() == head


def test_licence_agreement_and_sign_in_are_required(inst, users):
    from commons.errors import LicenseRequired, Unauthorized
    with inst.session() as session:
        alice = accounts.require_user(session, "alice")
        with pytest.raises(LicenseRequired):
            importer.import_many(inst, session, alice, one("t.md", source_text()),
                                 agree_license=False)
        with pytest.raises(Unauthorized):
            importer.import_many(inst, session, None, one("t.md", source_text()),
                                 agree_license=True)


# ---- zips -----------------------------------------------------------------------------------

def make_zip(entries: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_entries_outside_the_archive_and_bombs_are_refused(inst, users):
    data = make_zip({"lib/good.md": source_text(), "../evil.md": source_text(title="Evil"),
                     "/abs.md": source_text(title="Abs"), "lib/LICENSE.txt": "licence",
                     "lib/README.md": "# a library", "bomb.md": b"a" * (64 * 1024 * 1024)})
    assert len(data) < 200_000  # 64 MB that compress to almost nothing
    sources = importer.read_upload("library.zip", data)
    assert [s.name for s in sources] == ["lib/good.md", "../evil.md", "/abs.md", "bomb.md"]
    outcomes = run_import(inst, "alice", sources)
    assert [o.status for o in outcomes] == ["accepted", "refused", "refused", "refused"]
    assert "outside" in outcomes[1].reason and "too large" in outcomes[3].reason
    with inst.session() as session:
        assert not session.query(PracticeRecord).filter_by(title="Evil").count()
    assert importer.read_upload("x.zip", b"not a zip")[0].problem


# ---- the command line -------------------------------------------------------------------------

def cli(home, *args):
    env = {**os.environ, "COMMONS_HOME": str(home)}
    return subprocess.run([COMMONS, "import", *args], capture_output=True, text=True, env=env,
                          check=False)


def test_command_line(home, tmp_path):
    folder = tmp_path / "library"
    (folder / "sub").mkdir(parents=True)
    (folder / "one.md").write_text(source_text(title="One"))
    (folder / "sub" / "two.md").write_text(source_text(title="Two", path="two.md"))
    (folder / "LICENSE.txt").write_text("CC BY 4.0")

    usage = cli(home, str(folder))
    assert usage.returncode == 2 and "--agree-license" in usage.stderr
    assert cli(home, str(tmp_path / "missing"), "--agree-license").returncode == 2
    assert cli(home, str(folder), "--agree-license", "--as", "nobody").returncode == 2

    ok = cli(home, str(folder), "--agree-license")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines() == ["one.md: accepted one", "sub/two.md: accepted two"]
    again = cli(home, str(folder), "--agree-license")
    assert again.stdout.splitlines() == ["one.md: unchanged one", "sub/two.md: unchanged two"]

    (folder / "nc.md").write_text(source_text(title="NC", license="CC-BY-NC-SA-4.0",
                                              path="nc.md"))
    mixed = cli(home, str(folder), "--agree-license")
    assert mixed.returncode == 1
    assert ("nc.md: refused: CC-BY-NC-SA-4.0: the non-commercial clause is incompatible with "
            "CC BY-SA 4.0") in mixed.stdout
    assert "one.md: unchanged one" in mixed.stdout

    from .conftest import make_app
    app = make_app(home)
    inst = app.extensions["commons"]
    with inst.session() as session:
        assert session.get(PracticeRecord, "one").source["license"] == "CC-BY-4.0"
        assert session.get(PracticeRecord, "nc") is None
    app.extensions["commons"].engine.dispose()


# ---- the web page and the API -------------------------------------------------------------------

def test_web_import_page(client, users):
    assert client.get("/import").status_code == 302  # to the sign-in page
    login(client, "alice")
    assert client.get("/import").status_code == 200
    upload = {"files": [(io.BytesIO(source_text().encode()), "troika.md"),
                        (io.BytesIO(source_text(title="NC", license="CC-BY-NC-4.0",
                                                path="nc.md").encode()), "nc.md")]}
    refused = client.post("/import", data=dict(upload), content_type="multipart/form-data")
    assert refused.status_code == 422
    upload = {"files": [(io.BytesIO(source_text().encode()), "troika.md"),
                        (io.BytesIO(source_text(title="NC", license="CC-BY-NC-4.0",
                                                path="nc.md").encode()), "nc.md")],
              "agree_license": "y"}
    page = client.post("/import", data=upload, content_type="multipart/form-data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "troika-consulting" in html and "non-commercial clause" in html
    practice = client.get("/p/troika-consulting").get_data(as_text=True)
    assert "Creative Commons Attribution 4.0 International" in practice
    assert 'href="https://github.com/example/library/blob/' in practice


def test_api_import(api, inst):
    def post(who, agree="true", files=None):
        files = files if files is not None else [(io.BytesIO(source_text().encode()), "t.md")]
        data = {"file": files}
        if agree is not None:
            data["agree_license"] = agree
        return api("post", "/import", who, data=data, content_type="multipart/form-data")

    assert post(None).status_code == 401
    head = inst.store.head()
    refused = post("alice", agree=None)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "license_required"
    assert post("alice", files=[]).status_code == 422
    assert inst.store.head() == head
    zipped = make_zip({"a.md": source_text(), "b.md": source_text(title="B", path="b.md",
                                                                     license="Proprietary")})
    answer = post("alice", files=[(io.BytesIO(zipped), "lib.zip")])
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["accepted"] == 1 and data["refused"] == 1
    by_file = {r["file"]: r for r in data["results"]}
    assert by_file["a.md"]["status"] == "accepted" and by_file["a.md"]["slug"]
    assert UNKNOWN in by_file["b.md"]["reason"]
    practice = api("get", f"/practices/{by_file['a.md']['slug']}").get_json()
    assert practice["license"] == "CC-BY-SA-4.0" and practice["source"]["license"] == "CC-BY-4.0"
    assert {"name": "Ada Lovelace", "role": "original author"} in practice["credits"]


@pytest.mark.skipif(not SHARED_CORPORA.is_dir(),
                    reason="no shared corpora on this machine to compare the copy with")
def test_the_copy_kept_with_the_tests_matches_the_shared_corpora():
    """The copy is the shared corpora, file for file (the refused samples' front matter)."""
    copy = CORPORA
    shared = [p for p in SHARED_CORPORA.rglob("*.md") if p.parent != SHARED_CORPORA]
    for original in shared:
        kept = copy / original.relative_to(SHARED_CORPORA)
        assert kept.is_file(), kept
        if original.parent.name.startswith("negative-"):
            head = original.read_text(encoding="utf-8").split("\n---\n", 1)[0]
            assert kept.read_text(encoding="utf-8").startswith(head)
        else:
            assert kept.read_bytes() == original.read_bytes(), kept
    assert len([p for p in copy.rglob("*.md") if p.parent != copy]) == len(shared) == 392
