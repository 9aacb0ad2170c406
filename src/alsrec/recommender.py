"""The :class:`Recommender` facade: fit, then ask for recommendations and similar items."""

from __future__ import annotations

import copy
import dataclasses
import time
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import numpy as np
import numpy.typing as npt
from typing_extensions import Self

from alsrec import explain as explaining
from alsrec import io as artifacts
from alsrec._methods import keyword_hints, settings_classmethod
from alsrec._threads import worker_count
from alsrec.backends import Backend, ProgressCallback, get_backend, names
from alsrec.checks import (
    N_AFTER_ID,
    N_AFTER_IDS,
    OTHER_NAMES,
    check_bool,
    check_int,
    check_keywords,
    check_policy,
)
from alsrec.data.inputs import as_interactions
from alsrec.exceptions import ConfigError, NotFittedError
from alsrec.ids import as_id_array, check_one_id, one_id_array
from alsrec.interop.implicit import params_with_seen, read_implicit_model
from alsrec.logs import logger
from alsrec.mapping import IdMapper
from alsrec.model import controls, lookup, ranking, training, updates
from alsrec.model.fitted import FittedModel, as_factors, build_model, mapping_check, new_mapper
from alsrec.model.loss import loss_monitor
from alsrec.params import ALSParams
from alsrec.results import (
    BatchRecommendations,
    ItemScores,
    Recommendations,
    batch_at,
    recommendations_at,
)

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterable, Mapping
    from pathlib import Path

    import scipy.sparse as sp
    from pyspark.sql import DataFrame, SparkSession

    from alsrec.data.rows import BadRows
    from alsrec.explain import Explanation
    from alsrec.io import InspectionReport, PathArg
    from alsrec.model.lookup import History
    from alsrec.progress import ProgressOption
    from alsrec.types import (
        ExternalId,
        FactorMatrix,
        IdLike,
        Policy,
        Source,
    )
    from alsrec.weighting import Weighting

__all__ = ["Recommender"]


_Key = TypeVar("_Key", int, str)
"""The user-ID type of a ``histories`` mapping."""

PARAM_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(ALSParams))
"""Every hyperparameter, in :class:`~alsrec.ALSParams` order; each is a keyword of
:class:`Recommender`."""

_DEFAULTS = ALSParams()


def _owned(arr: FactorMatrix, source: object) -> FactorMatrix:
    """``arr`` itself if it is private or read-only, else a copy of it."""
    if isinstance(source, np.ndarray) and arr.flags.writeable and np.shares_memory(arr, source):
        return cast("FactorMatrix", arr.copy())
    return arr


def _merge_params(params: ALSParams | None, given: dict[str, Any]) -> ALSParams:
    """``params`` (or the defaults) with the keywords that differ from their defaults;
    a keyword that contradicts ``params`` is a :class:`ConfigError`."""
    if params is None:
        return ALSParams(**given)
    if not isinstance(params, ALSParams):
        raise ConfigError(f"params must be an ALSParams, got {type(params).__name__}.")
    clash = [
        name
        for name, value in given.items()
        if value != getattr(_DEFAULTS, name) and value != getattr(params, name)
    ]
    if clash:
        raise ConfigError(
            f"Recommender got params= and the keyword(s) {clash} with other values; pass "
            "each hyperparameter once (e.g. params=dataclasses.replace(params, ...))."
        )
    return params


_SHOWN = frozenset({"factors", "regularization", "alpha", "iterations", "regularization_exponent"})


def _other_settings(p: ALSParams) -> str:
    """``, name=value`` for every hyperparameter that differs from the default and that
    the repr and summary do not show on their own (weighting, solver, ...)."""
    default = ALSParams()
    return "".join(
        f", {f.name}={getattr(p, f.name)!r}"
        for f in dataclasses.fields(p)
        if f.name not in _SHOWN and getattr(p, f.name) != getattr(default, f.name)
    )


def _checked_backend(backend: str | Backend) -> str | Backend:
    """``backend`` if it names or is a usable backend (a name stays a name, so that the
    engine is imported on first use); a :class:`ConfigError` listing the names otherwise."""
    if isinstance(backend, str) and backend not in names():
        get_backend(backend)  # raises ConfigError listing the valid names
    elif not isinstance(backend, str):
        backend = get_backend(backend)
    return backend


@keyword_hints
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
        Confidence of an observed pair with weight ``w`` is ``1 + alpha * w``. Every
        field of :class:`~alsrec.ALSParams` is a keyword here. By default
        ``alpha="auto"`` and ``regularization="auto"`` (derived from the data at
        :meth:`fit`; the concrete values are in :attr:`params_`) and ``random_state=0``
        (two default fits of the same data give the same model; pass
        ``random_state=None`` for a random seed).
    weighting, weighting_eps, bm25_k1, bm25_b
        How weights become confidence ``1 + alpha * f(w)``; see :mod:`alsrec.weighting`.
    regularization_exponent, regularization_scale, regularization_reference
        Frequency-scaled regularization (default: off, the constant ``regularization``):
        each row is penalized with ``regularization * (s_u / s_ref) ** exponent``; see
        :class:`~alsrec.ALSParams` and the "Frequency-scaled regularization" guide.
    params : ALSParams, optional
        All hyperparameters at once, instead of the keywords. A keyword that differs from
        both its default and ``params`` raises :class:`~alsrec.ConfigError`.
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
        The validated hyperparameters as given (``alpha`` and ``regularization`` may be
        ``"auto"``; scikit-learn style, a refit resolves them again from the new data).
    params_ : ALSParams
        The concrete hyperparameters of the fitted model (``"auto"`` resolved).
    model_ : FittedModel
        The frozen fitted model every query runs on (see :mod:`alsrec.model`).
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
    >>> from alsrec import ALSParams
    >>> Recommender(params=ALSParams(factors=8, bm25_k1=2.0)).params.bm25_k1
    2.0
    """

    def __init__(
        self,
        factors: int = 64,
        regularization: float | Literal["auto"] = "auto",
        alpha: float | Literal["auto"] = "auto",
        iterations: int = 15,
        *,
        random_state: int | None = 0,
        backend: str | Backend = "numpy",
        policy: Policy = "safe",
        solver: Literal["auto", "cg", "cholesky"] = "auto",
        cg_steps: int = 3,
        num_threads: int = 0,
        weighting: Weighting = "linear",
        weighting_eps: float = 1.0,
        bm25_k1: float = 1.2,
        bm25_b: float = 0.75,
        regularization_exponent: float = 0.0,
        regularization_scale: Literal["confidence", "count"] = "confidence",
        regularization_reference: float | Literal["auto"] = "auto",
        params: ALSParams | None = None,
    ) -> None:
        arguments = locals()  # every ALSParams field is a parameter of this method
        given = {name: arguments[name] for name in PARAM_NAMES}
        self._params = _merge_params(params, given)
        self.backend: str | Backend = _checked_backend(backend)
        self.policy: Policy = check_policy(policy)
        self._model: FittedModel | None = None
        self._serve_threads: int | None = None  # a serving override of params.num_threads

    @classmethod
    def from_model(
        cls, model: FittedModel, *, policy: Policy = "safe", num_threads: int | None = None
    ) -> Recommender:
        """Serve a :class:`~alsrec.model.FittedModel` (e.g. one loaded with
        :func:`alsrec.io.load`); ``params`` and ``backend`` are taken from it.
        ``num_threads`` sets the serving threads of batch queries (see :meth:`load`).

        :attr:`params_` holds the model's concrete values; :attr:`params` says ``"auto"``
        again for those resolved from ``"auto"``, so a refit resolves them from its data.

        Examples
        --------
        >>> import numpy as np
        >>> rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
        >>> again = Recommender.from_model(rec.model_, policy="strict")
        >>> again.model_ is rec.model_, again.policy
        (True, 'strict')
        """
        if not isinstance(model, FittedModel):
            raise ConfigError(f"from_model needs a FittedModel, got {type(model).__name__}.")
        asked = model.params
        auto = [name for name in model.provenance.auto_params if name in PARAM_NAMES]
        if auto:
            asked = ALSParams.from_dict({**asked.to_dict(), **dict.fromkeys(auto, "auto")})
        rec = cls(params=asked, policy=policy)
        rec._model = model
        if num_threads is not None:
            rec._serve_threads = check_int("num_threads", num_threads, 0)
        return rec

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
            Hyperparameters to record (``factors`` is taken from the matrices). A
            ``regularization="auto"`` (the default) is resolved from ``seen``; without
            ``seen`` it stays ``"auto"`` and fold-in (``history=``,
            :meth:`recommend_for_history`, :meth:`explain`, :meth:`updated`) raises
            :class:`~alsrec.ConfigError`: pass the value the factors were trained with.
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
        policy = check_policy(policy)
        # Own the factors: a later change to the caller's array must not change this model.
        uf = _owned(as_factors("user_factors", user_factors), user_factors)
        itf = _owned(as_factors("item_factors", item_factors), item_factors)
        users = user_ids if isinstance(user_ids, IdMapper) else new_mapper(user_ids, "user")
        items = item_ids if isinstance(item_ids, IdMapper) else new_mapper(item_ids, "item")
        base = dataclasses.replace(params or ALSParams(), factors=max(1, uf.shape[1]))
        rec = cls(params=base, policy=policy)
        rec._model = build_model(  # owns a read-only copy of seen, as of the factors
            uf, itf, users, items, seen, backend=backend_name, params=base, policy=policy,
            own_seen=True,
        )  # fmt: skip
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
        alpha: float | None = None,
    ) -> Recommender:
        """Wrap an ALS model already trained with the ``implicit`` library (CPU or GPU).

        The factors are copied out as numpy ``float32`` (from the GPU with implicit's
        ``to_numpy()``); the recommender holds no implicit object. ``factors``,
        ``regularization`` and ``iterations`` are read from the model's attributes, and
        its ``alpha`` is translated to alsrec's (see ``alpha`` below). Everything else is as in
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
        alpha : float, optional
            alsrec's confidence slope for this model, recorded as ``params.alpha`` so
            that fold-in (``history=``, :meth:`recommend_for_history`, :meth:`updated`)
            and :meth:`explain` weigh interactions as training did. alsrec's confidence
            is ``1 + alpha * w``, implicit's ``implicit_alpha * w``. By default it is
            translated from the model's own ``alpha``: exactly when the weights of
            ``seen`` are all equal (``implicit_alpha - 1`` on binary data, so 0 for
            implicit's default), else ``implicit_alpha`` with an
            :class:`~alsrec.AlsrecWarning` that the two differ by 1 per pair
            (:func:`alsrec.interop.implicit.alpha_for`).

        Raises
        ------
        ConfigError
            ``model`` is not an implicit ALS model, or ``alpha`` is invalid.
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
        read = read_implicit_model(model)
        params = (
            params_with_seen(read, seen)
            if alpha is None
            else dataclasses.replace(read.params, alpha=alpha)
        )
        return cls.from_factors(
            read.user_factors,
            read.item_factors,
            user_ids,
            item_ids,
            seen=seen,
            params=params,
            policy=policy,
            backend_name=read.backend,
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
        distinct IDs, the factors and, with ``keep_seen``, the index triples. The result is
        an ordinary model (``backend_ == "spark"``) whose rows follow the sorted IDs.
        ``params`` mean what they mean for every backend: confidence ``1 + alpha * w``,
        and ``regularization`` is mapped to Spark's count-scaled ``regParam`` (see
        :func:`alsrec.spark.spark_reg_param`); the model reports that ALS-WR penalty as
        ``regularization_exponent=1`` with ``regularization_scale="count"`` (see
        :func:`alsrec.spark.spark_penalty`), and other exponents are refused. Called on an
        instance (``Recommender(factors=128).fit_spark(df, ...)``), it takes that
        instance's hyperparameters and policy unless ``params=``/``policy=`` are given.

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
            apply (Spark solves each row exactly), and ``weighting`` must be ``"linear"``
            (the weight column is sent as given: transform it on the cluster first, or use
            ``Recommender(backend=SparkBackend(spark))``, which weighs the data itself).
        policy : {"safe", "strict"}, default "safe"
            Default policy of the returned model.
        keep_seen : bool, default True
            Collect the ``(user, item, weight)`` index triples (12 bytes per distinct
            pair) so the model can exclude seen items and rank its popularity fallback;
            they are collected before training, and ``"auto"`` hyperparameters are
            resolved from them as :meth:`fit` resolves them. ``False`` saves that driver
            memory; then nothing is excluded, and ``"auto"`` is resolved from sums on the
            cluster without the spectrum of the pattern (a weaker default: see the
            "Default hyperparameters" guide).
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
        from alsrec.spark import fit_dataframe  # heavy and optional: pyspark

        model = fit_dataframe(
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
        return cls.from_model(model, policy=policy)

    def fit(
        self,
        data: object = None,
        /,
        item_ids: IdLike | Iterable[ExternalId] | None = None,
        weights: npt.ArrayLike | None = None,
        *,
        user_ids: IdLike | Iterable[ExternalId] | None = None,
        user: Hashable | None = None,
        item: Hashable | None = None,
        weight: Hashable | None = None,
        timestamp: Hashable | None = None,
        on_bad_rows: BadRows = "raise",
        callback: ProgressCallback | None = None,
        progress: ProgressOption = False,
    ) -> Self:
        """Train on interactions; a second call starts from scratch. Returns ``self``.

        ``regularization="auto"`` (the default) is resolved from these interactions before
        the backend trains; :attr:`params_` holds the value used, :attr:`params` keeps
        ``"auto"`` (see :func:`alsrec.model.defaults.auto_regularization`).

        Accepts what you hold (one dispatch, :func:`alsrec.data.inputs.as_interactions`):

        - ``fit(user_ids, item_ids, weights)``: one user ID, item ID (and weight) per
          interaction (also as keywords ``user_ids=``, ``item_ids=``), paired by
          position; pandas Series with different indexes are refused
          (:class:`~alsrec.DataError`), since pandas would pair them by label;
        - ``fit(interactions)``: an :class:`~alsrec.Interactions`;
        - ``fit(df, user="user_id", item="item_id", weight="plays")``: a pandas or polars
          DataFrame by column names; without ``user=``/``item=`` a column with a common name
          (``user_id``, ``user``, ``userId``, ...) is used when exactly one is present, and
          a column ``weight`` is the weight when present (else 1.0 per row, with an
          :class:`~alsrec.AlsrecWarning` naming any numeric column left unread, such as
          ``rating``);
        - ``fit(matrix)``: a scipy sparse users x items matrix of weights; the IDs are the
          row and column indices unless ``user_ids=``/``item_ids=`` are given.

        Parameters
        ----------
        data
            User IDs, an :class:`~alsrec.Interactions`, a DataFrame or a scipy sparse matrix.
        item_ids
            One item ID per interaction (or the matrix's column IDs).
        weights : array_like, optional
            Strength of each interaction (> 0, finite); ``None`` means 1.0 each.
            Duplicate ``(user, item)`` pairs are summed.
        user_ids
            The user IDs as a keyword (or the matrix's row IDs).
        user, item, weight, timestamp : column label, optional
            Column names of a DataFrame.
        on_bad_rows : {"raise", "skip"}, default "raise"
            A bad row (a missing or empty ID; a weight that is missing, not finite or not
            positive) raises a :class:`~alsrec.DataError` naming it, or with ``"skip"`` is
            dropped and counted (see :meth:`alsrec.Interactions.summary`). Not for an
            :class:`~alsrec.Interactions`, which was screened when it was built.
        callback : callable, optional
            Called after each sweep as ``callback(iteration, user_factors, item_factors)``.
            To record the training loss, pass :func:`alsrec.model.loss_monitor`.
        progress : bool or text stream, default False
            ``True``: a bar on stderr, one step per sweep with the training loss
            (:func:`alsrec.model.loss.als_loss`) and the elapsed time; a text stream:
            the same on that stream.

        Raises
        ------
        ConfigError
            Arguments that match none of the forms; the message lists them.
        DataError
            Empty input, length mismatch, NaN/inf/non-positive weights.
        IdTypeError
            IDs of one column not all int or all str.
        BackendError
            The backend failed (its exception is chained).

        Examples
        --------
        >>> import pandas as pd, scipy.sparse as sp, numpy as np
        >>> df = pd.DataFrame({"user_id": ["ann", "ann", "bob"], "item_id": ["x", "y", "x"],
        ...                    "plays": [3, 1, 2]})
        >>> rec = Recommender(factors=2, iterations=2, random_state=0)
        >>> rec.fit(df, weight="plays").items_.ids.tolist()
        ['x', 'y']
        >>> rec.fit(sp.csr_matrix(np.eye(3)), item_ids=["a", "b", "c"]).users_.ids.tolist()
        [0, 1, 2]
        """
        interactions = as_interactions(
            data,
            item_ids,
            weights,
            user_ids=user_ids,
            user=user,
            item=item,
            weight=weight,
            timestamp=timestamp,
            on_bad_rows=on_bad_rows,
        )
        if progress is not False and progress is not None:
            callback = loss_monitor(interactions, self.params, progress=progress, callback=callback)
        engine = get_backend(self.backend, self.params)
        p = self.params
        logger.info(
            "fit start: %d users x %d items, %d interactions, backend %r, factors %d, "
            "iterations %d, num_threads %d",
            *interactions.shape,
            interactions.nnz,
            engine.name,
            p.factors,
            p.iterations,
            p.num_threads,
        )
        threads = worker_count(p.num_threads)
        logger.debug("fit: resolved backend %r, %d worker threads", engine.name, threads)
        start = time.perf_counter()
        self._model = training.train(interactions, p, engine, callback)
        logger.info("fit end: %.3f s, backend %r", time.perf_counter() - start, engine.name)
        return self

    # -- hyperparameters (scikit-learn protocol) ------------------------------------------------

    @property
    def params(self) -> ALSParams:
        """The validated hyperparameters (read-only; change them with :meth:`set_params`)."""
        return self._params

    @params.setter
    def params(self, value: object) -> None:
        raise AttributeError(
            "Recommender.params is read-only (other threads may be serving this model); "
            "use rec.set_params(params=...) or set_params(name=value) before fit, or "
            "Recommender.load(path, num_threads=...) for serving settings."
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments by name (scikit-learn's estimator protocol).

        Every :class:`~alsrec.ALSParams` field, ``backend`` and ``policy``; ``params`` is
        reported as ``None`` because the fields carry it. ``type(rec)(**rec.get_params())``
        builds an equal, unfitted recommender, so ``sklearn.base.clone`` works without
        alsrec depending on scikit-learn. ``deep`` is accepted for the protocol; there are
        no nested estimators. scikit-learn's searches (``GridSearchCV``,
        ``cross_val_score``) are refused with a :class:`~alsrec.ConfigError`: they split
        rows of ``X``, not each user's items, and score with :meth:`score`, which here
        scores items for a user; use :func:`alsrec.tuning.search`.

        Examples
        --------
        >>> rec = Recommender(factors=8, alpha=2.0)
        >>> params = rec.get_params()
        >>> params["factors"], params["alpha"], params["policy"]
        (8, 2.0, 'safe')
        >>> type(rec)(**params).get_params() == params
        True
        """
        out: dict[str, Any] = {name: getattr(self._params, name) for name in PARAM_NAMES}
        out.update(backend=self.backend, policy=self.policy, params=None)
        return out

    def __sklearn_tags__(self) -> Any:
        """Called by scikit-learn's searches and checks, which do not apply (see
        :meth:`get_params`): a :class:`~alsrec.ConfigError` that says what to use."""
        raise ConfigError(
            "scikit-learn's model selection (GridSearchCV, cross_val_score) does not apply to "
            "a Recommender: it splits rows, not each user's items, and its score() is not a "
            "metric here. Use alsrec.tuning.search(interactions, {...}) to tune, and "
            "alsrec.evaluation.evaluate to score."
        )

    def set_params(self, **params: Any) -> Self:
        """Set constructor arguments by name; returns ``self`` (scikit-learn's protocol).

        ``params=`` (an :class:`~alsrec.ALSParams`) is applied first, then the single
        fields; the result is validated as at construction. Changing a hyperparameter
        or the backend of a *fitted* recommender discards its fitted model, as a refit
        would: it is unfitted until the next :meth:`fit` (queries raise
        :class:`~alsrec.NotFittedError`), so it never serves factors that disagree with
        its :attr:`params`. Other holders of the old :attr:`model_` keep it unchanged.
        Changing only ``policy`` or ``num_threads`` (the worker threads, which do not
        change what is trained) keeps the model.

        Raises
        ------
        ConfigError
            An unknown name (the valid ones are listed) or an invalid value.

        Examples
        --------
        >>> rec = Recommender(factors=4, iterations=3).fit(["a", "b"], ["x", "y"])
        >>> rec.set_params(policy="strict").is_fitted
        True
        >>> rec.set_params(num_threads=1).is_fitted, rec.num_threads
        (True, 1)
        >>> rec.set_params(factors=8).is_fitted, rec.params.factors
        (False, 8)
        """
        valid = (*PARAM_NAMES, "backend", "policy", "params")
        check_keywords("Recommender.set_params()", params, valid)
        base = params.get("params")
        if base is not None and not isinstance(base, ALSParams):
            raise ConfigError(f"params must be an ALSParams, got {type(base).__name__}.")
        fields = {name: params[name] for name in PARAM_NAMES if name in params}
        new_params = dataclasses.replace(base or self._params, **fields)
        backend = _checked_backend(params.get("backend", self.backend))
        policy = check_policy(params.get("policy", self.policy))
        same_model = dataclasses.replace(new_params, num_threads=self._params.num_threads)
        if same_model != self._params or backend != self.backend:
            self._model = None  # a refit starts over; the old model is not mutated
        if "num_threads" in fields:
            self._serve_threads = None  # the new value serves too
        self._params, self.backend, self.policy = new_params, backend, policy
        return self

    # -- fitted state ----------------------------------------------------------------------------

    @property
    def model_(self) -> FittedModel:
        """The frozen fitted model (:class:`~alsrec.model.FittedModel`).

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        """
        if self._model is None:
            raise NotFittedError(
                "This Recommender is not fitted yet; call fit(user_ids, item_ids, weights) "
                "first (or build one with Recommender.from_factors)."
            )
        return self._model

    @property
    def params_(self) -> ALSParams:
        """The hyperparameters the model was fitted with, ``"auto"`` resolved to numbers.

        :attr:`params` keeps what was asked for (e.g. ``regularization="auto"``);
        ``params_`` holds what was used (:func:`alsrec.model.defaults.auto_regularization`
        of the training data). A model built without training interactions
        (:meth:`from_factors` without ``seen``) may still hold ``"auto"`` here.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.

        Examples
        --------
        >>> rec = Recommender(factors=2, iterations=2).fit(["a", "a", "b"], ["x", "y", "y"])
        >>> rec.params.regularization, round(rec.params_.regularization, 3)
        ('auto', 2.921)
        """
        return self.model_.params

    @property
    def is_fitted(self) -> bool:
        """Whether the model has factors to answer queries."""
        return self._model is not None

    @property
    def user_factors_(self) -> FactorMatrix:
        """User factors, ``(n_user_rows, factors)``, ``float32``."""
        return self.model_.user_factors

    @property
    def item_factors_(self) -> FactorMatrix:
        """Item factors, ``(n_item_rows, factors)``, ``float32``."""
        return self.model_.item_factors

    @property
    def users_(self) -> IdMapper:
        """Mapping of user IDs to user factor rows."""
        return self.model_.users

    @property
    def items_(self) -> IdMapper:
        """Mapping of item IDs to item factor rows."""
        return self.model_.items

    @property
    def backend_(self) -> str:
        """Name of the backend that produced the factors."""
        return self.model_.backend

    @property
    def seen_(self) -> sp.csr_matrix | None:
        """Training weights (mapped users x mapped items), or ``None`` if unknown.

        A read-only view: the model's own matrix is not copied, and writing to it raises
        ``ValueError`` (``seen_.copy()`` gives a matrix to change)."""
        return self.model_.seen_view()

    @property
    def _threads(self) -> int:
        # The serving override (load(num_threads=...), with_num_threads) or the trained value.
        return self.params.num_threads if self._serve_threads is None else self._serve_threads

    @property
    def num_threads(self) -> int:
        """Threads of batch queries: the value given to :meth:`load` or
        :meth:`with_num_threads`, else ``params.num_threads`` (0 = all cores)."""
        return self._threads

    def with_num_threads(self, num_threads: int) -> Recommender:
        """A recommender over the same fitted model whose batch queries use ``num_threads``.

        ``self`` (which other threads may be serving) is not changed, and the model is
        shared, not copied. ``0`` means all cores.

        Examples
        --------
        >>> import numpy as np
        >>> rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
        >>> one = rec.with_num_threads(1)
        >>> one.num_threads, rec.num_threads, one.model_ is rec.model_
        (1, 0, True)
        """
        new = copy.copy(self)
        new._serve_threads = check_int("num_threads", num_threads, 0)
        return new

    def _policy(self, policy: Policy | None) -> Policy:
        return lookup.serving_policy(self.model_, self.policy, policy)

    # -- queries ---------------------------------------------------------------------------------

    def recommend(
        self,
        user_id: ExternalId,
        n: int = 10,
        *,
        exclude_seen: bool = True,
        items: IdLike | Iterable[ExternalId] | None = None,
        exclude: IdLike | Iterable[ExternalId] | None = None,
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
            How many items; exactly ``n`` whenever that many eligible items exist. Capped
            at the number of candidates before anything is allocated, so a huge ``n``
            costs no more than the catalogue.
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
            ``"fallback"``. It iterates as pairs, so implicit's ``ids, scores =
            model.recommend(...)`` does not apply: take ``result.ids`` and
            ``result.scores`` (arrays).

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
        check_one_id(user_id, "user_id", "recommend_many")
        resolved = self._policy(policy)
        model = self.model_
        items, excluded = controls.allowed(model, "item", items, exclude, resolved)
        n = check_int("n", n, hint=N_AFTER_ID)
        exclude_seen = check_bool("exclude_seen", exclude_seen)
        candidates, skipped = lookup.candidates(model, items, resolved)
        skipped += excluded
        row = lookup.rows_of(model.users, "user", [user_id], resolved)
        if history is None:
            if history_weights is not None:
                raise ConfigError("history_weights was given without history.")
            if row[0] >= 0 and model.user_norms[row[0]] > 0:  # the common case, kept lean
                pos1, vals1 = ranking.rank_users(
                    model, row, n, exclude_seen, candidates, self._threads
                )
                return recommendations_at(user_id, model.items, pos1[0], vals1[0], "model", skipped)
            hist: History = lookup.empty_history()
        else:
            hist, hist_skipped = lookup.resolve_history(
                model, history, history_weights, resolved, names=("history", "history_weights")
            )
            skipped = hist_skipped + skipped
        if row[0] < 0 and hist[0].size == 0:
            lookup.refuse_unknown_users(model, [user_id], resolved, single=True)
        pos, vals, sources = ranking.rank_mixed(
            model, row, [hist], n, exclude_seen, candidates, self._threads
        )
        source = cast("Source", str(sources[0]))
        return recommendations_at(user_id, model.items, pos[0], vals[0], source, skipped)

    def recommend_for_history(
        self,
        item_ids: IdLike | Iterable[ExternalId],
        weights: npt.ArrayLike | None = None,
        n: int = 10,
        *,
        exclude_history: bool = True,
        items: IdLike | Iterable[ExternalId] | None = None,
        exclude: IdLike | Iterable[ExternalId] | None = None,
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
        resolved = self._policy(policy)
        model = self.model_
        items, excluded = controls.allowed(model, "item", items, exclude, resolved)
        n = check_int("n", n)
        exclude_history = check_bool("exclude_history", exclude_history)
        candidates, cand_skipped = lookup.candidates(model, items, resolved)
        cand_skipped += excluded
        hist, skipped = lookup.resolve_history(model, item_ids, weights, resolved)
        rows = np.full(1, -1, dtype=np.int64)
        pos, vals, sources = ranking.rank_mixed(
            model, rows, [hist], n, exclude_history, candidates, self._threads
        )
        source = cast("Source", str(sources[0]))
        return recommendations_at(
            None, model.items, pos[0], vals[0], source, skipped + cand_skipped
        )

    def recommend_many(
        self,
        user_ids: IdLike | Iterable[ExternalId],
        n: int = 10,
        *,
        exclude_seen: bool = True,
        items: IdLike | Iterable[ExternalId] | None = None,
        exclude: IdLike | Iterable[ExternalId] | None = None,
        policy: Policy | None = None,
        histories: Mapping[_Key, IdLike | Iterable[ExternalId]] | None = None,
        history_weights: Mapping[_Key, npt.ArrayLike] | None = None,
        num_threads: int | None = None,
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
        num_threads : int, optional
            Threads for this call only (default :attr:`num_threads`; 0 = all cores).

        Returns
        -------
        BatchRecommendations
            ``ids``, ``scores`` and ``mask`` of shape ``(len(user_ids), k)`` and a
            ``sources`` entry per user, where ``k`` is ``n`` capped at the number of
            candidate items (``0`` when no candidate is known); padding is described
            there. ``skipped`` lists unknown candidates and unknown history items. It
            iterates as one :class:`Recommendations` per user: implicit's ``ids, scores =
            model.recommend(userids, ...)`` is ``batch.ids, batch.scores`` here.

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
        resolved = self._policy(policy)
        model = self.model_
        items, excluded = controls.allowed(model, "item", items, exclude, resolved)
        n = check_int("n", n, hint=N_AFTER_IDS)
        exclude_seen = check_bool("exclude_seen", exclude_seen)
        threads = self._threads if num_threads is None else check_int("num_threads", num_threads, 0)
        queries = as_id_array(user_ids, "user IDs")
        candidates, skipped = lookup.candidates(model, items, resolved)
        skipped += excluded
        rows = lookup.rows_of(model.users, "user", queries, resolved)
        hists: list[History] | None = None
        has_history = np.zeros(queries.size, dtype=bool)
        if histories is not None or history_weights is not None:
            hists, hist_skipped = lookup.resolve_histories(
                model, queries, histories, history_weights, resolved
            )
            skipped = hist_skipped + skipped
            has_history = np.fromiter((h[0].size > 0 for h in hists), bool, count=queries.size)
        unknown = (rows < 0) & ~has_history
        if unknown.any():
            bad = cast("list[ExternalId]", queries[unknown].tolist())
            lookup.refuse_unknown_users(model, bad, resolved, single=False)
        if hists is None and not unknown.any() and bool(np.all(model.user_norms[rows] > 0)):
            # Every query is a known user with stored factors: the common case, kept lean.
            pos, vals = ranking.rank_users(model, rows, n, exclude_seen, candidates, threads)
            sources = np.full(queries.size, "model", dtype="<U8")
        else:
            pos, vals, sources = ranking.rank_mixed(
                model, rows, hists, n, exclude_seen, candidates, threads
            )
        return batch_at(queries, model.items, pos, vals, sources, skipped)

    def similar_items(
        self,
        item_id: ExternalId,
        n: int = 10,
        *,
        items: IdLike | Iterable[ExternalId] | None = None,
        exclude: IdLike | Iterable[ExternalId] | None = None,
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
        resolved = self._policy(policy)
        model = self.model_
        items, excluded = controls.allowed(model, "item", items, exclude, resolved)
        n = check_int("n", n)
        query = one_id_array(item_id, "item_id", "similar_items_many")
        _, pos, vals, skipped = ranking.similar_query(
            model, "item", query, n, items, resolved, self._threads
        )
        return recommendations_at(
            item_id, model.items, pos[0], vals[0], "model", skipped + excluded
        )

    def similar_users(
        self,
        user_id: ExternalId,
        n: int = 10,
        *,
        policy: Policy | None = None,
        users: IdLike | Iterable[ExternalId] | None = None,
        exclude: IdLike | Iterable[ExternalId] | None = None,
    ) -> Recommendations:
        """Users most similar to ``user_id`` by cosine of user factors, itself excluded.

        Unknown users behave as in :meth:`similar_items`. ``users`` restricts the answer
        to candidate users and ``exclude`` leaves users out, like ``items=`` and
        ``exclude=`` of :meth:`similar_items` (unknown ones follow the policy).

        Examples
        --------
        >>> import numpy as np
        >>> rec = Recommender.from_factors(
        ...     [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]], np.eye(2), ["u", "v", "w"], ["a", "b"])
        >>> rec.similar_users("u", n=2, users=["w", "u"]).ids.tolist()
        ['w']
        >>> rec.similar_users("u", n=2, exclude=["v"]).ids.tolist()
        ['w']
        """
        if users is not None or exclude is not None:
            resolved = self._policy(policy)
            cands, excluded = controls.allowed(self.model_, "user", users, exclude, resolved)
            query = one_id_array(user_id, "user_id", "similar_users_many")
            pos, vals, skipped = controls.similar_among(
                self.model_, "user", query, check_int("n", n), cands, resolved, self._threads
            )
            return recommendations_at(
                user_id, self.model_.users, pos[0], vals[0], "model", skipped + excluded
            )
        n = check_int("n", n)
        resolved = self._policy(policy)
        model = self.model_
        query = one_id_array(user_id, "user_id", "similar_users_many")
        _, pos, vals, skipped = ranking.similar_query(
            model, "user", query, n, None, resolved, self._threads
        )
        return recommendations_at(user_id, model.users, pos[0], vals[0], "model", skipped)

    def similar_items_many(
        self,
        item_ids: IdLike | Iterable[ExternalId],
        n: int = 10,
        *,
        items: IdLike | Iterable[ExternalId] | None = None,
        exclude: IdLike | Iterable[ExternalId] | None = None,
        policy: Policy | None = None,
    ) -> BatchRecommendations:
        """:meth:`similar_items` for many items; unknown ones get an empty (padded) row."""
        resolved = self._policy(policy)
        model = self.model_
        items, excluded = controls.allowed(model, "item", items, exclude, resolved)
        n = check_int("n", n)
        queries = as_id_array(item_ids, "item IDs")
        _, pos, vals, skipped = ranking.similar_query(
            model, "item", queries, n, items, resolved, self._threads
        )
        sources = np.full(queries.size, "model", dtype="<U8")
        return batch_at(queries, model.items, pos, vals, sources, skipped + excluded)

    def similar_users_many(
        self,
        user_ids: IdLike | Iterable[ExternalId],
        n: int = 10,
        *,
        policy: Policy | None = None,
        users: IdLike | Iterable[ExternalId] | None = None,
        exclude: IdLike | Iterable[ExternalId] | None = None,
    ) -> BatchRecommendations:
        """:meth:`similar_users` for many users; unknown ones get an empty (padded) row."""
        if users is not None or exclude is not None:
            resolved = self._policy(policy)
            cands, excluded = controls.allowed(self.model_, "user", users, exclude, resolved)
            queries = as_id_array(user_ids, "user IDs")
            pos, vals, skipped = controls.similar_among(
                self.model_,
                "user",
                queries,
                check_int("n", n),
                cands,
                resolved,
                self._threads,
            )
            sources = np.full(queries.size, "model", dtype="<U8")
            return batch_at(queries, self.model_.users, pos, vals, sources, skipped + excluded)
        n = check_int("n", n)
        resolved = self._policy(policy)
        model = self.model_
        queries = as_id_array(user_ids, "user IDs")
        _, pos, vals, skipped = ranking.similar_query(
            model, "user", queries, n, None, resolved, self._threads
        )
        sources = np.full(queries.size, "model", dtype="<U8")
        return batch_at(queries, model.users, pos, vals, sources, skipped)

    def score(
        self,
        user_id: ExternalId,
        items: IdLike | Iterable[ExternalId],
        *,
        ranked: bool = False,
        policy: Policy | None = None,
    ) -> ItemScores:
        """The scores of the given ``items`` for ``user_id`` (implicit's ``rank_items``).

        For re-ranking pipelines: every known item is scored, seen or not, in the given
        order (``ranked=True``: best first), with :attr:`~alsrec.results.ItemScores.seen`
        marking the user's training items. Unknown items are skipped and listed in
        ``skipped`` under ``"safe"``; an unknown user, and a known one whose factor row
        is all zero (no signal, as in :meth:`recommend`), gets the popularity counts
        (``source="fallback"``). Under ``"strict"`` an unknown user or item raises
        :class:`~alsrec.UnknownIdError`.

        Examples
        --------
        >>> import numpy as np, scipy.sparse as sp
        >>> rec = Recommender.from_factors(
        ...     np.eye(2), [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]], ["u1", "u2"], ["a", "b", "c"],
        ...     seen=sp.csr_matrix(np.array([[1.0, 0, 0], [0, 0, 1.0]])))
        >>> s = rec.score("u1", ["c", "a", "zz", "b"])
        >>> s.ids.tolist(), s.scores.tolist(), s.seen.tolist(), s.skipped
        (['c', 'a', 'b'], [0.0, 1.0, 0.5], [False, True, False], ('zz',))
        >>> rec.score("u1", ["c", "a", "b"], ranked=True).ids.tolist()
        ['a', 'b', 'c']
        """
        resolved = self._policy(policy)
        return controls.score_items(self.model_, user_id, items, resolved, ranked=ranked)

    # -- incremental updates ------------------------------------------------------------------

    def updated(
        self,
        user_ids: IdLike | Iterable[ExternalId],
        item_ids: IdLike | Iterable[ExternalId],
        weights: npt.ArrayLike | None = None,
        *,
        replace: bool = False,
    ) -> Recommender:
        """Return a new recommender with fresh interactions folded in; ``self`` is unchanged.

        With ``replace=True`` the interactions *replace* the training interactions of
        every user named in ``user_ids`` (implicit's ``partial_fit_users``), e.g. after
        a user deleted history: those users' factor rows are solved from the given
        interactions alone, and their old items no longer count as seen.

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
        replace : bool, default False
            Replace the named users' interactions instead of adding to them.

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
        new = copy.copy(self)
        new._model = updates.updated(self.model_, user_ids, item_ids, weights, replace=replace)
        return new

    # -- explanations: thin delegates to alsrec.explain ----------------------------------------

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
        return explaining.explain_user(
            self.model_,
            user_id,
            item_id,
            history=history,
            history_weights=history_weights,
            n=n,
            policy=self._policy(policy),
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
        return explaining.explain_history(
            self.model_, item_ids, item_id, weights, n=n, policy=self._policy(policy)
        )

    # -- reporting -------------------------------------------------------------------------------

    def mapping_check(self) -> dict[str, Any]:
        """Compare factor rows with mapped IDs on both sides.

        Returns a dict with ``user_rows``, ``user_ids``, ``item_rows``, ``item_ids`` and
        ``ok`` (``True`` when every factor row has exactly one ID).
        """
        return mapping_check(self.model_)

    def _param_text(self, name: str, quote: bool = False) -> str:
        """``auto``, a number, or ``12.3 (auto)`` for a value resolved from ``"auto"``."""
        value: float | str = getattr(self.params if self._model is None else self.params_, name)
        if isinstance(value, str):
            return repr(value) if quote else value
        auto = self._model is not None and name in self._model.provenance.auto_params
        return f"{value:g}" + (" (auto)" * auto)

    def summary(self) -> str:
        """A short human-readable description of the model and its mapping check."""
        p = self.params if self._model is None else self._model.params
        nu = f" with exponent {p.regularization_exponent:g} ({p.regularization_scale} scale)"
        head = (
            f"ALS model: {p.factors} factors, regularization {self._param_text('regularization')}"
            f"{nu * p.scaled_regularization}, alpha {self._param_text('alpha')}, "
            f"{p.iterations} iterations, "
            f"policy {self.policy!r}{_other_settings(p)}"
        )
        if self._model is None:
            return head + "; not fitted"
        check = self.mapping_check()
        status = "OK" if check["ok"] else "MISMATCH"
        nnz = self._model.seen.nnz if self._model.seen is not None else "unknown"
        return (
            f"{head}; backend {self._model.backend!r}\n"
            f"  users: {check['user_rows']} factor rows, {check['user_ids']} mapped IDs\n"
            f"  items: {check['item_rows']} factor rows, {check['item_ids']} mapped IDs\n"
            f"  training interactions: {nnz}\n"
            f"  mapping check: {status}"
        )

    if not TYPE_CHECKING:  # invisible to type checkers, which would accept any name

        def __getattr__(self, name: str) -> Any:
            hint = OTHER_NAMES.get(name)
            if hint is None:  # the original error again (a property's NotFittedError too)
                return object.__getattribute__(self, name)
            raise AttributeError(
                f"'Recommender' object has no attribute {name!r}; {hint}", name=name, obj=self
            )

    def __repr__(self) -> str:
        p = self.params if self._model is None else self._model.params
        backend = self.backend if isinstance(self.backend, str) else type(self.backend).__name__
        if self._model is not None:
            backend = self._model.backend
        fitted = (
            f", fitted on {len(self._model.users)} users x {len(self._model.items)} items"
            if self._model is not None
            else ""
        )
        reg = self._param_text("regularization", quote=True)
        if p.scaled_regularization:
            reg += f", regularization_exponent={p.regularization_exponent:g}"
        return (
            f"Recommender(factors={p.factors}, regularization={reg}, "
            f"alpha={self._param_text('alpha', quote=True)}, iterations={p.iterations}"
            f"{_other_settings(p)}, backend={backend!r}, policy={self.policy!r}{fitted})"
        )

    # -- artifacts: thin delegates to alsrec.io -------------------------------------------------

    def save(
        self, path: PathArg, *, overwrite: bool = True, metadata: dict[str, Any] | None = None
    ) -> Path:
        """Save the fitted model as a safe, versioned artifact directory; return its path.

        A JSON manifest plus ``.npy`` arrays, no pickle; written atomically (a failed save
        leaves an existing artifact intact). ``metadata`` (JSON-serialisable, else
        :class:`~alsrec.ConfigError`) is stored next to the training data's provenance,
        which is recorded automatically; :meth:`inspect` and ``alsrec inspect`` show both.
        See :func:`alsrec.io.save`.
        """
        return artifacts.save(self.model_, path, overwrite=overwrite, metadata=metadata)

    @classmethod
    def load(
        cls,
        path: PathArg,
        *,
        mmap: bool = True,
        policy: Policy = "safe",
        verify: bool = True,
        num_threads: int | None = None,
    ) -> Recommender:
        """Load an artifact written by :meth:`save`, memory-mapping the factors.

        ``num_threads`` sets the threads of batch queries for serving (default: the
        trained ``params.num_threads``; ``1`` in a server that scales with request threads,
        see the serving guide); the model's recorded params are not changed.

        Checks the format version, shapes, ID uniqueness and (unless ``verify=False``) the
        SHA-256 of every file; any damage raises :class:`~alsrec.ArtifactError`. No
        training backend is needed. See :func:`alsrec.io.load`. A memory-mapped model reads
        its files as long as it lives: never modify them in place (deploy a new model to a
        new directory, or save over the path); ``mmap=False`` reads them into memory.

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
        policy = check_policy(policy)
        model = artifacts.load(path, mmap=mmap, policy=policy, verify=verify)
        return cls.from_model(model, policy=policy, num_threads=num_threads)

    @classmethod
    def from_legacy_pickle(
        cls, path: PathArg, *, trusted: bool, policy: Policy = "safe"
    ) -> Recommender:
        """Import a legacy ``recommender_artifacts.pkl`` (implicit model + ID dicts).

        Unpickling runs code, so this refuses unless ``trusted=True``. Save the result with
        :meth:`save` and use the safe artifact from then on. See
        :func:`alsrec.io.import_legacy_pickle`.
        """
        policy = check_policy(policy)
        model = artifacts.import_legacy_pickle(path, trusted=trusted, policy=policy)
        return cls.from_model(model, policy=policy)

    def inspect(self) -> InspectionReport:
        """Report the model's health: factor rows vs IDs, unmapped ranges, NaN/zero rows.

        ``str()`` of the report is for people, ``to_dict()`` for machines. See
        :func:`alsrec.io.inspect_model`.
        """
        return artifacts.inspect_model(self.model_)


# Recommender(factors=...).fit_spark(...) trains with the instance's settings.
Recommender.fit_spark = settings_classmethod(Recommender.__dict__["fit_spark"])  # type: ignore[assignment,method-assign]
