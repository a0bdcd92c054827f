"""The groups one member is in now (issue 21, what a monitoring agent asks):
system and teacher groups, each with its priority and the membership's
window, only those the caller can see (its cost is bench/fig_requests.py's)."""
import time
from datetime import datetime, timezone

from tests.groups.test_groups import pupils  # noqa: F401 - a fixture


def at(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def test_a_pupils_groups_now_with_their_windows_and_only_those_the_caller_sees(api, admin, pupils, member):  # noqa: F811
    ann = pupils[0]  # Year 5, 5B
    now = int(time.time())
    shared = api.post("/api/groups", {"name": "Choir", "priority": "high"}).data
    private = api.post("/api/groups", {"name": "Nurture", "shared": False}).data
    later = api.post("/api/groups", {"name": "Later"}).data
    for group, body in ((shared, {"until": at(now + 3600)}), (private, {}), (later, {"from": at(now + 7200)})):
        assert api.post(f"/api/groups/{group['id']}/members", {"member_ids": [ann["id"]], **body}).status_code == 200
    r = api.get(f"/api/members/{ann['id']}/groups")
    assert r.status_code == 200, r.body
    assert r.data["kind"] == "pupil"
    got = {g["name"]: g for g in r.data["items"]}
    assert set(got) == {"All pupils", "Year 5", "5B", "Choir", "Nurture"}  # (not yet in Later)
    assert (got["Choir"]["priority"], got["Choir"]["until"]) == ("high", at(now + 3600).replace("+00:00", "Z"))
    assert got["Year 5"]["system"] == "year" and got["Year 5"]["until"] is None
    teacher = member(admin, "Teachers")
    seen = {g["name"] for g in api.get(f"/api/members/{ann['id']}/groups", token=teacher["token"]).data["items"]}
    assert seen == {"All pupils", "Year 5", "5B", "Choir"}  # the admin's private group is hers to see
    governor = member(admin, "Governors")
    assert api.get(f"/api/members/{ann['id']}/groups", token=governor["token"]).status_code == 403
    assert api.get("/api/members/nobody/groups").status_code == 404
    staff = api.get(f"/api/members/{teacher['id']}/groups").data
    assert staff["kind"] == "staff" and [g["name"] for g in staff["items"]] == ["All staff"]



def test_an_id_longer_than_any_is_not_found_not_a_500(api, admin):
    for path in ("/api/members/{}/groups", "/api/pupils/{}", "/api/groups/{}/members"):
        r = api.get(path.format("x" * 3000))
        assert r.status_code == 404 and r.data["code"] == "not_found", (path, r.status_code)
