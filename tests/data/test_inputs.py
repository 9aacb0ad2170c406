"""Tests of :mod:`alsrec.data.inputs`: every form ``Recommender.fit`` accepts."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp

from alsrec import AlsrecWarning, ConfigError, DataError, Interactions, Recommender
from alsrec.data.inputs import as_interactions, is_frame

USERS = ["ann", "ann", "bob", "cid"]
ITEMS = ["x", "y", "x", "z"]
PLAYS = [3.0, 1.0, 2.0, 5.0]


def _pairs(data: Interactions) -> set[tuple[object, object, float]]:
    """The (user, item, weight) triples, whatever the order of the IDs."""
    coo = data.matrix.tocoo()
    users, items = data.users.ids, data.items.ids
    triples = zip(coo.row, coo.col, coo.data, strict=True)
    return {(users[u], items[i], float(w)) for u, i, w in triples}


def _expected() -> Interactions:
    return Interactions.from_arrays(USERS, ITEMS, PLAYS)


def test_three_columns_positional_and_keyword() -> None:
    assert as_interactions(USERS, ITEMS, PLAYS) == _expected()
    assert as_interactions(None, ITEMS, PLAYS, user_ids=USERS) == _expected()


def test_interactions_pass_through() -> None:
    data = _expected()
    assert as_interactions(data) is data
    with pytest.raises(ConfigError, match="not both"):
        as_interactions(data, weight="plays")


@pytest.mark.parametrize("lib", ["pandas", "polars"])
def test_frames_by_column_names(lib: str) -> None:
    columns = {"uid": USERS, "iid": ITEMS, "plays": PLAYS}
    df = pd.DataFrame(columns) if lib == "pandas" else pl.DataFrame(columns)
    assert is_frame(df)
    assert as_interactions(df, user="uid", item="iid", weight="plays") == _expected()


def test_frame_common_names_when_unambiguous() -> None:
    df = pd.DataFrame({"user_id": USERS, "item_id": ITEMS, "weight": PLAYS})
    assert as_interactions(df) == _expected()
    unweighted = pd.DataFrame({"user": USERS, "item": ITEMS})
    assert as_interactions(unweighted).matrix.sum() == len(USERS)


@pytest.mark.parametrize("lib", ["pandas", "polars"])
def test_frame_without_weight_column_warns_about_numeric_columns_left_unread(lib: str) -> None:
    columns = {
        "user": USERS,
        "item": ITEMS,
        "rating": PLAYS,
        "title": ["a", "b", "c", "d"],
        "timestamp": [1, 2, 3, 4],
    }
    df = pd.DataFrame(columns) if lib == "pandas" else pl.DataFrame(columns)
    with pytest.warns(AlsrecWarning, match=r"weighs 1\.0.*\['rating'\].*weight='rating'"):
        data = as_interactions(df)
    assert data.matrix.sum() == len(USERS)  # the warning says what was done
    assert as_interactions(df, weight="rating") == _expected()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a weight named, or no unread number: no warning
        as_interactions(df, weight="rating")
        unrated = {key: value for key, value in columns.items() if key != "rating"}
        as_interactions(pd.DataFrame(unrated) if lib == "pandas" else pl.DataFrame(unrated))
        as_interactions(pd.DataFrame({"user": USERS, "item": ITEMS, "weight": PLAYS}))


@pytest.mark.parametrize(
    "convert",
    [
        lambda v: pd.Series(v),
        lambda v: pd.Series(v, dtype="category"),
        lambda v: pl.Series(v),
    ],
    ids=["pandas", "pandas-category", "polars"],
)
def test_series_columns_read_like_lists(convert: Any) -> None:
    # Series are read in one vectorized copy (to_numpy), not one Python object per row;
    # what comes out is what the same values as lists give
    expected = Interactions.from_arrays(USERS, ITEMS, PLAYS)
    got = Interactions.from_arrays(convert(USERS), convert(ITEMS), pd.Series(PLAYS))
    assert _pairs(got) == _pairs(expected)
    ints = Interactions.from_arrays(
        pd.Series([2**60 + 1, None, 7], dtype="Int64"), [1, 2, 3], on_bad_rows="skip"
    )
    assert ints.users.ids.tolist() == [2**60 + 1, 7]  # exact beyond 2**53, the null dropped
    with pytest.raises(DataError, match="position 1, weights"):
        Interactions.from_arrays(convert(USERS), convert(ITEMS), pd.Series([1.0, -1.0, 1, 1]))


def test_pandas_series_are_not_iterated_row_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    def row_by_row(self: object) -> None:
        raise AssertionError("a Series column was read one Python object per row")

    monkeypatch.setattr(pd.Series, "__iter__", row_by_row)
    got = Interactions.from_arrays(pd.Series(USERS), pd.Series(ITEMS), pd.Series(PLAYS))
    assert got.nnz == len(USERS)


@pytest.mark.parametrize("odd", ["", None, float("nan"), pd.NA, "x" * 1025])
def test_string_columns_with_one_odd_id_name_its_row(odd: object) -> None:
    # an object column of str (a pandas string column) takes a fast screen; one missing,
    # empty or over-long ID among them must still be found and named by its position
    users = np.array(["u1", "u2", "u3", odd, "u5"], dtype=object)
    items = pd.Series(["a", "b", "c", "d", "e"], dtype="str")
    with pytest.raises(DataError, match="position 3, user_ids"):
        Interactions.from_arrays(users, items)
    if not (isinstance(odd, str) and len(odd) > 1024):  # missing or empty: can be skipped
        kept = Interactions.from_arrays(users, items, on_bad_rows="skip")
        assert kept.nnz == 4 and sum(kept.summary().dropped.values()) == 1


def test_series_with_different_indexes_are_refused_not_paired_by_position() -> None:
    frame = pd.DataFrame({"user": USERS, "item": ITEMS, "plays": PLAYS})
    shuffled = frame.sample(frac=1.0, random_state=1)  # same rows, other order and index
    # the same index (one frame, filtered or not): paired as pandas would
    assert _pairs(as_interactions(shuffled.user, shuffled.item, shuffled.plays)) == _pairs(
        _expected()
    )
    with pytest.raises(DataError, match="user_ids and weights are pandas Series with different"):
        Recommender(factors=2, iterations=1).fit(frame.user, frame.item, shuffled.plays)
    with pytest.raises(DataError, match="by position, not by index label"):
        Interactions.from_arrays(frame.user, shuffled.item)
    # reset to the same index, the caller says the order is right: paired by position
    assert as_interactions(frame.user, shuffled.item.reset_index(drop=True)).nnz == len(USERS)
    # arrays and lists carry no index: paired by position, as documented
    fitted = as_interactions(frame.user, shuffled.item.to_numpy(), PLAYS)
    assert fitted.nnz == len(USERS)


def test_frame_ambiguous_or_missing_columns_name_the_keywords() -> None:
    both = pd.DataFrame({"user": ITEMS, "user_id": USERS, "item": ITEMS})
    assert as_interactions(both).users.ids.tolist() == sorted(set(USERS), key=USERS.index)
    twins = pd.DataFrame({"user": USERS, "userId": USERS, "item": ITEMS})
    with pytest.raises(DataError, match=r"Several columns .* user IDs \(\['user', 'userId'\]"):
        as_interactions(twins)
    odd = pd.DataFrame({"who": USERS, "what": ITEMS})
    with pytest.raises(DataError, match=r"no column named like the user IDs.*\['who', 'what'\]"):
        as_interactions(odd)
    with pytest.raises(ConfigError, match="column names, not columns"):
        as_interactions(odd, ITEMS)


def test_scipy_matrix_indices_or_given_ids() -> None:
    m = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]))
    data = as_interactions(m)
    assert data.users.ids.tolist() == [0, 1, 2]
    assert data.items.ids.tolist() == [0, 1]
    named = as_interactions(m, ["a", "b"], user_ids=["u", "v", "w"])
    assert named.users.ids.tolist() == ["u", "v", "w"]
    assert named.matrix.toarray().tolist() == [[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]
    with pytest.raises(ConfigError, match="weights from the matrix"):
        as_interactions(m, None, [1.0])


def test_wrong_forms_point_at_the_right_call() -> None:
    with pytest.raises(ConfigError, match=r"without item_ids.*fit\(df, user="):
        as_interactions(USERS)
    with pytest.raises(ConfigError, match="name DataFrame columns"):
        as_interactions(USERS, ITEMS, user="uid")
    with pytest.raises(ConfigError, match="needs interactions"):
        as_interactions(None)
    with pytest.raises(ConfigError, match="twice"):
        as_interactions(USERS, ITEMS, user_ids=USERS)


def test_recommender_fit_accepts_every_form() -> None:
    df = pd.DataFrame({"user_id": USERS, "item_id": ITEMS, "plays": PLAYS})
    rec = Recommender(factors=2, iterations=2, random_state=0)
    by_frame = rec.fit(df, user="user_id", item="item_id", weight="plays").model_
    by_arrays = Recommender(factors=2, iterations=2, random_state=0).fit(USERS, ITEMS, PLAYS)
    np.testing.assert_array_equal(by_frame.user_factors, by_arrays.user_factors_)
    csr = _expected().matrix
    by_csr = Recommender(factors=2, iterations=2, random_state=0).fit(
        csr, user_ids=["ann", "bob", "cid"], item_ids=["x", "y", "z"]
    )
    np.testing.assert_array_equal(by_csr.user_factors_, by_arrays.user_factors_)
    by_keywords = Recommender(factors=2, iterations=2, random_state=0).fit(
        user_ids=USERS, item_ids=ITEMS, weights=PLAYS
    )
    np.testing.assert_array_equal(by_keywords.user_factors_, by_arrays.user_factors_)


def test_pyarrow_arrays_read_like_numpy_arrays() -> None:
    """pyarrow arrays have no ``dtype`` and iterate as pyarrow scalars; they are read as
    columns (one vectorized copy), in fit and in queries, nulls reported by position."""
    pa = pytest.importorskip("pyarrow")
    chunked = pa.chunked_array([USERS[:1], USERS[1:]])
    assert as_interactions(chunked, pa.array(ITEMS), pa.array(PLAYS)) == _expected()
    df = pd.DataFrame({"user": USERS, "item": ITEMS, "weight": PLAYS})
    arrow_df = df.convert_dtypes(dtype_backend="pyarrow")
    assert as_interactions(arrow_df) == _expected()
    big = 2**60 + 1  # above 2**53: a float64 detour would round it
    exact = Interactions.from_arrays(pa.array([big, big, 7, 8]), ITEMS, PLAYS)
    assert sorted(exact.users.ids.tolist()) == [7, 8, big]
    with pytest.raises(DataError, match=r"position 1, user_ids: the user ID is missing"):
        Interactions.from_arrays(pa.array([1, None, 3, 4]), ITEMS)
    rec = Recommender(factors=2, iterations=2, random_state=0).fit(USERS, ITEMS, PLAYS)
    batch = rec.recommend_many(pa.array(["ann", "bob"]), n=1)
    assert batch.sources.tolist() == ["model", "model"]
    assert batch.ids.shape == (2, 1)


def test_a_pyarrow_table_is_refused_with_the_conversions_to_use() -> None:
    """A pyarrow Table's ``.columns`` are its arrays: reading them as names gave "no column
    'user_id' ... its columns are [<pyarrow.lib.ChunkedArray ...>]"."""
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"user_id": USERS, "item_id": ITEMS, "plays": PLAYS})
    how = r"Got a pyarrow Table; .* pass table\.to_pandas\(\) or polars\.from_arrow\(table\)"
    with pytest.raises(ConfigError, match=how):
        Interactions.from_frame(table, weight="plays")
    with pytest.raises(ConfigError, match=how):
        Recommender().fit(table, user="user_id", item="item_id", weight="plays")
    with pytest.raises(ConfigError, match=how):
        Recommender().fit(table)  # the columns by their common names
    with pytest.raises(ConfigError, match="Got a pyarrow RecordBatch"):
        Interactions.from_frame(table.to_batches()[0])
    converted = Interactions.from_frame(table.to_pandas(), weight="plays")
    assert converted == _expected()
