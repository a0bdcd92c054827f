"""Permission matrix (issue 9): every route of the live ``/api/openapi.json``
× every standard user group → allowed or denied, from the one table below,
which is also the README's permission table (``render_markdown``; a test
keeps the README block equal to it; ``python -m tests.hardening.test_permission_matrix``
rewrites the block).

Each cell signs in as a member of that user group (the Admin Team's is the
school's admin) and sends a valid request to a real target of the school:

- denied: 403 with code ``permission_denied``;
- allowed: anything but a 403, never a 5xx (and, the requests being valid,
  in fact a 2xx).

A route in the document that is neither in the table nor in ``PUBLIC`` fails
the test; so does a route the table names that is gone.

Every cell of two user groups (School Business Manager and Teachers, who
between them are allowed and denied on most routes) runs in ``make test``;
the other five groups' cells are ``heavy``.
"""
import datetime
import itertools
import json
import os
import re

import pytest

from tests import sso
from tests.conftest import PASSWORD
from tests.hardening.fixtures import build_school, moto_env

SUITE = "permission matrix"

GROUPS = ("DSLs", "School Business Manager", "Admin Team", "SLTs", "Teachers", "TAs", "Governors")
#: the API column's caller: a client holding every scope
CLIENT = "API client"
FAST_GROUPS = ("School Business Manager", "Teachers")

# The table. One line per route: method, path, then one column per standard
# user group in the order of GROUPS (Y allowed, . denied), then the rule.
# A number in brackets refers to a footnote (finer rules than the route).
#
# The API column is the scope that opens the route to an API client's token
# (. : no client may call it, 403 insufficient_scope).
#
#  method  path                                          DSL SBM ADM SLT TEA TA  GOV  API            rule
TABLE = """
GET     /api/me                                           Y   Y   Y   Y   Y   Y   Y   .              signed in
POST    /api/auth/logout                                  Y   Y   Y   Y   Y   Y   Y   .              signed in
POST    /api/auth/resend-verification                     Y   Y   Y   Y   Y   Y   Y   .              signed in
POST    /api/auth/logout-everywhere                       Y   Y   Y   Y   Y   Y   Y   .              signed in
POST    /api/auth/change-password                         Y   Y   Y   Y   Y   Y   Y   .              signed in; the current password [7]
GET     /api/auth/sessions                                Y   Y   Y   Y   Y   Y   Y   .              signed in; the caller's own
DELETE  /api/auth/sessions/{session_id}                   Y   Y   Y   Y   Y   Y   Y   .              signed in; the caller's own
POST    /api/auth/mfa/setup                               Y   Y   Y   Y   Y   Y   Y   .              signed in [8]
POST    /api/auth/mfa/confirm                             Y   Y   Y   Y   Y   Y   Y   .              signed in [8]
DELETE  /api/auth/mfa                                     Y   Y   Y   Y   Y   Y   Y   .              signed in; a current code [7] [8]
GET     /api/settings                                     Y   Y   Y   Y   Y   Y   Y   .              signed in
PATCH   /api/settings                                     .   Y   Y   .   .   .   .   .              `manage_settings`
GET     /api/settings/sso                                 .   Y   Y   .   .   .   .   .              `manage_settings` [14]
PUT     /api/settings/sso                                 .   Y   Y   .   .   .   .   .              `manage_settings` [1] [14]
DELETE  /api/settings/sso                                 .   Y   Y   .   .   .   .   .              `manage_settings` [1] [14]
POST    /api/settings/sso/test                            .   Y   Y   .   .   .   .   .              `manage_settings` [14]
POST    /api/settings/sso/test-result                     .   Y   Y   .   .   .   .   .              `manage_settings`; the caller's own test [14]
GET     /api/user-groups                                  Y   Y   Y   Y   Y   Y   Y   roster.read    signed in
PUT     /api/user-groups/{name}                           .   Y   Y   .   .   .   .   .              `manage_settings`
GET     /api/audit                                        .   Y   Y   .   .   .   .   .              `manage_settings`
GET     /api/pupils                                       Y   Y   Y   Y   Y   Y   .   roster.read    `view_roster`
POST    /api/pupils                                       .   Y   Y   Y   .   .   .   .              `manage_roster` [1]
GET     /api/pupils/export                                Y   Y   Y   Y   Y   Y   .   .              `view_roster`
POST    /api/exports                                      Y   Y   Y   Y   Y   Y   .   .              `view_roster`
GET     /api/pupils/{pupil_id}                            Y   Y   Y   Y   Y   Y   .   roster.read    `view_roster`
PATCH   /api/pupils/{pupil_id}                            .   Y   Y   Y   .   .   .   .              `manage_roster`
DELETE  /api/pupils/{pupil_id}                            .   Y   Y   Y   .   .   .   .              `manage_roster`
GET     /api/staff                                        Y   Y   Y   Y   Y   Y   .   roster.read    `view_roster`
POST    /api/staff                                        .   Y   Y   Y   .   .   .   .              `manage_roster` [1] [2]
GET     /api/staff/export                                 Y   Y   Y   Y   Y   Y   .   .              `view_roster`
GET     /api/staff/{user_id}                              Y   Y   Y   Y   Y   Y   .   roster.read    `view_roster`
PATCH   /api/staff/{user_id}                              .   Y   Y   Y   .   .   .   .              `manage_roster` [2]
DELETE  /api/staff/{user_id}                              .   Y   Y   Y   .   .   .   .              `manage_roster` [2] [3]
POST    /api/staff/{user_id}/invite                       .   Y   Y   Y   .   .   .   .              `manage_roster` [2]
POST    /api/staff/{user_id}/disable                      .   Y   Y   Y   .   .   .   .              `manage_roster` [2] [9]
POST    /api/staff/{user_id}/enable                       .   Y   Y   Y   .   .   .   .              `manage_roster` [2]
POST    /api/staff/{user_id}/mfa-reset                    .   Y   Y   .   .   .   .   .              `manage_settings` [2]
GET     /api/imports/template                             .   Y   Y   Y   .   .   .   .              `manage_roster`
POST    /api/imports                                      .   Y   Y   Y   .   .   .   .              `manage_roster` [1]
GET     /api/imports                                      .   Y   Y   Y   .   .   .   .              `manage_roster`
GET     /api/imports/{import_id}                          .   Y   Y   Y   .   .   .   .              `manage_roster`
PUT     /api/imports/{import_id}/mapping                  .   Y   Y   Y   .   .   .   .              `manage_roster`
PUT     /api/imports/{import_id}/sheet                    .   Y   Y   Y   .   .   .   .              `manage_roster`
GET     /api/imports/{import_id}/rows                     .   Y   Y   Y   .   .   .   .              `manage_roster`
PATCH   /api/imports/{import_id}/rows/{row}               .   Y   Y   Y   .   .   .   .              `manage_roster` [2]
GET     /api/imports/{import_id}/errors.csv               .   Y   Y   Y   .   .   .   .              `manage_roster`
POST    /api/imports/{import_id}/commit                   .   Y   Y   Y   .   .   .   .              `manage_roster` [1] [2]
POST    /api/imports/{import_id}/complete                 .   Y   Y   Y   .   .   .   .              `manage_roster`
POST    /api/imports/{import_id}/approve                  .   Y   Y   Y   .   .   .   .              `manage_roster` [1] [10]
POST    /api/imports/{import_id}/discard                  .   Y   Y   Y   .   .   .   .              `manage_roster` [1] [10]
GET     /api/imports/{import_id}/changes                  .   Y   Y   Y   .   .   .   .              `manage_roster`
GET     /api/imports/{import_id}/changes.csv              .   Y   Y   Y   .   .   .   .              `manage_roster`
GET     /api/groups                                       Y   Y   Y   Y   Y   Y   Y   groups.read    signed in; lists the groups the caller can see [5]
POST    /api/groups                                       Y   .   Y   Y   Y   .   .   .              `create_groups`
PATCH   /api/groups/{group_id}                            .   Y   Y   .   .   .   .   .              the group's owner, or `manage_settings` [4]
DELETE  /api/groups/{group_id}                            .   Y   Y   .   .   .   .   .              the group's owner, or `manage_settings` [4]
GET     /api/groups/{group_id}/members                    Y   Y   Y   Y   Y   Y   .   groups.read    `view_roster`; can see the group [5]
POST    /api/groups/{group_id}/members                    Y   Y   Y   Y   Y   Y   .   .              `view_roster`; can see the group [5]; adding anyone needs `add_any_user` [6]
DELETE  /api/groups/{group_id}/members/{member_id}        Y   Y   Y   Y   Y   Y   .   .              `view_roster`; can see the group [5]
GET     /api/groups/{group_id}/staff                      Y   Y   Y   Y   Y   Y   .   groups.read    `view_roster`; can see the group [5]
PUT     /api/groups/{group_id}/staff/{user_id}            .   Y   Y   .   .   .   .   .              the group's owner, or `manage_settings` [4] [11]
DELETE  /api/groups/{group_id}/staff/{user_id}            .   Y   Y   .   .   .   .   .              the group's owner, or `manage_settings` [4] [11]
POST    /api/groups/{group_id}/transfer                   .   Y   Y   .   .   .   .   .              the group's owner, or `manage_settings` [4] [11]
GET     /api/people                                       Y   .   Y   Y   .   .   .   .              `add_any_user`
GET     /api/members/{member_id}/groups                   Y   Y   Y   Y   Y   Y   .   groups.read    `view_roster`; lists the groups the caller can see [5]
POST    /api/rollover                                     .   Y   Y   .   .   .   .   .              `manage_settings` [1]
GET     /api/rollover                                     .   Y   Y   .   .   .   .   .              `manage_settings`
POST    /api/rollover/cancel                              .   Y   Y   .   .   .   .   .              `manage_settings` [1]
POST    /api/rollover/undo                                .   Y   Y   .   .   .   .   .              `manage_settings` [1]
GET     /api/machines                                     Y   Y   Y   Y   Y   Y   Y   groups.read    signed in
POST    /api/machines                                     .   Y   Y   Y   .   .   .   .              `manage_roster`
DELETE  /api/machines/{machine_id}                        .   Y   Y   Y   .   .   .   .              `manage_roster`
POST    /api/clients                                      .   Y   Y   .   .   .   .   .              `manage_settings` [1] [12]
GET     /api/clients                                      .   Y   Y   .   .   .   .   .              `manage_settings` [12]
DELETE  /api/clients/{client_id}                          .   Y   Y   .   .   .   .   .              `manage_settings` [12]
GET     /api/changes                                      .   Y   Y   .   .   .   .   changes.read   `manage_settings`
GET     /api/exports/oneroster                            .   Y   Y   .   .   .   .   .              `manage_settings`
GET     /ims/oneroster/rostering/v1p2/orgs                .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/orgs/{sourcedId}    .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/schools             .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/schools/{sourcedId} .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/academicSessions    .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/academicSessions/{sourcedId} .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/courses             .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/courses/{sourcedId} .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/classes             .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/classes/{sourcedId} .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/users               .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/users/{sourcedId}   .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/students            .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/students/{sourcedId} .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/teachers            .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/teachers/{sourcedId} .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/enrollments         .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/enrollments/{sourcedId} .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/demographics        .   Y   Y   .   .   .   .   oneroster.demographics `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/demographics/{sourcedId} .   Y   Y   .   .   .   .   oneroster.demographics `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/schools/{schoolSourcedId}/classes .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/classes/{classSourcedId}/students .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/classes/{classSourcedId}/teachers .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/students/{studentSourcedId}/classes .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
GET     /ims/oneroster/rostering/v1p2/teachers/{teacherSourcedId}/classes .   Y   Y   .   .   .   .   oneroster.read `manage_settings` [13]
"""

#: Routes anyone may call without a token.
PUBLIC = {
    ("GET", "/"): "the console",
    ("GET", "/assets/{name}"): "the console's files",
    ("GET", "/api/health"): "liveness",
    ("GET", "/api/openapi.json"): "this API's description",
    ("POST", "/api/schools"): "sign up",
    ("POST", "/api/auth/login"): "sign in",
    ("POST", "/api/auth/verify"): "the emailed verification token",
    ("POST", "/api/auth/accept-invite"): "the emailed invitation token",
    ("POST", "/api/auth/forgot-password"): "the same answer for any address",
    ("POST", "/api/auth/reset-password"): "the emailed reset token",
    ("POST", "/api/auth/mfa/verify"): "the two-factor step token a right password earned",
    ("POST", "/api/oauth/token"): "an API client's own id and secret",
    ("GET", "/api/auth/sso/discover"): "the same answer for every address of a domain",
    ("GET", "/api/auth/sso/start"): "the start of a provider sign-in",
    ("GET", "/api/auth/sso/callback"): "the provider's redirect, with the state and the browser's cookie",
    ("POST", "/api/auth/sso/exchange"): "the one-time code of a provider sign-in",
}

FOOTNOTES = {
    1: "Also needs the caller's email verified (403 `email_not_verified`); staff verify theirs by "
       "accepting the invitation.",
    2: "The privilege ceiling: nobody gives anyone rights they do not hold. Creating, importing, "
       "changing the user group or email of, re-inviting or deleting a staff member is allowed only "
       "when that person's permissions before and after are all held by the caller, or the caller "
       "holds `manage_settings`; otherwise 403 `exceeds_caller_rights` naming the missing permissions "
       "(an import row: refused with that code on `user_group`, checked for whoever matches the "
       "columns, fixes the row and commits). An unknown user group counts with the Teachers rights "
       "it gets.",
    3: "Nobody can delete themselves (409 `cannot_delete_self`), and the last Admin Team member "
       "stays (409 `last_admin`).",
    4: "The owner may always change or delete their own group; the table's target is a shared group "
       "owned by another teacher. System groups can't be changed.",
    5: "Year, registration and All pupils groups are visible to `view_roster` holders, shared teacher "
       "groups to every signed-in user (their members only with `view_roster`); All staff and "
       "unshared groups only to `view_all_groups` holders (and an "
       "unshared group to its owner). A group the caller can't see is a 404, not a 403. The table's "
       "target is a shared group.",
    6: "Without `add_any_user`, a caller may add only people they can already see in another group "
       "(any active pupil, via All pupils; a colleague in a group visible to them); anyone else is a "
       "403 listing the ids. The table's request adds a pupil.",
    7: "A wrong current password (or code) is 403 `wrong_password` (400 `invalid_code`), never a 401, "
       "and spends a sign-in attempt like a sign-in would.",
    8: "When the school's `require_mfa_for` names the caller's user group and they have no two-factor "
       "yet, these, `GET /api/me` and sign-out are all that answer; every other route is 403 "
       "`mfa_setup_required`.",
    9: "Nobody disables themselves (409 `cannot_disable_self`), and the last enabled Admin Team "
       "member stays (409 `last_admin`).",
    10: "A held drop of staff also needs `manage_settings` (a drop acts with the school's rights, so it "
        "may change who holds which rights). The table's target is a held pupils drop.",
    11: "A group's owners (its first owner, and staff named owner) share it: a colleague named teacher "
        "may add and remove its members, a viewer only see them (a 403 on any change, even of a shared "
        "group). The colleague must hold `view_roster` (422 `cannot_see_pupils`): a role never gives it. "
        "A group always keeps an owner with no end (409 `last_owner`); anyone named may take themselves "
        "off, except a viewer of a shared group (leaving would let them change it). The table's target is a shared group owned by another teacher.",
    12: "API clients (the school's other software) hold scopes, not a user group: a client's token "
        "reaches only the routes of the API column, and only with that scope, and no route that "
        "changes anything (403 `insufficient_scope`). `groups.read` sees every group, as "
        "`view_all_groups` does.",
    13: "OneRoster 1.2 (`/ims/oneroster/rostering/v1p2/...`): the whole roster with birth dates and every "
        "group, so a person needs `manage_settings`; errors there are the spec's `imsx_StatusInfoDType` "
        "(a refusal is 403 with code minor `forbidden`, not `permission_denied`).",
    14: "Sign-in through the school's identity provider: a provider the school trusts can sign in any of "
        "its staff, so only `manage_settings` (which may act on anyone) sets one, and its holders keep "
        "a password way in when the school requires the provider (403 `sso_required` for everyone else). "
        "A test sign-in's report is read once, by the admin who ran it.",
}


def parse_table(text=TABLE):
    """{(method, path): ({group: allowed}, rule)} and {(method, path): scope or None}"""
    out, scopes = {}, {}
    for line in text.strip().splitlines():
        parts = line.split()
        n = len(GROUPS)
        method, path, marks, scope, rule = parts[0], parts[1], parts[2:2 + n], parts[2 + n], " ".join(parts[3 + n:])
        assert len(marks) == len(GROUPS) and set(marks) <= {"Y", "."}, f"bad table line: {line}"
        assert (method, path) not in out, f"route twice in the table: {method} {path}"
        out[method, path] = ({g: m == "Y" for g, m in zip(GROUPS, marks)}, rule)
        scopes[method, path] = None if scope == "." else scope
    return out, scopes


MATRIX, CLIENT_SCOPES = parse_table()


# --------------------------------------------------------------- the README

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")
START, END = "<!-- permission-matrix:start -->", "<!-- permission-matrix:end -->"
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def render_markdown(matrix=MATRIX):
    """The README's route × user group table, from MATRIX."""
    def rule_md(rule):
        return re.sub(r" ?\[(\d+)\]", lambda m: m.group(1).translate(SUPERSCRIPT), rule)
    lines = [
        "Who may call each route, per standard user group (✓: allowed; blank: 403 `permission_denied`).",
        "Generated from the table in `tests/hardening/test_permission_matrix.py`, which tests every cell;",
        "regenerate with `python -m tests.hardening.test_permission_matrix`.",
        "",
        "The API client column is the scope that opens a route to a client's token (blank: 403",
        "`insufficient_scope`)¹².",
        "",
        "| route | " + " | ".join(GROUPS) + " | API client | rule |",
        "| --- | " + " | ".join("---" for _ in GROUPS) + " | --- | --- |",
    ]
    for (method, path), (allowed, rule) in matrix.items():
        cells = " | ".join("✓" if allowed[g] else " " for g in GROUPS)
        scope = CLIENT_SCOPES.get((method, path))
        lines.append(f"| `{method} {path}` | {cells} | {f'`{scope}`' if scope else ' '} | {rule_md(rule)} |")
    lines += ["", "Public (no token): " + ", ".join(f"`{m} {p}` ({why})" for (m, p), why in PUBLIC.items()) + ".",
              ""]
    lines += [f"{str(n).translate(SUPERSCRIPT)} {text}  " for n, text in FOOTNOTES.items()]
    lines[-1] = lines[-1].rstrip()
    return "\n".join(lines)


def readme_block(text):
    start, end = text.find(START), text.find(END)
    assert start >= 0 and end > start, f"README.md has no {START} ... {END} block"
    return text[start + len(START):end].strip("\n")


def write_readme(path=README):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    start, end = text.find(START), text.find(END)
    assert start >= 0 and end > start, f"README.md has no {START} ... {END} block"
    new = text[:start + len(START)] + "\n" + render_markdown() + "\n" + text[end:]
    if new != text:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(new)
    return new != text


# --------------------------------------------------------------- the live document

def live_operations():
    from chalice.test import Client

    from app import app
    with Client(app, stage_name="test") as client:
        r = client.http.get("/api/openapi.json")
        assert r.status_code == 200, r.body
        doc = json.loads(r.body)
    return {(m.upper(), p): op for p, ms in doc["paths"].items() for m, op in ms.items()}


OPS = live_operations()


# --------------------------------------------------------------- the school

class World:
    def __init__(self, env, school, callers, owner):
        self.env, self.school, self.callers, self.owner = env, school, callers, owner
        self.n = itertools.count(1)
        self.target_group = env.group(owner["token"], "Cedar Target Group")

    def unique(self, prefix):
        return f"{prefix}{next(self.n)}"


@pytest.fixture(scope="module")
def world(oidc_op):
    with moto_env() as env:
        school = build_school(env, "Cedar", la="942", year_group="4", registration_group="Cedar-4C")
        callers = {"Admin Team": dict(school.admin, id=school.admin["user_id"])}
        for group in GROUPS:
            if group != "Admin Team":
                slug = re.sub(r"[^a-z]", "", group.lower())
                callers[group] = env.member(school.admin, group, first_name=f"Cedar{slug}",
                                            surname="Matrixmember", email=f"{slug}@cedar.sch.uk")
        owner = env.member(school.admin, "Teachers", first_name="Cedarowner", surname="Groupowner",
                           email="owner@cedar.sch.uk")
        world = World(env, school, callers, owner)
        world.op = oidc_op
        yield world


# How to call each route validly, on a real target. Returns (path, body);
# targets a call may consume (deleted, committed) are made fresh per call.

def _fresh_pupil(w):
    return w.env.pupil(w.school.token, "Cedarfresh", w.unique("Pupil"), year_group="4")


def _shared_with_someone(w):
    """The path of a colleague's role on a fresh group of the owner's (to take off)."""
    group, colleague = w.env.group(w.owner["token"], w.unique("Cedar shared ")), _fresh_staff(w)
    path = f"/api/groups/{group['id']}/staff/{colleague['id']}"
    r = w.env.api.put(path, {"role": "teacher"}, token=w.owner["token"])
    assert r.status_code == 200, r.body
    return path


def _fresh_staff(w):
    return w.env.member({"school_id": w.school.school_id, "token": w.school.token}, "Teachers",
                        first_name="Cedarfresh", surname=w.unique("Staff"), accept=False)


def _import_in_review(w):
    """An import in review, for a commit: made again once one is committed."""
    from tests.hardening.fixtures import pupils_csv
    spare = getattr(w, "spare_import", None)
    if spare is None or w.env.get_import(w.school.token, spare["id"])["status"] != "review":
        data = pupils_csv([("Cedarlate", w.unique("Import"), "05/06/2015", "F", "4", "", "")])
        w.spare_import = spare = w.env.import_to_review(w.school.token, "pupils", data, "late.csv")
    return spare


def _workbook_in_mapping(w):
    """A workbook of two sheets at its mapping step (read again after each choice of sheet)."""
    from tests.imports.test_workbooks import HEADER, ROWS, xlsx
    book = getattr(w, "workbook_import", None)
    if book is not None:
        w.env.drain()  # (a sheet chosen: read again, back to mapping)
        book = w.env.get_import(w.school.token, book["id"])
    if book is None or book["status"] != "mapping":
        data = xlsx([HEADER] + ROWS, before=[["Name", "Note"], ["a", "b"]])
        book = w.workbook_import = w.env.upload(w.school.token, "pupils", data, "both.xlsx")
    return book


def _held_import(w, fresh=True):
    """An import waiting as a held drop does (a new one for each approve or
    discard, which end it): a file checked to review, then set held."""
    from chalicelib.imports.models import Import, Source, Status
    from tests.hardening.fixtures import pupils_csv
    held = getattr(w, "held_import", None)
    if fresh or held is None:
        data = pupils_csv([("Cedarheld", w.unique("Held"), "05/06/2015", "F", "4", "", "")])
        held = w.held_import = w.env.import_to_review(w.school.token, "pupils", data, "held.csv")
        Import(school_id=w.school.school_id, import_id=held["id"]).update(
            actions=[Import.status.set(Status.HELD), Import.source.set(Source.DROP)])
    return held


def _rollover_ready(w):
    """The school has a final year (a rollover needs one)."""
    assert w.env.api.patch("/api/settings", {"final_year": "13"}, token=w.school.token).status_code == 200
    return "/api/rollover"


def _scheduled_rollover(w):
    """A rollover scheduled in next academic year (each cancel ends one)."""
    _rollover_ready(w)
    day = (datetime.date.today() + datetime.timedelta(days=400)).isoformat()
    scheduled = w.env.api.get("/api/rollover", token=w.school.token).data["items"]
    if not any(r["status"] == "scheduled" for r in scheduled):
        r = w.env.api.post("/api/rollover", {"on": day}, token=w.school.token)
        assert r.status_code == 202, r.body
    return "/api/rollover/cancel"


def _applied_rollover(w):
    """This year's rollover applied (each undo ends one; undone, it may run
    again). Final year 13 and registration groups kept: nobody leaves."""
    _rollover_ready(w)
    items = w.env.api.get("/api/rollover", token=w.school.token).data["items"]
    if not any(r["status"] == "applied" for r in items):
        r = w.env.api.post("/api/rollover", {"keep_registration_groups": True}, token=w.school.token)
        assert r.status_code == 202, r.body
        w.env.drain()
    return "/api/rollover/undo"


def _disabled_staff(w):
    staff = _fresh_staff(w)
    assert w.env.api.post(f"/api/staff/{staff['id']}/disable", token=w.school.token).status_code == 200
    return staff


def _other_session(w, caller):
    """The id of another session of the caller's (one the cell may end)."""
    token = w.env.login(caller["email"])
    items = w.env.api.get("/api/auth/sessions", token=token).data["items"]
    return next(s["id"] for s in items if s["current"])


def _pending_code(w, caller):
    """A set-up begun for the caller: the code that confirms it."""
    import pyotp
    setup = w.env.api.post("/api/auth/mfa/setup", token=caller["token"])
    assert setup.status_code == 200, setup.body
    return pyotp.TOTP(setup.data["secret"]).now()


def _mfa_on(w, caller):
    """Two-factor set up and on for the caller: their recovery codes."""
    confirmed = w.env.api.post("/api/auth/mfa/confirm", {"code": _pending_code(w, caller)}, token=caller["token"])
    assert confirmed.status_code == 200, confirmed.body
    return confirmed.data["recovery_codes"]


def _turn_mfa_off(w, caller, response):
    """After the confirm cell: off again (with a recovery code), so the
    caller's next sign-in is a password alone."""
    off = w.env.api.call("DELETE", "/api/auth/mfa", {"code": response.data["recovery_codes"][0]},
                         token=caller["token"])
    assert off.status_code == 200, off.body


def _member_to_remove(w):
    pupil = w.school.pupils[2]["id"]
    w.env.add_members(w.school.token, w.target_group["id"], [pupil])
    return pupil


def _or_first(w, path):
    """The first record's sourcedId of a OneRoster collection (as the admin reads it)."""
    r = w.env.api.get("/ims/oneroster/rostering/v1p2" + path, token=w.school.token)
    assert r.status_code == 200, r.body
    return next(iter(r.data.values()))[0]["sourcedId"]


def _fresh_client(w):
    r = w.env.api.post("/api/clients", {"name": w.unique("Cedar doomed client "), "scopes": ["roster.read"]},
                       token=w.school.token)
    assert r.status_code == 201, r.body
    return r.data["client_id"]


def _client_token(w):
    """A token of an API client holding every scope (made once)."""
    if getattr(w, "client_token", None) is None:
        made = w.env.api_client(w.school.token, "Cedar every scope")
        w.client_token = made["token"]
        w.callers[CLIENT] = {"token": w.client_token, "id": made["client_id"]}
    return w.client_token


REQUESTS = {
    ("GET", "/api/me"): lambda w, c: ("/api/me", None),
    ("POST", "/api/auth/logout"): lambda w, c: ("/api/auth/logout", None),  # with a fresh token: see call()
    ("POST", "/api/auth/resend-verification"): lambda w, c: ("/api/auth/resend-verification", None),
    ("POST", "/api/auth/logout-everywhere"): lambda w, c: ("/api/auth/logout-everywhere", None),  # see call()
    ("POST", "/api/auth/change-password"): lambda w, c: ("/api/auth/change-password", {
        "current_password": PASSWORD, "new_password": PASSWORD}),
    ("GET", "/api/auth/sessions"): lambda w, c: ("/api/auth/sessions", None),
    ("DELETE", "/api/auth/sessions/{session_id}"): lambda w, c: (f"/api/auth/sessions/{_other_session(w, c)}", None),
    ("POST", "/api/auth/mfa/setup"): lambda w, c: ("/api/auth/mfa/setup", None),
    ("POST", "/api/auth/mfa/confirm"): lambda w, c: ("/api/auth/mfa/confirm", {"code": _pending_code(w, c)}),
    ("DELETE", "/api/auth/mfa"): lambda w, c: ("/api/auth/mfa", {"code": _mfa_on(w, c)[0]}),
    ("GET", "/api/settings"): lambda w, c: ("/api/settings", None),
    ("PATCH", "/api/settings"): lambda w, c: ("/api/settings", {"mark_leavers": False}),
    ("GET", "/api/user-groups"): lambda w, c: ("/api/user-groups", None),
    ("PUT", "/api/user-groups/{name}"): lambda w, c: ("/api/user-groups/Cedar%20Visitors",
                                                      {"permissions": ["view_roster"]}),
    ("GET", "/api/audit"): lambda w, c: ("/api/audit", None),
    ("GET", "/api/pupils"): lambda w, c: ("/api/pupils?q=cedar", None),
    ("POST", "/api/pupils"): lambda w, c: ("/api/pupils", {
        "first_name": "Cedarnew", "surname": w.unique("Pupil"), "date_of_birth": "2016-01-02", "year_group": "4"}),
    ("GET", "/api/pupils/export"): lambda w, c: ("/api/pupils/export", None),
    ("POST", "/api/exports"): lambda w, c: ("/api/exports", {"kind": "pupils"}),
    ("GET", "/api/pupils/{pupil_id}"): lambda w, c: (f"/api/pupils/{w.school.pupils[0]['id']}", None),
    ("PATCH", "/api/pupils/{pupil_id}"): lambda w, c: (f"/api/pupils/{_fresh_pupil(w)['id']}",
                                                       {"version": 1, "registration_group": "Cedar-4D"}),
    ("DELETE", "/api/pupils/{pupil_id}"): lambda w, c: (f"/api/pupils/{_fresh_pupil(w)['id']}", None),
    ("GET", "/api/staff"): lambda w, c: ("/api/staff", None),
    ("POST", "/api/staff"): lambda w, c: ("/api/staff", {
        "first_name": "Cedarnew", "surname": "Staff", "email": f"{w.unique('new')}@cedar.sch.uk"}),
    ("GET", "/api/staff/export"): lambda w, c: ("/api/staff/export", None),
    ("GET", "/api/staff/{user_id}"): lambda w, c: (f"/api/staff/{w.owner['id']}", None),
    ("PATCH", "/api/staff/{user_id}"): lambda w, c: (f"/api/staff/{_fresh_staff(w)['id']}",
                                                     {"version": 1, "job_role": "Head of Year 4"}),
    ("DELETE", "/api/staff/{user_id}"): lambda w, c: (f"/api/staff/{_fresh_staff(w)['id']}", None),
    ("POST", "/api/staff/{user_id}/invite"): lambda w, c: (f"/api/staff/{w.school.invited['id']}/invite", None),
    ("POST", "/api/staff/{user_id}/disable"): lambda w, c: (f"/api/staff/{_fresh_staff(w)['id']}/disable", None),
    ("POST", "/api/staff/{user_id}/enable"): lambda w, c: (f"/api/staff/{_disabled_staff(w)['id']}/enable", None),
    ("POST", "/api/staff/{user_id}/mfa-reset"): lambda w, c: (f"/api/staff/{_fresh_staff(w)['id']}/mfa-reset", None),
    ("GET", "/api/imports/template"): lambda w, c: ("/api/imports/template?kind=staff", None),
    ("POST", "/api/imports"): lambda w, c: ("/api/imports", {"kind": "pupils", "filename": "cells.csv"}),
    ("GET", "/api/imports"): lambda w, c: ("/api/imports", None),
    ("GET", "/api/imports/{import_id}"): lambda w, c: (f"/api/imports/{w.school.committed_import['id']}", None),
    ("PUT", "/api/imports/{import_id}/mapping"): lambda w, c: (
        f"/api/imports/{w.school.review_import['id']}/mapping", {"mapping": w.school.review_import["mapping"]}),
    ("PUT", "/api/imports/{import_id}/sheet"): lambda w, c: (
        f"/api/imports/{_workbook_in_mapping(w)['id']}/sheet", {"sheet": "Pupils"}),
    ("GET", "/api/imports/{import_id}/rows"): lambda w, c: (
        f"/api/imports/{w.school.review_import['id']}/rows?only=all", None),
    ("PATCH", "/api/imports/{import_id}/rows/{row}"): lambda w, c: (
        f"/api/imports/{w.school.review_import['id']}/rows/{w.school.refused_rows[-1]['row']}",
        {"values": {"surname": ""}}),  # still refused, so the next cell finds it
    ("GET", "/api/imports/{import_id}/errors.csv"): lambda w, c: (
        f"/api/imports/{w.school.review_import['id']}/errors.csv", None),
    ("POST", "/api/imports/{import_id}/commit"): lambda w, c: (
        f"/api/imports/{_import_in_review(w)['id']}/commit", None),
    ("POST", "/api/imports/{import_id}/approve"): lambda w, c: (f"/api/imports/{_held_import(w)['id']}/approve", None),
    ("POST", "/api/imports/{import_id}/discard"): lambda w, c: (f"/api/imports/{_held_import(w)['id']}/discard", None),
    ("GET", "/api/imports/{import_id}/changes"): lambda w, c: (
        f"/api/imports/{_held_import(w, fresh=False)['id']}/changes?kind=create", None),
    ("GET", "/api/imports/{import_id}/changes.csv"): lambda w, c: (
        f"/api/imports/{_held_import(w, fresh=False)['id']}/changes.csv", None),
    ("POST", "/api/imports/{import_id}/complete"): lambda w, c: (
        f"/api/imports/{w.school.committed_import['id']}/complete", None),
    ("GET", "/api/groups"): lambda w, c: ("/api/groups", None),
    ("POST", "/api/groups"): lambda w, c: ("/api/groups", {"name": w.unique("Cedar cell group "), "shared": True}),
    ("PATCH", "/api/groups/{group_id}"): lambda w, c: (f"/api/groups/{w.target_group['id']}", {"priority": "high"}),
    ("DELETE", "/api/groups/{group_id}"): lambda w, c: (
        f"/api/groups/{w.env.group(w.owner['token'], w.unique('Cedar doomed '))['id']}", None),
    ("GET", "/api/groups/{group_id}/members"): lambda w, c: (f"/api/groups/{w.target_group['id']}/members", None),
    ("POST", "/api/groups/{group_id}/members"): lambda w, c: (
        f"/api/groups/{w.target_group['id']}/members", {"member_ids": [w.school.pupils[1]["id"]]}),
    ("DELETE", "/api/groups/{group_id}/members/{member_id}"): lambda w, c: (
        f"/api/groups/{w.target_group['id']}/members/{_member_to_remove(w)}", None),
    ("GET", "/api/people"): lambda w, c: ("/api/people?q=cedar", None),
    ("GET", "/api/members/{member_id}/groups"): lambda w, c: (f"/api/members/{w.school.pupils[0]['id']}/groups", None),
    ("GET", "/api/groups/{group_id}/staff"): lambda w, c: (f"/api/groups/{w.target_group['id']}/staff", None),
    ("PUT", "/api/groups/{group_id}/staff/{user_id}"): lambda w, c: (
        f"/api/groups/{w.target_group['id']}/staff/{_fresh_staff(w)['id']}", {"role": "teacher"}),
    ("DELETE", "/api/groups/{group_id}/staff/{user_id}"): lambda w, c: (_shared_with_someone(w), None),
    ("POST", "/api/groups/{group_id}/transfer"): lambda w, c: (
        f"/api/groups/{w.env.group(w.owner['token'], w.unique('Cedar handed '))['id']}/transfer",
        {"to": _fresh_staff(w)["id"]}),
    ("POST", "/api/rollover"): lambda w, c: (_rollover_ready(w), {"dry_run": True}),
    ("GET", "/api/rollover"): lambda w, c: ("/api/rollover", None),
    ("POST", "/api/rollover/cancel"): lambda w, c: (_scheduled_rollover(w), None),
    ("POST", "/api/rollover/undo"): lambda w, c: (_applied_rollover(w), None),
    ("POST", "/api/clients"): lambda w, c: ("/api/clients", {"name": w.unique("Cedar client "),
                                                           "scopes": ["roster.read"]}),
    ("GET", "/api/clients"): lambda w, c: ("/api/clients", None),
    ("GET", "/api/settings/sso"): lambda w, c: ("/api/settings/sso", None),
    ("PUT", "/api/settings/sso"): lambda w, c: ("/api/settings/sso", _sso_body(w)),
    ("DELETE", "/api/settings/sso"): lambda w, c: (_sso_configured(w), None),
    ("POST", "/api/settings/sso/test"): lambda w, c: (_sso_configured(w) + "/test", None),
    ("POST", "/api/settings/sso/test-result"): lambda w, c: ("/api/settings/sso/test-result",
                                                             {"code": _sso_test_code(w, c)}),
    ("GET", "/api/changes"): lambda w, c: ("/api/changes", None),
    ("GET", "/api/exports/oneroster"): lambda w, c: ("/api/exports/oneroster?link=json", None),
    ("GET", "/ims/oneroster/rostering/v1p2/orgs"): lambda w, c: ("/ims/oneroster/rostering/v1p2/orgs", None),
    ("GET", "/ims/oneroster/rostering/v1p2/schools"): lambda w, c: ("/ims/oneroster/rostering/v1p2/schools", None),
    ("GET", "/ims/oneroster/rostering/v1p2/academicSessions"): lambda w, c: ("/ims/oneroster/rostering/v1p2/academicSessions", None),
    ("GET", "/ims/oneroster/rostering/v1p2/courses"): lambda w, c: ("/ims/oneroster/rostering/v1p2/courses", None),
    ("GET", "/ims/oneroster/rostering/v1p2/classes"): lambda w, c: ("/ims/oneroster/rostering/v1p2/classes", None),
    ("GET", "/ims/oneroster/rostering/v1p2/users"): lambda w, c: ("/ims/oneroster/rostering/v1p2/users", None),
    ("GET", "/ims/oneroster/rostering/v1p2/students"): lambda w, c: ("/ims/oneroster/rostering/v1p2/students", None),
    ("GET", "/ims/oneroster/rostering/v1p2/teachers"): lambda w, c: ("/ims/oneroster/rostering/v1p2/teachers", None),
    ("GET", "/ims/oneroster/rostering/v1p2/enrollments"): lambda w, c: ("/ims/oneroster/rostering/v1p2/enrollments", None),
    ("GET", "/ims/oneroster/rostering/v1p2/demographics"): lambda w, c: ("/ims/oneroster/rostering/v1p2/demographics", None),
    ("GET", "/ims/oneroster/rostering/v1p2/orgs/{sourcedId}"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/orgs/{w.school.school_id}", None),
    ("GET", "/ims/oneroster/rostering/v1p2/schools/{sourcedId}"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/schools/{w.school.school_id}", None),
    ("GET", "/ims/oneroster/rostering/v1p2/academicSessions/{sourcedId}"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/academicSessions/{_or_first(w, '/academicSessions')}", None),
    ("GET", "/ims/oneroster/rostering/v1p2/courses/{sourcedId}"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/courses/{w.school.school_id}-groups", None),
    ("GET", "/ims/oneroster/rostering/v1p2/classes/{sourcedId}"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/classes/{w.target_group['id']}", None),
    ("GET", "/ims/oneroster/rostering/v1p2/users/{sourcedId}"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/users/{w.school.pupils[0]['id']}", None),
    ("GET", "/ims/oneroster/rostering/v1p2/students/{sourcedId}"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/students/{w.school.pupils[0]['id']}", None),
    ("GET", "/ims/oneroster/rostering/v1p2/demographics/{sourcedId}"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/demographics/{w.school.pupils[0]['id']}", None),
    ("GET", "/ims/oneroster/rostering/v1p2/teachers/{sourcedId}"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/teachers/{w.owner['id']}", None),
    ("GET", "/ims/oneroster/rostering/v1p2/enrollments/{sourcedId}"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/enrollments/{_or_first(w, '/enrollments')}", None),
    ("GET", "/ims/oneroster/rostering/v1p2/schools/{schoolSourcedId}/classes"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/schools/{w.school.school_id}/classes", None),
    ("GET", "/ims/oneroster/rostering/v1p2/classes/{classSourcedId}/students"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/classes/{w.target_group['id']}/students", None),
    ("GET", "/ims/oneroster/rostering/v1p2/classes/{classSourcedId}/teachers"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/classes/{w.target_group['id']}/teachers", None),
    ("GET", "/ims/oneroster/rostering/v1p2/students/{studentSourcedId}/classes"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/students/{w.school.pupils[0]['id']}/classes", None),
    ("GET", "/ims/oneroster/rostering/v1p2/teachers/{teacherSourcedId}/classes"): lambda w, c: (f"/ims/oneroster/rostering/v1p2/teachers/{w.owner['id']}/classes", None),
    ("DELETE", "/api/clients/{client_id}"): lambda w, c: (f"/api/clients/{_fresh_client(w)}", None),
    ("GET", "/api/machines"): lambda w, c: ("/api/machines", None),
    ("POST", "/api/machines"): lambda w, c: ("/api/machines", {"name": w.unique("Cedar cell machine ")}),
    ("DELETE", "/api/machines/{machine_id}"): lambda w, c: (
        f"/api/machines/{w.env.machine(w.school.token, w.unique('Cedar doomed machine '))['id']}", None),
}


def _sso_body(w):
    return sso.settings(w.op, allowed_domains=["cedar.sch.uk"])


def _sso_configured(w):
    """The school has the loopback provider set (as its admin): the settings' path."""
    r = w.env.api.put("/api/settings/sso", _sso_body(w), token=w.school.token)
    assert r.status_code == 200, r.body
    return "/api/settings/sso"


def _sso_test_code(w, caller):
    """A report of a test sign-in the caller ran (a made-up code if they may not run one)."""
    _sso_configured(w)
    started = w.env.api.post("/api/settings/sso/test", token=caller["token"])
    if started.status_code != 200:
        return "c" * 43
    r = sso.come_back(w.env.api, started, sso.USERS["cedar"])
    assert r.status_code == 302, r.body
    return sso.fragment_of(r.headers["Location"])["sso-test"]


def _refusal(r):
    """A 403's code; the OneRoster routes' spec shape (code minor ``forbidden``) as ours."""
    if "imsx_CodeMinor" in (r.data or {}):
        minor = r.data["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
        return "permission_denied" if minor == "forbidden" else minor
    return r.data["code"]


def call(w, route, group):
    caller = w.callers[group]
    path, body = REQUESTS[route](w, caller)
    token = caller["token"]
    if route == ("POST", "/api/auth/logout"):
        token = w.env.login(caller["email"])  # logging out must not end the caller's matrix session
    r = w.env.api.call(route[0], path, body, token=token)
    w.env.drain()  # as the worker would: a mapping is validated, a commit committed
    if r.status_code == 200 and route == ("POST", "/api/auth/logout-everywhere"):
        caller["token"] = w.env.login(caller["email"])  # every session ended: the matrix signs in again
    if r.status_code == 200 and route == ("POST", "/api/auth/mfa/confirm"):
        _turn_mfa_off(w, caller, r)
    return r, token


CELLS = [pytest.param(route, group, id=f"{route[0]} {route[1]} as {group}",
                      marks=() if group in FAST_GROUPS else pytest.mark.heavy)
         for route in MATRIX for group in GROUPS]


@pytest.mark.parametrize("route,group", CELLS)
def test_cell(world, route, group):
    if route not in OPS:
        pytest.fail(f"{route[0]} {route[1]} is in the table but not in /api/openapi.json")
    if route not in REQUESTS:
        pytest.fail(f"no request for {route[0]} {route[1]} in REQUESTS")
    allowed = MATRIX[route][0][group]
    r, token = call(world, route, group)
    assert r.status_code < 500, (r.status_code, r.body)
    if allowed:
        assert r.status_code != 403, f"{group} refused: {r.body}"
        assert 200 <= r.status_code < 300, f"{group}: a valid request, yet {r.status_code} {r.body}"
    else:
        assert r.status_code == 403 and _refusal(r) == "permission_denied", (r.status_code, r.body)
    if route == ("POST", "/api/auth/logout"):  # and the token really is gone
        assert world.env.api.get("/api/me", token=token).status_code == 401


@pytest.mark.parametrize("route", list(MATRIX), ids=lambda r: f"{r[0]} {r[1]} as an API client")
def test_client_cell(world, route):
    """A client with every scope: a 2xx on its column's routes, 403
    insufficient_scope everywhere else (never permission_denied)."""
    _client_token(world)
    if route[1].startswith("/api/auth/"):  # (their requests are made with a person's session)
        r = world.env.api.call(route[0], route[1].replace("{session_id}", "x"), {}, token=world.client_token)
    else:
        r, _token = call(world, route, CLIENT)
    assert r.status_code < 500, (r.status_code, r.body)
    if CLIENT_SCOPES[route]:
        assert 200 <= r.status_code < 300, f"a client refused: {r.status_code} {r.body}"
    else:
        assert r.status_code == 403 and r.data["code"] == "insufficient_scope", (r.status_code, r.body)


def test_the_api_column_is_each_routes_declared_scope():
    for route in MATRIX:
        assert OPS[route].get("x-scope") == CLIENT_SCOPES[route], route
    assert all(m == "GET" for (m, _p), scope in CLIENT_SCOPES.items() if scope), "a write route opened to clients"


def test_every_route_is_in_the_table_or_public():
    documented = set(OPS)
    missing = sorted(documented - set(MATRIX) - set(PUBLIC))
    assert not missing, f"routes in /api/openapi.json missing from the permission table: {missing}"
    gone = sorted((set(MATRIX) | set(PUBLIC)) - documented)
    assert not gone, f"the table names routes that are gone: {gone}"
    assert not set(MATRIX) & set(PUBLIC)
    # PUBLIC is exactly what the document says needs no token.
    assert {k for k, op in OPS.items() if op.get("security") == []} == set(PUBLIC)


def test_table_agrees_with_each_routes_declared_permission():
    """Where a route declares one permission, its row is exactly the user
    groups that start with it (the matrix cells then prove the code does)."""
    from chalicelib.accounts.permissions import STANDARD_GROUPS
    assert set(GROUPS) == set(STANDARD_GROUPS)
    for route, (allowed, rule) in MATRIX.items():
        permission = OPS[route].get("x-permission")
        if permission:
            assert f"`{permission}`" in rule, (route, rule)
            assert {g for g, ok in allowed.items() if ok} == \
                {g for g, perms in STANDARD_GROUPS.items() if permission in perms}, route


@pytest.mark.parametrize("route", sorted(PUBLIC), ids=lambda r: f"{r[0]} {r[1]}")
def test_public_route_needs_no_token(world, route):
    bodies = {"/api/schools": {"name": "x"}, "/api/auth/login": {"email": "nobody@cedar.sch.uk", "password": "x"},
              "/api/auth/verify": {"token": "not-a-token"},
              "/api/auth/accept-invite": {"token": "not-a-token", "password": "x" * 12}}
    path = route[1].replace("{name}", "app.js")
    r = world.env.api.call(route[0], path, bodies.get(route[1]), token="")
    assert r.status_code < 500 and r.status_code != 403, (r.status_code, r.body)
    # no token, yet not a 401 for a missing token (login answers 401 for the wrong password)
    assert r.status_code != 401 or (r.data and "password" in r.data["message"].lower()), r.body


def test_readme_table_is_the_rendered_matrix():
    with open(README, encoding="utf-8") as fh:
        block = readme_block(fh.read())
    assert block == render_markdown(), \
        "README's permission table differs from the test's: run python -m tests.hardening.test_permission_matrix"


# --------------------------------------------------------------- the footnotes

def _patch_staff(w, group, body):
    target = _fresh_staff(w)
    return w.env.api.patch(f"/api/staff/{target['id']}", {"version": 1, **body}, token=w.callers[group]["token"])


def test_footnote_2_user_group_change_stays_under_the_callers_ceiling(world):
    w = world
    r = _patch_staff(w, "SLTs", {"user_group": "Admin Team"})
    assert r.status_code == 403 and r.data["code"] == "exceeds_caller_rights" and r.data["missing"] == ["manage_settings"]
    assert _patch_staff(w, "SLTs", {"user_group": "TAs"}).status_code == 200
    assert _patch_staff(w, "SLTs", {"job_role": "Tutor"}).status_code == 200
    r = _patch_staff(w, "School Business Manager", {"user_group": "Admin Team"})
    assert r.status_code == 200 and r.data["user_group"] == "Admin Team"


def test_footnote_3_nobody_deletes_themselves(world):
    w = world
    me = w.callers["School Business Manager"]
    r = w.env.api.delete(f"/api/staff/{me['id']}", token=me["token"])
    assert r.status_code == 409 and r.data["code"] == "cannot_delete_self"


def test_footnote_4_the_owner_may_change_their_group(world):
    w = world
    teacher = w.callers["Teachers"]
    mine = w.env.group(teacher["token"], w.unique("Cedar my group "))
    r = w.env.api.patch(f"/api/groups/{mine['id']}", {"priority": "high"}, token=teacher["token"])
    assert r.status_code == 200 and r.data["priority"] == "high"
    other = w.env.api.patch(f"/api/groups/{mine['id']}", {"priority": "low"}, token=w.callers["SLTs"]["token"])
    assert other.status_code == 403 and other.data["code"] == "permission_denied"
    assert w.env.api.delete(f"/api/groups/{mine['id']}", token=teacher["token"]).status_code == 200


@pytest.mark.parametrize("group,sees", [("Teachers", False), ("Governors", False), ("DSLs", True)])
def test_footnote_5_hidden_groups_are_not_found(world, group, sees):
    w = world
    hidden = [w.school.private_group["id"], "sys-all-staff"]
    roster = group != "Governors"  # no view_roster: no group's members, no pupil system groups
    for gid in hidden:
        r = w.env.api.get(f"/api/groups/{gid}/members", token=w.callers[group]["token"])
        if sees:
            assert r.status_code == 200 and r.data["items"], r.body
        elif roster:
            assert r.status_code == 404 and r.data["code"] == "not_found", r.body
        else:
            assert r.status_code == 403 and r.data["code"] == "permission_denied", r.body
    listed = {g["id"] for g in w.env.api.get("/api/groups", token=w.callers[group]["token"]).data["items"]}
    assert (set(hidden) <= listed) if sees else not (set(hidden) & listed)
    assert w.target_group["id"] in listed
    assert (w.school.reg_group_id in listed) == roster


@pytest.mark.parametrize("group,may", [("Teachers", False), ("TAs", False), ("DSLs", True), ("SLTs", True)])
def test_footnote_6_adding_a_colleague_nobody_shows_them(world, group, may):
    w = world
    colleague = _fresh_staff(w)  # in no group anyone can see (All staff is view_all_groups only)
    r = w.env.api.post(f"/api/groups/{w.target_group['id']}/members", {"member_ids": [colleague["id"]]},
                       token=w.callers[group]["token"])
    if may:
        assert r.status_code == 200 and r.data["added"] == 1, r.body
    else:
        assert r.status_code == 403 and r.data["permission"] == "add_any_user", r.body
        assert r.data["member_ids"] == [colleague["id"]]


if __name__ == "__main__":
    changed = write_readme()
    print("README.md permission table " + ("rewritten" if changed else "already up to date"))
