"""Sign-in throttling over HTTP on a local stack of its own (its per-address
budget is small, and the last test here uses it up for 127.0.0.1): parallel
guesses each cost one attempt before any password is checked, and one address
can't try unlimited accounts."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from chalicelib.core import config
from tests.e2e.helpers import school_token
from tests.e2e.test_local_stack import PASSWORD

pytestmark = pytest.mark.e2e
PER_SOURCE = 12


@pytest.fixture(scope="module")
def stack():
    from devstack.__main__ import Stack, free_port
    local = Stack(free_port(), free_port(), quiet=True,
                  env_extra={"POWERTOOLS_LOG_LEVEL": "WARNING", "LOGIN_MAX_FAILURES_PER_SOURCE": str(PER_SOURCE)})
    try:
        local.start()
        yield local
    finally:
        local.stop()


def _login(stack, email, password):
    return requests.post(f"http://127.0.0.1:{stack.port}/api/auth/login",
                         json={"email": email, "password": password}, timeout=60)


def test_parallel_guesses_each_cost_an_attempt(stack):
    email = "head@parallel.sch.uk"
    school_token(stack, email, name="Parallel School")
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(lambda _: _login(stack, email, "a wrong guess here"), range(10)))
    codes = sorted(r.status_code for r in replies)
    # at most the budget's worth had their password looked at; the rest were refused unread
    assert codes.count(401) <= config.LOGIN_MAX_FAILURES and codes.count(429) >= 10 - config.LOGIN_MAX_FAILURES, codes
    assert set(codes) <= {401, 429}
    locked = _login(stack, email, PASSWORD)
    assert locked.status_code == 429 and locked.json()["code"] == "too_many_attempts"
    assert int(locked.headers["Retry-After"]) > 0 and "reset your password" not in locked.json()["message"]


def test_one_address_cannot_try_unlimited_accounts(stack):
    """Last in the module: it spends 127.0.0.1's budget on this stack."""
    email = "head@spray.sch.uk"
    school_token(stack, email, name="Spray School")
    # the first test's failures count against this address too
    replies = [_login(stack, f"guess{i}@spray.sch.uk", "a wrong guess here") for i in range(PER_SOURCE)]
    assert replies[-1].status_code == 429, [r.status_code for r in replies]
    assert all(r.status_code in (401, 429) for r in replies)
    # each email was tried once (far under its own budget); the address is what is out of tries
    r = _login(stack, email, PASSWORD)
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
