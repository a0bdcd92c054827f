"""What a file's columns hold, from the one pass that counts its rows: a few
samples a column, and for a column written as dates, which way round its
values allow them to be read (see roster/dates.py). Pure: no AWS."""
import json

from ..roster import validation
from ..roster.dates import DateOrderTally, looks_like_date

SAMPLES_PER_COLUMN = 3
#: JSON bytes of samples kept across all columns.
SAMPLES_JSON = 100_000
#: rows read for samples and to tell which columns hold dates; after them
#: only those columns' cells are looked at
FIRST_ROWS = 50
#: the fields a column's values can suggest when its header says nothing, in
#: the order they are tried, each with the check every value must pass
SHAPES = (("upn", validation.clean_upn), ("email", validation.clean_email),
          ("date_of_birth", validation.clean_date_of_birth), ("gender", validation.clean_gender),
          ("year_group", validation.clean_year_group))
#: a column suggests a field by its values only from this many filled cells
MIN_SHAPED = 2


class ColumnProfile:
    def __init__(self, header):
        self.header = header
        self.samples = [[] for _ in header]
        self.tallies = [DateOrderTally() for _ in header]
        self.dated = [True] * len(header)  # every non-blank cell so far written as a date
        self.shapes = [{f for f, _check in SHAPES} for _ in header]  # fields every filled cell so far fits
        self.filled = [0] * len(header)
        self.rows = 0
        self.budget = SAMPLES_JSON
        self.date_columns = None  # [(position, tally)] once the first rows are read

    def add(self, cells):
        """One record's cells (None for a record that could not be read)."""
        self.rows += 1
        if self.date_columns is not None:
            if cells:
                for i, tally in self.date_columns:
                    if i < len(cells):
                        tally.add(cells[i].strip())
            return
        if cells:
            self._first(cells)
        if self.rows == FIRST_ROWS:
            self._settle()

    def _first(self, cells):
        for i, cell in enumerate(cells[:len(self.header)]):
            text = cell.strip()
            if not text:
                continue
            if self.dated[i]:
                self.dated[i] = looks_like_date(text)
                self.tallies[i].add(text)
            self.filled[i] += 1
            if self.shapes[i]:
                self.shapes[i] = {f for f, check in SHAPES if f in self.shapes[i] and check(text)[1] is None}
            if len(self.samples[i]) < SAMPLES_PER_COLUMN and self.budget > 0:
                self.samples[i].append(text[:60])
                self.budget -= len(json.dumps(self.samples[i][-1])) + 2

    def _settle(self):
        self.date_columns = [(i, self.tallies[i]) for i in range(len(self.header))
                             if self.dated[i] and self.samples[i]]

    def fits(self):
        """{column: [field]}: the fields every filled cell of a column's first
        rows fits (at least MIN_SHAPED of them), in SHAPES order."""
        return {name: [f for f, _c in SHAPES if f in self.shapes[i]] for i, name in enumerate(self.header)
                if self.shapes[i] and self.filled[i] >= MIN_SHAPED}

    def columns(self):
        """[{"name", "samples"}, with "date_order" (and "date_example") for a date column]."""
        if self.date_columns is None:
            self._settle()
        dates = {i: tally for i, tally in self.date_columns}
        return [{"name": name, "samples": self.samples[i], **(_dated(dates[i]) if i in dates else {})}
                for i, name in enumerate(self.header)]


def _dated(tally):
    """A date column's order, and a value that shows it."""
    return {"date_order": str(tally.order), **({"date_example": tally.example} if tally.example else {})}
