"""Vectorized scoring and top-k shared by every query (private)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from alsrec.types import FactorMatrix, FloatArray, IndexArray

NEG_INF = np.float32(-np.inf)

SCORE_BLOCK_ENTRIES = 1 << 23
"""Scores computed at once (queries x candidates): 32 MiB of float32 per block."""


def top_n(scores: FloatArray, n: int) -> tuple[IndexArray, FloatArray]:
    """Best ``n`` columns of each row, best first; ``-inf``/NaN entries are ineligible.

    Returns positions ``(m, n)`` with ``-1`` and scores with ``NaN`` in padded slots.
    Ties are broken by the lower column position, so results are deterministic.
    """
    m, k = scores.shape
    take = min(n, k)
    pos = np.full((m, n), -1, dtype=np.int64)
    vals = np.full((m, n), np.nan, dtype=np.float32)
    if take == 0 or m == 0:
        return pos, vals
    if take < k:
        part = np.argpartition(scores, k - take, axis=1)[:, k - take :]
    else:
        part = np.broadcast_to(np.arange(k), (m, k))
    part_vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_vals), axis=1)
    best = np.take_along_axis(part, order, axis=1).astype(np.int64)
    best_vals = np.take_along_axis(part_vals, order, axis=1)
    valid = best_vals > NEG_INF  # False for -inf and NaN
    pos[:, :take] = np.where(valid, best, -1)
    vals[:, :take] = np.where(valid, best_vals, np.nan)
    return pos, vals


def csr_row_entries(
    indptr: npt.NDArray[np.integer], indices: npt.NDArray[np.integer], rows: IndexArray
) -> tuple[IndexArray, IndexArray]:
    """Return ``(row_position, column)`` of every stored entry of the given CSR rows."""
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
