"""The import wizard in real Chromium against the real local stack: upload to
the moto server, match columns, fix a refused row, import, check via the API."""
import re
import time

import pytest
import requests

from tests.e2e.test_console import browser, page  # noqa: F401
from tests.e2e.helpers import api_import, school_token

pytestmark = pytest.mark.e2e

PUPILS_CSV = (
    "First name,Surname,Date of birth,Year group,UPN\n"
    "Ada,Lovelace,10/12/2015,Year 4,\n"
    "Alan,Turing,23/06/2015,Year 4,\n"
    "Grace,Hopper,31/02/2015,Year 4,\n"
)
STAFF_CSV = (
    "First name,Surname,Email,User group\n"
    "Tess,Teacher,tess@oak.sch.uk,Teachers\n"
    "Ian,Assistant,ian@oak.sch.uk,\n"
)


def _school(stack, email):
    return school_token(stack, email)


def _upload(page, kind_label, name, csv):
    page.get_by_label(kind_label, exact=True).check()
    page.get_by_label("CSV file").set_input_files({"name": name, "mimeType": "text/csv", "buffer": csv.encode()})
    page.get_by_text("Chosen: " + name).wait_for()
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("button", name="Check rows").wait_for(timeout=30000)


def _on_import_screen(stack, page, email):
    """A new school's admin signed in, on the Import screen: (base url, auth header)."""
    base = f"http://127.0.0.1:{stack.port}"
    token = _school(stack, email)
    page.goto(base + "/")
    page.evaluate("t => sessionStorage.setItem('token', t)", token)
    page.goto(base + "/#/import")
    page.get_by_role("heading", name="Import").wait_for()
    return base, {"Authorization": f"Bearer {token}"}


def test_import_pupils_and_staff_with_a_fix(stack, page):  # noqa: F811
    base, auth = _on_import_screen(stack, page, "head@oak.sch.uk")
    page.get_by_role("link", name=re.compile("CSV template")).wait_for()
    page.shot("choose")

    # ---- pupils
    _upload(page, "Pupils", "pupils.csv", PUPILS_CSV)
    for column, field in [("First name", "first_name"), ("Date of birth", "date_of_birth"), ("UPN", "upn")]:
        assert page.get_by_label("Field for column " + column).input_value() == field
    assert page.get_by_text("All required fields are matched.").is_visible()
    assert "Date of birth (required)" in page.get_by_label("Field for column Date of birth").inner_text()
    assert "date_of_birth" not in page.locator("main").inner_text()
    page.shot("pupils-mapping")
    page.get_by_role("button", name="Check rows").click()
    page.get_by_text("with problems.").wait_for(timeout=30000)
    assert "2 ready to import" in page.locator(".summary").inner_text()
    page.locator("tr.has-error").first.wait_for()
    assert page.locator("tr.has-error").count() == 1
    # in the template's words, not the field names
    assert "Date of birth" in page.locator("table.error-rows thead").inner_text()
    assert "date_of_birth" not in page.locator("table.error-rows").inner_text()
    dob = page.get_by_label(re.compile(r"^Row \d+ Date of birth$"))
    assert dob.input_value() == "31/02/2015"
    assert not page.get_by_role("button", name="Complete").is_visible()  # nothing imported yet
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the rows with problems (CSV)").click()
    with open(download.value.path(), encoding="utf-8-sig") as fh:
        assert "31/02/2015" in fh.read()
    page.shot("pupils-review")
    dob.fill("28/02/2015")
    page.locator("tr.has-error").get_by_role("button", name="Save").click()
    page.get_by_text("Fixed", exact=True).wait_for()
    assert page.locator("tr.has-error").count() == 0
    page.shot("pupils-fixed")
    page.get_by_role("button", name="Import Data").click()
    page.get_by_text(re.compile("3 imported")).wait_for(timeout=30000)
    assert "3 new" in page.locator(".result").inner_text() and "0 not imported" in page.locator(".result").inner_text()
    assert page.get_by_role("button", name="Complete").is_visible()
    page.shot("pupils-imported")
    assert "{" not in page.locator("main").inner_text() and "null" not in page.locator("main").inner_text()
    pupils = requests.get(f"{base}/api/pupils", headers=auth).json()["items"]
    assert sorted(p["first_name"] for p in pupils) == ["Ada", "Alan", "Grace"]

    # ---- staff, after starting over
    page.goto(base + "/#/import")
    page.get_by_role("heading", name="Import").wait_for()
    _upload(page, "Staff", "staff.csv", STAFF_CSV)
    assert page.get_by_label("Field for column Email").input_value() == "email"
    page.shot("staff-mapping")
    page.get_by_role("button", name="Check rows").click()
    page.get_by_text("0 rows with problems.").wait_for(timeout=30000)
    page.get_by_text("No rows have problems.").wait_for()
    page.shot("staff-review")
    page.get_by_role("button", name="Import Data").click()
    page.get_by_text(re.compile("2 imported")).wait_for(timeout=30000)
    page.shot("staff-imported")
    staff = requests.get(f"{base}/api/staff", headers=auth).json()["items"]
    assert sorted(s["email"] for s in staff) == ["head@oak.sch.uk", "ian@oak.sch.uk", "tess@oak.sch.uk"]


def test_a_held_drop_shows_what_it_would_do_and_is_approved_in_the_console(stack, page):  # noqa: F811
    """A school of 40 drops a file of 30: held; the Import screen lists the
    10 it would mark as leavers; Approve marks them."""
    import boto3
    base = f"http://127.0.0.1:{stack.port}"
    token = _school(stack, "head@hazel-held.sch.uk")
    auth = {"Authorization": f"Bearer {token}"}
    rows = [f"P{n:02d},Pupil,01/02/2015,Year 5" for n in range(40)]
    api_import(base, auth, "First name,Surname,Date of birth,Year group\n" + "\n".join(rows) + "\n")
    assert requests.patch(f"{base}/api/settings", json={"mark_leavers": True}, headers=auth).ok
    school_id = requests.get(f"{base}/api/me", headers=auth).json()["school"]["id"]
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="eu-west-2",
                      aws_access_key_id="local", aws_secret_access_key="local")
    bucket = stack.env.get("DROP_BUCKET") or f"schoolroll-{stack.env['STAGE']}-drop"
    s3.put_object(Bucket=bucket, Key=f"drop/{school_id}/pupils/night.csv",
                  Body=("First name,Surname,Date of birth,Year group\n" + "\n".join(rows[:30]) + "\n").encode())
    for _ in range(150):
        held = requests.get(f"{base}/api/imports?limit=1", headers=auth).json()["items"][0]
        if held["source"] == "drop" and held["status"] == "held":
            break
        time.sleep(0.2)
    assert held["status"] == "held", held
    page.goto(base + "/")
    page.evaluate("t => sessionStorage.setItem('token', t)", token)
    # the admin's home says the night's file is held, with the way to it
    page.goto(base + "/#/home")
    sync = page.locator("p", has_text="The last file from your MIS")
    sync.wait_for()
    assert "night.csv" in sync.inner_text() and "held for a person to approve" in sync.inner_text()
    sync.get_by_role("link", name="Review it").click()
    page.get_by_text("This file is waiting for you").wait_for(timeout=20000)
    leavers = page.get_by_role("list", name="would be marked as leavers")
    leavers.get_by_text("P39 Pupil").wait_for()
    assert leavers.locator("li").count() == 10
    page.shot("held-drop")
    page.get_by_role("button", name="Approve and import").click()
    page.get_by_text("This import is complete.").wait_for(timeout=30000)
    pupils = requests.get(f"{base}/api/pupils?status=left&limit=100", headers=auth).json()["items"]
    assert len(pupils) == 10


def test_a_month_first_date_column_is_asked_about_before_any_row_is_read(stack, page):  # noqa: F811
    """School Data Sync's UK sample writes birth dates month first: the
    mapping step asks how to read them, and checks nothing until answered."""
    from tests.imports.conftest import data
    base, auth = _on_import_screen(stack, page, "head@rowan-dates.sch.uk")
    _upload(page, "Pupils", "Student.csv", data("pupils_sds_month_first.csv").decode())
    question = page.get_by_role("group", name="How should we read the dates in Birthdate?")
    question.wait_for()
    assert "12/19/2013" in question.inner_text()
    page.get_by_role("button", name="Check rows").click()
    page.get_by_text("Choose how to read the dates in Birthdate.").wait_for()
    page.shot("date-order-question")
    question.get_by_label(re.compile("Month first")).check()
    page.get_by_role("button", name="Check rows").click()
    page.get_by_text("with problems.").wait_for(timeout=30000)
    assert "7 ready to import" in page.locator(".summary").inner_text()
    page.get_by_role("button", name="Import Data").click()
    page.get_by_text(re.compile("7 imported")).wait_for(timeout=30000)
    pupils = {p["first_name"]: p["date_of_birth"] for p in requests.get(f"{base}/api/pupils", headers=auth).json()["items"]}
    assert pupils["Arjun"] == "2013-12-19" and pupils["Farah"] == "2014-04-02"


def test_a_roster_bundle_asks_for_its_school_and_shows_its_classes(stack, page):  # noqa: F811
    from tests.imports.conftest import bundle
    base, auth = _on_import_screen(stack, page, "head@rowan-bundle.sch.uk")
    page.get_by_label("Roster bundle (OneRoster or School Data Sync .zip)", exact=True).check()
    assert page.get_by_role("link", name=re.compile("CSV template")).is_hidden()
    page.get_by_label("CSV file").set_input_files({"name": "oneroster.zip", "mimeType": "application/zip",
                                                   "buffer": bundle("oneroster_1_2")})
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("button", name="Check rows").wait_for(timeout=30000)
    assert "OneRoster 1.2 bundle" in page.locator("main").inner_text()
    page.get_by_role("button", name="Check rows").click()
    page.get_by_text("Choose the school to import.").wait_for()
    page.get_by_label(re.compile("Oakfield Primary")).check()
    page.shot("bundle-choice")
    page.get_by_role("button", name="Check rows").click()
    classes = page.locator("table.bundle-classes")
    classes.wait_for(timeout=30000)
    assert "3 Maths (3MA, period 2)" in classes.inner_text() and "Reception Robins (RR)" in classes.inner_text()
    assert "Staff: 4 new" in page.locator(".bundle-parts").inner_text()
    page.shot("bundle-review")
    page.get_by_role("button", name="Import Data").click()
    page.get_by_text(re.compile("Classes: 2 made")).wait_for(timeout=30000)
    groups = requests.get(f"{base}/api/groups", headers=auth).json()["items"]
    assert sorted(g["name"] for g in groups if g["kind"] == "class") == ["3 Maths (3MA, period 2)",
                                                                         "Reception Robins (RR)"]


def test_another_sheet_of_a_workbook_is_chosen_on_the_mapping_step(stack, page):  # noqa: F811
    from tests.imports.test_workbooks import HEADER, ROWS, xlsx
    _on_import_screen(stack, page, "head@rowan-sheets.sch.uk")
    book = xlsx([HEADER] + ROWS, before=[["Name", "Notes"], ["a", "b"]])
    page.get_by_label("Pupils", exact=True).check()
    page.get_by_label("CSV file").set_input_files({"name": "both.xlsx", "buffer": book,
                                                   "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    page.get_by_role("button", name="Upload").click()
    page.get_by_label("Sheet:").wait_for(timeout=30000)
    assert page.get_by_label("Sheet:").input_value() == "Notes"
    page.get_by_label("Sheet:").select_option("Pupils")
    page.get_by_label("Field for column Date of birth").wait_for(timeout=30000)
    assert page.get_by_label("Sheet:").input_value() == "Pupils"
    assert page.get_by_label("Field for column Date of birth").input_value() == "date_of_birth"
