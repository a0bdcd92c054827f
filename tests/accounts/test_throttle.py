"""The throttle's edge: an empty budget whose wait is not set yet (its last
failure still being checked, in a parallel request) is a wait, never a
refill (found by an attacker's review: racing requests got fresh tries)."""
import time

import pytest

from chalicelib.accounts import throttle
from chalicelib.accounts.models import Throttle
from chalicelib.core.errors import ApiError


def test_an_empty_budget_with_no_wait_yet_refuses_and_starts_a_wait(aws):
    budget = throttle.Budget("login#email#racer@example.org", 5)
    Throttle(key=budget.key, budget=0).save()  # spent; failed() not yet run
    now = time.time()
    with pytest.raises(ApiError) as refused:
        throttle.spend([budget], now)
    assert refused.value.code == "too_many_attempts"
    item = Throttle.get(budget.key)
    assert item.budget == 0 and now + 55 <= item.refill_at <= now + 61
    # the failed check that was racing still sets its own (longer) wait
    throttle.failed([budget], now)
    assert Throttle.get(budget.key).strikes == 1


def test_the_try_after_a_wait_is_one_try(aws):
    budget = throttle.Budget("login#email#after@example.org", 5)
    now = time.time()
    Throttle(key=budget.key, budget=0, refill_at=int(now) - 1, strikes=1).save()
    throttle.spend([budget], now)  # the one try
    with pytest.raises(ApiError):
        throttle.spend([budget], now)  # a second, at once: refused before any password check


def test_deeply_nested_and_oversized_cursors_are_bad_cursor(api, admin):
    import base64
    for state in ("[" * 1200, '{"a":' * 1200):
        cursor = base64.urlsafe_b64encode(state.encode()).decode().rstrip("=")
        for path in ("/api/pupils", "/api/audit", "/api/imports"):
            r = api.get(f"{path}?next={cursor}")
            assert r.status_code == 400 and r.data["code"] == "bad_cursor", (path, r.body)
    r = api.get("/api/audit?next=" + base64.urlsafe_b64encode(
        ('{"school_id":"%s","entry_key":5}' % admin["school_id"]).encode()).decode())
    assert r.status_code == 400 and r.data["code"] == "bad_cursor"


def test_a_blank_user_group_is_422_not_500(api, admin):
    s = api.post("/api/staff", {"first_name": "B", "surname": "Lank", "email": "b.lank@example.org"}).data
    r = api.patch(f"/api/staff/{s['id']}", {"version": s["version"], "user_group": ""})
    assert r.status_code == 422 and r.data["errors"][0]["field"] == "user_group"
