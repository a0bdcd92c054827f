"""Which way round a column's dates are: only a value one order alone can
read decides; a column is never month first by a guess."""
from datetime import date

import pytest

from chalicelib.roster.dates import DateOrder, DateOrderTally, looks_like_date
from chalicelib.roster.validation import clean_date_of_birth, parse_date


def order_of(*values):
    tally = DateOrderTally()
    for v in values:
        tally.add(v)
    return tally.order


@pytest.mark.parametrize("values, expected", [
    (("12/19/1997", "4/2/2000"), DateOrder.MONTH_FIRST),
    (("19/12/1997", "4/2/2000"), DateOrder.DAY_FIRST),
    (("4/2/2000", "01/01/2001"), DateOrder.AMBIGUOUS),
    (("12/19/1997", "19/12/1997"), DateOrder.AMBIGUOUS),  # both: neither is safe
    (("2015-01-31", "2014-12-01"), DateOrder.ISO),
    (("2015-01-31", "31/01/2015"), DateOrder.DAY_FIRST),
    (("1.31.2014",), DateOrder.MONTH_FIRST),
    ((), DateOrder.AMBIGUOUS),
])
def test_a_column_is_the_order_only_its_values_allow(values, expected):
    assert order_of(*values) == expected


def test_what_looks_like_a_date():
    assert looks_like_date("12/19/1997") and looks_like_date("2015-01-31") and looks_like_date("3.4.15")
    assert not looks_like_date("Year 5") and not looks_like_date("X940123425001") and not looks_like_date("5")


def test_month_first_is_read_only_when_asked():
    assert parse_date("12/19/2013", "date_of_birth")[1].code == "invalid_date"
    assert parse_date("12/19/2013", "date_of_birth", order=DateOrder.MONTH_FIRST) == (date(2013, 12, 19), None)
    assert parse_date("4/2/2014", "date_of_birth", order=DateOrder.MONTH_FIRST)[0] == date(2014, 4, 2)
    assert parse_date("4/2/2014", "date_of_birth")[0] == date(2014, 2, 4)
    assert parse_date("2014-06-15", "date_of_birth", order=DateOrder.MONTH_FIRST)[0] == date(2014, 6, 15)
    wrong = parse_date("31/01/2014", "date_of_birth", order=DateOrder.MONTH_FIRST)[1]
    assert wrong.code == "invalid_date" and "no month 31" in wrong.message and "month first" in wrong.message
    assert clean_date_of_birth("2/29/16", today=date(2026, 12, 1), order=DateOrder.MONTH_FIRST) == ("2016-02-29", None)
