"""API clients: the school's other software reading the roster without a
person's password (OAuth 2.0 client credentials, RFC 6749 §4.4).

A client is a ``Token`` record (kind ``client``, keyed ``client#<id>``)
holding its name, scopes and the SHA-256 of its secret, listed by the
sessions index under ``<school>#clients``; the secret is 32 random bytes,
shown once. An access token (kind ``access``) reads
``at.<school>.<client>.<random>``, so one BatchGetItem reads the token, its
client and the school: a deleted (revoked) client's tokens fail the same
request. Clients only read: every route names the scope that opens it, and
no write route names one (core/http.py).
"""
import base64
import binascii
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

from pynamodb.exceptions import DoesNotExist, UpdateError

from ..core import audit, config
from ..core.clock import iso
from ..core.db import Tx, TxFailed, batch_get, new_id
from ..core.errors import ApiError, FieldError, not_found, validation_failed
from . import credentials, throttle
from .models import School, Token
from .permissions import DEMOGRAPHICS, DEMOGRAPHICS_URI, ONEROSTER_SCOPES, SCOPES, Caller

ACCESS_SECONDS = 3600
#: token requests a client may make in an hour (right or wrong secret): each is audited, so a
#: runaway script or a stranger holding a client id can't flood the school's log
TOKENS_PER_HOUR = 60
CLIENT_NAME_CHARS = 100
ACCESS_PREFIX = "at"
#: a token request's body is a few short parameters
MAX_FORM_BYTES = 4096
REALM = 'Basic realm="schoolroll", charset="UTF-8"'


@dataclass(frozen=True)
class Grant:
    """What a token request asked for, once read: who, and which scopes."""
    client_id: str
    secret: str
    requested: tuple  # scope names as sent (ours or OneRoster's); () for all the client's


def _key(client_id):
    return f"client#{client_id}"


def _owner(school_id):
    return f"{school_id}#clients"


# ---------------------------------------------------------------- managing clients

def check_new(body):
    """The problems of a new client's name and scopes (every one at once)."""
    problems = []
    if not isinstance(body.get("name"), str) or not isinstance(body.get("scopes"), list) \
            or not all(isinstance(x, str) for x in body.get("scopes") or []):
        raise validation_failed([FieldError("name" if not isinstance(body.get("name"), str) else "scopes",
                                            "invalid_type", "Send name as a string and scopes as a list of "
                                            "scope names.")])
    name = (body.get("name") or "").strip()
    if not name or len(name) > CLIENT_NAME_CHARS:
        problems.append(FieldError("name", "required" if not name else "too_long",
                                   f"Give the client a name of 1 to {CLIENT_NAME_CHARS} characters "
                                   "(what it is, e.g. 'Classroom monitoring')."))
    scopes = body.get("scopes")
    unknown = sorted({s for s in scopes or [] if s not in SCOPES})
    if not scopes:
        problems.append(FieldError("scopes", "required", "Choose at least one scope: "
                                   + ", ".join(sorted(SCOPES)) + "."))
    elif unknown:
        problems.append(FieldError("scopes", "unknown_scope", f"Unknown scope {', '.join(unknown)}: choose "
                                   "from " + ", ".join(sorted(SCOPES)) + "."))
    if problems:
        raise validation_failed(problems)
    return name, sorted(set(scopes))


def create(caller, body, now=None):
    """A new client; its secret is in this answer only (stored hashed)."""
    now = now or time.time()
    name, scopes = check_new(body)
    client_id, secret = new_id(), secrets.token_urlsafe(32)
    record = Token(token_hash=_key(client_id), kind="client", school_id=caller.school_id, user_id=client_id,
                   expires_at=0, name=name, scopes=scopes, secret_hash=credentials.token_hash(secret),
                   created_ms=int(now * 1000), created_by=caller.user_id, owner=_owner(caller.school_id))
    tx = Tx()
    tx.put("client", record, condition=Token.token_hash.does_not_exist())
    audit.stage(tx, audit.entry(caller, "create", "api_client", client_id, None,
                                {"name": name, "scopes": scopes}, now))
    tx.commit()
    return {**as_json(record), "client_secret": secret}


def as_json(record):
    return {"client_id": record.user_id, "name": record.name, "scopes": list(record.scopes or []),
            "created_at": iso((record.created_ms or 0) / 1000), "created_by": record.created_by,
            "last_used_at": iso(record.last_used_at)}


def list_clients(caller):
    return {"items": [as_json(r) for r in Token.by_owner.query(_owner(caller.school_id))
                      if r.kind == "client" and r.school_id == caller.school_id]}


def _client(school_id, client_id):
    """The school's client, or None (another school's is None too)."""
    record = _by_id(client_id)
    return record if record is not None and record.school_id == school_id else None


def revoke(caller, client_id, now=None):
    """Delete the client: its tokens fail from the next request (each one
    reads its client)."""
    now = now or time.time()
    record = _client(caller.school_id, client_id)
    if record is None:
        raise not_found("API client")
    tx = Tx()
    tx.delete("client", record, condition=Token.school_id == caller.school_id)
    audit.stage(tx, audit.entry(caller, "delete", "api_client", client_id,
                                {"name": record.name, "scopes": list(record.scopes or [])}, None, now))
    try:
        tx.commit()
    except TxFailed:
        raise not_found("API client")  # revoked meanwhile
    return {"revoked": True}


# ---------------------------------------------------------------- the token endpoint

def _oauth_error(code, message, headers=None):
    """An RFC 6749 §5.2 error that is also one of ours: ``error`` and
    ``code`` are the same word."""
    return ApiError(code, message, headers=headers, error=code, error_description=message)


def _bad_client(message="Unknown client, wrong secret, or the client was revoked."):
    return _oauth_error("invalid_client", message, headers={"WWW-Authenticate": REALM})


def read_request(headers, raw_body):
    """The client and scopes a token request names: HTTP Basic (or
    client_id/client_secret in the form, never both) and a form body with
    grant_type=client_credentials. Unrecognised parameters are ignored, as
    RFC 6749 §3.2 requires of a token endpoint."""
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise _oauth_error("invalid_request", "Send the token request form-encoded "
                           "(Content-Type: application/x-www-form-urlencoded).")
    form = _form(raw_body)
    if form.get("grant_type") != "client_credentials":
        if "grant_type" not in form:
            raise _oauth_error("invalid_request", "grant_type is missing: send grant_type=client_credentials.")
        raise _oauth_error("unsupported_grant_type", "Only grant_type=client_credentials is offered.")
    client_id, secret = _credentials(headers.get("authorization"), form)
    requested = tuple(s for s in (form.get("scope") or "").split(" ") if s)
    return Grant(client_id=client_id, secret=secret, requested=requested)


def _form(raw_body):
    raw = raw_body or b""
    if len(raw) > MAX_FORM_BYTES:
        raise _oauth_error("invalid_request", "The token request is too long.")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError):
        raise _oauth_error("invalid_request", "The token request's body is not a form.")
    form = {}
    for name, value in pairs:
        if name in form:
            raise _oauth_error("invalid_request", f"'{name}' is sent more than once.")
        if value != "":  # an empty parameter counts as not sent (RFC 6749 §3.1)
            form[name] = value
    return form


def _credentials(authorization, form):
    """(client_id, secret) from Basic (each part form-decoded, §2.3.1) or the form."""
    in_form = "client_id" in form or "client_secret" in form
    scheme, _, encoded = (authorization or "").partition(" ")
    if authorization and scheme.lower() == "basic":
        if in_form:
            raise _oauth_error("invalid_request", "Send the client's credentials once: in the "
                               "Authorization header or in the form, not both.")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise _bad_client("The Authorization header is not Basic base64(client_id:client_secret).")
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            raise _bad_client("The Authorization header is not Basic base64(client_id:client_secret).")
        return unquote_plus(client_id), unquote_plus(secret)
    if in_form:
        return form.get("client_id") or "", form.get("client_secret") or ""
    raise _bad_client("Send the client's id and secret: Authorization: Basic base64(client_id:client_secret).")


def granted_scopes(record, requested):
    """The scopes a token gets: all the client's, or those asked for (a
    OneRoster scope stands for ``oneroster.read``); one the client lacks is
    an invalid_scope."""
    held = set(record.scopes or [])
    if not requested:
        return sorted(held), sorted(held)
    ours, refused = set(), []
    for scope in requested:
        name = DEMOGRAPHICS if scope == DEMOGRAPHICS_URI else "oneroster.read" if scope in ONEROSTER_SCOPES else scope
        (ours.add(name) if name in held else refused.append(scope))
    if refused:
        raise _oauth_error("invalid_scope", f"This client does not hold {', '.join(refused)}; it holds "
                           f"{', '.join(sorted(held))}.")
    return sorted(ours), list(dict.fromkeys(requested))


def issue_token(grant, now=None):
    """An access token for good credentials, its use audited and the
    client's last use set in the same transaction. A wrong secret of a known
    client is audited too (the school sees someone trying)."""
    now = now or time.time()
    record = _by_id(grant.client_id)
    if record is None:
        raise _bad_client()
    throttle.limit_resends(record.user_id, now, kind="token", per_hour=TOKENS_PER_HOUR, message=(
        f"This client has asked for {TOKENS_PER_HOUR} tokens in the last hour (each lasts an hour: keep one "
        "and use it). Try again in {minutes} minutes."))
    if not credentials.same(credentials.token_hash(grant.secret), record.secret_hash):
        audit.write(_entry(record, "secret_refused", now))
        raise _bad_client()
    scopes, answered = granted_scopes(record, grant.requested)
    token = f"{ACCESS_PREFIX}.{record.school_id}.{record.user_id}.{secrets.token_urlsafe(32)}"
    expires = int(now) + ACCESS_SECONDS
    tx = Tx()
    tx.put("token", Token(token_hash=credentials.token_hash(token), kind="access", school_id=record.school_id,
                          user_id=record.user_id, expires_at=expires, ttl=expires, created_ms=int(now * 1000),
                          scopes=scopes))
    tx.update("client", record, [Token.last_used_at.set(int(now))], condition=Token.kind == "client")
    audit.stage(tx, _entry(record, "token_issued", now, {"scopes": scopes}))
    try:
        tx.commit()
    except TxFailed:
        raise _bad_client()  # revoked as the token was being made
    return {"access_token": token, "token_type": "Bearer", "expires_in": ACCESS_SECONDS,
            "scope": " ".join(answered)}


def _by_id(client_id):
    """Any school's client by its id (a token request names no school), or None."""
    if not client_id or not credentials.plausible_key(client_id) or not client_id.isalnum():
        return None
    try:
        record = Token.get(_key(client_id), consistent_read=True)
    except DoesNotExist:
        return None
    return record if record.kind == "client" else None


def _entry(record, action, now, changes=None):
    actor = audit.Actor(record.school_id, record.user_id, name=record.name)
    return audit.entry(actor, action, "api_client", record.user_id, None, None, now, changes=changes or {})


# ---------------------------------------------------------------- a request with an access token

def is_access_token(token):
    return token.startswith(ACCESS_PREFIX + ".")


def _token_ids(token):
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != ACCESS_PREFIX or len(parts[3]) < 43:
        return None
    if not all(p.isalnum() and len(p) <= 64 for p in parts[1:3]):
        return None
    return parts[1], parts[2]


def authenticate(token, unauthorized, now=None):
    """The client a bearer access token is, from one BatchGetItem (token,
    client, school). Expired, forged, of a revoked client, or of another
    school -> ``unauthorized()``. A client's last use is written at most
    once a minute."""
    now = now or time.time()
    ids = _token_ids(token)
    if ids is None:
        raise unauthorized()
    school_id, client_id = ids
    found = batch_get({
        "token": (Token, {"token_hash": credentials.token_hash(token)}),
        "client": (Token, {"token_hash": _key(client_id)}),
        "school": (School, {"school_id": school_id}),
    })
    record, client, school = found["token"], found["client"], found["school"]
    if (record is None or client is None or school is None or record.kind != "access"
            or client.kind != "client" or record.school_id != school_id or client.school_id != school_id
            or record.user_id != client_id or record.expires_at <= now):
        raise unauthorized()
    _touch(client, now)
    return Caller.for_client(school, client_id, set(record.scopes or []) & set(client.scopes or []))


def _touch(client, now):
    if now - (client.last_used_at or 0) < config.SESSION_TOUCH_SECONDS:
        return
    try:
        client.update(actions=[Token.last_used_at.set(int(now))], condition=Token.kind == "client")
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
