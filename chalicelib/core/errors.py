"""API errors: every 4xx/5xx the service returns is ``{"code", "message"}``.

Codes are stable: clients and the console branch on them. The README lists
them from ``ERROR_CODES`` (a test keeps the two in step).
"""
from chalice.app import ChaliceUnhandledError

#: code -> (HTTP status, what it means). The single list of codes.
ERROR_CODES = {
    "bad_request": (400, "The request could not be read (e.g. not JSON)."),
    "bad_cursor": (400, "The paging cursor is not one this list gave out; start from the first page."),
    "unauthorized": (401, "Missing, malformed, expired or revoked token; or wrong email or password."),
    "email_not_verified": (403, "The admin's email must be verified first."),
    "wrong_password": (403, "The current password given is not the account's (the session goes on)."),
    "account_disabled": (403, "The account was disabled by the school; it cannot sign in."),
    "mfa_setup_required": (403, "The school requires two-factor sign-in of this user group: set it up first."),
    "insufficient_scope": (403, "An API client's token lacks the scope this route needs (or no client may use it)."),
    "permission_denied": (403, "The caller's user group lacks the named permission."),
    "exceeds_caller_rights": (403, "The change would give someone rights the caller does not hold."),
    "not_found": (404, "No such route, or no such record in the caller's school."),
    "method_not_allowed": (405, "The route exists but not with this method."),
    "email_taken": (409, "That email address is already in use."),
    "conflict": (409, "The record changed since it was read (stale version)."),
    "duplicate_upn": (409, "Another pupil in the school has that UPN."),
    "duplicate_email": (409, "Another staff member in the school has that email."),
    "cannot_delete_self": (409, "Nobody can delete their own account."),
    "last_admin": (409, "The school must keep at least one enabled Admin Team member."),
    "last_owner": (409, "A group always keeps an owner with no end: name another first."),
    "cannot_disable_self": (409, "Nobody can disable their own account."),
    "cannot_reset_own_mfa": (409, "Nobody resets their own two-factor (turn it off with a code instead)."),
    "cannot_change_own_email": (409, "Nobody changes their own sign-in address here; another admin does."),
    "mfa_already_enabled": (409, "Two-factor sign-in is on already; turn it off first to set it up again."),
    "mfa_not_enabled": (409, "Two-factor sign-in is not on for this account."),
    "mfa_required_by_school": (409, "The school requires two-factor sign-in of this user group: it stays on."),
    "already_rolled_over": (409, "The school was rolled over into that academic year already (or it is scheduled)."),
    "nothing_to_undo": (409, "No rollover of the last 14 days to undo, or one is running."),
    "invalid_client": (401, "OAuth token request: unknown client, wrong secret, or a revoked client."),
    "invalid_request": (400, "OAuth token request: a parameter is missing, repeated or malformed."),
    "unsupported_grant_type": (400, "OAuth token request: only grant_type=client_credentials is offered."),
    "invalid_scope": (400, "OAuth token request: a scope asked for is unknown or not the client's."),
    "sso_required": (403, "The school signs its staff in with its identity provider: use 'Sign in with ...'."),
    "sso_not_configured": (404, "The school has no identity provider set up (or no school has that domain)."),
    "sso_state_invalid": (400, "A provider sign-in came back unknown, used, expired or in another browser: start again."),
    "sso_provider_error": (502, "The identity provider refused the sign-in, or could not be reached or read."),
    "sso_token_invalid": (401, "The provider's ID token failed a check (signature, issuer, audience, expiry, nonce)."),
    "sso_email_unverified": (403, "The provider does not vouch for the account's email address."),
    "sso_domain_not_allowed": (403, "The account's email domain is not one the school allows."),
    "sso_not_staff": (403, "The provider signed in someone who is not staff of that school (no account is made)."),
    "sso_issuer_unusable": (422, "The issuer's discovery document could not be read or is not OpenID Connect's."),
    "cursor_expired": (410, "The change feed's cursor is older than the 30 days kept: resync, then follow from now."),
    "unsupported_media_type": (415, "Send JSON with Content-Type: application/json."),
    "validation_failed": (422, "One or more fields are invalid; see errors[]."),
    "weak_password": (422, "Password too short or too easy to guess (the message says why)."),
    "invalid_token": (400, "The emailed link (or two-factor step) is invalid, used or expired."),
    "invalid_code": (400, "The two-factor or recovery code is wrong, or was used already."),
    "too_many_attempts": (429, "Too many failed sign-ins; wait and try again."),
    "internal_error": (500, "Something went wrong on our side."),
    "service_busy": (503, "The database is busy right now; try again in a moment (see Retry-After)."),
}


class ApiError(ChaliceUnhandledError):
    """Raised anywhere in a request; the HTTP middleware turns it into JSON.

    It subclasses ChaliceUnhandledError so Chalice lets it reach middleware
    instead of turning it into its own ``{"Code", "Message"}`` body.
    """

    def __init__(self, code, message, status=None, headers=None, **extra):
        if code not in ERROR_CODES:
            raise ValueError(f"unregistered error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or ERROR_CODES[code][0]
        self.headers = headers or {}  # e.g. Retry-After
        self.extra = extra

    def body(self):
        return {"code": self.code, "message": self.message, **self.extra}


class FieldError(Exception):
    """One field's problem, collected by validators into validation_failed."""

    def __init__(self, field, code, message):
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message

    def as_dict(self):
        return {"field": self.field, "code": self.code, "message": self.message}


def validation_failed(errors, message=None):
    errors = [e.as_dict() if isinstance(e, FieldError) else e for e in errors]
    if message is None:
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return ApiError("validation_failed", message, errors=errors)


def not_found(what="record"):
    return ApiError("not_found", f"No such {what} in your school.")


#: DynamoDB's (and AWS's) ways of saying "too much at once": a retry soon will do.
BUSY_CODES = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
              "Throttling", "TooManyRequestsException"}


class StillUnprocessed(Exception):
    """DynamoDB left keys of a BatchGetItem unread after every retry: busy,
    not missing (a record read as None would be a wrong answer, not a late one)."""
    cause_response_code = "ProvisionedThroughputExceededException"


def is_busy(exc):
    """True when ``exc`` (or what caused it) is AWS throttling a call that the
    SDK already retried: the caller is not wrong, and not signed out."""
    seen = 0
    while exc is not None and seen < 10:
        code = getattr(exc, "cause_response_code", None) or \
            (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
        if code in BUSY_CODES:
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
