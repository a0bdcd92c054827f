"""What rows of a kind are matched against: the kind's RowRules (how its
rows are checked) and an index of what the school holds, by each way a row
may name a record. Pure: no AWS."""
from dataclasses import dataclass, field
from typing import Callable

from ..core.text import fold


@dataclass(frozen=True)
class RowRules:
    """How rows of one kind are checked: what one record is called, the
    field that identifies it, its cleaners, and the kind's own ways of
    matching. Each import kind declares one (kinds.py)."""
    record: str  # what one is called in a message: "pupil"
    unique_field: str  # identifies a record: a pupil's UPN, a staff email
    duplicate_code: str  # the error code when two rows (or records) share it
    unique_label: str  # what to call it in a message: "UPN"
    #: today -> {field: cleaner(text) -> (value, FieldError or None)}
    cleaners: Callable
    #: a column that names a record by its system id (a pupil's "Pupil ID")
    id_field: str = None
    #: also match by first name, surname and date of birth
    match_by_name: bool = False
    #: files big enough (pupils: 50,000 rows) that repeats are found after the pass
    big_files: bool = False
    #: fields whose blank cell means "the default", not "clear it"
    blank_means_default: tuple = ()
    #: values every existing record a row names takes ({"status": "active"}:
    #: a pupil who had left and is in the file again is restored)
    on_match: dict = field(default_factory=dict)

    #: values -> a person set this record apart (a pupil marked left by hand): on_match leaves it be
    keeps: Callable = None
    #: fields compared folded (case, accents, spaces): "teachers" in a file is the Teachers held, no change
    folded: tuple = ()

    def differs(self, name, held, new):
        """Whether a row's value changes what is held."""
        if name in self.folded and isinstance(held, str) and isinstance(new, str):
            return fold(held) != fold(new)
        return held != new

    def restores(self, changes):
        """Whether ``changes`` bring a record back (set an on_match value)."""
        return bool(self.on_match) and any(k in self.on_match for k in changes or ())


@dataclass
class Existing:
    """A record already in the school: id, version and its field values."""
    id: str
    version: int
    values: dict


@dataclass
class ExistingIndex:
    """What the school holds, indexed the ways a row may match it."""
    rules: RowRules
    by_id: dict = field(default_factory=dict)
    by_unique: dict = field(default_factory=dict)  # UPN or email -> Existing
    by_external: dict = field(default_factory=dict)  # the source system's id -> Existing
    by_name: dict = field(default_factory=dict)  # (first, surname, dob) -> [Existing]
    by_names: dict = field(default_factory=dict)  # (first, surname) -> [Existing]

    def add(self, record_id, version, values):
        rec = Existing(record_id, version, values)
        self.by_id[record_id] = rec
        unique = values.get(self.rules.unique_field)
        if unique:
            self.by_unique[unique] = rec
        if values.get("external_id"):
            self.by_external[values["external_id"]] = rec
        if self.rules.match_by_name:
            self.by_name.setdefault(name_key(values), []).append(rec)
            self.by_names.setdefault(name_key(values)[:2], []).append(rec)

    def named_by(self, values):
        """Every record a refused row still names, from its cells as written:
        by its identifier (a UPN, an email), its system id, or a first name
        and surname only one record has. Each way counts (a row whose UPN and
        pupil id disagree names both). (A mistyped cell must not make a full
        drop treat someone as gone.)"""
        named = set()
        unique = "".join((values.get(self.rules.unique_field) or "").split())
        for candidate in (unique, unique.upper(), unique.casefold()):
            if candidate and candidate in self.by_unique:
                named.add(self.by_unique[candidate].id)
        raw_id = (values.get(self.rules.id_field) or "").strip() if self.rules.id_field else ""
        if raw_id in self.by_id:
            named.add(raw_id)
        external = (values.get("external_id") or "").strip()
        if external in self.by_external:
            named.add(self.by_external[external].id)
        if self.rules.match_by_name:
            same = self.by_names.get((fold(values.get("first_name")), fold(values.get("surname"))), [])
            if len(same) == 1:
                named.add(same[0].id)
        return named


def name_key(values):
    return (fold(values.get("first_name")), fold(values.get("surname")), values.get("date_of_birth"))
