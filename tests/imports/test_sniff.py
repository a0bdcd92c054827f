"""sniff: encoding, delimiter, header line, not-CSV refusals, and streaming
records with physical line numbers, against the corpus in tests/data."""
import codecs
import io
from pathlib import Path

import pytest

from chalicelib.imports import lines, sniff
from chalicelib.imports.sniff import Dialect, NotCsv
from tests.data import make_corpus
from tests.data.make_corpus import PUPIL_HEADERS, big_pupils_csv

DATA = Path(make_corpus.__file__).parent


def raw(name):
    return (DATA / name).read_bytes()


def read(data, complete=True):
    """(dialect, header, [(line, cells)]) for a whole file in memory."""
    dialect = sniff.sniff(data[:sniff.SAMPLE_BYTES], complete=complete)
    header, records = sniff.read_header_and_records(lines.open_text(io.BytesIO(data), dialect.encoding),
                                                    dialect)
    return dialect, header, list(records)


def refused(data, complete=True):
    with pytest.raises(NotCsv) as caught:
        sniff.sniff(data, complete=complete)
    assert caught.value.message and caught.value.message.endswith(".")
    return caught.value.code


# -- the corpus ------------------------------------------------------------

def test_corpus_on_disk_matches_the_generator():
    for name, data in make_corpus.corpus().items():
        assert raw(name) == data, f"{name} is stale: run python tests/data/make_corpus.py"


@pytest.mark.parametrize("name, encoding, delimiter, header_line, lines", [
    ("pupils_template.csv", "utf-8", ",", 1, [2, 3, 4, 5, 6, 7]),
    ("pupils_bom.csv", "utf-8-sig", ",", 1, [2, 3, 4]),
    ("pupils_cp1252.csv", "cp1252", ",", 1, [2, 3, 4, 5]),
    ("pupils_semicolon.csv", "utf-8", ";", 1, [2, 3, 4, 5]),
    ("pupils_quoted_newlines.csv", "utf-8", ",", 1, [2, 4, 5, 8, 9, 11]),
    ("pupils_trailing.csv", "utf-8", ",", 1, [2, 3, 4, 5]),
    ("pupils_ddmmyy.csv", "utf-8", ",", 1, [2, 3, 4, 5]),
    ("pupils_formulas.csv", "utf-8", ",", 1, [2, 3, 4, 5]),
    ("pupils_title_line.csv", "utf-8", ",", 3, [4, 5]),
    ("pupils_utf16.csv", "utf-16", "\t", 1, [2, 3, 4]),
    ("pupils_errors.csv", "utf-8", ",", 1, [2, 3, 4, 5, 6, 7, 8, 9]),
    ("pupils_oneroster_users.csv", "utf-8", ",", 1, [2, 3]),
    ("pupils_sds_student.csv", "utf-8", ",", 1, [2, 3]),
    ("staff_template.csv", "utf-8", ",", 1, [2, 3, 4]),
    ("staff_mis.csv", "utf-8", ",", 1, [2, 3, 4, 5]),
])
def test_corpus_files_sniff_and_read(name, encoding, delimiter, header_line, lines):
    dialect, header, records = read(raw(name))
    assert dialect == Dialect(encoding, delimiter, header_line)
    assert [line for line, _cells in records] == lines
    assert all(cells is not None and len(cells) <= len(header) for _line, cells in records)


@pytest.mark.parametrize("name, code", [
    ("not_csv_empty.csv", "empty_file"),
    ("not_csv_header_only.csv", "no_data_rows"),
    ("not_csv_xlsx.csv", "spreadsheet_file"),
    ("not_csv_binary.csv", "binary_file"),
    ("not_csv_html.csv", "not_csv"),
])
def test_not_csv_files_are_refused_with_a_code(name, code):
    assert refused(raw(name)) == code


def test_accented_names_survive_every_encoding():
    for name, column in [("pupils_bom.csv", 0), ("pupils_utf16.csv", 0), ("pupils_template.csv", 0)]:
        _dialect, _header, records = read(raw(name))
        assert records[0][1][column] == "Zoë"
    _dialect, header, records = read(raw("pupils_cp1252.csv"))
    assert header[:2] == ["Legal Surname", "Legal Forename"]
    assert [cells[1] for _line, cells in records[:3]] == ["Zoë", "Siân", "Dáithí"]
    assert records[2][1][0] == "O’Brien"  # Excel's curly apostrophe, byte 0x92


def test_semicolon_file_keeps_quoted_semicolons_and_commas_in_their_cells():
    _dialect, header, records = read(raw("pupils_semicolon.csv"))
    assert header[-1] == "Notes"
    assert records[0][1][-1] == "Nut allergy; carries an EpiPen"
    assert records[1][1][-1] == "Walks home, Tuesdays"


def test_quoted_line_breaks_stay_in_cells_and_push_later_records_down():
    _dialect, _header, records = read(raw("pupils_quoted_newlines.csv"))
    by_line = dict(records)
    assert by_line[2][-1] == "Collected by grandparent\non Fridays"
    assert by_line[5][-1] == "Line one\nline two\nline three"
    assert by_line[8][0] == "Freya"  # three lines after the record on line 5
    assert by_line[9][0] == "Seán\nPatrick" and by_line[11][0] == "Leo"


def test_trailing_empty_columns_are_trimmed_and_blank_rows_skipped():
    _dialect, header, records = read(raw("pupils_trailing.csv"))
    assert header == PUPIL_HEADERS  # the header's own empty columns are gone too
    assert [len(cells) for _line, cells in records] == [7, 7, 6, 7]  # a short row stays short
    assert records[2][1][0] == "Ffion"


def test_formula_like_cells_are_kept_as_typed():
    _dialect, _header, records = read(raw("pupils_formulas.csv"))
    cells = [cell for _line, row in records for cell in row]
    for typed in ("=1+2", "@SUM(A1)", "+44 7700", "-5", '=HYPERLINK("http://example.org","6A")'):
        assert typed in cells


def test_title_line_file_reads_from_the_header():
    _dialect, header, records = read(raw("pupils_title_line.csv"))
    assert header == PUPIL_HEADERS and records[0] == (4, ["Priya", "Patel", "12/12/2015", "F", "Year 5",
                                                         "5B", make_corpus.upn(2009, 1)])


# -- encodings -------------------------------------------------------------

def csv_bytes(text, encoding="utf-8"):
    return text.encode(encoding)


GOOD = "First name,Surname\nZoë,Smith\nSeán,O'Brien\n"


@pytest.mark.parametrize("data, encoding", [
    (codecs.BOM_UTF8 + csv_bytes(GOOD), "utf-8-sig"),
    (codecs.BOM_UTF16_LE + csv_bytes(GOOD, "utf-16-le"), "utf-16"),
    (codecs.BOM_UTF16_BE + csv_bytes(GOOD, "utf-16-be"), "utf-16"),
    (csv_bytes(GOOD), "utf-8"),
    (csv_bytes("First name,Surname\nZoe,Smith\n"), "utf-8"),
    (csv_bytes(GOOD, "cp1252"), "cp1252"),
])
def test_encoding(data, encoding):
    assert sniff.sniff(data, complete=True).encoding == encoding


def test_utf16_big_endian_reads_back():
    _dialect, header, records = read(codecs.BOM_UTF16_BE + csv_bytes(GOOD, "utf-16-be"))
    assert header == ["First name", "Surname"] and records[0][1] == ["Zoë", "Smith"]


def test_a_character_cut_at_the_end_of_a_partial_sample_is_still_utf8():
    data = csv_bytes("First name,Surname\nZoë,Smith\nZoë")
    cut = data[:-1]  # half of the ë
    assert sniff.sniff(cut, complete=False).encoding == "utf-8"
    assert sniff.sniff(cut, complete=True).encoding == "cp1252"  # the whole file ends badly


def test_undefined_cp1252_bytes_become_replacement_characters():
    data = b"First name,Surname\nZo\xeb,Sm\x81th\n"
    dialect, _header, records = read(data)
    assert dialect.encoding == "cp1252" and records[0][1] == ["Zoë", "Sm\ufffdth"]


def test_bad_utf8_later_in_the_file_becomes_replacement_characters():
    good = csv_bytes("First name,Surname\n" + "Zoë,Smith\n" * 10)
    dialect = sniff.sniff(good, complete=False)
    records = list(sniff.iter_records(lines.open_text(io.BytesIO(good + b"Zo\xeb,Jones\n"), "utf-8"), dialect))
    assert records[-1] == (12, ["Zo\ufffd", "Jones"])


# -- not CSVs --------------------------------------------------------------

@pytest.mark.parametrize("data, code", [
    (b"", "empty_file"),
    (b"   \r\n\r\n\t\n", "empty_file"),
    (codecs.BOM_UTF8, "empty_file"),
    (codecs.BOM_UTF8 + b"\r\n", "empty_file"),
    (codecs.BOM_UTF16_LE, "empty_file"),
    (b",,,,\r\n,,,\r\n", "empty_file"),
    (b"PK\x03\x04" + b"\x14\x00junk", "spreadsheet_file"),
    (bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 50, "spreadsheet_file"),
    (b"First name,Surname\r\n", "no_data_rows"),
    (b"First name,Surname\r\n\r\n,,\r\n   \r\n", "no_data_rows"),
    (b"Pupil list exported 01/09/2025\r\n\r\nFirst name,Surname\r\n", "no_data_rows"),
    (b"First name,Surname\nZo\x00e,Smith\n", "binary_file"),
    (b"First\x01name\x02,\x03Sur\x04name\x05\n\x06\x07\x08,\x0e\x0f\n", "binary_file"),
    (b"  \n<html><body>Pupils</body></html>", "not_csv"),
    (b'{"pupils": [{"first_name": "Zo\xc3\xab"}]}', "not_csv"),
    (b"<?xml version='1.0'?><pupils/>", "not_csv"),
])
def test_not_csv(data, code):
    assert refused(data) == code


def test_spreadsheet_message_says_how_to_save_as_csv():
    with pytest.raises(NotCsv) as caught:
        sniff.sniff(raw("not_csv_xlsx.csv"), complete=True)
    assert "File > Save As > CSV UTF-8" in caught.value.message
    assert str(caught.value) == caught.value.message


def test_header_only_in_a_partial_sample_is_not_refused():
    """The rows may come after the sample's end."""
    assert sniff.sniff(b"First name,Surname\r\nZo", complete=False).header_line == 1


def test_a_few_stray_control_characters_are_not_binary():
    data = b"First name,Surname\nZoe,Smith\x1a\n" + b"Ann,Jones\n" * 5
    assert sniff.sniff(data, complete=True).encoding == "utf-8"


def test_one_column_csv_is_legal():
    dialect, header, records = read(b"Name\r\nLIB-PC-01\r\nLIB-PC-02\r\n")
    assert dialect == Dialect("utf-8", ",", 1)
    assert header == ["Name"] and [r for r in records] == [(2, ["LIB-PC-01"]), (3, ["LIB-PC-02"])]


# -- delimiter -------------------------------------------------------------

@pytest.mark.parametrize("text, delimiter", [
    ("a,b,c\n1,2,3\n", ","),
    ("a;b;c\n1;2;3\n", ";"),
    ("a\tb\tc\n1\t2\t3\n", "\t"),
    ('a;b;c\n"x, y";2;3\n"p, q, r";5;6\n', ";"),  # commas inside cells do not fool it
    ('a,b,c\n"x;y;z",2,3\n"1\t2",5,6\n', ","),  # nor do quoted semicolons or tabs
    ("Name\nSmith\n", ","),  # no delimiter anywhere: the default
    ('Surname,"Notes; more"\nSmith,ok\n', ","),
])
def test_delimiter(text, delimiter):
    assert sniff.sniff(text.encode(), complete=True).delimiter == delimiter


def test_one_odd_row_in_a_small_file_does_not_change_the_delimiter():
    text = "First name,Surname,Job role\nTess,Teacher,Head of Maths, KS4\n"
    assert sniff.sniff(text.encode(), complete=True).delimiter == ","


def test_delimiter_ignores_a_semicolon_header_whose_rows_disagree():
    """';' splits the header wider, but rows then do not fit; ',' fits."""
    text = "a;b;c,d\n" + "1,2\n" * 10
    assert sniff.sniff(text.encode(), complete=True).delimiter == ","


# -- header line -----------------------------------------------------------

@pytest.mark.parametrize("text, header_line", [
    ("First name,Surname\nZoe,Smith\n", 1),
    ("\n\nFirst name,Surname\nZoe,Smith\n", 3),
    ("Pupil list exported 01/09/2025\n\nFirst name,Surname\nZoe,Smith\n", 3),
    ("Pupil list exported 01/09/2025,,,\n,,,\nFirst name,Surname,,\nZoe,Smith,,\n", 3),
    ('"Pupil list\nexported 01/09/2025"\n\nFirst name,Surname\nZoe,Smith\n', 4),
    ("Hill School\nPupils\n\r\nFirst name,Surname\r\nZoe,Smith\r\n", 4),
    ("Report,01/09/2025,42\nFirst name,Surname,Year\nZoe,Smith,5\n", 2),  # numbers and dates are data
    ("1,2\n3,4\n", 1),  # nothing looks like a header: the first record
])
def test_header_line(text, header_line):
    assert sniff.sniff(text.encode(), complete=True).header_line == header_line


def test_records_after_a_multi_line_title_keep_physical_line_numbers():
    data = b'"Pupil list\nexported 01/09/2025"\n\nFirst name,Surname\nZoe,Smith\n"Ann\nMarie",Jones\nLeo,Khan\n'
    dialect, header, records = read(data)
    assert dialect.header_line == 4 and header == ["First name", "Surname"]
    assert [line for line, _cells in records] == [5, 6, 8]


def test_crlf_and_lone_cr_line_endings_count_as_lines():
    dialect, _header, records = read(b"a,b\r\n1,2\r\n3,4\r5,6\n7,8")
    assert dialect.header_line == 1 and [line for line, _cells in records] == [2, 3, 4, 5]


# -- header names ----------------------------------------------------------

def test_header_names_are_stripped_named_and_unique():
    assert sniff.clean_header([" First name ", "", "Surname", "surname", "Surname", "", "Surname (2)", "", " "]) == [
        "First name", "Column 2", "Surname", "surname", "Surname (3)", "Column 6", "Surname (2)"]


def test_header_name_suffixes_do_not_collide():
    assert sniff.clean_header(["A", "A", "A (2)", "Column 2", ""]) == ["A", "A (3)", "A (2)", "Column 2"]
    assert sniff.clean_header(["Column 2", "", "x"]) == ["Column 2", "Column 2 (2)", "x"]
    assert sniff.clean_header(["A", "Column 2", "", "B"]) == ["A", "Column 2", "Column 3", "B"]
    assert sniff.clean_header(["", "B"]) == ["Column 1", "B"]


def test_records_wider_than_the_header_keep_filled_extra_cells():
    _dialect, header, records = read(b"a,b\n1,2,,\n3,4,x,\n")
    assert header == ["a", "b"] and [cells for _line, cells in records] == [["1", "2"], ["3", "4", "x"]]


# -- unreadable records ----------------------------------------------------

def test_a_record_with_an_oversized_cell_is_yielded_as_none_and_reading_goes_on():
    huge = "x" * (sniff.FIELD_SIZE_LIMIT + 10)
    data = f"First name,Surname\nZoe,Smith\n{huge},Jones\nLeo,Khan\n".encode()
    dialect = sniff.sniff(data[:1000], complete=False)
    records = list(sniff.iter_records(lines.open_text(io.BytesIO(data), "utf-8"), dialect))
    assert records == [(2, ["Zoe", "Smith"]), (3, None), (4, ["Leo", "Khan"])]


def test_an_overlong_line_is_yielded_as_none_without_reading_it_whole(monkeypatch):
    monkeypatch.setattr(sniff, "MAX_LINE_CHARS", 50)
    data = ("First name,Surname\nZoe,Smith\n" + "y," * 100 + "\nLeo,Khan\n").encode()
    dialect = Dialect("utf-8", ",", 1)
    records = list(sniff.iter_records(lines.open_text(io.BytesIO(data), "utf-8"), dialect))
    assert records == [(2, ["Zoe", "Smith"]), (3, None), (4, ["Leo", "Khan"])]


def test_stream_ending_before_the_header_gives_no_header_and_no_records():
    header, records = sniff.read_header_and_records(lines.open_text(io.BytesIO(b"a,b\n"), "utf-8"),
                                                    Dialect("utf-8", ",", 5))
    assert header == [] and list(records) == []


# -- big files and streaming -----------------------------------------------

class Trickle:
    """A raw stream over a generator of small chunks, like a network body:
    read(amt) gives at most one chunk and counts what it has handed out."""

    def __init__(self, data, chunk):
        self.served = 0
        self._chunks = (data[i:i + chunk] for i in range(0, len(data), chunk))
        self._pending = b""

    def read(self, amt):
        assert isinstance(amt, int) and amt > 0, "must never ask for the whole stream"
        data = self._pending or next(self._chunks, b"")
        data, self._pending = data[:amt], data[amt:]
        self.served += len(data)
        return data


def test_big_file_is_deterministic_valid_and_not_on_disk():
    assert big_pupils_csv(50) == big_pupils_csv(50)
    assert not list(DATA.glob("*big*"))
    from chalicelib.roster.validation import clean_upn
    _dialect, _header, records = read(big_pupils_csv(300))
    upns = [cells[6] for _line, cells in records]
    assert len(set(upns)) == 300 and all(clean_upn(u) == (u, None) for u in upns)


def test_big_file_sniffs_from_a_partial_sample_and_yields_every_record():
    data = big_pupils_csv(2000)
    dialect = sniff.sniff(data[:4096], complete=False)
    assert dialect == Dialect("utf-8", ",", 1)
    header, records = sniff.read_header_and_records(lines.open_text(io.BytesIO(data), "utf-8"), dialect)
    records = list(records)
    assert header == PUPIL_HEADERS and len(records) == 2000
    assert [line for line, _cells in records] == list(range(2, 2002))


def test_fifty_thousand_rows_from_a_one_mebibyte_sample():
    data = big_pupils_csv()
    assert len(data) > sniff.SAMPLE_BYTES
    dialect = sniff.sniff(data[:sniff.SAMPLE_BYTES], complete=False)
    records = sniff.iter_records(lines.open_text(io.BytesIO(data), dialect.encoding), dialect)
    assert sum(1 for _ in records) == 50000


def test_records_stream_from_a_raw_stream_in_small_chunks():
    data = big_pupils_csv(20000)
    source = Trickle(data, chunk=7)
    records = sniff.iter_records(lines.open_text(source, "utf-8"), Dialect("utf-8", ",", 1))
    first = [next(records) for _ in range(5)]
    assert [line for line, _cells in first] == [2, 3, 4, 5, 6]
    assert source.served < 100_000 < len(data)  # only a buffer's worth read so far
    assert sum(1 for _ in records) == 20000 - 5
    assert source.served == len(data)


def test_multibyte_characters_split_across_chunks_decode_whole():
    data = ("First name,Surname\n" + "Zoë,Ó Súilleabháin\n" * 50).encode()
    records = list(sniff.iter_records(lines.open_text(Trickle(data, chunk=1), "utf-8"),
                                      Dialect("utf-8", ",", 1)))
    assert len(records) == 50 and all(cells == ["Zoë", "Ó Súilleabháin"] for _line, cells in records)


def test_open_text_reads_a_botocore_streaming_body():
    from botocore.response import StreamingBody
    data = raw("pupils_utf16.csv")
    dialect = sniff.sniff(data, complete=True)
    body = StreamingBody(io.BytesIO(data), len(data))
    header, records = sniff.read_header_and_records(lines.open_text(body, dialect.encoding), dialect)
    assert header == PUPIL_HEADERS and [cells[0] for _line, cells in records] == ["Zoë", "Siân", "Dáithí"]


def test_open_text_copes_with_a_source_that_over_delivers():
    class Greedy:
        def __init__(self, data):
            self.data = data

        def read(self, amt):
            out, self.data = self.data, b""  # ignores amt
            return out

    data = big_pupils_csv(3000)
    records = list(sniff.iter_records(lines.open_text(Greedy(data), "utf-8"), Dialect("utf-8", ",", 1)))
    assert len(records) == 3000
