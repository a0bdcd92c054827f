"""Issue 17's remaining points over HTTP on the real local stack: pupils
added by hand kept, ``status`` a field and unknown fields refused, a leaver
restored to her groups, staff disabled and enabled by a full staff drop,
reads pinned to the uploaded file, a newer drop superseding a held one, and
the sync report by email."""
import requests
import pytest

from tests.e2e.helpers import HEADER, School, api_import, wait
from tests.e2e.test_local_stack import PASSWORD

pytestmark = pytest.mark.e2e
ROWS = ["Bea,Khan,09/09/2014,6,6A,", "Cal,Moss,10/10/2014,6,6A,", "Dot,Reed,11/11/2014,5,5A,"]


def rostered(stack, tag, **settings):
    """A school whose three pupils came from a file, mark_leavers on (a hold only above half)."""
    school = School(stack, tag)
    api_import(school.http.base, school.auth, HEADER + "\n".join(ROWS) + "\n")
    r = school.call("PATCH", "/api/settings", json={"mark_leavers": True, "leaver_threshold": 50, **settings})
    assert r.status_code == 200, r.text
    return school


def file_of(*rows):
    return HEADER + "\n".join(rows) + "\n"


def counts(school):
    return {g["name"]: g["member_count"] for g in school.get("/api/groups")["items"]}


def reports(school):
    return [m for m in school.http.mails_to(school.admin_email) if "roster" in m["subject"].lower()]


def test_a_pupil_added_by_hand_is_kept_and_the_report_says_so(stack):
    school = rostered(stack, "elm-manual", sync_report="always")
    school.admin_email = "head@elm-manual.sch.uk"
    made = school.call("POST", "/api/pupils", json={"first_name": "Hal", "surname": "Hand",
                                                    "date_of_birth": "2015-05-05", "year_group": "5"})
    assert made.status_code == 201 and made.json()["source"] == "manual"
    night = school.drop(file_of(*ROWS))
    assert night["result"]["left"] == 0 and night["result"]["kept_manual"] == 1
    pupils = school.pupils()
    assert pupils["Hal"]["status"] == "active" and pupils["Bea"]["source"] == "import"
    (report,) = wait(lambda: reports(school))
    assert "1 not in the file, kept (added by hand)" in report["body"], report["body"]


def test_status_is_a_field_and_an_unknown_field_is_refused(stack):
    school = rostered(stack, "elm-status")
    bea = school.pupils()["Bea"]
    typo = school.call("PATCH", f"/api/pupils/{bea['id']}", json={"version": bea["version"], "stauts": "left"})
    assert typo.status_code == 422 and [e["code"] for e in typo.json()["errors"]] == ["unknown_field"]
    extra = school.call("POST", "/api/pupils", json={"first_name": "A", "surname": "B", "date_of_birth": "2015-01-01",
                                                     "year_group": "5", "nickname": "Ab"})
    assert extra.status_code == 422 and extra.json()["code"] == "validation_failed"
    assert school.pupils()["Bea"]["version"] == bea["version"] and "A" not in school.pupils()
    left = school.call("PATCH", f"/api/pupils/{bea['id']}", json={"version": bea["version"], "status": "left",
                                                                  "left_on": "2026-11-30"})
    assert left.status_code == 200 and left.json()["left_on"] == "2026-11-30"
    assert list(school.pupils("&status=left")) == ["Bea"] and counts(school)["Year 6"] == 1
    # a leaver by a person's hand is not brought back by the next file
    assert school.drop(file_of(*ROWS))["result"]["restored"] == 0
    back = school.call("PATCH", f"/api/pupils/{bea['id']}", json={"version": left.json()["version"], "status": "active"})
    assert back.status_code == 200 and back.json()["left_on"] is None and counts(school)["Year 6"] == 2


def test_a_leaver_named_again_is_restored_to_her_system_and_teacher_groups(stack):
    school = rostered(stack, "elm-restore")
    bea = school.pupils()["Bea"]
    group = school.call("POST", "/api/groups", json={"name": "Reading club"}).json()
    assert school.call("POST", f"/api/groups/{group['id']}/members", json={"member_ids": [bea["id"]]}).ok
    gone = school.drop(file_of(*ROWS[1:]))
    assert gone["result"]["left"] == 1 and school.pupils("&status=left")["Bea"]["left_on"]
    assert counts(school)["Year 6"] == 1 and counts(school)["Reading club"] == 0
    back = school.drop(file_of(*ROWS))
    assert back["result"]["restored"] == 1 and school.pupils()["Bea"]["status"] == "active"
    assert counts(school)["Year 6"] == 2 and counts(school)["Reading club"] == 1
    members = school.get(f"/api/groups/{group['id']}/members")["items"]
    assert [m["id"] for m in members] == [bea["id"]]


STAFF_HEADER = "First name,Surname,Email,Job role,User group\n"
STAFF = ["Tess,Teacher,tess@elm-staff.sch.uk,Class teacher,Teachers", "Tom,Assistant,tom@elm-staff.sch.uk,TA,TAs"]


def test_staff_missing_from_a_full_staff_drop_are_disabled_signed_out_and_enabled_when_back(stack):
    school = School(stack, "elm-staff")
    api_import(school.http.base, school.auth, STAFF_HEADER + "\n".join(STAFF) + "\n", kind="staff")
    accepted = school.call("POST", "/api/auth/accept-invite",
                           json={"token": school.http.link_token("tom@elm-staff.sch.uk"), "password": PASSWORD})
    assert accepted.status_code == 200, accepted.text
    tom_token = school.http.login("tom@elm-staff.sch.uk")
    assert school.call("PATCH", "/api/settings", json={"mark_leavers": True, "leaver_threshold": 50}).ok
    night = school.drop(STAFF_HEADER + STAFF[0] + "\n", kind="staff")
    assert night["result"]["disabled"] == 1 and night["result"]["kept_manual"] == 1  # the first admin
    staff = {u["first_name"]: u for u in school.get("/api/staff?limit=50")["items"]}
    assert (staff["Tom"]["status"], staff["Tom"]["disabled_by_sync"]) == ("disabled", True)
    assert staff["Ada"]["status"] == "active"
    assert school.http.call("GET", "/api/me", tom_token).status_code == 401  # his session ended
    refused = school.http.call("POST", "/api/auth/login", json={"email": "tom@elm-staff.sch.uk", "password": PASSWORD})
    assert refused.status_code in (401, 403)
    back = school.drop(STAFF_HEADER + "\n".join(STAFF) + "\n", kind="staff")
    assert back["result"]["enabled"] == 1
    staff = {u["first_name"]: u for u in school.get("/api/staff?limit=50")["items"]}
    assert (staff["Tom"]["status"], staff["Tom"]["disabled_by_sync"]) == ("active", False)
    assert school.http.login("tom@elm-staff.sch.uk")


def test_a_second_upload_to_the_same_presigned_key_is_never_checked_for_the_first(stack):
    school = School(stack, "elm-pinned")
    started = school.call("POST", "/api/imports", json={"kind": "pupils", "filename": "p.csv"}).json()
    up = started["upload"]
    assert requests.post(up["url"], data=up["fields"], files={"file": ("p.csv", file_of(*ROWS).encode())}).ok
    imp = school.http.wait_import(school.token, started["import_id"], "mapping")
    swap = file_of("Eve,Swap,01/01/2015,5,5A,")
    assert requests.post(up["url"], data=up["fields"], files={"file": ("p.csv", swap.encode())}).ok
    r = school.call("PUT", f"/api/imports/{imp['id']}/mapping", json={"mapping": imp["suggested_mapping"]})
    assert r.status_code in (200, 409), r.text

    def ended():
        now = school.get(f"/api/imports/{imp['id']}")
        return now if now["status"] in ("failed", "review") else None
    end = wait(ended)
    assert end["status"] == "failed" and end["error"]["code"] == "file_changed", end
    assert school.pupils() == {}


def test_a_newer_drop_supersedes_a_held_one(stack):
    school = School(stack, "elm-supersede")
    rows = [f"P{n:02d},Pupil,01/02/2015,5,5A," for n in range(40)]
    api_import(school.http.base, school.auth, file_of(*rows))
    assert school.call("PATCH", "/api/settings", json={"mark_leavers": True}).ok
    held = school.drop(file_of(*rows[:30]), status="held")
    newest = school.drop(file_of(*rows))
    assert newest["result"]["left"] == 0 and newest["result"]["unchanged"] == 40
    older = school.get(f"/api/imports/{held['id']}")
    assert older["status"] == "discarded" and older["hold"]["code"] == "superseded"
    assert school.pupils("&status=left") == {}
    assert school.call("POST", f"/api/imports/{held['id']}/approve").status_code == 409


def test_a_night_with_a_refused_row_is_reported_without_the_childs_details(stack):
    school = rostered(stack, "elm-report")
    school.admin_email = "head@elm-report.sch.uk"
    assert school.drop(file_of(*ROWS))["status"] == "done"
    assert reports(school) == []  # problems_only, the default: a clean night is quiet
    school.drop(file_of("Bea,Khan,31/13/2014,6,6A,", *ROWS[1:]))
    (report,) = wait(lambda: reports(school))
    assert report["subject"] == "Your nightly roster import"
    assert "date of birth: invalid date" in report["body"]
    assert "Khan" not in report["body"] and "31/13/2014" not in report["body"]
