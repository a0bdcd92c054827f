"""Emailed links (verify, invite, reset): a token good once, for the address
it was sent to, at the account's token generation when it was minted, and
never for a disabled account. Minted at send time, so the raw token exists
only in the email."""
from pynamodb.exceptions import DoesNotExist

from ..core.db import TxFailed
from ..core.errors import ApiError
from . import credentials
from .models import Token, User


def usable_token(token, kind, now):
    """The stored record of an emailed link's token, if it is usable."""
    if not isinstance(token, str) or not (20 <= len(token) <= 200):
        raise ApiError("invalid_token", "This link is invalid. Ask for a new one.")
    try:
        record = Token.get(credentials.token_hash(token), consistent_read=True)
    except DoesNotExist:
        raise ApiError("invalid_token", "This link has already been used or is invalid. "
                       "Sign in, or ask for a new one.")
    if record.kind != kind:
        raise ApiError("invalid_token", "This link is invalid. Ask for a new one.")
    if record.expires_at <= now:
        raise ApiError("invalid_token", "This link has expired. Ask for a new one.")
    return record


def bound_user(record):
    """The account a link token was minted for, while it still holds the
    address the link was sent to at the same token generation: a changed
    address or a newer link ends every older one."""
    try:
        user = User.get(record.school_id, record.user_id, consistent_read=True)
    except DoesNotExist:
        raise ApiError("invalid_token", "This link is for an account that no longer exists.")
    if record.email is None or user.email != record.email or user.status == "disabled" \
            or (user.token_generation or 0) != (record.generation or 0):
        raise ApiError("invalid_token", "This link is no longer valid: the account's email address "
                       "changed, or a newer link replaced it. Ask for a new one.")
    return user


def bound_condition(record):
    """The same binding, checked again inside the transaction that uses the link."""
    return ((User.email == record.email) & (User.token_generation == (record.generation or 0))
            & (User.status != "disabled"))


def stage_used(tx, record):
    """Stage the single-use token's delete: a second use (even a concurrent
    one) fails the transaction."""
    tx.delete("token", record, condition=Token.token_hash.exists())


def commit(tx):
    try:
        tx.commit()
    except TxFailed as exc:
        if "token" in exc.failed:
            raise ApiError("invalid_token", "This link has already been used.")
        raise ApiError("invalid_token", "This link is no longer valid: the account changed "
                       "since it was sent. Ask for a new one.")


def issue(message, kind, seconds, now):
    """A new link token bound to the account's current address and token
    generation; None when the message is for an address the account no
    longer has (or an invitation already accepted): that email is not sent."""
    try:
        user = User.get(message.school_id, message.user_id, consistent_read=True)
    except DoesNotExist:
        return None
    if user.email != message.to or user.status == "disabled" or (kind == "invite" and user.status != "invited") \
            or (kind == "reset" and user.status != "active"):
        return None
    token = credentials.new_token()
    expires = int(now) + seconds
    Token(token_hash=credentials.token_hash(token), kind=kind, school_id=message.school_id,
          user_id=message.user_id, email=user.email, generation=user.token_generation or 0,
          expires_at=expires, ttl=expires + 86400).save()
    return token
