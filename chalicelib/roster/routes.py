"""HTTP routes for pupils, staff, user groups and the audit log."""
from datetime import datetime, timezone
from urllib.parse import unquote

from chalice import Blueprint

from ..core.errors import ApiError
from ..core.http import route
from ..core.paging import parse_limit
from ..core.schema import array, boolean, integer, obj, string
from ..core import audit
from . import audit_names, pupils, settings, staff, staff_access, user_groups
from ..core.downloads import csv_response, stored_link
from . import exports
from .exports import KINDS

bp = Blueprint(__name__)

NULLABLE = {"nullable": True}
PUPIL_FIELDS = dict(
    first_name=string(100), surname=string(100),
    date_of_birth=string(description="ISO yyyy-mm-dd (dd/mm/yyyy accepted)"),
    gender=string(description="M, F, Male, Female (any case) or null", **NULLABLE),
    year_group=string(description="N1, N2, R, 1-14; 'Year 7', 'Y7', '7' accepted"),
    registration_group=string(50, **NULLABLE), upn=string(description="13-character UPN", **NULLABLE),
)
PUPIL_STATUS = dict(status=string(enum=["active", "left"], description="left: no longer on roll (kept)"),
                    left_on=string(description="ISO yyyy-mm-dd; with status left (default today)", **NULLABLE))
PUPIL = obj(["id", "first_name", "surname", "date_of_birth", "year_group", "version"],
            id=string(), version=integer(), created_at=string(), updated_at=string(),
            source=string(enum=["manual", "import"], nullable=True,
                          description="manual: added by a person (a file never makes them a leaver)"),
            **PUPIL_FIELDS, **PUPIL_STATUS)
STAFF_FIELDS = dict(first_name=string(100), surname=string(100), email=string(254),
                    job_role=string(100, **NULLABLE), user_group=string(100, **NULLABLE))
STAFF = obj(["id", "first_name", "surname", "email", "user_group", "permissions", "version"],
            id=string(), version=integer(), permissions=array(string()), user_group_known=boolean(),
            status=string(enum=["invited", "active", "disabled"]), email_verified=boolean(), mfa_enabled=boolean(), note=string(),
            source=string(enum=["manual", "import"], nullable=True), disabled_by_sync=boolean(),
            **STAFF_FIELDS)


def page_of(item_schema):
    return obj(["items", "next"], items=array(item_schema), next=string(nullable=True))


PAGING = {"limit": (integer(minimum=1, maximum=500), "Page size (default 50, max 500)"),
          "next": (string(), "Cursor from the previous page's 'next'")}
DELETED = obj(["deleted"], deleted=string())


# Pupils
@route(bp, "/pupils", "POST", summary="Add a pupil", tag="pupils", permission="manage_roster",
       verified=True, body=obj(["first_name", "surname", "date_of_birth", "year_group"], **PUPIL_FIELDS), validate=False,
       status=201, response=PUPIL)
def create_pupil(ctx):
    return pupils.create(ctx.caller, ctx.body)


@route(bp, "/pupils", "GET", scope="roster.read", summary="List or search pupils (name order)", tag="pupils",
       permission="view_roster", response=page_of(PUPIL),
       query={"q": (string(), "Prefix of first name or surname; accents and case ignored"),
              "year_group": (string(), "Only this year group"),
              "status": (string(enum=["active", "left"]), "Only pupils on roll, or only those who have left"),
              "registration_group": (string(), "Only this registration group"), **PAGING})
def list_pupils(ctx):
    return pupils.list_pupils(ctx.caller, ctx.query)


@route(bp, "/pupils/{pupil_id}", "GET", scope="roster.read", summary="One pupil", tag="pupils",
       permission="view_roster", response=PUPIL)
def get_pupil(ctx, pupil_id):
    return pupils.as_json(pupils.get(ctx.caller.school_id, pupil_id))


@route(bp, "/pupils/{pupil_id}", "PATCH", summary="Change a pupil (send the version you read)",
       tag="pupils", permission="manage_roster", response=PUPIL,
       body=obj(["version"], version=integer(), **PUPIL_FIELDS, **PUPIL_STATUS), validate=False)
def update_pupil(ctx, pupil_id):
    return pupils.update(ctx.caller, pupil_id, ctx.body)


@route(bp, "/pupils/{pupil_id}", "DELETE", summary="Delete a pupil", tag="pupils",
       permission="manage_roster", response=DELETED)
def delete_pupil(ctx, pupil_id):
    return pupils.delete(ctx.caller, pupil_id)


@route(bp, "/pupils/export", "GET", summary="Every pupil as CSV, in name order (the import template's "
       "columns and Pupil ID; a cell a spreadsheet would run as a formula starts with ')", tag="pupils",
       permission="view_roster", response=string(), content_type="text/csv", big_files=True)
def export_pupils(ctx):
    return _export(ctx, "pupils")


def _export(ctx, kind):
    return csv_response(ctx.caller.school_id, *exports.export(ctx.caller, kind))


@route(bp, "/exports", "POST", summary="The whole roster of a kind as CSV, stored for a few minutes: "
       "returns a link to download it (what the console uses; any size)", tag="pupils",
       permission="view_roster", status=201, body=obj(["kind"], kind=string(enum=list(KINDS))),
       response=obj(["kind", "url", "filename", "bytes", "expires_at"], kind=string(), url=string(),
                    filename=string(), bytes=integer(), expires_at=string()))
def create_export(ctx):
    kind = ctx.body["kind"]
    name, text = exports.export(ctx.caller, kind)
    return {"kind": kind, **stored_link(ctx.caller.school_id, name, text.encode("utf-8"))}


# Staff
@route(bp, "/staff", "POST", summary="Add a staff member and email them an invitation", tag="staff",
       permission="manage_roster", verified=True, status=201, response=STAFF,
       body=obj(["first_name", "surname", "email"], **STAFF_FIELDS), validate=False)
def create_staff(ctx):
    return staff.create(ctx.caller, ctx.body)


@route(bp, "/staff", "GET", scope="roster.read", summary="List or search staff (name order)", tag="staff",
       permission="view_roster", response=page_of(STAFF),
       query={"q": (string(), "Prefix of first name or surname"),
              "user_group": (string(), "Only this user group"),
              "status": (string(enum=["invited", "active", "disabled"]), "Only this status"), **PAGING})
def list_staff(ctx):
    return staff.list_staff(ctx.caller, ctx.query)


@route(bp, "/staff/{user_id}", "GET", scope="roster.read", summary="One staff member", tag="staff",
       permission="view_roster", response=STAFF)
def get_staff(ctx, user_id):
    return staff.as_json(staff.get(ctx.caller.school_id, user_id), ctx.caller.school)


@route(bp, "/staff/{user_id}", "PATCH",
       summary="Change a staff member (user group needs manage_settings)", tag="staff",
       permission="manage_roster", response=STAFF,
       body=obj(["version"], version=integer(), **STAFF_FIELDS), validate=False)
def update_staff(ctx, user_id):
    return staff.update(ctx.caller, user_id, ctx.body)


@route(bp, "/staff/{user_id}", "DELETE", summary="Delete a staff member", tag="staff",
       permission="manage_roster", response=DELETED)
def delete_staff(ctx, user_id):
    return staff.delete(ctx.caller, user_id)


@route(bp, "/staff/export", "GET", summary="Every staff member as CSV, in name order (the import "
       "template's columns; a cell a spreadsheet would run as a formula starts with ')", tag="staff",
       permission="view_roster", response=string(), content_type="text/csv", big_files=True)
def export_staff(ctx):
    return _export(ctx, "staff")


@route(bp, "/staff/{user_id}/invite", "POST", summary="Email the invitation again", tag="staff",
       permission="manage_roster", response=obj(["queued", "status"], queued=boolean(), status=string()))
def resend_invitation(ctx, user_id):
    return staff.resend_invitation(ctx.caller, user_id)


@route(bp, "/staff/{user_id}/disable", "POST", summary="Disable an account: sessions end, sign-in and "
       "emailed links stop; the record and its history stay", tag="staff", permission="manage_roster",
       response=STAFF)
def disable_staff(ctx, user_id):
    return staff_access.disable(ctx.caller, user_id)


@route(bp, "/staff/{user_id}/enable", "POST", summary="Enable a disabled account again", tag="staff",
       permission="manage_roster", response=STAFF)
def enable_staff(ctx, user_id):
    return staff_access.enable(ctx.caller, user_id)


@route(bp, "/staff/{user_id}/mfa-reset", "POST", summary="Turn a colleague's two-factor sign-in off "
       "(a lost phone); they set it up again", tag="staff", permission="manage_settings", response=STAFF)
def reset_staff_mfa(ctx, user_id):
    return staff_access.reset_mfa(ctx.caller, user_id)


# User groups
USER_GROUP = obj(["name", "permissions", "standard"], name=string(), permissions=array(string()),
                 standard=boolean())


@route(bp, "/user-groups", "GET", scope="roster.read", summary="The school's user groups and the permissions there are",
       tag="user groups",
       response=obj(["items", "permissions"], items=array(USER_GROUP),
                    permissions=array(obj(["name", "description"], name=string(), description=string()))))
def list_user_groups(ctx):
    return user_groups.list_groups(ctx.caller.school)


@route(bp, "/user-groups/{name}", "PUT", summary="Set a user group's permissions (creates it if new)",
       tag="user groups", permission="manage_settings", response=USER_GROUP,
       body=obj(["permissions"], permissions=array(string(), maxItems=50)))
def put_user_group(ctx, name):
    return user_groups.put_group(ctx.caller, unquote(name), ctx.body["permissions"])


# Audit
@route(bp, "/audit", "GET", summary="The audit log, newest first (filtered, paged)", tag="audit",
       permission="manage_settings",
       query={"entity": (string(), "Only this record type (pupil, staff, group, membership, account, ...)"),
              "record_id": (string(), "Only this record"), "actor": (string(), "Only this actor's id"),
              "action": (string(), "Only this action (create, update, delete, export, login, ...)"),
              "from": (string(format="date-time"), "Entries at or after this time (ISO 8601)"),
              "to": (string(format="date-time"), "Entries at or before this time (ISO 8601)"), **PAGING},
       response=page_of(obj(["at", "actor_id", "action", "record_type", "record_id", "changes"],
                            at=string(), actor_id=string(), actor_name=string(), action=string(),
                            record_type=string(), record_id=string(), changes={"type": "object"},
                            record_name=string(nullable=True, description="Whom or what it is about, as "
                                               "named now (null: gone, e.g. an erased pupil)"))))
def list_audit(ctx):
    q = ctx.query
    where = audit.AuditFilter(entity=q.get("entity") or None, record_id=q.get("record_id") or None,
                              actor=q.get("actor") or None, action=q.get("action") or None,
                              since=_instant(q, "from"), until=_instant(q, "to"))
    return audit_names.named(ctx.caller.school_id,
                             audit.list_entries(ctx.caller.school_id, parse_limit(ctx.query), q.get("next"), where))


def _instant(query, name):
    """An ISO 8601 time from the query string as epoch seconds (400 if unreadable)."""
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError("bad_request", f"'{name}' must be an ISO 8601 time, e.g. 2026-12-01T09:00:00Z.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


# School settings
KEEP_IMPORTS = integer(minimum=7, maximum=3650, description="Days an import and its refused rows are kept "
                       "(its audit entries stay); applies to imports begun after the change")
INVITE_HOURS = integer(minimum=1, maximum=72, description="Hours an invitation link lasts (at most 72)")
IDLE_MINUTES = integer(minimum=15, maximum=480, description="Minutes without a request that end a session")
REQUIRE_MFA_FOR = array(string(100), maxItems=50, description="User groups whose members must sign in with "
                        "two factors")
SYNC_SETTINGS = dict(
    leaver_threshold=integer(minimum=0, maximum=100, description="Hold a drop that would mark more than this "
                             "% of those on roll as leavers (default 10)"),
    update_threshold=integer(minimum=0, maximum=100, description="Hold a drop that would change more than this "
                             "% of those on roll (default 75)"),
    drop_mode=string(enum=["auto", "review"], description="review: hold every drop for a person to approve"),
    sync_report=string(enum=["always", "problems_only", "never"], description="Email the admins how each drop "
                       "went: always, only when something needs them (default), or never"),
    keep_leavers_years=integer(minimum=1, maximum=25, nullable=True,
                               description="Erase leavers this many years after they left (default 6; null: never)"),
    final_year=string(enum=list(settings.YEAR_GROUPS), nullable=True,
                      description="The year group pupils leave from at the rollover (6, 11, 13...)"),
    keep_registration_groups=boolean(description="The rollover keeps registration groups (default: clears them)"),
    max_group_members=integer(minimum=1, maximum=5000, description="A teacher group holds at most this many "
                              "members (default 300)"),
    day_ends=string(8, description="HH:MM (school time) the school day ends (default 15:30)"),
    periods=array(obj(["name", "starts", "ends"], name=string(40), starts=string(8, description="HH:MM"),
                      ends=string(8, description="HH:MM")), maxItems=settings.MAX_PERIODS,
                  description="The school day's periods, in order (the console offers the end of the one on now)"))
SETTINGS = obj(["name", "timezone", "mark_leavers", "keep_imports_days", "invite_hours", "idle_minutes",
                "require_mfa_for"], name=string(200),
               timezone=string(64), mark_leavers=boolean(), keep_imports_days=KEEP_IMPORTS,
               invite_hours=INVITE_HOURS, idle_minutes=IDLE_MINUTES, require_mfa_for=REQUIRE_MFA_FOR,
               **SYNC_SETTINGS)


@route(bp, "/settings", "GET", summary="The school's settings", tag="settings", response=SETTINGS)
def get_settings(ctx):
    return settings.as_json(ctx.caller.school)


@route(bp, "/settings", "PATCH", summary="Change the school's name, timezone or leavers rule",
       tag="settings", permission="manage_settings", response=SETTINGS,
       body=obj([], name=string(200), timezone=string(64), mark_leavers=boolean(), keep_imports_days=KEEP_IMPORTS,
                invite_hours=INVITE_HOURS, idle_minutes=IDLE_MINUTES, require_mfa_for=REQUIRE_MFA_FOR,
                **SYNC_SETTINGS))
def patch_settings(ctx):
    return settings.update(ctx.caller, ctx.body)
