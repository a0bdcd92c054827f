"""core.spill: a multimap on disk for the joins of a bundle as big as a roll."""
import os

import pytest

from chalicelib.core import spill
from chalicelib.core.spill import Spill


def test_values_come_back_by_key_in_the_order_added_across_batches(monkeypatch):
    monkeypatch.setattr(spill, "BATCH", 3)
    with Spill(2) as pairs:
        for n in range(10):
            pairs.add(f"k{n % 3}", n, f"v{n}")
        assert pairs.get("k1") == [(1, "v1"), (4, "v4"), (7, "v7")]
        assert pairs.get("nobody") == []
        with pytest.raises(RuntimeError):
            pairs.add("k1", 99, "late")  # (read only once indexed)
        with pytest.raises(ValueError):
            Spill(2).add("k", 1)


def test_its_file_is_in_the_temporary_folder_and_gone_on_close():
    pairs = Spill()
    folder = pairs._dir.name
    pairs.add("a", "b")
    assert os.path.exists(os.path.join(folder, "spill.db"))
    pairs.close()
    assert not os.path.exists(folder)
