"""Times and names that can't break a group (issue 19): every time the API
takes is within a sane range, refused with a 422 outside it, and saves
nothing; a teacher group can't take a system group's name."""
import pytest

from tests.groups.test_groups import later, pupils  # noqa: F401 - a fixture


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


@pytest.mark.parametrize("name", ["All pupils", "  all   PUPILS ", "AllStaff", "year 5", "Reception", "5b", "Year 12"])
def test_a_teacher_group_cannot_take_a_system_groups_name(api, admin, pupils, name):  # noqa: F811
    r = api.post("/api/groups", {"name": name})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "system_name", r.body
    group = api.post("/api/groups", {"name": "Maths club"}).data
    r = api.patch(f"/api/groups/{group['id']}", {"name": name})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "system_name", r.body
    assert api.post("/api/groups", {"name": "5B readers"}).status_code == 201  # (a name that only starts alike)
