"""User groups and their permissions, kept on the school record.

Edits load the school and save it conditioned on its version; a concurrent
change to the school retries (an edit of one group replaces only that group)."""
from pynamodb.exceptions import PutError

from ..accounts.models import School
from ..accounts.permissions import ADMIN_GROUP, PERMISSIONS, STANDARD_GROUPS, group_named
from ..core.db import Tx, TxFailed
from ..core.errors import ApiError, FieldError, validation_failed
from ..core import audit
from .staff import groups_of


def list_groups(school):
    groups = groups_of(school)
    return {"items": [{"name": name, "permissions": sorted(g.get("permissions") or []),
                       "standard": name in STANDARD_GROUPS}
                      for name, g in sorted(groups.items())],
            "permissions": [{"name": k, "description": v} for k, v in PERMISSIONS.items()]}


def check_permissions(name, permissions):
    errors = []
    unknown = sorted(set(permissions) - set(PERMISSIONS))
    if unknown:
        errors.append(FieldError("permissions", "invalid_permission",
                                 f"Unknown permission(s): {', '.join(unknown)}. "
                                 f"Use: {', '.join(PERMISSIONS)}."))
    if name == ADMIN_GROUP and "manage_settings" not in permissions:
        errors.append(FieldError("permissions", "admin_needs_settings",
                                 "The Admin Team must keep 'manage_settings', or nobody could change "
                                 "permissions again."))
    if not name or len(name) > 100 or name != name.strip():
        errors.append(FieldError("name", "invalid_name",
                                 "A user group's name must be 1–100 characters with no spaces at its ends."))
    return errors


def spelling_problem(groups, name):
    """A new group named as an existing one but for case, accents or spaces
    ("teachers" beside Teachers) is refused: it would be two groups nobody
    tells apart."""
    known = group_named(groups, name)
    if known != name and known in groups:
        return FieldError("name", "similar_user_group", f"'{name}' is the {known} group (case and spaces are "
                          f"ignored): change {known}, or choose a name of its own.")
    return None


def put_group(caller, name, permissions, attempts=3):
    errors = check_permissions(name, permissions)
    if errors:
        raise validation_failed(errors)
    new = sorted(set(permissions))
    for attempt in range(attempts):
        school = School.get(caller.school_id, consistent_read=True) if attempt else caller.school
        groups = groups_of(school)
        problem = spelling_problem(groups, name)
        if problem:
            raise validation_failed([problem])
        before = groups.get(name)
        groups[name] = {"permissions": new, "standard": name in STANDARD_GROUPS}
        if before is not None and sorted(before.get("permissions") or []) == new:
            break
        school.user_groups = groups
        tx = Tx()
        tx.put("school", school)
        audit.stage(tx, audit.entry(caller, "create" if before is None else "update", "user_group", name,
                                    {"permissions": sorted((before or {}).get("permissions") or [])} if before else {},
                                    {"permissions": new}))
        try:
            tx.commit()
            break
        except (TxFailed, PutError):
            continue
    else:
        raise ApiError("conflict", "The school's settings changed while saving; try again.")
    return {"name": name, "permissions": new, "standard": name in STANDARD_GROUPS}
