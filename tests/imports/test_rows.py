"""RowChecker: a row's verdict must not depend on which path checked it.

check_all() takes the usual row of a big file through remembered values (and,
in a school with no pupils yet, inline); a row with something new goes field
by field. Checking every row with a fresh checker (nothing remembered) is the
reference the fast paths must agree with."""
import io
import itertools

import pytest

from chalicelib.imports import columns, lines, sniff
from chalicelib.imports.kinds import KINDS
from chalicelib.imports.matching import ExistingIndex
from chalicelib.imports.rows import RowChecker
from tests.data import make_corpus


def records_of(data):
    dialect = sniff.sniff(data, complete=True)
    header, records = sniff.read_header_and_records(lines.open_text(io.BytesIO(data), dialect.encoding), dialect)
    return header, list(records)


def counter_ids():
    return map("id{}".format, itertools.count()).__next__


def verdict(result):
    return (result.line, result.ok, result.action, dict(result.cleaned),
            sorted((e["field"], e["code"]) for e in result.error_dicts()))


def pupil_rows():
    """Good rows repeating names, dates and groups, with bad cells, short rows
    and unreadable characters among them, then the same rows again."""
    good = make_corpus.big_pupils_csv(60).decode("utf-8").splitlines()
    header, body = good[0], good[1:]
    bad = ["Ava,Evans,31/02/2015,M,Year 1,1F,",  # no such date
           "Ava,Evans,05/09/2018,X,Year 1,1F,",  # gender
           "Ava,,05/09/2018,M,Year 1,1F,",  # no surname
           "Ava,Evans,05/09/2018,M,Year 1,1F," + make_corpus.wrong_check_letter(make_corpus.upn(1234, 7)),
           "Ava,Evans,05/09/2018,M,Year 1",  # short: no group, no UPN
           "Av\x07a,Evans,05/09/2018,M,Year 1,1F,",
           " Ava ,Evans,05/09/2018,m,year 1,1F,",  # cleaned to the same values as the first
           "Ava,Evans,05/09/2018,M,Year 1,1F," + body[0].rsplit(",", 1)[1]]  # repeats row 2's UPN
    lines = [header] + body[:30] + bad + body[30:] + bad
    return ("\n".join(lines) + "\n").encode("utf-8")


def check_each_afresh(kind, header, records, existing):
    mapping = columns.suggest(kind, header)
    ids = counter_ids()
    return [RowChecker(KINDS[kind].rules, mapping, header, existing(), ids).check(line, cells) for line, cells in records]


@pytest.mark.parametrize("school", ["empty", "with pupils"])
def test_one_pass_agrees_with_checking_each_row_afresh(school):
    header, records = records_of(pupil_rows())

    def existing():
        index = ExistingIndex(KINDS["pupils"].rules)
        if school == "with pupils":
            index.add("p1", 3, {"first_name": "Zed", "surname": "Known", "date_of_birth": "2015-01-01",
                                "upn": None})
        return index

    checker = RowChecker(KINDS["pupils"].rules, columns.suggest("pupils", header), header, existing(), counter_ids())
    in_one_pass = [verdict(r) for r in checker.check_all(records)]
    afresh = [verdict(r) for r in check_each_afresh("pupils", header, records, existing)]
    assert in_one_pass == afresh
    assert sum(1 for v in in_one_pass if not v[1]) == 10  # five bad rows, twice
    assert sum(1 for v in in_one_pass if v[2] == "create") >= 60


def test_the_first_pass_remembers_only_good_values_and_new_pupils_get_their_ids_in_order():
    header, records = records_of(pupil_rows())
    checker = RowChecker(KINDS["pupils"].rules, columns.suggest("pupils", header), header, ExistingIndex(KINDS["pupils"].rules),
                         counter_ids())
    results = list(checker.check_all(records))
    created = [r.target_id for r in results if r.action == "create"]
    assert created == [f"id{n}" for n in range(len(created))]
    remembered = {f: cache for f, cache, _clean in checker.plan}
    assert "31/02/2015" not in remembered["date_of_birth"] and "05/09/2018" in remembered["date_of_birth"]
    assert "X" not in remembered["gender"] and "" not in remembered["surname"]


def test_a_staff_file_agrees_with_checking_each_row_afresh():
    data = make_corpus.staff_mis()
    header, records = records_of(data + data.split(b"\n", 1)[1])  # every row twice: repeated emails
    checker = RowChecker(KINDS["staff"].rules, columns.suggest("staff", header), header, ExistingIndex(KINDS["staff"].rules), counter_ids())
    in_one_pass = [verdict(r) for r in checker.check_all(records)]
    afresh = [verdict(r) for r in check_each_afresh("staff", header, records, lambda: ExistingIndex(KINDS["staff"].rules))]
    # afresh cannot see an earlier row's email: only the repeats differ, as duplicates
    differ = [(a, b) for a, b in zip(in_one_pass, afresh) if a != b]
    assert differ and all(a[4] == [("email", "duplicate_email")] and b[1] for a, b in differ)
    assert len(differ) == len(records) // 2 + 1  # the file's own repeat (its line 5), then every row


def test_a_staff_rows_user_group_in_other_case_or_spacing_is_no_change():
    """'teachers ' in a file is the Teachers held: the review shows no change
    (the write files it under Teachers too), and another group is one."""
    rules = KINDS["staff"].rules
    existing = ExistingIndex(rules)
    existing.add("u1", 1, {"first_name": "Tess", "surname": "Teacher", "email": "tess@example.org",
                           "job_role": "Teacher", "user_group": "Teachers"})
    header = ["First name", "Surname", "Email", "Job role", "User group"]
    checker = RowChecker(rules, columns.suggest("staff", header), header, existing, counter_ids())
    same = checker.check(2, ["Tess", "Teacher", "tess@example.org", "Teacher", " TEACHERS "])
    assert (same.action, same.changes) == ("unchanged", None), same.changes
    checker = RowChecker(rules, columns.suggest("staff", header), header, existing, counter_ids())
    moved = checker.check(2, ["Tess", "Teacher", "tess@example.org", "Teacher", "TAs"])
    assert (moved.action, moved.changes) == ("update", {"user_group": "TAs"})
