"""Passwords and tokens: pure functions, no AWS.

Passwords use Argon2id (argon2-cffi), imported lazily to keep cold starts
small. Tokens are 32 random bytes; only their SHA-256 is ever stored.
"""
import hashlib
import hmac
import secrets

from ..core.errors import FieldError
from ..core.text import email_key

MIN_PASSWORD_LENGTH = 10

# A small list of the commonest passwords of 10+ characters (and their
# obvious variants are caught by the lower-casing below).
COMMON_PASSWORDS = frozenset("""
1234567890 0123456789 12345678910 1q2w3e4r5t qwertyuiop password12 password123
password1234 passw0rd123 iloveyou12 qwerty1234 qwerty12345 1qaz2wsx3edc
abcdefghij abc1234567 football12 letmein123 welcome123 administrator
trustno1234 princess12 sunshine12 monkey1234 dragon1234 0987654321 1111111111
0000000000 aaaaaaaaaa changeme123 computer12 baseball12 superman12 whatever12
schoolroll school1234 teacher123 student123 password2024 password2025 password2026
""".split())


def password_problem(password, email=None):
    """A FieldError explaining why a password is weak, or None."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return FieldError("password", "weak_password",
                          f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) < 3:
        return FieldError("password", "weak_password",
                          "That password is too common. Choose something less guessable.")
    if email and lowered == email.lower():
        return FieldError("password", "weak_password", "Don't use your email address as your password.")
    return None


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
    from argon2.exceptions import InvalidHashError, VerificationError
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


def email_problem(email, field="email"):
    """A FieldError when email is not a plausible address, else None."""
    import re
    value = (email or "").strip()
    if not value:
        return FieldError(field, "required", "An email address is required.")
    if len(value) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}", value):
        return FieldError(field, "invalid_email", "Enter an email address like name@school.org.uk.")
    return None
