"""OneRoster 1.2's collection parameters, as pure functions: ``filter``
(``field op 'value'``, one ``AND`` or ``OR`` of two), ``sort``/``orderBy``,
``fields`` and ``limit``/``offset``, with the ``X-Total-Count`` and
``Link`` headers of the page answered."""
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from ..core.errors import ApiError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_FILTER_CHARS = 500
_OPS = ("!=", ">=", "<=", "=", ">", "<", "~")
_PREDICATE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.]*)\s*(!=|>=|<=|=|>|<|~)\s*'((?:[^']|'')*)'\s*$")


@dataclass(frozen=True)
class Predicate:
    field: str
    op: str
    value: str

    def holds(self, record):
        actual = _value(record, self.field)
        if actual is None:
            return self.op == "!="
        actual = str(actual).lower() if isinstance(actual, bool) else str(actual)
        if self.op == "~":
            return self.value.lower() in actual.lower()
        return {"=": actual == self.value, "!=": actual != self.value, ">": actual > self.value,
                ">=": actual >= self.value, "<": actual < self.value, "<=": actual <= self.value}[self.op]


@dataclass(frozen=True)
class Query:
    """What a collection request asked for, checked against the entity's fields."""
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    sort: str = None
    descending: bool = False
    fields: tuple = ()
    predicates: tuple = ()
    any_of: bool = False  # OR rather than AND


def invalid(minor, message):
    """A 400 the OneRoster binding answers with its code minor (core/http.py)."""
    return ApiError("bad_request", message, minor=minor)


def _value(record, field):
    value = record
    for part in field.split("."):
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if isinstance(value, list):
        return value[0] if value and not isinstance(value[0], dict) else None
    return value


def _whole(query, name, default, low, high):
    raw = query.get(name)
    if raw in (None, ""):
        return default
    if not re.fullmatch(r"\d{1,9}", str(raw)) or not low <= int(raw) <= high:
        raise invalid("invaliddata", f"{name} must be a whole number from {low} to {high}.")
    return int(raw)


def parse(query, known_fields):
    """A Query from the request's parameters (400 naming what is wrong)."""
    query = query or {}
    known = set(known_fields)
    fields = tuple(f.strip() for f in (query.get("fields") or "").split(",") if f.strip())
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise invalid("invalid_selection_field", f"Unknown field(s) in 'fields': {', '.join(unknown)}.")
    sort = (query.get("sort") or "").strip() or None
    if sort and sort.split(".")[0] not in known:
        raise invalid("invaliddata", f"Cannot sort by '{sort}': not a field of these records.")
    order = (query.get("orderBy") or "asc").strip().lower()
    if order not in ("asc", "desc"):
        raise invalid("invaliddata", "orderBy must be asc or desc.")
    predicates, any_of = _filters(query.get("filter"), known)
    return Query(limit=min(_whole(query, "limit", DEFAULT_LIMIT, 1, 10 ** 9), MAX_LIMIT),  # (SDS asks 5,000)
                 offset=_whole(query, "offset", 0, 0, 10 ** 9), sort=sort, descending=order == "desc",
                 fields=fields, predicates=predicates, any_of=any_of)


def _filters(text, known):
    """(predicates, any_of) of a filter: one predicate, or two joined by AND or OR."""
    if not text:
        return (), False
    if len(text) > MAX_FILTER_CHARS:
        raise invalid("invalid_filter_field", f"A filter is at most {MAX_FILTER_CHARS} characters.")
    parts = re.split(r"\s+(AND|OR)\s+(?=(?:[^']*'[^']*')*[^']*$)", text.strip())
    joins = set(parts[1::2])
    if len(parts) > 3 or len(joins) > 1:
        raise invalid("invalid_filter_field", "A filter is one 'field op value', or two joined by AND or OR.")
    predicates = []
    for part in parts[0::2]:
        match = _PREDICATE.match(part)
        if not match:
            raise invalid("invalid_filter_field", f"Cannot read the filter '{part.strip()}': write "
                          "field=value with the value in single quotes, e.g. status='active'.")
        field, op, value = match.groups()
        if field.split(".")[0] not in known:
            raise invalid("invalid_filter_field", f"Cannot filter on '{field}': not a field of these records.")
        predicates.append(Predicate(field, op, value.replace("''", "'")))
    return tuple(predicates), joins == {"OR"}


def select(records, q):
    """(the page, the total matching): filtered, sorted, then offset and limit."""
    if q.predicates:
        test = any if q.any_of else all
        records = [r for r in records if test(p.holds(r) for p in q.predicates)]
    key = q.sort or "sourcedId"
    records = sorted(records, key=lambda r: (str(_value(r, key) or ""), r.get("sourcedId", "")),
                     reverse=q.descending)
    page = records[q.offset:q.offset + q.limit]
    if q.fields:
        page = [{f: r[f] for f in q.fields if f in r} for r in page]
    return page, len(records)


def headers(url, query, q, total):
    """X-Total-Count and a Link header (first, prev, next, last) for the page."""
    def link(offset, rel):
        params = {k: v for k, v in (query or {}).items() if k not in ("limit", "offset")}
        params.update(limit=q.limit, offset=offset)
        return f"<{url}?{urlencode(params)}>; rel=\"{rel}\""
    links = [link(0, "first")]
    if q.offset > 0:
        links.append(link(max(0, q.offset - q.limit), "prev"))
    if q.offset + q.limit < total:
        links.append(link(q.offset + q.limit, "next"))
    last = max(0, (total - 1) // q.limit * q.limit) if total else 0
    links.append(link(last, "last"))
    return {"X-Total-Count": str(total), "Link": ", ".join(links)}
