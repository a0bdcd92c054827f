"""The OneRoster 1.2 rostering service, through HTTP: the spec's shapes,
paging, sorting, filtering and field selection, and who may read it."""
import json
import os

import jsonschema
import pytest

BASE = "/ims/oneroster/rostering/v1p2"
SPEC_PATH = os.path.join(os.path.dirname(__file__), "..", "data", "oneroster",
                         "onerosterv1p2rostersservice_openapi3_v1p0.json")


@pytest.fixture(scope="module")
def spec():
    with open(SPEC_PATH, encoding="utf-8") as fh:
        return json.load(fh)


def conforms(spec, path, status, body):
    """The body is valid against the spec's response schema of this GET."""
    op = spec["paths"][path]["get"]
    schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": spec["components"]})


@pytest.fixture
def school(api, admin, member, api_client):
    """A school with 3 pupils, a teacher, a group of two of them, and a client."""
    pupils = []
    for first, year, gender in (("Ada", "7", "F"), ("Ben", "R", "M"), ("Cy", "12", "")):
        r = api.post("/api/pupils", {"first_name": first, "surname": "Pupil", "date_of_birth": "2014-02-03",
                                     "year_group": year, "gender": gender or None})
        assert r.status_code == 201, r.body
        pupils.append(r.data)
    teacher = member(admin, "Teachers", first_name="Tess")
    group = api.post("/api/groups", {"name": "Chess club"}, token=teacher["token"]).data
    api.post(f"/api/groups/{group['id']}/members", {"member_ids": [pupils[0]["id"], pupils[1]["id"]]},
             token=teacher["token"])
    client = api_client(admin, ["oneroster.read", "oneroster.demographics"])
    return {"pupils": pupils, "teacher": teacher, "group": group, "token": client["token"],
            "school_id": admin["school_id"]}


def get(api, school, path):
    r = api.get(BASE + path, token=school["token"])
    return r


def test_every_collection_answers_the_spec_shape(api, school, spec):
    for path in ("/orgs", "/schools", "/academicSessions", "/courses", "/classes", "/users", "/students",
                 "/teachers", "/enrollments", "/demographics"):
        r = get(api, school, path)
        assert r.status_code == 200, (path, r.body)
        conforms(spec, path, 200, r.data)
        assert int(r.headers["X-Total-Count"]) >= 1, path
        one = next(iter(r.data.values()))[0]["sourcedId"]
        single = get(api, school, f"{path}/{one}")
        assert single.status_code == 200, (path, single.body)
        conforms(spec, f"{path}/{{sourcedId}}", 200, single.data)


def test_the_mapping(api, school):
    students = {u["givenName"]: u for u in get(api, school, "/students").data["users"]}
    assert students["Ada"]["grades"] == ["07"] and students["Ben"]["grades"] == ["KG"]
    assert students["Cy"]["grades"] == ["12"] and students["Ada"]["roles"][0]["role"] == "student"
    teachers = get(api, school, "/teachers").data["users"]
    assert [t["givenName"] for t in teachers] == ["Tess"]
    admins = [u for u in get(api, school, "/users").data["users"] if u["roles"][0]["role"] == "siteAdministrator"]
    assert [u["givenName"] for u in admins] == ["Ada"]  # the school's admin, Ada Admin
    demographics = {d["sourcedId"]: d for d in get(api, school, "/demographics").data["demographics"]}
    ada = school["pupils"][0]
    assert demographics[ada["id"]] == {**demographics[ada["id"]], "birthDate": "2014-02-03", "sex": "female"}
    group = school["group"]["id"]
    enrolled = get(api, school, f"/classes/{group}/students").data["users"]
    assert sorted(u["givenName"] for u in enrolled) == ["Ada", "Ben"]
    assert [u["givenName"] for u in get(api, school, f"/classes/{group}/teachers").data["users"]] == ["Tess"]
    assert [c["title"] for c in get(api, school, f"/students/{ada['id']}/classes").data["classes"]] == ["Chess club"]
    tess = teachers[0]["sourcedId"]
    assert [c["title"] for c in get(api, school, f"/teachers/{tess}/classes").data["classes"]] == ["Chess club"]
    assert len(get(api, school, f"/schools/{school['school_id']}/classes").data["classes"]) == 1
    roles = sorted(e["role"] for e in get(api, school, "/enrollments").data["enrollments"])
    assert roles == ["student", "student", "teacher"]


def test_paging_with_total_and_links(api, school):
    first = get(api, school, "/students?limit=2&offset=0")
    assert len(first.data["users"]) == 2 and first.headers["X-Total-Count"] == "3"
    assert 'rel="next"' in first.headers["Link"] and "offset=2" in first.headers["Link"]
    second = get(api, school, "/students?limit=2&offset=2")
    assert len(second.data["users"]) == 1 and 'rel="next"' not in second.headers["Link"]
    ids = [u["sourcedId"] for u in first.data["users"] + second.data["users"]]
    assert len(set(ids)) == 3


def test_sort_filter_and_fields(api, school):
    names = [u["givenName"] for u in get(api, school, "/students?sort=givenName&orderBy=desc").data["users"]]
    assert names == ["Cy", "Ben", "Ada"]
    only = get(api, school, "/students?filter=givenName%3D'Ben'").data["users"]
    assert [u["givenName"] for u in only] == ["Ben"]
    both = get(api, school, "/students?filter=status%3D'active'%20AND%20givenName~'a'").data["users"]
    assert sorted(u["givenName"] for u in both) == ["Ada"]
    either = get(api, school, "/students?filter=givenName%3D'Ada'%20OR%20givenName%3D'Cy'").data["users"]
    assert sorted(u["givenName"] for u in either) == ["Ada", "Cy"]
    later = get(api, school, "/users?filter=dateLastModified%3E'2000-01-01T00:00:00Z'")
    assert later.headers["X-Total-Count"] == "5"
    assert get(api, school, "/users?filter=dateLastModified%3E'2999-01-01'").data["users"] == []
    picked = get(api, school, "/students?fields=sourcedId,givenName").data["users"]
    assert all(set(u) == {"sourcedId", "givenName"} for u in picked)


@pytest.mark.parametrize("query,minor", [
    ("filter=nosuchfield%3D'x'", "invalid_filter_field"),
    ("filter=givenName%3DBen", "invalid_filter_field"),
    ("fields=nosuchfield", "invalid_selection_field"),
    ("limit=0", "invaliddata"),
    ("offset=-1", "invaliddata"),
    ("orderBy=sideways", "invaliddata"),
])
def test_a_bad_parameter_is_a_spec_error(api, school, spec, query, minor):
    r = get(api, school, f"/students?{query}")
    assert r.status_code == 400, r.body
    conforms(spec, "/students", 400, r.data)
    assert r.data["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == minor


def test_unknown_records_and_refusals_are_spec_errors(api, admin, school, spec, member, api_client):
    missing = get(api, school, "/users/nosuchuser")
    assert missing.status_code == 404
    conforms(spec, "/users/{sourcedId}", 404, missing.data)
    assert get(api, school, "/classes/nosuchclass/students").status_code == 404
    groups_only = api_client(admin, ["groups.read"])
    refused = api.get(BASE + "/users", token=groups_only["token"])
    assert refused.status_code == 403
    conforms(spec, "/users", 403, refused.data)
    assert api.get(BASE + "/users", token="").status_code == 401
    teacher = school["teacher"]
    assert api.get(BASE + "/users", token=teacher["token"]).status_code == 403
    assert api.get(BASE + "/users", token=admin["token"]).status_code == 200  # manage_settings


def test_a_leaver_is_tobedeleted(api, admin, school):
    ada = school["pupils"][0]
    r = api.patch(f"/api/pupils/{ada['id']}", {"version": ada["version"], "status": "left",
                                                "left_on": "2026-07-20"})
    assert r.status_code == 200, r.body
    user = get(api, school, f"/students/{ada['id']}").data["user"]
    assert user["status"] == "tobedeleted" and user["enabledUser"] == "false"


def test_a_deleted_record_answers_tobedeleted_for_30_days_in_a_delta(api, admin, school, spec, monkeypatch):
    ben, tess = school["pupils"][1], school["teacher"]
    assert api.delete(f"/api/pupils/{ben['id']}").status_code == 200
    assert api.delete(f"/api/staff/{tess['id']}").status_code == 200
    full = {u["sourcedId"] for u in get(api, school, "/users").data["users"]}
    assert ben["id"] not in full and tess["id"] not in full  # a full read is the roster as it is
    delta = get(api, school, "/users?filter=dateLastModified%3E'2000-01-01T00:00:00Z'")
    conforms(spec, "/users", 200, delta.data)
    gone = {u["sourcedId"]: u for u in delta.data["users"] if u["status"] == "tobedeleted"}
    assert set(gone) == {ben["id"], tess["id"]}
    assert gone[ben["id"]]["givenName"] == "" and gone[ben["id"]]["roles"][0]["role"] == "student"
    one = get(api, school, f"/students/{ben['id']}")
    assert one.status_code == 200 and one.data["user"]["status"] == "tobedeleted"
    conforms(spec, "/students/{sourcedId}", 200, one.data)
    demographics = get(api, school, f"/demographics/{ben['id']}").data["demographics"]
    assert demographics["status"] == "tobedeleted" and "birthDate" not in demographics
    # neither the audit log nor the change feed lists the markers
    assert all(e["action"] != "gone" for e in api.get("/api/audit?limit=100").data["items"])
    from chalicelib.integrations import feed, or_data
    import time
    monkeypatch.setattr(feed, "clock", lambda: time.time() + feed.SETTLE_SECONDS + 1)
    assert all(c["action"] != "gone" for c in api.get("/api/changes?limit=500").data["changes"])
    monkeypatch.setattr(or_data.Roster, "GONE_SECONDS", -5)  # (as if 30 days on)
    assert ben["id"] not in {u["sourcedId"] for u in get(
        api, school, "/users?filter=dateLastModified%3E'2000-01-01T00:00:00Z'").data["users"]}
    assert get(api, school, f"/students/{ben['id']}").status_code == 404
