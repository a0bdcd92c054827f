import pytest

from chalicelib.accounts.permissions import (ADMIN_GROUP, PERMISSIONS, STANDARD_GROUPS, Caller,
                                             effective_permissions, standard_user_groups)
from chalicelib.core.errors import ApiError


def test_standard_groups_and_admin_has_everything():
    groups = standard_user_groups()
    assert set(groups) == {"DSLs", "School Business Manager", "Admin Team", "SLTs", "Teachers", "TAs", "Governors"}
    assert set(groups[ADMIN_GROUP]["permissions"]) == set(PERMISSIONS)
    assert all(g["standard"] for g in groups.values())


def test_unknown_group_gets_teachers_rights():
    groups = standard_user_groups()
    perms, known = effective_permissions(groups, "Cover Supervisors")
    assert not known and perms == sorted(STANDARD_GROUPS["Teachers"])
    perms, known = effective_permissions(groups, "TAs")
    assert known and perms == ["view_roster"]


def test_teachers_edited_rights_are_what_unknown_groups_get():
    groups = standard_user_groups()
    groups["Teachers"]["permissions"] = ["create_groups"]
    assert effective_permissions(groups, "Nobody knows")[0] == ["create_groups"]


def test_caller_requires_permission_and_verification():
    caller = Caller("s", "u", "TAs", ["view_roster"], email_verified=False)
    caller.require("view_roster")
    with pytest.raises(ApiError) as denied:
        caller.require("manage_roster")
    assert denied.value.code == "permission_denied" and "manage_roster" in denied.value.message
    with pytest.raises(ApiError) as unverified:
        caller.require_verified()
    assert unverified.value.code == "email_not_verified" and unverified.value.status == 403
    Caller("s", "u", "TAs", [], email_verified=True).require_verified()
