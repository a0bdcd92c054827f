"""A multimap kept on disk, for joins as big as a school's roll.

A roster bundle's files are joined by id (users to their roles and
demographics, classes to their enrollments, enrolled pupils to their
records) and none is sorted by it; held in dicts, a bundle of 500,000 users
takes hundreds of megabytes. ``Spill`` keeps the pairs in an SQLite file in
the worker's temporary folder instead, behind a bounded page cache, so
reading a bundle of any size takes the memory of a small one. SQLite is in
Python's standard library and in Lambda's runtime; the file is deleted on
close."""
import os
import sqlite3
import tempfile

#: pairs written to the file in one statement
BATCH = 5_000
#: the page cache, in KiB (SQLite's own memory, outside Python's heap)
CACHE_KIB = 2_048


class Spill:
    """{key: [values, in the order added]} on disk. ``add`` then ``get``:
    the first ``get`` indexes what was added (add nothing after it)."""

    def __init__(self, width=1):
        self._dir = tempfile.TemporaryDirectory(prefix="spill-")
        self._db = sqlite3.connect(os.path.join(self._dir.name, "spill.db"), isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=FILE", f"cache_size=-{CACHE_KIB}"):
            self._db.execute(f"PRAGMA {pragma}")
        self._columns = ", ".join(f"v{i}" for i in range(width))
        self._db.execute(f"CREATE TABLE pairs (k TEXT NOT NULL, {self._columns})")
        self._insert = f"INSERT INTO pairs VALUES (?, {', '.join('?' * width)})"
        self._width, self._pending, self._indexed = width, [], False

    def add(self, key, *values):
        if self._indexed:
            raise RuntimeError("a Spill is read only once its first get() has indexed it")
        if len(values) != self._width:
            raise ValueError(f"expected {self._width} values, got {len(values)}")
        self._pending.append((key, *values))
        if len(self._pending) >= BATCH:
            self._flush()

    def get(self, key):
        """The values added under ``key`` (tuples, in the order added)."""
        if not self._indexed:
            self._flush()
            self._db.execute("CREATE INDEX pairs_by_key ON pairs (k)")
            self._indexed = True
        return self._db.execute(f"SELECT {self._columns} FROM pairs WHERE k = ? ORDER BY rowid", (key,)).fetchall()

    def _flush(self):
        if self._pending:
            self._db.execute("BEGIN")
            self._db.executemany(self._insert, self._pending)
            self._db.execute("COMMIT")
            self._pending = []

    def close(self):
        self._db.close()
        self._dir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
