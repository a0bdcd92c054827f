"""Accounts a school can run (issue 15), tried as an attacker would: reset
links, two-factor steps and sessions presented where they don't belong, used
twice, late, for a disabled account; codes replayed; sessions outliving a
reset, an idle hour, 12 hours or a disabling. Same world as the tokens suite
(in-process chalice.test + moto); each case makes its own people.
"""
import time

import pyotp
import pytest

from chalicelib.accounts import credentials
from chalicelib.accounts.models import Login, Token, User
from chalicelib.core import config
from tests.conftest import PASSWORD, link_token
from tests.hardening.test_tokens import BAD_LINK_BODIES, World, world  # noqa: F401 - the module's world

SUITE = "tokens and accounts"
NEW_PASSWORD = "lantern orchard quietly"


def _reset_token(w, email):
    before = len(w.deliver(email))
    r = w.api.post("/api/auth/forgot-password", {"email": email}, token="")
    assert r.status_code == 202 and r.data == {"queued": True}, r.body
    mails = w.deliver(email)
    assert len(mails) == before + 1
    return link_token(mails[-1].body)


def _me(w, token):
    return w.api.get("/api/me", token=token).status_code


# ---------------------------------------------------------------- reset links

@pytest.mark.parametrize("case", list(BAD_LINK_BODIES))
def test_malformed_reset_tokens_are_refused(world, case):
    body, status, code = BAD_LINK_BODIES[case]
    r = world.api.post("/api/auth/reset-password", dict(body, password=NEW_PASSWORD), token="")
    assert (r.status_code, r.data["code"]) == (status, code), r.body


def test_forgot_password_answers_the_same_for_any_address(world):
    staff = world.member(world.a)
    invited = world.invite(world.a)
    answers = [world.api.post("/api/auth/forgot-password", {"email": e}, token="")
               for e in (staff["email"], staff["email"].upper(), "nobody@nowhere.sch.uk", invited["email"], "x")]
    assert {(r.status_code, str(r.data)) for r in answers[:4]} == {(202, "{'queued': True}")}
    assert answers[4].status_code == 202  # not even a malformed address says anything
    assert len(world.deliver(staff["email"])) == 1 + 2  # the invitation, then a reset for each spelling
    assert len(world.deliver(invited["email"])) == 1  # an invited account has no password to reset


def test_reset_link_works_once_ends_every_session_and_every_older_link(world):
    staff = world.member(world.a)
    other_session = world.login(staff["email"])
    older = _reset_token(world, staff["email"])
    token = _reset_token(world, staff["email"])
    weak = world.api.post("/api/auth/reset-password", {"token": token, "password": "Sam" + staff["surname"] + "2026"},
                          token="")
    assert weak.status_code == 422 and weak.data["code"] == "weak_password"  # and the link is not used up
    ok = world.api.post("/api/auth/reset-password", {"token": token, "password": NEW_PASSWORD}, token="")
    assert ok.status_code == 200, ok.body
    assert _me(world, staff["token"]) == 401 and _me(world, other_session) == 401
    for used in (token, older):
        again = world.api.post("/api/auth/reset-password", {"token": used, "password": "the attacker's passphrase"},
                               token="")
        assert again.status_code == 400 and again.data["code"] == "invalid_token"
    assert world.api.post("/api/auth/login", {"email": staff["email"], "password": PASSWORD}, token="").status_code == 401
    world.login(staff["email"], NEW_PASSWORD)


def test_a_reset_link_expires_after_30_minutes(world):
    staff = world.member(world.a)
    token = _reset_token(world, staff["email"])
    record = Token.get(credentials.token_hash(token))
    assert record.kind == "reset" and record.expires_at - time.time() <= config.RESET_SECONDS
    record.update(actions=[Token.expires_at.set(int(time.time()) - 1)])
    r = world.api.post("/api/auth/reset-password", {"token": token, "password": NEW_PASSWORD}, token="")
    assert r.status_code == 400 and r.data["code"] == "invalid_token"


def test_tokens_of_one_kind_do_nothing_as_another(world):
    staff = world.member(world.a)
    reset = _reset_token(world, staff["email"])
    invited = world.invite(world.a)
    # a reset link is no session, verification or invitation; those are no reset link
    assert _me(world, reset) == 401
    assert world.api.post("/api/auth/verify", {"token": reset}, token="").data["code"] == "invalid_token"
    assert world.api.post("/api/auth/accept-invite", {"token": reset, "password": NEW_PASSWORD},
                          token="").data["code"] == "invalid_token"
    for other in (invited["invite_token"], staff["token"], world.unverified["verify_token"]):
        r = world.api.post("/api/auth/reset-password", {"token": other, "password": NEW_PASSWORD}, token="")
        assert r.status_code == 400 and r.data["code"] == "invalid_token"
    # and each still works for what it is
    assert world.api.post("/api/auth/reset-password", {"token": reset, "password": NEW_PASSWORD},
                          token="").status_code == 200


def test_resets_are_capped_silently(world):
    staff = world.member(world.a)
    for _ in range(8):
        assert world.api.post("/api/auth/forgot-password", {"email": staff["email"]}, token="").status_code == 202
    resets = [m for m in world.deliver(staff["email"]) if "reset" in m.subject.lower()]
    assert len(resets) == 5


# ---------------------------------------------------------------- disabled accounts

def test_a_disabled_account_loses_sessions_links_and_sign_in(world):
    staff = world.member(world.a)
    reset = _reset_token(world, staff["email"])
    r = world.api.post(f"/api/staff/{staff['id']}/disable", token=world.a["token"])
    assert r.status_code == 200 and r.data["status"] == "disabled"
    assert _me(world, staff["token"]) == 401
    assert world.api.post("/api/auth/reset-password", {"token": reset, "password": NEW_PASSWORD},
                          token="").data["code"] == "invalid_token"
    right = world.api.post("/api/auth/login", {"email": staff["email"], "password": PASSWORD}, token="")
    assert right.status_code == 403 and right.data["code"] == "account_disabled"
    wrong = world.api.post("/api/auth/login", {"email": staff["email"], "password": "not it at all"}, token="")
    assert wrong.status_code == 401  # only the right password learns it is disabled
    before = len(world.deliver(staff["email"]))
    world.api.post("/api/auth/forgot-password", {"email": staff["email"]}, token="")
    assert len(world.deliver(staff["email"])) == before
    listed = world.api.get("/api/staff?status=disabled", token=world.a["token"]).data["items"]
    assert [s["id"] for s in listed if s["id"] == staff["id"]] == [staff["id"]]
    assert world.api.post(f"/api/staff/{staff['id']}/enable", token=world.a["token"]).data["status"] == "active"
    world.login(staff["email"])


def test_a_disabled_invitee_cannot_accept_and_comes_back_invited(world):
    invited = world.invite(world.a)
    assert world.api.post(f"/api/staff/{invited['id']}/disable", token=world.a["token"]).status_code == 200
    r = world.api.post("/api/auth/accept-invite", {"token": invited["invite_token"], "password": PASSWORD}, token="")
    assert r.status_code == 400 and r.data["code"] == "invalid_token"
    assert world.api.post(f"/api/staff/{invited['id']}/enable", token=world.a["token"]).data["status"] == "invited"


def test_nobody_disables_themselves_or_the_last_enabled_admin(world):
    school = world.school("Quince School")
    me = school["user_id"]
    r = world.api.post(f"/api/staff/{me}/disable", token=school["token"])
    assert r.status_code == 409 and r.data["code"] == "cannot_disable_self"
    # a custom group with every permission may act on admins, but not leave the school without one
    perms = [p["name"] for p in world.api.get("/api/user-groups", token=school["token"]).data["permissions"]]
    assert world.api.put("/api/user-groups/Heads", {"permissions": perms}, token=school["token"]).status_code == 200
    head = world.member(school, "Heads")
    r = world.api.post(f"/api/staff/{me}/disable", token=head["token"])
    assert r.status_code == 409 and r.data["code"] == "last_admin"
    assert _me(world, school["token"]) == 200


def test_an_slt_cannot_disable_an_admin(world):
    school = world.school("Rowan Vale School")
    slt = world.member(school, "SLTs")
    r = world.api.post(f"/api/staff/{school['user_id']}/disable", token=slt["token"])
    assert r.status_code == 403 and r.data["code"] == "exceeds_caller_rights"
    r = world.api.post(f"/api/staff/{school['user_id']}/mfa-reset", token=slt["token"])
    assert r.status_code == 403 and r.data["code"] == "permission_denied"


# ---------------------------------------------------------------- sessions

def test_sessions_end_when_idle_and_after_12_hours(world, monkeypatch):
    staff = world.member(world.a)
    record = Token.get(credentials.token_hash(staff["token"]))
    record.update(actions=[Token.last_used_at.set(int(time.time()) - 61 * 60)])
    assert _me(world, staff["token"]) == 401  # 61 idle minutes (the default is 60)
    fresh = world.login(staff["email"])
    Token.get(credentials.token_hash(fresh)).update(actions=[Token.last_used_at.set(int(time.time()) - 59 * 60)])
    assert _me(world, fresh) == 200
    Token.get(credentials.token_hash(fresh)).update(actions=[Token.expires_at.set(int(time.time()) - 1)])
    assert _me(world, fresh) == 401


def test_the_idle_clock_is_written_at_most_once_a_minute(world):
    staff = world.member(world.a)
    hashed = credentials.token_hash(staff["token"])
    first = Token.get(hashed).last_used_at
    for _ in range(3):
        assert _me(world, staff["token"]) == 200
    assert Token.get(hashed).last_used_at == first
    Token.get(hashed).update(actions=[Token.last_used_at.set(first - 120)])
    assert _me(world, staff["token"]) == 200
    assert Token.get(hashed).last_used_at >= first


def test_a_school_may_shorten_the_idle_limit(world):
    school = world.school("Sorrel School")
    r = world.api.patch("/api/settings", {"idle_minutes": 15}, token=school["token"])
    assert r.status_code == 200 and r.data["idle_minutes"] == 15
    for bad in (14, 481, "60", True):
        assert world.api.patch("/api/settings", {"idle_minutes": bad}, token=school["token"]).status_code == 422
    Token.get(credentials.token_hash(school["token"])).update(
        actions=[Token.last_used_at.set(int(time.time()) - 16 * 60)])
    assert _me(world, school["token"]) == 401


def test_change_password_keeps_this_session_only_and_a_typo_is_not_a_sign_out(world):
    staff = world.member(world.a)
    other = world.login(staff["email"])
    typo = world.api.post("/api/auth/change-password", {"current_password": "not my password",
                                                        "new_password": NEW_PASSWORD}, token=staff["token"])
    assert typo.status_code == 403 and typo.data["code"] == "wrong_password"
    assert _me(world, staff["token"]) == 200 and _me(world, other) == 200
    ok = world.api.post("/api/auth/change-password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                        token=staff["token"])
    assert ok.status_code == 200, ok.body
    assert _me(world, staff["token"]) == 200 and _me(world, other) == 401
    listed = world.api.get("/api/auth/sessions", token=staff["token"]).data["items"]
    assert [s["current"] for s in listed] == [True]


def test_logout_everywhere_and_ending_one_session(world):
    staff = world.member(world.a)
    second, third = world.login(staff["email"]), world.login(staff["email"])
    listed = world.api.get("/api/auth/sessions", token=staff["token"]).data["items"]
    assert len(listed) == 3 and sum(s["current"] for s in listed) == 1
    mine = world.api.get("/api/auth/sessions", token=second).data["items"]
    second_id = next(s["id"] for s in mine if s["current"])
    assert world.api.delete(f"/api/auth/sessions/{second_id}", token=staff["token"]).status_code == 200
    assert _me(world, second) == 401 and _me(world, third) == 200
    assert world.api.delete(f"/api/auth/sessions/{second_id}", token=staff["token"]).status_code == 404
    assert world.api.post("/api/auth/logout-everywhere", token=staff["token"]).status_code == 200
    assert _me(world, staff["token"]) == 401 and _me(world, third) == 401
    world.login(staff["email"])


# ---------------------------------------------------------------- two-factor

def _with_mfa(w, school=None):
    staff = w.member(school or w.a)
    setup = w.api.post("/api/auth/mfa/setup", token=staff["token"])
    assert setup.status_code == 200, setup.body
    secret = setup.data["secret"]
    assert secret not in str(Login.get(staff["email"]).attribute_values)  # sealed at rest
    confirmed = w.api.post("/api/auth/mfa/confirm", {"code": pyotp.TOTP(secret).now()}, token=staff["token"])
    assert confirmed.status_code == 200, confirmed.body
    return dict(staff, secret=secret, recovery=confirmed.data["recovery_codes"])


def _step(w, staff):
    r = w.api.post("/api/auth/login", {"email": staff["email"], "password": PASSWORD}, token="")
    assert r.status_code == 200 and r.data["mfa_required"] is True and "token" not in r.data, r.body
    return r.data["mfa_token"]


def _verify(w, step, code):
    return w.api.post("/api/auth/mfa/verify", {"mfa_token": step, "code": code}, token="")


def test_a_code_is_good_once_and_a_step_token_is_good_for_nothing_else(world):
    staff = _with_mfa(world)
    step = _step(world, staff)
    assert _me(world, step) == 401
    assert world.api.post("/api/auth/reset-password", {"token": step, "password": NEW_PASSWORD},
                          token="").data["code"] == "invalid_token"
    totp = pyotp.TOTP(staff["secret"])
    now = time.time()
    # the confirm used this step; the next one is accepted (a phone's clock runs ahead)
    replay = _verify(world, step, totp.at(now))
    assert replay.status_code == 400 and replay.data["code"] == "invalid_code"
    ok = _verify(world, step, totp.at(now + 30))
    assert ok.status_code == 200 and _me(world, ok.data["token"]) == 200
    again = _verify(world, step, totp.at(now + 30))
    assert again.status_code == 400 and again.data["code"] == "invalid_token"  # the step is used up
    replay = _verify(world, _step(world, staff), totp.at(now + 30))
    assert replay.status_code == 400 and replay.data["code"] == "invalid_code"  # the code too


def test_a_recovery_code_works_once_and_a_step_expires(world):
    staff = _with_mfa(world)
    code = staff["recovery"][0]
    assert _verify(world, _step(world, staff), code.upper()).status_code == 200
    used = _verify(world, _step(world, staff), code)
    assert used.status_code == 400 and used.data["code"] == "invalid_code"
    step = _step(world, staff)
    Token.get(credentials.token_hash(step)).update(actions=[Token.expires_at.set(int(time.time()) - 1)])
    late = _verify(world, step, staff["recovery"][1])
    assert late.status_code == 400 and late.data["code"] == "invalid_token"


def test_wrong_codes_spend_the_sign_in_budget(world):
    staff = _with_mfa(world)
    step = _step(world, staff)  # the password spent one attempt and gave none back
    answers = [_verify(world, step, "000000").status_code for _ in range(config.LOGIN_MAX_FAILURES)]
    assert answers[-1] == 429 and set(answers[:-1]) == {400}, answers
    assert _verify(world, step, staff["recovery"][0]).status_code == 429  # even the right code waits


def test_a_school_can_require_two_factor_of_a_group(world):
    school = world.school("Tamarisk School")
    teacher = world.member(school, "Teachers")
    bad = world.api.patch("/api/settings", {"require_mfa_for": ["Teachrs"]}, token=school["token"])
    assert bad.status_code == 422 and bad.data["errors"][0]["field"] == "require_mfa_for.0"
    assert world.api.patch("/api/settings", {"require_mfa_for": ["Teachers"]}, token=school["token"]).status_code == 200
    me = world.api.get("/api/me", token=teacher["token"])
    assert me.status_code == 200 and me.data["mfa_setup_required"] is True
    for method, path in (("GET", "/api/pupils"), ("GET", "/api/groups"), ("GET", "/api/auth/sessions")):
        r = world.api.call(method, path, token=teacher["token"])
        assert r.status_code == 403 and r.data["code"] == "mfa_setup_required", (path, r.body)
    setup = world.api.post("/api/auth/mfa/setup", token=teacher["token"])
    assert setup.status_code == 200
    assert world.api.post("/api/auth/mfa/confirm", {"code": pyotp.TOTP(setup.data["secret"]).now()},
                          token=teacher["token"]).status_code == 200
    assert world.api.get("/api/groups", token=teacher["token"]).status_code == 200
    off = world.api.call("DELETE", "/api/auth/mfa", {"code": "123456"}, token=teacher["token"])
    assert off.status_code == 409 and off.data["code"] == "mfa_required_by_school"
    # a lost phone: an admin resets it, and the teacher is sent to set it up again
    reset = world.api.post(f"/api/staff/{teacher['id']}/mfa-reset", token=school["token"])
    assert reset.status_code == 200 and reset.data["mfa_enabled"] is False
    r = world.api.post("/api/auth/login", {"email": teacher["email"], "password": PASSWORD}, token="")
    assert "token" in r.data
    assert world.api.get("/api/groups", token=r.data["token"]).data["code"] == "mfa_setup_required"


def test_turning_two_factor_off_needs_a_current_code(world):
    staff = _with_mfa(world)
    wrong = world.api.call("DELETE", "/api/auth/mfa", {"code": "000000"}, token=staff["token"])
    assert wrong.status_code == 400 and wrong.data["code"] == "invalid_code"
    assert User.get(world.a["school_id"], staff["id"]).mfa_enabled is True
    ok = world.api.call("DELETE", "/api/auth/mfa", {"code": staff["recovery"][3]}, token=staff["token"])
    assert ok.status_code == 200 and ok.data == {"mfa_enabled": False}
    login = Login.get(staff["email"])
    assert login.mfa_secret is None and not login.recovery_codes
    assert "token" in world.api.post("/api/auth/login", {"email": staff["email"], "password": PASSWORD},
                                     token="").data


def test_a_sealed_secret_opens_for_its_own_account_only(world):
    from chalicelib.accounts import secretbox
    staff = _with_mfa(world)
    sealed = Login.get(staff["email"]).mfa_secret
    assert secretbox.unseal(sealed, world.a["school_id"], staff["id"]) == staff["secret"]
    with pytest.raises(Exception):
        secretbox.unseal(sealed, world.a["school_id"], world.teacher["id"])


# ---------------------------------------------------------------- from an attacker's review

def test_a_stolen_session_can_neither_move_the_account_nor_reset_its_own_two_factor(world):
    school = world.school("Umber School")
    me = world.api.get(f"/api/staff/{school['user_id']}", token=school["token"]).data
    moved = world.api.patch(f"/api/staff/{school['user_id']}", {"version": me["version"], "email": "thief@evil.example"},
                            token=school["token"])
    assert moved.status_code == 409 and moved.data["code"] == "cannot_change_own_email"
    reset = world.api.post(f"/api/staff/{school['user_id']}/mfa-reset", token=school["token"])
    assert reset.status_code == 409 and reset.data["code"] == "cannot_reset_own_mfa"


@pytest.mark.parametrize("code", ["\u0661\u0662\u0663\u0664\u0665\u0666", "\u00b9\u00b2\u00b3\u2074\u2075\u2076",
                                  "\uff11\uff12\uff13\uff14\uff15\uff16", "\u00e9" * 12, "12345\x00"])
def test_odd_codes_are_a_400_not_a_500(world, code):
    staff = _with_mfa(world)
    r = _verify(world, _step(world, staff), code)
    assert r.status_code == 400 and r.data["code"] == "invalid_code", r.body


def test_a_step_earned_before_a_disabling_dies_with_it(world):
    staff = _with_mfa(world)
    step = _step(world, staff)
    assert world.api.post(f"/api/staff/{staff['id']}/disable", token=world.a["token"]).status_code == 200
    assert world.api.post(f"/api/staff/{staff['id']}/enable", token=world.a["token"]).status_code == 200
    r = _verify(world, step, staff["recovery"][0])
    assert r.status_code == 400 and r.data["code"] == "invalid_token"


def test_an_unknown_user_group_is_gated_as_the_teachers_it_counts_as(world):
    school = world.school("Vetch School")
    supply = world.member(school, "Supply Cover")
    assert world.api.patch("/api/settings", {"require_mfa_for": ["Teachers"]}, token=school["token"]).status_code == 200
    assert world.api.get("/api/groups", token=supply["token"]).data["code"] == "mfa_setup_required"


@pytest.mark.parametrize("path", ["/api/auth/forgot-password", "/api/auth/login"])
def test_an_address_that_grows_past_a_key_under_nfkc_is_no_500(world, path):
    email = "\ufdfa" * 249 + "@x.uk"  # 254 characters; NFKC makes each 18
    r = world.api.post(path, {"email": email, "password": "x" * 12} if "login" in path else {"email": email}, token="")
    assert r.status_code in (202, 401), r.body


def test_strangers_asking_for_resets_do_not_spend_a_persons_own_resends(world):
    school = world.school("Woad School", verify=False)
    for _ in range(6):
        world.api.post("/api/auth/forgot-password", {"email": school["email"]}, token="")
    assert world.api.post("/api/auth/resend-verification", token=school["token"]).status_code == 200


def test_sessions_after_only_moves_forward(world):
    staff = world.member(world.a)
    user = User.get(world.a["school_id"], staff["id"])
    user.update(actions=[User.sessions_after.set(int(time.time() * 1000) + 60_000)])  # a newer cut, committed first
    old = world.api.post("/api/auth/logout-everywhere", token=world.login(staff["email"]))
    assert old.status_code in (200, 401)
    assert User.get(world.a["school_id"], staff["id"]).sessions_after >= int(time.time() * 1000) + 50_000
