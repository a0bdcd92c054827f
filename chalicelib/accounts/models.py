"""DynamoDB records for schools and accounts. Every key starts with the school,
except the two global look-ups a sign-in needs before the school is known:
``Login`` (by email) and ``Token`` (by the token's hash)."""
from pynamodb.attributes import (BooleanAttribute, JSONAttribute, ListAttribute, MapAttribute, NumberAttribute,
                                 UnicodeAttribute, UnicodeSetAttribute, VersionAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..core.db import index, meta


class School(Model):
    Meta = meta("schools")
    school_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    timezone = UnicodeAttribute(default="Europe/London")
    #: {group name: {"permissions": [...], "standard": bool}}
    user_groups = MapAttribute(default=dict)
    #: A full S3 drop marks pupils missing from it as "left" (never deleted).
    mark_leavers = BooleanAttribute(default=False)
    #: A drop that would mark more than this % of those on roll as leavers,
    #: or update more than update_threshold % of them, is held for a person
    #: to approve; drop_mode "review" holds every drop.
    leaver_threshold = NumberAttribute(default=10)
    #: A teacher group holds at most this many members (adding more is a 422 group_full).
    max_group_members = NumberAttribute(default=300)
    update_threshold = NumberAttribute(default=75)
    drop_mode = UnicodeAttribute(default="auto")  # auto | review
    #: who hears how each drop went: always | problems_only | never
    sync_report = UnicodeAttribute(default="problems_only")
    #: {kind: {column: field}}: the last mapping a person confirmed, reused by S3 drops.
    import_mappings = JSONAttribute(null=True)
    #: {kind: {column: date order}} confirmed with the remembered mapping (see imports/validating.py)
    import_date_orders = JSONAttribute(null=True)
    #: Invitation links last this many hours (at most 72, the service's own limit).
    invite_hours = NumberAttribute(default=72)
    #: Leavers are erased this many years after they left (0: kept forever).
    keep_leavers_years = NumberAttribute(default=6)
    #: The year group pupils leave from at the academic-year rollover
    #: ("6" for a primary, "11" or "13" for a secondary); None until set.
    final_year = UnicodeAttribute(null=True)
    #: The rollover keeps registration groups (else it clears them).
    keep_registration_groups = BooleanAttribute(default=False)
    #: "school" on every school: the retention job lists schools by this
    #: index (a Query, never a Scan).
    listed = UnicodeAttribute(default="school")
    #: Imports and their refused rows are kept this many days, then expire.
    keep_imports_days = NumberAttribute(default=90)
    #: User groups whose members must sign in with two factors (accounts/mfa.py).
    require_mfa_for = ListAttribute(of=UnicodeAttribute, null=True)
    #: A session ends after this many minutes without a request (15-480).
    idle_minutes = NumberAttribute(default=60)
    #: "HH:MM" (school time) the school day ends: the console's "until the end of the school day"
    day_ends = UnicodeAttribute(null=True)
    #: the school day's periods, [{"name", "starts", "ends"}] ("HH:MM", in order): "until the end of this lesson"
    periods = JSONAttribute(null=True)
    #: Sign-in with the school's identity provider (accounts/sso_settings.py):
    #: {"provider", "issuer", "client_id", "allowed_domains", "require",
    #: "updated_at"}; the client secret is in Secrets Manager, never here.
    sso = JSONAttribute(null=True)
    #: True while the school requires its provider (mirrors sso["require"]): a
    #: password sign-in's own transaction checks it (accounts/sessions.py),
    #: so asking costs no read.
    sso_required = BooleanAttribute(null=True)
    #: The allowed domains the sign-in screen routes to this school (claimed
    #: as DomainClaim records): proven by an admin's verified address there.
    sso_routed = ListAttribute(of=UnicodeAttribute, null=True)
    #: Members of the Admin Team; a school never drops to zero.
    admin_count = NumberAttribute(default=0)
    created_at = NumberAttribute()
    version = VersionAttribute()

    all_schools = index("schools-listed", "listed", UnicodeAttribute, "school_id")


class User(Model):
    """A staff member (and so a possible sign-in) of one school."""
    Meta = meta("users")
    school_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    email = UnicodeAttribute()
    first_name = UnicodeAttribute()
    surname = UnicodeAttribute()
    job_role = UnicodeAttribute(null=True)
    #: the source system's id (a OneRoster sourcedId): what a sync matches first
    external_id = UnicodeAttribute(null=True)
    user_group = UnicodeAttribute()
    email_verified = BooleanAttribute(default=False)
    #: "invited" until they set a password, then "active"; "disabled" (by a
    #: colleague) keeps the record and its history but signs nobody in.
    status = UnicodeAttribute(default="invited")
    #: "import" for staff a file made ("manual" by the form or the API; None:
    #: the school's first admin, or made before it was kept). A full staff
    #: drop disables only staff a file made; nobody made by hand.
    source = UnicodeAttribute(null=True)
    #: disabled by a full staff drop that did not name them: a later drop
    #: naming them enables them again (never one a person disabled)
    disabled_by_sync = BooleanAttribute(null=True)
    #: Two-factor sign-in is on (its secret is on the Login); read with the
    #: user on every request, for the school's require_mfa_for.
    mfa_enabled = BooleanAttribute(default=False)
    #: Sessions started before this (epoch ms) are void: how "sign out
    #: everywhere", a password reset and disabling end every session at once.
    sessions_after = NumberAttribute(null=True)
    #: Every emailed link carries the generation it was minted at; a change of
    #: address or an accepted invitation moves it on, ending every older link.
    token_generation = NumberAttribute(default=0)
    created_at = NumberAttribute()
    updated_at = NumberAttribute(null=True)
    #: fold(surname)|fold(first)|id and fold(first)|fold(surname)|id
    sort_name = UnicodeAttribute(null=True)
    first_sort = UnicodeAttribute(null=True)
    version = VersionAttribute()

    by_name = index("users-by-name", "school_id", UnicodeAttribute, "sort_name")
    by_first = index("users-by-first", "school_id", UnicodeAttribute, "first_sort")


class Login(Model):
    """Email -> account. The conditional put of this record is what makes an
    email address unique across the service."""
    Meta = meta("logins")
    email = UnicodeAttribute(hash_key=True)
    school_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    password_hash = UnicodeAttribute(null=True)
    #: Mirrors a disabled User: a sign-in reads only this record.
    disabled = BooleanAttribute(default=False)
    #: Two-factor: the TOTP secret, KMS-encrypted (accounts/secretbox.py);
    #: a set-up not yet confirmed; the last time step used (a code is good
    #: once); the SHA-256 of each unused recovery code.
    mfa_secret = UnicodeAttribute(null=True)
    mfa_pending = UnicodeAttribute(null=True)
    mfa_pending_until = NumberAttribute(null=True)
    mfa_last_step = NumberAttribute(null=True)
    recovery_codes = UnicodeSetAttribute(null=True)
    #: A sign-up not verified by then frees its address (nobody can hold an
    #: email they don't own): a new sign-up may take the login over.
    unverified_until = NumberAttribute(null=True)


class SessionsByOwner(GlobalSecondaryIndex):
    """Sparse: only sessions carry ``owner``. A person's sessions, oldest first."""
    class Meta:
        index_name = "sessions-by-owner"
        projection = AllProjection()
    owner = UnicodeAttribute(hash_key=True)
    created_ms = NumberAttribute(range_key=True)


class Token(Model):
    """A session, link (verify, invite, reset) or two-factor step token,
    stored only as its hash."""
    Meta = meta("tokens")
    token_hash = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # session | verify | invite | reset | mfa | client | access | sso_*
    school_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    expires_at = NumberAttribute()
    #: A link token (verify, invite) is good only for the address it was sent
    #: to, at the account's token generation when it was minted.
    email = UnicodeAttribute(null=True)
    generation = NumberAttribute(null=True)
    #: Sessions: started (epoch ms), last request (epoch s, written at most a
    #: minute apart), the browser, a public id, and the owner the
    #: ``sessions-by-owner`` index lists them by ("<school>#<user>").
    created_ms = NumberAttribute(null=True)
    #: A two-factor step (kind "mfa") carries the login's sealed secret, so
    #: the code's check needs no second read.
    mfa_secret = UnicodeAttribute(null=True)
    last_used_at = NumberAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    session_id = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    by_owner = SessionsByOwner()
    #: An API client (kind "client", keyed ``client#<client id>``, listed by
    #: owner ``<school>#clients``): its name, scopes, who made it and the
    #: SHA-256 of its secret. Its access tokens (kind "access") carry the
    #: scopes granted. (accounts/api_clients.py)
    name = UnicodeAttribute(null=True)
    scopes = ListAttribute(of=UnicodeAttribute, null=True)
    secret_hash = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    #: A sign-in through the school's identity provider (accounts/sso.py):
    #: its state (kind "sso_state": the nonce, the PKCE verifier, the hash of
    #: the browser's binding cookie and the provider settings it started
    #: with), the one-time code the console swaps for a session (kind
    #: "sso_code"), a test sign-in's report (kind "sso_test"). A session
    #: started that way says so (``via`` "sso": two factors were the
    #: provider's job).
    data = JSONAttribute(null=True)
    via = UnicodeAttribute(null=True)
    #: DynamoDB's TTL removes dead tokens; reads check expires_at themselves.
    ttl = NumberAttribute(null=True)  # DynamoDB TTL (epoch seconds)


class Throttle(Model):
    """Sign-in attempts left for one key (an email, or a source address).
    Each attempt takes one from ``budget`` by a conditional write before the
    password is checked; at none left the key waits until ``refill_at``,
    longer after each lock-out (``strikes``)."""
    Meta = meta("throttle")
    key = UnicodeAttribute(hash_key=True)
    budget = NumberAttribute(null=True)
    strikes = NumberAttribute(null=True)
    refill_at = NumberAttribute(null=True)
    ttl = NumberAttribute(null=True)  # DynamoDB TTL (epoch seconds)


class DomainClaim(Model):
    """An email domain a school signs in through its identity provider,
    claimed in the table of unique values under one service-wide partition:
    a domain routes the sign-in screen to one school (accounts/sso_settings.py)."""
    Meta = meta("uniques")
    school_id = UnicodeAttribute(hash_key=True)  # always DOMAINS below
    key = UnicodeAttribute(range_key=True)  # the domain
    owner_id = UnicodeAttribute()  # the school


#: the partition of domain claims (no school id starts with "~")
DOMAINS = "~sso-domains"
