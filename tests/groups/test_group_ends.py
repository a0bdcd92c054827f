"""A group's end and a role's end (issue 19): from the second each passes it
is in no read; the sweep then deletes the group (with its memberships) or
takes the role off, reading only what has ended; a group may be renewed
until it is swept."""
import time
from datetime import datetime, timezone

from tests.groups.test_groups import pupils  # noqa: F401 - a fixture


def at(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


class Clock:
    def __init__(self, now):
        self.now = now

    def time(self):
        return self.now


def frozen(monkeypatch, now):
    from chalicelib.groups import ending, listing, members, service, staff
    from chalicelib.membership import rules
    clock = Clock(now)
    for module in (ending, listing, members, service, staff, rules):
        monkeypatch.setattr(module, "time", clock)
    return clock


def test_an_ended_group_is_hidden_at_once_then_swept_with_its_members(api, admin, pupils, monkeypatch, aws_calls):  # noqa: F811
    from chalicelib.groups import ending
    clock = frozen(monkeypatch, time.time())
    ends = int(clock.now) + 3600
    group = api.post("/api/groups", {"name": "Trip", "ends_at": at(ends)}).data
    assert group["ends_at"] == at(ends).replace("+00:00", "Z")
    path = f"/api/groups/{group['id']}/members"
    assert api.post(path, {"member_ids": [p["id"] for p in pupils]}).status_code == 200
    assert ending.sweep_ends(now=clock.now) == {"groups_ended": 0, "roles_ended": 0}
    clock.now = ends
    assert "Trip" not in [g["name"] for g in api.get("/api/groups").data["items"]]
    assert api.get(path).status_code == 404  # before any sweep
    aws_calls.clear()
    assert ending.sweep_ends(now=clock.now) == {"groups_ended": 1, "roles_ended": 0}
    assert ending.sweep_ends(now=clock.now) == {"groups_ended": 0, "roles_ended": 0}  # a repeat: nothing
    from chalicelib.membership.models import Group, Membership
    assert list(Membership.query(f"{admin['school_id']}#{group['id']}")) == []
    assert Group.count(admin["school_id"], Group.group_id == group["id"]) == 0
    # its name is free again
    assert api.post("/api/groups", {"name": "Trip"}).status_code == 201


def test_an_ended_group_is_renewed_by_its_owner_before_the_sweep(api, admin, member, pupils, monkeypatch):  # noqa: F811
    from chalicelib.groups import ending
    clock = frozen(monkeypatch, time.time())
    ends = int(clock.now) + 60
    group = api.post("/api/groups", {"name": "Club", "ends_at": at(ends)}).data
    path = f"/api/groups/{group['id']}/members"
    assert api.post(path, {"member_ids": [pupils[0]["id"]]}).status_code == 200
    clock.now = ends + 1
    r = api.patch(f"/api/groups/{group['id']}", {"priority": "high"})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "group_ended", r.body
    teacher = member(admin)
    assert api.patch(f"/api/groups/{group['id']}", {"ends_at": None}, token=teacher["token"]).status_code == 404
    r = api.patch(f"/api/groups/{group['id']}", {"ends_at": at(clock.now + 86400)})
    assert r.status_code == 200, r.body
    assert ending.sweep_ends(now=clock.now) == {"groups_ended": 0, "roles_ended": 0}
    assert [m["id"] for m in api.get(path).data["items"]] == [pupils[0]["id"]]
    r = api.patch(f"/api/groups/{group['id']}", {"ends_at": at(clock.now - 5)})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "until_in_past", r.body


def test_an_ended_role_is_taken_off_by_the_sweep(api, admin, member, monkeypatch):
    from chalicelib.groups import ending
    clock = frozen(monkeypatch, time.time())
    owner, supply, other = member(admin), member(admin), member(admin)
    group = api.post("/api/groups", {"name": "Set 1", "shared": False}, token=owner["token"]).data
    ends = int(clock.now) + 600
    for who, until in ((supply, at(ends)), (other, at(ends + 600))):
        r = api.put(f"/api/groups/{group['id']}/staff/{who['id']}", {"role": "teacher", "until": until},
                    token=owner["token"])
        assert r.status_code == 200, r.body
    clock.now = ends
    assert ending.sweep_ends(now=clock.now) == {"groups_ended": 0, "roles_ended": 1}
    people = api.get(f"/api/groups/{group['id']}/staff", token=owner["token"]).data["items"]
    assert [p["user_id"] for p in people] == [owner["id"], other["id"]]
    assert ending.sweep_ends(now=clock.now) == {"groups_ended": 0, "roles_ended": 0}
    clock.now = ends + 600
    assert ending.sweep_ends(now=clock.now) == {"groups_ended": 0, "roles_ended": 1}
    assert ending.sweep_ends(now=clock.now + 86400) == {"groups_ended": 0, "roles_ended": 0}  # out of the index


def test_a_group_end_is_within_five_years(api, admin):
    r = api.post("/api/groups", {"name": "Forever", "ends_at": "9999-12-31T23:59:59-05:00"})
    assert r.status_code == 422 and r.data["errors"][0]["code"] in ("too_far_ahead", "invalid_date"), r.body
