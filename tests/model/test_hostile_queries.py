"""Queries a careless caller sends (issue 18, items 8 to 11): typed errors or sensible answers,
never a raw numpy error, and never an allocation the answer cannot need."""

from __future__ import annotations

import copy
import pickle
import tracemalloc
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from alsrec import (
    AlsrecError,
    BatchRecommendations,
    ConfigError,
    Recommendations,
    Recommender,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

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
