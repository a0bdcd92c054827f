"""Reading and checking files (imports/validating.py): every awkward file of
tests/data through the whole flow (presigned POST, moto's S3 -> SQS
notification, the import handler, mapping, commit), and files that are not
CSV failing with what to do."""
import pytest

from tests.data.make_corpus import big_pupils_csv
from tests.imports.conftest import data, drain


GOOD_PUPIL_FILES = ["pupils_template.csv", "pupils_bom.csv", "pupils_cp1252.csv", "pupils_semicolon.csv",
                    "pupils_quoted_newlines.csv", "pupils_trailing.csv", "pupils_ddmmyy.csv",
                    "pupils_formulas.csv", "pupils_title_line.csv", "pupils_utf16.csv"]


@pytest.mark.parametrize("name", GOOD_PUPIL_FILES)
def test_awkward_but_valid_pupil_files_import_whole(api, importer, name):
    imp = importer.upload("pupils", data(name), filename=name)
    assert imp["status"] == "mapping", imp["error"]
    assert set(imp["suggested_mapping"].values()) >= {"first_name", "surname", "date_of_birth", "year_group"}
    imp = importer.map(imp)
    summary = imp["summary"]
    assert summary["errors"] == 0, importer.rows(imp)
    assert summary["rows"] == summary["valid"] == summary["create"] == imp["rows_total"] >= 2
    imp = importer.commit(imp)
    assert imp["result"]["created"] == summary["rows"]
    assert len(api.all_pages("/api/pupils")) == summary["rows"]
    again = importer.full("pupils", data(name), filename=name)
    assert again["summary"]["unchanged"] == summary["rows"] and again["result"]["created"] == 0


def test_windows_1252_names_arrive_intact(api, importer):
    importer.full("pupils", data("pupils_cp1252.csv"))
    names = {p["first_name"] for p in api.all_pages("/api/pupils")}
    assert {"Zoë", "Siân", "Dáithí"} <= names


def test_formula_looking_cells_are_stored_as_text(api, importer):
    importer.full("pupils", data("pupils_formulas.csv"))
    pupils = api.all_pages("/api/pupils")
    assert "=1+2" in {p["first_name"] for p in pupils}
    assert "@SUM(A1)" in {p["surname"] for p in pupils}
    assert {"+44 7700", "-5"} <= {p["registration_group"] for p in pupils}


def test_title_line_and_quoted_newlines_keep_file_line_numbers(api, importer):
    imp = importer.upload("pupils", data("pupils_title_line.csv"))
    assert [c["name"] for c in imp["columns"]][0] == "First name"
    broken = data("pupils_quoted_newlines.csv").replace(b"Amelia,Jones,19/02/2016", b"Amelia,Jones,19/22/2016")
    imp = importer.map(importer.upload("pupils", broken))
    (row,) = importer.rows(imp)
    assert row["row"] == 4 and row["errors"][0]["code"] == "invalid_date"


def test_two_digit_years_are_day_first(api, importer):
    importer.full("pupils", data("pupils_ddmmyy.csv"))
    dobs = {p["date_of_birth"] for p in api.all_pages("/api/pupils")}
    assert all(d.startswith("20") for d in dobs)


def test_error_file_keeps_good_rows_and_reports_each_bad_one(api, importer):
    imp = importer.map(importer.upload("pupils", data("pupils_errors.csv")))
    assert imp["summary"]["valid"] == 3 and imp["summary"]["errors"] == 5
    rows = {r["row"]: r["errors"][0]["code"] for r in importer.rows(imp)}
    assert rows == {4: "invalid_date", 5: "upn_check_letter", 6: "invalid_year_group", 7: "duplicate_upn",
                    8: "required"}
    imp = importer.commit(imp)
    assert imp["result"]["created"] == 3 and len(api.all_pages("/api/pupils")) == 3


@pytest.mark.parametrize("name, code", [
    ("not_csv_empty.csv", "empty_file"), ("not_csv_header_only.csv", "no_data_rows"),
    ("not_csv_xlsx.csv", "spreadsheet_file"), ("not_csv_binary.csv", "binary_file"),
    ("not_csv_html.csv", "not_csv")])
def test_files_that_are_not_csv_fail_with_what_to_do(importer, name, code):
    body = data(name)
    if not body:
        body = b""  # S3 accepts an empty object; the presigned policy needs 1 byte, so post via S3 directly
        import boto3

        from chalicelib.core import config
        r = importer.api.post("/api/imports", {"kind": "pupils", "filename": name})
        key = r.data["upload"]["fields"]["key"]
        boto3.client("s3", region_name=config.region()).put_object(Bucket=config.bucket_name(), Key=key, Body=b"")
        drain(importer.pump)
        imp = importer.get(r.data["import_id"])
    else:
        imp = importer.upload("pupils", body, filename=name)
    assert imp["status"] == "failed"
    assert imp["error"]["code"] == code and len(imp["error"]["message"]) > 20


@pytest.mark.parametrize("name", ["staff_template.csv", "staff_mis.csv"])
def test_staff_files(api, importer, name):
    imp = importer.map(importer.upload("staff", data(name)))
    assert imp["summary"]["valid"] >= 2
    if name == "staff_mis.csv":
        assert [(r["row"], r["errors"][0]["code"]) for r in importer.rows(imp)] == [(5, "duplicate_email")]
    imp = importer.commit(imp)
    assert imp["result"]["created"] == imp["summary"]["valid"]


@pytest.mark.heavy  # over 3 minutes on moto: under make hardening (the bench imports 50,000 rows too)
def test_fifty_thousand_rows(api, importer):
    body = big_pupils_csv(50000)
    imp = importer.upload("pupils", body, filename="big.csv")
    assert imp["rows_total"] == 50000
    imp = importer.map(imp)
    assert imp["summary"]["valid"] == 50000 and imp["summary"]["create"] == 50000
    imp = importer.commit(imp)
    assert imp["result"]["created"] == 50000 and imp["rows_processed"] == 50000
    from chalicelib.roster.models import Pupil
    assert Pupil.count(api.get("/api/me").data["school"]["id"]) == 50000


def test_not_csv_fails_with_a_reason(importer):
    imp = importer.upload("pupils", b"PK\x03\x04" + bytes(range(256)) * 4, filename="pupils.xlsx")
    assert imp["status"] == "failed" and imp["error"]["code"] == "spreadsheet_file"
    assert "CSV" in imp["error"]["message"]
    imp = importer.upload("pupils", b"First name,Surname\n")
    assert imp["status"] == "failed" and imp["error"]["code"] == "no_data_rows"


def test_a_file_swapped_after_it_was_read_is_never_checked_in_its_place(api, importer):
    """Every read is pinned to the ETag the S3 event named: a second upload
    to the same presigned key after the first was read fails the import
    (file_changed) instead of checking another file under the same columns."""
    import boto3
    from chalicelib.core import config
    from chalicelib.imports.models import Import
    imp = importer.upload("pupils", data("pupils_template.csv"))
    assert imp["status"] == "mapping"
    record = Import.get(api.get("/api/me").data["school"]["id"], imp["id"])
    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key=record.s3_key,
                  Body=b"First name,Surname,Date of birth,Year group\nEve,Swap,01/01/2015,5\n")
    mapped = importer.map(imp)
    assert mapped["status"] == "failed" and mapped["error"]["code"] == "file_changed", mapped
    assert api.get("/api/pupils").data["items"] == []
