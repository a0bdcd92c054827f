"""The import's own records (imports/store.py): a status moves by one
conditional update that the object then shows; a commit's step counters
move once. And data kept no longer than needed (issue 14): an import's file
and staging files go when it is over; the import and its refused rows expire
(TTL) after the school's retention period, their audit entries staying."""
import time

from chalicelib.core import config
from chalicelib.core.clients import client as s3
import pytest

from chalicelib.core.db import Tx, TxFailed
from chalicelib.imports import store
from chalicelib.imports.models import Import, ImportRow, Status

CSV = (b"First name,Surname,Date of birth,Year group\n"
       b"Ann,Lee,01/02/2015,5\nBad,Date,31/13/2014,5\n")


def _keys(prefix):
    reply = s3().list_objects_v2(Bucket=config.bucket_name(), Prefix=prefix)
    return [o["Key"] for o in reply.get("Contents", [])]


def test_a_committed_import_leaves_no_file_behind_and_expires(importer, admin, api):
    before = time.time()
    imp = importer.upload("pupils", CSV, "p.csv")
    assert _keys(config.UPLOAD_PREFIX + admin["school_id"])  # the upload is there while it is needed
    imp = importer.map(imp)
    assert _keys(config.STAGING_PREFIX + admin["school_id"])
    done = importer.commit(imp)
    assert done["status"] == "committed" and done["result"]["created"] == 1
    assert _keys(config.UPLOAD_PREFIX + admin["school_id"]) == []
    assert _keys(config.STAGING_PREFIX + admin["school_id"]) == []
    record = Import.get(admin["school_id"], imp["id"])
    assert before + 90 * 86400 - 5 <= record.ttl <= time.time() + 90 * 86400 + 5
    rows = list(ImportRow.query(f"{admin['school_id']}#{imp['id']}"))
    assert rows and all(r.ttl == record.ttl for r in rows)
    # the refused row can still be fixed and written without the file
    (bad,) = importer.rows(done)
    r = api.patch(f"/api/imports/{imp['id']}/rows/{bad['row']}", {"values": {"date_of_birth": "31/12/2014"}})
    assert r.status_code == 200 and r.data["status"] == "written", r.body


def test_an_abandoned_import_is_tidied_when_completed(importer, admin, api):
    imp = importer.map(importer.upload("pupils", CSV, "p.csv"))
    assert api.post(f"/api/imports/{imp['id']}/complete").status_code == 200
    assert _keys(config.UPLOAD_PREFIX + admin["school_id"]) == []
    assert _keys(config.STAGING_PREFIX + admin["school_id"]) == []


def test_the_school_sets_how_long_imports_are_kept(importer, admin, api):
    r = api.patch("/api/settings", {"keep_imports_days": 30})
    assert r.status_code == 200 and r.data["keep_imports_days"] == 30
    assert api.patch("/api/settings", {"keep_imports_days": 1}).status_code == 422
    imp = importer.upload("pupils", CSV, "p.csv")
    record = Import.get(admin["school_id"], imp["id"])
    assert abs(record.ttl - (time.time() + 30 * 86400)) < 60


def an_import(status=Status.MAPPING):
    imp = Import(school_id="sch1", import_id="imp1", kind="pupils", filename="f.csv", s3_key="uploads/sch1/imp1.csv",
                 status=status, created_by="u1", created_at=1, updated_at=1, run=1)
    imp.save()
    return imp


def test_a_transition_moves_only_from_the_statuses_it_expects_and_the_object_shows_it(aws):
    imp = an_import()
    assert store.transition(imp, Status.VALIDATING, expect=(Status.MAPPING, Status.REVIEW), mapping={"A": "upn"})
    assert imp.status == Status.VALIDATING and imp.mapping == {"A": "upn"}  # read back, not copied by hand
    stale = Import.get("sch1", "imp1")
    stale.status = Status.MAPPING  # what a second, late request still believes
    assert not store.transition(stale, Status.VALIDATING, expect=Status.MAPPING, run=2)
    assert Import.get("sch1", "imp1").run == 1  # nothing of the refused move was written
    assert not store.transition(imp, Status.REVIEW, expect=Status.VALIDATING, condition=Import.run == 9)
    assert store.transition(imp, Status.REVIEW, expect=Status.VALIDATING, condition=Import.run == 1)
    assert Import.get("sch1", "imp1").status == "review"


def test_a_step_counter_moves_once_whatever_the_redeliveries(aws):
    imp = an_import(Status.COMMITTING)
    for done in (0, 1):
        tx = Tx()
        store.stage_step(tx, imp, "commit_chunks", done, commit_progress={"created": done + 1})
        tx.commit()
    tx = Tx()
    store.stage_step(tx, imp, "commit_chunks", 1, commit_progress={"created": 99})  # a late repeat of step 2
    with pytest.raises(TxFailed) as failed:
        tx.commit()
    assert failed.value.failed == {"progress"}
    again = Import.get("sch1", "imp1")
    assert again.commit_chunks == 2 and again.commit_progress == {"created": 2}
