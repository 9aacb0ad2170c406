"""Vectorized scoring and top-k shared by every query (private).

Ranking ``q`` queries over ``k`` targets costs one ``(q x f) @ (f x k)`` matrix product
plus a top-``n`` selection per row. The product runs in BLAS; this module keeps the rest
cheap:

- scores are computed block by block into one reused buffer small enough to stay in
  the CPU cache (a fresh multi-megabyte array per block costs page faults, and a
  partition over a row that has left the cache is memory-bound);
- exclusions (seen items, the query item itself) are one flat-index assignment per block;
- wide rows are pre-filtered: the columns are cut into ``c`` interleaved groups and the
  ``n`` groups with the highest maximum must contain the top ``n`` entries, so the exact
  selection runs over ``n * c`` candidates instead of ``k`` columns. Rows where the
  shortcut cannot prove itself (ties at the boundary, fewer than ``n`` eligible entries,
  NaN) take the exact path;
- large batches over many targets take the *tiled* path (:func:`_tiled_top_n`): a block
  of a few hundred queries is scored against one cache-sized tile of targets at a time,
  which keeps the matrix product near the machine's peak (a block of a few dozen
  queries against all targets runs at about 70% of it, and a tile never leaves the
  cache). The exact top ``n`` of the first, wider tile gives each query a threshold
  that its final ``n``-th best score cannot be below; later tiles only contribute the
  entries that reach it (one comparison pass), and those candidates are merged exactly.

Every selection orders by score, then by lower column, using one ``int64`` key per
entry, so results are exact and deterministic whichever path a row takes.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from alsrec._threads import single_threaded_blas

if TYPE_CHECKING:
    from collections.abc import Callable

    from alsrec.types import FactorMatrix, FloatArray, IndexArray

NEG_INF = np.float32(-np.inf)

SCORE_BLOCK_ENTRIES = 1 << 21
"""Scores computed at once (queries x candidates): 8 MiB of float32, cache-sized
(measured at 50k items: 32-64 rows per block beat 256-1000 rows by 10-30%)."""

_GROUPS_PER_N = 100
"""Wide-row prefilter: aim for about this many column groups per requested result."""

_MIN_WIDE_COLUMNS = 4096
"""Rows narrower than this skip the prefilter (the exact path is already cheap)."""

_LOW_MASK = np.int64(0xFFFFFFFF)

_LOWEST = np.float32(np.finfo(np.float32).min)


@dataclass(frozen=True)
class Tiling:
    """Geometry of the tiled path of :func:`ranked_top_n` (the defaults are measured).

    Measured on a 2-core AMD EPYC (2 MiB L2 per core, 32 MiB L3; OpenBLAS; 10k queries x
    50k targets x 64 factors, top 10): the product of a few hundred queries with a tile
    of one or two thousand targets runs at 110-118 GFLOP/s per core, against 84-96 for
    16-256 queries with all 50k targets at once. Blocks of 256-1024 queries, tiles of
    1024-2048 columns and first tiles of 4096-8192 columns were within 5% of each other
    (0.40-0.43 s on 2 worker threads, 0.51-0.54 s on 2 BLAS threads; the row-block path:
    0.50-0.57 s and 0.52-0.55 s). The gain fades as ``n`` grows, since about
    ``n * k / first`` candidates per query reach the merge: 0.57 s against 0.69 s at
    ``n = 100``, 0.92 s against 0.75 s at ``n = 200``.
    """

    queries: int = 512
    """Query rows per block."""
    width: int = 2048
    """Target columns per tile after the first."""
    first: int = 4096
    """Columns of the first tile, whose exact top ``n`` sets each query's threshold."""
    min_queries: int = 64
    """Smaller batches take the row-block path."""

    def applies(self, q: int, k: int, n: int) -> bool:
        """Whether ``q`` queries for the top ``n`` of ``k`` targets take the tiled path."""
        return q >= self.min_queries and k >= self.first + self.width and n * 40 <= self.first


TILING = Tiling()


def _order_keys(values: FloatArray, cols: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    """One ``int64`` per entry, increasing with the score, then with *lower* column.

    NaN counts as ``-inf``; ``-0.0`` equals ``0.0``. Keys in a row are distinct
    because columns are, so a partition over keys has no ties to break arbitrarily.
    """
    v = values + np.float32(0.0)  # -0.0 -> +0.0; also a private copy
    v[np.isnan(v)] = NEG_INF
    bits = v.view(np.int32)
    bits ^= (bits >> 31) & np.int32(0x7FFFFFFF)  # float order as signed int order
    keys = bits.astype(np.int64)
    keys <<= 32
    keys |= _LOW_MASK - cols
    return cast("npt.NDArray[np.int64]", keys)


def _take_rows(a: npt.NDArray[Any], idx: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
    """``out[i, j] = a[i, idx[i, j]]`` for a C-contiguous ``a`` (one flat gather)."""
    m, k = a.shape
    flat = a.reshape(-1)
    if m == 1:
        return flat[idx]
    return cast("npt.NDArray[Any]", flat[idx + (np.arange(m, dtype=np.int64) * k)[:, None]])


def _select(values: FloatArray, cols: IndexArray | None, n: int) -> tuple[IndexArray, FloatArray]:
    """Top ``n`` of each row of ``values``; ``cols`` names each entry's column (default:
    its position). ``values`` must be C-contiguous."""
    m, k = values.shape
    take = min(n, k)
    pos = np.full((m, n), -1, dtype=np.int64)
    vals = np.full((m, n), np.nan, dtype=np.float32)
    if take == 0 or m == 0:
        return pos, vals
    keys = _order_keys(values, np.arange(k, dtype=np.int64) if cols is None else cols)
    if take < k:
        part = np.argpartition(keys, k - take, axis=1)[:, k - take :]
        part = np.ascontiguousarray(part)
        part_keys = _take_rows(keys, part)
    else:
        part = np.broadcast_to(np.arange(k, dtype=np.int64), (m, k))
        part_keys = keys
    order = np.ascontiguousarray(np.argsort(part_keys, axis=1)[:, ::-1])
    best = np.take_along_axis(part, order, axis=1)
    best_vals = _take_rows(values, best)
    best_cols = best if cols is None else _take_rows(cols, best)
    valid = best_vals > NEG_INF  # False for -inf and NaN
    pos[:, :take] = np.where(valid, best_cols, -1)
    vals[:, :take] = np.where(valid, best_vals, np.nan)
    return pos, vals


def top_n(scores: FloatArray, n: int) -> tuple[IndexArray, FloatArray]:
    """Best ``n`` columns of each row, best first; ``-inf``/NaN entries are ineligible.

    Returns positions ``(m, n)`` with ``-1`` and scores with ``NaN`` in padded slots.
    Ties are broken by the lower column position, so results are deterministic.
    """
    scores = np.ascontiguousarray(scores, dtype=np.float32)
    m, k = scores.shape
    if k >= _MIN_WIDE_COLUMNS and m and n * 8 <= k // _group_size(k, n):
        return _top_n_wide(scores, n)
    return _select(scores, None, n)


def _group_size(k: int, n: int) -> int:
    return max(2, k // (n * _GROUPS_PER_N))


def _top_n_wide_row(row: FloatArray, n: int) -> tuple[IndexArray, FloatArray] | None:
    """:func:`_top_n_wide` for one row with 1-d operations (a single-user query), or
    ``None`` where the shortcut cannot prove itself."""
    k = row.size
    c = _group_size(k, n)
    g = k // c
    main = c * g
    gmax = row[:main].reshape(c, g).max(axis=0)
    top = np.argpartition(gmax, g - n)[g - n :]
    threshold = gmax[top].min()
    if not threshold > NEG_INF or np.count_nonzero(gmax >= threshold) > n:
        return None
    cols = np.add.outer(np.arange(0, main, g, dtype=np.int64), top).reshape(-1)
    if main < k:
        cols = np.concatenate((cols, np.arange(main, k, dtype=np.int64)))
    vals = row[cols]
    keys = _order_keys(vals, cols)
    best = np.argpartition(keys, keys.size - n)[keys.size - n :]
    best = best[np.argsort(keys[best])[::-1]]
    best_vals = vals[best]
    valid = best_vals > NEG_INF
    pos = np.where(valid, cols[best], -1)[None, :]
    return pos, np.where(valid, best_vals, np.float32(np.nan))[None, :]


def _top_n_wide(scores: FloatArray, n: int) -> tuple[IndexArray, FloatArray]:
    """:func:`top_n` for wide rows through the group-maximum prefilter."""
    m, k = scores.shape
    if m == 1:
        found = _top_n_wide_row(scores[0], n)
        if found is not None:
            return found
    c = _group_size(k, n)
    g = k // c
    main = c * g
    # Column j < main belongs to group j % g; the tail columns are always candidates.
    gmax = np.max(scores[:, :main].reshape(m, c, g), axis=1)
    top = np.ascontiguousarray(np.argpartition(gmax, g - n, axis=1)[:, g - n :])
    threshold = np.min(_take_rows(gmax, top), axis=1)
    # The n groups with the largest maxima hold n distinct entries >= threshold, so any
    # entry of the top n is >= threshold and lies in one of them, unless another group
    # also reaches the threshold (a tie) or the threshold is -inf/NaN.
    reaching = np.count_nonzero(gmax >= threshold[:, None], axis=1)
    exact = ~(threshold > NEG_INF) | (reaching > n) | np.isnan(threshold)
    cols = (top[:, None, :] + (np.arange(c, dtype=np.int64) * g)[None, :, None]).reshape(m, -1)
    if main < k:
        tail = np.broadcast_to(np.arange(main, k, dtype=np.int64), (m, k - main))
        cols = np.concatenate([cols, tail], axis=1)
    pos, vals = _select(_take_rows(scores, cols), cols, n)
    if exact.any():
        redo = np.flatnonzero(exact)
        pos[redo], vals[redo] = _select(scores[redo], None, n)
    return pos, vals


def ranked_top_n(
    factors: FactorMatrix,
    rows: IndexArray,
    targets: FactorMatrix,
    n: int,
    *,
    exclude: Callable[[IndexArray], tuple[IndexArray, IndexArray]] | None = None,
    banned: IndexArray | None = None,
    block_entries: int = SCORE_BLOCK_ENTRIES,
    workers: int = 1,
    tiling: Tiling | None = TILING,
) -> tuple[IndexArray, FloatArray]:
    """Top ``n`` targets by dot product for every query row, computed in cached blocks.

    Parameters
    ----------
    factors : (rows, f) float32
        Factor matrix the queries come from.
    rows : (q,) int
        Query rows of ``factors``; result row ``i`` answers ``factors[rows[i]]``.
    targets : (k, f) float32
        Candidate factor rows; result positions index this matrix.
    n : int
        Results per query.
    exclude : callable, optional
        ``exclude(block)`` gets the query positions (indices into ``rows``) of a block
        and returns ``(row_in_block, target_position)`` pairs that are ineligible.
    banned : int array, optional
        Target positions ineligible for every query.
    block_entries : int
        Scores per block (queries x targets) on the row-block path; a block has at least
        one query.
    workers : int
        Threads; batches of at least two blocks per thread are split between them.
    tiling : Tiling or None
        Geometry of the tiled path, taken where :meth:`Tiling.applies`; ``None``: always
        the row-block path. Both rank exactly by the scores they compute; the scores
        themselves may differ in the last bit (BLAS rounds another product shape
        differently), which can only reorder entries whose scores are that close.

    Returns
    -------
    (positions, scores) : ``(q, n)`` int64 (``-1`` padded) and float32 (``NaN`` padded).
    """
    # A batch runs with single-threaded BLAS (alsrec._threads); a single query leaves
    # BLAS as it is (see _run_blocks for the measurements behind both).
    scope = single_threaded_blas() if rows.size > 1 else contextlib.nullcontext()
    with scope:
        return _ranked_top_n(
            factors, rows, targets, n, exclude, banned, block_entries, workers, tiling
        )


def _ranked_top_n(
    factors: FactorMatrix,
    rows: IndexArray,
    targets: FactorMatrix,
    n: int,
    exclude: Callable[[IndexArray], tuple[IndexArray, IndexArray]] | None,
    banned: IndexArray | None,
    block_entries: int,
    workers: int,
    tiling: Tiling | None,
) -> tuple[IndexArray, FloatArray]:
    q, k = rows.size, targets.shape[0]
    out_pos = np.full((q, n), -1, dtype=np.int64)
    out_val = np.full((q, n), np.nan, dtype=np.float32)
    if q == 0 or k == 0:
        return out_pos, out_val
    if tiling is not None and tiling.applies(q, k, n):
        return _tiled_top_n(
            factors, rows, targets, n, exclude, banned, tiling, workers, out_pos, out_val
        )
    step = max(1, min(q, block_entries // k))
    targets_t = targets.T

    def score(start: int, scores: FloatArray) -> None:
        stop = start + scores.shape[0]
        np.matmul(factors[rows[start:stop]], targets_t, out=scores)
        if banned is not None and banned.size:
            scores[:, banned] = NEG_INF
        if exclude is not None:
            r, c = exclude(np.arange(start, stop, dtype=np.int64))
            if r.size:
                scores.reshape(-1)[r * k + c] = NEG_INF

    def select(start: int, scores: FloatArray) -> None:
        stop = start + scores.shape[0]
        out_pos[start:stop], out_val[start:stop] = top_n(scores, n)

    def run(share: list[int]) -> None:
        buffer = np.empty((step, k), dtype=np.float32)
        for start in share:
            scores = buffer[: min(q, start + step) - start]
            score(start, scores)
            select(start, scores)

    _run_blocks(run, list(range(0, q, step)), workers)
    return out_pos, out_val


def _run_blocks(run: Callable[[list[int]], None], starts: list[int], workers: int) -> None:
    """``run`` every block start, on ``workers`` threads when there are enough blocks.

    Blocks are independent: each worker takes every ``workers``-th block, with its own
    buffers; numpy releases the GIL in the products and the selection.

    BLAS: :func:`ranked_top_n` runs every batch (two queries or more) inside
    :func:`~alsrec._threads.single_threaded_blas` (unless the caller opted out, when
    ``worker_count`` gives several workers only next to single-threaded BLAS). Even a
    batch scored on one thread gains: on a busy 2-core machine, 1,000 users x 1,000 items
    took 212 ms with two BLAS threads against 23 ms with one. A single query leaves BLAS
    as it is: it is one matrix-vector product, which threaded BLAS can split (one user
    over 50k items: 0.39-0.42 ms with two BLAS threads, 0.65-0.73 ms with one, on an idle
    machine), and entering the scope costs about 7 us more.
    """
    if workers <= 1 or len(starts) < 2 * workers:
        run(starts)
        return
    with ThreadPoolExecutor(workers, "alsrec-score") as pool:
        for _ in pool.map(run, [starts[i::workers] for i in range(workers)]):
            pass


class _Candidates:
    """Entries of one block of queries that may still make its top ``n``."""

    def __init__(self, m: int, n: int) -> None:
        self.m, self.n = m, n
        self.parts: list[tuple[IndexArray, IndexArray, FloatArray]] = []
        self.size = 0

    def add(self, rows: IndexArray, cols: IndexArray, vals: FloatArray) -> None:
        if rows.size:
            self.parts.append((rows, cols, vals))
            self.size += rows.size

    def best(self) -> tuple[IndexArray, FloatArray]:
        """The exact top ``n`` of each query's candidates (``-1``/NaN padded)."""
        m, n = self.m, self.n
        pos = np.full((m, n), -1, dtype=np.int64)
        vals = np.full((m, n), np.nan, dtype=np.float32)
        if not self.parts:
            return pos, vals
        rows = np.concatenate([p[0] for p in self.parts])
        small = np.int16 if m <= np.iinfo(np.int16).max else np.int64
        order = np.argsort(rows.astype(small), kind="stable")  # a radix sort for int16
        rows = rows[order]
        cand_cols = np.concatenate([p[1] for p in self.parts])[order]
        cand_vals = np.concatenate([p[2] for p in self.parts])[order]
        counts = np.bincount(rows, minlength=m)
        slot = np.arange(rows.size, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        # Each query's candidates are padded to a common width: the few queries with far
        # more than the average get a matrix of their own, so they cannot widen all rows.
        limit = max(n, 2 * -(-rows.size // m))
        for chosen in (counts > 0) & (counts <= limit), counts > limit:
            which = np.flatnonzero(chosen)
            if not which.size:
                continue
            width = max(n, int(counts[which].max()))
            local = np.zeros(m, dtype=np.int64)
            local[which] = np.arange(which.size)
            entries = chosen[rows]
            flat = local[rows[entries]] * width + slot[entries]
            # Padding: -inf never wins; column 0 keeps the ordering key in range.
            block_vals = np.full((which.size, width), NEG_INF, dtype=np.float32)
            block_cols = np.zeros((which.size, width), dtype=np.int64)
            block_vals.reshape(-1)[flat] = cand_vals[entries]
            block_cols.reshape(-1)[flat] = cand_cols[entries]
            pos[which], vals[which] = _select(block_vals, block_cols, n)
        return pos, vals

    def compact(self, threshold: FloatArray) -> None:
        """Keep each query's top ``n``; raise ``threshold`` to the ``n``-th best score."""
        pos, vals = self.best()
        full = ~np.isnan(vals[:, -1])
        np.maximum(threshold, vals[:, -1], out=threshold, where=full)
        keep = pos >= 0
        self.parts, self.size = [], 0
        self.add(np.nonzero(keep)[0], pos[keep], vals[keep])


def _tiled_top_n(
    factors: FactorMatrix,
    rows: IndexArray,
    targets: FactorMatrix,
    n: int,
    exclude: Callable[[IndexArray], tuple[IndexArray, IndexArray]] | None,
    banned: IndexArray | None,
    tiling: Tiling,
    workers: int,
    out_pos: IndexArray,
    out_val: FloatArray,
) -> tuple[IndexArray, FloatArray]:
    """:func:`ranked_top_n` for a large batch, tile by tile (see the module docstring).

    Exactness: after the first tile, a query's threshold is the ``n``-th best of ``n``
    eligible entries already seen (or the lowest float while it has seen fewer), so its
    final ``n``-th best score is at least the threshold and every entry of its top ``n``
    either is a candidate already or reaches the threshold in a later tile. Entries of a
    tile below the threshold are beaten by ``n`` candidates; candidates are ranked by
    :func:`_select` with the same keys as every other path.
    """
    q, k = rows.size, targets.shape[0]
    targets_t = targets.T
    bounds = np.array([0, *range(tiling.first, k, tiling.width), k], dtype=np.int64)
    bans = None if banned is None or banned.size == 0 else np.unique(banned)
    # Smaller blocks where that gives every worker two of them (1000 queries: 4 x 250).
    per_block = tiling.queries
    if workers > 1:
        per_block = max(tiling.min_queries, min(per_block, -(-q // (2 * workers))))
    budget = per_block * max(8 * n, 64)  # candidates per block before compacting

    def block(start: int, first: FloatArray, later: FloatArray) -> None:
        stop = min(q, start + per_block)
        m = stop - start
        queries = factors[rows[start:stop]]
        if exclude is not None:
            er, ec = exclude(np.arange(start, stop, dtype=np.int64))
            order = np.argsort(ec, kind="stable")
            er, ec = er[order], ec[order]
            cuts = np.searchsorted(ec, bounds)
        found = _Candidates(m, n)
        threshold = np.empty(0, dtype=np.float32)
        for t in range(bounds.size - 1):
            a, b = int(bounds[t]), int(bounds[t + 1])
            w = b - a
            buf = first if t == 0 else later
            scores = buf[: m * w].reshape(m, w)  # contiguous, so flat indices work
            np.matmul(queries, targets_t[:, a:b], out=scores)
            if bans is not None:
                lo, hi = np.searchsorted(bans, (a, b))
                if hi > lo:
                    scores[:, bans[lo:hi] - a] = NEG_INF
            if exclude is not None and cuts[t + 1] > cuts[t]:
                sl = slice(int(cuts[t]), int(cuts[t + 1]))
                scores.reshape(-1)[er[sl] * w + (ec[sl] - a)] = NEG_INF
            if t == 0:
                pos, vals = top_n(scores, n)
                keep = pos >= 0
                found.add(np.nonzero(keep)[0], pos[keep], vals[keep])
                threshold = np.where(np.isnan(vals[:, -1]), _LOWEST, vals[:, -1])
                continue
            hit = np.flatnonzero(scores >= threshold[:, None])
            r = hit // w
            found.add(r, hit - r * w + a, scores.reshape(-1)[hit])
            if found.size > budget:
                found.compact(threshold)
        out_pos[start:stop], out_val[start:stop] = found.best()

    def run(share: list[int]) -> None:
        first = np.empty(tiling.queries * tiling.first, dtype=np.float32)
        later = np.empty(tiling.queries * tiling.width, dtype=np.float32)
        for start in share:
            block(start, first, later)

    _run_blocks(run, list(range(0, q, per_block)), workers)
    return out_pos, out_val


def csr_row_entries(
    indptr: npt.NDArray[np.integer], indices: npt.NDArray[np.integer], rows: IndexArray
) -> tuple[IndexArray, IndexArray]:
    """Return ``(row_position, column)`` of every stored entry of the given CSR rows."""
    if rows.size == 1:
        row = int(rows[0])
        cols = np.asarray(indices[int(indptr[row]) : int(indptr[row + 1])], dtype=np.int64)
        return np.zeros(cols.size, dtype=np.int64), cols
    starts = indptr[rows].astype(np.int64)
    lengths = indptr[rows + 1].astype(np.int64) - starts
    total = int(lengths.sum())
    row_pos = np.repeat(np.arange(rows.size, dtype=np.int64), lengths)
    if total == 0:
        return row_pos, np.empty(0, dtype=np.int64)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    cols = indices[np.repeat(starts, lengths) + offsets].astype(np.int64)
    return row_pos, cols


def row_norms(factors: FactorMatrix) -> FloatArray:
    """Euclidean norm of each row, ``float32``."""
    return cast("FloatArray", np.sqrt(np.einsum("ij,ij->i", factors, factors)).astype(np.float32))


def normalized(factors: FactorMatrix, norms: FloatArray) -> FactorMatrix:
    """Rows scaled to unit length; rows of norm 0 stay 0."""
    scale = np.zeros_like(norms)
    np.divide(np.float32(1.0), norms, out=scale, where=norms > 0)
    return cast("FactorMatrix", factors[: norms.size] * scale[:, None])
