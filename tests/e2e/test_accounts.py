"""Accounts a school can run (issue 15) over HTTP on the real local stack:
the API's answers a client sees, each point once (the console's walk of the
same flows is test_console_account.py; the edge cases, in-process with the
clock moved, are tests/hardening/test_accounts.py)."""
import time

import pyotp
import pytest

from tests.e2e.helpers import Http
from tests.e2e.test_local_stack import PASSWORD

pytestmark = pytest.mark.e2e
NEW = "lantern orchard quietly"


@pytest.fixture(scope="module")
def elm(stack):
    http = Http(stack)
    admin = http.school("elmaccounts")
    return dict(http=http, admin=admin)


def _status(http, token, path="/api/me"):
    return http.call("GET", path, token).status_code


def test_forgot_and_reset_password(elm):
    http = elm["http"]
    _staff, token = http.staff(elm["admin"], "tess@elmaccounts.sch.uk", "Teachers")
    known = http.call("POST", "/api/auth/forgot-password", json={"email": "tess@elmaccounts.sch.uk"})
    unknown = http.call("POST", "/api/auth/forgot-password", json={"email": "nobody@elmaccounts.sch.uk"})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (202, {"queued": True})
    reset = http.link_token("tess@elmaccounts.sch.uk", after=1)  # the invitation was the first email
    weak = http.call("POST", "/api/auth/reset-password", json={"token": reset, "password": "ElmAccounts2026"})
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    assert http.call("POST", "/api/auth/reset-password", json={"token": reset, "password": NEW}).status_code == 200
    assert _status(http, token) == 401  # every session ended
    again = http.call("POST", "/api/auth/reset-password", json={"token": reset, "password": NEW})
    assert again.status_code == 400 and again.json()["code"] == "invalid_token"
    assert http.call("POST", "/api/auth/login", json={"email": "tess@elmaccounts.sch.uk",
                                                      "password": PASSWORD}).status_code == 401
    fresh = http.call("POST", "/api/auth/login", json={"email": "tess@elmaccounts.sch.uk", "password": NEW}).json()
    typo = http.call("POST", "/api/auth/change-password", fresh["token"],
                     json={"current_password": "not it", "new_password": PASSWORD})
    assert typo.status_code == 403 and typo.json()["code"] == "wrong_password"
    assert _status(http, fresh["token"]) == 200


def test_two_factor_sign_in(elm):
    http = elm["http"]
    staff, token = http.staff(elm["admin"], "tom@elmaccounts.sch.uk", "Teachers")
    setup = http.call("POST", "/api/auth/mfa/setup", token).json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/") and setup["qr_svg"].startswith("<svg")
    totp = pyotp.TOTP(setup["secret"])
    codes = http.call("POST", "/api/auth/mfa/confirm", token, json={"code": totp.now()}).json()["recovery_codes"]
    assert len(codes) == 10 and http.call("GET", "/api/me", token).json()["mfa_enabled"] is True
    step = http.call("POST", "/api/auth/login", json={"email": "tom@elmaccounts.sch.uk", "password": PASSWORD}).json()
    assert step["mfa_required"] is True and "token" not in step
    assert _status(http, step["mfa_token"]) == 401  # a step is no session
    replay = http.call("POST", "/api/auth/mfa/verify", json={"mfa_token": step["mfa_token"], "code": totp.now()})
    assert replay.status_code == 400 and replay.json()["code"] == "invalid_code"  # used by the confirm
    ok = http.call("POST", "/api/auth/mfa/verify", json={"mfa_token": step["mfa_token"],
                                                          "code": totp.at(time.time() + 30)})
    assert ok.status_code == 200 and _status(http, ok.json()["token"]) == 200
    sessions = http.call("GET", "/api/auth/sessions", ok.json()["token"]).json()["items"]
    assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
    assert all(s["user_agent"] for s in sessions)  # what the person would recognise
    reset = http.call("POST", f"/api/staff/{staff['id']}/mfa-reset", elm["admin"])
    assert reset.status_code == 200 and reset.json()["mfa_enabled"] is False


def test_disabling_a_leaver_and_requiring_two_factor(elm):
    http = elm["http"]
    staff, token = http.staff(elm["admin"], "leaver@elmaccounts.sch.uk", "Teachers")
    slt, slt_token = http.staff(elm["admin"], "slt@elmaccounts.sch.uk", "SLTs")
    me = http.call("GET", "/api/me", elm["admin"]).json()
    over = http.call("POST", f"/api/staff/{me['user']['id']}/disable", slt_token)
    assert over.status_code == 403 and over.json()["code"] == "exceeds_caller_rights"
    self_off = http.call("POST", f"/api/staff/{me['user']['id']}/disable", elm["admin"])
    assert self_off.status_code == 409 and self_off.json()["code"] == "cannot_disable_self"
    off = http.call("POST", f"/api/staff/{staff['id']}/disable", slt_token)
    assert off.status_code == 200 and off.json()["status"] == "disabled"
    assert _status(http, token) == 401
    refused = http.call("POST", "/api/auth/login", json={"email": "leaver@elmaccounts.sch.uk", "password": PASSWORD})
    assert refused.status_code == 403 and refused.json()["code"] == "account_disabled"
    listed = http.call("GET", "/api/staff?status=disabled", elm["admin"]).json()["items"]
    assert [s["email"] for s in listed] == ["leaver@elmaccounts.sch.uk"]
    # the school requires two factors of SLTs: the SLT may sign in, and set it up, and nothing else
    assert http.call("PATCH", "/api/settings", elm["admin"], json={"require_mfa_for": ["SLTs"]}).status_code == 200
    assert http.call("GET", "/api/me", slt_token).json()["mfa_setup_required"] is True
    gated = http.call("GET", "/api/pupils", slt_token)
    assert gated.status_code == 403 and gated.json()["code"] == "mfa_setup_required"
    assert http.call("POST", "/api/auth/mfa/setup", slt_token).status_code == 200
    assert http.call("PATCH", "/api/settings", elm["admin"], json={"require_mfa_for": []}).status_code == 200
    assert _status(http, slt_token, "/api/pupils") == 200
