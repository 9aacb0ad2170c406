"""Wall time of the default hyperparameter search, its gain over the defaults, explain latency.

Run::

    OPENBLAS_NUM_THREADS=1 pytest benchmarks/suite/test_bench_tuning.py --benchmark-only -s

Targets (issue 11):

- ``search`` with every default (the staged search: 40 trials on two validation splits,
  its 3 finalists also on two more, numpy backend; before issue 17, a random search of
  20 trials on one split) on ``synthetic(5000, 1000)``: under a minute on 2 cores, and
  the refit best model's NDCG@10 on a test split the search never saw above the default
  parameters'.
- ``Recommender.explain`` for a user with a 50-item history over 50k items at 64 factors:
  median under 1 ms (one 64 x 64 solve plus 50 dot products; no scoring of the catalog;
  0.12 ms measured here).

Measured numbers go to each benchmark's ``extra_info`` and are printed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
import scipy.sparse as sp

from alsrec import ALSParams, Interactions, Recommender
from alsrec.datasets import synthetic
from alsrec.evaluation import holdout_split, ndcg_at_k
from alsrec.tuning import search

if TYPE_CHECKING:
    from pytest_benchmark.fixture import BenchmarkFixture

    from alsrec.tuning import TuningReport


def test_bench_default_search(benchmark: BenchmarkFixture) -> None:
    data = synthetic(5000, 1000, random_state=0)
    full = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)
    dev, test = holdout_split(full, 0.2, random_state=12345)  # the search never sees test

    def run() -> TuningReport:
        return search(dev, random_state=0, refit=True)

    report = benchmark.pedantic(run, rounds=1, iterations=1)
    assert report.best_model is not None
    tuned = ndcg_at_k(report.best_model, test, 10)
    default = ndcg_at_k(Recommender(random_state=0).fit(dev), test, 10)
    benchmark.extra_info.update(
        trials=len(report.trials),
        search_seconds=round(report.wall_seconds, 2),
        best_params=report.best_params.to_dict(),
        test_ndcg10_tuned=round(tuned, 4),
        test_ndcg10_default=round(default, 4),
    )
    print(f"\ndefault search: {report.wall_seconds:.1f} s; test NDCG@10 {tuned:.4f} tuned, "
          f"{default:.4f} default")  # fmt: skip
    assert tuned > default


@pytest.fixture(scope="module")
def wide_model() -> tuple[Recommender, str, str]:
    """50k items, 64 factors (random, seeded), one user with 50 training items."""
    rng = np.random.default_rng(0)
    n_items, factors = 50_000, 64
    items = (rng.standard_normal((n_items, factors)) * 0.1).astype(np.float32)
    users = (rng.standard_normal((10, factors)) * 0.1).astype(np.float32)
    cols = np.sort(rng.choice(n_items, 50, replace=False))
    seen = sp.csr_matrix(
        (np.ones(50, dtype=np.float32), (np.zeros(50, dtype=np.int64), cols)),
        shape=(10, n_items),
    )
    item_ids = np.char.add("I", np.arange(n_items).astype(str))
    rec = Recommender.from_factors(
        users,
        items,
        np.char.add("U", np.arange(10).astype(str)),
        item_ids,
        seen=seen,
        params=ALSParams(factors=factors, regularization=1.0, alpha=2.0),
    )
    rec.explain("U0", "I1")  # YᵀY + λI is cached from here on
    return rec, "U0", str(item_ids[7])


def test_bench_explain(
    benchmark: BenchmarkFixture, wide_model: tuple[Recommender, str, str]
) -> None:
    rec, user, item = wide_model
    why = benchmark(rec.explain, user, item)
    assert len(why) == 50
    benchmark.extra_info.update(items=50_000, factors=64, history=50)
