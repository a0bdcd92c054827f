"""Leavers kept for the school's years, then erased (issue 17): the record,
its UPN claim and memberships go; the audit keeps a tombstone with no name
or birth date, and the pupil's older entries lose theirs. DELETE erases the
same way."""
import time
from datetime import date

from chalicelib.core import audit
from chalicelib.lifecycle import retention
from tests.imports.conftest import upn
from tests.lifecycle.conftest import counts, members

PERSONAL = ("first_name", "surname", "date_of_birth", "upn")


def leave(api, pupil, on):
    current = api.get(f"/api/pupils/{pupil['id']}").data
    r = api.patch(f"/api/pupils/{pupil['id']}", {"version": current["version"], "status": "left", "left_on": on})
    assert r.status_code == 200, r.body
    return r.data


def history(api, pupil_id):
    return api.get(f"/api/audit?entity=pupil&record_id={pupil_id}").data["items"]


def years_ago(n):
    today = date.today()
    return today.replace(year=today.year - n, day=min(today.day, 28)).isoformat()


def test_leavers_past_the_schools_years_are_erased_with_a_tombstone(api, school):
    assert api.patch(f"/api/pupils/{school['Sid']['id']}", {"version": 1, "upn": upn(7)}).status_code == 200
    leave(api, school["Sid"], years_ago(7))
    leave(api, school["Sue"], years_ago(2))
    assert api.get("/api/settings").data["keep_leavers_years"] == 6
    assert retention.erase_due() == {"erased": 1, "skipped": 0}
    assert api.get(f"/api/pupils/{school['Sid']['id']}").status_code == 404
    assert api.get(f"/api/pupils/{school['Sue']['id']}").data["status"] == "left"
    assert members(api, school["_group"]) == ["Fay Five"]
    tomb = history(api, school["Sid"]["id"])[0]
    assert tomb["action"] == "erase" and tomb["actor_id"] == "system"
    assert tomb["changes"] == {"year_group": "6", "left_on": years_ago(7), "status": "left", "reason": "retention"}
    assert audit.scrub_pending() == 1 and audit.scrub_pending() == 0
    text = repr(history(api, school["Sid"]["id"]))
    assert "Sid" not in text and "2015-05-01" not in text and upn(7) not in text
    assert any(e["changes"].get("erased") for e in history(api, school["Sid"]["id"]))
    assert "Sue" in repr(history(api, school["Sue"]["id"]))  # nobody else's history changes
    again = api.post("/api/pupils", {"first_name": "New", "surname": "Pupil", "date_of_birth": "2015-01-01",
                                     "year_group": "6", "upn": upn(7)})
    assert again.status_code == 201  # the UPN claim went with her
    assert retention.erase_due() == {"erased": 0, "skipped": 0}  # a repeat erases nobody


def test_the_setting_decides_null_keeps_for_ever(api, school):
    leave(api, school["Sid"], years_ago(7))
    leave(api, school["Sue"], years_ago(2))
    assert api.patch("/api/settings", {"keep_leavers_years": None}).data["keep_leavers_years"] is None
    assert retention.erase_due()["erased"] == 0
    assert api.patch("/api/settings", {"keep_leavers_years": 0}).data["errors"][0]["field"] == "keep_leavers_years"
    assert api.patch("/api/settings", {"keep_leavers_years": 1}).data["keep_leavers_years"] == 1
    assert retention.erase_due()["erased"] == 2


def test_a_leaver_restored_before_the_job_runs_is_kept(api, school, monkeypatch):
    left = leave(api, school["Sid"], years_ago(7))
    real = retention.pupils.erase

    def restored_meanwhile(caller, p, now, reason, condition=None):
        assert api.patch(f"/api/pupils/{p.pupil_id}", {"version": left["version"], "status": "active"}).status_code == 200
        return real(caller, p, now, reason, condition)
    monkeypatch.setattr(retention.pupils, "erase", restored_meanwhile)
    assert retention.erase_due() == {"erased": 0, "skipped": 1}
    assert api.get(f"/api/pupils/{school['Sid']['id']}").data["status"] == "active"


def test_delete_erases_the_same_way(api, school):
    year5 = counts(api)["Year 5"]
    r = api.delete(f"/api/pupils/{school['Fay']['id']}")
    assert r.status_code == 200 and r.data == {"deleted": school["Fay"]["id"]}
    assert counts(api)["Year 5"] == year5 - 1 and members(api, school["_group"]) == ["Sid Six"]
    tomb = history(api, school["Fay"]["id"])[0]
    assert tomb["action"] == "erase" and tomb["changes"]["reason"] == "deleted"
    assert audit.scrub_pending() == 1
    assert not any(f in repr(history(api, school["Fay"]["id"])) for f in ("Fay", "2016-05-01"))
    assert api.delete(f"/api/pupils/{school['Fay']['id']}").status_code == 404


def test_the_hourly_schedule_runs_retention_and_the_scrub(api, school, pump):
    leave(api, school["Sid"], years_ago(9))
    pump.run_schedules()  # every schedule is due at once on a new pump, as Lambda would be called
    assert api.get(f"/api/pupils/{school['Sid']['id']}").status_code == 404
    pump.run_schedules(now=time.time() + 3600)  # the next hour's run scrubs what the last one erased
    assert api.get(f"/api/pupils/{school['Sid']['id']}").status_code == 404
    assert "Sid" not in repr(history(api, school["Sid"]["id"]))
