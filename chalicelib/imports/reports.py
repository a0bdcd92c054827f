"""How a drop went, by email to the school's admins (the holders of
``manage_settings``): held for approval (always), and once it is over, as
the school's ``sync_report`` setting says (``always``; ``problems_only``,
the default: refused rows, a hold or a failure; ``never``).

The outbox keeps only who and which import: the email is rendered when it
is sent, from the import as it is then, so no child's details wait in the
outbox. Each admin gets one email an import and event, however often the
step that sends it runs.
"""
from html import escape

from pynamodb.exceptions import DoesNotExist, PutError

from ..accounts.models import School, User
from ..accounts.permissions import effective_permissions
from ..core import config
from ..core.clock import iso
from ..core.maps import plain
from ..notify.outbox import new_message, register_renderer
from .models import Import, ImportRow, RowStatus, Status
from .store import import_key

#: refused rows shown in a report (the rest are in the console)
FIRST_REFUSED = 10
COUNTS = (("created", "added"), ("updated", "changed"), ("unchanged", "unchanged"), ("restored", "back on roll"),
          ("left", "marked as leavers"), ("disabled", "disabled"), ("enabled", "enabled again"),
          ("kept_manual", "not in the file, kept (added by hand)"), ("refused", "refused at import"))


def _is_admin(user, school):
    """Enabled, with a verified address, in a user group that holds manage_settings."""
    return (user is not None and user.status != "disabled" and bool(user.email_verified)
            and "manage_settings" in effective_permissions(plain(school.user_groups), user.user_group)[0])


def _admins(school):
    return [u for u in User.query(school.school_id) if _is_admin(u, school)]


def due(school, imp):
    """Whether the end of this drop is reported, by the school's setting."""
    setting = school.sync_report or "problems_only"
    if setting == "never":
        return imp.status == Status.HELD  # a hold always asks for a person
    if setting == "always":
        return True
    summary = imp.summary or {}
    return (imp.status in (Status.HELD, Status.FAILED) or summary.get("errors", 0) > 0
            or (imp.result or {}).get("refused", 0) > 0)


def tell_admins(imp, school=None):
    """Queue the report of this drop's state for each admin, once each."""
    school = school or School.get(imp.school_id)
    if imp.source != "drop" or not due(school, imp):
        return 0
    queued = 0
    for admin in _admins(school):
        message = new_message("sync_report", imp.school_id, admin.user_id, admin.email)
        message.message_id = f"sync-{imp.import_id}-{imp.status}-{admin.user_id}"
        message.about = f"{imp.import_id}#{imp.status}"  # the event told of, whatever the import's state at send
        try:
            message.save(condition=type(message).message_id.does_not_exist())
            queued += 1
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            continue  # queued by an earlier run of this step
    return queued


#: what a bundle's result says of its class groups
CLASS_COUNTS = (("created", "made"), ("updated", "changed"), ("ended", "ended (gone from the MIS)"))


def _counts(imp):
    result = imp.result or {}
    counts = [f"{result[key]:,} {label}" for key, label in COUNTS if result.get(key)]
    classes = result.get("classes") or {}
    counts += [f"{classes[key]:,} class groups {label}" for key, label in CLASS_COUNTS if classes.get(key)]
    return counts


def _refused(imp):
    """The first refused rows by line and problem, without their cells: an
    email travels further than the console (the values are there). A
    bundle's are its parts' (staff, then pupils), named by file and row."""
    sources = [(f"{kind.capitalize()} row", import_id) for kind, import_id in (imp.parts or {}).items()] \
        or [("Row", imp.import_id)]
    lines = []
    for label, import_id in sources:
        rows = ImportRow.query(import_key(imp.school_id, import_id), limit=FIRST_REFUSED,
                               filter_condition=(ImportRow.run == imp.run) & (ImportRow.status == RowStatus.ERROR))
        lines += [f"{label} {int(r.row)}: " + "; ".join(_problem(e) for e in (r.errors or [])) for r in rows]
    return lines[:FIRST_REFUSED]


def _problem(error):
    field = str(error.get("field") or "row").split(".")[-1].replace("_", " ")
    return f"{field}: {str(error.get('code') or 'invalid').replace('_', ' ')}"


def _lines(imp):
    """(subject, lines of text) of a drop's report."""
    summary = imp.summary or {}
    head = f"The file {imp.filename} (received {iso(imp.created_at)})"
    if imp.status == Status.HELD:
        hold = imp.hold or {}
        would = [f"{summary.get(k, 0):,} {label}" for k, label in
                 (("create", "to add"), ("update", "to change"), ("leave", "to mark as leavers"),
                  ("restore", "to bring back"))]
        return "A roster file is waiting for your approval", [
            f"{head} has not been imported: {hold.get('message', '')}", "It would: " + ", ".join(would) + ".",
            "Look at what it would change, then approve or discard it, in the console's Import screen."]
    if imp.status == Status.FAILED:
        error = imp.error or {}
        return "A roster file could not be imported", [f"{head} was not imported: {error.get('message', '')}"]
    lines = [f"{head} was imported: " + (", ".join(_counts(imp)) or "nothing to change") + "."]
    refused = _refused(imp) if summary.get("errors") else []
    if refused:
        lines += [f"{summary['errors']:,} rows were refused and wait for you to fix them. The first:"] + refused
    return "Your nightly roster import", lines


@register_renderer("sync_report")
def render_sync_report(message, now=None):
    """Rendered at send time from the import, to someone still an admin;
    nothing (the message is cancelled) once the import is gone, the
    recipient is no longer an admin, or a hold told of is over."""
    import_id, _, event = (message.about or "").partition("#")
    try:
        imp = Import.get(message.school_id, import_id)
        school = School.get(message.school_id)
        user = User.get(message.school_id, message.user_id)
    except DoesNotExist:
        return None
    if not _is_admin(user, school) or user.email != message.to or (event == Status.HELD and imp.status != Status.HELD):
        return None
    subject, lines = _lines(imp)
    link = f"{config.console_url()}/#/import/{imp.import_id}"
    text = "\n\n".join(lines + [f"The import: {link}"]) + "\n"
    html = "".join(f"<p>{escape(line)}</p>" for line in lines) + f'<p><a href="{link}">The import</a></p>'
    return {"subject": subject, "text": text, "html": html}
