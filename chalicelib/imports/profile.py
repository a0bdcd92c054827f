"""What a file's columns hold, from the one pass that counts its rows: a few
samples a column, and for a column written as dates, which way round its
values allow them to be read (see roster/dates.py). Pure: no AWS."""
import json

from ..roster.dates import DateOrderTally, looks_like_date

SAMPLES_PER_COLUMN = 3
#: JSON bytes of samples kept across all columns.
SAMPLES_JSON = 100_000
#: rows read for samples and to tell which columns hold dates; after them
#: only those columns' cells are looked at
FIRST_ROWS = 50


class ColumnProfile:
    def __init__(self, header):
        self.header = header
        self.samples = [[] for _ in header]
        self.tallies = [DateOrderTally() for _ in header]
        self.dated = [True] * len(header)  # every non-blank cell so far written as a date
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
            if len(self.samples[i]) < SAMPLES_PER_COLUMN and self.budget > 0:
                self.samples[i].append(text[:60])
                self.budget -= len(json.dumps(self.samples[i][-1])) + 2

    def _settle(self):
        self.date_columns = [(i, self.tallies[i]) for i in range(len(self.header))
                             if self.dated[i] and self.samples[i]]

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
