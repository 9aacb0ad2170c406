"""Queries: batch and single-user recommendations, batch similar items.

alsrec and implicit hold the very same factors (the ``fitted`` fixture), so both rank the
same scores; the benchmark checks that their answers agree before it reports a ratio.
Each side is called the way its users call it: alsrec with external IDs (mapping, policy
and result objects included), implicit with row indices and the CSR rows it filters by.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from bench_support import FACTORS, sample_users

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench_support import BenchSize, Collector, Timed

    from conftest import Fitted

IMPLS = ["alsrec", "implicit"]
N = 10


def _rounds(size: BenchSize) -> int:
    return 2 if size.name == "small" else 5


@pytest.mark.parametrize("impl", IMPLS)
def test_recommend_many(
    impl: str,
    benchmark: Any,
    fitted: Fitted,
    size: BenchSize,
    threads: int,
    matmul_peak: float,
    collector: Collector,
    timed: Callable[..., Timed],
    alsrec_threads: Callable[[], Any],
    implicit_threads: Callable[[], Any],
) -> None:
    """Top-10 for a batch of users, seen items excluded."""
    benchmark.group = "recommend: batch"
    rows = sample_users(fitted.user_items.shape[0], size.batch_users)
    row = collector.define(
        "recommend_many", f"recommend_many {rows.size} users, n={N}", "speedup", 1.3
    )
    n_items = fitted.item_ids.size
    flop = 2.0 * rows.size * n_items * FACTORS
    if impl == "alsrec":
        ids = fitted.user_ids[rows]
        fn = timed(lambda: fitted.rec.recommend_many(ids, n=N), warmup=1)
        with alsrec_threads():
            out = benchmark.pedantic(fn, rounds=_rounds(size), warmup_rounds=1, iterations=1)
        assert out.mask.all()
    else:
        user_items = fitted.user_items
        model = fitted.model
        fn = timed(
            lambda: model.recommend(rows, user_items[rows], N=N, filter_already_liked_items=True),
            warmup=1,
        )
        with implicit_threads():
            idx, _ = benchmark.pedantic(fn, rounds=_rounds(size), warmup_rounds=1, iterations=1)
        assert idx.shape == (rows.size, N)
    gflops = flop / fn.median / 1e9
    collector.add(
        "recommend_many",
        impl,
        fn.median,
        **{f"{impl} GFLOP/s": f"{gflops:.0f} ({gflops / matmul_peak:.0%} of peak)"},
    )
    row.notes["matmul peak"] = f"{matmul_peak:.0f} GFLOP/s"
    benchmark.extra_info.update(gflops=gflops, peak_gflops=matmul_peak, users=rows.size)


def test_recommend_many_agrees_with_implicit(
    fitted: Fitted,
    size: BenchSize,
    alsrec_threads: Callable[[], Any],
    implicit_threads: Callable[[], Any],
    benchmark: Any,
) -> None:
    """Same factors, same exclusions: the top-10 item lists must match (a sanity check)."""
    benchmark.group = "recommend: batch"
    rows = sample_users(fitted.user_items.shape[0], min(size.batch_users, 2000), seed=1)
    with alsrec_threads():
        ours = benchmark.pedantic(
            lambda: fitted.rec.recommend_many(fitted.user_ids[rows], n=N), rounds=1
        )
    with implicit_threads():
        theirs, _ = fitted.model.recommend(
            rows, fitted.user_items[rows], N=N, filter_already_liked_items=True
        )
    ours_idx = np.full(ours.ids.shape, -1, dtype=np.int64)
    ours_idx[ours.mask] = fitted.rec.items_.to_index(ours.ids[ours.mask])
    # implicit pads filtered slots with very negative scores instead of dropping them, and
    # float rounding may swap near-equal neighbours: compare the sets of the top 10.
    same = np.mean(
        [set(a[a >= 0].tolist()) == set(b.tolist()) for a, b in zip(ours_idx, theirs, strict=True)]
    )
    assert same >= 0.99, f"only {same:.1%} of top-{N} lists agree with implicit"


@pytest.mark.parametrize("impl", IMPLS)
def test_recommend_single_latency(
    impl: str,
    benchmark: Any,
    fitted: Fitted,
    size: BenchSize,
    collector: Collector,
    timed: Callable[..., Timed],
    alsrec_threads: Callable[[], Any],
    implicit_threads: Callable[[], Any],
) -> None:
    """p50 of one-user calls (a different user each round).

    A one-user call is one matrix-vector product: both libraries run it on one BLAS
    thread here (implicit computes a single query in the calling thread anyway).
    """
    benchmark.group = "recommend: single user"
    collector.define(
        "recommend_one",
        f"recommend 1 user p50 ({fitted.item_ids.size} items)",
        "delta_us",
        50.0,
    )
    users = iter(np.tile(sample_users(fitted.user_items.shape[0], size.latency_queries, 2), 3))
    if impl == "alsrec":
        ids = fitted.user_ids
        rec = fitted.rec
        fn = timed(lambda u: rec.recommend(ids[u], n=N))
        ctx = alsrec_threads
    else:
        model, user_items = fitted.model, fitted.user_items
        fn = timed(
            lambda u: model.recommend(u, user_items[u], N=N, filter_already_liked_items=True)
        )
        ctx = implicit_threads
    with ctx():
        benchmark.pedantic(
            fn,
            setup=lambda: ((int(next(users)),), {}),
            rounds=size.latency_queries,
            warmup_rounds=min(20, size.latency_queries),
            iterations=1,
        )
    timed_rounds = fn.times[-size.latency_queries :]
    p50 = float(np.median(timed_rounds))
    p99 = float(np.percentile(timed_rounds, 99))
    collector.add("recommend_one", impl, p50, **{f"{impl} p99": f"{p99 * 1e6:.0f} us"})
    benchmark.extra_info.update(p50_us=p50 * 1e6, p99_us=p99 * 1e6)


@pytest.mark.parametrize("impl", IMPLS)
def test_similar_items_many(
    impl: str,
    benchmark: Any,
    fitted: Fitted,
    size: BenchSize,
    collector: Collector,
    timed: Callable[..., Timed],
    alsrec_threads: Callable[[], Any],
    implicit_threads: Callable[[], Any],
) -> None:
    """Top-10 similar items (cosine) for a batch of items."""
    benchmark.group = "similar_items: batch"
    n_items = fitted.item_ids.size
    count = min(size.batch_users, n_items // 2)
    items = sample_users(n_items, count, seed=3)
    collector.define("similar_many", f"similar_items_many {count} items, n={N}", "speedup", 1.3)
    if impl == "alsrec":
        ids = fitted.item_ids[items]
        fn = timed(lambda: fitted.rec.similar_items_many(ids, n=N), warmup=1)
        ctx = alsrec_threads
    else:
        # implicit returns the query item itself first: ask for one more.
        model = fitted.model
        fn = timed(lambda: model.similar_items(items, N=N + 1), warmup=1)
        ctx = implicit_threads
    with ctx():
        benchmark.pedantic(fn, rounds=_rounds(size), warmup_rounds=1, iterations=1)
    collector.add("similar_many", impl, fn.median)
    benchmark.extra_info.update(items=count)
