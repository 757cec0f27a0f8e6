"""The JSON API: practices, the commons rule, licence agreement, history, revert, rename."""
import subprocess

import pytest

from commons.services import practice as doc

NEW = {"title": "Météo intérieure", "body": "## Why\n\nStart with how people feel.\n",
       "summary": "A check-in round.", "language": "en", "tags": ["Rituals", "team"],
       "agree_license": True}


def git(inst, *args):
    return subprocess.run(["git", "--git-dir", str(inst.store.path), *args],
                          capture_output=True, text=True, check=True).stdout


def create(api, who="alice", **over):
    r = api("post", "/practices", who, json={**NEW, **over})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_create_practice(api, inst):
    data = create(api)
    assert data["slug"] == "meteo-interieure"
    assert data["stewards"] == ["alice"]
    assert data["tags"] == ["rituals", "team"]
    assert data["license"] == "CC-BY-SA-4.0"
    assert len(data["revision"]) == 40
    assert "<h2" in data["html"]
    assert data["authors"] == [{"username": "alice", "name": "Alice"}]
    text = inst.store.read("practices/meteo-interieure.md")[0]
    assert doc.parse(text).title == "Météo intérieure"
    body = git(inst, "log", "-1", "--format=%an <%ae>%n%cn <%ce>%n%B")
    assert "Alice <alice@users.noreply.commons>" in body
    assert "Commons <commons@users.noreply.commons>" in body
    assert "License: CC-BY-SA-4.0" in body


def test_derived_slug_gets_suffix_and_explicit_taken_slug_is_409(api):
    assert create(api)["slug"] == "meteo-interieure"
    assert create(api)["slug"] == "meteo-interieure-2"
    assert create(api)["slug"] == "meteo-interieure-3"
    r = api("post", "/practices", "alice", json={**NEW, "slug": "meteo-interieure"})
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "conflict"


def test_new_practice_without_body_starts_from_template(api):
    data = create(api, body="", language="fr")
    assert "## Pourquoi" in data["body"] and "## Pièges" in data["body"]


def test_write_without_license_agreement_is_refused(api, inst):
    head = inst.store.head()
    r = api("post", "/practices", "alice", json={**NEW, "agree_license": False})
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "license_required"
    assert "CC-BY-SA-4.0" in err["message"]
    assert inst.store.head() == head


@pytest.mark.parametrize("payload,field", [
    ({"title": ""}, "title"), ({"title": "x" * 201}, "title"), ({"slug": "../../outside"}, "slug"),
    ({"slug": "--output=x"}, "slug"), ({"language": "français"}, "language"),
    ({"tags": "a" * 50}, "tags"), ({"body": 42}, "body"),
])
def test_create_validation(api, inst, payload, field):
    head = inst.store.head()
    r = api("post", "/practices", "alice", json={**NEW, **payload})
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"]["field"] == field
    assert inst.store.head() == head


def test_body_must_be_json_object(api):
    r = api("post", "/practices", "alice", data="not json", content_type="text/plain")
    assert r.status_code == 422
    assert r.get_json()["error"]["code"] == "validation"


def test_anonymous_writes_are_401_and_bad_token_401(api, client):
    r = api("post", "/practices", None, json=NEW)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    r = client.post("/api/v1/practices", json=NEW, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_the_commons_rule(api):
    slug = create(api)["slug"]
    rev = api("get", f"/practices/{slug}").get_json()["revision"]
    edit = {"body": "Changed.\n", "base_revision": rev, "agree_license": True}
    # another contributor: 403 with a message that says why
    r = api("put", f"/practices/{slug}", "bob", json=edit)
    assert r.status_code == 403
    assert "Fork" in r.get_json()["error"]["message"]
    # anonymous: 401
    assert api("put", f"/practices/{slug}", None, json=edit).status_code == 401
    # steward: 200
    r = api("put", f"/practices/{slug}", "alice", json=edit)
    assert r.status_code == 200 and r.get_json()["merged"] is False
    # admin: 200
    rev = r.get_json()["revision"]
    r = api("put", f"/practices/{slug}", "root", json={**edit, "body": "Admin.\n",
                                                       "base_revision": rev})
    assert r.status_code == 200
    # stewards and admins add stewards; then bob may edit
    assert api("post", f"/practices/{slug}/stewards", "bob",
               json={"username": "bob", "agree_license": True}).status_code == 403
    r = api("post", f"/practices/{slug}/stewards", "alice",
            json={"username": "bob", "agree_license": True})
    assert r.status_code == 200 and r.get_json()["stewards"] == ["alice", "bob"]
    r = api("put", f"/practices/{slug}", "bob", json={**edit, "body": "Bob.\n",
                                                      "base_revision": r.get_json()["revision"]})
    assert r.status_code == 200


def test_put_unknown_slug_is_404(api):
    r = api("put", "/practices/nope", "root", json={"body": "x", "base_revision": "a" * 40,
                                                    "agree_license": True})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_put_requires_base_revision(api):
    slug = create(api)["slug"]
    r = api("put", f"/practices/{slug}", "alice", json={"body": "x", "agree_license": True})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "base_revision"


def test_license_cannot_be_changed(api):
    data = create(api)
    r = api("put", f"/practices/{data['slug']}", "alice",
            json={"license": "CC-BY-NC-4.0", "base_revision": data["revision"],
                  "agree_license": True})
    assert r.status_code == 422 and "CC-BY-SA-4.0" in r.get_json()["error"]["message"]


def test_get_practice_fields_and_older_revision(api):
    data = create(api)
    slug, first = data["slug"], data["revision"]
    r = api("put", f"/practices/{slug}", "alice", json={"body": "Second.\n",
                                                        "base_revision": first,
                                                        "agree_license": True})
    second = r.get_json()["revision"]
    r = api("get", f"/practices/{slug}")
    assert r.headers["ETag"] == f'"{second}"'
    data = r.get_json()
    for key in ("slug", "title", "summary", "language", "tags", "license", "stewards", "body",
                "html", "revision", "updated", "authors", "translations", "forked_from",
                "credits", "source"):
        assert key in data
    old = api("get", f"/practices/{slug}?revision={first}").get_json()
    assert old["revision"] == first and "Start with how people feel" in old["body"]
    assert api("get", f"/practices/{slug}?revision=HEAD~1;rm").status_code == 422


def test_history_diff_revert(api, inst):
    data = create(api)
    slug, first = data["slug"], data["revision"]
    second = api("put", f"/practices/{slug}", "alice",
                 json={"body": "## Why\n\nStart with how teams feel.\n", "base_revision": first,
                       "agree_license": True, "message": "Teams, not people"}).get_json()
    h = api("get", f"/practices/{slug}/history").get_json()
    assert h["total"] == 2 and [c["revision"] for c in h["history"]] == [second["revision"], first]
    assert h["history"][0]["message"] == "Teams, not people"
    assert h["history"][0]["author"] == {"username": "alice", "name": "Alice"}
    assert "email" not in str(h)
    d = api("get", f"/practices/{slug}/diff?from={first}&to={second['revision']}")
    assert d.status_code == 200
    text = d.get_data(as_text=True)
    assert "-Start with how people feel." in text and "+Start with how teams feel." in text
    r = api("post", f"/practices/{slug}/revert", "alice",
            json={"revision": first, "agree_license": True})
    assert r.status_code == 200 and "how people feel" in r.get_json()["body"]
    assert f"Reverts: {first}" in git(inst, "log", "-1", "--format=%B")
    assert api("post", f"/practices/{slug}/revert", "bob",
               json={"revision": first, "agree_license": True}).status_code == 403


def test_rename_redirects_and_keeps_links(api, client, inst):
    data = create(api)
    linking = create(api, title="Linker", body="See [the weather](meteo-interieure.md) "
                                               "and [[meteo-interieure]].\n")
    r = api("post", f"/practices/{data['slug']}/rename", "alice",
            json={"slug": "inner-weather", "agree_license": True})
    assert r.status_code == 200 and r.get_json()["slug"] == "inner-weather"
    assert "Renamed-from: meteo-interieure" in git(inst, "log", "-1", "--format=%B")
    assert git(inst, "ls-tree", "--name-only", "main", "practices/").count("inner-weather.md") == 1
    page = client.get("/p/meteo-interieure")
    assert page.status_code == 301 and page.headers["Location"].endswith("/p/inner-weather")
    assert client.get("/p/meteo-interieure/history").headers["Location"].endswith(
        "/p/inner-weather/history")
    # history follows the rename
    h = api("get", "/practices/inner-weather/history").get_json()
    assert [c["kind"] for c in h["history"]] == ["rename", "create"]
    # links to the old slug still lead to a page, not to "create this practice"
    html = client.get(f"/p/{linking['slug']}").get_data(as_text=True)
    assert 'href="/p/meteo-interieure"' in html and "missing" not in html
    # the API follows the rename too; the old slug is taken for new practices
    assert api("get", "/practices/meteo-interieure").get_json()["slug"] == "inner-weather"
    assert create(api)["slug"] == "meteo-interieure-2"


def test_lists_and_changes(api):
    create(api)
    r = api("get", "/practices?per_page=5&page=2").get_json()
    assert r["page"] == 2 and r["per_page"] == 5 and r["total"] == 21
    assert len(r["practices"]) == 5
    assert set(r["practices"][0]) == {"slug", "title", "summary", "language", "tags", "license",
                                      "revision", "updated"}
    assert api("get", "/practices?per_page=1000").get_json()["per_page"] == 100
    assert api("get", "/practices?page=0").status_code == 422
    ch = api("get", "/changes?per_page=1").get_json()
    assert ch["changes"][0]["slug"] == "meteo-interieure" and ch["total"] == 21


def test_save_that_changes_nothing_makes_no_commit(api, inst):
    data = create(api)
    head = inst.store.head()
    r = api("put", f"/practices/{data['slug']}", "alice",
            json={"body": data["body"], "base_revision": data["revision"], "agree_license": True})
    assert r.status_code == 200 and r.get_json()["changed"] is False
    assert inst.store.head() == head


def test_unknown_api_route_is_json_404(client):
    r = client.get("/api/v1/nothing")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
