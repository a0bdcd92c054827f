"""OneRoster 1.2 Rostering, read-only, under ``/ims/oneroster/rostering/v1p2``:
each collection, each record by ``sourcedId`` and the relations the spec
names, answered in its JSON shapes with its paging, sorting, filtering and
field selection (or_query.py). An API client needs ``oneroster.read``; a
person, ``manage_settings`` (it holds every pupil's birth date and every
group). Errors are the spec's ``imsx_StatusInfoDType`` (core/http.py)."""
from chalice import Blueprint

from ..accounts.permissions import DEMOGRAPHICS
from ..core.errors import ApiError
from ..core.http import json_response, route
from ..core.schema import string
from . import or_query
from .or_data import Roster

bp = Blueprint(__name__)
PREFIX = "/ims/oneroster/rostering/v1p2"
TAG = "oneroster"
SCOPE = "oneroster.read"
PERMISSION = "manage_settings"

#: the fields a filter, sort or selection may name, per kind of record
FIELDS = {
    "org": ["sourcedId", "status", "dateLastModified", "name", "type", "identifier"],
    "academicSession": ["sourcedId", "status", "dateLastModified", "title", "startDate", "endDate", "type",
                        "schoolYear"],
    "course": ["sourcedId", "status", "dateLastModified", "title", "courseCode", "schoolYear", "org"],
    "class": ["sourcedId", "status", "dateLastModified", "title", "classType", "course", "school", "terms"],
    "user": ["sourcedId", "status", "dateLastModified", "enabledUser", "givenName", "familyName", "roles",
             "grades", "identifier", "email", "primaryOrg"],
    "enrollment": ["sourcedId", "status", "dateLastModified", "user", "class", "school", "role", "beginDate",
                   "endDate"],
    "demographics": ["sourcedId", "status", "dateLastModified", "birthDate", "sex"],
}
LIST_QUERY = {
    "limit": (string(), "Records per page (1-1000, default 100)"),
    "offset": (string(), "The first record's position (default 0)"),
    "sort": (string(), "The field to sort by"), "orderBy": (string(enum=["asc", "desc"]), "asc or desc"),
    "filter": (string(), "field op 'value' (op: = != > >= < <= ~), or two joined by AND or OR"),
    "fields": (string(), "The fields to answer, comma-separated"),
}
ONE_QUERY = {"fields": LIST_QUERY["fields"]}


def base_url(request):
    """This service's absolute URL as the caller reached it (refs and Link headers use it)."""
    headers = request.headers or {}
    host = headers.get("host") or "localhost"
    proto = headers.get("x-forwarded-proto") or ("https" if "amazonaws.com" in host else "http")
    stage = (request.context or {}).get("stage")
    staged = f"/{stage}" if stage and "execute-api" in host else ""
    return f"{proto}://{host}{staged}{PREFIX}"


def roster(ctx, deltas=None):
    """The school's records for this request; with the records deleted in the last 30 days
    (``tobedeleted``) for a delta read, one whose filter names dateLastModified."""
    if deltas is None:
        deltas = "datelastmodified" in (ctx.query.get("filter") or "").lower()
    return Roster.of(base_url(ctx.request), ctx.caller.school, deltas=deltas)


def unknown(kind):
    return ApiError("not_found", f"No {kind} with that sourcedId in this school.", minor="unknownobject")


def answer_list(ctx, key, kind, records, path):
    q = or_query.parse(ctx.query, FIELDS[kind])
    page, total = or_query.select(records, q)
    return json_response({key: page}, headers=or_query.headers(base_url(ctx.request) + path, ctx.query, q, total))


def answer_one(ctx, key, kind, records, sourced_id):
    q = or_query.parse({"fields": ctx.query.get("fields")}, FIELDS[kind])
    found = next((r for r in records if r["sourcedId"] == sourced_id), None)
    if found is None:
        raise unknown(kind)
    if q.fields:
        found = {f: found[f] for f in q.fields if f in found}
    return {key: found}


# (collection path, list key, one key, kind, Roster method)
COLLECTIONS = [
    ("orgs", "orgs", "org", "org", "orgs"),
    ("schools", "orgs", "org", "org", "orgs"),
    ("academicSessions", "academicSessions", "academicSession", "academicSession", "sessions"),
    ("courses", "courses", "course", "course", "courses"),
    ("classes", "classes", "class", "class", "classes"),
    ("users", "users", "user", "user", "users"),
    ("students", "users", "user", "user", "students"),
    ("teachers", "users", "user", "user", "teachers"),
    ("enrollments", "enrollments", "enrollment", "enrollment", "enrollments"),
    ("demographics", "demographics", "demographics", "demographics", "demographics"),
]


def _register(path, list_key, one_key, kind, method):
    """The list and the one-record route of a collection."""
    def list_view(ctx):
        return answer_list(ctx, list_key, kind, getattr(roster(ctx), method)(), f"/{path}")
    list_view.__name__ = f"oneroster_{path}"

    def one_view(ctx, sourcedId):
        found = roster(ctx, deltas=False)
        try:
            return answer_one(ctx, one_key, kind, getattr(found, method)(), sourcedId)
        except ApiError as exc:  # not among the live: deleted in the last 30 days? (one Query more)
            if exc.code != "not_found":
                raise
            found.deltas = True
            return answer_one(ctx, one_key, kind, getattr(found, method)(), sourcedId)
    one_view.__name__ = f"oneroster_{path}_one"
    common = dict(tag=TAG, scope=DEMOGRAPHICS if kind == "demographics" else SCOPE, permission=PERMISSION)
    route(bp, f"/{path}", "GET", summary=f"OneRoster: all {path}", query=LIST_QUERY, **common)(list_view)
    route(bp, f"/{path}/{{sourcedId}}", "GET", summary=f"OneRoster: one of {path}", query=ONE_QUERY,
          **common)(one_view)


for _collection in COLLECTIONS:
    _register(*_collection)


def _related(ctx, key, kind, records, what, path):
    if records is None:
        raise unknown(what)
    return answer_list(ctx, key, kind, records, path)


@route(bp, "/schools/{schoolSourcedId}/classes", "GET", summary="OneRoster: a school's classes", tag=TAG,
       scope=SCOPE, permission=PERMISSION, query=LIST_QUERY)
def school_classes(ctx, schoolSourcedId):
    r = roster(ctx)
    found = r.classes() if schoolSourcedId == r.school.school_id else None
    return _related(ctx, "classes", "class", found, "school", f"/schools/{schoolSourcedId}/classes")


# (owner collection, its parameter, related collection, list key, kind, role, Roster method)
RELATIONS = [
    ("classes", "classSourcedId", "students", "users", "user", "student", "class_members"),
    ("classes", "classSourcedId", "teachers", "users", "user", "teacher", "class_members"),
    ("students", "studentSourcedId", "classes", "classes", "class", "student", "classes_of"),
    ("teachers", "teacherSourcedId", "classes", "classes", "class", "teacher", "classes_of"),
]


def _register_relation(owner, param, related, key, kind, role, method):
    """A relation's route: the records of one class (students, teachers) or one person (classes)."""
    path = f"/{owner}/{{{param}}}/{related}"

    def view(ctx, **ids):
        owner_id = ids[param]
        found = getattr(roster(ctx), method)(owner_id, role)
        return _related(ctx, key, kind, found, owner[:-1] if owner != "classes" else "class",
                        f"/{owner}/{owner_id}/{related}")
    view.__name__ = f"oneroster_{owner}_{related}"
    route(bp, path, "GET", summary=f"OneRoster: a {owner[:-1] if owner != 'classes' else 'class'}'s {related}",
          tag=TAG, scope=SCOPE, permission=PERMISSION, query=LIST_QUERY)(view)


for _relation in RELATIONS:
    _register_relation(*_relation)
