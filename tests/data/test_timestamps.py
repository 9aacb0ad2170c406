"""Timestamps survive ingestion: one parser, kept per pair, latest of merged duplicates."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np
import pytest

from alsrec import DataError, Interactions
from alsrec.data import parse_timestamps
from alsrec.data.timestamps import to_seconds

if TYPE_CHECKING:
    from pathlib import Path

DAY = 86400.0


def test_one_parser_reads_numbers_iso_text_datetimes_and_datetime64() -> None:
    values = [
        "1970-01-02",
        "86400",
        86400,
        datetime(1970, 1, 2, tzinfo=timezone.utc),
        np.datetime64("1970-01-02"),
    ]
    assert parse_timestamps(values).tolist() == [DAY] * 5
    assert to_seconds("1970-01-02T01:00:00+01:00") == DAY
    with pytest.raises(DataError, match=r"row 1 is 'monday'"):
        parse_timestamps(["1", "monday"])
    with pytest.raises(DataError, match="one-dimensional"):
        parse_timestamps(np.zeros((2, 2)))


def test_merged_duplicates_keep_the_latest_timestamp_under_every_aggregate() -> None:
    for aggregate in ("sum", "max", "last", "count"):
        data = Interactions.from_arrays(
            ["u", "u", "v"], ["a", "a", "a"], [1, 2, 3], timestamps=[5, 3, 1], aggregate=aggregate
        )
        assert data.timestamps is not None
        assert data.timestamps.tolist() == [5.0, 1.0]


def test_filters_drop_the_timestamps_of_dropped_pairs() -> None:
    data = Interactions.from_arrays(
        ["u", "u", "v", "w"],
        ["a", "b", "a", "c"],
        timestamps=[1, 2, 3, 4],
        min_item_interactions=2,
    )
    assert data.items.ids.tolist() == ["a"]
    assert data.timestamps is not None and data.timestamps.tolist() == [1.0, 3.0]


def test_csv_sql_and_frame_keep_timestamps_aligned_with_the_matrix(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("user,item,ts\nu,b,2024-01-02\nu,a,2024-01-01\nv,a,2024-01-03\n")
    from_csv = Interactions.from_csv(path, user="user", item="item", timestamp="ts")
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE e (user TEXT, item TEXT, ts TEXT)")
    db.executemany(
        "INSERT INTO e VALUES (?, ?, ?)",
        [("u", "b", "2024-01-02"), ("u", "a", "2024-01-01"), ("v", "a", "2024-01-03")],
    )
    from_sql = Interactions.from_sql(
        db, "SELECT * FROM e", user="user", item="item", timestamp="ts"
    )
    for data in (from_csv, from_sql):
        assert data.timestamps is not None
        m = data.matrix.tocoo()
        got = {
            (str(data.users.ids[r]), str(data.items.ids[c])): t
            for r, c, t in zip(m.row, m.col, data.timestamps, strict=True)
        }
        start = datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp()
        assert got == {("u", "a"): start, ("u", "b"): start + DAY, ("v", "a"): start + 2 * DAY}


def test_without_a_timestamp_column_there_are_none_and_a_wrong_length_is_refused() -> None:
    data = Interactions.from_arrays(["u"], ["a"])
    assert data.timestamps is None
    with pytest.raises(DataError, match="one timestamp per stored pair"):
        Interactions(data.users, data.items, data.matrix, 1, 0, timestamps=np.zeros(2))


def test_vectorized_paths_agree_with_the_one_value_parser() -> None:
    """Plain ISO text is read by numpy at once and a time-zone-aware pandas column as
    datetime64; both give what to_seconds gives value by value, and an impossible date
    still marks its own row."""
    import pandas as pd

    from alsrec.data.timestamps import try_parse_timestamps

    rng = np.random.default_rng(0)
    stamps = pd.to_datetime(rng.integers(0, 4 * 10**9, 300), unit="s")
    forms = ["%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"]
    text = [stamp.strftime(forms[k % 4]) for k, stamp in enumerate(stamps)]
    seconds, bad = try_parse_timestamps(text)
    assert not bad.any()
    assert seconds.tolist() == [to_seconds(value) for value in text]
    seconds, bad = try_parse_timestamps([*text[:3], "2024-02-30", "2024-05-01+02:00"])
    assert bad.tolist() == [False, False, False, True, False]
    assert seconds[4] == to_seconds("2024-05-01+02:00")
    zoned = pd.Series(stamps, name="t").dt.tz_localize("UTC").dt.tz_convert("Asia/Kolkata")
    frame = pd.DataFrame({"user": range(300), "item": 1, "t": zoned})
    data = Interactions.from_frame(frame, user="user", item="item", timestamp="t")
    assert data.timestamps is not None
    expected = {u: to_seconds(ts.to_pydatetime()) for u, ts in zip(range(300), zoned, strict=True)}
    coo = data.matrix.tocoo()
    got = {int(data.users.ids[r]): float(data.timestamps[k]) for k, r in enumerate(coo.row)}
    assert got == expected
