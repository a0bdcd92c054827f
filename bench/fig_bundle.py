"""Issue 18: a OneRoster 1.2 bundle imported end to end (upload -> school
chosen -> review -> commit, its classes made into groups) next to the plain
CSV import of the same pupils. Goals: the bundle's users a second at least
0.7x the CSV's rows a second; the memory the bundle's reading holds (users,
roles, demographics and enrollments joined, measured with tracemalloc) at
50,000 users at most 1.5x that at 2,000.

The bundle: every pupil of tests/data/make_corpus.big_pupils_csv as a user
with a role (its grade) and demographics, one teacher per 40 pupils, classes
of 25 and four enrollments a pupil (200,000 at 50,000 users)."""
import csv
import io
import time
import tracemalloc
import zipfile

from bench.fig_import_end_to_end import _wait_status, import_seconds

SIZES = (2_000, 50_000)
QUICK_SIZES = (200,)
RATIO_GOAL = 0.7
MEMORY_GOAL = 1.5
CLASSES_A_PUPIL, CLASS_SIZE, PUPILS_A_TEACHER = 4, 25, 40


def _csv(header, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def big_bundle(data):
    """The pupils of a CSV in our template's columns as a OneRoster 1.2 zip."""
    pupils = list(csv.reader(io.StringIO(data.decode("utf-8"))))[1:]
    teachers = max(1, len(pupils) // PUPILS_A_TEACHER)
    users, roles, born = [], [], []
    for i, (first, surname, dob, sex, year, _reg, upn) in enumerate(pupils):
        users.append([f"s{i}", "active", "true", "", first, surname, upn, ""])
        roles.append([f"s{i}", "student", "org-1", "primary", f"{int(year.split()[-1]):02d}"])
        d, m, y = dob.split("/")
        born.append([f"s{i}", "active", f"{y}-{m}-{d}", "male" if sex == "M" else "female"])
    for t in range(teachers):
        users.append([f"t{t}", "active", "true", "", "Teacher", f"Number{t}", "", f"t{t}@bench.sch.uk"])
        roles.append([f"t{t}", "teacher", "org-1", "primary", ""])
    classes = len(pupils) * CLASSES_A_PUPIL // CLASS_SIZE or 1
    enrollments = [[f"c{c}", f"t{c % teachers}", "teacher", "true"] for c in range(classes)]
    enrollments += [[f"c{(i * CLASSES_A_PUPIL + k) % classes}", f"s{i}", "student", "false"]
                    for i in range(len(pupils)) for k in range(CLASSES_A_PUPIL)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("manifest.csv", _csv(["propertyName", "value"], [["oneroster.version", "1.2"]]))
        book.writestr("orgs.csv", _csv(["sourcedId", "status", "name", "type"], [["org-1", "active", "Bench", "school"]]))
        book.writestr("users.csv", _csv(["sourcedId", "status", "enabledUser", "username", "givenName", "familyName",
                                         "identifier", "email"], users))
        book.writestr("roles.csv", _csv(["userSourcedId", "role", "orgSourcedId", "roleType", "grade"], roles))
        book.writestr("demographics.csv", _csv(["sourcedId", "status", "birthDate", "sex"], born))
        book.writestr("classes.csv", _csv(["sourcedId", "status", "title", "schoolSourcedId"],
                                          [[f"c{c}", "active", f"Class {c}", "org-1"] for c in range(classes)]))
        book.writestr("enrollments.csv", _csv(["classSourcedId", "userSourcedId", "role", "primary"], enrollments))
    return out.getvalue(), len(users), len(enrollments)


def bundle_seconds(zipped, users):
    """Seconds from POST /api/imports to committed, in a fresh moto."""
    import requests

    from bench.harness import signed_in_app
    with signed_in_app() as (client, pump):
        started = time.perf_counter()
        r = client.call("POST", "/api/imports", {"kind": "bundle", "filename": "roster.zip"})
        import_id, up = r.data["import_id"], r.data["upload"]
        posted = requests.post(up["url"], data=up["fields"], files={"file": ("roster.zip", zipped)})
        assert posted.status_code in (200, 201, 204), posted.text
        _wait_status(client, pump, import_id, {"mapping"})
        r = client.call("PUT", f"/api/imports/{import_id}/mapping", {"org": "org-1"})
        assert r.status_code == 200, r.body
        imp = _wait_status(client, pump, import_id, {"review"})
        assert imp["summary"]["valid"] == users, imp["summary"]
        assert client.call("POST", f"/api/imports/{import_id}/commit").status_code == 200
        imp = _wait_status(client, pump, import_id, {"committed"})
        elapsed = time.perf_counter() - started
        assert imp["result"]["created"] == users and imp["result"]["classes"]["created"] > 0, imp["result"]
        return elapsed


def reading_peak(zipped):
    """Peak bytes tracemalloc sees while the bundle's people and classes are read."""
    from chalicelib.imports import bundle
    tracemalloc.start()
    try:
        book = bundle.open_bundle(io.BytesIO(zipped))
        info = bundle.inspect(book)
        bundle.people(book, info, "org-1", on_person=lambda kind, values: None)
        for _cls in bundle.classes(book, info, "org-1"):  # (one class held at a time)
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _counted(measure, *args):
    """(what ``measure`` returns, the DynamoDB items it wrote)."""
    from bench.harness import Calls
    calls = Calls()
    try:
        return measure(*args), calls.items
    finally:
        calls.close()


def run(quick=False):
    from bench.harness import environment
    environment()
    from tests.data.make_corpus import big_pupils_csv
    out, peaks = [], {}
    for size in QUICK_SIZES if quick else SIZES:
        data = big_pupils_csv(size)
        zipped, users, enrollments = big_bundle(data)
        csv_seconds, csv_items = _counted(import_seconds, data, size)
        seconds, items = _counted(bundle_seconds, zipped, users)
        csv_rate, bundle_rate = size / csv_seconds, users / seconds
        peaks[size] = reading_peak(zipped)
        ratio = bundle_rate / csv_rate
        item_ratio = (items / seconds) / (csv_items / csv_seconds)
        out += [{"figure": f"bundle import users/s ({users} users, {enrollments} enrollments)",
                 "value": round(bundle_rate), "unit": "rows/s", "goal": None, "passed": None},
                {"figure": f"bundle / csv import rows/s ({size} pupils)", "value": round(ratio, 3), "unit": "x",
                 "goal": f">= {RATIO_GOAL}", "passed": ratio >= RATIO_GOAL},
                {"figure": f"DynamoDB items written: bundle / csv ({size} pupils)", "value": round(items / csv_items, 2),
                 "unit": "x", "goal": None, "passed": None},
                {"figure": f"bundle / csv DynamoDB items written a second ({size} pupils)", "value": round(item_ratio, 2),
                 "unit": "x", "goal": None, "passed": None},
                {"figure": f"bundle reading peak memory ({users} users)", "value": round(peaks[size] / 1048576, 1),
                 "unit": "MiB", "goal": None, "passed": None}]
    if not quick:
        growth = peaks[SIZES[-1]] / peaks[SIZES[0]]
        out.append({"figure": f"bundle reading memory {SIZES[-1]} / {SIZES[0]} users", "value": round(growth, 2),
                    "unit": "x", "goal": f"<= {MEMORY_GOAL}", "passed": growth <= MEMORY_GOAL})
    return out
