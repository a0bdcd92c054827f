"""Reading a roster bundle (issue 18): flavours, schools, the join of users,
roles and demographics into our fields, grades as years, unsafe zips."""
import io

import pytest

from chalicelib.imports import bundle
from chalicelib.imports.bundle import Flavour, GradesAs
from tests.imports.conftest import bundle as bundle_zip, bundle_file, upn, zipped


def opened(data):
    book = bundle.open_bundle(io.BytesIO(data))
    return book, bundle.inspect(book)


@pytest.mark.parametrize("name, flavour", [("oneroster_1_2", Flavour.ONEROSTER_1_2),
                                           ("oneroster_1_1", Flavour.ONEROSTER_1_1),
                                           ("sds_v2_1", Flavour.SDS_2)])
def test_the_flavour_is_told_by_the_manifest_or_by_the_headers(name, flavour):
    assert opened(bundle_zip(name))[1].flavour == flavour
    assert opened(bundle_zip(name, drop=("manifest.csv",), folder="export/"))[1].flavour == flavour


def test_oneroster_1_0_is_told_by_its_user_id_column():
    users = "sourcedId,status,dateLastModified,orgSourcedIds,role,username,userId,givenName,familyName\r\n" \
            "u1,active,,o1,student,,,A,B\r\n"
    assert opened(bundle_zip("oneroster_1_1", replace={"users.csv": users}, drop=("manifest.csv",)))[1].flavour \
        == Flavour.ONEROSTER_1_0


def test_the_schools_are_listed_with_their_users_and_a_district_is_not_one():
    _book, info = opened(bundle_zip("oneroster_1_2"))
    assert [o.as_dict() for o in info.orgs] == [
        {"sourcedId": "org-oak", "name": "Oakfield Primary", "type": "school", "users": 9},
        {"sourcedId": "org-birch", "name": "Birch Academy", "type": "school", "users": 3}]


def test_a_oneroster_1_2_school_joins_users_roles_and_demographics_into_our_fields():
    book, info = opened(bundle_zip("oneroster_1_2"))
    people = bundle.people(book, info, "org-oak")
    pupils = {p["external_id"]: p for p in people.pupils}
    assert pupils["stu-1"] == {"first_name": "Amara", "surname": "Okafor", "external_id": "stu-1",
                               "date_of_birth": "2018-03-14", "gender": "F", "year_group": "Year 3", "upn": upn(11)}
    assert (pupils["stu-3"]["year_group"], pupils["stu-3"]["upn"]) == ("R", "")
    assert set(pupils) == {"stu-1", "stu-2", "stu-3", "stu-4"}  # not Birch's, not one to be deleted
    staff = {s["external_id"]: s for s in people.staff}
    assert staff["tch-1"]["email"] == "g.hopper@oakfield.sch.uk" and staff["tch-1"]["user_group"] == "Teachers"
    assert staff["tch-2"]["email"] == "h.singh@oakfield.sch.uk"  # blank email: the username, an address
    assert (staff["adm-1"]["user_group"], staff["adm-1"]["job_role"]) == ("Admin Team", "Administrator")
    assert staff["aide-1"]["user_group"] == "TAs"
    assert set(staff) == {"tch-1", "tch-2", "adm-1", "aide-1"}
    assert people.skipped == {"inactive": 1, "guardian": 1, "other_school": 2}


def test_grades_read_as_years_or_as_us_grades():
    assert [bundle.year_group(g) for g in ("PK", "KG", "01", "13", "7")] == ["N2", "R", "Year 1", "Year 13", "Year 7"]
    us = GradesAs.US_GRADE
    assert [bundle.year_group(g, us) for g in ("PK", "KG", "01", "12")] == ["R", "Year 1", "Year 2", "Year 13"]
    assert bundle.year_group("UG") == "UG"  # refused by the year-group check, showing what was written


def test_oneroster_1_1_reads_role_and_grades_from_users_and_leaves_a_disabled_user_out():
    book, info = opened(bundle_zip("oneroster_1_1"))
    people = bundle.people(book, info, "sch-1")
    assert [(p["external_id"], p["year_group"], p["gender"]) for p in people.pupils] == [
        ("p-100", "Year 5", "M"), ("p-101", "Year 5", "F"), ("p-102", "Year 1", "")]
    assert [(s["external_id"], s["email"]) for s in people.staff] == [("t-200", "p.quinn@elmgrove.sch.uk")]
    assert people.skipped == {"inactive": 1}


def test_sds_reads_grade_from_roles_and_birth_dates_by_user_sourced_id():
    book, info = opened(bundle_zip("sds_v2_1"))
    people = bundle.people(book, info, "100")
    assert [(p["external_id"], p["year_group"], p["date_of_birth"]) for p in people.pupils] == [
        ("s-1", "Year 9", "2012-10-10"), ("s-2", "Year 10", "2011-12-01")]
    assert [(s["email"], s["user_group"]) for s in people.staff] == [
        ("tlane@ashtree.sch.uk", "Teachers"), ("uford.staff@ashtree.sch.uk", "Admin Team")]


USERS = bundle_file("oneroster_1_1", "users.csv")


@pytest.mark.parametrize("members, words", [
    ({f"f{i}.csv": "" for i in range(50)} | {"users.csv": USERS}, "51 files"),
    ({"users.csv": USERS, "../../etc/passwd": "x"}, "outside it"),
    ({"users.csv": USERS, "/abs.csv": "x"}, "outside it"),
    ({"users.csv": "a," * (11 << 20)}, "unpacks to more than 20 MB"),
    ({"users.csv": "sourcedId\n" + "1\n" * (2 << 20)}, "times its size"),
    ({"roles.csv": "x"}, "no users.csv"),
    ({"users.csv": USERS, "export/users.csv": USERS}, "two files called users.csv"),
])
def test_an_unsafe_or_foreign_zip_is_refused_saying_why(members, words):
    with pytest.raises(bundle.Unreadable) as caught:
        opened(zipped(members))
    assert words in caught.value.message and caught.value.code == "bundle_unreadable"


def test_a_damaged_zip_or_member_is_refused():
    with pytest.raises(bundle.Unreadable, match="damaged"):
        opened(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(bundle.Unreadable, match="UTF-8"):
        opened(zipped({"users.csv": b"sourcedId,role\r\n\xff\xfe,student\r\n"}))


def test_classes_of_the_chosen_school_with_the_primary_teacher_first_and_active_enrollments_only():
    book, info = opened(bundle_zip("oneroster_1_2"))
    found = {c.external_id: (c.name, c.teachers, c.pupils) for c in bundle.classes(book, info, "org-oak")}
    assert found == {"cls-1": ("3 Maths (3MA, period 2)", ["tch-1", "tch-2"], ["stu-1", "stu-2", "stu-6"]),
                     "cls-2": ("Reception Robins (RR)", ["tch-2"], ["stu-3"])}
    assert [c.external_id for c in bundle.classes(book, info, "org-birch")] == ["cls-b"]
    classes = bundle.classes(book, info, "org-oak")
    assert [c.external_id for c in classes] == [c.external_id for c in classes] == ["cls-1", "cls-2"]  # (read again)
    enrollments = bundle_file("oneroster_1_2", "enrollments.csv").replace("cls-1,org-oak,tch-1,teacher,true",
                                                                         "cls-1,org-oak,tch-1,teacher,false")
    enrollments = enrollments.replace("cls-1,org-oak,tch-2,teacher,false", "cls-1,org-oak,tch-2,teacher,true")
    book, info = opened(bundle_zip("oneroster_1_2", replace={"enrollments.csv": enrollments}))
    assert next(iter(bundle.classes(book, info, "org-oak"))).teachers == ["tch-2", "tch-1"]


def test_sds_classes_are_read_by_org_and_a_bundle_without_classes_has_none():
    book, info = opened(bundle_zip("sds_v2_1"))
    assert [(c.name, c.teachers, c.pupils) for c in bundle.classes(book, info, "100")] == \
        [("9 English (9EN)", ["t-1"], ["s-1"])]
    book, info = opened(bundle_zip("oneroster_1_1"))
    assert bundle.classes(book, info, "sch-1") is None
