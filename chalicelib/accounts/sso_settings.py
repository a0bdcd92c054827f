"""Setting a school's identity provider (``manage_settings``): the settings on
the school record, the client secret in Secrets Manager, and the email
domains it signs in claimed service-wide, all in one audited change.

A holder of ``manage_settings`` may act on anyone (the privilege ceiling),
and a provider the school trusts can sign in any of its staff: so only they
set one, the secret is never shown back, and every change names who made it."""
import time

from pynamodb.exceptions import DoesNotExist

from ..core import audit, config
from ..core.clock import iso
from ..core.db import Tx, TxFailed
from ..core.errors import ApiError, FieldError, validation_failed
from . import oidc, sso_config, sso_secrets
from .models import DOMAINS, DomainClaim, School


def as_json(school):
    """What GET shows: never the secret."""
    settings = sso_config.Settings.of(school.sso)
    shown = {"configured": settings is not None, "redirect_uri": config.sso_redirect_uri()}
    if settings is None:
        return shown
    return {**shown, "provider": settings.provider.value, "issuer": settings.issuer,
            "client_id": settings.client_id, "allowed_domains": list(settings.allowed_domains),
            "require": settings.require, "label": settings.label,
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
    before = sso_config.Settings.of(school.sso)
    settings, problems = sso_config.parse(body, had_secret=before is not None)
    if problems:
        raise validation_failed(problems)
    problem = oidc.issuer_problem(settings.issuer)
    if problem:
        raise validation_failed([FieldError("issuer", "invalid", problem)])
    _usable(settings)
    secret = (body.get("client_secret") or "").strip()
    if secret:
        sso_secrets.put(school.school_id, secret)  # (first: settings never point at a secret not there)
    _commit(caller, school, before, settings, now, secret_changed=bool(secret))
    return as_json(school)


def delete(caller, now=None):
    now = now or time.time()
    school = caller.school
    before = sso_config.Settings.of(school.sso)
    if before is None:
        raise ApiError("sso_not_configured", "The school has no identity provider set up.")
    _commit(caller, school, before, None, now)
    sso_secrets.delete(school.school_id)
    return as_json(school)


def _commit(caller, school, before, after, now, secret_changed=False):
    """The school's settings, its domain claims (new ones taken, dropped ones
    given back) and the audit entry, in one transaction."""
    old = set(before.allowed_domains) if before else set()
    new = set(after.allowed_domains) if after else set()
    tx = Tx()
    school.sso = after.as_record(now, caller.user_id) if after else None
    school.sso_required = True if after and after.require else None
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
    audit.stage(tx, audit.entry(caller, "update" if after and before else "create" if after else "delete",
                                "sso_settings", school.school_id, None, None, now, changes=changes))
    try:
        tx.commit()
    except TxFailed as exc:
        school.sso = before.as_record(now, caller.user_id) if before else None
        school.sso_required = True if before and before.require else None
        taken = [label.split(" ", 1)[1] for label in exc.failed if label.startswith("domain ")]
        if taken:
            raise ApiError("domain_taken", f"Another school already signs in {', '.join(taken)}. If that "
                           "domain is yours, contact the service's operator.", domains=taken,
                           errors=[{"field": "allowed_domains", "code": "domain_taken",
                                    "message": f"{d} is another school's sign-in domain."} for d in taken])
        raise ApiError("conflict", "The school's settings changed while saving; reload and try again.")


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
