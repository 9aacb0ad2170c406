"""Queries a careless caller sends (issue 18, items 8 to 11): typed errors or sensible answers,
never a raw numpy error, and never an allocation the answer cannot need."""

from __future__ import annotations

import copy
import pickle
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from alsrec import (
    ALSParams,
    AlsrecError,
    AlsrecWarning,
    BatchRecommendations,
    ConfigError,
    Recommendations,
    Recommender,
    UnknownIdError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

# -- item 8: a candidate list without a known item -------------------------------------------


QUERIES: dict[str, Callable[[Recommender, list[Any]], Recommendations | BatchRecommendations]] = {
    "recommend": lambda rec, items: rec.recommend(rec.users_.ids[0].item(), n=5, items=items),
    "recommend-history": lambda rec, items: rec.recommend(
        "NEW_USER", n=5, items=items, history=[rec.items_.ids[0].item()]
    ),
    "recommend_many": lambda rec, items: rec.recommend_many(
        rec.users_.ids[:3].tolist(), n=5, items=items
    ),
    "recommend_for_history": lambda rec, items: rec.recommend_for_history(
        rec.items_.ids[:2].tolist(), n=5, items=items
    ),
    "similar_items": lambda rec, items: rec.similar_items(
        rec.items_.ids[0].item(), n=5, items=items
    ),
}


def n_answers(result: Recommendations | BatchRecommendations) -> int:
    if isinstance(result, Recommendations):
        return len(result)
    return int(result.mask.sum())


@pytest.mark.parametrize("query", list(QUERIES))
@pytest.mark.parametrize("candidates", [[], ["NO_SUCH_ITEM", "NOR_THIS"]], ids=["empty", "unknown"])
def test_candidates_without_a_known_item_give_an_empty_answer(
    fitted: Recommender, query: str, candidates: list[Any]
) -> None:
    result = QUERIES[query](fitted, candidates)
    assert n_answers(result) == 0
    assert set(result.skipped) == set(candidates)


@pytest.mark.parametrize("query", list(QUERIES))
def test_one_known_candidate_among_unknown_ones_still_answers(
    fitted: Recommender, query: str
) -> None:
    """The candidate filter itself works (this holds today)."""
    known = fitted.items_.ids[-1].item()
    result = QUERIES[query](fitted, ["NO_SUCH_ITEM", known])
    assert "NO_SUCH_ITEM" in result.skipped
    assert n_answers(result) <= (3 if isinstance(result, BatchRecommendations) else 1)


# -- item 9: pickling and deep-copying a fitted model ------------------------------------------


def same_answers(a: Recommender, b: Recommender) -> None:
    users = a.users_.ids[:20].tolist()
    left, right = a.recommend_many(users, n=10), b.recommend_many(users, n=10)
    np.testing.assert_array_equal(left.ids, right.ids)
    np.testing.assert_array_equal(left.scores, right.scores)
    history = a.items_.ids[:3].tolist()
    assert a.recommend_for_history(history, n=5) == b.recommend_for_history(history, n=5)


def test_a_fitted_model_pickles_or_refuses_with_a_pointer_to_save(fitted: Recommender) -> None:
    fitted.recommend_for_history(fitted.items_.ids[:2].tolist(), n=1)  # the lazy YtY is built
    try:
        blob = pickle.dumps(fitted)
    except AlsrecError as exc:
        refusal = str(exc)
    else:
        refusal = ""
    if refusal:
        assert "save" in refusal
        return
    same_answers(fitted, pickle.loads(blob))


def test_a_fitted_model_deep_copies(fitted: Recommender) -> None:
    fitted.recommend_for_history(fitted.items_.ids[:2].tolist(), n=1)
    try:
        twin = copy.deepcopy(fitted)
    except AlsrecError as exc:
        refusal = str(exc)
    else:
        refusal = ""
    if refusal:
        assert "save" in refusal
        return
    same_answers(fitted, twin)


@pytest.mark.parametrize("copier", [lambda r: pickle.loads(pickle.dumps(r)), copy.deepcopy])
def test_a_copied_model_is_as_read_only_as_the_original(
    fitted: Recommender, copier: Callable[[Recommender], Recommender]
) -> None:
    # What multiprocessing, joblib and Ray workers receive: its arrays must refuse an
    # in-place edit, or recommend and the cached unit vectors of similar_items disagree.
    fitted.similar_items(fitted.items_.ids[0].item(), n=2)  # the unit vectors are cached
    twin = copier(fitted)
    model = twin.model_
    assert model.seen is not None
    for arr in (
        twin.user_factors_,
        twin.item_factors_,
        model.popularity,
        model.item_norms,
        model.seen.data,
        model.seen.indptr,
    ):
        with pytest.raises(ValueError, match="read-only"):
            arr[:1] = 0
    assert "unit_item_factors" not in twin.model_.__getstate__()
    same_answers(fitted, twin)


def test_an_unfitted_model_pickles(fitted: Recommender) -> None:
    """Only hyperparameters: this holds today."""
    fresh = Recommender(factors=4, iterations=2, random_state=1)
    again = pickle.loads(pickle.dumps(fresh))
    assert again.params == fresh.params


# -- item 10: n is capped at the number of candidates before anything is allocated -----------


@contextmanager
def peak_bytes() -> Iterator[list[int]]:
    """Yields a one-element list that holds the traced peak allocation after the block."""
    out = [0]
    tracemalloc.start()
    try:
        yield out
    finally:
        out[0] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


# 120 items: 2,000,000 requested places cost ~40 MB today and ~2 kB when capped.
HUGE_N = 2_000_000
BOUND = 4 << 20  # 4 MiB


def test_recommend_caps_n(fitted: Recommender) -> None:
    user = fitted.users_.ids[0].item()
    with peak_bytes() as peak:
        recs = fitted.recommend(user, n=HUGE_N)
    assert 0 < len(recs) <= len(fitted.items_)
    assert peak[0] < BOUND, f"recommend(n={HUGE_N}) peaked at {peak[0] / 2**20:.1f} MiB"


def test_recommend_many_caps_n(fitted: Recommender) -> None:
    users = fitted.users_.ids[:8].tolist()
    with peak_bytes() as peak:
        batch = fitted.recommend_many(users, n=HUGE_N)
    assert batch.ids.shape[0] == 8
    assert batch.ids.shape[1] <= len(fitted.items_)
    assert peak[0] < BOUND, f"recommend_many(n={HUGE_N}) peaked at {peak[0] / 2**20:.1f} MiB"


def test_similar_items_and_history_cap_n(fitted: Recommender) -> None:
    item = fitted.items_.ids[0].item()
    with peak_bytes() as peak:
        similar = fitted.similar_items(item, n=HUGE_N)
        folded = fitted.recommend_for_history([item], n=HUGE_N)
    assert len(similar) == len(fitted.items_) - 1
    assert 0 < len(folded) < len(fitted.items_)
    assert peak[0] < BOUND, f"peaked at {peak[0] / 2**20:.1f} MiB"


def test_capped_n_gives_the_same_ranking(fitted: Recommender) -> None:
    user = fitted.users_.ids[1].item()
    everything = fitted.recommend(user, n=len(fitted.items_))
    assert fitted.recommend(user, n=HUGE_N) == everything


# -- item 11: a fit that cannot fit in memory is refused before allocating --------------------


def test_absurd_factor_count_is_a_config_error_stating_the_memory() -> None:
    # Tiny data: the factor matrices are 12 MB; the factors x factors Gram matrix is 3.6 TiB.
    rec = Recommender(factors=10**6, iterations=1, random_state=0)
    with pytest.raises(ConfigError, match=r"(?i)(memory|[GT]i?B)") as info:
        rec.fit(["u1", "u2", "u3"], ["a", "b", "c"])
    assert "factors" in str(info.value)
    assert not rec.is_fitted


def test_fold_in_with_absurd_factors_is_a_config_error() -> None:
    """Fold-in needs the f x f matrix YᵀY: 7.3 TiB for a million factors, from 12 MB of
    item factors. Refused before allocating, naming the size."""
    f = 10**6
    rec = Recommender.from_factors(
        np.ones((2, f), np.float32),
        np.ones((3, f), np.float32),
        ["u", "v"],
        ["a", "b", "c"],
        params=ALSParams(regularization=1.0, alpha=1.0),  # no seen matrix: "auto" cannot fold in
    )
    with pytest.raises(ConfigError, match=r"TiB") as info:
        rec.recommend_for_history(["a"], n=2)
    assert "factors" in str(info.value)


def test_from_factors_refuses_an_absurd_conversion() -> None:
    """A broadcast view costs nothing; its float32 copy would be 3.6 TiB."""
    huge = np.broadcast_to(np.float64(1.0), (10**6, 10**6))
    with pytest.raises(ConfigError, match=r"user_factors .*TiB"):
        Recommender.from_factors(huge, np.ones((3, 3)), ["u"], ["a", "b", "c"])


def test_a_plausible_fit_is_not_refused() -> None:
    rec = Recommender(factors=256, iterations=1, random_state=0)
    assert rec.fit(["u1", "u2", "u3"], ["a", "b", "c"]).is_fitted


# -- item 8 and 10 in the other query paths ----------------------------------------------------


def test_similar_many_with_no_known_candidate_or_huge_n(fitted: Recommender) -> None:
    queries = fitted.items_.ids[:3].tolist()
    empty = fitted.similar_items_many(queries, n=5, items=["NO_SUCH_ITEM"])
    assert empty.ids.shape == (3, 0)
    assert empty.skipped == ("NO_SUCH_ITEM",)
    wide = fitted.similar_items_many(queries, n=HUGE_N)
    assert wide.ids.shape == (3, len(fitted.items_))
    users = fitted.similar_users_many(fitted.users_.ids[:2].tolist(), n=HUGE_N)
    assert users.ids.shape == (2, len(fitted.users_))
    assert (
        len(fitted.similar_users(fitted.users_.ids[0].item(), n=HUGE_N)) == len(fitted.users_) - 1
    )


def test_recommend_many_with_histories_and_no_known_candidate(fitted: Recommender) -> None:
    users = ["NEW", fitted.users_.ids[0].item(), "NOBODY"]
    batch = fitted.recommend_many(
        users, n=5, items=[], histories={"NEW": fitted.items_.ids[:2].tolist()}
    )
    assert batch.ids.shape == (3, 0)
    assert batch.sources.tolist() == ["fold-in", "model", "fallback"]


def test_capped_fallback_and_fold_in_rank_like_the_full_list(fitted: Recommender) -> None:
    items = fitted.items_.ids[:10].tolist()
    assert fitted.recommend("NOBODY", n=HUGE_N, items=items) == fitted.recommend(
        "NOBODY", n=10, items=items
    )
    history = fitted.items_.ids[10:13].tolist()
    assert fitted.recommend_for_history(history, n=HUGE_N, items=items) == (
        fitted.recommend_for_history(history, n=10, items=items)
    )


# -- item 7 in the other query paths -----------------------------------------------------------


def test_wrong_id_types_warn_once_per_lookup(fitted: Recommender) -> None:
    with pytest.warns(AlsrecWarning) as record:
        fitted.recommend_many([1, 2, 3, 4, 5, 6, 7], n=2)
    assert len(record) == 1
    message = str(record[0].message)
    assert "1, 2, 3, 4, 5 (and 2 more) are int IDs" in message
    assert "user IDs are str" in message
    assert "str(1)" in message
    with pytest.warns(AlsrecWarning, match="item IDs are str") as record:
        fitted.recommend_many(
            fitted.users_.ids[:3].tolist(),
            n=2,
            histories={u: [7, 8] for u in fitted.users_.ids[:3].tolist()},
        )
    assert len(record) == 1  # one warning for all histories, not one per user
    with pytest.warns(AlsrecWarning, match="item IDs are str"):
        fitted.similar_items(5, n=2)
    with pytest.warns(AlsrecWarning, match="item IDs are str"):
        fitted.recommend(fitted.users_.ids[0].item(), n=2, items=[5])


def test_wrong_id_types_under_strict_name_the_type(fitted: Recommender) -> None:
    with pytest.raises(UnknownIdError, match=r"5 is an int ID but this model's item IDs are str"):
        fitted.similar_items(5, n=2, policy="strict")
    with pytest.raises(UnknownIdError, match=r"item IDs are str"):
        fitted.recommend_for_history([5, 6], policy="strict")
    with pytest.raises(UnknownIdError, match=r"user IDs are str"):
        fitted.recommend_many([1, 2], policy="strict")


# -- item 9: a memory-mapped model ------------------------------------------------------------


def test_a_loaded_model_pickles_into_memory(fitted: Recommender, tmp_path: Path) -> None:
    loaded = Recommender.load(fitted.save(tmp_path / "model"))
    loaded.recommend_for_history(fitted.items_.ids[:2].tolist(), n=1)
    twin = pickle.loads(pickle.dumps(loaded))
    same_answers(loaded, twin)
    assert not isinstance(twin.item_factors_, np.memmap)
    # The copy's fold-in lock is its own: concurrent first uses still work.
    history = fitted.items_.ids[:3].tolist()
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: twin.recommend_for_history(history, n=5), range(8)))
    assert all(a == answers[0] for a in answers)


def _wide_model() -> Recommender:
    rng = np.random.default_rng(0)
    return Recommender.from_factors(
        rng.normal(size=(300, 8)),
        rng.normal(size=(100, 8)),
        [f"U{i}" for i in range(300)],
        [f"I{i}" for i in range(100)],
    )


def test_similar_users_caps_n_at_the_candidates_before_allocating() -> None:
    # n larger than the candidates is an ordinary call (like similar_items(items=...)):
    # fewer results, never a numpy shape error, never an n-sized allocation.
    rec = _wide_model()
    five = [f"U{i}" for i in range(5)]
    assert len(rec.similar_users("U0", n=10, users=five)) == 4  # the query itself left out
    assert len(rec.similar_users("U0", n=300, exclude=["U1"])) == 298
    assert rec.similar_users_many(["U0", "U9"], n=10, users=five).ids.shape == (2, 5)
    assert len(rec.similar_users("U0", n=10**18, users=five)) == 4


def test_cosine_scores_stay_within_minus_one_and_one() -> None:
    # Parallel and anti-parallel vectors of very different lengths: float32 unit rows can
    # round the cosine past 1, which math.acos refuses.
    rng = np.random.default_rng(0)
    items = rng.normal(size=(500, 8)).astype(np.float32)
    items *= rng.uniform(1e-3, 1e3, size=(500, 1)).astype(np.float32)
    items[1], items[2] = items[0] * 3, -items[0] * 7
    rec = Recommender.from_factors(
        rng.normal(size=(500, 8)),
        items,
        [f"u{i}" for i in range(500)],
        [f"i{i}" for i in range(500)],
    )
    scores = rec.similar_items_many(rec.items_.ids, n=499)
    values = scores.scores[scores.mask]
    assert values.max() <= 1.0 and values.min() >= -1.0
    top = rec.similar_items("i0", n=499)
    assert (top.ids[0], top.ids[-1]) == ("i1", "i2")
