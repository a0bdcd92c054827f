"""A sync a school can leave running (issue 17, leavers): a full drop marks
as leavers only the pupils no row of it names; a mistyped cell never makes a
leaver; a pupil added by hand is never one; a leaver named again is
restored; ``status`` is a field, and an unknown field is refused."""
import boto3
import pytest

from chalicelib.core import config
from tests.imports.conftest import ROWS, drain, pupils_csv, upn

PUPILS = list(ROWS) + [("Bea", "Khan", "09/09/2014", "F", "6", "6A", upn(4)),
                       ("Cal", "Moss", "10/10/2014", "M", "6", "6A", "")]


@pytest.fixture
def nightly(api, importer, pump, admin):
    """A school with mark_leavers on and a confirmed mapping: drop(rows)
    puts a full pupil file in the school's drop folder and delivers it."""
    importer.full("pupils", pupils_csv(PUPILS))
    # (a school of five: one leaver is 20%, above the default hold; holds are tried below)
    assert api.patch("/api/settings", {"mark_leavers": True, "leaver_threshold": 50}).status_code == 200
    s3 = boto3.client("s3", region_name=config.region())
    n = iter(range(1, 100))

    def drop(rows):
        s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/pupils/night{next(n)}.csv",
                      Body=pupils_csv(rows))
        drain(pump)
        latest = api.get("/api/imports").data["items"][0]
        assert latest["source"] == "drop" and latest["status"] == "done", latest
        return latest
    return drop


def statuses(api):
    return {p["first_name"]: p["status"] for p in api.all_pages("/api/pupils")}


def group_count(api, name):
    groups = {g["name"]: g["member_count"] for g in api.get("/api/groups").data["items"]}
    return groups.get(name, 0)


def test_one_mistyped_date_never_takes_a_child_out_and_the_next_night_changes_nothing(api, nightly):
    """The reported case: next night one pupil's row has 31/13/2014; the row
    is refused and she stays on roll, in All pupils and her year; the night
    after, the correct file finds her there."""
    before = group_count(api, "All pupils")
    typo = [r if r[0] != "Bea" else ("Bea", "Khan", "31/13/2014", "F", "6", "6A", upn(4)) for r in PUPILS]
    night = nightly(typo)
    assert night["summary"]["errors"] == 1 and night["result"]["left"] == 0
    assert statuses(api)["Bea"] == "active"
    assert group_count(api, "All pupils") == before and group_count(api, "Year 6") == 2
    again = nightly(PUPILS)
    assert again["result"]["left"] == 0 and again["result"]["restored"] == 0
    assert set(statuses(api).values()) == {"active"}


def test_a_refused_row_names_a_pupil_by_upn_pupil_id_or_a_name_only_one_pupil_has(api, nightly):
    rows = [r for r in PUPILS if r[0] not in ("Bea", "Cal", "Adam")]
    rows += [("Bea", "Khan", "not a date", "F", "6", "6A", upn(4)),  # by UPN
             ("Cal", "Moss", "10/10/2014", "M", "Year 99", "6A", ""),  # no UPN: by his name alone
             ("Adam", "Jonas", "2014-03-04", "X", "5", "5A", "")]  # names no one surely: a leaver
    night = nightly(rows)
    assert night["summary"]["errors"] == 3
    assert statuses(api) == {"Zoë": "active", "Siân": "active", "Bea": "active", "Cal": "active",
                             "Adam": "left"}
    assert night["result"]["left"] == 1


def test_a_pupil_added_by_hand_is_never_made_a_leaver_by_a_file(api, nightly):
    made = api.post("/api/pupils", {"first_name": "Dee", "surname": "Hand", "date_of_birth": "2015-05-05",
                                    "year_group": "5"})
    assert made.status_code == 201 and made.data["source"] == "manual"
    night = nightly(PUPILS)
    assert night["result"]["left"] == 0 and night["result"]["kept_manual"] == 1
    assert statuses(api)["Dee"] == "active"
    imported = [p for p in api.all_pages("/api/pupils") if p["first_name"] == "Zoë"][0]
    assert imported["source"] == "import"


def test_a_leaver_named_again_by_a_file_is_restored_to_her_groups(api, nightly):
    nightly([r for r in PUPILS if r[0] != "Bea"])
    assert statuses(api)["Bea"] == "left" and group_count(api, "Year 6") == 1
    left = api.get("/api/pupils?status=left").data["items"]
    assert [p["first_name"] for p in left] == ["Bea"] and left[0]["left_on"]
    back = nightly(PUPILS)
    assert back["result"]["restored"] == 1 and back["summary"]["restore"] == 1
    assert statuses(api)["Bea"] == "active" and group_count(api, "Year 6") == 2
    bea = [p for p in api.all_pages("/api/pupils") if p["first_name"] == "Bea"][0]
    assert bea["left_on"] is None
    assert api.get("/api/pupils?status=left").data["items"] == []


def test_status_is_a_field_a_patch_may_set(api, importer, admin):
    importer.full("pupils", pupils_csv(PUPILS))
    bea = [p for p in api.all_pages("/api/pupils") if p["first_name"] == "Bea"][0]
    year6 = group_count(api, "Year 6")
    r = api.patch(f"/api/pupils/{bea['id']}", {"version": bea["version"], "status": "left",
                                               "left_on": "2026-07-22"})
    assert r.status_code == 200 and r.data["status"] == "left" and r.data["left_on"] == "2026-07-22"
    assert group_count(api, "Year 6") == year6 - 1
    future = api.patch(f"/api/pupils/{bea['id']}", {"version": r.data["version"], "left_on": "2999-01-01"})
    assert future.status_code == 422 and future.data["errors"][0]["code"] == "date_in_future"
    back = api.patch(f"/api/pupils/{bea['id']}", {"version": r.data["version"], "status": "active"})
    assert back.status_code == 200 and back.data["status"] == "active" and back.data["left_on"] is None
    assert group_count(api, "Year 6") == year6
    wrong = api.patch(f"/api/pupils/{bea['id']}", {"version": back.data["version"], "status": "gone"})
    assert wrong.status_code == 422 and wrong.data["errors"][0]["code"] == "invalid_choice"
    entries = api.get(f"/api/audit?record_id={bea['id']}").data["items"]
    assert any(e["changes"].get("status") == ["active", "left"] for e in entries)


@pytest.mark.parametrize("method, path, body", [
    ("patch", "/api/pupils/{id}", {"version": 1, "stauts": "left"}),
    ("patch", "/api/pupils/{id}", {"version": 1, "first_name": "Bea", "nickname": "B"}),
    ("post", "/api/pupils", {"first_name": "A", "surname": "B", "date_of_birth": "2015-01-01",
                             "year_group": "5", "status": "left"}),
    ("post", "/api/groups", {"name": "G", "colour": "red"}),
    ("patch", "/api/settings", {"mark_leaver": True}),
])
def test_an_unknown_field_is_refused_never_silently_dropped(api, admin, method, path, body):
    made = api.post("/api/pupils", {"first_name": "Bea", "surname": "Khan", "date_of_birth": "2014-09-09",
                                    "year_group": "6"}).data
    r = getattr(api, method)(path.format(id=made["id"]), body)
    assert r.status_code == 422 and r.data["code"] == "validation_failed", r.body
    assert [e["code"] for e in r.data["errors"]] == ["unknown_field"]
    assert api.get(f"/api/pupils/{made['id']}").data["version"] == made["version"]  # nothing changed


def staff_csv(rows):
    lines = ["First name,Surname,Email,Job role,User group"] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


STAFF = [("Tess", "Teacher", "tess@example.org", "Class teacher", "Teachers"),
         ("Tom", "Assistant", "tom@example.org", "TA", "TAs")]


def test_staff_missing_from_a_full_staff_drop_are_disabled_and_enabled_when_they_come_back(
        api, importer, pump, admin):
    importer.full("staff", staff_csv(STAFF))
    assert api.patch("/api/settings", {"mark_leavers": True, "leaver_threshold": 50}).status_code == 200
    by_hand = api.post("/api/staff", {"first_name": "Hana", "surname": "Hand", "email": "hana@example.org"})
    assert by_hand.status_code == 201 and by_hand.data["source"] == "manual"
    s3 = boto3.client("s3", region_name=config.region())

    def drop(rows, name):
        s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/staff/{name}.csv",
                      Body=staff_csv(rows))
        drain(pump)
        return api.get("/api/imports").data["items"][0]

    def status_of():
        return {u["first_name"]: (u["status"], u["disabled_by_sync"]) for u in api.all_pages("/api/staff")}

    night = drop(STAFF[:1], "one")
    assert night["status"] == "done" and night["result"]["disabled"] == 1, night
    assert night["result"]["kept_manual"] == 2  # the school's first admin, and Hana, added by hand
    assert status_of()["Tom"] == ("disabled", True)
    assert status_of()["Hana"][0] == "invited" and status_of()["Ada"][0] == "active"
    back = drop(STAFF, "two")
    assert back["result"]["enabled"] == 1 and status_of()["Tom"] == ("invited", False)
    # one a person disabled stays disabled whatever the files say
    tom = [u for u in api.all_pages("/api/staff") if u["first_name"] == "Tom"][0]
    assert api.post(f"/api/staff/{tom['id']}/disable").status_code == 200
    drop(STAFF, "three")
    assert status_of()["Tom"] == ("disabled", False)


# ---------------------------------------------------------------- holds and approvals

def forty_pupils():
    return [(f"P{n:02d}", "Pupil", "01/02/2015", "", "5", "5A", upn(100 + n)) for n in range(40)]


@pytest.fixture
def held(api, importer, pump, admin, mailbox):
    """A school of 40 pupils (mark_leavers on) drops a file of 30: held."""
    importer.full("pupils", pupils_csv(forty_pupils()))
    assert api.patch("/api/settings", {"mark_leavers": True}).status_code == 200
    mailbox()  # (earlier mail read)
    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/pupils/thirty.csv",
                  Body=pupils_csv(forty_pupils()[:30]))
    drain(pump)
    return api.get("/api/imports").data["items"][0]


def test_a_drop_that_would_take_off_a_quarter_of_the_school_is_held_and_writes_nothing(api, held, mailbox):
    assert held["status"] == "held" and held["hold"]["code"] == "too_many_leavers", held
    assert held["summary"]["leave"] == 10 and held["summary"]["on_roll"] == 40
    assert set(statuses(api).values()) == {"active"}  # nothing written
    leave = api.all_pages(f"/api/imports/{held['id']}/changes?kind=leave")
    assert sorted(i["record"]["first_name"] for i in leave) == [f"P{n}" for n in range(30, 40)]
    assert api.get(f"/api/imports/{held['id']}/changes?kind=create").data["items"] == []
    csv = api.get(f"/api/imports/{held['id']}/changes.csv")
    assert csv.status_code == 200 and csv.body.decode("utf-8-sig").count("\r\nleave,") == 10
    mail = [m for m in mailbox() if "waiting for your approval" in (m.subject or "")]
    assert len(mail) == 1 and "10 to mark as leavers" in mail[0].body


def test_approving_a_held_drop_marks_the_ten_and_discarding_writes_nothing(api, held, pump):
    approved = api.post(f"/api/imports/{held['id']}/approve")
    assert approved.status_code == 200 and approved.data["status"] == "committing"
    drain(pump)
    done = api.get(f"/api/imports/{held['id']}").data
    assert done["status"] == "done" and done["result"]["left"] == 10 and done["decided_by"]
    assert list(statuses(api).values()).count("left") == 10
    again = api.post(f"/api/imports/{held['id']}/approve")
    assert again.status_code == 409
    assert any(e["action"] == "approve" for e in api.get("/api/audit?entity=import").data["items"])


def test_discarding_a_held_drop_writes_nothing(api, held, pump):
    gone = api.post(f"/api/imports/{held['id']}/discard")
    assert gone.status_code == 200 and gone.data["status"] == "discarded"
    drain(pump)
    assert set(statuses(api).values()) == {"active"}
    assert api.post(f"/api/imports/{held['id']}/approve").status_code == 409


def test_a_newer_drop_supersedes_a_held_one(api, held, admin, pump):
    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/pupils/all.csv",
                  Body=pupils_csv(forty_pupils()))
    drain(pump)
    older = api.get(f"/api/imports/{held['id']}").data
    assert older["status"] == "discarded" and older["hold"]["code"] == "superseded"
    newest = api.get("/api/imports").data["items"][0]
    assert newest["status"] == "done" and newest["result"]["left"] == 0


def test_a_newer_file_under_the_same_key_is_read_not_deleted_with_the_held_one(api, held, admin, pump):
    """Superseding the held drop tidies only the object it read: the newer
    file, put under the same key, is imported."""
    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/pupils/thirty.csv",
                  Body=pupils_csv(forty_pupils()))
    drain(pump)
    assert api.get(f"/api/imports/{held['id']}").data["status"] == "discarded"
    newest = api.get("/api/imports").data["items"][0]
    assert newest["id"] != held["id"] and newest["status"] == "done", newest
    assert newest["result"]["unchanged"] == 40


def test_review_mode_holds_every_drop_and_thresholds_are_settings(api, importer, pump, admin):
    importer.full("pupils", pupils_csv(PUPILS))
    assert api.patch("/api/settings", {"drop_mode": "review", "leaver_threshold": 0}).status_code == 200
    assert api.patch("/api/settings", {"drop_mode": "sometimes"}).status_code == 422
    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/pupils/n.csv", Body=pupils_csv(PUPILS))
    drain(pump)
    latest = api.get("/api/imports").data["items"][0]
    assert latest["status"] == "held" and latest["hold"]["code"] == "review_mode"


# ---------------------------------------------------------------- reports

def reports_to(mailbox, email):
    return [m for m in mailbox(to=email) if "roster" in (m.subject or "").lower()]


def test_every_drop_is_reported_to_the_admins_as_the_school_chooses(api, nightly, admin, mailbox):
    clean = nightly(PUPILS)
    assert clean["status"] == "done" and reports_to(mailbox, admin["email"]) == []  # problems_only: a clean night is quiet
    typo = [r if r[0] != "Bea" else ("Bea", "Khan", "31/13/2014", "F", "6", "6A", upn(4)) for r in PUPILS]
    nightly(typo)
    (report,) = reports_to(mailbox, admin["email"])
    assert report.subject == "Your nightly roster import" and "Row 5: date of birth: invalid date" in report.body
    assert "31/13/2014" not in report.body and "Khan" not in report.body  # no child's details by email
    assert api.patch("/api/settings", {"sync_report": "always"}).status_code == 200
    nightly(PUPILS)
    assert len(reports_to(mailbox, admin["email"])) == 2
    assert api.patch("/api/settings", {"sync_report": "never"}).status_code == 200
    nightly(typo)
    assert len(reports_to(mailbox, admin["email"])) == 2


def test_a_failed_drop_emails_why(api, importer, pump, admin, mailbox):
    importer.full("pupils", pupils_csv(PUPILS))
    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/pupils/empty.csv",
                  Body=b"First name,Surname\n")
    drain(pump)
    (report,) = reports_to(mailbox, admin["email"])
    assert report.subject == "A roster file could not be imported" and "no rows of data" in report.body


def test_a_pupil_a_person_marked_left_is_not_brought_back_by_a_file(api, nightly):
    bea = [p for p in api.all_pages("/api/pupils") if p["first_name"] == "Bea"][0]
    left = api.patch(f"/api/pupils/{bea['id']}", {"version": bea["version"], "status": "left", "left_on": "2026-11-30"})
    assert left.status_code == 200
    again = api.patch(f"/api/pupils/{bea['id']}", {"version": left.data["version"], "status": "left"})
    assert again.data["left_on"] == "2026-11-30"  # leaving again keeps the day she left
    early = api.patch(f"/api/pupils/{bea['id']}", {"version": again.data["version"], "left_on": "2001-01-01"})
    assert early.status_code == 422 and early.data["errors"][0]["field"] == "left_on"
    night = nightly(PUPILS)
    assert night["result"]["restored"] == 0 and statuses(api)["Bea"] == "left"


def test_the_worker_killed_mid_approve_marks_each_leaver_once(api, held, monkeypatch):
    """The approved commit dies after marking some leavers; the redelivery
    marks the rest: ten in all, each audited once, the counts right."""
    from chalicelib.imports import worker
    from chalicelib.imports.models import Import
    from chalicelib.roster import pupils as pupil_records
    real = pupil_records.mark_left
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("Lambda timed out")
        return real(*args, **kwargs)

    monkeypatch.setattr(pupil_records, "mark_left", dying)
    assert api.post(f"/api/imports/{held['id']}/approve").status_code == 200
    record = Import.get(api.get("/api/me").data["school"]["id"], held["id"])
    step = {"action": "commit", "school_id": record.school_id, "import_id": record.import_id, "run": record.run}
    with pytest.raises(RuntimeError):
        worker.handle_message(step)
    assert list(statuses(api).values()).count("left") == 3
    worker.handle_message(step)
    assert list(statuses(api).values()).count("left") == 10
    assert group_count(api, "All pupils") == 30
    entries = [e for e in api.all_pages("/api/audit?entity=pupil") if (e["changes"].get("status") or [None])[-1] == "left"]
    assert len(entries) == 10
    done = api.get(f"/api/imports/{held['id']}").data
    assert done["status"] == "done" and done["result"]["left"] == 10
