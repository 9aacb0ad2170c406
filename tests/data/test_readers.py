"""Tests of the readers: CSV files, SQL (sqlite3 and PostgreSQL), pandas/polars frames."""

from __future__ import annotations

import io
import sqlite3
import warnings
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alsrec import AlsrecWarning, ConfigError, DataError, IdTypeError, Interactions

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


Row = tuple[Any, Any, float]


# -- helpers ---------------------------------------------------------------------------------


def csv_field(value: object, delimiter: str, quote_all: bool) -> str:
    text = str(value)
    if quote_all or any(c in text for c in (delimiter, '"', "\r", "\n")):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(
    header: Sequence[str] | None,
    rows: Sequence[Sequence[object]],
    *,
    delimiter: str = ",",
    line_end: str = "\n",
    quote_all: bool = False,
    bom: bool = False,
    final_newline: bool = True,
) -> str:
    """CSV text written by hand (Python's csv.writer leaves a lone \\r unquoted)."""
    records = ([header] if header is not None else []) + list(rows)
    lines = [delimiter.join(csv_field(v, delimiter, quote_all) for v in r) for r in records]
    text = line_end.join(lines) + (line_end if final_newline else "")
    return ("\ufeff" if bom else "") + text


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def sample_rows() -> list[Row]:
    rng = np.random.default_rng(7)
    rows: list[Row] = []
    for _ in range(300):
        u = f"user-{int(rng.integers(0, 25))}"
        i = int(rng.integers(100, 140))
        rows.append((u, i, float(rng.integers(1, 9)) / 2))
    return rows


def sqlite_with(rows: Sequence[Row]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE plays (user_id TEXT, item_id INTEGER, weight REAL)")
    db.executemany("INSERT INTO plays VALUES (?, ?, ?)", rows)
    return db


@pytest.fixture
def rows() -> list[Row]:
    return sample_rows()


@pytest.fixture
def expected(rows: list[Row]) -> Interactions:
    users, items, weights = zip(*rows, strict=True)
    return Interactions.from_arrays(list(users), list(items), list(weights))


# -- round trips -----------------------------------------------------------------------------


def test_every_source_gives_the_same_interactions(
    rows: list[Row], expected: Interactions, tmp_path: Path
) -> None:
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    path = write(tmp_path / "plays.csv", csv_text(["user_id", "item_id", "weight"], rows))
    users, items, weights = (list(c) for c in zip(*rows, strict=True))
    sources = {
        "csv": Interactions.from_csv(path, weight="weight"),
        "csv small chunks": Interactions.from_csv(path, weight="weight", chunk_rows=7),
        "sqlite": Interactions.from_sql(
            sqlite_with(rows), "SELECT * FROM plays", weight="weight", batch_size=13
        ),
        "pandas": Interactions.from_frame(
            pd.DataFrame({"user_id": users, "item_id": items, "weight": weights}),
            weight="weight",
        ),
        "polars": Interactions.from_frame(
            pl.DataFrame({"user_id": users, "item_id": items, "weight": weights}),
            weight="weight",
        ),
        "scipy": Interactions.from_scipy(expected.matrix, expected.users.ids, expected.items.ids),
    }
    for name, data in sources.items():
        assert data == expected, name
        if name != "scipy":
            s, e = data.summary(), expected.summary()
            assert (s.rows_read, s.duplicates_merged, s.dropped) == (
                e.rows_read,
                e.duplicates_merged,
                e.dropped,
            ), name
    assert expected.users.kind == "str"
    assert expected.items.kind == "int"


def test_options_behave_the_same_for_csv_and_arrays(tmp_path: Path) -> None:
    rows = [
        ("a", "x", 1.0, 3),
        ("a", "x", 5.0, 1),
        ("a", "y", 2.0, 2),
        ("b", "x", 1.0, 1),
        ("c", "y", 4.0, 9),
        ("c", "y", 2.0, 10),
        ("d", "z", 1.0, 4),
    ]
    path = write(tmp_path / "t.csv", csv_text(["u", "i", "w", "t"], rows))
    cols = [list(c) for c in zip(*rows, strict=True)]
    for options in (
        {"aggregate": "last"},
        {"aggregate": "max", "min_item_interactions": 2},
        {"aggregate": "count", "min_user_interactions": 2},
    ):
        from_csv = Interactions.from_csv(
            path,
            user="u",
            item="i",
            weight="w",
            timestamp="t",
            **options,
        )
        from_arrays = Interactions.from_arrays(
            cols[0],
            cols[1],
            cols[2],
            timestamps=cols[3],
            **options,
        )
        assert from_csv == from_arrays, options
        assert from_csv.summary().dropped == from_arrays.summary().dropped


# -- hypothesis: CSV text parses like from_arrays --------------------------------------------

_ID_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
_TEXT_IDS = st.text(_ID_CHARS, min_size=1, max_size=6)
_PLAIN_IDS = st.text("abcxyz0123-_ é漢", min_size=1, max_size=4)
_WEIGHTS = st.one_of(
    st.integers(1, 10**6), st.floats(1e-3, 1e6, allow_nan=False, allow_infinity=False)
)


@st.composite
def csv_case(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.sampled_from([_TEXT_IDS, _PLAIN_IDS]))
    n = draw(st.integers(1, 25))
    users = draw(st.lists(ids, min_size=n, max_size=n))
    items = draw(st.lists(ids, min_size=n, max_size=n))
    weights = draw(st.lists(_WEIGHTS, min_size=n, max_size=n))
    return {
        "users": users,
        "items": items,
        "weights": weights,
        "delimiter": draw(st.sampled_from([",", ";", "\t", "|"])),
        "line_end": draw(st.sampled_from(["\n", "\r\n", "\r"])),
        "quote_all": draw(st.booleans()),
        "bom": draw(st.booleans()),
        "final_newline": draw(st.booleans()),
        "chunk_rows": draw(st.integers(1, 8)),
    }


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=csv_case())
def test_csv_text_parses_like_from_arrays(case: dict[str, Any], tmp_path: Path) -> None:
    rows = list(zip(case["users"], case["items"], case["weights"], strict=True))
    text = csv_text(
        ["user", "item", "weight"],
        [(u, i, repr(w)) for u, i, w in rows],
        delimiter=case["delimiter"],
        line_end=case["line_end"],
        quote_all=case["quote_all"],
        bom=case["bom"],
        final_newline=case["final_newline"],
    )
    path = write(tmp_path / "h.csv", text)
    got = Interactions.from_csv(
        path,
        user="user",
        item="item",
        weight="weight",
        delimiter=case["delimiter"],
        user_type="str",
        item_type="str",
        chunk_rows=case["chunk_rows"],
    )
    want = Interactions.from_arrays(case["users"], case["items"], case["weights"])
    assert got == want
    assert got.rows_read == len(rows)
    assert got.duplicates_merged == want.duplicates_merged


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    users=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=20),
    data=st.data(),
)
def test_csv_integer_ids_parse_like_from_arrays(
    users: list[int], data: st.DataObject, tmp_path: Path
) -> None:
    items = data.draw(st.lists(st.integers(0, 5), min_size=len(users), max_size=len(users)))
    path = write(tmp_path / "ints.csv", csv_text(["u", "i"], list(zip(users, items, strict=True))))
    got = Interactions.from_csv(path, user="u", item="i", chunk_rows=3)
    assert got.users.kind == "int"
    assert got.items.kind == "int"
    assert got == Interactions.from_arrays(users, items)


AS_TEXT: dict[str, Any] = {"user_type": "str", "item_type": "str"}
"""Both ID columns read as text: the drawn IDs may mix '0' and '00' (two IDs as text)."""

_BAD_WEIGHTS = {
    "": "bad_weight",
    "abc": "bad_weight",
    "nan": "nonfinite_weight",
    "inf": "nonfinite_weight",
    "-2": "negative_weight",
    "0": "zero_weight",
}


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(
        st.one_of(
            st.tuples(_PLAIN_IDS, _PLAIN_IDS, st.integers(1, 9)).map(lambda r: ("ok", r)),
            st.sampled_from(sorted(_BAD_WEIGHTS)).map(lambda w: ("weight", ("u", "i", w))),
            st.just(("blank", None)),
            st.just(("empty_id", ("", "i", 1))),
            st.just(("short", ("u", 1))),
        ),
        min_size=1,
        max_size=30,
    ),
    line_end=st.sampled_from(["\n", "\r\n", "\r"]),
    chunk_rows=st.integers(1, 6),
)
def test_skipped_rows_are_all_counted(
    lines: list[tuple[str, Any]], line_end: str, chunk_rows: int, tmp_path: Path
) -> None:
    body = []
    good: list[tuple[str, str, int]] = []
    dropped: dict[str, int] = {}
    for kind, row in lines:
        if kind == "blank":
            body.append("")
            dropped["blank_line"] = dropped.get("blank_line", 0) + 1
            continue
        body.append(",".join(csv_field(v, ",", False) for v in row))
        reason = {
            "ok": None,
            "weight": _BAD_WEIGHTS[str(row[2])] if kind == "weight" else None,
            "empty_id": "empty_id",
            "short": "wrong_field_count",
        }[kind]
        if reason is None:
            good.append(row)
        else:
            dropped[reason] = dropped.get(reason, 0) + 1
    path = write(tmp_path / "bad.csv", "u,i,w" + line_end + line_end.join(body) + line_end)
    if not good:
        with pytest.raises(DataError, match=r"rows were dropped|no data rows"):
            Interactions.from_csv(
                path, user="u", item="i", weight="w", on_bad_rows="skip", **AS_TEXT
            )
        return
    got = Interactions.from_csv(
        path,
        user="u",
        item="i",
        weight="w",
        on_bad_rows="skip",
        user_type="str",
        item_type="str",
        chunk_rows=chunk_rows,
    )
    users, items, weights = zip(*good, strict=True)
    assert got == Interactions.from_arrays(list(users), list(items), list(weights))
    s = got.summary()
    assert s.dropped == dropped
    assert s.rows_read == len(lines)
    assert s.rows_read == s.n_interactions + s.duplicates_merged + s.rows_dropped
    kinds = [kind for kind, _ in lines]
    at_end = len(kinds) - len("".join("b" if k == "blank" else "x" for k in kinds).rstrip("b"))
    if sum(dropped.values()) > at_end:  # blank lines after the last row are never an error
        with pytest.raises(DataError, match=r"bad\.csv, line \d+"):
            Interactions.from_csv(path, user="u", item="i", weight="w", **AS_TEXT)
    elif dropped:
        strict = Interactions.from_csv(path, user="u", item="i", weight="w", **AS_TEXT)
        assert strict.summary().dropped == {"blank_line": at_end}


# -- CSV details -----------------------------------------------------------------------------


def test_quoted_fields_with_line_breaks_keep_line_numbers(tmp_path: Path) -> None:
    text = 'u,i,w\n"multi\nline",a,1\n"x",b,2\nz,c,oops\n'
    path = write(tmp_path / "q.csv", text)
    with pytest.raises(DataError, match=r"q\.csv, line 5, column 'w': weight 'oops'"):
        Interactions.from_csv(path, user="u", item="i", weight="w")
    data = Interactions.from_csv(path, user="u", item="i", weight="w", on_bad_rows="skip")
    assert data.users.ids.tolist() == ["multi\nline", "x"]


def test_missing_column_lists_the_columns_seen(tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", "user,item,plays\na,b,1\n")
    with pytest.raises(
        DataError,
        match=r"no column 'count' \(the weight column\).*columns \['user', 'item', 'plays'\]",
    ):
        Interactions.from_csv(path, user="user", item="item", weight="count")


def test_wrong_delimiter_reports_the_header_and_suggests_one(tmp_path: Path) -> None:
    path = write(tmp_path / "semi.csv", "user_id;item_id;w\na;b;1\n")
    with pytest.raises(DataError) as info:
        Interactions.from_csv(path)
    message = str(info.value)
    assert "the header reads 'user_id;item_id;w'" in message
    assert "delimiter given was ','" in message
    assert "delimiter=';'" in message
    data = Interactions.from_csv(path, delimiter=";", weight="w")
    assert data.nnz == 1


def test_delimiter_guess(tmp_path: Path) -> None:
    path = write(tmp_path / "tab.tsv", "user_id\titem_id\n1\t2\n1\t3\n")
    assert Interactions.from_csv(path, delimiter=None).shape == (1, 2)
    odd = write(tmp_path / "odd.csv", "user_id item_id\n1 2\n")
    with pytest.raises(DataError, match="delimiter guessed was ','"):
        Interactions.from_csv(odd, delimiter=None)


def test_an_ambiguous_first_line_stops_the_delimiter_guess(tmp_path: Path) -> None:
    """A first line holding two candidate delimiters is refused unless a header names the
    columns asked for (it had split 'u1,rock|indie|live' at '|', silently)."""
    path = write(tmp_path / "tags.csv", "u1,rock|indie|live\nu2,pop\n")
    with pytest.raises(
        DataError,
        match=r"tags\.csv: the delimiter cannot be guessed from line 1.*"
        r"delimiter=',' or delimiter='\|'",
    ):
        Interactions.from_csv(path, user=0, item=1, header=False, delimiter=None)
    with pytest.raises(DataError, match="cannot be guessed"):  # a header, but no name vouches
        Interactions.from_csv(path, user=0, item=1, delimiter=None)
    data = Interactions.from_csv(path, user=0, item=1, header=False, delimiter=",")
    assert data.items.ids.tolist() == ["rock|indie|live", "pop"]
    # a header naming the columns vouches for the delimiter that splits it into them
    headed = write(tmp_path / "headed.csv", "user_id;item_id;price, EUR\nu1;a;1,5\n")
    assert Interactions.from_csv(headed, delimiter=None).items.ids.tolist() == ["a"]
    # one candidate in the first line: guessed as before, whatever later lines hold
    tabs = write(tmp_path / "tabs.tsv", "user\titem\tgenre\n1\t2\trock|indie\n")
    assert Interactions.from_csv(tabs, user=0, item=1, delimiter=None).nnz == 1


def test_line_errors_name_file_line_and_column(tmp_path: Path) -> None:
    cases = {
        "u,i,w\na,b,1\n\nc,d,1\n": r"line 3: the line is blank",
        "u,i,w\na,b,1\nc,d\n": r"line 3: 2 field\(s\) where the header has 3; the line reads 'c,d'",
        "u,i,w\na,b,1\nc,,1\n": r"line 3, column 'i': the item ID is empty",
        "u,i,w\na,b,1\nc,d,1.5.2\n": r"line 3, column 'w': weight '1.5.2' is missing or not a",
        "u,i,w\na,b,inf\n": r"line 2, column 'w': weight 'inf' is not finite",
        "u,i,w\na,b,-0.5\n": r"line 2, column 'w': weight '-0.5' is negative",
    }
    for k, (text, pattern) in enumerate(cases.items()):
        path = write(tmp_path / f"e{k}.csv", text)
        with pytest.raises(DataError, match=rf"e{k}\.csv, {pattern}"):
            Interactions.from_csv(path, user="u", item="i", weight="w")


def test_mixed_id_types_in_a_csv_column(tmp_path: Path) -> None:
    path = write(tmp_path / "mixed.csv", "u,i\n1,a\n2,b\n007,c\n")
    with pytest.raises(IdTypeError, match=r"mixed\.csv, line 4, column 'u': user ID '007'"):
        Interactions.from_csv(path, user="u", item="i")
    as_text = Interactions.from_csv(path, user="u", item="i", user_type="str")
    assert as_text.users.ids.tolist() == ["1", "2", "007"]
    declared = write(tmp_path / "declared.csv", "u,i\nx,a\n")
    with pytest.raises(IdTypeError, match=r"declared integer \(user_type='int'\)"):
        Interactions.from_csv(declared, user="u", item="i", user_type="int")


def test_headerless_files_use_positions(tmp_path: Path) -> None:
    path = write(tmp_path / "nohead.csv", "a,10,2\nb,11,3\n")
    data = Interactions.from_csv(path, user=0, item=1, weight=2, header=False)
    assert data.users.ids.tolist() == ["a", "b"]
    assert data.items.ids.tolist() == [10, 11]
    assert data.rows_read == 2
    with pytest.raises(ConfigError, match="header=False"):
        Interactions.from_csv(path, header=False)
    with pytest.raises(DataError, match=r"position 5 is out of range"):
        Interactions.from_csv(path, user=0, item=5, header=False)


def test_a_header_read_as_data_is_pointed_out(tmp_path: Path) -> None:
    path = write(tmp_path / "headed.csv", "Rating,User ID,movieId\n4,u1,10\n5,u2,11\n")
    with pytest.warns(AlsrecWarning, match=r"line 1 reads user 'User ID', item 'movieId'"):
        data = Interactions.from_csv(path, user=1, item=2, header=False)
    assert data.rows_read == 3  # still read as asked: the warning says what happened
    plain = write(tmp_path / "plain.csv", "user,i7\nu1,i8\n")  # 'i7' is no column name
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Interactions.from_csv(plain, user=0, item=1, header=False).rows_read == 2


def test_a_data_line_read_as_the_header_by_position_is_refused(tmp_path: Path) -> None:
    # header=True (the default) with positions: the first interaction would become names
    path = write(tmp_path / "nohead.csv", "a,x,5\nb,y,4\nc,z,3\n")
    for extra in ({"weight": 2}, {}):
        with pytest.raises(DataError, match=r"field '5' looks like a value.*header=False"):
            Interactions.from_csv(path, user=0, item=1, **extra)  # type: ignore[arg-type]
    named = write(tmp_path / "named.csv", "user,item,rating\na,x,5\nb,y,4\n")
    assert Interactions.from_csv(named, user=0, item=1, weight=2).rows_read == 2


@pytest.mark.parametrize(
    "value", ["2024-01-01T10:00:00.000Z", "2024-01-01 10:00:00Z", "20240101T100000", "1_000"]
)
def test_a_first_line_of_times_read_as_the_header_by_position_is_refused(
    value: str, tmp_path: Path
) -> None:
    """Whatever the timestamp parser reads as a time is a value in a "header" too (an ISO
    time with a 'Z' and milliseconds had passed for a column name, losing the first row)."""
    path = write(tmp_path / "nohead.csv", f"ann,song1,{value}\nbob,song2,{value}\n")
    with pytest.raises(DataError, match=r"looks like a value.*header=False"):
        Interactions.from_csv(path, user=0, item=1)
    data = Interactions.from_csv(path, user=0, item=1, header=False)
    assert data.users.ids.tolist() == ["ann", "bob"]


def test_number_like_takes_what_the_timestamp_parser_reads_and_no_names() -> None:
    from alsrec.data.headers import number_like

    times = ["2024-05-01T12:00:00.000Z", "2024-05-01T12:00:00+02:00", "1_000", "-3e5", ".5"]
    assert all(map(number_like, times))  # 'Z' also on Python 3.10, whose datetime reads none
    names = ["T1", "E5", "Z", "rating", "user_id", "nan", "inf", "2024 sales", ""]
    assert not any(map(number_like, names))


def test_empty_header_only_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="the file is empty"):
        Interactions.from_csv(write(tmp_path / "empty.csv", ""))
    with pytest.raises(DataError, match="no data rows"):
        Interactions.from_csv(write(tmp_path / "head.csv", "user_id,item_id\n"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("user_id,item_id\nJosé,a\n".encode("latin-1"))
    with pytest.raises(
        DataError, match=r"latin\.csv, line 2 \(byte 19\): not valid UTF-8 .*encoding="
    ):
        Interactions.from_csv(latin)
    assert Interactions.from_csv(latin, encoding="latin-1").users.ids.tolist() == ["José"]
    with pytest.raises(DataError, match="Cannot open the CSV file"):
        Interactions.from_csv(tmp_path / "nope.csv")


def test_an_explicit_utf8_encoding_drops_the_byte_order_mark(tmp_path: Path) -> None:
    """encoding='utf-8' (any spelling) reads a leading BOM as the default does: not as part
    of the first ID, which would make 'u1' two users."""
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfu1,i1\nu1,i2\n")
    for encoding in ("utf-8-sig", "utf-8", "UTF8", "utf_8"):
        data = Interactions.from_csv(path, user=0, item=1, header=False, encoding=encoding)
        assert data.users.ids.tolist() == ["u1"], encoding
    headed = tmp_path / "headed.csv"
    headed.write_bytes(b"\xef\xbb\xbfuser_id,item_id\n7,i1\n")
    assert Interactions.from_csv(headed, encoding="utf-8").users.ids.tolist() == [7]


def test_csv_option_validation(tmp_path: Path) -> None:
    path = write(tmp_path / "ok.csv", "user_id,item_id\na,b\n")
    with pytest.raises(ConfigError, match="delimiter must be one character"):
        Interactions.from_csv(path, delimiter=",,")
    with pytest.raises(ConfigError, match="chunk_rows must be an integer >= 1"):
        Interactions.from_csv(path, chunk_rows=0)
    with pytest.raises(ConfigError, match="user_type must be"):
        Interactions.from_csv(path, user_type="float")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="different columns"):
        Interactions.from_csv(path, item="user_id")


def test_odd_argument_values_are_config_errors_naming_the_keyword(tmp_path: Path) -> None:
    """Values that had raised TypeError, LookupError, AttributeError or ValueError from
    deep inside the reader."""
    path = write(tmp_path / "ok.csv", "user_id,item_id\na,b\n")
    odd: list[tuple[dict[str, Any], str]] = [
        (
            {"path": io.BytesIO(b"user_id,item_id\na,b\n")},
            r"path must be a file's path.*from_frame",
        ),
        ({"path": 3}, r"path must be a file's path .*got 3 \(int\)"),
        ({"path": str(tmp_path / "a\x00b.csv")}, r"path .* holds a NUL character"),
        ({"encoding": "hex"}, r"encoding 'hex' is not a known text encoding"),
        ({"encoding": "rot13"}, r"encoding 'rot13' is not a known text encoding"),
        ({"encoding": "base64"}, r"encoding 'base64' is not a known text encoding"),
        ({"progress": "yes"}, r"progress must be True, False, None or a text stream"),
        ({"delimiter": b","}, r"delimiter must be one character \(a str\).*got b','"),
    ]
    for changed, refusal in odd:
        with pytest.raises(ConfigError, match=refusal):
            Interactions.from_csv(**{"path": path, **changed})
    with path.open() as handle, pytest.raises(ConfigError, match=r"a file object \(TextIOWrapper"):
        Interactions.from_csv(handle)  # type: ignore[arg-type]
    bytes_path: Any = str(path).encode()
    assert Interactions.from_csv(bytes_path).nnz == 1  # a bytes path is still read


def test_progress_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "p.csv", csv_text(["user_id", "item_id"], [("a", "b")] * 50))
    out = io.StringIO()
    Interactions.from_csv(path, progress=out, chunk_rows=10)
    drawn = out.getvalue()
    assert "p.csv" in drawn
    assert "100.0%" in drawn
    assert "50 rows" in drawn
    assert drawn.endswith("\n")
    Interactions.from_csv(path, progress=False)
    Interactions.from_csv(path)  # stderr is not a terminal under pytest: silent
    assert capsys.readouterr().err == ""
    Interactions.from_csv(path, progress=True)
    assert "100.0%" in capsys.readouterr().err


# -- SQL (sqlite3) ---------------------------------------------------------------------------


class RecordingConnection:
    """A DB-API connection wrapper that records fetchmany sizes and closes."""

    def __init__(self, inner: sqlite3.Connection) -> None:
        self.inner = inner
        self.fetches: list[int] = []
        self.closed = 0

    def cursor(self) -> RecordingCursor:
        return RecordingCursor(self, self.inner.cursor())


class RecordingCursor:
    def __init__(self, owner: RecordingConnection, inner: sqlite3.Cursor) -> None:
        self.owner = owner
        self.inner = inner

    @property
    def description(self) -> Any:
        return self.inner.description

    def execute(self, query: str, params: Any = ()) -> None:
        self.inner.execute(query, params)

    def fetchmany(self, size: int) -> list[Any]:
        self.owner.fetches.append(size)
        return self.inner.fetchmany(size)

    def fetchall(self) -> list[Any]:
        raise AssertionError("from_sql must stream with fetchmany")

    def close(self) -> None:
        self.owner.closed += 1
        self.inner.close()


def test_sql_streams_in_batches_and_closes_its_cursor(
    rows: list[Row], expected: Interactions
) -> None:
    conn = RecordingConnection(sqlite_with(rows))
    data = Interactions.from_sql(conn, "SELECT * FROM plays", weight="weight", batch_size=40)
    assert data == expected
    assert conn.fetches == [40] * (len(rows) // 40 + 2)  # full batches, the rest, the empty end
    assert conn.closed == 1


def test_sql_rows_as_mappings_are_read_by_column_name(
    rows: list[Row], expected: Interactions
) -> None:
    # psycopg's dict_row, or sqlite3 with a dict row_factory: rows keyed by column name
    # (positions raised a raw KeyError: 0)
    db = sqlite_with(rows)
    db.row_factory = lambda cursor, row: {
        d[0]: value for d, value in zip(cursor.description, row, strict=True)
    }
    data = Interactions.from_sql(db, "SELECT * FROM plays", weight="weight", batch_size=40)
    assert data == expected


def test_sql_params_positions_and_a_passed_cursor(rows: list[Row]) -> None:
    db = sqlite_with(rows)
    data = Interactions.from_sql(
        db,
        "SELECT weight, item_id, user_id FROM plays WHERE weight > ?",
        (2,),
        user=2,
        item=1,
        weight=0,
    )
    kept = [r for r in rows if r[2] > 2]
    assert data.rows_read == len(kept)
    users, items, weights = zip(*kept, strict=True)
    assert data == Interactions.from_arrays(list(users), list(items), list(weights))
    cursor = db.cursor()
    again = Interactions.from_sql(
        cursor, "SELECT * FROM plays WHERE weight > ?", (2,), weight="weight"
    )
    assert again == data
    cursor.execute("SELECT 1")  # not closed by from_sql


def test_sql_errors(rows: list[Row]) -> None:
    db = sqlite_with(rows)
    with pytest.raises(DataError, match="The query returned no rows"):
        Interactions.from_sql(db, "SELECT * FROM plays WHERE weight > 100")
    with pytest.raises(DataError, match=r"The query failed \(sqlite3.OperationalError"):
        Interactions.from_sql(db, "SELECT * FROM nothing")
    before = db.execute("SELECT COUNT(*) FROM plays").fetchone()
    for write in (
        "UPDATE plays SET weight = weight",
        "DELETE FROM plays",
        "  -- a note\n insert into plays values ('x', 'y', 1)",
        "WITH gone AS (DELETE FROM plays RETURNING *) SELECT * FROM gone",
    ):
        with pytest.raises(ConfigError, match=r"reads only.*before running it"):
            Interactions.from_sql(db, write)
    assert db.execute("SELECT COUNT(*) FROM plays").fetchone() == before  # nothing ran
    with pytest.raises(
        DataError, match=r"no column named like the item IDs .*columns \['user_id', 'song'\]"
    ):
        Interactions.from_sql(db, "SELECT user_id, item_id AS song FROM plays")
    with pytest.raises(ConfigError, match="DB-API 2 connection"):
        Interactions.from_sql(object(), "SELECT 1")
    with pytest.raises(ConfigError, match="batch_size"):
        Interactions.from_sql(db, "SELECT * FROM plays", batch_size=0)


def test_sql_bad_rows_and_types() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (user_id, item_id, weight)")
    db.executemany(
        "INSERT INTO t VALUES (?, ?, ?)",
        [("a", 1, 1.0), (None, 2, 1.0), ("b", 3, None), ("c", 4, -1), ("d", 5, "3.5")],
    )
    with pytest.raises(DataError, match=r"query result row 2, column 'user_id': the user ID is"):
        Interactions.from_sql(db, "SELECT * FROM t", weight="weight")
    data = Interactions.from_sql(db, "SELECT * FROM t", weight="weight", on_bad_rows="skip")
    assert data.summary().dropped == {"missing_id": 1, "bad_weight": 1, "negative_weight": 1}
    assert data.users.ids.tolist() == ["a", "d"]
    assert data.matrix.toarray().tolist() == [[1.0, 0.0], [0.0, 3.5]]
    db.execute("INSERT INTO t VALUES (7, 6, 1.0)")
    with pytest.raises(IdTypeError, match=r"row 6, column 'user_id': user ID 7 is an int but"):
        Interactions.from_sql(db, "SELECT * FROM t", weight="weight", on_bad_rows="skip")
    with pytest.raises(IdTypeError, match=r"row 1, column 'user_id': user ID b'x' is a bytes"):
        Interactions.from_sql(db, "SELECT CAST('x' AS BLOB) AS user_id, 1 AS item_id")


def test_sql_decimal_weights_and_timestamps() -> None:
    class Wrapped:
        def __init__(self, rows: list[tuple[Any, ...]]) -> None:
            self.rows = rows
            self.description = [("user_id",), ("item_id",), ("w",), ("t",)]

        def cursor(self) -> Wrapped:
            return self

        def execute(self, query: str) -> None:
            pass

        def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
            out, self.rows = self.rows[:size], self.rows[size:]
            return out

        def close(self) -> None:
            pass

    from datetime import datetime

    rows = [
        ("a", 1, Decimal("2.5"), datetime(2024, 1, 2)),
        ("a", 1, Decimal("1.0"), datetime(2024, 1, 1)),
    ]
    data = Interactions.from_sql(
        Wrapped(rows), "SELECT * FROM t", weight="w", timestamp="t", aggregate="last", batch_size=1
    )
    assert data.matrix.toarray().tolist() == [[2.5]]


# -- PostgreSQL ------------------------------------------------------------------------------


def test_postgres_loads_the_same_rows_as_sqlite(postgres_dsn: str, rows: list[Row]) -> None:
    import psycopg

    from_sqlite = Interactions.from_sql(
        sqlite_with(rows), "SELECT user_id, item_id, weight FROM plays", weight="weight"
    )
    with psycopg.connect(postgres_dsn, autocommit=False) as conn:
        conn.execute(
            "CREATE TEMPORARY TABLE plays (user_id TEXT, item_id BIGINT, weight NUMERIC(6, 2))"
        )
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO plays VALUES (%s, %s, %s)", rows)
        query = "SELECT user_id, item_id, weight FROM plays ORDER BY ctid"
        from_pg = Interactions.from_sql(conn, query, weight="weight", batch_size=50)
        assert from_pg == from_sqlite
        assert from_pg.rows_read == len(rows)
        with conn.cursor(name="alsrec_stream") as server_side:
            streamed = Interactions.from_sql(server_side, query, weight="weight", batch_size=17)
        assert streamed == from_sqlite
        filtered = Interactions.from_sql(
            conn, "SELECT * FROM plays WHERE weight > %s ORDER BY ctid", (2,), weight="weight"
        )
        kept = [r for r in rows if r[2] > 2]
        assert filtered.rows_read == len(kept)
        with pytest.raises(DataError, match="The query returned no rows"):
            Interactions.from_sql(conn, "SELECT * FROM plays WHERE weight > 1000")
        conn.rollback()
        with pytest.raises(DataError, match=r"The query failed \(psycopg"):
            Interactions.from_sql(conn, "SELECT * FROM missing_table")


# -- frames ----------------------------------------------------------------------------------


def test_pandas_frames_with_nulls_and_categories() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "user": pd.array([1, 2, None, 4], dtype="Int64"),
            "item": pd.Categorical(["x", "y", "x", None]),
            "plays": [1.0, 2.0, 3.0, 4.0],
        }
    )
    with pytest.raises(DataError, match=r"frame row 2, column 'user': the user ID is missing"):
        Interactions.from_frame(df, user="user", item="item", weight="plays")
    data = Interactions.from_frame(df, user="user", item="item", weight="plays", on_bad_rows="skip")
    assert data.users.ids.tolist() == [1, 2]
    assert data.users.kind == "int"
    assert data.items.ids.tolist() == ["x", "y"]
    assert data.summary().dropped == {"missing_id": 2}
    with pytest.raises(
        DataError, match=r"no column 'song' \(the item column\); its columns are \['user'"
    ):
        Interactions.from_frame(df, user="user", item="song")
    floats = pd.DataFrame({"user_id": [1.0, 2.0], "item_id": ["a", "b"]})
    with pytest.raises(IdTypeError, match="nullable integer dtype"):
        Interactions.from_frame(floats)
    numbered = pd.DataFrame({0: ["a", "b"], 1: ["x", "y"]})
    assert Interactions.from_frame(numbered, user=0, item=1).shape == (2, 2)


def test_polars_frames_with_nulls_and_timestamps() -> None:
    pl = pytest.importorskip("polars")
    from datetime import datetime

    df = pl.DataFrame(
        {
            "user_id": ["a", "a", None, "b"],
            "item_id": [1, 1, 2, None],
            "w": [1.0, 5.0, 1.0, 2.0],
            "at": [datetime(2024, 1, 2), datetime(2024, 1, 1), None, datetime(2024, 1, 3)],
        }
    )
    data = Interactions.from_frame(
        df, weight="w", timestamp="at", aggregate="last", on_bad_rows="skip"
    )
    assert data.matrix.toarray().tolist() == [[1.0]]  # a's latest row is the first
    assert data.summary().dropped == {"missing_id": 2}
    with pytest.raises(ConfigError, match="pandas or polars DataFrame"):
        Interactions.from_frame([[1, 2]])


@pytest.mark.parametrize("chunk_rows", [1, 7, 1000])
def test_lone_cr_line_ends_lose_no_row_and_name_the_right_line(
    chunk_rows: int, tmp_path: Path
) -> None:
    """Old Mac / Excel exports end lines with a lone "\\r": every row is read (the first
    block used to be parsed for the header only, dropping the rest unreported), and a bad
    row is named by its physical line, as with "\\n" and mixed line ends."""
    rows = [f"u{k},i{k % 30},{k % 5 + 1}" for k in range(300)]
    mixed = (
        "\r".join(rows[:100]) + "\n" + "\r\n".join(rows[100:200]) + "\r\n" + "\n".join(rows[200:])
    )
    for body in ("\r".join(rows) + "\r", mixed):
        path = write(tmp_path / "mac.csv", "user,item,w\r" + body)
        data = Interactions.from_csv(
            path, user="user", item="item", weight="w", chunk_rows=chunk_rows
        )
        assert data.rows_read == 300 and data.nnz == 300
        assert data.matrix.sum() == sum(k % 5 + 1 for k in range(300))
    bad = rows.copy()
    bad[150] = "u150,i0,-1"
    path = write(tmp_path / "bad.csv", "user,item,w\r" + "\r".join(bad) + "\r")
    with pytest.raises(DataError, match=r"bad\.csv, line 152, column .w.: weight .-1. is negative"):
        Interactions.from_csv(path, user="user", item="item", weight="w", chunk_rows=chunk_rows)


def test_compressed_files_are_read_and_decoding_errors_are_located(tmp_path: Path) -> None:
    """gzip, bzip2 and xz files are read as they are, whatever their name; a damaged one,
    a zip archive and an unknown encoding get typed errors; an undecodable byte is named
    by its line and byte offset, compressed or not."""
    import bz2
    import gzip
    import lzma
    import zipfile

    rows = [f"u{k},i{k % 7},{k % 3 + 1}" for k in range(3000)]
    text = "user_id,item_id,w\n" + "\n".join(rows) + "\n"
    plain = Interactions.from_csv(write(tmp_path / "plain.csv", text), weight="w")
    for name, opener in (("a.csv.gz", gzip.open), ("b.bz2", bz2.open), ("c.dat", lzma.open)):
        with opener(tmp_path / name, "wt", newline="") as fh:
            fh.write(text)
        assert Interactions.from_csv(tmp_path / name, weight="w") == plain
    damaged = tmp_path / "cut.csv.gz"
    damaged.write_bytes((tmp_path / "a.csv.gz").read_bytes()[:200])
    with pytest.raises(DataError, match=r"cut\.csv\.gz: cannot read the gzip data.*truncated"):
        Interactions.from_csv(damaged, weight="w")
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as archive:
        archive.writestr("d.csv", text)
    with pytest.raises(DataError, match="is a zip archive, not CSV text"):
        Interactions.from_csv(tmp_path / "d.zip")
    # Parquet is named as such (it had been called "not valid UTF-8", to pass an encoding)
    (tmp_path / "e.parquet").write_bytes(b"PAR1\x15\x04\x15\x10\x00" + b"\x00" * 40 + b"PAR1")
    with pytest.raises(DataError, match=r"is a Parquet file, not CSV text.*from_frame"):
        Interactions.from_csv(tmp_path / "e.parquet")
    with pytest.raises(ConfigError, match="encoding 'latin9x' is not a known text encoding"):
        Interactions.from_csv(tmp_path / "plain.csv", encoding="latin9x")
    bad = rows.copy()
    bad[2500] = "u\xe9,i1,1"
    body = ("user_id,item_id,w\n" + "\n".join(bad) + "\n").encode("latin-1")
    offset = body.index(b"\xe9")
    (tmp_path / "latin.csv").write_bytes(body)
    where = rf"line 2502 \(byte {offset:,}\): not valid UTF-8"
    with pytest.raises(DataError, match=where):
        Interactions.from_csv(tmp_path / "latin.csv", weight="w")
    with gzip.open(tmp_path / "latin.csv.gz", "wb") as fh:
        fh.write(body)
    with pytest.raises(DataError, match=rf"line 2502 \(byte {offset:,} uncompressed\)"):
        Interactions.from_csv(tmp_path / "latin.csv.gz", weight="w")


def test_utf16_and_utf32_text_is_told_by_its_first_bytes(tmp_path: Path) -> None:
    """A UTF-32 byte-order mark is not taken for UTF-16's (which it starts with), and
    UTF-16/32 text without one is told by where its NUL bytes fall; each refusal names the
    encoding that reads the file."""
    text = "user_id,item_id\nu1,i1\nu2,i2\n"
    cases = [
        ("utf-32", "utf-8-sig", r"a UTF-32 byte-order mark.*encoding='utf-32'"),
        ("utf-32", "utf-16", r"a UTF-32 byte-order mark: it is UTF-32 text, not utf-16"),
        ("utf-16", "latin-1", r"a UTF-16 byte-order mark.*not latin-1.*encoding='utf-16'"),
        ("utf-16-le", "utf-8-sig", r"every other byte is NUL.*encoding='utf-16-le'"),
        ("utf-16-be", "cp1252", r"every other byte is NUL.*encoding='utf-16-be'"),
        ("utf-32-be", "utf-8", r"three of every four bytes are NUL.*encoding='utf-32-be'"),
    ]
    for k, (written, read_as, refusal) in enumerate(cases):
        path = tmp_path / f"w{k}.csv"
        path.write_bytes(text.encode(written))
        with pytest.raises(DataError, match=rf"w{k}\.csv.*{refusal}"):
            Interactions.from_csv(path, encoding=read_as)
        # the encoding suggested (the one written) reads it
        assert Interactions.from_csv(path, encoding=written).users.ids.tolist() == ["u1", "u2"]


def test_an_integer_id_beyond_64_bits_is_called_out_of_range(tmp_path: Path) -> None:
    """It is written plainly; the reason it cannot be an int64 is its size."""
    path = write(tmp_path / "huge.csv", "user_id,item_id\n5,a\n9223372036854775808,b\n")
    with pytest.raises(
        IdTypeError, match=r"line 3, .*'9223372036854775808' is outside the 64-bit"
    ) as err:
        Interactions.from_csv(path)
    assert "written plainly" not in str(err.value) and "user_type='str'" in str(err.value)
    assert Interactions.from_csv(path, user_type="str").users.ids.tolist() == [
        "5",
        "9223372036854775808",
    ]


@pytest.mark.parametrize("chunk_rows", [1, 1000])
@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_blank_lines_at_the_end_of_the_file_are_counted_not_refused(
    chunk_rows: int, end: str, tmp_path: Path
) -> None:
    """An editor's blank lines after the last row are dropped and counted
    (``blank_line``), under on_bad_rows='raise' too; a blank line between rows still
    raises, naming its line."""
    rows = end.join(f"u{k},i{k % 3}" for k in range(20))
    path = write(tmp_path / "t.csv", "user_id,item_id" + end + rows + end * 3)
    data = Interactions.from_csv(path, chunk_rows=chunk_rows)
    assert data.nnz == 20 and data.rows_read == 22
    assert data.summary().dropped == {"blank_line": 2}
    inner = write(tmp_path / "i.csv", "user_id,item_id" + end + "u1,a" + end * 2 + "u2,b" + end)
    with pytest.raises(DataError, match=r"line 3: the line is blank"):
        Interactions.from_csv(inner, chunk_rows=chunk_rows)


def test_a_progress_option_that_is_no_stream_is_refused_by_every_reader() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (user_id TEXT, item_id TEXT)")
    db.execute("INSERT INTO t VALUES ('a', 'x')")
    with pytest.raises(ConfigError, match=r"progress must be True, False, None or a text"):
        Interactions.from_sql(db, "SELECT * FROM t", progress="yes")  # type: ignore[arg-type]
