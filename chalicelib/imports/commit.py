"""Writing an import's valid rows.

New pupils go in bulk: PUPILS_PER_TX to a transaction, each with the claim on
its UPN, the chunk's audit entry, the import's progress (conditional on the
chunk before it) and a step of the school's pupil epoch (conditional on the
step the rows were checked at: uniqueness by the database, one condition a
chunk; see write_chunk). A redelivered or concurrent commit skips the chunks the progress
says are done, so nothing is written or counted twice; the system groups'
member counts are applied once, from the progress, after the last chunk.
Updates and staff go one transaction each through the roster's own code, so
locking, the last-admin rule and invitations hold for imports too.
"""
import json
import time

from ..core.db import Tx, TxFailed
from ..core.errors import ApiError
from ..membership import rules as group_rules
from ..membership import system as system_groups
from ..membership.bookkeeping import member_renamed
from ..roster import pupils as pupil_records
from ..roster import staff as staff_records
from ..core import audit
from ..core.audit import AuditEntry
from ..roster.models import Pupil, UniqueKey
from ..membership.models import Group
from .models import Import, ImportRow
from .rows import name_key
from .validating import load_existing
from ..core.clock import iso_stamp

#: a pupil and its UPN claim each, plus the chunk's audit entry, the
#: import's progress and the pupil epoch: within DynamoDB's 100 items
PUPILS_PER_TX = 48
TX_ATTEMPTS = 6


def _str_values(values):
    return {k: "" if v is None else str(v) for k, v in (values or {}).items()}


class Progress:
    """What earlier chunks of this commit did, kept on the import item and
    advanced in each chunk's own transaction."""

    def __init__(self, imp):
        state = imp.commit_progress or {}
        self.chunks = int(imp.commit_chunks or 0)
        self.counted = int(imp.commit_counted or 0)
        self.created = int(state.get("created", 0))
        self.refused = int(state.get("refused", 0))
        self.unchanged = int(state.get("unchanged", 0))
        self.deltas = {gid: tuple(v) for gid, v in (state.get("deltas") or {}).items()}
        epoch = state.get("epoch", imp.pupil_epoch)
        self.epoch = None if epoch is None else int(epoch)  # the pupil epoch after the last chunk

    def advanced(self, created, refused, unchanged, deltas, epoch):
        nxt = object.__new__(Progress)
        nxt.chunks, nxt.counted = self.chunks + 1, self.counted
        nxt.created, nxt.refused = self.created + created, self.refused + refused
        nxt.unchanged = self.unchanged + unchanged
        nxt.deltas = group_rules.merge(self.deltas, deltas)
        nxt.epoch = epoch
        return nxt

    def state_json(self):
        return json.dumps({"created": self.created, "refused": self.refused, "unchanged": self.unchanged,
                           "epoch": self.epoch,
                           "deltas": {g: list(v) for g, v in sorted(self.deltas.items())}}, sort_keys=True)


def _import_key(imp):
    return {"school_id": {"S": imp.school_id}, "import_id": {"S": imp.import_id}}


def _step_condition(attribute, done):
    """The step counter still says ``done`` (absent when 0)."""
    if done:
        return f"{attribute} = :done", {":done": {"N": str(done)}}
    return f"attribute_not_exists({attribute})", {}


def _import_step(imp, counter, done, **also):
    """An UpdateItem moving the import's step ``counter`` from ``done`` to the
    next step (failing if another delivery moved it), setting ``also``
    ({attribute: DynamoDB value}) with it."""
    condition, values = _step_condition(counter, done)
    sets = [f"{counter} = :step"] + [f"{name} = :{name}" for name in also]
    return {"TableName": Import.Meta.table_name, "Key": _import_key(imp),
            "UpdateExpression": "SET " + ", ".join(sets), "ConditionExpression": condition,
            "ExpressionAttributeValues": {**values, ":step": {"N": str(done + 1)},
                                          **{f":{name}": value for name, value in also.items()}}}


class Committer:
    def __init__(self, imp, actor, progress):
        self.imp, self.actor, self.progress = imp, actor, progress
        self.result = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
        self.matched = set()
        self.pending = []
        self.chunk = 0  # chunks of new pupils met so far in this pass
        self.done = Progress(imp)
        self.existing = None  # the roster, once read again (see write_chunk)
        self.started = imp.commit_started_at or int(time.time())
        self.seen = 0

    # refusals are kept as rows with problems, like validation's
    def refuse(self, row, error):
        ImportRow(import_key=f"{self.imp.school_id}#{self.imp.import_id}", row=row["row"], ttl=self.imp.ttl,
                  values=_str_values(row.get("values")), errors=[error], status="error",
                  run=self.imp.run).save()

    def add(self, row):
        self.seen += 1
        action = row["action"]
        if row.get("id") and action != "create":
            self.matched.add(row["id"])
        if action == "unchanged":
            self.result["unchanged"] += 1
        elif action == "create" and self.imp.kind == "pupils":
            self.matched.add(row["id"])
            self.pending.append(row)
            if len(self.pending) >= PUPILS_PER_TX:
                self.flush()
        else:
            error = write_single(self.actor, self.imp, row)
            if error:
                self.result["refused"] += 1
                self.refuse(row, error)
            else:
                self.result["created" if action == "create" else "updated"] += 1
        if self.progress:
            self.progress.tick(self.seen)

    def flush(self):
        if not self.pending:
            return
        rows, self.pending = self.pending, []
        self.chunk += 1
        if self.chunk <= self.done.chunks:
            return  # written by an earlier delivery of this commit
        self.write_chunk(rows)

    def write_chunk(self, rows):
        """One transaction: the chunk's pupils, their UPN claims, its audit
        entry, the import's progress, and a step of the school's pupil epoch
        conditioned on the step the rows were checked at. While the epoch has
        not moved no UPN was claimed since, so the claims need no condition of
        their own. If it moved (a pupil added by hand, another import), the
        roster is read again, rows it now holds are dropped (a UPN taken:
        refused as duplicate_upn; the same name and birth date without a UPN:
        unchanged), and the chunk goes again."""
        now = time.time()
        stalls = 0  # concurrent transactions, or re-reads of the roster
        refused = unchanged = 0
        while stalls < TX_ATTEMPTS:
            if self.done.epoch is None:
                self.read_roster_again()
            rows, now_refused, now_unchanged = self.recheck(rows)
            refused, unchanged = refused + now_refused, unchanged + now_unchanged
            pupils = [pupil_record(self.imp.school_id, r, now) for r in rows]
            deltas = group_rules.merge(*(group_rules.pupil_deltas({}, pupil_records.grouping(p)) for p in pupils))
            after = self.done.advanced(len(pupils), refused, unchanged, deltas, self.done.epoch + 1)
            tx = Tx()
            for p in pupils:
                tx.put_as_is(f"pupil:{p.pupil_id}", p)  # new id, written once: the progress says so
                if p.upn:
                    tx.put_as_is(f"upn:{p.pupil_id}", UniqueKey(school_id=p.school_id,
                                                                key=pupil_records.upn_key(p.upn),
                                                                owner_id=p.pupil_id))
            if pupils:
                tx.put("audit", self.audit_entry([p.pupil_id for p in pupils]),
                       condition=AuditEntry.entry_key.does_not_exist())  # append-only
            tx.raw_update("progress", _import_step(self.imp, "commit_chunks", self.done.chunks,
                                                   commit_progress={"S": after.state_json()}))
            condition, values = _step_condition("#pe", self.done.epoch)
            tx.raw_update("epoch", {
                "TableName": Group.Meta.table_name, "Key": system_groups.key(self.imp.school_id),
                "UpdateExpression": "SET #pe = :next", "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#pe": system_groups.PUPIL_EPOCH},
                "ExpressionAttributeValues": {**values, ":next": {"N": str(after.epoch)}}})
            try:
                tx.commit()
                self.done = after
                return
            except TxFailed as exc:
                if "progress" in exc.failed:
                    self.done = Progress(Import.get(self.imp.school_id, self.imp.import_id, consistent_read=True))
                    if self.chunk <= self.done.chunks:
                        return  # a concurrent delivery wrote this chunk
                elif "epoch" in exc.failed:
                    self.done.epoch = None  # the roster changed since the rows were checked
                else:
                    time.sleep(0.05 * (2 ** stalls))  # a concurrent transaction: try again
                stalls += 1
        raise RuntimeError("could not write a chunk of new pupils after several attempts")

    def read_roster_again(self):
        """The epoch, then the roster as it is now (queries), to check the
        remaining new rows against."""
        self.done.epoch = system_groups.pupil_epoch(self.imp.school_id)
        self.existing = load_existing("pupils", self.imp.school_id)

    def recheck(self, rows):
        """(rows still new, refused, unchanged) against a roster read again."""
        if self.existing is None:
            return rows, 0, 0
        keep, refused, unchanged = [], 0, 0
        for row in rows:
            values = row["values"]
            upn = values.get("upn")
            holder = self.existing.by_unique.get(upn) if upn else None
            if holder is not None:
                refused += 1
                self.refuse(row, pupil_records.duplicate_upn(upn).body()["errors"][0])
                continue
            same = [] if upn else self.existing.by_name.get(name_key(values), [])
            if same:
                unchanged += 1
                self.matched.add(same[0].id)
                continue
            keep.append(row)
        return keep, refused, unchanged

    def apply_counts(self):
        """The system groups' member counts for every pupil the bulk path
        wrote, one step per UpdateItem, each step once (the import's
        commit_counted moves in the same transaction)."""
        items = sorted(self.done.deltas.items())
        steps = [dict(items[i:i + system_groups.CHUNK]) for i in range(0, len(items), system_groups.CHUNK)]
        for step, deltas in enumerate(steps, start=1):
            if step <= self.done.counted:
                continue
            tx = Tx()
            update, = system_groups.updates(self.imp.school_id, deltas)
            tx.raw_update("counts", update)
            tx.raw_update("progress", _import_step(self.imp, "commit_counted", step - 1))
            try:
                tx.commit()
            except TxFailed as exc:
                if "progress" not in exc.failed:
                    raise
            self.done.counted = step  # done now, or by a concurrent delivery

    def finish(self):
        self.flush()
        self.apply_counts()
        result = dict(self.result)
        result["created"] += self.done.created
        result["refused"] += self.done.refused
        result["unchanged"] += self.done.unchanged
        return result

    def audit_entry(self, ids):
        stamp = iso_stamp(self.started)
        actor = self.actor
        name = f"{actor.user.first_name} {actor.user.surname}" if actor.user is not None else actor.user_id
        return AuditEntry(school_id=self.imp.school_id,
                          entry_key=f"{stamp}.000Z#{self.imp.import_id}-{self.chunk:05d}",
                          at=int(self.started), actor_id=actor.user_id, actor_name=name, action="create",
                          record_type="pupil", record_id=f"import:{self.imp.import_id}",
                          changes={"created": ids})


def pupil_record(school_id, row, now):
    p = pupil_records.new_pupil(school_id, row["values"], now, pupil_id=row["id"])
    p.version = 1
    return p


def commit_rows(imp, actor, rows, progress=None):
    committer = Committer(imp, actor, progress)
    for row in rows:
        committer.add(row)
    result = committer.finish()
    result["_matched"] = committer.matched
    return result


def write_single(caller, imp, row):
    """Create or update one record through the roster's code; None or an error dict."""
    values = row.get("values") or {}
    try:
        if imp.kind == "pupils":
            if row["action"] == "create":
                _create_pupil(caller, row)
            else:
                _update(pupil_records, caller, row)
        elif imp.kind == "machines":
            _write_machine(caller, row)
        else:
            if row["action"] == "create":
                values = {**values}
                values.setdefault("user_group", "Teachers")
                values["user_group"] = values["user_group"] or "Teachers"
                user = staff_records.new_staff(caller.school_id, values, time.time(), user_id=row["id"])
                staff_records.insert(caller, user, message_id=f"invite-{imp.import_id}-{row['row']}",
                                     retry_safe=True)
            else:
                _update(staff_records, caller, row)
    except ApiError as exc:
        body = exc.body()
        return (body.get("errors") or [{"field": "row", "code": exc.code, "message": exc.message}])[0]
    return None


def _create_pupil(caller, row):
    p = pupil_records.new_pupil(caller.school_id, row["values"], time.time(), pupil_id=row["id"])
    tx = Tx()
    pupil_records.add_to_tx(tx, caller, p)
    try:
        tx.commit()
    except TxFailed as exc:
        if "pupil" in exc.failed:
            return  # written before: a restarted commit
        if "pupil:upn" in exc.failed:
            raise pupil_records.duplicate_upn(p.upn)
        raise pupil_records.conflict()


def _update(records, caller, row):
    changes = row.get("values") or {}
    try:
        records.update(caller, row["id"], {"version": row["version"], **changes})
    except ApiError as exc:
        if exc.code != "conflict":
            raise
        # A restarted commit finds its own change already made: that is done.
        current = records.get(caller.school_id, row["id"])
        if any(getattr(current, k) != v for k, v in changes.items()):
            raise ApiError("conflict", "This record was changed by someone else after the file was "
                           "checked. Check it, then fix this row.")
        if {"first_name", "surname"} & set(changes):  # the crash may have come before the groups had it
            member_renamed(caller.school_id, row["id"], {}, records.snapshot(current))


def mark_leavers(imp, actor, matched):
    """Pupils missing from a full drop become 'left' (never deleted)."""
    left = 0
    for p in Pupil.query(imp.school_id, filter_condition=Pupil.status == "active"):
        if p.pupil_id in matched:
            continue
        before = pupil_records.grouping(p)
        tx = Tx()
        tx.update("pupil", p, [Pupil.status.set("left")], condition=Pupil.status == "active",
                  add_version_condition=False)
        audit.stage(tx, audit.entry(actor, "update", "pupil", p.pupil_id, {"status": "active"},
                                    {"status": "left", "import": imp.import_id}))
        try:
            tx.commit()
            left += 1
            system_groups.apply(imp.school_id, group_rules.pupil_deltas(before, {**before, "status": "left"}))
        except Exception:  # noqa: BLE001 - changed meanwhile: leave it
            continue
    return left


def _write_machine(caller, row):
    """Machines are matched by name; an import sets their location."""
    from ..membership.models import Machine
    values = row.get("values") or {}
    if row["action"] == "create":
        Machine(school_id=caller.school_id, machine_id=row["id"], name=values["name"],
                location=values.get("location"), created_at=int(time.time())).save()
    else:
        Machine(school_id=caller.school_id, machine_id=row["id"]).update(
            actions=[Machine.location.set(values.get("location"))], condition=Machine.machine_id.exists())
