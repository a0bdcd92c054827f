"""A pupil who leaves is out of her teacher groups at once (not listed, not
counted, not addable) and back in those that have not ended when she is back
on roll; counts stay exact through removal, erasure and the sweep."""
import time

import pytest

from chalicelib.core import db
from chalicelib.groups import members as group_members
from chalicelib.membership import bookkeeping
from chalicelib.membership.bookkeeping import member_back, member_left
from chalicelib.roster import pupils as pupil_records
from chalicelib.membership.models import Membership
from tests.groups.test_groups import PUPIL, later, names


@pytest.fixture
def club(api, admin):
    """Two pupils in a teacher group: Ann until removed, Ben for an hour."""
    ann = api.post("/api/pupils", {**PUPIL, "first_name": "Ann"}).data
    ben = api.post("/api/pupils", {**PUPIL, "first_name": "Ben"}).data
    group = api.post("/api/groups", {"name": "Chess club"}).data
    assert api.post(f"/api/groups/{group['id']}/members", {"member_ids": [ann["id"]]}).status_code == 200
    assert api.post(f"/api/groups/{group['id']}/members",
                    {"member_ids": [ben["id"]], "until": later(hours=1)}).status_code == 200
    return {"group": group, "ann": ann, "ben": ben, "path": f"/api/groups/{group['id']}/members"}


def count(api, club):
    groups = {g["id"]: g for g in api.get("/api/groups").data["items"]}
    return groups[club["group"]["id"]]["member_count"]


def set_status(api, pupil, status, **extra):
    current = api.get(f"/api/pupils/{pupil['id']}").data
    r = api.patch(f"/api/pupils/{pupil['id']}", {"version": current["version"], "status": status, **extra})
    assert r.status_code == 200, r.body
    return r.data


def test_a_leaver_is_out_of_her_teacher_groups_and_back_when_she_returns(api, club):
    school_id = api.get("/api/me").data["school"]["id"]
    set_status(api, club["ann"], "left")
    assert names(api.get(club["path"])) == ["Ben Smith"] and count(api, club) == 1
    member_left(school_id, club["ann"]["id"], time.time())  # a repeat (a redelivered commit) changes nothing
    assert count(api, club) == 1
    set_status(api, club["ann"], "active")
    assert names(api.get(club["path"])) == ["Ann Smith", "Ben Smith"] and count(api, club) == 2
    member_back(school_id, club["ann"]["id"], time.time())
    assert count(api, club) == 2


def test_a_membership_that_ended_while_she_was_away_is_not_given_back(api, club):
    set_status(api, club["ben"], "left")
    assert count(api, club) == 1
    two_hours_on = time.time() + 2 * 3600
    assert group_members.sweep_expired(now=two_hours_on) == {"removed": 1, "skipped": 0}
    assert count(api, club) == 1  # his was not counted: the sweep took nothing off Ann's
    set_status(api, club["ben"], "active")
    assert names(api.get(club["path"])) == ["Ann Smith"] and count(api, club) == 1


def end_now(api, club, pupil):
    """His membership's end passes (as if two hours went by while he was away)."""
    key = f"{api.get('/api/me').data['school']['id']}#{club['group']['id']}"
    m = Membership.get(key, pupil["id"])
    m.update(actions=[Membership.until.set(int(time.time()) - 60)])


def test_an_ended_membership_of_a_returned_leaver_is_swept_without_touching_the_count(api, club):
    set_status(api, club["ben"], "left")
    end_now(api, club, club["ben"])
    set_status(api, club["ben"], "active")  # his membership ended meanwhile: it stays aside
    assert names(api.get(club["path"])) == ["Ann Smith"] and count(api, club) == 1
    assert group_members.sweep_expired() == {"removed": 1, "skipped": 0}
    assert count(api, club) == 1


def test_removing_or_erasing_a_leaver_keeps_the_count_right(api, club):
    set_status(api, club["ann"], "left")
    set_status(api, club["ben"], "left")
    assert count(api, club) == 0
    assert api.delete(f"{club['path']}/{club['ben']['id']}").status_code == 200
    assert api.delete(f"/api/pupils/{club['ann']['id']}").status_code == 200
    assert count(api, club) == 0
    assert list(Membership.query(f"{api.get('/api/me').data['school']['id']}#{club['group']['id']}")) == []


def test_a_leaver_cannot_be_added_to_a_group(api, club):
    set_status(api, club["ben"], "left")
    r = api.post(club["path"], {"member_ids": [club["ben"]["id"]]})
    assert r.status_code == 422 and [e["code"] for e in r.data["errors"]] == ["pupil_left"]
    assert count(api, club) == 1


def test_renewing_an_ended_aside_membership_counts_it_again(api, club):
    set_status(api, club["ben"], "left")
    end_now(api, club, club["ben"])
    set_status(api, club["ben"], "active")
    assert api.post(club["path"], {"member_ids": [club["ben"]["id"]]}).status_code == 200
    assert names(api.get(club["path"])) == ["Ann Smith", "Ben Smith"] and count(api, club) == 2


# ---------------------------------------------------------------- races and crashes (an attacker review's probes)

def test_a_clash_on_the_groups_count_is_tried_again(api, club, monkeypatch):
    """TransactionConflict (a concurrent write to the same Group item) is not
    'moved meanwhile': she stays listed and counted although she has left."""
    real = db.Tx
    seen = []

    class Conflicting(real):
        def commit(self):
            if not seen:
                seen.append(1)
                raise db.TxFailed(set(), conflict=True)
            return super().commit()
    monkeypatch.setattr(bookkeeping, "Tx", Conflicting)
    set_status(api, club["ann"], "left")
    assert names(api.get(club["path"])) == ["Ben Smith"] and count(api, club) == 1


def test_a_patch_retried_after_a_crash_sets_her_groups_aside(api, club, monkeypatch):
    """The PATCH died after her transaction, before her groups; sending the
    same status again returns early (before == after) and never sets them aside."""
    real = pupil_records.member_left
    monkeypatch.setattr(pupil_records, "member_left", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("killed")))
    current = api.get(f"/api/pupils/{club['ann']['id']}").data
    try:
        api.patch(f"/api/pupils/{club['ann']['id']}", {"version": current["version"], "status": "left"})
    except RuntimeError:
        pass
    monkeypatch.setattr(pupil_records, "member_left", real)
    assert api.get(f"/api/pupils/{club['ann']['id']}").data["status"] == "left"
    set_status(api, club["ann"], "left")  # the client retries
    assert names(api.get(club["path"])) == ["Ben Smith"] and count(api, club) == 1


def test_adding_a_pupil_whose_membership_was_left_aside_counts_her(api, club, monkeypatch):
    """member_back died (or lost a race/GSI lag): she is active with her
    membership aside. add_members overwrites it unconditionally and counts 0."""
    set_status(api, club["ann"], "left")
    monkeypatch.setattr(pupil_records, "member_back", lambda *a, **k: None)  # as if killed
    set_status(api, club["ann"], "active")
    monkeypatch.undo()
    assert count(api, club) == 1
    r = api.post(club["path"], {"member_ids": [club["ann"]["id"]]})
    assert r.status_code == 200, r.body
    assert names(api.get(club["path"])) == ["Ann Smith", "Ben Smith"]
    assert count(api, club) == 2


def test_a_pupil_who_leaves_while_being_added_is_refused(api, club, monkeypatch):
    """add_members reads her active, she leaves (tx + member_left, nothing to
    set aside yet), then the add writes a membership counted and listed."""
    cat = api.post("/api/pupils", {**PUPIL, "first_name": "Cat"}).data
    real = group_members._write_memberships

    def leave_first(caller, g, memberships, *rest):
        pupil_records.update(caller, cat["id"], {"version": cat["version"], "status": "left"})
        return real(caller, g, memberships, *rest)
    monkeypatch.setattr(group_members, "_write_memberships", leave_first)
    r = api.post(club["path"], {"member_ids": [cat["id"]]})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "pupil_left", r.body
    monkeypatch.undo()
    assert api.get(f"/api/pupils/{cat['id']}").data["status"] == "left"
    assert names(api.get(club["path"])) == ["Ann Smith", "Ben Smith"] and count(api, club) == 2


def test_a_late_set_aside_after_she_came_back_does_nothing(api, club, monkeypatch):
    """Two PATCHes (left, then active) whose bookkeeping runs out of order:
    nothing checks her status, so an active pupil ends up set aside."""
    pending = []
    monkeypatch.setattr(pupil_records, "settle_groups", lambda p, now: pending.append(p))
    set_status(api, club["ann"], "left")  # her member_left is slow...
    monkeypatch.undo()
    set_status(api, club["ann"], "active")  # ...this one's member_back runs first (nothing aside)
    pupil_records.settle_groups(pending[0], time.time())  # ...then the slow one lands (as read then)
    assert api.get(f"/api/pupils/{club['ann']['id']}").data["status"] == "active"
    assert names(api.get(club["path"])) == ["Ann Smith", "Ben Smith"] and count(api, club) == 2
