"""Roster bundles: a zip of OneRoster 1.0 / 1.1 / 1.2, School Data Sync v2 /
v2.1 or Clever CSV files, read as one roster (pupils and staff, each in our
own fields, and the classes they are in).

``open_bundle`` refuses an unsafe zip before any member is read; ``inspect``
says what the bundle is (its flavour, files and schools); ``people`` and
``classes`` read it for one school through its flavour's reader
(``oneroster`` or ``clever``), streaming. Everything the files mean is
decided there; nothing here touches AWS."""
import zipfile

from ..core import config
from . import clever, oneroster, zips
from .bundle_files import BundleInfo, Flavour, GradesAs, People, Unreadable, year_group

__all__ = ["Flavour", "GradesAs", "People", "Unreadable", "year_group", "open_bundle", "inspect", "people", "classes"]

#: files in a bundle (a OneRoster set has at most 13)
MAX_MEMBERS = 50


def open_bundle(fileobj):
    """The bundle as a ZipFile, or Unreadable before anything is inflated."""
    cap = config.UPLOAD_MAX_BYTES
    try:
        why = zips.unsafe(zips.members(fileobj), MAX_MEMBERS, cap, 10 * cap)
    except zips.Damaged as exc:
        raise Unreadable(f"This zip is damaged ({exc}). Export the bundle again.") from None
    if why:
        raise Unreadable(f"We will not open this zip: {why}. A roster bundle is a zip of its CSV files.")
    fileobj.seek(0)
    return zipfile.ZipFile(fileobj)


def inspect(book):
    """What the bundle is: its flavour (by manifest.csv, else by its files
    and their headers), its files, and its schools with their users."""
    files = _csv_members(book)
    if oneroster.USERS in files:
        info = BundleInfo(oneroster.flavour(book, files), files)
    elif clever.is_clever(book, files):
        info = BundleInfo(Flavour.CLEVER, files)
    else:
        raise Unreadable("This zip holds no users.csv (OneRoster, School Data Sync) nor students.csv or "
                         "teachers.csv (Clever), so it is not a roster bundle. Upload the whole export as one "
                         "zip, or a CSV or .xlsx on its own.")
    info.orgs = _reader(info).orgs(book, info)
    return info


def people(book, info, org, grades_as=GradesAs.YEAR, on_person=None):
    """Every person of ``org`` in the bundle as a pupil or staff record in our
    fields (``on_person(kind, values)`` for each when given, nothing held;
    else gathered in People), and who was left out and why."""
    return _reader(info).people(book, info, org, grades_as, on_person)


def classes(book, info, org):
    """The classes of ``org`` (MisClass), or None when the bundle has none
    (its class groups are then left alone)."""
    return _reader(info).classes(book, info, org)


def _reader(info):
    return clever if info.flavour == Flavour.CLEVER else oneroster


def _csv_members(book):
    """{file name, lower case: the member it is} of the zip's CSV files."""
    files = {}
    for member in book.infolist():
        if member.is_dir():
            continue
        name = member.filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
        if name.endswith(".csv"):
            if name in files:
                raise Unreadable(f"This zip holds two files called {name}; a bundle has one of each.")
            files[name] = member.filename
    return files
