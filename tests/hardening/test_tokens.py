"""Tokens and accounts (issue 9): every way of presenting a token that is not
a live session of this user is refused with the right status and `code`;
emailed links work once, for their own kind only, until they expire; repeated
failed sign-ins lock one email out and no other.

In-process (chalice.test + moto). One moto world per module keeps the many
cases fast; each case that changes state makes its own school or staff member.
"""
import json
import time

import pytest
from moto import mock_aws

from chalicelib.accounts import credentials
from chalicelib.accounts.models import Login, Throttle, Token, User
from chalicelib.core import config
from tests.conftest import PASSWORD, Api, link_token, sent_emails

SUITE = "tokens and accounts"

PUPIL = {"first_name": "Tok", "surname": "Pupil", "date_of_birth": "2015-03-04",
         "gender": "F", "year_group": "4", "registration_group": "4T"}


class World:
    """Schools, staff and tokens made through the API itself."""

    def __init__(self, api):
        self.api = api
        self.n = 0

    def deliver(self, to):
        from chalicelib.notify.outbox import send_due
        send_due()
        return [m for m in sent_emails() if to in m.destinations.get("ToAddresses", [])]

    def email(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}@tok{self.n}.sch.uk"

    def school(self, name="Ash School", verify=True):
        email = self.email("head")
        r = self.api.post("/api/schools", {"name": name, "admin": {
            "first_name": "Ada", "surname": "Admin", "email": email, "password": PASSWORD}}, token="")
        assert r.status_code == 201, r.body
        out = dict(r.data, email=email)
        out["verify_token"] = link_token(self.deliver(email)[-1].body)
        if verify:
            v = self.api.post("/api/auth/verify", {"token": out["verify_token"]}, token="")
            assert v.status_code == 200, v.body
        out["token"] = self.login(email)
        return out

    def login(self, email, password=PASSWORD):
        r = self.api.post("/api/auth/login", {"email": email, "password": password}, token="")
        assert r.status_code == 200, r.body
        return r.data["token"]

    def invite(self, school, user_group="Teachers"):
        """A staff member added by the school's admin; returns the record and
        the emailed invitation token (not yet accepted)."""
        email = self.email("staff")
        r = self.api.post("/api/staff", {"first_name": "Sam", "surname": f"Staff{self.n}", "email": email,
                                         "user_group": user_group}, token=school["token"])
        assert r.status_code == 201, r.body
        return dict(r.data, email=email, invite_token=link_token(self.deliver(email)[-1].body))

    def member(self, school, user_group="Teachers"):
        staff = self.invite(school, user_group)
        r = self.api.post("/api/auth/accept-invite", {"token": staff["invite_token"], "password": PASSWORD}, token="")
        assert r.status_code == 200, r.body
        staff["token"] = self.login(staff["email"])
        return staff


@pytest.fixture(scope="module")
def world():
    with mock_aws():
        from chalice.test import Client

        from app import app
        from devstack.bootstrap import create_resources
        create_resources()
        with Client(app, stage_name="test") as client:
            w = World(Api(client))
            w.a, w.b = w.school("Ash School"), w.school("Birch School")
            w.teacher = w.member(w.a, "Teachers")
            # Tokens that were real sessions and no longer are.
            w.expired = w.login(w.a["email"])
            Token.get(credentials.token_hash(w.expired)).update(
                actions=[Token.expires_at.set(int(time.time()) - 1)])
            w.revoked = w.login(w.a["email"])
            assert w.api.post("/api/auth/logout", token=w.revoked).status_code == 200
            gone = w.member(w.a, "SLTs")
            assert w.api.delete(f"/api/staff/{gone['id']}", token=w.a["token"]).status_code == 200
            w.deleted_user = gone["token"]
            # Live link tokens of the other kinds (never used here).
            w.unverified = w.school("Cedar School", verify=False)
            w.invited = w.invite(w.a)
            yield w


def ids_secret(token):
    school_id, user_id, secret = token.split(".")
    return school_id, user_id, secret


def _flip(secret):
    last = "A" if secret[-1] != "A" else "B"
    return secret[:-1] + last


# name -> world -> Authorization header value (None: no header at all)
BAD_AUTH = {
    # malformed
    "no header": lambda w: None,
    "empty header": lambda w: "",
    "scheme only": lambda w: "Bearer",
    "scheme and space": lambda w: "Bearer   ",
    "basic scheme, real token": lambda w: f"Basic {w.a['token']}",
    "no scheme, real token": lambda w: w.a["token"],
    "garbage": lambda w: "Bearer not-a-token",
    "one dot": lambda w: f"Bearer {w.a['school_id']}.{ids_secret(w.a['token'])[2]}",
    "four parts": lambda w: f"Bearer {w.a['token']}.extra",
    "only dots": lambda w: "Bearer ..",
    "empty ids": lambda w: f"Bearer ..{ids_secret(w.a['token'])[2]}",
    "empty secret": lambda w: "Bearer {}.{}.".format(*ids_secret(w.a["token"])[:2]),
    "short secret": lambda w: "Bearer {}.{}.".format(*ids_secret(w.a["token"])[:2]) + ids_secret(w.a["token"])[2][:42],
    "huge": lambda w: "Bearer " + "A" * 64 + "." + "B" * 64 + "." + "c" * 50_000,
    "huge ids": lambda w: "Bearer " + "A" * 5000 + "." + "B" * 5000 + "." + ids_secret(w.a["token"])[2],
    "non-ascii": lambda w: "Bearer école.ünïcødé." + "ß" * 43,
    "non-ascii secret": lambda w: "Bearer {}.{}.".format(*ids_secret(w.a["token"])[:2]) + "é" * 43,
    "nul byte": lambda w: "Bearer {}.{}\x00.".format(*ids_secret(w.a["token"])[:2]) + ids_secret(w.a["token"])[2],
    "sql-ish": lambda w: "Bearer ' OR '1'='1",
    "sql-ish ids": lambda w: "Bearer {}' OR '1'='1.{}.{}".format(*ids_secret(w.a["token"])),
    "nosql-ish": lambda w: 'Bearer {"$ne": null}',
    # wrong signature (the secret is not the one issued for these ids)
    "forged secret, real ids": lambda w: "Bearer " + credentials.new_token(w.a["school_id"], w.a["user_id"]),
    "one character changed": lambda w: "Bearer {}.{}.{}".format(*ids_secret(w.a["token"])[:2], _flip(ids_secret(w.a["token"])[2])),
    "secret upper-cased": lambda w: "Bearer {}.{}.{}".format(*ids_secret(w.a["token"])[:2], ids_secret(w.a["token"])[2].upper() + "Z"),
    "another school's secret": lambda w: "Bearer {}.{}.{}".format(*ids_secret(w.a["token"])[:2], ids_secret(w.b["token"])[2]),
    # another school's (or user's) ids with a real secret
    "other school's ids": lambda w: "Bearer {}.{}.{}".format(*ids_secret(w.b["token"])[:2], ids_secret(w.a["token"])[2]),
    "own school, other school's user": lambda w: "Bearer {}.{}.{}".format(w.a["school_id"], w.b["user_id"], ids_secret(w.a["token"])[2]),
    "other school, own user": lambda w: "Bearer {}.{}.{}".format(w.b["school_id"], w.a["user_id"], ids_secret(w.a["token"])[2]),
    "teacher claims admin's id": lambda w: "Bearer {}.{}.{}".format(w.a["school_id"], w.a["user_id"], ids_secret(w.teacher["token"])[2]),
    "admin's token, teacher's id": lambda w: "Bearer {}.{}.{}".format(w.a["school_id"], w.teacher["id"], ids_secret(w.a["token"])[2]),
    # ended sessions
    "expired": lambda w: f"Bearer {w.expired}",
    "revoked by logout": lambda w: f"Bearer {w.revoked}",
    "user deleted": lambda w: f"Bearer {w.deleted_user}",
    # link tokens are not sessions
    "verification token": lambda w: f"Bearer {w.unverified['verify_token']}",
    "verification token with ids": lambda w: "Bearer {}.{}.{}".format(
        w.unverified["school_id"], w.unverified["user_id"], w.unverified["verify_token"]),
    "invitation token": lambda w: f"Bearer {w.invited['invite_token']}",
    "invitation token with ids": lambda w: "Bearer {}.{}.{}".format(
        w.a["school_id"], w.invited["id"], w.invited["invite_token"]),
}

# (method, path, body) -> the status a live admin session gets
ROUTES = {
    "GET /api/me": ("GET", "/api/me", None, 200),
    "POST /api/pupils": ("POST", "/api/pupils", PUPIL, 201),
    "GET /api/staff/{id}": ("GET", "/api/staff/{teacher}", None, 200),
    "POST /api/auth/logout": ("POST", "/api/auth/logout", None, 200),
}


def _call(w, route, authorization):
    method, path, body, _ok = ROUTES[route]
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    kwargs = {"headers": headers}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    r = getattr(w.api.client.http, method.lower())(path.format(teacher=w.teacher["id"]), **kwargs)
    return r.status_code, (json.loads(r.body) if r.body else None)


def _pupil_count(w):
    r = w.api.get("/api/pupils?limit=500", token=w.a["token"])
    assert r.status_code == 200
    return len(r.data["items"])


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("case", list(BAD_AUTH))
def test_bad_session_token_is_401(world, case, route):
    writes = ROUTES[route][0] != "GET"
    before = _pupil_count(world) if writes else None
    status, body = _call(world, route, BAD_AUTH[case](world))
    assert status == 401, body
    assert body["code"] == "unauthorized" and body["message"]
    assert set(body) == {"code", "message"}
    if writes:
        # Nothing was written on the refused request, and the real session lives on.
        assert _pupil_count(world) == before
        assert world.api.get("/api/me", token=world.a["token"]).status_code == 200


@pytest.mark.parametrize("route", [r for r in ROUTES if r != "POST /api/auth/logout"])
def test_control_a_live_session_is_accepted(world, route):
    """The same calls with a live token succeed: the 401s above come from the
    token, not from the request."""
    status, body = _call(world, route, f"Bearer {world.a['token']}")
    assert status == ROUTES[route][3], body
    status, body = _call(world, route, f"bearer {world.teacher['token']}")
    expected = 403 if route == "POST /api/pupils" else ROUTES[route][3]
    assert status == expected, body


def test_logout_ends_only_that_session(world):
    school = world.school("Elm School")
    second = world.login(school["email"])
    assert world.api.post("/api/auth/logout", token=second).status_code == 200
    assert world.api.get("/api/me", token=second).status_code == 401
    assert world.api.post("/api/auth/logout", token=second).status_code == 401
    assert world.api.get("/api/me", token=school["token"]).status_code == 200


def test_a_session_stops_at_its_expiry(world):
    token = world.login(world.b["email"])
    record = Token.get(credentials.token_hash(token))
    assert record.expires_at - time.time() == pytest.approx(config.SESSION_SECONDS, abs=60)
    assert world.api.get("/api/me", token=token).status_code == 200
    record.update(actions=[Token.expires_at.set(int(time.time()))])
    r = world.api.get("/api/me", token=token)
    assert r.status_code == 401 and r.data["code"] == "unauthorized"


# Emailed links ---------------------------------------------------------------

# body sent to /api/auth/verify and /api/auth/accept-invite -> (status, code)
BAD_LINK_BODIES = {
    "empty": ({"token": ""}, 422, "validation_failed"),
    "missing": ({}, 422, "validation_failed"),
    "null": ({"token": None}, 422, "validation_failed"),
    "number": ({"token": 12345678901234567890}, 422, "validation_failed"),
    "list": ({"token": ["x" * 43]}, 422, "validation_failed"),
    "short": ({"token": "abc"}, 400, "invalid_token"),
    "made up": ({"token": "x" * 43}, 400, "invalid_token"),
    "too long": ({"token": "x" * 201}, 422, "validation_failed"),
    "huge": ({"token": "x" * 100_000}, 422, "validation_failed"),
    "non-ascii": ({"token": "é" * 43}, 400, "invalid_token"),
    "sql-ish": ({"token": "' OR '1'='1' -- xxxxxxxxxxxxxxxxxx"}, 400, "invalid_token"),
    "nul bytes": ({"token": "\x00" * 43}, 400, "invalid_token"),
}


@pytest.mark.parametrize("path", ["/api/auth/verify", "/api/auth/accept-invite"])
@pytest.mark.parametrize("case", list(BAD_LINK_BODIES))
def test_malformed_link_tokens_are_refused(world, path, case):
    body, status, code = BAD_LINK_BODIES[case]
    if path.endswith("accept-invite"):
        body = dict(body, password="a brand new passphrase")
    r = world.api.post(path, body, token="")
    assert r.status_code == status, r.body
    assert r.data["code"] == code


def _expire(token):
    Token.get(credentials.token_hash(token)).update(actions=[Token.expires_at.set(int(time.time()) - 1)])


def _verified(school):
    return User.get(school["school_id"], school["user_id"], consistent_read=True).email_verified


def test_verification_token_works_once(world):
    school = world.school("Fir School", verify=False)
    token = school["verify_token"]
    assert world.api.post("/api/auth/verify", {"token": token}, token="").status_code == 200
    again = world.api.post("/api/auth/verify", {"token": token}, token="")
    assert again.status_code == 400 and again.data["code"] == "invalid_token"
    assert _verified(school)


def test_expired_verification_token_is_refused(world):
    school = world.school("Gorse School", verify=False)
    _expire(school["verify_token"])
    r = world.api.post("/api/auth/verify", {"token": school["verify_token"]}, token="")
    assert r.status_code == 400 and r.data["code"] == "invalid_token"
    assert not _verified(school)


def test_a_verification_token_verifies_its_own_school_only(world):
    """Whoever sends it, school A's link verifies A's admin and nobody else."""
    a = world.school("Hazel School", verify=False)
    b = world.school("Holly School", verify=False)
    # sent "from" B's signed-in session: the route ignores who is signed in
    r = world.api.post("/api/auth/verify", {"token": a["verify_token"]}, token=b["token"])
    assert r.status_code == 200, r.body
    assert _verified(a) and not _verified(b)
    assert world.api.get("/api/me", token=b["token"]).data["email_verified"] is False
    # and A's used link cannot then verify B
    r = world.api.post("/api/auth/verify", {"token": a["verify_token"]}, token=b["token"])
    assert r.status_code == 400 and r.data["code"] == "invalid_token"
    assert not _verified(b)


def test_a_session_token_is_not_a_link_token(world):
    school = world.school("Ivy School", verify=False)
    for path, body in (("/api/auth/verify", {"token": school["token"]}),
                       ("/api/auth/accept-invite", {"token": school["token"], "password": "a brand new passphrase"})):
        r = world.api.post(path, body, token="")
        assert r.status_code == 400 and r.data["code"] == "invalid_token", (path, r.body)
        # the session survives the attempt
        assert world.api.get("/api/me", token=school["token"]).status_code == 200
    assert not _verified(school)
    world.login(school["email"])  # the password did not change


def test_an_invitation_token_cannot_verify_and_survives_the_attempt(world):
    staff = world.invite(world.a)
    r = world.api.post("/api/auth/verify", {"token": staff["invite_token"]}, token="")
    assert r.status_code == 400 and r.data["code"] == "invalid_token"
    assert User.get(world.a["school_id"], staff["id"]).email_verified is False
    ok = world.api.post("/api/auth/accept-invite", {"token": staff["invite_token"], "password": PASSWORD}, token="")
    assert ok.status_code == 200, ok.body


def test_a_verification_token_cannot_accept_an_invitation(world):
    school = world.school("Juniper School", verify=False)
    r = world.api.post("/api/auth/accept-invite", {"token": school["verify_token"], "password": "a brand new passphrase"},
                       token="")
    assert r.status_code == 400 and r.data["code"] == "invalid_token"
    bad = world.api.post("/api/auth/login", {"email": school["email"], "password": "a brand new passphrase"}, token="")
    assert bad.status_code == 401
    # still usable for what it is
    assert world.api.post("/api/auth/verify", {"token": school["verify_token"]}, token="").status_code == 200


def test_invitation_token_works_once(world):
    staff = world.invite(world.a)
    first = world.api.post("/api/auth/accept-invite", {"token": staff["invite_token"], "password": PASSWORD}, token="")
    assert first.status_code == 200
    again = world.api.post("/api/auth/accept-invite",
                           {"token": staff["invite_token"], "password": "the attacker's passphrase"}, token="")
    assert again.status_code == 400 and again.data["code"] == "invalid_token"
    # the second password was not set; the first still is
    r = world.api.post("/api/auth/login", {"email": staff["email"], "password": "the attacker's passphrase"}, token="")
    assert r.status_code == 401
    world.login(staff["email"])


def test_expired_invitation_is_refused(world):
    staff = world.invite(world.a)
    _expire(staff["invite_token"])
    r = world.api.post("/api/auth/accept-invite", {"token": staff["invite_token"], "password": PASSWORD}, token="")
    assert r.status_code == 400 and r.data["code"] == "invalid_token"
    assert Login.get(staff["email"]).password_hash is None
    assert world.api.post("/api/auth/login", {"email": staff["email"], "password": PASSWORD}, token="").status_code == 401


def test_a_weak_password_does_not_use_up_the_invitation(world):
    staff = world.invite(world.a)
    r = world.api.post("/api/auth/accept-invite", {"token": staff["invite_token"], "password": "short"}, token="")
    assert r.status_code == 422 and r.data["code"] == "weak_password"
    ok = world.api.post("/api/auth/accept-invite", {"token": staff["invite_token"], "password": PASSWORD}, token="")
    assert ok.status_code == 200, ok.body


def test_an_invitation_for_a_deleted_account_is_refused(world):
    staff = world.invite(world.a)
    assert world.api.delete(f"/api/staff/{staff['id']}", token=world.a["token"]).status_code == 200
    r = world.api.post("/api/auth/accept-invite", {"token": staff["invite_token"], "password": PASSWORD}, token="")
    assert r.status_code == 400 and r.data["code"] == "invalid_token"
    assert world.api.post("/api/auth/login", {"email": staff["email"], "password": PASSWORD}, token="").status_code == 401


# Sign-in throttling -----------------------------------------------------------

MAX = config.LOGIN_MAX_FAILURES


def _login(w, email, password):
    return w.api.post("/api/auth/login", {"email": email, "password": password}, token="")


def _fail(w, email, times):
    for _ in range(times):
        r = _login(w, email, "wrong wrong wrong")
        assert r.status_code == 401 and r.data["code"] == "unauthorized", r.body


@pytest.mark.parametrize("password", ["right", "wrong"])
def test_repeated_failures_lock_the_email_out(world, password):
    school = world.school("Larch School", verify=False)
    _fail(world, school["email"], MAX)
    r = _login(world, school["email"], PASSWORD if password == "right" else "wrong wrong wrong")
    assert r.status_code == 429 and r.data["code"] == "too_many_attempts"
    assert "token" not in r.data


def test_one_failure_short_of_the_limit_still_signs_in(world):
    school = world.school("Lime School", verify=False)
    _fail(world, school["email"], MAX - 1)
    assert _login(world, school["email"], PASSWORD).status_code == 200


@pytest.mark.parametrize("variant", ["upper case", "spaces"])
def test_the_lock_holds_for_every_spelling_of_the_email(world, variant):
    school = world.school("Maple School", verify=False)
    _fail(world, school["email"], MAX)
    spelt = school["email"].upper() if variant == "upper case" else f"  {school['email']} "
    r = _login(world, spelt, PASSWORD)
    assert r.status_code == 429 and r.data["code"] == "too_many_attempts"


def test_emails_are_locked_out_independently(world):
    locked = world.school("Oak School", verify=False)
    other = world.school("Pine School", verify=False)
    _fail(world, locked["email"], MAX)
    assert _login(world, locked["email"], PASSWORD).status_code == 429
    # another account of another school, and one of the same school, are unaffected
    assert _login(world, other["email"], PASSWORD).status_code == 200
    _fail(world, other["email"], 1)
    assert _login(world, world.teacher["email"], PASSWORD).status_code == 200


def test_unknown_emails_lock_out_the_same_way(world):
    ghost = "nobody-here@ghost.sch.uk"
    _fail(world, ghost, MAX)
    r = _login(world, ghost, "wrong wrong wrong")
    assert r.status_code == 429 and r.data["code"] == "too_many_attempts"


def _wait_over(email):
    """The lock-out's wait runs out (simulated)."""
    Throttle(key=f"login#email#{email}").update(actions=[Throttle.refill_at.set(int(time.time()) - 1)])


def test_the_lock_ends_with_its_wait_and_a_right_password_restores_the_budget(world):
    school = world.school("Rowan School", verify=False)
    _fail(world, school["email"], MAX)
    r = _login(world, school["email"], PASSWORD)
    assert r.status_code == 429 and 55 <= int(r.headers["Retry-After"]) <= 60
    assert "reset your password" not in r.data["message"]
    _wait_over(school["email"])
    assert _login(world, school["email"], PASSWORD).status_code == 200
    # a right password gives the whole budget back
    _fail(world, school["email"], MAX - 1)
    assert _login(world, school["email"], PASSWORD).status_code == 200
    _fail(world, school["email"], MAX)
    assert _login(world, school["email"], PASSWORD).status_code == 429


def test_each_lock_out_waits_twice_as_long_up_to_15_minutes(world):
    school = world.school("Hazel School", verify=False)
    _fail(world, school["email"], MAX)
    waits = []
    for _ in range(6):
        r = _login(world, school["email"], "wrong wrong wrong")
        assert r.status_code == 429
        waits.append(int(r.headers["Retry-After"]))
        _wait_over(school["email"])
        _fail(world, school["email"], 1)  # the one try after a wait, wrong again
    assert [round(w / 60) for w in waits] == [1, 2, 4, 8, 15, 15], waits
