"""Groups over HTTP on the real local stack (issue 19): a group at the
default cap refuses the 301st member; a lesson-long membership is in no read
before its start nor after its end, with no sweep run."""
import time
from datetime import datetime, timezone

import pytest

from tests.e2e.helpers import School

pytestmark = pytest.mark.e2e


def test_a_full_group_refuses_the_301st_member_and_its_list_pages(stack):
    school = School(stack, "elm-cap")
    rows = ["First name,Surname,Date of birth,Gender,Year group,Registration group,UPN"]
    rows += [f"Pupil{n:03d},Capped,01/02/2015,F,Year 5,5C," for n in range(301)]
    night = school.drop("\n".join(rows) + "\n")
    assert night["result"]["created"] == 301, night
    ids = sorted(p["id"] for p in school.get("/api/pupils?limit=500")["items"])
    assert len(ids) == 301
    group = school.call("POST", "/api/groups", json={"name": "Everyone in 5C"}).json()
    path = f"/api/groups/{group['id']}/members"
    for start in range(0, 300, 100):
        r = school.call("POST", path, json={"member_ids": ids[start:start + 100]})
        assert r.status_code == 200, r.text
    r = school.call("POST", path, json={"member_ids": ids[300:]})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "group_full" and r.json()["fit"] == 0, r.text
    listed, cursor = [], None
    while True:
        page = school.get(path + "?limit=120" + (f"&next={cursor}" if cursor else ""))
        listed += [m["id"] for m in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert sorted(listed) == ids[:300]


def test_a_lesson_long_membership_over_http(stack):
    school = School(stack, "elm-lesson")
    r = school.call("POST", "/api/pupils", json={"first_name": "Lia", "surname": "Lesson", "date_of_birth": "01/02/2015",
                                               "year_group": "5"})
    pupil = r.json()
    group = school.call("POST", "/api/groups", json={"name": "Lesson"}).json()
    path = f"/api/groups/{group['id']}/members"
    now = time.time()
    at = lambda t: datetime.fromtimestamp(t, timezone.utc).isoformat()  # noqa: E731
    r = school.call("POST", path, json={"member_ids": [pupil["id"]], "from": at(now + 3), "until": at(now + 6)})
    assert r.status_code == 200, r.text
    assert school.get(path)["items"] == []  # before
    time.sleep(max(0, now + 3.5 - time.time()))
    assert [m["id"] for m in school.get(path)["items"]] == [pupil["id"]]  # during
    time.sleep(max(0, now + 6.5 - time.time()))
    assert school.get(path + "?scheduled=true")["items"] == []  # after (the sweep's schedule aside)


def test_a_group_shared_by_its_owners_over_http(stack):
    """Two teachers on one class; a viewer refused a change; the last owner
    stays; a disabled owner's group passes to the co-owner."""
    school = School(stack, "elm-share")
    http = school.http
    pupil = school.call("POST", "/api/pupils", json={"first_name": "Ria", "surname": "Shared",
                                                      "date_of_birth": "01/02/2015", "year_group": "5"}).json()
    (owner, owner_token), (co, co_token), (viewer, viewer_token) = (
        http.staff(school.token, f"{who}@elm-share.sch.uk", "Teachers") for who in ("owner", "co", "viewer"))
    group = http.call("POST", "/api/groups", owner_token, json={"name": "Maths 5X", "shared": False}).json()
    base = f"/api/groups/{group['id']}"
    for person, role in ((co, "teacher"), (viewer, "viewer")):
        r = http.call("PUT", f"{base}/staff/{person['id']}", owner_token, json={"role": role})
        assert r.status_code == 200 and r.json()["role"] == role, r.text
    assert http.call("POST", f"{base}/members", co_token, json={"member_ids": [pupil["id"]]}).status_code == 200
    seen = http.call("GET", f"{base}/members", owner_token).json()["items"]
    assert [m["id"] for m in seen] == [pupil["id"]]
    r = http.call("DELETE", f"{base}/members/{pupil['id']}", viewer_token)
    assert r.status_code == 403 and r.json()["code"] == "permission_denied", r.text
    mine = http.call("GET", "/api/groups?mine=true", viewer_token).json()["items"]
    assert [(g["name"], g["role"]) for g in mine] == [("Maths 5X", "viewer")]
    r = http.call("DELETE", f"{base}/staff/{owner['id']}", owner_token)
    assert r.status_code == 409 and r.json()["code"] == "last_owner", r.text
    # a co-owner, then the first owner disabled: the group is the co-owner's
    assert http.call("PUT", f"{base}/staff/{co['id']}", owner_token, json={"role": "owner"}).status_code == 200
    assert school.call("POST", f"/api/staff/{owner['id']}/disable", json={}).status_code == 200
    people = http.call("GET", f"{base}/staff", co_token).json()["items"]
    assert [(p["user_id"], p["role"]) for p in people] == [(co["id"], "owner"), (viewer["id"], "viewer")]
    assert http.call("PATCH", base, co_token, json={"name": "Maths 5X (Ms Co)"}).status_code == 200
