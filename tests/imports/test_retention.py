"""Data kept no longer than needed (issue 14): an import's file and staging
files go when it is over; the import and its refused rows expire (TTL) after
the school's retention period, their audit entries staying."""
import time

from chalicelib.core import config
from chalicelib.core.clients import client as s3
from chalicelib.imports.models import Import, ImportRow

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
