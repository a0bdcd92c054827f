"""Two-factor codes: pure functions over pyotp (RFC 6238, 30-second steps,
6 digits) and the recovery codes. No AWS here."""
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from typing import Optional

STEP_SECONDS = 30
#: The previous and next step are accepted too (a phone's clock drifts).
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


@dataclass(frozen=True)
class CodeMatch:
    """A code that matched: a TOTP time step, or one recovery code's hash."""
    step: Optional[int] = None
    recovery_hash: Optional[str] = None


def new_secret():
    import pyotp  # lazy: cold start
    return pyotp.random_base32()


def otpauth_uri(secret, email, school_name):
    import pyotp  # lazy: cold start
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=f"schoolroll {school_name}"[:60])


def qr_svg(uri):
    """The set-up QR code as an SVG document, drawn here (no QR service sees it)."""
    import segno  # lazy: cold start
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False)
    return out.getvalue().decode("utf-8")


def matching_step(secret, code, now, last_step=None):
    """The time step ``code`` is for (this one, or one either side), if it is
    newer than ``last_step``: a code once used is refused for the rest of
    its window (and so is any older one)."""
    import pyotp  # lazy: cold start
    code = "".join((code or "").split())
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code) and (last_step is None or step > last_step):
            return step
    return None


def new_recovery_codes():
    """Ten single-use codes like ``k7mq-4xwp-9c2h`` (31^12: about 59 bits each)."""
    return ["-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))
            for _ in range(RECOVERY_CODES)]


def recovery_hash(code):
    """What is stored of a recovery code (they are random: a plain hash is enough)."""
    normal = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    return hashlib.sha256(normal.encode("ascii", "ignore")).hexdigest()


def looks_like_recovery_code(code):
    normal = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    return len(normal) == 12 and normal.isascii()
