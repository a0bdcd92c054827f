"""The import flow end to end through moto's real S3 -> SQS notification and
the import handler (delivered by the event pump)."""
import json

import boto3
import pytest
import requests
from stdnum.gb.upn import calc_check_digit

from chalicelib.core import config
from chalicelib.roster.models import Pupil
from tests.conftest import link_token
from tests.imports.conftest import drain


def upn(n):
    body = f"94012342{n:03d}1"[:12]
    return calc_check_digit(body) + body


def pupils_csv(rows):
    lines = ["First name,Surname,Date of birth,Gender,Year group,Registration group,UPN"]
    lines += [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


ROWS = [("Zoë", "Smith", "01/02/2015", "F", "Year 5", "5B", upn(1)),
        ("Adam", "Jones", "2014-03-04", "M", "5", "5A", upn(2)),
        ("Siân", "Evans", "3/4/15", "Female", "Y5", "5A", "")]


def roster_writes(calls):
    from tests.conftest import DYNAMO_WRITES, tables_of
    names = {config.table_name(t) for t in ("pupils", "uniques", "users", "logins")}
    return [(op, tables_of(params)) for op, params in calls
            if op in DYNAMO_WRITES and tables_of(params) & names]


def test_template_downloads_and_imports_as_is(api, importer):
    r = api.client.http.get("/api/imports/template?kind=pupils", headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    body = r.body.decode("utf-8-sig")
    assert r.body.startswith(b"\xef\xbb\xbf")
    header, example = body.splitlines()[:2]
    assert header.startswith("First name,Surname")
    imp = importer.full("pupils", body.encode())
    assert imp["status"] == "committed" and imp["result"]["created"] == 1


def test_pupils_flow_and_reimport_changes_nothing(api, importer, aws_calls):
    imp = importer.upload("pupils", pupils_csv(ROWS))
    assert imp["status"] == "mapping" and imp["rows_total"] == 3
    assert [c["name"] for c in imp["columns"]][:2] == ["First name", "Surname"]
    assert imp["columns"][0]["samples"] == ["Zoë", "Adam", "Siân"]
    assert imp["suggested_mapping"]["Date of birth"] == "date_of_birth"
    imp = importer.map(imp)
    assert imp["status"] == "review"
    assert imp["summary"] == {"rows": 3, "valid": 3, "errors": 0, "create": 3, "update": 0, "unchanged": 0}
    assert api.get("/api/pupils").data["items"] == []  # nothing written before commit
    imp = importer.commit(imp)
    assert imp["status"] == "committed"
    assert imp["result"] == {"created": 3, "updated": 0, "unchanged": 0, "refused": 0}
    listed = {p["first_name"]: p for p in api.get("/api/pupils").data["items"]}
    assert listed["Siân"]["date_of_birth"] == "2015-04-03" and listed["Siân"]["gender"] == "F"
    assert listed["Zoë"]["upn"] == upn(1)
    # The same file again: every row unchanged, no roster write at all.
    assert len(roster_writes(aws_calls)) > 0  # the first import did write, and we saw it
    aws_calls.clear()
    again = importer.full("pupils", pupils_csv(ROWS))
    assert again["summary"]["unchanged"] == 3 and again["result"]["created"] == 0
    assert again["result"]["unchanged"] == 3
    assert roster_writes(aws_calls) == []
    assert len(api.get("/api/pupils").data["items"]) == 3


def test_next_years_file_updates_rather_than_duplicates(api, importer):
    importer.full("pupils", pupils_csv(ROWS))
    moved = [(f, s, d, g, "Year 6", "6" + r[-1], u) for f, s, d, g, y, r, u in ROWS]
    imp = importer.full("pupils", pupils_csv(moved))
    assert imp["summary"]["update"] == 3 and imp["result"]["updated"] == 3
    pupils = api.get("/api/pupils").data["items"]
    assert len(pupils) == 3 and {p["year_group"] for p in pupils} == {"6"}
    # Matched by name + date of birth when there is no UPN.
    sian = next(p for p in pupils if p["first_name"] == "Siân")
    assert sian["registration_group"] == "6A" and sian["version"] == 2


def test_row_errors_in_file_duplicates_and_fixes(api, importer):
    rows = ROWS + [("Bad", "Date", "31/02/2015", "", "5", "", ""),
                   ("Copy", "Cat", "01/01/2015", "", "5", "", upn(1)),
                   ("No", "", "01/01/2015", "", "5", "", "")]
    imp = importer.map(importer.upload("pupils", pupils_csv(rows)))
    assert imp["summary"]["valid"] == 3 and imp["summary"]["errors"] == 3
    bad = importer.rows(imp)
    assert [r["row"] for r in bad] == [5, 6, 7]
    assert bad[0]["errors"][0]["code"] == "invalid_date" and bad[0]["values"]["date_of_birth"] == "31/02/2015"
    assert bad[1]["errors"][0]["code"] == "duplicate_upn" and "row 2" in bad[1]["errors"][0]["message"]
    assert bad[1]["values"] == {"first_name": "Copy", "surname": "Cat", "date_of_birth": "01/01/2015", "gender": "",
                                "year_group": "5", "registration_group": "", "upn": upn(1)}  # as written
    assert bad[2]["errors"][0] == {"field": "surname", "code": "required", "message": bad[2]["errors"][0]["message"]}
    # Fix one before commit: it is committed with the rest.
    fixed = api.patch(f"/api/imports/{imp['id']}/rows/5", {"values": {"date_of_birth": "28/02/2015"}})
    assert fixed.status_code == 200 and fixed.data["errors"] == [] and fixed.data["status"] == "fixed"
    still = api.patch(f"/api/imports/{imp['id']}/rows/7", {"values": {"surname": ""}})
    assert still.data["errors"][0]["code"] == "required"
    imp = importer.commit(imp)
    assert imp["result"]["created"] == 4
    # After commit, a row that becomes valid is written at once.
    after = api.patch(f"/api/imports/{imp['id']}/rows/7", {"values": {"surname": "Name"}})
    assert after.data["errors"] == [] and after.data["status"] == "written"
    assert "No Name" in {f"{p['first_name']} {p['surname']}" for p in api.get("/api/pupils").data["items"]}
    assert [r["row"] for r in importer.rows(imp)] == [6]
    assert api.patch(f"/api/imports/{imp['id']}/rows/2", {"values": {}}).status_code == 404
    done = api.post(f"/api/imports/{imp['id']}/complete")
    assert done.data["status"] == "done"


def test_mapping_must_cover_required_fields(api, importer):
    imp = importer.upload("pupils", pupils_csv(ROWS))
    mapping = {k: v for k, v in imp["suggested_mapping"].items() if v != "date_of_birth"}
    r = api.put(f"/api/imports/{imp['id']}/mapping", {"mapping": mapping})
    assert r.status_code == 422 and "date_of_birth" in r.data["message"]
    r = api.put(f"/api/imports/{imp['id']}/mapping", {"mapping": {**imp["suggested_mapping"], "Gender": "surname"}})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "duplicate_field"
    r = api.put(f"/api/imports/{imp['id']}/mapping", {"mapping": {**imp["suggested_mapping"], "Nope": "upn"}})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "unknown_column"


def test_staff_import_invites_and_refuses_in_file_duplicates(api, importer, mailbox):
    csv = ("First name,Surname,Email,Job role,User group\n"
           "Tess,Teacher,tess@example.org,Class teacher,Teachers\n"
           "Tom,Assistant,tom@example.org,TA,TAs\n"
           "Dup,Licate,TESS@example.org,,\n").encode()
    imp = importer.map(importer.upload("staff", csv))
    assert imp["summary"]["valid"] == 2 and imp["summary"]["errors"] == 1
    assert importer.rows(imp)[0]["errors"][0]["code"] == "duplicate_email"
    imp = importer.commit(imp)
    assert imp["result"]["created"] == 2
    staff = {s["email"]: s for s in api.get("/api/staff").data["items"]}
    assert staff["tom@example.org"]["user_group"] == "TAs" and staff["tom@example.org"]["status"] == "invited"
    invite = mailbox(to="tess@example.org")
    assert len(invite) == 1
    ok = api.post("/api/auth/accept-invite", {"token": link_token(invite[0].body), "password": "correct horse battery"}, token="")
    assert ok.status_code == 200
    again = importer.full("staff", csv)
    assert again["result"]["unchanged"] == 2 and len(mailbox(to="tess@example.org")) == 1


def test_not_csv_fails_with_a_reason(importer):
    imp = importer.upload("pupils", b"PK\x03\x04" + bytes(range(256)) * 4, filename="pupils.xlsx")
    assert imp["status"] == "failed" and imp["error"]["code"] == "spreadsheet_file"
    assert "CSV" in imp["error"]["message"]
    imp = importer.upload("pupils", b"First name,Surname\n")
    assert imp["status"] == "failed" and imp["error"]["code"] == "no_data_rows"


def test_another_school_gets_404_on_every_import_route(api, importer, signup):
    imp = importer.map(importer.upload("pupils", pupils_csv(ROWS + [("Bad", "Row", "x", "", "5", "", "")])))
    other = signup(name="Other School")
    base = f"/api/imports/{imp['id']}"
    for method, path, body in [("GET", base, None), ("PUT", base + "/mapping", {"mapping": {}}),
                               ("GET", base + "/rows", None), ("PATCH", base + "/rows/5", {"values": {}}),
                               ("POST", base + "/commit", None), ("POST", base + "/complete", None)]:
        r = api.call(method, path, body, token=other["token"])
        assert r.status_code == 404 and r.data["code"] == "not_found", (method, path)
    assert api.get("/api/imports", token=other["token"]).data["items"] == []


def test_presigned_upload_is_for_one_key_under_the_schools_prefix(api, importer, admin):
    """moto does not enforce POST policies, so check the policy S3 will enforce."""
    import base64
    import datetime
    r = api.post("/api/imports", {"kind": "pupils", "filename": "x.csv"})
    fields = r.data["upload"]["fields"]
    key = f"uploads/{admin['school_id']}/{r.data['import_id']}.csv"
    assert fields["key"] == key
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert {"key": key} in conditions
    assert ["content-length-range", 1, 20 * 1024 * 1024] in conditions
    expires = datetime.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    left = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 0 < left <= 15 * 60
    assert r.data["max_bytes"] == 20 * 1024 * 1024


def test_an_object_under_another_schools_prefix_is_ignored(api, importer, admin, signup, pump):
    r = api.post("/api/imports", {"kind": "pupils", "filename": "x.csv"})
    other = signup(name="Other School")
    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key=f"uploads/{other['school_id']}/{r.data['import_id']}.csv",
                  Body=pupils_csv(ROWS))
    drain(pump)
    assert importer.get(r.data["import_id"])["status"] == "uploading"
    assert api.get("/api/imports", token=other["token"]).data["items"] == []


def test_duplicate_notifications_and_redeliveries_change_nothing(api, importer, pump):
    r = api.post("/api/imports", {"kind": "pupils", "filename": "x.csv"})
    up = r.data["upload"]
    requests.post(up["url"], data=up["fields"], files={"file": ("x.csv", pupils_csv(ROWS))})
    sqs = boto3.client("sqs", region_name=config.region())
    url = sqs.get_queue_url(QueueName=config.queue_name("imports"))["QueueUrl"]
    notification = None
    for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        if "Records" in m["Body"]:
            notification = m["Body"]
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    assert notification
    sqs.send_message(QueueUrl=url, MessageBody=notification)  # S3 sent it twice
    drain(pump)
    imp = importer.get(r.data["import_id"])
    assert imp["status"] == "mapping"
    imp = importer.map(imp)
    commit = api.post(f"/api/imports/{imp['id']}/commit")
    msg = {"action": "commit", "school_id": imp and api.get("/api/me").data["school"]["id"],
           "import_id": imp["id"], "run": 1}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(msg))  # SQS delivered it twice
    sqs.send_message(QueueUrl=url, MessageBody=notification)  # and a late S3 duplicate
    drain(pump)
    assert commit.status_code == 200
    assert importer.get(imp["id"])["result"]["created"] == 3
    assert len(api.get("/api/pupils").data["items"]) == 3


def test_a_commit_that_dies_part_way_resumes_without_duplicates(api, importer, monkeypatch):
    from chalicelib.imports import commit as committing
    from chalicelib.imports import worker
    from chalicelib.imports.models import Import
    rows = [(f"P{i}", f"Surname{i:02d}", "01/02/2015", "", "5", "", upn(i) if i % 2 else "") for i in range(12)]
    imp = importer.map(importer.upload("pupils", pupils_csv(rows)))
    monkeypatch.setattr(committing, "PUPILS_PER_TX", 5)
    real_flush = committing.Committer.flush
    calls = {"n": 0}

    def dying_flush(self):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("Lambda timed out")
        return real_flush(self)

    monkeypatch.setattr(committing.Committer, "flush", dying_flush)
    api.post(f"/api/imports/{imp['id']}/commit")
    record = Import.get(api.get("/api/me").data["school"]["id"], imp["id"])
    with pytest.raises(RuntimeError):
        worker.handle_message({"action": "commit", "school_id": record.school_id,
                                 "import_id": record.import_id, "run": record.run})
    assert Pupil.count(record.school_id) == 5
    worker.handle_message({"action": "commit", "school_id": record.school_id,
                             "import_id": record.import_id, "run": record.run})
    assert Pupil.count(record.school_id) == 12
    assert importer.get(imp["id"])["status"] == "committed"
    assert len({p["upn"] for p in api.get("/api/pupils").data["items"] if p["upn"]}) == 6


def test_a_message_that_keeps_failing_marks_the_import_failed(api, importer, monkeypatch):
    from chalice.app import SQSRecord
    from chalicelib.imports import handlers, worker
    imp = importer.upload("pupils", pupils_csv(ROWS))
    api.put(f"/api/imports/{imp['id']}/mapping", {"mapping": imp["suggested_mapping"]})
    monkeypatch.setattr(worker, "validate_file", lambda imp: 1 / 0)
    school_id = api.get("/api/me").data["school"]["id"]
    body = json.dumps({"action": "validate", "school_id": school_id, "import_id": imp["id"], "run": 1})
    for receives in (1, config.MAX_RECEIVE_COUNT):
        record = SQSRecord({"body": body, "receiptHandle": "r", "messageId": "m",
                            "attributes": {"ApproximateReceiveCount": str(receives)}}, None)
        record.attributes = {"ApproximateReceiveCount": str(receives)}
        with pytest.raises(ZeroDivisionError):
            handlers.handle_record(record)
        status = importer.get(imp["id"])
        if receives == 1:
            assert status["status"] == "validating"
    assert status["status"] == "failed" and status["error"]["code"] == "processing_failed"


def test_s3_drop_imports_without_a_person_and_marks_leavers(api, importer, pump, admin):
    importer.full("pupils", pupils_csv(ROWS))  # confirms a mapping
    api.patch("/api/settings", {"mark_leavers": True})
    s3 = boto3.client("s3", region_name=config.region())
    nightly = pupils_csv(ROWS[:2] + [("New", "Starter", "05/05/2015", "", "5", "5C", ""),
                                     ("Bad", "Row", "not a date", "", "5", "", "")])
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/pupils/nightly.csv", Body=nightly)
    drain(pump)
    imports = api.get("/api/imports").data["items"]
    drop = imports[0]
    assert drop["source"] == "drop" and drop["status"] == "done"
    assert drop["result"] == {"created": 1, "updated": 0, "unchanged": 2, "refused": 0, "left": 1}
    assert drop["summary"]["errors"] == 1
    assert importer.rows(drop)[0]["errors"][0]["code"] == "invalid_date"
    statuses = {p["first_name"]: p["status"] for p in api.get("/api/pupils").data["items"]}
    assert statuses == {"Zoë": "active", "Adam": "active", "Siân": "left", "New": "active"}
    # The drop itself is gone (an import deletes its file when it is over); an
    # object under a prefix that names no kind starts nothing.
    assert "Contents" not in s3.list_objects_v2(Bucket=config.bucket_name(),
                                                Prefix=f"drop/{admin['school_id']}/pupils/")
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/other/x.csv", Body=b"a,b\n1,2\n")
    drain(pump)
    assert len(api.get("/api/imports").data["items"]) == 2


def test_drop_into_unknown_school_or_kind_is_ignored(api, importer, pump, admin):
    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key="drop/nobody/pupils/x.csv", Body=pupils_csv(ROWS))
    drain(pump)
    assert api.get("/api/imports").data["items"] == []


def test_machines_import_fills_machine_groups(api, importer):
    csv = b"Name,Location\nLIB-PC-01,Library\nLIB-PC-02,Library\nLIB-PC-01,Room 4\n"
    imp = importer.map(importer.upload("machines", csv))
    assert imp["summary"]["valid"] == 2 and importer.rows(imp)[0]["errors"][0]["code"] == "duplicate_name"
    assert importer.commit(imp)["result"]["created"] == 2
    machines = api.get("/api/machines").data["items"]
    assert [m["name"] for m in machines] == ["LIB-PC-01", "LIB-PC-02"]
    group = api.post("/api/groups", {"name": "Library PCs", "member_type": "machine"}).data
    r = api.post(f"/api/groups/{group['id']}/members", {"member_ids": [m["id"] for m in machines]})
    assert r.status_code == 200 and r.data["added"] == 2
    moved = importer.full("machines", b"Name,Location\nLIB-PC-01,Room 4\nLIB-PC-02,Library\n")
    assert moved["result"] == {"created": 0, "updated": 1, "unchanged": 1, "refused": 0}
    assert api.get("/api/machines").data["items"][0]["location"] == "Room 4"


def test_a_rename_by_import_reaches_the_groups_too(api, admin, importer):
    pupil = api.post("/api/pupils", {"first_name": "Cat", "surname": "Smith", "date_of_birth": "01/02/2015",
                                     "year_group": "6"}).data
    group = api.post("/api/groups", {"name": "Choir"}).data
    api.post(f"/api/groups/{group['id']}/members", {"member_ids": [pupil["id"]]})
    body = ("Pupil ID,First name,Surname,Date of birth,Year group\n"
            f"{pupil['id']},Catrin,Smith,01/02/2015,6\n").encode()
    imp = importer.full("pupils", body)
    assert imp["result"]["updated"] == 1, imp
    assert [m["name"] for m in api.get(f"/api/groups/{group['id']}/members").data["items"]] == ["Catrin Smith"]


def test_only_a_settings_holder_sets_the_mapping_a_drop_reads(api, importer, pump, admin, member):
    """A drop acts with the school's rights, so the mapping it reads is a
    school setting: an SLT's matching of a column to ``user_group`` applies to
    the SLT's own import (where the ceiling checks each row) and never to the
    nightly file."""
    header = "First name,Surname,Email,Notes\n"
    admin_mapping = {"First name": "first_name", "Surname": "surname", "Email": "email"}
    importer.full("staff", (header + "Ann,Admin,ann@example.org,\n").encode(), mapping=admin_mapping)
    entries = api.get("/api/audit?entity=settings").data["items"]
    assert [e["changes"] for e in entries] == [{"import_mapping.staff": [None, admin_mapping]}]

    slt = member(admin, user_group="SLTs")
    imp = importer.upload("staff", (header + "Sly,Deputy,sly@example.org,Admin Team\n").encode(), token=slt["token"])
    importer.map(imp, dict(admin_mapping, Notes="user_group"), token=slt["token"])
    assert len(api.get("/api/audit?entity=settings").data["items"]) == 1

    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/staff/nightly.csv",
                  Body=(header + "Mal,Lory,mal@example.org,Admin Team\n").encode())
    drain(pump)
    staff = {s["email"]: s for s in api.get("/api/staff").data["items"]}
    assert staff["mal@example.org"]["user_group"] == "Teachers"
