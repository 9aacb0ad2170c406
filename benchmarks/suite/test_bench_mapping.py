"""ID mapping: :class:`alsrec.IdMapper` against pandas (used only here, never at run time).

String IDs look like real ones (``"user_0123456789"``, varying lengths); the lookup
queries every known ID in a shuffled order. Building a mapper is measured from a column
of repeating IDs, as read from an interaction log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from alsrec import IdMapper

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench_support import BenchSize, Collector, Timed

pd = pytest.importorskip("pandas", reason="pandas is the reference here: pip install alsrec[bench]")

IMPLS = ["alsrec", "pandas"]


def _string_ids(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    numbers = rng.choice(10**10, size=count, replace=False)
    return np.char.add("user_", numbers.astype(str))


@pytest.fixture(scope="module")
def lookup_case(size: BenchSize) -> tuple[np.ndarray, np.ndarray]:
    ids = _string_ids(size.lookup_ids, seed=0)
    query = np.random.default_rng(1).permutation(ids)
    return ids, query


@pytest.fixture(scope="module")
def factorize_case(size: BenchSize) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    distinct = max(1, size.factorize_rows // 10)
    pool = _string_ids(distinct, seed=3)
    rows = rng.integers(0, distinct, size.factorize_rows)
    ints = rng.choice(10**12, size=distinct, replace=False).astype(np.int64)
    return {"str": pool[rows], "int": ints[rows]}


@pytest.mark.parametrize("impl", IMPLS)
def test_to_index(
    impl: str,
    benchmark: Any,
    lookup_case: tuple[np.ndarray, np.ndarray],
    size: BenchSize,
    collector: Collector,
    timed: Callable[..., Timed],
) -> None:
    benchmark.group = "mapping: to_index"
    ids, query = lookup_case
    collector.define(
        "to_index",
        f"IdMapper.to_index {ids.size} str IDs",
        "time",
        1.5,
        reference="pandas",
    )
    if impl == "alsrec":
        mapper = IdMapper(ids)
        fn = timed(lambda: mapper.to_index(query), warmup=1)
    else:
        index = pd.Index(ids)
        fn = timed(lambda: index.get_indexer(query), warmup=1)
    got = np.asarray(benchmark.pedantic(fn, rounds=5, warmup_rounds=1, iterations=1))
    # Both answer "the position of each queried ID in ids".
    np.testing.assert_array_equal(ids[got], query)
    collector.add("to_index", impl, fn.median)


@pytest.mark.parametrize("kind", ["str", "int"])
@pytest.mark.parametrize("impl", IMPLS)
def test_factorize(
    impl: str,
    kind: str,
    benchmark: Any,
    factorize_case: dict[str, np.ndarray],
    size: BenchSize,
    collector: Collector,
    timed: Callable[..., Timed],
) -> None:
    benchmark.group = f"mapping: factorize {kind}"
    column = factorize_case[kind]
    key = f"factorize_{kind}"
    collector.define(
        key, f"IdMapper.factorize {column.size} {kind} rows", "time", 1.5, reference="pandas"
    )
    rounds = 1 if column.size >= 5_000_000 else 3
    if impl == "alsrec":
        fn = timed(lambda: IdMapper.factorize(column))
        mapper, codes = benchmark.pedantic(fn, rounds=rounds, iterations=1)
        uniques = mapper.ids
    else:
        fn = timed(lambda: pd.factorize(column))
        codes, uniques = benchmark.pedantic(fn, rounds=rounds, iterations=1)
    # Both number IDs in order of first appearance, so the answers are identical.
    np.testing.assert_array_equal(np.asarray(uniques)[codes], column)
    assert codes[0] == 0
    collector.add(key, impl, fn.median)
