"""A group's named staff (issue 19): owners, teachers and viewers, for a
while or until removed; a group always keeps an owner; hand-over to another."""
import time
from datetime import datetime, timezone

from tests.groups.test_groups import pupils  # noqa: F401 - a fixture


def at(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def private_group(api, owner, name="Set 3"):
    r = api.post("/api/groups", {"name": name, "shared": False}, token=owner["token"])
    assert r.status_code == 201, r.body
    return r.data


def share(api, owner, group, colleague, role, until=None):
    return api.put(f"/api/groups/{group['id']}/staff/{colleague['id']}", {"role": role, "until": until},
                   token=owner["token"])


def roles(api, who, mine=False):
    r = api.get("/api/groups" + ("?mine=true" if mine else ""), token=who["token"])
    assert r.status_code == 200, r.body
    return {g["name"]: g["role"] for g in r.data["items"] if g["kind"] != "system"}


def test_a_co_teacher_adds_and_the_owner_sees_the_member(api, admin, member, pupils):  # noqa: F811
    owner, co = member(admin), member(admin)
    group = private_group(api, owner)
    assert "Set 3" not in roles(api, co)  # private: hidden from her
    r = share(api, owner, group, co, "teacher")
    assert r.status_code == 200 and r.data["role"] == "teacher", r.body
    assert roles(api, co) == {"Set 3": "teacher"} and roles(api, co, mine=True) == {"Set 3": "teacher"}
    assert roles(api, owner, mine=True) == {"Set 3": "owner"}
    path = f"/api/groups/{group['id']}/members"
    r = api.post(path, {"member_ids": [pupils[0]["id"]]}, token=co["token"])
    assert r.status_code == 200, r.body
    assert [m["id"] for m in api.get(path, token=owner["token"]).data["items"]] == [pupils[0]["id"]]
    people = api.get(f"/api/groups/{group['id']}/staff", token=co["token"]).data["items"]
    assert [(p["user_id"], p["role"]) for p in people] == [(owner["id"], "owner"), (co["id"], "teacher")]
    # a teacher of it may not share it, rename it or delete it
    third = member(admin)
    assert share(api, co, group, third, "owner").status_code == 403
    assert api.patch(f"/api/groups/{group['id']}", {"name": "Mine now"}, token=co["token"]).status_code == 403
    assert api.delete(f"/api/groups/{group['id']}", token=co["token"]).status_code == 403


def test_a_viewer_sees_the_members_and_changes_none(api, admin, member, pupils):  # noqa: F811
    owner, viewer = member(admin), member(admin)
    group = private_group(api, owner)
    path = f"/api/groups/{group['id']}/members"
    assert api.post(path, {"member_ids": [pupils[0]["id"]]}, token=owner["token"]).status_code == 200
    assert share(api, owner, group, viewer, "viewer").status_code == 200
    assert [m["id"] for m in api.get(path, token=viewer["token"]).data["items"]] == [pupils[0]["id"]]
    r = api.post(path, {"member_ids": [pupils[1]["id"]]}, token=viewer["token"])
    assert r.status_code == 403 and r.data["code"] == "permission_denied", r.body
    r = api.delete(f"{path}/{pupils[0]['id']}", token=viewer["token"])
    assert r.status_code == 403, r.body
    assert [m["id"] for m in api.get(path, token=owner["token"]).data["items"]] == [pupils[0]["id"]]
    # a viewer of a shared group is still only a viewer of it
    assert api.patch(f"/api/groups/{group['id']}", {"shared": True}, token=owner["token"]).status_code == 200
    assert api.post(path, {"member_ids": [pupils[1]["id"]]}, token=viewer["token"]).status_code == 403


def test_the_last_owner_stays_and_a_second_owner_takes_over(api, admin, member):
    owner, other = member(admin), member(admin)
    group = private_group(api, owner)
    staff_path = f"/api/groups/{group['id']}/staff/{owner['id']}"
    r = api.delete(staff_path, token=owner["token"])
    assert r.status_code == 409 and r.data["code"] == "last_owner", r.body
    r = api.put(staff_path, {"role": "viewer"}, token=owner["token"])
    assert r.status_code == 409 and r.data["code"] == "last_owner", r.body
    # an owner for a week is no heir: the group would be ownerless next week
    assert share(api, owner, group, other, "owner", until=at(time.time() + 7 * 86400)).status_code == 200
    assert api.delete(staff_path, token=owner["token"]).status_code == 409
    assert share(api, owner, group, other, "owner").status_code == 200
    r = api.delete(staff_path, token=owner["token"])
    assert r.status_code == 200, r.body
    assert roles(api, other, mine=True) == {"Set 3": "owner"}
    assert roles(api, owner) == {}  # private, and she is off it
    # the new owner's name claim moved with it: she can't make a second "Set 3"
    assert api.post("/api/groups", {"name": "Set 3"}, token=other["token"]).status_code == 422
    assert api.post("/api/groups", {"name": "Set 3"}, token=owner["token"]).status_code == 201


def test_a_role_with_an_end_is_in_no_read_after_it(api, admin, member, monkeypatch):
    from chalicelib.groups import listing, service, staff
    owner, supply = member(admin), member(admin)
    group = private_group(api, owner)
    ends = int(time.time()) + 3600
    assert share(api, owner, group, supply, "teacher", until=at(ends)).status_code == 200
    assert roles(api, supply) == {"Set 3": "teacher"}

    class Later:
        @staticmethod
        def time():
            return ends + 1
    for module in (listing, service, staff):
        monkeypatch.setattr(module, "time", Later)
    assert roles(api, supply) == {}
    assert api.get(f"/api/groups/{group['id']}/members", token=supply["token"]).status_code == 404
    people = api.get(f"/api/groups/{group['id']}/staff", token=owner["token"]).data["items"]
    assert [p["user_id"] for p in people] == [owner["id"]]


def test_sharing_needs_a_colleague_who_can_see_pupils(api, admin, member):
    owner, governor = member(admin), member(admin, user_group="Governors")
    group = private_group(api, owner)
    r = share(api, owner, group, governor, "viewer")
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "cannot_see_pupils", r.body
    assert roles(api, governor) == {}
    r = api.put(f"/api/groups/{group['id']}/staff/nobody", {"role": "viewer"}, token=owner["token"])
    assert r.status_code == 404, r.body
    r = api.put(f"/api/groups/{group['id']}/staff/{governor['id']}", {"role": "boss"}, token=owner["token"])
    assert r.status_code == 422, r.body
    r = api.put(f"/api/groups/{group['id']}/staff/{governor['id']}", {"role": "viewer", "extra": 1},
                token=owner["token"])
    assert r.status_code == 422, r.body


def test_a_stranger_to_a_private_group_can_neither_share_nor_join_it(api, admin, member):
    owner, stranger = member(admin), member(admin)
    group = private_group(api, owner)
    r = share(api, stranger, group, stranger, "owner")
    assert r.status_code == 404, r.body  # she can't see it: no such group for her
    assert api.post(f"/api/groups/{group['id']}/transfer", {"to": stranger["id"]},
                    token=stranger["token"]).status_code == 404
    assert roles(api, stranger) == {}


def test_an_admin_hands_a_group_on(api, admin, member):
    owner, heir = member(admin), member(admin)
    group = private_group(api, owner)
    r = api.post(f"/api/groups/{group['id']}/transfer", {"to": heir["id"]})  # as the admin (manage_settings)
    assert r.status_code == 200, r.body
    assert [(p["user_id"], p["role"]) for p in r.data["items"]] == [(heir["id"], "owner")]
    assert roles(api, heir, mine=True) == {"Set 3": "owner"} and roles(api, owner) == {}
    entries = api.get(f"/api/audit?entity=group_staff&record_id={group['id']}").data["items"]
    assert [e["changes"] for e in entries] == [{"owner_id": [owner["id"], heir["id"]]}]


def test_a_colleague_takes_herself_off_a_group(api, admin, member):
    owner, co = member(admin), member(admin)
    group = private_group(api, owner)
    assert share(api, owner, group, co, "teacher").status_code == 200
    r = api.delete(f"/api/groups/{group['id']}/staff/{co['id']}", token=co["token"])
    assert r.status_code == 200, r.body
    assert roles(api, co) == {}
    r = api.delete(f"/api/groups/{group['id']}/staff/{co['id']}", token=owner["token"])
    assert r.status_code == 404, r.body


def test_a_disabled_owners_group_passes_to_the_co_owner(api, admin, member, pupils):  # noqa: F811
    owner, co, helper = member(admin), member(admin), member(admin)
    group = private_group(api, owner)
    assert share(api, owner, group, co, "owner").status_code == 200
    assert share(api, owner, group, helper, "teacher").status_code == 200
    path = f"/api/groups/{group['id']}/members"
    assert api.post(path, {"member_ids": [pupils[0]["id"]]}, token=owner["token"]).status_code == 200
    assert api.post(f"/api/staff/{owner['id']}/disable", {}).status_code == 200
    assert roles(api, co, mine=True) == {"Set 3": "owner"}
    people = api.get(f"/api/groups/{group['id']}/staff", token=co["token"]).data["items"]
    assert [(p["user_id"], p["role"]) for p in people] == [(co["id"], "owner"), (helper["id"], "teacher")]
    assert [m["id"] for m in api.get(path, token=helper["token"]).data["items"]] == [pupils[0]["id"]]
    # done once: a second disable (a retry) changes nothing
    assert api.post(f"/api/staff/{owner['id']}/disable", {}).status_code == 200
    assert roles(api, co, mine=True) == {"Set 3": "owner"}
    entries = api.get(f"/api/audit?entity=group_staff&record_id={group['id']}&action=handed_over").data["items"]
    assert [e["changes"] for e in entries] == [{"owner_id": [owner["id"], co["id"]]}]


def test_a_deleted_owners_group_with_nobody_to_take_it_is_listed_for_the_admins(api, admin, member, pupils):  # noqa: F811
    owner, helper, heir = member(admin), member(admin), member(admin)
    group = private_group(api, owner)
    assert share(api, owner, group, helper, "teacher").status_code == 200
    path = f"/api/groups/{group['id']}/members"
    assert api.post(path, {"member_ids": [pupils[0]["id"]]}, token=owner["token"]).status_code == 200
    assert api.delete(f"/api/staff/{owner['id']}").status_code == 200
    unowned = api.get("/api/groups?unowned=true").data["items"]
    assert [g["id"] for g in unowned] == [group["id"]] and unowned[0]["unowned_since"]
    assert api.get("/api/groups?unowned=true", token=helper["token"]).status_code == 403
    # it goes on working meanwhile
    assert api.post(path, {"member_ids": [pupils[1]["id"]]}, token=helper["token"]).status_code == 200
    r = api.post(f"/api/groups/{group['id']}/transfer", {"to": heir["id"]})
    assert r.status_code == 200, r.body
    assert api.get("/api/groups?unowned=true").data["items"] == []
    assert roles(api, heir, mine=True) == {"Set 3": "owner"}


def test_an_owner_for_a_while_can_neither_stay_for_good_nor_take_the_group(api, admin, member):
    owner, temporary, third = member(admin), member(admin), member(admin)
    group = private_group(api, owner)
    assert share(api, owner, group, temporary, "owner", until=at(time.time() + 86400)).status_code == 200
    assert share(api, temporary, group, temporary, "owner").status_code == 403
    assert share(api, temporary, group, third, "teacher").status_code == 403
    r = api.post(f"/api/groups/{group['id']}/transfer", {"to": temporary["id"]}, token=temporary["token"])
    assert r.status_code == 403, r.body
    assert roles(api, owner, mine=True) == {"Set 3": "owner"}


def test_a_disabled_colleague_inherits_nothing_and_leaves_every_group(api, admin, member):
    owner, co = member(admin), member(admin)
    group = private_group(api, owner)
    assert share(api, owner, group, co, "owner").status_code == 200
    assert api.post(f"/api/staff/{co['id']}/disable", {}).status_code == 200
    people = api.get(f"/api/groups/{group['id']}/staff", token=owner["token"]).data["items"]
    assert [p["user_id"] for p in people] == [owner["id"]]  # taken off
    r = api.delete(f"/api/groups/{group['id']}/staff/{owner['id']}", token=owner["token"])
    assert r.status_code == 409 and r.data["code"] == "last_owner", r.body
    assert api.post(f"/api/staff/{owner['id']}/disable", {}).status_code == 200
    assert [g["id"] for g in api.get("/api/groups?unowned=true").data["items"]] == [group["id"]]


def test_a_viewer_of_a_shared_group_cannot_leave_it_to_change_it(api, admin, member, pupils):  # noqa: F811
    owner, viewer, helper = member(admin), member(admin), member(admin)
    group = private_group(api, owner)
    assert share(api, owner, group, viewer, "viewer").status_code == 200
    assert share(api, owner, group, helper, "teacher").status_code == 200
    assert api.patch(f"/api/groups/{group['id']}", {"shared": True}, token=owner["token"]).status_code == 200
    r = api.delete(f"/api/groups/{group['id']}/staff/{viewer['id']}", token=viewer["token"])
    assert r.status_code == 403 and r.data["code"] == "permission_denied", r.body
    path = f"/api/groups/{group['id']}/members"
    assert api.post(path, {"member_ids": [pupils[0]["id"]]}, token=viewer["token"]).status_code == 403
    # a teacher of it may go (any teacher may change a shared group), and an owner may take the viewer off
    assert api.delete(f"/api/groups/{group['id']}/staff/{helper['id']}", token=helper["token"]).status_code == 200
    assert api.delete(f"/api/groups/{group['id']}/staff/{viewer['id']}", token=owner["token"]).status_code == 200
