"""Sessions: started by a sign-in, ended by sign-out, by idling, after 12
hours, or all at once. "All at once" is one attribute on the user
(``sessions_after``): a session started before it is void, so a password
reset or disabling an account revokes every session in the same
transaction as the change, however many there are. Listing reads the
``sessions-by-owner`` index."""
import time

from pynamodb.exceptions import UpdateError

from ..core import audit, config
from ..core.db import Tx, TxFailed, new_id
from ..core.errors import not_found
from . import credentials, events, throttle
from .models import School, Token, User
from ..core.clock import iso

USER_AGENT_CHARS = 200


def owner_key(school_id, user_id):
    return f"{school_id}#{user_id}"


def now_ms(now):
    return int(now * 1000)


def stage_new(tx, school_id, user_id, user_agent, now, via=None):
    """Put a new session in ``tx``; returns (token, expires_at). ``via``:
    "sso" for a sign-in through the school's identity provider."""
    token = credentials.new_token(school_id, user_id)
    expires = int(now) + config.SESSION_SECONDS
    tx.put("session", Token(token_hash=credentials.token_hash(token), kind="session",
                            school_id=school_id, user_id=user_id, expires_at=expires, ttl=expires,
                            created_ms=now_ms(now), last_used_at=int(now),
                            user_agent=(user_agent or "")[:USER_AGENT_CHARS] or None,
                            session_id=new_id()[:16], owner=owner_key(school_id, user_id), via=via))
    return token, expires


#: the label of the check that the school takes passwords (stage_password_allowed)
PASSWORD_ALLOWED = "password allowed"


def stage_password_allowed(tx, school_id):
    """A password sign-in goes on only if the school does not require its
    identity provider: a check in the sign-in's own transaction (no read).
    When it fails, the caller asks whether this person keeps a password way
    in (accounts/sso.py, password_refused)."""
    tx.check(PASSWORD_ALLOWED, School, school_id,
             condition=School.sso_required.does_not_exist() | (School.sso_required == False))  # noqa: E712


def start(login, found, user_agent, now, tx=None, check_password=False):
    """The session a completed sign-in gets, in one transaction with the
    sign-in's budgets given back and its audit entry (``tx``: more to write
    with it, e.g. a two-factor step used up). ``check_password``: the school
    must still take passwords (stage_password_allowed; TxFailed if not)."""
    tx = tx or Tx()
    if check_password:
        stage_password_allowed(tx, login.school_id)
    token, expires = stage_new(tx, login.school_id, login.user_id, user_agent, now)
    throttle.stage_succeeded(tx, found)
    audit.stage(tx, events.entry(login.school_id, login.user_id, "login", now))
    tx.commit()
    return {"token": token, "expires_at": iso(expires)}


def idle_seconds(school):
    return int(getattr(school, "idle_minutes", None) or config.IDLE_MINUTES_DEFAULT) * 60


def is_live(record, user, school, now):
    """A session still good for a request: not expired (12 hours), not idle
    past the school's limit, started after the account's last "end them all",
    and the account not disabled."""
    last = record.last_used_at or (record.created_ms or 0) // 1000
    return (record.kind == "session" and record.expires_at > now and now - last < idle_seconds(school)
            and (record.created_ms or 0) >= (user.sessions_after or 0) and user.status != "disabled")


def touch(record, now):
    """Move the idle clock on, at most once a minute a session (so a request
    costs its one read in the common case)."""
    if now - (record.last_used_at or 0) < config.SESSION_TOUCH_SECONDS:
        return
    try:
        record.update(actions=[Token.last_used_at.set(int(now))], condition=Token.token_hash.exists())
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise


def _live_sessions(caller, now):
    records = Token.by_owner.query(owner_key(caller.school_id, caller.user_id))
    return [r for r in records if is_live(r, caller.user, caller.school, now)]


def list_sessions(caller, now=None):
    now = now or time.time()
    return {"items": [{"id": r.session_id, "created_at": iso((r.created_ms or 0) / 1000),
                       "last_used_at": iso(r.last_used_at or (r.created_ms or 0) / 1000),
                       "user_agent": r.user_agent, "current": r.token_hash == caller.session_hash}
                      for r in _live_sessions(caller, now)]}


def end_one(caller, session_id, now=None):
    now = now or time.time()
    for record in _live_sessions(caller, now):
        if record.session_id == session_id:
            tx = Tx()
            tx.delete("session", record, condition=Token.token_hash.exists())
            audit.stage(tx, events.entry(caller.school_id, caller.user_id, "logout", now))
            try:
                tx.commit()
            except TxFailed:
                pass  # ended meanwhile
            return {"signed_out": True}
    raise not_found("session")


def stage_end_all(tx, user, now, keep=None, also=(), condition=None):
    """End every session of ``user`` in ``tx`` (all but ``keep``, a token
    hash: the caller's own, which is restarted at the same instant).
    ``also``/``condition``: more of the same user's update (one write an item)."""
    # The cut is taken now, as the transaction is staged (after any password
    # hashing), so a sign-in that read the old password started before it;
    # and it only moves forward (an older "end them all" committing late can't
    # bring back what a newer one ended).
    cut = max(now_ms(now), now_ms(time.time()))
    forward = User.sessions_after.does_not_exist() | (User.sessions_after < cut)
    tx.update("user", user, [User.sessions_after.set(cut), *also],
              condition=forward & condition if condition is not None else forward, add_version_condition=False)
    if keep:
        tx.update("kept session", Token(token_hash=keep), [Token.created_ms.set(cut)],
                  condition=Token.token_hash.exists())


def end_all(caller, now=None):
    """Sign out everywhere: every session of the caller, this one included."""
    now = now or time.time()
    tx = Tx()
    stage_end_all(tx, caller.user, now)
    audit.stage(tx, events.entry(caller.school_id, caller.user_id, "sessions_revoked", now))
    try:
        tx.commit()
    except TxFailed:
        pass  # a newer "end them all" committed first: every session is ended either way
    return {"signed_out": True}
