"""Helpers for the hardening suites: one in-process AWS (moto) for a whole test
module, and schools holding data of every kind (pupils, staff, a custom user
group, teacher and machine groups with memberships, machines, imports, audit).

The ``api``/``signup``/``member``/``mailbox`` fixtures of ``tests/conftest.py``
are per test; a matrix of hundreds of cases cannot rebuild two schools for
each, so :func:`moto_env` does the same work once per module, with the same
``Api`` client, the same outbox sender and the same event pump.

Typical use::

    @pytest.fixture(scope="module")
    def world():
        with moto_env() as env:
            yield build_school(env, "Birchwood", la="941")
"""
import contextlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timezone

import requests

from tests.conftest import PASSWORD, Api, link_token, sent_emails

#: a private group's member's end: within the five years an until may be ahead
PRIVATE_UNTIL = f"{datetime.now(timezone.utc).year + 3}-01-01T15:30:00+00:00"


@dataclass
class Env:
    """One moto world: the app, a JSON client and the event pump."""
    app: object
    api: Api
    pump: object
    _n: itertools.count = field(default_factory=lambda: itertools.count(1))

    def next(self):
        return next(self._n)

    # ------------------------------------------------------------ email
    def mailbox(self, to=None):
        from chalicelib.notify.outbox import send_due
        send_due()
        emails = sent_emails()
        if to:
            emails = [m for m in emails if to in m.destinations.get("ToAddresses", [])]
        return emails

    def drain(self, rounds=50):
        self.pump.drain(rounds)

    # ------------------------------------------------------------ people
    def signup(self, name, email, first_name="Ada", surname="Admin"):
        """A verified school; returns {school_id, user_id, email, token, name}."""
        r = self.api.post("/api/schools", {"name": name, "admin": {
            "first_name": first_name, "surname": surname, "email": email, "password": PASSWORD}}, token="")
        assert r.status_code == 201, r.body
        v = self.api.post("/api/auth/verify", {"token": link_token(self.mailbox(to=email)[-1].body)}, token="")
        assert v.status_code == 200, v.body
        return dict(r.data, email=email, name=name, first_name=first_name, surname=surname,
                    token=self.login(email))

    def login(self, email):
        r = self.api.post("/api/auth/login", {"email": email, "password": PASSWORD}, token="")
        assert r.status_code == 200, r.body
        return r.data["token"]

    def member(self, school, user_group="Teachers", first_name="Sam", surname=None, email=None,
               accept=True):
        """A staff member added by the school's admin; with accept=True the
        emailed invitation is accepted and the member signed in ('token')."""
        n = self.next()
        surname = surname or f"Member{n}"
        email = email or f"staff{n}.{school['school_id'][:8]}@example.org"
        r = self.api.post("/api/staff", {"first_name": first_name, "surname": surname, "email": email,
                                         "user_group": user_group}, token=school["token"])
        assert r.status_code == 201, r.body
        out = dict(r.data, token=None)
        if accept:
            invite = self.mailbox(to=email)[-1]
            ok = self.api.post("/api/auth/accept-invite", {"token": link_token(invite.body),
                                                          "password": PASSWORD}, token="")
            assert ok.status_code == 200, ok.body
            out["token"] = self.login(email)
        return out

    # ------------------------------------------------------------ records
    def pupil(self, token, first_name, surname, year_group="5", registration_group=None, upn=None,
              date_of_birth="2015-02-01"):
        r = self.api.post("/api/pupils", {"first_name": first_name, "surname": surname,
                                          "date_of_birth": date_of_birth, "year_group": year_group,
                                          "registration_group": registration_group, "upn": upn}, token=token)
        assert r.status_code == 201, r.body
        return r.data

    def machine(self, token, name, location=None):
        r = self.api.post("/api/machines", {"name": name, "location": location}, token=token)
        assert r.status_code == 201, r.body
        return r.data

    def group(self, token, name, shared=True, member_type="user", priority="normal"):
        r = self.api.post("/api/groups", {"name": name, "shared": shared, "member_type": member_type,
                                          "priority": priority}, token=token)
        assert r.status_code == 201, r.body
        return r.data

    def add_members(self, token, group_id, member_ids, until=None):
        r = self.api.post(f"/api/groups/{group_id}/members", {"member_ids": member_ids, "until": until},
                          token=token)
        assert r.status_code == 200, r.body
        return r.data

    # ------------------------------------------------------------ imports
    def upload(self, token, kind, data, filename):
        r = self.api.post("/api/imports", {"kind": kind, "filename": filename}, token=token)
        assert r.status_code == 201, r.body
        up = r.data["upload"]
        posted = requests.post(up["url"], data=up["fields"], files={"file": (filename, data)})
        assert posted.status_code in (200, 201, 204), posted.text
        self.drain()
        return self.get_import(token, r.data["import_id"])

    def get_import(self, token, import_id):
        r = self.api.get(f"/api/imports/{import_id}", token=token)
        assert r.status_code == 200, r.body
        return r.data

    def map(self, token, imp, mapping=None):
        mapping = mapping if mapping is not None else imp["suggested_mapping"]
        r = self.api.put(f"/api/imports/{imp['id']}/mapping", {"mapping": mapping}, token=token)
        assert r.status_code == 200, r.body
        self.drain()
        return self.get_import(token, imp["id"])

    def commit(self, token, imp):
        r = self.api.post(f"/api/imports/{imp['id']}/commit", token=token)
        assert r.status_code == 200, r.body
        self.drain()
        return self.get_import(token, imp["id"])

    def api_client(self, token, name):
        """An API client with every scope, and a token for it."""
        import base64
        from chalicelib.accounts.permissions import SCOPES
        made = self.api.post("/api/clients", {"name": name, "scopes": sorted(SCOPES)}, token=token)
        assert made.status_code == 201, made.body
        basic = base64.b64encode(f"{made.data['client_id']}:{made.data['client_secret']}".encode()).decode()
        r = self.api.call("POST", "/api/oauth/token", "grant_type=client_credentials", token="", headers={
            "Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"})
        assert r.status_code == 200, r.body
        return dict(made.data, token=r.data["access_token"])

    def import_to_review(self, token, kind, data, filename):
        imp = self.upload(token, kind, data, filename)
        assert imp["status"] == "mapping", imp
        imp = self.map(token, imp)
        assert imp["status"] == "review", imp
        return imp


@contextlib.contextmanager
def moto_env():
    """moto's in-process AWS with every resource, the app, a client and the
    event pump: what the ``aws``/``app``/``api``/``pump`` fixtures give a
    test, for a whole module."""
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from devstack.bootstrap import create_resources
        create_resources()
        from app import app
        from chalicelib.core import queue
        from devstack.pump import Pump
        queue.reset_clients()
        with Client(app, stage_name="test") as client:
            yield Env(app=app, api=Api(client), pump=Pump(app, seconds_per_minute=1, print_mail=False))
        queue.reset_clients()


def upn(la, n):
    """A valid UPN: check letter + LA (3) + establishment (4) + 5 digits."""
    from stdnum.gb.upn import calc_check_digit
    body = f"{la}4321{n:05d}"
    return calc_check_digit(body) + body


def pupils_csv(rows):
    lines = ["First name,Surname,Date of birth,Gender,Year group,Registration group,UPN"]
    lines += [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


@dataclass
class School:
    """A school with data of every kind. ``tag`` is in every name it holds,
    so another school's responses can be searched for any of it."""
    tag: str
    school_id: str
    name: str
    admin: dict
    teacher: dict = None        # accepted, Teachers: owns the private group
    invited: dict = None        # never accepted; in the custom user group
    custom_group: str = None
    pupils: list = field(default_factory=list)
    machines: list = field(default_factory=list)
    shared_group: dict = None   # users: a pupil and the teacher as members
    machine_group: dict = None  # machines: a machine as member
    private_group: dict = None  # unshared, owned by the teacher; an expiring membership
    year_group: str = None      # a year group only this school has
    registration_group: str = None
    committed_import: dict = None
    review_import: dict = None
    refused_rows: list = field(default_factory=list)
    #: an API client holding every scope, with a token ("client_id", "client_secret", "token")
    client: dict = None

    @property
    def token(self):
        return self.admin["token"]

    @property
    def year_group_id(self):
        from chalicelib.membership.rules import year_group_id
        return year_group_id(self.year_group)

    @property
    def reg_group_id(self):
        from chalicelib.membership.rules import reg_group_id
        return reg_group_id(self.registration_group)

    def markers(self):
        """Every distinctive string of this school's data: names, emails,
        UPNs, ids, group and machine names, import files, refused values."""
        out = {self.school_id, self.name, self.admin["email"], self.admin["user_id"], self.admin["surname"],
               self.custom_group, self.registration_group, self.reg_group_id}
        for person in (self.teacher, self.invited):
            out |= {person["id"], person["email"], person["first_name"], person["surname"]}
        for p in self.pupils:
            out |= {p["id"], p["first_name"], p["surname"]}
            if p.get("upn"):
                out.add(p["upn"])
        for m in self.machines:
            out |= {m["id"], m["name"], m["location"]}
        for g in (self.shared_group, self.machine_group, self.private_group):
            out |= {g["id"], g["name"]}
        for imp in (self.committed_import, self.review_import):
            out |= {imp["id"], imp["filename"]}
        if self.client:
            out |= {self.client["client_id"], self.client["name"]}
        for row in self.refused_rows:
            out |= {v for v in row["values"].values() if v and self.tag in v}
        out.add(self.tag)
        out.discard(None)
        return {m for m in out if len(m) >= 6}


def build_school(env, tag, la, year_group, registration_group):
    """Sign a school up and give it data of every kind, through the API."""
    t = tag.lower()
    admin = env.signup(f"{tag} Primary", f"head@{t}.sch.uk", first_name="Ada", surname=f"{tag}head")
    s = School(tag=tag, school_id=admin["school_id"], name=admin["name"], admin=admin,
               year_group=year_group, registration_group=registration_group)
    tok = s.token
    # A custom user group, and staff: one who accepted, one still invited.
    s.custom_group = f"{tag} Visitors"
    r = env.api.put(f"/api/user-groups/{s.custom_group.replace(' ', '%20')}", {"permissions": ["view_roster"]},
                    token=tok)
    assert r.status_code == 200, r.body
    s.teacher = env.member(admin, "Teachers", first_name=f"{tag}teach", surname=f"{tag}tutor",
                           email=f"teacher@{t}.sch.uk")
    s.invited = env.member(admin, s.custom_group, first_name=f"{tag}guest", surname=f"{tag}visit",
                           email=f"visitor@{t}.sch.uk", accept=False)
    # Pupils by hand (with UPNs, a registration group of this school only).
    for n, (first, year) in enumerate([("Ottoline", year_group), ("Perpetua", year_group), ("Quentin", "6")]):
        s.pupils.append(env.pupil(tok, f"{tag}{first}", f"{tag}kid{n}", year_group=year,
                                  registration_group=registration_group, upn=upn(la, n + 1)))
    # Machines, and groups with memberships of users and of machines.
    s.machines = [env.machine(tok, f"{tag} Laptop {n}", location=f"{tag} Library") for n in (1, 2)]
    s.shared_group = env.group(tok, f"{tag} Reading Club")
    env.add_members(tok, s.shared_group["id"], [s.pupils[0]["id"], s.teacher["id"]])
    s.machine_group = env.group(tok, f"{tag} Lab Machines", member_type="machine")
    env.add_members(tok, s.machine_group["id"], [s.machines[0]["id"]])
    s.private_group = env.group(s.teacher["token"], f"{tag} Quiet Watch", shared=False)
    env.add_members(s.teacher["token"], s.private_group["id"], [s.pupils[1]["id"]],
                    until=PRIVATE_UNTIL)
    # Imports: one committed, one in review with refused rows.
    committed = env.import_to_review(tok, "pupils", pupils_csv([
        (f"{tag}Imported", f"{tag}first", "01/02/2015", "F", year_group, registration_group, upn(la, 10)),
        (f"{tag}Imported", f"{tag}second", "02/03/2015", "M", year_group, registration_group, upn(la, 11)),
    ]), f"{t}-committed.csv")
    s.committed_import = env.commit(tok, committed)
    assert s.committed_import["status"] == "committed", s.committed_import
    s.review_import = env.import_to_review(tok, "pupils", pupils_csv([
        (f"{tag}Pending", f"{tag}valid", "03/04/2015", "F", year_group, registration_group, upn(la, 20)),
        (f"{tag}Refused", f"{tag}baddate", "31/02/2015", "", year_group, "", ""),
        (f"{tag}Nosurname", "", "01/01/2015", "", year_group, "", ""),
    ]), f"{t}-review.csv")
    assert s.review_import["summary"]["errors"] == 2, s.review_import
    r = env.api.get(f"/api/imports/{s.review_import['id']}/rows?only=errors", token=tok)
    assert r.status_code == 200 and len(r.data["items"]) == 2, r.body
    s.refused_rows = r.data["items"]
    # By hand first (pupils[0] is in the shared group, pupils[1] in the
    # private one), then the imported ones.
    listed = env.api.get("/api/pupils?limit=500", token=tok).data["items"]
    by_hand = [p["id"] for p in s.pupils]
    s.pupils = sorted(listed, key=lambda p: (p["id"] not in by_hand, by_hand.index(p["id"]) if p["id"] in by_hand else 0,
                                             p["surname"]))
    assert len(s.pupils) == 5 and [p["id"] for p in s.pupils[:3]] == by_hand
    s.client = env.api_client(tok, f"{tag} Monitoring Client")
    return s
