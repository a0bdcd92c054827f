"""The groups list a teacher uses mid-lesson (issue 20): their own groups
first, the school's groups after in school order (Year 7 before Year 10,
7A before 10A) in a section that folds, private groups marked; choosing a
group with the keyboard keeps focus on it."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import Http
from tests.e2e.test_console import browser, page  # noqa: F401

pytestmark = pytest.mark.e2e


def test_my_groups_first_then_the_schools_in_school_order(stack, page):
    http = Http(stack)
    token = http.school("aspen-list")
    for first, year, reg in (("Ada", "10", "10A"), ("Ben", "7", "7A"), ("Cy", "R", "RB")):
        r = http.call("POST", "/api/pupils", token, json={"first_name": first, "surname": "Ash", "date_of_birth":
                                                          "01/02/2012", "year_group": year, "registration_group": reg})
        assert r.status_code == 201, r.text
    assert http.call("POST", "/api/groups", token, json={"name": "Set 3", "shared": False}).status_code == 201
    page.goto(http.base + "/")
    page.evaluate("t => sessionStorage.setItem('token', t)", token)
    page.goto(http.base + "/#/groups")
    groups = page.locator("#group-list")
    groups.get_by_role("button", name=re.compile(r"^Set 3")).wait_for()
    headings = groups.locator("h4, summary").all_inner_texts()
    assert headings[0] == "My groups" and headings[-1].startswith("School groups"), headings
    mine = groups.get_by_role("list", name="My groups")
    assert "Private" in mine.get_by_role("button", name=re.compile(r"^Set 3")).inner_text()
    school = groups.get_by_role("list", name="School groups")
    names = school.locator(".group-name").all_inner_texts()
    assert names == ["All pupils", "All staff", "Reception", "Year 7", "Year 10", "7A", "10A", "RB"], names
    page.shot("groups-list")

    # Enter on a group keeps the keyboard there
    year_10 = school.get_by_role("button", name=re.compile(r"^Year 10"))
    year_10.focus()
    page.keyboard.press("Enter")
    page.locator("#group-members li.member").first.wait_for()
    expect(school.get_by_role("button", name=re.compile(r"^Year 10"))).to_be_focused()

    # the school's groups fold away, and stay folded
    page.get_by_text(re.compile(r"^School groups \(8\)")).click()
    expect(school).to_be_hidden()
    page.reload()
    groups.get_by_role("button", name=re.compile(r"^Set 3")).wait_for()
    expect(groups.get_by_role("list", name="School groups")).to_be_hidden()
