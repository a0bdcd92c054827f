"""Sharing a group in real Chromium (issue 19): an owner shares her private
group with a colleague as a teacher of it; the colleague signs in, sees it
with her role, and drags a pupil into it for a lesson."""
import re

import pytest
import requests

from tests.e2e.test_console import browser, page  # noqa: F401
from tests.e2e.helpers import Http, School, school_clock

pytestmark = pytest.mark.e2e


def sign_in(page, base, token):
    page.goto(base + "/")
    page.evaluate("t => sessionStorage.setItem('token', t)", token)
    page.goto(base + "/#/groups")
    page.get_by_role("heading", name="Groups", exact=True).first.wait_for()


def test_an_owner_shares_a_group_and_the_colleague_drags_a_pupil_in_for_a_lesson(stack, page):  # noqa: F811
    school = School(stack, "rowan-share")
    base = school.http.base
    http = Http(stack)
    r = school.call("POST", "/api/pupils", json={"first_name": "Noor", "surname": "Quill", "date_of_birth": "01/02/2015",
                                                 "year_group": "5"})
    assert r.status_code == 201, r.text
    pupil = r.json()
    owner, owner_token = http.staff(school.token, "olive@rowan-share.sch.uk", "Teachers")
    colleague, colleague_token = http.staff(school.token, "cora@rowan-share.sch.uk", "Teachers")
    r = http.call("PATCH", f"/api/staff/{colleague['id']}", school.token,
                  json={"version": school.get(f"/api/staff/{colleague['id']}")["version"], "first_name": "Cora", "surname": "Colleague"})
    assert r.status_code == 200, r.text
    group = http.call("POST", "/api/groups", owner_token, json={"name": "Set 2 maths", "shared": False}).json()

    # the owner shares it in the console
    sign_in(page, base, owner_token)
    groups = page.locator("#group-list")
    groups.get_by_role("button", name=re.compile(r"^Set 2 maths")).click()
    people = page.locator("#group-people")
    people.locator("li.person").first.wait_for()
    page.get_by_role("button", name="Share with a colleague…").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Colleague", exact=True).fill("Cora")
    dialog.get_by_role("button", name=re.compile(r"^Cora Colleague")).click()
    dialog.get_by_label("Role").select_option("teacher")
    page.shot("share-dialog")
    dialog.get_by_role("button", name="Share").click()
    dialog.wait_for(state="detached")
    row = people.locator(f'li.person[data-user-id="{colleague["id"]}"]')
    row.wait_for()
    assert "teacher" in row.inner_text()
    page.shot("shared")

    # the colleague signs in: the group is hers to change, and she drags a pupil in for a lesson
    page.evaluate("() => sessionStorage.clear()")
    sign_in(page, base, colleague_token)
    target = groups.get_by_role("button", name=re.compile(r"^Set 2 maths"))
    target.wait_for()
    groups.get_by_role("button", name=re.compile(r"^Year 5")).click()
    member = page.locator(f'#group-members li.member[data-member-id="{pupil["id"]}"]')
    member.wait_for()
    (starts, ends), crosses_midnight = school_clock(page, 2, 60)
    if crosses_midnight:
        pytest.skip("too close to midnight for a lesson today")
    member.drag_to(target)
    dialog = page.locator("dialog[open]")
    dialog.get_by_text("Other times").click()
    dialog.get_by_label("For a lesson today, from").check()
    dialog.get_by_label("Lesson starts").fill(starts)
    dialog.get_by_label("Lesson ends").fill(ends)
    dialog.get_by_role("button", name="Add", exact=True).click()
    dialog.wait_for(state="detached")
    target.click()
    row = page.locator(f'#group-members li.member[data-member-id="{pupil["id"]}"]')
    row.wait_for()
    assert re.search(r"from \d+ \w+ \d{4}, \d\d:\d\d until", row.inner_text()), row.inner_text()
    page.shot("lesson-by-colleague")
    # the owner sees the scheduled member with its window
    listed = requests.get(f"{base}/api/groups/{group['id']}/members?scheduled=true",
                          headers={"Authorization": f"Bearer {owner_token}"}).json()["items"]
    assert [(m["id"], bool(m["from"]), bool(m["until"])) for m in listed] == [(pupil["id"], True, True)]
