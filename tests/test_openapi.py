"""The OpenAPI document describes every /api/v1 route, with schemas."""
import re

# Writes that record a review in the database and commit nothing to a practice: no licence
# agreement. Every other write commits to git and must ask for it.
DISCUSSION = {"POST /practices/{slug}/proposals", "POST /proposals/{proposal_id}/comments",
              "POST /proposals/{proposal_id}/decline", "POST /proposals/{proposal_id}/withdraw",
              # moderation that adds no text: blocking is database state, and a removal is a
              # commit deleting a file (it asks for a reason instead)
              "POST /users/{username}/block", "POST /users/{username}/unblock",
              "POST /practices/{slug}/remove"}


def test_every_api_route_is_described(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = spec["paths"].get(path, {}).get(method.lower())
            if operation is None:
                missing.append(f"{method} {path}")
                continue
            assert operation["responses"], f"{method} {path} has no responses"
            if method in ("POST", "PUT"):
                content = operation["requestBody"]["content"]
                # file uploads (POST /import) are multipart; everything else is JSON
                schema = (content.get("application/json")
                          or content["multipart/form-data"])["schema"]
                asks = "agree_license" in schema.get("required", [])
                assert asks == (f"{method} {path}" not in DISCUSSION), f"{method} {path}"
    assert missing == []


def test_schemas_resolve(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    text = str(spec)
    for ref in re.findall(r"#/components/schemas/(\w+)", text):
        assert ref in spec["components"]["schemas"]
