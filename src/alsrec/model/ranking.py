"""Ranking over a :class:`~alsrec.model.FittedModel`: top-n items, the popularity fallback,
the cold-start chain for mixed queries, and cosine similarity.

Every function returns mapped indices padded with ``-1`` (scores ``NaN``) and leaves ID
translation and result objects to the caller. Scoring and top-k run in
:mod:`alsrec._scoring`.

Results are :func:`width` columns wide: the requested ``n`` capped at the number of
candidates, before anything is allocated, so ``n=10**9`` costs what the catalogue costs,
and a candidate list without a known item gives zero columns (an empty answer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, cast

import numpy as np
import numpy.typing as npt

from alsrec._scoring import SCORE_BLOCK_ENTRIES, csr_row_entries, ranked_top_n
from alsrec._threads import worker_count
from alsrec.exceptions import UnknownIdError
from alsrec.logs import warn
from alsrec.model.lookup import candidates as resolve_candidates
from alsrec.model.lookup import rows_of, type_note
from alsrec.model.updates import fold_in

if TYPE_CHECKING:
    from collections.abc import Iterable

    import scipy.sparse as sp

    from alsrec.model.fitted import FittedModel
    from alsrec.model.lookup import History
    from alsrec.types import (
        ExternalId,
        FactorMatrix,
        FloatArray,
        IdArray,
        IdLike,
        IndexArray,
        Policy,
    )


def _workers(model: FittedModel, threads: int | None) -> int:
    return worker_count(model.params.num_threads if threads is None else threads)


__all__ = [
    "fallback",
    "rank_factors",
    "rank_mixed",
    "rank_users",
    "similar",
    "similar_query",
    "width",
]


def width(model: FittedModel, n: int, candidates: IndexArray | None) -> int:
    """The number of result columns: ``n`` capped at the number of candidate items
    (every mapped item when ``candidates`` is ``None``); ``0`` without a candidate."""
    return min(n, len(model.items) if candidates is None else int(candidates.size))


def _empty(m: int) -> tuple[IndexArray, FloatArray]:
    return np.full((m, 0), -1, dtype=np.int64), np.full((m, 0), np.nan, dtype=np.float32)


def rank_factors(
    model: FittedModel,
    factors: FactorMatrix,
    rows: IndexArray,
    n: int,
    exclude: sp.csr_matrix | None,
    candidates: IndexArray | None,
    threads: int | None = None,
) -> tuple[IndexArray, FloatArray]:
    """Top-n item indices (``-1`` padded) for ``factors[rows]``.

    Also serves factor rows that are not stored (folded in). ``exclude`` (optional) is
    a CSR matrix over mapped items whose row ``rows[k]`` lists the items never to
    return for query ``k``.
    """
    n = width(model, n, candidates)
    if n == 0:
        return _empty(rows.size)
    n_items = len(model.items)
    targets = model.item_factors[:n_items] if candidates is None else model.item_factors[candidates]
    pos_in_cand: IndexArray | None = None
    if candidates is not None:
        pos_in_cand = np.full(n_items, -1, dtype=np.int64)
        pos_in_cand[candidates] = np.arange(targets.shape[0])

    def excluded(block: IndexArray) -> tuple[IndexArray, IndexArray]:
        assert exclude is not None
        r, c = csr_row_entries(exclude.indptr, exclude.indices, rows[block])
        if pos_in_cand is not None:
            c = pos_in_cand[c]
            r, c = r[c >= 0], c[c >= 0]
        return r, c

    pos, val = ranked_top_n(
        factors,
        rows,
        targets,
        n,
        exclude=None if exclude is None else excluded,
        block_entries=SCORE_BLOCK_ENTRIES,
        workers=_workers(model, threads),
    )
    if candidates is not None:
        pos = np.where(pos >= 0, candidates[np.maximum(pos, 0)], -1)
    return pos, val


def rank_users(
    model: FittedModel,
    rows: IndexArray,
    n: int,
    exclude_seen: bool,
    candidates: IndexArray | None,
    threads: int | None = None,
) -> tuple[IndexArray, FloatArray]:
    """Top-n item indices (``-1`` padded) for stored user factor rows."""
    seen = model.seen if exclude_seen else None
    return rank_factors(model, model.user_factors, rows, n, seen, candidates, threads)


def fallback(
    model: FittedModel,
    n: int,
    candidates: IndexArray | None,
    exclude: IndexArray | None = None,
) -> tuple[IndexArray, FloatArray]:
    """The ``n`` most popular (candidate) items not in ``exclude``, ``-1`` padded."""
    n = width(model, n, candidates)
    order = model.popular_order
    if candidates is not None:
        allowed = np.zeros(len(model.items), dtype=bool)
        allowed[candidates] = True
        order = order[allowed[order]]
    if exclude is not None and exclude.size:
        # At most exclude.size of the first n + exclude.size items are removed.
        head = order[: n + exclude.size]
        order = head[~np.isin(head, exclude)]
    pos = np.full(n, -1, dtype=np.int64)
    vals = np.full(n, np.nan, dtype=np.float32)
    take = order[:n]
    pos[: take.size] = take
    vals[: take.size] = model.popularity[take]
    return pos, vals


def _own_items(seen: sp.csr_matrix | None, row: int) -> IndexArray | None:
    if seen is None:
        return None
    own: IndexArray = seen.indices[seen.indptr[row] : seen.indptr[row + 1]].astype(np.int64)
    return own


def rank_mixed(
    model: FittedModel,
    user_rows: IndexArray,
    histories: list[History] | None,
    n: int,
    exclude_seen: bool,
    candidates: IndexArray | None,
    threads: int | None = None,
) -> tuple[IndexArray, FloatArray, npt.NDArray[np.str_]]:
    """Rank for queries that are known users (``user_rows >= 0``) and/or carry a history.

    Per query: a history with known items -> fold-in (a known user's training
    interactions included); a known user without one -> stored factors; otherwise the
    popularity fallback. A factor row that is zero (no usable signal: a stored zero
    row, or a history whose items all have zero factors) also gets the fallback,
    without the query's items. Policy checks happen before.
    """
    m = user_rows.size
    n = width(model, n, candidates)
    pos = np.full((m, n), -1, dtype=np.int64)
    vals = np.full((m, n), np.nan, dtype=np.float32)
    sources = np.full(m, "fallback", dtype="<U8")
    if histories is None:
        has_history = np.zeros(m, dtype=bool)
    else:
        has_history = np.fromiter((h[0].size > 0 for h in histories), dtype=bool, count=m)
    known = user_rows >= 0
    signal = np.zeros(m, dtype=bool)
    signal[known] = model.user_norms[user_rows[known]] > 0
    stored = np.flatnonzero(~has_history & known & signal)
    if stored.size:
        pos[stored], vals[stored] = rank_users(
            model, user_rows[stored], n, exclude_seen, candidates, threads
        )
        sources[stored] = "model"
    seen = model.seen if exclude_seen else None
    # (query, items to exclude) of every query that gets an individual fallback.
    empty: list[tuple[int, IndexArray | None]] = [
        (int(k), _own_items(seen, int(user_rows[k])))
        for k in np.flatnonzero(~has_history & known & ~signal)
    ]
    fold = np.flatnonzero(has_history)
    if fold.size:
        assert histories is not None
        factors, weights = fold_in(model, user_rows[fold], [histories[k] for k in fold])
        nonzero = np.any(factors != 0, axis=1)
        usable = np.flatnonzero(nonzero)
        exclude = weights if exclude_seen else None
        fpos, fvals = rank_factors(model, factors, usable, n, exclude, candidates, threads)
        pos[fold[usable]], vals[fold[usable]] = fpos, fvals
        sources[fold[usable]] = "fold-in"
        for k in np.flatnonzero(~nonzero):
            given = weights.indices[weights.indptr[k] : weights.indptr[k + 1]]
            empty.append((int(fold[k]), given.astype(np.int64) if exclude_seen else None))
    rest = np.flatnonzero(~has_history & ~known)
    if rest.size:
        pos[rest], vals[rest] = fallback(model, n, candidates)
    for query, drop in empty:
        pos[query], vals[query] = fallback(model, n, candidates, drop)
    return pos, vals, sources


def similar(
    model: FittedModel,
    unit: FactorMatrix,
    norms: FloatArray,
    rows: IndexArray,
    n: int,
    candidates: IndexArray | None,
    threads: int | None = None,
) -> tuple[IndexArray, FloatArray]:
    """Top-n rows by cosine similarity to each query row, the query itself excluded.

    ``unit`` holds unit-length rows (see :attr:`FittedModel.unit_item_factors`), so
    cosine is one matrix product.
    """
    n_mapped = norms.size
    n = min(n, n_mapped if candidates is None else int(candidates.size))
    if n == 0:
        return _empty(rows.size)
    targets = unit[:n_mapped] if candidates is None else unit[candidates]
    cand = np.arange(n_mapped, dtype=np.int64) if candidates is None else candidates
    pos_in_cand = np.full(n_mapped, -1, dtype=np.int64)
    pos_in_cand[cand] = np.arange(cand.size)

    def exclude(block: IndexArray) -> tuple[IndexArray, IndexArray]:
        own = pos_in_cand[rows[block]]
        hit = np.flatnonzero(own >= 0)
        return hit, own[hit]

    banned = np.flatnonzero(~(norms[cand] > 0))  # cosine undefined for zero vectors
    pos, val = ranked_top_n(
        unit,
        rows,
        targets,
        n,
        exclude=exclude,
        banned=banned,
        block_entries=SCORE_BLOCK_ENTRIES,
        workers=_workers(model, threads),
    )
    np.clip(val, -1.0, 1.0, out=val)  # unit rows in float32: |cosine| can round past 1
    empty = ~(norms[rows] > 0)
    pos[empty], val[empty] = -1, np.nan
    return np.where(pos >= 0, cand[np.maximum(pos, 0)], -1), val


def similar_query(
    model: FittedModel,
    axis: Literal["user", "item"],
    query_ids: IdArray,
    n: int,
    items: IdLike | Iterable[ExternalId] | None,
    policy: Policy,
    threads: int | None = None,
) -> tuple[IndexArray, IndexArray, FloatArray, tuple[ExternalId, ...]]:
    """Rows, top-n similar indices, scores and skipped IDs for similar-user/item queries."""
    mapper = model.items if axis == "item" else model.users
    rows = rows_of(mapper, axis, query_ids, policy, stacklevel=4)
    unknown = rows < 0
    skipped: tuple[ExternalId, ...] = ()
    if unknown.any():
        skipped = tuple(cast("list[ExternalId]", query_ids[unknown].tolist()))
        if policy == "strict":
            note = type_note(mapper, axis, skipped)
            raise UnknownIdError(
                f"Unknown {axis} ID(s): {', '.join(map(repr, skipped[:5]))}."
                f"{' ' + note if note else ''} Use policy='safe' to get an empty result "
                "instead.",
                ids=skipped,
            )
    cand: IndexArray | None = None
    if axis == "item":
        cand, cand_skipped = resolve_candidates(model, items, policy, stacklevel=5)
        skipped += cand_skipped
    unit = model.unit_item_factors if axis == "item" else model.unit_user_factors
    norms = model.item_norms if axis == "item" else model.user_norms
    n = min(n, norms.size if cand is None else int(cand.size))
    pos = np.full((rows.size, n), -1, dtype=np.int64)
    vals = np.full((rows.size, n), np.nan, dtype=np.float32)
    known = np.flatnonzero(~unknown)
    if known.size:
        pos[known], vals[known] = similar(model, unit, norms, rows[known], n, cand, threads)
        blank = known[norms[rows[known]] == 0]
        if blank.size:  # known, but nothing to measure a cosine with: say why it is empty
            shown = ", ".join(map(repr, query_ids[blank][:5].tolist()))
            warn(
                f"No similar {axis}s for {shown}: the factor row is all zero (no training "
                f"signal; e.g. added by updated() with only new partners), so the result "
                "is empty.",
                stacklevel=None,  # the caller's line, however deep this is
            )
    return rows, pos, vals, skipped
