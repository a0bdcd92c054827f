"""API clients and the client-credentials token, through HTTP."""
import pytest

from chalicelib.core.openapi import build
from tests.conftest import basic

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def token_request(api, client_id, secret, form="grant_type=client_credentials", headers=None):
    return api.call("POST", "/api/oauth/token", form, token="",
                    headers={**FORM, "Authorization": basic(client_id, secret), **(headers or {})})


def test_a_client_is_made_listed_and_its_secret_shown_once(api, admin):
    made = api.post("/api/clients", {"name": "Classroom monitoring", "scopes": ["groups.read"]})
    assert made.status_code == 201, made.body
    assert made.data["client_secret"] and made.data["scopes"] == ["groups.read"]
    listed = api.get("/api/clients").data["items"]
    assert [c["client_id"] for c in listed] == [made.data["client_id"]]
    assert "client_secret" not in listed[0] and listed[0]["last_used_at"] is None
    assert made.data["client_secret"].encode() not in api.get("/api/audit").body


@pytest.mark.parametrize("body,code", [
    ({"name": "", "scopes": ["groups.read"]}, "required"),
    ({"name": "x", "scopes": []}, "required"),
    ({"name": "x", "scopes": ["groups.write"]}, "unknown_scope"),
    ({"name": "x" * 101, "scopes": ["groups.read"]}, "too_long"),
])
def test_a_bad_client_is_refused_with_its_field(api, admin, body, code):
    r = api.post("/api/clients", body)
    assert r.status_code == 422 and r.data["errors"][0]["code"] == code


def test_unknown_fields_are_refused(api, admin):
    r = api.post("/api/clients", {"name": "x", "scopes": ["groups.read"], "admin": True})
    assert r.status_code == 422


def test_only_manage_settings_makes_lists_or_revokes_clients(api, admin, member, api_client):
    slt = member(admin, "SLTs")
    assert api.post("/api/clients", {"name": "x", "scopes": ["roster.read"]}, token=slt["token"]).status_code == 403
    assert api.get("/api/clients", token=slt["token"]).status_code == 403
    made = api_client(admin, ["roster.read"])
    assert api.delete(f"/api/clients/{made['client_id']}", token=slt["token"]).status_code == 403


def test_the_token_answers_rfc_6749(api, admin):
    made = api.post("/api/clients", {"name": "MIS reader", "scopes": ["roster.read", "groups.read"]}).data
    r = token_request(api, made["client_id"], made["client_secret"])
    assert r.status_code == 200, r.body
    assert r.data["token_type"] == "Bearer" and r.data["expires_in"] == 3600
    assert r.data["scope"] == "groups.read roster.read"
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Pragma"] == "no-cache"
    assert api.get("/api/clients").data["items"][0]["last_used_at"]
    asked = token_request(api, made["client_id"], made["client_secret"],
                          "grant_type=client_credentials&scope=roster.read")
    assert asked.data["scope"] == "roster.read"
    pupils = api.get("/api/pupils", token=asked.data["access_token"])
    groups = api.get("/api/groups", token=asked.data["access_token"])
    assert pupils.status_code == 200 and groups.status_code == 403
    assert groups.data["code"] == "insufficient_scope"


def test_credentials_in_the_form_work_but_not_twice(api, admin):
    made = api.post("/api/clients", {"name": "x", "scopes": ["roster.read"]}).data
    form = f"grant_type=client_credentials&client_id={made['client_id']}&client_secret={made['client_secret']}"
    assert api.call("POST", "/api/oauth/token", form, token="", headers=FORM).status_code == 200
    both = token_request(api, made["client_id"], made["client_secret"], form)
    assert both.status_code == 400 and both.data["error"] == "invalid_request"


@pytest.mark.parametrize("form,status,error", [
    ("grant_type=password", 400, "unsupported_grant_type"),
    ("", 400, "invalid_request"),
    ("grant_type=client_credentials&grant_type=client_credentials", 400, "invalid_request"),
    ("grant_type=client_credentials&scope=groups.read", 400, "invalid_scope"),
    ("grant_type=client_credentials&scope=admin", 400, "invalid_scope"),
])
def test_a_bad_token_request_says_what_is_wrong(api, admin, form, status, error):
    made = api.post("/api/clients", {"name": "x", "scopes": ["roster.read"]}).data
    r = token_request(api, made["client_id"], made["client_secret"], form)
    assert (r.status_code, r.data["error"], r.data["code"]) == (status, error, error)
    assert r.data["message"] == r.data["error_description"]


def test_a_wrong_secret_is_refused_and_audited(api, admin):
    made = api.post("/api/clients", {"name": "x", "scopes": ["roster.read"]}).data
    r = token_request(api, made["client_id"], "not-the-secret")
    assert r.status_code == 401 and r.data["error"] == "invalid_client"
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    assert token_request(api, "nosuchclient", made["client_secret"]).status_code == 401
    actions = [e["action"] for e in api.get("/api/audit?entity=api_client").data["items"]]
    assert actions[0] == "secret_refused" and "create" in actions


def test_a_json_token_request_is_refused(api, admin):
    made = api.post("/api/clients", {"name": "x", "scopes": ["roster.read"]}).data
    r = token_request(api, made["client_id"], made["client_secret"], '{"grant_type": "client_credentials"}',
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.data["error"] == "invalid_request"


def test_a_revoked_clients_token_is_refused_at_once(api, admin, api_client):
    made = api_client(admin, ["roster.read"])
    assert api.get("/api/pupils", token=made["token"]).status_code == 200
    assert api.delete(f"/api/clients/{made['client_id']}").data == {"revoked": True}
    assert api.get("/api/pupils", token=made["token"]).status_code == 401
    assert token_request(api, made["client_id"], made["client_secret"]).status_code == 401
    assert api.delete(f"/api/clients/{made['client_id']}").status_code == 404


def test_a_forged_or_expired_token_is_refused(api, admin, api_client):
    from chalicelib.accounts import api_clients
    made = api_client(admin, ["roster.read"])
    school, client_id = admin["school_id"], made["client_id"]
    forged = f"at.{school}.{client_id}.{'A' * 43}"
    assert api.get("/api/pupils", token=forged).status_code == 401
    other = made["token"].replace(f"at.{school}.", f"at.{'f' * 32}.")
    assert api.get("/api/pupils", token=other).status_code == 401
    record = api_clients.Token.get(api_clients.credentials.token_hash(made["token"]))
    record.update(actions=[api_clients.Token.expires_at.set(1)])
    assert api.get("/api/pupils", token=made["token"]).status_code == 401


def test_no_write_route_takes_a_client_token(api, admin, api_client, app):
    """Every route that is not a GET refuses a client holding every scope."""
    made = api_client(admin, ["roster.read", "groups.read", "oneroster.read", "changes.read"])
    doc = build(app)
    writes = [(m.upper(), p) for p, ops in doc["paths"].items() for m in ops
              if m != "get" and ops[m].get("security") != []]
    assert len(writes) > 30
    for method, path in writes:
        filled = path.replace("{", "").replace("}", "")
        r = api.call(method, filled, {}, token=made["token"])
        assert r.status_code == 403 and r.data["code"] == "insufficient_scope", (method, path, r.body)


def test_read_routes_without_a_scope_refuse_clients(api, admin, api_client, app):
    made = api_client(admin, ["roster.read", "groups.read", "oneroster.read", "changes.read"])
    for path in ("/api/me", "/api/audit", "/api/settings", "/api/clients", "/api/imports", "/api/auth/sessions"):
        r = api.get(path, token=made["token"])
        assert r.status_code == 403 and r.data["code"] == "insufficient_scope", (path, r.body)
    assert "groups.read" in r.data["message"]


def test_groups_read_sees_every_group_and_its_members(api, admin, member, api_client):
    teacher = member(admin)
    private = api.post("/api/groups", {"name": "Private", "shared": False}, token=teacher["token"]).data
    pupil = api.post("/api/pupils", {"first_name": "Ada", "surname": "Pupil", "date_of_birth": "2014-02-03",
                                     "year_group": "7"}).data
    api.post(f"/api/groups/{private['id']}/members", {"member_ids": [pupil["id"]]}, token=teacher["token"])
    made = api_client(admin, ["groups.read"])
    names = [g["name"] for g in api.get("/api/groups", token=made["token"]).data["items"]]
    assert "Private" in names
    members = api.get(f"/api/groups/{private['id']}/members", token=made["token"])
    assert [m["id"] for m in members.data["items"]] == [pupil["id"]]
    mine = api.get(f"/api/members/{pupil['id']}/groups", token=made["token"])
    assert private["id"] in [g["id"] for g in mine.data["items"]]
    assert api.get("/api/pupils", token=made["token"]).data["code"] == "insufficient_scope"


def test_a_client_body_of_the_wrong_types_is_a_422(api, admin):
    for body in ({"name": 5, "scopes": ["roster.read"]}, {"name": "x", "scopes": "roster.read"},
                 {"name": "x", "scopes": [1]}):
        r = api.post("/api/clients", body)
        assert r.status_code == 422 and r.data["code"] == "validation_failed", r.body


def test_demographics_need_a_scope_of_their_own(api, admin):
    """Birth dates and sex: only a client the school gave oneroster.demographics, and
    only a token asked for without a scope or with roster-demographics.readonly."""
    base, uri = "/ims/oneroster/rostering/v1p2", "https://purl.imsglobal.org/spec/or/v1p2/scope/"
    core_only = api.post("/api/clients", {"name": "LMS", "scopes": ["oneroster.read"]}).data
    every = token_request(api, core_only["client_id"], core_only["client_secret"]).data["access_token"]
    assert api.get(f"{base}/users", token=every).status_code == 200
    assert api.get(f"{base}/demographics", token=every).status_code == 403
    asked = token_request(api, core_only["client_id"], core_only["client_secret"],
                          f"grant_type=client_credentials&scope={uri}roster-demographics.readonly")
    assert asked.status_code == 400 and asked.data["error"] == "invalid_scope"
    both = api.post("/api/clients", {"name": "MIS", "scopes": ["oneroster.read", "oneroster.demographics"]}).data
    core = token_request(api, both["client_id"], both["client_secret"],
                         f"grant_type=client_credentials&scope={uri}roster-core.readonly").data["access_token"]
    assert api.get(f"{base}/demographics", token=core).status_code == 403
    full = token_request(api, both["client_id"], both["client_secret"],
                         f"grant_type=client_credentials&scope={uri}roster-core.readonly "
                         f"{uri}roster-demographics.readonly").data["access_token"]
    assert api.get(f"{base}/demographics", token=full).status_code == 200


def test_a_client_asking_for_tokens_in_a_loop_is_held_back(api, admin, monkeypatch):
    from chalicelib.accounts import api_clients
    monkeypatch.setattr(api_clients, "TOKENS_PER_HOUR", 3)
    made = api.post("/api/clients", {"name": "Runaway", "scopes": ["roster.read"]}).data
    statuses = [token_request(api, made["client_id"], made["client_secret"] if n % 2 else "wrong").status_code
                for n in range(4)]
    assert statuses == [401, 200, 401, 429]
    audited = api.get("/api/audit?entity=api_client").data["items"]
    assert len([e for e in audited if e["action"] in ("token_issued", "secret_refused")]) == 3
