"""One rule finds the user, item and weight columns that a caller does not name, in every
reader: fit(df), from_frame, from_csv, from_sql and the command line."""

from __future__ import annotations

import sqlite3
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from alsrec import DataError, Interactions, Recommender, cli
from alsrec.data.columns import COMMON_COLUMNS, candidates

if TYPE_CHECKING:
    from pathlib import Path

ROWS = [("ann", "x", 3.0), ("ann", "y", 1.0), ("bob", "y", 5.0), ("cid", "z", 2.0)]


Read = tuple[list[object], list[object], list[list[float]]]


def read_all(tmp_path: Path, header: list[str]) -> dict[str, Read]:
    """The rows under ``header`` through every reader, no column named: (users, items,
    the dense weight matrix) of each."""
    frame = pd.DataFrame(ROWS, columns=header)
    csv_path = tmp_path / "rows.csv"
    frame.to_csv(csv_path, index=False)
    db = sqlite3.connect(":memory:")
    frame.to_sql("t", db, index=False)
    out: dict[str, Read] = {}
    for name, data in (
        ("from_frame", Interactions.from_frame(frame)),
        ("from_csv", Interactions.from_csv(csv_path)),
        ("from_sql", Interactions.from_sql(db, "SELECT * FROM t")),
    ):
        out[name] = (
            data.users.ids.tolist(),
            data.items.ids.tolist(),
            data.matrix.toarray().tolist(),
        )
    rec = Recommender(factors=2, iterations=1).fit(frame)
    assert rec.seen_ is not None
    out["fit"] = (rec.users_.ids.tolist(), rec.items_.ids.tolist(), rec.seen_.toarray().tolist())
    return out


@pytest.mark.parametrize(
    "header",
    [["user_id", "item_id", "weight"], ["userId", "movieId", "weight"], ["user", "item", "weight"]],
)
def test_every_reader_finds_the_same_columns(tmp_path: Path, header: list[str]) -> None:
    for name, (users, items, dense) in read_all(tmp_path, header).items():
        assert users == ["ann", "bob", "cid"], name
        assert items == ["x", "y", "z"], name
        assert dense == [[3, 1, 0], [0, 5, 0], [0, 0, 2]], name


def test_the_first_common_name_wins_and_others_must_be_unique(tmp_path: Path) -> None:
    assert candidates(["user", "user_id"], "user") == ["user_id"]
    assert candidates(["userId", "user"], "user") == ["user", "userId"]
    frame = pd.DataFrame({"userId": ["a"], "user": ["b"], "item": ["x"]})
    for read in (Interactions.from_frame, lambda f: Recommender().fit(f)):
        with pytest.raises(DataError, match=r"Several columns .*\['user', 'userId'\].*user="):
            read(frame)
    path = tmp_path / "two.csv"
    path.write_text("userId,user,item\na,b,x\n")
    with pytest.raises(DataError, match=r"Several columns could hold the user IDs"):
        Interactions.from_csv(path)
    assert COMMON_COLUMNS["user"][0] == "user_id" and COMMON_COLUMNS["item"][0] == "item_id"


def test_named_columns_are_read_as_named_and_headerless_files_need_positions(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("user_id,who,item_id,weight\nann,bob,x,3\n")
    named = Interactions.from_csv(path, user="who")
    assert named.users.ids.tolist() == ["bob"] and named.matrix.data.tolist() == [3.0]
    bare = tmp_path / "bare.csv"
    bare.write_text("ann,x\n")
    with pytest.raises(Exception, match=r"header=False reads the columns by position"):
        Interactions.from_csv(bare, header=False)
    got = cli.main(["train", str(bare), "--no-header", "-o", str(tmp_path / "m")])
    assert got == 2 and not (tmp_path / "m").exists()


def test_the_command_line_finds_the_columns_as_the_library_does(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    pd.DataFrame(ROWS, columns=["userId", "movieId", "weight"]).to_csv(path, index=False)
    assert cli.main(["train", str(path), "--factors", "2", "-o", str(tmp_path / "m")]) == 0
    model = Recommender.load(tmp_path / "m")
    assert model.users_.ids.tolist() == ["ann", "bob", "cid"]
    seen = model.seen_
    assert seen is not None
    assert np.allclose(seen.toarray(), [[3, 1, 0], [0, 5, 0], [0, 0, 2]])


def test_weight_false_reads_no_weight_column_whatever_the_names(tmp_path: Path) -> None:
    path = tmp_path / "w0.csv"
    path.write_text("user_id,item_id,weight\n1,a,0\n2,b,1\n1,b,2\n")
    with pytest.raises(DataError, match=r"read as the weights for its name; weight=False"):
        Interactions.from_csv(path)  # the zero weight, found by the column's name
    frame = pd.read_csv(path)
    db = sqlite3.connect(":memory:")
    frame.to_sql("t", db, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # weight=False on purpose: no unread-column warning
        for data in (
            Interactions.from_csv(path, weight=False),
            Interactions.from_frame(frame, weight=False),
            Interactions.from_sql(db, "SELECT * FROM t", weight=False),
        ):
            assert data.matrix.data.tolist() == [1.0, 1.0, 1.0]
    out = tmp_path / "m"
    assert cli.main(["train", str(path), "--no-weight", "--factors", "2", "-o", str(out)]) == 0
    assert cli.main(["train", str(path), "-o", str(tmp_path / "m2")]) == 3
    both = ["train", str(path), "--no-weight", "--weight-col", "weight", "-o", str(out)]
    assert cli.main(both) == 2


def test_an_id_that_starts_like_parquet_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "par.csv"
    path.write_text("PAR1001,widget\nPAR1002,gadget\n")
    data = Interactions.from_csv(path, 0, 1, header=False)
    assert data.users.ids.tolist() == ["PAR1001", "PAR1002"]
