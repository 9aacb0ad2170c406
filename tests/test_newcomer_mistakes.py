"""The first wrong inputs of users coming from pandas, config files and implicit: each gets
a typed error naming the argument, never a silently wrong model or answer."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp

from alsrec import (
    AlsrecWarning,
    ConfigError,
    DataError,
    IdMapper,
    IdTypeError,
    Interactions,
    Recommender,
    UnknownIdError,
    UsageError,
)
from alsrec.checks import check_bool

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

USERS = ["u1", "u1", "u2", "u2", "u3", "u3"]
ITEMS = ["a", "b", "a", "c", "b", "c"]


@pytest.fixture(scope="module")
def rec() -> Recommender:
    return Recommender(factors=2, iterations=3, random_state=0).fit(USERS, ITEMS)


def test_a_table_or_a_dict_is_not_read_as_its_labels(rec: Recommender) -> None:
    requests = pd.DataFrame({"user_id": ["u1", "u2"]})
    with pytest.raises(IdTypeError, match=r"got a DataFrame \(a table\).*column names"):
        rec.recommend_many(requests, n=2)
    with pytest.raises(IdTypeError, match="got a DataFrame"):
        rec.updated(requests, pd.DataFrame({"item_id": ["c", "b"]}))
    with pytest.raises(IdTypeError, match=r"excluded item IDs .* got a dict: .*keys"):
        rec.recommend_many(["u1", "u2"], n=2, exclude={"u1": ["c"]})
    with pytest.raises(IdTypeError, match="got a DataFrame"):
        rec.recommend("u1", history=pd.DataFrame({"item": ["a"]}))
    with pytest.raises(IdTypeError, match="user_ids must be a sequence, got a DataFrame"):
        Interactions.from_arrays(requests, ["a", "b"])
    lazy = pl.DataFrame({"user_id": ["u1", "u2"]}).lazy()  # no polars warning, a hint
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(IdTypeError, match=r"LazyFrame .*lf\.collect\(\)\['user_id'\]"):
            rec.recommend_many(lazy, n=2)  # type: ignore[arg-type]
    # the columns themselves are fine
    assert rec.recommend_many(requests["user_id"], n=2).sources.tolist() == ["model", "model"]


def test_updated_and_histories_refuse_misaligned_series(rec: Recommender) -> None:
    events = pd.DataFrame({"user_id": ["u1", "u2", "u3"], "item_id": ["c", "b", "a"]})
    users, items = events["user_id"], events["item_id"].sort_values()
    with pytest.raises(DataError, match="user_ids and item_ids are pandas Series with different"):
        rec.updated(users, items)
    history = pd.Series(["b", "c"], index=[5, 6])
    with pytest.raises(DataError, match="different indexes"):
        rec.recommend("u1", history=history, history_weights=pd.Series([1.0, 2.0]))
    with pytest.raises(DataError, match="different indexes"):
        rec.recommend_for_history(history, pd.Series([1.0, 2.0]))
    aligned = rec.updated(users, events["item_id"])  # same index: paired as given
    assert aligned.seen_ is not None
    row = aligned.users_.to_index(["u1"])[0]
    assert "c" in aligned.items_.ids[aligned.seen_[row].indices].tolist()


@pytest.mark.parametrize("value", ["false", "no", 0, 1, None])
def test_flags_take_only_booleans(rec: Recommender, value: object, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="replace must be True or False"):
        rec.updated(["u1"], ["c"], replace=value)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="exclude_seen must be True or False"):
        rec.recommend("u1", exclude_seen=value)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="exclude_history must be True or False"):
        rec.recommend_for_history(["a"], exclude_history=value)  # type: ignore[arg-type]
    path = rec.save(tmp_path / "model")
    before = sorted(p.name for p in path.iterdir())
    with pytest.raises(ConfigError, match="overwrite must be True or False"):
        rec.save(path, overwrite=value)  # type: ignore[arg-type]
    assert sorted(p.name for p in path.iterdir()) == before
    with pytest.raises(ConfigError, match="mmap must be True or False"):
        Recommender.load(path, mmap=value)  # type: ignore[arg-type]


def test_check_bool_accepts_numpy_booleans() -> None:
    assert check_bool("flag", np.bool_(True)) is True
    assert check_bool("flag", np.array([1, 2])[0] > 1) is False


def test_fitting_a_matrix_without_interactions_names_the_empty_input() -> None:
    """Not the alpha or regularization rule that first trips over it, and never a
    "fitted" model of zeros."""
    for kwargs in ({}, {"alpha": 1.0, "regularization": 0.1}):
        with pytest.raises(DataError, match=r"No interactions to train on.*5 users x 5 items"):
            Recommender(**kwargs).fit(sp.csr_matrix((5, 5)))  # type: ignore[arg-type]
    zeros = sp.csr_matrix(([0.0, 0.0], ([0, 1], [0, 1])), shape=(3, 3))
    with pytest.raises(DataError, match="'explicit_zero': 2"):
        Recommender().fit(zeros)


def test_a_fitted_models_arrays_are_read_only(rec: Recommender) -> None:
    """An in-place edit (implicit users normalize factors in place) would change
    recommend() but not the cached unit vectors of similar_items(); it fails instead, as
    it does on a memory-mapped artifact, and a copy is editable."""
    model = rec.model_
    before = rec.similar_items("a", n=2).ids.tolist()
    for name in ("user_factors", "item_factors", "popularity", "popular_order", "user_norms"):
        array = getattr(model, name)
        assert not array.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    assert not model.unit_item_factors.flags.writeable
    copy = rec.item_factors_.copy()
    copy[0] = 0.0
    assert rec.similar_items("a", n=2).ids.tolist() == before
    sparse = sp.csr_matrix(np.eye(2))
    with pytest.raises(DataError, match=r"item_factors must be a dense array.*toarray"):
        Recommender.from_factors(np.eye(2), sparse, ["u", "v"], ["a", "b"])


def test_frame_habits_lazy_frames_and_column_names_by_position() -> None:
    import polars as pl

    lazy = pl.DataFrame({"user_id": USERS, "item_id": ITEMS}).lazy()
    with pytest.raises(ConfigError, match=r"LazyFrame.*frame.collect\(\)"):
        Recommender().fit(lazy)
    with pytest.raises(ConfigError, match=r"collect\(\)"):
        Interactions.from_frame(lazy, user="user_id", item="item_id")
    df = pd.DataFrame({"customer": USERS, "product": ITEMS})
    hint = r"as keywords.*fit\(df, user='customer', item='product'\)"
    with pytest.raises(ConfigError, match=hint):
        Recommender().fit(df, "customer", "product")
    with pytest.raises(ConfigError, match="not columns"):
        Recommender().fit(df, df["product"])


def test_smaller_habits_batch_lookup_tiny_search_and_null_weights(rec: Recommender) -> None:
    batch = rec.recommend_many(["u1", "u2"], n=2)
    with pytest.raises(IdTypeError, match=r"indexed by position \(0 to 1\).*to_dict\(\)\['u1'\]"):
        batch["u1"]  # type: ignore[index]
    assert batch[1].query == "u2"
    from alsrec.tuning import search

    tiny = Interactions.from_arrays(["a", "a", "b", "b", "c"], ["x", "y", "x", "z", "y"])
    with pytest.raises(DataError, match=r"search could not score a trial on validation split 0"):
        search(tiny, budget=2)
    import polars as pl

    for nullable in (
        pd.Series(pd.array([1.0, None, 2.0], dtype="Float64")),
        pl.Series([1.0, None, 2.0]),
    ):
        with pytest.raises(DataError, match="position 1, weights: weight None is missing"):
            Interactions.from_arrays(["a", "b", "c"], ["x", "y", "z"], nullable)
        skipped = Interactions.from_arrays(
            ["a", "b", "c"], ["x", "y", "z"], nullable, on_bad_rows="skip"
        )
        assert skipped.summary().dropped == {"bad_weight": 1}
    plain = Interactions.from_arrays(
        ["a", "b"], ["x", "y"], pd.Series([1.0, np.nan]), on_bad_rows="skip"
    )
    assert plain.summary().dropped == {"nonfinite_weight": 1}  # a NaN of a numpy column


def test_a_date_cutoff_on_numeric_timestamps_names_the_unit() -> None:
    """Numeric timestamps are kept as given and a date cutoff becomes seconds since 1970,
    so epoch milliseconds or yyyymmdd numbers put every row on one side: the error says
    why instead of "are all timestamps equal?"."""
    from alsrec.evaluation import time_split

    millis = [1577836800000, 1580515200000, 1578441600000]
    data = Interactions.from_arrays(["a", "a", "b"], ["x", "y", "x"], timestamps=millis)
    with pytest.raises(DataError, match=r"training set empty.*look like milliseconds"):
        time_split(data, cutoff="2020-01-15")
    train, test = time_split(data, cutoff=1578000000000)  # the cutoff in their unit
    assert train.nnz == 1 and test.nnz == 2
    dates = Interactions.from_arrays(
        ["a", "a", "b"], ["x", "y", "x"], timestamps=[20200101, 20200201, 20200110]
    )
    with pytest.raises(DataError, match=r"test set empty.*numbers like 20200115"):
        time_split(dates, cutoff="2020-01-15")
    flat = Interactions.from_arrays(["a", "b"], ["x", "y"], timestamps=[5, 5])
    with pytest.raises(DataError, match=r"training set empty \(timestamps 5 to 5\): are all"):
        time_split(flat)


def test_seen_weights_of_from_factors_are_checked_when_the_model_is_built() -> None:
    """Not only when it is saved, after it has served and been updated with them."""
    for bad in (-4.0, np.nan, 0.0):
        seen = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]]))
        seen.data[1] = bad
        with pytest.raises(DataError, match=r"seen holds .*entry \(row 1, column 1\)"):
            Recommender.from_factors(np.eye(2), np.eye(2), ["u", "v"], ["a", "b"], seen=seen)


@pytest.mark.parametrize("seed", ["42", 1.5, -1, True])
def test_seeds_of_splits_and_evaluate_are_checked(seed: object) -> None:
    from alsrec.datasets import synthetic
    from alsrec.evaluation import evaluate, holdout_split, leave_k_out_split, user_split

    d = synthetic(n_users=60, n_items=30, random_state=0)
    data = Interactions.from_arrays(d.user_ids, d.item_ids, d.weights)
    for split in (holdout_split, leave_k_out_split):
        with pytest.raises(ConfigError, match="random_state must be"):
            split(data, random_state=seed)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="random_state must be"):
        user_split(data, 5, 5, random_state=seed)  # type: ignore[arg-type]
    train, test = holdout_split(data)
    rec = Recommender(factors=2, iterations=2).fit(train)
    with pytest.raises(ConfigError, match="random_state must be"):
        evaluate(rec, test, train=train, random_state=seed)  # type: ignore[arg-type]
    assert holdout_split(data, random_state=None)[1].nnz == test.nnz  # None: fresh draws


def test_paths_metadata_and_a_closed_connection(rec: Recommender, tmp_path: Path) -> None:
    import os
    import sqlite3

    from alsrec import ArtifactError

    saved = rec.save(os.fsencode(tmp_path / "m"))  # type: ignore[arg-type]  # bytes, as os takes
    assert Recommender.load(os.fsencode(saved)).users_ == rec.users_  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"path must be a str or os\.PathLike, got int"):
        rec.save(5)  # type: ignore[arg-type]
    metrics = {"ndcg": np.float32(0.5), "users": np.int64(3), "ok": np.bool_(True)}
    again = Recommender.load(rec.save(tmp_path / "n", metadata=metrics))
    assert again.model_.provenance.metadata == {"ndcg": 0.5, "users": 3, "ok": True}
    loop: dict[str, object] = {}
    loop["self"] = loop
    with pytest.raises(ConfigError, match="levels deep; does it contain itself"):
        rec.save(tmp_path / "o", metadata=loop)
    with pytest.raises((ConfigError, ArtifactError)):
        rec.save(tmp_path / "p", metadata={"when": np.datetime64("2020-01-01")})
    connection = sqlite3.connect(":memory:")
    connection.close()
    with pytest.raises(DataError, match=r"Could not open a cursor.*is the connection closed"):
        Interactions.from_sql(connection, "SELECT 1")


def test_weights_past_float32_and_a_count_in_the_weights_position(rec: Recommender) -> None:
    with pytest.raises(DataError, match=r"single number 5\.0.*recommend_for_history\(item_ids, n="):
        rec.recommend_for_history(["a", "b"], 5)
    with pytest.raises(DataError, match=r"history_weights must be at most 3\.403e\+38.*row 0"):
        rec.recommend("u1", history=["a"], history_weights=[1e39])
    with pytest.raises(DataError, match=r"^weights must be at most .*row 1 is 1e\+39"):
        rec.updated(["u1", "u2"], ["c", "a"], [1.0, 1e39])
    with pytest.raises(DataError, match=r"summed where it repeats.*float32 range"):
        rec.recommend_for_history(["a", "a"], [3e38, 3e38])  # each fine, their sum is not


def test_repr_and_summary_show_every_setting_that_differs_from_the_default() -> None:
    plain = Recommender(factors=4)
    assert "weighting" not in repr(plain) and ", ," not in repr(plain)
    tuned = Recommender(factors=4, weighting="bm25", solver="cg", cg_steps=1)
    for text in (repr(tuned), tuned.summary()):
        assert "weighting='bm25'" in text and "solver='cg'" in text and "cg_steps=1" in text
    assert repr(plain) != repr(tuned)


def test_excluded_ids_of_the_wrong_type_are_named() -> None:
    # Out-of-stock item IDs read from a CSV as text, for a model of int IDs: excluding
    # nothing silently would recommend exactly those items.
    ui = sp.csr_matrix(np.eye(6, dtype=np.float32) + np.eye(6, k=1, dtype=np.float32))
    rec = Recommender(factors=2, iterations=3, random_state=0).fit(ui)
    with pytest.warns(AlsrecWarning, match=r"'4', '5' are str IDs .* int\('4'\)"):
        rec.recommend(0, n=3, exclude=["4", "5"])
    with pytest.warns(AlsrecWarning, match="'4' is a str ID"):
        rec.recommend_many([0, 1], n=3, exclude=["4"])
    with pytest.warns(AlsrecWarning, match="'4' is a str ID"):
        rec.similar_items(0, n=3, exclude=["4"])
    with pytest.warns(AlsrecWarning, match="'4' is a str ID"):
        rec.score(0, ["4"])
    with pytest.raises(UnknownIdError, match=r"'4' is a str ID .* int\('4'\)"):
        rec.recommend(0, n=3, exclude=["4"], policy="strict")
    with warnings.catch_warnings():  # unknown IDs of the right type: skipped, no warning
        warnings.simplefilter("error")
        assert rec.recommend(0, n=3, exclude=[99]).skipped == (99,)


def test_one_id_where_a_list_is_expected_says_to_wrap_it(rec: Recommender) -> None:
    ints = Recommender(factors=2, iterations=2, random_state=0).fit([1, 1, 2], [7, 8, 7])
    single = "must be a sequence of IDs, got a single"
    with pytest.raises(IdTypeError, match=rf"excluded item IDs {single} int \(8\): .*\[8\]"):
        ints.recommend(1, exclude=8)  # type: ignore[arg-type]
    with pytest.raises(IdTypeError, match=rf"candidate item IDs {single} int32 \(8\)"):
        ints.recommend(1, items=np.int32(8))
    with pytest.raises(IdTypeError, match=f"history item IDs {single}"):
        ints.recommend_for_history(7)  # type: ignore[arg-type]
    with pytest.raises(IdTypeError, match=f"user IDs {single}"):
        ints.recommend_many(np.int64(1))
    with pytest.raises(IdTypeError, match=f"item IDs {single}"):
        ints.score(1, 7)  # type: ignore[arg-type]


def test_a_sparse_row_as_ids_points_at_its_indices(rec: Recommender) -> None:
    # implicit's user_items[u] passed where item IDs are expected
    row = sp.csr_matrix(np.array([[1.0, 0.0, 2.0]]))
    sparse = r"sparse matrix of shape \(1, 3\).*row\.indices"
    with pytest.raises(IdTypeError, match=sparse):
        rec.recommend("u1", history=row)
    with pytest.raises(IdTypeError, match=sparse):
        rec.recommend_for_history(row)
    with pytest.raises(IdTypeError, match=sparse):
        rec.score("u1", row)
    with pytest.raises(ConfigError, match=r"recommend_many\(user_ids\) here"):
        rec.recommend_many(["u1", "u2"], row)


def test_a_series_indexed_by_user_and_item_is_told_to_reset_its_index() -> None:
    events = pd.DataFrame({"user_id": USERS, "item_id": ITEMS})
    counts = events.groupby(["user_id", "item_id"]).size()
    with pytest.raises(ConfigError, match=r"reset_index\(name='weight'\)"):
        Recommender(factors=2).fit(counts)
    fitted = Recommender(factors=2, iterations=2).fit(counts.reset_index(name="weight"))
    assert len(fitted.users_) == 3


def test_scikit_learn_searches_are_refused_and_other_libraries_names_hint(
    rec: Recommender,
) -> None:
    with pytest.raises(ConfigError, match=r"alsrec\.tuning\.search"):
        rec.__sklearn_tags__()
    with pytest.raises(AttributeError, match=r"user_factors_ \(with a trailing underscore\)"):
        getattr(rec, "user_factors")  # noqa: B009 - the name a user types
    with pytest.raises(AttributeError, match=r"history="):
        getattr(rec, "recalculate_user")  # noqa: B009
    assert not hasattr(rec, "item_factors")
    with pytest.raises(AttributeError, match=r"has no attribute 'no_such_name'$"):
        getattr(rec, "no_such_name")  # noqa: B009


def test_the_advice_of_a_bad_row_error_works_from_fit() -> None:
    frame = pd.DataFrame(
        {"user_id": ["a", "a", "b", "b", "c"], "item_id": ["x", "y", "x", "z", "y"]}
        | {"weight": [1.0, 9.0, np.nan, 4.0, 2.0]}
    )
    rec = Recommender(factors=2, iterations=1)
    with pytest.raises(DataError, match=r"row 2.*weight nan.*on_bad_rows='skip'"):
        rec.fit(frame)
    assert rec.fit(frame, on_bad_rows="skip").seen_.nnz == 4  # type: ignore[union-attr]
    users, items, weights = frame["user_id"], frame["item_id"], frame["weight"]
    assert rec.fit(users, items, weights, on_bad_rows="skip").seen_.nnz == 4  # type: ignore[union-attr]
    built = Interactions.from_frame(frame, weight="weight", on_bad_rows="skip")
    with pytest.raises(ConfigError, match=r"on_bad_rows='skip'"):
        rec.fit(built, on_bad_rows="skip")  # screened when it was built


def test_sets_are_not_paired_by_position(rec: Recommender) -> None:
    with pytest.raises(DataError, match=r"user_ids is a set, which has no order"):
        Recommender(factors=2).fit({"ann", "bob"}, ["tea", "cup"])
    with pytest.raises(DataError, match=r"item_ids is a frozenset"):
        Interactions.from_arrays(["ann", "bob"], frozenset({"tea", "cup"}))
    with pytest.raises(DataError, match=r"user_ids is a set"):
        rec.updated({"u1"}, ["a"])
    # One column alone pairs nothing: a set of items is fine as a history.
    assert rec.recommend_for_history({"a", "b"}, n=1).source == "fold-in"


def test_a_leading_tilde_means_the_home_directory(
    rec: Recommender, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path)
    saved = rec.save("~/model")
    assert saved == tmp_path / "home" / "model"
    assert not (tmp_path / "~").exists()
    assert Recommender.load("~/model").users_.ids.tolist() == rec.users_.ids.tolist()
    (tmp_path / "home" / "d.csv").write_text("user_id,item_id\nu1,a\nu2,b\n")
    assert Interactions.from_csv("~/d.csv").nnz == 2


def test_an_integer_id_past_int64_is_named_with_its_position(rec: Recommender) -> None:
    with pytest.raises(IdTypeError, match=r"18446744073709551615 at position 1.*as str"):
        Recommender(factors=2).fit(np.array([1, 2**64 - 1], dtype=np.uint64), ["x", "y"])
    with pytest.raises(IdTypeError, match=r"9223372036854775808 at position 2.*as str"):
        Recommender(factors=2).fit([1, 2, 2**63], ["x", "y", "z"])


def test_one_column_cannot_play_two_roles() -> None:
    frame = pd.DataFrame({"u": ["a", "b"], "i": ["x", "y"], "w": [1.0, 2.0]})
    with pytest.raises(ConfigError, match=r"The user and item columns are both 'u'"):
        Recommender(factors=2).fit(frame, user="u", item="u")
    with pytest.raises(ConfigError, match=r"The weight and timestamp columns are both 'w'"):
        Interactions.from_frame(frame, user="u", item="i", weight="w", timestamp="w")


def test_keyword_hints_say_where_a_keyword_belongs(rec: Recommender) -> None:
    with pytest.raises(UsageError, match=r"iterations=, a keyword of Recommender\(\.\.\.\)"):
        rec.fit(USERS, ITEMS, epochs=3)  # type: ignore[call-arg]
    with pytest.raises(UsageError, match=r"n=, a keyword of recommend\(\)"):
        Recommender(N=5)  # type: ignore[call-arg]
    with pytest.raises(UsageError, match=r"takes data by position, not as a keyword"):
        rec.fit(data=USERS)  # type: ignore[call-arg]
    with pytest.raises(UsageError) as caught:
        Recommender.load("x", xyz=1)  # type: ignore[call-arg]
    assert "cls=" not in str(caught.value) and "mmap=" in str(caught.value)


def test_timestamps_that_mix_numbers_and_dates_are_refused(tmp_path: Path) -> None:
    # A date becomes seconds since 1970, a number is kept as given (here milliseconds):
    # ordered together, every number would come after every date.
    frame = pd.DataFrame(
        {"user_id": ["a", "b", "c"], "item_id": ["x", "y", "z"]}
        | {"ts": ["2020-03-11T02:38:59", "1583894339000", "2020-03-12"]}
    )
    with pytest.raises(DataError, match=r"mix numbers and dates \(frame row 1 .*frame row 0"):
        Interactions.from_frame(frame, timestamp="ts")
    path = tmp_path / "mixed.csv"
    path.write_text("user_id,item_id,ts\na,x,2020-03-11\nb,y,2020-03-12\nc,z,1583894339000\n")
    with pytest.raises(DataError, match=r"line 4 has the number '1583894339000'"):
        Interactions.from_csv(path, timestamp="ts", chunk_rows=1)  # across chunks too
    one_form = frame.assign(ts=["2020-03-11", "2020-03-12", "2020-03-13"])
    assert Interactions.from_frame(one_form, timestamp="ts").nnz == 3


def test_a_filtered_frame_is_named_by_position_and_index_label() -> None:
    frame = pd.DataFrame(
        {"user_id": ["u1", "u2", "u3"], "item_id": ["a", "b", "a"], "weight": [1.0, -5.0, 1.0]},
        index=[10, 4, 7],
    )
    with pytest.raises(DataError, match=r"frame row at position 1 \(index label 4\)"):
        Recommender().fit(frame)
    with pytest.raises(DataError, match=r"frame row 1, column 'weight'"):
        Recommender().fit(frame.reset_index(drop=True))  # positions and labels agree


def test_ids_in_the_index_are_pointed_at(rec: Recommender) -> None:
    frame = pd.DataFrame({"user_id": USERS, "item_id": ITEMS})
    for indexed in (frame.set_index("user_id"), frame.set_index(["user_id", "item_id"])):
        with pytest.raises(ConfigError, match=r"'user_id' \(the user IDs\) is the frame's index"):
            Recommender().fit(indexed)
    for given in ("user_id", None):  # named or found by name, the same advice
        with pytest.raises(ConfigError, match=r"is the frame's index.*pass df.reset_index\(\)"):
            Interactions.from_frame(frame.set_index("user_id"), user=given, item="item_id")


def test_a_dense_matrix_is_pointed_to_scipy_sparse() -> None:
    with pytest.raises(ConfigError, match=r"2-dimensional.*csr_matrix"):
        Recommender().fit(np.eye(3))


def test_movielens_column_names_are_recognised() -> None:
    frame = pd.DataFrame({"userId": [1, 1, 2], "movieId": [5, 6, 5]})
    rec = Recommender(factors=2, iterations=1).fit(frame)
    assert sorted(rec.model_.items.ids.tolist()) == [5, 6]


def test_history_weights_of_another_length_are_named_as_passed(rec: Recommender) -> None:
    with pytest.raises(DataError, match=r"history_weights has 1 weight\(s\) but history has 2"):
        rec.recommend("new", history=["a", "b"], history_weights=[1.0])
    with pytest.raises(DataError, match=r"weights has 3 weight\(s\) but item_ids has 2"):
        rec.recommend_for_history(["a", "b"], [1.0, 2.0, 3.0])
    with pytest.raises(DataError, match=r"history_weights\['x'\] has 2 weight\(s\)"):
        rec.recommend_many(["x"], histories={"x": ["a"]}, history_weights={"x": [1.0, 2.0]})


def test_a_result_is_indexed_by_rank_not_by_id(rec: Recommender) -> None:
    recs = rec.recommend("u1", n=2)
    with pytest.raises(IdTypeError, match=r"rank position \(0 to 0\).*dict\(recs\)"):
        recs["c"]  # type: ignore[call-overload]
    with pytest.raises(IndexError, match="position 5 out of range for 1 results"):
        recs[5]
    assert recs[-1] == recs.to_list()[-1]


def test_set_params_num_threads_keeps_the_fitted_model() -> None:
    fitted = Recommender(factors=2, iterations=2).fit(USERS, ITEMS).with_num_threads(2)
    before = fitted.model_
    fitted.set_params(num_threads=1)
    assert fitted.model_ is before and fitted.num_threads == 1  # the new value serves too
    assert not fitted.set_params(factors=3).is_fitted  # a hyperparameter still discards it


def test_updated_names_the_argument_of_the_wrong_id_type(rec: Recommender) -> None:
    with pytest.raises(IdTypeError, match=r"item_ids are int IDs \(e.g. 1\) but this model's"):
        rec.updated(["u1"], [1])
    with pytest.raises(IdTypeError, match=r"user_ids are int IDs"):
        rec.updated([1], ["a"])


def test_history_messages_name_what_the_mapping_holds(rec: Recommender) -> None:
    with pytest.raises(
        ConfigError, match="history_weights must be a mapping from user ID to weights"
    ):
        rec.recommend_many(["zz"], histories={"zz": ["a"]}, history_weights=[1.0])  # type: ignore[arg-type]
    with pytest.raises(IdTypeError, match=r"got a single NoneType \(None\)\.$"):
        rec.recommend_many(["zz"], histories={"zz": None})  # type: ignore[dict-item]


def test_a_backend_class_is_pointed_at_an_instance() -> None:
    from alsrec.backends import NumpyBackend

    with pytest.raises(
        ConfigError, match=r"got the class NumpyBackend; did you mean NumpyBackend\(\)"
    ):
        Recommender(backend=NumpyBackend)  # type: ignore[arg-type]


def test_a_spark_dataframe_is_pointed_at_fit_spark() -> None:
    spark_frame = type(
        "DataFrame", (), {"columns": ["u", "i"], "__module__": "pyspark.sql.classic"}
    )
    with pytest.raises(ConfigError, match=r"Spark DataFrame.*Recommender.fit_spark"):
        Recommender().fit(spark_frame())


def test_auto_backend_passes_over_one_that_cannot_train_the_params() -> None:
    # implicit trains a constant penalty only: "auto" picked it and then blamed it
    scaled = Recommender(factors=2, iterations=2, backend="auto", regularization_exponent=1.0)
    assert scaled.fit(USERS, ITEMS).backend_ == "numpy"


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda r: r.recommend("u1", N=2), "'N'; in alsrec the list length is n="),
        (
            lambda r: r.recommend("u1", filter_already_liked_items=False),
            "exclude_seen= (True by default)",
        ),
        (lambda r: r.similar_items("a", N=2), "Recommender.similar_items() got"),
        (lambda r: r.recommend_many(["u1"], n_jobs=2), "num_threads="),
        (lambda r: r.recommend("u1", user_items=None), "history="),
        (lambda r: r.recommend("u1", nn=2), "'nn'; did you mean n=?"),
        (lambda r: r.recommend("u1", zzz=2), "it takes exclude=, exclude_seen=, history="),
        (lambda r: Recommender(n_factors=8), "Recommender() got an unexpected keyword argument"),  # type: ignore[call-arg]
        (lambda r: Recommender(regularisation=1.0), "regularization="),  # type: ignore[call-arg]
        (lambda r: Recommender(seed=1), "random_state="),  # type: ignore[call-arg]
        (lambda r: Recommender(use_gpu=True), "backend='implicit-gpu'"),  # type: ignore[call-arg]
        (lambda r: Recommender.load("model", mmap_mode="r"), "did you mean mmap=?"),  # type: ignore[call-arg]
        (lambda r: Recommender().fit_spark(None, seed=1), "Recommender.fit_spark() got"),  # type: ignore[call-arg, arg-type]
        (lambda r: Recommender().set_params(n_iter=3), "iterations="),
        (lambda r: r.fit(USERS, ITEMS, show_progress=True), "progress=True"),
    ],
)
def test_other_libraries_keywords_get_the_alsrec_name(
    rec: Recommender, call: Callable[[Recommender], object], needle: str
) -> None:
    with pytest.raises(UsageError) as caught:
        call(rec)
    assert needle in str(caught.value)
    assert isinstance(caught.value, TypeError)  # what Python raises for a bad keyword
    assert rec.recommend("u1", n=1).ids.size == 1  # the model is untouched


def test_an_id_mapper_is_not_subscripted_but_converts_to_an_array(rec: Recommender) -> None:
    users = rec.users_
    for key in (0, "u1", slice(0, 2)):
        with pytest.raises(UsageError, match=r"ambiguous.*mapper\.ids\[k\].*index_of"):
            users[key]
    ids = np.asarray(users)
    assert ids.tolist() == list(users) == users.ids.tolist()
    copy = np.array(users)
    copy[0] = "changed"  # a copy: the mapper is untouched
    assert users.ids[0] == "u1"
    ints = IdMapper([30, 10, 20])
    assert np.asarray(ints, dtype=np.float64).tolist() == [30.0, 10.0, 20.0]
    assert pd.Series(ints).tolist() == [30, 10, 20]
