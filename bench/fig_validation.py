"""Figure 1: rows/s of the import's sniff + map + validate on a realistic
pupil file, next to csv.reader merely reading the same bytes."""
import csv
import io
import time

GOAL = 0.15


def validate_rows(data):
    from chalicelib.core.db import new_id
    from chalicelib.imports import columns, lines, sniff
    from chalicelib.imports.kinds import KINDS
    from chalicelib.imports.matching import ExistingIndex
    from chalicelib.imports.rows import RowChecker
    dialect = sniff.sniff(data[:sniff.SAMPLE_BYTES], complete=len(data) <= sniff.SAMPLE_BYTES)
    header, records = sniff.read_header_and_records(lines.open_text(io.BytesIO(data), dialect.encoding), dialect)
    checker = RowChecker(KINDS["pupils"].rules, columns.suggest("pupils", header), header,
                         ExistingIndex(KINDS["pupils"].rules), new_id)
    return sum(result.ok for result in checker.check_all(records))


def raw_rows(data):
    return sum(1 for _ in csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")))


def run(quick=False):
    from bench.harness import environment
    environment()
    from tests.data.make_corpus import big_pupils_csv
    rows = 2000 if quick else 200_000
    data = big_pupils_csv(rows)
    timings = {"validate": [], "raw": []}
    for _ in range(1 if quick else 3):  # interleaved, best of three
        t = time.perf_counter()
        valid = validate_rows(data)
        timings["validate"].append(time.perf_counter() - t)
        t = time.perf_counter()
        read = raw_rows(data)
        timings["raw"].append(time.perf_counter() - t)
    assert valid == rows and read == rows + 1
    validate_rate = rows / min(timings["validate"])
    raw_rate = rows / min(timings["raw"])
    ratio = validate_rate / raw_rate
    return [
        {"figure": f"validation rows/s ({rows} rows)", "value": round(validate_rate), "unit": "rows/s",
         "goal": None, "passed": None},
        {"figure": "csv.reader rows/s (same bytes)", "value": round(raw_rate), "unit": "rows/s",
         "goal": None, "passed": None},
        {"figure": "validation / csv.reader", "value": round(ratio, 3), "unit": "x", "goal": f">= {GOAL}",
         "passed": ratio >= GOAL},
    ]
