"""Issue 18 over HTTP on the real local stack: School Data Sync's month-first
Student.csv and an .xlsx, uploaded through the presigned POST and dropped."""
import requests
import pytest

from tests.e2e.helpers import School, wait
from tests.imports.conftest import bundle, bundle_file, data
from tests.imports.test_workbooks import HEADER, ROWS, xlsx

pytestmark = pytest.mark.e2e


def upload(school, body, filename):
    started = school.call("POST", "/api/imports", json={"kind": "pupils", "filename": filename}).json()
    up = started["upload"]
    assert requests.post(up["url"], data=up["fields"], files={"file": (filename, body)}).status_code < 300
    return school.http.wait_import(school.token, started["import_id"], "mapping")


def check_and_commit(school, imp, **body):
    choice = body if imp["kind"] == "bundle" else {"mapping": imp["suggested_mapping"], **body}
    r = school.call("PUT", f"/api/imports/{imp['id']}/mapping", json=choice)
    assert r.status_code == 200, r.text
    checked = school.http.wait_import(school.token, imp["id"], "review")
    assert school.call("POST", f"/api/imports/{imp['id']}/commit").ok
    school.http.wait_import(school.token, imp["id"], "committed")
    return checked


def test_school_data_syncs_month_first_student_file_over_http(stack):
    school = School(stack, "elm-sds")
    imp = upload(school, data("pupils_sds_month_first.csv"), "Student.csv")
    assert {c["name"]: c.get("date_order") for c in imp["columns"]}["Birthdate"] == "month_first"
    refused = school.call("PUT", f"/api/imports/{imp['id']}/mapping", json={"mapping": imp["suggested_mapping"]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "date_order_unconfirmed"
    checked = check_and_commit(school, imp, date_orders={"Birthdate": "month_first"})
    assert checked["summary"]["valid"] == 7
    pupils = {p["first_name"]: (p["date_of_birth"], p["year_group"], p["gender"]) for p in school.pupils().values()}
    assert pupils == {"Arjun": ("2013-12-19", "7", "M"), "Bisi": ("2014-01-31", "7", "F"),
                      "Chen": ("2012-10-13", "8", "M"), "Dafydd": ("2013-03-25", "8", "M"),
                      "Ella": ("2011-11-30", "9", "F"), "Farah": ("2014-04-02", "7", "F"),
                      "Greta": ("2011-06-15", "9", "F")}
    # the school's nightly drop of the same file reads it as confirmed; nothing changes
    night = school.drop(data("pupils_sds_month_first.csv").decode())
    assert night["result"]["unchanged"] == 7 and night["summary"]["errors"] == 0, night


def test_an_xlsx_uploaded_and_dropped_over_http(stack):
    school = School(stack, "elm-xlsx")
    imp = upload(school, xlsx([HEADER] + ROWS), "pupils.xlsx")
    assert (imp["file_format"], imp["sheet"]) == ("xlsx", "Pupils")
    check_and_commit(school, imp)
    pupils = {p["first_name"]: (p["date_of_birth"], p["year_group"], p["upn"]) for p in school.pupils().values()}
    assert pupils == {"Zoë": ("2015-01-31", "5", ROWS[0][6]), "Seán": ("2014-09-02", "6", ROWS[1][6]),
                      "Ada": ("2015-04-03", "5", None)}
    changed = [list(r) for r in ROWS]
    changed[2][5] = "5C"
    school.nights += 1
    school.s3.put_object(Bucket=school.bucket, Key=f"drop/{school.id}/pupils/night.xlsx", Body=xlsx([HEADER] + changed))
    night = wait(lambda: next((i for i in school.get("/api/imports?limit=5")["items"]
                               if i["filename"] == "night.xlsx" and i["status"] == "done"), None))
    assert (night["result"]["updated"], night["result"]["unchanged"]) == (1, 2), night
    assert school.pupils()["Ada"]["registration_group"] == "5C"


def bundle_upload(school, body, filename="roster.zip"):
    started = school.call("POST", "/api/imports", json={"kind": "bundle", "filename": filename}).json()
    up = started["upload"]
    assert requests.post(up["url"], data=up["fields"], files={"file": (filename, body)}).status_code < 300
    return school.http.wait_import(school.token, started["import_id"], "mapping")


def class_groups(school):
    return {g["external_id"]: g for g in school.get("/api/groups")["items"] if g["kind"] == "class"}


#: the bundle's staff at this test's own addresses (an address is one account, whichever school: the
#: console's test imports the same bundle into another school on the same stack)
USERS = bundle_file("oneroster_1_2", "users.csv").replace("oakfield.sch.uk", "elm-oneroster.sch.uk")


def test_a_oneroster_bundle_uploaded_then_dropped_over_http(stack):
    school = School(stack, "elm-oneroster")
    imp = bundle_upload(school, bundle("oneroster_1_2", replace={"users.csv": USERS}))
    assert imp["bundle"]["flavour"] == "oneroster_1.2" and imp["file_format"] == "zip"
    checked = check_and_commit(school, imp, org="org-oak")
    assert (checked["summary"]["create"], checked["summary"]["classes"]["classes"]) == (8, 2), checked["summary"]
    pupils = {p["external_id"]: (p["first_name"], p["year_group"], p["date_of_birth"]) for p in school.pupils().values()}
    assert pupils == {"stu-1": ("Amara", "3", "2018-03-14"), "stu-2": ("Ben", "3", "2017-11-02"),
                      "stu-3": ("Chloé", "R", "2021-06-30"), "stu-4": ("Dev", "6", "2015-01-09")}
    staff = {s["external_id"]: s for s in school.get("/api/staff?limit=100")["items"] if s.get("external_id")}
    assert {k: s["user_group"] for k, s in staff.items()} == {
        "tch-1": "Teachers", "tch-2": "Teachers", "adm-1": "Admin Team", "aide-1": "TAs"}
    groups = class_groups(school)
    assert (groups["cls-1"]["owner_id"], groups["cls-1"]["co_owner_ids"], groups["cls-1"]["member_count"]) == \
        (staff["tch-1"]["id"], [staff["tch-2"]["id"]], 2)

    # the nightly drop of the same bundle with one class renamed changes just that
    classes = bundle_file("oneroster_1_2", "classes.csv").replace("Reception Robins", "Reception Wrens")
    school.nights += 1
    school.s3.put_object(Bucket=school.bucket, Key=f"drop/{school.id}/bundle/night.zip",
                         Body=bundle("oneroster_1_2", replace={"classes.csv": classes, "users.csv": USERS}))
    night = wait(lambda: next((i for i in school.get("/api/imports?limit=5")["items"]
                               if i["filename"] == "night.zip" and i["status"] in ("done", "held", "failed")), None))
    assert night["status"] == "done", night
    assert night["result"]["unchanged"] == 8 and night["result"]["classes"]["updated"] == 1, night["result"]
    assert night["result"]["classes"]["unchanged"] == 1
    assert class_groups(school)["cls-2"]["name"] == "Reception Wrens (RR)"


def test_an_sds_bundle_with_us_grades_over_http(stack):
    school = School(stack, "elm-sds-bundle")
    imp = bundle_upload(school, bundle("sds_v2_1"), "sds.zip")
    assert imp["bundle"]["flavour"] == "sds_v2.1"
    check_and_commit(school, imp, org="100", grades_as="us_grade")
    pupils = {p["external_id"]: p["year_group"] for p in school.pupils().values()}
    assert (pupils["s-1"], pupils["s-2"]) == ("10", "11")
    assert [g["name"] for g in class_groups(school).values()] == ["9 English (9EN)"]


def test_a_clever_bundle_uploaded_then_dropped_over_http(stack):
    """Clever's SFTP set (schools, students, teachers, staff, sections, enrollments), its staff at this
    test's own addresses; the nightly drop of it with one pupil moved between sections changes just that."""
    own = {f: bundle_file("clever", f).replace("maple-clever.sch.uk", "elm-clever.sch.uk")
           for f in ("teachers.csv", "staff.csv")}
    school = School(stack, "elm-clever")
    imp = bundle_upload(school, bundle("clever", replace=own), "clever.zip")
    assert imp["bundle"]["flavour"] == "clever" and [o["sourcedId"] for o in imp["bundle"]["orgs"]] == [
        "sch-maple", "sch-cedar"]
    checked = check_and_commit(school, imp, org="sch-maple", grades_as="us_grade")
    assert (checked["summary"]["create"], checked["summary"]["errors"]) == (7, 1), checked["summary"]
    pupils = {p["external_id"]: (p["first_name"], p["date_of_birth"], p["year_group"]) for p in school.pupils().values()}
    assert pupils == {"S100": ("Ania", "2017-12-19", "4"), "S101": ("Kwame", "2021-04-02", "1"),
                      "S102": ("Lucía", "2014-09-30", "7")}
    staff = {s["external_id"]: s for s in school.get("/api/staff?limit=100")["items"] if s.get("external_id")}
    assert {k: s["user_group"] for k, s in staff.items()} == {
        "T1": "Teachers", "T2": "Teachers", "F1": "Teachers", "F3": "TAs"}
    groups = class_groups(school)
    assert {k: (g["owner_id"], g["member_count"]) for k, g in groups.items()} == {
        "SEC1": (staff["T1"]["id"], 2), "SEC2": (staff["T2"]["id"], 1), "SEC3": (None, 1)}

    moved = bundle_file("clever", "enrollments.csv").replace("sch-maple,SEC1,S102", "sch-maple,SEC2,S102")
    school.nights += 1
    school.s3.put_object(Bucket=school.bucket, Key=f"drop/{school.id}/bundle/night.zip",
                         Body=bundle("clever", replace={**own, "enrollments.csv": moved}))
    night = wait(lambda: next((i for i in school.get("/api/imports?limit=5")["items"]
                               if i["filename"] == "night.zip" and i["status"] in ("done", "held", "failed")), None))
    assert night["status"] == "done", night
    classes = night["result"]["classes"]
    assert (night["result"]["unchanged"], classes["members_added"], classes["members_removed"]) == (7, 1, 1), night
    assert {k: g["member_count"] for k, g in class_groups(school).items()} == {"SEC1": 1, "SEC2": 2, "SEC3": 1}


def test_a_oneroster_1_1_bundle_over_http(stack):
    """OneRoster 1.1: role and grades on users.csv, sex and birth date in demographics.csv, one school
    (chosen for you); a disabled user left out; imported again, nothing changes."""
    users = bundle_file("oneroster_1_1", "users.csv").replace("elmgrove.sch.uk", "elm-oneroster-11.sch.uk")
    school = School(stack, "elm-oneroster-11")
    imp = bundle_upload(school, bundle("oneroster_1_1", replace={"users.csv": users}), "or11.zip")
    assert imp["bundle"]["flavour"] == "oneroster_1.1" and imp["suggested_mapping"]["org"] == "sch-1", imp
    checked = check_and_commit(school, imp, org="sch-1")
    assert checked["summary"]["skipped"] == {"inactive": 1}, checked["summary"]
    pupils = {p["external_id"]: (p["first_name"], p["date_of_birth"], p["gender"], p["year_group"])
              for p in school.pupils().values()}
    assert pupils == {"p-100": ("Mo", "2016-04-01", "M", "5"), "p-101": ("Nia", "2016-07-22", "F", "5"),
                      "p-102": ("Ola", "2020-01-15", None, "1")}
    staff = [s for s in school.get("/api/staff?limit=100")["items"] if s.get("external_id")]
    assert [(s["external_id"], s["email"], s["user_group"]) for s in staff] == [
        ("t-200", "p.quinn@elm-oneroster-11.sch.uk", "Teachers")]
    again = check_and_commit(school, bundle_upload(school, bundle("oneroster_1_1", replace={"users.csv": users}),
                                                   "or11.zip"), org="sch-1")
    assert (again["summary"]["create"], again["summary"]["update"], again["summary"]["unchanged"]) == (0, 0, 4)
