"""The escalation matrix (issue 14): every standard user group as the caller
× every standard user group as the target × each way of acting on a staff
member (create, change their group to it, change their email, resend their
invitation, delete). A cell is allowed exactly when the caller may use the
route (`manage_roster`) and the privilege ceiling holds: the target's rights,
before and after, are all the caller's own, or the caller holds
`manage_settings`. The expectation is computed here from the standard groups'
permissions, not by the service's own function.

Refused cells must change nothing: the target is read back after each one.
"""
import itertools
import re

import pytest

from chalicelib.accounts.permissions import STANDARD_GROUPS
from tests.hardening.fixtures import moto_env

SUITE = "escalation"

GROUPS = tuple(STANDARD_GROUPS)
ACTIONS = ("create", "change group to", "change email", "resend", "delete")


def expected(caller, before, after):
    """(status class, code) the cell must answer."""
    held = set(STANDARD_GROUPS[caller])
    if "manage_roster" not in held:
        return "denied", "permission_denied"
    wanted = set(STANDARD_GROUPS[after]) | (set(STANDARD_GROUPS[before]) if before else set())
    if "manage_settings" in held or wanted <= held:
        return "allowed", None
    return "denied", "exceeds_caller_rights"


class World:
    def __init__(self, env, admin, callers):
        self.env, self.admin, self.callers = env, admin, callers
        self.n = itertools.count(1)

    def target(self, user_group):
        """A fresh, invited staff member of ``user_group`` (made by the admin)."""
        return self.env.member(self.admin, user_group, first_name="Target", surname=f"T{next(self.n)}",
                               accept=False)


@pytest.fixture(scope="module")
def world():
    with moto_env() as env:
        admin = env.signup("Elm Escalation", "head@elm-escalation.sch.uk")
        callers = {"Admin Team": admin["token"]}
        for group in GROUPS:
            if group != "Admin Team":
                slug = re.sub(r"[^a-z]", "", group.lower())
                callers[group] = env.member(admin, group, first_name="Caller", surname=slug,
                                            email=f"{slug}@elm-escalation.sch.uk")["token"]
        yield World(env, admin, callers)


def act(w, action, caller, target_group):
    """Send the call; returns (response, the target's id or None, what the target was before)."""
    api, token = w.env.api, w.callers[caller]
    if action == "create":
        email = f"new{next(w.n)}@elm-escalation.sch.uk"
        r = api.post("/api/staff", {"first_name": "New", "surname": "Person", "email": email,
                                    "user_group": target_group}, token=token)
        return r, None, email
    if action == "change group to":
        t = w.target("Teachers")
        return api.patch(f"/api/staff/{t['id']}", {"version": t["version"], "user_group": target_group},
                         token=token), t, None
    t = w.target(target_group)
    if action == "change email":
        return api.patch(f"/api/staff/{t['id']}", {"version": t["version"],
                                                   "email": f"moved{next(w.n)}@elm-escalation.sch.uk"},
                         token=token), t, None
    if action == "resend":
        return api.post(f"/api/staff/{t['id']}/invite", token=token), t, None
    return api.delete(f"/api/staff/{t['id']}", token=token), t, None


CELLS = [pytest.param(caller, target, action, id=f"{caller} -> {target}: {action}",
                      marks=() if caller in ("SLTs", "Teachers") else pytest.mark.heavy)
         for caller in GROUPS for target in GROUPS for action in ACTIONS]


@pytest.mark.parametrize("caller,target_group,action", CELLS)
def test_escalation_cell(world, caller, target_group, action):
    before = "Teachers" if action == "change group to" else None
    if action in ("change email", "resend", "delete"):
        before = target_group
    outcome, code = expected(caller, before, target_group)
    r, target, email = act(world, action, caller, target_group)
    if outcome == "allowed":
        assert r.status_code in (200, 201), (r.status_code, r.body)
        return
    assert r.status_code == 403 and r.data["code"] == code, (r.status_code, r.body)
    if code == "exceeds_caller_rights":
        missing = sorted((set(STANDARD_GROUPS[target_group]) | set(STANDARD_GROUPS.get(before) or []))
                         - set(STANDARD_GROUPS[caller]))
        assert r.data["missing"] == missing, r.body
    # a refused call changed nothing
    admin = world.admin["token"]
    if target is None:
        found = world.env.api.get("/api/staff?limit=500", token=admin).data["items"]
        assert email not in {s["email"] for s in found}
        assert world.env.mailbox(to=email) == []
    else:
        now = world.env.api.get(f"/api/staff/{target['id']}", token=admin)
        assert now.status_code == 200, now.body
        assert {k: now.data[k] for k in ("email", "user_group", "version")} == \
            {k: target[k] for k in ("email", "user_group", "version")}
