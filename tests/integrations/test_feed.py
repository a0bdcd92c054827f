"""The change feed (GET /api/changes), through HTTP."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.integrations import feed


@pytest.fixture
def later(monkeypatch):
    """The feed's clock, moved on by ``later(seconds)`` (from the real time)."""
    offset = {"s": feed.SETTLE_SECONDS + 1}
    monkeypatch.setattr(feed, "clock", lambda: time.time() + offset["s"])

    def move(seconds):
        offset["s"] = seconds
    return move


def pupil(api, first="Ada", surname="Pupil", **extra):
    r = api.post("/api/pupils", {"first_name": first, "surname": surname, "date_of_birth": "2014-02-03",
                                 "year_group": "7", **extra})
    assert r.status_code == 201, r.body
    return r.data


def follow(api, since=None, token=None, limit=None):
    """Every change from ``since`` on, page by page: (changes, last cursor)."""
    out, cursor = [], since
    for _ in range(50):
        query = "&".join(x for x in (f"since={cursor}" if cursor else "", f"limit={limit}" if limit else "") if x)
        r = api.get("/api/changes" + (f"?{query}" if query else ""), token=token)
        assert r.status_code == 200, r.body
        out += r.data["changes"]
        if r.data["next"] == cursor or not r.data["changes"]:
            return out, r.data["next"]
        cursor = r.data["next"]
    raise AssertionError("the feed never settled")


def test_changes_come_in_order_with_their_fields(api, admin, later):
    ada = pupil(api)
    api.patch(f"/api/pupils/{ada['id']}", {"version": ada["version"], "registration_group": "7B"})
    group = api.post("/api/groups", {"name": "Choir"}).data
    api.post(f"/api/groups/{group['id']}/members", {"member_ids": [ada["id"]]})
    api.delete(f"/api/groups/{group['id']}/members/{ada['id']}")
    changes, _ = follow(api)
    seen = [(c["entity"], c["action"], c["id"]) for c in changes]
    assert seen == [("pupil", "create", ada["id"]), ("pupil", "update", ada["id"]), ("group", "create", group["id"]),
                    ("membership", "add", f"{group['id']}/{ada['id']}"),
                    ("membership", "delete", f"{group['id']}/{ada['id']}")]
    assert changes[1]["fields"] == {"registration_group": "7B"}
    assert changes[0]["fields"]["first_name"] == "Ada"
    assert changes[3]["fields"]["member_id"] == ada["id"]


def test_sign_ins_and_exports_are_not_changes(api, admin, later):
    api.post("/api/auth/login", {"email": admin["email"], "password": "correct horse battery"}, token="")
    changes, _ = follow(api)
    assert changes == []


def test_a_cursor_picks_up_where_it_left_off_with_nothing_twice(api, admin, later):
    ids = [pupil(api, f"P{n}")["id"] for n in range(5)]
    first = api.get("/api/changes?limit=2").data
    assert [c["id"] for c in first["changes"]] == ids[:2]
    rest, cursor = follow(api, first["next"], limit=2)
    assert [c["id"] for c in rest] == ids[2:]
    again = api.get(f"/api/changes?since={cursor}").data
    assert again["changes"] == []  # (its next may move on to the new settled second)


def test_a_reader_at_the_head_gets_what_comes_next(api, admin, later):
    """On one clock (the feed's exactly a settling minute on): a reader at the
    head sees a later change once its second has passed, and nothing twice."""
    later(feed.SETTLE_SECONDS)
    first = pupil(api, "First")
    time.sleep(1.05)
    seen, cursor = follow(api)
    assert [c["id"] for c in seen] == [first["id"]]
    late = pupil(api, "Late")
    assert follow(api, cursor)[0] == []  # its second has not passed yet
    time.sleep(1.05)
    assert [c["id"] for c in follow(api, cursor)[0]] == [late["id"]]


def test_since_now_skips_the_past(api, admin, later):
    pupil(api, "Before")
    later(feed.SETTLE_SECONDS)
    time.sleep(1.05)
    now = api.get("/api/changes?since=now").data
    assert now["changes"] == []
    time.sleep(1.05)  # (on one clock "now" is a minute before any write that follows)
    after = pupil(api, "After")
    time.sleep(1.05)
    assert [c["id"] for c in follow(api, now["next"])[0]] == [after["id"]]


def test_an_expired_or_foreign_cursor_is_refused(api, admin, signup, later):
    pupil(api)
    cursor = api.get("/api/changes").data["next"]
    later(feed.KEEP_SECONDS + 3600)
    gone = api.get(f"/api/changes?since={cursor}")
    assert gone.status_code == 410 and gone.data["code"] == "cursor_expired"
    assert "since=now" in gone.data["message"]
    later(feed.SETTLE_SECONDS + 1)
    other = signup("Oak School")
    foreign = api.get(f"/api/changes?since={cursor}", token=other["token"])
    assert foreign.status_code == 400 and foreign.data["code"] == "bad_cursor"
    assert api.get("/api/changes?since=garbage").data["code"] == "bad_cursor"


def test_a_scheduled_start_comes_at_its_time_and_only_if_still_scheduled(api, admin, later):
    ada, bea = pupil(api, "Ada"), pupil(api, "Bea")
    group = api.post("/api/groups", {"name": "Period 3"}).data
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=2)
    r = api.post(f"/api/groups/{group['id']}/members", {"member_ids": [ada["id"], bea["id"]],
                                                        "from": start.isoformat()})
    assert r.status_code == 200, r.body
    api.delete(f"/api/groups/{group['id']}/members/{bea['id']}")
    now, cursor = follow(api)
    assert [(c["action"], c["fields"]["member_id"]) for c in now if c["entity"] == "membership"] == [
        ("add", ada["id"]), ("add", bea["id"]), ("delete", bea["id"])]
    assert now[-3]["fields"]["from"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(e["action"] != "start" for e in api.get("/api/audit").data["items"])  # not yet
    later(2 * 3600 + feed.SETTLE_SECONDS + 1)
    started, _ = follow(api, cursor)
    assert [(c["action"], c["id"]) for c in started] == [("start", f"{group['id']}/{ada['id']}")]


def test_only_changes_read_or_manage_settings_reads_it(api, admin, member, api_client, later):
    pupil(api)
    teacher = member(admin)
    assert api.get("/api/changes", token=teacher["token"]).data["code"] == "permission_denied"
    reader = api_client(admin, ["changes.read"])
    assert len(api.get("/api/changes", token=reader["token"]).data["changes"]) >= 1
    roster = api_client(admin, ["roster.read"])
    assert api.get("/api/changes", token=roster["token"]).data["code"] == "insufficient_scope"


def test_a_forged_cursor_is_refused_not_a_500(api, admin, later):
    import base64
    import json
    for state in ({"done": -1, "key": "2026-12-01T00:00:00", "school_id": admin["school_id"]},
                  {"done": 0, "key": "x" * 2000, "school_id": admin["school_id"]}):
        forged = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
        r = api.get(f"/api/changes?since={forged}")
        assert r.status_code == 400 and r.data["code"] == "bad_cursor", r.body
