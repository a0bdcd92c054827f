import time

import pytest

from chalicelib.accounts import credentials
from chalicelib.accounts.models import Login, Token, User
from tests.conftest import PASSWORD, link_token


def body(name="Oak Primary", email="head@oak.sch.uk", password=PASSWORD, **admin):
    return {"name": name, "admin": {"first_name": "Ada", "surname": "Admin", "email": email,
                                     "password": password, **admin}}


def test_sign_up_creates_school_and_admin_in_admin_team(api):
    r = api.post("/api/schools", body())
    assert r.status_code == 201
    assert set(r.data) == {"school_id", "user_id"}
    user = User.get(r.data["school_id"], r.data["user_id"])
    assert user.user_group == "Admin Team" and user.email == "head@oak.sch.uk"
    assert not user.email_verified
    assert Login.get("head@oak.sch.uk").password_hash.startswith("$argon2id$")


def test_email_in_use_is_409_case_insensitively(api):
    assert api.post("/api/schools", body()).status_code == 201
    r = api.post("/api/schools", body(name="Other", email="  HEAD@Oak.sch.UK"))
    assert r.status_code == 409 and r.data["code"] == "email_taken"


@pytest.mark.parametrize("password", ["short", "password123", "1234567890"])
def test_weak_passwords_are_422(api, password):
    r = api.post("/api/schools", body(password=password))
    assert r.status_code == 422 and r.data["code"] == "weak_password"
    assert r.data["message"]


def test_missing_and_invalid_fields_are_422_with_field_errors(api):
    r = api.post("/api/schools", {"name": "", "admin": {"email": "not-an-email", "password": PASSWORD}})
    assert r.status_code == 422 and r.data["code"] == "validation_failed"
    fields = {e["field"]: e["code"] for e in r.data["errors"]}
    assert fields == {"name": "required", "admin.first_name": "required", "admin.surname": "required"}
    r = api.post("/api/schools", body(email="not-an-email"))
    assert r.status_code == 422 and r.data["errors"][0] == {
        "field": "admin.email", "code": "invalid_email", "message": r.data["errors"][0]["message"]}


def test_login_returns_token_and_expiry(api, no_scan):
    api.post("/api/schools", body())
    r = api.post("/api/auth/login", {"email": "Head@Oak.sch.uk", "password": PASSWORD})
    assert r.status_code == 200
    assert r.data["token"] and r.data["expires_at"].endswith("Z")
    # Stored only as its hash.
    stored = Token.get(credentials.token_hash(r.data["token"]))
    assert stored.kind == "session"
    no_scan["allowed"] = True
    assert not list(Token.scan(Token.token_hash == r.data["token"]))


def test_wrong_password_and_unknown_email_look_the_same(api, monkeypatch):
    api.post("/api/schools", body())
    calls = []
    real = credentials.verify_password
    monkeypatch.setattr(credentials, "verify_password", lambda h, p: calls.append(h) or real(h, p))
    wrong = api.post("/api/auth/login", {"email": "head@oak.sch.uk", "password": "not the password"})
    unknown = api.post("/api/auth/login", {"email": "ghost@oak.sch.uk", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.data == unknown.data
    # Both paths run the slow hash once (the unknown one against a dummy hash).
    assert len(calls) == 2


def test_repeated_failures_lock_the_email_out(api):
    api.post("/api/schools", body())
    for _ in range(5):
        assert api.post("/api/auth/login", {"email": "head@oak.sch.uk", "password": "wrong wrong 1"}).status_code == 401
    r = api.post("/api/auth/login", {"email": "head@oak.sch.uk", "password": PASSWORD})
    assert r.status_code == 429 and r.data["code"] == "too_many_attempts"
    # Another email is unaffected.
    assert api.post("/api/auth/login", {"email": "x@y.org", "password": "wrong wrong 1"}).status_code == 401


def test_me_describes_the_caller(api, signup):
    school = signup(name="Oak Primary", verify=False)
    r = api.get("/api/me", token=school["token"])
    assert r.status_code == 200
    assert r.data["user"]["id"] == school["user_id"]
    assert r.data["school"] == {"id": school["school_id"], "name": "Oak Primary", "timezone": "Europe/London"}
    assert r.data["user_group"] == "Admin Team"
    assert "manage_roster" in r.data["permissions"]
    assert r.data["email_verified"] is False


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Bearer not-a-token",
                                    "Bearer a.b." + "x" * 43])
def test_missing_or_malformed_tokens_are_401(api, header):
    headers = {} if header is None else {"Authorization": header}
    r = api.client.http.get("/api/me", headers=headers)
    assert r.status_code == 401
    import json
    assert json.loads(r.body)["code"] == "unauthorized"


def test_forged_token_with_real_ids_is_401(api, signup):
    school = signup(verify=False)
    forged = credentials.new_token(school["school_id"], school["user_id"])
    assert api.get("/api/me", token=forged).status_code == 401


def test_another_schools_ids_in_a_token_are_401(api, signup):
    a, b = signup(name="Ash School"), signup(name="Birch School")
    secret = a["token"].split(".")[2]
    spliced = f"{b['school_id']}.{b['user_id']}.{secret}"
    assert api.get("/api/me", token=spliced).status_code == 401


def test_expired_token_is_401(api, signup):
    school = signup(verify=False)
    record = Token.get(credentials.token_hash(school["token"]))
    record.update(actions=[Token.expires_at.set(int(time.time()) - 1)])
    assert api.get("/api/me", token=school["token"]).status_code == 401


def test_logout_revokes_the_token(api, signup):
    school = signup(verify=False)
    assert api.post("/api/auth/logout", token=school["token"]).status_code == 200
    r = api.get("/api/me", token=school["token"])
    assert r.status_code == 401 and r.data["code"] == "unauthorized"


def test_verification_link_verifies_once(api, mailbox):
    api.post("/api/schools", body())
    (mail,) = mailbox(to="head@oak.sch.uk")
    assert "Confirm your email" in mail.subject
    token = link_token(mail.body)
    assert mail.body.count("http://127.0.0.1:8000/#action=verify&token=") >= 1
    # Only the hash is stored.
    assert Token.get(credentials.token_hash(token)).kind == "verify"
    assert api.post("/api/auth/verify", {"token": token}).data == {"email_verified": True}
    again = api.post("/api/auth/verify", {"token": token})
    assert again.status_code == 400 and again.data["code"] == "invalid_token"
    login = api.post("/api/auth/login", {"email": "head@oak.sch.uk", "password": PASSWORD})
    assert api.get("/api/me", token=login.data["token"]).data["email_verified"] is True


def test_expired_or_made_up_verification_tokens_are_refused(api, mailbox):
    api.post("/api/schools", body())
    token = link_token(mailbox()[0].body)
    record = Token.get(credentials.token_hash(token))
    record.update(actions=[Token.expires_at.set(int(time.time()) - 1)])
    r = api.post("/api/auth/verify", {"token": token})
    assert r.status_code == 400 and "expired" in r.data["message"]
    assert api.post("/api/auth/verify", {"token": "x" * 43}).data["code"] == "invalid_token"


def test_session_token_cannot_verify_an_email(api, signup):
    school = signup(verify=False)
    r = api.post("/api/auth/verify", {"token": school["token"]})
    assert r.status_code == 400 and r.data["code"] == "invalid_token"


def test_resend_verification_sends_a_fresh_working_link(api, signup, mailbox):
    school = signup(verify=False)
    first = link_token(mailbox(to=school["email"])[0].body)
    r = api.post("/api/auth/resend-verification", token=school["token"])
    assert r.data == {"queued": True, "email_verified": False}
    emails = mailbox(to=school["email"])
    assert len(emails) == 2
    second = link_token(emails[1].body)
    assert second != first
    assert api.post("/api/auth/verify", {"token": second}).status_code == 200
    r = api.post("/api/auth/resend-verification", token=school["token"])
    assert r.data == {"queued": False, "email_verified": True}
    assert len(mailbox(to=school["email"])) == 2


def test_logs_never_hold_passwords_tokens_or_emails(api, mailbox):
    import io
    import logging
    from chalicelib.core.log import logger
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        api.post("/api/schools", body())
        api.post("/api/auth/login", {"email": "head@oak.sch.uk", "password": "wrong password 1"})
        token = api.post("/api/auth/login", {"email": "head@oak.sch.uk", "password": PASSWORD}).data["token"]
        api.get("/api/me", token=token)
        mailbox()
    finally:
        logger.setLevel(logging.WARNING)
        logger.removeHandler(handler)
    logged = buf.getvalue()
    assert "email sent" in logged  # the logger did write, as JSON with ids
    import json
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    me_line = next(line for line in lines if line.get("route") == "GET /api/me")
    assert me_line["request_id"] and me_line["school_id"] and me_line["status"] == 200
    for secret in (PASSWORD, "wrong password 1", token, token.split(".")[2], "head@oak.sch.uk"):
        assert secret not in logged


def test_an_unverified_sign_up_frees_its_email_after_7_days(api, mailbox):
    """A squatter signs up with someone else's address and never verifies:
    after the hold (7 days, simulated) the owner signs up with it."""
    import time as clock
    from chalicelib.accounts.models import Login
    from chalicelib.core import config
    body = {"name": "Squat School", "admin": {"first_name": "S", "surname": "Q", "email": "head@owner.sch.uk",
                                               "password": "correct horse battery"}}
    assert api.post("/api/schools", body, token="").status_code == 201
    squatter_link = link_token(mailbox(to="head@owner.sch.uk")[0].body)
    again = api.post("/api/schools", {**body, "name": "Owner School"}, token="")
    assert again.status_code == 409 and again.data["code"] == "email_taken"  # within the hold
    held = Login.get("head@owner.sch.uk")
    assert clock.time() + config.SIGNUP_HOLD_SECONDS - 60 < held.unverified_until
    held.update(actions=[Login.unverified_until.set(int(clock.time()) - 1)])  # 7 days pass
    taken = api.post("/api/schools", {**body, "name": "Owner School"}, token="")
    assert taken.status_code == 201, taken.body
    assert Login.get("head@owner.sch.uk").school_id == taken.data["school_id"]
    # the squatter's old link can't verify the address the owner now holds
    r = api.post("/api/auth/verify", {"token": squatter_link}, token="")
    assert r.status_code == 400 and r.data["code"] == "invalid_token"


def test_a_verified_sign_up_keeps_its_email_for_good(api, signup):
    from chalicelib.accounts.models import Login
    school = signup(name="Kept School")
    assert Login.get(school["email"]).unverified_until is None
    r = api.post("/api/schools", {"name": "Other", "admin": {"first_name": "A", "surname": "B",
                                   "email": school["email"], "password": "correct horse battery"}}, token="")
    assert r.status_code == 409 and r.data["code"] == "email_taken"
