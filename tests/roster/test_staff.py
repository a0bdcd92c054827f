"""Staff routes: invitations, email uniqueness, user groups and effective
permissions, the last admin, optimistic locking, isolation."""

from tests.conftest import PASSWORD, link_token


STAFF = {"first_name": "Tess", "surname": "Teacher", "email": "Tess@Example.org", "job_role": "Class teacher",
         "user_group": "Teachers"}


def test_add_staff_invites_them_and_they_can_sign_in(api, admin, mailbox):
    r = api.post("/api/staff", STAFF)
    assert r.status_code == 201
    s = r.data
    assert s["email"] == "tess@example.org" and s["status"] == "invited" and not s["email_verified"]
    assert s["permissions"] == ["create_groups", "view_roster"]
    # Cannot sign in before accepting.
    assert api.post("/api/auth/login", {"email": "tess@example.org", "password": PASSWORD}, token="").status_code == 401
    (invite,) = mailbox(to="tess@example.org")
    assert "invited to Hill School" in invite.subject
    token = link_token(invite.body)
    weak = api.post("/api/auth/accept-invite", {"token": token, "password": "short"}, token="")
    assert weak.status_code == 422 and weak.data["code"] == "weak_password"
    ok = api.post("/api/auth/accept-invite", {"token": token, "password": PASSWORD}, token="")
    assert ok.status_code == 200 and ok.data["email_verified"] is True
    again = api.post("/api/auth/accept-invite", {"token": token, "password": PASSWORD}, token="")
    assert again.status_code == 400 and again.data["code"] == "invalid_token"
    login = api.post("/api/auth/login", {"email": "tess@example.org", "password": PASSWORD}, token="")
    me = api.get("/api/me", token=login.data["token"]).data
    assert me["email_verified"] and me["user_group"] == "Teachers" and me["school"]["id"] == admin["school_id"]
    assert api.get(f"/api/staff/{s['id']}").data["status"] == "active"


def test_invitation_can_be_sent_again(api, admin, mailbox):
    s = api.post("/api/staff", STAFF).data
    assert api.post(f"/api/staff/{s['id']}/invite").data == {"queued": True, "status": "invited"}
    assert len(mailbox(to="tess@example.org")) == 2


def test_staff_validation_errors(api, admin):
    r = api.post("/api/staff", {"first_name": "", "surname": "X", "email": "nope"})
    assert r.status_code == 422
    assert {(e["field"], e["code"]) for e in r.data["errors"]} == {("first_name", "required"), ("email", "invalid_email")}


def test_duplicate_emails(api, admin, signup):
    api.post("/api/staff", STAFF)
    r = api.post("/api/staff", {**STAFF, "first_name": "Other", "email": "TESS@example.org"})
    assert r.status_code == 409 and r.data["code"] == "duplicate_email"
    other = signup(name="Other School")
    r = api.post("/api/staff", STAFF, token=other["token"])
    assert r.status_code == 409 and r.data["code"] == "email_taken"
    r = api.post("/api/staff", {**STAFF, "email": admin["email"]})
    assert r.data["code"] == "duplicate_email"


def test_unknown_user_group_gets_teachers_rights_and_says_so(api, admin):
    s = api.post("/api/staff", {**STAFF, "user_group": "Cover Supervisors"}).data
    assert s["user_group"] == "Cover Supervisors" and s["user_group_known"] is False
    assert s["permissions"] == ["create_groups", "view_roster"] and "Teachers" in s["note"]


def test_blank_user_group_means_teachers(api, admin):
    s = api.post("/api/staff", {**STAFF, "user_group": ""}).data
    assert s["user_group"] == "Teachers"


def test_changing_a_user_group_stays_within_the_callers_rights(api, admin, member):
    slt = member(admin, "SLTs")  # manage_roster but not manage_settings
    s = api.post("/api/staff", STAFF).data
    r = api.patch(f"/api/staff/{s['id']}", {"version": 1, "user_group": "Admin Team"}, token=slt["token"])
    assert r.status_code == 403 and r.data["code"] == "exceeds_caller_rights"
    assert "manage_settings" in r.data["message"] and r.data["missing"] == ["manage_settings"]
    r = api.patch(f"/api/staff/{s['id']}", {"version": 1, "job_role": "Head of Maths"}, token=slt["token"])
    assert r.status_code == 200 and r.data["job_role"] == "Head of Maths"
    # DSLs hold nothing an SLT lacks: the SLT may place someone there
    r = api.patch(f"/api/staff/{s['id']}", {"version": 2, "user_group": "DSLs"}, token=slt["token"])
    assert r.status_code == 200 and "view_all_groups" in r.data["permissions"]
    # and an admin (manage_settings) may do anything
    r = api.patch(f"/api/staff/{s['id']}", {"version": 3, "user_group": "School Business Manager"})
    assert r.status_code == 200 and "manage_settings" in r.data["permissions"]


def test_permission_changes_apply_from_the_next_request(api, admin, member):
    teacher = member(admin, "Teachers")
    assert "create_groups" in api.get("/api/me", token=teacher["token"]).data["permissions"]
    r = api.put("/api/user-groups/Teachers", {"permissions": ["view_roster"]})
    assert r.status_code == 200 and r.data == {"name": "Teachers", "permissions": ["view_roster"], "standard": True}
    assert api.get("/api/me", token=teacher["token"]).data["permissions"] == ["view_roster"]


def test_user_groups_list_and_custom_groups(api, admin, member):
    groups = api.get("/api/user-groups").data
    assert {g["name"] for g in groups["items"]} == {"DSLs", "School Business Manager", "Admin Team", "SLTs",
                                                    "Teachers", "TAs", "Governors"}
    assert {p["name"] for p in groups["permissions"]} >= {"manage_roster", "manage_settings", "create_groups",
                                                          "add_any_user", "view_all_groups"}
    r = api.put("/api/user-groups/Cover%20Supervisors", {"permissions": ["view_roster", "create_groups"]})
    assert r.status_code == 200 and r.data["standard"] is False
    cover = api.post("/api/staff", {**STAFF, "user_group": "Cover Supervisors"}).data
    assert cover["user_group_known"] is True


def test_user_group_edits_are_checked(api, admin, member):
    r = api.put("/api/user-groups/Teachers", {"permissions": ["fly"]})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "invalid_permission"
    r = api.put("/api/user-groups/Admin%20Team", {"permissions": ["view_roster"]})
    assert r.status_code == 422
    teacher = member(admin, "Teachers")
    r = api.put("/api/user-groups/Teachers", {"permissions": []}, token=teacher["token"])
    assert r.status_code == 403 and r.data["code"] == "permission_denied"


def test_nobody_deletes_themselves_or_the_last_admin(api, admin, member):
    r = api.delete(f"/api/staff/{admin['user_id']}")
    assert r.status_code == 409 and r.data["code"] == "cannot_delete_self"
    me = api.get(f"/api/staff/{admin['user_id']}").data
    r = api.patch(f"/api/staff/{admin['user_id']}", {"version": me["version"], "user_group": "Teachers"})
    assert r.status_code == 409 and r.data["code"] == "last_admin"
    second = member(admin, "Admin Team")
    # With two admins, one may step down; then the other is the last again.
    me = api.get(f"/api/staff/{admin['user_id']}").data
    r = api.patch(f"/api/staff/{admin['user_id']}", {"version": me["version"], "user_group": "SLTs"})
    assert r.status_code == 200
    r = api.delete(f"/api/staff/{second['id']}")  # caller is now an SLT: an admin is beyond them
    assert r.status_code == 403 and r.data["code"] == "exceeds_caller_rights"
    theirs = api.get(f"/api/staff/{second['id']}", token=second["token"]).data
    r = api.patch(f"/api/staff/{second['id']}", {"version": theirs["version"], "user_group": "Teachers"},
                  token=second["token"])
    assert r.status_code == 409 and r.data["code"] == "last_admin"


def test_deleted_staff_can_no_longer_sign_in_or_use_their_token(api, admin, member):
    teacher = member(admin, "Teachers")
    assert api.delete(f"/api/staff/{teacher['id']}").status_code == 200
    assert api.get("/api/me", token=teacher["token"]).status_code == 401
    login = api.post("/api/auth/login", {"email": teacher["email"], "password": PASSWORD}, token="")
    assert login.status_code == 401
    # The email is free again.
    assert api.post("/api/staff", {**STAFF, "email": teacher["email"]}).status_code == 201


def test_email_change_moves_the_sign_in(api, admin, member):
    teacher = member(admin, "Teachers")
    version = api.get(f"/api/staff/{teacher['id']}").data["version"]
    r = api.patch(f"/api/staff/{teacher['id']}", {"version": version, "email": "new@example.org"})
    assert r.status_code == 200, r.body
    assert api.post("/api/auth/login", {"email": teacher["email"], "password": PASSWORD}, token="").status_code == 401
    assert api.post("/api/auth/login", {"email": "new@example.org", "password": PASSWORD}, token="").status_code == 200
    r = api.patch(f"/api/staff/{teacher['id']}", {"version": r.data["version"], "email": admin["email"]})
    assert r.status_code == 409 and r.data["code"] == "duplicate_email"


def test_stale_staff_version_is_409(api, admin):
    s = api.post("/api/staff", STAFF).data
    api.patch(f"/api/staff/{s['id']}", {"version": 1, "job_role": "A"})
    r = api.patch(f"/api/staff/{s['id']}", {"version": 1, "job_role": "B"})
    assert r.status_code == 409 and r.data["code"] == "conflict"
    assert api.get(f"/api/staff/{s['id']}").data["job_role"] == "A"


def test_staff_list_search_and_filter(api, admin):
    api.post("/api/staff", {**STAFF, "first_name": "Éloise", "surname": "Zed", "email": "e@x.org"})
    api.post("/api/staff", {**STAFF, "first_name": "Bo", "surname": "Elm", "email": "b@x.org", "user_group": "TAs"})
    assert [s["surname"] for s in api.get("/api/staff").data["items"]] == ["Admin", "Elm", "Zed"]
    assert sorted(s["surname"] for s in api.get("/api/staff?q=el").data["items"]) == ["Elm", "Zed"]
    assert [s["surname"] for s in api.get("/api/staff?user_group=TAs").data["items"]] == ["Elm"]


def test_another_schools_staff_are_404_and_never_listed(api, admin, signup):
    theirs = signup(name="Their School")
    s = api.post("/api/staff", {**STAFF, "first_name": "Hidden"}, token=theirs["token"]).data
    for r in (api.get(f"/api/staff/{s['id']}"),
              api.patch(f"/api/staff/{s['id']}", {"version": 1, "job_role": "x"}),
              api.delete(f"/api/staff/{s['id']}"),
              api.post(f"/api/staff/{s['id']}/invite")):
        assert r.status_code == 404 and r.data["code"] == "not_found"
    assert "Hidden" not in str(api.get("/api/staff").data) + str(api.get("/api/staff?q=hid").data)
    assert api.delete(f"/api/staff/{theirs['user_id']}").status_code == 404


def test_unverified_admin_cannot_add_staff(api, signup):
    school = signup(verify=False)
    r = api.post("/api/staff", STAFF, token=school["token"])
    assert r.status_code == 403 and r.data["code"] == "email_not_verified"


def test_audit_needs_manage_settings_and_pages_newest_first(api, admin, member):
    for i in range(3):
        api.post("/api/staff", {**STAFF, "email": f"t{i}@x.org"})
    api.put("/api/user-groups/TAs", {"permissions": ["view_roster", "create_groups"]})
    first = api.get("/api/audit?limit=2").data
    assert first["items"][0]["record_type"] == "user_group"
    assert first["items"][0]["changes"] == {"permissions": [["view_roster"], ["create_groups", "view_roster"]]}
    rest = api.get(f"/api/audit?limit=50&next={first['next']}").data
    entries = first["items"] + rest["items"]
    # the admin's own account events (verified, signed in), then 3 staff and the user group
    assert [e["action"] for e in entries if e["record_type"] == "account"] == ["login", "email_verified"]
    assert len([e for e in entries if e["record_type"] != "account"]) == 4
    teacher = member(admin, "Teachers")
    r = api.get("/api/audit", token=teacher["token"])
    assert r.status_code == 403 and "manage_settings" in r.data["message"]


def test_an_invitation_is_sent_again_at_most_5_times_an_hour(api, admin):
    s = api.post("/api/staff", STAFF).data
    for _ in range(5):
        assert api.post(f"/api/staff/{s['id']}/invite").status_code == 200
    r = api.post(f"/api/staff/{s['id']}/invite")
    assert r.status_code == 429 and r.data["code"] == "too_many_attempts" and int(r.headers["Retry-After"]) > 3000
    # another person's budget is their own
    other = api.post("/api/staff", {**STAFF, "email": "other.person@example.org"}).data
    assert api.post(f"/api/staff/{other['id']}/invite").status_code == 200


def test_a_school_may_shorten_its_invitations(api, admin, mailbox):
    import time as clock
    from chalicelib.accounts.models import Token
    assert api.patch("/api/settings", {"invite_hours": 100}).status_code == 422
    r = api.patch("/api/settings", {"invite_hours": 24})
    assert r.status_code == 200 and r.data["invite_hours"] == 24
    api.post("/api/staff", {**STAFF, "email": "short.link@example.org"})
    mail = mailbox(to="short.link@example.org")[-1]
    assert "within 24 hours" in mail.body
    from chalicelib.accounts.credentials import token_hash
    from tests.conftest import link_token
    invite = Token.get(token_hash(link_token(mail.body)))
    assert invite.kind == "invite" and abs(invite.expires_at - (clock.time() + 24 * 3600)) < 60


def test_case_and_spaces_never_make_a_new_user_group(api, admin):
    s = api.post("/api/staff", {**STAFF, "user_group": " teachers "}).data
    assert (s["user_group"], s["user_group_known"]) == ("Teachers", True)
    r = api.patch(f"/api/staff/{s['id']}", {"version": s["version"], "user_group": "governors"})
    assert r.status_code == 200 and (r.data["user_group"], r.data["permissions"]) == ("Governors", []), r.body
    r = api.put("/api/user-groups/teachers", {"permissions": ["view_roster"]})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "similar_user_group", r.body
    assert {g["name"] for g in api.get("/api/user-groups").data["items"]} == {
        "DSLs", "School Business Manager", "Admin Team", "SLTs", "Teachers", "TAs", "Governors"}


def test_the_school_day_its_end_and_periods(api, admin, member):
    """The end of the day and the periods the console offers as 'until the
    end of the lesson': times, in order, each refused with its own error."""
    got = api.get("/api/settings").data
    assert (got["day_ends"], got["periods"]) == ("15:30", [])
    periods = [{"name": " P1 ", "starts": "08:50", "ends": "09:50"}, {"name": "P2", "starts": "09:50", "ends": "10:50"}]
    r = api.patch("/api/settings", {"day_ends": "15:10", "periods": periods})
    assert r.status_code == 200, r.body
    assert r.data["day_ends"] == "15:10" and r.data["periods"][0] == {"name": "P1", "starts": "08:50", "ends": "09:50"}
    for body, field, code in (({"day_ends": "3:30pm"}, "day_ends", "invalid_time"),
                              ({"day_ends": "24:00"}, "day_ends", "invalid_time"),
                              ({"day_ends": "１５:３０"}, "day_ends", "invalid_time"),  # (digits a browser can't read)
                              ({"periods": [{**periods[0], "starts": "¹²:30"}]}, "periods[0]", "invalid_time"),
                              ({"periods": [{**periods[0], "ends": "08:00"}]}, "periods[0]", "invalid_time"),
                              ({"periods": [periods[1], periods[0]]}, "periods[1]", "overlapping"),
                              ({"periods": [{**periods[0], "name": " "}]}, "periods[0].name", "required")):
        r = api.patch("/api/settings", body)
        assert r.status_code == 422 and (r.data["errors"][0]["field"], r.data["errors"][0]["code"]) == (field, code), body
    r = api.patch("/api/settings", {"periods": [{**periods[0], "room": "B1"}]})
    assert r.status_code in (400, 422), r.body  # an unknown field is refused
    assert api.get("/api/settings").data["periods"][1]["name"] == "P2"  # nothing refused was kept
    teacher = member(admin, "Teachers")
    assert api.get("/api/settings", token=teacher["token"]).data["day_ends"] == "15:10"  # the console's presets read it
    assert api.patch("/api/settings", {"periods": []}, token=teacher["token"]).status_code == 403
    assert api.patch("/api/settings", {"periods": []}).data["periods"] == []
