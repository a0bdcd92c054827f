"""Keyboard and small screens (issue 20), in real Chromium on the local stack:
a member added with the keyboard alone (arrows through the groups and the
rows, Shift+F10 for a row's menu), focus kept where the person is; at 390 px
a folded menu, the groups list then one group with a way back, and pupils as
cards whose buttons are on the screen."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_console import browser, page  # noqa: F401
from tests.e2e.helpers import HEADER, Http, School, api_import
from tests.e2e.test_console_sharing import sign_in

pytestmark = pytest.mark.e2e


def focused(page):
    return page.evaluate("() => document.activeElement.getAttribute('aria-label') || document.activeElement.textContent")


def test_a_member_is_added_with_the_keyboard_alone_and_focus_stays(stack, page):  # noqa: F811
    school = School(stack, "cedar-keys")
    rows = [f"P{i},Five,01/02/2015,5,5B," for i in range(6)]
    api_import(school.http.base, school.auth, HEADER + "\n".join(rows) + "\n")
    http = Http(stack)
    group = http.call("POST", "/api/groups", school.token, json={"name": "Choir"}).json()
    sign_in(page, school.http.base, school.token)
    page.locator("#group-list .group-button").first.wait_for()
    # "Skip to members" is the screen's first stop; then the groups, by arrow
    page.locator("#main").focus()  # (where "Skip to content" leads)
    page.keyboard.press("Tab")
    assert focused(page) == "Skip to members"
    page.keyboard.press("Enter")
    expect(page.locator("#members-title")).to_be_focused()
    page.locator('#group-list [data-group-id="' + group["id"] + '"]').focus()
    order = page.eval_on_selector_all("#group-list .group-button", "bs => bs.map((b) => b.dataset.groupId)")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("() => document.activeElement.dataset.groupId") == order[order.index(group["id"]) + 1]
    for _ in range(len(order)):
        if page.evaluate("() => document.activeElement.textContent").startswith("5B"):
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    first = page.locator("#group-members li.member").first
    first.wait_for()
    assert page.evaluate("() => document.activeElement.textContent").startswith("5B")  # focus stays on the group
    # to the fifth pupil's box with arrows, not 39 tabs
    page.locator("#group-members .member-pick").first.focus()
    for _ in range(4):
        page.keyboard.press("ArrowDown")
    assert focused(page) == "Select P4 Five, Year 5, 5B"
    page.keyboard.press("Shift+F10")
    menu = page.get_by_role("menuitem", name="Add to group…")
    expect(menu).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Group", exact=True).wait_for()
    page.keyboard.press("Tab")  # from the group (Choir, the only one) to the first time
    expect(dialog.locator(".presets button").first).to_be_focused()
    dialog.get_by_role("button", name="Until removed").focus()
    page.keyboard.press("Enter")
    dialog.wait_for(state="detached")
    listed = http.call("GET", f"/api/groups/{group['id']}/members", school.token).json()["items"]
    assert [(m["name"], m["until"]) for m in listed] == [("P4 Five", None)]
    # the toast says it; focus is back on the row it came from
    expect(page.locator("#toast")).to_contain_text("P4 Five added to Choir.")
    assert focused(page) == "Select P4 Five, Year 5, 5B"


def test_at_390_px_the_menu_folds_a_group_is_its_own_screen_and_pupils_are_cards(stack, page):  # noqa: F811
    school = School(stack, "cedar-small")
    api_import(school.http.base, school.auth, HEADER + "Ann,Lee,01/02/2015,5,5B,\nBen,Lee,01/02/2015,5,5B,\n")
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, school.http.base, school.token)
    nav = page.locator("#nav")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(nav).to_be_hidden()
    menu.click()
    expect(nav.get_by_role("link", name="Pupils")).to_be_visible()
    assert nav.bounding_box()["width"] <= 390
    # a group: the list, then its members alone, and back
    nav.get_by_role("link", name="Groups").click()
    expect(nav).to_be_hidden()
    groups = page.locator("#group-list")
    groups.get_by_role("button", name=re.compile(r"^5B")).click()
    members = page.locator("#group-members li.member")
    expect(members).to_have_count(2)
    expect(groups).to_be_hidden()
    expect(page.locator("#members-title")).to_be_focused()
    assert members.first.bounding_box()["y"] < 800  # the members are on the first screen, not below 26 groups
    page.shot("group-390")
    page.get_by_role("button", name="← All groups").click()
    expect(groups).to_be_visible()
    expect(groups.get_by_role("button", name=re.compile(r"^5B"))).to_be_focused()
    # pupils as cards: every button on the screen, no sideways scrolling
    page.goto(school.http.base + "/#/pupils")
    edit = page.get_by_role("button", name=re.compile(r"^Edit Ann Lee"))
    edit.wait_for()
    for button in page.locator("table.cards button").all():
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.shot("pupils-390")
