"""User groups and permissions: pure rules, no AWS.

A school's user groups live on its school record (a handful of names, each
with a permission list), so one read of the school answers every permission
question for a request.
"""
from dataclasses import dataclass, field

from ..core.maps import plain
from ..core.errors import ApiError
from ..core.text import fold

PERMISSIONS = {
    "view_roster": "See pupils and staff.",
    "manage_roster": "Add, edit and import pupils and staff.",
    "manage_settings": "Edit user groups, permissions, a staff member's user group and school settings; read the audit log.",
    "create_groups": "Create monitoring groups.",
    "add_any_user": "Add anyone in the school to a group, not only people visible in one's other groups.",
    "view_all_groups": "See every group, including unshared ones and All staff.",
}

#: What an API client (accounts/api_clients.py) may be given: read-only, each
#: a set of GET routes (a route names the scope that opens it; no write route
#: names one). The permissions each stands for decide what those views show.
SCOPES = {
    "roster.read": "Read pupils, staff and user groups.",
    "groups.read": "Read groups, their members and staff roles, and a member's groups.",
    "oneroster.read": "Read the roster through the OneRoster 1.2 rostering service.",
    "changes.read": "Read the change feed.",
    "oneroster.demographics": "Read pupils' birth dates and sex through OneRoster (with oneroster.read).",
}
SCOPE_PERMISSIONS = {
    "roster.read": ["view_roster"],
    "groups.read": ["view_roster", "view_all_groups"],
    "oneroster.read": ["view_roster", "view_all_groups"],
    # the feed holds every change of the roster and of every group: it sees what both of those see
    "changes.read": ["view_roster", "view_all_groups"],
    "oneroster.demographics": ["view_roster"],
}
#: The OAuth 2.0 scopes OneRoster 1.2 names: roster.readonly and
#: roster-core.readonly ask for ``oneroster.read``, roster-demographics.readonly
#: for ``oneroster.demographics`` (birth dates and sex): each only if the
#: client was given it.
ONEROSTER_URI = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ONEROSTER_SCOPES = tuple(ONEROSTER_URI + name for name in
                         ("roster.readonly", "roster-core.readonly", "roster-demographics.readonly"))
DEMOGRAPHICS_URI = ONEROSTER_URI + "roster-demographics.readonly"
#: the scope OneRoster's demographics routes name
DEMOGRAPHICS = "oneroster.demographics"
CLIENT_GROUP = "API client"

ADMIN_GROUP = "Admin Team"
FALLBACK_GROUP = "Teachers"

STANDARD_GROUPS = {
    "DSLs": ["view_roster", "create_groups", "add_any_user", "view_all_groups"],
    "School Business Manager": ["view_roster", "manage_roster", "manage_settings"],
    ADMIN_GROUP: sorted(PERMISSIONS),
    "SLTs": ["view_roster", "manage_roster", "create_groups", "add_any_user", "view_all_groups"],
    FALLBACK_GROUP: ["view_roster", "create_groups"],
    "TAs": ["view_roster"],
    "Governors": [],
}


def standard_user_groups():
    """The user groups every new school starts with: {name: {...}}."""
    return {name: {"permissions": sorted(perms), "standard": True}
            for name, perms in STANDARD_GROUPS.items()}


def group_named(user_groups, name):
    """The school's own spelling of a user group ``name`` (case, accents and
    spaces ignored: "teachers " is Teachers, never a new group), else the
    name as sent, trimmed."""
    if name is None:
        return None
    groups = user_groups or {}
    if name in groups:
        return name
    folded = fold(name)
    return next((known for known in groups if fold(known) == folded), name.strip())


def effective_permissions(user_groups, group_name):
    """(permissions, known): an unknown group gets the Teachers group's rights."""
    groups = user_groups or {}
    group_name = group_named(groups, group_name)
    if group_name in groups:
        return sorted(groups[group_name].get("permissions") or []), True
    fallback = groups.get(FALLBACK_GROUP) or {"permissions": STANDARD_GROUPS[FALLBACK_GROUP]}
    return sorted(fallback.get("permissions") or []), False


def rights_beyond(caller_permissions, *target_permissions):
    """The privilege ceiling, in one place: the permissions a target holds
    (before or after a change) that the caller does not. Empty means the
    caller may act on the target; a holder of ``manage_settings`` may act on
    anyone (they could give themselves any right anyway)."""
    held = set(caller_permissions or ())
    if "manage_settings" in held:
        return []
    wanted = set()
    for permissions in target_permissions:
        wanted |= set(permissions or ())
    return sorted(wanted - held)


def exceeds_caller_rights(missing, field_name="user_group"):
    """The 403 a call beyond the caller's rights answers (and a CSV row's error)."""
    names = ", ".join(f"'{m}'" for m in missing)
    message = (f"This person would hold rights you do not have ({names}). Only someone who holds "
               "them, or an admin with 'manage_settings', can do this.")
    return ApiError("exceeds_caller_rights", message, missing=list(missing),
                    errors=[{"field": field_name, "code": "exceeds_caller_rights", "message": message}])


@dataclass
class Caller:
    """The verified caller of a request. The school id comes only from here."""
    school_id: str
    user_id: str
    user_group: str
    permissions: list = field(default_factory=list)
    email_verified: bool = False
    user: object = None
    school: object = None
    #: The session this request came with (its public id and stored hash).
    session_id: str = None
    session_hash: str = None
    #: The school requires two factors of this user group and they have none
    #: yet: only /api/me, /api/auth/mfa/* and sign-out answer until they do.
    mfa_setup_required: bool = False
    #: An API client's scopes (None: a person). A client reaches only routes
    #: that name one of them.
    scopes: frozenset = None

    @classmethod
    def for_user(cls, school, user, **session):
        """The caller a user of ``school`` is: their user group's permissions
        as the school defines them now (none without a user group). Used by
        the authenticator (with the session's fields) and by the import
        worker, acting later as the person who pressed Import."""
        permissions = effective_permissions(plain(school.user_groups), user.user_group)[0] if user.user_group else []
        return cls(school_id=school.school_id, user_id=user.user_id, user_group=user.user_group,
                   permissions=permissions, email_verified=bool(user.email_verified), user=user, school=school,
                   **session)

    @classmethod
    def for_school(cls, school):
        """The school itself (a drop): every permission, named ``system``."""
        return cls(school.school_id, "system", ADMIN_GROUP, sorted(PERMISSIONS), True, None, school)

    @classmethod
    def for_client(cls, school, client_id, scopes):
        """An API client of ``school`` with the token's ``scopes``: the read
        permissions they stand for, never more."""
        permissions = sorted({p for s in scopes for p in SCOPE_PERMISSIONS.get(s, ())})
        return cls(school_id=school.school_id, user_id=client_id, user_group=CLIENT_GROUP,
                   permissions=permissions, email_verified=True, school=school, scopes=frozenset(scopes))

    @property
    def is_client(self):
        return self.scopes is not None

    def require_scope(self, scope):
        """A client reaches a route only by a scope it holds (a person: always)."""
        if self.scopes is None:
            return
        if scope is None or scope not in self.scopes:
            needed = f"the '{scope}' scope" if scope else "a person's sign-in (no API client may use it)"
            raise ApiError("insufficient_scope", f"This route needs {needed}; this token has "
                           f"{', '.join(sorted(self.scopes)) or 'no scopes'}.", required_scope=scope,
                           headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'
                                                       + (f', scope="{scope}"' if scope else "")})

    def has(self, permission):
        return permission in self.permissions

    def require(self, permission):
        if permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}")
        if not self.has(permission):
            raise ApiError("permission_denied",
                           f"Your user group ({self.user_group}) does not have the "
                           f"'{permission}' permission.", permission=permission)

    def require_within(self, user_groups, *group_names):
        """Refuse (403 exceeds_caller_rights) unless every user group named
        (a target's before and after) gives only rights the caller holds.
        An unknown group counts with the Teachers rights it gets."""
        targets = [effective_permissions(user_groups, name)[0] for name in group_names if name is not None]
        missing = rights_beyond(self.permissions, *targets)
        if missing:
            raise exceeds_caller_rights(missing)

    def require_mfa_if_due(self):
        if self.mfa_setup_required:
            raise ApiError("mfa_setup_required",
                           "Your school requires two-factor sign-in for your user group. "
                           "Set it up (Your account → Two-factor sign-in) to carry on.")

    def require_verified(self):
        if not self.email_verified:
            raise ApiError("email_not_verified",
                           "Verify your email address first: open the link we emailed you, "
                           "or ask for a new one.")
