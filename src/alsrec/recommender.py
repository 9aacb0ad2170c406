"""The :class:`Recommender` facade: fit, then ask for recommendations and similar items."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from typing_extensions import Self

from alsrec._foldin import FoldInSolver, history_confidence
from alsrec._scoring import (
    SCORE_BLOCK_ENTRIES,
    csr_row_entries,
    normalized,
    ranked_top_n,
    row_norms,
)
from alsrec._threads import worker_count
from alsrec.backends import Backend, ProgressCallback, get_backend, names
from alsrec.exceptions import (
    AlsrecError,
    AlsrecWarning,
    BackendError,
    ConfigError,
    DataError,
    MappingMismatchError,
    NotFittedError,
    UnknownIdError,
)
from alsrec.interactions import Interactions, as_weights
from alsrec.mapping import IdMapper, as_id_array
from alsrec.params import ALSParams
from alsrec.results import BatchRecommendations, Recommendations
from alsrec.weighting import Weighting, confidence

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from pyspark.sql import DataFrame, SparkSession

    from alsrec.artifacts import InspectionReport, PathArg
    from alsrec.explain import Explanation
    from alsrec.types import (
        ExternalId,
        FactorMatrix,
        FloatArray,
        IdArray,
        IdLike,
        IndexArray,
        Policy,
        Source,
    )

__all__ = ["Recommender"]

_POLICIES = ("safe", "strict")
_INT_PAD = np.iinfo(np.int64).min


def _check_policy(policy: object) -> Policy:
    if policy not in _POLICIES:
        raise ConfigError(f"policy must be 'safe' or 'strict', got {policy!r}.")
    return cast("Policy", policy)


def _check_n(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ConfigError(f"n must be a positive integer, got {n!r} ({type(n).__name__}).")
    if int(n) < 1:
        raise ConfigError(f"n must be >= 1, got {n!r}.")
    return int(n)


def _as_factors(name: str, factors: npt.ArrayLike) -> FactorMatrix:
    arr = np.asarray(factors)
    if arr.ndim != 2:
        raise DataError(f"{name} must be a 2-d array (rows x factors), got shape {arr.shape}.")
    if arr.dtype.kind not in "fiu":
        raise DataError(f"{name} must be numeric, got dtype {arr.dtype}.")
    return cast("FactorMatrix", np.ascontiguousarray(arr, dtype=np.float32))


_Key = TypeVar("_Key", int, str)
"""The user-ID type of a ``histories`` mapping."""

_History: TypeAlias = "tuple[IndexArray, FloatArray]"
"""A resolved history: mapped item indices and their weights (may repeat)."""


def _grow(mapper: IdMapper, column: IdArray) -> tuple[IdMapper, IndexArray]:
    """Append the unseen IDs of ``column`` to ``mapper``; return it and each row's index."""
    index = mapper.to_index(column, missing="negative")
    unknown = np.flatnonzero(index < 0)
    if unknown.size == 0:
        return mapper, index
    fresh, codes = IdMapper.factorize(column[unknown])
    grown = mapper.with_added(fresh.ids)  # raises IdTypeError for int IDs among str ones
    index[unknown] = len(mapper) + codes
    return grown, index


def _owned(arr: FactorMatrix, source: object) -> FactorMatrix:
    """``arr`` itself if it is private or read-only, else a copy of it."""
    if isinstance(source, np.ndarray) and arr.flags.writeable and np.shares_memory(arr, source):
        return cast("FactorMatrix", arr.copy())
    return arr


def _pad_ids(mapper: IdMapper, shape: tuple[int, ...]) -> IdArray:
    if mapper.kind == "str":
        width = max(1, mapper.ids.dtype.itemsize // 4)
        return cast("IdArray", np.full(shape, "", dtype=f"<U{width}"))
    return cast("IdArray", np.full(shape, _INT_PAD, dtype=np.int64))


@dataclass(frozen=True, eq=False)
class _State:
    """Everything a fitted model knows; never mutated after construction."""

    user_factors: FactorMatrix  # (user rows, f); rows >= len(users) are unmapped
    item_factors: FactorMatrix  # (item rows, f); rows >= len(items) are unmapped
    users: IdMapper
    items: IdMapper
    seen: sp.csr_matrix | None  # (len(users), len(items)) training weights, or None
    popularity: FloatArray  # (len(items),) popularity score of each mapped item
    popular_order: IndexArray  # mapped item indices, most popular first
    user_norms: FloatArray
    item_norms: FloatArray
    backend: str
    params: ALSParams
    unmapped_user_rows: int
    unmapped_item_rows: int
    # Fold-in of users against the item factors; caches YᵀY + λI on first use.
    foldin: FoldInSolver = field(init=False, repr=False)

    def __post_init__(self) -> None:
        solver = FoldInSolver(self.item_factors, self.params.regularization)
        object.__setattr__(self, "foldin", solver)

    @property
    def mismatched(self) -> bool:
        return bool(self.unmapped_user_rows or self.unmapped_item_rows)

    # Unit-length factors for cosine queries: computed on first use, then kept (a cache of
    # derived data, so the state stays logically immutable).
    @cached_property
    def unit_user_factors(self) -> FactorMatrix:
        return normalized(self.user_factors, self.user_norms)

    @cached_property
    def unit_item_factors(self) -> FactorMatrix:
        return normalized(self.item_factors, self.item_norms)


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


def _build_state(
    user_factors: FactorMatrix,
    item_factors: FactorMatrix,
    users: IdMapper,
    items: IdMapper,
    seen: sp.csr_matrix | None,
    backend: str,
    params: ALSParams,
    policy: Policy,
) -> _State:
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
    users, bad_users, user_msg = _reconcile("user", user_factors.shape[0], users, policy)
    items, bad_items, item_msg = _reconcile("item", item_factors.shape[0], items, policy)
    for msg in (user_msg, item_msg):
        if msg is not None:
            warnings.warn(msg, AlsrecWarning, stacklevel=4)
    if seen is not None:
        seen = sp.csr_matrix(seen, dtype=np.float32)
        if seen.shape[0] < len(users) or seen.shape[1] < len(items):
            raise DataError(
                f"seen has shape {seen.shape} but the model maps {len(users)} users and "
                f"{len(items)} items; pass the training matrix the factors came from."
            )
        if seen.shape != (len(users), len(items)):
            seen = seen[: len(users)][:, : len(items)].tocsr()
        if not seen.has_sorted_indices:
            seen.sort_indices()
        counts = np.bincount(seen.indices, minlength=len(items)).astype(np.float32)
        popularity = counts
    else:
        # Without interaction data, rank by factor norm, which grows with popularity in ALS.
        popularity = row_norms(item_factors[: len(items)])
    popular_order = np.lexsort((np.arange(len(items)), -popularity)).astype(np.int64)
    return _State(
        user_factors=user_factors,
        item_factors=item_factors,
        users=users,
        items=items,
        seen=seen,
        popularity=popularity,
        popular_order=popular_order,
        user_norms=row_norms(user_factors[: len(users)]),
        item_norms=row_norms(item_factors[: len(items)]),
        backend=backend,
        params=params,
        unmapped_user_rows=bad_users,
        unmapped_item_rows=bad_items,
    )


class Recommender:
    """Implicit-feedback ALS recommendations addressed by your own user and item IDs.

    Construct with hyperparameters, :meth:`fit` on interactions, then query with
    :meth:`recommend`, :meth:`recommend_many`, :meth:`recommend_for_history`,
    :meth:`similar_items` and :meth:`similar_users`; add fresh interactions without
    retraining with :meth:`updated`. All ID mapping, filtering of seen items, lookup policies and
    top-k ranking happen here, in alsrec's own code, whatever backend trained the factors.

    Parameters
    ----------
    factors, regularization, alpha, iterations, random_state, solver, cg_steps, num_threads
        Hyperparameters, validated at construction; see :class:`~alsrec.ALSParams`.
        Confidence of an observed pair with weight ``w`` is ``1 + alpha * w``.
    weighting : {"linear", "log", "bm25", "tfidf"}, default "linear"
        How weights become confidence ``1 + alpha * f(w)``; see :mod:`alsrec.weighting`.
    backend : str or Backend, default "numpy"
        Which engine trains the factors: a name from :func:`alsrec.backends.names` or an
        object implementing :class:`~alsrec.backends.Backend`.
    policy : {"safe", "strict"}, default "safe"
        What happens to unknown IDs and factor rows without an ID; overridable per call.
        ``"safe"``: unknown users get the most popular items (``source="fallback"``),
        unknown items are skipped (and listed in ``skipped``), unmapped factor rows are
        never returned. ``"strict"``: unknown IDs raise :class:`~alsrec.UnknownIdError`
        and a model whose factor rows and IDs disagree raises
        :class:`~alsrec.MappingMismatchError`.

    Attributes
    ----------
    params : ALSParams
        The validated hyperparameters.
    user_factors_, item_factors_ : numpy.ndarray of float32
        Learned factors; row ``k`` belongs to ``users_.ids[k]`` / ``items_.ids[k]``.
    users_, items_ : IdMapper
        The ID mappings of the fitted model.
    backend_ : str
        Name of the backend that produced the factors.

    Examples
    --------
    >>> from alsrec import Recommender
    >>> users = ["ann", "ann", "bob", "bob", "cid", "cid"]
    >>> items = ["tea", "cup", "tea", "pot", "cup", "pot"]
    >>> rec = Recommender(factors=4, iterations=10, random_state=0).fit(users, items)
    >>> [item for item, _ in rec.recommend("ann", n=1)]
    ['pot']
    >>> rec.recommend("nobody", n=2).source
    'fallback'
    """

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.01,
        alpha: float = 1.0,
        iterations: int = 15,
        *,
        random_state: int | None = None,
        backend: str | Backend = "numpy",
        policy: Policy = "safe",
        solver: Literal["cg", "cholesky"] = "cg",
        cg_steps: int = 3,
        num_threads: int = 0,
        weighting: Weighting = "linear",
    ) -> None:
        self.params = ALSParams(
            factors=factors,
            regularization=regularization,
            alpha=alpha,
            iterations=iterations,
            random_state=random_state,
            solver=solver,
            cg_steps=cg_steps,
            num_threads=num_threads,
            weighting=weighting,
        )
        if isinstance(backend, str) and backend not in names():
            get_backend(backend)  # raises ConfigError listing the valid names
        elif not isinstance(backend, str):
            backend = get_backend(backend)
        self.backend: str | Backend = backend
        self.policy: Policy = _check_policy(policy)
        self._state: _State | None = None

    # -- construction from existing factors ----------------------------------------------------

    @classmethod
    def from_factors(
        cls,
        user_factors: npt.ArrayLike,
        item_factors: npt.ArrayLike,
        user_ids: IdLike | Iterable[ExternalId] | IdMapper,
        item_ids: IdLike | Iterable[ExternalId] | IdMapper,
        *,
        seen: sp.spmatrix | sp.sparray | None = None,
        params: ALSParams | None = None,
        policy: Policy = "safe",
        backend_name: str = "external",
    ) -> Recommender:
        """Wrap factor matrices trained elsewhere, with their ID sequences.

        Position ``k`` of ``user_ids`` names factor row ``k`` (likewise for items). When
        the counts disagree, ``policy="strict"`` raises :class:`~alsrec.MappingMismatchError`
        and ``policy="safe"`` warns (:class:`~alsrec.AlsrecWarning`) and never returns a row
        without an ID.

        Parameters
        ----------
        user_factors, item_factors : array_like, shape (rows, factors)
            Learned factors; stored as C-contiguous ``float32``.
        user_ids, item_ids
            Unique IDs in factor-row order, or ready :class:`~alsrec.IdMapper` objects.
        seen : scipy sparse matrix, optional
            Training interactions (rows = users, columns = items, in factor-row order),
            used to exclude seen items and to rank the popularity fallback. Without it,
            nothing is excluded and the fallback ranks items by factor norm.
        params : ALSParams, optional
            Hyperparameters to record (``factors`` is taken from the matrices).
        policy : {"safe", "strict"}
            Default policy of the returned recommender.
        backend_name : str
            What to report as :attr:`backend_`.

        Examples
        --------
        >>> import numpy as np
        >>> rec = Recommender.from_factors(
        ...     np.eye(2), np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]]),
        ...     ["u1", "u2"], ["a", "b", "c"])
        >>> [item for item, _ in rec.recommend("u1", n=2)]
        ['a', 'c']
        """
        policy = _check_policy(policy)
        # Own the factors: a later change to the caller's array must not change this model.
        uf = _owned(_as_factors("user_factors", user_factors), user_factors)
        itf = _owned(_as_factors("item_factors", item_factors), item_factors)
        users = user_ids if isinstance(user_ids, IdMapper) else IdMapper(user_ids)
        items = item_ids if isinstance(item_ids, IdMapper) else IdMapper(item_ids)
        base = params or ALSParams()
        base = ALSParams.from_dict({**base.to_dict(), "factors": max(1, uf.shape[1])})
        rec = cls(
            factors=base.factors,
            regularization=base.regularization,
            alpha=base.alpha,
            iterations=base.iterations,
            random_state=base.random_state,
            solver=base.solver,
            cg_steps=base.cg_steps,
            num_threads=base.num_threads,
            policy=policy,
        )
        rec.params = base  # every field, including those __init__ takes no argument for
        seen_csr = None if seen is None else sp.csr_matrix(seen)
        rec._state = _build_state(uf, itf, users, items, seen_csr, backend_name, base, policy)
        return rec

    @classmethod
    def from_implicit(
        cls,
        model: object,
        user_ids: IdLike | Iterable[ExternalId] | IdMapper,
        item_ids: IdLike | Iterable[ExternalId] | IdMapper,
        *,
        seen: sp.spmatrix | sp.sparray | None = None,
        policy: Policy = "safe",
    ) -> Recommender:
        """Wrap an ALS model already trained with the ``implicit`` library (CPU or GPU).

        The factors are copied out as numpy ``float32`` (from the GPU with implicit's
        ``to_numpy()``); the recommender holds no implicit object. ``factors``,
        ``regularization`` and ``iterations`` are read from the model's attributes;
        implicit's ``alpha`` is not recorded (it has another meaning, see
        :class:`~alsrec.backends.ImplicitBackend`). Everything else is as in
        :meth:`from_factors`: position ``k`` of ``user_ids`` names factor row ``k``.

        Parameters
        ----------
        model : implicit.cpu.als.AlternatingLeastSquares or implicit.gpu.als.AlternatingLeastSquares
            A fitted implicit ALS model.
        user_ids, item_ids
            Unique IDs in factor-row order, or ready :class:`~alsrec.IdMapper` objects.
        seen : scipy sparse matrix, optional
            The user x item matrix the model was trained on, to exclude seen items.
        policy : {"safe", "strict"}
            Default policy of the returned recommender.

        Raises
        ------
        ConfigError
            ``model`` is not an implicit ALS model.
        NotFittedError
            The model has not been fitted.

        Examples
        --------
        >>> import numpy as np, scipy.sparse as sp
        >>> from implicit.als import AlternatingLeastSquares
        >>> data = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=np.float32))
        >>> model = AlternatingLeastSquares(factors=2, iterations=3, random_state=0,
        ...                                 use_gpu=False)
        >>> model.fit(data, show_progress=False)
        >>> rec = Recommender.from_implicit(model, ["ann", "bob"], ["x", "y", "z"], seen=data)
        >>> rec.backend_, [item for item, _ in rec.recommend("ann")]
        ('implicit', ['z'])
        """
        from alsrec.backends._implicit import unwrap_implicit_model

        users, items, params, name = unwrap_implicit_model(model)
        return cls.from_factors(
            users,
            items,
            user_ids,
            item_ids,
            seen=seen,
            params=params,
            policy=policy,
            backend_name=name,
        )

    # -- training --------------------------------------------------------------------------------

    @classmethod
    def fit_spark(
        cls,
        df: DataFrame,
        user: str,
        item: str,
        weight: str | None = None,
        *,
        spark: SparkSession | None = None,
        params: ALSParams | None = None,
        policy: Policy = "safe",
        keep_seen: bool = True,
        num_blocks: int | None = None,
    ) -> Recommender:
        """Train Spark MLlib's implicit ALS on a Spark DataFrame; needs ``alsrec[spark]``.

        The interactions stay on the cluster: nulls, empty IDs and bad weights are
        checked there, duplicate ``(user, item)`` rows are summed there, and the distinct
        IDs are sorted and numbered there with contiguous int32 indices (so any string
        or int64 IDs work despite Spark ALS's int32 limit). The driver collects only the
        distinct IDs, the factors and, with ``keep_seen``, the index pairs. The result is
        an ordinary model (``backend_ == "spark"``) whose rows follow the sorted IDs.
        ``params`` mean what they mean for every backend: confidence ``1 + alpha * w``,
        and ``regularization`` is mapped to Spark's count-scaled ``regParam`` (see
        :func:`alsrec.spark.spark_reg_param`).

        Parameters
        ----------
        df : pyspark.sql.DataFrame
            One row per interaction.
        user, item : str
            Names of the ID columns (string or integer types).
        weight : str, optional
            Name of a numeric weight column (> 0, finite); ``None`` means 1.0 per row.
        spark : SparkSession, optional
            Session to train on; default ``df.sparkSession``. Never stopped.
        params : ALSParams, optional
            Hyperparameters (default ``ALSParams()``); ``solver`` and ``cg_steps`` do not
            apply (Spark solves each row exactly).
        policy : {"safe", "strict"}, default "safe"
            Default policy of the returned model.
        keep_seen : bool, default True
            Collect the ``(user, item, weight)`` index triples (12 bytes per distinct
            pair) so the model can exclude seen items and rank its popularity fallback;
            ``False`` saves that driver memory, and then nothing is excluded.
        num_blocks : int, optional
            Spark's ``numUserBlocks``/``numItemBlocks``; default: the session's
            default parallelism.

        Raises
        ------
        BackendUnavailableError
            pyspark >= 4.0 is not installed.
        IdTypeError
            An ID column that is neither string nor integer.
        DataError
            No rows, null IDs, empty-string IDs, or null/NaN/infinite/non-positive weights
            (the message shows an offending row).
        BackendError
            Spark failed; the cause (out of memory, lost JVM, ...) is named and Spark's
            error chained.
        """
        from alsrec.spark import fit_dataframe

        return fit_dataframe(
            df,
            user=user,
            item=item,
            weight=weight,
            spark=spark,
            params=params,
            policy=policy,
            keep_seen=keep_seen,
            num_blocks=num_blocks,
        )

    def fit(
        self,
        user_ids: IdLike | Iterable[ExternalId] | Interactions,
        item_ids: IdLike | Iterable[ExternalId] | None = None,
        weights: npt.ArrayLike | None = None,
        *,
        callback: ProgressCallback | None = None,
    ) -> Self:
        """Train on interactions; a second call starts from scratch. Returns ``self``.

        Parameters
        ----------
        user_ids
            One user ID per interaction, or an :class:`~alsrec.Interactions` (then
            ``item_ids`` and ``weights`` must be omitted).
        item_ids
            One item ID per interaction.
        weights : array_like, optional
            Strength of each interaction (> 0, finite); ``None`` means 1.0 each.
            Duplicate ``(user, item)`` pairs are summed.
        callback : callable, optional
            Called after each sweep as ``callback(iteration, user_factors, item_factors)``.

        Raises
        ------
        DataError
            Empty input, length mismatch, NaN/inf/non-positive weights.
        IdTypeError
            IDs of one column not all int or all str.
        BackendError
            The backend failed (its exception is chained).
        """
        if isinstance(user_ids, Interactions):
            if item_ids is not None or weights is not None:
                raise ConfigError(
                    "Pass either an Interactions object or the three columns, not both."
                )
            data = user_ids
        else:
            if item_ids is None:
                raise ConfigError("fit() needs item_ids (or an Interactions object).")
            data = Interactions.from_arrays(user_ids, item_ids, weights)
        backend = get_backend(self.backend)
        conf = confidence(
            data.matrix, self.params.alpha, self.params.weighting, **self.params.weighting_options()
        )
        try:
            users, items = backend.fit(conf, self.params, callback=callback)
        except (AlsrecError, MemoryError):
            raise
        except Exception as exc:
            raise BackendError(f"Backend {backend.name!r} failed while training: {exc}") from exc
        expected = {"user": (data.shape[0], users), "item": (data.shape[1], items)}
        for axis, (rows, arr) in expected.items():
            if arr.shape != (rows, self.params.factors):
                raise MappingMismatchError(
                    f"Backend {backend.name!r} returned {axis} factors of shape {arr.shape}; "
                    f"expected ({rows}, {self.params.factors})."
                )
        self._state = _build_state(
            _as_factors("user factors", users),
            _as_factors("item factors", items),
            data.users,
            data.items,
            data.matrix,
            backend.name,
            self.params,
            "strict",
        )
        return self

    # -- fitted state ----------------------------------------------------------------------------

    def _fitted(self) -> _State:
        if self._state is None:
            raise NotFittedError(
                "This Recommender is not fitted yet; call fit(user_ids, item_ids, weights) "
                "first (or build one with Recommender.from_factors)."
            )
        return self._state

    @property
    def is_fitted(self) -> bool:
        """Whether the model has factors to answer queries."""
        return self._state is not None

    @property
    def user_factors_(self) -> FactorMatrix:
        """User factors, ``(n_user_rows, factors)``, ``float32``."""
        return self._fitted().user_factors

    @property
    def item_factors_(self) -> FactorMatrix:
        """Item factors, ``(n_item_rows, factors)``, ``float32``."""
        return self._fitted().item_factors

    @property
    def users_(self) -> IdMapper:
        """Mapping of user IDs to user factor rows."""
        return self._fitted().users

    @property
    def items_(self) -> IdMapper:
        """Mapping of item IDs to item factor rows."""
        return self._fitted().items

    @property
    def backend_(self) -> str:
        """Name of the backend that produced the factors."""
        return self._fitted().backend

    @property
    def seen_(self) -> sp.csr_matrix | None:
        """Training weights (mapped users x mapped items), or ``None`` if unknown."""
        return self._fitted().seen

    def _policy(self, policy: Policy | None) -> Policy:
        resolved = self.policy if policy is None else _check_policy(policy)
        state = self._fitted()
        if resolved == "strict" and state.mismatched:
            raise MappingMismatchError(
                f"This model has {state.unmapped_user_rows} user and "
                f"{state.unmapped_item_rows} item factor rows without an ID "
                f"({state.user_factors.shape[0]} user rows for {len(state.users)} IDs, "
                f"{state.item_factors.shape[0]} item rows for {len(state.items)} IDs); "
                "the 'strict' policy refuses to serve it. Use policy='safe' or fix the mapping."
            )
        return resolved

    # -- candidates --------------------------------------------------------------------------

    def _candidates(
        self, items: IdLike | Iterable[ExternalId] | None, policy: Policy
    ) -> tuple[IndexArray | None, tuple[ExternalId, ...]]:
        if items is None:
            return None, ()
        given = as_id_array(items, "candidate item IDs")
        idx, known, skipped = self._item_indices(given, policy, "candidate item ID(s)")
        idx = idx[known]
        _, first = np.unique(idx, return_index=True)
        return idx[np.sort(first)], skipped

    def _item_indices(
        self, given: IdArray, policy: Policy, what: str
    ) -> tuple[IndexArray, npt.NDArray[np.bool_], tuple[ExternalId, ...]]:
        """Item indices of ``given`` (``-1`` where unknown), the known mask, and the unknown
        IDs; under ``"strict"``, unknown IDs raise :class:`UnknownIdError` naming them."""
        idx = self._fitted().items.to_index(given, missing="negative")
        known = idx >= 0
        skipped: tuple[ExternalId, ...] = ()
        if not known.all():
            skipped = tuple(cast("list[ExternalId]", given[~known].tolist()))
            if policy == "strict":
                raise UnknownIdError(
                    f"{len(skipped)} {what} unknown to the model: "
                    f"{', '.join(map(repr, skipped[:5]))}. Remove them, or use policy='safe' "
                    "to skip them.",
                    ids=skipped,
                )
        return idx, known, skipped

    # -- scoring ------------------------------------------------------------------------------

    def _rank_users(
        self,
        rows: IndexArray,
        n: int,
        exclude_seen: bool,
        candidates: IndexArray | None,
    ) -> tuple[IndexArray, FloatArray]:
        """Top-n item indices (``-1`` padded) for user factor rows."""
        state = self._fitted()
        seen = state.seen if exclude_seen else None
        return self._rank_factors(state.user_factors, rows, n, seen, candidates)

    def _rank_factors(
        self,
        factors: FactorMatrix,
        rows: IndexArray,
        n: int,
        exclude: sp.csr_matrix | None,
        candidates: IndexArray | None,
    ) -> tuple[IndexArray, FloatArray]:
        """Top-n item indices (``-1`` padded) for ``factors[rows]``.

        Also serves factor rows that are not stored (folded in). ``exclude`` (optional) is
        a CSR matrix over mapped items whose row ``rows[k]`` lists the items never to
        return for query ``k``. Scoring and top-k run in ``_scoring.ranked_top_n``.
        """
        state = self._fitted()
        n_items = len(state.items)
        targets = state.item_factors[:n_items] if candidates is None else None
        if candidates is not None:
            targets = state.item_factors[candidates]
        assert targets is not None
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
            workers=worker_count(self.params.num_threads),
        )
        if candidates is not None:
            pos = np.where(pos >= 0, candidates[np.maximum(pos, 0)], -1)
        return pos, val

    def _fallback(
        self, n: int, candidates: IndexArray | None, exclude: IndexArray | None = None
    ) -> tuple[IndexArray, FloatArray]:
        """The ``n`` most popular (candidate) items not in ``exclude``, ``-1`` padded."""
        state = self._fitted()
        order = state.popular_order
        if candidates is not None:
            allowed = np.zeros(len(state.items), dtype=bool)
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
        vals[: take.size] = state.popularity[take]
        return pos, vals

    # -- fold-in ------------------------------------------------------------------------------

    def _resolve_history(
        self,
        item_ids: IdLike | Iterable[ExternalId],
        weights: npt.ArrayLike | None,
        policy: Policy,
        what: str = "history item IDs",
    ) -> tuple[_History, tuple[ExternalId, ...]]:
        """Map a history to item indices and weights; unknown items follow the policy."""
        given = as_id_array(item_ids, what)
        w = as_weights(weights, given.size, "history weights")
        idx, known, skipped = self._item_indices(given, policy, what)
        if skipped:
            idx, w = idx[known], w[known]
        return (idx, w), skipped

    def _resolve_histories(
        self,
        queries: IdArray,
        histories: Mapping[_Key, IdLike | Iterable[ExternalId]] | None,
        history_weights: Mapping[_Key, npt.ArrayLike] | None,
        policy: Policy,
    ) -> tuple[list[_History], tuple[ExternalId, ...]]:
        """One resolved (possibly empty) history per query, and the unknown items skipped."""
        for name, value in (("histories", histories), ("history_weights", history_weights)):
            if value is not None and not isinstance(value, Mapping):
                raise ConfigError(
                    f"{name} must be a mapping from user ID to item IDs (e.g. a dict), got "
                    f"{type(value).__name__}."
                )
        histories = histories or {}
        history_weights = history_weights or {}
        wanted = set(cast("list[ExternalId]", queries.tolist()))
        stray = [key for key in histories if key not in wanted]
        if stray:
            raise ConfigError(
                f"histories has entries for {len(stray)} user(s) not in user_ids: "
                f"{', '.join(map(repr, stray[:5]))}. Check the ID type (int vs str) of its keys."
            )
        stray = [key for key in history_weights if key not in histories]
        if stray:
            raise ConfigError(
                f"history_weights has entries for {len(stray)} user(s) without a history: "
                f"{', '.join(map(repr, stray[:5]))}."
            )
        resolved: dict[ExternalId, _History] = {}
        skipped: dict[ExternalId, None] = {}
        for key, hist in histories.items():
            resolved[key], unknown = self._resolve_history(
                hist, history_weights.get(key), policy, f"history item IDs of user {key!r}"
            )
            skipped.update(dict.fromkeys(unknown))
        empty: _History = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))
        out = [resolved.get(q, empty) for q in cast("list[ExternalId]", queries.tolist())]
        return out, tuple(skipped)

    def _fold_in(
        self, user_rows: IndexArray, histories: list[_History]
    ) -> tuple[FactorMatrix, sp.csr_matrix]:
        """Solve one factor row per history against the fixed item factors.

        ``user_rows[k] >= 0`` adds that known user's training weights to history ``k``
        (fresh interactions since training); ``-1`` folds in the history alone. Returns the
        factors and the combined weight matrix (histories x mapped items), whose entries are
        the items each query has interacted with.
        """
        state = self._fitted()
        n_items = len(state.items)
        m = len(histories)
        lengths = np.fromiter((h[0].size for h in histories), dtype=np.int64, count=m)
        rows = [np.repeat(np.arange(m, dtype=np.int64), lengths)]
        cols = [np.concatenate([h[0] for h in histories]) if m else np.empty(0, np.int64)]
        vals = [np.concatenate([h[1] for h in histories]) if m else np.empty(0, np.float32)]
        known = np.flatnonzero(user_rows >= 0)
        if known.size:
            if state.seen is None:
                raise ConfigError(
                    "This model has no training interactions (it was built without seen=), so "
                    "a known user's fresh history cannot be combined with their past. Pass "
                    "seen= to Recommender.from_factors, or use recommend_for_history() to fold "
                    "in the given history alone."
                )
            old = state.seen[user_rows[known]].tocoo()
            rows.append(known[old.row])
            cols.append(old.col.astype(np.int64))
            vals.append(old.data.astype(np.float32))
        weights = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(m, n_items),
            dtype=np.float32,
        )
        weights.sum_duplicates()
        factors = state.foldin.solve(history_confidence(weights, state.params, state.seen))
        return factors, weights

    def _rank_mixed(
        self,
        user_rows: IndexArray,
        histories: list[_History] | None,
        n: int,
        exclude_seen: bool,
        candidates: IndexArray | None,
    ) -> tuple[IndexArray, FloatArray, npt.NDArray[np.str_]]:
        """Rank for queries that are known users (``user_rows >= 0``) and/or carry a history.

        Per query: a history with known items -> fold-in (a known user's training
        interactions included); a known user without one -> stored factors; otherwise the
        popularity fallback. A factor row that is zero (no usable signal: a stored zero
        row, or a history whose items all have zero factors) also gets the fallback,
        without the query's items. Policy checks happen before.
        """
        state = self._fitted()
        m = user_rows.size
        pos = np.full((m, n), -1, dtype=np.int64)
        vals = np.full((m, n), np.nan, dtype=np.float32)
        sources = np.full(m, "fallback", dtype="<U8")
        if histories is None:
            has_history = np.zeros(m, dtype=bool)
        else:
            has_history = np.fromiter((h[0].size > 0 for h in histories), dtype=bool, count=m)
        known = user_rows >= 0
        signal = np.zeros(m, dtype=bool)
        signal[known] = state.user_norms[user_rows[known]] > 0
        model = np.flatnonzero(~has_history & known & signal)
        if model.size:
            pos[model], vals[model] = self._rank_users(
                user_rows[model], n, exclude_seen, candidates
            )
            sources[model] = "model"
        # (query, items to exclude) of every query that gets an individual fallback.
        empty: list[tuple[int, IndexArray | None]] = []
        seen = state.seen if exclude_seen else None
        for k in np.flatnonzero(~has_history & known & ~signal):
            row = int(user_rows[k])
            own: IndexArray | None = None
            if seen is not None:
                own = seen.indices[seen.indptr[row] : seen.indptr[row + 1]].astype(np.int64)
            empty.append((int(k), own))
        fold = np.flatnonzero(has_history)
        if fold.size:
            assert histories is not None
            factors, weights = self._fold_in(user_rows[fold], [histories[k] for k in fold])
            nonzero = np.any(factors != 0, axis=1)
            usable = np.flatnonzero(nonzero)
            exclude = weights if exclude_seen else None
            fpos, fvals = self._rank_factors(factors, usable, n, exclude, candidates)
            pos[fold[usable]], vals[fold[usable]] = fpos, fvals
            sources[fold[usable]] = "fold-in"
            for k in np.flatnonzero(~nonzero):
                given = weights.indices[weights.indptr[k] : weights.indptr[k + 1]]
                empty.append((int(fold[k]), given.astype(np.int64) if exclude_seen else None))
        rest = np.flatnonzero(~has_history & ~known)
        if rest.size:
            pos[rest], vals[rest] = self._fallback(n, candidates)
        for query, drop in empty:
            pos[query], vals[query] = self._fallback(n, candidates, drop)
        return pos, vals, sources

    def _similar(
        self,
        factors: FactorMatrix,
        norms: FloatArray,
        rows: IndexArray,
        n: int,
        candidates: IndexArray | None,
    ) -> tuple[IndexArray, FloatArray]:
        """Top-n rows by cosine similarity to each query row, the query itself excluded.

        ``factors`` are unit-length rows, so cosine is one matrix product.
        """
        n_mapped = norms.size
        unit = factors  # unit-length rows (cached in the state)
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
            workers=worker_count(self.params.num_threads),
        )
        empty = ~(norms[rows] > 0)
        pos[empty], val[empty] = -1, np.nan
        return np.where(pos >= 0, cand[np.maximum(pos, 0)], -1), val

    # -- result assembly -------------------------------------------------------------------------

    @staticmethod
    def _to_result(
        query: ExternalId | None,
        mapper: IdMapper,
        pos: IndexArray,
        vals: FloatArray,
        source: Source,
        skipped: tuple[ExternalId, ...],
    ) -> Recommendations:
        keep = pos >= 0
        return Recommendations(query, mapper.to_id(pos[keep]), vals[keep].copy(), source, skipped)

    @staticmethod
    def _to_batch(
        queries: IdArray,
        mapper: IdMapper,
        pos: IndexArray,
        vals: FloatArray,
        sources: npt.NDArray[np.str_],
        skipped: tuple[ExternalId, ...],
    ) -> BatchRecommendations:
        mask = pos >= 0
        ids = _pad_ids(mapper, pos.shape)
        if mask.any():
            ids = ids.astype(np.result_type(ids.dtype, mapper.ids.dtype))
            ids[mask] = mapper.to_id(pos[mask])
        return BatchRecommendations(queries, ids, vals, mask, sources, skipped)

    # -- queries ---------------------------------------------------------------------------------

    def recommend(
        self,
        user_id: ExternalId,
        n: int = 10,
        *,
        exclude_seen: bool = True,
        items: IdLike | Iterable[ExternalId] | None = None,
        policy: Policy | None = None,
        history: IdLike | Iterable[ExternalId] | None = None,
        history_weights: npt.ArrayLike | None = None,
    ) -> Recommendations:
        """Recommend up to ``n`` items for one user, best first.

        The cold-start chain, reported in the result's ``source``:

        - known user, no ``history``: the stored factors (``"model"``);
        - ``history`` given (with at least one known item): the user's factor row is solved
          afresh against the fixed item factors from the training interactions (known user)
          plus ``history``, or from ``history`` alone (unknown user): ``"fold-in"``;
        - unknown user without a usable history: the most popular items, the history's
          items excluded (``"fallback"``); under ``"strict"`` an
          :class:`~alsrec.UnknownIdError` instead.

        A factor row that is all zeros carries no signal (a user whose only items have
        zero factors, e.g. a new item nobody else has touched); such a user gets the
        fallback too, rather than an arbitrary order of zero scores.

        Parameters
        ----------
        user_id : int or str
            The user's external ID.
        n : int, default 10
            How many items; exactly ``n`` whenever that many eligible items exist.
        exclude_seen : bool, default True
            Leave out the items the user interacted with: in training and in ``history``.
        items : sequence of IDs, optional
            Only rank these candidate items (unknown ones follow the policy).
        policy : {"safe", "strict"}, optional
            Overrides the recommender's policy for this call.
        history : sequence of item IDs, optional
            Interactions of the user since training (an item may repeat; its weights are
            summed). Unknown items follow the policy (skipped and listed in ``skipped``, or
            :class:`~alsrec.UnknownIdError`).
        history_weights : array_like, optional
            One weight (> 0) per ``history`` entry; ``None`` means 1.0 each.

        Returns
        -------
        Recommendations
            ``(item_id, score)`` pairs with ``source`` ``"model"``, ``"fold-in"`` or
            ``"fallback"``.

        Raises
        ------
        UnknownIdError
            Unknown user without history, unknown history item or candidate, under the
            ``"strict"`` policy.
        ConfigError
            ``history`` for a known user of a model without training interactions
            (``from_factors`` without ``seen``); ``history_weights`` without ``history``.
        NotFittedError
            Before :meth:`fit`.

        Examples
        --------
        >>> rec = Recommender(factors=4, iterations=10, random_state=0).fit(
        ...     ["ann", "ann", "bob", "bob", "cid", "cid"],
        ...     ["tea", "cup", "tea", "pot", "cup", "pot"])
        >>> rec.recommend("ann", n=1, history=["pot"]).source
        'fold-in'
        >>> sorted(item for item, _ in rec.recommend("dan", n=2, history=["tea"]))
        ['cup', 'pot']
        """
        n = _check_n(n)
        resolved = self._policy(policy)
        state = self._fitted()
        candidates, skipped = self._candidates(items, resolved)
        row = state.users.to_index([user_id], missing="negative")
        if history is None:
            if history_weights is not None:
                raise ConfigError("history_weights was given without history.")
            if row[0] >= 0 and state.user_norms[row[0]] > 0:  # the common case, kept lean
                pos1, vals1 = self._rank_users(row, n, exclude_seen, candidates)
                return self._to_result(user_id, state.items, pos1[0], vals1[0], "model", skipped)
            hist: _History = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))
        else:
            hist, hist_skipped = self._resolve_history(history, history_weights, resolved)
            skipped = hist_skipped + skipped
        if row[0] < 0 and hist[0].size == 0 and resolved == "strict":
            raise UnknownIdError(
                f"Unknown user ID {user_id!r}: the model knows {len(state.users)} users. "
                "Pass history= to fold the user in, or use policy='safe' to get the "
                "popularity fallback instead.",
                ids=(user_id,),
            )
        pos, vals, sources = self._rank_mixed(row, [hist], n, exclude_seen, candidates)
        source = cast("Source", str(sources[0]))
        return self._to_result(user_id, state.items, pos[0], vals[0], source, skipped)

    def recommend_for_history(
        self,
        item_ids: IdLike | Iterable[ExternalId],
        weights: npt.ArrayLike | None = None,
        n: int = 10,
        *,
        exclude_history: bool = True,
        items: IdLike | Iterable[ExternalId] | None = None,
        policy: Policy | None = None,
    ) -> Recommendations:
        """Recommend for an anonymous or new user from their interaction history.

        The user's factor row is folded in: one exact least-squares solve against the
        fixed item factors, with the model's confidence weighting and regularization,
        exactly the solve a training sweep does for a user (``source="fold-in"``). No
        retraining, no user ID needed; the model is not changed.

        Parameters
        ----------
        item_ids : sequence of item IDs
            Items the user interacted with (an item may repeat; its weights are summed).
        weights : array_like, optional
            One weight (> 0) per entry of ``item_ids``; ``None`` means 1.0 each.
        n : int, default 10
            How many items to return.
        exclude_history : bool, default True
            Leave out the history's items.
        items : sequence of IDs, optional
            Only rank these candidate items (unknown ones follow the policy).
        policy : {"safe", "strict"}, optional
            ``"safe"``: unknown history items are skipped and listed in ``skipped``; an
            empty (or entirely unknown) history gets the most popular items, the given
            items excluded (``source="fallback"``). ``"strict"``: an unknown history item
            raises :class:`~alsrec.UnknownIdError`.

        Returns
        -------
        Recommendations
            ``query`` is ``None``; ``source`` is ``"fold-in"`` or ``"fallback"``.

        Examples
        --------
        >>> rec = Recommender(factors=4, iterations=10, random_state=0).fit(
        ...     ["ann", "ann", "bob", "bob", "cid", "cid"],
        ...     ["tea", "cup", "tea", "pot", "cup", "pot"])
        >>> recs = rec.recommend_for_history(["tea", "mug"], n=2)
        >>> sorted(item for item, _ in recs), recs.source, recs.skipped
        (['cup', 'pot'], 'fold-in', ('mug',))
        >>> rec.recommend_for_history([], n=2).source
        'fallback'
        """
        n = _check_n(n)
        resolved = self._policy(policy)
        state = self._fitted()
        candidates, cand_skipped = self._candidates(items, resolved)
        hist, skipped = self._resolve_history(item_ids, weights, resolved)
        rows = np.full(1, -1, dtype=np.int64)
        pos, vals, sources = self._rank_mixed(rows, [hist], n, exclude_history, candidates)
        source = cast("Source", str(sources[0]))
        return self._to_result(None, state.items, pos[0], vals[0], source, skipped + cand_skipped)

    def recommend_many(
        self,
        user_ids: IdLike | Iterable[ExternalId],
        n: int = 10,
        *,
        exclude_seen: bool = True,
        items: IdLike | Iterable[ExternalId] | None = None,
        policy: Policy | None = None,
        histories: Mapping[_Key, IdLike | Iterable[ExternalId]] | None = None,
        history_weights: Mapping[_Key, npt.ArrayLike] | None = None,
    ) -> BatchRecommendations:
        """Recommend for many users at once; fixed-shape arrays, padded at the end.

        Known and unknown users may be mixed. Each row follows the cold-start chain of
        :meth:`recommend` and reports it in ``sources``: ``"model"`` (stored factors),
        ``"fold-in"`` (a history was given: folded in, with a known user's training
        interactions) or ``"fallback"`` (unknown user without a usable history; under
        ``"strict"`` such a user raises :class:`~alsrec.UnknownIdError`). Fold-in solves
        for all rows run as one batch, and scores are computed in blocks by matrix
        products, so memory stays bounded for any number of users.

        Parameters
        ----------
        user_ids : sequence of IDs
            The users, known or not; a user may appear more than once.
        n, exclude_seen, items, policy
            As in :meth:`recommend`.
        histories : mapping of user ID to item IDs, optional
            Fresh interactions per user (keys must be among ``user_ids``); users without
            an entry have no history.
        history_weights : mapping of user ID to weights, optional
            Weights for some entries of ``histories`` (same length as that history).

        Returns
        -------
        BatchRecommendations
            ``ids``, ``scores`` and ``mask`` of shape ``(len(user_ids), n)`` and a
            ``sources`` entry per user; padding is described there. ``skipped`` lists
            unknown candidates and unknown history items.

        Examples
        --------
        >>> rec = Recommender(factors=4, iterations=5, random_state=0).fit(
        ...     ["a", "a", "b", "c"], [1, 2, 2, 3])
        >>> batch = rec.recommend_many(["a", "b", "zed"], n=2)
        >>> batch.ids.shape, batch.sources.tolist()
        ((3, 2), ['model', 'model', 'fallback'])
        >>> rec.recommend_many(["a", "new", "zed"], n=2, histories={"new": [3]}).sources.tolist()
        ['model', 'fold-in', 'fallback']
        """
        n = _check_n(n)
        resolved = self._policy(policy)
        state = self._fitted()
        queries = as_id_array(user_ids, "user IDs")
        candidates, skipped = self._candidates(items, resolved)
        rows = state.users.to_index(queries, missing="negative")
        hists: list[_History] | None = None
        has_history = np.zeros(queries.size, dtype=bool)
        if histories is not None or history_weights is not None:
            hists, hist_skipped = self._resolve_histories(
                queries, histories, history_weights, resolved
            )
            skipped = hist_skipped + skipped
            has_history = np.fromiter((h[0].size > 0 for h in hists), bool, count=queries.size)
        unknown = (rows < 0) & ~has_history
        if unknown.any() and resolved == "strict":
            bad = tuple(cast("list[ExternalId]", queries[unknown].tolist()))
            raise UnknownIdError(
                f"{len(bad)} unknown user ID(s) without history: "
                f"{', '.join(map(repr, bad[:5]))}. Pass their histories to fold them in, or "
                "use policy='safe' to get the popularity fallback for them.",
                ids=bad,
            )
        if hists is None and not unknown.any() and bool(np.all(state.user_norms[rows] > 0)):
            # Every query is a known user with stored factors: the common case, kept lean.
            pos, vals = self._rank_users(rows, n, exclude_seen, candidates)
            sources = np.full(queries.size, "model", dtype="<U8")
        else:
            pos, vals, sources = self._rank_mixed(rows, hists, n, exclude_seen, candidates)
        return self._to_batch(queries, state.items, pos, vals, sources, skipped)

    def _similar_query(
        self,
        axis: Literal["user", "item"],
        query_ids: IdArray,
        n: int,
        items: IdLike | Iterable[ExternalId] | None,
        policy: Policy,
    ) -> tuple[IndexArray, IndexArray, FloatArray, tuple[ExternalId, ...]]:
        state = self._fitted()
        mapper = state.items if axis == "item" else state.users
        rows = mapper.to_index(query_ids, missing="negative")
        unknown = rows < 0
        skipped: tuple[ExternalId, ...] = ()
        if unknown.any():
            skipped = tuple(cast("list[ExternalId]", query_ids[unknown].tolist()))
            if policy == "strict":
                raise UnknownIdError(
                    f"Unknown {axis} ID(s): {', '.join(map(repr, skipped[:5]))}. Use "
                    f"policy='safe' to get an empty result instead.",
                    ids=skipped,
                )
        candidates: IndexArray | None = None
        if axis == "item":
            candidates, cand_skipped = self._candidates(items, policy)
            skipped += cand_skipped
        factors = state.unit_item_factors if axis == "item" else state.unit_user_factors
        norms = state.item_norms if axis == "item" else state.user_norms
        pos = np.full((rows.size, n), -1, dtype=np.int64)
        vals = np.full((rows.size, n), np.nan, dtype=np.float32)
        known = np.flatnonzero(~unknown)
        if known.size:
            pos[known], vals[known] = self._similar(factors, norms, rows[known], n, candidates)
        return rows, pos, vals, skipped

    def similar_items(
        self,
        item_id: ExternalId,
        n: int = 10,
        *,
        items: IdLike | Iterable[ExternalId] | None = None,
        policy: Policy | None = None,
    ) -> Recommendations:
        """Items most similar to ``item_id`` by cosine of item factors, itself excluded.

        Under ``"safe"`` an unknown item gives an empty result that lists it in
        ``skipped``; under ``"strict"`` it raises :class:`~alsrec.UnknownIdError`.
        ``items`` restricts the answer to candidate items.

        Examples
        --------
        >>> import numpy as np
        >>> rec = Recommender.from_factors(
        ...     np.ones((1, 2)), [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]], ["u"], ["a", "b", "c"])
        >>> [item for item, _ in rec.similar_items("a", n=2)]
        ['b', 'c']
        >>> rec.similar_items("zzz").skipped
        ('zzz',)
        """
        n = _check_n(n)
        resolved = self._policy(policy)
        state = self._fitted()
        query = as_id_array([item_id], "item ID")
        _, pos, vals, skipped = self._similar_query("item", query, n, items, resolved)
        return self._to_result(item_id, state.items, pos[0], vals[0], "model", skipped)

    def similar_users(
        self, user_id: ExternalId, n: int = 10, *, policy: Policy | None = None
    ) -> Recommendations:
        """Users most similar to ``user_id`` by cosine of user factors, itself excluded.

        Unknown users behave as in :meth:`similar_items`.
        """
        n = _check_n(n)
        resolved = self._policy(policy)
        state = self._fitted()
        query = as_id_array([user_id], "user ID")
        _, pos, vals, skipped = self._similar_query("user", query, n, None, resolved)
        return self._to_result(user_id, state.users, pos[0], vals[0], "model", skipped)

    def similar_items_many(
        self,
        item_ids: IdLike | Iterable[ExternalId],
        n: int = 10,
        *,
        items: IdLike | Iterable[ExternalId] | None = None,
        policy: Policy | None = None,
    ) -> BatchRecommendations:
        """:meth:`similar_items` for many items; unknown ones get an empty (padded) row."""
        n = _check_n(n)
        resolved = self._policy(policy)
        state = self._fitted()
        queries = as_id_array(item_ids, "item IDs")
        _, pos, vals, skipped = self._similar_query("item", queries, n, items, resolved)
        sources = np.full(queries.size, "model", dtype="<U8")
        return self._to_batch(queries, state.items, pos, vals, sources, skipped)

    def similar_users_many(
        self,
        user_ids: IdLike | Iterable[ExternalId],
        n: int = 10,
        *,
        policy: Policy | None = None,
    ) -> BatchRecommendations:
        """:meth:`similar_users` for many users; unknown ones get an empty (padded) row."""
        n = _check_n(n)
        resolved = self._policy(policy)
        state = self._fitted()
        queries = as_id_array(user_ids, "user IDs")
        _, pos, vals, skipped = self._similar_query("user", queries, n, None, resolved)
        sources = np.full(queries.size, "model", dtype="<U8")
        return self._to_batch(queries, state.users, pos, vals, sources, skipped)

    # -- incremental updates ------------------------------------------------------------------

    def updated(
        self,
        user_ids: IdLike | Iterable[ExternalId],
        item_ids: IdLike | Iterable[ExternalId],
        weights: npt.ArrayLike | None = None,
    ) -> Recommender:
        """Return a new recommender with fresh interactions folded in; ``self`` is unchanged.

        The interactions are added to the training interactions (a pair seen before has
        its weights summed). New user and item IDs are appended to the mappings: old IDs
        keep their indices, so stored references stay valid. Then, in alsrec's own code:

        1. the factor rows of every user named in ``user_ids`` are solved exactly from
           that user's full interactions against the fixed item factors;
        2. if there are new items, their rows are solved exactly from their interactions
           against the (updated) user factors, and step 1 is repeated once so that the
           users see the new items' factors;
        3. the seen-items matrix and the popularity ranking are recomputed.

        This is an approximation of retraining: the factors of every other user and of
        every old item stay as they were, so what the fresh interactions say about old
        items (and, through them, about other users) is not learned. It is exact for the
        named users given the item factors, and cheap (a few small solves per named user
        or new item). Refit with :meth:`fit` when a sizable share of the interactions is
        new since the last fit (as a rule of thumb, more than a few percent), when many
        new items arrived (their factors rest on their first few users only), after many
        successive updates, or on a regular schedule: held-out metrics tell when the
        drift matters.

        Parameters
        ----------
        user_ids, item_ids : sequence of IDs
            One user and one item ID per fresh interaction; IDs may be new.
        weights : array_like, optional
            One weight (> 0) per interaction; ``None`` means 1.0 each.

        Returns
        -------
        Recommender
            A new fitted recommender with the same hyperparameters, backend name and
            policy. Factor rows without an ID (a ``"safe"`` model built from mismatched
            factors) are dropped from it.

        Raises
        ------
        DataError
            Empty or malformed interactions.
        IdTypeError
            IDs of a different type (int vs str) from the model's.
        ConfigError
            The model has no training interactions (``from_factors`` without ``seen``).

        Examples
        --------
        >>> rec = Recommender(factors=4, iterations=10, random_state=0).fit(
        ...     ["ann", "ann", "bob", "bob"], ["tea", "cup", "tea", "pot"])
        >>> new = rec.updated(["cid", "ann"], ["pot", "kettle"])
        >>> new.users_.ids.tolist(), new.items_.ids.tolist()
        (['ann', 'bob', 'cid'], ['tea', 'cup', 'pot', 'kettle'])
        >>> len(rec.users_), new.recommend("cid", n=1).source
        (2, 'model')
        """
        state = self._fitted()
        if state.seen is None:
            raise ConfigError(
                "updated() needs the training interactions, but this model has none (it was "
                "built without seen=). Pass seen= to Recommender.from_factors, or refit."
            )
        user_col = as_id_array(user_ids, "user IDs")
        item_col = as_id_array(item_ids, "item IDs")
        if user_col.size != item_col.size:
            raise DataError(
                f"user_ids has {user_col.size} entries but item_ids has {item_col.size}; "
                "they must have one entry per interaction."
            )
        if user_col.size == 0:
            raise DataError("No interactions given: user_ids and item_ids are empty.")
        w = as_weights(weights, user_col.size)
        old_users, old_items = len(state.users), len(state.items)
        users, row_of = _grow(state.users, user_col)
        items, col_of = _grow(state.items, item_col)
        n_users, n_items = len(users), len(items)
        added = sp.csr_matrix((w, (row_of, col_of)), shape=(n_users, n_items), dtype=np.float32)
        added.sum_duplicates()
        # New users are rows appended at the end: extend indptr instead of rebuilding.
        old_seen = state.seen
        indptr = np.concatenate(
            [old_seen.indptr, np.full(n_users - old_users, old_seen.indptr[-1])]
        )
        padded = sp.csr_matrix(
            (old_seen.data, old_seen.indices, indptr), shape=(n_users, n_items), copy=False
        )
        seen = sp.csr_matrix(padded + added, dtype=np.float32)
        seen.sort_indices()
        f = state.item_factors.shape[1]
        user_factors = np.zeros((n_users, f), dtype=np.float32)
        user_factors[:old_users] = state.user_factors[:old_users]
        item_factors = np.zeros((n_items, f), dtype=np.float32)
        item_factors[:old_items] = state.item_factors[:old_items]
        params = state.params
        touched = np.unique(row_of)
        touched_conf = history_confidence(seen[touched], params, seen)
        # Rows of new items are still zero, so they drop out of this solve and of YᵀY.
        item_solver = FoldInSolver(item_factors, params.regularization)
        if state.unmapped_item_rows == 0:
            item_solver.prime(state.foldin.gram)
        user_factors[touched] = item_solver.solve(touched_conf)
        new_items = np.arange(old_items, n_items, dtype=np.int64)
        if new_items.size:
            # A new item's interactions are all fresh: its column of ``added`` is complete.
            item_conf = history_confidence(added, params, seen).tocsc()[:, new_items].T.tocsr()
            user_solver = FoldInSolver(user_factors, params.regularization)
            item_factors[new_items] = user_solver.solve(item_conf)
            grown = item_factors[new_items].astype(np.float64)
            gram = item_solver.gram + grown.T @ grown
            item_solver = FoldInSolver(item_factors, params.regularization)
            item_solver.prime(gram)
            user_factors[touched] = item_solver.solve(touched_conf)
        new_state = _build_state(
            user_factors, item_factors, users, items, seen, state.backend, params, "strict"
        )
        new_state.foldin.prime(item_solver.gram)
        out = copy.copy(self)
        out._state = new_state
        return out

    # -- explanations: thin delegates to alsrec.explain (imported lazily) ----------------------

    def explain(
        self,
        user_id: ExternalId,
        item_id: ExternalId,
        *,
        history: IdLike | Iterable[ExternalId] | None = None,
        history_weights: npt.ArrayLike | None = None,
        n: int | None = None,
        policy: Policy | None = None,
    ) -> Explanation:
        """Split the score of ``item_id`` for ``user_id`` into contributions of history items.

        Implicit ALS scores are linear in the user's history (Hu, Koren and Volinsky, 2008,
        section 5): ``score = sum_j s_ij * c_uj`` over the history items ``j``, with
        confidence ``c_uj`` and the user-specific similarity ``s_ij = y_iᵀ W_u y_j``,
        ``W_u = (YᵀC_uY + λI)⁻¹``. The split is exact for a fold-in; for a stored user
        factor, :attr:`~alsrec.explain.Explanation.residual` holds what the exact split
        of the training history does not reproduce (see :mod:`alsrec.explain`).

        The cold-start chain is that of :meth:`recommend`: a known user without
        ``history`` is explained over their training items (``source="model"``); with
        ``history``, the folded-in score over training items plus history
        (``"fold-in"``); an unknown user without a usable history gets the fallback's
        explanation (``"fallback"``, no contributions) under ``"safe"`` and
        :class:`~alsrec.UnknownIdError` under ``"strict"``.

        Parameters
        ----------
        user_id : int or str
            The user.
        item_id : int or str
            The item whose score to explain; an unknown item raises
            :class:`~alsrec.UnknownIdError` (there is no score to explain).
        history, history_weights
            Fresh interactions, as in :meth:`recommend`.
        n : int, optional
            List only the ``n`` largest contributions; the others are summed in
            :attr:`~alsrec.explain.Explanation.rest`.
        policy : {"safe", "strict"}, optional
            Overrides the recommender's policy for this call.

        Returns
        -------
        Explanation
            Contributions largest first, in external IDs;
            ``contributions.sum() + rest + residual == score``.

        Examples
        --------
        >>> rec = Recommender(factors=4, regularization=0.1, iterations=10, random_state=0).fit(
        ...     ["ann", "ann", "bob", "bob", "cid", "cid"],
        ...     ["tea", "cup", "tea", "pot", "cup", "pot"])
        >>> why = rec.explain("ann", "pot")
        >>> why.source, len(why), sorted(why.items.tolist())
        ('model', 2, ['cup', 'tea'])
        >>> bool(abs(why.contributions.sum() + why.residual - why.score) < 1e-9)
        True
        """
        from alsrec.explain import explain_user

        return explain_user(
            self,
            user_id,
            item_id,
            history=history,
            history_weights=history_weights,
            n=n,
            policy=policy,
        )

    def explain_history(
        self,
        item_ids: IdLike | Iterable[ExternalId],
        item_id: ExternalId,
        weights: npt.ArrayLike | None = None,
        *,
        n: int | None = None,
        policy: Policy | None = None,
    ) -> Explanation:
        """:meth:`explain` for an anonymous history (the score of :meth:`recommend_for_history`).

        The split is exact (``residual == 0``). An empty or entirely unknown history gets
        the fallback's explanation under ``"safe"``; unknown history items follow the
        policy as in :meth:`recommend_for_history`.

        Examples
        --------
        >>> rec = Recommender(factors=4, regularization=0.1, iterations=10, random_state=0).fit(
        ...     ["ann", "ann", "bob", "bob", "cid", "cid"],
        ...     ["tea", "cup", "tea", "pot", "cup", "pot"])
        >>> why = rec.explain_history(["tea", "mug"], "pot")
        >>> why.source, why.items.tolist(), why.skipped
        ('fold-in', ['tea'], ('mug',))
        """
        from alsrec.explain import explain_history

        return explain_history(self, item_ids, item_id, weights, n=n, policy=policy)

    # -- reporting -------------------------------------------------------------------------------

    def mapping_check(self) -> dict[str, Any]:
        """Compare factor rows with mapped IDs on both sides.

        Returns a dict with ``user_rows``, ``user_ids``, ``item_rows``, ``item_ids`` and
        ``ok`` (``True`` when every factor row has exactly one ID).
        """
        state = self._fitted()
        return {
            "user_rows": int(state.user_factors.shape[0]),
            "user_ids": len(state.users),
            "item_rows": int(state.item_factors.shape[0]),
            "item_ids": len(state.items),
            "ok": not state.mismatched,
        }

    def summary(self) -> str:
        """A short human-readable description of the model and its mapping check."""
        p = self.params
        head = (
            f"ALS model: {p.factors} factors, regularization {p.regularization:g}, "
            f"alpha {p.alpha:g}, {p.iterations} iterations, policy {self.policy!r}"
        )
        if self._state is None:
            return head + "; not fitted"
        check = self.mapping_check()
        status = "OK" if check["ok"] else "MISMATCH"
        nnz = self._state.seen.nnz if self._state.seen is not None else "unknown"
        return (
            f"{head}; backend {self._state.backend!r}\n"
            f"  users: {check['user_rows']} factor rows, {check['user_ids']} mapped IDs\n"
            f"  items: {check['item_rows']} factor rows, {check['item_ids']} mapped IDs\n"
            f"  training interactions: {nnz}\n"
            f"  mapping check: {status}"
        )

    def __repr__(self) -> str:
        p = self.params
        backend = self.backend if isinstance(self.backend, str) else type(self.backend).__name__
        if self._state is not None:
            backend = self._state.backend
        fitted = (
            f", fitted on {len(self._state.users)} users x {len(self._state.items)} items"
            if self._state is not None
            else ""
        )
        return (
            f"Recommender(factors={p.factors}, regularization={p.regularization:g}, "
            f"alpha={p.alpha:g}, iterations={p.iterations}, backend={backend!r}, "
            f"policy={self.policy!r}{fitted})"
        )

    # -- artifacts: thin delegates to alsrec.artifacts (imported lazily: no import cycle) ------

    def save(self, path: PathArg, *, overwrite: bool = True) -> Path:
        """Save the fitted model as a safe, versioned artifact directory; return its path.

        A JSON manifest plus ``.npy`` arrays, no pickle; written atomically (a failed save
        leaves an existing artifact intact). See :func:`alsrec.artifacts.save`.
        """
        from alsrec.artifacts import save

        return save(self, path, overwrite=overwrite)

    @classmethod
    def load(
        cls, path: PathArg, *, mmap: bool = True, policy: Policy = "safe", verify: bool = True
    ) -> Recommender:
        """Load an artifact written by :meth:`save`, memory-mapping the factors.

        Checks the format version, shapes, ID uniqueness and (unless ``verify=False``) the
        SHA-256 of every file; any damage raises :class:`~alsrec.ArtifactError`. No
        training backend is needed. See :func:`alsrec.artifacts.load`.

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from pathlib import Path
        >>> rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = rec.save(Path(tmp) / "model")
        ...     print(Recommender.load(path).recommend("u2", n=1).ids.tolist())
        ['b']
        """
        from alsrec.artifacts import load

        return load(path, mmap=mmap, policy=policy, verify=verify)

    @classmethod
    def from_legacy_pickle(
        cls, path: PathArg, *, trusted: bool, policy: Policy = "safe"
    ) -> Recommender:
        """Import a legacy ``recommender_artifacts.pkl`` (implicit model + ID dicts).

        Unpickling runs code, so this refuses unless ``trusted=True``. Save the result with
        :meth:`save` and use the safe artifact from then on. See
        :func:`alsrec.artifacts.import_legacy_pickle`.
        """
        from alsrec.artifacts import import_legacy_pickle

        return import_legacy_pickle(path, trusted=trusted, policy=policy)

    def inspect(self) -> InspectionReport:
        """Report the model's health: factor rows vs IDs, unmapped ranges, NaN/zero rows.

        ``str()`` of the report is for people, ``to_dict()`` for machines. See
        :func:`alsrec.artifacts.inspect_model`.
        """
        from alsrec.artifacts import inspect_model

        return inspect_model(self)
