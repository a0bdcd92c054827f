"""HTTP routes for sign-in through the school's identity provider: its
settings, the browser's round trip (start, callback: pages, not JSON, for a
browser; JSON to a caller that asks for it) and the console's exchange."""
import json
from html import escape

from chalice import Blueprint, Response

from ..core import config
from ..core.errors import ApiError
from ..core.http import route
from ..core.schema import array, boolean, obj, string
from . import sso, sso_settings
from .routes import TOKEN
from .sso_config import Kind

bp = Blueprint(__name__)
TAG = "accounts"

SETTINGS = obj(["configured", "redirect_uri", "sign_in_link"], configured=boolean(), redirect_uri=string(
    description="Register this as the application's redirect URI at the provider"),
    sign_in_link=string(description="The console's sign-in with this school's provider, for any staff address"),
    routed_domains=array(string()),
    provider=string(enum=[k.value for k in Kind]), issuer=string(), client_id=string(),
    allowed_domains=array(string()), require=boolean(), label=string(), updated_at=string(format="date-time"),
    client_secret_set=boolean())
PUT_SETTINGS = obj(["provider", "client_id", "allowed_domains"],
                   provider=string(enum=[k.value for k in Kind]),
                   issuer=string(300, description="Microsoft: the tenant id or its issuer; Google: leave out; "
                                 "oidc: the issuer (with discovery)"),
                   client_id=string(300), client_secret=string(1000, description="Needed the first time; "
                                                                     "left out: the one kept"),
                   allowed_domains=array(string(253), maxItems=20), require=boolean())
WAY_IN = obj(["sso"], sso={"type": "object", "nullable": True, "properties": {
    "school_id": string(), "school_name": string(), "provider": string(), "label": string(), "require": boolean()}})
START_QUERY = {"school": (string(254), "The school's id, or an email domain (or address) it signs in"),
               "console": (string(200), "A random value the console keeps, shown again at the exchange"),
               "login_hint": (string(254), "The address typed on the sign-in screen, passed to the provider")}
CALLBACK_QUERY = {"code": (string(), "From the provider"), "state": (string(), "From the provider"),
                  "error": (string(), "From the provider"), "error_description": (string(), "From the provider")}
TEST_REPORT = obj(["claims", "would_sign_in"], claims={"type": "object"}, would_sign_in=boolean(),
                  reason=string(nullable=True), message=string(nullable=True), email=string(nullable=True))

PAGE_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"}


@route(bp, "/settings/sso", "GET", summary="The school's identity provider for sign-in (never its secret)",
       tag="settings", permission="manage_settings", response=SETTINGS)
def get_sso(ctx):
    return sso_settings.as_json(ctx.caller.school)


@route(bp, "/settings/sso", "PUT", summary="Set the school's identity provider (Microsoft, Google or any "
       "OpenID Connect issuer): the secret goes to Secrets Manager", tag="settings",
       permission="manage_settings", verified=True, body=PUT_SETTINGS, response=SETTINGS)
def put_sso(ctx):
    return sso_settings.put(ctx.caller, ctx.body)


@route(bp, "/settings/sso", "DELETE", summary="Stop signing in through the identity provider (its secret "
       "is deleted)", tag="settings", permission="manage_settings", verified=True, response=SETTINGS)
def delete_sso(ctx):
    return sso_settings.delete(ctx.caller)


@route(bp, "/settings/sso/test", "POST", summary="Start a test sign-in with the saved provider: answers "
       "the provider's URL; nobody is signed in", tag="settings", permission="manage_settings",
       response=obj(["url"], url=string()))
def test_sso(ctx):
    redirect = sso.start(None, mode=sso.Mode.TEST, tester=ctx.caller)
    return Response(body=json.dumps({"url": redirect.location}), status_code=200,
                    headers={"Content-Type": "application/json", "Cache-Control": "no-store",
                             "Set-Cookie": _cookie(redirect.cookie)})


@route(bp, "/settings/sso/test-result", "POST", summary="What a test sign-in's ID token held, and whether it "
       "would sign in (once)", tag="settings", permission="manage_settings",
       body=obj(["code"], code=string(200)), response=TEST_REPORT)
def test_sso_result(ctx):
    return sso.test_result(ctx.caller, ctx.body["code"])


@route(bp, "/auth/sso/discover", "GET", summary="The sign-in screen's question: does this address's "
       "domain sign in through a school's provider?", tag=TAG, auth=False, response=WAY_IN,
       query={"email": (string(254), "The address typed (only its domain is looked at)"),
              "school": (string(64), "A school's id (its sign-in link for staff at a domain it does not route)")})
def sso_discover(ctx):
    return sso.discover(ctx.query.get("email"), ctx.query.get("school"))


@route(bp, "/auth/sso/start", "GET", summary="Begin a provider sign-in: 302 to the provider", tag=TAG,
       auth=False, status=302, query=START_QUERY, content_type="text/html")
def sso_start(ctx):
    try:
        redirect = sso.start(ctx.query.get("school"), login_hint=ctx.query.get("login_hint"),
                             console=ctx.query.get("console"))
    except ApiError as exc:
        return _refusal(ctx, exc)
    return _redirect(redirect.location, _cookie(redirect.cookie))


@route(bp, "/auth/sso/callback", "GET", summary="The provider's redirect: 302 to the console with a "
       "one-time code in the fragment, or a page saying why not", tag=TAG, auth=False, status=302,
       query=CALLBACK_QUERY, content_type="text/html")
def sso_callback(ctx):
    try:
        redirect = sso.callback(ctx.query, _browser_cookie(ctx.request))
    except ApiError as exc:
        return _refusal(ctx, exc)
    return _redirect(redirect.location, _cookie(None))


@route(bp, "/auth/sso/exchange", "POST", summary="Swap the one-time code for a session (once, within "
       "60 seconds), with the value the console started it with", tag=TAG, auth=False,
       body=obj(["code", "console"], code=string(200), console=string(200)), response=TOKEN)
def sso_exchange(ctx):
    return sso.exchange(ctx.body["code"], ctx.body["console"], user_agent=ctx.user_agent)


# ---------------------------------------------------------------- the browser's side


def _cookie(value):
    """The cookie binding a sign-in to the browser that started it (cleared
    by the callback): HttpOnly, only sent to these routes, Lax so the
    provider's redirect carries it; Secure wherever the console is https."""
    secure = "; Secure" if config.console_url().startswith("https://") else ""
    if value is None:
        return f"{sso.COOKIE}=; Path={sso.COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Lax{secure}"
    return (f"{sso.COOKIE}={value}; Path={sso.COOKIE_PATH}; Max-Age={config.SSO_STATE_SECONDS}; HttpOnly; "
            f"SameSite=Lax{secure}")


def _browser_cookie(request):
    header = (request.headers or {}).get("cookie") or ""
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == sso.COOKIE and value:
            return value
    return None


def _redirect(location, cookie):
    return Response(body="", status_code=302, headers={"Location": location, "Cache-Control": "no-store",
                                                        "Referrer-Policy": "no-referrer", "Set-Cookie": cookie})


def _wants_json(request):
    return "application/json" in ((request.headers or {}).get("accept") or "")


def _refusal(ctx, exc):
    """Why the sign-in stopped: JSON ``{code, message}`` to a caller asking
    for JSON, else a page a person can read (with a way back)."""
    if _wants_json(ctx.request):
        raise exc
    console = escape(config.console_url())
    body = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in refused · "
            "schoolroll</title><meta name=\"viewport\" content=\"width=device-width\"><style>body{font:16px/1.5 "
            "system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1b1b1b}"
            "a{color:#0b4f9c}</style></head><body><main><h1>You are not signed in</h1>"
            f"<p id=\"message\">{escape(exc.message)}</p><p><small>Code: <code id=\"code\">{escape(exc.code)}"
            f"</code></small></p><p><a href=\"{console}/\">Back to the sign-in page</a></p></main></body></html>")
    return Response(body=body, status_code=exc.status, headers={**PAGE_HEADERS, "Set-Cookie": _cookie(None)})
