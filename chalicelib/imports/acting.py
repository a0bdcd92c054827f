"""Who a step of an import acts as: the person who did it (matched the
columns, fixed the row, pressed Import), or the school itself for a drop;
and the privilege ceiling a staff row is checked against for them."""
from types import SimpleNamespace


from ..accounts.models import School, User
from ..accounts.permissions import FALLBACK_GROUP, Caller
from ..core.db import batch_get
from ..core.errors import ApiError, FieldError
from ..roster import staff as staff_records
from .models import DROP_CREATOR


def ceiling_for(actor, existing):
    """A check that refuses a staff row giving someone rights ``actor`` lacks
    (the privilege ceiling, as for a form): its error is on ``user_group``."""
    user_groups = staff_records.groups_of(actor.school)

    def check(result):
        if not result.ok or result.action not in ("create", "update"):
            return
        if result.action == "create":
            groups = [result.cleaned.get("user_group") or FALLBACK_GROUP]
        else:
            groups = staff_records.groups_to_check(existing.by_id[result.target_id].values.get("user_group"),
                                                   result.changes or {})
            if not groups:
                return
        try:
            actor.require_within(user_groups, *groups)
        except ApiError as exc:
            result.errors.append(FieldError("user_group", exc.code, exc.message))
            result.action = None
    return check


def actor_for(imp, user_id=None):
    """Who a step of an import acts as: the person who did it (``user_id``:
    whoever matched the columns or pressed Import), or the school itself for
    a drop."""
    user_id = user_id or imp.committed_by or imp.created_by
    if DROP_CREATOR in (user_id, imp.created_by):
        return Caller.for_school(School.get(imp.school_id, consistent_read=True))
    found = batch_get({"school": (School, {"school_id": imp.school_id}),
                       "user": (User, {"school_id": imp.school_id, "user_id": user_id})})
    user = found["user"]
    if user is None:  # gone since: acts with no rights (so refuses what needs them)
        user = SimpleNamespace(first_name="A former", surname="member of staff", user_group="",
                               email_verified=True, user_id=user_id)
    return Caller.for_user(found["school"], user)
