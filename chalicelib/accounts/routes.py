"""HTTP routes for schools, sign-in and verification."""
from chalice import Blueprint

from ..core.http import route
from ..core.schema import array, boolean, obj, string
from . import mfa, passwords, service, sessions

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
#: A sign-in answers a session, or (two-factor on) the step before it.
SIGNED_IN = {"oneOf": [TOKEN, obj(["mfa_required", "mfa_token", "expires_at"], mfa_required=boolean(),
                                  mfa_token=string(), expires_at=string(format="date-time"))]}
PASSWORD = string(200)
CODE = string(40, description="A 6-digit code from the authenticator app, or a recovery code")
PASSWORD_SET = obj(["password_set"], password_set=boolean())
SIGNED_OUT = obj(["signed_out"], signed_out=boolean())
SESSION = obj(["id", "created_at", "last_used_at", "user_agent", "current"], id=string(),
              created_at=string(format="date-time"), last_used_at=string(format="date-time"),
              user_agent=string(nullable=True), current=boolean())
ME = obj(
    ["user", "school", "user_group", "permissions", "email_verified"],
    user=obj(["id", "first_name", "surname", "email"], id=string(), first_name=string(),
             surname=string(), email=string(), job_role=string(nullable=True)),
    school=obj(["id", "name", "timezone"], id=string(), name=string(), timezone=string()),
    user_group=string(), user_group_known=boolean(),
    permissions=array(string()), email_verified=boolean(), mfa_enabled=boolean(),
    mfa_setup_required=boolean(),
)


@route(bp, "/schools", "POST", summary="Sign a school up with its first admin", tag=TAG,
       auth=False, body=SIGN_UP, status=201,
       response=obj(["school_id", "user_id"], school_id=string(), user_id=string()))
def sign_up(ctx):
    return service.sign_up(ctx.body)


@route(bp, "/auth/login", "POST", summary="Sign in; returns a bearer token", tag=TAG,
       auth=False, body=obj(["email", "password"], email=string(254), password=string(200)),
       response=SIGNED_IN)
def log_in(ctx):
    return service.log_in(ctx.body, source_ip=ctx.source_ip, user_agent=ctx.user_agent)


@route(bp, "/auth/logout", "POST", summary="Revoke the caller's token", tag=TAG, mfa_exempt=True,
       response=SIGNED_OUT)
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
       tag=TAG, response=ME, mfa_exempt=True)
def get_me(ctx):
    return service.me(ctx.caller)


# ---------------------------------------------------------------- passwords

@route(bp, "/auth/forgot-password", "POST", summary="Email a password reset link (same answer for any address)",
       tag=TAG, auth=False, body=obj(["email"], email=string(254)), status=202,
       response=obj(["queued"], queued=boolean()))
def forgot_password(ctx):
    return passwords.forgot(ctx.body["email"])


@route(bp, "/auth/reset-password", "POST", summary="Set a new password with the emailed reset link; "
       "ends every session", tag=TAG, auth=False, body=obj(["token", "password"], token=string(200),
                                                          password=PASSWORD), response=PASSWORD_SET)
def reset_password(ctx):
    return passwords.reset(ctx.body["token"], ctx.body["password"])


@route(bp, "/auth/change-password", "POST", summary="Change the caller's password; ends their other sessions",
       tag=TAG, body=obj(["current_password", "new_password"], current_password=PASSWORD,
                         new_password=PASSWORD), response=PASSWORD_SET)
def change_password(ctx):
    return passwords.change(ctx.caller, ctx.body["current_password"], ctx.body["new_password"],
                            source_ip=ctx.source_ip)


# ---------------------------------------------------------------- sessions

@route(bp, "/auth/logout-everywhere", "POST", summary="End every session of the caller, this one too",
       tag=TAG, mfa_exempt=True, response=SIGNED_OUT)
def logout_everywhere(ctx):
    return sessions.end_all(ctx.caller)


@route(bp, "/auth/sessions", "GET", summary="The caller's live sessions", tag=TAG,
       response=obj(["items"], items=array(SESSION)))
def list_sessions(ctx):
    return sessions.list_sessions(ctx.caller)


@route(bp, "/auth/sessions/{session_id}", "DELETE", summary="End one of the caller's sessions", tag=TAG,
       response=SIGNED_OUT)
def end_session(ctx, session_id):
    return sessions.end_one(ctx.caller, session_id)


# ---------------------------------------------------------------- two-factor

@route(bp, "/auth/mfa/setup", "POST", summary="Start two-factor set-up: a new secret, its otpauth URI "
       "and QR code (SVG)", tag=TAG, mfa_exempt=True,
       response=obj(["secret", "otpauth_uri", "qr_svg"], secret=string(), otpauth_uri=string(), qr_svg=string()))
def mfa_setup(ctx):
    return mfa.setup(ctx.caller)


@route(bp, "/auth/mfa/confirm", "POST", summary="Confirm two-factor set-up with a code; returns 10 "
       "single-use recovery codes, shown once", tag=TAG, mfa_exempt=True, body=obj(["code"], code=CODE),
       response=obj(["recovery_codes"], recovery_codes=array(string())))
def mfa_confirm(ctx):
    return mfa.confirm(ctx.caller, ctx.body["code"])


@route(bp, "/auth/mfa/verify", "POST", summary="Second step of a sign-in: the code, for a session",
       tag=TAG, auth=False, body=obj(["mfa_token", "code"], mfa_token=string(200), code=CODE), response=TOKEN)
def mfa_verify(ctx):
    return mfa.verify(ctx.body["mfa_token"], ctx.body["code"], source_ip=ctx.source_ip,
                      user_agent=ctx.user_agent)


@route(bp, "/auth/mfa", "DELETE", summary="Turn two-factor sign-in off (with a current code)", tag=TAG,
       mfa_exempt=True, body=obj(["code"], code=CODE), response=obj(["mfa_enabled"], mfa_enabled=boolean()))
def mfa_disable(ctx):
    return mfa.disable(ctx.caller, ctx.body["code"], source_ip=ctx.source_ip)
