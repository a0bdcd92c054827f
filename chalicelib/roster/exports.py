"""The whole roster as CSV: the import template's columns (pupils also
'Pupil ID'), in name order, so an export re-imports as it is. Read a page
of 500 at a time; the text is built whole (about 100 bytes a person). The
audit log records who took a copy, of what, and how much."""
import time

from ..accounts.models import User
from ..core import audit
from ..core.csv_export import to_csv
from . import pupils, staff
from .fields import field_headers
from .models import Pupil

KINDS = ("pupils", "staff")


def filename(kind):
    return f"schoolroll-{kind}-{time.strftime('%Y-%m-%d')}.csv"


def _records(kind, school_id):
    if kind == "pupils":
        return (dict(pupils.snapshot(p), pupil_id=p.pupil_id)
                for p in Pupil.by_name.query(school_id, page_size=500))
    return (staff.snapshot(u) for u in User.by_name.query(school_id, page_size=500))


def csv_text(kind, school_id):
    """(the CSV, how many people it lists)."""
    names = field_headers(kind)
    listed = [0]

    def rows():
        for record in _records(kind, school_id):
            listed[0] += 1
            yield [record.get(f) for f in names]
    return to_csv(list(names.values()), rows()), listed[0]


def export(caller, kind):
    """(file name, CSV) of the caller's school, written in the audit log."""
    name = filename(kind)
    text, listed = csv_text(kind, caller.school_id)
    audit.write(audit.entry(caller, "export", kind, name, None, {"rows": listed}))
    return name, text
