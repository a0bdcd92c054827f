"""One queue message, one step (imports/worker.py): S3 notifications of
uploads and drops, repeats and redeliveries, a message that keeps failing,
and the drop's own state machine."""
import json

import boto3
import pytest
import requests

from chalicelib.core import config
from tests.imports.conftest import ROWS, drain, pupils_csv


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
    api.patch("/api/settings", {"mark_leavers": True, "leaver_threshold": 50})  # (1 of 3: held at the default 10%)
    s3 = boto3.client("s3", region_name=config.region())
    nightly = pupils_csv(ROWS[:2] + [("New", "Starter", "05/05/2015", "", "5", "5C", ""),
                                     ("Bad", "Row", "not a date", "", "5", "", "")])
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/pupils/nightly.csv", Body=nightly)
    drain(pump)
    imports = api.get("/api/imports").data["items"]
    drop = imports[0]
    assert drop["source"] == "drop" and drop["status"] == "done"
    assert drop["result"] == {"created": 1, "updated": 0, "unchanged": 2, "refused": 0, "restored": 0,
                              "left": 1, "kept_manual": 0}
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


def test_a_message_that_is_not_ours_is_ignored_not_retried(aws):
    from chalicelib.imports import worker
    for body in ([1, 2], "text", {"action": "explode", "school_id": "s", "import_id": "i", "run": 1}, {}):
        assert worker.handle_message(body) == ["ignored"]
        worker.fail_from_message(body, RuntimeError())  # names no import: nothing to fail
