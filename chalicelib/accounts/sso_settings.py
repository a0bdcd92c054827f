"""Setting a school's identity provider (``manage_settings``): the settings on
the school record, the client secret in Secrets Manager, and the email
domains it signs in claimed service-wide, all in one audited change.

A holder of ``manage_settings`` may act on anyone (the privilege ceiling),
and a provider the school trusts can sign in any of its staff: so only they
set one, the secret is never shown back, and every change names who made it."""
import time

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist

from ..core import audit, config
from ..core.clock import iso
from ..core.db import Tx, TxFailed
from ..core.errors import ApiError, FieldError, validation_failed
from . import oidc, sso_config, sso_secrets
from .models import DOMAINS, DomainClaim, Login, School


def as_json(school):
    """What GET shows: never the secret."""
    settings = sso_config.Settings.of_school(school)
    shown = {"configured": settings is not None, "redirect_uri": config.sso_redirect_uri(),
             "sign_in_link": f"{config.console_url()}/#sign-in={school.school_id}"}
    if settings is None:
        return shown
    return {**shown, "provider": settings.provider.value, "issuer": settings.issuer,
            "client_id": settings.client_id, "allowed_domains": list(settings.allowed_domains),
            "require": settings.require, "label": settings.label, "routed_domains": list(school.sso_routed or []),
            "updated_at": iso(school.sso.get("updated_at") or 0), "client_secret_set": True}


def _audited(settings):
    """The audit's view of the settings (the secret only as 'set')."""
    if settings is None:
        return None
    return {"provider": settings.provider.value, "issuer": settings.issuer, "client_id": settings.client_id,
            "allowed_domains": list(settings.allowed_domains), "require": settings.require}


def _usable(settings):
    """Read the issuer's discovery document now, so a mistyped issuer is a
    422 here, not a broken sign-in screen tomorrow."""
    try:
        oidc.discover(settings.issuer)
    except oidc.OidcError as exc:
        raise ApiError("sso_issuer_unusable", exc.message,
                       errors=[{"field": "issuer", "code": "sso_issuer_unusable", "message": exc.message}])


def put(caller, body, now=None):
    now = now or time.time()
    school = caller.school
    before = sso_config.Settings.of_school(school)
    settings, problems = sso_config.parse(body, had_secret=before is not None)
    if problems:
        raise validation_failed(problems)
    problem = oidc.issuer_problem(settings.issuer)
    if problem:
        raise validation_failed([FieldError("issuer", "invalid", problem)])
    _usable(settings)
    if settings.require:
        _keeps_a_password(caller)
    secret = (body.get("client_secret") or "").strip()
    routed = _routed(caller, school, before, settings)
    _commit(caller, school, before, settings, routed, now, secret_changed=bool(secret))
    if secret:  # (after the commit: a refused change leaves the working secret as it was)
        _store_secret(school.school_id, secret)
    return as_json(school)


def _keeps_a_password(caller):
    """Requiring the provider leaves admins their password way in: so the one
    turning it on must have a password (else a broken provider locks them out)."""
    try:
        has_password = bool(Login.get(caller.user.email).password_hash)
    except DoesNotExist:
        has_password = False
    if not has_password:
        message = ("Set a password for your own account first (Forgot your password? on the sign-in page): "
                   "admins keep a password way in, so a broken provider can't lock the school out.")
        raise ApiError("validation_failed", message, errors=[{"field": "require", "code": "no_password",
                                                              "message": message}])


def _store_secret(school_id, secret):
    try:
        sso_secrets.put(school_id, secret)
    except ClientError as exc:
        raise ApiError("service_busy", "The settings are saved, but the client secret could not be stored "
                       f"just now ({exc.response['Error']['Code']}). Save again with the secret in a minute.",
                       headers={"Retry-After": "60"}) from exc


def _routed(caller, school, before, settings):
    """The allowed domains the sign-in screen routes to this school: the ones
    routed already, and the domain of the saving admin's own verified
    address (a school proves a domain by a mailbox there, so nobody routes
    another school's staff to their own provider). The others are accepted
    in ID tokens but not routed; a domain another school routes stays theirs."""
    kept = set(before.allowed_domains) & set(school.sso_routed or []) if before else set()
    own = caller.user.email.rsplit("@", 1)[1] if caller.user is not None and caller.email_verified else None
    return {d for d in settings.allowed_domains if d in kept or d == own}


def delete(caller, now=None):
    now = now or time.time()
    school = caller.school
    before = sso_config.Settings.of_school(school)
    if before is None:
        raise ApiError("sso_not_configured", "The school has no identity provider set up.")
    _commit(caller, school, before, None, set(), now)
    sso_secrets.delete(school.school_id)
    return as_json(school)


def _commit(caller, school, before, after, routed, now, secret_changed=False):
    """The school's settings, its domain claims (new ones taken, dropped ones
    given back) and the audit entry, in one transaction. A domain another
    school routes is left to it: saved again without routing it here."""
    old, taken = set(school.sso_routed or []), set()
    while True:
        tx = _staged(caller, school, before, after, old, routed - taken, now, secret_changed)
        try:
            tx.commit()
            return
        except TxFailed as exc:
            _as_it_was(school, before, old, now, caller)
            lost = {label.split(" ", 1)[1] for label in exc.failed if label.startswith("domain ")}
            if not lost or exc.failed - {f"domain {d}" for d in lost}:
                raise ApiError("conflict", "The school's settings changed while saving; reload and try again.")
            taken |= lost


def _staged(caller, school, before, after, old, new, now, secret_changed):
    tx = Tx()
    school.sso = after.as_record(now, caller.user_id) if after else None
    school.sso_required = True if after and after.require else None
    school.sso_routed = sorted(new) or None
    tx.put("school", school)
    for domain in sorted(new - old):
        tx.put(f"domain {domain}", DomainClaim(school_id=DOMAINS, key=domain, owner_id=school.school_id),
               condition=DomainClaim.key.does_not_exist() | (DomainClaim.owner_id == school.school_id))
    for domain in sorted(old - new):
        tx.delete(f"release {domain}", DomainClaim(school_id=DOMAINS, key=domain),
                  condition=DomainClaim.owner_id == school.school_id)
    changes = audit.diff(_audited(before), _audited(after))
    if secret_changed:
        changes["client_secret"] = ["(kept)", "(replaced)"] if before else [None, "(set)"]
    if new != old:
        changes["routed_domains"] = [sorted(old), sorted(new)]
    audit.stage(tx, audit.entry(caller, "update" if after and before else "create" if after else "delete",
                                "sso_settings", school.school_id, None, None, now, changes=changes))
    return tx


def _as_it_was(school, before, old, now, caller):
    school.sso = before.as_record(now, caller.user_id) if before else None
    school.sso_required = True if before and before.require else None
    school.sso_routed = sorted(old) or None


def school_for(key):
    """The school a sign-in names: its id, or an email domain (or address)
    a school claimed. None if none."""
    key = (key or "").strip().lower()
    if not key or len(key) > 254:
        return None
    if "." in key or "@" in key:
        domain = key.rsplit("@", 1)[-1]
        try:
            key = DomainClaim.get(DOMAINS, domain).owner_id
        except DoesNotExist:
            return None
    if not key.isalnum():
        return None
    try:
        return School.get(key)
    except DoesNotExist:
        return None
