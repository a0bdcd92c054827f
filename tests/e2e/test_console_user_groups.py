"""User groups in the console in words (issue 20): a staff member's user group
is chosen from the school's, so "teachers" or "Governer" never becomes a
group with Teachers' rights by a slip; a new group is made on purpose with
its rights shown; a permission change is a draft, summed up and confirmed
before it is saved, and undone in one click."""
import pytest
import requests

from tests.e2e.test_console import browser, page, sign_in_as_new_school  # noqa: F401

pytestmark = pytest.mark.e2e


def user_groups(base, auth):
    return {g["name"]: g["permissions"] for g in requests.get(f"{base}/api/user-groups", headers=auth).json()["items"]}


def test_the_staff_form_chooses_a_user_group_and_cant_make_one_by_a_slip(stack, page):
    base, token = sign_in_as_new_school(stack, page, name="Birch School", email="head@birch.sch.uk")
    auth = {"Authorization": f"Bearer {token}"}
    page.goto(base + "/#/staff")
    page.locator("summary", has_text="Add a staff member").click()
    form = page.locator("form").filter(has=page.get_by_role("button", name="Save"))
    form.get_by_label("First name").fill("Gil")
    form.get_by_label("Surname").fill("Ward")
    form.get_by_label("Email").fill("gil@birch.sch.uk")
    choice = form.get_by_label("User group", exact=True)
    assert choice.evaluate("e => e.tagName") == "SELECT"  # no free text to mistype
    assert "Governors (can sign in and see nothing of pupils)" in choice.inner_text()
    choice.select_option("__new__")
    form.get_by_label("Name of the new user group").fill("teachers ")
    form.get_by_text("That is the Teachers group").wait_for()
    page.shot("a-new-group-named-as-teachers")
    with page.expect_response(lambda r: "/api/user-groups/" in r.url) as refused:
        form.get_by_role("button", name="Save").click()
    assert refused.value.status == 422 and refused.value.json()["errors"][0]["code"] == "similar_user_group"
    assert "teachers" not in user_groups(base, auth) and requests.get(
        f"{base}/api/staff?q=Gil", headers=auth).json()["items"] == []

    choice.select_option("Governors")
    with page.expect_response(lambda r: r.url.endswith("/api/staff") and r.request.method == "POST") as made:
        form.get_by_role("button", name="Save").click()
    assert made.value.status == 201 and made.value.json()["user_group"] == "Governors"

    # made on purpose: a new group with the rights shown before saving
    page.get_by_role("button", name="Edit Gil Ward").click()
    edit = page.get_by_role("row").filter(has=page.get_by_role("button", name="Cancel"))
    edit.get_by_label("User group of Gil Ward").select_option("__new__")
    edit.get_by_label("Name of the new user group").fill("Cover Supervisors")
    edit.get_by_label("see pupils and staff:").check()
    edit.get_by_text("Cover Supervisors can see pupils and staff.").wait_for()
    with page.expect_response(lambda r: "/api/staff/" in r.url and r.request.method == "PATCH") as saved:
        edit.get_by_role("button", name="Save").click()
    assert saved.value.status == 200 and saved.value.json()["user_group"] == "Cover Supervisors"
    assert user_groups(base, auth)["Cover Supervisors"] == ["view_roster"]


def test_a_permission_change_is_summed_up_confirmed_and_undone(stack, page):
    base, token = sign_in_as_new_school(stack, page, name="Elm School", email="head@elm.sch.uk")
    auth = {"Authorization": f"Bearer {token}"}
    page.goto(base + "/#/admin")
    page.get_by_role("columnheader", name="see pupils and staff").first.wait_for()
    page.get_by_label("Governors can see pupils and staff").check()
    page.get_by_text("Governors will be able to see pupils and staff: every pupil's name").wait_for()
    page.shot("a-draft")
    assert user_groups(base, auth)["Governors"] == []  # a draft: nothing saved by the click
    page.get_by_role("button", name="Save permission changes…").click()
    dialog = page.get_by_role("dialog", name="Save these permission changes?")
    assert "Governors will be able to see pupils and staff" in dialog.inner_text()
    page.shot("the-summary")
    dialog.get_by_role("button", name="Keep editing").click()
    assert user_groups(base, auth)["Governors"] == []
    page.get_by_role("button", name="Save permission changes…").click()
    with page.expect_response(lambda r: "/api/user-groups/Governors" in r.url) as saved:
        page.get_by_role("button", name="Save these changes").click()
    assert saved.value.status == 200
    assert user_groups(base, auth)["Governors"] == ["view_roster"]
    with page.expect_response(lambda r: "/api/user-groups/Governors" in r.url):
        page.get_by_role("button", name="Undo the last permission change (Governors)").click()
    page.get_by_role("button", name="Undo the last permission change (Governors)").wait_for(state="detached")
    assert user_groups(base, auth)["Governors"] == []


def test_a_governors_home_links_only_to_what_they_can_use_and_says_why_groups_are_empty(stack, page):
    from tests.e2e.helpers import Http
    http = Http(stack)
    admin = http.school("willow-gov")
    _governor, token = http.staff(admin, "gov@willow-gov.sch.uk", "Governors")
    page.goto(http.base + "/")
    page.evaluate("t => sessionStorage.setItem('token', t)", token)
    page.goto(http.base + "/#/home")
    page.get_by_role("heading", name="What you can do here").wait_for()
    assert page.get_by_role("link", name="Add pupils").count() == 0  # no admin's getting-started list
    links = page.locator("main a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert links, "a home with nothing to do"
    page.shot("governor-home")
    for href in links + ["#/groups"]:
        page.goto(http.base + "/" + href)
        page.locator("#screen-title").wait_for()
        page.wait_for_timeout(200)
        assert page.locator("main .error[role=alert]").filter(has_text="permission").count() == 0, href
    page.get_by_text("Your user group (Governors) can't see pupils").wait_for()
