"""Tenant isolation matrix (issue 9).

Two schools, A and B, each with data of every kind (pupils, staff, a custom
user group, teacher and machine groups with memberships, machines, a
committed import and one in review with refused rows, audit entries). Then,
as A's admin (who holds every permission, so nothing is forbidden):

- every operation of the live ``/api/openapi.json`` that takes an id in its
  path is called with each of B's ids of that kind and with ids that do not
  exist: 404 ``not_found``, never a 2xx or 5xx;
- every list/search route (GET without an id) is called with query values
  aimed at B's data (B's names, year and registration group, user group,
  B's paging cursors): never a 5xx, a cursor of B's is refused (400);
- ids in bodies: B's pupils and machines added to A's groups, B's UPN and
  emails reused by A.

For every case, no byte of B's data (names, UPNs, emails, ids, group and
machine names, file names, the tag every B name carries) may be in the
response body, except what A itself sent in that request; and B's records
(every DynamoDB item naming B's school or B's staff emails, B's S3 objects)
must be exactly as before the call.

The cases come from the live OpenAPI document: a new route with a path
parameter that has no id provider below, or a new route not classified,
becomes a failing case.
"""
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

import pytest

from tests import sso

from tests.hardening.fixtures import PRIVATE_UNTIL, build_school, moto_env, upn

SUITE = "tenant isolation"

MISSING = "0123456789abcdef0123456789abcdef"  # shaped like our ids, in no school


def live_openapi():
    """GET /api/openapi.json from the app (it touches no AWS)."""
    from chalice.test import Client

    from app import app
    with Client(app, stage_name="test") as client:
        r = client.http.get("/api/openapi.json")
        assert r.status_code == 200, r.body
        return json.loads(r.body)


DOC = live_openapi()
# Reads before writes, deletes last: a route that wrongly reached B's record
# is reported by every case it breaks, not hidden by an earlier delete.
_ORDER = {"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}
OPERATIONS = [(method.upper(), path, op) for path, methods in sorted(DOC["paths"].items())
              for method, op in sorted(methods.items(), key=lambda m: _ORDER.get(m[0], 9))]
PATH_PARAM = re.compile(r"{([^}]+)}")


# --------------------------------------------------------------- the world

@dataclass
class World:
    env: object
    a: object
    b: object
    cursors: dict          # B's "next" cursors: {(path, query): cursor}

    def cursor(self, name):
        path, query = CURSORS[name]
        return self.cursors[path.replace("{import_id}", self.b.review_import["id"]), query.format(b=self.b)]
    planted: set           # strings A itself wrote into A's data in a case (scrubbed from A's reads)
    feed_cursor: str = ""  # B's change feed cursor


@pytest.fixture(scope="module")
def world():
    with moto_env() as env:
        a = build_school(env, "Ashgrove", la="940", year_group="5", registration_group="Ash-5A")
        b = build_school(env, "Birchwood", la="941", year_group="3", registration_group="Birch-3Q")
        cursors = {}
        for path, query in CURSORS.values():
            path = path.replace("{import_id}", b.review_import["id"])
            query = query.format(b=b)
            r = env.api.get(f"{path}?{query}&limit=1", token=b.token)
            assert r.status_code == 200 and r.data["next"], (path, r.body)
            cursors[path, query] = r.data["next"]
        feed = env.api.get("/api/changes", token=b.token)
        assert feed.status_code == 200, feed.body
        yield World(env=env, a=a, b=b, cursors=cursors, planted=set(), feed_cursor=feed.data["next"])


def b_state(w):
    """Every DynamoDB item that names B's school or one of B's staff emails,
    and B's S3 objects: what no call of A's may change. Read from moto's
    store directly (a Scan per table per case would be slow, and the app's
    own calls stay under the no-Scan guard)."""
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib.core import config
    needles = {w.b.school_id, w.b.admin["email"], w.b.teacher["email"], w.b.invited["email"]}
    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][config.region()].tables
    state = {}
    for logical in config.TABLES:
        items = (json.dumps(i.to_json(), sort_keys=True) for i in tables[config.table_name(logical)].all_items())
        state[logical] = sorted(i for i in items if any(n in i for n in needles))
    s3 = boto3.client("s3", region_name=config.region())
    objects = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=config.bucket_name()):
        objects += [(o["Key"], o["ETag"]) for o in page.get("Contents", []) if w.b.school_id in o["Key"]]
    state["s3"] = sorted(objects)
    assert state["users"] and state["pupils"] and state["s3"], "B's records not found: the check would be empty"
    return state


def leaks(w, response_body, sent):
    """B's markers found in a response, ignoring what the caller sent and
    what A itself planted in A's own data."""
    text = response_body.decode("utf-8", "replace") if isinstance(response_body, bytes) else str(response_body or "")
    for planted in w.planted:
        text = text.replace(planted, "")
    return sorted(m for m in w.b.markers() if m in text and m not in sent)


# --------------------------------------------------------------- ids

#: For each path parameter: (label, value) sources. B's ids of that kind and
#: ids that exist nowhere.
IDS = {
    "pupil_id": [
        ("B's pupil", lambda w: w.b.pupils[0]["id"]),
        ("B's imported pupil", lambda w: next(p["id"] for p in w.b.pupils if "Imported" in p["first_name"])),
        ("missing", lambda w: MISSING),
    ],
    "user_id": [
        ("B's admin", lambda w: w.b.admin["user_id"]),
        ("B's teacher", lambda w: w.b.teacher["id"]),
        ("B's invited staff", lambda w: w.b.invited["id"]),
        ("missing", lambda w: MISSING),
    ],
    "group_id": [
        ("B's shared group", lambda w: w.b.shared_group["id"]),
        ("B's machine group", lambda w: w.b.machine_group["id"]),
        ("B's private group", lambda w: w.b.private_group["id"]),
        ("B's registration group", lambda w: w.b.reg_group_id),
        ("B's year group", lambda w: w.b.year_group_id),
        ("missing", lambda w: MISSING),
        ("missing system group", lambda w: "sys-reg-000000000000"),
        ("the system catalogue item", lambda w: "~system"),
    ],
    "machine_id": [
        ("B's machine in a group", lambda w: w.b.machines[0]["id"]),
        ("B's other machine", lambda w: w.b.machines[1]["id"]),
        ("missing", lambda w: MISSING),
    ],
    "member_id": [
        ("B's pupil", lambda w: w.b.pupils[0]["id"]),
        ("B's teacher", lambda w: w.b.teacher["id"]),
        ("B's machine in a group", lambda w: w.b.machines[0]["id"]),
        ("missing", lambda w: MISSING),
    ],
    "session_id": [
        ("B's admin's session", lambda w: _b_session(w)),
        ("missing", lambda w: MISSING),
    ],
    "client_id": [
        ("B's API client", lambda w: w.b.client["client_id"]),
        ("missing", lambda w: MISSING),
    ],
    # OneRoster's sourcedIds: B's school, people, groups, and the ids of B's course and session
    "sourcedId": [
        ("B's school", lambda w: w.b.school_id),
        ("B's pupil", lambda w: w.b.pupils[0]["id"]),
        ("B's teacher", lambda w: w.b.teacher["id"]),
        ("B's shared group", lambda w: w.b.shared_group["id"]),
        ("B's private group", lambda w: w.b.private_group["id"]),
        ("B's course", lambda w: f"{w.b.school_id}-groups"),
        ("B's enrollment", lambda w: f"{w.b.shared_group['id']}-{w.b.pupils[0]['id']}"),
        ("missing", lambda w: MISSING),
    ],
    "schoolSourcedId": [("B's school", lambda w: w.b.school_id), ("missing", lambda w: MISSING)],
    "classSourcedId": [("B's shared group", lambda w: w.b.shared_group["id"]),
                       ("B's private group", lambda w: w.b.private_group["id"]), ("missing", lambda w: MISSING)],
    "studentSourcedId": [("B's pupil", lambda w: w.b.pupils[0]["id"]), ("missing", lambda w: MISSING)],
    "teacherSourcedId": [("B's teacher", lambda w: w.b.teacher["id"]), ("B's admin", lambda w: w.b.admin["user_id"]),
                         ("missing", lambda w: MISSING)],
    "import_id": [
        ("B's committed import", lambda w: w.b.committed_import["id"]),
        ("B's import in review", lambda w: w.b.review_import["id"]),
        ("missing", lambda w: MISSING),
    ],
}

def _b_session(w):
    """B's admin's own session (A may neither see nor end it)."""
    items = w.env.api.get("/api/auth/sessions", token=w.b.token).data["items"]
    return next(s["id"] for s in items if s["current"])


#: Paths with more than one parameter, or whose parameter is not an id.
COMBOS = {
    "/api/groups/{group_id}/staff/{user_id}": [
        ("B's shared group, B's teacher", lambda w: {"group_id": w.b.shared_group["id"], "user_id": w.b.teacher["id"]}),
        ("B's private group, B's admin", lambda w: {"group_id": w.b.private_group["id"],
                                                    "user_id": w.b.admin["user_id"]}),
        ("A's group, B's teacher", lambda w: {"group_id": w.a.shared_group["id"], "user_id": w.b.teacher["id"]}),
        ("A's group, B's admin", lambda w: {"group_id": w.a.shared_group["id"], "user_id": w.b.admin["user_id"]}),
        ("missing, missing", lambda w: {"group_id": MISSING, "user_id": MISSING}),
    ],
    "/api/groups/{group_id}/members/{member_id}": [
        ("B's group, B's pupil", lambda w: {"group_id": w.b.shared_group["id"], "member_id": w.b.pupils[0]["id"]}),
        ("B's group, B's teacher", lambda w: {"group_id": w.b.shared_group["id"], "member_id": w.b.teacher["id"]}),
        ("B's machine group, B's machine",
         lambda w: {"group_id": w.b.machine_group["id"], "member_id": w.b.machines[0]["id"]}),
        ("B's private group, B's pupil", lambda w: {"group_id": w.b.private_group["id"],
                                                    "member_id": w.b.pupils[1]["id"]}),
        ("A's group, B's pupil", lambda w: {"group_id": w.a.shared_group["id"], "member_id": w.b.pupils[0]["id"]}),
        ("A's group, B's teacher", lambda w: {"group_id": w.a.shared_group["id"], "member_id": w.b.teacher["id"]}),
        ("A's machine group, B's machine",
         lambda w: {"group_id": w.a.machine_group["id"], "member_id": w.b.machines[0]["id"]}),
        ("missing, missing", lambda w: {"group_id": MISSING, "member_id": MISSING}),
    ],
    "/api/imports/{import_id}/rows/{row}": [
        ("B's import, B's refused row", lambda w: {"import_id": w.b.review_import["id"],
                                                   "row": str(w.b.refused_rows[0]["row"])}),
        ("B's import, B's other refused row", lambda w: {"import_id": w.b.review_import["id"],
                                                         "row": str(w.b.refused_rows[1]["row"])}),
        ("B's committed import, row 2", lambda w: {"import_id": w.b.committed_import["id"], "row": "2"}),
        ("A's import, missing row", lambda w: {"import_id": w.a.review_import["id"], "row": "9999"}),
        ("missing import, row 3", lambda w: {"import_id": MISSING, "row": "3"}),
    ],
    # A user group is named, not numbered, and its name is the caller's
    # school's: PUT with B's custom group name creates A's own group.
    "/api/user-groups/{name}": [
        ("B's custom group name", lambda w: {"name": quote(w.b.custom_group)}),
    ],
    # Static console files: nothing of a school is served from there.
    "/assets/{name}": [
        ("B's import file name", lambda w: {"name": w.b.committed_import["filename"]}),
        ("B's pupil id", lambda w: {"name": w.b.pupils[0]["id"] + ".js"}),
    ],
}

#: Cases that expect something other than 404 ``not_found``.
UPSERT = {("PUT", "/api/user-groups/{name}")}

#: Valid bodies, so a 404 comes from the lookup and not from validation.
BODIES = {
    ("PATCH", "/api/groups/{group_id}"): lambda w: {"priority": "high", "name": "Renamed by A"},
    ("POST", "/api/groups/{group_id}/members"): lambda w: {"member_ids": [w.a.pupils[0]["id"]], "until": None},
    ("PATCH", "/api/pupils/{pupil_id}"): lambda w: {"version": 1, "registration_group": "Moved by A"},
    ("PATCH", "/api/staff/{user_id}"): lambda w: {"version": 1, "job_role": "Changed by A"},
    ("PUT", "/api/imports/{import_id}/mapping"): lambda w: {"mapping": w.a.review_import["mapping"]},
    ("PUT", "/api/imports/{import_id}/sheet"): lambda w: {"sheet": "Sheet1"},
    ("PATCH", "/api/imports/{import_id}/rows/{row}"): lambda w: {"values": {"surname": "Fixedbya"}},
    ("PUT", "/api/user-groups/{name}"): lambda w: {"permissions": ["create_groups"]},
    ("PUT", "/api/groups/{group_id}/staff/{user_id}"): lambda w: {"role": "owner"},
    ("POST", "/api/groups/{group_id}/transfer"): lambda w: {"to": w.a.teacher["id"]},
}

#: Query values aimed at B's data, for list and search routes.
QUERY = {
    "q": [("B's pupil name", lambda w: w.b.pupils[0]["first_name"][:12]),
          ("B's tag", lambda w: w.b.tag.lower()),
          ("B's staff surname", lambda w: w.b.teacher["surname"])],
    "year_group": [("B's year group", lambda w: w.b.year_group)],
    "registration_group": [("B's registration group", lambda w: w.b.registration_group)],
    "user_group": [("B's custom user group", lambda w: w.b.custom_group)],
    "status": [("invited, as B has", lambda w: "invited"), ("disabled", lambda w: "disabled")],
    "next": [("B's cursor", None)],  # per route, from World.cursors
    "limit": [("the largest page", lambda w: "500")],
    "kind": [("pupils", lambda w: "pupils")],
    "only": [("all rows", lambda w: "all")],
    "mine": [("only the caller's", lambda w: "true")],
    "unowned": [("those left without an owner", lambda w: "true")],
    # the audit log's filters, aimed at B's records and people
    "entity": [("pupil records", lambda w: "pupil")],
    "record_id": [("B's pupil", lambda w: w.b.pupils[0]["id"])],
    "actor": [("B's admin", lambda w: w.b.admin["user_id"])],
    "action": [("sign-ins", lambda w: "login")],
    "from": [("the start of time", lambda w: "2000-01-01T00:00:00Z")],
    "to": [("the end of time", lambda w: "2099-01-01T00:00:00Z")],
    # the change feed's position: from now (B's own cursor: a case of its own)
    "since": [("now", lambda w: "now")],
    # OneRoster's collection parameters, aimed at B's people
    "filter": [("B's pupil", lambda w: f"sourcedId='{w.b.pupils[0]['id']}'"),
               ("B's school, or active", lambda w: f"sourcedId='{w.b.school_id}' OR status='active'")],
    "fields": [("sourcedId", lambda w: "sourcedId")],
    "sort": [("by sourcedId", lambda w: "sourcedId")],
    "orderBy": [("descending", lambda w: "desc")],
    "offset": [("past A's own", lambda w: "3")],
    "link": [("as JSON", lambda w: "json")],
}

#: B's paging cursors, taken by B's admin with limit=1: name -> (path, query).
#: A name equal to its path is that list route's plain ``next``.
CURSORS = {
    "/api/pupils": ("/api/pupils", "q="),
    "/api/staff": ("/api/staff", "q="),
    "/api/imports": ("/api/imports", "kind=pupils"),
    "/api/audit": ("/api/audit", "x=1"),
    "B's cursor of a name search": ("/api/pupils", "q=birchwood"),
    "B's cursor of its year group": ("/api/pupils", "year_group={b.year_group}"),
    "B's cursor of its registration group": ("/api/pupils", "registration_group={b.registration_group}"),
    "B's cursor of a staff search": ("/api/staff", "q=birchwood"),
    "B's rows cursor": ("/api/imports/{import_id}/rows", "only=errors"),
}

#: Operations that take no id in the path and are not GETs: each says why
#: it is not in the id matrix (ids in bodies are in BODY_REFS).
NO_IDS = {
    ("POST", "/api/auth/accept-invite"): "public; a token, not an id (tokens suite)",
    ("POST", "/api/auth/login"): "public; an email and password (tokens suite)",
    ("POST", "/api/auth/logout"): "revokes the caller's own token only",
    ("POST", "/api/auth/logout-everywhere"): "ends the caller's own sessions only (sessions_after on their user)",
    ("POST", "/api/auth/change-password"): "the caller's own login only (by the caller's email)",
    ("POST", "/api/auth/forgot-password"): "public; an email, same answer for any (tokens suite)",
    ("POST", "/api/auth/reset-password"): "public; a token, not an id (tokens suite)",
    ("POST", "/api/auth/mfa/setup"): "the caller's own login only",
    ("POST", "/api/auth/mfa/confirm"): "the caller's own login only",
    ("DELETE", "/api/auth/mfa"): "the caller's own login only",
    ("POST", "/api/auth/mfa/verify"): "public; a two-factor step token, not an id (tokens suite)",
    ("POST", "/api/auth/resend-verification"): "the caller's own account only",
    ("POST", "/api/auth/verify"): "public; a token, not an id (tokens suite)",
    ("POST", "/api/exports"): "A's own roster, no id (tests/roster/test_exports.py: only A's rows)",
    ("POST", "/api/groups"): "creates A's own group; no id",
    ("POST", "/api/clients"): "creates A's own API client; no id",
    ("POST", "/api/oauth/token"): "public; a client's own id and secret, for a token of its own school "
                                  "(tests/accounts/test_api_clients.py)",
    ("POST", "/api/auth/sso/exchange"): "public; a one-time code, not an id (test_a_provider_of_a_*)",
    ("PUT", "/api/settings/sso"): "A's own school's provider; no id (test_a_provider_of_a_*)",
    ("DELETE", "/api/settings/sso"): "A's own school's provider; no id",
    ("POST", "/api/settings/sso/test"): "A's own school's provider; no id",
    ("POST", "/api/settings/sso/test-result"): "a one-time code of the caller's own test (test_a_provider_of_a_*)",
    ("POST", "/api/imports"): "creates A's own import; no id",
    ("POST", "/api/machines"): "creates A's own machine; no id",
    ("POST", "/api/pupils"): "B's UPN reused: BODY_REFS",
    ("POST", "/api/schools"): "public sign-up; no id",
    ("POST", "/api/staff"): "B's email reused: BODY_REFS",
    ("PATCH", "/api/settings"): "A's own school only; no id",
    ("POST", "/api/rollover"): "A's own school's rollover (by the caller's school); no id",
    ("POST", "/api/rollover/cancel"): "A's own scheduled rollover; no id (tests/lifecycle: per school)",
    ("POST", "/api/rollover/undo"): "A's own applied rollover; no id (tests/lifecycle: per school)",
}


@dataclass
class Case:
    method: str
    template: str
    label: str
    params: Callable | None = None   # world -> {param: value}
    query: Callable | None = None    # world -> "a=b&..."
    body: Callable | None = None     # world -> dict
    expect: str = "not_found"        # not_found | upsert | list | cursor | ... (BODY_REFS)
    problem: str | None = None       # why this route cannot be tested (a failing case)

    @property
    def id(self):
        return f"{self.method} {self.template} <- {self.label}"


def _path_param(name, fn):
    return lambda w: {name: fn(w)}


def _query_param(name, fn):
    return lambda w: f"{name}={quote(fn(w))}"


def _b_cursor(cursor_name, query=None):
    return lambda w: (query.format(b=w.b) + "&" if query else "") + "next=" + w.cursor(cursor_name)


def id_cases():
    cases = []
    for method, path, op in OPERATIONS:
        names = PATH_PARAM.findall(path)
        if not names:
            continue
        body = BODIES.get((method, path))
        problem = None
        if "requestBody" in op and body is None:
            problem = f"no valid body for {method} {path} in BODIES"
        expect = "upsert" if (method, path) in UPSERT else "not_found"
        if path in COMBOS:
            sources = COMBOS[path]
        elif len(names) == 1 and names[0] in IDS:
            sources = [(label, _path_param(names[0], fn)) for label, fn in IDS[names[0]]]
        else:
            cases.append(Case(method, path, "no id provider", problem=f"no id provider for {names} of {path}"))
            continue
        for label, params in sources:
            cases.append(Case(method, path, label, params=params, body=body, expect=expect, problem=problem))
    return cases


#: GETs a browser makes on its way through a provider sign-in: no list, no
#: school's data; each isolated by its own test below (test_a_provider_of_a_*)
BROWSER_GETS = {
    ("GET", "/api/auth/sso/start"): "a school's provider by its id or domain: B's has none of A's",
    ("GET", "/api/auth/sso/callback"): "a state only the browser that started it can use",
    ("GET", "/api/auth/sso/discover"): "a domain's school: A's domains name A only",
}


def list_cases():
    cases = []
    for method, path, op in OPERATIONS:
        if method != "GET" or PATH_PARAM.search(path) or (method, path) in BROWSER_GETS:
            continue
        cases.append(Case(method, path, "no query", expect="list"))
        for param in (p["name"] for p in op["parameters"] if p["in"] == "query"):
            if param not in QUERY:
                cases.append(Case(method, path, f"?{param}", problem=f"no query value for {param} of {path}"))
                continue
            for label, fn in QUERY[param]:
                if param == "next":
                    if path not in CURSORS:
                        cases.append(Case(method, path, "B's cursor", problem=f"no cursor of B's for {path}"))
                        continue
                    cases.append(Case(method, path, "B's cursor", expect="cursor",
                                      query=_b_cursor(path)))
                    continue
                cases.append(Case(method, path, f"?{param}: {label}", expect="list",
                                  query=_query_param(param, fn)))
    cases.append(Case("GET", "/api/changes", "B's change feed cursor", expect="cursor",
                      query=lambda w: "since=" + w.feed_cursor))
    # B's cursors of searches and filtered lists, on the same query of A's;
    # B's rows cursor on A's own import.
    for name, (path, query) in CURSORS.items():
        if name == path:
            continue
        if "{import_id}" in path:
            cases.append(Case("GET", path, f"A's import, {name}", expect="cursor",
                              params=lambda w: {"import_id": w.a.review_import["id"]},
                              query=_b_cursor(name)))
        else:
            cases.append(Case("GET", path, name, expect="cursor",
                              query=_b_cursor(name, query)))
    return cases


ID_CASES = id_cases()
LIST_CASES = list_cases()


def call(w, case, token=None):
    path = case.template
    params = case.params(w) if case.params else {}
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    if case.query:
        path += "?" + case.query(w)
    body = case.body(w) if case.body else None
    if body is None and case.method in ("POST", "PUT", "PATCH"):
        body = {}
    r = w.env.api.call(case.method, path, body, token=token or w.a.token)
    return r, unquote(path) + " " + json.dumps(body, ensure_ascii=False)


def check_no_leak_and_b_unchanged(w, case, run):
    before = b_state(w)
    r, sent = run()
    after = b_state(w)
    assert r.status_code < 500, (r.status_code, r.body)
    found = leaks(w, r.body, sent)
    assert not found, f"B's data in the response to {case.id}: {found}\n{r.body[:2000]!r}"
    changed = {k for k in before if before[k] != after[k]}
    assert not changed, f"B's records changed by {case.id}: {changed}"
    return r


# --------------------------------------------------------------- the tests

def _code(r):
    """An error's code; OneRoster's spec shape read as ours (unknownobject is not_found)."""
    if "imsx_CodeMinor" in (r.data or {}):
        minor = r.data["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
        return {"unknownobject": "not_found", "forbidden": "permission_denied"}.get(minor, minor)
    return r.data["code"]


@pytest.mark.parametrize("case", ID_CASES, ids=lambda c: c.id)
def test_b_ids_and_missing_ids_are_not_found(world, case):
    if case.problem:
        pytest.fail(case.problem)
    r = check_no_leak_and_b_unchanged(world, case, lambda: call(world, case))
    if case.expect == "not_found":
        assert r.status_code == 404 and r.data and _code(r) == "not_found", (r.status_code, r.body)
    else:  # upsert: A's own user group of that name, with what A sent
        assert r.status_code == 200, r.body
        assert r.data["name"] == world.b.custom_group and r.data["permissions"] == ["create_groups"]
        world.planted.add(world.b.custom_group)
        mine = world.env.api.get("/api/user-groups", token=world.a.token).data["items"]
        theirs = world.env.api.get("/api/user-groups", token=world.b.token).data["items"]
        assert {g["name"]: g["permissions"] for g in mine}[world.b.custom_group] == ["create_groups"]
        assert {g["name"]: g["permissions"] for g in theirs}[world.b.custom_group] == ["view_roster"]


@pytest.mark.parametrize("case", LIST_CASES, ids=lambda c: c.id)
def test_list_and_search_routes_show_nothing_of_b(world, case):
    if case.problem:
        pytest.fail(case.problem)
    r = check_no_leak_and_b_unchanged(world, case, lambda: call(world, case))
    if case.expect == "cursor":
        assert r.status_code == 400 and r.data["code"] == "bad_cursor", (r.status_code, r.body)
    elif r.status_code == 303:  # a file, by a link (its route says it may answer so)
        assert "303" in DOC["paths"][case.template][case.method.lower()]["responses"], r.body
    else:  # a search needs its q (422); otherwise A's own list
        assert r.status_code == 200 or (r.status_code == 422 and "q=" not in (case.query(world) if case.query else "")), \
            (r.status_code, r.body)


def _client_cases(cases):
    """The cases of the routes an API client may call (a scope in the document)."""
    scoped = {(m.upper(), p) for p, ms in DOC["paths"].items() for m, op in ms.items() if op.get("x-scope")}
    return [c for c in cases if (c.method, c.template) in scoped and not c.problem]


@pytest.mark.parametrize("case", _client_cases(ID_CASES), ids=lambda c: c.id + " (A's API client)")
def test_a_client_of_a_finds_none_of_b_ids(world, case):
    """A's API client, holding every scope, as A's admin: B's ids are 404."""
    r = check_no_leak_and_b_unchanged(world, case, lambda: call(world, case, world.a.client["token"]))
    assert r.status_code == 404 and _code(r) == "not_found", (r.status_code, r.body)


@pytest.mark.parametrize("case", _client_cases(LIST_CASES), ids=lambda c: c.id + " (A's API client)")
def test_a_client_of_a_lists_nothing_of_b(world, case):
    r = check_no_leak_and_b_unchanged(world, case, lambda: call(world, case, world.a.client["token"]))
    if case.expect == "cursor":
        assert r.status_code == 400 and r.data["code"] == "bad_cursor", (r.status_code, r.body)
    elif r.status_code == 403:  # a view that asks more than a scope gives (?unowned: manage_settings)
        assert r.data["code"] == "permission_denied", r.body
    else:
        assert r.status_code in (200, 422), (r.status_code, r.body)


def test_the_client_cases_cover_every_scoped_route():
    scoped = {(m.upper(), p) for p, ms in DOC["paths"].items() for m, op in ms.items() if op.get("x-scope")}
    covered = {(c.method, c.template) for c in _client_cases(ID_CASES + LIST_CASES)}
    assert scoped and scoped == covered, sorted(scoped - covered)


# Ids (or unique values) of B's in request bodies.
BODY_REFS = [
    Case("POST", "/api/groups/{group_id}/members", "A's group, B's pupil in member_ids",
         params=lambda w: {"group_id": w.a.shared_group["id"]},
         body=lambda w: {"member_ids": [w.b.pupils[0]["id"]]}, expect="unknown_member"),
    Case("POST", "/api/groups/{group_id}/members", "A's group, B's teacher in member_ids",
         params=lambda w: {"group_id": w.a.shared_group["id"]},
         body=lambda w: {"member_ids": [w.a.pupils[0]["id"], w.b.teacher["id"]]}, expect="unknown_member"),
    Case("POST", "/api/groups/{group_id}/members", "A's machine group, B's machine in member_ids",
         params=lambda w: {"group_id": w.a.machine_group["id"]},
         body=lambda w: {"member_ids": [w.b.machines[1]["id"]]}, expect="unknown_member"),
    Case("POST", "/api/groups/{group_id}/transfer", "A's group handed to B's teacher",
         params=lambda w: {"group_id": w.a.shared_group["id"]},
         body=lambda w: {"to": w.b.teacher["id"]}, expect="no_such_colleague"),
    Case("POST", "/api/staff", "B's teacher's email",
         body=lambda w: {"first_name": "Copy", "surname": "Cat", "email": w.b.teacher["email"]},
         expect="email_taken"),
    Case("PATCH", "/api/staff/{user_id}", "A's teacher given B's admin's email",
         params=lambda w: {"user_id": w.a.teacher["id"]},
         body=lambda w: {"version": _version(w, w.a.teacher["id"]), "email": w.b.admin["email"]},
         expect="email_taken"),
    Case("POST", "/api/pupils", "B's UPN (UPNs are unique per school)",
         body=lambda w: {"first_name": "Same", "surname": "Upn", "date_of_birth": "2015-05-05",
                         "year_group": "5", "upn": w.b.pupils[0]["upn"] or upn("941", 1)},
         expect="created"),
]


def _version(w, user_id):
    return w.env.api.get(f"/api/staff/{user_id}", token=w.a.token).data["version"]


@pytest.mark.parametrize("case", BODY_REFS, ids=lambda c: c.id)
def test_b_ids_in_bodies_are_refused(world, case):
    w = world
    groups_before = w.env.api.get("/api/groups", token=w.a.token).data["items"]
    r = check_no_leak_and_b_unchanged(w, case, lambda: call(w, case))
    if case.expect == "unknown_member":
        assert r.status_code == 422 and r.data["code"] == "validation_failed", r.body
        assert {e["code"] for e in r.data["errors"]} == {"unknown_member"}
        assert w.env.api.get("/api/groups", token=w.a.token).data["items"] == groups_before  # counts unchanged
    elif case.expect == "no_such_colleague":
        assert r.status_code == 404 and r.data["code"] == "not_found", r.body
        assert w.env.api.get("/api/groups", token=w.a.token).data["items"] == groups_before  # owner unchanged
    elif case.expect == "email_taken":
        # Emails are unique across the service (they sign in): the answer
        # says only that, nothing of the school or person holding it.
        assert r.status_code == 409 and r.data["code"] == "email_taken", r.body
    else:  # created: B's UPN does not block A, so B's UPNs cannot be probed
        assert r.status_code == 201 and r.data["upn"] == case.body(w)["upn"], r.body
        w.planted.add(r.data["upn"])
        gone = w.env.api.delete(f"/api/pupils/{r.data['id']}", token=w.a.token)
        assert gone.status_code == 200, gone.body


def test_every_route_is_classified(world):
    """Each operation of the live document is in the id matrix, the list
    matrix, or NO_IDS with a reason; and NO_IDS names no route that is gone."""
    live = world.env.api.get("/api/openapi.json", token="").data
    ops = {(m.upper(), p) for p, ms in live["paths"].items() for m in ms}
    assert ops == {(m, p) for m, p, _ in OPERATIONS}, "the document changed between collection and run"
    covered = {(c.method, c.template) for c in ID_CASES + LIST_CASES if not c.problem}
    unclassified = sorted(ops - covered - set(NO_IDS) - set(BROWSER_GETS))
    assert not unclassified, f"routes in no isolation case: {unclassified}"
    assert not set(NO_IDS) - ops, f"NO_IDS names routes that are gone: {sorted(set(NO_IDS) - ops)}"
    for method, path in ops:
        if PATH_PARAM.search(path):
            assert (method, path) in covered, f"{method} {path} takes an id but has no case"


# --------------------------------------------------------------- provider sign-in

@pytest.fixture(scope="module")
def a_provider(world, oidc_op):
    """A signs in through the loopback provider; B has none."""
    r = world.env.api.put("/api/settings/sso", sso.settings(oidc_op, allowed_domains=["ashgrove.sch.uk"]),
                          token=world.a.token)
    assert r.status_code == 200, r.body
    return oidc_op


def test_a_provider_of_a_signs_nobody_into_b(world, a_provider):
    api = world.env.api
    # A's provider vouching for B's admin: not an address A allows
    r = sso.round_trip(api, sso.start_url("ashgrove.sch.uk"), sso.USERS["birchwood"])
    assert r.status_code == 403 and r.data["code"] == "sso_domain_not_allowed", r.body
    # ... nor once A lists B's domain too: B's admin is not A's staff, and no account is made;
    # and the sign-in screen never routes B's domain to A (A has no verified mailbox there)
    wide = sso.settings(a_provider, allowed_domains=["ashgrove.sch.uk", "birchwood.sch.uk"])
    saved = api.put("/api/settings/sso", wide, token=world.a.token)
    assert saved.status_code == 200 and saved.data["routed_domains"] == ["ashgrove.sch.uk"], saved.body
    try:
        assert api.get("/api/auth/sso/discover?email=x@birchwood.sch.uk", token="").data == {"sso": None}
        r = sso.round_trip(api, sso.start_url(world.a.school_id), sso.USERS["birchwood"])
        assert r.status_code == 403 and r.data["code"] == "sso_not_staff", r.body
    finally:
        assert api.put("/api/settings/sso", sso.settings(a_provider, allowed_domains=["ashgrove.sch.uk"]),
                       token=world.a.token).status_code == 200
    # B by its id or its domain has no provider: A's is never used for it
    for key in (world.b.school_id, "birchwood.sch.uk"):
        r = api.call("GET", sso.start_url(key), token="", headers={"Accept": "application/json"})
        assert r.status_code == 404 and r.data["code"] == "sso_not_configured", (key, r.body)
    assert api.get("/api/auth/sso/discover?email=x@birchwood.sch.uk", token="").data == {"sso": None}
    assert api.get(f"/api/auth/sso/discover?school={world.b.school_id}", token="").data == {"sso": None}
    assert api.get("/api/settings/sso", token=world.b.token).data["configured"] is False


def test_a_provider_of_a_signs_a_into_a_only(world, a_provider):
    api = world.env.api
    r = sso.round_trip(api, sso.start_url("ashgrove.sch.uk"), sso.USERS["ashgrove"])
    assert r.status_code == 302, r.body
    code = sso.fragment_of(r.headers["Location"])["sso"]
    session = api.post("/api/auth/sso/exchange", {"code": code, "console": sso.CONSOLE}, token="")
    me = api.get("/api/me", token=session.data["token"]).data
    assert me["school"]["id"] == world.a.school_id and me["user"]["email"] == sso.USERS["ashgrove"]


def test_b_cannot_read_or_spend_a_test_report_of_a(world, a_provider):
    api = world.env.api
    r = sso.round_trip(api, "/api/settings/sso/test", sso.USERS["ashgrove"], token=world.a.token)
    code = sso.fragment_of(r.headers["Location"])["sso-test"]
    stolen = api.post("/api/settings/sso/test-result", {"code": code}, token=world.b.token)
    assert stolen.status_code == 400 and stolen.data["code"] == "invalid_token"
    # (nor can it swap it for a session)
    assert api.post("/api/auth/sso/exchange", {"code": code, "console": sso.CONSOLE}, token="").status_code == 400
    own = api.post("/api/settings/sso/test-result", {"code": code}, token=world.a.token)
    assert own.status_code == 200 and own.data["would_sign_in"] is True, own.body


def test_the_schools_really_hold_data_of_every_kind(world):
    """The matrix means something only if B's ids are real: B's admin reads
    each of them (so A's 404s are isolation, not absence)."""
    w, api = world, world.env.api
    tok = w.b.token
    for p in w.b.pupils:
        assert api.get(f"/api/pupils/{p['id']}", token=tok).status_code == 200
    for u in (w.b.admin["user_id"], w.b.teacher["id"], w.b.invited["id"]):
        assert api.get(f"/api/staff/{u}", token=tok).status_code == 200
    for g, kinds in ((w.b.shared_group, {"pupil", "staff"}), (w.b.machine_group, {"machine"}),
                     (w.b.private_group, {"pupil"})):
        members = api.get(f"/api/groups/{g['id']}/members", token=tok).data["items"]
        assert {m["kind"] for m in members} == kinds, members
    for gid, n in ((w.b.reg_group_id, 5), (w.b.year_group_id, 4)):
        assert len(api.get(f"/api/groups/{gid}/members", token=tok).data["items"]) == n
    for imp in (w.b.committed_import, w.b.review_import):
        assert api.get(f"/api/imports/{imp['id']}", token=tok).status_code == 200
    assert len(api.get(f"/api/imports/{w.b.review_import['id']}/rows", token=tok).data["items"]) == 2
    assert {m["id"] for m in api.get("/api/machines", token=tok).data["items"]} == {m["id"] for m in w.b.machines}
    assert api.get("/api/audit?limit=500", token=tok).data["items"], "no audit entries"
    until = [m["until"] for m in api.get(f"/api/groups/{w.b.private_group['id']}/members", token=tok).data["items"]]
    assert until == [PRIVATE_UNTIL.replace("+00:00", "Z")]
