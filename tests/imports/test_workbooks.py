"""Spreadsheets (issue 18): an .xlsx (and .ods, .xls) is imported like a CSV
from its first visible sheet: dates as dates, whole numbers without ".0",
a formula's saved value; a damaged or hostile workbook is refused clearly."""
import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from tests.imports.conftest import upn, zipped


def xlsx(rows, title="Pupils", before=None):
    """A workbook written by openpyxl: ``before`` a hidden-free first sheet of other rows."""
    book = Workbook()
    sheet = book.active
    if before is not None:
        sheet.title = "Notes"
        for row in before:
            sheet.append(row)
        sheet = book.create_sheet(title)
    else:
        sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = ["First name", "Surname", "Date of birth", "Gender", "Year group", "Registration group", "UPN"]
ROWS = [["Zoë", "Smith", date(2015, 1, 31), "F", 5, "5B", upn(1)],
        ["Seán", "O'Brien", datetime(2014, 9, 2), "M", 6.0, "6A", upn(2)],
        ["Ada", "Lee", "03/04/2015", "F", "Year 5", 5, None]]


def test_an_xlsx_imports_like_a_csv_with_dates_as_dates_and_numbers_as_written(api, importer):
    imp = importer.upload("pupils", xlsx([["Pupil list, exported 01/09/2026"], [], HEADER] + ROWS),
                          filename="pupils.xlsx")
    assert imp["status"] == "mapping", imp
    assert (imp["file_format"], imp["sheet"], imp["sheets"], imp["rows_total"]) == ("xlsx", "Pupils", ["Pupils"], 3)
    columns = {c["name"]: c for c in imp["columns"]}
    assert columns["Date of birth"]["samples"] == ["2015-01-31", "2014-09-02", "03/04/2015"]
    assert columns["Year group"]["samples"] == ["5", "6", "Year 5"] and columns["Registration group"]["samples"][2] == "5"
    assert imp["suggested_mapping"]["UPN"] == "upn"
    done = importer.full("pupils", xlsx([HEADER] + ROWS), filename="pupils.xlsx")
    assert done["result"]["created"] == 3, done
    pupils = {p["first_name"]: p for p in api.all_pages("/api/pupils")}
    assert (pupils["Zoë"]["date_of_birth"], pupils["Seán"]["date_of_birth"], pupils["Ada"]["date_of_birth"]) == \
        ("2015-01-31", "2014-09-02", "2015-04-03")
    assert pupils["Seán"]["year_group"] == "6" and pupils["Ada"]["registration_group"] == "5"


def test_refused_rows_are_named_by_their_sheet_row(api, importer):
    rows = [HEADER, ROWS[0], [], ["Bad", "Date", "31/02/2015", "F", 5, "5B", None]]
    imp = importer.map(importer.upload("pupils", xlsx(rows), filename="p.xlsx"))
    (refused,) = importer.rows(imp)
    assert refused["row"] == 4 and refused["errors"][0]["code"] == "invalid_date"


def test_a_formula_gives_its_saved_value_never_the_formula(api, importer):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["=HYPERLINK(\"http://x\")", "Smith", date(2015, 1, 31), "F", "=2+3", "5B", None])
    out = io.BytesIO()
    book.save(out)  # openpyxl saves no cached values: the cells read blank
    imp = importer.upload("pupils", out.getvalue(), filename="f.xlsx")
    columns = {c["name"]: c for c in imp["columns"]}
    assert "HYPERLINK" not in repr(imp["columns"]) and columns["Year group"]["samples"] == []


def test_the_first_sheet_with_a_header_row_is_read(api, importer):
    imp = importer.upload("pupils", xlsx([HEADER] + ROWS, before=[["Instructions"], ["Fill in the next sheet"]]),
                          filename="p.xlsx")
    assert imp["sheet"] == "Pupils" and imp["sheets"] == ["Notes", "Pupils"] and imp["rows_total"] == 3
    notes_only = importer.upload("pupils", xlsx([["Nothing here"]]), filename="n.xlsx")
    assert notes_only["status"] == "failed" and notes_only["error"]["code"] == "no_data_rows"


def test_the_admin_may_choose_another_sheet_and_it_is_read_from_the_start(api, importer, pump):
    from tests.imports.conftest import drain
    staff_sheet = [["First name", "Surname", "Email"], ["Tess", "Teacher", "tess@oak.sch.uk"]]
    imp = importer.upload("staff", xlsx([HEADER] + ROWS, before=staff_sheet), filename="both.xlsx")
    assert (imp["sheet"], imp["sheets"]) == ("Notes", ["Notes", "Pupils"])  # (the first with a header row)
    r = api.put(f"/api/imports/{imp['id']}/sheet", {"sheet": "Staff list"})
    assert r.status_code == 422 and "Notes, Pupils" in r.data["errors"][0]["message"], r.body
    assert api.put(f"/api/imports/{imp['id']}/sheet", {"sheet": "Pupils", "x": 1}).status_code == 422
    r = api.put(f"/api/imports/{imp['id']}/sheet", {"sheet": "Pupils"})
    assert r.status_code == 200 and r.data["status"] == "sniffing", r.body
    drain(pump)
    again = importer.get(imp["id"])
    assert (again["status"], again["sheet"], again["rows_total"]) == ("mapping", "Pupils", 3), again
    assert "Date of birth" in [c["name"] for c in again["columns"]]
    csv = importer.upload("pupils", "First name,Surname\nA,B\n".encode())
    r = api.put(f"/api/imports/{csv['id']}/sheet", {"sheet": "Pupils"})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "not_a_workbook", r.body


CONTENT_TYPES = "<?xml version='1.0'?><Types xmlns='http://schemas.openxmlformats.org/package/2006/content-types'/>"


@pytest.mark.parametrize("members, words", [
    ({"[Content_Types].xml": CONTENT_TYPES, "../../etc/passwd": "x"}, "outside it"),
    ({"[Content_Types].xml": CONTENT_TYPES, "xl/sharedStrings.xml": "<a>" + "A" * (3 << 20) + "</a>"}, "times its size"),
    ({"[Content_Types].xml": CONTENT_TYPES, **{f"xl/p{i}.xml": "" for i in range(1001)}}, "1,002 files"),
    ({"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.xml": "not xml"}, "could not read"),
], ids=["traversal", "ratio", "members", "damaged"])
def test_a_hostile_or_damaged_workbook_is_refused_saying_why(api, importer, members, words):
    imp = importer.upload("pupils", zipped(members), filename="p.xlsx")
    assert imp["status"] == "failed" and imp["error"]["code"] == "spreadsheet_file", imp
    assert words in imp["error"]["message"] and "CSV UTF-8 or .xlsx" in imp["error"]["message"]


def excel_like(rows, constant_memory=False):
    """A workbook with its text in shared strings, as Excel saves one (written
    by XlsxWriter; ``constant_memory`` writes it inline, row by row, for huge ones)."""
    import xlsxwriter
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": constant_memory})
    sheet = book.add_worksheet("Pupils")
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    book.close()
    return out.getvalue()


def test_a_shared_strings_bomb_is_refused_before_it_is_read(api, importer):
    """One 30,000-character text named by 10,000 cells: 300 MB once read, a
    few hundred KB zipped, and no part over 100:1."""
    long_text = "".join(chr(0x41 + (i * 7919) % 26) for i in range(30_000))
    rows = [["First name", "Surname", "Notes"]] + [["Ann", "Lee", long_text]] * 10_000
    imp = importer.upload("pupils", excel_like(rows), filename="bomb.xlsx")
    assert imp["status"] == "failed" and imp["error"]["code"] == "spreadsheet_file", imp
    assert "repeats its text" in imp["error"]["message"]
    fine = importer.upload("pupils", excel_like([HEADER] + [[str(c) if c else "" for c in r] for r in ROWS]),
                           filename="ok.xlsx")
    assert fine["status"] == "mapping" and fine["rows_total"] == 3  # shared strings, as Excel writes them


def test_a_few_bytes_asking_for_the_whole_grid_are_refused_and_the_worker_lives(api, importer):
    """Cells at A1, B1 and Excel's far corner XFD1048576: the reader would
    build a 16,384 x 1,048,576 grid (512 GiB) and abort its process. It reads
    in a capped child process: that child dies alone, the import fails saying
    why, and the worker goes on (another import straight after)."""
    book = Workbook()
    sheet = book.active
    sheet["A1"], sheet["B1"], sheet["XFD1048576"] = "First name", "Surname", 1
    out = io.BytesIO()
    book.save(out)
    assert len(out.getvalue()) < 10_000
    imp = importer.upload("pupils", out.getvalue(), filename="corner.xlsx")
    assert imp["status"] == "failed" and imp["error"]["code"] == "spreadsheet_file", imp
    assert "more memory or time" in imp["error"]["message"]
    assert importer.upload("pupils", xlsx([HEADER] + ROWS), filename="next.xlsx")["status"] == "mapping"
