"""The audit log has no holes (issue 14): one of each change, and exactly one
entry each, with actor, action and record; and nothing overwrites an entry."""
import pytest
from pynamodb.exceptions import PutError

from tests.conftest import PASSWORD, link_token


def _entries(api):
    return api.all_pages("/api/audit?limit=500")


def _new(api, seen):
    now = _entries(api)
    fresh = [e for e in now if (e["at"], e["action"], e["record_type"], e["record_id"]) not in seen]
    seen.update((e["at"], e["action"], e["record_type"], e["record_id"]) for e in now)
    return [(e["action"], e["record_type"]) for e in fresh]


def test_every_change_writes_exactly_one_entry(api, admin, mailbox):
    seen = set()
    _new(api, seen)
    g = api.post("/api/groups", {"name": "Y10 catch-up", "shared": True}).data
    assert _new(api, seen) == [("create", "group")]
    api.patch(f"/api/groups/{g['id']}", {"name": "Y10 catch-up, Tuesday"})
    assert _new(api, seen) == [("update", "group")]
    p = api.post("/api/pupils", {"first_name": "Ann", "surname": "Lee", "date_of_birth": "2014-01-01",
                                 "year_group": "9"}).data
    assert _new(api, seen) == [("create", "pupil")]
    api.post(f"/api/groups/{g['id']}/members", {"member_ids": [p["id"]]})
    assert _new(api, seen) == [("add", "membership")]
    api.delete(f"/api/groups/{g['id']}/members/{p['id']}")
    assert _new(api, seen) == [("delete", "membership")]
    api.delete(f"/api/groups/{g['id']}")
    assert _new(api, seen) == [("delete", "group")]
    m = api.post("/api/machines", {"name": "Lab PC 1"}).data
    assert _new(api, seen) == [("create", "machine")]
    api.delete(f"/api/machines/{m['id']}")
    assert _new(api, seen) == [("delete", "machine")]
    s = api.post("/api/staff", {"first_name": "Tom", "surname": "New", "email": "tom.new@example.org"}).data
    assert _new(api, seen) == [("create", "staff")]
    api.post(f"/api/staff/{s['id']}/invite")
    assert _new(api, seen) == [("invite", "staff")]
    token = link_token(mailbox(to="tom.new@example.org")[-1].body)
    assert api.post("/api/auth/accept-invite", {"token": token, "password": PASSWORD}, token="").status_code == 200
    assert _new(api, seen) == [("password_set", "account")]
    assert api.post("/api/auth/login", {"email": "tom.new@example.org", "password": "wrong wrong wrong"},
                    token="").status_code == 401
    assert _new(api, seen) == [("login_failed", "account")]
    tom = api.post("/api/auth/login", {"email": "tom.new@example.org", "password": PASSWORD}, token="").data
    assert _new(api, seen) == [("login", "account")]
    api.post("/api/auth/logout", token=tom["token"])
    assert _new(api, seen) == [("logout", "account")]
    api.post("/api/exports", {"kind": "pupils"})
    assert _new(api, seen) == [("export", "pupils")]
    last = _entries(api)[0]
    assert last["actor_id"] == admin["user_id"] and last["actor_name"] == "Ada Admin"


def test_an_entry_is_never_overwritten(api, admin):
    from chalicelib.core import audit
    from chalicelib.core.audit import AuditEntry
    api.post("/api/pupils", {"first_name": "Ann", "surname": "Lee", "date_of_birth": "2014-01-01", "year_group": "9"})
    entry = next(iter(AuditEntry.query(admin["school_id"])))
    forged = AuditEntry(school_id=entry.school_id, entry_key=entry.entry_key, at=entry.at, actor_id="someone",
                        actor_name="Someone", action="create", record_type="pupil", record_id=entry.record_id,
                        changes={})
    with pytest.raises(PutError):
        audit.write(forged)
    assert AuditEntry.get(entry.school_id, entry.entry_key).actor_id == admin["user_id"]


def test_the_log_filters_by_entity_actor_action_and_time(api, admin, member):
    import time as clock
    teacher = member(admin, "Teachers")
    g = api.post("/api/groups", {"name": "Mine", "shared": True}, token=teacher["token"]).data
    api.post("/api/pupils", {"first_name": "Ann", "surname": "Lee", "date_of_birth": "2014-01-01", "year_group": "9"})
    groups, cursor = [], None
    for _ in range(50):  # pages of 1: a filtered page may be empty yet have a next
        page = api.get("/api/audit?entity=group&limit=1" + (f"&next={cursor}" if cursor else "")).data
        groups += page["items"]
        cursor = page["next"]
        if not cursor:
            break
    assert [(e["action"], e["record_id"], e["actor_id"]) for e in groups] == [("create", g["id"], teacher["id"])]
    mine = api.all_pages(f"/api/audit?actor={teacher['id']}")
    assert {e["action"] for e in mine} == {"password_set", "login", "create"}
    logins = api.all_pages("/api/audit?action=login")
    assert {e["actor_id"] for e in logins} == {admin["user_id"], teacher["id"]}
    assert api.all_pages(f"/api/audit?record_id={g['id']}")[0]["record_type"] == "group"
    future = clock.strftime("%Y-%m-%dT%H:%M:%SZ", clock.gmtime(clock.time() + 3600))
    assert api.get(f"/api/audit?from={future}").data == {"items": [], "next": None}
    assert len(api.all_pages(f"/api/audit?to={future}&entity=pupil")) == 1
    r = api.get("/api/audit?from=yesterday")
    assert r.status_code == 400 and r.data["code"] == "bad_request"


def test_a_lock_out_is_audited_once_not_per_refused_attempt(api, admin):
    email = admin["email"]
    seen = set()
    _new(api, seen)
    for _ in range(5):
        assert api.post("/api/auth/login", {"email": email, "password": "wrong wrong wrong"}, token="").status_code == 401
    for _ in range(4):  # a stranger keeps knocking: refused, and the log does not grow
        assert api.post("/api/auth/login", {"email": email, "password": "wrong wrong wrong"}, token="").status_code == 429
    actions = [e["action"] for e in _entries(api) if e["record_type"] == "account"]
    assert actions.count("locked_out") == 1 and actions.count("login_failed") == 5
