"""Why an item was recommended: a score split into contributions of the user's history items.

Hu, Koren and Volinsky (2008, section 5) observe that implicit ALS is a linear model of the
user's own history. With the item factors ``Y`` fixed, a user ``u`` whose observed items
``j`` have confidence ``c_uj`` gets the least-squares factor

    x_u = W_u Σ_j c_uj y_j,    W_u = (YᵀC_uY + λI)⁻¹ = (YᵀY + λI + Σ_j (c_uj - 1) y_j y_jᵀ)⁻¹

so the score of any item ``i`` is

    y_iᵀ x_u = Σ_j s_ij c_uj,    s_ij = y_iᵀ W_u y_j

a sum of one term per history item: ``c_uj`` says how much the user engaged with ``j``,
``s_ij`` how similar ``i`` and ``j`` are *from this user's point of view* (``W_u`` depends
on the user's history). This module computes that split exactly, in ``float64``, from the
same confidence values fold-in uses (:func:`alsrec._foldin.history_confidence`) and the
same ``YᵀY + λI`` (cached per model; with ``regularization_exponent > 0`` the history's own
``λ_u`` replaces ``λ``, as in fold-in). With ``z = W_u y_i`` (one ``f x f`` solve, ``W_u``
being symmetric) every ``s_ij`` is ``y_jᵀ z``.

Which score is explained
------------------------
The split is exact for a factor that *solves* the user's least-squares problem against the
current item factors: every fold-in (``recommend(..., history=...)``,
``recommend_for_history``) is such a solve, so its score is the sum of the contributions
and the residual is 0. A stored user factor is not quite such a solve: training runs a few
conjugate-gradient steps per sweep, and the item sweep that follows the last user sweep
moves ``Y`` after ``x_u`` was computed. For a known user without a history,
:attr:`Explanation.score` is therefore the stored model's score (what ``recommend`` returns)
and :attr:`Explanation.residual` is the difference between it and the exact split of the
user's training history, so that ``sum(contributions) + rest + residual == score`` always
holds (up to floating-point rounding). A small residual relative to the score means the
explanation describes the stored model well; a large one means the factors did not
converge (or were trained with other hyperparameters than the model records, e.g. a model
wrapped with :meth:`~alsrec.Recommender.from_factors` without ``params``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from alsrec._foldin import dual_similarity, history_confidence
from alsrec.checks import check_int
from alsrec.exceptions import ConfigError, UnknownIdError
from alsrec.ids import one_id_array
from alsrec.model.fitted import FittedModel, model_of, no_seen_error
from alsrec.model.lookup import resolve_history, rows_of, serving_policy, type_note
from alsrec.model.updates import fold_in

if TYPE_CHECKING:
    from collections.abc import Iterable

    from alsrec.types import ExternalId, FactorMatrix, IdArray, IdLike, IndexArray, Policy, Source

__all__ = ["Explanation", "contributions", "explain_history", "explain_user"]

Float64Array = npt.NDArray[np.float64]


def _readonly(arr: npt.NDArray[Any]) -> None:
    arr.flags.writeable = False


@dataclass(frozen=True, eq=False)
class Explanation:
    """A recommendation score split into contributions of the user's history items.

    Invariant: ``contributions.sum() + rest + residual == score`` (up to floating-point
    rounding).

    Attributes
    ----------
    user : int or str or None
        The user (``None`` for an anonymous history).
    item : int or str
        The explained item.
    score : float
        The score ``recommend`` gives the item in the same situation: the stored model's
        score (``source="model"``), the fold-in score (``"fold-in"``), or the item's number
        of training users (``"fallback"``).
    source : {"model", "fold-in", "fallback"}
        Where the score comes from, as in :class:`~alsrec.Recommendations`.
    items : numpy.ndarray
        History item IDs, largest contribution first (ties: model order).
    contributions : numpy.ndarray of float64
        ``s_ij * c_uj`` of each history item ``j``; can be negative (the item pulls the
        score down).
    confidence : numpy.ndarray of float64
        ``c_uj``: the confidence of each history item (``1 + alpha * weight``).
    similarity : numpy.ndarray of float64
        ``s_ij = y_iᵀ W_u y_j``: the user-specific similarity of the explained item to
        each history item.
    rest : float
        Sum of the contributions left out by ``n`` (0 when all are listed).
    residual : float
        ``score`` minus the exact split: 0 for fold-in; for a stored model the part of the
        stored factor that is not the exact least-squares solve (see the module
        documentation); the whole score for the fallback.
    skipped : tuple
        History item IDs unknown to the model, skipped under the ``"safe"`` policy.

    Examples
    --------
    >>> from alsrec import Recommender
    >>> rec = Recommender(factors=4, regularization=0.1, iterations=10, random_state=0).fit(
    ...     ["ann", "ann", "bob", "bob", "cid", "cid"],
    ...     ["tea", "cup", "tea", "pot", "cup", "pot"])
    >>> why = rec.explain_history(["tea", "cup"], "pot")
    >>> why.source, sorted(why.items.tolist()), why.residual
    ('fold-in', ['cup', 'tea'], 0.0)
    >>> bool(abs(why.contributions.sum() - why.score) < 1e-9)
    True
    """

    user: ExternalId | None
    item: ExternalId
    score: float
    source: Source
    items: IdArray
    contributions: Float64Array
    confidence: Float64Array
    similarity: Float64Array
    rest: float = 0.0
    residual: float = 0.0
    skipped: tuple[ExternalId, ...] = field(default=())

    def __post_init__(self) -> None:
        n = self.items.shape
        for name in ("contributions", "confidence", "similarity"):
            if getattr(self, name).shape != n:
                raise ValueError(f"{name} must have one entry per history item.")
        for arr in (self.items, self.contributions, self.confidence, self.similarity):
            _readonly(arr)

    @property
    def explained(self) -> float:
        """The exact least-squares score: the contributions (listed and ``rest``) summed."""
        return math.fsum(self.contributions.tolist()) + self.rest

    def __len__(self) -> int:
        return int(self.items.size)

    def to_list(self) -> list[tuple[ExternalId, float]]:
        """``(item_id, contribution)`` pairs, largest first, as Python scalars."""
        ids = cast("list[ExternalId]", self.items.tolist())
        return list(zip(ids, cast("list[float]", self.contributions.tolist()), strict=True))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of everything above."""
        rows = zip(
            cast("list[ExternalId]", self.items.tolist()),
            self.contributions.tolist(),
            self.confidence.tolist(),
            self.similarity.tolist(),
            strict=True,
        )
        return {
            "user": self.user,
            "item": self.item,
            "score": self.score,
            "source": self.source,
            "explained": self.explained,
            "rest": self.rest,
            "residual": self.residual,
            "contributions": [
                {"item": i, "contribution": v, "confidence": c, "similarity": s}
                for i, v, c, s in rows
            ],
            "skipped": list(self.skipped),
        }

    def __str__(self) -> str:
        who = "an anonymous history" if self.user is None else f"user {self.user!r}"
        lines = [f"Item {self.item!r} for {who}: score {self.score:.6g} (source {self.source})"]
        if self.source == "fallback":
            lines.append("  no usable history: the score is the item's number of training users")
            return "\n".join(lines)
        lines.append(
            f"  = {self.explained:.6g} from the history (exact least squares)"
            f" + residual {self.residual:.3g}"
        )
        header = ("rank", "item", "contribution", "confidence", "similarity")
        rows = [header] + [
            (str(r), str(i), f"{v:.6g}", f"{c:.4g}", f"{s:.4g}")
            for r, (i, v, c, s) in enumerate(
                zip(
                    self.items.tolist(),
                    self.contributions.tolist(),
                    self.confidence.tolist(),
                    self.similarity.tolist(),
                    strict=True,
                ),
                1,
            )
        ]
        widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
        for row in rows:
            cells = [
                cell.ljust(widths[c]) if c == 1 else cell.rjust(widths[c])
                for c, cell in enumerate(row)
            ]
            lines.append("  " + "  ".join(cells).rstrip())
        if self.rest:
            lines.append(f"  (other history items together: {self.rest:.6g})")
        if self.skipped:
            lines.append(f"  skipped unknown history items: {', '.join(map(str, self.skipped))}")
        return "\n".join(lines)


def contributions(
    item_factors: FactorMatrix,
    gram: Float64Array,
    item: int,
    history: IndexArray,
    confidence: npt.ArrayLike,
    *,
    dual: bool = False,
) -> tuple[Float64Array, Float64Array]:
    """Split the least-squares score of item row ``item`` over the history rows.

    Parameters
    ----------
    item_factors : numpy.ndarray, shape (items, factors)
        The fixed item factors ``Y``.
    gram : numpy.ndarray of float64, shape (factors, factors)
        ``YᵀY + λI`` of ``item_factors`` (over every row).
    item : int
        Row of the explained item.
    history : numpy.ndarray of int64
        Distinct rows of the user's history items.
    confidence : array_like
        ``c_uj`` of each history row.
    dual : bool, default False
        Solve through the ``L x L`` dual system, as fold-in does for confidences far above
        the penalty (:meth:`alsrec._foldin.FoldInSolver.needs_dual`): by the Woodbury
        identity ``s = D⁻¹ (D⁻¹ + Yₕ G⁻¹ Yₕᵀ)⁻¹ Yₕ G⁻¹ y_i`` with ``D = diag(c - 1)``,
        where the normal equations would lose ``G`` to rounding.

    Returns
    -------
    (similarity, contribution) : tuple of numpy.ndarray of float64
        ``s_ij = y_iᵀ W_u y_j`` and ``s_ij * c_uj`` per history row; the contributions sum
        to ``y_iᵀ x_u`` for the exact least-squares factor ``x_u``.

    Examples
    --------
    >>> import numpy as np
    >>> Y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    >>> gram = Y.T.astype(float) @ Y + 0.5 * np.eye(2)
    >>> sim, contrib = contributions(Y, gram, 2, np.array([0, 1]), [3.0, 1.0])
    >>> x = np.linalg.solve(gram + 2.0 * np.outer(Y[0], Y[0]), 3.0 * Y[0] + 1.0 * Y[1])
    >>> bool(np.isclose(contrib.sum(), Y[2] @ x))
    True
    """
    conf = np.asarray(confidence, dtype=np.float64)
    rows = item_factors[history].astype(np.float64)  # (L, f)
    target = item_factors[item].astype(np.float64)
    if dual:
        dual_sim = dual_similarity(rows, gram, target, conf)
        return dual_sim, dual_sim * conf
    lhs = gram + rows.T @ (rows * (conf - 1.0)[:, None])
    try:
        z = np.linalg.solve(lhs, target)
    except np.linalg.LinAlgError:
        # Only with regularization 0 and rank-deficient factors; fold-in then takes the
        # minimum-norm solution, whose score splits the same way through the pseudo-inverse.
        z = np.linalg.lstsq(lhs, target, rcond=None)[0]
    similarity: Float64Array = rows @ z
    return similarity, similarity * conf


def _check_top(n: object) -> int | None:
    return None if n is None else check_int("n", n)


def _serving(source: object, policy: Policy | None) -> tuple[FittedModel, Policy]:
    """The model of ``source`` (a FittedModel or a fitted Recommender) and the call's policy."""
    model = model_of(source)
    default = cast("Policy", getattr(source, "policy", "safe"))
    return model, serving_policy(model, default, policy)


def _plain(ids: IdArray) -> ExternalId:
    """The single ID of a one-element ID array as a Python ``int`` or ``str``."""
    return cast("ExternalId", ids[0].item())


def _item_row(model: FittedModel, item_id: ExternalId) -> tuple[ExternalId, int]:
    """The item ID as a Python scalar and its row; unknown items raise."""
    given = one_id_array(item_id, "item_id")
    row = int(model.items.to_index(given, missing="negative")[0])
    if row < 0:
        note = type_note(model.items, "item", [_plain(given)])
        raise UnknownIdError(
            f"Unknown item ID {_plain(given)!r}: the model knows {len(model.items)} items, "
            f"and an unknown item has no score to explain.{' ' + note if note else ''}",
            ids=(_plain(given),),
        )
    return _plain(given), row


def _fallback(
    model: FittedModel,
    user: ExternalId | None,
    item_id: ExternalId,
    item: int,
    skipped: tuple[ExternalId, ...],
) -> Explanation:
    score = float(model.popularity[item])
    empty = np.empty(0, dtype=np.float64)
    return Explanation(
        user=user,
        item=item_id,
        score=score,
        source="fallback",
        items=model.items.ids[:0].copy(),
        contributions=empty,
        confidence=empty.copy(),
        similarity=empty.copy(),
        residual=score,
        skipped=skipped,
    )


def _build(
    model: FittedModel,
    user: ExternalId | None,
    item_id: ExternalId,
    item: int,
    history: IndexArray,
    weights: npt.NDArray[np.float32],
    score: float | None,
    source: Source,
    n: int | None,
    skipped: tuple[ExternalId, ...],
) -> Explanation:
    """Split the score over ``history`` (distinct rows, summed weights)."""
    row = sp.csr_matrix(
        (weights, history, np.array([0, history.size])),
        shape=(1, len(model.items)),
        dtype=np.float32,
    )
    conf = history_confidence(row, model.params, model.seen)  # as fold-in: same corpus stats
    order_in_row = np.argsort(conf.indices, kind="stable")
    cols = conf.indices[order_in_row].astype(np.int64)
    c = conf.data[order_in_row].astype(np.float64)
    gram = model.foldin.gram
    extra = model.foldin.extra_penalties(conf)  # this history's own λ_u, if scaled
    if extra is not None:
        gram = gram + float(extra[0]) * np.eye(gram.shape[0])
    own = 0.0 if extra is None else float(extra[0])
    dual = model.foldin.needs_dual(c, own)
    similarity, contrib = contributions(model.item_factors, gram, item, cols, c, dual=dual)
    explained = math.fsum(contrib.tolist())
    if score is None:  # fold-in: the explained score is the exact split itself
        score = explained
    order = np.lexsort((cols, -contrib))  # largest first; ties in model order
    keep = order if n is None else order[:n]
    rest = math.fsum(contrib[order[keep.size :]].tolist())
    return Explanation(
        user=user,
        item=item_id,
        score=score,
        source=source,
        items=model.items.to_id(cols[keep]),
        contributions=contrib[keep],
        confidence=c[keep],
        similarity=similarity[keep],
        rest=rest,
        residual=0.0 if source == "fold-in" else score - explained,
        skipped=skipped,
    )


def explain_user(
    model: FittedModel,
    user_id: ExternalId,
    item_id: ExternalId,
    *,
    history: IdLike | Iterable[ExternalId] | None = None,
    history_weights: npt.ArrayLike | None = None,
    n: int | None = None,
    policy: Policy | None = None,
) -> Explanation:
    """Explain the score of ``item_id`` for ``user_id``; see :meth:`Recommender.explain`.

    ``model`` is a :class:`~alsrec.model.FittedModel` (or a fitted
    :class:`~alsrec.Recommender`, whose policy is then the default).
    """
    top = _check_top(n)
    model, resolved = _serving(model, policy)
    item_id, item = _item_row(model, item_id)
    user_given = one_id_array(user_id, "user_id")
    user_id = _plain(user_given)
    user_row = rows_of(model.users, "user", user_given, resolved, stacklevel=4)
    skipped: tuple[ExternalId, ...] = ()
    if history is None:
        if history_weights is not None:
            raise ConfigError("history_weights was given without history.")
        hist_idx = np.empty(0, dtype=np.int64)
        hist_w = np.empty(0, dtype=np.float32)
    else:
        (hist_idx, hist_w), skipped = resolve_history(
            model, history, history_weights, resolved, names=("history", "history_weights")
        )
    known = bool(user_row[0] >= 0)
    if not known and hist_idx.size == 0:
        if resolved == "strict":
            note = type_note(model.users, "user", [user_id])
            raise UnknownIdError(
                f"Unknown user ID {user_id!r}: the model knows {len(model.users)} users."
                f"{' ' + note if note else ''} Pass history= to explain a folded-in score, "
                "or use policy='safe' to get the popularity fallback's explanation instead.",
                ids=(user_id,),
            )
        return _fallback(model, user_id, item_id, item, skipped)
    if known and hist_idx.size == 0:
        return _explain_stored(model, user_id, int(user_row[0]), item_id, item, top, skipped)
    factors, weights = fold_in(model, user_row, [(hist_idx, hist_w)])
    if not np.any(factors[0] != 0):  # no signal: recommend() falls back too
        return _fallback(model, user_id, item_id, item, skipped)
    return _build(
        model,
        user_id,
        item_id,
        item,
        weights.indices.astype(np.int64),
        weights.data.astype(np.float32),
        None,
        "fold-in",
        top,
        skipped,
    )


def _explain_stored(
    model: FittedModel,
    user_id: ExternalId,
    row: int,
    item_id: ExternalId,
    item: int,
    top: int | None,
    skipped: tuple[ExternalId, ...],
) -> Explanation:
    """Explain a known user's stored score over their training items."""
    if model.user_norms[row] <= 0:  # recommend() gives such a user the fallback
        return _fallback(model, user_id, item_id, item, skipped)
    if model.seen is None:
        raise no_seen_error(
            "the user's history is unknown and the score cannot be split over it",
            "use explain_history() with the user's items",
        )
    seen = model.seen
    lo, hi = int(seen.indptr[row]), int(seen.indptr[row + 1])
    stored = float(
        model.user_factors[row].astype(np.float64) @ model.item_factors[item].astype(np.float64)
    )
    return _build(
        model,
        user_id,
        item_id,
        item,
        seen.indices[lo:hi].astype(np.int64),
        seen.data[lo:hi].astype(np.float32),
        stored,
        "model",
        top,
        skipped,
    )


def explain_history(
    model: FittedModel,
    item_ids: IdLike | Iterable[ExternalId],
    item_id: ExternalId,
    weights: npt.ArrayLike | None = None,
    *,
    n: int | None = None,
    policy: Policy | None = None,
) -> Explanation:
    """Explain the fold-in score of ``item_id`` for an anonymous history.

    See :meth:`Recommender.explain_history`.
    """
    top = _check_top(n)
    model, resolved = _serving(model, policy)
    item_id, item = _item_row(model, item_id)
    (hist_idx, hist_w), skipped = resolve_history(model, item_ids, weights, resolved)
    if hist_idx.size == 0:
        return _fallback(model, None, item_id, item, skipped)
    rows = np.full(1, -1, dtype=np.int64)
    factors, folded = fold_in(model, rows, [(hist_idx, hist_w)])
    if not np.any(factors[0] != 0):
        return _fallback(model, None, item_id, item, skipped)
    return _build(
        model,
        None,
        item_id,
        item,
        folded.indices.astype(np.int64),
        folded.data.astype(np.float32),
        None,
        "fold-in",
        top,
        skipped,
    )
