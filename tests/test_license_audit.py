"""``commons check`` audits licences: each problem planted straight into git (through
``Store.commit``, as an older Commons or a hand-made commit could leave it) is named on one
``path@revision: reason`` line, and the command fails."""
from __future__ import annotations

import pytest

from commons.services import licensing
from commons.services import practice as doc
from commons.services.instance import SEED_AUTHOR

from .conftest import make_app
from .serverproc import cli


def plant(inst, slug: str, text: str, trailers=(("License", "CC-BY-SA-4.0"),)) -> str:
    with inst.store.lock():
        return inst.store.commit({doc.path_for(slug): text}, author=SEED_AUTHOR,
                                 message=f"planted {slug}", trailers=list(trailers))


def practice(title: str, license_id: str, **extra) -> str:
    return doc.serialize(doc.Practice({"title": title, "language": "en",
                                       "license": license_id, **extra}, "## Why\n\nBecause.\n"))


def test_check_names_each_licence_problem(home):
    assert cli(home, "check", check=False).returncode == 0
    app = make_app(home)
    inst = app.extensions["commons"]
    upstream = inst.store.log()[-1].revision
    not_accepted = plant(inst, "shared-under-by", practice("Under BY", "CC-BY-4.0"))
    no_trailer = plant(inst, "no-trailer", practice("No trailer", "CC-BY-SA-4.0"), trailers=())
    fork = plant(inst, "detox-zone-relicensed", practice(
        "Detox zone, relicensed", "CC-BY-4.0",
        forked_from={"slug": "detox-zone", "revision": upstream}),
        trailers=(("License", "CC-BY-SA-4.0"), ("Forked-from", f"detox-zone@{upstream}")))
    imported = plant(inst, "from-a-nc-source", practice(
        "From an NC source", "CC-BY-SA-4.0",
        source={"url": "https://example.org/nc", "license": "CC-BY-NC-4.0"}))
    app.extensions["commons"].engine.dispose()
    assert cli(home, "reindex", check=False).returncode == 0  # derived data: not the point here

    r = cli(home, "check", check=False)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert ("practices/shared-under-by.md@" + not_accepted + ": licence CC-BY-4.0 is not "
            "accepted in the commons (accepted: CC-BY-SA-4.0)") in lines
    assert (f"practices/no-trailer.md@{no_trailer}: missing 'License: CC-BY-SA-4.0' trailer"
            in lines)
    assert any(line.startswith(f"practices/detox-zone-relicensed.md@{fork}: breaks the "
                               "share-alike of its upstream practices/detox-zone.md: CC-BY-4.0 "
                               "does not keep the share-alike of CC-BY-SA-4.0")
               for line in lines), lines
    assert (f"practices/from-a-nc-source.md@{imported}: imported from a source whose licence "
            f"the commons refuses: {licensing.refusal('CC-BY-NC-4.0')}") in lines
    # planted behind Commons' back, REUSE.toml does not know the BY practices yet
    assert any(line.startswith("REUSE.toml@") and "commons init" in line for line in lines)
    for line in lines:
        where, _, reason = line.partition(": ")
        assert "@" in where and reason

    # `commons init` repairs what is derived (REUSE.toml); the licence problems stay
    assert cli(home, "init", check=False).returncode == 0
    again = cli(home, "check", check=False)
    assert again.returncode == 1
    assert not any(line.startswith("REUSE.toml@") for line in again.stdout.splitlines())
    # not accepted (twice: the BY practice and the fork) and the fork's broken share-alike
    assert sum("CC-BY-4.0" in line for line in again.stdout.splitlines()) == 3
    assert sum(f"@{no_trailer}: missing" in line for line in again.stdout.splitlines()) == 1


def test_a_clean_commons_passes(home):
    r = cli(home, "check", check=False)
    assert r.returncode == 0, r.stdout


@pytest.mark.parametrize("upstream, fork, keeps", [
    ("CC-BY-SA-4.0", "CC-BY-SA-4.0", True),
    ("CC-BY-SA-3.0", "CC-BY-SA-4.0", True),     # BY-SA 3.0 §4(b): a later version
    ("CC-BY-SA-4.0", "CC-BY-SA-3.0", False),    # never an earlier one
    ("CC-BY-SA-4.0", "CC-BY-4.0", False),
    ("CC-BY-SA-1.0", "CC-BY-SA-4.0", False),    # BY-SA 1.0: only itself
    ("LAL-1.3", "CC-BY-SA-4.0", True),          # declared compatible
    ("LicenseRef-CC-BY-SA-unversioned", "CC-BY-SA-4.0", True),
    ("CC-BY-NC-SA-4.0", "CC-BY-SA-4.0", False),
    ("CC-BY-4.0", "CC-BY-SA-4.0", True),        # nothing share-alike to keep
    ("CC0-1.0", "CC-BY-4.0", True),
])
def test_share_alike_rule(upstream, fork, keeps):
    assert (licensing.share_alike_refusal(upstream, fork) is None) is keeps
