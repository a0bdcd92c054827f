"""Figure: peak RSS of writing the OneRoster 1.2 CSV bundle of a school of
50,000 pupils and 2,000 classes (each pupil in one) next to one of 2,000
pupils and 80 classes. The writer runs in its own process against a moto
server, so only its own memory counts (the zip goes to S3 in 8 MB parts)."""
import os
import subprocess
import sys

GOAL = 1.3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SETUP = r"""
import sys, time
from chalicelib.accounts.models import School
from chalicelib.core.db import batch_put
from chalicelib.membership.models import Group, Membership
from chalicelib.roster.models import Pupil
from devstack.bootstrap import create_resources
pupils, classes, school_id = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
create_resources()
now = int(time.time())
School(school_id=school_id, name="Bench Academy", created_at=now).save()
groups = [Group(school_id=school_id, group_id=f"g{n:05d}", name=f"Class {n}", kind="class", external_id=f"cls-{n}",
                owner_id="nobody", created_at=now) for n in range(classes)]
batch_put(groups)
rows, members = [], []
for n in range(pupils):
    pid = f"p{n:06d}"
    rows.append(Pupil(school_id=school_id, pupil_id=pid, first_name=f"First{n}", surname=f"Surname{n}",
                      date_of_birth="2014-02-03", gender="F", year_group=str(7 + n % 5), sort_name=f"s{n}",
                      first_sort=f"f{n}", year_key=f"{school_id}#{7 + n % 5}", created_at=now, updated_at=now,
                      version=1))
    g = f"g{n % classes:05d}"
    members.append(Membership(group_key=f"{school_id}#{g}", member_id=pid, school_id=school_id, group_id=g,
                              member_key=f"{school_id}#{pid}", kind="pupil", name=f"First{n} Surname{n}",
                              added_by="mis", added_at=now))
    if len(rows) == 2000:
        batch_put(rows); batch_put(members); rows, members = [], []
batch_put(rows); batch_put(members)
"""

WRITER = r"""
import sys
from chalicelib.accounts.models import School
from chalicelib.integrations import or_export
counts = or_export.write(School.get(sys.argv[1]), f"exports/{sys.argv[1]}/bench.zip")
assert counts["users"] == int(sys.argv[2]), counts
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def measure(pupils, classes, env):
    school_id = f"bundle{pupils}"
    subprocess.run([sys.executable, "-c", SETUP, str(pupils), str(classes), school_id], cwd=ROOT, env=env,
                   capture_output=True, text=True, check=True)
    out = subprocess.run([sys.executable, "-c", WRITER, school_id, str(pupils)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024  # KiB -> MiB


def run(quick=False):
    from devstack.__main__ import moto_server
    (small, small_classes), (big, big_classes) = ((200, 8), (2000, 80)) if quick else ((2000, 80), (50_000, 2000))
    with moto_server({"STAGE": "bench", "POWERTOOLS_LOG_LEVEL": "WARNING"}) as env:
        small_mb, big_mb = measure(small, small_classes, env), measure(big, big_classes, env)
    ratio = big_mb / small_mb
    return [
        {"figure": f"OneRoster bundle writer peak RSS, {small} pupils", "value": round(small_mb, 1), "unit": "MiB",
         "goal": None, "passed": None},
        {"figure": f"OneRoster bundle writer peak RSS, {big} pupils, {big_classes} classes", "value": round(big_mb, 1),
         "unit": "MiB", "goal": None, "passed": None},
        {"figure": "bundle writer peak RSS ratio (big / small)", "value": round(ratio, 2), "unit": "x",
         "goal": f"<= {GOAL}", "passed": None if quick else ratio <= GOAL},
    ]
