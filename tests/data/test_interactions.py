"""Tests of alsrec.interactions: building, merging, filtering, summary, from_scipy."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from alsrec import ConfigError, DataError, IdTypeError, Interactions, Recommender
from alsrec.interactions import DROP_REASONS, as_weights


def dense(data: Interactions) -> list[list[float]]:
    out: list[list[float]] = data.matrix.toarray().tolist()
    return out


def test_from_arrays_basic_orders_ids_by_first_appearance() -> None:
    data = Interactions.from_arrays(["b", "a", "b", "c"], [10, 20, 20, 10], [1.0, 2.0, 3.0, 4.0])
    assert data.users.ids.tolist() == ["b", "a", "c"]
    assert data.items.ids.tolist() == [10, 20]
    assert dense(data) == [[1.0, 3.0], [0.0, 2.0], [4.0, 0.0]]
    assert data.matrix.dtype == np.float32
    assert data.matrix.has_canonical_format


def test_every_row_is_accounted_for() -> None:
    data = Interactions.from_arrays(
        ["a", "a", "a", "b", "", "c"],
        ["x", "x", "y", "x", "x", "x"],
        [1.0, 1.0, 1.0, 0.0, 1.0, -2.0],
        on_bad_rows="skip",
    )
    s = data.summary()
    assert s.dropped == {"zero_weight": 1, "empty_id": 1, "negative_weight": 1}
    assert s.rows_read == 6
    assert s.duplicates_merged == 1
    assert s.rows_read == s.n_interactions + s.duplicates_merged + s.rows_dropped
    assert set(s.dropped) <= set(DROP_REASONS)
    assert "3 rows dropped" in str(s)
    assert "zero_weight: 1" in str(s)


@pytest.mark.parametrize(
    ("aggregate", "expected"),
    [("sum", [[7.0, 1.0]]), ("max", [[4.0, 1.0]]), ("last", [[2.0, 1.0]]), ("count", [[3.0, 1.0]])],
)
def test_aggregate_rules(aggregate: str, expected: list[list[float]]) -> None:
    data = Interactions.from_arrays(
        ["u", "u", "u", "u"],
        ["a", "a", "b", "a"],
        [1.0, 4.0, 1.0, 2.0],
        aggregate=aggregate,  # type: ignore[arg-type]
    )
    assert dense(data) == expected
    assert data.summary().aggregate == aggregate
    assert data.duplicates_merged == 2


def test_last_uses_timestamps_then_row_order() -> None:
    users = ["u", "u", "u", "v", "v"]
    items = ["a", "a", "a", "a", "a"]
    weights = [5.0, 1.0, 3.0, 8.0, 9.0]
    # u: the latest time is row 0; v: a tie in time, so the later row (4) wins
    data = Interactions.from_arrays(
        users, items, weights, aggregate="last", timestamps=[30, 10, 20, 7, 7]
    )
    assert dense(data) == [[5.0], [9.0]]
    as_dates = [datetime(2024, 1, d, tzinfo=timezone.utc) for d in (3, 1, 2, 1, 1)]
    assert (
        Interactions.from_arrays(users, items, weights, aggregate="last", timestamps=as_dates)
        == data
    )
    tie = "1970-01-01T00:00:05"  # one form per column: numbers and dates do not mix
    as_text = ["2024-01-03", "2024-01-01T00:00:00", "2024-01-02", tie, tie]
    assert (
        Interactions.from_arrays(users, items, weights, aggregate="last", timestamps=as_text)
        == data
    )
    as_datetime64 = np.array(["2024-01-03", "2024-01-01", "2024-01-02", "NaT", "NaT"], "M8[s]")
    with pytest.raises(DataError, match=r"position 3, timestamps: timestamp"):
        Interactions.from_arrays(users, items, weights, aggregate="last", timestamps=as_datetime64)


def test_min_filters_are_iterative_k_core() -> None:
    # a-x, a-y, b-x, c-y, c-z: with both thresholds 2, user b (1 item) goes first,
    # then item x keeps only a, x goes, then a keeps only y, ... until nothing is left.
    rows = [("a", "x"), ("a", "y"), ("b", "x"), ("c", "y"), ("c", "z")]
    users, items = zip(*rows, strict=True)
    with pytest.raises(DataError, match="removed every interaction"):
        Interactions.from_arrays(
            list(users), list(items), min_user_interactions=2, min_item_interactions=2
        )
    # a single pass would have kept a-y and c-y (2 users for y) but then a and c have
    # one item each: iterating removes them too. Add d-y, d-x, a-x to get a stable core.
    rows += [("d", "y"), ("d", "x")]
    users, items = zip(*rows, strict=True)
    data = Interactions.from_arrays(
        list(users), list(items), min_user_interactions=2, min_item_interactions=2
    )
    degrees_u = np.diff(data.matrix.indptr)
    degrees_i = np.bincount(data.matrix.indices, minlength=data.shape[1])
    assert degrees_u.min() >= 2
    assert degrees_i.min() >= 2
    assert sorted(data.users.ids.tolist()) == ["a", "d"]
    assert sorted(data.items.ids.tolist()) == ["x", "y"]
    s = data.summary()
    assert s.rows_read == s.n_interactions + s.duplicates_merged + s.rows_dropped
    assert s.dropped["min_user_interactions"] + s.dropped["min_item_interactions"] == 3


def test_filter_counts_distinct_items_and_drops_all_rows_of_a_pair() -> None:
    # user b has three rows but one distinct item: filtered with min_user_interactions=2,
    # and all three rows are counted as dropped.
    data = Interactions.from_arrays(
        ["a", "a", "b", "b", "b"], ["x", "y", "x", "x", "x"], min_user_interactions=2
    )
    assert data.users.ids.tolist() == ["a"]
    assert data.summary().dropped == {"min_user_interactions": 3}


def test_filtered_equals_building_from_the_surviving_rows() -> None:
    users = ["z", "a", "b", "a", "b", "c", "z"]
    items = ["q", "x", "y", "y", "x", "x", "q"]
    data = Interactions.from_arrays(users, items, min_user_interactions=2)
    keep = [u in ("a", "b") for u in users]
    expected = Interactions.from_arrays(
        [u for u, k in zip(users, keep, strict=True) if k],
        [i for i, k in zip(items, keep, strict=True) if k],
    )
    assert data == expected
    assert data.users.ids.tolist() == ["a", "b"]  # first appearance among surviving rows
    assert data.items.ids.tolist() == ["x", "y"]


@st.composite
def interaction_rows(draw: st.DrawFn) -> tuple[list[int], list[int], list[float]]:
    n = draw(st.integers(1, 60))
    users = draw(st.lists(st.integers(0, 8), min_size=n, max_size=n))
    items = draw(st.lists(st.integers(-3, 6), min_size=n, max_size=n))
    weights = draw(st.lists(st.floats(0.5, 100.0), min_size=n, max_size=n))
    return users, items, weights


@settings(max_examples=60, deadline=None)
@given(rows=interaction_rows(), agg=st.sampled_from(["sum", "max", "last", "count"]))
def test_aggregation_matches_a_plain_python_reference(
    rows: tuple[list[int], list[int], list[float]], agg: str
) -> None:
    users, items, weights = rows
    data = Interactions.from_arrays(users, items, weights, aggregate=agg)  # type: ignore[arg-type]
    ref: dict[tuple[int, int], list[float]] = {}
    for u, i, w in zip(users, items, weights, strict=True):
        ref.setdefault((u, i), []).append(w)
    assert data.nnz == len(ref)
    assert data.users.ids.tolist() == list(dict.fromkeys(users))
    assert data.items.ids.tolist() == list(dict.fromkeys(items))
    got = data.matrix.toarray()
    for (u, i), ws in ref.items():
        value = {"sum": sum(ws), "max": max(ws), "last": ws[-1], "count": float(len(ws))}[agg]
        assert got[data.users.index_of(u), data.items.index_of(i)] == pytest.approx(value, rel=1e-6)
    assert data.duplicates_merged == len(users) - len(ref)


def k_core(pairs: set[tuple[int, int]], min_u: int, min_i: int) -> set[tuple[int, int]]:
    """The largest subset where every user has >= min_u items and every item >= min_i users."""
    while True:
        users = Counter(u for u, _ in pairs)
        items = Counter(i for _, i in pairs)
        kept = {(u, i) for u, i in pairs if users[u] >= min_u and items[i] >= min_i}
        if kept == pairs:
            return kept
        pairs = kept


@settings(max_examples=60, deadline=None)
@given(rows=interaction_rows(), min_u=st.integers(1, 4), min_i=st.integers(1, 4))
def test_filters_leave_a_core_and_count_every_row(
    rows: tuple[list[int], list[int], list[float]], min_u: int, min_i: int
) -> None:
    users, items, weights = rows
    core = k_core(set(zip(users, items, strict=True)), min_u, min_i)
    if not core:
        with pytest.raises(DataError, match="removed every interaction"):
            Interactions.from_arrays(
                users, items, weights, min_user_interactions=min_u, min_item_interactions=min_i
            )
        return
    data = Interactions.from_arrays(
        users, items, weights, min_user_interactions=min_u, min_item_interactions=min_i
    )
    m = data.matrix
    coo = m.tocoo()
    kept = {
        (data.users.id_of(int(r)), data.items.id_of(int(c)))
        for r, c in zip(coo.row, coo.col, strict=True)
    }
    assert kept == core
    assert np.diff(m.indptr).min() >= min_u
    assert np.bincount(m.indices, minlength=data.shape[1]).min() >= min_i
    s = data.summary()
    assert s.rows_read == len(users)
    assert s.rows_read == s.n_interactions + s.duplicates_merged + s.rows_dropped
    # the survivors hold exactly the summed weights of their original rows
    for u in data.users.ids.tolist():
        for i in data.items.ids.tolist():
            total = sum(
                w for uu, ii, w in zip(users, items, weights, strict=True) if (uu, ii) == (u, i)
            )
            got = m[data.users.index_of(u), data.items.index_of(i)]
            assert got == pytest.approx(total, rel=1e-5) or got == 0


def test_bad_rows_raise_by_default_naming_position_and_column() -> None:
    with pytest.raises(DataError, match=r"position 2, weights: weight nan is not finite"):
        Interactions.from_arrays(["a", "b", "c"], ["x", "y", "z"], [1.0, 2.0, float("nan")])
    with pytest.raises(DataError, match=r"position 1, weights: weight -1.0 is negative"):
        Interactions.from_arrays(["a", "b"], ["x", "y"], [1.0, -1.0])
    with pytest.raises(DataError, match=r"position 0, weights: weight 0 is zero"):
        Interactions.from_arrays(["a"], ["x"], [0])
    with pytest.raises(DataError, match=r"position 1, item_ids: the item ID is empty"):
        Interactions.from_arrays(["a", "b"], ["x", ""])
    with pytest.raises(DataError, match=r"position 0, user_ids: the user ID is missing \(None\)"):
        Interactions.from_arrays([None, "b"], ["x", "y"])  # type: ignore[list-item]
    with pytest.raises(DataError, match=r"position 1, weights: weight 'lots' is missing or not"):
        Interactions.from_arrays(["a", "b"], ["x", "y"], np.array([1, "lots"], dtype=object))


def test_mixed_id_types_name_the_original_position_even_after_skipping() -> None:
    with pytest.raises(
        IdTypeError, match=r"position 3, user_ids: user IDs mix int and str: 'x' is str but the"
    ):
        Interactions.from_arrays(
            [1, None, 2, "x"],  # type: ignore[list-item]
            ["a", "b", "c", "d"],
            on_bad_rows="skip",
        )
    with pytest.raises(IdTypeError, match=r"position 1, item_ids: item ID 2.5 is a float"):
        Interactions.from_arrays(["a", "b"], [1, 2.5])  # type: ignore[list-item]


def test_all_rows_bad_is_an_error_not_an_empty_dataset() -> None:
    with pytest.raises(DataError, match=r"all 2 rows were dropped .*zero_weight: 2"):
        Interactions.from_arrays(["a", "b"], ["x", "y"], [0.0, 0.0], on_bad_rows="skip")


def test_argument_validation() -> None:
    with pytest.raises(ConfigError, match="aggregate must be one of"):
        Interactions.from_arrays(["a"], ["x"], aggregate="mean")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="on_bad_rows must be"):
        Interactions.from_arrays(["a"], ["x"], on_bad_rows="ignore")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="min_user_interactions must be an integer >= 1"):
        Interactions.from_arrays(["a"], ["x"], min_user_interactions=0)
    with pytest.raises(DataError, match="user_ids has 2 entries but item_ids has 1"):
        Interactions.from_arrays(["a", "b"], ["x"])
    with pytest.raises(DataError, match="No interactions given"):
        Interactions.from_arrays([], [])


def test_weights_that_do_not_fit_float32_are_refused() -> None:
    with pytest.raises(DataError, match="does not fit in float32"):
        Interactions.from_arrays(["a"], ["x"], [1e-60])
    with pytest.raises(DataError, match="does not fit in float32"):
        Interactions.from_arrays(["a", "a"], ["x", "x"], [3e38, 3e38])


def test_interactions_are_immutable() -> None:
    data = Interactions.from_arrays(["a", "b"], ["x", "y"], [1.0, 2.0])
    with pytest.raises(AttributeError):
        data.rows_read = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        data.dropped["x"] = 1  # type: ignore[index]


def test_copies_keep_data_and_provenance() -> None:
    data = Interactions.from_arrays(
        ["a", "b", "b"], ["x", "y", "y"], [1.0, 0.0, 2.0], on_bad_rows="skip"
    )
    twin = copy.deepcopy(data)
    assert twin == data
    assert twin.summary() == data.summary()
    assert twin.matrix is not data.matrix


def test_equality_compares_data_not_provenance() -> None:
    a = Interactions.from_arrays(["a", "a", "b"], ["x", "x", "y"], [1.0, 1.0, 3.0])
    b = Interactions.from_arrays(["a", "b"], ["x", "y"], [2.0, 3.0])
    c = Interactions.from_arrays(["b", "a"], ["y", "x"], [3.0, 2.0])
    assert a == b
    assert a.rows_read != b.rows_read
    assert a != c  # same pairs, different ID order
    assert a != "not interactions"


def test_from_scipy_round_trip_and_ids() -> None:
    data = Interactions.from_arrays(["u1", "u2", "u1"], ["a", "b", "c"], [1.0, 2.0, 3.0])
    again = Interactions.from_scipy(data.matrix, data.users.ids, data.items.ids)
    assert again == data
    plain = Interactions.from_scipy(sp.csr_matrix(np.array([[0.0, 2.0], [0.0, 0.0]])))
    assert plain.users.ids.tolist() == [0, 1]  # kept, even without entries
    assert plain.items.ids.tolist() == [0, 1]
    assert dense(plain) == [[0.0, 2.0], [0.0, 0.0]]
    from_dense = Interactions.from_scipy(np.array([[0.0, 2.0], [0.0, 0.0]]))
    assert from_dense == plain


def test_from_scipy_counts_zeros_duplicates_and_bad_entries() -> None:
    coo = sp.coo_matrix(
        ([1.0, 0.0, 2.0, 3.0, -1.0], ([0, 1, 0, 0, 2], [0, 1, 1, 1, 0])), shape=(3, 2)
    )
    with pytest.raises(DataError, match=r"matrix entry \(row 2, column 0\): weight -1.0"):
        Interactions.from_scipy(coo)
    data = Interactions.from_scipy(coo, on_bad_rows="skip")
    s = data.summary()
    assert s.dropped == {"explicit_zero": 1, "negative_weight": 1}
    assert s.duplicates_merged == 1
    assert s.rows_read == 5 == s.n_interactions + s.duplicates_merged + s.rows_dropped
    assert dense(data) == [[1.0, 5.0], [0.0, 0.0], [0.0, 0.0]]


def test_from_scipy_checks_id_counts() -> None:
    with pytest.raises(DataError, match="2 rows but 3 user IDs"):
        Interactions.from_scipy(sp.csr_matrix((2, 2)), ["a", "b", "c"])
    with pytest.raises(DataError, match="user_ids must be unique"):
        Interactions.from_scipy(sp.csr_matrix((2, 2)), ["a", "a"])
    with pytest.raises(DataError, match="2-d numeric matrix"):
        Interactions.from_scipy(np.array(["a", "b"]))


def test_from_indices_checks_bounds() -> None:
    data = Interactions.from_arrays(["a", "b"], ["x", "y"])
    with pytest.raises(DataError, match=r"rows holds indices outside 0\.\.1"):
        Interactions.from_indices(
            data.users,
            data.items,
            np.array([0, 2]),
            np.array([0, 1]),
            np.ones(2, dtype=np.float32),
        )


def test_recommender_fits_interactions_with_filters() -> None:
    users = [f"u{k % 6}" for k in range(40)] + ["lonely"]
    items = [f"i{(k * 7) % 9}" for k in range(40)] + ["i0"]
    data = Interactions.from_arrays(users, items, min_user_interactions=2)
    assert "lonely" not in data.users
    rec = Recommender(factors=4, iterations=3, random_state=0).fit(data)
    assert rec.users_ == data.users
    assert rec.items_ == data.items


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_from_scipy_refuses_a_data_frame_whose_labels_it_would_drop(library: str) -> None:
    if library == "pandas":
        pd = pytest.importorskip("pandas")
        frame: Any = pd.DataFrame([[1, 0], [0, 2]], index=["ann", "bob"], columns=["x", "y"])
        how = r"user_ids=df\.index, item_ids=df\.columns"
    else:
        pl = pytest.importorskip("polars")
        frame = pl.DataFrame({"x": [1, 0], "y": [0, 2]})
        how = r"user_ids=<one user ID per row>"
    with pytest.raises(ConfigError, match=rf"from_scipy got a {library} DataFrame.*{how}"):
        Interactions.from_scipy(frame)
    if library == "pandas":  # the way the message gives keeps the labels
        fixed = Interactions.from_scipy(
            sp.csr_matrix(frame.to_numpy()), user_ids=frame.index, item_ids=frame.columns
        )
        assert fixed.users.ids.tolist() == ["ann", "bob"]
        assert fixed.items.ids.tolist() == ["x", "y"]
        assert dense(fixed) == [[1.0, 0.0], [0.0, 2.0]]


def test_complex_weights_are_refused_not_cut_to_their_real_part() -> None:
    complex_dtype = r"the weights have the complex dtype complex128; weights must be real"
    with pytest.raises(DataError, match=rf"^weights: {complex_dtype}"):
        Interactions.from_arrays([1, 2], [1, 2], np.array([1 + 2j, 1]))
    with pytest.raises(DataError, match=rf"^the matrix: {complex_dtype}"):
        Interactions.from_scipy(sp.csr_matrix(np.array([[1 + 5j, 0], [0, 2]])))
    with pytest.raises(DataError, match=rf"^the matrix: {complex_dtype}"):
        Interactions.from_scipy(np.array([[1 + 5j, 0], [0, 2]]))
    # numpy complex scalars one by one (float() would keep the real part with a warning)
    scalars = [np.complex128(1 + 2j), 1.0]
    with pytest.raises(DataError, match=r"position 0, weights: weight \(1\+2j\) is complex"):
        Interactions.from_arrays([1, 2], [1, 2], scalars)
    skipped = Interactions.from_arrays([1, 2], [1, 2], scalars, on_bad_rows="skip")
    assert skipped.summary().dropped == {"bad_weight": 1}
    with pytest.raises(DataError, match=rf"^weights: {complex_dtype}"):
        as_weights(np.array([1 + 2j, 1.0]), 2)
    with pytest.raises(DataError, match=r"^weights: the weights have the complex dtype"):
        as_weights([1.0, np.complex64(2 + 1j)], 2)


def test_a_complex_frame_column_is_refused_by_name() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2], "w": [1 + 1j, 2 + 0j]})
    with pytest.raises(DataError, match=r"^column 'w': the weights have the complex dtype"):
        Interactions.from_frame(frame, weight="w")
    with pytest.raises(DataError, match=r"^column 'w': the weights have the complex dtype"):
        Recommender(factors=2, iterations=1).fit(frame, weight="w")
