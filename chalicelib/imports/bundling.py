"""A roster bundle as one import (kind ``bundle``): read, its school and
grades chosen at the mapping step, then its people checked and written as
**parts**, one import of each kind (staff, pupils) that the bundle made.

Each part is an ordinary import of a CSV in our own columns that the bundle
wrote (so its rows are checked, fixed, held and written by the same code as
any other file, each with its own refused rows); the bundle's own record
shows them together and moves them on together: one review, one commit.
Every step is safe to run twice: a part's id is the bundle's and its kind,
and its status says what is done."""
import csv
import io
import tempfile
from contextlib import contextmanager

from pynamodb.exceptions import DoesNotExist

from ..accounts.models import User
from ..core import config
from ..core.clients import client as s3
from ..core.errors import ApiError, FieldError, validation_failed
from ..roster.fields import field_headers
from ..groups import classes as class_groups
from . import bundle, storage
from .acting import actor_for
from .bundle import GradesAs
from .models import Import, Status
from .store import fail, tidy_files, transition
from .workbook import Format

KIND = "bundle"
#: the order parts are written in: staff before pupils (a class's teachers first)
PARTS = ("staff", "pupils")
#: the bundle's fields of each part, in the columns of the part's CSV
PART_FIELDS = {"staff": ("first_name", "surname", "email", "job_role", "user_group", "external_id"),
               "pupils": ("first_name", "surname", "date_of_birth", "gender", "year_group", "upn", "external_id")}
#: what the mapping step of a bundle takes
CHOICES = ("org", "grades_as")


def part_id(import_id, kind):
    return f"{import_id}-{kind}"


@contextmanager
def _opened(imp):
    with storage.download(imp.s3_key, imp.etag) as raw:
        book = bundle.open_bundle(raw)
        yield book, bundle.inspect(book)


def sniff(imp):
    """The bundle's flavour, files and schools: on to mapping (where the
    school, if several, and the reading of grades are chosen), or failed."""
    if imp.kind not in (KIND, "pupils", "staff"):
        fail(imp, bundle.Unreadable.code, "A zip is read as a roster bundle of pupils and staff. Import "
             f"{imp.kind} as a CSV or .xlsx.")
        return False
    try:
        with _opened(imp) as (_book, info):
            summary = info.as_dict()
    except bundle.Unreadable as exc:
        fail(imp, exc.code, exc.message)
        return False
    orgs = summary["orgs"]
    suggested = {"org": orgs[0]["sourcedId"] if len(orgs) == 1 else None, "grades_as": GradesAs.YEAR}
    return transition(imp, Status.MAPPING, kind=KIND, file_format=Format.BUNDLE, bundle=summary,
                      suggested_mapping=suggested, rows_total=sum(o["users"] for o in orgs), rows_processed=0)


def check_choice(imp, body):
    """{org, grades_as} of a bundle's mapping step, or 422 saying what is wrong."""
    unknown = sorted(set(body) - set(CHOICES))
    errors = [FieldError(f, "unknown_field", f"A bundle takes {', '.join(CHOICES)}; '{f}' is not one.")
              for f in unknown]
    orgs = {o["sourcedId"]: o for o in (imp.bundle or {}).get("orgs") or []}
    org = body.get("org", (imp.suggested_mapping or {}).get("org"))
    if org is None or org not in orgs:
        listed = "; ".join(f"{o['sourcedId']} ({o['name']})" for o in orgs.values())
        errors.append(FieldError("org", "required" if org is None else "invalid_choice",
                                 f"Say which school of this bundle to import: one of {listed}."))
    grades_as = body.get("grades_as", GradesAs.YEAR)
    if grades_as not in tuple(GradesAs):
        errors.append(FieldError("grades_as", "invalid_choice", "Use 'year' (01-13 are Years 1-13) or "
                                 "'us_grade' (a US grade: its year is the grade + 1)."))
    if errors:
        raise validation_failed(errors)
    return {"org": org, "grades_as": str(grades_as)}


def validate(imp, validate_part):
    """Write each part's CSV from the bundle, then check each part as its
    own import (``validate_part``: the import's own validation); the bundle
    moves to review with their summaries."""
    choice = imp.mapping or {}
    try:
        files, skipped, classes = _write_parts(imp, choice.get("org"),
                                               GradesAs(choice.get("grades_as") or GradesAs.YEAR))
    except bundle.Unreadable as exc:
        fail(imp, exc.code, exc.message)
        return False
    except storage.FileChanged:
        fail(imp, "file_changed", "This file was replaced while we were reading it. Upload it again (once) "
             "to import it.")
        return False
    parts = {}
    for kind in PARTS:
        if files.get(kind) is None:
            continue  # none of this kind in the bundle: nothing is checked, nobody leaves
        part = _new_part(imp, kind, *files[kind])
        validate_part(part)
        part.refresh(consistent_read=True)
        if part.status != Status.REVIEW:
            fail(imp, (part.error or {}).get("code", "processing_failed"), (part.error or {}).get("message", ""))
            return False
        parts[kind] = part.import_id
    summaries = {k: Import.get(imp.school_id, i, consistent_read=True).summary for k, i in parts.items()}
    summary = {**_totals(summaries.values()), "parts": summaries, "skipped": skipped,
               "classes": classes}
    return transition(imp, Status.REVIEW, expect=Status.VALIDATING, condition=Import.run == imp.run,
                      summary=summary, parts=parts, rows_processed=summary.get("rows", 0))


#: classes the review lists by name (the counts cover them all)
REVIEW_CLASSES = 200


def _class_review(imp, classes):
    """What the commit will do to the school's class groups, for the review
    (and, when whoever checked the bundle may not sync them, that it won't)."""
    if classes is None:
        return None
    held = class_groups.class_groups(imp.school_id)
    missing = class_groups.rights_missing(actor_for(imp))
    counts, first = class_groups.preview(imp.school_id, classes, held, listed=REVIEW_CLASSES)
    return {**counts, **(class_groups.left_alone(missing) if missing else {}),
            "items": [{"name": c.name, "external_id": c.external_id, "pupils": len(c.pupils),
                       "teachers": len(c.teachers), "new": c.external_id not in held} for c in first]}


def _sync_classes(imp):
    """The commit's class groups: synced from the bundle's classes of the
    chosen school (None when it has none: they are left alone), or left
    alone when the review said so (whoever checked it lacked the rights a
    sync takes: the commit does what the review showed) or whoever pressed
    Import lacks them."""
    with _opened(imp) as (book, info):
        classes = bundle.classes(book, info, (imp.mapping or {}).get("org"))
        if classes is None:
            return None
        reviewed = ((imp.summary or {}).get("classes") or {})
        actor = actor_for(imp)
        missing = sorted(set(reviewed.get("missing") or ()) | set(class_groups.rights_missing(actor)))
        if missing or reviewed.get("left_alone"):
            return class_groups.left_alone(missing)
        return class_groups.sync(actor, imp.school_id, classes).as_dict()


def _write_parts(imp, org, grades_as):
    """{kind: (S3 key, ETag)} of each part's CSV (None for a kind with nobody), who was left out, and
    the review of its classes (read while the zip is open)."""
    headers = field_headers("pupils") | field_headers("staff")
    spools, writers = {}, {}
    for kind in PARTS:
        spools[kind] = io.TextIOWrapper(tempfile.TemporaryFile(mode="w+b"), encoding="utf-8", newline="")
        writers[kind] = csv.writer(spools[kind])
        writers[kind].writerow([headers[f] for f in PART_FIELDS[kind]])
    counts = dict.fromkeys(PARTS, 0)
    known = _known_staff(imp.school_id)

    def add(kind, values):
        counts[kind] += 1
        if kind == "staff" and (values.get("external_id") in known or values.get("email", "").lower() in known):
            values = {**values, "user_group": "", "job_role": ""}  # (blank: what the school set stays)
        writers[kind].writerow([values.get(f, "") for f in PART_FIELDS[kind]])

    try:
        with _opened(imp) as (book, info):
            skipped = bundle.people(book, info, org, grades_as, on_person=add).skipped
            classes = _class_review(imp, bundle.classes(book, info, org))
        return {kind: _upload(imp, kind, spools[kind]) if counts[kind] else None for kind in PARTS}, skipped, classes
    finally:
        for spool in spools.values():
            spool.close()


def _known_staff(school_id):
    """The school's staff by MIS id and email (lower case): a bundle gives a
    user group and role only to someone new, never changes one a school set."""
    known = set()
    for u in User.query(school_id, attributes_to_get=["user_id", "email", "external_id"], consistent_read=True):
        known.update(v for v in (u.external_id, (u.email or "").lower()) if v)
    return known


def _upload(imp, kind, spool):
    """One PUT streamed from the part's file (as storage.Spool does): (key, ETag)."""
    spool.flush()
    spool.buffer.seek(0)
    key = part_key(imp, kind)
    return key, s3().put_object(Bucket=config.bucket_name(), Key=key, Body=spool.buffer)["ETag"].strip('"')


def part_key(imp, kind, run=None):
    return f"{config.STAGING_PREFIX}{imp.school_id}/{imp.import_id}/run-{run or imp.run}-{kind}.csv"


def _new_part(imp, kind, key, etag):
    """The part of ``kind``: an import of the CSV the bundle wrote, mapped to
    our fields, validating (made again, from the start, by a repeat)."""
    headers = field_headers(kind)
    part = Import(school_id=imp.school_id, import_id=part_id(imp.import_id, kind), kind=kind, source=imp.source,
                  filename=f"{imp.filename} ({kind})", s3_key=key, etag=etag, status=Status.VALIDATING,
                  created_by=imp.created_by, validated_by=imp.validated_by, created_at=imp.created_at,
                  updated_at=imp.updated_at, file_format=Format.CSV, encoding="utf-8", delimiter=",",
                  header_line=1, columns=[{"name": headers[f], "samples": []} for f in PART_FIELDS[kind]],
                  mapping={headers[f]: f for f in PART_FIELDS[kind]}, run=imp.run, ttl=imp.ttl,
                  parent_id=imp.import_id)
    part.save()
    return part


def _totals(summaries):
    """The parts' counts added up (what the bundle's own summary or result shows)."""
    totals = {}
    for counts in summaries:
        for key, value in (counts or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    return totals


def parts_of(imp):
    """{kind: part import} of a bundle, in the order they are written."""
    ids = imp.parts or {}
    found = {}
    for kind in PARTS:
        if kind in ids:
            try:
                found[kind] = Import.get(imp.school_id, ids[kind], consistent_read=True)
            except DoesNotExist:
                continue
    return found


def commit(imp, commit_part):
    """Write each part (staff, then pupils) with ``commit_part`` (the import's
    own commit), each once: a part committed already is left as it is."""
    results = {}
    for kind, part in parts_of(imp).items():
        if part.status == Status.REVIEW:
            transition(part, Status.COMMITTING, expect=Status.REVIEW, rows_processed=0,
                       commit_started_at=imp.commit_started_at, committed_by=imp.committed_by,
                       decided_by=imp.decided_by)
        if part.status == Status.COMMITTING:
            commit_part(part)
        results[kind] = part.result
    result = {**_totals(results.values()), "parts": results}
    classes = _sync_classes(imp)
    if classes is not None:  # (a bundle without classes leaves the class groups alone)
        result["classes"] = classes
    transition(imp, Status.COMMITTED, expect=Status.COMMITTING, result=result, rows_processed=imp.rows_total or 0)
    return result


def finish(imp, to=Status.DONE):
    """The bundle is over (completed, discarded): so are its parts, and their files go."""
    for part in parts_of(imp).values():
        if part.status not in (Status.DONE, Status.FAILED, Status.DISCARDED):
            transition(part, to)
            tidy_files(part)


def refuse_on_part(imp, what):
    """409 for acting on a part alone (it moves with its bundle)."""
    if imp.parent_id:
        raise ApiError("conflict", f"This import is part of the bundle {imp.parent_id}; {what} the bundle.")
