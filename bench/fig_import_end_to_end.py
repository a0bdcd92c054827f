"""Figure: a pupil import end to end (upload -> mapping -> review -> commit)
on in-process moto, next to a baseline that reads the same CSV with
csv.DictReader and writes the same items (each pupil and the claim on its
UPN) with boto3's batch_writer.

Both sides run on moto's in-process DynamoDB with `devstack.moto_patches`
applied (moto's whole-table copy per transaction swapped for an undo log, as
in the tests and the local stack); each measurement gets a fresh `mock_aws()`.

Goals: import rows/s >= 0.7x the baseline's at every size, and import rows/s
at the largest size >= 0.9x rows/s at the smallest (cost grows linearly).
"""
import csv
import io
import time

from bench.harness import drain

SIZES = (2_000, 20_000, 50_000)
QUICK_SIZES = (200,)
RATIO_GOAL = 0.7
SCALING_GOAL = 0.9
PATCH_NOTE = "moto tx copy patched"


def _environment():
    from bench.harness import environment
    environment()  # fake creds, eu-west-2, STAGE (default bench), moto_patches.apply()


# ------------------------------------------------------------------ the import


def _wait_status(client, pump, import_id, wanted, seconds=1800):
    deadline = time.time() + seconds
    while True:
        drain(pump)
        imp = client.call("GET", f"/api/imports/{import_id}").data
        if imp["status"] in wanted:
            return imp
        if imp["status"] == "failed" or time.time() > deadline:
            raise RuntimeError(f"import {import_id} is {imp['status']}, wanted {wanted}: {imp}")
        time.sleep(0.01)


def import_seconds(data, rows):
    """Seconds from POST /api/imports to status committed, in a fresh moto."""
    import requests

    from bench.harness import signed_in_app
    with signed_in_app() as (client, pump):
        started = time.perf_counter()
        r = client.call("POST", "/api/imports", {"kind": "pupils", "filename": "pupils.csv"})
        assert r.status_code == 201, r.body
        import_id, up = r.data["import_id"], r.data["upload"]
        posted = requests.post(up["url"], data=up["fields"], files={"file": ("pupils.csv", data)})
        assert posted.status_code in (200, 201, 204), posted.text
        imp = _wait_status(client, pump, import_id, {"mapping"})
        r = client.call("PUT", f"/api/imports/{import_id}/mapping", {"mapping": imp["suggested_mapping"]})
        assert r.status_code == 200, r.body
        imp = _wait_status(client, pump, import_id, {"review"})
        assert imp["summary"]["valid"] == rows, imp["summary"]
        r = client.call("POST", f"/api/imports/{import_id}/commit")
        assert r.status_code == 200, r.body
        imp = _wait_status(client, pump, import_id, {"committed"})
        elapsed = time.perf_counter() - started
        assert imp["result"]["created"] == rows, imp["result"]
        return elapsed


# ---------------------------------------------------------------- the baseline

def _iso(ddmmyyyy):
    d, m, y = ddmmyyyy.split("/")
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"


def _year(text):
    text = text.strip()
    return text[5:].strip() if text.lower().startswith("year ") else text


def baseline_seconds(data, rows):
    """Seconds for csv.DictReader + boto3's batch_writer writing the same
    items the import writes for a new pupil (the pupil, and the claim on its
    UPN), in a fresh moto with the same tables."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        from devstack.bootstrap import create_resources
        create_resources()
        from chalicelib.core import config
        from chalicelib.core.db import new_id
        from chalicelib.imports.committing import pupil_record
        from chalicelib.roster.models import Pupil, UniqueKey
        from chalicelib.roster.pupils import upn_key
        from boto3.dynamodb.types import TypeDeserializer
        plain = TypeDeserializer().deserialize
        dynamodb = boto3.resource("dynamodb", region_name=config.region())
        school_id = new_id()

        started = time.perf_counter()
        now = time.time()
        reader = csv.DictReader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))
        written = 0
        with dynamodb.Table(Pupil.Meta.table_name).batch_writer() as pupils, \
                dynamodb.Table(UniqueKey.Meta.table_name).batch_writer() as claims:
            for rec in reader:
                row = {"id": new_id(), "values": {
                    "first_name": rec["First name"], "surname": rec["Surname"],
                    "date_of_birth": _iso(rec["Date of birth"]), "gender": rec["Gender"],
                    "year_group": _year(rec["Year group"]), "registration_group": rec["Registration group"],
                    "upn": rec["UPN"]}}
                item = pupil_record(school_id, row, now).serialize()
                pupils.put_item(Item={k: plain(v) for k, v in item.items()})
                if rec["UPN"]:
                    claims.put_item(Item={"school_id": school_id, "key": upn_key(rec["UPN"]), "owner_id": row["id"]})
                written += 1
        elapsed = time.perf_counter() - started
        assert written == rows, (written, rows)
        return elapsed
# ---------------------------------------------------------------------- figure

def run(quick=False):
    _environment()
    from tests.data.make_corpus import big_pupils_csv
    sizes = QUICK_SIZES if quick else SIZES
    out, rates = [], {}
    for rows in sizes:
        data = big_pupils_csv(rows)
        imp_rate = rows / import_seconds(data, rows)
        base_rate = rows / baseline_seconds(data, rows)
        rates[rows] = imp_rate
        ratio = imp_rate / base_rate
        out += [
            {"figure": f"import e2e rows/s ({rows} rows, {PATCH_NOTE})", "value": round(imp_rate, 1),
             "unit": "rows/s", "goal": None, "passed": None},
            {"figure": f"DictReader+batch_writer rows/s ({rows} rows, pupil + UPN claim items)", "value": round(base_rate, 1),
             "unit": "rows/s", "goal": None, "passed": None},
            {"figure": f"import / baseline ({rows} rows)", "value": round(ratio, 3), "unit": "x",
             "goal": f">= {RATIO_GOAL}", "passed": ratio >= RATIO_GOAL},
        ]
    small, large = min(sizes), max(sizes)
    if quick or small == large:
        out.append({"figure": "import rows/s scaling (skipped in quick)", "value": 1.0, "unit": "x",
                    "goal": f">= {SCALING_GOAL}", "passed": None})
    else:
        scaling = rates[large] / rates[small]
        out.append({"figure": f"import rows/s {large} / {small} rows", "value": round(scaling, 3), "unit": "x",
                    "goal": f">= {SCALING_GOAL}", "passed": scaling >= SCALING_GOAL})
    return out


if __name__ == "__main__":
    for r in run(quick=True):
        print(r)
