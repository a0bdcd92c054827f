"""A bundle's classes become class groups (issue 18): owned by the primary
teacher, shared with the others, holding the enrolled pupils; shown at the
review; kept in step by a later bundle without touching what a teacher
added by hand; a class gone is ended, not deleted."""
from tests.conftest import PASSWORD, link_token
from tests.imports.conftest import bundle, bundle_file
from tests.imports.conftest import drain
from tests.imports.test_bundles import choose, drop, records


def sign_in(api, mailbox, email):
    invite = mailbox(to=email)[-1]
    r = api.post("/api/auth/accept-invite", {"token": link_token(invite.body), "password": PASSWORD}, token="")
    assert r.status_code == 200, r.body
    return api.post("/api/auth/login", {"email": email, "password": PASSWORD}, token="").data["token"]


def class_groups(api, token=None):
    return {g["external_id"]: g for g in api.get("/api/groups", token=token).data["items"] if g["kind"] == "class"}


def members(api, group, token=None):
    return sorted(m["name"] for m in api.get(f"/api/groups/{group['id']}/members", token=token).data["items"])


def imported(api, importer, data):
    imp = choose(api, importer, importer.upload("bundle", data), org="org-oak")
    assert imp["status"] == "review", imp["error"]
    return imp, importer.commit(imp)


def test_classes_become_groups_of_their_teachers_with_their_pupils(api, importer, mailbox, member, admin):
    imp = choose(api, importer, importer.upload("bundle", bundle("oneroster_1_2")), org="org-oak")
    review = imp["summary"]["classes"]
    assert (review["classes"], review["new"], review["ended"], review["pupils"]) == (2, 2, 0, 4), review
    assert [(c["name"], c["pupils"], c["teachers"], c["new"]) for c in review["items"]] == [
        ("3 Maths (3MA, period 2)", 3, 2, True), ("Reception Robins (RR)", 1, 1, True)]
    done = importer.commit(imp)
    assert done["result"]["classes"] == {"created": 2, "updated": 0, "unchanged": 0, "ended": 0,
                                         "members_added": 3, "members_removed": 0, "pupils_unmatched": 1}
    _pupils, staff = records(api)
    groups = class_groups(api)
    maths, robins = groups["cls-1"], groups["cls-2"]
    assert set(groups) == {"cls-1", "cls-2"}  # not the other school's class
    assert (maths["name"], maths["owner_id"], maths["co_owner_ids"], maths["member_count"], maths["shared"]) == \
        ("3 Maths (3MA, period 2)", staff["tch-1"]["id"], [staff["tch-2"]["id"]], 2, True)
    assert members(api, maths) == ["Amara Okafor", "Ben Hughes"]  # Finn is to be deleted: not on roll
    assert (robins["owner_id"], robins["co_owner_ids"], members(api, robins)) == \
        (staff["tch-2"]["id"], [], ["Chloé Martin"])

    singh = sign_in(api, mailbox, "h.singh@oakfield.sch.uk")  # a co-owner may change it, as its owner may
    r = api.patch(f"/api/groups/{maths['id']}", {"priority": "high"}, token=singh)
    assert r.status_code == 200 and r.data["priority"] == "high", r.body
    r = api.patch(f"/api/groups/{maths['id']}", {"name": "My maths"}, token=singh)
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "class_group", r.body
    other = member(admin, "Teachers")
    assert maths["id"] in {g["id"] for g in api.get("/api/groups", token=other["token"]).data["items"]}
    r = api.patch(f"/api/groups/{maths['id']}", {"priority": "low"}, token=other["token"])
    assert r.status_code == 403, r.body  # seen (shared) but not theirs
    r = api.delete(f"/api/groups/{maths['id']}", token=singh)  # the MIS's class: not a teacher's to delete
    assert r.status_code == 403 and r.data["permission"] == "manage_settings", r.body

    again, done = imported(api, importer, bundle("oneroster_1_2"))
    assert (again["summary"]["classes"]["new"], again["summary"]["classes"]["ended"]) == (0, 0)
    assert done["result"]["classes"] == {"created": 0, "updated": 0, "unchanged": 2, "ended": 0,
                                         "members_added": 0, "members_removed": 0, "pupils_unmatched": 1}


def test_a_later_bundle_changes_just_the_class_that_changed_and_ends_one_gone(api, importer, admin):
    imported(api, importer, bundle("oneroster_1_2"))
    pupils, staff = records(api)
    maths = class_groups(api)["cls-1"]
    r = api.post(f"/api/groups/{maths['id']}/members", {"member_ids": [pupils["stu-4"]["id"]]})
    assert r.status_code == 200, r.body  # a pupil a teacher added by hand
    robins = class_groups(api)["cls-2"]
    api.post(f"/api/groups/{robins['id']}/members", {"member_ids": [pupils["stu-1"]["id"]]})

    enrollments = bundle_file("oneroster_1_2", "enrollments.csv")
    enrollments = "\n".join(line for line in enrollments.splitlines()
                            if not line.startswith(("e2,", "e5,", "e6,"))) + "\n"
    enrollments += "e10,active,,cls-1,org-oak,stu-3,student,false,,\n"
    classes = bundle_file("oneroster_1_2", "classes.csv").replace("3 Maths", "Year 3 Maths")
    classes = "\n".join(line for line in classes.splitlines() if not line.startswith("cls-2,")) + "\n"
    imp, done = imported(api, importer, bundle("oneroster_1_2", replace={"enrollments.csv": enrollments,
                                                                         "classes.csv": classes}))
    assert (imp["summary"]["classes"]["new"], imp["summary"]["classes"]["ended"]) == (0, 1)
    assert done["result"]["classes"] == {"created": 0, "updated": 1, "unchanged": 0, "ended": 1,
                                         "members_added": 1, "members_removed": 2, "pupils_unmatched": 1}
    groups = class_groups(api)
    maths, robins = groups["cls-1"], groups["cls-2"]
    assert maths["name"] == "Year 3 Maths (3MA, period 2)" and maths["ended_at"] is None
    assert members(api, maths) == ["Amara Okafor", "Chloé Martin", "Dev Patel"]  # Ben out, Dev (by hand) kept
    assert robins["ended_at"] is not None and members(api, robins) == ["Amara Okafor"]  # kept with hers
    assert maths["member_count"] == 3 and robins["member_count"] == 1

    back, done = imported(api, importer, bundle("oneroster_1_2"))  # the class is back: no longer ended
    assert done["result"]["classes"]["updated"] == 2 and class_groups(api)["cls-2"]["ended_at"] is None
    entries = api.get(f"/api/audit?entity=group&record_id={robins['id']}").data["items"]
    assert [e["action"] for e in entries] == ["update", "update", "create"], entries  # back, ended, made
    assert entries[1]["changes"]["ended_at"][0] is None and entries[0]["actor_id"] == admin["user_id"]


def test_a_bundle_without_classes_leaves_the_class_groups_alone(api, importer, admin):
    imported(api, importer, bundle("oneroster_1_2"))
    imp, done = imported(api, importer, bundle("oneroster_1_2", drop=("classes.csv", "enrollments.csv")))
    assert imp["summary"]["classes"] is None and "classes" not in done["result"]
    assert {g["ended_at"] for g in class_groups(api).values()} == {None}


def test_a_bundle_without_enrollments_or_with_no_class_of_the_school_ends_none(api, importer, admin):
    imported(api, importer, bundle("oneroster_1_2"))
    _imp, done = imported(api, importer, bundle("oneroster_1_2", drop=("enrollments.csv",)))
    assert "classes" not in done["result"]
    header = bundle_file("oneroster_1_2", "classes.csv").splitlines()[0] + "\n"
    _imp, done = imported(api, importer, bundle("oneroster_1_2", replace={"classes.csv": header}))
    assert "classes" not in done["result"]
    groups = class_groups(api)
    assert {g["ended_at"] for g in groups.values()} == {None} and groups["cls-1"]["member_count"] == 2


def test_a_copied_mis_id_never_hands_a_class_to_whoever_copied_it(api, importer, admin, member):
    imported(api, importer, bundle("oneroster_1_2"))
    other = member(admin, "Teachers")
    csv = f"First name,Surname,Email,External ID\n{other['first_name']},{other['surname']},{other['email']},tch-1\n"
    done = importer.full("staff", csv.encode())
    assert (done["result"]["updated"], done["summary"]["errors"]) == (0, 1), done["summary"]  # Grace holds it
    (refused,) = importer.rows(done)
    assert refused["errors"][0]["code"] == "identity_conflict", refused
    imported(api, importer, bundle("oneroster_1_2"))
    maths = class_groups(api)["cls-1"]
    assert other["id"] not in [maths["owner_id"]] + maths["co_owner_ids"], maths


def test_a_roster_clerk_without_group_rights_imports_the_people_but_leaves_the_classes(api, importer, admin, member):
    """Syncing classes hands pupils to teachers' groups: it takes the rights building them by hand
    takes (create_groups, add_any_user, view_all_groups), not manage_roster alone."""
    r = api.put("/api/user-groups/Roster%20Office", {"permissions": ["view_roster", "manage_roster"]})
    assert r.status_code in (200, 201), r.body
    clerk = member(admin, user_group="Roster Office")
    imp = choose(api, importer, importer.upload("bundle", bundle("oneroster_1_2"), token=clerk["token"]),
                 token=clerk["token"], org="org-oak")
    review = imp["summary"]["classes"]
    assert review["left_alone"] and review["missing"] == ["add_any_user", "create_groups", "view_all_groups"]
    assert review["classes"] == 2  # (what it would do is still shown)
    done = importer.commit(imp, token=clerk["token"])
    assert done["status"] == "committed" and done["result"]["classes"]["left_alone"], done["result"]
    assert class_groups(api) == {}
    pupils, _staff = records(api)
    assert len(pupils) == 4
    # the clerk's next upload, committed by the admin, still leaves them: the commit does what the review showed
    imp = choose(api, importer, importer.upload("bundle", bundle("oneroster_1_2"), token=clerk["token"]),
                 token=clerk["token"], org="org-oak")
    assert importer.commit(imp)["result"]["classes"]["left_alone"]
    assert class_groups(api) == {}
    # the school's admin imports it: the classes come in
    _imp, again = imported(api, importer, bundle("oneroster_1_2"))
    assert again["result"]["classes"]["created"] == 2


def test_a_bundle_drop_that_would_end_many_class_groups_waits_for_a_person(api, importer, pump, admin):
    """An export of one year group's classes, or one from before the timetable was in, must not end
    every other class overnight: past the leaver threshold the drop is held, nothing written."""
    imported(api, importer, bundle("oneroster_1_2"))
    classes = "\n".join(line for line in bundle_file("oneroster_1_2", "classes.csv").splitlines()
                         if not line.startswith("cls-2,")) + "\n"
    held = drop(api, pump, admin, bundle("oneroster_1_2", replace={"classes.csv": classes}), "night.zip")
    assert held["status"] == "held" and held["hold"]["code"] == "too_many_classes_ended", held
    assert "1 of your 2 class groups" in held["hold"]["message"]
    assert class_groups(api)["cls-2"]["ended_at"] is None
    assert api.post(f"/api/imports/{held['id']}/approve").status_code == 200
    drain(pump)
    assert importer.get(held["id"])["result"]["classes"]["ended"] == 1
    assert class_groups(api)["cls-2"]["ended_at"] is not None
