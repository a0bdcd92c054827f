"""Sign-in through the school's identity provider, against a real OpenID
provider on loopback (oidc-provider, tests/sso.py): the settings, the whole
round trip, and each way it must refuse."""
import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from chalicelib.accounts import oidc
from devstack import oidc_provider
from tests import sso
from tests.conftest import DYNAMO_READS, DYNAMO_WRITES, PASSWORD

pytestmark = pytest.mark.usefixtures("fresh_oidc_caches")


@pytest.fixture
def oakwood(api, signup, oidc_op):
    """Oakwood with its admin (head@), a teacher still invited, and the loopback provider set."""
    school = signup(name="Oakwood School", email=sso.USERS["head"])
    api.token = school["token"]
    teacher = api.post("/api/staff", {"first_name": "Tess", "surname": "Teacher", "email": sso.USERS["teacher"],
                                      "user_group": "Teachers"})
    assert teacher.status_code == 201, teacher.body
    r = api.put("/api/settings/sso", sso.settings(oidc_op))
    assert r.status_code == 200, r.body
    return dict(school, teacher=teacher.data)


def sign_in(api, email, school=sso.DOMAIN, **back):
    """The browser's round trip (tests/sso.py) from the sign-in screen's start."""
    return sso.round_trip(api, sso.start_url(school), email, **back)


def exchanged(api, callback):
    assert callback.status_code == 302, callback.body
    code = sso.fragment_of(callback.headers["Location"])["sso"]
    return api.post("/api/auth/sso/exchange", {"code": code, "console": sso.CONSOLE}, token="")


# ---------------------------------------------------------------- the settings


def test_settings_are_saved_shown_without_the_secret_and_audited(api, oakwood, oidc_op):
    shown = api.get("/api/settings/sso").data
    assert shown["configured"] and shown["issuer"] == oidc_op.issuer and shown["client_secret_set"]
    assert shown["redirect_uri"] == "http://127.0.0.1:8000/api/auth/sso/callback"
    assert sso.CLIENT_SECRET.encode() not in api.get("/api/settings/sso").body
    audit = api.get("/api/audit?record_type=sso_settings").body
    assert b"sso_settings" in audit and sso.CLIENT_SECRET.encode() not in audit


@pytest.mark.parametrize("body,field", [
    ({"provider": "microsoft", "issuer": "https://login.microsoftonline.com/common/v2.0"}, "issuer"),
    ({"provider": "google", "issuer": "https://evil.example"}, "issuer"),
    ({"allowed_domains": ["gmail.com"]}, "allowed_domains"),
    ({"allowed_domains": []}, "allowed_domains"),
    ({"allowed_domains": ["not a domain"]}, "allowed_domains"),
    ({"issuer": "http://example.org"}, "issuer"),
])
def test_bad_settings_are_refused_by_field(api, admin, oidc_op, body, field):
    r = api.put("/api/settings/sso", {**sso.settings(oidc_op), **body})
    assert r.status_code == 422, r.body
    assert field in {e["field"] for e in r.data["errors"]}


def test_an_issuer_without_discovery_is_refused(api, admin, oidc_op):
    r = api.put("/api/settings/sso", sso.settings(oidc_op, issuer=oidc_op.issuer + "/nothing-here"))
    assert r.status_code == 422 and r.data["code"] == "sso_issuer_unusable"


def test_unknown_fields_are_refused(api, admin, oidc_op):
    r = api.put("/api/settings/sso", sso.settings(oidc_op, auto_create=True))
    assert r.status_code == 422


def test_microsoft_takes_a_tenant_id(api, admin, monkeypatch):
    seen = []
    monkeypatch.setattr(oidc, "discover", lambda issuer: seen.append(issuer))
    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    r = api.put("/api/settings/sso", {"provider": "microsoft", "issuer": tenant, "client_id": "x",
                                      "client_secret": "y", "allowed_domains": ["hill.sch.uk"]})
    assert r.status_code == 200, r.body
    assert r.data["issuer"] == seen[0] == f"https://login.microsoftonline.com/{tenant}/v2.0"


def test_only_a_domain_of_an_admins_verified_address_routes_sign_in(api, oakwood, signup, oidc_op):
    """Birch lists Oakwood's domain: accepted in its ID tokens, but the sign-in
    screen still sends Oakwood's staff to Oakwood (Birch has no mailbox there)."""
    assert api.get("/api/settings/sso").data["routed_domains"] == [sso.DOMAIN]
    other = signup(name="Birch School", email=sso.USERS["birch"])
    body = sso.settings(oidc_op, allowed_domains=[sso.DOMAIN, "birch.sch.uk"])
    r = api.put("/api/settings/sso", body, token=other["token"])
    assert r.status_code == 200 and r.data["routed_domains"] == ["birch.sch.uk"], r.body
    assert api.get(f"/api/auth/sso/discover?email=x@{sso.DOMAIN}", token="").data["sso"]["school_id"] \
        == oakwood["school_id"]
    assert api.get("/api/auth/sso/discover?email=x@birch.sch.uk", token="").data["sso"]["school_id"] \
        == other["school_id"]


def test_removing_the_provider_frees_its_domain_and_deletes_the_secret(api, oakwood, signup, oidc_op):
    assert api.delete("/api/settings/sso").status_code == 200
    assert api.get("/api/auth/sso/discover?email=x@oakwood.sch.uk", token="").data == {"sso": None}
    from chalicelib.accounts import sso_secrets
    assert sso_secrets.get(oakwood["school_id"]) is None


# ---------------------------------------------------------------- the round trip


def test_sign_in_works_and_the_session_is_like_a_password_one(api, oakwood, aws_calls):
    assert api.get(f"/api/auth/sso/discover?email=anyone@{sso.DOMAIN}", token="").data["sso"]["school_id"] \
        == oakwood["school_id"]
    callback = sign_in(api, sso.USERS["teacher"], then=aws_calls.clear)
    assert callback.status_code == 302, callback.body
    location = callback.headers["Location"]
    assert location.startswith("http://127.0.0.1:8000/#sso=") and "token" not in location
    # the discovery document and keys cached: take the state, the secret, the login, the code
    assert [op for op, _ in aws_calls] == ["DeleteItem", "GetSecretValue", "GetItem", "PutItem"]
    session = exchanged(api, callback)
    assert session.status_code == 200, session.body
    aws_calls.clear()
    me = api.get("/api/me", token=session.data["token"])
    assert me.status_code == 200 and me.data["user"]["email"] == sso.USERS["teacher"]
    assert [op for op, _ in aws_calls if op in DYNAMO_READS | DYNAMO_WRITES] == ["BatchGetItem"]
    # an invited teacher's first provider sign-in makes them active (their address is vouched for)
    staff = api.get(f"/api/staff/{oakwood['teacher']['id']}").data
    assert staff["status"] == "active"
    assert b"login" in api.get("/api/audit?record_type=account").body


def test_the_one_time_code_works_once(api, oakwood):
    callback = sign_in(api, sso.USERS["head"])
    code = sso.fragment_of(callback.headers["Location"])["sso"]
    assert api.post("/api/auth/sso/exchange", {"code": code, "console": sso.CONSOLE}, token="").status_code == 200
    again = api.post("/api/auth/sso/exchange", {"code": code, "console": sso.CONSOLE}, token="")
    assert again.status_code == 400 and again.data["code"] == "invalid_token"


def test_the_one_time_code_lasts_60_seconds(api, oakwood, monkeypatch):
    callback = sign_in(api, sso.USERS["head"])
    code = sso.fragment_of(callback.headers["Location"])["sso"]
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    r = api.post("/api/auth/sso/exchange", {"code": code, "console": sso.CONSOLE}, token="")
    assert r.status_code == 400 and r.data["code"] == "invalid_token"


def _refused(r, code):
    assert r.status_code >= 400 and r.data and r.data["code"] == code, (r.status_code, r.body)
    assert r.data["message"]


def test_a_sign_in_the_console_did_not_start_signs_nobody_in(api, oakwood):
    """Login CSRF: a link or page that sends a browser to start, or hands it a
    code from someone else's sign-in, without the console's own value."""
    r = api.call("GET", f"/api/auth/sso/start?school={sso.DOMAIN}", token="", headers={"Accept": "application/json"})
    _refused(r, "sso_state_invalid")
    callback = sign_in(api, sso.USERS["head"])
    code = sso.fragment_of(callback.headers["Location"])["sso"]
    r = api.post("/api/auth/sso/exchange", {"code": code, "console": "another-browser-s-value-0123456789"}, token="")
    _refused(r, "invalid_token")


def test_a_wrong_state_is_refused(api, oakwood):
    _refused(sign_in(api, sso.USERS["head"], edit=lambda p: p.replace("state=", "state=x")), "sso_state_invalid")


def test_a_callback_in_another_browser_is_refused(api, oakwood):
    _refused(sign_in(api, sso.USERS["head"], cookie=False), "sso_state_invalid")


def test_a_replayed_callback_is_refused(api, oakwood):
    paths = []
    first = sign_in(api, sso.USERS["head"], edit=lambda p: paths.append(p) or p)
    assert first.status_code == 302
    again = api.call("GET", paths[0], token="", headers={"Accept": "application/json"})
    _refused(again, "sso_state_invalid")


def test_a_replayed_code_is_refused_by_the_provider(api, oakwood, oidc_op, monkeypatch):
    """The provider's code, used twice: the second state is fresh, the code is not."""
    paths = []
    assert sign_in(api, sso.USERS["head"], edit=lambda p: paths.append(p) or p).status_code == 302
    used_code = sso.query_of(paths[0])["code"]
    _refused(sign_in(api, sso.USERS["head"], edit=lambda p: p.replace(sso.query_of(p)["code"], used_code)),
             "sso_provider_error")


def _tampered(monkeypatch, change, key=None):
    """The provider's ID token, changed by ``change(claims)`` and signed again
    (with the provider's own key unless ``key``), as an attacker between us
    and the provider would."""
    real = oidc.exchange

    def exchange(*args, **kwargs):
        token = real(*args, **kwargs)
        decoded = jwt.decode(token, KeySet.import_key_set(KEYS["op"]))
        claims = change(dict(decoded.claims))
        signing = KeySet.import_key_set(key or KEYS["op"])
        return jwt.encode(decoded.header, claims, signing)
    monkeypatch.setattr(oidc, "exchange", exchange)


KEYS = {}


@pytest.fixture
def provider_keys(oidc_op):
    KEYS["op"] = oidc_op.jwks
    return oidc_op.jwks


def test_an_expired_id_token_is_refused(api, oakwood, monkeypatch, provider_keys):
    _tampered(monkeypatch, lambda c: {**c, "iat": c["iat"] - 7200, "exp": int(time.time()) - 3600})
    _refused(sign_in(api, sso.USERS["head"]), "sso_token_invalid")


def test_a_re_signed_id_token_is_refused(api, oakwood, monkeypatch, provider_keys):
    forged = oidc_provider.new_jwks()
    forged["keys"][0]["kid"] = provider_keys["keys"][0]["kid"]  # the provider's key id, another key
    _tampered(monkeypatch, lambda c: {**c, "email": sso.USERS["head"]}, key=forged)
    r = sign_in(api, sso.USERS["teacher"])
    _refused(r, "sso_token_invalid")
    assert "signature" in r.data["message"]


def test_an_id_token_for_another_application_is_refused(api, oakwood, monkeypatch, provider_keys):
    _tampered(monkeypatch, lambda c: {**c, "aud": "another-app"})
    r = sign_in(api, sso.USERS["head"])
    _refused(r, "sso_token_invalid")
    assert "another application" in r.data["message"]


def test_an_id_token_of_another_sign_in_is_refused(api, oakwood, monkeypatch, provider_keys):
    _tampered(monkeypatch, lambda c: {**c, "nonce": "another"})
    _refused(sign_in(api, sso.USERS["head"]), "sso_token_invalid")


def test_an_email_outside_the_allowed_domains_is_refused(api, oakwood):
    _refused(sign_in(api, sso.USERS["outsider"]), "sso_domain_not_allowed")


def test_an_email_the_provider_does_not_vouch_for_is_refused(api, oakwood):
    _refused(sign_in(api, sso.USERS["unverified"]), "sso_email_unverified")


def test_an_email_that_is_not_staff_is_refused_and_no_account_is_made(api, oakwood):
    r = sign_in(api, sso.USERS["stranger"])
    _refused(r, "sso_not_staff")
    assert not [s for s in api.all_pages("/api/staff") if s["email"] == sso.USERS["stranger"]]


def test_a_disabled_account_is_refused(api, oakwood, member):
    api.post(f"/api/staff/{oakwood['teacher']['id']}/disable")
    _refused(sign_in(api, sso.USERS["teacher"]), "account_disabled")


def test_the_refusal_page_says_why_to_a_browser(api, oakwood):
    r = sign_in(api, sso.USERS["stranger"], headers={"Accept": "text/html"})
    assert r.status_code == 403 and r.headers["Content-Type"].startswith("text/html")
    assert b"not a staff account" in r.body and b"sso_not_staff" in r.body


def test_a_school_without_a_provider_is_a_clear_refusal(api, admin):
    r = api.call("GET", sso.start_url("nowhere.sch.uk"), token="", headers={"Accept": "application/json"})
    _refused(r, "sso_not_configured")


# ---------------------------------------------------------------- require


def test_require_refuses_staff_passwords_but_keeps_the_admins(api, oakwood, oidc_op, member):
    teacher = member(oakwood)
    assert api.put("/api/settings/sso", {**sso.settings(oidc_op), "client_secret": None, "require": True}
                   ).status_code == 422  # (a null secret is not a string)
    body = sso.settings(oidc_op, require=True)
    del body["client_secret"]  # the one kept
    assert api.put("/api/settings/sso", body).status_code == 200
    r = api.post("/api/auth/login", {"email": teacher["email"], "password": PASSWORD}, token="")
    assert r.status_code == 403 and r.data["code"] == "sso_required" and r.data["provider"] == "oidc"
    # a wrong password, or an address nobody has, at the school's domain gets the same answer
    for email, password in ((teacher["email"], "wrong" + PASSWORD), (f"nobody@{sso.DOMAIN}", PASSWORD)):
        r = api.post("/api/auth/login", {"email": email, "password": password}, token="")
        assert r.status_code == 403 and r.data["code"] == "sso_required", r.body
    assert api.post("/api/auth/login", {"email": sso.USERS["head"], "password": PASSWORD},
                    token="").status_code == 200
    assert exchanged(api, sign_in(api, sso.USERS["teacher"])).status_code == 200


# ---------------------------------------------------------------- the test button


def test_a_test_sign_in_reports_the_id_token_and_signs_nobody_in(api, oakwood):
    r = sso.round_trip(api, "/api/settings/sso/test", sso.USERS["stranger"])
    assert r.status_code == 302 and "#sso-test=" in r.headers["Location"]
    code = sso.fragment_of(r.headers["Location"])["sso-test"]
    assert api.post("/api/auth/sso/exchange", {"code": code, "console": sso.CONSOLE}, token="").status_code == 400
    report = api.post("/api/settings/sso/test-result", {"code": code})
    assert report.status_code == 200, report.body
    assert report.data["claims"]["email"] == sso.USERS["stranger"] and report.data["would_sign_in"] is False
    assert report.data["reason"] == "sso_not_staff"


def test_require_refuses_a_two_factor_password_step_too_and_the_admins_keep_theirs(api, oakwood, oidc_op, member):
    import pyotp
    teacher = member(oakwood)
    for person in (teacher, {"token": oakwood["token"]}):
        secret = api.post("/api/auth/mfa/setup", token=person["token"]).data["secret"]
        assert api.post("/api/auth/mfa/confirm", {"code": pyotp.TOTP(secret).now()},
                        token=person["token"]).status_code == 200
    body = sso.settings(oidc_op, require=True)
    assert api.put("/api/settings/sso", body).status_code == 200
    r = api.post("/api/auth/login", {"email": teacher["email"], "password": PASSWORD}, token="")
    assert r.status_code == 403 and r.data["code"] == "sso_required", r.body
    admin_step = api.post("/api/auth/login", {"email": sso.USERS["head"], "password": PASSWORD}, token="")
    assert admin_step.status_code == 200 and admin_step.data["mfa_required"] is True
    # the rule goes with the setting
    assert api.put("/api/settings/sso", {**body, "require": False}).status_code == 200
    r = api.post("/api/auth/login", {"email": teacher["email"], "password": PASSWORD}, token="")
    assert r.status_code == 200 and r.data["mfa_required"] is True


def test_a_password_sign_in_still_costs_three_calls(api, oakwood, member, aws_calls):
    teacher = member(oakwood)
    aws_calls.clear()
    r = api.post("/api/auth/login", {"email": teacher["email"], "password": PASSWORD}, token="")
    assert r.status_code == 200
    assert len([op for op, _ in aws_calls if op in DYNAMO_READS | DYNAMO_WRITES]) == 3, aws_calls


def test_a_schools_sign_in_link_names_its_provider_for_any_address(api, oakwood):
    link = api.get("/api/settings/sso").data["sign_in_link"]
    assert link == f"http://127.0.0.1:8000/#sign-in={oakwood['school_id']}"
    found = api.get(f"/api/auth/sso/discover?school={oakwood['school_id']}", token="").data["sso"]
    assert found["school_name"] == "Oakwood School" and found["label"] == "Sign in with your school's account"
    for other in ("0" * 32, "../x", ""):
        assert api.get(f"/api/auth/sso/discover?school={other}", token="").data == {"sso": None}
