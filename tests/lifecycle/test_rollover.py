"""The academic-year rollover (issue 17): a preview that changes nothing,
one application per academic year, leavers from the final year with their
teacher groups ended, a schedule that can be cancelled, and an undo within
14 days that leaves anyone changed since."""
import time
from datetime import date, timedelta

from chalicelib.lifecycle import rollover, running
from chalicelib.lifecycle.models import RolloverPupil, rollover_key
from tests.lifecycle.conftest import counts, drain, members, pupils_now


def test_a_rollover_needs_a_final_year_and_manage_settings(api, admin, member, pump):
    r = api.post("/api/rollover", {"dry_run": True})
    assert r.status_code == 422 and r.data["errors"][0]["field"] == "final_year"
    teacher = member(admin, "Teachers")
    for path in ("/api/rollover", "/api/rollover/undo", "/api/rollover/cancel"):
        denied = api.post(path, {} if path == "/api/rollover" else None, token=teacher["token"])
        assert denied.status_code == 403 and denied.data["code"] == "permission_denied"
    assert api.post("/api/rollover", {"dry_run": True, "term": 1}).data["errors"][0]["code"] == "unknown_field"


def test_the_preview_says_what_moves_and_who_leaves_and_changes_nothing(api, school):
    before = pupils_now(api)
    r = api.post("/api/rollover", {"dry_run": True})
    assert r.status_code == 200, r.body
    p = r.data
    assert p["moves"] == {"R→1": 1, "1→2": 1, "5→6": 2} and p["leaving"] == {"6": 2} and p["leavers"] == 2
    assert p["memberships_ending"] == 1 and p["memberships"][0]["group"] == "Chess club"
    assert p["memberships"][0]["pupil"] == "Sid Six"
    assert pupils_now(api) == before and api.get("/api/rollover").data["items"] == []


def test_applying_moves_everyone_up_once_and_ends_leavers_groups(api, school, pump):
    year6 = counts(api)["Year 6"]
    r = api.post("/api/rollover", {})
    assert r.status_code == 202 and r.data["status"] == "queued", r.body
    drain(pump)
    done = api.get("/api/rollover").data["items"][0]
    assert done["status"] == "applied" and done["counts"] == {"moved": 4, "left": 2, "memberships_ended": 1,
                                                              "not_moved": []}
    now = pupils_now(api)
    assert [now[n]["year_group"] for n in ("Rae", "Uma", "Fay", "Fin")] == ["1", "2", "6", "6"]
    assert all(now[n]["registration_group"] is None for n in ("Rae", "Fay"))  # cleared by default
    assert now["Sid"]["status"] == "left" and now["Sid"]["left_on"] == date.today().isoformat()
    assert members(api, school["_group"]) == ["Fay Five"]
    assert counts(api)["Year 6"] == 2 and year6 == 2 and counts(api)["All pupils"] == 4
    again = api.post("/api/rollover", {})
    assert again.status_code == 409 and again.data["code"] == "already_rolled_over"
    entries = api.get("/api/audit?entity=rollover").data["items"]
    assert {e["action"] for e in entries} == {"apply", "update"}


def test_a_rollover_delivered_twice_or_run_twice_at_once_moves_nobody_twice(api, school, pump, monkeypatch):
    assert api.post("/api/rollover", {}).status_code == 202
    school_id, year = _school_id(api), rollover.rules.academic_year(date.today())
    real = running.school_moves
    calls = []

    def a_second_run_gets_in_first(*args):
        moves = real(*args)  # this run has read every pupil...
        if not calls:
            calls.append(1)
            running.run(school_id, year)  # ...when another delivery moves them all
        return moves
    monkeypatch.setattr(running, "school_moves", a_second_run_gets_in_first)
    drain(pump)
    r = rollover.get(school_id, year)
    rollover._move(r, "applied", "running")  # a late redelivery finds it still running
    running.run(school_id, year)
    now = pupils_now(api)
    assert [now[n]["year_group"] for n in ("Rae", "Uma", "Fay")] == ["1", "2", "6"]
    assert counts(api)["All pupils"] == 4 and counts(api)["Year 6"] == 2
    assert RolloverPupil.count(rollover_key(rollover.get(school_id, year))) == 6
    assert rollover.get(school_id, year).counts == {"moved": 4, "left": 2, "memberships_ended": 1, "not_moved": []}


def _school_id(api):
    return api.get("/api/me").data["school"]["id"]


def test_a_pupil_edited_while_it_runs_is_moved_from_what_they_are_now(api, school, pump, monkeypatch):
    real = running.school_moves

    def read_then_edit(*args):
        moves = real(*args)
        fay = api.get(f"/api/pupils/{school['Fay']['id']}").data
        assert api.patch(f"/api/pupils/{fay['id']}", {"version": fay["version"], "year_group": "4"}).status_code == 200
        return moves
    monkeypatch.setattr(running, "school_moves", read_then_edit)
    assert api.post("/api/rollover", {}).status_code == 202
    drain(pump)
    now = pupils_now(api)
    assert now["Fay"]["year_group"] == "5" and now["Fin"]["year_group"] == "6"  # 4 → 5, read again


def test_undo_puts_everyone_back_except_those_changed_since(api, school, pump):
    assert api.post("/api/rollover", {}).status_code == 202
    drain(pump)
    uma = pupils_now(api)["Uma"]
    assert api.patch(f"/api/pupils/{uma['id']}", {"version": uma["version"], "surname": "Won"}).status_code == 200
    r = api.post("/api/rollover/undo")
    assert r.status_code == 202 and r.data["status"] == "undoing", r.body
    drain(pump)
    done = api.get("/api/rollover").data["items"][0]
    assert done["status"] == "undone" and done["undo"] == {"restored": 5, "changed_since": [uma["id"]]}
    now = pupils_now(api)
    assert [now[n]["year_group"] for n in ("Rae", "Fay", "Sid")] == ["R", "5", "6"]
    assert now["Rae"]["registration_group"] == "RA" and now["Sid"]["status"] == "active"
    assert now["Uma"]["year_group"] == "2"  # changed since: left as it is
    assert members(api, school["_group"]) == ["Fay Five", "Sid Six"]
    assert counts(api)["All pupils"] == 6
    assert api.post("/api/rollover/undo").data["code"] == "nothing_to_undo"
    again = api.post("/api/rollover", {})  # undone: the year may be rolled over again, as a new run
    assert again.status_code == 202
    drain(pump)
    assert api.get("/api/rollover").data["items"][0]["counts"]["moved"] == 4
    assert pupils_now(api)["Fay"]["year_group"] == "6" and members(api, school["_group"]) == ["Fay Five"]


def test_undo_after_the_expiry_sweep_removed_the_leavers_memberships(api, school, pump):
    from chalicelib.groups import members as group_members
    assert api.post("/api/rollover", {}).status_code == 202
    drain(pump)
    group_members.sweep_expired(now=time.time() + 5)
    assert members(api, school["_group"]) == ["Fay Five"]
    assert api.post("/api/rollover/undo").status_code == 202
    drain(pump)
    assert members(api, school["_group"]) == ["Fay Five", "Sid Six"]
    assert counts(api)["Chess club"] == 2


def test_a_scheduled_rollover_waits_for_its_day_and_can_be_cancelled(api, school, pump):
    day = (date.today() + timedelta(days=30)).isoformat()
    assert api.post("/api/rollover", {"on": "2001-01-01"}).data["errors"][0]["field"] == "on"
    r = api.post("/api/rollover", {"on": day})
    assert r.status_code == 202 and r.data["status"] == "scheduled" and r.data["on"] == day
    assert rollover.start_due() == 0
    drain(pump)
    assert pupils_now(api)["Rae"]["year_group"] == "R"
    assert api.post("/api/rollover/cancel").data["status"] == "cancelled"
    assert api.post("/api/rollover/cancel").status_code == 404
    assert api.post("/api/rollover", {"on": day}).data["status"] == "scheduled"  # cancelled: may be asked again
    assert rollover.start_due(now=time.time() + 31 * 86400) == 1
    assert rollover.start_due(now=time.time() + 31 * 86400) == 0  # started once
    drain(pump)
    assert api.get("/api/rollover").data["items"][0]["status"] == "applied"
    assert pupils_now(api)["Rae"]["year_group"] == "1"


def test_keep_registration_groups(api, school, pump):
    assert api.post("/api/rollover", {"keep_registration_groups": True}).status_code == 202
    drain(pump)
    assert pupils_now(api)["Fay"]["registration_group"] == "5A"


def test_rollovers_are_per_school(api, school, signup, pump):
    other = signup("Dale School")
    assert api.get("/api/rollover", token=other["token"]).data["items"] == []
    assert api.post("/api/rollover", {}).status_code == 202
    drain(pump)
    assert api.get("/api/rollover", token=other["token"]).data["items"] == []
    assert api.post("/api/rollover/undo", token=other["token"]).data["code"] == "nothing_to_undo"


def test_an_undo_delivered_again_counts_and_changes_nothing_twice(api, school, pump):
    assert api.post("/api/rollover", {}).status_code == 202
    drain(pump)
    rae = pupils_now(api)["Rae"]
    assert api.patch(f"/api/pupils/{rae['id']}", {"version": rae["version"], "surname": "Ray"}).status_code == 200
    assert api.post("/api/rollover/undo").status_code == 202
    drain(pump)
    school_id, year = _school_id(api), rollover.rules.academic_year(date.today())
    first = rollover.get(school_id, year).undo
    rollover._move(rollover.get(school_id, year), "undone", "undoing")  # a late redelivery
    running.undo_run(school_id, year)
    assert rollover.get(school_id, year).undo == first == {"restored": 5, "changed_since": [rae["id"]]}
    assert counts(api)["All pupils"] == 6 and counts(api).get("Reception", 0) == 0 and counts(api)["Year 1"] == 2


def test_a_rollover_soon_after_another_is_refused_whatever_year_it_falls_in(api, school, pump):
    assert api.post("/api/rollover", {}).status_code == 202
    drain(pump)
    later = (date.today() + timedelta(days=200)).isoformat()
    r = api.post("/api/rollover", {"on": later})
    assert r.status_code == 409 and r.data["code"] == "already_rolled_over"


def test_a_big_school_with_many_forms_rolls_over_in_batches_that_fit(api, admin, pump):
    """45 pupils a transaction, but never more system groups than one update holds."""
    for n in range(60):
        assert api.post("/api/pupils", {"first_name": f"P{n}", "surname": "Form", "date_of_birth": "2012-01-01",
                                        "year_group": str(7 + n % 5), "registration_group": f"F{n}"}).status_code == 201
    assert api.patch("/api/settings", {"final_year": "13"}).status_code == 200
    assert api.post("/api/rollover", {}).status_code == 202
    drain(pump)
    done = api.get("/api/rollover").data["items"][0]
    assert done["status"] == "applied" and done["counts"]["moved"] == 60 and done["counts"]["not_moved"] == []
    assert counts(api).get("F0", 0) == 0 and counts(api)["Year 12"] == 12


def test_a_lost_message_is_queued_again_by_the_schedule(api, school, pump, monkeypatch):
    sent = []
    monkeypatch.setattr(rollover, "enqueue", sent.append)  # the first message is lost
    assert api.post("/api/rollover", {}).status_code == 202
    assert len(sent) == 1 and rollover.start_due() == 0  # not yet: it may still be on its way
    monkeypatch.undo()
    assert rollover.start_due(now=time.time() + 3600) == 1
    drain(pump)
    assert api.get("/api/rollover").data["items"][0]["status"] == "applied"


def test_an_undo_that_leaves_a_leaver_as_she_is_keeps_her_out_of_her_groups(api, school, pump, monkeypatch):
    assert api.post("/api/rollover", {}).status_code == 202
    drain(pump)
    assert members(api, school["_group"]) == ["Fay Five"]
    real = running._restore_membership

    def then_edited(p, m):
        real(p, m)
        sid = api.get(f"/api/pupils/{p.pupil_id}").data  # someone fixes her surname meanwhile
        assert api.patch(f"/api/pupils/{sid['id']}", {"version": sid["version"], "surname": "Sixx"}).status_code == 200
    monkeypatch.setattr(running, "_restore_membership", then_edited)
    assert api.post("/api/rollover/undo").status_code == 202
    drain(pump)
    assert pupils_now(api)["Sid"]["status"] == "left"
    assert members(api, school["_group"]) == ["Fay Five"] and counts(api)["Chess club"] == 1
