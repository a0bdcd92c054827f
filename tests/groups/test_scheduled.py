"""A membership with a start (issue 19): a pupil added "for a lesson" is in no
read of the group before it starts nor after it ends, with no job or sweep
run; a teacher sees the scheduled ones when she asks."""
import time
from datetime import datetime, timezone

from tests.groups.test_groups import pupils  # noqa: F401 - a fixture


class Clock:
    def __init__(self, start):
        self.now = start

    def time(self):
        return self.now


def at(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def test_a_lesson_long_membership_is_seen_only_during_the_lesson(api, admin, pupils, monkeypatch):  # noqa: F811
    from chalicelib.groups import listing, members as group_members
    clock = Clock(time.time())
    monkeypatch.setattr(group_members, "time", clock)
    monkeypatch.setattr(listing, "time", clock)
    group = api.post("/api/groups", {"name": "Lesson"}).data
    path = f"/api/groups/{group['id']}/members"
    start, end = int(clock.now) + 3600, int(clock.now) + 7200
    r = api.post(path, {"member_ids": [pupils[0]["id"]], "from": at(start), "until": at(end)})
    assert r.status_code == 200 and r.data["members"][0]["from"] == at(start).replace("+00:00", "Z"), r.body

    def shown(scheduled=False):
        return [m["id"] for m in api.get(path + ("?scheduled=true" if scheduled else "")).data["items"]]
    assert shown() == [] and shown(scheduled=True) == [pupils[0]["id"]]  # before: only when asked for
    clock.now = start
    assert shown() == [pupils[0]["id"]]  # during
    clock.now = end
    assert shown() == [] and shown(scheduled=True) == []  # after, with no sweep run


def test_a_start_after_the_end_is_refused_and_a_passed_start_is_from_now(api, admin, pupils):  # noqa: F811
    group = api.post("/api/groups", {"name": "G"}).data
    path = f"/api/groups/{group['id']}/members"
    soon, later = int(time.time()) + 600, int(time.time()) + 1200
    r = api.post(path, {"member_ids": [pupils[0]["id"]], "from": at(later), "until": at(soon)})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "from_after_until"
    r = api.post(path, {"member_ids": [pupils[0]["id"]], "from": at(int(time.time()) - 60)})
    assert r.status_code == 200 and r.data["from"] is None
    assert [m["id"] for m in api.get(path).data["items"]] == [pupils[0]["id"]]
    r = api.post(path, {"member_ids": [pupils[0]["id"]], "from": "9999-01-01T00:00:00Z"})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "too_far_ahead"


def test_members_at_a_moment_in_the_next_7_days(api, admin, pupils):  # noqa: F811
    """What a monitoring agent asks ahead: the members at a moment, each
    window applied then; a moment past or beyond a week is a 422."""
    from urllib.parse import quote
    group = api.post("/api/groups", {"name": "Week"}).data
    path = f"/api/groups/{group['id']}/members"
    now = int(time.time())
    soon, lesson = pupils[0]["id"], pupils[1]["id"]
    api.post(path, {"member_ids": [soon], "until": at(now + 3600)})
    api.post(path, {"member_ids": [lesson], "from": at(now + 7200), "until": at(now + 10800)})
    api.post(path, {"member_ids": [pupils[2]["id"]]})

    def ids_at(moment):
        r = api.get(path + "?at=" + quote(at(moment)))
        assert r.status_code == 200, r.body
        return sorted(m["id"] for m in r.data["items"])
    assert ids_at(now + 60) == sorted([soon, pupils[2]["id"]])
    assert ids_at(now + 5400) == [pupils[2]["id"]]
    assert ids_at(now + 9000) == sorted([lesson, pupils[2]["id"]])
    assert ids_at(now + 6 * 86400) == [pupils[2]["id"]]
    r = api.get(path + "?at=" + quote(at(now + 9000)) + "&q=" + quote(pupils[1]["first_name"]))
    assert [m["id"] for m in r.data["items"]] == [lesson]
    for moment, code in ((now - 3600, "until_in_past"), (now + 8 * 86400, "too_far_ahead")):
        r = api.get(path + "?at=" + quote(at(moment)))
        assert r.status_code == 422 and r.data["errors"][0] == {**r.data["errors"][0], "field": "at", "code": code}
    assert api.get(path + "?at=tomorrow").data["errors"][0]["code"] == "invalid_date"
    # a group that has ended by then has nobody then
    assert api.patch(f"/api/groups/{group['id']}", {"ends_at": at(now + 86400)}).status_code == 200
    assert ids_at(now + 60) == sorted([soon, pupils[2]["id"]]) and ids_at(now + 2 * 86400) == []
