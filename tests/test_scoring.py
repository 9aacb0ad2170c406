"""The private top-k machinery: exact ordering on every path, including the wide prefilter."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from alsrec import _scoring
from alsrec._scoring import normalized, ranked_top_n, row_norms, top_n


def reference_top_n(scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Full sort: best score first, ties by lower column, -inf/NaN ineligible."""
    m = scores.shape[0]
    pos = np.full((m, n), -1, dtype=np.int64)
    vals = np.full((m, n), np.nan, dtype=np.float32)
    for i in range(m):
        row = scores[i]
        ok = np.flatnonzero(row > -np.inf)
        order = ok[np.lexsort((ok, -row[ok].astype(np.float64)))][:n]
        pos[i, : order.size] = order
        vals[i, : order.size] = row[order]
    return pos, vals


def assert_same(got: tuple[np.ndarray, np.ndarray], want: tuple[np.ndarray, np.ndarray]) -> None:
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("k", [5, 300, 5000, 20011])
@pytest.mark.parametrize("n", [1, 3, 10])
def test_top_n_matches_full_sort_on_random_scores(k: int, n: int) -> None:
    rng = np.random.default_rng(k * 31 + n)
    scores = rng.standard_normal((7, k)).astype(np.float32)
    assert_same(top_n(scores, n), reference_top_n(scores, n))


def test_wide_rows_take_the_prefilter_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # The other tests use 20011 columns to exercise the group-maximum shortcut: prove it runs.
    calls: list[tuple[int, int]] = []
    real = _scoring._top_n_wide

    def spy(scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        calls.append(scores.shape)
        return real(scores, n)

    monkeypatch.setattr(_scoring, "_top_n_wide", spy)
    scores = np.random.default_rng(0).standard_normal((3, 20011)).astype(np.float32)
    top_n(scores, 10)
    top_n(scores[:, :300], 10)
    assert calls == [(3, 20011)]


def test_ties_break_by_lower_column_on_wide_rows() -> None:
    k = 20011
    scores = np.zeros((4, k), dtype=np.float32)  # every entry ties
    scores[1, [17, 9000, 20010]] = 1.0  # three winners, then ties at 0
    scores[2] = -0.0  # -0.0 equals 0.0
    scores[2, ::2] = 0.0
    scores[3, 5000:] = 2.0  # the tail columns must stay candidates
    for n in (1, 5, 12):
        assert_same(top_n(scores, n), reference_top_n(scores, n))
    pos, _ = top_n(scores, 5)
    assert pos[0].tolist() == [0, 1, 2, 3, 4]
    assert pos[1].tolist() == [17, 9000, 20010, 0, 1]


def test_ineligible_entries_pad_the_result() -> None:
    k = 20011
    rng = np.random.default_rng(3)
    scores = rng.standard_normal((5, k)).astype(np.float32)
    scores[0] = -np.inf  # nothing eligible
    scores[1, 3:] = -np.inf  # only three eligible
    scores[2, 100:200] = np.nan  # NaN never wins
    scores[3, 7] = np.inf  # +inf is a real (best) score
    scores[4, :] = np.nan
    scores[4, 42] = 0.5
    pos, vals = top_n(scores, 10)
    assert_same((pos, vals), reference_top_n(scores, 10))
    assert (pos[0] == -1).all() and np.isnan(vals[0]).all()
    assert pos[1, :3].tolist() == sorted(pos[1, :3].tolist(), key=lambda c: -scores[1, c])
    assert (pos[1, 3:] == -1).all()
    assert pos[3, 0] == 7
    assert pos[4, 0] == 42 and (pos[4, 1:] == -1).all()


def test_near_ties_across_groups_are_exact() -> None:
    # Many groups share the same maximum: the shortcut must give way to the exact path.
    k = 20011
    scores = np.full((2, k), -1.0, dtype=np.float32)
    scores[:, ::97] = 3.0
    scores[1, 5] = 4.0
    for n in (1, 10, 40):
        assert_same(top_n(scores, n), reference_top_n(scores, n))


def test_n_larger_than_columns_pads() -> None:
    scores = np.array([[0.5, 2.0, 1.0]], dtype=np.float32)
    pos, vals = top_n(scores, 5)
    assert pos.tolist() == [[1, 2, 0, -1, -1]]
    assert np.isnan(vals[0, 3:]).all()


@pytest.mark.parametrize("block_entries", [1, 3 * 20011, 1 << 21])
def test_ranked_top_n_blocks_exclusions_and_bans(block_entries: int) -> None:
    rng = np.random.default_rng(0)
    factors = rng.standard_normal((40, 8)).astype(np.float32)
    targets = rng.standard_normal((20011, 8)).astype(np.float32)
    # Five rows: in one block, in five one-row blocks (the two-thread overlapped path), ...
    rows = np.array([3, 0, 39, 3, 17], dtype=np.int64)
    banned = np.array([5, 10, 15], dtype=np.int64)
    # Exclude, for query position i, target columns i*7 .. i*7+6.
    excluded = {i: np.arange(i * 7, i * 7 + 7) for i in range(rows.size)}

    def exclude(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = np.repeat(np.arange(block.size), 7)
        c = np.concatenate([excluded[int(b)] for b in block])
        return r, c

    got = ranked_top_n(
        factors, rows, targets, 10, exclude=exclude, banned=banned, block_entries=block_entries
    )
    scores = factors[rows] @ targets.T
    scores[:, banned] = -np.inf
    for i in range(rows.size):
        scores[i, excluded[i]] = -np.inf
    want = reference_top_n(scores, 10)
    np.testing.assert_array_equal(got[0], want[0])
    # Single-row blocks use a matrix-vector product, which may round differently.
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5)


def test_ranked_top_n_overlapped_blocks_match_one_block() -> None:
    rng = np.random.default_rng(4)
    factors = rng.standard_normal((300, 16)).astype(np.float32)
    targets = rng.standard_normal((5003, 16)).astype(np.float32)
    rows = rng.integers(0, 300, 250)
    whole = ranked_top_n(factors, rows, targets, 7, block_entries=1 << 30)
    blocked = ranked_top_n(factors, rows, targets, 7, block_entries=9 * 5003)  # 28 blocks
    np.testing.assert_array_equal(whole[0], blocked[0])
    # BLAS may round differently for another block height.
    np.testing.assert_allclose(whole[1], blocked[1], rtol=1e-5)


def test_ranked_top_n_overlapped_errors_surface() -> None:
    factors = np.ones((50, 2), dtype=np.float32)

    def broken(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise RuntimeError("exclude failed")

    with pytest.raises(RuntimeError, match="exclude failed"):
        ranked_top_n(factors, np.arange(50), factors, 3, exclude=broken, block_entries=100)


def test_ranked_top_n_empty_inputs() -> None:
    factors = np.ones((3, 2), dtype=np.float32)
    pos, vals = ranked_top_n(factors, np.empty(0, np.int64), factors, 4)
    assert pos.shape == (0, 4) and vals.shape == (0, 4)
    pos, vals = ranked_top_n(factors, np.array([1]), np.empty((0, 2), np.float32), 2)
    assert pos.tolist() == [[-1, -1]] and np.isnan(vals).all()


def test_normalized_rows_have_unit_length_and_zero_rows_stay_zero() -> None:
    factors = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    unit = normalized(factors, row_norms(factors))
    np.testing.assert_allclose(unit, [[0.6, 0.8], [0.0, 0.0], [1.0, 0.0]], rtol=1e-6)
    assert unit.dtype == np.float32


def test_ranked_top_n_workers_match_one_thread() -> None:
    rng = np.random.default_rng(6)
    factors = rng.standard_normal((400, 8)).astype(np.float32)
    targets = rng.standard_normal((6007, 8)).astype(np.float32)
    rows = rng.integers(0, 400, 333)

    def exclude(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.arange(block.size), rows[block] % 6007

    one = ranked_top_n(factors, rows, targets, 5, exclude=exclude, block_entries=6 * 6007)
    many = ranked_top_n(
        factors, rows, targets, 5, exclude=exclude, block_entries=6 * 6007, workers=3
    )
    np.testing.assert_array_equal(one[0], many[0])
    np.testing.assert_array_equal(one[1], many[1])
    assert not (many[0] == (rows % 6007)[:, None]).any()  # the exclusions held


def _scenarios() -> np.ndarray:
    """Rows of 20011 columns that stress the one-row path: ties, -inf, NaN, -0.0, tail."""
    k = 20011
    rng = np.random.default_rng(11)
    rows = [rng.standard_normal(k).astype(np.float32) for _ in range(3)]
    rows.append(np.zeros(k, dtype=np.float32))  # all tie
    tail = np.zeros(k, dtype=np.float32)
    tail[-3:] = 5.0  # winners in the tail columns only
    rows.append(tail)
    few = np.full(k, -np.inf, dtype=np.float32)
    few[[4, 9000]] = 1.0  # fewer eligible entries than n
    rows.append(few)
    nan = rng.standard_normal(k).astype(np.float32)
    nan[::3] = np.nan
    rows.append(nan)
    signed = np.full(k, -1.0, dtype=np.float32)
    signed[[7, 70, 700]] = -0.0
    signed[[8, 80]] = 0.0
    rows.append(signed)
    return np.stack(rows)


@pytest.mark.parametrize("n", [1, 5, 10])
def test_single_rows_match_full_sort(n: int) -> None:
    scores = _scenarios()
    for i in range(scores.shape[0]):
        assert_same(top_n(scores[i : i + 1], n), reference_top_n(scores[i : i + 1], n))


SMALL_TILES = _scoring.Tiling(queries=16, width=64, first=640, min_queries=8)


def _tiled_case(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    factors = rng.standard_normal((120, 6)).astype(np.float32)
    targets = rng.standard_normal((2011, 6)).astype(np.float32)  # ragged last tile
    rows = rng.integers(0, 120, 77)  # ragged last block, repeated queries
    return factors, targets, rows


def test_tiled_path_is_taken_for_large_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = _scoring._tiled_top_n

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_scoring, "_tiled_top_n", spy)
    factors, targets, rows = _tiled_case(0)
    ranked_top_n(factors, rows, targets, 5, tiling=SMALL_TILES)
    assert calls == [1]
    ranked_top_n(factors, rows[:4], targets, 5, tiling=SMALL_TILES)  # too few queries
    ranked_top_n(factors, rows, targets[:300], 5, tiling=SMALL_TILES)  # too few targets
    ranked_top_n(factors, rows, targets, 5, tiling=None)
    assert calls == [1]
    assert _scoring.TILING.applies(10_000, 50_000, 10)
    assert not _scoring.TILING.applies(1, 50_000, 10)


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("n", [1, 4, 10])
def test_tiled_path_matches_full_sort_with_exclusions_and_bans(workers: int, n: int) -> None:
    factors, targets, rows = _tiled_case(n)
    banned = np.array([0, 639, 640, 704, 2010, 704], dtype=np.int64)  # tile edges, a repeat
    # Query i loses a window of targets around its favourite one and around tile edges.
    scores = factors[rows] @ targets.T
    windows = {
        i: np.unique(np.r_[np.argmax(scores[i]) + np.arange(-3, 4), 634:646, 700:710]) % 2011
        for i in range(rows.size)
    }

    def exclude(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = [windows[int(b)] for b in block]
        return np.repeat(np.arange(block.size), [p.size for p in parts]), np.concatenate(parts)

    got = ranked_top_n(
        factors,
        rows,
        targets,
        n,
        exclude=exclude,
        banned=banned,
        workers=workers,
        tiling=SMALL_TILES,
    )
    scores[:, banned] = -np.inf
    for i, cols in windows.items():
        scores[i, cols] = -np.inf
    want = reference_top_n(scores, n)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5)  # tiles may round differently


def test_tiled_path_ties_nan_infinities_and_short_rows() -> None:
    k = 2011
    rng = np.random.default_rng(8)
    table = rng.standard_normal((9, k)).astype(np.float32)
    table[0] = 0.0  # every entry ties: lowest columns win
    table[1, 1500:] = 5.0  # the winners lie beyond the first tile only
    table[2] = -np.inf
    table[2, [3, 700, 2010]] = 1.0  # fewer eligible entries than n, ...
    table[3] = np.nan
    table[3, [1000, 1999]] = 2.0  # ... or mostly NaN
    table[4, 600] = np.inf  # +inf is the best score
    table[5] = np.linspace(-1, 1, k, dtype=np.float32)  # rising: every tile beats the last
    table[6, :640] = -np.inf  # nothing eligible in the first tile
    table[7, ::2] = -0.0
    table[7, 1::2] = 0.0  # -0.0 ties with 0.0
    table[8] = np.round(table[8])  # many ties across tiles
    rows = np.zeros(20, dtype=np.int64)  # two blocks of the same query
    for scenario in table:
        # One factor of 1.0 makes each score exactly the table entry.
        targets = np.ascontiguousarray(scenario[:, None])
        for n in (1, 3, 10):
            got = ranked_top_n(np.ones((1, 1), np.float32), rows, targets, n, tiling=SMALL_TILES)
            assert_same(got, reference_top_n(np.tile(scenario, (20, 1)), n))


def test_tiled_path_compacts_without_losing_results(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rising scores put far more than the budget of entries over each first threshold.
    compactions: list[int] = []
    real = _scoring._Candidates.compact

    def spy(self: _scoring._Candidates, threshold: np.ndarray) -> None:
        compactions.append(self.size)
        real(self, threshold)

    monkeypatch.setattr(_scoring._Candidates, "compact", spy)
    k = 6000
    rising = np.linspace(0, 1, k, dtype=np.float32)
    for scenario in (rising, rising[::-1], np.r_[rising[:4000], rising[4000:][::-1]]):
        targets = np.ascontiguousarray(scenario[:, None])
        rows = np.zeros(30, dtype=np.int64)
        got = ranked_top_n(np.ones((1, 1), np.float32), rows, targets, 6, tiling=SMALL_TILES)
        assert_same(got, reference_top_n(np.tile(scenario, (30, 1)), 6))
    assert compactions  # the rising scenario overflowed the budget


def test_tiled_blocks_shrink_so_every_worker_gets_two(monkeypatch: pytest.MonkeyPatch) -> None:
    starts: list[list[int]] = []
    real = _scoring._run_blocks

    def spy(run: Any, block_starts: list[int], workers: int) -> None:
        starts.append(block_starts)
        real(run, block_starts, workers)

    monkeypatch.setattr(_scoring, "_run_blocks", spy)
    factors, targets, rows = _tiled_case(3)
    rows = rows[:40]
    one = ranked_top_n(factors, rows, targets, 4, tiling=SMALL_TILES)
    two = ranked_top_n(factors, rows, targets, 4, tiling=SMALL_TILES, workers=2)
    assert starts == [[0, 16, 32], [0, 10, 20, 30]]  # 40 queries: 3 full blocks, or 4 x 10
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_allclose(one[1], two[1], rtol=1e-5)
