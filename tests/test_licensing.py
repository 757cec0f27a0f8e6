"""The licence registry: the rules of Creative Commons' own texts, and the licence a practice
may carry in the commons."""
import pytest

from commons.errors import ValidationError
from commons.services import licensing

ADAPTABLE = ["CC0-1.0", "CC-BY-2.0", "CC-BY-2.5", "CC-BY-3.0", "CC-BY-4.0", "CC-BY-SA-2.0",
             "CC-BY-SA-2.5", "CC-BY-SA-3.0", "CC-BY-SA-4.0", "LAL-1.3",
             "LicenseRef-CC-BY-unversioned", "LicenseRef-CC-BY-SA-unversioned"]
REFUSED = ["CC-BY-SA-1.0", "GPL-3.0", "LicenseRef-CC-BY-NC-SA-unversioned",
           "LicenseRef-all-rights-reserved"] + [
    f"CC-BY-{kind}-{version}" for kind in ("NC", "NC-SA", "ND", "NC-ND")
    for version in ("3.0", "4.0")]


def test_registry_knows_every_licence_the_issue_lists_and_decides_by_the_rules():
    assert sorted(e.id for e in licensing.all_licenses()) == sorted(ADAPTABLE + REFUSED)
    for lid in ADAPTABLE:
        assert licensing.refusal(lid) is None, lid
    for lid in REFUSED:
        assert licensing.refusal(lid), lid
    for entry in licensing.all_licenses():
        assert entry.name and entry.source, entry.id  # each rule cites where it comes from
        if not entry.id.startswith("LicenseRef-"):
            assert entry.url and entry.url.startswith("https://"), entry.id
    assert licensing.get("CC-BY-SA-3.0").share_alike and not licensing.get("CC-BY-4.0").share_alike
    assert licensing.get("LicenseRef-CC-BY-SA-unversioned").versionless


def test_refusals_say_why_in_words_a_person_understands():
    assert licensing.refusal("CC-BY-NC-SA-4.0") == (
        "CC-BY-NC-SA-4.0: the non-commercial clause is incompatible with CC BY-SA 4.0, which "
        "lets everyone use the work commercially.")
    assert "no-derivatives" in licensing.refusal("CC-BY-ND-4.0")
    assert "one way only" in licensing.refusal("GPL-3.0")
    assert "no later version" in licensing.refusal("CC-BY-SA-1.0")
    unknown = licensing.refusal("LicenseRef-copyright-excerpt-with-permission")
    assert unknown.startswith("LicenseRef-copyright-excerpt-with-permission: not a licence")
    assert "(none)" in licensing.refusal(None)


def test_a_practice_licence_stays_share_alike():
    allowed = licensing.commons_licenses("CC-BY-SA-4.0", ("CC-BY-SA-5.0", "CC-BY-4.0"))
    assert allowed == ("CC-BY-SA-4.0", "CC-BY-SA-5.0")  # a later BY-SA, never anything else
    assert licensing.require_commons_license("CC-BY-SA-4.0", allowed) == "CC-BY-SA-4.0"
    with pytest.raises(ValidationError) as info:
        licensing.require_commons_license("CC-BY-4.0", ("CC-BY-SA-4.0",))
    assert "share-alike" in str(info.value) and "CC-BY-4.0 is not allowed" in str(info.value)


def test_api_lists_the_registry_in_the_request_language(client):
    data = client.get("/api/v1/licenses").get_json()
    assert data["commons"] == ["CC-BY-SA-4.0"]
    by_id = {e["id"]: e for e in data["licenses"]}
    assert by_id["CC-BY-NC-4.0"]["adaptable_into_by_sa_4"] is False
    assert by_id["LAL-1.3"]["adaptable_into_by_sa_4"] is True
    fr = client.get("/api/v1/licenses", headers={"Accept-Language": "fr"}).get_json()
    reason = {e["id"]: e for e in fr["licenses"]}["CC-BY-NC-4.0"]["reason"]
    assert "non commerciale" in reason


def test_changing_a_practice_licence_out_of_share_alike_is_refused(api):
    rev = api("get", "/practices/detox-zone").get_json()["revision"]
    r = api("put", "/practices/detox-zone", "root", json={
        "base_revision": rev, "license": "CC-BY-NC-4.0", "agree_license": True})
    assert r.status_code == 422
    assert "share-alike" in r.get_json()["error"]["message"]
    assert api("get", "/practices/detox-zone").get_json()["revision"] == rev
