"""Turning collected rows into an interaction matrix: merge duplicates, filter, build CSR.

Every reader hands a :class:`~alsrec.data.rows.Collected` to :func:`assemble`; the rules
(duplicate ``aggregate``, iterative ``min_*_interactions`` filters, first-appearance ID
order, latest timestamp of merged duplicates) are documented on
:class:`~alsrec.data.interactions.Interactions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from alsrec.data.rows import is_complex, refuse_complex
from alsrec.exceptions import ConfigError, DataError
from alsrec.mapping import IdMapper

if TYPE_CHECKING:
    from alsrec.data.rows import Collected
    from alsrec.types import FloatArray, IdArray, IndexArray

__all__ = ["AGGREGATES", "FLOAT32_MAX", "Aggregate", "as_weights", "assemble", "check_options"]

Aggregate = Literal["sum", "max", "last", "count"]
"""How duplicate ``(user, item)`` rows become one value: their ``"sum"`` of weights, their
``"max"``, the ``"last"`` one (latest timestamp, then latest row), or their ``"count"``."""

AGGREGATES = ("sum", "max", "last", "count")


FLOAT32_MAX = float(np.finfo(np.float32).max)
"""The largest weight a reader keeps (weights are stored as float32)."""


def as_weights(
    weights: npt.ArrayLike | None, n: int, what: str = "weights", hint: str = ""
) -> FloatArray:
    """Validate interaction weights: real, finite, strictly positive, within float32, one
    per row.

    ``None`` means weight 1.0 for every row. Complex weights (a complex dtype, or complex
    numbers in a sequence) are refused rather than cut to their real parts. ``hint`` is
    added when a single number was given (e.g. how to pass a count that went to the
    weights' position instead).
    """
    if weights is None:
        return np.ones(n, dtype=np.float32)
    seq = weights if isinstance(weights, (list, tuple)) else ()
    first = next(filter(is_complex, seq), None)  # a complex number in a list: its dtype
    refuse_complex(
        getattr(weights, "dtype", None) if first is None else np.asarray(first).dtype, what
    )
    try:
        arr = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} must be numbers: {exc}") from exc
    if arr.ndim == 0:
        raise DataError(
            f"{what} must be a sequence with one weight per entry, got the single number "
            f"{float(arr)!r}.{hint}"
        )
    if arr.ndim != 1:
        raise DataError(f"{what} must be one-dimensional, got shape {arr.shape}.")
    if arr.size != n:
        raise DataError(f"{what} has {arr.size} entries but there are {n} interactions.")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise DataError(
            f"{what} must be finite; row {int(bad[0])} is {float(arr[bad[0]])!r} "
            f"({bad.size} non-finite in all). Drop or fix those rows."
        )
    bad = np.flatnonzero(arr <= 0)
    if bad.size:
        raise DataError(
            f"{what} must be > 0; row {int(bad[0])} is {float(arr[bad[0]])!r} "
            f"({bad.size} such rows). "
            "A pair that was not observed needs no row; drop rows with weight <= 0."
        )
    bad = np.flatnonzero(arr > FLOAT32_MAX)
    if bad.size:
        raise DataError(
            f"{what} must be at most {FLOAT32_MAX:.4g} (weights are stored as float32); row "
            f"{int(bad[0])} is {float(arr[bad[0]])!r} ({bad.size} such rows). Rescale them."
        )
    return arr.astype(np.float32)


def check_options(aggregate: object, min_user: object, min_item: object) -> Aggregate:
    if aggregate not in AGGREGATES:
        raise ConfigError(f"aggregate must be one of {list(AGGREGATES)}, got {aggregate!r}.")
    for name, value in (("min_user_interactions", min_user), ("min_item_interactions", min_item)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}.")
    return cast("Aggregate", aggregate)


def assemble(
    c: Collected,
    *,
    aggregate: Aggregate,
    min_user: int,
    min_item: int,
    compact: bool = True,
) -> dict[str, Any]:
    """Merge duplicate pairs, apply the filters, and build the CSR matrix and mappers.

    With ``compact`` (every reader but ``from_scipy``), IDs are ordered by their first
    appearance among the rows that survive, and IDs left without interactions are removed.
    Merged duplicates keep their *latest* timestamp. Returns the keyword arguments of
    :class:`~alsrec.data.interactions.Interactions`.
    """
    dropped = dict(c.dropped)
    n_users, n_items = int(c.users.size), int(c.items.size)
    order, starts, counts = _group(c.rows, c.cols, n_users, n_items)
    first_pos = np.minimum.reduceat(order, starts)
    vals = _merged_values(c, order, starts, counts, aggregate)
    times_pair = None
    if c.timestamps is not None:
        times_pair = np.maximum.reduceat(c.timestamps[order], starts)
    pair = order[starts]
    prow, pcol = c.rows[pair], c.cols[pair]
    del order, pair

    alive = _filter(prow, pcol, counts, n_users, n_items, min_user, min_item, dropped)
    filtered = not bool(alive.all())
    if filtered:
        if not alive.any():
            raise DataError(
                f"{c.source}: the filters min_user_interactions={min_user} and "
                f"min_item_interactions={min_item} removed every interaction; lower them."
            )
        prow, pcol, vals = prow[alive], pcol[alive], vals[alive]
        counts, first_pos = counts[alive], first_pos[alive]
        times_pair = None if times_pair is None else times_pair[alive]

    users, items = c.users, c.items
    if compact and filtered:
        prow, users = _reorder(prow, first_pos, users)
        pcol, items = _reorder(pcol, first_pos, items)
        resort = np.lexsort((pcol, prow))
        prow, pcol, vals = prow[resort], pcol[resort], vals[resort]
        times_pair = None if times_pair is None else times_pair[resort]

    matrix = _to_csr(c.source, prow, pcol, vals, users, items)
    return {
        "users": IdMapper._from_unique(users),
        "items": IdMapper._from_unique(items),
        "matrix": matrix,
        "rows_read": c.rows_read,
        "duplicates_merged": int(counts.sum()) - int(matrix.nnz),
        "dropped": dropped,
        "aggregate": aggregate,
        "source": c.source,
        "timestamps": times_pair,
    }


def _group(
    rows: IndexArray, cols: IndexArray, n_users: int, n_items: int
) -> tuple[IndexArray, IndexArray, IndexArray]:
    """Rows sorted by pair: ``(order, starts of each pair's run, rows per pair)``."""
    n = int(rows.size)
    if n_users * n_items < 2**62:
        key = rows * n_items + cols
        order = np.argsort(key)  # not stable; ties are settled by the row positions later
        sorted_key = key[order]
        change = sorted_key[1:] != sorted_key[:-1]
        del key
    else:  # pragma: no cover - needs more than 2**31 users and items
        order = np.lexsort((cols, rows))
        sr, sc = rows[order], cols[order]
        change = (sr[1:] != sr[:-1]) | (sc[1:] != sc[:-1])
    starts = np.flatnonzero(np.concatenate(([True], change)))
    counts = np.diff(np.append(starts, n))
    return order, starts, counts


def _merged_values(
    c: Collected,
    order: IndexArray,
    starts: IndexArray,
    counts: IndexArray,
    aggregate: Aggregate,
) -> npt.NDArray[np.float64]:
    """One value per pair, by the ``aggregate`` rule."""
    weights = np.ones(c.rows.size, dtype=np.float64) if c.weights is None else c.weights
    if aggregate == "sum":
        return cast("npt.NDArray[np.float64]", np.add.reduceat(weights[order], starts))
    if aggregate == "max":
        return cast("npt.NDArray[np.float64]", np.maximum.reduceat(weights[order], starts))
    if aggregate == "count":
        return counts.astype(np.float64)
    # last: latest timestamp, then latest row
    sorted_pos = order
    if c.timestamps is not None:
        times = c.timestamps[order]
        latest = np.maximum.reduceat(times, starts)
        group = np.repeat(np.arange(starts.size), counts)
        sorted_pos = np.where(times == latest[group], order, -1)
    return weights[np.maximum.reduceat(sorted_pos, starts)]


def _to_csr(
    source: str,
    prow: IndexArray,
    pcol: IndexArray,
    vals: npt.NDArray[np.float64],
    users: IdArray,
    items: IdArray,
) -> sp.csr_matrix:
    """The float32 CSR matrix of pairs sorted by row then column."""
    with np.errstate(over="ignore"):
        data = vals.astype(np.float32)
    bad = np.flatnonzero(~(np.isfinite(data) & (data > 0)))
    if bad.size:
        k = int(bad[0])
        raise DataError(
            f"{source}: the merged weight {float(vals[k])!r} of user "
            f"{users[prow[k]].item()!r} and item {items[pcol[k]].item()!r} does not fit in "
            "float32 (it rounds to 0 or infinity); rescale the weights."
        )
    index_dtype = np.int32 if max(len(items), data.size) < 2**31 else np.int64
    indptr = np.zeros(len(users) + 1, dtype=index_dtype)
    np.cumsum(np.bincount(prow, minlength=len(users)), out=indptr[1:])
    matrix = sp.csr_matrix((data, pcol.astype(index_dtype), indptr), shape=(len(users), len(items)))
    matrix.has_sorted_indices = True
    return matrix


def _filter(
    prow: IndexArray,
    pcol: IndexArray,
    counts: npt.NDArray[np.int64],
    n_users: int,
    n_items: int,
    min_user: int,
    min_item: int,
    dropped: dict[str, int],
) -> npt.NDArray[np.bool_]:
    """Drop pairs of users/items below the thresholds, repeatedly, until none is."""
    alive = np.ones(prow.size, dtype=np.bool_)
    if min_user <= 1 and min_item <= 1:
        return alive
    while True:
        changed = False
        for axis, idx, size, minimum in (
            ("user", prow, n_users, min_user),
            ("item", pcol, n_items, min_item),
        ):
            if minimum <= 1:
                continue
            degree = np.bincount(idx[alive], minlength=size)
            kill = alive & (degree[idx] < minimum)
            if kill.any():
                reason = f"min_{axis}_interactions"
                dropped[reason] = dropped.get(reason, 0) + int(counts[kill].sum())
                alive &= ~kill
                changed = True
        if not changed:
            return alive


def _reorder(codes: IndexArray, first_pos: IndexArray, ids: IdArray) -> tuple[IndexArray, IdArray]:
    """Renumber the IDs still used, by first appearance (smallest input row)."""
    first = np.full(ids.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, first_pos)
    used = np.flatnonzero(first < np.iinfo(np.int64).max)
    ranked = used[np.argsort(first[used], kind="stable")]
    new_code = np.full(ids.size, -1, dtype=np.int64)
    new_code[ranked] = np.arange(ranked.size)
    return new_code[codes], ids[ranked]
