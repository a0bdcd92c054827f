"""The kinds of import (imports/kinds.py): each declares everything the
stages do differently, and the stages ask nothing else. Pure: no AWS."""
from chalicelib.imports import columns
from chalicelib.imports.kinds import KINDS, Kind
from chalicelib.imports.matching import ExistingIndex, RowRules
from chalicelib.imports.rows import RowChecker
from chalicelib.roster import fields as field_defs
from chalicelib.roster.validation import clean_text


def test_every_kind_declares_consistent_fields_rules_and_columns():
    for name, kind in KINDS.items():
        assert kind.name == name
        fields = set(kind.fields)
        assert kind.required <= fields and kind.rules.unique_field in fields
        assert kind.rules.id_field is None or kind.rules.id_field in fields
        assert set(kind.rules.blank_means_default) <= fields
        assert set(kind.rules.cleaners(None)) <= fields
        headers = kind.headers()
        assert list(headers) == list(kind.fields)
        # our own headers are recognised by the suggestion: an export maps straight back
        assert columns.suggest(name, list(headers.values())) == {h: f for f, h in headers.items()}


def test_only_the_kinds_that_say_so_take_the_bulk_path_the_ceiling_and_leavers():
    assert [n for n, k in KINDS.items() if k.bulk_new] == ["pupils"]
    assert [n for n, k in KINDS.items() if k.ceiling] == ["staff"]
    assert [n for n, k in KINDS.items() if k.leavers] == ["pupils", "staff"]


def rooms_kind(monkeypatch):
    """A fourth kind, declared as the README says: its columns in the field
    definitions and one Kind. Nothing else is touched."""
    for table, value in ((field_defs.FIELDS, ["name", "capacity"]), (field_defs.REQUIRED, {"name"}),
                         (field_defs.TEMPLATES, [("Room", "Library"), ("Capacity", "30")]),
                         (field_defs.SYNONYMS, {"name": (("Room", "Room Name"),), "capacity": (("Capacity",),)})):
        monkeypatch.setitem(table, "rooms", value)
    monkeypatch.setitem(columns._INDEX, "rooms", columns._index("rooms"))
    cleaners = lambda today, date_orders=None: {"name": lambda v: clean_text(v, "name", 50, required=True),  # noqa: E731
                              "capacity": lambda v: clean_text(v, "capacity", 5)}
    rules = RowRules("room", "name", "duplicate_name", "name", cleaners)
    kind = Kind("rooms", rules, load=lambda school_id: ExistingIndex(rules), write=lambda *a: None)
    monkeypatch.setitem(KINDS, "rooms", kind)
    return kind


def test_a_fourth_kind_is_read_matched_and_checked_by_the_same_code(monkeypatch):
    kind = rooms_kind(monkeypatch)
    header = ["Room Name", "Capacity"]
    mapping = columns.suggest("rooms", header)
    assert mapping == {"Room Name": "name", "Capacity": "capacity"}
    existing = ExistingIndex(kind.rules)
    existing.add("r1", 1, {"name": "Library", "capacity": "30"})
    checker = RowChecker(kind.rules, mapping, header, existing, iter(["new1", "new2"]).__next__)
    results = list(checker.check_all([(2, ["Library", "32"]), (3, ["Hall", "200"]), (4, ["Hall", "20"]),
                                      (5, ["", "9"])]))
    assert [(r.action, r.target_id) for r in results[:2]] == [("update", "r1"), ("create", "new1")]
    assert results[0].changes == {"capacity": "32"}
    assert [e["code"] for e in results[2].error_dicts()] == ["duplicate_name"]
    assert [e["code"] for e in results[3].error_dicts()] == ["required"]
