"""The school's records read for the OneRoster service, and mapped
(or_mapping.py): each collection is Queries of the school's partitions
(pupils, staff, groups, memberships), never a Scan."""
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from ..accounts.models import User
from ..core import audit
from ..membership import rules
from ..membership.models import SYSTEM, Group, Membership
from ..roster.models import Pupil
from . import or_mapping as m


class Roster:
    """One request's view of one school, read lazily (each part once)."""

    #: how long a deleted record answers as ``tobedeleted``
    GONE_SECONDS = 30 * 24 * 3600

    def __init__(self, base, school, now=None, deltas=False):
        self.base, self.school = base, school
        self.now = time.time() if now is None else now
        #: also the records deleted in the last 30 days, as ``tobedeleted`` (one Query more): for a
        #: delta read (a dateLastModified filter) and a sourcedId not found among the live
        self.deltas = deltas
        self._cache = {}

    @classmethod
    def of(cls, base_url, school, now=None, deltas=False):
        """``school``: the caller's, as the request's authoriser read it (no second read)."""
        return cls(m.Base(base_url, school.school_id), school, now, deltas)

    def _once(self, name, load):
        if name not in self._cache:
            self._cache[name] = load()
        return self._cache[name]

    @property
    def today(self):
        return datetime.fromtimestamp(self.now, ZoneInfo(self.school.timezone or "Europe/London")).date()

    @property
    def session(self):
        return m.academic_session(self.base, self.school, self.today)

    def pupils(self):
        return self._once("pupils", lambda: list(Pupil.query(self.school.school_id)))

    def staff_records(self):
        return self._once("staff", lambda: list(User.query(self.school.school_id)))

    def groups(self):
        """The school's live teacher and class groups of people (machines' groups are not classes)."""
        def load():
            return [g for g in Group.query(self.school.school_id)
                    if g.group_id != SYSTEM and not g.system and g.member_type == "user"
                    and not (g.ends_at is not None and g.ends_at <= self.now)]
        return self._once("groups", load)

    def memberships(self):
        def load():
            return [x for x in Membership.by_school.query(self.school.school_id)
                    if x.away_since is None and (x.until is None or x.until > self.now)]
        return self._once("memberships", load)

    # ---------------------------------------------------------------- collections, mapped

    def orgs(self):
        return [m.org(self.base, self.school)]

    def sessions(self):
        return [self.session]

    def courses(self):
        return [m.course(self.base, self.school, self.today)]

    def gone(self, kind):
        """The markers of the ``kind`` (pupil, staff) deleted in the last 30 days and not back."""
        if not self.deltas:
            return []
        markers = self._once("gone", lambda: list(audit.gone_since(self.school.school_id,
                                                                   self.now - self.GONE_SECONDS)))
        live = {p.pupil_id for p in self.pupils()} | {u.user_id for u in self.staff_records()}
        live |= {m.pupil_sourced_id(p) for p in self.pupils()} | {m.staff_sourced_id(u) for u in self.staff_records()}
        return [x for x in markers if x.record_type == kind and x.record_id not in live
                and (x.changes or {}).get("sourced_id") not in live]

    def students(self):
        return [m.student(self.base, p) for p in self.pupils()] + [
            m.gone_user(self.base, x, "student") for x in self.gone("pupil")]

    def teachers(self):
        return [u for u in self.staff_users() if u["roles"][0]["role"] == "teacher"]

    def staff_users(self):
        return [m.staff(self.base, u) for u in self.staff_records()] + [
            m.gone_user(self.base, x, "teacher") for x in self.gone("staff")]

    def users(self):
        return self.students() + self.staff_users()

    def classes(self):
        return [m.klass(self.base, g, self.session["sourcedId"]) for g in self.groups()]

    def demographics(self):
        return [m.demographics(self.base, p) for p in self.pupils()] + [
            m.gone_demographics(x) for x in self.gone("pupil")]

    def enrollments(self):
        pupils = {p.pupil_id: p for p in self.pupils()}
        staff = {u.user_id: u for u in self.staff_records()}
        groups = {g.group_id: g for g in self.groups()}
        out = []
        for x in self.memberships():
            g, p = groups.get(x.group_id), pupils.get(x.member_id)
            if g is not None and p is not None and x.kind == "pupil":
                out.append(m.enrollment(self.base, g, m.pupil_sourced_id(p), "student", x.member_id,
                                        x.starts, x.until))
        for g in groups.values():
            for uid, role in rules.staff_roles(g, self.now).items():
                if role in (rules.Role.OWNER, rules.Role.TEACHER) and uid in staff:
                    out.append(m.enrollment(self.base, g, m.staff_sourced_id(staff[uid]), "teacher", uid))
        return out

    # ---------------------------------------------------------------- relations

    def class_members(self, class_id, role):
        """The users of role ``role`` enrolled in a class (None: no such class)."""
        if not any(c["sourcedId"] == class_id for c in self.classes()):
            return None
        wanted = {e["user"]["sourcedId"] for e in self.enrollments()
                  if e["class"]["sourcedId"] == class_id and e["role"] == role}
        return [u for u in self.users() if u["sourcedId"] in wanted]

    def classes_of(self, user_id, role):
        """The classes a user of ``role`` is enrolled in (None: no such user)."""
        people = self.students() if role == "student" else self.teachers()
        if not any(u["sourcedId"] == user_id for u in people):
            return None
        wanted = {e["class"]["sourcedId"] for e in self.enrollments()
                  if e["user"]["sourcedId"] == user_id and e["role"] == role}
        return [c for c in self.classes() if c["sourcedId"] in wanted]
