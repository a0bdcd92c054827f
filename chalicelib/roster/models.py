"""DynamoDB records of the roster. Keys start with the school.

Pupils carry folded name keys for sorting and prefix search, and per-school
year and registration group keys, each on an index, so every list and search
is a Query, never a Scan."""
from enum import StrEnum

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.models import Model

from ..core.db import index, meta


class PupilStatus(StrEnum):
    """A pupil on roll, or one who has left (kept, and listed apart)."""
    ACTIVE = "active"
    LEFT = "left"


class Source(StrEnum):
    """How a pupil came: added by a person (the form or the API), or by a
    file (an upload or a drop). A file never makes a leaver of a pupil added
    by hand."""
    MANUAL = "manual"
    IMPORT = "import"


class Pupil(Model):
    Meta = meta("pupils")
    school_id = UnicodeAttribute(hash_key=True)
    pupil_id = UnicodeAttribute(range_key=True)
    first_name = UnicodeAttribute()
    surname = UnicodeAttribute()
    date_of_birth = UnicodeAttribute()
    gender = UnicodeAttribute(null=True)
    year_group = UnicodeAttribute()
    registration_group = UnicodeAttribute(null=True)
    upn = UnicodeAttribute(null=True)
    #: the source system's id (a OneRoster sourcedId): what a sync matches first
    external_id = UnicodeAttribute(null=True)
    #: PupilStatus: "left" when a full drop no longer names them, or set by hand (never deleted)
    status = UnicodeAttribute(default="active")
    left_on = UnicodeAttribute(null=True)  # ISO date, while left
    #: who made them a leaver: "hand" (a person: no file brings them back) or "import:<id>" (a full drop)
    left_by = UnicodeAttribute(null=True)
    #: Source; None on pupils made before it was kept (they count as from a file)
    source = UnicodeAttribute(null=True)
    #: the school, while they are a leaver (sparse): the retention job reads
    #: a school's leavers by leaving date, exactly those due to be erased
    leaver_key = UnicodeAttribute(null=True)
    #: fold(surname)|fold(first)|id and fold(first)|fold(surname)|id
    sort_name = UnicodeAttribute()
    first_sort = UnicodeAttribute()
    #: school#year and school#registration group
    year_key = UnicodeAttribute()
    reg_key = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    version = VersionAttribute()

    by_name = index("pupils-by-name", "school_id", UnicodeAttribute, "sort_name")
    by_first = index("pupils-by-first", "school_id", UnicodeAttribute, "first_sort")
    by_year = index("pupils-by-year", "year_key", UnicodeAttribute, "sort_name")
    by_reg = index("pupils-by-reg", "reg_key", UnicodeAttribute, "sort_name")
    by_leaving = index("pupils-by-leaving", "leaver_key", UnicodeAttribute, "left_on")


#: a pupil on roll, as a transaction checks it beside a membership it writes
ON_ROLL = Pupil.status.does_not_exist() | (Pupil.status == "active")


class UniqueKey(Model):
    """Claims a value (a UPN) within a school. Put with a does-not-exist
    condition in the same transaction as the record that holds it."""
    Meta = meta("uniques")
    school_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    owner_id = UnicodeAttribute()
