"""Writing an import's valid rows.

New pupils go in bulk. One with a UPN is written together with the claim on
its UPN, 50 pairs to a transaction (uniqueness by the database; a restarted
commit finds its own pupils and claims and counts them done). One without a
UPN is written with BatchWriteItem, 25 a call, unprocessed items retried with
back-off. Updates and staff go one transaction each through the roster's own
code, so locking, the last-admin rule and invitations hold for imports too.
"""
import time

from ..core.db import Tx, TxFailed, batch_put
from ..core.errors import ApiError
from ..groups import rules as group_rules
from ..groups import system as system_groups
from ..roster import pupils as pupil_records
from ..roster import staff as staff_records
from ..roster.models import AuditEntry, Pupil, UniqueKey
from .models import ImportRow

#: a pupil and its UPN claim are two of a transaction's 100 items
PAIRS_PER_TX = 50
PUPILS_PER_FLUSH = 500


def _str_values(values):
    return {k: "" if v is None else str(v) for k, v in (values or {}).items()}


class Committer:
    def __init__(self, imp, actor, progress):
        self.imp, self.actor, self.progress = imp, actor, progress
        self.result = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
        self.matched = set()
        self.pending = []
        self.flushes = 0
        self.started = imp.commit_started_at or int(time.time())
        self.seen = 0

    # refusals are kept as rows with problems, like validation's
    def refuse(self, row, error):
        self.result["refused"] += 1
        ImportRow(import_key=f"{self.imp.school_id}#{self.imp.import_id}", row=row["row"],
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
            if len(self.pending) >= PUPILS_PER_FLUSH:
                self.flush()
        else:
            error = write_single(self.actor, self.imp, row)
            if error:
                self.refuse(row, error)
            else:
                self.result["created" if action == "create" else "updated"] += 1
        if self.progress:
            self.progress.tick(self.seen)

    def flush(self):
        if not self.pending:
            return
        rows, self.pending = self.pending, []
        now = time.time()
        by_id = {r["id"]: r for r in rows}
        new = [pupil_records.new_pupil(self.imp.school_id, r["values"], now, pupil_id=r["id"]) for r in rows]
        with_upn = [p for p in new if p.upn]
        refused = write_with_claims(self.imp.school_id, with_upn)
        plain = [p for p in new if not p.upn]
        for p in plain:
            p.version = 1
        written = [p for p in new if p.pupil_id not in refused]
        self.flushes += 1
        if written:
            batch_put(plain + [self.audit_entry([p.pupil_id for p in written])])
            system_groups.apply(self.imp.school_id, group_rules.merge(
                *(group_rules.pupil_deltas({}, pupil_records.grouping(p)) for p in written)))
        self.result["created"] += len(written)
        for pupil_id in refused:
            upn = by_id[pupil_id]["values"].get("upn")
            self.refuse(by_id[pupil_id], pupil_records.duplicate_upn(upn).body()["errors"][0])

    def audit_entry(self, ids):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.started))
        actor = self.actor
        name = f"{actor.user.first_name} {actor.user.surname}" if actor.user is not None else actor.user_id
        return AuditEntry(school_id=self.imp.school_id,
                          entry_key=f"{stamp}.000Z#{self.imp.import_id}-{self.flushes:05d}",
                          at=int(self.started), actor_id=actor.user_id, actor_name=name, action="create",
                          record_type="pupil", record_id=f"import:{self.imp.import_id}",
                          changes={"created": ids})


def pupil_record(school_id, row, now):
    p = pupil_records.new_pupil(school_id, row["values"], now, pupil_id=row["id"])
    p.version = 1
    return p


def write_with_claims(school_id, new_pupils, attempts=5):
    """Write new pupils that have a UPN, each with the claim on its UPN, in
    transactions of PAIRS_PER_TX pairs: a pupil and its claim are written
    together or not at all, and uniqueness is the database's. Returns the ids
    refused because another pupil holds their UPN. A pupil already written (a
    restarted commit) counts as done."""
    refused = set()
    for start in range(0, len(new_pupils), PAIRS_PER_TX):
        pending = new_pupils[start:start + PAIRS_PER_TX]
        for attempt in range(attempts):
            if not pending:
                break
            tx = Tx()
            for p in pending:
                tx.put(f"pupil:{p.pupil_id}", p, condition=Pupil.pupil_id.does_not_exist())
                tx.put(f"upn:{p.pupil_id}", UniqueKey(school_id=school_id, key=pupil_records.upn_key(p.upn),
                                                      owner_id=p.pupil_id),
                       condition=UniqueKey.key.does_not_exist() | (UniqueKey.owner_id == p.pupil_id))
            try:
                tx.commit()
                break
            except TxFailed as exc:
                done = {label.split(":", 1)[1] for label in exc.failed if label.startswith("pupil:")}
                taken = {label.split(":", 1)[1] for label in exc.failed if label.startswith("upn:")} - done
                refused |= taken
                pending = [p for p in pending if p.pupil_id not in done | taken]
                if not exc.failed:
                    time.sleep(0.05 * (2 ** attempt))  # a concurrent transaction: try again
        else:
            raise RuntimeError("could not write pupils with their UPNs after several attempts")
    return refused


def commit_rows(imp, actor, rows, progress=None):
    committer = Committer(imp, actor, progress)
    for row in rows:
        committer.add(row)
    committer.flush()
    result = dict(committer.result)
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


def mark_leavers(imp, actor, matched):
    """Pupils missing from a full drop become 'left' (never deleted)."""
    left = 0
    for p in Pupil.query(imp.school_id, filter_condition=Pupil.status == "active"):
        if p.pupil_id in matched:
            continue
        before = pupil_records.grouping(p)
        try:
            p.update(actions=[Pupil.status.set("left")], condition=Pupil.status == "active",
                     add_version_condition=False)
            left += 1
            system_groups.apply(imp.school_id, group_rules.pupil_deltas(before, {**before, "status": "left"}))
        except Exception:  # noqa: BLE001 - changed meanwhile: leave it
            continue
    return left


def _write_machine(caller, row):
    """Machines are matched by name; an import sets their location."""
    from ..groups.models import Machine
    values = row.get("values") or {}
    if row["action"] == "create":
        Machine(school_id=caller.school_id, machine_id=row["id"], name=values["name"],
                location=values.get("location"), created_at=int(time.time())).save()
    else:
        Machine(school_id=caller.school_id, machine_id=row["id"]).update(
            actions=[Machine.location.set(values.get("location"))], condition=Machine.machine_id.exists())
