"""Times and names that can't break a group (issue 19): every time the API
takes is within a sane range, refused with a 422 outside it, and saves
nothing; a teacher group can't take a system group's name."""
import pytest

from tests.groups.test_groups import PUPIL, later, pupils  # noqa: F401 - a fixture


def count_of(api, group):
    return next(g["member_count"] for g in api.get("/api/groups").data["items"] if g["id"] == group["id"])


@pytest.mark.parametrize("until", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+00:00", "2400-01-01T00:00:00Z"])
def test_a_time_out_of_range_is_a_422_and_saves_nothing(api, admin, pupils, until):  # noqa: F811
    group = api.post("/api/groups", {"name": "G"}).data
    path = f"/api/groups/{group['id']}/members"
    r = api.post(path, {"member_ids": [pupils[0]["id"]], "until": until})
    assert r.status_code == 422 and r.data["errors"][0]["field"] == "until", r.body
    listed = api.get(path)
    assert listed.status_code == 200 and listed.data["items"] == []


def test_a_time_more_than_five_years_ahead_is_refused_and_one_within_taken(api, admin, pupils):  # noqa: F811
    group = api.post("/api/groups", {"name": "G"}).data
    path = f"/api/groups/{group['id']}/members"
    r = api.post(path, {"member_ids": [pupils[0]["id"]], "until": later(days=6 * 366)})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "too_far_ahead"
    assert api.post(path, {"member_ids": [pupils[0]["id"]], "until": later(days=4 * 366)}).status_code == 200


@pytest.mark.parametrize("name", ["All pupils", "  all   PUPILS ", "AllStaff", "All-pupils.", "year 5", "5b"])
def test_a_teacher_group_cannot_take_a_system_groups_name(api, admin, pupils, name):  # noqa: F811
    r = api.post("/api/groups", {"name": name})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "system_name", r.body
    group = api.post("/api/groups", {"name": "Maths club"}).data
    r = api.patch(f"/api/groups/{group['id']}", {"name": name})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "system_name", r.body
    assert api.post("/api/groups", {"name": "5B readers"}).status_code == 201  # (a name that only starts alike)


def test_a_full_group_refuses_more_naming_how_many_fit(api, admin, pupils):  # noqa: F811
    """(A group's cap is the school's max_group_members, default 300; here 2.)"""
    assert api.get("/api/settings").data["max_group_members"] == 300
    assert api.patch("/api/settings", {"max_group_members": 2}).status_code == 200
    group = api.post("/api/groups", {"name": "G"}).data
    path = f"/api/groups/{group['id']}/members"
    assert api.post(path, {"member_ids": [pupils[0]["id"]]}).status_code == 200
    r = api.post(path, {"member_ids": [pupils[1]["id"], pupils[2]["id"]]})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "group_full" and r.data["fit"] == 1, r.body
    assert [m["id"] for m in api.get(path).data["items"]] == [pupils[0]["id"]]  # (nothing of the refused call)
    assert api.post(path, {"member_ids": [pupils[0]["id"], pupils[1]["id"]]}).status_code == 200  # a renewal + 1
    assert count_of(api, group) == 2
    r = api.post(path, {"member_ids": [pupils[2]["id"]]})
    assert r.status_code == 422 and r.data["fit"] == 0
    assert api.patch("/api/settings", {"max_group_members": 0}).status_code == 422


def test_two_adds_of_the_same_pupil_at_once_count_her_once(api, admin, pupils, monkeypatch):  # noqa: F811
    """The second add read her as new; its put, on condition she is still new, fails, and the count with it."""
    from chalicelib.groups import members as group_members
    group = api.post("/api/groups", {"name": "G"}).data
    path = f"/api/groups/{group['id']}/members"
    real = group_members._lookup

    def raced(school_id, key, ids, member_type):
        found, existing = real(school_id, key, ids, member_type)
        monkeypatch.setattr(group_members, "_lookup", real)
        assert api.post(path, {"member_ids": ids}).status_code == 200  # the other teacher, first
        return found, existing
    monkeypatch.setattr(group_members, "_lookup", raced)
    r = api.post(path, {"member_ids": [pupils[0]["id"]]})
    assert r.status_code == 409, r.body
    assert count_of(api, group) == 1


def test_every_member_list_pages_with_next_and_searches_by_name(api, admin, pupils, member):  # noqa: F811
    member(admin, first_name="Ann", surname="Teacher")
    groups = {g["name"]: g for g in api.get("/api/groups").data["items"]}

    def all_of(group, limit, q=""):
        seen, cursor = [], None
        while True:
            r = api.get(f"/api/groups/{group['id']}/members?limit={limit}" + (f"&q={q}" if q else "") +
                        (f"&next={cursor}" if cursor else ""))
            assert r.status_code == 200, r.body
            seen += [m["name"] for m in r.data["items"]]
            cursor = r.data["next"]
            if not cursor:
                return seen
    assert all_of(groups["All pupils"], 2) == ["Ann Smith", "Ben Smith", "Cat Smith"]
    assert all_of(groups["Year 5"], 1) == ["Ann Smith", "Ben Smith"]
    assert all_of(groups["5B"], 1) == ["Ann Smith"]
    assert all_of(groups["All staff"], 1) == ["Ada Admin", "Ann Teacher"]
    assert all_of(groups["All pupils"], 5, q="ben") == ["Ben Smith"]
    assert all_of(groups["Year 5"], 5, q="smi") == ["Ann Smith", "Ben Smith"]
    assert all_of(groups["All staff"], 5, q="ann") == ["Ann Teacher"]
    club = api.post("/api/groups", {"name": "Club"}).data
    api.post(f"/api/groups/{club['id']}/members", {"member_ids": [p["id"] for p in pupils]})
    assert sorted(all_of(club, 2)) == ["Ann Smith", "Ben Smith", "Cat Smith"]
    assert all_of(club, 5, q="cat") == ["Cat Smith"] and all_of(club, 5, q="smith") == [
        "Ann Smith", "Ben Smith", "Cat Smith"]
    # "first surname" and "surname, first" in every kind of list
    for group in (groups["All pupils"], groups["Year 5"], club):
        assert all_of(group, 1, q="ben%20sm") == ["Ben Smith"]
        assert all_of(group, 1, q="smith,%20ann") == ["Ann Smith"]
        assert all_of(group, 1, q="smith%20b") == ["Ben Smith"]
    assert all_of(groups["All staff"], 1, q="teacher,ann") == ["Ann Teacher"]
    # a cursor is for the list that gave it out: another group's is a 400
    first = api.get(f"/api/groups/{groups['All pupils']['id']}/members?limit=1").data["next"]
    r = api.get(f"/api/groups/{club['id']}/members?limit=1&next={first}")
    assert r.status_code == 400 and r.data["code"] == "bad_cursor"


def test_a_name_no_system_group_holds_is_free_and_an_invisible_character_is_refused(api, admin, pupils):  # noqa: F811
    """(A primary school has no Year 12; "Reception" is a front office's name too while no pupil is in it.)"""
    for name in ("Year 12", "Reception", "Year 5 readers"):
        assert api.post("/api/groups", {"name": name}).status_code == 201, name
    r = api.post("/api/groups", {"name": "All\u200bpupils"})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "invalid_characters"


def test_a_teacher_groups_search_pages_in_name_order(api, admin, pupils):  # noqa: F811
    club = api.post("/api/groups", {"name": "Club"}).data
    path = f"/api/groups/{club['id']}/members"
    api.post(path, {"member_ids": [p["id"] for p in pupils]})
    first = api.get(path + "?q=smith&limit=2").data
    assert [m["name"] for m in first["items"]] == ["Ann Smith", "Ben Smith"] and first["next"]
    rest = api.get(path + f"?q=smith&limit=2&next={first['next']}").data
    assert [m["name"] for m in rest["items"]] == ["Cat Smith"] and rest["next"] is None
    other = api.post("/api/groups", {"name": "Other"}).data
    r = api.get(f"/api/groups/{other['id']}/members?q=smith&limit=2&next={first['next']}")
    assert r.status_code == 400 and r.data["code"] == "bad_cursor"


def test_an_add_stopped_part_way_counts_just_what_it_wrote(api, admin, monkeypatch):
    """(Adds go in transactions of 45; one refused part way leaves the count of what the first wrote.)"""
    from chalicelib.groups import members as group_members
    monkeypatch.setattr(group_members, "MEMBERS_PER_TX", 2)
    made = [api.post("/api/pupils", {"first_name": f"P{n}", "surname": "Smith", "date_of_birth": "01/02/2015",
                                     "year_group": "5"}).data for n in range(4)]
    club = api.post("/api/groups", {"name": "Club"}).data
    path = f"/api/groups/{club['id']}/members"
    assert api.patch(f"/api/pupils/{made[3]['id']}", {"version": made[3]["version"], "status": "left"}).status_code == 200
    real = group_members._refuse_leavers
    monkeypatch.setattr(group_members, "_refuse_leavers", lambda ids, found: None)  # (she left after the read)
    r = api.post(path, {"member_ids": [p["id"] for p in made]})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "pupil_left", r.body
    monkeypatch.setattr(group_members, "_refuse_leavers", real)
    listed = api.get(path).data["items"]
    assert len(listed) == 2 and count_of(api, club) == 2


def test_each_pupil_listed_says_her_year_and_registration_group(api, admin, pupils, member):  # noqa: F811
    """Two pupils of one name are told apart in every list, a teacher
    group's included: its memberships copy the name, not the year, which the
    pupil's own record gives at the read."""
    twin = api.post("/api/pupils", {**PUPIL, "first_name": "Ann", "year_group": "6", "registration_group": "6A"}).data
    member(admin, first_name="Ann", surname="Teacher")
    groups = {g["name"]: g for g in api.get("/api/groups").data["items"]}
    club = api.post("/api/groups", {"name": "Club"}).data
    added = api.post(f"/api/groups/{club['id']}/members", {"member_ids": [pupils[0]["id"], twin["id"]]}).data
    assert sorted((m["year_group"], m["registration_group"]) for m in added["members"]) == [("5", "5B"), ("6", "6A")]
    assert api.patch(f"/api/pupils/{twin['id']}", {"version": twin["version"], "registration_group": "6C"}
                     ).status_code == 200

    def shown(group, q="ann"):
        items = api.get(f"/api/groups/{group['id']}/members?q={q}").data["items"]
        return sorted((m["name"], m["year_group"], m["registration_group"]) for m in items if m["kind"] == "pupil")
    both = [("Ann Smith", "5", "5B"), ("Ann Smith", "6", "6C")]
    assert shown(club) == both and shown(groups["All pupils"]) == both
    assert shown(groups["Year 5"]) == [("Ann Smith", "5", "5B")]
    staff = api.get(f"/api/groups/{groups['All staff']['id']}/members?q=ann").data["items"]
    assert staff and all("year_group" not in m for m in staff)
    found = api.get("/api/people?q=ann").data["items"]
    assert sorted((m["year_group"], m["registration_group"]) for m in found if m["kind"] == "pupil") == [
        ("5", "5B"), ("6", "6C")]
