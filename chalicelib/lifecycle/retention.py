"""Leavers are kept for the school's ``keep_leavers_years`` (default 6; null
keeps them for ever), then erased: the record, its UPN claim and its
memberships go, the audit keeps a tombstone (id, year group, left date), and
the record's older entries lose its names and birth date (audit.scrub_pending).

The job reads the schools by an index and, per school, only the leavers
whose leaving date is past the school's years (a sparse index by left_on):
exactly what is due, whatever the school's setting is today."""
import time
from datetime import date, datetime, timezone

from ..accounts.models import School
from ..core import audit
from ..roster import pupils
from ..roster.models import Pupil, PupilStatus
from ..roster.settings import keep_leavers_years


def cutoff(today, years):
    """The last leaving date erased on ``today`` (29 February → 28th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return date(today.year - years, 2, 28)


def erase_due(now=None):
    """Erase every leaver past their school's retention: {"erased": n, "skipped": n}."""
    now = now or time.time()
    today = datetime.fromtimestamp(now, timezone.utc).date()
    erased = skipped = 0
    for school in School.all_schools.query("school"):
        years = keep_leavers_years(school)
        if not years:
            continue
        last = cutoff(today, years).isoformat()
        actor = audit.Actor(school.school_id)
        for p in Pupil.by_leaving.query(school.school_id, Pupil.left_on <= last):
            still = (Pupil.status == PupilStatus.LEFT) & (Pupil.left_on == p.left_on)
            if pupils.erase(actor, p, now, pupils.Erasure.RETENTION, condition=still):
                erased += 1
            else:
                skipped += 1  # restored or changed meanwhile
    return {"erased": erased, "skipped": skipped}
