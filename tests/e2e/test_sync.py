"""Issue 17 over HTTP on the real local stack (moto server, app server, the
pump running the queue and the schedules): the reported case, a hold
approved and one discarded, the rollover and its undo, an erasure."""
import requests
import pytest

from tests.e2e.helpers import HEADER, School, api_import, wait

pytestmark = pytest.mark.e2e


def test_one_refused_row_and_next_night_a_correct_file_the_pupil_never_leaves(stack):
    school = School(stack, "elm-sync")
    rows = ["Bea,Khan,09/09/2014,6,6A,", "Cal,Moss,10/10/2014,6,6A,", "Dot,Reed,11/11/2014,5,5A,"]
    api_import(school.http.base, school.auth, HEADER + "\n".join(rows) + "\n")
    assert school.call("PATCH", "/api/settings", json={"mark_leavers": True, "leaver_threshold": 50}).ok
    typo = HEADER + "Bea,Khan,31/13/2014,6,6A,\n" + "\n".join(rows[1:]) + "\n"
    night = school.drop(typo)
    assert night["summary"]["errors"] == 1 and night["result"]["left"] == 0
    assert school.pupils()["Bea"]["status"] == "active"
    again = school.drop(HEADER + "\n".join(rows) + "\n")
    assert again["result"]["left"] == 0 and school.pupils()["Bea"]["status"] == "active"
    groups = {g["name"]: g["member_count"] for g in school.get("/api/groups")["items"]}
    assert groups["All pupils"] == 3 and groups["Year 6"] == 2


@pytest.mark.parametrize("decision", ["approve", "discard"])
def test_a_school_of_40_dropping_30_is_held_then_approved_or_discarded(stack, decision):
    school = School(stack, f"ash-{decision}")
    rows = [f"P{n:02d},Pupil,01/02/2015,5,5A," for n in range(40)]
    api_import(school.http.base, school.auth, HEADER + "\n".join(rows) + "\n")
    assert school.call("PATCH", "/api/settings", json={"mark_leavers": True}).ok
    held = school.drop(HEADER + "\n".join(rows[:30]) + "\n", status="held")
    assert school.pupils("&status=left") == {}
    leaving = school.get(f"/api/imports/{held['id']}/changes?kind=leave&limit=50")["items"]
    assert sorted(c["record"]["first_name"] for c in leaving) == [f"P{n}" for n in range(30, 40)]
    mails = wait(lambda: [m for m in school.http.mails_to(f"head@ash-{decision}.sch.uk") if "waiting for your approval" in m["subject"]])
    assert mails
    r = school.call("POST", f"/api/imports/{held['id']}/{decision}")
    assert r.status_code == 200, r.text
    end = "done" if decision == "approve" else "discarded"
    wait(lambda: school.get(f"/api/imports/{held['id']}")["status"] == end)
    assert len(school.pupils("&status=left")) == (10 if decision == "approve" else 0)


def test_the_rollover_over_http_and_its_undo(stack):
    school = School(stack, "oak-rollover")
    rows = ["Rae,R,01/05/2021,R,RA,", "Fay,F,01/05/2016,5,5A,", "Sid,S,01/05/2015,6,6A,"]
    api_import(school.http.base, school.auth, HEADER + "\n".join(rows) + "\n")
    assert school.call("PATCH", "/api/settings", json={"final_year": "6"}).ok
    preview = school.call("POST", "/api/rollover", json={"dry_run": True}).json()
    assert preview["moves"] == {"R→1": 1, "5→6": 1} and preview["leaving"] == {"6": 1}
    assert school.call("POST", "/api/rollover", json={}).status_code == 202
    assert school.call("POST", "/api/rollover", json={}).json()["code"] == "already_rolled_over"
    wait(lambda: school.get("/api/rollover")["items"][0]["status"] == "applied")
    now = school.pupils()
    assert (now["Rae"]["year_group"], now["Fay"]["year_group"], now["Sid"]["status"]) == ("1", "6", "left")
    assert school.call("POST", "/api/rollover/undo").status_code == 202
    wait(lambda: school.get("/api/rollover")["items"][0]["status"] == "undone")
    now = school.pupils()
    assert (now["Rae"]["year_group"], now["Fay"]["registration_group"], now["Sid"]["status"]) == ("R", "5A", "active")


@pytest.mark.heavy  # (waits out the scrub schedule; tests/accounts and tests/core try the erasure and scrub in-process)
def test_delete_erases_with_a_tombstone_and_the_schedule_scrubs_the_history(stack):
    school = School(stack, "yew-erase")
    r = school.call("POST", "/api/pupils", json={"first_name": "Zed", "surname": "Zane", "date_of_birth": "2015-03-03",
                                                 "year_group": "5"})
    pupil = r.json()
    assert school.call("DELETE", f"/api/pupils/{pupil['id']}").status_code == 200
    history = school.get(f"/api/audit?entity=pupil&record_id={pupil['id']}")["items"]
    assert history[0]["action"] == "erase" and "Zed" not in repr(history[0])
    assert "Zed" in repr(history)  # the create entry, until the hourly job scrubs it
    # locally the pump runs the hourly roster_lifecycle schedule every 60 seconds
    scrubbed = wait(lambda: "Zed" not in repr(school.get(f"/api/audit?entity=pupil&record_id={pupil['id']}")),
                    seconds=75)
    assert scrubbed
    assert school.call("GET", f"/api/pupils/{pupil['id']}").status_code == 404


def _to_review(school, csv):
    """Upload through the presigned POST, match the columns as suggested: the import in review."""
    started = school.call("POST", "/api/imports", json={"kind": "pupils", "filename": "p.csv"}).json()
    up = started["upload"]
    assert requests.post(up["url"], data=up["fields"], files={"file": ("p.csv", csv.encode())}).status_code < 300
    imp = school.http.wait_import(school.token, started["import_id"], "mapping")
    assert school.call("PUT", f"/api/imports/{imp['id']}/mapping", json={"mapping": imp["suggested_mapping"]}).ok
    return school.http.wait_import(school.token, imp["id"], "review")


def _commit(school, imp):
    assert school.call("POST", f"/api/imports/{imp['id']}/commit").ok
    return school.http.wait_import(school.token, imp["id"], "committed")


def test_identity_a_and_d_a_fixed_row_with_another_rows_upn_and_a_row_fixed_three_times(stack):
    """(a) a fixed row given another row's UPN is refused (duplicate_upn); (d) three fixes
    count once, and a fix that fails puts the row back with its new values."""
    from tests.imports.conftest import upn
    school = School(stack, "ivy-identity")
    csv = (HEADER + f"Ann,Lee,01/02/2015,5,5A,{upn(1)}\nBob,Ray,02/03/2015,5,5A,\n"
           "Bad,Date,31/02/2015,5,5A,\nOdd,Day,31/02/2015,5,5A,\n")
    imp = _to_review(school, csv)
    path = f"/api/imports/{imp['id']}/rows"
    taken = school.call("PATCH", f"{path}/4", json={"values": {"date_of_birth": "28/02/2015", "upn": upn(1)}}).json()
    assert taken["status"] == "error" and [e["code"] for e in taken["errors"]] == ["duplicate_upn"]
    for day in ("01", "02", "03"):
        assert school.call("PATCH", f"{path}/5", json={"values": {"date_of_birth": f"{day}/02/2015"}}).json()[
            "status"] == "fixed"
    summary = school.get(f"/api/imports/{imp['id']}")["summary"]
    assert (summary["valid"], summary["errors"]) == (3, 1)
    failed = school.call("PATCH", f"{path}/5", json={"values": {"date_of_birth": "30/02/2015"}}).json()
    assert failed["status"] == "error" and failed["values"]["date_of_birth"] == "30/02/2015"
    assert _commit(school, imp)["result"]["created"] == 2
    pupils = school.pupils()
    assert set(pupils) == {"Ann", "Bob"} and pupils["Ann"]["upn"] == upn(1)


def test_identity_b_and_c_a_row_naming_two_pupils_is_applied_to_neither(stack):
    """(b) the Pupil ID names Ann, the UPN is Bob's; (c) Ann's name and birth date with
    another UPN: identity_conflict, and nobody changes."""
    from tests.imports.conftest import upn
    school = School(stack, "fir-identity")
    api_import(school.http.base, school.auth, HEADER + f"Ann,Lee,01/02/2015,5,5A,{upn(1)}\nBob,Ray,02/03/2015,5,5A,{upn(2)}\n")
    before = school.pupils()
    csv = ("Pupil ID,First name,Surname,Date of birth,Year group,UPN\n"
           f"{before['Ann']['id']},Ann,Lee,01/02/2015,5,{upn(2)}\n,Ann,Lee,01/02/2015,5,{upn(3)}\n")
    imp = _to_review(school, csv)
    rows = school.http.rows(school.token, imp["id"])
    assert [r["errors"][0]["code"] for r in rows] == ["identity_conflict", "identity_conflict"]
    assert "Bob Ray" in rows[0]["errors"][0]["message"]
    _commit(school, imp)
    after = school.pupils()
    assert {n: (p["upn"], p["version"]) for n, p in after.items()} == \
        {n: (p["upn"], p["version"]) for n, p in before.items()}
