"""Running a rollover on the queue, and undoing one.

Each pupil moves in a transaction of up to BATCH pupils, each with its
RolloverPupil (put on condition it does not exist) and the system groups'
merged count changes: a redelivery, or a second run at once, finds every
pupil it already moved recorded and moves nobody twice. A pupil edited
between the read and the write fails their batch; the batch is then done one
pupil at a time from a fresh read. 2,000 pupils cost about 60 calls."""
import time
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, UpdateError

from ..accounts.models import School
from ..core import audit
from ..core.db import Tx, TxFailed, batch_get
from ..core.log import logger
from ..membership import rules as group_rules
from ..membership import system as system_groups
from ..membership.bookkeeping import full_name, group_key
from ..membership.models import EXPIRING, Group, Membership
from ..roster import pupils
from ..roster.models import Pupil, PupilStatus
from . import rules
from .models import KEEP_RECORDS_DAYS, RolloverPupil, RolloverStatus, rollover_key
from .rollover import _move, get, leavers_memberships, school_moves

BATCH = 45  # 2 items a pupil + the counts' updates: within DynamoDB's 100 a transaction
MEMBERSHIP_BATCH = 100


def handle(step, now=None):
    """A RolloverStep from the queue."""
    if step.action == "rollover":
        return run(step.school_id, step.academic_year, now)
    return undo_run(step.school_id, step.academic_year, now)


@dataclass
class Plan:
    """What one run of a rollover works from."""
    key: str
    school_id: str
    final_year: str
    keep_registration_groups: bool
    today: object  # the rollover's day: leavers' left_on
    ending: dict  # {leaver id: [memberships]}
    now: float

    def move(self, p):
        before = {"year_group": p.year_group, "registration_group": p.registration_group,
                  "status": PupilStatus.ACTIVE.value, "left_on": None, "left_by": None}
        return rules.move(p.pupil_id, before, self.final_year, self.keep_registration_groups, self.today)


def run(school_id, academic_year, now=None):
    now = now or time.time()
    r = get(school_id, academic_year)
    if r is None or r.status not in (RolloverStatus.QUEUED, RolloverStatus.RUNNING):
        return "nothing to do"
    if r.status == RolloverStatus.QUEUED and not _move(r, RolloverStatus.QUEUED, RolloverStatus.RUNNING):
        r = get(school_id, academic_year)  # another delivery started it: carry on beside it (each pupil once)
    school = School.get(school_id)
    school.final_year = r.final_year  # as it was asked for
    key = rollover_key(r)
    plan = Plan(key, school_id, r.final_year, r.keep_registration_groups == "yes",
                rules.parse_day(r.on) or rules.today_in(school.timezone, now), {}, now)
    done = {rec.pupil_id for rec in RolloverPupil.query(key, attributes_to_get=["pupil_id"])}
    moves = [(p, m) for p, m in school_moves(school, plan.today, plan.keep_registration_groups)
             if p.pupil_id not in done]
    plan.ending = leavers_memberships(school_id, {m.pupil_id for _, m in moves if m.leaves}, now)
    not_moved = []
    for batch in batches(moves):
        not_moved += _write_batch(plan, batch)
    records = list(RolloverPupil.query(key, attributes_to_get=["pupil_id", "memberships"]))
    _end_memberships([(school_id, rec.pupil_id, m["group_id"]) for rec in records for m in rec.memberships or []],
                     int(r.requested_at))
    counts = {**_counts(records), "not_moved": sorted(not_moved)}
    if _move(r, RolloverStatus.RUNNING, RolloverStatus.APPLIED, applied_at=int(now), counts=counts, due=None):
        audit.write(audit.entry(audit.Actor(school_id), "update", "rollover", academic_year,
                                {"status": "running"}, {"status": "applied", **counts,
                                                        "not_moved": len(not_moved)}, now))
    logger.info("rollover applied", extra={"counts": counts})
    return "applied"


def _counts(records):
    """From the rollover's own records (whichever delivery wrote them)."""
    left = [rec for rec in records if rec.memberships is not None]
    return {"moved": len(records) - len(left), "left": len(left),
            "memberships_ended": sum(len(rec.memberships) for rec in left)}


def _stage(tx, plan, p, move):
    pupils.apply(p, move.after, plan.now)
    tx.put(f"pupil:{p.pupil_id}", p)  # on the version read
    memberships = [_membership_json(m) for m in plan.ending.get(p.pupil_id, [])] if move.leaves else None
    rec = RolloverPupil(rollover_key=plan.key, pupil_id=p.pupil_id, before=move.before,
                        version_after=(p.version or 0) + 1, memberships=memberships,
                        ttl=int(plan.now) + KEEP_RECORDS_DAYS * 86400)
    tx.put(f"record:{p.pupil_id}", rec, condition=RolloverPupil.pupil_id.does_not_exist())


def batches(moves):
    """Up to BATCH pupils a transaction, and no more system groups than one
    update of the SYSTEM item holds (a transaction may touch an item once)."""
    batch, deltas = [], {}
    for p, move in moves:
        merged = group_rules.merge(deltas, group_rules.pupil_deltas(move.before, move.after))
        if batch and (len(batch) == BATCH or len(merged) > system_groups.CHUNK):
            yield batch
            batch, merged = [], group_rules.pupil_deltas(move.before, move.after)
        batch.append((p, move))
        deltas = merged
    if batch:
        yield batch


def _write_batch(plan, batch):
    """The ids of pupils left as they were (each tried alone, three times)."""
    tx = Tx()
    for p, move in batch:
        _stage(tx, plan, p, move)
    deltas = group_rules.merge(*(group_rules.pupil_deltas(m.before, m.after) for _, m in batch))
    system_groups.stage(tx, plan.school_id, deltas, pupil_write=True)
    try:
        tx.commit()
    except TxFailed:  # someone edited one of them, or a concurrent run wrote some: one at a time
        return [p.pupil_id for p, _ in batch if not _write_one(plan, p.pupil_id)]
    return []


def _write_one(plan, pupil_id):
    """False if the pupil could not be moved (a clash three times running)."""
    for attempt in range(3):
        if RolloverPupil.count(plan.key, RolloverPupil.pupil_id == pupil_id):
            return True  # moved already (by a concurrent delivery)
        try:
            p = Pupil.get(plan.school_id, pupil_id, consistent_read=True)
        except DoesNotExist:
            return True  # erased meanwhile: nobody to move
        if p.status != PupilStatus.ACTIVE:
            return True  # left meanwhile
        move = plan.move(p)
        tx = Tx()
        _stage(tx, plan, p, move)
        system_groups.stage(tx, plan.school_id, group_rules.pupil_deltas(move.before, move.after), pupil_write=True)
        try:
            tx.commit()
            return True
        except TxFailed:
            time.sleep(0.05 * 2 ** attempt)  # a clash on the SYSTEM item (an import, a write by hand)
    logger.warning("rollover left a pupil as they were after three tries")
    return False


def _membership_json(m):
    """What undo needs to put a membership back (no name: it is the pupil's, read again then)."""
    return {"group_id": m.group_id, "until": m.until, "kind": m.kind, "added_by": m.added_by,
            "added_at": m.added_at}


def _end_memberships(memberships, end_at):
    """Each leaver's recorded teacher-group membership ((school, pupil,
    group)) ends at the rollover's request time: hidden at once, removed by
    the expiry sweep. A repeat sets the same end; one a teacher removed
    meanwhile is skipped."""
    for start in range(0, len(memberships), MEMBERSHIP_BATCH):
        batch = memberships[start:start + MEMBERSHIP_BATCH]
        tx = Tx()
        for school_id, pupil_id, group_id in batch:
            tx.update(f"m:{group_id}/{pupil_id}", _membership(school_id, group_id, pupil_id), _ending(end_at),
                      condition=Membership.member_id.exists(), add_version_condition=False)
        try:
            tx.commit()
        except TxFailed:
            for school_id, pupil_id, group_id in batch:
                try:
                    _membership(school_id, group_id, pupil_id).update(
                        actions=_ending(end_at), condition=Membership.member_id.exists())
                except UpdateError:
                    continue


def _membership(school_id, group_id, member_id):
    return Membership(group_key=group_key(school_id, group_id), member_id=member_id)


def _ending(end_at):
    return [Membership.until.set(end_at), Membership.expiring.set(EXPIRING)]


#: RolloverPupil.undone: put back, or left as they are (changed since the rollover)
PUT_BACK, LEFT_AS_IS = 1, 2


def undo_run(school_id, academic_year, now=None):
    """Put back every pupil the rollover moved and nobody changed since
    (their version is the one the rollover left); list the others. Each
    record says what became of its pupil, so a redelivery carries on and the
    counts come from the records, whichever delivery did the work."""
    now = now or time.time()
    r = get(school_id, academic_year)
    if r is None or r.status != RolloverStatus.UNDOING:
        return "nothing to do"
    key = rollover_key(r)
    records = [rec for rec in RolloverPupil.query(key) if rec.undone is None]
    for start in range(0, len(records), 100):
        batch = records[start:start + 100]
        found = batch_get({rec.pupil_id: (Pupil, {"school_id": school_id, "pupil_id": rec.pupil_id})
                           for rec in batch})
        for rec in batch:
            p = found.get(rec.pupil_id)
            if p is None or p.version != rec.version_after or not _put_back(p, rec, now):
                _mark(rec, LEFT_AS_IS)
                if p is not None:  # her memberships may be back (they go first): as her status says
                    _settle(school_id, rec.pupil_id, now)
    outcome = {PUT_BACK: [], LEFT_AS_IS: []}
    for rec in RolloverPupil.query(key, attributes_to_get=["pupil_id", "undone"]):
        outcome.get(rec.undone, []).append(rec.pupil_id)
    undo = {"restored": len(outcome[PUT_BACK]), "changed_since": sorted(outcome[LEFT_AS_IS])}
    if _move(r, RolloverStatus.UNDOING, RolloverStatus.UNDONE, undo=undo, due=None):
        audit.write(audit.entry(audit.Actor(school_id), "update", "rollover", academic_year,
                                {"status": "undoing"}, {"status": "undone", "restored": undo["restored"],
                                                        "changed_since": len(undo["changed_since"])}, now))
    return "undone"


def _settle(school_id, pupil_id, now):
    try:
        pupils.settle_groups(Pupil.get(school_id, pupil_id, consistent_read=True), now)
    except DoesNotExist:
        pass  # erased meanwhile: her memberships went with her


def _mark(rec, what):
    try:
        rec.update(actions=[RolloverPupil.undone.set(what)], condition=RolloverPupil.undone.does_not_exist())
    except UpdateError:
        pass  # a concurrent delivery said first


def _put_back(p, rec, now):
    """One pupil back as they were, with their ended memberships (first: a
    delivery killed after the pupil's transaction would otherwise leave them
    out); the pupil in one transaction on the version the rollover left."""
    after_rollover = {"year_group": p.year_group, "registration_group": p.registration_group,
                      "status": p.status, "left_on": p.left_on, "left_by": p.left_by}
    for m in rec.memberships or []:
        _restore_membership(p, m)
    pupils.apply(p, rec.before, now)
    tx = Tx()
    tx.put("pupil", p)
    tx.update("record", RolloverPupil(rollover_key=rec.rollover_key, pupil_id=rec.pupil_id),
              [RolloverPupil.undone.set(PUT_BACK)], condition=RolloverPupil.undone.does_not_exist())
    system_groups.stage(tx, p.school_id, group_rules.pupil_deltas(after_rollover, rec.before), pupil_write=True)
    try:
        tx.commit()
    except TxFailed:
        return False
    return True


def _restore_membership(p, m):
    """A leaver's membership back as it was: still there (not yet swept) gets
    its end back; swept, it is put back and counted, if the group still exists."""
    key = group_key(p.school_id, m["group_id"])
    back = [Membership.until.set(m["until"]) if m["until"] else Membership.until.remove(),
            Membership.expiring.set(EXPIRING) if m["until"] else Membership.expiring.remove()]
    try:
        Membership(group_key=key, member_id=p.pupil_id).update(actions=back, condition=Membership.member_id.exists())
        return
    except UpdateError:
        pass
    tx = Tx()
    tx.put("membership", Membership(group_key=key, member_id=p.pupil_id, school_id=p.school_id,
                                    group_id=m["group_id"], member_key=f"{p.school_id}#{p.pupil_id}",
                                    kind=m["kind"], name=full_name({"first_name": p.first_name, "surname": p.surname}),
                                    until=m["until"],
                                    expiring=EXPIRING if m["until"] else None, added_by=m["added_by"],
                                    added_at=m["added_at"]), condition=Membership.member_id.does_not_exist())
    tx.update("count", Group(school_id=p.school_id, group_id=m["group_id"]), [Group.member_count.add(1)],
              condition=Group.group_id.exists(), add_version_condition=False)
    try:
        tx.commit()
    except TxFailed:
        pass  # the group went meanwhile
