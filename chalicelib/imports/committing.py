"""Writing an import's valid rows.

New pupils go in bulk: PUPILS_PER_TX to a transaction, each with the claim on
its UPN, the chunk's audit entry, the import's progress (conditional on the
chunk before it) and a step of the school's pupil epoch (conditional on the
step the rows were checked at: uniqueness by the database, one condition a
chunk; see write_chunk). A redelivered or concurrent commit skips the chunks the progress
says are done, so nothing is written or counted twice; the system groups'
member counts are applied once, from the progress, after the last chunk.
Every other row goes one transaction each through its kind's ``write`` (the
owning domain's own code), so locking, the last-admin rule and invitations
hold for imports too.
"""
import time
from dataclasses import dataclass, field

from ..core import audit
from ..core.db import Tx, TxFailed
from ..core.errors import ApiError
from ..membership import rules as group_rules
from ..membership import system as system_groups
from ..roster import pupils as pupil_records
from ..roster.models import UniqueKey
from .kinds import KINDS
from .models import Import, ImportRow, RowStatus
from .matching import name_key
from .store import stage_step

#: a pupil and its UPN claim each, plus the chunk's audit entry, the
#: import's progress and the pupil epoch: within DynamoDB's 100 items
PUPILS_PER_TX = 48
TX_ATTEMPTS = 6


def _str_values(values):
    return {k: "" if v is None else str(v) for k, v in (values or {}).items()}


@dataclass
class CommitProgress:
    """What earlier chunks of this commit did, kept on the import item and
    advanced in each chunk's own transaction."""
    chunks: int = 0
    counted: int = 0
    created: int = 0
    refused: int = 0
    unchanged: int = 0
    deltas: dict = field(default_factory=dict)
    epoch: int = None  # the pupil epoch after the last chunk

    @classmethod
    def of(cls, imp):
        state = imp.commit_progress or {}
        epoch = state.get("epoch", imp.pupil_epoch)
        return cls(int(imp.commit_chunks or 0), int(imp.commit_counted or 0), int(state.get("created", 0)),
                   int(state.get("refused", 0)), int(state.get("unchanged", 0)),
                   {gid: group_rules.Delta(*v) for gid, v in (state.get("deltas") or {}).items()},
                   None if epoch is None else int(epoch))

    def advanced(self, created, refused, unchanged, deltas, epoch):
        return CommitProgress(self.chunks + 1, self.counted, self.created + created, self.refused + refused,
                              self.unchanged + unchanged, group_rules.merge(self.deltas, deltas), epoch)

    def state(self):
        return {"created": self.created, "refused": self.refused, "unchanged": self.unchanged,
                "epoch": self.epoch, "deltas": {g: list(v) for g, v in sorted(self.deltas.items())}}


@dataclass
class CommitOutcome:
    """The counts the import shows, the records a row of the file named,
    and those validation found no row naming (a full drop's leavers)."""
    counts: dict
    matched: set
    leaving: list


class Committer:
    def __init__(self, imp, actor, ticker):
        self.imp, self.actor, self.ticker = imp, actor, ticker
        self.kind = KINDS[imp.kind]
        self.result = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
        if self.kind.rules.on_match:
            self.result["restored"] = 0
        self.matched = set()
        self.leaving = []
        self.pending = []
        self.chunk = 0  # chunks of new pupils met so far in this pass
        self.done = CommitProgress.of(imp)
        self.existing = None  # the roster, once read again (see write_chunk)
        self.started = imp.commit_started_at or int(time.time())
        self.seen = 0

    # refusals are kept as rows with problems, like validation's
    def refuse(self, row, error):
        ImportRow(import_key=f"{self.imp.school_id}#{self.imp.import_id}", row=row["row"], ttl=self.imp.ttl,
                  values=_str_values(row.get("values")), errors=[error], status=RowStatus.ERROR,
                  run=self.imp.run).save()

    def add(self, row):
        self.seen += 1
        action = row["action"]
        if action == "leave":  # who a full drop takes off: after every row is written
            self.leaving.append(row["id"])
            return
        if row.get("id"):  # (a new record too: a full drop never counts someone it just made as gone)
            self.matched.add(row["id"])
        if action == "named":  # a refused row that still names someone: only that
            return
        if action == "unchanged":
            self.result["unchanged"] += 1
        elif action == "create" and self.kind.bulk_new and not row.get("fixed"):
            # (a fixed row goes one at a time, its claim conditional: the epoch covers only the checked file)
            self.matched.add(row["id"])
            self.pending.append(row)
            if len(self.pending) >= PUPILS_PER_TX:
                self.flush()
        else:
            error = write_single(self.actor, self.imp, row)
            if error:
                self.result["refused"] += 1
                self.refuse(row, error)
            elif action == "create":
                self.result["created"] += 1
            else:
                self.result["restored" if self.kind.rules.restores(row.get("values")) else "updated"] += 1
        if self.ticker:
            self.ticker.tick(self.seen)

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
        refused = unchanged = 0
        for stalls in range(TX_ATTEMPTS):
            if self.done.epoch is None:
                self.read_roster_again()
            rows, now_refused, now_unchanged = self.recheck(rows)
            refused, unchanged = refused + now_refused, unchanged + now_unchanged
            pupils = [pupil_record(self.imp.school_id, r, now) for r in rows]
            deltas = group_rules.merge(*(group_rules.pupil_deltas({}, pupil_records.grouping(p)) for p in pupils))
            after = self.done.advanced(len(pupils), refused, unchanged, deltas, self.done.epoch + 1)
            try:
                self.chunk_tx(pupils, after).commit()
                self.done = after
                return
            except TxFailed as exc:
                if self.written_meanwhile(exc, stalls):
                    return
        raise RuntimeError("could not write a chunk of new pupils after several attempts")

    def chunk_tx(self, pupils, after):
        tx = Tx()
        for p in pupils:
            tx.put_as_is(f"pupil:{p.pupil_id}", p)  # new id, written once: the progress says so
            if p.upn:
                tx.put_as_is(f"upn:{p.pupil_id}", UniqueKey(school_id=p.school_id, key=pupil_records.upn_key(p.upn),
                                                            owner_id=p.pupil_id))
        if pupils:
            audit.stage(tx, self.audit_entry([p.pupil_id for p in pupils]))
        stage_step(tx, self.imp, "commit_chunks", self.done.chunks, commit_progress=after.state())
        system_groups.stage_epoch_step(tx, self.imp.school_id, self.done.epoch, after.epoch)
        return tx

    def written_meanwhile(self, exc, stalls):
        """After a cancelled chunk: True if a concurrent delivery wrote it;
        else get ready to try again (the roster to read again if the epoch
        moved, or a back-off after a clash with another transaction)."""
        if "progress" in exc.failed:
            self.done = CommitProgress.of(Import.get(self.imp.school_id, self.imp.import_id, consistent_read=True))
            return self.chunk <= self.done.chunks
        if "epoch" in exc.failed:
            self.done.epoch = None  # the roster changed since the rows were checked
        else:
            time.sleep(0.05 * (2 ** stalls))  # a concurrent transaction: try again
        return False

    def read_roster_again(self):
        """The epoch, then the roster as it is now (queries), to check the
        remaining new rows against."""
        self.done.epoch = system_groups.pupil_epoch(self.imp.school_id)
        self.existing = self.kind.load(self.imp.school_id)

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
        for step, deltas in enumerate(system_groups.chunks(self.done.deltas), start=1):
            if step <= self.done.counted:
                continue
            tx = Tx()
            system_groups.stage(tx, self.imp.school_id, deltas)
            stage_step(tx, self.imp, "commit_counted", step - 1)
            try:
                tx.commit()
            except TxFailed as exc:
                if "progress" not in exc.failed:
                    raise
            self.done.counted = step  # done now, or by a concurrent delivery

    def finish(self):
        self.flush()
        self.apply_counts()
        counts = dict(self.result)
        counts["created"] += self.done.created
        counts["refused"] += self.done.refused
        counts["unchanged"] += self.done.unchanged
        return CommitOutcome(counts, self.matched, self.leaving)

    def audit_entry(self, ids):
        """The chunk's entry, stamped as it is written (the change feed reads
        in stamp order); a repeat delivery writes nothing (the progress
        condition), and its id is the chunk's."""
        return audit.entry(self.actor, "create", "pupil", f"import:{self.imp.import_id}", None, None,
                           now=time.time(), entry_id=f"{self.imp.import_id}-{self.chunk:05d}",
                           changes={"created": ids})


def pupil_record(school_id, row, now):
    p = pupil_records.new_pupil(school_id, row["values"], now, pupil_id=row["id"])
    p.version = 1
    return p


def commit_rows(imp, actor, rows, ticker=None):
    """Write every staged row: a CommitOutcome."""
    committer = Committer(imp, actor, ticker)
    for row in rows:
        committer.add(row)
    return committer.finish()


def write_single(caller, imp, row):
    """Create or update one record through its kind's code; None or an error dict."""
    try:
        KINDS[imp.kind].write(caller, imp, row)
    except ApiError as exc:
        body = exc.body()
        return (body.get("errors") or [{"field": "row", "code": exc.code, "message": exc.message}])[0]
    return None
