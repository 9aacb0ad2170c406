"""Fold-in of fresh histories and :func:`updated`: new interactions without retraining.

Both solve factor rows exactly against fixed factors of the other side (the solve a
training sweep does), through :class:`alsrec._foldin.FoldInSolver`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from alsrec._foldin import FoldInSolver, history_confidence
from alsrec.checks import check_aligned, check_bool
from alsrec.data.rows import check_id_lengths
from alsrec.exceptions import ConfigError, DataError, IdTypeError
from alsrec.ids import as_id_array
from alsrec.interactions import as_weights
from alsrec.mapping import IdMapper
from alsrec.model.fitted import FittedModel, Provenance, build_model, no_seen_error

if TYPE_CHECKING:
    from collections.abc import Iterable

    from alsrec.model.lookup import History
    from alsrec.types import ExternalId, FactorMatrix, IdArray, IdLike, IndexArray

__all__ = ["fold_in", "updated"]


def fold_in(
    model: FittedModel, user_rows: IndexArray, histories: list[History]
) -> tuple[FactorMatrix, sp.csr_matrix]:
    """Solve one factor row per history against the fixed item factors.

    ``user_rows[k] >= 0`` adds that known user's training weights to history ``k``
    (fresh interactions since training); ``-1`` folds in the history alone. Returns the
    factors and the combined weight matrix (histories x mapped items), whose entries are
    the items each query has interacted with.
    """
    unresolved = [
        n for n in ("alpha", "regularization") if isinstance(getattr(model.params, n), str)
    ]
    if unresolved:
        given = ", ".join(f"{n}={getattr(model.params, n)!r}" for n in unresolved)
        raise ConfigError(
            "Folding in a history needs the alpha and regularization the factors were "
            f"trained with, but this model has {given} (a model made by "
            "Recommender.from_factors without seen= or params=, or loaded from one). Pass "
            "them: Recommender.from_factors(..., params=ALSParams(alpha=..., "
            "regularization=...))."
        )
    n_items = len(model.items)
    m = len(histories)
    lengths = np.fromiter((h[0].size for h in histories), dtype=np.int64, count=m)
    rows = [np.repeat(np.arange(m, dtype=np.int64), lengths)]
    cols = [np.concatenate([h[0] for h in histories]) if m else np.empty(0, np.int64)]
    vals = [np.concatenate([h[1] for h in histories]) if m else np.empty(0, np.float32)]
    known = np.flatnonzero(user_rows >= 0)
    if known.size:
        if model.seen is None:
            raise no_seen_error(
                "a known user's fresh history cannot be combined with their past",
                "use recommend_for_history() to fold in the given history alone",
            )
        old = model.seen[user_rows[known]].tocoo()
        rows.append(known[old.row])
        cols.append(old.col.astype(np.int64))
        vals.append(old.data.astype(np.float32))
    weights = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(m, n_items),
        dtype=np.float32,
    )
    weights.sum_duplicates()
    factors = model.foldin.solve(history_confidence(weights, model.params, model.seen))
    return factors, weights


def _grow(mapper: IdMapper, column: IdArray, name: str) -> tuple[IdMapper, IndexArray]:
    """Append the unseen IDs of ``column`` (the argument ``name``) to ``mapper``; return it
    and each row's index."""
    if len(mapper) and column.size and (column.dtype.kind == "U") != (mapper.kind == "str"):
        given = "str" if column.dtype.kind == "U" else "int"
        raise IdTypeError(
            f"{name} are {given} IDs (e.g. {column[:1].tolist()[0]!r}) but this model's are "
            f"{mapper.kind}: convert them, e.g. {mapper.kind}({column[:1].tolist()[0]!r})."
        )
    index = mapper.to_index(column, missing="negative")
    unknown = np.flatnonzero(index < 0)
    if unknown.size == 0:
        return mapper, index
    fresh, codes = IdMapper.factorize(column[unknown])
    grown = mapper.with_added(fresh.ids)  # raises IdTypeError for int IDs among str ones
    index[unknown] = len(mapper) + codes
    return grown, index


def _fresh_columns(
    user_ids: IdLike | Iterable[ExternalId],
    item_ids: IdLike | Iterable[ExternalId],
    weights: npt.ArrayLike | None,
) -> tuple[IdArray, IdArray, npt.NDArray[np.float32]]:
    check_aligned({"user_ids": user_ids, "item_ids": item_ids, "weights": weights})
    user_col = as_id_array(user_ids, "user IDs")
    item_col = as_id_array(item_ids, "item IDs")
    for axis, col in (("user", user_col), ("item", item_col)):  # as fit: at most 1,024
        check_id_lengths(col, None, axis, f"{axis}_ids[{{}}]".format, column=False)
    if user_col.size != item_col.size:
        raise DataError(
            f"user_ids has {user_col.size} entries but item_ids has {item_col.size}; "
            "they must have one entry per interaction."
        )
    if user_col.size == 0:
        raise DataError("No interactions given: user_ids and item_ids are empty.")
    return user_col, item_col, as_weights(weights, user_col.size)


def _grown_seen(old_seen: sp.csr_matrix, added: sp.csr_matrix) -> sp.csr_matrix:
    """``old_seen`` padded to the shape of ``added``, plus ``added``."""
    n_users, n_items = added.shape
    # New users are rows appended at the end: extend indptr instead of rebuilding.
    indptr = np.concatenate(
        [old_seen.indptr, np.full(n_users - old_seen.shape[0], old_seen.indptr[-1])]
    )
    padded = sp.csr_matrix(
        (old_seen.data, old_seen.indices, indptr), shape=(n_users, n_items), copy=False
    )
    seen = sp.csr_matrix(padded + added, dtype=np.float32)
    seen.sort_indices()
    return seen


def updated(
    model: FittedModel,
    user_ids: IdLike | Iterable[ExternalId],
    item_ids: IdLike | Iterable[ExternalId],
    weights: npt.ArrayLike | None = None,
    *,
    replace: bool = False,
) -> FittedModel:
    """A new model with fresh interactions added (or, with ``replace``, replacing the
    named users' training interactions); see :meth:`alsrec.Recommender.updated`."""
    replace = check_bool("replace", replace)
    if model.seen is None:
        raise no_seen_error("updated() cannot add to them", "refit")
    user_col, item_col, w = _fresh_columns(user_ids, item_ids, weights)
    old_users, old_items = len(model.users), len(model.items)
    users, row_of = _grow(model.users, user_col, "user_ids")
    items, col_of = _grow(model.items, item_col, "item_ids")
    n_users, n_items = len(users), len(items)
    added = sp.csr_matrix((w, (row_of, col_of)), shape=(n_users, n_items), dtype=np.float32)
    added.sum_duplicates()
    base = model.seen
    if replace:
        # The named users keep none of their training interactions: zero their rows.
        keep = np.ones(base.shape[0], dtype=np.float32)
        keep[row_of[row_of < base.shape[0]]] = 0.0
        base = sp.csr_matrix(sp.diags(keep) @ base)
        base.eliminate_zeros()
    seen = _grown_seen(base, added)
    f = model.item_factors.shape[1]
    user_factors = np.zeros((n_users, f), dtype=np.float32)
    user_factors[:old_users] = model.user_factors[:old_users]
    item_factors = np.zeros((n_items, f), dtype=np.float32)
    item_factors[:old_items] = model.item_factors[:old_items]
    params = model.params
    touched = np.unique(row_of)
    touched_conf = history_confidence(seen[touched], params, seen)
    # Rows of new items are still zero, so they drop out of this solve and of YᵀY.
    params.regularization_value  # noqa: B018 - raises ConfigError while it is "auto"
    item_solver = FoldInSolver.for_params(item_factors, params)
    if model.unmapped_item_rows == 0:
        item_solver.prime(model.foldin.gram)
    user_factors[touched] = item_solver.solve(touched_conf)
    new_items = np.arange(old_items, n_items, dtype=np.int64)
    if new_items.size:
        # A new item's interactions are all fresh: its column of ``added`` is complete.
        item_conf = history_confidence(added, params, seen).tocsc()[:, new_items].T.tocsr()
        user_solver = FoldInSolver.for_params(user_factors, params)
        item_factors[new_items] = user_solver.solve(item_conf)
        grown = item_factors[new_items].astype(np.float64)
        gram = item_solver.gram + grown.T @ grown
        item_solver = FoldInSolver.for_params(item_factors, params)
        item_solver.prime(gram)
        user_factors[touched] = item_solver.solve(touched_conf)
    new_model = build_model(
        user_factors,
        item_factors,
        users,
        items,
        seen,
        backend=model.backend,
        params=params,  # the value the factors were trained with, not re-resolved
        provenance=Provenance(auto_params=model.provenance.auto_params),
    )
    new_model.foldin.prime(item_solver.gram)
    return new_model
