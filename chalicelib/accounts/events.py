"""Account events (sign-in, sign-out, a link used, two-factor changes) in the
school's audit log, by the account itself. No password, code, token or
address in them."""
from ..core import audit


def entry(school_id, user_id, action, now=None):
    return audit.entry(audit.Actor(school_id, user_id), action, "account", user_id, None, None, now)


def record(login, action, now=None):
    """An event on its own (a failed or refused sign-in of a known account;
    an unknown address belongs to no school's log)."""
    if login is not None:
        audit.write(entry(login.school_id, login.user_id, action, now))
