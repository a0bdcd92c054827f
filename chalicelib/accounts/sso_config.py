"""A school's identity provider settings and what an ID token must show
before it signs anyone in: pure rules, no AWS, no HTTP.

Microsoft (Entra ID) and Google have their issuers filled in; "oidc" takes
any issuer with discovery. Which claim is the sign-in address, and what
vouches for it, differs by provider (:func:`signed_in_email`)."""
import re
from dataclasses import dataclass
from enum import Enum

from ..core.errors import FieldError
from . import credentials


class Kind(str, Enum):
    MICROSOFT = "microsoft"
    GOOGLE = "google"
    OIDC = "oidc"


LABELS = {Kind.MICROSOFT: "Microsoft", Kind.GOOGLE: "Google", Kind.OIDC: "your school's account"}
GOOGLE_ISSUER = "https://accounts.google.com"
MICROSOFT_ISSUER = "https://login.microsoftonline.com/{tenant}/v2.0"
_TENANT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MICROSOFT = re.compile(r"^https://login\.microsoftonline\.com/([0-9a-f-]{36})/v2\.0$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
MAX_DOMAINS = 20
#: Anyone can have an address at these: a school can't vouch for them.
PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com", "live.co.uk",
    "msn.com", "yahoo.com", "yahoo.co.uk", "icloud.com", "me.com", "aol.com", "btinternet.com",
    "proton.me", "protonmail.com", "gmx.com", "mail.com", "sky.com", "virginmedia.com"})


@dataclass(frozen=True)
class Settings:
    """What the school record holds (the secret is in Secrets Manager)."""
    provider: Kind
    issuer: str
    client_id: str
    allowed_domains: tuple
    require: bool

    def as_record(self, now, updated_by):
        return {"provider": self.provider.value, "issuer": self.issuer, "client_id": self.client_id,
                "allowed_domains": list(self.allowed_domains), "require": self.require,
                "updated_at": int(now), "updated_by": updated_by}

    @classmethod
    def of(cls, record):
        """The settings a school record holds, or None."""
        if not record:
            return None
        return cls(Kind(record["provider"]), record["issuer"], record["client_id"],
                   tuple(record.get("allowed_domains") or ()), bool(record.get("require")))

    @classmethod
    def of_school(cls, school):
        """The settings of ``school`` (None: no school, or no provider set)."""
        return cls.of(school.sso) if school is not None else None

    @property
    def label(self):
        return LABELS[self.provider]


def issuer_for(kind, issuer):
    """The issuer ``kind`` signs in with: Google's own; Microsoft's for the
    school's tenant (``issuer`` is its tenant id or the tenant's issuer URL);
    an "oidc" provider's as given. Raises FieldError."""
    given = (issuer or "").strip()
    if kind is Kind.GOOGLE:
        if given and given.rstrip("/") != GOOGLE_ISSUER:
            raise FieldError("issuer", "invalid", f"Google's issuer is {GOOGLE_ISSUER}: leave it out.")
        return GOOGLE_ISSUER
    if kind is Kind.MICROSOFT:
        tenant = given.lower() if _TENANT.match(given.lower()) else None
        match = _MICROSOFT.match(given)
        if tenant is None and match is None:
            raise FieldError("issuer", "invalid", "Give your Entra ID tenant id (a GUID, from the Entra "
                             "admin centre's Overview) or its issuer, https://login.microsoftonline.com/"
                             "<tenant id>/v2.0. A multi-tenant 'common' issuer would let any organisation in.")
        return MICROSOFT_ISSUER.format(tenant=tenant or match.group(1))
    if not given:
        raise FieldError("issuer", "required", "Give the provider's issuer URL (its discovery document is "
                         "at <issuer>/.well-known/openid-configuration).")
    if given.rstrip("/") == GOOGLE_ISSUER or given.startswith(("https://login.microsoftonline.com/",
                                                                "https://sts.windows.net/")):
        # (their rules for which address is vouched for are theirs: a personal Google account is not a school's)
        raise FieldError("issuer", "invalid", "That is Google's or Microsoft's issuer: choose that provider "
                         "instead of 'oidc'.")
    return given


def domains_of(values):
    """The allowed email domains, lower-cased and checked. Raises FieldError."""
    if not isinstance(values, list) or not values:
        raise FieldError("allowed_domains", "required", "List the email domains your staff sign in with, "
                         "e.g. [\"oakwood.sch.uk\"].")
    if len(values) > MAX_DOMAINS:
        raise FieldError("allowed_domains", "too_many", f"At most {MAX_DOMAINS} domains.")
    domains = []
    for value in values:
        domain = str(value or "").strip().lower().lstrip("@")
        if not _DOMAIN.match(domain):
            raise FieldError("allowed_domains", "invalid", f"'{str(value)[:100]}' is not an email domain "
                             "such as oakwood.sch.uk.")
        if domain in PUBLIC_MAIL_DOMAINS:
            raise FieldError("allowed_domains", "invalid", f"{domain} is a public mail service: anyone can "
                             "have an address there, so it can't be a school's sign-in domain.")
        if domain not in domains:
            domains.append(domain)
    return tuple(domains)


def parse(body, had_secret):
    """Settings from a PUT body (the schema has checked types and unknown
    fields). Returns (Settings, problems)."""
    problems = []
    kind = Kind(body["provider"])
    issuer = domains = None
    try:
        issuer = issuer_for(kind, body.get("issuer"))
    except FieldError as exc:
        problems.append(exc)
    try:
        domains = domains_of(body.get("allowed_domains"))
    except FieldError as exc:
        problems.append(exc)
    client_id = (body.get("client_id") or "").strip()
    if not client_id:
        problems.append(FieldError("client_id", "required", "Give the application's client id from the provider."))
    if not had_secret and not (body.get("client_secret") or "").strip():
        problems.append(FieldError("client_secret", "required", "Give the application's client secret (it is "
                                   "kept in AWS Secrets Manager and never shown again)."))
    if problems:
        return None, problems
    return Settings(kind, issuer, client_id, domains, bool(body.get("require"))), []


# ---------------------------------------------------------------- ID tokens


@dataclass(frozen=True)
class Refusal:
    reason: str   # an sso_* error code
    message: str


def signed_in_email(settings, claims):
    """(email, None) for the address the provider vouches for, or (None,
    Refusal). Microsoft: the work account's sign-in name (its domain is one
    the tenant has verified; the tenant is in the issuer), or ``email`` when
    Entra marks its domain verified (``xms_edov``). Google: a verified
    ``email`` of a Workspace account (``hd``). Others: ``email`` with
    ``email_verified`` true."""
    if settings.provider is Kind.MICROSOFT:
        email = claims.get("email") if claims.get("xms_edov") is True else None
        email = email or claims.get("preferred_username") or claims.get("upn")
        vouched = bool(email)
    else:
        email = claims.get("email")
        vouched = claims.get("email_verified") is True or claims.get("email_verified") == "true"
    if not isinstance(email, str) or "@" not in email:
        return None, Refusal("sso_email_unverified", "The identity provider did not say which email address "
                             "signed in (ask it for the 'email' claim).")
    email = credentials.normalise_email(email)
    if not vouched:
        return None, Refusal("sso_email_unverified", f"The identity provider does not vouch for {email} "
                             "(its email_verified is not true).")
    domain = email.rsplit("@", 1)[1]
    if domain not in settings.allowed_domains:
        return None, Refusal("sso_domain_not_allowed", f"{email} is not at one of the school's sign-in "
                             f"domains ({', '.join(settings.allowed_domains)}).")
    if settings.provider is Kind.GOOGLE and claims.get("hd") not in settings.allowed_domains:
        return None, Refusal("sso_domain_not_allowed", f"{email} is not a Google Workspace account of the "
                             "school's domains (a personal Google account can't sign in here).")
    return email, None


#: What a test sign-in reports of the ID token (no more: it is a person's data)
REPORTED_CLAIMS = ("iss", "aud", "sub", "email", "email_verified", "preferred_username", "upn", "hd", "tid",
                   "xms_edov", "name", "given_name", "family_name", "iat", "exp")


def reported(claims):
    return {name: (claims[name] if isinstance(claims[name], (bool, int, float)) else str(claims[name])[:500])
            for name in REPORTED_CLAIMS if name in claims}
