"""The import's HTTP use cases (imports/service.py): the template, matching
columns, fixing rows, who may remember a matching, and what another school
sees. Driven through the API, with moto's S3 -> SQS notification and the
worker delivered by the event pump."""
import json

import boto3

from chalicelib.core import config
from tests.imports.conftest import ROWS, drain, pupils_csv, upn


def test_template_downloads_and_imports_as_is(api, importer):
    r = api.client.http.get("/api/imports/template?kind=pupils", headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    body = r.body.decode("utf-8-sig")
    assert r.body.startswith(b"\xef\xbb\xbf")
    header, example = body.splitlines()[:2]
    assert header.startswith("First name,Surname")
    imp = importer.full("pupils", body.encode())
    assert imp["status"] == "committed" and imp["result"]["created"] == 1


def test_mapping_must_cover_required_fields(api, importer):
    imp = importer.upload("pupils", pupils_csv(ROWS))
    mapping = {k: v for k, v in imp["suggested_mapping"].items() if v != "date_of_birth"}
    r = api.put(f"/api/imports/{imp['id']}/mapping", {"mapping": mapping})
    assert r.status_code == 422 and "date_of_birth" in r.data["message"]
    r = api.put(f"/api/imports/{imp['id']}/mapping", {"mapping": {**imp["suggested_mapping"], "Gender": "surname"}})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "duplicate_field"
    r = api.put(f"/api/imports/{imp['id']}/mapping", {"mapping": {**imp["suggested_mapping"], "Nope": "upn"}})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "unknown_column"


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
