"""The frozen fitted model: factors, ID mappers, seen matrix, popularity, params, provenance.

:class:`FittedModel` is what training, :meth:`~alsrec.Recommender.from_factors`, loading
and the legacy import produce, and what every query, save, inspection, explanation and
Spark job reads. It is never mutated: :func:`build_model` checks and assembles one, and
updates return a new one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from alsrec._foldin import FoldInSolver
from alsrec._scoring import normalized, row_norms
from alsrec.checks import check_memory
from alsrec.data.rows import check_id_lengths
from alsrec.exceptions import AlsrecWarning, ConfigError, DataError, MappingMismatchError
from alsrec.logs import warn as warn_and_log
from alsrec.mapping import IdMapper
from alsrec.model.defaults import resolve_params
from alsrec.params import ALSParams

if TYPE_CHECKING:
    from collections.abc import Iterable

    from alsrec.types import ExternalId, FactorMatrix, FloatArray, IdLike, IndexArray, Policy

__all__ = [
    "FittedModel",
    "HasModel",
    "Provenance",
    "as_factors",
    "build_model",
    "default_ranges",
    "freeze_matrix",
    "mapping_check",
    "model_of",
    "new_mapper",
    "no_seen_error",
    "readonly_view",
    "seen_weights_problem",
]

Ranges = tuple[tuple[int, int], ...]
"""Inclusive ``(first, last)`` runs of factor-row indices."""


@dataclass(frozen=True)
class Provenance:
    """Where a model came from: what :func:`alsrec.io.inspect_model` and ``save`` report.

    Attributes
    ----------
    format_version : int or None
        The artifact format version it was loaded from; ``None`` for a model built in memory.
    user_ranges, item_ranges : tuple of (int, int)
        Inclusive index ranges of factor rows without an ID, in the numbering of the
        source (a legacy pickle may have holes anywhere); ``None`` means "the rows after
        the mapped ones".
    origin : dict or None
        Free-form facts about a foreign source (e.g. a legacy pickle's implicit parameters).
    auto_params : tuple of str
        The hyperparameters whose concrete values in :attr:`FittedModel.params` were
        resolved from ``"auto"`` (e.g. ``("regularization",)``); see
        :mod:`alsrec.model.defaults`.
    training : dict or None
        The training data's provenance (see :func:`alsrec.model.provenance.data_provenance`).
    metadata : dict or None
        The user metadata saved with the model (``save(path, metadata=...)``).
    created, alsrec_version : str or None
        When and by which alsrec version the artifact was written (loaded models only).
    """

    format_version: int | None = None
    user_ranges: Ranges | None = None
    item_ranges: Ranges | None = None
    origin: dict[str, Any] | None = None
    auto_params: tuple[str, ...] = ()
    training: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    created: str | None = None
    alsrec_version: str | None = None


def default_ranges(rows: int, mapped: int) -> Ranges:
    """The range of factor rows after the ``mapped`` ones (which have no ID), if any."""
    return ((mapped, rows - 1),) if rows > mapped else ()


@dataclass(frozen=True, eq=False)
class FittedModel:
    """Everything a fitted model knows; never mutated after construction.

    Build one with :func:`build_model` (which checks it), get one from
    :attr:`alsrec.Recommender.model_`, and serve it with
    :meth:`alsrec.Recommender.from_model`.

    Attributes
    ----------
    user_factors, item_factors : numpy.ndarray of float32
        ``(rows, factors)``; rows ``>= len(users)`` / ``>= len(items)`` have no ID.
    users, items : IdMapper
        The IDs of the mapped rows.
    seen : scipy.sparse.csr_matrix or None
        Training weights, mapped users x mapped items, or ``None`` if unknown.
    popularity : numpy.ndarray of float32
        Popularity score of each mapped item (the fallback's scores).
    popular_order : numpy.ndarray of int64
        Mapped item indices, most popular first.
    user_norms, item_norms : numpy.ndarray of float32
        Euclidean norms of the mapped factor rows.
    backend : str
        Name of the backend that produced the factors.
    params : ALSParams
        The hyperparameters, concrete whenever the training interactions are known
        (``regularization="auto"`` is resolved from them; :attr:`Provenance.auto_params`
        says which were). A model without them (``from_factors`` without ``seen``) may
        keep ``"auto"``; then fold-in raises :class:`~alsrec.ConfigError`.
    unmapped_user_rows, unmapped_item_rows : int
        Factor rows without an ID.
    provenance : Provenance
        Where the model came from.

    Examples
    --------
    >>> import numpy as np
    >>> from alsrec import IdMapper
    >>> from alsrec.model import build_model
    >>> model = build_model(np.eye(2, dtype=np.float32), np.eye(2, dtype=np.float32),
    ...                     IdMapper(["u", "v"]), IdMapper(["a", "b"]))
    >>> model.items.ids.tolist(), model.backend, model.mismatched
    (['a', 'b'], 'external', False)
    """

    user_factors: FactorMatrix
    item_factors: FactorMatrix
    users: IdMapper
    items: IdMapper
    seen: sp.csr_matrix | None
    popularity: FloatArray
    popular_order: IndexArray
    user_norms: FloatArray
    item_norms: FloatArray
    backend: str
    params: ALSParams
    unmapped_user_rows: int
    unmapped_item_rows: int
    provenance: Provenance = Provenance()
    # Fold-in of users against the item factors; caches YᵀY + λI on first use.
    foldin: FoldInSolver = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # The learned state is shared by every query and thread: an in-place edit of one
        # array would desynchronize it from the cached norms and unit vectors, so the
        # arrays are read-only (as a memory-mapped artifact's are); copy before editing.
        for name in _ARRAYS:
            _freeze(getattr(self, name))
        solver = FoldInSolver.for_params(self.item_factors, self.params)
        object.__setattr__(self, "foldin", solver)

    # pickle and copy.deepcopy (joblib, multiprocessing, Ray) carry the learned state only:
    # the copy rebuilds its caches and freezes its arrays, as a freshly built model does.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for derived in _DERIVED:
            state.pop(derived, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.seen is not None:  # the copy's own matrix: read-only like its factors
            freeze_matrix(self.seen)
        self.__post_init__()

    def seen_view(self) -> sp.csr_matrix | None:
        """:attr:`seen` as a read-only view (:func:`readonly_view`), to hand out."""
        return None if self.seen is None else readonly_view(self.seen)

    @property
    def mismatched(self) -> bool:
        """Whether some factor rows have no ID."""
        return bool(self.unmapped_user_rows or self.unmapped_item_rows)

    @property
    def user_ranges(self) -> Ranges:
        """Index ranges of user factor rows without an ID (see :class:`Provenance`)."""
        known = self.provenance.user_ranges
        if known is not None:
            return known
        return default_ranges(self.user_factors.shape[0], len(self.users))

    @property
    def item_ranges(self) -> Ranges:
        """Index ranges of item factor rows without an ID (see :class:`Provenance`)."""
        known = self.provenance.item_ranges
        if known is not None:
            return known
        return default_ranges(self.item_factors.shape[0], len(self.items))

    # Unit-length factors for cosine queries: computed on first use, then kept (a cache of
    # derived data, so the model stays logically immutable).
    @cached_property
    def unit_user_factors(self) -> FactorMatrix:
        """User factors scaled to unit length (zero rows stay zero)."""
        return _freeze(normalized(self.user_factors, self.user_norms))

    @cached_property
    def unit_item_factors(self) -> FactorMatrix:
        """Item factors scaled to unit length (zero rows stay zero)."""
        return _freeze(normalized(self.item_factors, self.item_norms))


_ARRAYS = (
    "user_factors",
    "item_factors",
    "popularity",
    "popular_order",
    "user_norms",
    "item_norms",
)
"""The array fields of :class:`FittedModel`, made read-only when it is built."""

_DERIVED = ("foldin", "unit_user_factors", "unit_item_factors")
"""Attributes of :class:`FittedModel` computed from the others (caches), not pickled."""

_A = TypeVar("_A", bound=np.ndarray)


def no_seen_error(consequence: str, alternative: str) -> ConfigError:
    """The error for a query that needs the training interactions of a model without them
    (built without ``seen=``, or imported from a legacy pickle, which holds none)."""
    return ConfigError(
        "This model has no training interactions (built without seen=, or imported from a "
        f"legacy pickle, which holds none), so {consequence}. Rebuild it with seen=<its users "
        "x items training matrix> (Recommender.from_factors or from_implicit), or "
        f"{alternative}."
    )


def new_mapper(ids: IdLike | Iterable[ExternalId], axis: str) -> IdMapper:
    """An :class:`~alsrec.IdMapper` of a new model's ``axis`` IDs (``from_factors``), held
    to fit's rules: unique, and string IDs of at most ``MAX_ID_CHARS`` characters."""
    mapper = IdMapper(ids, what=f"{axis}_ids")
    check_id_lengths(mapper.ids, None, axis, f"{axis}_ids[{{}}]".format, column=False)
    return mapper


def freeze_matrix(matrix: sp.csr_matrix) -> None:
    """Make a seen matrix's arrays read-only, for a model that owns them (a loaded or
    copied one; a freshly trained model shares them with the caller's ``Interactions``,
    whose arrays stay writeable for compiled code such as implicit's)."""
    for part in (matrix.data, matrix.indices, matrix.indptr):
        _freeze(part)


def readonly_view(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """A CSR matrix over the same arrays, read-only (views; nothing is copied), to hand out
    a model's seen matrix that it may share with the caller's ``Interactions``.

    Examples
    --------
    >>> m = sp.csr_matrix(np.eye(2, dtype=np.float32))
    >>> view = readonly_view(m)
    >>> view.data.flags.writeable, m.data.flags.writeable, np.shares_memory(view.data, m.data)
    (False, True, True)
    """
    parts = [_freeze(part.view()) for part in (matrix.data, matrix.indices, matrix.indptr)]
    return sp.csr_matrix(tuple(parts), shape=matrix.shape, copy=False)


def _freeze(arr: _A) -> _A:
    if arr.flags.writeable:
        arr.flags.writeable = False
    return arr


def as_factors(name: str, factors: npt.ArrayLike) -> FactorMatrix:
    """``factors`` as a C-contiguous ``float32`` matrix, or :class:`DataError` naming it."""
    if sp.issparse(factors):
        raise DataError(
            f"{name} must be a dense array (rows x factors), got a scipy sparse matrix of "
            f"shape {cast('Any', factors).shape}; pass factors.toarray()."
        )
    arr = np.asarray(factors)
    if arr.ndim != 2:
        raise DataError(f"{name} must be a 2-d array (rows x factors), got shape {arr.shape}.")
    if arr.dtype.kind not in "fiu":
        raise DataError(f"{name} must be numeric, got dtype {arr.dtype}.")
    if arr.dtype != np.float32 or not arr.flags.c_contiguous:  # a copy is made
        check_memory(
            4 * arr.size, f"{name} as float32 (shape {arr.shape})", "Pass smaller factors."
        )
    return cast("FactorMatrix", np.ascontiguousarray(arr, dtype=np.float32))


def _reconcile(
    axis: str, rows: int, mapper: IdMapper, policy: Policy
) -> tuple[IdMapper, int, str | None]:
    """Check factor rows against mapped IDs; return the usable mapper and a warning."""
    if rows == len(mapper):
        return mapper, 0, None
    if policy == "strict":
        raise MappingMismatchError(
            f"The {axis} factors have {rows} rows but {len(mapper)} {axis} IDs are mapped. "
            f"Under the 'strict' policy such a model is refused; rebuild the mapping from "
            f"the data the model was trained on, or use policy='safe' to serve only the "
            f"rows that have IDs."
        )
    if rows > len(mapper):
        return (
            mapper,
            rows - len(mapper),
            f"The {axis} factors have {rows} rows but only {len(mapper)} {axis} IDs are "
            f"mapped; rows {len(mapper)}..{rows - 1} have no ID and will never be returned.",
        )
    return (
        mapper.head(rows),
        0,
        f"{len(mapper)} {axis} IDs are mapped but the {axis} factors have only {rows} rows; "
        f"the {len(mapper) - rows} IDs from index {rows} on have no factors and are treated "
        f"as unknown.",
    )


def _check_factors(user_factors: FactorMatrix, item_factors: FactorMatrix) -> None:
    if user_factors.shape[1] != item_factors.shape[1]:
        raise DataError(
            f"user factors have {user_factors.shape[1]} columns but item factors have "
            f"{item_factors.shape[1]}; both sides need the same number of factors."
        )
    for name, arr in (("user factors", user_factors), ("item factors", item_factors)):
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        if bad.size:
            raise DataError(
                f"{name} contain NaN or inf in {bad.size} row(s), first row {int(bad[0])}; "
                "the model is corrupt: retrain it."
            )


def seen_weights_problem(data: npt.NDArray[Any]) -> str | None:
    """What is wrong with a seen matrix's weights (finite and > 0), or ``None``.

    Examples
    --------
    >>> seen_weights_problem(np.array([1.0, 0.0])), seen_weights_problem(np.ones(2))
    ('non-positive weights (as low as 0)', None)
    """
    if not data.size:
        return None
    if not np.isfinite(data).all():
        return "NaN or infinite weights"
    low = float(data.min())
    if low <= 0:
        return f"non-positive weights (as low as {low:g})"
    return None


def _seen_and_popularity(
    seen: sp.csr_matrix | None, item_factors: FactorMatrix, n_users: int, n_items: int
) -> tuple[sp.csr_matrix | None, FloatArray]:
    if seen is None:
        # Without interaction data, rank by factor norm, which grows with popularity in ALS.
        return None, row_norms(item_factors[:n_items])
    seen = sp.csr_matrix(seen, dtype=np.float32)
    if seen.shape[0] < n_users or seen.shape[1] < n_items:
        raise DataError(
            f"seen has shape {seen.shape} but the model maps {n_users} users and "
            f"{n_items} items; pass the training matrix the factors came from."
        )
    problem = seen_weights_problem(seen.data)
    if problem is not None:
        bad = int(np.flatnonzero(~np.isfinite(seen.data) | (seen.data <= 0))[0])
        row = int(np.searchsorted(seen.indptr, bad, side="right") - 1)
        raise DataError(
            f"seen holds {problem}: entry (row {row}, column {int(seen.indices[bad])}) is "
            f"{float(seen.data[bad])!r}. seen is the training interaction matrix, and fold-in, "
            "explain() and updated() weigh its entries as confidences: every stored weight "
            "must be finite and > 0 (drop stored zeros with seen.eliminate_zeros())."
        )
    if seen.shape != (n_users, n_items):
        seen = seen[:n_users][:, :n_items].tocsr()
    if not seen.has_sorted_indices:
        seen.sort_indices()
    return seen, np.bincount(seen.indices, minlength=n_items).astype(np.float32)


def build_model(
    user_factors: FactorMatrix,
    item_factors: FactorMatrix,
    users: IdMapper,
    items: IdMapper,
    seen: sp.csr_matrix | sp.spmatrix | sp.sparray | None = None,
    *,
    backend: str = "external",
    params: ALSParams | None = None,
    policy: Policy = "strict",
    provenance: Provenance = Provenance(),
    own_seen: bool = False,
) -> FittedModel:
    """Check factors, IDs and seen matrix against each other and build a :class:`FittedModel`.

    With ``own_seen`` the model keeps a read-only copy of ``seen`` (a caller's matrix,
    as :meth:`alsrec.Recommender.from_factors` gets it); without, it may share it (a
    trained model shares the caller's ``Interactions``).

    Factor rows and mapped IDs that disagree in number raise
    :class:`~alsrec.MappingMismatchError` under ``policy="strict"`` and warn
    (:class:`~alsrec.AlsrecWarning`) under ``"safe"``. ``params`` defaults to
    ``ALSParams(factors=<columns of the factors>)``. A ``regularization="auto"`` is
    resolved from ``seen`` (the training weights) when it is given, and recorded in
    :attr:`Provenance.auto_params`; without ``seen`` it stays ``"auto"`` and fold-in
    raises :class:`~alsrec.ConfigError` asking for a number.
    """
    _check_factors(user_factors, item_factors)
    if params is None:
        params = ALSParams(factors=max(1, int(user_factors.shape[1])))
    users, bad_users, user_msg = _reconcile("user", user_factors.shape[0], users, policy)
    items, bad_items, item_msg = _reconcile("item", item_factors.shape[0], items, policy)
    for msg in (user_msg, item_msg):
        if msg is not None:
            warn_and_log(msg, AlsrecWarning, stacklevel=None)  # from_factors, load, imports
    seen_csr = None if seen is None else sp.csr_matrix(seen, copy=own_seen)
    seen_csr, popularity = _seen_and_popularity(seen_csr, item_factors, len(users), len(items))
    if own_seen and seen_csr is not None:
        freeze_matrix(seen_csr)
    if seen_csr is not None and not params.is_resolved and seen_csr.nnz:
        params, names = resolve_params(params, seen_csr)
        auto = provenance.auto_params + tuple(n for n in names if n not in provenance.auto_params)
        provenance = dataclasses.replace(provenance, auto_params=auto)
    popular_order = np.lexsort((np.arange(len(items)), -popularity)).astype(np.int64)
    return FittedModel(
        user_factors=user_factors,
        item_factors=item_factors,
        users=users,
        items=items,
        seen=seen_csr,
        popularity=popularity,
        popular_order=popular_order,
        user_norms=row_norms(user_factors[: len(users)]),
        item_norms=row_norms(item_factors[: len(items)]),
        backend=backend,
        params=params,
        unmapped_user_rows=bad_users,
        unmapped_item_rows=bad_items,
        provenance=provenance,
    )


def mapping_check(model: FittedModel) -> dict[str, Any]:
    """Factor rows and mapped IDs on both sides, and whether every row has exactly one ID."""
    return {
        "user_rows": int(model.user_factors.shape[0]),
        "user_ids": len(model.users),
        "item_rows": int(model.item_factors.shape[0]),
        "item_ids": len(model.items),
        "ok": not model.mismatched,
    }


class HasModel(Protocol):
    """Anything that serves a :class:`FittedModel`, e.g. a fitted :class:`~alsrec.Recommender`."""

    @property
    def model_(self) -> FittedModel:
        """The fitted model."""
        ...


def model_of(source: object) -> FittedModel:
    """The :class:`FittedModel` of ``source``: itself, or its ``model_`` attribute (a
    fitted :class:`~alsrec.Recommender`; an unfitted one raises
    :class:`~alsrec.NotFittedError`).

    Raises
    ------
    ConfigError
        ``source`` is neither.
    """
    if isinstance(source, FittedModel):
        return source
    model = getattr(source, "model_", None)
    if isinstance(model, FittedModel):
        return model
    raise ConfigError(
        f"Expected a FittedModel or a fitted Recommender, got {type(source).__name__}."
    )
