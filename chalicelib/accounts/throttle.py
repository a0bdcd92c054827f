"""Sign-in throttling that holds under concurrency.

Every attempt spends one from two budgets, the email's and the source
address's, in one conditional transaction *before* the password is checked:
N parallel guesses spend N, and the one that finds a budget empty is refused
without its password being looked at. A budget that runs out waits, 1 minute
after the first lock-out and twice as long after each further one (at most
15), then allows one more try. A right password gives the email its whole
budget back and the address the one it spent, so a school's staff signing in
from one address don't use it up; only failures do.
"""
import time
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, UpdateError

from ..core import config
from ..core.db import Tx, TxFailed
from ..core.errors import ApiError
from .models import Throttle

DAY = 86400


@dataclass(frozen=True)
class Budget:
    """One key's budget: how many failures it may have before it waits."""
    key: str
    size: int


def budgets(email, source_ip):
    """The budgets a sign-in spends: its email's, and its source address's
    (when the request has one: API Gateway always gives it)."""
    found = [Budget(f"login#email#{email}", config.LOGIN_MAX_FAILURES)]
    if source_ip:
        found.append(Budget(f"login#ip#{source_ip}", config.login_max_failures_per_source()))
    return found


def backoff_seconds(strikes):
    """1 minute after the first lock-out, doubling, at most 15."""
    return min(config.LOGIN_MAX_BACKOFF_SECONDS, 60 * (2 ** max(0, strikes - 1)))


def _has_budget():
    # an empty budget is refilled by _refill_or_wait (one try, by one racer), never here
    return Throttle.budget.does_not_exist() | (Throttle.budget > 0)


def _spend_actions(budget, now):
    return [Throttle.budget.set((Throttle.budget | budget.size) - 1), Throttle.ttl.set(int(now) + DAY)]


def spend(found, now=None):
    """Take one attempt from every budget at once, or refuse (429) naming how
    long to wait. A budget whose wait is over gets one more try first."""
    now = now or time.time()
    for _attempt in range(3):
        tx = Tx()
        for budget in found:
            tx.update(budget.key, Throttle(key=budget.key), _spend_actions(budget, now),
                      condition=_has_budget(), add_version_condition=False)
        try:
            tx.commit()
            return
        except TxFailed as exc:
            if not exc.failed:
                continue  # a concurrent transaction on the same key: try again
            wait = _refill_or_wait([b for b in found if b.key in exc.failed], now)
            if wait:
                raise too_many(wait)
    raise too_many(60)


def _refill_or_wait(empty, now):
    """Give one try back to each empty budget whose wait is over (only one of
    several racing sign-ins does it: the write is conditioned on the wait
    it read), up to the first that must still wait; then the seconds left of
    the longest wait (0: every budget has a try again). An empty budget with
    no wait set yet (its last failure is still being checked) waits a minute:
    it is never taken as a wait that is over. Each budget is read once."""
    items = {}
    for budget in empty:
        try:
            items[budget.key] = Throttle.get(budget.key, consistent_read=True)
        except DoesNotExist:
            items[budget.key] = None
    waiting = False
    for budget in empty:
        item = items[budget.key]
        if item is None or (item.budget is not None and item.budget > 0):
            continue
        if item.refill_at is None:
            _start_wait(budget, now)
            item.refill_at = int(now) + 60
            waiting = True
            break
        if item.refill_at > now:
            waiting = True
            break
        try:
            Throttle(key=budget.key).update(actions=[Throttle.budget.set(1), Throttle.refill_at.remove()],
                                            condition=(Throttle.refill_at == item.refill_at) & (Throttle.budget <= 0))
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    if not waiting:
        return 0
    return max(_seconds_left(items[b.key], now) for b in empty)


def _start_wait(budget, now):
    try:
        Throttle(key=budget.key).update(actions=[Throttle.refill_at.set(int(now) + 60)],
                                        condition=Throttle.refill_at.does_not_exist() & (Throttle.budget <= 0))
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def _seconds_left(item, now):
    """How long a budget's wait still runs (a minute when none is set)."""
    refill_at = item.refill_at if item is not None and item.refill_at is not None else now + 60
    return max(1, int(refill_at - now))


def too_many(seconds, message=None):
    """The 429 of a spent budget, with Retry-After."""
    minutes = max(1, round(seconds / 60))
    message = message or (f"Too many failed sign-ins. Wait {minutes} minute{'s' if minutes != 1 else ''} "
                          "and try again.")
    return ApiError("too_many_attempts", message.format(minutes=minutes), retry_after=int(seconds),
                    headers={"Retry-After": str(int(seconds))})


def failed(found, now=None):
    """After a wrong password: a budget this attempt emptied starts its wait.
    True when one did (a lock-out began: worth one audit entry, where every
    refused attempt after it is not)."""
    now = now or time.time()
    started = False
    for budget in found:
        try:
            item = Throttle(key=budget.key)
            # (a wait a racing sign-in started meanwhile is at most a minute: still ours to set)
            item.update(actions=[Throttle.strikes.set((Throttle.strikes | 0) + 1)],
                        condition=(Throttle.budget <= 0) & (Throttle.refill_at.does_not_exist()
                                                           | (Throttle.refill_at <= int(now) + 60)))
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            continue
        Throttle(key=budget.key).update(actions=[
            Throttle.refill_at.set(int(now) + backoff_seconds(item.strikes or 1))])
        started = True
    return started


def succeeded_actions(found):
    """(budget, actions) for the sign-in's own transaction: the email's budget
    back in full, the address's one back."""
    out = []
    for budget in found:
        if budget.key.startswith("login#email#"):
            out.append((budget, [Throttle.budget.set(budget.size), Throttle.strikes.remove(),
                                 Throttle.refill_at.remove()]))
        else:
            out.append((budget, [Throttle.budget.set(Throttle.budget + 1)]))
    return out


def stage_succeeded(tx, found):
    """Give back in ``tx`` what a right password or code earns (succeeded_actions),
    in the same transaction as what it unlocks (so a failed commit gives nothing back)."""
    for budget, actions in succeeded_actions(found):
        tx.update(budget.key, Throttle(key=budget.key), actions, add_version_condition=False)


RESENDS_PER_HOUR = 5


def limit_resends(user_id, now=None, kind="resend", per_hour=RESENDS_PER_HOUR, message=None):
    """At most RESENDS_PER_HOUR emailed links a person can be sent again in an
    hour (verification or invitation): an hour's window, counted down by a
    conditional write, so a loop of clicks (or a script) can't flood an inbox
    or the school's share of the sender. 429 with Retry-After beyond it.
    ``kind``: password resets count apart (a stranger's requests for them
    must not use up a person's own verification resends; "token": an API
    client's token requests, ``per_hour`` of them)."""
    now = int(now or time.time())
    key = f"{kind}#{user_id}"
    try:
        Throttle(key=key).update(actions=[Throttle.budget.set(Throttle.budget - 1)],
                                 condition=(Throttle.budget > 0) & (Throttle.refill_at > now))
        return
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    try:
        Throttle(key=key).update(actions=[Throttle.budget.set(per_hour - 1),
                                          Throttle.refill_at.set(now + 3600), Throttle.ttl.set(now + DAY)],
                                 condition=Throttle.refill_at.does_not_exist() | (Throttle.refill_at <= now))
        return
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    try:
        item = Throttle.get(key, consistent_read=True)
    except DoesNotExist:
        item = None
    raise too_many(_seconds_left(item, now), message or f"We have sent this person {per_hour} links in the "
                   "last hour. Ask them to check their spam folder, or try again in {minutes} minutes.")
