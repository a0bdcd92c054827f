"""API fuzzing (issue 9): schemathesis generates requests from the OpenAPI
document, valid and invalid, for every operation, and sends them with a live
admin token to the real local stack (moto server + app server + pump). Every
response must be a non-5xx whose status code is documented for the operation,
whose content type is the documented one and whose body matches the
documented schema.

The document is the one `/api/openapi.json` serves (a test checks the stack
serves exactly it); it is built from the app at collection time so that each
operation is one test item. `make test` runs a few examples per operation,
derandomized; `make hardening` many more, random.
"""
import collections
import os

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

from app import app as chalice_app
from chalicelib.core import openapi
from tests.e2e.helpers import school_token
from tests.e2e.test_local_stack import PASSWORD

SUITE = "API fuzzing"
pytestmark = pytest.mark.e2e

#: Examples per operation: `make test` / `make hardening`.
FAST_EXAMPLES = int(os.environ.get("FUZZ_FAST_EXAMPLES", "3"))
HEAVY_EXAMPLES = int(os.environ.get("FUZZ_HEAVY_EXAMPLES", "100"))

DOCUMENT = openapi.build(chalice_app)
# make test: generated examples only (the coverage phase alone sends hundreds of
# boundary cases); make hardening: every phase, coverage and unexpected methods included.
fast_schema = schemathesis.openapi.from_dict(DOCUMENT, config=schemathesis.Config.from_dict(
    {"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}}))
heavy_schema = schemathesis.openapi.from_dict(DOCUMENT)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ADMIN_EMAIL = "fuzz-admin@fuzz.sch.uk"

#: (method, path) -> Counter of status codes seen, for the sanity checks below.
SEEN = collections.defaultdict(collections.Counter)




@pytest.fixture(scope="module")
def fuzz_session(stack):
    """A verified school's admin, signed in through the API, and one record of
    each kind, so that half the cases of an operation with path parameters
    reach a real record instead of a 404."""
    token = school_token(stack, ADMIN_EMAIL, name="Fuzz Academy", first_name="Fuzz")
    base = f"http://127.0.0.1:{stack.port}"
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"

    def make(path, body):
        r = http.post(base + path, json=body, timeout=30)
        assert r.status_code == 201, r.text
        return r.json()
    pupil = make("/api/pupils", {"first_name": "Fuzzy", "surname": "Pupil", "date_of_birth": "2014-05-06",
                                 "gender": "M", "year_group": "5", "registration_group": "5F"})
    staff = make("/api/staff", {"first_name": "Fuzzy", "surname": "Teacher", "email": "fuzz-teacher@fuzz.sch.uk",
                                "user_group": "Teachers"})
    group = make("/api/groups", {"name": "Fuzz group", "priority": "normal", "member_type": "user", "shared": True})
    machine = make("/api/machines", {"name": "Fuzz laptop", "location": "Lab"})
    upload = make("/api/imports", {"kind": "pupils", "filename": "fuzz.csv"})
    http.headers.pop("Authorization")
    ids = {"pupil_id": pupil["id"], "user_id": staff["id"], "group_id": group["id"], "member_id": pupil["id"],
           "machine_id": machine["id"], "import_id": upload["import_id"], "name": "Teachers"}
    return {"base_url": base, "token": token, "http": http, "ids": ids}


#: Routes that end the session they are called with (or every session).
SESSION_ENDING = {("POST", "/api/auth/logout"), ("POST", "/api/auth/logout-everywhere")}


def _fresh_token(session):
    r = session["http"].post(f"{session['base_url']}/api/auth/login",
                             json={"email": ADMIN_EMAIL, "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def _run(case, session):
    token = session["token"]
    key = (case.method, case.path)
    if case.path_parameters and case.method != "DELETE" and sum(SEEN[key].values()) % 2 == 0:
        for name in case.path_parameters:
            if name in session["ids"] and not case.path.startswith("/assets/"):
                case.path_parameters[name] = session["ids"][name]
    if key in SESSION_ENDING:
        token = _fresh_token(session)  # these end the session they are sent with
    response = case.call_and_validate(base_url=session["base_url"], session=session["http"],
                                      headers={"Authorization": f"Bearer {token}"},
                                      checks=CHECKS, timeout=60)
    SEEN[key][response.status_code] += 1
    if key == ("POST", "/api/auth/logout-everywhere") and response.status_code == 200:
        session["token"] = _fresh_token(session)  # every session ended, the fuzzer's own too


COMMON = {"deadline": None, "database": None, "print_blob": False, "suppress_health_check": list(HealthCheck)}


@fast_schema.parametrize()
@settings(max_examples=FAST_EXAMPLES, derandomize=True, **COMMON)
def test_fuzz(case, fuzz_session):
    _run(case, fuzz_session)


@pytest.mark.heavy
@heavy_schema.parametrize()
@settings(max_examples=HEAVY_EXAMPLES, **COMMON)
def test_fuzz_heavy(case, fuzz_session):
    _run(case, fuzz_session)


def test_the_stack_serves_the_fuzzed_document(fuzz_session):
    r = requests.get(f"{fuzz_session['base_url']}/api/openapi.json", timeout=30)
    assert r.status_code == 200
    assert r.json() == DOCUMENT


def test_the_fuzzer_got_past_the_door(fuzz_session):
    """The cases above ran signed in: the token still works, and operations
    without path parameters answered with something other than 401."""
    r = requests.get(f"{fuzz_session['base_url']}/api/me",
                     headers={"Authorization": f"Bearer {fuzz_session['token']}"}, timeout=30)
    assert r.status_code == 200, r.text
    assert SEEN, "no fuzz case ran"
    total = collections.Counter()
    for seen in SEEN.values():
        total.update(seen)
    print(f"\nfuzz: {sum(total.values())} requests over {len(SEEN)} operations; statuses {dict(sorted(total.items()))}")
    for op, seen in sorted(SEEN.items(), key=lambda kv: -sum(kv[1].values()))[:8]:
        print(f"  {op[0]} {op[1]}: {sum(seen.values())} {dict(seen)}")
    for path, methods in DOCUMENT["paths"].items():
        for method in methods:
            seen = SEEN.get((method.upper(), path))
            assert seen, f"{method.upper()} {path}: never called"
            if "{" not in path:
                assert set(seen) - {401}, f"{method.upper()} {path}: only 401s {dict(seen)}"
