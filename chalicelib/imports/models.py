"""Import records. An import's rows live in S3 (the staging file of valid
rows) and, for rows with problems only, in ``ImportRow`` items; so a clean
50,000-row file costs no per-row DynamoDB writes until commit."""
from enum import StrEnum

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from ..core.db import meta

class Status(StrEnum):
    """Where an import is: uploading -> sniffing -> mapping -> validating ->
    review -> committing -> committed -> done; or failed (with its error)
    from any of them. A drop goes the same way without stopping at mapping
    or review, unless it is held (review -> held -> committing, or
    discarded). Moves are conditional updates (store.transition)."""
    UPLOADING = "uploading"
    SNIFFING = "sniffing"
    MAPPING = "mapping"
    VALIDATING = "validating"
    REVIEW = "review"
    COMMITTING = "committing"
    COMMITTED = "committed"
    DONE = "done"
    FAILED = "failed"
    #: a drop stopped before writing anything, for a person to approve or discard
    HELD = "held"
    DISCARDED = "discarded"


STATUSES = tuple(s.value for s in Status)


class RowStatus(StrEnum):
    """A refused row: still refused, fixed (written with the import), or
    written (fixed after the import was committed)."""
    ERROR = "error"
    FIXED = "fixed"
    WRITTEN = "written"


class Source(StrEnum):
    UPLOAD = "upload"
    DROP = "drop"


#: who a drop's import is created by (it acts with the school's rights)
DROP_CREATOR = "s3-drop"


class Import(Model):
    Meta = meta("imports")
    school_id = UnicodeAttribute(hash_key=True)
    #: time-ordered (hex milliseconds + random), so a reverse query is newest first
    import_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # pupils | staff | machines | bundle
    source = UnicodeAttribute(default="upload")  # upload | drop
    filename = UnicodeAttribute()
    s3_key = UnicodeAttribute()
    status = UnicodeAttribute()
    created_by = UnicodeAttribute()
    #: Who matched the columns (the rows are checked with their rights) and who
    #: pressed Import (the rows are written, and audited, as them).
    validated_by = UnicodeAttribute(null=True)
    committed_by = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()
    etag = UnicodeAttribute(null=True)
    #: the S3 object version the event named (a versioned bucket): what is deleted when it is over
    version_id = UnicodeAttribute(null=True)
    size = NumberAttribute(null=True)
    #: csv | xlsx | ods | xls (see workbook.py); a workbook's sheet read, and its visible sheets
    file_format = UnicodeAttribute(null=True)
    sheet = UnicodeAttribute(null=True)
    sheets = JSONAttribute(null=True)
    encoding = UnicodeAttribute(null=True)
    delimiter = UnicodeAttribute(null=True)
    header_line = NumberAttribute(null=True)
    columns = JSONAttribute(null=True)  # [{"name", "samples": [...]}]
    suggested_mapping = JSONAttribute(null=True)
    #: {column: "header" | "values"}: what each suggestion came from (values: a person confirms it)
    suggested_by = JSONAttribute(null=True)
    mapping = JSONAttribute(null=True)
    #: {column: "day_first" | "month_first" | "iso"}: how a date column was confirmed to read
    date_orders = JSONAttribute(null=True)
    #: bumped by each PUT mapping; a validation message for an older one is stale
    run = NumberAttribute(default=0)
    summary = JSONAttribute(null=True)  # rows, valid, errors, create, update, unchanged
    result = JSONAttribute(null=True)  # created, updated, unchanged, refused, left
    rows_total = NumberAttribute(null=True)
    rows_processed = NumberAttribute(default=0)
    error = JSONAttribute(null=True)  # {"code", "message"}
    #: why a drop is held, or was discarded: {"code", "message"}; who approved or discarded it
    hold = JSONAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    #: when committing began: fixes the keys of the import's audit entries
    commit_started_at = NumberAttribute(null=True)
    #: chunks of new pupils written, and group-count steps applied, so far:
    #: each moves in the transaction that does the work (see committing.py)
    commit_chunks = NumberAttribute(null=True)
    commit_counted = NumberAttribute(null=True)
    commit_progress = JSONAttribute(null=True)  # created, refused, group deltas so far
    #: the school's pupil epoch, read just before the roster this import was checked against
    pupil_epoch = NumberAttribute(null=True)
    #: a bundle (kind "bundle", bundling.py): what it holds ({flavour, files, orgs}), and its
    #: parts, {kind: import id}; a part names its bundle
    bundle = JSONAttribute(null=True)
    parts = JSONAttribute(null=True)
    parent_id = UnicodeAttribute(null=True)
    #: DynamoDB TTL: the import and its rows go after the school's retention
    #: period (keep_imports_days, default 90); their audit entries stay.
    ttl = NumberAttribute(null=True)


class ImportRow(Model):
    """A row that needs a person: its values as read, and its problems."""
    Meta = meta("import_rows")
    import_key = UnicodeAttribute(hash_key=True)  # school#import
    row = NumberAttribute(range_key=True)  # physical line in the file (header = 1)
    values = JSONAttribute()  # {field: raw text}
    errors = JSONAttribute()  # [{"field", "code", "message"}]
    status = UnicodeAttribute()  # error | fixed | written
    run = NumberAttribute(default=0)
    cleaned = JSONAttribute(null=True)
    action = UnicodeAttribute(null=True)  # create | update | unchanged
    target_id = UnicodeAttribute(null=True)
    target_version = NumberAttribute(null=True)
    ttl = NumberAttribute(null=True)  # the import's own (DynamoDB TTL)
