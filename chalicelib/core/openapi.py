"""The OpenAPI 3 document, built from the routes the app really has.

Each route declared with ``core.http.route`` carries its description; a route
without one still appears (so nothing is hidden) and a test fails on it.
"""
import re

from .errors import ERROR_CODES

ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "enum": sorted(ERROR_CODES)},
        "message": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object",
            "properties": {"field": {"type": "string"}, "code": {"type": "string"},
                           "message": {"type": "string"}},
        }},
    },
}

#: OneRoster 1.2's error shape (its imsx_StatusInfoDType), which its routes answer
ONEROSTER_ERROR_SCHEMA = {
    "type": "object",
    "required": ["imsx_codeMajor", "imsx_severity"],
    "properties": {
        "imsx_codeMajor": {"type": "string", "enum": ["failure"]},
        "imsx_severity": {"type": "string", "enum": ["error"]},
        "imsx_description": {"type": "string"},
        "imsx_CodeMinor": {"type": "object", "properties": {"imsx_codeMinorField": {"type": "array", "items": {
            "type": "object", "properties": {"imsx_codeMinorFieldName": {"type": "string"},
                                             "imsx_codeMinorFieldValue": {"type": "string"}}}}}},
    },
}

_PARAM = re.compile(r"{([^}]+)}")


#: What some routes answer besides the usual (accounts, the rollover).
_ROUTE_ERRORS = {
    ("POST", "/api/auth/reset-password"): {"400": "invalid_token", "422": "weak_password / validation_failed"},
    ("POST", "/api/auth/change-password"): {"403": "wrong_password / mfa_setup_required", "409": "conflict",
                                            "422": "weak_password / validation_failed", "429": "too_many_attempts"},
    ("POST", "/api/auth/mfa/setup"): {"409": "mfa_already_enabled"},
    ("POST", "/api/auth/mfa/confirm"): {"400": "invalid_code / bad_request", "409": "mfa_already_enabled"},
    ("POST", "/api/auth/mfa/verify"): {"400": "invalid_token / invalid_code / bad_request",
                                       "429": "too_many_attempts"},
    ("DELETE", "/api/auth/mfa"): {"400": "invalid_code / bad_request",
                                  "409": "mfa_not_enabled / mfa_required_by_school", "429": "too_many_attempts"},
    ("POST", "/api/oauth/token"): {"400": "invalid_request / unsupported_grant_type / invalid_scope (RFC 6749 §5.2)",
                                   "401": "invalid_client (RFC 6749 §5.2)",
                                   "429": "too_many_attempts (a client's 60 token requests an hour)"},
    ("POST", "/api/rollover"): {"409": "already_rolled_over"},
    ("GET", "/api/auth/sso/start"): {"400": "sso_state_invalid (not started by the console)",
                                     "404": "sso_not_configured", "422": "sso_issuer_unusable",
                                     "502": "sso_provider_error"},
    ("GET", "/api/auth/sso/callback"): {"400": "sso_state_invalid", "401": "sso_token_invalid",
                                        "403": "sso_email_unverified / sso_domain_not_allowed / sso_not_staff / "
                                               "account_disabled", "422": "sso_issuer_unusable",
                                        "502": "sso_provider_error"},
    ("POST", "/api/auth/sso/exchange"): {"400": "invalid_token / bad_request", "403": "account_disabled"},
    ("DELETE", "/api/settings/sso"): {"404": "sso_not_configured"},
    ("POST", "/api/settings/sso/test"): {"404": "sso_not_configured", "422": "sso_issuer_unusable",
                                         "502": "sso_provider_error"},
    ("POST", "/api/settings/sso/test-result"): {"400": "invalid_token / bad_request"},
    ("PUT", "/api/settings/sso"): {"422": "validation_failed / sso_issuer_unusable"},
    ("POST", "/api/rollover/cancel"): {"404": "not_found (no rollover is scheduled)"},
    ("POST", "/api/rollover/undo"): {"409": "nothing_to_undo"},
}
#: Routes that read a form, not JSON (OAuth 2.0's token endpoint).
_FORM_BODIES = {("POST", "/api/oauth/token"): {
    "type": "object", "required": ["grant_type"],
    "properties": {"grant_type": {"type": "string", "enum": ["client_credentials"]},
                   "scope": {"type": "string", "description": "Space-separated: a subset of the client's scopes"}}}}
#: A second success answer of a route (besides its declared status).
_ALSO_OK = {("POST", "/api/rollover"): "200"}  # the preview (dry_run: true): nothing is queued


def _error_responses(doc, path="", method="GET"):
    codes = {"500": "internal_error", "503": "service_busy (try again after Retry-After)"}
    if doc.get("body") is not None:
        codes.update({"400": "bad_request", "415": "unsupported_media_type", "422": "validation_failed"})
    if doc.get("query"):
        codes.update({"400": "bad_request", "422": "validation_failed"})
    if doc.get("auth", True):
        codes["401"] = "unauthorized"
        if not doc.get("mfa_exempt"):
            codes["403"] = "mfa_setup_required"
    if doc.get("permission") or doc.get("verified"):
        codes["403"] = "permission_denied / email_not_verified"
    if doc.get("permission") and (path.startswith("/api/staff") or path.startswith("/api/imports/")):
        codes["403"] = "permission_denied / email_not_verified / exceeds_caller_rights"
    if doc.get("auth", True) and path.startswith("/api/groups/"):
        codes["403"] = "permission_denied (not the group's owner, or cannot add these people)"
    if _PARAM.search(path):
        codes["404"] = "not_found"
    if method in ("POST", "PUT", "PATCH", "DELETE") and not path.startswith("/api/auth/"):
        codes["409"] = "conflict / duplicate_upn / duplicate_email / email_taken / cannot_delete_self / last_admin"
    if method == "GET" and path.startswith("/api/imports/") and "/changes" in path:
        codes["409"] = "conflict (the import no longer waits: what it would change is shown only in review or held)"
    if path.endswith("/invite") or path == "/api/auth/resend-verification":
        codes["429"] = "too_many_attempts (links sent again: 5 an hour per person)"
    if path == "/api/auth/login":
        codes.update({"401": "unauthorized (wrong email or password)",
                      "403": "account_disabled / sso_required (the school signs in with its provider)",
                      "429": "too_many_attempts"})
    codes.update(_ROUTE_ERRORS.get((method, path), {}))
    if doc.get("auth", True) and "403" in codes:
        codes["403"] += " / insufficient_scope (an API client's token)"
    shape = "OneRosterError" if path.startswith("/ims/oneroster/") else "Error"
    if shape == "OneRosterError":
        codes.update({"400": "invalid_filter_field / invalid_selection_field / invaliddata",
                      "404": "unknownobject"})
    return {status: _error_response(what, shape, doc) for status, what in codes.items()}


def _error_response(what, shape, doc):
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{shape}"}}}
    if doc.get("content_type") == "text/html":  # (a browser's route: a page unless JSON is asked for)
        content["text/html"] = {"schema": {"type": "string"}}
    return {"description": what, "content": content}


def _operation(path, method, entry):
    """One route's operation, from what ``core.http.route`` recorded of it."""
    doc = getattr(entry.view_function, "openapi", None) or {}
    op = {
        "operationId": entry.view_name,
        "summary": doc.get("summary", entry.view_name),
        "tags": [doc.get("tag", "other")],
        "parameters": _parameters(path, doc),
        "x-documented": bool(doc),
    }
    if not doc.get("auth", True):
        op["security"] = []
    if doc.get("permission"):
        op["x-permission"] = doc["permission"]
    if doc.get("scope"):
        op["x-scope"] = doc["scope"]
    if doc.get("body") is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": doc["body"]}}}
    if (method, path) in _FORM_BODIES:
        op["requestBody"] = {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": _FORM_BODIES[method, path]}}}
    op["responses"] = _responses(doc, path, method)
    return op


def _parameters(path, doc):
    """The path's own parameters, then its documented query parameters."""
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(path)
    ]
    for name, (sch, desc) in doc.get("query", {}).items():
        parameters.append({"name": name, "in": "query", "required": False,
                           "description": desc, "schema": sch})
    return parameters


def _responses(doc, path, method):
    """The success answer (and the 303 of a file too big), then every error."""
    ok = {"description": "OK"}
    content_type = doc.get("content_type", "application/json")
    if doc.get("response") is not None:
        ok["content"] = {content_type: {"schema": doc["response"]}}
    responses = {str(doc.get("status", 200)): ok}
    if (method, path) in _ALSO_OK:
        responses[_ALSO_OK[(method, path)]] = ok
    if doc.get("big_files"):  # see core/downloads.py
        responses["303"] = {"description": "The file is too big for a response: Location is a link to "
                                           "it that works for a few minutes."}
    responses.update(_error_responses(doc, path, method))
    return responses


def build(app, title="schoolroll API", version="1.0.0"):
    """The whole document, every route of ``app`` in it (described or not)."""
    paths = {}
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            paths.setdefault(path, {})[method.lower()] = _operation(path, method, entry)
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": version,
                 "description": "Every error is JSON {code, message}; see components.schemas.Error."},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, "OneRosterError": ONEROSTER_ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
