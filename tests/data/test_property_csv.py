"""Property tests of the CSV reader against a reference parse (issue 18, "Also").

For random CSV-ish text and random bytes after a valid header, ``Interactions.from_csv``
either raises a :class:`~alsrec.DataError` that names a line, or returns exactly the
interactions that Python's ``csv`` module finds under the documented rules: RFC 4180
quoting (``strict=True``: an unterminated quote or text after a closing quote is an error),
``\\n``/``\\r\\n``/``\\r`` line ends, fields not stripped, two fields per record, no blank
line (but those after the last row, which are dropped), no empty ID, weight 1 per row summed
over repeats.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alsrec import DataError, Interactions

HEADER = b"user_id,item_id\n"

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def reference(body: bytes) -> Counter[tuple[str, str]] | None:
    """The (user, item) counts the documented rules give, or None where they call it bad."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return None
    while records and records[-1] == []:  # blank lines after the last row: dropped
        records.pop()
    if not records:
        return None
    pairs: Counter[tuple[str, str]] = Counter()
    for record in records:
        if len(record) != 2 or "" in record:
            return None
        # numpy cannot store a str that ends in NUL: such an ID is bad data, with its line
        if any(field.endswith("\x00") for field in record):
            return None
        pairs[(record[0], record[1])] += 1
    return pairs


def check(body: bytes) -> None:
    expected = reference(body)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        path.write_bytes(HEADER + body)
        try:
            data = Interactions.from_csv(path, user_type="str", item_type="str")
        except DataError as exc:
            refusal = str(exc)
            data = None
    if data is None:
        assert expected is None, f"refused good data: {refusal}"
        if body.strip(b"\r\n"):  # an empty body has no line to name
            assert re.search(r"line \d+", refusal), refusal
        return
    assert expected is not None, "accepted data the documented rules call bad"
    users, items = set(data.users.ids.tolist()), set(data.items.ids.tolist())
    assert users == {u for u, _ in expected}
    assert items == {i for _, i in expected}
    assert data.matrix.nnz == len(expected)
    for (user, item), count in expected.items():
        assert data.matrix[data.users.index_of(user), data.items.index_of(item)] == count


CSV_ALPHABET = st.sampled_from(["a", "b", "1", ",", '"', "\n", "\r", " ", "\x00", "é", "\t"])


@SETTINGS
@given(st.lists(CSV_ALPHABET, max_size=40).map("".join))
@example('a,"a')  # an unterminated quote: loaded today as the item ID 'a'
@example("\x00,a")  # an ID ending in NUL: refused today without naming its line
@example("a,a\n\n")  # blank lines after the last row: dropped, not an error
@example('"a",a\r\n\r\n')  # the same after a quoted field (the csv module's path)
@example("a,a\n\nb,b\n")  # a blank line between rows: still bad
def test_csvish_text_parses_like_the_reference(text: str) -> None:
    check(text.encode("utf-8"))


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["u1", "u2", '"u,3"', '"u""4"', "", '"5\n6"', 'x"y', "n\x00"]),
            st.sampled_from(["i1", "i2", '"i,3"', "", " i1", '"open', '"a"b']),
            st.sampled_from(["\n", "\r\n", "\r"]),
        ),
        min_size=1,
        max_size=12,
    )
)
@example([("u1", '"a"b', "\n")])  # text after a closing quote: read today as 'ab'
def test_rows_of_typical_pieces_parse_like_the_reference(rows: list[tuple[str, str, str]]) -> None:
    check("".join(f"{u},{i}{end}" for u, i, end in rows).encode("utf-8"))


@SETTINGS
@given(st.binary(max_size=60))
def test_random_bytes_are_a_data_error_or_parse_like_the_reference(body: bytes) -> None:
    check(body)


@SETTINGS
@given(
    st.lists(st.sampled_from(["a", "b", ",", '"', " ", ";"]), max_size=30).map("".join),
    st.sampled_from(["", "\n", "\r\n", "\r"]),
    st.sampled_from([",", ";"]),
)
@example('"a"b', "\n", ",")  # text after a closing quote
@example('a"b,"c""d"', "", ",")  # a literal quote in an unquoted field, an escaped one
@example('"a,b', "\r\n", ",")  # a quoted field that goes on to the next line
def test_field_count_agrees_with_the_csv_module(body: str, end: str, delimiter: str) -> None:
    """The reader counts a long line's fields before the csv module builds them
    (``_field_count``): the count must be the csv module's, or ``None`` where the csv module
    rejects the line or goes on to the next one."""
    from alsrec.data.csv_reader import _field_count

    line = body + end
    try:
        records = list(csv.reader([line], delimiter=delimiter, strict=True))
    except csv.Error:
        records = None
    count = _field_count(line, delimiter)
    if records is None:
        assert count is None
    else:
        assert count == (len(records[0]) if records else 0)


@SETTINGS
@given(st.lists(st.sampled_from(["a", "\r", "\n", "\v", "\x85", "\u2028", "\x1c"]), max_size=30))
def test_physical_lines_split_like_stringio(chars: list[str]) -> None:
    """The reader splits a block into lines without StringIO's copy (``_physical_lines``):
    the same lines as ``io.StringIO(text, newline="")``, whatever other breaks it holds."""
    from alsrec.data.csv_reader import _physical_lines

    text = "".join(chars)
    assert list(_physical_lines(text)) == list(io.StringIO(text, newline=""))
