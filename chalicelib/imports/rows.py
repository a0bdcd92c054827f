"""Checking CSV rows: pure logic, no AWS.

One ``RowChecker`` per import run maps a record's cells to fields, cleans them
with the roster's own validators (cached: a year group or a date of birth
repeats thousands of times in a file), finds the record each row matches, and
classifies it create / update / unchanged, or refuses it with field errors.
"""
import operator
import re
from array import array

from ..core.csv_export import unguard
from ..core.errors import FieldError
from ..roster.validation import UNREADABLE_CELL, clean_upn, upn_cell
from .matching import name_key


class RowResult:
    """One row's verdict. ``values`` (the row's raw text by field) is built
    only when asked for: a good row never needs it."""
    action = None  # create | update | unchanged (None when refused)
    target_id = target_version = None
    changes = None  # update: {field: new value}
    _values = None

    def __init__(self, line, values=None, cleaned=None, errors=None, cells=None, columns=()):
        self.line = line
        if values is not None:
            self._values = values
        self._cells, self._columns = cells, columns
        self.cleaned = {} if cleaned is None else cleaned  # {field: clean value}
        self.errors = [] if errors is None else errors  # [FieldError]

    @property
    def values(self):
        if self._values is None:
            cells = self._cells or []
            n = len(cells)
            self._values = {f: (cells[i] if i < n else "") for f, i in self._columns}
        return self._values

    @property
    def ok(self):
        return not self.errors

    def error_dicts(self):
        return [e.as_dict() if isinstance(e, FieldError) else e for e in self.errors]


#: distinct values remembered per field (names, dates and groups repeat)
CACHE_SIZE = 20_000
#: fields whose values rarely repeat in a file: not worth remembering
UNCACHED = {"upn", "email", "pupil_id", "external_id"}
_NEVER = {}  # the "cache" of an UNCACHED field: always empty
_MISS = object()


def _cached_values(fields):
    """A function of a row's cells -> {field: value} from each cached field's
    cache, raising KeyError when a cell is not in its cache yet. ``fields``:
    (field, cell index, cache). Compiled once per run (as dataclasses compiles
    an __init__): the usual row then costs one subscript a field, where a loop
    or map() over the fields costs three times as much. Only our own field
    names (as literals) and cell positions (ints) go into the source."""
    items = ", ".join(f"{name!r}: cache{n}[cells[{int(at)}]]" for n, (name, at, _c) in enumerate(fields))
    caches = ", ".join(f"cache{n}" for n in range(len(fields)))
    source = (f"def bind({caches}):\n"
              f"    def cached_values(cells):\n"
              f"        return {{{items}}}\n"
              f"    return cached_values\n")
    namespace = {}
    exec(compile(source, "<cached_values>", "exec"), namespace)  # noqa: S102 - source built from our names
    return namespace["bind"](*(cache for _f, _i, cache in fields))


def _tuple_getter(indexes):
    """cells -> tuple of the cells at ``indexes`` (itemgetter gives a bare
    value for one index)."""
    if len(indexes) > 1:
        return operator.itemgetter(*indexes)
    return lambda cells: tuple(cells[i] for i in indexes)


def _cell_cleaner(name, fn):
    if fn is clean_upn:
        return upn_cell
    def clean(raw):
        # a byte that did not decode, or a control character (NUL...; not a tab or line break)
        if "\ufffd" in raw or (not raw.isprintable() and _CONTROL.search(raw)):
            return None, FieldError(name, "invalid_characters", UNREADABLE_CELL)
        text = raw.strip() if raw else raw
        if text[:1] == "'":
            text = unguard(text)  # our CSV exports' guard against formulas
        return fn(text)
    return clean


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RepeatFinder:
    """Rows that repeat an earlier row's value (a pupil's UPN), found after
    the pass: (hash, line) pairs in two arrays, 16 bytes a row, where a dict
    of the values cost ~130. ``candidates()`` gives the lines whose hash
    repeats; the caller compares their values (a hash may collide)."""

    def __init__(self):
        self.hashes, self.lines = array("q"), array("q")
        self._hash, self._line = self.hashes.append, self.lines.append

    def add(self, value, line):
        self._hash(hash(value))
        self._line(line)

    def candidates(self):
        """The lines whose value's hash is seen more than once (a set)."""
        repeated = set()
        for bucket in range(4):  # a quarter at a time: the sorted list is the transient cost
            previous = None
            part = [h for h in self.hashes if h & 3 == bucket]
            part.sort()
            for h in part:
                if h == previous:
                    repeated.add(h)
                previous = h
            del part
        if not repeated:
            return set()
        return {line for h, line in zip(self.hashes, self.lines) if h in repeated}


class RowChecker:
    def __init__(self, rules, mapping, header, existing, new_id, today=None, date_orders=None):
        """``rules`` the kind's RowRules; ``mapping`` {column: field};
        ``header`` the column names in file order; ``existing`` an
        ExistingIndex; ``new_id()`` makes ids for new records;
        ``date_orders`` {field: DateOrder} of confirmed date columns."""
        self.rules = rules
        self.existing = existing
        self.new_id = new_id
        position = {name: i for i, name in enumerate(header)}
        self.columns = [(f, position[c]) for c, f in mapping.items() if f and c in position]
        base = rules.cleaners(today, date_orders)
        # (field, cache, clean) in cell order, and the cells they read: check()'s loop reads only these
        plan = [(f, i, {} if f not in UNCACHED else _NEVER, _cell_cleaner(f, base[f]))
                for f, i in self.columns if f in base]
        self.plan = [(f, cache, clean) for f, _i, cache, clean in plan]
        self.indexes = [i for _f, i, _c, _fn in plan]
        self.width = max(self.indexes, default=-1) + 1
        self.pick = _tuple_getter(self.indexes)
        # the usual row: every cached field's cell seen before (a KeyError: something new)
        self.cached_values = _cached_values([(f, i, cache) for f, i, cache, _c in plan if cache is not _NEVER])
        self.cold = [(f, i, clean) for f, i, cache, clean in plan if cache is _NEVER]
        self.id_at = next((i for f, i in self.columns if f == rules.id_field), None) if rules.id_field else None
        self.unique_field, self.duplicate_code, self.unique_label = (rules.unique_field, rules.duplicate_code,
                                                                     rules.unique_label)
        self.seen_unique = {}  # value -> first line (staff, machines: small files)
        # pupils: (hash, line) pairs, 16 bytes a row; repeats are found after the pass
        self.repeats = RepeatFinder() if rules.big_files else None
        self.seen_targets = {}  # record id -> first line
        self.seen_external = {}  # external id -> first line (a source system's id names one record)

    def values_of(self, cells):
        return {f: (cells[i] if i < len(cells) else "") for f, i in self.columns}

    def check(self, line, cells):
        """One row's RowResult: check_all() for a single row."""
        return next(self.check_all(((line, cells),)))

    # Whole: the loop every row of an import goes through; the usual row is done inline, without a call.
    def check_all(self, records):
        """A RowResult for each (line, cells) record, in order, as they are
        read. This loop runs on every row of an import, so the usual row of a
        big first import (a new pupil, every cell but the UPN seen on an
        earlier row, nothing in the school to match) is done inline."""
        width, cached_values, cold = self.width, self.cached_values, self.cold
        new_id, columns, unique_field = self.new_id, self.columns, self.unique_field
        repeats = self.repeats
        # pupils in a school with none yet: every good row is a new record
        inline_new = (repeats is not None and not self.existing.by_id and self.id_at is None
                      and all(f == unique_field for f, _i, _c in cold))
        if inline_new:
            unique_at, unique_cell = (cold[0][1], cold[0][2]) if cold else (None, None)
            add_hash, add_line = repeats.hashes.append, repeats.lines.append  # RepeatFinder.add, inline
        for line, cells in records:
            if cells is None:
                yield RowResult(line, {}, errors=[FieldError(
                    "row", "unreadable_row", "This row could not be read as CSV (check its quotes).")])
                continue
            if len(cells) < width:
                cleaned, errors = self._clean([cells[i] if i < len(cells) else "" for i in self.indexes])
                yield self._verdict(line, cells, cleaned, errors)
                continue
            try:
                cleaned = cached_values(cells)
            except KeyError:  # a value not seen yet, or one with an error: field by field
                cleaned, errors = self._clean(self.pick(cells))
                yield self._verdict(line, cells, cleaned, errors)
                continue
            if inline_new:
                unique, error = unique_cell(cells[unique_at]) if unique_cell else (None, None)
                if error is None:
                    result = RowResult(line, None, cleaned, [], cells, columns)
                    if unique_cell:
                        cleaned[unique_field] = unique  # None for a blank cell, as field by field
                    if unique is not None:
                        add_hash(hash(unique))
                        add_line(line)
                    result.action = "create"
                    result.target_id = new_id()
                    yield result
                    continue
            errors = []
            for name, at, clean in cold:
                value, error = clean(cells[at])
                if error is None:
                    cleaned[name] = value
                else:
                    errors.append(error)
            yield self._verdict(line, cells, cleaned, errors)

    def _clean(self, raws):
        """(cleaned, errors) field by field, remembering new good values."""
        cleaned, errors = {}, []
        for (name, cache, clean), raw in zip(self.plan, raws):
            value = cache.get(raw, _MISS)
            if value is _MISS:
                value, error = clean(raw)
                if error is not None:
                    errors.append(error)
                    continue
                if cache is not _NEVER:
                    if len(cache) >= CACHE_SIZE:
                        cache.clear()
                    cache[raw] = value
            cleaned[name] = value
        return cleaned, errors

    def _verdict(self, line, cells, cleaned, errors):
        result = RowResult(line, None, cleaned, errors, cells, self.columns)
        for name in self.rules.blank_means_default:
            if name in cleaned and not cleaned[name]:
                cleaned.pop(name)
        if not errors and self._repeated_external(result):
            return result
        if not errors:
            if self.existing.by_id or self.id_at is not None:
                self._classify(result)
            else:  # nothing in the school to match: a new record unless repeated in the file
                unique = cleaned.get(self.unique_field)
                if unique:
                    if self.repeats is not None:
                        self.repeats.add(unique, line)
                    else:
                        first = self.seen_unique.get(unique)
                        if first is not None:
                            self._duplicate(result, unique, first)
                            return result
                        self.seen_unique[unique] = line
                result.action = "create"
                result.target_id = self.new_id()
        return result

    def _repeated_external(self, result):
        """A second row with the same external id is refused: the first stands."""
        external = result.cleaned.get("external_id")
        if not external:
            return False
        first = self.seen_external.setdefault(external, result.line)
        if first == result.line:
            return False
        result.errors.append(FieldError("external_id", "duplicate_external_id",
                                        f"This external id ({external}) is already on row {first} of this file; "
                                        "the first row stands. Fix or remove one of them."))
        return True

    def duplicate_error(self, value, first_line):
        return FieldError(self.unique_field, self.duplicate_code,
                          f"This {self.unique_label} ({value}) is already on row {first_line} of this file; "
                          "the first row stands. Fix or remove one of them.")

    def _duplicate(self, result, value, first_line):
        result.errors.append(self.duplicate_error(value, first_line))

    def _classify(self, result):
        unique = result.cleaned.get(self.unique_field)
        if unique and self.repeats is None:
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
                                                f"Another {self.rules.record} in your school already has "
                                                f"this {self.unique_label}."))
                return
            first = self.seen_targets.get(target.id)
            if first is not None:
                result.errors.append(FieldError("row", "duplicate_row",
                                                f"Row {first} of this file is the same {self.rules.record}; "
                                                "keep only one of them."))
                return
            self.seen_targets[target.id] = result.line
            kept = self.rules.keeps is not None and self.rules.keeps(target.values)
            wanted = result.cleaned if kept else {**self.rules.on_match, **result.cleaned}
            changes = {k: v for k, v in wanted.items() if self.rules.differs(k, target.values.get(k), v)}
            result.target_id, result.target_version = target.id, target.version
            result.action = "update" if changes else "unchanged"
            result.changes = changes or None
        else:
            result.action = "create"
            result.target_id = self.new_id()
        if unique:
            if self.repeats is not None:
                self.repeats.add(unique, result.line)
            else:
                self.seen_unique[unique] = result.line

    def _match(self, result):
        """The record a valid row names, or None for a new one. Its ways of
        naming one must agree: a system id naming one record and an
        identifier (a UPN) another, or a name and birth date matching a
        record that holds another identifier, is an identity_conflict,
        applied to neither."""
        unique = result.cleaned.get(self.unique_field)
        holder = self.existing.by_unique.get(unique) if unique else None
        external = result.cleaned.get("external_id")
        by_source = self.existing.by_external.get(external) if external else None
        if by_source is not None:  # the source system's id first (a UPN or email may be corrected there)
            if holder is not None and holder.id != by_source.id:
                return self._conflict(result, f"its external id is {_called(by_source)}'s, but its "
                                      f"{self.unique_label} is {_called(holder)}'s")
            return by_source
        at, cells = self.id_at, result._cells
        raw_id = cells[at].strip() if at is not None and cells is not None and at < len(cells) else ""
        if raw_id:
            target = self.existing.by_id.get(raw_id)
            if target is None:
                record = self.rules.record
                result.errors.append(FieldError(self.rules.id_field, f"unknown_{self.rules.id_field}",
                                                f"No {record} in your school has this id. Leave it blank to add "
                                                f"a new {record}."))
            elif holder is not None and holder.id != target.id:
                return self._conflict(result, f"its {self.rules.id_field.replace('_', ' ')} names "
                                      f"{_called(target)}, but its {self.unique_label} is {_called(holder)}'s")
            return target
        if holder is not None:
            same = self.existing.by_name.get(name_key(result.cleaned), []) if self.rules.match_by_name else []
            if same and all(other.id != holder.id for other in same):
                return self._conflict(result, f"its {self.unique_label} is {_called(holder)}'s, but its name "
                                      f"and date of birth are {_called(same[0])}'s")
            return holder
        if self.rules.match_by_name and self.existing.by_name:  # a new school has none: skip the folding
            return self._match_by_name(result, unique)
        return None

    def _match_by_name(self, result, unique):
        matches = self.existing.by_name.get(name_key(result.cleaned), [])
        if len(matches) > 1:
            result.errors.append(FieldError(self.unique_field, "ambiguous_match",
                                            f"{len(matches)} pupils in your school have this name and date "
                                            f"of birth; add their {self.unique_label} to say which one this is."))
            return None
        match = matches[0] if matches else None
        held = match.values.get(self.unique_field) if match else None
        if unique and held and held != unique:  # a namesake, or a mistyped UPN: never overwrite one with the other
            return self._conflict(result, f"its name and date of birth match {_called(match)}, whose "
                                  f"{self.unique_label} is {held}, not {unique}")
        external, held = result.cleaned.get("external_id"), match.values.get("external_id") if match else None
        if external and held and held != external:  # a namesake the source system tells apart
            return self._conflict(result, f"its name and date of birth match {_called(match)}, whose "
                                  f"external id is {held}, not {external}")
        return match

    def _conflict(self, result, what):
        result.errors.append(FieldError(self.unique_field, "identity_conflict",
                                        f"This row names two different {self.rules.record}s: {what}. It is "
                                        f"applied to neither: check which {self.rules.record} it is, then fix it."))
        return None


def _called(existing):
    values = existing.values
    return f"{values.get('first_name') or ''} {values.get('surname') or ''}".strip() or existing.id
