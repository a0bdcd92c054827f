"""Figure: peak RSS of computing a held drop's diff (what approving it would
do: the first page of each kind of change, then every change as the CSV
rows, streamed) at 50,000 rows next to 2,000. The school holds as many
pupils as the file names (updates and leavers are read from the roster, 100
at a time). The handler runs in its own process against a moto server, as
in fig_memory."""
import os
import subprocess
import sys

GOAL = 1.3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SETUP = r"""
import json, sys, time
import boto3
from chalicelib.core import config
from chalicelib.core.db import batch_put
from chalicelib.imports import storage
from chalicelib.imports.models import Import
from chalicelib.roster.pupils import new_pupil
from devstack.bootstrap import create_resources
rows, import_id = int(sys.argv[1]), sys.argv[2]
school = f"bench-{import_id}"
create_resources()
now = time.time()
pupils = [new_pupil(school, {"first_name": f"P{n}", "surname": "Held", "date_of_birth": "2015-01-01",
                             "year_group": "5", "registration_group": "5A"}, now, pupil_id=f"p{n:06d}")
          for n in range(rows)]
for p in pupils:
    p.version = 1
batch_put(pupils)
lines = []
for n, p in enumerate(pupils):
    if n % 10 == 0:  # a tenth would leave: the drop is held
        lines.append({"action": "leave", "id": p.pupil_id})
    else:
        lines.append({"action": "update", "id": p.pupil_id, "row": n + 2, "version": 1,
                      "values": {"registration_group": "5B"}})
body = "".join(json.dumps(line) + "\n" for line in lines).encode()
boto3.client("s3", region_name=config.region()).put_object(
    Bucket=config.bucket_name(), Key=storage.staging_key(school, import_id, 1), Body=body)
Import(school_id=school, import_id=import_id, kind="pupils", filename="night.csv", s3_key="drop/x.csv",
       status="held", run=1, created_by="bench", created_at=int(now), updated_at=int(now)).save()
"""

HANDLER = r"""
import sys
from chalicelib.imports import changes
from chalicelib.imports.models import Import
import_id = sys.argv[1]
imp = Import.get(f"bench-{import_id}", import_id)
for kind in changes.CHANGES:
    changes.page(imp, kind, 0, 50)
header, rows = changes.csv_rows(imp)
count = sum(1 for _ in rows)
assert count == int(sys.argv[2]), count
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def measure(rows, env):
    import_id = f"held{rows}"
    subprocess.run([sys.executable, "-c", SETUP, str(rows), import_id], cwd=ROOT, env=env,
                   capture_output=True, text=True, check=True)
    out = subprocess.run([sys.executable, "-c", HANDLER, import_id, str(rows)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024  # KiB -> MiB


def run(quick=False):
    from devstack.__main__ import moto_server
    small, big = (200, 2000) if quick else (2000, 50_000)
    with moto_server({"STAGE": "bench", "POWERTOOLS_LOG_LEVEL": "WARNING"}) as env:
        small_mb, big_mb = measure(small, env), measure(big, env)
    ratio = big_mb / small_mb
    return [
        {"figure": f"held drop's diff peak RSS, {small} rows", "value": round(small_mb, 1), "unit": "MiB",
         "goal": None, "passed": None},
        {"figure": f"held drop's diff peak RSS, {big} rows", "value": round(big_mb, 1), "unit": "MiB",
         "goal": None, "passed": None},
        {"figure": "held diff peak RSS ratio (big / small)", "value": round(ratio, 2), "unit": "x",
         "goal": f"<= {GOAL}", "passed": None if quick else ratio <= GOAL},
    ]
