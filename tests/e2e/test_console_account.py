"""Accounts a school can run, in real Chromium against the real local stack:
a forgotten password reset from its emailed link, two-factor sign-in set up
and used (a code from the app, then a recovery code), a person's own
sessions, and disabling a colleague on the staff screen."""
import html
import json
import re
import time

import pyotp
import pytest
import requests

from tests.e2e.test_console import browser, page, sign_in_as_new_school  # noqa: F401
from tests.e2e.test_local_stack import PASSWORD

pytestmark = pytest.mark.e2e
NEW_PASSWORD = "plum orchard lantern 42"
LINK = r'https?://[^\s"<>]+?token=[A-Za-z0-9_.\-]+'


def wait_for_subject(stack, to, subject, seconds=20):
    """The newest email to ``to`` whose subject has ``subject`` in it."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        data = requests.get(f"http://127.0.0.1:{stack.aws_port}/moto-api/data.json", timeout=5).json()
        found = [m for m in data.get("ses", {}).get("Message", [])
                 if to in m["destinations"]["ToAddresses"] and subject in m["subject"]]
        if found:
            return found[-1]
        time.sleep(0.3)
    raise AssertionError(f"no email '{subject}' to {to} within {seconds}s")


def sign_in(page, email, password):
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def next_window_code(secret):
    """A code once used is refused for the rest of its 30 s window: the next
    window's code (accepted now: one step either side is), not a wait for it."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_forgot_password_emailed_link_new_password(stack, page):
    email = "head@quince.sch.uk"
    base, _token = sign_in_as_new_school(stack, page, name="Quince School", email=email)
    page.evaluate("() => sessionStorage.clear()")
    page.goto(base + "/")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Forgot your password?").click()
    page.get_by_role("heading", name="Forgot your password?").wait_for()
    assert page.get_by_label("Email").input_value() == email  # carried over from the sign-in form
    page.shot("forgot")
    with page.expect_response(lambda r: r.url.endswith("/api/auth/forgot-password")) as asked:
        page.get_by_role("button", name="Email me a link").click()
    assert asked.value.status == 202
    page.get_by_text("If that address has an account, we've emailed a link (valid 30 minutes)").wait_for()
    page.shot("link-sent")

    mail = wait_for_subject(stack, email, "Reset")
    link = html.unescape(re.search(LINK, mail["body"]).group(0))  # the body is HTML: &amp;
    assert link.startswith(base + "/#action=reset-password&token=")
    page.goto(link)
    page.get_by_role("heading", name="Choose a new password").wait_for()
    assert "token" not in page.url  # the fragment is cleared before any request
    page.get_by_label("New password (10+ characters)").fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD + "!")
    page.get_by_role("button", name="Save new password").click()
    page.locator("#password_again-error").filter(has_text="not the same").wait_for()
    page.get_by_label("New password (10+ characters)").fill("short")
    page.get_by_label("New password again").fill("short")
    page.get_by_role("button", name="Save new password").click()
    page.locator("#password-error").filter(has_text=re.compile(r"\w")).wait_for()  # the API's reason, beside the field
    page.shot("weak")
    page.get_by_label("New password (10+ characters)").fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save new password").click()
    page.get_by_text("Password changed: sign in with your new password").wait_for()
    page.shot("changed")

    sign_in(page, email, PASSWORD)  # the old one no longer works
    page.get_by_role("alert").filter(has_text="Wrong email or password").wait_for()
    sign_in(page, email, NEW_PASSWORD)
    page.get_by_role("heading", name="Quince School").wait_for()
    page.shot("signed-in")

    # the link worked once
    page.evaluate("() => sessionStorage.clear()")
    page.goto(link)
    page.get_by_label("New password (10+ characters)").fill(NEW_PASSWORD + " again")
    page.get_by_label("New password again").fill(NEW_PASSWORD + " again")
    page.get_by_role("button", name="Save new password").click()
    page.get_by_role("heading", name="That link did not work").wait_for()
    assert "{" not in page.get_by_role("alert").inner_text()
    assert page.get_by_role("button", name="Email me a new link").is_visible()


def test_two_factor_set_up_then_sign_in_with_a_code_and_a_recovery_code(stack, page):
    email = "head@rowan-mfa.sch.uk"
    base, _token = sign_in_as_new_school(stack, page, name="Medlar School", email=email)
    page.goto(base + "/#/account")
    page.get_by_role("heading", name="Your account").wait_for()
    with page.expect_response(lambda r: r.url.endswith("/api/auth/mfa/setup")) as setup:
        page.get_by_role("button", name="Set up two-factor sign-in").click()
    qr = page.get_by_role("img", name=re.compile("QR code"))
    qr.wait_for()
    # the QR code's data: URL loads under the CSP (img-src 'self' data:)
    page.wait_for_function("() => { const i = document.querySelector('img.qr');"
                           " return i.complete && i.naturalWidth > 0; }")
    secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
    assert secret == setup.value.json()["secret"]
    page.shot("set-up")
    page.get_by_label("6-digit code from the app").fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_role("alert").filter(has_text=re.compile(r"\w")).first.wait_for()  # a wrong code: a message
    page.get_by_label("6-digit code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    codes.first.wait_for()
    assert codes.count() == 10
    recovery = [c.strip() for c in codes.all_inner_texts()]
    assert page.get_by_text("shown once only").is_visible()
    page.shot("recovery-codes")
    with page.expect_download() as download:  # a Blob download, under the CSP
        page.get_by_role("button", name="Download codes").click()
    got = download.value
    assert got.suggested_filename == "schoolroll-recovery-codes.txt"
    with open(got.path(), encoding="utf-8") as f:
        text = f.read()
    assert all(c in text for c in recovery)
    page.get_by_role("button", name="I've saved them").click()
    page.get_by_role("button", name="Turn off two-factor").wait_for()
    page.shot("on")

    # sign out, sign in: password, then a code from the app
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_text("You are signed out.").wait_for()
    sign_in(page, email, PASSWORD)
    page.get_by_text("Enter the 6-digit code from your authenticator app, or a recovery code").wait_for()
    page.get_by_label("Code").fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    with page.expect_response(lambda r: r.url.endswith("/api/auth/mfa/verify")) as wrong:
        page.get_by_role("button", name="Continue").click()
    assert wrong.value.status == 400 and wrong.value.json()["code"] == "invalid_code"
    page.get_by_role("alert").filter(has_text=re.compile(r"\w")).wait_for()
    assert page.get_by_role("heading", name="Two-factor sign-in").is_visible()  # still on the code step
    page.shot("wrong-code")
    # a step that has gone (5 minutes, or used): the API says invalid_token, the console
    # goes back to the password (the step's token is spoilt on its way, not waited for)
    def spoil(route, request):
        route.continue_(post_data=json.dumps({**json.loads(request.post_data), "mfa_token": "x" * 43}))
    page.route("**/api/auth/mfa/verify", spoil)
    with page.expect_response(lambda r: r.url.endswith("/api/auth/mfa/verify")) as gone:
        page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Continue").click()
    page.unroute("**/api/auth/mfa/verify", spoil)
    assert gone.value.status == 400 and gone.value.json()["code"] == "invalid_token"
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_role("alert").filter(has_text=gone.value.json()["message"]).wait_for()
    page.shot("step-gone")
    sign_in(page, email, PASSWORD)
    page.get_by_label("Code").wait_for()
    page.get_by_label("Code").fill(next_window_code(secret))  # (the set-up's code is spent for its window)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Medlar School").wait_for()
    assert page.evaluate("() => SR.me.mfa_enabled") is True
    page.shot("signed-in-with-code")

    # and with a recovery code instead
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_text("You are signed out.").wait_for()
    sign_in(page, email, PASSWORD)
    page.get_by_label("Code").fill(recovery[0])
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Medlar School").wait_for()
    page.shot("signed-in-with-recovery-code")


def test_your_account_password_and_sessions(stack, page):
    email = "head@sorb.sch.uk"
    base, _token = sign_in_as_new_school(stack, page, name="Sorb School", email=email)
    # another session of the same person (a script)
    other = requests.post(f"{base}/api/auth/login", json={"email": email, "password": PASSWORD})
    assert other.status_code == 200 and "token" in other.json()
    page.goto(base + "/#/account")
    page.get_by_role("heading", name="Where you're signed in").wait_for()
    rows = page.get_by_role("region", name="Your sessions").locator("tbody tr")
    assert rows.count() == 2  # the helper's sign-in (the browser holds its token) and the script's
    assert page.get_by_text("This browser").count() == 1
    page.shot("sessions")

    # a wrong current password is a message, not a sign-out
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password (10+ characters)").fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/api/auth/change-password")) as wrong:
        page.get_by_role("button", name="Change password").click()
    assert wrong.value.status == 403 and wrong.value.json()["code"] == "wrong_password"
    page.get_by_role("alert").filter(has_text=re.compile(r"\w")).first.wait_for()
    assert page.get_by_role("heading", name="Your account").is_visible()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Your password is changed.").wait_for()
    # changing it ends the other sessions: only this browser is left
    page.get_by_role("region", name="Your sessions").locator("tbody tr").nth(1).wait_for(state="detached")
    ended = requests.get(f"{base}/api/me", headers={"Authorization": "Bearer " + other.json()["token"]})
    assert ended.status_code == 401
    page.shot("password-changed")

    # sign out one other session, then everywhere
    third = requests.post(f"{base}/api/auth/login", json={"email": email, "password": NEW_PASSWORD}).json()["token"]
    page.reload()
    page.get_by_role("region", name="Your sessions").locator("tbody tr").nth(1).wait_for()
    page.get_by_role("button", name=re.compile(r"^Sign out A script")).click()
    page.get_by_text("Signed out A script").wait_for()
    assert requests.get(f"{base}/api/me", headers={"Authorization": "Bearer " + third}).status_code == 401
    page.get_by_role("button", name="Sign out everywhere").click()
    page.get_by_text("You are signed out everywhere.").wait_for()
    page.shot("signed-out-everywhere")


def test_disabling_a_colleague_on_the_staff_screen(stack, page):
    base, token = sign_in_as_new_school(stack, page, name="Service School", email="head@service.sch.uk")
    auth = {"Authorization": f"Bearer {token}"}
    for first, email in (("Ivy", "ivy@service.sch.uk"), ("Jo", "jo@service.sch.uk")):
        r = requests.post(f"{base}/api/staff", headers=auth, json={
            "first_name": first, "surname": "Teacher", "email": email, "user_group": "Teachers"})
        assert r.status_code == 201, r.text
    page.goto(base + "/#/staff")
    ivy = page.get_by_role("row").filter(has=page.get_by_role("cell", name="Ivy", exact=True))
    ivy.wait_for()
    assert ivy.locator(".badge").inner_text() == "Invited"
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Disable Ivy Teacher").click()
    page.get_by_role("button", name="Enable Ivy Teacher").wait_for()
    assert ivy.locator(".badge").inner_text() == "Disabled" and "disabled" in ivy.get_attribute("class")
    page.shot("disabled")
    assert requests.get(f"{base}/api/staff?status=disabled", headers=auth).json()["items"][0]["first_name"] == "Ivy"

    # only the disabled, by status
    with page.expect_response(lambda r: "/api/staff?" in r.url and "status=disabled" in r.url):
        page.get_by_label("Filter by status").select_option("disabled")
    page.get_by_role("cell", name="Jo", exact=True).wait_for(state="detached")
    assert page.get_by_role("cell", name="Ivy", exact=True).is_visible()
    page.shot("filtered")
    with page.expect_response(lambda r: "/api/staff?" in r.url and "status" not in r.url):
        page.get_by_label("Filter by status").select_option("")
    page.get_by_role("cell", name="Jo", exact=True).wait_for()

    # disabling yourself is refused in words
    page.once("dialog", lambda d: d.accept())
    with page.expect_response(lambda r: r.url.endswith("/disable")) as refused:
        page.get_by_role("button", name="Disable Rhea Head").click()
    assert refused.value.status == 409 and refused.value.json()["code"] == "cannot_disable_self"
    page.locator("#toast").filter(has_text=refused.value.json()["message"]).wait_for()
    page.shot("not-yourself")

    # Delete offers Disable first
    page.get_by_role("button", name="Delete Jo Teacher").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_text("Disabling keeps their history").wait_for()
    page.shot("delete-offers-disable")
    dialog.get_by_role("button", name="Disable instead").click()
    dialog.wait_for(state="detached")
    page.get_by_role("button", name="Enable Jo Teacher").wait_for()

    # and back
    page.get_by_role("button", name="Enable Ivy Teacher").click()
    page.get_by_role("button", name="Disable Ivy Teacher").wait_for()
    assert ivy.locator(".badge").inner_text() == "Invited"


def test_a_school_requiring_two_factor_sends_you_to_set_it_up(stack, page):
    """When the school starts requiring two factors of your user group, the
    next call answers 403 mfa_setup_required: the console goes to the set-up,
    with nothing else in reach until it is done."""
    base, token = sign_in_as_new_school(stack, page, name="Yew School", email="head@yew.sch.uk")
    page.goto(base + "/#/pupils")
    page.get_by_role("heading", name="Pupils").wait_for()
    r = requests.patch(f"{base}/api/settings", headers={"Authorization": f"Bearer {token}"},
                       json={"require_mfa_for": ["Admin Team"]})
    assert r.status_code == 200, r.text
    with page.expect_response(lambda r: "/api/" in r.url and r.request.method == "GET") as refused:
        page.get_by_role("link", name="Staff").click()
    assert refused.value.status == 403 and refused.value.json()["code"] == "mfa_setup_required"
    page.get_by_text("Your school requires two-factor sign-in for your role").wait_for()
    assert page.url.endswith("#/account")
    assert page.locator("#nav a").all_inner_texts() == ["Your account"]
    page.shot("required")
    page.goto(base + "/#/admin")  # a fresh load goes there too (GET /me says so)
    page.get_by_role("heading", name="Set up two-factor sign-in").first.wait_for()
    assert page.url.endswith("#/account")

    with page.expect_response(lambda r: r.url.endswith("/api/auth/mfa/setup")) as setup:
        page.get_by_role("button", name="Set up two-factor sign-in").click()
    secret = setup.value.json()["secret"]
    page.get_by_label("6-digit code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    codes.first.wait_for()
    recovery = codes.first.inner_text().strip()
    page.get_by_role("button", name="I've saved them: continue").click()
    page.get_by_role("heading", name="Yew School").wait_for()
    assert "Administration" in page.locator("#nav").inner_text()
    page.goto(base + "/#/account")
    page.get_by_role("button", name="Turn off two-factor").wait_for()
    # the school requires it of this group: turning it off is refused in words
    with page.expect_response(lambda r: r.url.endswith("/api/auth/mfa")) as kept:
        page.get_by_label("Code from your authenticator app (or a recovery code)").fill(recovery)
        page.get_by_role("button", name="Turn off two-factor").click()
    assert kept.value.status == 409 and kept.value.json()["code"] == "mfa_required_by_school"
    page.get_by_role("alert").filter(has_text=kept.value.json()["message"]).wait_for()
    page.shot("stays-on")


def test_an_admin_resets_a_colleagues_two_factor(stack, page):
    base, token = sign_in_as_new_school(stack, page, name="Holly School", email="head@holly.sch.uk")
    auth = {"Authorization": f"Bearer {token}"}
    # a colleague accepts their invitation and turns two-factor on (through the API)
    r = requests.post(f"{base}/api/staff", headers=auth, json={
        "first_name": "Kit", "surname": "Teacher", "email": "kit@holly.sch.uk", "user_group": "Teachers"})
    assert r.status_code == 201, r.text
    invite = wait_for_subject(stack, "kit@holly.sch.uk", "")
    invite_token = re.search(r"token=([A-Za-z0-9_\-.]+)", html.unescape(invite["body"])).group(1)
    assert requests.post(f"{base}/api/auth/accept-invite", json={"token": invite_token, "password": PASSWORD}).ok
    kit = {"Authorization": "Bearer " + requests.post(f"{base}/api/auth/login", json={
        "email": "kit@holly.sch.uk", "password": PASSWORD}).json()["token"]}
    secret = requests.post(f"{base}/api/auth/mfa/setup", headers=kit).json()["secret"]
    assert requests.post(f"{base}/api/auth/mfa/confirm", headers=kit, json={"code": pyotp.TOTP(secret).now()}).ok

    page.goto(base + "/#/staff")
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="Kit", exact=True))
    row.wait_for()
    assert row.get_by_role("cell", name="On", exact=True).is_visible()
    assert row.locator(".badge").inner_text() == "Active"
    # only a colleague with two-factor on has the button
    assert page.get_by_role("button", name="Reset two-factor for Rhea Head").count() == 0
    page.shot("two-factor-on")
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.accept()))
    with page.expect_response(lambda r: r.url.endswith("/mfa-reset")) as reset:
        page.get_by_role("button", name="Reset two-factor for Kit Teacher").click()
    assert reset.value.status == 200 and reset.value.json()["mfa_enabled"] is False
    assert "Kit Teacher" in messages[0]
    row.get_by_role("cell", name="Off", exact=True).wait_for()
    assert page.get_by_role("button", name="Reset two-factor for Kit Teacher").count() == 0
    page.shot("two-factor-reset")
    # Kit signs in with a password alone again
    again = requests.post(f"{base}/api/auth/login", json={"email": "kit@holly.sch.uk", "password": PASSWORD})
    assert again.status_code == 200 and "token" in again.json(), again.text


def test_an_admin_requires_two_factor_and_sets_the_idle_time(stack, page):
    """Administration's account settings: the groups that can change settings are
    required to use two factors and sessions end after 30 idle minutes, in one save;
    the getting-started item is then done; bad values are shown beside their field."""
    base, token = sign_in_as_new_school(stack, page, name="Larkspur School", email="head@larkspur.sch.uk")
    auth = {"Authorization": f"Bearer {token}"}
    holders = [g["name"] for g in requests.get(f"{base}/api/user-groups", headers=auth).json()["items"]
               if "manage_settings" in g["permissions"]]
    assert "Admin Team" in holders
    page.goto(base + "/#/home")
    item = page.get_by_role("listitem").filter(has_text="Require two-factor sign-in for")
    item.wait_for()
    assert all(name in item.inner_text() for name in holders)
    assert "done" not in item.get_attribute("class")
    page.shot("getting-started")
    item.get_by_role("link").click()
    page.get_by_role("heading", name="Administration").wait_for()
    choices = page.get_by_role("group", name="Require two-factor sign-in for")
    assert not any(choices.get_by_label(name, exact=True).is_checked() for name in holders)
    warning = page.get_by_text("saving will send you to set it up")
    assert not warning.is_visible()
    for name in holders:
        choices.get_by_label(name, exact=True).check()
    warning.wait_for()  # the admin is in Admin Team, without a second factor yet
    assert page.get_by_label("Sign people out after this many minutes without use").input_value() == "60"
    page.get_by_label("Sign people out after this many minutes without use").fill("30")
    page.shot("account-settings")
    with page.expect_request(lambda r: r.url.endswith("/api/settings") and r.method == "PATCH") as sent:
        page.get_by_role("button", name="Save settings").click()
    assert json.loads(sent.value.post_data)["idle_minutes"] == 30
    assert sorted(json.loads(sent.value.post_data)["require_mfa_for"]) == sorted(holders)
    # saving sent them to set two-factor up: done here, with the app's code
    page.get_by_text("Your school requires two-factor sign-in for your role").wait_for()
    assert page.url.endswith("#/account")
    with page.expect_response(lambda r: r.url.endswith("/api/auth/mfa/setup")) as setup:
        page.get_by_role("button", name="Set up two-factor sign-in").click()
    page.get_by_label("6-digit code from the app").fill(pyotp.TOTP(setup.value.json()["secret"]).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_role("button", name="I've saved them: continue").click()
    page.get_by_role("heading", name="Larkspur School").wait_for()

    saved = requests.get(f"{base}/api/settings", headers=auth).json()
    assert saved["idle_minutes"] == 30 and sorted(saved["require_mfa_for"]) == sorted(holders)
    assert "done" in item.get_attribute("class") and item.get_by_role("link").count() == 0
    assert "(done)" in item.inner_text()
    page.shot("getting-started-done")

    # a bad idle time: the API's message beside the field, nothing saved
    page.goto(base + "/#/admin")
    assert all(choices.get_by_label(name, exact=True).is_checked() for name in holders)
    assert not warning.is_visible()  # two-factor is on now
    page.get_by_label("Sign people out after this many minutes without use").fill("5")
    with page.expect_response(lambda r: r.url.endswith("/api/settings") and r.request.method == "PATCH") as refused:
        page.get_by_role("button", name="Save settings").click()
    assert refused.value.status == 422 and refused.value.json()["code"] == "validation_failed"
    message = next(e["message"] for e in refused.value.json()["errors"] if e["field"] == "idle_minutes")
    page.locator("#idle_minutes-error").filter(has_text=message).wait_for()
    page.shot("bad-idle-minutes")
    # a group that is not the school's (spoilt on its way): its message beside the choices
    def spoil(route, request):
        body = json.loads(request.post_data)
        route.continue_(post_data=json.dumps({**body, "idle_minutes": 45,
                                              "require_mfa_for": body["require_mfa_for"] + ["Ghosts"]}))
    page.route("**/api/settings", lambda route, request: spoil(route, request) if request.method == "PATCH"
               else route.continue_())
    with page.expect_response(lambda r: r.url.endswith("/api/settings") and r.request.method == "PATCH") as unknown:
        page.get_by_role("button", name="Save settings").click()
    page.unroute("**/api/settings")
    assert unknown.value.status == 422
    assert [e["field"] for e in unknown.value.json()["errors"]] == [f"require_mfa_for.{len(holders)}"]
    page.locator("#require_mfa_for-error").filter(has_text="Ghosts").wait_for()
    assert page.locator("#idle_minutes-error").inner_text() == ""
    assert requests.get(f"{base}/api/settings", headers=auth).json()["idle_minutes"] == 30
