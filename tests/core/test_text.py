"""How a typed name becomes the reads that find a person, and how a group's
member (named "First Surname") is matched by the same words."""
from chalicelib.core.text import SEP, fold, name_matches, search_prefixes


def test_one_word_reads_either_name():
    assert search_prefixes(fold("Ó")) == [("by_name", "sort_name", "o"), ("by_first", "first_sort", "o")]


def test_first_surname_and_surname_first_read_each_split():
    prefixes = search_prefixes(fold("Ngozi  Ó"))
    assert ("by_first", "first_sort", f"ngozi{SEP}o") in prefixes
    assert ("by_name", "sort_name", f"ngozi{SEP}o") in prefixes
    assert ("by_name", "sort_name", "ngozi o") in prefixes  # a surname of two words


def test_surname_comma_first_reads_surnames_only():
    assert search_prefixes(fold("Okafor, Ng")) == [("by_name", "sort_name", f"okafor{SEP}ng")]
    assert search_prefixes(fold("Okafor,")) == [("by_name", "sort_name", "okafor")]


def test_a_long_query_is_matched_only_as_typed():
    assert len(search_prefixes("a b c d e f")) == 2


def test_member_names_match_as_a_pupil_search_would():
    for q in ("ngozi", "okaf", "ngozi o", "okafor ngozi", "okafor, ng", "OKAFOR, NGOZI", "Ngozi Ó"):
        assert name_matches("Ngozi Ókafor", fold(q)), q
    for q in ("ngozi x", "x, ngozi", "okafor, x", "gozi", "afor"):
        assert not name_matches("Ngozi Ókafor", fold(q)), q
    assert name_matches("Mary Jane Smith", "smith, mary")
    assert name_matches("Mary Jane Smith", "jane smith")


def test_commas_and_spaces_alone_find_nobody_and_a_leading_comma_is_a_first_name():
    assert search_prefixes(",") == [] and search_prefixes(" , ") == []
    assert search_prefixes(", mary") == [("by_name", "sort_name", "mary"), ("by_first", "first_sort", "mary")]
    assert not name_matches("Mary Smith", ",") and name_matches("Mary Smith", ", mary")
