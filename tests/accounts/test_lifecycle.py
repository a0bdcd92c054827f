"""Accounts a school can run (issue 15): every event of the lifecycle writes
one audit entry in the school's log, named by what happened."""
import pyotp

from chalicelib.notify import outbox
from tests.conftest import PASSWORD, link_token


def _new(api, seen):
    """The entries written since the last look, as (action, record type):
    counted, so two alike in one second are two."""
    import collections
    now = collections.Counter((e["at"], e["action"], e["record_type"], e["record_id"])
                              for e in api.all_pages("/api/audit?limit=500"))
    fresh = now - seen
    seen.clear()
    seen.update(now)
    return sorted((action, kind) for (_at, action, kind, _id), n in fresh.items() for _ in range(n))

NEW_PASSWORD = "lantern orchard quietly"


def test_each_account_event_is_audited_once(api, admin, member, mailbox):
    import collections
    seen = collections.Counter()
    staff = member(admin, user_group="Teachers")
    _new(api, seen)
    token = staff["token"]

    assert api.post("/api/auth/forgot-password", {"email": staff["email"]}, token="").status_code == 202
    assert _new(api, seen) == [("password_reset_requested", "account")]
    outbox.send_due()
    reset = link_token(mailbox(to=staff["email"])[-1].body)
    assert api.post("/api/auth/reset-password", {"token": reset, "password": NEW_PASSWORD}, token="").status_code == 200
    assert sorted(_new(api, seen)) == [("password_set", "account"), ("sessions_revoked", "account")]

    token = api.post("/api/auth/login", {"email": staff["email"], "password": NEW_PASSWORD}, token="").data["token"]
    _new(api, seen)
    assert api.post("/api/auth/change-password", {"current_password": NEW_PASSWORD, "new_password": PASSWORD},
                    token=token).status_code == 200
    assert _new(api, seen) == [("password_set", "account")]

    secret = api.post("/api/auth/mfa/setup", token=token).data["secret"]
    assert _new(api, seen) == []  # nothing is on until it is confirmed
    codes = api.post("/api/auth/mfa/confirm", {"code": pyotp.TOTP(secret).now()}, token=token).data["recovery_codes"]
    assert _new(api, seen) == [("mfa_enabled", "account")]
    assert api.call("DELETE", "/api/auth/mfa", {"code": codes[0]}, token=token).status_code == 200
    assert _new(api, seen) == [("mfa_disabled", "account")]
    secret = api.post("/api/auth/mfa/setup", token=token).data["secret"]
    api.post("/api/auth/mfa/confirm", {"code": pyotp.TOTP(secret).now()}, token=token)
    _new(api, seen)
    assert api.post(f"/api/staff/{staff['id']}/mfa-reset", token=admin["token"]).status_code == 200
    assert _new(api, seen) == [("mfa_reset", "staff")]

    assert api.post(f"/api/staff/{staff['id']}/disable", token=admin["token"]).status_code == 200
    assert _new(api, seen) == [("account_disabled", "staff")]
    assert api.post(f"/api/staff/{staff['id']}/disable", token=admin["token"]).status_code == 200
    assert _new(api, seen) == []  # disabled already: nothing changed, nothing written
    assert api.post(f"/api/staff/{staff['id']}/enable", token=admin["token"]).status_code == 200
    assert _new(api, seen) == [("account_enabled", "staff")]

    token = api.post("/api/auth/login", {"email": staff["email"], "password": PASSWORD}, token="").data["token"]
    _new(api, seen)
    assert api.post("/api/auth/logout-everywhere", token=token).status_code == 200
    assert _new(api, seen) == [("sessions_revoked", "account")]
    entries = api.all_pages(f"/api/audit?record_id={staff['id']}&action=account_disabled")
    assert [(e["actor_id"], e["changes"]) for e in entries] == [(admin["user_id"], {"status": ["active", "disabled"]})]
