"""HTTP routes for schools, sign-in and verification."""
from chalice import Blueprint

from ..core.http import route
from ..core.schema import array, boolean, obj, string
from . import service

bp = Blueprint(__name__)
TAG = "accounts"

NAME = string(100)
SIGN_UP = obj(
    ["name", "admin"],
    name=string(200, description="The school's name"),
    admin=obj(["first_name", "surname", "email", "password"],
              first_name=NAME, surname=NAME, email=string(254), password=string(200)),
)
TOKEN = obj(["token", "expires_at"], token=string(), expires_at=string(format="date-time"))
ME = obj(
    ["user", "school", "user_group", "permissions", "email_verified"],
    user=obj(["id", "first_name", "surname", "email"], id=string(), first_name=string(),
             surname=string(), email=string(), job_role=string(nullable=True)),
    school=obj(["id", "name", "timezone"], id=string(), name=string(), timezone=string()),
    user_group=string(), user_group_known=boolean(),
    permissions=array(string()), email_verified=boolean(),
)


@route(bp, "/schools", "POST", summary="Sign a school up with its first admin", tag=TAG,
       auth=False, body=SIGN_UP, status=201,
       response=obj(["school_id", "user_id"], school_id=string(), user_id=string()))
def sign_up(ctx):
    return service.sign_up(ctx.body)


@route(bp, "/auth/login", "POST", summary="Sign in; returns a bearer token", tag=TAG,
       auth=False, body=obj(["email", "password"], email=string(254), password=string(200)),
       response=TOKEN)
def log_in(ctx):
    identity = (ctx.request.context or {}).get("identity") or {}
    return service.log_in(ctx.body, source_ip=identity.get("sourceIp"))


@route(bp, "/auth/logout", "POST", summary="Revoke the caller's token", tag=TAG,
       response=obj(["signed_out"], signed_out=boolean()))
def log_out(ctx):
    service.log_out(ctx.caller, ctx.request)
    return {"signed_out": True}


@route(bp, "/auth/verify", "POST", summary="Verify an email address with the emailed token",
       tag=TAG, auth=False, body=obj(["token"], token=string(200)),
       response=obj(["email_verified"], email_verified=boolean()))
def verify(ctx):
    return service.verify_email(ctx.body["token"])


@route(bp, "/auth/accept-invite", "POST", summary="Accept an invitation: set a password",
       tag=TAG, auth=False, body=obj(["token", "password"], token=string(200), password=string(200)),
       response=obj(["email_verified"], email_verified=boolean(), email=string()))
def accept_invite(ctx):
    return service.accept_invitation(ctx.body["token"], ctx.body["password"])


@route(bp, "/auth/resend-verification", "POST", summary="Email a fresh verification link",
       tag=TAG, response=obj(["queued", "email_verified"], queued=boolean(), email_verified=boolean()))
def resend_verification(ctx):
    return service.resend_verification(ctx.caller)


@route(bp, "/me", "GET", summary="The caller: user, school, user group, permissions",
       tag=TAG, response=ME)
def get_me(ctx):
    return service.me(ctx.caller)
