"""Groups: permissions, visibility, system groups, adding members with and
without add_any_user, expiry (reads and the sweep), isolation."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.groups import members as group_members
from chalicelib.membership.models import Membership

PUPIL = {"first_name": "Zoë", "surname": "Smith", "date_of_birth": "01/02/2015", "year_group": "Year 5",
         "registration_group": "5B"}


def later(**delta):
    return (datetime.now(timezone.utc) + timedelta(**delta)).isoformat()


@pytest.fixture
def pupils(api, admin):
    made = []
    for first, year, reg in [("Ann", "5", "5B"), ("Ben", "5", "5A"), ("Cat", "6", "6A")]:
        r = api.post("/api/pupils", {**PUPIL, "first_name": first, "year_group": year, "registration_group": reg})
        made.append(r.data)
    return made


def names(r):
    return sorted(m["name"] for m in r.data["items"])


def test_system_groups_follow_the_roster(api, admin, pupils):
    groups = {g["name"]: g for g in api.get("/api/groups").data["items"]}
    assert groups["All pupils"]["member_count"] == 3 and groups["Year 5"]["member_count"] == 2
    assert groups["5B"]["member_count"] == 1 and groups["All staff"]["member_count"] == 1
    assert names(api.get(f"/api/groups/{groups['Year 5']['id']}/members")) == ["Ann Smith", "Ben Smith"]
    api.patch(f"/api/pupils/{pupils[0]['id']}", {"version": 1, "year_group": "6", "registration_group": "6A"})
    api.delete(f"/api/pupils/{pupils[1]['id']}")
    groups = {g["name"]: g for g in api.get("/api/groups").data["items"]}
    assert "Year 5" not in groups and "5B" not in groups  # empty system groups are not listed
    assert groups["Year 6"]["member_count"] == 2 and groups["All pupils"]["member_count"] == 2
    r = api.post(f"/api/groups/{groups['Year 6']['id']}/members", {"member_ids": [pupils[2]["id"]]})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "system_group"


def test_creating_groups_needs_create_groups(api, admin, member):
    ta = member(admin, "TAs")
    r = api.post("/api/groups", {"name": "Catch-up"}, token=ta["token"])
    assert r.status_code == 403 and r.data["code"] == "permission_denied" and "create_groups" in r.data["message"]
    teacher = member(admin, "Teachers")
    r = api.post("/api/groups", {"name": "Catch-up", "priority": "high"}, token=teacher["token"])
    assert r.status_code == 201 and r.data["priority"] == "high" and r.data["member_type"] == "user"
    again = api.post("/api/groups", {"name": "catch-up "}, token=teacher["token"])
    assert again.status_code == 422 and again.data["errors"][0]["code"] == "duplicate_name"
    assert api.post("/api/groups", {"name": "Catch-up"}).status_code == 201  # another owner may


def test_private_and_shared_visibility(api, admin, member):
    a, b = member(admin, "Teachers"), member(admin, "Teachers")
    dsl = member(admin, "DSLs")
    private = api.post("/api/groups", {"name": "Mine", "shared": False}, token=a["token"]).data
    shared = api.post("/api/groups", {"name": "Ours", "shared": True}, token=a["token"]).data
    seen_by_b = {g["name"] for g in api.get("/api/groups", token=b["token"]).data["items"]}
    assert "Ours" in seen_by_b and "Mine" not in seen_by_b and "All staff" not in seen_by_b
    assert api.get(f"/api/groups/{private['id']}/members", token=b["token"]).status_code == 404
    assert {"Mine", "Ours", "All staff"} <= {g["name"] for g in api.get("/api/groups", token=dsl["token"]).data["items"]}
    r = api.patch(f"/api/groups/{shared['id']}", {"name": "Renamed"}, token=b["token"])
    assert r.status_code == 403
    r = api.patch(f"/api/groups/{private['id']}", {"shared": True}, token=a["token"])
    assert r.status_code == 200 and r.data["shared"] is True
    assert "Mine" in {g["name"] for g in api.get("/api/groups", token=b["token"]).data["items"]}


def test_adding_members_without_and_with_add_any_user(api, admin, member, pupils):
    teacher, colleague = member(admin, "Teachers"), member(admin, "Teachers")
    slt = member(admin, "SLTs")  # has add_any_user
    group = api.post("/api/groups", {"name": "Y5 catch-up"}, token=teacher["token"]).data
    path = f"/api/groups/{group['id']}/members"
    # A pupil is visible through All pupils.
    r = api.post(path, {"member_ids": [pupils[0]["id"]], "until": None}, token=teacher["token"])
    assert r.status_code == 200 and r.data["added"] == 1
    # A colleague is not visible to a teacher (All staff needs view_all_groups)...
    r = api.post(path, {"member_ids": [colleague["id"]]}, token=teacher["token"])
    assert r.status_code == 403 and r.data["member_ids"] == [colleague["id"]] and "add_any_user" in r.data["message"]
    # ...until they are in a group the teacher can see.
    shared = api.post("/api/groups", {"name": "Staff room"}, token=slt["token"]).data
    assert api.post(f"/api/groups/{shared['id']}/members", {"member_ids": [colleague["id"]]},
                    token=slt["token"]).status_code == 200
    r = api.post(path, {"member_ids": [colleague["id"]]}, token=teacher["token"])
    assert r.status_code == 200
    # A pupil who has left is in no group the teacher can see.
    api.client  # noqa: B018
    from chalicelib.roster.models import Pupil
    left = Pupil.get(admin["school_id"], pupils[2]["id"])
    left.update(actions=[Pupil.status.set("left")])
    r = api.post(path, {"member_ids": [pupils[2]["id"]]}, token=teacher["token"])
    assert r.status_code == 403
    r = api.post(path, {"member_ids": [pupils[2]["id"]]}, token=slt["token"])  # nobody adds a leaver
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "pupil_left"
    assert api.get("/api/groups", token=teacher["token"]).data["items"][-1]["member_count"] == 2
    assert names(api.get(path, token=teacher["token"])) == ["Ann Smith", f"Sam {colleague['surname']}"]


def test_people_search_needs_add_any_user(api, admin, member, pupils):
    teacher = member(admin, "Teachers", first_name="Annie")
    r = api.get("/api/people?q=ann")
    assert r.status_code == 200 and {m["kind"] for m in r.data["items"]} == {"pupil", "staff"}
    assert api.get("/api/people?q=ann", token=teacher["token"]).status_code == 403


def test_member_rules(api, admin, pupils):
    group = api.post("/api/groups", {"name": "G"}).data
    path = f"/api/groups/{group['id']}/members"
    r = api.post(path, {"member_ids": [pupils[0]["id"]], "until": "2020-01-01T10:00:00+00:00"})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "until_in_past"
    r = api.post(path, {"member_ids": [pupils[0]["id"]], "until": "2099-01-01T10:00:00"})
    assert r.status_code == 422 and "offset" in r.data["errors"][0]["message"]
    r = api.post(path, {"member_ids": ["nobody"]})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "unknown_member"
    machines = api.post("/api/groups", {"name": "Room 4", "member_type": "machine"}).data
    r = api.post(f"/api/groups/{machines['id']}/members", {"member_ids": [pupils[0]["id"]]})
    assert r.status_code == 422
    pc = api.post("/api/machines", {"name": "PC-01", "location": "Room 4"}).data
    r = api.post(f"/api/groups/{machines['id']}/members", {"member_ids": [pc["id"]]})
    assert r.status_code == 200 and r.data["members"][0]["kind"] == "machine"
    assert api.get("/api/machines").data["items"] == [pc]
    # Re-adding updates until; removing works once.
    api.post(path, {"member_ids": [pupils[0]["id"]]})
    r = api.post(path, {"member_ids": [pupils[0]["id"]], "until": later(hours=2)})
    assert r.data["added"] == 0 and r.data["updated"] == 1
    assert api.get(path).data["items"][0]["until"].endswith("Z")
    assert api.delete(f"{path}/{pupils[0]['id']}").status_code == 200
    assert api.delete(f"{path}/{pupils[0]['id']}").status_code == 404
    assert api.get("/api/groups").data["items"][-1]["member_count"] in (0, 1)


def test_expired_membership_is_gone_from_reads_at_once_and_swept_by_the_pump(api, admin, pupils, app):
    from devstack.pump import Pump
    group = api.post("/api/groups", {"name": "G"}).data
    path = f"/api/groups/{group['id']}/members"
    api.post(path, {"member_ids": [pupils[0]["id"]], "until": later(seconds=2)})
    api.post(path, {"member_ids": [pupils[1]["id"]], "until": None})
    assert len(api.get(path).data["items"]) == 2
    time.sleep(2.2)
    assert names(api.get(path)) == ["Ben Smith"]  # hidden before any sweep
    key = f"{admin['school_id']}#{group['id']}"
    assert Membership.count(key) == 2
    pump = Pump(app, seconds_per_minute=1, print_mail=False)
    assert pump.run_schedules() >= 1  # the sweep and the outbox sender
    assert Membership.count(key) == 1
    audit = api.get("/api/audit").data["items"][0]
    assert audit["record_type"] == "membership" and audit["actor_id"] == "system"
    assert pump.run_schedules(now=time.time() + 5) >= 1  # a second run changes nothing
    assert Membership.count(key) == 1


def test_a_renewal_racing_the_sweep_survives(api, admin, pupils, monkeypatch):
    group = api.post("/api/groups", {"name": "G"}).data
    path = f"/api/groups/{group['id']}/members"
    api.post(path, {"member_ids": [pupils[0]["id"]], "until": later(hours=1)})
    real_query = Membership.by_expiry.query

    def query_then_renew(*args, **kwargs):
        found = list(real_query(*args, **kwargs))  # the sweep has read the expired membership...
        api.post(path, {"member_ids": [pupils[0]["id"]], "until": later(hours=2)})  # ...a teacher renews it
        return iter(found)

    monkeypatch.setattr(Membership.by_expiry, "query", query_then_renew)
    # the sweep runs three hours on (its clock is given: no sleeping, nothing racing the wall clock)
    assert group_members.sweep_expired(now=time.time() + 3 * 3600) == {"removed": 0, "skipped": 1}
    assert names(api.get(path)) == ["Ann Smith"]


def test_another_schools_group_is_404(api, admin, signup, pupils):
    group = api.post("/api/groups", {"name": "G"}).data
    api.post(f"/api/groups/{group['id']}/members", {"member_ids": [pupils[0]["id"]]})
    other = signup(name="Other School")
    for method, path, body in [("GET", f"/api/groups/{group['id']}/members", None),
                               ("POST", f"/api/groups/{group['id']}/members", {"member_ids": ["x"]}),
                               ("PATCH", f"/api/groups/{group['id']}", {"name": "x"}),
                               ("DELETE", f"/api/groups/{group['id']}", None),
                               ("DELETE", f"/api/groups/{group['id']}/members/{pupils[0]['id']}", None)]:
        r = api.call(method, path, body, token=other["token"])
        assert r.status_code == 404 and r.data["code"] == "not_found", (method, path)
    mine = api.post("/api/groups", {"name": "Theirs"}, token=other["token"]).data
    r = api.post(f"/api/groups/{mine['id']}/members", {"member_ids": [pupils[0]["id"]]}, token=other["token"])
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "unknown_member"
    assert "G" not in {g["name"] for g in api.get("/api/groups", token=other["token"]).data["items"]}


def test_deleting_a_group_or_a_pupil_removes_memberships(api, admin, pupils):
    group = api.post("/api/groups", {"name": "G"}).data
    api.post(f"/api/groups/{group['id']}/members", {"member_ids": [p["id"] for p in pupils]})
    api.delete(f"/api/pupils/{pupils[0]['id']}")
    assert len(api.get(f"/api/groups/{group['id']}/members").data["items"]) == 2
    assert api.delete(f"/api/groups/{group['id']}").status_code == 200
    assert Membership.count(f"{admin['school_id']}#{group['id']}") == 0
    assert api.post("/api/groups", {"name": "G"}).status_code == 201  # the name is free again


def test_sweep_reads_only_what_expired(aws, aws_calls):
    """10,000 live and 10 expired memberships: the sweep's reads scale with the 10."""
    from chalicelib.core.db import batch_put
    from chalicelib.membership.models import Group
    from tests.conftest import DYNAMO_READS
    now = time.time()
    groups = [Group(school_id="s", group_id=f"g{i}", name=f"G{i}", member_count=200) for i in range(50)]
    items = [Membership(group_key=f"s#g{i % 50}", member_id=f"m{i}", school_id="s", group_id=f"g{i % 50}",
                        member_key=f"s#m{i}", kind="pupil", name="x", until=int(now + 3600) if i % 2 else None,
                        expiring="expiring" if i % 2 else None, added_by="t", added_at=int(now))
             for i in range(10000)]
    items += [Membership(group_key="s#g0", member_id=f"old{i}", school_id="s", group_id="g0", member_key=f"s#old{i}",
                         kind="pupil", name="x", until=int(now - 60), expiring="expiring", added_by="t",
                         added_at=int(now)) for i in range(10)]
    batch_put(groups + items)
    aws_calls.clear()
    assert group_members.sweep_expired(now=now) == {"removed": 10, "skipped": 0}
    reads = [op for op, _params in aws_calls if op in DYNAMO_READS]
    assert reads == ["Query"]  # one page of the expiry index holds the 10
    assert Membership.count("s#g0", Membership.member_id.startswith("old")) == 0
    assert Group.get("s", "g0").member_count == 190
    aws_calls.clear()
    assert group_members.sweep_expired(now=now) == {"removed": 0, "skipped": 0}
    assert [op for op, _p in aws_calls if op in DYNAMO_READS] == ["Query"]


def test_a_renamed_pupil_or_colleague_shows_the_new_name_in_every_group(api, admin, member, pupils):
    colleague = member(admin, first_name="Dee", surname="Old")
    groups = [api.post("/api/groups", {"name": n}).data for n in ("Maths set", "Chess club")]
    for g in groups:
        added = api.post(f"/api/groups/{g['id']}/members",
                         {"member_ids": [pupils[0]["id"], colleague["id"]]})
        assert added.status_code == 200, added.body
    assert api.patch(f"/api/pupils/{pupils[0]['id']}", {"version": 1, "surname": "Jones"}).status_code == 200
    version = api.get(f"/api/staff/{colleague['id']}").data["version"]  # accepting the invitation moved it
    assert api.patch(f"/api/staff/{colleague['id']}", {"version": version, "first_name": "Dana"}).status_code == 200
    assert api.patch(f"/api/pupils/{pupils[1]['id']}", {"version": 1, "registration_group": "5C"}).status_code == 200
    for g in groups:
        assert names(api.get(f"/api/groups/{g['id']}/members")) == ["Ann Jones", "Dana Old"]

