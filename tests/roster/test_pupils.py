"""Pupil routes: validation codes, UPN uniqueness, optimistic locking,
lists and search by index, permissions, tenant isolation, audit."""
from urllib.parse import quote

import pytest
from stdnum.gb.upn import calc_check_digit

from chalicelib.roster.models import UniqueKey


def upn(body="94012342500"):
    """A valid permanent UPN (LA 940 is newer than stdnum's LA list)."""
    body = body + "1"
    return calc_check_digit(body) + body


PUPIL = {"first_name": "Zoë", "surname": "Smith", "date_of_birth": "01/02/2015",
         "gender": "female", "year_group": "Year 5", "registration_group": "5B"}


def add(api, **fields):
    r = api.post("/api/pupils", {**PUPIL, **fields})
    assert r.status_code == 201, r.body
    return r.data


def test_create_stores_canonical_values(api, admin):
    r = api.post("/api/pupils", {**PUPIL, "upn": " " + upn().lower() + " "})
    assert r.status_code == 201
    p = r.data
    assert (p["date_of_birth"], p["gender"], p["year_group"], p["upn"]) == ("2015-02-01", "F", "5", upn())
    assert p["id"] and p["version"] == 1
    assert api.get(f"/api/pupils/{p['id']}").data == p


def test_pupil_without_upn_gets_a_stable_system_id(api, admin):
    p = add(api, upn=None)
    assert p["upn"] is None and len(p["id"]) == 32
    changed = api.patch(f"/api/pupils/{p['id']}", {"version": 1, "upn": upn()}).data
    assert changed["id"] == p["id"]


@pytest.mark.parametrize("fields, field, code", [
    ({"first_name": ""}, "first_name", "required"),
    ({"surname": "x" * 101}, "surname", "too_long"),
    ({"date_of_birth": "31/02/2015"}, "date_of_birth", "invalid_date"),
    ({"date_of_birth": "02/25/2015"}, "date_of_birth", "invalid_date"),
    ({"date_of_birth": "01/01/1980"}, "date_of_birth", "implausible_date_of_birth"),
    ({"date_of_birth": "01/01/2099"}, "date_of_birth", "implausible_date_of_birth"),
    ({"gender": "X"}, "gender", "invalid_gender"),
    ({"year_group": "Year 15"}, "year_group", "invalid_year_group"),
    ({"upn": "A12345"}, "upn", "invalid_upn"),
    ({"upn": ("B" if upn()[0] != "B" else "C") + upn()[1:]}, "upn", "upn_check_letter"),
])
def test_invalid_fields_are_422_with_their_code(api, admin, fields, field, code):
    r = api.post("/api/pupils", {**PUPIL, **fields})
    assert r.status_code == 422 and r.data["code"] == "validation_failed"
    assert {"field": field, "code": code} in [{"field": e["field"], "code": e["code"]} for e in r.data["errors"]]
    assert all(e["message"] for e in r.data["errors"])
    assert api.get("/api/pupils").data["items"] == []


def test_all_problems_are_reported_at_once(api, admin):
    r = api.post("/api/pupils", {"first_name": "", "surname": "", "date_of_birth": "x", "year_group": "?"})
    assert {e["field"] for e in r.data["errors"]} == {"first_name", "surname", "date_of_birth", "year_group"}


def test_duplicate_upn_is_refused_and_released_on_change_and_delete(api, admin):
    first = add(api, upn=upn())
    r = api.post("/api/pupils", {**PUPIL, "first_name": "Other", "upn": upn()})
    assert r.status_code == 409 and r.data["code"] == "duplicate_upn"
    assert r.data["errors"][0]["code"] == "duplicate_upn"
    # Changing the first pupil's UPN frees the old one.
    other_upn = upn("94012342501")
    assert api.patch(f"/api/pupils/{first['id']}", {"version": 1, "upn": other_upn}).status_code == 200
    second = add(api, first_name="Other", upn=upn())
    # A third may not take either.
    r = api.patch(f"/api/pupils/{second['id']}", {"version": 1, "upn": other_upn})
    assert r.status_code == 409 and r.data["code"] == "duplicate_upn"
    assert api.get(f"/api/pupils/{second['id']}").data["upn"] == upn()
    # Deleting releases it.
    assert api.delete(f"/api/pupils/{first['id']}").status_code == 200
    assert UniqueKey.count(admin["school_id"]) == 1
    add(api, first_name="Third", upn=other_upn)


def test_same_upn_in_another_school_is_fine(api, signup, admin):
    add(api, upn=upn())
    other = signup(name="Other School")
    r = api.post("/api/pupils", {**PUPIL, "upn": upn()}, token=other["token"])
    assert r.status_code == 201


def test_stale_version_is_409_and_changes_nothing(api, admin):
    p = add(api)
    assert api.patch(f"/api/pupils/{p['id']}", {"version": 1, "surname": "Jones"}).data["version"] == 2
    r = api.patch(f"/api/pupils/{p['id']}", {"version": 1, "surname": "Brown"})
    assert r.status_code == 409 and r.data["code"] == "conflict"
    assert api.get(f"/api/pupils/{p['id']}").data["surname"] == "Jones"


def test_patch_needs_a_version_and_validates(api, admin):
    p = add(api)
    r = api.patch(f"/api/pupils/{p['id']}", {"surname": "Jones"})
    assert r.status_code == 422 and r.data["errors"][0]["field"] == "version"
    r = api.patch(f"/api/pupils/{p['id']}", {"version": 1, "year_group": "Year 99"})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "invalid_year_group"
    r = api.patch(f"/api/pupils/{p['id']}", {"version": 1, "surname": ""})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "required"


def test_unchanged_patch_keeps_the_version(api, admin):
    p = add(api)
    r = api.patch(f"/api/pupils/{p['id']}", {"version": 1, "surname": "Smith", "year_group": "5"})
    assert r.status_code == 200 and r.data["version"] == 1


def names(page):
    return [f"{p['first_name']} {p['surname']}" for p in page["items"]]


def test_list_is_in_surname_order_and_pages_without_gaps(api, admin):
    for i, surname in enumerate(["Young", "Adams", "Patel", "Brown", "Ng", "Clark", "Khan"]):
        add(api, first_name=f"P{i}", surname=surname)
    seen, cursor = [], None
    while True:
        page = api.get("/api/pupils?limit=3" + (f"&next={cursor}" if cursor else "")).data
        assert len(page["items"]) <= 3
        seen += [p["surname"] for p in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == sorted(["Young", "Adams", "Patel", "Brown", "Ng", "Clark", "Khan"])


def test_filters_by_year_and_registration_group(api, admin):
    add(api, first_name="A", year_group="Y7", registration_group="7X")
    add(api, first_name="B", year_group="7", registration_group="7Y")
    add(api, first_name="C", year_group="Year 8", registration_group="8X")
    assert sorted(n.split()[0] for n in names(api.get("/api/pupils?year_group=Year%207").data)) == ["A", "B"]
    assert names(api.get("/api/pupils?registration_group=7x").data) == ["A Smith"]
    assert names(api.get("/api/pupils?registration_group=7X&year_group=8").data) == []
    r = api.get("/api/pupils?year_group=Year%2099")
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "invalid_year_group"


def test_name_search_prefix_accents_and_either_name(api, admin):
    add(api, first_name="Zoë", surname="Smith")
    add(api, first_name="Adam", surname="Zoller")
    add(api, first_name="Zoe", surname="Zola")  # matches both names: listed once
    add(api, first_name="Bob", surname="Jones")
    found = names(api.get("/api/pupils?q=zoe").data)
    assert sorted(found) == ["Zoe Zola", "Zoë Smith"]
    found = names(api.get("/api/pupils?q=ZO").data)
    assert sorted(found) == ["Adam Zoller", "Zoe Zola", "Zoë Smith"]
    assert names(api.get("/api/pupils?q=jon").data) == ["Bob Jones"]
    assert names(api.get("/api/pupils?q=xyz").data) == []


def test_name_search_takes_first_surname_and_surname_comma_first(api, admin):
    add(api, first_name="Ngozi", surname="Ókafor")
    add(api, first_name="Ngozi", surname="Adeyemi")
    add(api, first_name="Okafor", surname="Ngozi-Bello")  # first and surname the other way round
    add(api, first_name="Mary Jane", surname="Smith")
    for q, expected in (("Ngozi Ó", ["Ngozi Ókafor"]), ("ngozi  okafor", ["Ngozi Ókafor"]),
                        ("Okafor, Ngozi", ["Ngozi Ókafor"]), ("okafor,ng", ["Ngozi Ókafor"]),
                        ("okafor ngozi", ["Ngozi Ókafor", "Okafor Ngozi-Bello"]),
                        ("Smith, Mary", ["Mary Jane Smith"]), ("mary jane", ["Mary Jane Smith"]),
                        ("Mary Jane S", ["Mary Jane Smith"]), ("Ngozi X", []), ("Adeyemi, Bola", []),
                        (", Mary", ["Mary Jane Smith"]), (",", []), (" , ", [])):
        r = api.get("/api/pupils?q=" + quote(q))
        assert r.status_code == 200 and sorted(names(r.data)) == expected, q
    # a cursor is for the search that gave it out
    first = api.get("/api/pupils?q=ngozi&limit=1").data
    assert first["next"]
    r = api.get(f"/api/pupils?q=okafor&limit=1&next={first['next']}")
    assert r.status_code == 400 and r.data["code"] == "bad_cursor"
    assert api.get(f"/api/pupils?q=ngozi&limit=1&next={first['next']}").status_code == 200


def test_search_pages_hold_everyone_once(api, admin):
    people = [("Sam", "Ash"), ("Sara", "Sands"), ("Tom", "Saunders"), ("Sue", "Bell"),
              ("Ann", "Smith"), ("Sid", "Sykes"), ("Ola", "Oak")]
    for first, last in people:
        add(api, first_name=first, surname=last)
    seen, cursor = [], None
    for _ in range(10):
        page = api.get("/api/pupils?q=s&limit=2" + (f"&next={cursor}" if cursor else "")).data
        seen += names(page)
        cursor = page["next"]
        if not cursor:
            break
    expected = [f"{f} {s}" for f, s in people if f.lower().startswith("s") or s.lower().startswith("s")]
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))


def test_bad_limits_and_cursors_are_400(api, admin, signup):
    assert api.get("/api/pupils?limit=0").data["code"] == "bad_request"
    assert api.get("/api/pupils?limit=501").status_code == 400
    assert api.get("/api/pupils?limit=ten").status_code == 400
    assert api.get("/api/pupils?next=garbage!").status_code == 400
    for i in range(3):
        add(api, first_name=f"P{i}")
    cursor = api.get("/api/pupils?limit=1").data["next"]
    other = signup(name="Other School")
    r = api.get(f"/api/pupils?limit=1&next={cursor}", token=other["token"])
    assert r.status_code == 400


def test_another_schools_pupils_are_404_and_never_listed(api, signup, admin):
    theirs = signup(name="Their School")
    p = api.post("/api/pupils", {**PUPIL, "first_name": "Secret", "upn": upn()}, token=theirs["token"]).data
    for call in (lambda: api.get(f"/api/pupils/{p['id']}"),
                 lambda: api.patch(f"/api/pupils/{p['id']}", {"version": 1, "surname": "X"}),
                 lambda: api.delete(f"/api/pupils/{p['id']}")):
        r = call()
        assert r.status_code == 404 and r.data["code"] == "not_found"
        assert "Secret" not in r.body.decode()
    assert api.get("/api/pupils").data["items"] == []
    assert api.get("/api/pupils?q=secret").data["items"] == []
    assert api.get("/api/pupils?year_group=5").data["items"] == []
    assert api.get(f"/api/pupils/{p['id']}", token=theirs["token"]).data["surname"] == "Smith"


def test_unverified_admin_cannot_add_pupils(api, signup):
    school = signup(verify=False)
    r = api.post("/api/pupils", PUPIL, token=school["token"])
    assert r.status_code == 403 and r.data["code"] == "email_not_verified"


def test_permissions_are_checked(api, admin, member):
    ta = member(admin, "TAs")
    governor = member(admin, "Governors")
    add(api)
    assert api.get("/api/pupils", token=ta["token"]).status_code == 200
    r = api.post("/api/pupils", PUPIL, token=ta["token"])
    assert r.status_code == 403 and r.data["code"] == "permission_denied" and "manage_roster" in r.data["message"]
    r = api.get("/api/pupils", token=governor["token"])
    assert r.status_code == 403 and "view_roster" in r.data["message"]


def test_changes_are_audited_with_before_and_after(api, admin):
    p = add(api)
    api.patch(f"/api/pupils/{p['id']}", {"version": 1, "surname": "Jones"})
    api.delete(f"/api/pupils/{p['id']}")
    entries = api.get("/api/audit").data["items"]
    mine = [e for e in entries if e["record_id"] == p["id"]]
    assert [e["action"] for e in mine] == ["erase", "update", "create"]
    assert mine[1]["changes"] == {"surname": ["Smith", "Jones"]}
    assert mine[1]["actor_id"] == admin["user_id"] and mine[1]["actor_name"] == "Ada Admin"
    # a deletion erases: the tombstone names no one (the older entries lose the name when scrubbed)
    assert mine[0]["changes"]["reason"] == "deleted" and "first_name" not in mine[0]["changes"]


def test_the_audit_log_names_each_record_as_it_is_now_and_an_erased_one_not_at_all(api, admin):
    """Entries keep ids; the log names them when read (a renamed pupil as she
    is called now), and an erased pupil's name is nowhere."""
    kept, erased = add(api, first_name="Sam"), add(api, first_name="Eve")
    api.patch(f"/api/pupils/{kept['id']}", {"version": 1, "surname": "Jones"})
    group = api.post("/api/groups", {"name": "Choir"}).data
    api.post(f"/api/groups/{group['id']}/members", {"member_ids": [kept["id"]]})
    api.put("/api/user-groups/Librarians", {"permissions": ["view_roster"]})
    api.delete(f"/api/pupils/{erased['id']}")
    entries = api.get("/api/audit?limit=100").data["items"]
    names = {(e["record_type"], e["action"]): e["record_name"] for e in entries if e["record_id"] != erased["id"]}
    assert names[("pupil", "create")] == names[("pupil", "update")] == "Sam Jones"
    assert names[("group", "create")] == names[("membership", "add")] == "Choir"
    assert names[("user_group", "create")] == "Librarians"
    assert {e["record_name"] for e in entries if e["record_id"] == erased["id"]} == {None}
    from chalicelib.core.audit import scrub_pending
    scrub_pending()  # (the erasure's job, which takes her name out of the entries' changes)
    assert "Eve" not in str(api.get("/api/audit?limit=100").data["items"])
    assert api.get(f"/api/audit?record_id={kept['id']}").data["items"][0]["record_name"] == "Sam Jones"
