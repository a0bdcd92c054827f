"""Clever's SFTP files zipped as a bundle (issue 18): its schools, students
(month-first birth dates, US grades), teachers, staff and sections read to
the exact records and class groups; read again, nothing changes."""
from chalicelib.imports import clever
from tests.imports.conftest import bundle, bundle_file
from tests.imports.test_bundle_classes import class_groups, members
from tests.imports.test_bundles import choose, records


def test_clevers_birth_dates_are_month_first_by_its_spec_and_never_read_day_first():
    assert [clever.month_first(d) for d in ("12/19/2017", "4/2/2021", "2014-09-30", "")] == [
        "2017-12-19", "2021-04-02", "2014-09-30", ""]
    for cell in ("19/05/2016", "02/31/2017"):  # refused, showing what the file held
        assert clever.month_first(cell) == f"{cell} (not a month-first date; write it as YYYY-MM-DD)"


def test_a_clever_bundle_imports_its_schools_people_and_sections(api, importer):
    imp = importer.upload("bundle", bundle("clever"), filename="clever.zip")
    assert imp["status"] == "mapping" and imp["bundle"]["flavour"] == "clever", imp
    assert [(o["sourcedId"], o["name"], o["users"]) for o in imp["bundle"]["orgs"]] == [
        ("sch-maple", "Maple Primary", 9), ("sch-cedar", "Cedar Middle", 2)]
    imp = choose(api, importer, imp, org="sch-maple", grades_as="us_grade")
    assert imp["status"] == "review", imp["error"]
    parts = imp["summary"]["parts"]
    assert (parts["staff"]["create"], parts["pupils"]["create"], parts["pupils"]["errors"]) == (4, 3, 1), parts
    assert imp["summary"]["skipped"] == {"other_school": 2, "also_a_teacher": 1}
    refused = importer.rows({"id": imp["parts"]["pupils"]})
    assert [(r["errors"][0]["field"], r["errors"][0]["code"]) for r in refused] == [("date_of_birth", "invalid_date")]
    done = importer.commit(imp)
    assert done["status"] == "committed" and done["result"]["created"] == 7, done
    pupils, staff = records(api)
    assert {k: (p["first_name"], p["surname"], p["date_of_birth"], p["gender"], p["year_group"], p["upn"])
            for k, p in pupils.items()} == {
        "S100": ("Ania", "Nowak", "2017-12-19", "F", "4", "D940123420301"),
        "S101": ("Kwame", "Osei", "2021-04-02", "M", "1", None),
        "S102": ("Lucía", "Reyes", "2014-09-30", "F", "7", "R940123420311")}
    assert {k: (s["email"], s["user_group"], s["job_role"]) for k, s in staff.items()} == {
        "T1": ("g.hall@maple-clever.sch.uk", "Teachers", "Class teacher"),
        "T2": ("o.farouk@maple-clever.sch.uk", "Teachers", "Teacher"),
        "F1": ("p.jones@maple-clever.sch.uk", "Teachers", "Head teacher"),  # (Clever's Role never makes an admin)
        "F3": ("r.lee@maple-clever.sch.uk", "TAs", "Teaching assistant")}
    assert done["result"]["classes"] == {"created": 3, "updated": 0, "unchanged": 0, "ended": 0,
                                         "members_added": 4, "members_removed": 0, "pupils_unmatched": 1}
    groups = class_groups(api)
    assert {k: (g["name"], g["owner_id"], g["co_owner_ids"], g["member_count"]) for k, g in groups.items()} == {
        "SEC1": ("3 Maths (3MA, period 2)", staff["T1"]["id"], [staff["T2"]["id"]], 2),
        "SEC2": ("Reception Robins (RR)", staff["T2"]["id"], [], 1),
        "SEC3": ("Art club", None, [], 1)}  # (its teacher is not on the roster: the admins hold it)
    assert members(api, groups["SEC1"]) == ["Ania Nowak", "Lucía Reyes"]

    again = choose(api, importer, importer.upload("bundle", bundle("clever")), org="sch-maple", grades_as="us_grade")
    assert (again["summary"]["create"], again["summary"]["update"], again["summary"]["unchanged"]) == (0, 0, 7)
    assert importer.commit(again)["result"]["classes"]["unchanged"] == 3

    moved = bundle_file("clever", "enrollments.csv").replace("sch-maple,SEC1,S102", "sch-maple,SEC2,S102")
    third = choose(api, importer, importer.upload("bundle", bundle("clever", replace={"enrollments.csv": moved})),
                   org="sch-maple", grades_as="us_grade")
    result = importer.commit(third)["result"]["classes"]
    assert (result["members_added"], result["members_removed"], result["unchanged"]) == (1, 1, 3), result
    assert members(api, class_groups(api)["SEC2"]) == ["Kwame Osei", "Lucía Reyes"]
