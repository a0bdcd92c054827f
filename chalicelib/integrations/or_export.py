"""The school as a OneRoster 1.2 CSV bundle (a zip with ``manifest.csv``),
written to S3 as it is read: each file's rows come from a Query's pages,
through a zip stream, into an S3 multipart upload of 8 MB parts, so memory
stays flat whatever the school's size. The bundle import (imports/) reads
it back to the same roster."""
import csv
import io
import time
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

from ..accounts.models import User
from ..core import audit, config
from ..core.clients import client
from ..core.clock import iso
from ..core.csv_export import guard
from ..core.db import batch_get
from ..core.downloads import export_key
from ..membership import rules
from ..membership.models import SYSTEM, Group, Membership
from ..roster.models import Pupil
from . import or_mapping as m

PART_BYTES = 8 * 1024 * 1024
ZIP_TYPE = "application/zip"

USERS = ["sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds", "givenName",
         "familyName", "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades",
         "password", "userMasterIdentifier", "resourceSourcedIds", "preferredGivenName", "preferredMiddleName",
         "preferredFamilyName", "primaryOrgSourcedId", "pronouns"]
ROLES = ["sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role", "beginDate", "endDate",
         "orgSourcedId", "userProfileSourcedId"]
CLASSES = ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode",
           "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods"]
ENROLLMENTS = ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId",
               "role", "primary", "beginDate", "endDate"]
DEMOGRAPHICS = ["sourcedId", "status", "dateLastModified", "birthDate", "sex"]
ORGS = ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"]
SESSIONS = ["sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate",
            "parentSourcedId", "schoolYear"]
COURSES = ["sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode", "grades",
           "orgSourcedId", "subjects", "subjectCodes"]
FILES = ["orgs", "academicSessions", "courses", "classes", "users", "roles", "enrollments", "demographics"]


class S3Upload(io.RawIOBase):
    """A write-only stream into one S3 object (multipart, ``PART_BYTES`` a part)."""

    def __init__(self, key):
        super().__init__()
        self.key, self.parts, self.buffer, self.size = key, [], bytearray(), 0
        self.upload_id = client().create_multipart_upload(Bucket=config.bucket_name(), Key=key,
                                                          ContentType=ZIP_TYPE)["UploadId"]

    def writable(self):
        return True

    def write(self, data):
        self.buffer += data
        self.size += len(data)
        while len(self.buffer) >= PART_BYTES:
            self._send(bytes(self.buffer[:PART_BYTES]))
            del self.buffer[:PART_BYTES]
        return len(data)

    def _send(self, body):
        number = len(self.parts) + 1
        etag = client().upload_part(Bucket=config.bucket_name(), Key=self.key, UploadId=self.upload_id,
                                    PartNumber=number, Body=body)["ETag"]
        self.parts.append({"PartNumber": number, "ETag": etag})

    def finish(self):
        if self.buffer or not self.parts:
            self._send(bytes(self.buffer))
            self.buffer.clear()
        client().complete_multipart_upload(Bucket=config.bucket_name(), Key=self.key, UploadId=self.upload_id,
                                           MultipartUpload={"Parts": self.parts})

    def abort(self):
        client().abort_multipart_upload(Bucket=config.bucket_name(), Key=self.key, UploadId=self.upload_id)


def _member(book, name, header, rows):
    """One CSV file of the zip, its rows written as they come; how many."""
    count = 0
    with book.open(f"{name}.csv", "w", force_zip64=True) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([guard(row.get(col)) for col in header])  # (a spreadsheet runs no cell)
            count += 1
        text.flush()
        text.detach()
    return count


class Bundle:
    """The rows of each file, read page by page (nothing kept but the ids of
    a page being joined)."""

    def __init__(self, school, now):
        self.school, self.now = school, now
        self.base = m.Base("", school.school_id)
        today = datetime.fromtimestamp(now, ZoneInfo(school.timezone or "Europe/London")).date()
        self.session = m.academic_session(self.base, school, today)

    def orgs(self):
        org = m.org(self.base, self.school)
        yield {**org, "parentSourcedId": ""}

    def academicSessions(self):
        yield self.session

    def courses(self):
        yield {"sourcedId": m.course_id(self.school.school_id), "status": "active",
               "dateLastModified": iso(self.school.created_at), "schoolYearSourcedId": self.session["sourcedId"],
               "title": "Groups", "courseCode": "GROUPS", "orgSourcedId": self.school.school_id}

    def _groups(self):
        for g in Group.query(self.school.school_id, page_size=1000):
            if g.group_id != SYSTEM and not g.system and g.member_type == "user" \
                    and not (g.ends_at is not None and g.ends_at <= self.now):
                yield g

    def classes(self):
        for g in self._groups():
            yield {"sourcedId": m.class_sourced_id(g), "status": "active", "dateLastModified": iso(g.created_at or 0),
                   "title": g.name, "courseSourcedId": m.course_id(self.school.school_id),
                   "classType": "scheduled" if g.kind == "class" else "ext:group",
                   "schoolSourcedId": self.school.school_id, "termSourcedIds": self.session["sourcedId"]}

    def users(self):
        for p in Pupil.query(self.school.school_id, page_size=1000):
            u = m.student(self.base, p)
            yield {**u, "grades": ",".join(u.get("grades") or []), "primaryOrgSourcedId": self.school.school_id}
        for s in User.query(self.school.school_id, page_size=1000):
            yield {**m.staff(self.base, s), "primaryOrgSourcedId": self.school.school_id}

    def roles(self):
        for p in Pupil.query(self.school.school_id, page_size=1000):
            yield self._role(m.pupil_sourced_id(p), "student", m.grade(p.year_group))
        for s in User.query(self.school.school_id, page_size=1000):
            yield self._role(m.staff_sourced_id(s), m.staff_role(s.user_group))

    def _role(self, user, role, grade=None):
        return {"sourcedId": f"{user}-role", "status": "active", "dateLastModified": iso(self.now),
                "userSourcedId": user, "roleType": "primary", "role": role, "orgSourcedId": self.school.school_id,
                "userProfileSourcedId": ""}

    def enrollments(self):
        page = []  # (joined 100 at a time: a BatchGetItem's worth)
        for x in Membership.by_school.query(self.school.school_id, page_size=1000):
            if x.kind == "pupil" and x.away_since is None and (x.until is None or x.until > self.now):
                page.append(x)
            if len(page) == 100:
                yield from self._pupil_enrollments(page)
                page = []
        yield from self._pupil_enrollments(page)
        for g in self._groups():
            staff = rules.staff_roles(g, self.now)
            users = batch_get({uid: (User, {"school_id": g.school_id, "user_id": uid}) for uid in staff}) if staff else {}
            for uid, role in staff.items():
                if role in (rules.Role.OWNER, rules.Role.TEACHER) and users.get(uid) is not None:
                    yield self._enrollment(g.group_id, m.class_sourced_id(g), m.staff_sourced_id(users[uid]),
                                           uid, "teacher", primary=role == rules.Role.OWNER)

    def _pupil_enrollments(self, page):
        """A page of memberships, joined to their pupils and groups (one BatchGetItem each)."""
        if not page:
            return
        school_id = self.school.school_id
        wanted = {("p", x.member_id): (Pupil, {"school_id": school_id, "pupil_id": x.member_id}) for x in page}
        wanted.update({("g", x.group_id): (Group, {"school_id": school_id, "group_id": x.group_id}) for x in page})
        got = batch_get(wanted)
        for x in page:
            p, g = got[("p", x.member_id)], got[("g", x.group_id)]
            if p is not None and g is not None and not g.system and not (g.ends_at is not None and g.ends_at <= self.now):
                yield self._enrollment(g.group_id, m.class_sourced_id(g), m.pupil_sourced_id(p), x.member_id,
                                       "student", starts=x.starts, until=x.until)

    def _enrollment(self, group_id, class_id, user, member_id, role, primary=False, starts=None, until=None):
        return {"sourcedId": f"{class_id}-{member_id}", "status": "active", "dateLastModified": iso(self.now),
                "classSourcedId": class_id, "schoolSourcedId": self.school.school_id, "userSourcedId": user,
                "role": role, "primary": "true" if primary else "false",
                "beginDate": iso(starts)[:10] if starts else "", "endDate": iso(until)[:10] if until else ""}

    def demographics(self):
        for p in Pupil.query(self.school.school_id, page_size=1000):
            yield m.demographics(self.base, p)


HEADERS = {"orgs": ORGS, "academicSessions": SESSIONS, "courses": COURSES, "classes": CLASSES, "users": USERS,
           "roles": ROLES, "enrollments": ENROLLMENTS, "demographics": DEMOGRAPHICS}


def write(school, key, now=None):
    """Write the bundle to ``key``; {file: rows}."""
    now = time.time() if now is None else now
    bundle, counts = Bundle(school, now), {}
    upload = S3Upload(key)
    try:
        with zipfile.ZipFile(upload, "w", zipfile.ZIP_DEFLATED) as book:
            manifest = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
            manifest += [(f"file.{name}", "bulk") for name in FILES]
            _member(book, "manifest", ["propertyName", "value"],
                    ({"propertyName": k, "value": v} for k, v in manifest))
            for name in FILES:
                counts[name] = _member(book, name, HEADERS[name], getattr(bundle, name)())
        upload.finish()
    except BaseException:
        upload.abort()
        raise
    return counts


def export(caller, school, now=None):
    """The school's bundle in S3, a link to it, and the audit log's note of who took it."""
    filename = f"schoolroll-oneroster-{time.strftime('%Y-%m-%d')}.zip"
    key = export_key(caller.school_id, filename)
    counts = write(school, key, now)
    audit.write(audit.entry(caller, "export", "oneroster", filename, None, {"rows": counts}))
    return key, filename, counts
