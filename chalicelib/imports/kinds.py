"""What can be imported: one entry per kind (pupils, staff, machines).

Everything the import does differently for a kind is declared here, so the
stages (validating, committing, the worker) never ask which kind they hold.
A kind declares:

- ``fields`` and ``required`` (its column definitions are in roster/fields.py,
  with our template's headers and the synonyms other systems use);
- ``rules``: how its rows are checked (rows.RowRules: what one record is
  called, the field that identifies it, its cleaners, its ways of matching);
- ``load``: the school's records of the kind, indexed for matching;
- ``write``: create or update one record through the owning domain's code
  (so its locks, limits and audit hold for imports too);
- and its options: new records written in bulk (``bulk_new``, with the
  school's pupil epoch), rows checked against the importer's privilege
  ceiling (``ceiling``), and ``leavers``: what a full drop does to the
  records no row of it named (pupils: they leave, unless added by hand).
"""
import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

from ..accounts.models import User
from ..accounts.permissions import FALLBACK_GROUP, group_named
from ..core.db import batch_get
from ..core.errors import ApiError, FieldError, validation_failed
from ..groups import machines as machine_records
from ..membership.bookkeeping import member_renamed
from ..membership.models import Machine
from ..roster import pupils as pupil_records
from ..roster import staff as staff_records
from ..roster import staff_access
from ..roster import validation
from ..roster.fields import FIELDS, REQUIRED, field_headers
from ..roster.models import Pupil, PupilStatus, Source
from .matching import ExistingIndex, RowRules


@dataclass(frozen=True)
class Kind:
    name: str
    rules: RowRules
    #: school_id -> ExistingIndex of what the school holds (queries only)
    load: Callable
    #: (caller, import, staged row) -> None; raises ApiError when refused
    write: Callable
    bulk_new: bool = False
    ceiling: bool = False
    #: (import, actor, ids staged to leave, ids a row named) -> {count: n}, for a full drop; None: a
    #: drop leaves the rest alone
    leavers: Callable = None
    #: existing values -> on roll (what a hold's thresholds are a share of)
    on_roll: Callable = None
    #: existing values -> a full drop not naming them takes them off (else kept: added by hand)
    leaves: Callable = None
    #: (school_id, ids) -> {id: values as they are now}, for the diff of a held drop
    fetch: Callable = None

    @property
    def fields(self):
        return FIELDS[self.name]

    @property
    def required(self):
        return REQUIRED[self.name]

    def headers(self):
        """{field: our column header}, in file order."""
        return field_headers(self.name)


def _indexed(kind, records):
    """An index of (id, version, values) records."""
    index = ExistingIndex(KINDS[kind].rules)
    for record_id, version, values in records:
        index.add(record_id, version, values)
    return index


def _load_pupils(school_id):
    # (status: a left pupil named again is restored; source: one added by hand never leaves by a file)
    fields = pupil_records.FIELDS + pupil_records.STATUS_FIELDS + ("source", "left_by")
    return _indexed("pupils", ((p.pupil_id, p.version, {f: getattr(p, f) for f in fields})
                               for p in Pupil.query(school_id)))


def _pupil_leavers(imp, actor, leaving, named):
    """The pupils validation found no row naming (``leaving``: what a held
    drop showed, and its approver saw) leave: kept, never deleted; each if
    still on roll and not added by hand (as it is now, read again)."""
    left, now = 0, time.time()
    for start in range(0, len(leaving), 100):
        found = batch_get({i: (Pupil, {"school_id": imp.school_id, "pupil_id": i}) for i in leaving[start:start + 100]})
        for p in found.values():
            if p is None or p.pupil_id in named:
                continue
            if p.status == PupilStatus.LEFT and p.left_by == f"import:{imp.import_id}":
                left += 1  # by an earlier delivery of this commit (which may have died before her groups)
                pupil_records.settle_groups(p, now)
            elif p.status == PupilStatus.ACTIVE and p.source != Source.MANUAL \
                    and pupil_records.mark_left(actor, p, now, imp.import_id):
                left += 1
    return {"left": left}


def _load_staff(school_id):
    fields = staff_records.FIELDS + ("status", "source")
    return _indexed("staff", ((u.user_id, u.version, {f: getattr(u, f) for f in fields})
                              for u in User.query(school_id)))


def _load_machines(school_id):
    return _indexed("machines", ((m.machine_id, 0, {"name": m.name, "location": m.location})
                                 for m in Machine.query(school_id)))


def _fetcher(model, id_attr, fields):
    """A kind's ``fetch``: records by id in BatchGetItems of 100."""
    def fetch(school_id, ids):
        found = batch_get({i: (model, {"school_id": school_id, id_attr: i}) for i in ids})
        return {i: {f: getattr(r, f) for f in fields} for i, r in found.items() if r is not None}
    return fetch


def _update_through(records, caller, row):
    """An update through the roster's own code. A restarted commit finds its
    own change already made: that is done, not a conflict."""
    changes = row.get("values") or {}
    try:
        records.update(caller, row["id"], {"version": row["version"], **changes})
    except ApiError as exc:
        if exc.code != "conflict":
            raise
        current = records.get(caller.school_id, row["id"])
        if any(getattr(current, k) != v for k, v in changes.items()):
            raise ApiError("conflict", "This record was changed by someone else after the file was "
                           "checked. Check it, then fix this row.")
        if {"first_name", "surname"} & set(changes):  # the crash may have come before the groups had it
            member_renamed(caller.school_id, row["id"], {}, records.snapshot(current))
        if records is pupil_records and "status" in changes:
            pupil_records.settle_groups(current, time.time())  # a restore: her groups too


def _write_pupil(caller, imp, row):
    if row["action"] != "create":
        return _update_through(pupil_records, caller, row)
    p = pupil_records.new_pupil(caller.school_id, row["values"], time.time(), pupil_id=row["id"])
    pupil_records.insert(caller, p, retry_safe=True)


def _write_staff(caller, imp, row):
    if row["action"] != "create":
        return _update_through(staff_records, caller, row)
    named = group_named(staff_records.groups_of(caller.school), row["values"].get("user_group"))
    values = {**row["values"], "user_group": named or FALLBACK_GROUP}
    user = staff_records.new_staff(caller.school_id, values, time.time(), user_id=row["id"])
    staff_records.insert(caller, user, message_id=f"invite-{imp.import_id}-{row['row']}", retry_safe=True)


def _staff_leavers(imp, actor, leaving, named):
    """Staff validation found no row naming (only staff a file made: nobody
    added by hand, the school's first admin say, is disabled by a file) are
    disabled: sessions end, the record stays. Staff a drop disabled and this
    one names again are enabled."""
    counts = {"disabled": 0, "enabled": 0}
    leaving = set(leaving)
    for user in User.query(imp.school_id):
        try:
            if user.user_id in named and user.status == "disabled" and user.disabled_by_sync:
                staff_access.enable(actor, user.user_id, by_sync=True)
                counts["enabled"] += 1
            elif user.user_id in leaving and user.status != "disabled" and user.source == Source.IMPORT:
                staff_access.disable(actor, user.user_id, by_sync=True)
                counts["disabled"] += 1
        except ApiError:  # the last enabled admin, or changed meanwhile: left as they are
            continue
    return counts


def _write_machine(caller, imp, row):
    machine_records.put_from_import(caller, row["id"], row.get("values") or {}, row["action"] == "create",
                                    entry_id=f"{imp.import_id}-{row['row']}",
                                    now=imp.commit_started_at or time.time())


KINDS = {
    "pupils": Kind("pupils", RowRules("pupil", "upn", "duplicate_upn", "UPN", validation.pupil_cleaners,
                                      id_field="pupil_id", match_by_name=True, big_files=True,
                                      on_match={"status": PupilStatus.ACTIVE, "left_on": None},
                                      keeps=lambda v: v.get("left_by") == "hand"),
                   _load_pupils, _write_pupil, bulk_new=True, leavers=_pupil_leavers,
                   on_roll=lambda v: (v.get("status") or PupilStatus.ACTIVE) == PupilStatus.ACTIVE,
                   leaves=lambda v: (v.get("status") or PupilStatus.ACTIVE) == PupilStatus.ACTIVE
                   and v.get("source") != Source.MANUAL,
                   fetch=_fetcher(Pupil, "pupil_id", pupil_records.FIELDS + pupil_records.STATUS_FIELDS)),
    "staff": Kind("staff", RowRules("staff member", "email", "duplicate_email", "email", validation.staff_cleaners,
                                    blank_means_default=("user_group",), folded=("user_group",)),
                  _load_staff, _write_staff, ceiling=True, leavers=_staff_leavers,
                  on_roll=lambda v: v.get("status") != "disabled",
                  leaves=lambda v: v.get("status") != "disabled" and v.get("source") == Source.IMPORT,
                  fetch=_fetcher(User, "user_id", staff_records.FIELDS + ("status",))),
    "machines": Kind("machines", RowRules("machine", "name", "duplicate_name", "name", machine_records.machine_cleaners),
                     _load_machines, _write_machine, fetch=_fetcher(Machine, "machine_id", ("name", "location"))),
}
NAMES = tuple(KINDS)
#: a zip of a roster's CSV files (OneRoster, SDS), read as one import of each kind (bundling.py)
BUNDLE = "bundle"
UPLOADS = NAMES + (BUNDLE,)


def get(name, kinds=NAMES):
    """The kind called ``name`` (one of ``kinds``), or 422 naming them."""
    if name not in kinds:
        raise validation_failed([FieldError("kind", "invalid_choice", f"Use one of: {', '.join(kinds)}.")],
                                f"kind must be one of: {', '.join(kinds)}.")
    return KINDS.get(name)


#: a bundle's part: fields the bundle may have no data for, whose blank cell keeps what is held
#: (an identifier that is not a UPN, no demographics.csv; a known colleague's role and user group)
PART_KEEPS_BLANK = {"pupils": ("upn", "gender", "external_id"), "staff": ("job_role", "user_group", "external_id")}


def rules_of(imp):
    """How an import's rows are checked: its kind's rules, and for a
    bundle's part, blanks that keep what is held."""
    rules = KINDS[imp.kind].rules
    extra = PART_KEEPS_BLANK.get(imp.kind, ()) if imp.parent_id else ()
    return dataclasses.replace(rules, blank_means_default=tuple(rules.blank_means_default) + extra) if extra else rules
