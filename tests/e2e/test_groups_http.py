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
