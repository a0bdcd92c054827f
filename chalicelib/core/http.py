"""How a route is declared, authorised, described and answered.

Every route goes through :func:`route`, so each one is in the OpenAPI document,
checks its token, permission and body the same way, and fails with the same
``{"code", "message"}`` JSON. The middleware turns anything else (Chalice's own
405/415/500 bodies, unexpected exceptions) into that shape too.
"""
import functools
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from chalice import Response

from .errors import ApiError, ERROR_CODES, is_busy, not_found, validation_failed
from .log import logger, start_request
from . import schema as schemas

#: An API answer is about one school's people: no cache (shared or not) keeps it.
JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff"}

#: Filled in by app.py: (request) -> Caller. Raises ApiError('unauthorized').
_authenticator: Optional[Callable] = None


def use_authenticator(fn):
    global _authenticator
    _authenticator = fn


@dataclass
class Ctx:
    """What a view gets: the caller (None on public routes), body and query."""
    request: Any
    caller: Any = None
    body: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)

    @property
    def source_ip(self):
        """The caller's address as API Gateway saw it (the sign-in throttle counts by it)."""
        return ((self.request.context or {}).get("identity") or {}).get("sourceIp")

    @property
    def user_agent(self):
        return (self.request.headers or {}).get("user-agent")


def json_response(body, status=200, headers=None):
    return Response(body=json.dumps(body, default=str), status_code=status,
                    headers={**JSON_HEADERS, **(headers or {})})


def error_response(code, message, status=None, **extra):
    status = status or ERROR_CODES[code][0]
    return json_response({"code": code, "message": message, **extra}, status)


def _parse_body(request, body_schema, validate=True):
    raw = request.raw_body
    if not raw:
        data = {}
    else:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError("bad_request", "The request body is not valid JSON.")
    if not isinstance(data, dict):
        raise ApiError("bad_request", "The request body must be a JSON object.")
    # unknown fields are refused even where the domain validator checks the rest (validate=False)
    problems = schemas.unknown_fields(body_schema, data) + (schemas.check(body_schema, data) if validate else [])
    if problems:
        raise validation_failed(problems)
    return data


@dataclass(frozen=True)
class _Checks:
    """What :func:`route` was told that decides how a request is answered
    (the OpenAPI metadata only describes it, so it can't change it)."""
    auth: bool
    mfa_exempt: bool
    verified: bool
    permission: Optional[str]
    scope: Optional[str]
    body: Optional[dict]
    validate: bool
    status: int


def route(bp, path, method, *, summary, tag, auth=True, permission=None,
          verified=False, scope=None, body=None, response=None, status=200, query=None,
          content_type="application/json", validate=True, big_files=False, mfa_exempt=False):
    """Register a view on blueprint ``bp`` and describe it for OpenAPI.

    ``permission``: the caller's user group must hold it (403 otherwise).
    ``scope``: the API client scope that opens this route to a client's
    token (accounts/api_clients.py); without one no client may call it
    (403 insufficient_scope). For a client the scope stands in for
    ``permission`` (which is a person's): only read routes may name one
    (tests/hardening/test_permission_matrix.py refuses any other).
    ``verified``: the school's admin must have verified their email first.
    ``body``/``response``: JSON schemas. The body schema is enforced unless
    ``validate=False``, for views whose domain validator checks every field
    itself (so a form gets all its problems at once, in the same codes as
    the CSV import).
    ``query``: {name: (schema, description)} documented query parameters.
    ``big_files``: may answer 303 with a link to a file too big for a
    response (core/downloads.py).
    ``mfa_exempt``: answers a caller whose school requires two factors they
    have not set up yet (/me, two-factor set-up, sign-out); every other
    route answers them 403 mfa_setup_required.
    """
    checks = _Checks(auth=auth, mfa_exempt=mfa_exempt, verified=verified, permission=permission,
                     scope=scope, body=body, validate=validate, status=status)

    def decorate(view):
        handler = _handler(bp, view, checks)
        handler.openapi = _openapi_meta(checks, summary=summary, tag=tag, response=response, query=query,
                                        content_type=content_type, big_files=big_files)
        # A route that reads no body has no media type to refuse: a GET sent with
        # an empty or odd Content-Type is still answered (never an undocumented 415).
        bp.route(path, methods=[method], content_types=["*/*"] if body is None else ["application/json"])(handler)
        return handler
    return decorate


def _openapi_meta(checks, *, summary, tag, response, query, content_type, big_files):
    """What core/openapi.py documents of a route (``handler.openapi``)."""
    return {
        "summary": summary, "tag": tag, "auth": checks.auth, "permission": checks.permission, "scope": checks.scope,
        "verified": checks.verified, "body": checks.body, "response": response, "status": checks.status,
        "query": query or {}, "content_type": content_type, "big_files": big_files,
        "mfa_exempt": checks.mfa_exempt,
    }


#: longer than any id or name a path holds, and well inside DynamoDB's 1,024-byte sort keys
MAX_PATH_PARAM_BYTES = 400


def _handler(bp, view, checks):
    """The function Chalice calls: the view behind its route's checks, and a
    busy database answered 503 rather than whatever it broke."""
    @functools.wraps(view)
    def handler(**path_params):
        try:
            return _answer(bp.current_request, view, checks, path_params)
        except ApiError:
            raise
        except Exception as exc:
            if is_busy(exc):
                raise _service_busy(exc) from exc
            raise
    return handler


def _service_busy(exc):
    # never a 401 (the console would drop its token) nor a 500: come back shortly
    logger.warning("service busy", extra={"error": type(exc).__name__})
    return ApiError("service_busy", "We're busy right now. Try again in a few seconds; "
                    "nothing was lost.", headers={"Retry-After": "2"})


def _answer(request, view, checks, path_params):
    """Check the caller and body, run the view, and make its answer JSON
    (a view's own Response goes out as it is)."""
    ctx = Ctx(request=request, query=dict(request.query_params or {}))
    if checks.auth:
        ctx.caller = _authorised_caller(request, checks)
    if any(len(str(v).encode("utf-8")) > MAX_PATH_PARAM_BYTES for v in path_params.values()):
        raise not_found()  # (no id is so long; DynamoDB would refuse the key with a 500)
    if checks.body is not None:
        ctx.body = _parse_body(request, checks.body, checks.validate)
    result = view(ctx, **path_params)
    if isinstance(result, Response):
        return result
    return json_response(result, checks.status)


def _authorised_caller(request, checks):
    """The signed-in caller (401 if not), then checked in this order: an API
    client's scope, two factors set up if due, the admin's email verified,
    the permission."""
    caller = _authenticator(request)
    logger.append_keys(school_id=caller.school_id, user_id=caller.user_id)
    caller.require_scope(checks.scope)
    if not checks.mfa_exempt:
        caller.require_mfa_if_due()
    if checks.verified:
        caller.require_verified()
    if checks.permission and not caller.is_client:  # (a client's scope is its permission here)
        caller.require(checks.permission)
    return caller


# Chalice's own error bodies are {"Code", "Message"}; map them to our codes.
_CHALICE_CODES = {
    "MethodNotAllowedError": "method_not_allowed",
    "UnsupportedMediaType": "unsupported_media_type",
    "BadRequestError": "bad_request",
    "BadRequest": "bad_request",
    "NotFoundError": "not_found",
    "InternalServerError": "internal_error",
}


def error_middleware(event, get_response):
    """Chalice 'http' middleware: request-scoped log keys, JSON errors."""
    context = getattr(event, "context", None) or {}
    lambda_context = getattr(event, "lambda_context", None)
    start_request(request_id=context.get("requestId") or getattr(lambda_context, "aws_request_id", None),
                  route=f"{getattr(event, 'method', '')} {context.get('resourcePath', '')}")
    response = _respond(event, get_response)
    if str(getattr(event, "path", "")).startswith(ONEROSTER_PATH) and response.status_code >= 400:
        response = _as_imsx(response)
    logger.info("request", extra={"status": response.status_code})
    return response


#: OneRoster 1.2's routes answer errors in its own shape (imsx_StatusInfoDType,
#: which allows no other fields): our code becomes its code minor.
ONEROSTER_PATH = "/ims/oneroster/"
_CODE_MINORS = {"unauthorized": "unauthorisedrequest", "insufficient_scope": "forbidden",
                "permission_denied": "forbidden", "mfa_setup_required": "forbidden",
                "email_not_verified": "forbidden", "not_found": "unknownobject", "service_busy": "server_busy",
                "internal_error": "internal_server_error"}


def _as_imsx(response):
    try:
        ours = json.loads(response.body)
    except (TypeError, ValueError):
        ours = {}
    minor = ours.get("minor") or _CODE_MINORS.get(ours.get("code"), "invaliddata")
    body = {"imsx_codeMajor": "failure", "imsx_severity": "error",
            "imsx_description": ours.get("message") or "The request failed.",
            "imsx_CodeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem",
                                                        "imsx_codeMinorFieldValue": minor}]}}
    return Response(body=json.dumps(body), status_code=response.status_code,
                    headers={**(response.headers or {}), **JSON_HEADERS})


def _respond(event, get_response):
    try:
        response = get_response(event)
    except ApiError as exc:
        if exc.status >= 500:
            logger.exception("api error", extra={"code": exc.code})
        return json_response(exc.body(), exc.status, exc.headers)
    except Exception:  # noqa: BLE001 - the last line of defence
        logger.exception("unhandled exception")
        return error_response("internal_error", "Something went wrong on our side. Please try again.")
    if response.status_code >= 400 and isinstance(response.body, dict) and "Code" in response.body:
        code = _CHALICE_CODES.get(response.body["Code"], "bad_request" if response.status_code < 500 else "internal_error")
        message = response.body.get("Message") or ERROR_CODES[code][1]
        if code == "internal_error":
            message = "Something went wrong on our side. Please try again."
        return Response(body=json.dumps({"code": code, "message": message}),
                        status_code=response.status_code,
                        headers={**(response.headers or {}), **JSON_HEADERS})
    return response
