"""Validated, frozen ALS hyperparameters."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass
from typing import Any, Literal

from alsrec.checks import check_int
from alsrec.exceptions import ConfigError
from alsrec.weighting import SCHEME_OPTIONS, Weighting

__all__ = ["AUTO", "ALSParams"]

Solver = Literal["auto", "cg", "cholesky"]
RegularizationScale = Literal["confidence", "count"]

AUTO: Literal["auto"] = "auto"
"""The value of a hyperparameter that :meth:`~alsrec.Recommender.fit` derives from the data."""


def _check_float(name: str, value: object, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a real number, got {value!r} ({type(value).__name__}).")
    out = float(value)
    if not math.isfinite(out):
        raise ConfigError(f"{name} must be finite, got {value!r}.")
    if out < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value!r}.")
    return out


def _concrete(name: str, value: float | str, example: str) -> float:
    """``value``, or the :class:`~alsrec.ConfigError` of a hyperparameter still ``"auto"``."""
    if isinstance(value, str):
        raise ConfigError(
            f"{name} is 'auto', which only fit() resolves (from the training interactions); "
            f"pass a number, e.g. ALSParams({name}={example}), or resolve it with "
            "alsrec.model.defaults.resolve_params(params, interactions)."
        )
    return value


@dataclass(frozen=True)
class ALSParams:
    """Hyperparameters of implicit-feedback ALS (Hu, Koren and Volinsky, 2008).

    Every backend gives them the same meaning.

    Parameters
    ----------
    factors : int, default 64
        Length of each user and item factor vector (>= 1).
    regularization : float or "auto", default "auto"
        L2 penalty ``lambda`` added to every least-squares solve (>= 0), or ``"auto"`` to
        derive it from the training data at :meth:`~alsrec.Recommender.fit`. A number
        is a constant: it is *not* scaled by a row's number of interactions (implicit
        and the numpy backend agree; Spark's ALS-WR does scale it). ``"auto"`` is
        resolved once, before any backend trains, by
        :func:`alsrec.model.defaults.auto_regularization`: with the confidences
        ``c = 1 + alpha * f(w)`` of the observed pairs, their row sums ``d_u``, column
        sums ``d_i`` and total ``D``, the noise scale ``sqrt(sum d_u**2 / D) +
        sqrt(sum d_i**2 / D)`` (the order of the largest singular values that noise
        with those masses has; ALS shrinks every component by about ``lambda``), times
        a multiple of ``rho = s_70 / s_1`` of the binary pattern (seeded randomized SVD:
        how flat the spectrum is; :func:`alsrec.model.defaults.spectral_scale`):
        ``7.17 * rho**1.08`` on 0.08-0.225, the range it was fitted on (a smaller
        ``rho`` counts as 0.08), 0.8 at ``rho = 0.3``, 0.25 from 0.4 on, and log-linear
        blends in between; 0.8 below 160 users or items and on Spark; 1.4 instead when
        item popularity is flat (a Gini coefficient of the items' ``d_i`` of 0.25 or
        less, blended back by 0.3: :func:`alsrec.model.defaults.popularity_scale`);
        times ``(level / 2)**0.2`` with ``level = E[c]**3 / E[c**2]`` over the observed
        pairs (:func:`alsrec.model.defaults.level_factor`: more for binary data at a
        large ``alpha``, less for heavy-tailed counts). Where the spectrum is flat
        (``rho`` of 0.3 or more) but ``s_70`` is at chance level (a few planted
        components over the noise floor, :func:`alsrec.model.statistics.spectral_excess`;
        not read under moderately heavy counts, a ``level`` below 2), the value moves
        instead to half of ``s_2`` of the pattern times the mean confidence, the scale at
        which ALS shrinks those components away
        (:func:`alsrec.model.statistics.component_scale`,
        :func:`alsrec.model.defaults.flat_spectrum_scale`); with heavy-tailed weights
        (:func:`alsrec.model.statistics.weight_uniformity` below 0.25) to 0.2 of it, where
        ``alpha="auto"`` moves toward 100. The confidences are those of the resolved
        ``alpha``. With ``alpha="auto"`` too, ``Recommender()`` reached 95% of the best
        NDCG@10 of a 70-point grid on 107 of 113 datasets (lowest 90.3%, weak binary
        clusters; see the "Default hyperparameters" guide). The fitted
        model holds the concrete value (:attr:`alsrec.Recommender.params_`, the artifact
        manifest, ``inspect``); a refit on other data resolves it again. Pass
        ``regularization=0.01`` for the former default.
    alpha : float or "auto", default "auto"
        Confidence slope (>= 0): an observed pair with weight ``w`` gets confidence
        ``c = 1 + alpha * f(w)`` and preference 1; unobserved pairs get ``c = 1`` and
        preference 0. ``"auto"`` derives it from the training data at
        :meth:`~alsrec.Recommender.fit` (:func:`alsrec.model.defaults.auto_alpha`):
        ``0.03 / (density * mean f(w))`` kept within [1, 100], so that the observed
        pairs' extra confidence is about 3% of the whole matrix's (MovieLens-style data
        with 3% or more of the pairs observed keeps 1; sparse data, where unobserved
        pairs would drown the observed ones, gets more); on heavy-tailed weights over a
        flat spectrum it moves toward 100 (see ``regularization``). Weights whose mean
        ``f(w)`` is outside [0.5, 10] are read at the nearer end of that range and the
        slope scaled back, so a change of unit (seconds to milliseconds) does not change
        the model.
        ``regularization="auto"`` follows the resolved value. Pass ``alpha=1.0`` for the
        former default.
    iterations : int, default 15
        Number of alternating sweeps (users, then items). ``0`` keeps the random
        initialization, which is only useful in tests.
    random_state : int or None, default 0
        Seed of the factor initialization. With an int seed (the default), a backend
        that promises determinism (numpy, implicit on CPU) gives identical factors on
        every run, so two default fits of the same data give the same model. Pass
        ``None`` for a fresh random initialization on every fit (or any other int
        for another reproducible one).
    solver : {"auto", "cg", "cholesky"}, default "auto"
        ``"cg"``: a few conjugate-gradient steps per row and sweep, warm-started
        from the previous sweep (fast, the usual choice). ``"cholesky"``: an exact
        solve per row (slower, used as a reference). ``"auto"``: the numpy backend's
        fastest choice for the number of factors and the data: from 128 factors,
        rows with few interactions (up to ``4 + sqrt(16 + factors)``) are
        solved exactly through their small dual system and the longer rows by CG
        preconditioned by ``YᵀY + λI`` (no ``f x f`` product per step); from 64
        factors the same for each side (users, items) whose rows are mostly long
        enough that it needs no extra memory beyond one copy of the other side's
        factors, at most the size of the side's interactions (MovieLens-style data);
        ``"cg"`` otherwise. See the "Benchmarks" page for the measured crossovers.
        Other backends treat ``"auto"`` as ``"cg"``.
    cg_steps : int, default 3
        Conjugate-gradient steps per row and sweep (>= 1), used when ``solver`` is
        ``"cg"`` or ``"auto"`` (3: implicit's default). The preconditioned CG of
        ``"auto"`` (where it uses the dual system) takes one step fewer (at least one):
        its steps are worth more, and two of them match three plain ones in NDCG@10.
    num_threads : int, default 0
        Threads for training and for batch queries (``recommend_many``,
        ``similar_*_many``); ``0`` means all cores. Next to single-threaded BLAS
        (``OPENBLAS_NUM_THREADS=1``) alsrec runs this many worker threads of its own;
        with threaded BLAS it runs one and lets BLAS's threads do the work. alsrec never
        changes the process's BLAS setting (the implicit backend limits BLAS to one
        thread only while implicit trains).
    weighting : {"linear", "log", "bm25", "tfidf"}, default "linear"
        How a raw weight ``w`` becomes confidence ``1 + alpha * f(w)``; see
        :mod:`alsrec.weighting` for each scheme and when to use it. ``"linear"`` is
        ``f(w) = w``.
    weighting_eps : float, default 1.0
        Scale of the ``"log"`` scheme, ``f(w) = log(1 + w / eps)`` (> 0).
    bm25_k1 : float, default 1.2
        Saturation of the ``"bm25"`` scheme (>= 0; larger = closer to linear counts).
    bm25_b : float, default 0.75
        Length normalization of the ``"bm25"`` scheme, in [0, 1] (0 = none).
    regularization_exponent : float, default 0.0
        Frequency-scaled regularization ``nu`` (>= 0; Rendle, Krichene, Zhang and Koren,
        2022): row ``u`` (a user, or an item on the other side) is penalized with
        ``lambda_u = regularization * (s_u / s_ref) ** nu``, where ``s_u`` is the row's
        scale (``regularization_scale``) and ``s_ref`` the reference scale
        (``regularization_reference``). ``0`` (the default) is the constant ``lambda``
        of every earlier release, bit for bit. ``1`` with the ``"confidence"`` scale is
        the paper's ``lambda (|I_u| + alpha0 |I|)`` for ``alpha = 1 / alpha0``; ``1``
        with ``"count"`` is ALS-WR, what Spark trains. Only the numpy backend trains
        values other than 0 (Spark trains 1 with ``"count"``); see the
        "Frequency-scaled regularization" guide for the exact correspondence.
    regularization_scale : {"confidence", "count"}, default "confidence"
        The scale ``s_u`` of a row: ``"confidence"`` is the row's total confidence
        ``sum_i c_ui`` over *every* column (unobserved pairs count 1, so ``s_u =
        columns + sum over observed (c_ui - 1)``), the paper's ``|I_u| + alpha0 |I|``
        up to a constant factor; ``"count"`` is the row's number of observed pairs (ALS-WR,
        Spark). Unused while ``regularization_exponent`` is 0.
    regularization_reference : float or "auto", default "auto"
        The scale ``s_ref`` at which a row gets exactly ``regularization`` (> 0), or
        ``"auto"``: the mean ``s_u`` over the users and items that have interactions,
        computed from the training data at :meth:`~alsrec.Recommender.fit` and stored in
        the model (fold-in of a new history uses the same value). Normalizing by it keeps
        the best ``regularization`` in the same range for every exponent; pass ``1.0``
        for the paper's unnormalized ``lambda * s_u ** nu``. Only resolved (and only
        used) while ``regularization_exponent`` is > 0.

    Examples
    --------
    >>> from alsrec import ALSParams
    >>> ALSParams(factors=32, regularization=0.1).factors
    32
    >>> ALSParams().regularization, ALSParams().alpha, ALSParams().random_state
    ('auto', 'auto', 0)
    >>> ALSParams(factors=0)
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: factors must be >= 1, got 0.
    >>> ALSParams(weighting="bm25", bm25_k1=100.0).weighting_options()
    {'k1': 100.0, 'b': 0.75}
    """

    factors: int = 64
    regularization: float | Literal["auto"] = AUTO
    alpha: float | Literal["auto"] = AUTO
    iterations: int = 15
    random_state: int | None = 0
    solver: Solver = "auto"
    cg_steps: int = 3
    num_threads: int = 0
    weighting: Weighting = "linear"
    weighting_eps: float = 1.0
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    regularization_exponent: float = 0.0
    regularization_scale: RegularizationScale = "confidence"
    regularization_reference: float | Literal["auto"] = AUTO

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "factors", check_int("factors", self.factors, 1))
        set_(self, "iterations", check_int("iterations", self.iterations, 0))
        set_(self, "cg_steps", check_int("cg_steps", self.cg_steps, 1))
        set_(self, "num_threads", check_int("num_threads", self.num_threads, 0))
        reg: object = self.regularization
        if isinstance(reg, str):
            if reg != AUTO:
                raise ConfigError(f"regularization must be a number >= 0 or 'auto', got {reg!r}.")
        else:
            set_(self, "regularization", _check_float("regularization", reg, 0.0))
        alpha: object = self.alpha
        if isinstance(alpha, str):
            if alpha != AUTO:
                raise ConfigError(f"alpha must be a number >= 0 or 'auto', got {alpha!r}.")
        else:
            set_(self, "alpha", _check_float("alpha", alpha, 0.0))
        if self.random_state is not None:
            set_(self, "random_state", check_int("random_state", self.random_state, 0))
        if self.solver not in ("auto", "cg", "cholesky"):
            raise ConfigError(f"solver must be 'auto', 'cg' or 'cholesky', got {self.solver!r}.")
        if self.weighting not in SCHEME_OPTIONS:
            raise ConfigError(
                f"weighting must be one of {sorted(SCHEME_OPTIONS)}, got {self.weighting!r}."
            )
        set_(self, "weighting_eps", _check_float("weighting_eps", self.weighting_eps, 0.0))
        if self.weighting_eps <= 0:
            raise ConfigError(f"weighting_eps must be > 0, got {self.weighting_eps!r}.")
        set_(self, "bm25_k1", _check_float("bm25_k1", self.bm25_k1, 0.0))
        set_(self, "bm25_b", _check_float("bm25_b", self.bm25_b, 0.0))
        if self.bm25_b > 1:
            raise ConfigError(f"bm25_b must be in [0, 1], got {self.bm25_b!r}.")
        exponent = _check_float("regularization_exponent", self.regularization_exponent, 0.0)
        set_(self, "regularization_exponent", exponent)
        if self.regularization_scale not in ("confidence", "count"):
            raise ConfigError(
                "regularization_scale must be 'confidence' or 'count', got "
                f"{self.regularization_scale!r}."
            )
        ref: object = self.regularization_reference
        if isinstance(ref, str):
            if ref != AUTO:
                raise ConfigError(
                    f"regularization_reference must be a number > 0 or 'auto', got {ref!r}."
                )
        else:
            value = _check_float("regularization_reference", ref, -math.inf)
            if value <= 0:
                raise ConfigError(f"regularization_reference must be > 0, got {ref!r}.")
            set_(self, "regularization_reference", value)

    @property
    def is_resolved(self) -> bool:
        """Whether every hyperparameter that matters is concrete (none is ``"auto"``).

        ``regularization_reference`` only matters while ``regularization_exponent`` is
        > 0, so it may stay ``"auto"`` otherwise.

        Examples
        --------
        >>> ALSParams().is_resolved, ALSParams(regularization=2.0, alpha=1.0).is_resolved
        (False, True)
        >>> ALSParams(regularization=2.0, alpha=1.0, regularization_exponent=0.5).is_resolved
        False
        """
        if isinstance(self.regularization, str) or isinstance(self.alpha, str):
            return False
        return not (self.scaled_regularization and isinstance(self.regularization_reference, str))

    @property
    def scaled_regularization(self) -> bool:
        """Whether rows get different penalties (``regularization_exponent > 0``).

        Examples
        --------
        >>> ALSParams().scaled_regularization
        False
        >>> ALSParams(regularization_exponent=1.0).scaled_regularization
        True
        """
        return self.regularization_exponent > 0

    @property
    def regularization_reference_value(self) -> float:
        """The concrete ``regularization_reference``; :class:`~alsrec.ConfigError` while
        it is ``"auto"``.

        Examples
        --------
        >>> ALSParams(regularization_reference=40).regularization_reference_value
        40.0
        """
        return _concrete("regularization_reference", self.regularization_reference, "100.0")

    @property
    def regularization_value(self) -> float:
        """The concrete ``regularization``; :class:`~alsrec.ConfigError` while it is ``"auto"``.

        Examples
        --------
        >>> ALSParams(regularization=2).regularization_value
        2.0
        >>> ALSParams().regularization_value
        Traceback (most recent call last):
        ...
        alsrec.exceptions.ConfigError: regularization is 'auto', which only fit() resolves ...
        """
        return _concrete("regularization", self.regularization, "10.0")

    @property
    def alpha_value(self) -> float:
        """The concrete ``alpha``; :class:`~alsrec.ConfigError` while it is ``"auto"``.

        Examples
        --------
        >>> ALSParams(alpha=3).alpha_value
        3.0
        >>> ALSParams().alpha_value
        Traceback (most recent call last):
        ...
        alsrec.exceptions.ConfigError: alpha is 'auto', which only fit() resolves ...
        """
        return _concrete("alpha", self.alpha, "1.0")

    def weighting_options(self) -> dict[str, float]:
        """The options of the chosen weighting scheme, as :func:`alsrec.weighting.confidence`
        takes them.

        Examples
        --------
        >>> ALSParams(weighting="log", weighting_eps=10.0).weighting_options()
        {'eps': 10.0}
        >>> ALSParams().weighting_options()
        {}
        """
        return {
            "linear": {},
            "log": {"eps": self.weighting_eps},
            "bm25": {"k1": self.bm25_k1, "b": self.bm25_b},
            "tfidf": {},
        }[self.weighting]

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as a JSON-compatible dict.

        Examples
        --------
        >>> ALSParams(factors=8).to_dict()["factors"]
        8
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ALSParams:
        """Build parameters from :meth:`to_dict` output, rejecting unknown keys.

        Examples
        --------
        >>> ALSParams.from_dict({"factors": 8}).factors
        8
        """
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"Unknown ALS parameter(s) {unknown}; expected a subset of {sorted(known)}."
            )
        return cls(**data)
