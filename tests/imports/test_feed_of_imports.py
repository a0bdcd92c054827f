"""What an import puts in the change feed: a change a pupil, never a chunk."""
import time

from chalicelib.integrations import feed
from tests.imports.conftest import ROWS, pupils_csv


def test_an_imported_chunk_is_one_create_a_pupil(api, importer, monkeypatch):
    importer.full("pupils", pupils_csv(ROWS))
    monkeypatch.setattr(feed, "clock", lambda: time.time() + feed.SETTLE_SECONDS + 1)
    changes = api.get("/api/changes").data["changes"]
    pupils = {p["id"] for p in api.get("/api/pupils").data["items"]}
    assert [c["action"] for c in changes] == ["create"] * 3
    assert {c["id"] for c in changes} == pupils and len(pupils) == 3


def test_a_chunk_of_two_is_two_creates(api, importer, monkeypatch):
    """(a plain list of two ids is not a before/after pair)"""
    importer.full("pupils", pupils_csv(ROWS[:2]))
    monkeypatch.setattr(feed, "clock", lambda: time.time() + feed.SETTLE_SECONDS + 1)
    changes = api.get("/api/changes").data["changes"]
    assert sorted(c["id"] for c in changes) == sorted(p["id"] for p in api.get("/api/pupils").data["items"])
