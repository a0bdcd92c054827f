"""OneRoster 1.2 conformance: schemathesis generates requests from 1EdTech's
own OpenAPI description of the rostering service (vendored under
tests/data/oneroster, with its licence) for every operation we serve, and
sends them with an API client's token to the real local stack. Every answer
must be a non-5xx whose status, content type, headers and body the
description allows."""
import collections
import json
import os
import re

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.integrations.or_routes import COLLECTIONS
from tests.e2e.helpers import school_token

pytestmark = pytest.mark.e2e

SPEC = os.path.join(os.path.dirname(__file__), "..", "data", "oneroster",
                    "onerosterv1p2rostersservice_openapi3_v1p0.json")
EXAMPLES = int(os.environ.get("ONEROSTER_EXAMPLES", "4"))
#: the operations we serve: each collection, each record, and the five relations
SERVED = sorted({f"/{c[0]}" for c in COLLECTIONS} | {f"/{c[0]}/{{sourcedId}}" for c in COLLECTIONS} | {
    "/schools/{schoolSourcedId}/classes", "/classes/{classSourcedId}/students", "/classes/{classSourcedId}/teachers",
    "/students/{studentSourcedId}/classes", "/teachers/{teacherSourcedId}/classes"})
with open(SPEC, encoding="utf-8") as _fh:
    DOCUMENT = json.load(_fh)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=schemathesis.Config.from_dict(
    {"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}})).include(
    path_regex="^(" + "|".join(re.escape(p) for p in SERVED) + ")$")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SEEN = collections.Counter()


@pytest.fixture(scope="module")
def oneroster(stack):
    """A school with a pupil, a member of staff and a class, and an API client's token."""
    base = f"http://127.0.0.1:{stack.port}"
    admin = {"Authorization": "Bearer " + school_token(stack, "or-admin@conform.sch.uk", name="Conform Academy")}
    for path, body in (("/api/pupils", {"first_name": "Orla", "surname": "Roster", "date_of_birth": "2013-04-05",
                                        "gender": "F", "year_group": "8"}),
                       ("/api/staff", {"first_name": "Owen", "surname": "Roster", "email": "owen@conform.sch.uk",
                                       "user_group": "Teachers"})):
        assert requests.post(base + path, json=body, headers=admin, timeout=30).status_code == 201
    group = requests.post(base + "/api/groups", json={"name": "8 Maths"}, headers=admin, timeout=30).json()
    made = requests.post(base + "/api/clients", json={"name": "Conformance", "scopes": ["oneroster.read", "oneroster.demographics"]},
                         headers=admin, timeout=30).json()
    token = requests.post(base + "/api/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(made["client_id"], made["client_secret"]), timeout=30).json()["access_token"]
    return {"base_url": base + "/ims/oneroster/rostering/v1p2", "token": token, "group": group["id"]}


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=False,
          suppress_health_check=list(HealthCheck))
def test_conformance(case, oneroster):
    response = case.call_and_validate(base_url=oneroster["base_url"],
                                      headers={"Authorization": f"Bearer {oneroster['token']}"},
                                      checks=CHECKS, timeout=60)
    SEEN[response.status_code] += 1


def test_every_served_operation_is_in_the_description():
    assert set(SERVED) <= set(DOCUMENT["paths"])


def test_the_conformance_run_reached_records(oneroster):
    """Beside the generated cases: real records answer 200 in the spec's shapes."""
    auth = {"Authorization": f"Bearer {oneroster['token']}"}
    for path in ("/users", "/classes", f"/classes/{oneroster['group']}/students", "/demographics"):
        r = requests.get(oneroster["base_url"] + path, headers=auth, timeout=30)
        assert r.status_code == 200 and "X-Total-Count" in r.headers, (path, r.text)
    assert SEEN[200] and sum(SEEN.values()) > SEEN[200], f"generated cases should reach both answers: {SEEN}"
