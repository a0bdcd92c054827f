"""Generates the CSV corpus in this directory: awkward files as schools and
MIS exports really produce them. Deterministic: running it again writes the
same bytes. Run ``python tests/data/make_corpus.py`` after changing it.

The 50,000-row file is never stored: ``big_pupils_csv()`` builds it in
memory from a fixed seed.
"""
import csv
import io
import random
import sys
import zipfile
from pathlib import Path

from stdnum.gb.upn import calc_check_digit

HERE = Path(__file__).resolve().parent

PUPIL_HEADERS = ["First name", "Surname", "Date of birth", "Gender", "Year group",
                 "Registration group", "UPN"]
STAFF_HEADERS = ["First name", "Surname", "Email", "Job role", "User group"]

FIRST_NAMES = ["Zoë", "Siân", "Dáithí", "Seán", "Chloé", "Oliver", "Amelia", "Muhammad", "Isla",
               "Freya", "Aarav", "Priya", "Callum", "Niamh", "Rhys", "Ffion", "Kwame", "Ava",
               "Leo", "Jack", "Olivia", "Noah", "Aoife", "Eilidh", "Hamza", "Maja"]
SURNAMES = ["O'Brien", "Smith", "Jones", "Williams", "Taylor", "Davies", "Evans", "Khan", "Patel",
            "Nowak", "MacDonald", "Murphy", "Ó Súilleabháin", "Okafor", "Wright", "Hughes",
            "Begum", "Thompson", "Robinson", "Ali"]


def upn(establishment, serial, la=940, year=19):
    """A valid permanent UPN: check letter, LA, establishment, year, serial."""
    body = f"{la:03d}{establishment:04d}{year:02d}{serial:03d}"
    return calc_check_digit(body) + body


def wrong_check_letter(value):
    """The same UPN with a check letter that does not fit."""
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    return letters[(letters.index(value[0]) + 1) % len(letters)] + value[1:]


def to_csv(rows, delimiter=",", lineterminator="\n", quoting=csv.QUOTE_MINIMAL):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=lineterminator, quoting=quoting).writerows(rows)
    return out.getvalue()


# -- pupils ----------------------------------------------------------------

def pupils_template():
    """Our template's headers, UTF-8 without BOM, LF, ISO and UK dates."""
    rows = [PUPIL_HEADERS,
            ["Zoë", "O'Brien", "2015-01-31", "F", "Year 5", "5B", upn(2001, 1)],
            ["Siân", "Davies", "14/03/2016", "Female", "Year 4", "4H", upn(2001, 2)],
            ["Dáithí", "Ó Súilleabháin", "2014-09-01", "M", "6", "6W", upn(2001, 3)],
            ["Seán", "Murphy", "02/12/2017", "Male", "Y3", "3R", upn(2001, 4)],
            ["Chloé", "Nowak", "2019-08-31", "F", "R", "RB", ""],
            ["Muhammad", "Khan", "21/06/2013", "M", "Year 7", "7KN", upn(2001, 5)]]
    return to_csv(rows).encode("utf-8")


def pupils_bom():
    """UTF-8 with a BOM and CRLF, as Excel's "CSV UTF-8" writes."""
    rows = [PUPIL_HEADERS,
            ["Zoë", "Smith", "01/02/2015", "F", "Year 5", "5B", upn(2002, 1)],
            ["Seán", "O'Brien", "15/07/2016", "M", "Year 4", "4C", upn(2002, 2)],
            ["Chloé", "Evans", "30/11/2014", "F", "Year 6", "6A", upn(2002, 3)]]
    return b"\xef\xbb\xbf" + to_csv(rows, lineterminator="\r\n").encode("utf-8")


def pupils_cp1252():
    """Windows-1252 (Excel's plain "CSV" on UK Windows), SIMS-like headers,
    and O’Brien with the curly apostrophe Word and Excel put in."""
    rows = [["Legal Surname", "Legal Forename", "DOB", "Sex", "Reg Group", "NC Year", "UPN"],
            ["Williams", "Zoë", "05/05/2015", "F", "5B", "5", upn(2003, 1)],
            ["Jones", "Siân", "12/10/2016", "F", "4H", "4", upn(2003, 2)],
            ["O’Brien", "Dáithí", "23/01/2014", "M", "6W", "6", upn(2003, 3)],
            ["Taylor", "Oliver", "09/09/2015", "M", "5B", "5", upn(2003, 4)]]
    return to_csv(rows, lineterminator="\r\n").encode("cp1252")


def pupils_semicolon():
    """';' delimiter as Excel writes in European locales; a quoted cell holds
    a ';', another an unquoted ',', and one date uses dots."""
    rows = [PUPIL_HEADERS + ["Notes"],
            ["Zoë", "Hughes", "03/04/2015", "F", "Year 5", "5B", upn(2004, 1), "Nut allergy; carries an EpiPen"],
            ["Jack", "Wright", "17.08.2016", "M", "Year 4", "4C", upn(2004, 2), "Walks home, Tuesdays"],
            ["Ava", "Begum", "2014-02-28", "F", "Year 6", "6A", upn(2004, 3), ""],
            ["Rhys", "Evans", "11/11/2015", "M", "Year 5", "5B", upn(2004, 4), "Glasses"]]
    return to_csv(rows, delimiter=";", lineterminator="\r\n").encode("utf-8")


def pupils_quoted_newlines():
    """Quoted cells with line breaks (Alt+Enter in Excel: LF inside quotes,
    CRLF between rows). Records start on lines 2, 4, 5, 8, 9 and 11; the
    record on line 9 has a line break in its first name."""
    rows = [PUPIL_HEADERS + ["Notes"],
            ["Oliver", "Smith", "04/06/2015", "M", "Year 5", "5B", upn(2005, 1),
             "Collected by grandparent\non Fridays"],
            ["Amelia", "Jones", "19/02/2016", "F", "Year 4", "4H", upn(2005, 2), "No notes"],
            ["Isla", "Taylor", "08/08/2014", "F", "Year 6", "6W", upn(2005, 3), "Line one\nline two\nline three"],
            ["Freya", "Evans", "25/12/2015", "F", "Year 5", "5B", upn(2005, 4), ""],
            ["Seán\nPatrick", "Murphy", "01/03/2016", "M", "Year 4", "4H", upn(2005, 5), ""],
            ["Leo", "Khan", "30/09/2014", "M", "Year 6", "6W", upn(2005, 6), "Last row"]]
    return to_csv(rows, lineterminator="\r\n").encode("utf-8")


def pupils_trailing():
    """Excel's leftovers: three empty columns on every row (header too), a
    short row, then blank lines, ',,,,,' rows and a row of spaces."""
    pad = ["", "", ""]
    rows = [PUPIL_HEADERS + pad,
            ["Niamh", "Robinson", "07/07/2015", "F", "Year 5", "5B", upn(2006, 1)] + pad,
            ["Callum", "MacDonald", "14/01/2016", "M", "Year 4", "4C", upn(2006, 2)] + pad,
            ["Ffion", "Hughes", "29/02/2016", "F", "Year 4", "4C"],
            ["Kwame", "Okafor", "03/10/2014", "M", "Year 6", "6A", upn(2006, 3)] + pad]
    tail = "\r\n\r\n,,,,,,,,,,\r\n,,,,,\r\n  , ,\r\n\r\n"
    return (to_csv(rows, lineterminator="\r\n") + tail).encode("utf-8")


def pupils_ddmmyy():
    """Two-digit years, with and without leading zeros: d/m/yy and dd/mm/yy."""
    rows = [PUPIL_HEADERS,
            ["Olivia", "Thompson", "1/9/15", "F", "Year 5", "5B", upn(2007, 1)],
            ["Noah", "Ali", "31/01/16", "M", "Year 4", "4H", upn(2007, 2)],
            ["Aoife", "Murphy", "05/11/14", "F", "Year 6", "6W", upn(2007, 3)],
            ["Hamza", "Begum", "7/3/17", "M", "Year 3", "3R", upn(2007, 4)]]
    return to_csv(rows).encode("utf-8")


def pupils_formulas():
    """Cells a spreadsheet would run as formulas: kept as typed text."""
    rows = [PUPIL_HEADERS,
            ["=1+2", "Smith", "01/05/2015", "F", "Year 5", "5B", upn(2008, 1)],
            ["Eilidh", "@SUM(A1)", "02/06/2015", "F", "Year 5", "+44 7700", upn(2008, 2)],
            ["Maja", "Nowak", "03/07/2016", "F", "Year 4", "-5", upn(2008, 3)],
            ["Aarav", "Patel", "04/08/2014", "M", "Year 6", '=HYPERLINK("http://example.org","6A")',
             upn(2008, 4)]]
    return to_csv(rows).encode("utf-8")


def pupils_title_line():
    """An MIS report: a title line, a blank line, then the header on line 3."""
    rows = [PUPIL_HEADERS,
            ["Priya", "Patel", "12/12/2015", "F", "Year 5", "5B", upn(2009, 1)],
            ["Rhys", "Williams", "06/04/2016", "M", "Year 4", "4H", upn(2009, 2)]]
    return ("Pupil list exported 01/09/2025\r\n\r\n" + to_csv(rows, lineterminator="\r\n")).encode("utf-8")


def pupils_utf16():
    """Excel's "Unicode Text": UTF-16 LE with a BOM, tab-delimited, CRLF."""
    rows = [PUPIL_HEADERS,
            ["Zoë", "O'Brien", "01/02/2015", "F", "Year 5", "5B", upn(2010, 1)],
            ["Siân", "Jones", "02/03/2016", "F", "Year 4", "4H", upn(2010, 2)],
            ["Dáithí", "Ó Súilleabháin", "03/04/2014", "M", "Year 6", "6W", upn(2010, 3)]]
    return to_csv(rows, delimiter="\t", lineterminator="\r\n").encode("utf-16")


def pupils_errors():
    """Lines 2, 3 and 9 are valid. Line 4: 31/02/2015. Line 5: wrong UPN
    check letter. Line 6: year group 'Year 15'. Line 7: repeats line 2's UPN
    (line 7 is the duplicate). Line 8: no surname."""
    rows = [PUPIL_HEADERS,
            ["Zoë", "Smith", "01/02/2015", "F", "Year 5", "5B", upn(2011, 1)],
            ["Seán", "O'Brien", "14/05/2016", "M", "Year 4", "4H", upn(2011, 2)],
            ["Chloé", "Jones", "31/02/2015", "F", "Year 5", "5B", upn(2011, 3)],
            ["Oliver", "Taylor", "10/10/2015", "M", "Year 5", "5B", wrong_check_letter(upn(2011, 4))],
            ["Isla", "Evans", "11/11/2014", "F", "Year 15", "6W", upn(2011, 5)],
            ["Amelia", "Wright", "12/12/2015", "F", "Year 5", "5B", upn(2011, 1)],
            ["Jack", "", "13/01/2016", "M", "Year 4", "4H", upn(2011, 6)],
            ["Siân", "Davies", "14/02/2014", "F", "Year 6", "6W", upn(2011, 7)]]
    return to_csv(rows).encode("utf-8")


def pupils_oneroster_users():
    """OneRoster 1.1 users.csv: no date of birth, so for mapping only."""
    header = ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
              "username", "userIds", "givenName", "familyName", "middleName", "identifier",
              "email", "sms", "phone", "agentSourcedIds", "grades", "password"]
    rows = [header,
            ["u-0001", "", "", "true", "org-1", "student", "zsmith", "", "Zoë", "Smith", "", "",
             "zsmith@example.sch.uk", "", "", "", "05", ""],
            ["u-0002", "", "", "true", "org-1", "student", "sobrien", "", "Seán", "O'Brien", "Patrick",
             "", "sobrien@example.sch.uk", "", "", "", "04", ""]]
    return to_csv(rows).encode("utf-8")


def pupils_sds_student():
    """Microsoft School Data Sync v1 Student.csv: mapping only."""
    rows = [["SIS ID", "School SIS ID", "Username", "First Name", "Last Name", "Grade",
             "Student Number", "State ID"],
            ["S1001", "SCH1", "zsmith@example.sch.uk", "Zoë", "Smith", "5", "1001", "X123"],
            ["S1002", "SCH1", "cnowak@example.sch.uk", "Chloé", "Nowak", "4", "1002", "X124"]]
    return to_csv(rows).encode("utf-8")


def pupils_sds_month_first():
    """School Data Sync v1 Student.csv as Microsoft's UK samples write it:
    birth dates month first (12/19/2013, 4/2/2014). Rows 2-6 read only month
    first; row 7 (4/2/2014) either way; row 8 is ISO."""
    rows = [["SIS ID", "School SIS ID", "Username", "First Name", "Last Name", "Grade", "Birthdate", "Gender"],
            ["S2001", "SCH1", "amensah@example.sch.uk", "Arjun", "Mensah", "7", "12/19/2013", "M"],
            ["S2002", "SCH1", "bokafor@example.sch.uk", "Bisi", "Okafor", "7", "1/31/2014", "F"],
            ["S2003", "SCH1", "cwong@example.sch.uk", "Chen", "Wong", "8", "10/13/2012", "M"],
            ["S2004", "SCH1", "dhughes@example.sch.uk", "Dafydd", "Hughes", "8", "3/25/2013", "M"],
            ["S2005", "SCH1", "eryan@example.sch.uk", "Ella", "Ryan", "9", "11/30/2011", "F"],
            ["S2006", "SCH1", "fali@example.sch.uk", "Farah", "Ali", "7", "4/2/2014", "F"],
            ["S2007", "SCH1", "gnovak@example.sch.uk", "Greta", "Novak", "9", "2011-06-15", "F"]]
    return to_csv(rows).encode("utf-8")


# -- staff -----------------------------------------------------------------

def staff_template():
    rows = [STAFF_HEADERS,
            ["Tess", "Teacher", "tess.teacher@example.org", "Class teacher", "Teachers"],
            ["Siân", "Hughes", "s.hughes@example.org", "Head of Year 6", "Teachers"],
            ["Kwame", "Okafor", "k.okafor@example.org", "Business manager", "Admin Team"]]
    return to_csv(rows).encode("utf-8")


def staff_mis():
    """MIS-style, every cell quoted; line 5 repeats line 2's email in
    different case."""
    rows = [["Title", "Forename", "Surname", "Email Address", "Job Title", "User Group"],
            ["Mrs", "Tess", "Teacher", "Tess.Teacher@example.org", "Class teacher", "Teachers"],
            ["Mr", "Seán", "O'Brien", "s.obrien@example.org", "Teaching assistant", "Teachers"],
            ["Dr", "Priya", "Patel", "p.patel@example.org", "SENCo", "Admin Team"],
            ["Ms", "Theresa", "Teacher", "tess.teacher@EXAMPLE.org", "Supply teacher", "Teachers"]]
    return to_csv(rows, lineterminator="\r\n", quoting=csv.QUOTE_ALL).encode("utf-8")


# -- not CSVs --------------------------------------------------------------

def not_csv_header_only():
    return ",".join(PUPIL_HEADERS).encode("utf-8") + b"\r\n\r\n,,,,,,\r\n"


def not_csv_xlsx():
    """A small zip, as an .xlsx is, with fixed timestamps so it is stable."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in [("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<workbook/>")]:
            z.writestr(zipfile.ZipInfo(name, date_time=(2025, 9, 1, 0, 0, 0)), text)
    return out.getvalue()


def not_csv_binary():
    """Seeded random bytes with NULs in them."""
    data = bytearray(random.Random(1234).randbytes(2048))
    data[10:14] = b"\x00\x00\x00\x00"
    data[:2] = b"\x89B"
    return bytes(data)


def not_csv_html():
    return (b"<!DOCTYPE html>\n<html><head><title>Pupils</title></head>\n"
            b"<body><table><tr><td>Zo\xc3\xab</td><td>Smith</td></tr></table></body></html>\n")


def corpus():
    """{file name: bytes} for every stored file."""
    files = {
        "pupils_template.csv": pupils_template(),
        "pupils_bom.csv": pupils_bom(),
        "pupils_cp1252.csv": pupils_cp1252(),
        "pupils_semicolon.csv": pupils_semicolon(),
        "pupils_quoted_newlines.csv": pupils_quoted_newlines(),
        "pupils_trailing.csv": pupils_trailing(),
        "pupils_ddmmyy.csv": pupils_ddmmyy(),
        "pupils_formulas.csv": pupils_formulas(),
        "pupils_title_line.csv": pupils_title_line(),
        "pupils_utf16.csv": pupils_utf16(),
        "pupils_errors.csv": pupils_errors(),
        "pupils_oneroster_users.csv": pupils_oneroster_users(),
        "pupils_sds_student.csv": pupils_sds_student(),
        "pupils_sds_month_first.csv": pupils_sds_month_first(),
        "staff_template.csv": staff_template(),
        "staff_mis.csv": staff_mis(),
        "not_csv_empty.csv": b"",
        "not_csv_header_only.csv": not_csv_header_only(),
        "not_csv_xlsx.csv": not_csv_xlsx(),
        "not_csv_binary.csv": not_csv_binary(),
        "not_csv_html.csv": not_csv_html(),
    }
    return files


# -- the big file, in memory only ------------------------------------------

def big_pupils_csv(rows=50000):
    """A large valid pupil file (our template's headers, UTF-8, CRLF) with
    unique valid UPNs, built from a fixed seed; never written to disk."""
    rng = random.Random(20250901)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PUPIL_HEADERS)
    for i in range(rows):
        year = rng.randint(1, 11)
        born_year = 2019 - year  # ages that fit the year group around 2025
        writer.writerow([
            rng.choice(FIRST_NAMES), rng.choice(SURNAMES),
            f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{born_year}",
            rng.choice("MF"), f"Year {year}", f"{year}{rng.choice('ABCDEFGH')}",
            upn(1000 + i // 1000, i % 1000),
        ])
    return out.getvalue().encode("utf-8")


def write(directory=HERE):
    """(Re)write every corpus file into directory."""
    for name, data in corpus().items():
        (Path(directory) / name).write_bytes(data)


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
