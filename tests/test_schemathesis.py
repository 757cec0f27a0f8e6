"""Schemathesis against a real server: every /api/v1 operation, fuzzed from its OpenAPI schema.

A throwaway copy of the seeded instance is served by ``commons serve`` (gunicorn, a separate
process); the schema is loaded from the server's own ``/api/v1/openapi.json``, and every
operation gets a bounded number of generated requests (valid and invalid ones), sent with an
admin's bearer token. Each response must not be a 5xx and must match the schema it is
documented with. ``SCHEMATHESIS_MAX_EXAMPLES`` (default 15) raises the number of examples per
operation for a longer run. The server's log must hold no traceback at the end.

Each operation's Hypothesis test is built here from ``operation.as_strategy()`` rather than with
``schema.parametrize()``: Schemathesis 4.32's pytest integration reads ``Function._nodeid``,
which pytest 9.2 no longer has; one test item per operation also reports each one on its own.
"""
from __future__ import annotations

import os
import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from commons.web import openapi

from .conftest import PASSWORD
from .serverproc import Server, cli
from .serverproc import request as http_request

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))


@pytest.fixture(scope="module")
def live(seeded_home, tmp_path_factory, request) -> dict:
    """A served instance and an admin token made with the CLI."""
    home = tmp_path_factory.mktemp("fuzzed") / "instance"
    shutil.copytree(seeded_home, home)
    cli(home, "user", "add", "root", "--password", PASSWORD, "--role", "admin")
    token = cli(home, "token", "create", "root").stdout.strip()
    assert token and "\n" not in token
    server = Server(home, workers=2, log_dir=home.parent)
    request.addfinalizer(server.stop)
    server.start()
    yield {"server": server, "token": token, "base_url": server.url + "/api/v1"}
    assert server.proc is not None and server.proc.poll() is None, \
        "the server died under fuzzing:\n" + server.logs()
    logs = server.logs()
    assert "Traceback" not in logs, logs


def _operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every documented operation, read from the same spec the server serves,
    so each one is its own test item."""
    paths = openapi.spec()["paths"]
    return [(method.upper(), path) for path, item in paths.items()
            for method in item if method in ("get", "post", "put", "patch", "delete")]


@pytest.fixture(scope="module")
def api_schema(live):
    """The schema the live server serves (fetched here, then handed to Schemathesis as a dict:
    ``from_url`` leaves out the operation that serves the schema itself)."""
    status, document = http_request("GET", live["base_url"] + "/openapi.json", live["token"])
    assert status == 200, document
    loaded = schemathesis.openapi.from_dict(document)
    served = {(op.ok().method.upper(), op.ok().path) for op in loaded.get_all_operations()}
    assert served == set(_operations())
    return loaded


@pytest.fixture(scope="module")
def slugs(live) -> list[str]:
    """A few practices that exist, so path parameters also reach past the 404."""
    status, data = http_request("GET", live["base_url"] + "/practices?per_page=5", live["token"])
    assert status == 200
    return [item["slug"] for item in data["practices"]]


def _strategy(operation, slugs: list[str]):
    """Valid and invalid requests, with generated path parameters and with real slugs."""
    modes = [operation.as_strategy(GenerationMode.POSITIVE),
             operation.as_strategy(GenerationMode.NEGATIVE)]
    if "{slug}" in operation.path:
        modes += [operation.as_strategy(GenerationMode.POSITIVE, path_parameters={"slug": slug})
                  for slug in slugs[:2]]
    return st.one_of(modes)


@pytest.mark.parametrize("method,path", _operations(), ids=lambda v: v)
def test_api_operation(api_schema, slugs, live, method, path):
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {live['token']}"}

    @given(case=_strategy(operation, slugs))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case):
        case.call_and_validate(base_url=live["base_url"], headers=headers,
                               checks=[not_a_server_error, response_schema_conformance],
                               timeout=30)

    fuzz()


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/practices?page=106218852491536670877600972800", 422),   # was a 500 (OverflowError)
    ("GET", "/changes?page=1000001", 422),
    ("GET", "/proposals/8906616778733772779552768", 404),             # was a 500 (OverflowError)
    ("POST", "/proposals/80938372718085554176/withdraw", 404),
])
def test_found_by_fuzzing_out_of_range_integers_are_refused(live, method, path, status):
    got, data = http_request(method, live["base_url"] + path, live["token"])
    assert got == status, data
    assert data["error"]["code"] == ("validation" if status == 422 else "not_found")
