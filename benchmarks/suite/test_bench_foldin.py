"""Fold-in latency, and ``Recommender.updated()`` against a full refit (speed and quality).

Run::

    pytest benchmarks/suite/test_bench_foldin.py --benchmark-only   # small
    ALSREC_BENCH_SIZE=medium pytest benchmarks/suite/test_bench_foldin.py --benchmark-only -s

These run in the process's own environment (no variable set: BLAS at one thread per core).
alsrec scopes BLAS to one thread during training and batch fold-in itself, so the refit
ratio no longer depends much on ``OPENBLAS_NUM_THREADS``; still, compare runs with the same
setting (each benchmark records it as ``blas_threads``).

Targets (issue 6), at 64 factors:

- ``recommend_for_history`` of a 50-interaction history over 50k items (fold-in solve,
  scoring every item, top-k, result object): median under 2 ms. The catalog of this
  benchmark is always 50k items; only the update benchmark grows with the size.
- ``updated()`` with fresh interactions of 1% of the users: at least 20x faster than a
  full refit on the same data, with NDCG@10 on those users within 3% of the refit's.

The update benchmark's design: pick 1% of the users; order each one's interaction rows by
time; the first half is *old*, the next 30% *fresh*, the last 20% *test*. The base model
is trained on every other user plus the old rows; ``base.updated(fresh rows)`` is timed
against a refit on every other user plus old and fresh rows. Both are scored by NDCG@10
on the test rows (their training items excluded). A second scenario treats the chosen
users as brand-new: the base model never saw them, and ``updated()`` gets their old and
fresh rows. Timings and quality go to each benchmark's ``extra_info`` and are printed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_info

from alsrec import ALSParams, Interactions, Recommender
from alsrec._foldin import history_confidence
from alsrec.datasets import SyntheticData, synthetic
from alsrec.evaluation import ndcg_at_k

if TYPE_CHECKING:
    from pytest_benchmark.fixture import BenchmarkFixture

SIZE = os.environ.get("ALSREC_BENCH_SIZE", "small")

UPDATE_SIZES: dict[str, dict[str, Any]] = {
    "small": {"n_users": 20_000, "n_items": 5_000, "n_clusters": 20, "mean_interactions": 20},
    "medium": {"n_users": 200_000, "n_items": 50_000, "n_clusters": 50, "mean_interactions": 25},
}
if SIZE not in UPDATE_SIZES:
    raise ValueError(f"ALSREC_BENCH_SIZE must be one of {sorted(UPDATE_SIZES)}, got {SIZE!r}.")

FACTORS = 64
LATENCY_ITEMS = 50_000
HISTORY_LENGTH = 50
UPDATE_SHARE = 0.01


def _model() -> Recommender:
    """The hyperparameters of every model of the update benchmark."""
    return Recommender(
        factors=FACTORS, regularization=1.0, alpha=2.0, iterations=15, random_state=0
    )


def _blas_threads() -> int:
    """Threads of the BLAS numpy uses: oversubscribed cores make multithreaded BLAS slow,
    so compare numbers taken with the same setting (e.g. OPENBLAS_NUM_THREADS=1)."""
    return max(
        (int(p["num_threads"]) for p in threadpool_info() if p["user_api"] == "blas"), default=1
    )


# -- fold-in latency ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> tuple[Recommender, list[str], np.ndarray]:
    """A model over 50k items with 64 factors, and one 50-interaction history.

    Latency does not depend on what the factors learned, so they are random (seeded);
    the item factors have the spread of trained ones.
    """
    rng = np.random.default_rng(0)
    items = (rng.standard_normal((LATENCY_ITEMS, FACTORS)) * 0.1).astype(np.float32)
    users = (rng.standard_normal((1_000, FACTORS)) * 0.1).astype(np.float32)
    item_ids = np.char.add("I", np.char.zfill(np.arange(LATENCY_ITEMS).astype(str), 6))
    rec = Recommender.from_factors(
        users,
        items,
        np.char.add("U", np.arange(1_000).astype(str)),
        item_ids,
        params=ALSParams(factors=FACTORS, regularization=1.0, alpha=2.0),
    )
    history = item_ids[rng.choice(LATENCY_ITEMS, HISTORY_LENGTH, replace=False)].tolist()
    weights = (1 + rng.poisson(1.0, HISTORY_LENGTH)).astype(np.float32)
    rec.recommend_for_history(history, weights, n=10)  # YᵀY + λI is cached from here on
    return rec, history, weights


def test_bench_recommend_for_history(
    benchmark: BenchmarkFixture, catalog: tuple[Recommender, list[str], np.ndarray]
) -> None:
    """End to end: ID mapping, fold-in, scoring 50k items, top-10, result object."""
    rec, history, weights = catalog
    result = benchmark(rec.recommend_for_history, history, weights, 10)
    assert result.source == "fold-in"
    assert len(result) == 10
    assert not set(history) & set(result.ids.tolist())
    benchmark.extra_info.update(
        items=LATENCY_ITEMS, factors=FACTORS, history=HISTORY_LENGTH, blas_threads=_blas_threads()
    )


def test_bench_foldin_solve(
    benchmark: BenchmarkFixture, catalog: tuple[Recommender, list[str], np.ndarray]
) -> None:
    """The fold-in solve alone: one 64 x 64 system from a 50-item history."""
    rec, history, weights = catalog
    cols = rec.items_.to_index(history)
    conf = history_confidence(
        sp.csr_matrix(
            (weights, (np.zeros(cols.size, dtype=np.int64), cols)), shape=(1, len(rec.items_))
        ),
        rec.params,
    )
    state = rec.model_
    factors = benchmark(state.foldin.solve, conf)
    assert factors.shape == (1, FACTORS)
    assert np.any(factors != 0)
    benchmark.extra_info.update(
        items=LATENCY_ITEMS, factors=FACTORS, history=HISTORY_LENGTH, blas_threads=_blas_threads()
    )


# -- updated() versus a full refit ---------------------------------------------------------------


@dataclass(frozen=True)
class _Split:
    """Rows of the dataset for one scenario (see the module docstring)."""

    base: Interactions  # what the base model is trained on
    fresh: tuple[np.ndarray, np.ndarray, np.ndarray]  # (users, items, weights) for updated()
    full: Interactions  # what the refit is trained on
    test: Interactions  # held-out rows of the chosen users


@dataclass(frozen=True)
class _Setup:
    data: SyntheticData
    chosen: np.ndarray  # boolean mask over rows: the row belongs to a chosen user
    phase: np.ndarray  # per row of a chosen user: 0 old, 1 fresh, 2 test
    refit: Recommender
    refit_seconds: float
    refit_ndcg: float
    test: Interactions


def _phases(data: SyntheticData, chosen_users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Synthetic user IDs are "U" and the zero-padded user number.
    names = cast("npt.NDArray[np.str_]", data.user_ids)
    user_num = np.char.replace(names, "U", "").astype(np.int64)
    chosen = np.isin(user_num, chosen_users)
    rows = np.flatnonzero(chosen)
    order = rows[np.lexsort((data.timestamps[rows], user_num[rows]))]
    users = user_num[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    counts = np.diff(np.r_[starts, users.size])
    rank = np.arange(users.size) - np.repeat(starts, counts)
    frac = rank / np.repeat(counts, counts)
    phase = np.full(data.user_ids.size, -1, dtype=np.int64)
    phase[order] = np.where(frac < 0.5, 0, np.where(frac < 0.8, 1, 2))
    return chosen, phase


def _interactions(data: SyntheticData, mask: np.ndarray) -> Interactions:
    return Interactions.from_arrays(data.user_ids[mask], data.item_ids[mask], data.weights[mask])


@pytest.fixture(scope="module")
def setup() -> _Setup:
    data = synthetic(**UPDATE_SIZES[SIZE], random_state=11)
    n_users = UPDATE_SIZES[SIZE]["n_users"]
    rng = np.random.default_rng(5)
    chosen_users = rng.choice(n_users, max(1, int(n_users * UPDATE_SHARE)), replace=False)
    chosen, phase = _phases(data, chosen_users)
    full = _interactions(data, ~chosen | (phase <= 1))
    test_rows = _interactions(data, phase == 2)
    # Held-out pairs the user already had in training would be excluded as seen: drop them.
    seen = full.matrix.tocsr()
    keep_user = full.users.to_index(test_rows.users.ids)
    coo = test_rows.matrix.tocoo()
    rows, cols = (
        keep_user[coo.row],
        full.items.to_index(test_rows.items.ids[coo.col], missing="negative"),
    )
    known_item = cols >= 0
    already = np.zeros(coo.nnz, dtype=bool)
    already[known_item] = np.asarray(seen[rows[known_item], cols[known_item]]).ravel() > 0
    new_pair = ~already
    test = Interactions.from_arrays(
        test_rows.users.ids[coo.row[new_pair]],
        test_rows.items.ids[coo.col[new_pair]],
        coo.data[new_pair],
    )
    start = time.perf_counter()
    refit = _model().fit(full)
    refit_seconds = time.perf_counter() - start
    return _Setup(
        data=data,
        chosen=chosen,
        phase=phase,
        refit=refit,
        refit_seconds=refit_seconds,
        refit_ndcg=ndcg_at_k(refit, test, k=10),
        test=test,
    )


def _split(s: _Setup, scenario: str) -> _Split:
    data = s.data
    others = ~s.chosen
    if scenario == "returning":
        base_mask = others | (s.phase == 0)
        fresh_mask = s.phase == 1
    else:  # "new": the base model never saw the chosen users
        base_mask = others
        fresh_mask = s.chosen & (s.phase <= 1)
    return _Split(
        base=_interactions(data, base_mask),
        fresh=(data.user_ids[fresh_mask], data.item_ids[fresh_mask], data.weights[fresh_mask]),
        full=_interactions(data, others | (s.phase <= 1)),
        test=s.test,
    )


@pytest.mark.parametrize("scenario", ["returning", "new"])
def test_bench_updated_vs_refit(benchmark: BenchmarkFixture, setup: _Setup, scenario: str) -> None:
    """``updated()`` for 1% of the users, against the refit of the fixture."""
    split = _split(setup, scenario)
    base = _model().fit(split.base)
    users, items, weights = split.fresh
    updated = cast(
        "Recommender",
        benchmark.pedantic(  # type: ignore[no-untyped-call]
            base.updated, args=(users, items, weights), rounds=5, iterations=1, warmup_rounds=0
        ),
    )
    stats = benchmark.stats
    assert stats is not None
    seconds = float(stats.stats.median)
    ndcg = ndcg_at_k(updated, split.test, k=10)
    speedup = setup.refit_seconds / seconds
    quality = ndcg / setup.refit_ndcg
    benchmark.extra_info.update(
        size=SIZE,
        scenario=scenario,
        updated_users=int(np.unique(users).size),
        fresh_interactions=int(users.size),
        refit_seconds=round(setup.refit_seconds, 3),
        updated_median_seconds=round(seconds, 4),
        speedup=round(speedup, 1),
        ndcg_updated=round(ndcg, 4),
        ndcg_refit=round(setup.refit_ndcg, 4),
        ndcg_ratio=round(quality, 4),
        ndcg_base_without_update=round(ndcg_at_k(base, split.test, k=10), 4),
        blas_threads=_blas_threads(),
    )
    print(f"\n[{SIZE}/{scenario}] {benchmark.extra_info}")
    assert len(updated.users_) == len(split.full.users)
    assert updated.seen_ is not None
    assert updated.seen_.nnz == split.full.nnz
    # The quality target does not depend on timing, so it is checked at every size.
    assert quality >= 0.97, benchmark.extra_info
