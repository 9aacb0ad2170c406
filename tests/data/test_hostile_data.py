"""Hostile interaction data and IDs (issue 18, items 4, 5, 7, 12, 13 and 14).

Wrong answers without an error, and input whose cost is out of proportion to its size.
No test here allocates more than about 100 MB, even against the code these tests were
written to catch.
"""

from __future__ import annotations

import json
import os
import threading
import tracemalloc
import warnings
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from alsrec import (
    AlsrecWarning,
    ArtifactError,
    DataError,
    IdMapper,
    Interactions,
    Recommender,
    UnknownIdError,
)
from alsrec.io.format import manifest_digest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


@contextmanager
def peak_bytes() -> Iterator[list[int]]:
    """A one-element list holding the traced peak allocation once the block ends."""
    out = [0]
    tracemalloc.start()
    try:
        yield out
    finally:
        out[0] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


# -- item 4: nullable integer ID columns keep IDs above 2**53 exact ----------------------------

BIG = 2**53


def big_id_frame() -> dict[str, list[Any]]:
    return {
        "user": [BIG, BIG + 1, None, BIG + 3],
        "item": [7, 8, 9, 10],
    }


def assert_exact_big_users(data: Interactions) -> None:
    assert data.users.kind == "int"
    assert sorted(data.users.ids.tolist()) == [BIG, BIG + 1, BIG + 3]
    assert data.shape == (3, 3)


def test_pandas_nullable_int64_ids_stay_exact() -> None:
    # pd.array builds the Int64 column directly: DataFrame(...).astype("Int64") would go
    # through float64 (because of the None) and round the IDs before alsrec sees them.
    columns = big_id_frame()
    users = pd.array(columns["user"], dtype="Int64")
    frame = pd.DataFrame({"user": users, "item": columns["item"]})
    assert frame["user"].to_list()[1] == BIG + 1
    data = Interactions.from_frame(frame, "user", "item", on_bad_rows="skip")
    assert_exact_big_users(data)


def test_polars_nullable_int64_ids_stay_exact() -> None:
    frame = pl.DataFrame(big_id_frame(), schema={"user": pl.Int64, "item": pl.Int64})
    data = Interactions.from_frame(frame, "user", "item", on_bad_rows="skip")
    assert_exact_big_users(data)


def test_nullable_ids_without_nulls_stay_exact() -> None:
    """Without a null the column is plain int64 (this holds today)."""
    frame = pd.DataFrame({"user": [BIG, BIG + 1], "item": [1, 2]}).astype({"user": "Int64"})
    data = Interactions.from_frame(frame, "user", "item")
    assert sorted(data.users.ids.tolist()) == [BIG, BIG + 1]


# -- item 5: big-endian unicode IDs match, or are refused --------------------------------------


def big_endian(ids: list[str]) -> np.ndarray[Any, np.dtype[np.str_]]:
    arr = np.array(ids, dtype=">U8")
    assert arr.dtype.byteorder == ">"
    return arr


def recommend_or_refuse(call: Callable[[], Any]) -> Any:
    """The call's result, or ``None`` when it raised alsrec's refusal (DataError)."""
    try:
        return call()
    except DataError as exc:
        refusal = str(exc)
    assert "byte order" in refusal or "big-endian" in refusal
    return None


def test_big_endian_ids_in_fit_match_native_queries() -> None:
    users = big_endian(["u1", "u1", "u2", "u3"])
    rec = recommend_or_refuse(
        lambda: Recommender(factors=2, iterations=2, random_state=0).fit(
            users, ["a", "b", "a", "c"]
        )
    )
    if rec is None:
        return
    assert rec.recommend("u2", n=2).source == "model"
    assert rec.users_.index_of("u3") == 2


def test_big_endian_query_ids_match() -> None:
    rec = Recommender(factors=2, iterations=2, random_state=0).fit(
        ["u1", "u1", "u2", "u3"], ["a", "b", "a", "c"]
    )
    batch = recommend_or_refuse(lambda: rec.recommend_many(big_endian(["u2", "u3"]), n=2))
    if batch is None:
        return
    assert batch.sources.tolist() == ["model", "model"]
    assert batch.skipped == ()


def test_big_endian_ids_in_id_mapper() -> None:
    mapper = recommend_or_refuse(lambda: IdMapper(big_endian(["x", "y", "z"])))
    if mapper is None:
        return
    assert mapper.index_of("y") == 1
    assert mapper.to_index(["z", "x"]).tolist() == [2, 0]


def test_big_endian_ids_in_from_factors() -> None:
    rec = recommend_or_refuse(
        lambda: Recommender.from_factors(
            np.eye(2), np.eye(2), big_endian(["u1", "u2"]), big_endian(["a", "b"])
        )
    )
    if rec is None:
        return
    recs = rec.recommend("u1", n=1)
    assert recs.source == "model"
    assert recs.ids.tolist() == ["a"]


def rewrite_array(artifact: Path, name: str, arr: np.ndarray[Any, Any]) -> None:
    """Replace one array file and fix its manifest entry, as a careful forger would."""
    import hashlib

    np.save(artifact / f"{name}.npy", arr, allow_pickle=False)
    raw = (artifact / f"{name}.npy").read_bytes()
    manifest = json.loads((artifact / "manifest.json").read_text())
    manifest["arrays"][name].update(
        dtype=np.lib.format.dtype_to_descr(arr.dtype),
        shape=list(arr.shape),
        bytes=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
    )
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (artifact / "manifest.json").write_text(json.dumps(manifest))


def test_big_endian_ids_in_an_artifact(tmp_path: Path) -> None:
    rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    path = rec.save(tmp_path / "model")
    rewrite_array(path, "user_ids", big_endian(["u1", "u2"]))
    try:
        loaded = Recommender.load(path)
    except ArtifactError as exc:
        refusal = str(exc)
        loaded = None
    if loaded is None:
        assert "user_ids" in refusal
        return
    assert loaded.recommend("u2", n=1).source == "model"


# -- item 7: a str ID against an int-ID model is reported -------------------------------------


@pytest.fixture(scope="module")
def int_model() -> Recommender:
    return Recommender(factors=2, iterations=2, random_state=0).fit(
        [196, 196, 186, 22], [242, 302, 242, 377]
    )


def test_str_id_for_an_int_model_warns_under_safe(int_model: Recommender) -> None:
    with pytest.warns(AlsrecWarning, match="int"):
        recs = int_model.recommend("196", n=2)
    assert recs.source == "fallback"


def test_str_ids_in_a_batch_for_an_int_model_warn(int_model: Recommender) -> None:
    with pytest.warns(AlsrecWarning, match="int"):
        int_model.recommend_many(["196", "186"], n=2)


def test_str_id_for_an_int_model_under_strict_names_the_id_type(int_model: Recommender) -> None:
    with pytest.raises(UnknownIdError) as info:
        int_model.recommend("196", n=2, policy="strict")
    message = str(info.value)
    assert "'196'" in message
    assert "int" in message.replace("'196'", "")


def test_int_id_for_an_int_model_does_not_warn(int_model: Recommender) -> None:
    """The right type gives no warning (this holds today)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert int_model.recommend(196, n=2).source == "model"


# -- item 12: a long ID costs memory in proportion to the input --------------------------------


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        fh.write("user_id,item_id\n")
        fh.writelines(f"{u},{i}\n" for u, i in rows)
    return path


def test_one_long_id_does_not_widen_every_id(tmp_path: Path) -> None:
    # 500 distinct users and one user ID of 10,000 characters: a 14 kB file. Fixed-width
    # storage makes every user ID 10,000 characters wide: 501 x 10,000 x 4 bytes = 20 MB,
    # copied a few times (a 77 MiB peak today).
    rows = [(f"u{k}", f"i{k % 20}") for k in range(500)]
    rows.insert(250, ("L" * 10_000, "i1"))
    path = write_csv(tmp_path / "long.csv", rows)
    size = path.stat().st_size
    with peak_bytes() as peak:
        refusal = ""
        try:
            data = Interactions.from_csv(path)
        except DataError as exc:
            refusal = str(exc)
            data = None
    assert peak[0] < 8 << 20, f"peak {peak[0] / 2**20:.1f} MiB for a {size / 1024:.0f} kB file"
    if data is None:
        assert "line 252" in refusal
    else:
        assert "L" * 10_000 in data.users.ids.tolist()
        assert data.shape == (501, 20)


def test_an_unquoted_field_over_the_limit_is_a_data_error(tmp_path: Path) -> None:
    # The quoted path stops at the csv module's 131,072 characters; the unquoted one too.
    path = write_csv(tmp_path / "wide.csv", [("u1", "i1"), ("x" * 200_000, "i2"), ("u3", "i3")])
    with pytest.raises(DataError, match="line 3"):
        Interactions.from_csv(path)


def test_a_quoted_field_over_the_limit_is_a_data_error(tmp_path: Path) -> None:
    """This holds today: the csv module's field limit, reported with its line."""
    path = write_csv(tmp_path / "wide.csv", [("u1", "i1"), ('"' + "x" * 200_000 + '"', "i2")])
    with pytest.raises(DataError, match="line 3"):
        Interactions.from_csv(path)


# -- item 13: an unbalanced quote fails as soon as the field passes the limit -----------------


def test_an_unbalanced_quote_fails_early_without_reading_the_rest(tmp_path: Path) -> None:
    # The quote on line 3 never closes. The reader must stop once the open field passes the
    # field limit (131,072 characters), not gather the rest of the file (1.5 MB) first.
    path = tmp_path / "quote.csv"
    with path.open("w") as fh:
        fh.write('user_id,item_id\nu1,i1\nu2,"i2\n')
        fh.writelines(("x" * 996) + ",yy\n" for _ in range(1500))
    with peak_bytes() as peak, pytest.raises(DataError, match="line 3") as info:
        Interactions.from_csv(path, chunk_rows=100)
    assert "131" in str(info.value) or "limit" in str(info.value)
    assert peak[0] < 3 << 20, f"peak {peak[0] / 2**20:.1f} MiB: the whole file was gathered"


def test_an_unbalanced_quote_in_a_small_file_names_its_line(tmp_path: Path) -> None:
    # Today the csv module's lenient mode closes the quote at the end of the file: the item
    # ID 'i2<LF>u3,i3<LF>' is loaded silently. RFC 4180 (the documented rule) calls it malformed.
    path = write_csv(tmp_path / "q.csv", [("u1", "i1"), ("u2", '"i2'), ("u3", "i3")])
    with pytest.raises(DataError, match="line 3"):
        Interactions.from_csv(path)


# -- one line of millions of short quoted fields ---------------------------------------------


def _many_fields_file(path: Path, n_fields: int) -> Path:
    with path.open("w") as fh:
        fh.write("user_id,item_id\nu1,i1\n")
        fh.write(",".join(['"ab"'] * n_fields) + "\n")
        fh.write("u3,i3\n")
    return path


def test_a_line_of_many_quoted_fields_is_reported_without_building_them(tmp_path: Path) -> None:
    # 400,000 fields on one 2 MB line: the csv module builds a str per field before anything
    # can count them (about 20 times the line's size); the reader counts them first.
    path = _many_fields_file(tmp_path / "wide.csv", 400_000)
    size = path.stat().st_size
    with peak_bytes() as peak, pytest.raises(DataError, match="line 3: 400000 field") as info:
        Interactions.from_csv(path)
    assert peak[0] < 8 * size, f"peak {peak[0] / size:.1f}x the file's size"
    assert '"ab","ab"' in str(info.value)  # the line as written


def test_a_line_of_many_quoted_fields_is_skipped_and_counted(tmp_path: Path) -> None:
    path = _many_fields_file(tmp_path / "wide.csv", 400_000)
    with peak_bytes() as peak:
        data = Interactions.from_csv(path, on_bad_rows="skip")
    assert sorted(data.users.ids.tolist()) == ["u1", "u3"]
    assert data.summary().dropped == {"wrong_field_count": 1}
    assert peak[0] < 8 * path.stat().st_size


def test_long_lines_of_the_right_length_still_parse(tmp_path: Path) -> None:
    # Past the length where lines are counted first: a long quoted note, and a quoted note
    # that opens on a long line and closes on the next one (one record over two lines).
    note = "x" * 100_000
    path = tmp_path / "long.csv"
    path.write_text(
        f'user_id,item_id,note\nu1,i1,"{note}"\n"u,2",i2,"{note}\nend"\nu3,i3,"{note}",\nu4,i4,\n'
    )
    with pytest.raises(DataError, match="line 5: 4 field"):
        Interactions.from_csv(path)
    data = Interactions.from_csv(path, on_bad_rows="skip")
    assert sorted(data.users.ids.tolist()) == ["u,2", "u1", "u4"]
    assert data.summary().dropped == {"wrong_field_count": 1}


def test_a_malformed_long_line_is_still_malformed(tmp_path: Path) -> None:
    # Text after a closing quote is an error whatever the field count (as on short lines).
    path = tmp_path / "bad.csv"
    path.write_text("user_id,item_id\nu1,i1\n" + ",".join(['"ab"'] * 40_000) + 'x,"c"\n')
    with pytest.raises(DataError, match="line 3: the CSV is malformed"):
        Interactions.from_csv(path, on_bad_rows="skip")


# -- item 14: non-seekable input ------------------------------------------------------------


@pytest.fixture
def fifo_csv(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A named pipe fed by a thread with the same text as a regular file next to it."""
    rows = [(f"u{k % 7}", f"i{k % 5}") for k in range(200)]
    plain = write_csv(tmp_path / "plain.csv", rows)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    text = plain.read_bytes()

    def feed() -> None:
        try:
            fd = os.open(fifo, os.O_WRONLY)  # blocks until the reader opens the pipe
        except OSError:
            return
        with os.fdopen(fd, "wb") as fh, suppress(BrokenPipeError):
            fh.write(text)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    yield fifo, plain
    if writer.is_alive():  # the reader never opened it: open and close it ourselves
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    writer.join(timeout=10)


@pytest.mark.parametrize("progress", [None, True])
def test_csv_from_a_pipe(fifo_csv: tuple[Path, Path], progress: bool | None) -> None:
    fifo, plain = fifo_csv
    piped = Interactions.from_csv(fifo, progress=progress)
    expected = Interactions.from_csv(plain)
    assert piped.users.ids.tolist() == expected.users.ids.tolist()
    assert piped.items.ids.tolist() == expected.items.ids.tolist()
    assert (piped.matrix != expected.matrix).nnz == 0
