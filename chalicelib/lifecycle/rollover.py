"""The academic-year rollover as a school asks for it: a preview, apply now
or on a day, cancel what is scheduled, undo within UNDO_DAYS, and what the
console lists. The work itself runs on the queue (running.py): a rollover of
50,000 pupils does not fit in a request."""
import time
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from ..accounts.models import School
from ..core import audit
from ..core.clock import iso
from ..core.db import new_id
from ..core.errors import ApiError, FieldError, validation_failed
from ..core.queue import enqueue
from ..membership.bookkeeping import live
from ..membership.models import Group, Membership
from ..roster.models import Pupil, PupilStatus
from . import rules
from .models import DUE, IN_FLIGHT, REOPENED, Rollover, RolloverStatus

#: memberships named one by one in a preview (the count is always whole)
PREVIEW_MEMBERSHIPS = 500


@dataclass(frozen=True)
class RolloverStep:
    """A queue message: run or undo one school's rollover into one year."""
    action: str  # "rollover" | "rollover_undo"
    school_id: str
    academic_year: str

    ACTIONS = ("rollover", "rollover_undo")

    def body(self):
        return {"action": self.action, "school_id": self.school_id, "academic_year": self.academic_year}

    @classmethod
    def parse(cls, message):
        """The step a queue body names, or None."""
        if message.get("action") not in cls.ACTIONS or not isinstance(message.get("school_id"), str) \
                or not isinstance(message.get("academic_year"), str):
            return None
        return cls(message["action"], message["school_id"], message["academic_year"])


def as_json(r):
    return {"academic_year": r.academic_year, "status": r.status, "on": r.on, "final_year": r.final_year,
            "keep_registration_groups": r.keep_registration_groups == "yes", "requested_by": r.requested_by,
            "requested_at": iso(r.requested_at), "applied_at": iso(r.applied_at), "counts": r.counts,
            "undo": r.undo, "undo_until": iso(r.applied_at + rules.UNDO_DAYS * 86400) if r.applied_at else None}


def school_moves(school, today, keep_registration_groups):
    """Every active pupil's Move (a Query of the school's pupils in pages)."""
    moves = []
    for p in Pupil.by_name.query(school.school_id, filter_condition=Pupil.status == PupilStatus.ACTIVE):
        before = {"year_group": p.year_group, "registration_group": p.registration_group,
                  "status": PupilStatus.ACTIVE.value, "left_on": None, "left_by": None}
        moves.append((p, rules.move(p.pupil_id, before, school.final_year, keep_registration_groups, today)))
    return moves


def leavers_memberships(school_id, leaver_ids, now):
    """{pupil id: [their live teacher-group memberships]} (one paged Query of
    the school's memberships, not one per leaver)."""
    out = {}
    if not leaver_ids:
        return out
    for m in Membership.by_school.query(school_id, filter_condition=live(now) & (Membership.kind == "pupil")):
        if m.member_id in leaver_ids:
            out.setdefault(m.member_id, []).append(m)
    return out


def _options(caller, body):
    """(final year, keep registration groups, day or None) from the school and the body."""
    school = caller.school
    if not school.final_year:
        raise validation_failed([FieldError("final_year", "required", "Set the year group pupils leave from "
                                            "(Settings: final year, e.g. 6 or 11) before a rollover.")])
    keep = body.get("keep_registration_groups")
    keep = bool(school.keep_registration_groups) if keep is None else keep
    day = None
    if body.get("on") is not None:
        day = rules.parse_day(body["on"])
        today = rules.today_in(school.timezone, time.time())
        if day is None or day < today:
            raise validation_failed([FieldError("on", "invalid_date", "Give a day from today on, as YYYY-MM-DD.")])
    return school.final_year, keep, day


def preview(caller, body, now=None):
    """What a rollover would do now: moves by year group, leavers by year,
    and the teacher-group memberships of leavers that would end."""
    now = now or time.time()
    final_year, keep, day = _options(caller, body)
    today = day or rules.today_in(caller.school.timezone, now)
    moves = school_moves(caller.school, today, keep)
    leavers = {m.pupil_id: p for p, m in moves if m.leaves}
    ending = leavers_memberships(caller.school_id, set(leavers), now)
    listed = [m for ms in ending.values() for m in ms][:PREVIEW_MEMBERSHIPS]
    names = {g.group_id: g.name for g in Group.batch_get([(caller.school_id, gid)
                                                          for gid in {m.group_id for m in listed}])}
    return {"dry_run": True, "academic_year": rules.academic_year(today), "final_year": final_year,
            "keep_registration_groups": keep, "pupils": len(moves), **rules.preview(m for _, m in moves),
            "leavers": len(leavers), "memberships_ending": sum(len(ms) for ms in ending.values()),
            "memberships": [{"group_id": m.group_id, "group": names.get(m.group_id), "pupil_id": m.member_id,
                             "pupil": m.name} for m in listed]}


def request(caller, body, now=None):
    """Apply now (queued for the worker) or on a day (scheduled). One per
    academic year: a second is 409 already_rolled_over, however many arrive
    at once (a conditional put on the year's key)."""
    now = now or time.time()
    final_year, keep, day = _options(caller, body)
    today = rules.today_in(caller.school.timezone, now)
    scheduled = day is not None and day > today
    r = Rollover(school_id=caller.school_id, academic_year=rules.academic_year(day or today),
                 status=RolloverStatus.SCHEDULED if scheduled else RolloverStatus.QUEUED,
                 on=(day or today).isoformat(), due=DUE, final_year=final_year,
                 keep_registration_groups="yes" if keep else "no", requested_by=caller.user_id,
                 requested_at=int(now), run_id=new_id(), queued_at=None if scheduled else int(now), version=1)
    _refuse_a_second_in_a_year(caller.school_id, day or today, r.academic_year)
    try:
        r.save(condition=Rollover.academic_year.does_not_exist() | Rollover.status.is_in(*REOPENED),
               add_version_condition=False)
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        raise ApiError("already_rolled_over", f"Your school was rolled over into {r.academic_year} already, "
                       "or that rollover is scheduled or running. Undo it (within 14 days) to run it again.")
    audit.write(audit.entry(caller, "schedule" if scheduled else "apply", "rollover", r.academic_year, {},
                            {"on": r.on, "final_year": final_year, "keep_registration_groups": keep}, now))
    if not scheduled:
        enqueue(RolloverStep("rollover", r.school_id, r.academic_year))
    return as_json(r)


#: a rollover this soon after the last applied one is a mistake (the same year under another name)
MIN_DAYS_BETWEEN = 300


def _refuse_a_second_in_a_year(school_id, day, academic_year):
    for other in Rollover.query(school_id, scan_index_forward=False):
        if other.academic_year == academic_year or other.status not in (RolloverStatus.APPLIED, *IN_FLIGHT,
                                                                         RolloverStatus.SCHEDULED):
            continue
        other_day = rules.parse_day(other.on)
        if other_day and abs((day - other_day).days) < MIN_DAYS_BETWEEN:
            raise ApiError("already_rolled_over", f"Your school has a rollover on {other.on} ({other.academic_year}); "
                           f"another within {MIN_DAYS_BETWEEN} days of it would move pupils up twice.")


def listed(caller):
    """The school's rollovers, newest year first (a Query of its few items)."""
    return {"items": [as_json(r) for r in Rollover.query(caller.school_id, scan_index_forward=False)]}


def _latest(school_id, status):
    for r in Rollover.query(school_id, scan_index_forward=False, filter_condition=Rollover.status == status):
        return r
    return None


def cancel(caller, now=None):
    """Call off the scheduled rollover (before its day)."""
    r = _latest(caller.school_id, RolloverStatus.SCHEDULED)
    if r is None or not _move(r, RolloverStatus.SCHEDULED, RolloverStatus.CANCELLED, due=None):
        raise ApiError("not_found", "No rollover is scheduled.")
    audit.write(audit.entry(caller, "cancel", "rollover", r.academic_year, {"status": "scheduled"},
                            {"status": "cancelled"}, now))
    return as_json(r)


def undo(caller, now=None):
    """Put every pupil back as the applied rollover found them (within
    UNDO_DAYS), except those changed since: queued for the worker."""
    now = now or time.time()
    r = _latest(caller.school_id, RolloverStatus.APPLIED)
    if r is None or (r.applied_at or 0) + rules.UNDO_DAYS * 86400 < now:
        raise ApiError("nothing_to_undo", "There is no rollover of the last 14 days to undo.")
    if not _move(r, RolloverStatus.APPLIED, RolloverStatus.UNDOING, due=DUE, queued_at=int(now)):
        raise ApiError("nothing_to_undo", "That rollover is already being undone.")
    audit.write(audit.entry(caller, "undo", "rollover", r.academic_year, {"status": "applied"},
                            {"status": "undoing"}, now))
    enqueue(RolloverStep("rollover_undo", r.school_id, r.academic_year))
    return as_json(r)


def _move(r, expect, to, **values):
    """One conditional update of the rollover's status (read back into ``r``)."""
    actions = [Rollover.status.set(to)] + [getattr(Rollover, k).remove() if v is None else getattr(Rollover, k).set(v)
                                           for k, v in values.items()]
    try:
        r.update(actions=actions, condition=Rollover.status == expect, add_version_condition=False)
    except UpdateError as exc:  # another request or delivery moved it first
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


#: a run queued this long ago and not over: its message was lost (or is in the DLQ): queue it again
REQUEUE_AFTER = 30 * 60


def start_due(now=None):
    """The schedule's part: queue each scheduled rollover whose day has come
    in its school's timezone, and queue again a run or undo whose message was
    lost (each is safe to run twice). Reads only what is scheduled or in
    flight (a sparse index), up to today in the earliest timezone."""
    now = now or time.time()
    horizon = rules.today_in("Pacific/Kiritimati", now).isoformat()
    started = 0
    for r in Rollover.by_due.query(DUE, Rollover.on <= horizon):
        if r.status == RolloverStatus.SCHEDULED:
            started += _start_scheduled(r, now)
        elif r.status in IN_FLIGHT and now - (r.queued_at or 0) > REQUEUE_AFTER:
            if _move(r, r.status, r.status, queued_at=int(now)):
                action = "rollover_undo" if r.status == RolloverStatus.UNDOING else "rollover"
                enqueue(RolloverStep(action, r.school_id, r.academic_year))
                started += 1
    return started


def _start_scheduled(r, now):
    try:
        school = School.get(r.school_id)
    except DoesNotExist:
        return 0
    if rules.today_in(school.timezone, now).isoformat() < r.on:
        return 0
    if not _move(r, RolloverStatus.SCHEDULED, RolloverStatus.QUEUED, queued_at=int(now)):
        return 0
    enqueue(RolloverStep("rollover", r.school_id, r.academic_year))
    return 1


def get(school_id, academic_year):
    try:
        return Rollover.get(school_id, academic_year, consistent_read=True)
    except DoesNotExist:
        return None

