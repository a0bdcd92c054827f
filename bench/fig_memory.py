"""Figure 3: peak RSS of the import handler (sniff + map + validate, the part
that reads the whole file) at 200,000 rows next to 2,000 rows. The handler
runs in its own process against a moto server, so the file S3 holds is not
counted in the handler's memory."""
import os
import subprocess
import sys

GOAL = 1.3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HANDLER = r"""
import sys, time
from chalicelib.imports import store, validating
from chalicelib.imports.models import Import
imp = Import.get("bench-school", sys.argv[1])
assert validating.sniff_file(imp), imp.error
imp.mapping, imp.run = imp.suggested_mapping, 1
store.update_import(imp, status="validating", mapping=imp.mapping, run=1)
assert validating.validate_file(imp)
# VmHWM: this process image's own peak (ru_maxrss would carry the parent's
# peak at fork over the exec: a bench run that imported 50,000 rows earlier)
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


SETUP = r"""
import sys, time
import boto3
from chalicelib.core import config
from chalicelib.imports.models import Import
from devstack.bootstrap import create_resources
from tests.data.make_corpus import big_pupils_csv
rows, import_id = int(sys.argv[1]), sys.argv[2]
create_resources()
key = f"uploads/bench-school/{import_id}.csv"
boto3.client("s3", region_name=config.region()).put_object(Bucket=config.bucket_name(), Key=key,
                                                          Body=big_pupils_csv(rows))
Import(school_id="bench-school", import_id=import_id, kind="pupils", filename="p.csv", s3_key=key,
       status="sniffing", created_by="bench", created_at=int(time.time()), updated_at=int(time.time())).save()
"""


def measure(rows, env):
    """Set up in one process, measure the handler in another: only the
    handler's own memory counts, and this process's AWS clients are untouched."""
    import_id = f"mem{rows}"
    subprocess.run([sys.executable, "-c", SETUP, str(rows), import_id], cwd=ROOT, env=env,
                   capture_output=True, text=True, check=True)
    out = subprocess.run([sys.executable, "-c", HANDLER, import_id], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024  # KiB -> MiB


def run(quick=False):
    from devstack.__main__ import moto_server
    small, big = (200, 2000) if quick else (2000, 200_000)
    with moto_server({"STAGE": "bench", "POWERTOOLS_LOG_LEVEL": "WARNING"}) as env:
        small_mb, big_mb = measure(small, env), measure(big, env)
    ratio = big_mb / small_mb
    return [
        {"figure": f"import handler peak RSS, {small} rows", "value": round(small_mb, 1), "unit": "MiB",
         "goal": None, "passed": None},
        {"figure": f"import handler peak RSS, {big} rows", "value": round(big_mb, 1), "unit": "MiB",
         "goal": None, "passed": None},
        {"figure": "peak RSS ratio (big / small)", "value": round(ratio, 2), "unit": "x", "goal": f"<= {GOAL}",
         "passed": None if quick else ratio <= GOAL},
    ]
