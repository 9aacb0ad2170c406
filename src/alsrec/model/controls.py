"""Query controls: exclusion lists, user candidates for similar users, scores of given items.

Each works over a :class:`~alsrec.model.FittedModel` under a lookup policy, like the
rest of :mod:`alsrec.model`:

- :func:`allowed`: candidates (or every ID) minus an exclusion list, as IDs to pass on
  as ``items=``; unknown excluded IDs are skipped (``"safe"``) or refused (``"strict"``);
- :func:`similar_among`: similar users or items restricted to candidate indices;
- :func:`score_items`: the scores of given items for one user (implicit's ``rank_items``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, cast

import numpy as np

from alsrec.checks import check_bool
from alsrec.exceptions import UnknownIdError
from alsrec.ids import as_id_array, one_id_array
from alsrec.model.lookup import indices_of
from alsrec.model.ranking import similar
from alsrec.results import ItemScores

if TYPE_CHECKING:
    from collections.abc import Iterable

    from alsrec.mapping import IdMapper
    from alsrec.model.fitted import FittedModel
    from alsrec.types import ExternalId, FloatArray, IdArray, IdLike, IndexArray, Policy

__all__ = ["allowed", "score_items", "similar_among"]

Axis = Literal["user", "item"]


def _mapper(model: FittedModel, axis: Axis) -> IdMapper:
    return model.items if axis == "item" else model.users


def _known(
    mapper: IdMapper, given: IdArray, policy: Policy, what: str, axis: Axis, stacklevel: int = 4
) -> tuple[IndexArray, tuple[ExternalId, ...]]:
    """Indices of the known IDs of ``given`` (in order) and the unknown IDs; IDs of the
    wrong type (``"6"`` for a model of int IDs) are named (warned under ``"safe"``)."""
    idx, known, skipped = indices_of(mapper, axis, given, policy, what, stacklevel=stacklevel + 1)
    return idx[known], skipped


def allowed(
    model: FittedModel,
    axis: Axis,
    candidates: IdLike | Iterable[ExternalId] | None,
    exclude: IdLike | Iterable[ExternalId] | None,
    policy: Policy,
) -> tuple[IdArray | IdLike | Iterable[ExternalId] | None, tuple[ExternalId, ...]]:
    """``candidates`` (or every ID of ``axis``) without the IDs in ``exclude``.

    Returns the candidate IDs to pass on (unchanged when ``exclude`` is ``None``) and
    the unknown excluded IDs (skipped under ``"safe"``; :class:`UnknownIdError` under
    ``"strict"``). Unknown candidates are left for the query to handle.
    """
    if exclude is None:
        return candidates, ()
    mapper = _mapper(model, axis)
    excluded = as_id_array(exclude, f"excluded {axis} IDs")
    if excluded.size == 0:
        return candidates, ()
    idx, skipped = _known(mapper, excluded, policy, f"excluded {axis} ID(s)", axis)
    base = mapper.ids if candidates is None else as_id_array(candidates, f"candidate {axis} IDs")
    if base.size == 0 or idx.size == 0:
        return base, skipped
    return base[~np.isin(base, mapper.ids[idx])], skipped


def similar_among(
    model: FittedModel,
    axis: Axis,
    query_ids: IdArray,
    n: int,
    candidates: IdLike | Iterable[ExternalId] | None,
    policy: Policy,
    threads: int | None = None,
) -> tuple[IndexArray, FloatArray, tuple[ExternalId, ...]]:
    """Top-n similar indices and scores among ``candidates`` for each query, and the
    skipped IDs (unknown queries get an empty row under ``"safe"``)."""
    mapper = _mapper(model, axis)
    cand_ids = mapper.ids if candidates is None else as_id_array(candidates, f"{axis} IDs")
    cand, skipped = _known(mapper, cand_ids, policy, f"candidate {axis} ID(s)", axis)
    _, first = np.unique(cand, return_index=True)
    cand = cand[np.sort(first)]
    n = min(n, int(cand.size))  # before anything of size n is allocated
    rows = mapper.to_index(query_ids, missing="negative")
    unknown = rows < 0
    if unknown.any():
        missing = tuple(cast("list[ExternalId]", query_ids[unknown].tolist()))
        if policy == "strict":
            raise UnknownIdError(
                f"Unknown {axis} ID(s): {', '.join(map(repr, missing[:5]))}. Use "
                "policy='safe' to get an empty result instead.",
                ids=missing,
            )
        skipped = missing + skipped
    pos = np.full((rows.size, n), -1, dtype=np.int64)
    vals = np.full((rows.size, n), np.nan, dtype=np.float32)
    known = np.flatnonzero(~unknown)
    if known.size and cand.size and n:
        unit = model.unit_item_factors if axis == "item" else model.unit_user_factors
        norms = model.item_norms if axis == "item" else model.user_norms
        pos[known], vals[known] = similar(model, unit, norms, rows[known], n, cand, threads)
    return pos, vals, skipped


def score_items(
    model: FittedModel,
    user_id: ExternalId,
    items: IdLike | Iterable[ExternalId],
    policy: Policy,
    *,
    ranked: bool = False,
) -> ItemScores:
    """The scores of ``items`` for ``user_id``; see :meth:`alsrec.Recommender.score`."""
    given = as_id_array(items, "item IDs")
    idx, skipped = _known(model.items, given, policy, "item ID(s)", "item")
    row = int(model.users.to_index(one_id_array(user_id, "user_id"), missing="negative")[0])
    if row < 0:
        if policy == "strict":
            raise UnknownIdError(
                f"Unknown user ID {user_id!r}. Use policy='safe' to get the popularity "
                "fallback's scores instead.",
                ids=(user_id,),
            )
        scores = model.popularity[idx].astype(np.float32)
        seen = np.zeros(idx.size, dtype=bool)
        source: Literal["model", "fallback"] = "fallback"
    else:
        if model.seen is not None:
            start, stop = model.seen.indptr[row], model.seen.indptr[row + 1]
            seen = np.isin(idx, model.seen.indices[start:stop])
        else:
            seen = np.zeros(idx.size, dtype=bool)
        if model.user_norms[row] > 0:
            scores = (model.item_factors[idx] @ model.user_factors[row]).astype(np.float32)
            source = "model"
        else:  # an all-zero factor row has no signal: as recommend, the popularity counts
            scores = model.popularity[idx].astype(np.float32)
            source = "fallback"
    ranked = check_bool("ranked", ranked)
    order = np.argsort(-scores, kind="stable") if ranked else np.arange(idx.size)
    return ItemScores(
        user_id,
        model.items.to_id(idx[order]),
        scores[order],
        seen[order],
        source,
        skipped,
    )
