"""A reader that reads no weight column names the numeric columns it left unread.

Without a weight every row weighs 1.0; a ``rating`` or ``plays`` column beside the IDs was
probably meant as the weight, so ``from_csv`` (and the command line, in flags) says so,
as ``fit(df)`` does.
"""

from __future__ import annotations

import io
import warnings
from typing import TYPE_CHECKING

import pytest

from alsrec import AlsrecWarning, Interactions, Recommender, UnreadColumnWarning, cli
from alsrec.data.unread import looks_numeric

if TYPE_CHECKING:
    from pathlib import Path


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _read_quietly(path: Path, **kwargs: object) -> Interactions:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return Interactions.from_csv(path, **kwargs)  # type: ignore[arg-type]


RATED = "user_id,item_id,rating,timestamp\nu1,i1,5,100\nu1,i2,3,101\nu2,i1,4,102\n"


def test_a_numeric_column_left_unread_is_named_with_the_keyword(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.csv", RATED)
    with pytest.warns(AlsrecWarning, match=r"weighs 1\.0.*\['rating'\].*weight='rating'") as got:
        data = Interactions.from_csv(path)
    assert set(data.matrix.data.tolist()) == {1.0}
    assert "timestamp" not in str(got[0].message)  # a time column is not a candidate weight
    assert got[0].filename == __file__  # points at the caller's line


def test_no_warning_when_the_weight_is_read_or_nothing_else_is_numeric(tmp_path: Path) -> None:
    rated = _write(tmp_path / "r.csv", RATED)
    assert _read_quietly(rated, weight="rating").nnz == 3
    labelled = _write(tmp_path / "l.csv", "user_id,item_id,label\nu1,i1,a\nu2,i2,b\n")
    assert _read_quietly(labelled).nnz == 2
    constant = _write(tmp_path / "c.csv", "user_id,item_id,weight\nu1,i1,1.0\nu2,i2,1.0\n")
    assert _read_quietly(constant).nnz == 2  # one value everywhere weighs rows alike


def test_quoted_and_headerless_files_are_checked_too(tmp_path: Path) -> None:
    quoted = _write(tmp_path / "q.csv", 'user_id,item_id,plays\n"u,1",i1,7\nu2,"i,2",2\n')
    with pytest.warns(AlsrecWarning, match=r"\['plays'\]"):
        Interactions.from_csv(quoted)
    bare = _write(tmp_path / "b.csv", "u1,i1,5\nu2,i1,2\n")
    with pytest.warns(AlsrecWarning, match=r"\[2\].*weight=2"):
        Interactions.from_csv(bare, user=0, item=1, header=False)


def test_the_command_line_says_it_in_flags(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.csv", RATED)
    out, err = io.StringIO(), io.StringIO()
    argv = ["train", str(path), "--user-col", "user_id", "--item-col", "item_id"]
    argv += ["--factors", "2", "--iterations", "2", "-o", str(tmp_path / "m")]
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # the note, not pytest's error filter
        code = cli.main(argv, out=out, err=err)
    assert code == 0, err.getvalue()
    assert "alsrec: note:" in err.getvalue()
    assert "--weight-col rating" in err.getvalue()
    assert "weight='rating'" not in err.getvalue()


def test_the_warning_has_its_own_category_to_filter_and_evaluate_test_skips_it(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path / "r.csv", RATED)
    with pytest.warns(UnreadColumnWarning) as got:
        Interactions.from_csv(path)
    assert issubclass(got[0].category, AlsrecWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", UnreadColumnWarning)  # weighing 1.0 on purpose
        assert Interactions.from_csv(path).nnz == 3
    # A test file's weights change no metric (relevance is binary): no note there.
    users, items = ["u1", "u2", "u3", "u3"], ["i3", "i3", "i1", "i2"]  # the test pairs unseen
    model = Recommender(factors=2, iterations=2).fit(users, items)
    model.save(tmp_path / "m")
    out, err = io.StringIO(), io.StringIO()
    argv = ["evaluate", str(tmp_path / "m"), "--test", str(path)]
    argv += ["--user-col", "user_id", "--item-col", "item_id"]
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        code = cli.main(argv, out=out, err=err)
    assert code == 0, err.getvalue()
    assert "weight" not in err.getvalue()


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["4", "3.5", ""], True),
        (["4", "five"], False),
        (["1", "1.0"], False),
        (["", " "], False),
        (["2", "inf"], False),
    ],
)
def test_looks_numeric(texts: list[str], expected: bool) -> None:
    assert looks_numeric(texts) is expected


def test_from_sql_names_a_numeric_column_it_left_unread() -> None:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (user_id TEXT, item_id TEXT, rating REAL, ts INTEGER, note TEXT)")
    rows = [("u1", "i1", 5.0, 1, "x"), ("u1", "i2", 3.0, 2, "y"), ("u2", "i1", 4.0, 3, "z")]
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", rows)
    query = "SELECT user_id, item_id, rating, ts, note FROM t"
    with pytest.warns(AlsrecWarning, match=r"\['rating'\].*weight='rating'") as got:
        Interactions.from_sql(conn, query)
    assert "'ts'" not in str(got[0].message) and "'note'" not in str(got[0].message)
    assert got[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Interactions.from_sql(conn, query, weight="rating").nnz == 3
        assert Interactions.from_sql(conn, "SELECT user_id, item_id, note FROM t").nnz == 3


def test_from_frame_names_a_numeric_column_it_left_unread_as_fit_does() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {"user_id": ["u1", "u1", "u2"], "item_id": ["i1", "i2", "i1"], "plays": [5, 3, 4]}
    )
    with pytest.warns(UnreadColumnWarning, match=r"\['plays'\].*weight='plays'") as got:
        data = Interactions.from_frame(frame)
    assert set(data.matrix.data.tolist()) == {1.0}  # what the warning says was done
    assert got[0].filename == __file__
    # fit(df) reaches the same reader two calls deeper; the warning still points here.
    with pytest.warns(UnreadColumnWarning, match=r"\['plays'\]") as got:
        Recommender(factors=2, iterations=1).fit(frame)
    assert len(got) == 1 and got[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Interactions.from_frame(frame, weight="plays").matrix.sum() == 12.0
        assert Interactions.from_frame(frame[["user_id", "item_id"]]).nnz == 3


def test_columns_named_like_times_or_ids_are_not_proposed_as_the_weight(tmp_path: Path) -> None:
    """``event_time`` and ``order_id`` hold numbers but are no weight: the warning named
    them and said "Pass weight='event_time'"."""
    only_times_and_ids = "user_id,item_id,event_time,order_id\nu1,i1,100,7\nu2,i2,200,8\n"
    assert _read_quietly(_write(tmp_path / "t.csv", only_times_and_ids)).nnz == 2
    header = "user_id,item_id,created_at,timestamp_ms,eventTime,orderId,SESSION_ID,index,clicks"
    mixed = _write(tmp_path / "m.csv", f"{header}\nu1,i1,1,2,3,4,5,0,9\nu2,i2,2,3,4,5,6,1,1\n")
    with pytest.warns(
        UnreadColumnWarning, match=r"\['clicks'\] were not read\. Pass weight='clicks'"
    ):
        Interactions.from_csv(mixed)
    import pandas as pd

    frame = pd.DataFrame(
        {
            "user_id": ["u1", "u2"],
            "item_id": ["i1", "i2"],
            "sent_ts": [1, 2],
            "item_idx": [0, 1],
            "rating": [5, 3],
            "quantity": [1, 2],
        }
    )
    with pytest.warns(UnreadColumnWarning, match=r"\['rating', 'quantity'\]"):
        Interactions.from_frame(frame)
    for duration in ("watch_time", "listening_time", "total_time", "time_on_page"):
        durations = frame.rename(columns={"rating": duration, "quantity": "amount_paid"})
        with pytest.warns(UnreadColumnWarning, match=rf"\['{duration}', 'amount_paid'\]"):
            Interactions.from_frame(durations)  # a duration and an amount are weights
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Interactions.from_frame(frame.drop(columns=["rating", "quantity"])).nnz == 2
