"""Checking CSV rows: pure logic, no AWS.

One ``RowChecker`` per import run maps a record's cells to fields, cleans them
with the roster's own validators (cached: a year group or a date of birth
repeats thousands of times in a file), finds the record each row matches, and
classifies it create / update / unchanged, or refuses it with field errors.
"""
from dataclasses import dataclass, field
from functools import lru_cache

from ..core.errors import FieldError
from ..core.text import fold
from ..roster.validation import cleaners

#: kind -> (the field that identifies a record, its duplicate code, what to call it)
UNIQUE = {"pupils": ("upn", "duplicate_upn", "UPN"), "staff": ("email", "duplicate_email", "email"),
          "machines": ("name", "duplicate_name", "name")}
RECORD = {"pupils": "pupil", "staff": "staff member", "machines": "machine"}


@dataclass
class Existing:
    """A record already in the school: id, version and its field values."""
    id: str
    version: int
    values: dict


@dataclass
class ExistingIndex:
    """What the school holds, indexed the ways a row may match it."""
    kind: str
    by_id: dict = field(default_factory=dict)
    by_unique: dict = field(default_factory=dict)  # UPN or email -> Existing
    by_name: dict = field(default_factory=dict)  # (first, surname, dob) -> [Existing]

    def add(self, record_id, version, values):
        rec = Existing(record_id, version, values)
        self.by_id[record_id] = rec
        unique = values.get(UNIQUE[self.kind][0])
        if unique:
            self.by_unique[unique] = rec
        if self.kind == "pupils":
            self.by_name.setdefault(name_key(values), []).append(rec)


def name_key(values):
    return (fold(values.get("first_name")), fold(values.get("surname")), values.get("date_of_birth"))


@dataclass
class RowResult:
    line: int
    values: dict  # {field: raw text as read}
    cleaned: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)  # [FieldError]
    action: str = None  # create | update | unchanged (None when refused)
    target_id: str = None
    target_version: int = None
    changes: dict = None  # update: {field: new value}

    @property
    def ok(self):
        return not self.errors

    def error_dicts(self):
        return [e.as_dict() if isinstance(e, FieldError) else e for e in self.errors]


def _cached(fn):
    @lru_cache(maxsize=8192)
    def run(value):
        return fn(value)
    return run


def required_fields(kind):
    from .columns import REQUIRED
    return REQUIRED[kind]


class RowChecker:
    def __init__(self, kind, mapping, header, existing, new_id, today=None):
        """``mapping`` {column: field}; ``header`` the column names in file order;
        ``existing`` an ExistingIndex; ``new_id()`` makes ids for new records."""
        self.kind = kind
        self.existing = existing
        self.new_id = new_id
        position = {name: i for i, name in enumerate(header)}
        self.columns = [(f, position[c]) for c, f in mapping.items() if f and c in position]
        base = cleaners(kind, today)
        self.cleaners = {f: _cached(fn) for f, fn in base.items()}
        self.unique_field, self.duplicate_code, self.unique_label = UNIQUE[kind]
        self.seen_unique = {}  # value -> first line
        self.seen_targets = {}  # record id -> first line

    def values_of(self, cells):
        return {f: (cells[i] if i < len(cells) else "") for f, i in self.columns}

    def check(self, line, cells):
        if cells is None:
            return RowResult(line, {}, errors=[FieldError(
                "row", "unreadable_row", "This row could not be read as CSV (check its quotes).")])
        values = self.values_of(cells)
        result = RowResult(line, values)
        for name, raw in values.items():
            if "\ufffd" in raw:
                result.errors.append(FieldError(name, "invalid_characters",
                                                "This cell has characters we could not read. Save the file "
                                                "as 'CSV UTF-8' and upload it again, or type the value here."))
                continue
            cleaner = self.cleaners.get(name)
            if cleaner is None:
                continue  # pupil_id: looked up below
            value, error = cleaner(raw.strip() if raw else raw)
            if error:
                result.errors.append(error)
            else:
                result.cleaned[name] = value
        if self.kind == "staff" and not result.cleaned.get("user_group") and "user_group" in result.cleaned:
            result.cleaned.pop("user_group")
        if not result.errors:
            self._classify(result)
        return result

    def _duplicate(self, result, value, first_line):
        result.errors.append(FieldError(self.unique_field, self.duplicate_code,
                                        f"This {self.unique_label} ({value}) is already on row {first_line} of this file; "
                                        "the first row stands. Fix or remove one of them."))

    def _classify(self, result):
        unique = result.cleaned.get(self.unique_field)
        if unique:
            first = self.seen_unique.get(unique)
            if first is not None:
                return self._duplicate(result, unique, first)
        target = self._match(result)
        if result.errors:
            return
        if target is not None:
            holder = self.existing.by_unique.get(unique) if unique else None
            if holder is not None and holder.id != target.id:
                result.errors.append(FieldError(self.unique_field, self.duplicate_code,
                                                f"Another {RECORD[self.kind]} in your school already has "
                                                f"this {self.unique_label}."))
                return
            first = self.seen_targets.get(target.id)
            if first is not None:
                result.errors.append(FieldError("row", "duplicate_row",
                                                f"Row {first} of this file is the same {RECORD[self.kind]}; "
                                                "keep only one of them."))
                return
            self.seen_targets[target.id] = result.line
            changes = {k: v for k, v in result.cleaned.items() if target.values.get(k) != v}
            result.target_id, result.target_version = target.id, target.version
            result.action = "update" if changes else "unchanged"
            result.changes = changes or None
        else:
            result.action = "create"
            result.target_id = self.new_id()
        if unique:
            self.seen_unique[unique] = result.line

    def _match(self, result):
        unique = result.cleaned.get(self.unique_field)
        if unique and unique in self.existing.by_unique:
            return self.existing.by_unique[unique]
        raw_id = (result.values.get("pupil_id") or "").strip()
        if raw_id:
            target = self.existing.by_id.get(raw_id)
            if target is None:
                result.errors.append(FieldError("pupil_id", "unknown_pupil_id",
                                                "No pupil in your school has this id. Leave it blank to add "
                                                "a new pupil."))
            return target
        if self.kind == "pupils" and self.existing.by_name:  # a new school has none: skip the folding
            matches = self.existing.by_name.get(name_key(result.cleaned), [])
            if len(matches) > 1:
                result.errors.append(FieldError("upn", "ambiguous_match",
                                                f"{len(matches)} pupils in your school have this name and date "
                                                "of birth; add their UPN to say which one this is."))
                return None
            return matches[0] if matches else None
        return None
