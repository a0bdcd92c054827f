"""HTTP routes for groups, memberships, people search and machines; and the
scheduled membership expiry sweep."""
from chalice import Blueprint, Rate

from ..core.http import route
from ..core.log import logger, start_request
from ..core.schema import array, boolean, integer, obj, string
from ..membership import rules
from . import ending, listing, machines, members, service, staff
from .member_groups import groups_of as member_groups_of

bp = Blueprint(__name__)
TAG = "groups"
GROUP = obj(["id", "name", "priority", "member_type", "shared", "member_count"], id=string(), name=string(),
            system=string(nullable=True), priority=string(enum=list(rules.PRIORITIES)),
            member_type=string(enum=list(rules.MEMBER_TYPES)), shared=boolean(),
            owner_id=string(nullable=True), member_count=integer(), version=integer(nullable=True),
            kind=string(enum=["system", "teacher", "class"]), co_owner_ids=array(string()),
            external_id=string(nullable=True), ended_at=string(nullable=True, format="date-time"),
            unowned_since=string(nullable=True, format="date-time"), ends_at=string(nullable=True, format="date-time"),
            role=string(nullable=True, enum=[r.value for r in rules.Role], description="the caller's role on it"))
PERSON = obj(["user_id", "name", "role", "until"], user_id=string(), name=string(),
             role=string(enum=[r.value for r in rules.Role]), until=string(nullable=True, format="date-time"),
             disabled=boolean())
PEOPLE = obj(["items"], items=array(PERSON))
MEMBER = obj(["id", "kind", "name", "until"], id=string(), kind=string(enum=["pupil", "staff", "machine"]),
             name=string(), until=string(nullable=True, format="date-time"),
             year_group=string(nullable=True, description="A pupil's (not a staff member's or machine's)"),
             registration_group=string(nullable=True, description="A pupil's"),
             **{"from": string(nullable=True, format="date-time")})
MACHINE = obj(["id", "name"], id=string(), name=string(), location=string(nullable=True))


@route(bp, "/groups", "POST", summary="Create a group", tag=TAG, permission="create_groups", status=201,
       body=obj(["name"], name=string(100), priority=string(enum=list(rules.PRIORITIES)),
                member_type=string(enum=list(rules.MEMBER_TYPES)),
                shared=boolean(description="false = revoke this group for other teachers"),
                ends_at=string(nullable=True, format="date-time", description="ISO-8601 with offset; from then the "
                               "group is in no list and is swept; null = no end")),
       response=GROUP)
def create_group(ctx):
    return service.create(ctx.caller, ctx.body)


@route(bp, "/groups", "GET", scope="groups.read", summary="The groups the caller can see, with member counts and the caller's role",
       tag=TAG, query={"mine": (string(enum=["true", "false"]), "true: only groups the caller has a role on"),
                       "unowned": (string(enum=["true", "false"]), "true: groups whose owner left with nobody "
                                   "to pass them to (manage_settings), to hand on")},
       response=obj(["items"], items=array(GROUP)))
def list_groups(ctx):
    return service.list_groups(ctx.caller, mine=listing.flag(ctx.query, "mine"),
                               unowned=listing.flag(ctx.query, "unowned"))


@route(bp, "/groups/{group_id}/staff", "GET", scope="groups.read", summary="The staff on a group, with their roles", tag=TAG,
       permission="view_roster", response=PEOPLE)
def list_group_staff(ctx, group_id):
    return staff.list_staff(ctx.caller, group_id)


@route(bp, "/groups/{group_id}/staff/{user_id}", "PUT", summary="Give a colleague a role on a group (owners)",
       tag=TAG, body=obj(["role"], role=string(enum=[r.value for r in rules.Role]),
                         until=string(nullable=True, format="date-time",
                                      description="ISO-8601 with offset; null = until removed")),
       response=PERSON)
def set_group_staff(ctx, group_id, user_id):
    return staff.set_role(ctx.caller, group_id, user_id, ctx.body)


@route(bp, "/groups/{group_id}/staff/{user_id}", "DELETE", summary="Take a colleague off a group (owners; "
       "anyone, themselves)", tag=TAG, response=obj(["removed"], removed=string()))
def remove_group_staff(ctx, group_id, user_id):
    return staff.remove_role(ctx.caller, group_id, user_id)


@route(bp, "/groups/{group_id}/transfer", "POST", summary="Hand a group to another owner (owners, or "
       "manage_settings)", tag=TAG, body=obj(["to"], to=string(100)), response=PEOPLE)
def transfer_group(ctx, group_id):
    return staff.transfer(ctx.caller, group_id, ctx.body)


@route(bp, "/groups/{group_id}", "PATCH", summary="Rename, re-prioritise or (un)share a group", tag=TAG,
       body=obj([], name=string(100), priority=string(enum=list(rules.PRIORITIES)), shared=boolean(),
                ends_at=string(nullable=True, format="date-time", description="a new end (renews an ended group "
                               "not swept yet); null = no end")),
       response=GROUP)
def update_group(ctx, group_id):
    return service.update(ctx.caller, group_id, ctx.body)


@route(bp, "/groups/{group_id}", "DELETE", summary="Delete a group", tag=TAG,
       response=obj(["deleted"], deleted=string()))
def delete_group(ctx, group_id):
    return service.delete(ctx.caller, group_id)


@route(bp, "/groups/{group_id}/members", "GET", scope="groups.read", summary="A group's current members", tag=TAG,
       permission="view_roster",
       query={"limit": (integer(minimum=1, maximum=1000), "At most this many (default 500)"),
              "next": (string(), "Cursor from the previous page's 'next'"),
              "q": (string(100), "Only members whose first name or surname starts so"),
              "scheduled": (string(enum=["true", "false"]), "true: a teacher group's members still to start "
                            "too (each with its 'from')"),
              "at": (string(format="date-time"), "The members at this moment (ISO-8601 with offset, within the "
                     "next 7 days): those whose from has come and until not passed then. A school group's are "
                     "its pupils now")},
       response=obj(["items", "next"], items=array(MEMBER), next=string(nullable=True)))
def list_members(ctx, group_id):
    return listing.list_members(ctx.caller, group_id, ctx.query)


@route(bp, "/groups/{group_id}/members", "POST", summary="Add members, until a time or until removed",
       tag=TAG, permission="view_roster", body=obj(["member_ids"], member_ids=array(string(), maxItems=100),
                         until=string(nullable=True, format="date-time",
                                      description="ISO-8601 with offset; null = until removed"),
                         **{"from": string(nullable=True, format="date-time",
                                           description="ISO-8601 with offset; null or passed = from now. "
                                           "Before it the member is in no read of the group")}),
       response=obj(["added", "updated", "members"], added=integer(), updated=integer(),
                    until=string(nullable=True), members=array(MEMBER),
                    **{"from": string(nullable=True)}))
def add_members(ctx, group_id):
    return members.add_members(ctx.caller, group_id, ctx.body)


@route(bp, "/groups/{group_id}/members/{member_id}", "DELETE", summary="Remove a member", tag=TAG,
       permission="view_roster",
       response=obj(["removed"], removed=string()))
def remove_member(ctx, group_id, member_id):
    return members.remove_member(ctx.caller, group_id, member_id)


@route(bp, "/members/{member_id}/groups", "GET", scope="groups.read", summary="The groups a pupil, member of staff or machine is in "
       "now (those the caller can see), each with its priority and the membership's window", tag=TAG,
       permission="view_roster",
       response=obj(["kind", "items"], kind=string(enum=["pupil", "staff", "machine"]), items=array(obj(
           ["id", "name", "system", "kind", "priority", "member_type", "until", "from"], id=string(), name=string(),
           system=string(nullable=True), kind=string(), priority=string(enum=["low", "normal", "high"]),
           member_type=string(enum=["user", "machine"]), until=string(nullable=True, format="date-time"),
           **{"from": string(nullable=True, format="date-time")}))))
def member_groups(ctx, member_id):
    return member_groups_of(ctx.caller, member_id)


@route(bp, "/people", "GET", summary="Find pupils and staff by name prefix (to add anyone)", tag=TAG,
       permission="add_any_user", query={"q": (string(), "Start of a first name or surname"),
                                         "limit": (integer(minimum=1, maximum=50), "Default 20")},
       response=obj(["items"], items=array(MEMBER)))
def find_people(ctx):
    return listing.people(ctx.caller, ctx.query)


@route(bp, "/machines", "POST", summary="Add a machine", tag="machines", permission="manage_roster",
       status=201, body=obj(["name"], name=string(100), location=string(100, nullable=True)), response=MACHINE)
def create_machine(ctx):
    return machines.create_machine(ctx.caller, ctx.body)


@route(bp, "/machines", "GET", scope="groups.read", summary="The school's machines", tag="machines",
       response=obj(["items"], items=array(MACHINE)))
def list_machines(ctx):
    return machines.list_machines(ctx.caller)


@route(bp, "/machines/{machine_id}", "DELETE", summary="Delete a machine", tag="machines",
       permission="manage_roster", response=obj(["deleted"], deleted=string()))
def delete_machine(ctx, machine_id):
    return machines.delete_machine(ctx.caller, machine_id)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="membership_expiry_sweep")
def membership_expiry_sweep(event):
    """Remove expired memberships (reads already hide them)."""
    start_request(route="schedule membership_expiry_sweep")
    counts = {**members.sweep_expired(), **ending.sweep_ends()}
    if any(counts.values()):
        logger.info("membership sweep ran", extra=counts)
    return counts
