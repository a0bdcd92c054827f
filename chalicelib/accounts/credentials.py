"""Passwords and tokens: pure functions, no AWS.

Passwords use Argon2id (argon2-cffi), imported lazily to keep cold starts
small. Tokens are 32 random bytes; only their SHA-256 is ever stored.
"""
import hashlib
import hmac
import re
import secrets

from ..core.errors import FieldError
from ..core.text import email_key

MIN_PASSWORD_LENGTH = 10
#: zxcvbn's score runs 0-4; under 3 is guessable within hours offline.
MIN_PASSWORD_SCORE = 3
MAX_PASSWORD_LENGTH = 200


def personal_words(*texts):
    """What a guesser tries first for this person: their names, their email's
    parts, their school's name, each word alone and run together."""
    words = set()
    for text in texts:
        if not text:
            continue
        lowered = str(text).lower()
        parts = [p for p in re.split(r"[^\w]+", lowered) if p]
        words.update(parts)
        words.add("".join(parts))
        words.add(lowered)
    return sorted(w for w in words if len(w) >= 3)


def _without(lowered, words):
    """The password with the person's words taken out: what is left must be
    strong on its own (zxcvbn alone rates "SamSmith2026" fair)."""
    for word in sorted(words, key=len, reverse=True):
        lowered = lowered.replace(word, "")
    return lowered


def password_problem(password, *about):
    """A FieldError explaining in words why a password is weak, or None.
    ``about``: the person's names, email, the school's name (zxcvbn's user
    inputs), so "OakPrimary2026!" is weak at Oak Primary. No network."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return FieldError("password", "weak_password", f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    from zxcvbn import zxcvbn  # lazy: its word lists load only when a password is set
    words = personal_words(*about)
    result = zxcvbn(password[:MAX_PASSWORD_LENGTH], user_inputs=words)
    rest = _without(password.lower(), words)
    if result["score"] >= MIN_PASSWORD_SCORE and (rest == password.lower()
                                                  or zxcvbn(rest)["score"] >= MIN_PASSWORD_SCORE):
        return None
    if rest != password.lower():
        reason = "It is built from your name, email address or school's name, which a guesser tries first."
    else:
        feedback = result.get("feedback") or {}
        reason = " ".join(x for x in [feedback.get("warning") or ""] + list(feedback.get("suggestions") or []) if x)
        reason = reason or "It would be guessed quickly."
    return FieldError("password", "weak_password",
                      f"That password is too easy to guess. {reason} A few unrelated words make a strong one.")


_hasher = None
_dummy_hash = None


def _argon2():
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher  # lazy: keeps cold start small
        # OWASP's minimum for Argon2id: 19 MiB, 2 iterations, 1 lane.
        _hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    return _hasher


def hash_password(password):
    return _argon2().hash(password)


def verify_password(stored_hash, password):
    """True when password matches. With no stored hash, spends the same time."""
    global _dummy_hash
    from argon2.exceptions import InvalidHashError, VerificationError  # lazy: cold start
    hasher = _argon2()
    if not stored_hash:
        if _dummy_hash is None:
            _dummy_hash = hasher.hash(secrets.token_urlsafe(16))
        stored_hash = _dummy_hash
        try:
            hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(school_id=None, user_id=None):
    """A fresh token. Session tokens carry their ids (not secret, not trusted
    on their own: the stored hash covers them) so that one BatchGetItem can
    read the token, the user and the school together."""
    secret = secrets.token_urlsafe(32)
    if school_id and user_id:
        return f"{school_id}.{user_id}.{secret}"
    return secret


def token_hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_ids(token):
    """(school_id, user_id) claimed by a session token, or None if malformed."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts) or len(parts[2]) < 43:
        return None
    if not all(p.isalnum() for p in parts[:2]) or len(parts[0]) > 64 or len(parts[1]) > 64:
        return None
    return parts[0], parts[1]


def same(a, b):
    return hmac.compare_digest(a or "", b or "")


def normalise_email(email):
    return email_key(email or "")


def plausible_key(key):
    """An address that can be a key at all: NFKC may grow 254 characters into
    kilobytes (DynamoDB keys stop at 2 KB)."""
    return 0 < len(key.encode("utf-8")) <= 254


def email_problem(email, field="email"):
    """A FieldError when email is not a plausible address, else None."""
    value = (email or "").strip()
    if not value:
        return FieldError(field, "required", "An email address is required.")
    if len(value) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}", value):
        return FieldError(field, "invalid_email", "Enter an email address like name@school.org.uk.")
    return None
