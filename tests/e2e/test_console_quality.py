"""Axe-style basics on every screen, at tablet and desktop widths: every
control has a name, text has enough contrast, nothing overflows sideways,
and the keyboard reaches the content; axe-core for WCAG 2.1 AA."""
import os

import pytest
import requests

from tests.e2e.test_console import browser, page, sign_in_as_new_school  # noqa: F401

pytestmark = pytest.mark.e2e

AUDIT = """() => {
  const problems = [];
  const visible = (e) => e.checkVisibility();
  document.querySelectorAll('input, select, textarea').forEach((e) => {
    if (e.type === 'hidden' || !visible(e)) return;
    const named = (e.labels && e.labels.length) || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby');
    if (!named) problems.push('unlabelled control: ' + e.outerHTML.slice(0, 100));
  });
  document.querySelectorAll('button, a[href]').forEach((e) => {
    if (!visible(e)) return;
    const name = (e.innerText || '').trim() || e.getAttribute('aria-label') || e.getAttribute('title');
    if (!name) problems.push('control without a name: ' + e.outerHTML.slice(0, 100));
  });
  if (document.documentElement.scrollWidth > window.innerWidth + 1)
    problems.push('horizontal overflow: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
  if (!document.documentElement.lang) problems.push('no lang on <html>');
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (e) => { for (let n = e; n; n = n.parentElement) { const c = rgb(getComputedStyle(n).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); } return [255, 255, 255]; };
  document.querySelectorAll('body *').forEach((e) => {
    if (!visible(e)) return;
    const text = Array.from(e.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!text) return;
    const style = getComputedStyle(e);
    const a = lum(rgb(style.color).slice(0, 3)), b = lum(background(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.6 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) problems.push('low contrast ' + ratio.toFixed(2) + ': ' + e.outerHTML.slice(0, 80));
  });
  return problems;
}"""

SCREENS = ["home", "pupils", "staff", "admin", "sync", "import", "groups", "account"]


@pytest.mark.parametrize("width", [768, 1280])
def test_every_screen_passes_the_basics(stack, page, width):
    email = f"quality{width}@oak-quality.sch.uk"
    base, token = sign_in_as_new_school(stack, page, name="Quality School", email=email)
    requests.post(f"{base}/api/pupils", headers={"Authorization": f"Bearer {token}"}, json={
        "first_name": "Ann", "surname": "Lee", "date_of_birth": "01/02/2015", "year_group": "5",
        "registration_group": "5B"})
    page.set_viewport_size({"width": width, "height": 900})
    for screen in SCREENS:
        page.goto(f"{base}/#/{screen}")
        page.locator("#screen-title, h2").first.wait_for()
        page.wait_for_timeout(300)
        problems = page.evaluate(AUDIT)
        page.shot(f"{screen}-{width}")
        assert problems == [], (screen, problems)


def test_keyboard_reaches_the_content_first(stack, page):
    base, _ = sign_in_as_new_school(stack, page, name="Keys School", email="keys@keys.sch.uk")
    page.goto(base + "/#/pupils")
    page.locator("h2").first.wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


AXE = os.path.join(os.path.dirname(__file__), "..", "..", ".venv", "node", "node_modules", "axe-core", "axe.min.js")
AXE_RUN = """async () => {
  const found = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
  return found.violations.map((v) => v.id + " (" + v.impact + "): " + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "));
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_no_wcag_21_aa_violation_on_any_screen_with_data(stack, page, width):
    """axe-core (make test installs the pinned npm package) on every screen
    with pupils, staff, a group with members and an import in them."""
    assert os.path.exists(AXE), "make test installs axe-core; run it through make"
    page.add_init_script(path=AXE)  # (through the browser's protocol, so the console's CSP still holds for it)
    email = f"axe{width}@oak-axe.sch.uk"
    base, token = sign_in_as_new_school(stack, page, name="Axe School", email=email)
    auth = {"Authorization": f"Bearer {token}"}
    pupil_ids = []
    for first, year, reg in (("Ann", "5", "5B"), ("Ben", "5", "5B"), ("Cy", "R", "RB")):
        r = requests.post(f"{base}/api/pupils", headers=auth, json={
            "first_name": first, "surname": "Lee", "date_of_birth": "01/02/2015", "year_group": year,
            "registration_group": reg})
        pupil_ids.append(r.json()["id"])
    requests.post(f"{base}/api/staff", headers=auth, json={
        "first_name": "Tia", "surname": "Teach", "email": f"tia{width}@oak-axe.sch.uk", "user_group": "Teachers"})
    group = requests.post(f"{base}/api/groups", headers=auth, json={"name": "Set 1", "shared": False}).json()
    requests.post(f"{base}/api/groups/{group['id']}/members", headers=auth, json={"member_ids": pupil_ids[:2]})
    page.set_viewport_size({"width": width, "height": 900})
    found = {}
    for screen in SCREENS + [f"groups/{group['id']}"]:
        page.goto(f"{base}/#/{screen}")
        page.locator("#screen-title, h2").first.wait_for()
        page.wait_for_timeout(400)
        page.shot(f"axe-{screen.replace('/', '-')}-{width}")
        problems = page.evaluate(AXE_RUN)
        if problems:
            found[screen] = problems
    assert found == {}, found
