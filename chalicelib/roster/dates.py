"""Which way round a column's dates are written: pure, no I/O.

UK files write dates day first (31/01/2015); US-made files, Microsoft School
Data Sync's samples among them, month first (01/31/2015). A value such as
12/19/1997 can be read only one way; 04/02/2000 either. A column is
``month_first`` only when some value can be read no other way and none says
day first; it is never read so without a person confirming it.
"""
import re
from enum import StrEnum

_ISO = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
_SLASHED = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2(?:[0-9]{4}|[0-9]{2})")


class DateOrder(StrEnum):
    """What a date column's values allow (``ambiguous``: read day first)."""
    DAY_FIRST = "day_first"
    MONTH_FIRST = "month_first"
    ISO = "iso"
    AMBIGUOUS = "ambiguous"


#: the orders a person may choose at the mapping step
CHOSEN = (DateOrder.DAY_FIRST, DateOrder.MONTH_FIRST, DateOrder.ISO)


def looks_like_date(text):
    """Whether a cell is written as a date we could read (either order, or ISO)."""
    return bool(_ISO.fullmatch(text) or _SLASHED.fullmatch(text))


class DateOrderTally:
    """Counts, over a column's cells, those only one order can read."""

    def __init__(self):
        self.day_first = self.month_first = self.iso = self.other = 0
        self.examples = {}  # order: the first value only it can read


    def add(self, text):
        slashed = _SLASHED.fullmatch(text)
        if slashed:
            first, second = int(slashed.group(1)), int(slashed.group(3))
            if first > 12 >= second:
                self.day_first += 1
                self.examples.setdefault(DateOrder.DAY_FIRST, text[:20])
            elif second > 12 >= first:
                self.month_first += 1
                self.examples.setdefault(DateOrder.MONTH_FIRST, text[:20])
            else:
                self.other += 1
        elif _ISO.fullmatch(text):
            self.iso += 1
        elif text:
            self.other += 1

    @property
    def order(self):
        if self.month_first and not self.day_first:
            return DateOrder.MONTH_FIRST
        if self.day_first and not self.month_first:
            return DateOrder.DAY_FIRST
        if self.iso and not (self.day_first or self.month_first or self.other):
            return DateOrder.ISO
        return DateOrder.AMBIGUOUS

    @property
    def example(self):
        """A value that shows the order (None when none does)."""
        return self.examples.get(self.order)
