"""Issue 18: rows/s of validating a 50,000-row .xlsx (read by python-calamine
into the same row checker) next to the same rows as a CSV. Goal: at least
0.5x as fast. Measured on the workbook as Excel lays it out (text in the
shared-strings part; written here with XlsxWriter) and as openpyxl writes it
(every string inline in the sheet, 1.5x the XML to parse)."""
import csv
import io
import time

from bench.fig_validation import validate_rows

GOAL = 0.5


def as_xlsx(data):
    """The CSV's rows in a workbook written by openpyxl (write-only): strings inline."""
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Pupils")
    for row in csv.reader(io.StringIO(data.decode("utf-8"))):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_excel_lays_it_out(data):
    """The CSV's rows with their text in the shared-strings part, as Excel saves a workbook."""
    import xlsxwriter
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Pupils")
    for r, row in enumerate(csv.reader(io.StringIO(data.decode("utf-8")))):
        sheet.write_row(r, 0, row)
    book.close()
    return out.getvalue()


def validate_xlsx(data):
    from chalicelib.core.db import new_id
    from chalicelib.imports import columns, workbook
    from chalicelib.imports.kinds import KINDS
    from chalicelib.imports.matching import ExistingIndex
    from chalicelib.imports.rows import RowChecker
    sheet = workbook.read_sheet(io.BytesIO(data), workbook.Format.XLSX)
    checker = RowChecker(KINDS["pupils"].rules, columns.suggest("pupils", sheet.header), sheet.header,
                         ExistingIndex(KINDS["pupils"].rules), new_id)
    return sum(result.ok for result in checker.check_all(sheet.records))


def run(quick=False):
    from bench.harness import environment
    environment()
    from tests.data.make_corpus import big_pupils_csv
    rows = 2000 if quick else 50_000
    data = big_pupils_csv(rows)
    books = {"shared strings": as_excel_lays_it_out(data), "inline strings": as_xlsx(data)}
    timings = {"csv": [], **{name: [] for name in books}}
    for _ in range(1 if quick else 3):  # interleaved, best of three
        t = time.perf_counter()
        assert validate_rows(data) == rows
        timings["csv"].append(time.perf_counter() - t)
        for name, book in books.items():
            t = time.perf_counter()
            assert validate_xlsx(book) == rows
            timings[name].append(time.perf_counter() - t)
    csv_rate = rows / min(timings["csv"])
    out = []
    for name in books:
        rate = rows / min(timings[name])
        ratio = rate / csv_rate
        out += [{"figure": f"xlsx validation rows/s, {name} ({rows} rows)", "value": round(rate), "unit": "rows/s",
                 "goal": None, "passed": None},
                {"figure": f"xlsx / csv validation, {name}", "value": round(ratio, 3), "unit": "x",
                 "goal": f">= {GOAL}" if name == "shared strings" else None,
                 "passed": ratio >= GOAL if name == "shared strings" else None}]
    return out
