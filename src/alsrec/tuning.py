"""Hyperparameter search: seeded random search over ALS parameters, scored on held-out data.

:func:`search` draws ``budget`` parameter sets from a search space, trains a model on the
training part of each validation split, measures a ranking metric on the held-out part
(:func:`alsrec.evaluation.evaluate`), and returns a :class:`TuningReport`: every trial, the
best parameters, how far apart the best, median and worst trials are, and how much each
parameter seems to matter. With ``refit=True`` the best parameters are trained once more on
all the data (:attr:`TuningReport.best_model`).

Why random search
-----------------
With five parameters of which two or three matter on a given dataset, random search finds
good values of the important ones in far fewer trials than a grid of the same size, which
spends most of its points varying parameters that do not matter (Bergstra and Bengio,
2012). When every dimension is a finite :class:`Choice` and the budget covers all
combinations, the full grid is evaluated instead, each point once. Random draws never
repeat a parameter set. Successive halving over iterations is not done: a trial always
runs its full ``iterations``.

The default space (:func:`default_space`)
-----------------------------------------
``regularization``
    :class:`ScaledLogUniform` ``(0.01, 100)``: a log-uniform *ratio* times the confidence
    scale ``s = 1 + alpha * (mean total weight per user)``. The penalty competes with
    ``YᵀC_uY``, whose user-specific part ``Σ_j (c_uj - 1) y_j y_jᵀ`` grows with ``alpha``
    and with the user's total weight, so the best ``λ`` moves with both (on the synthetic
    data of :mod:`alsrec.datasets`, measured here, the best ``λ`` sat between 0.4 s and 8 s
    for alpha from 0.3 to 30 and 300 to 3,000 items; Spark's ALS-WR scales ``λ`` by each
    row's count for the same reason). Drawing ``λ`` independently of ``alpha`` wastes most
    trials on hopeless pairs (``alpha = 30`` with ``λ = 0.01``). Trials record the absolute
    ``λ``.
``alpha``
    :class:`LogUniform` ``(0.1, 50)``: from "observed barely above unobserved" to the
    strong confidence of Hu, Koren and Volinsky's original setting (alpha 40 on counts).
``factors``
    :class:`Choice` of 16, 32, 64, 128, keeping only sizes up to half the smaller side of
    the matrix (more factors than that can only memorize); at least one size remains.
``iterations``
    :class:`Choice` of 10, 15, 20: ALS converges in a handful of sweeps; more mostly
    costs time.
``weighting``
    When :class:`~alsrec.ALSParams` has a ``weighting`` field, a :class:`Choice` of every
    scheme it accepts.

Values drawn from log-uniform dimensions are rounded to three significant digits.

Reproducibility and parallel trials
-----------------------------------
The draws, the splits and every model's initialization derive from ``random_state``, so
the same call gives an identical report (timings aside: they are excluded from ``==``)
with a deterministic backend. Every trial (and the refit) trains with BLAS limited to one
thread, in this process as in worker processes: multi-threaded BLAS sums in another order
and changes the last bits of the factors, and trial-level parallelism (``n_jobs``) is the
better use of the cores for the many small fits of a search anyway. Worker processes are
started with ``spawn`` and get the splits once (so a script that calls :func:`search` with
``n_jobs > 1`` needs the usual ``if __name__ == "__main__":`` guard); a worker also caps
the ``implicit`` backend at one thread (its results do not depend on the thread count).
Starting the workers takes a few seconds, so ``n_jobs > 1`` pays off when the trials
take longer than that.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
import typing
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from alsrec._foldin import history_confidence
from alsrec.evaluation import METRICS, evaluate, holdout_split
from alsrec.exceptions import AlsrecWarning, BackendError, ConfigError, DataError
from alsrec.interactions import Interactions
from alsrec.params import ALSParams
from alsrec.recommender import Recommender

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import scipy.sparse as sp

    from alsrec.backends import Backend

__all__ = [
    "Choice",
    "Dimension",
    "LogUniform",
    "ParameterEffect",
    "ScaledLogUniform",
    "Trial",
    "TuningReport",
    "default_space",
    "search",
]

_DEFAULT_FACTORS = (16, 32, 64, 128)
_DEFAULT_ITERATIONS = (10, 15, 20)
_DEFAULT_WEIGHTINGS = ("linear", "log", "bm25", "tfidf")
_MAX_DRAW_ATTEMPTS = 50
"""Draws per requested trial before a random search gives up finding new parameter sets."""
_TUNABLE_METRICS = tuple(m for m in METRICS if m != "popularity_rank")


def _round3(value: float) -> float:
    """``value`` rounded to three significant digits."""
    return float(f"{value:.3g}")


def _check_bounds(kind: str, low: object, high: object) -> tuple[float, float]:
    bounds = []
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ConfigError(f"{kind} {name} must be a number, got {value!r}.")
        number = float(value)
        if not (math.isfinite(number) and number > 0):
            raise ConfigError(f"{kind} {name} must be finite and > 0, got {value!r}.")
        bounds.append(number)
    lo, hi = bounds
    if lo > hi:
        raise ConfigError(f"{kind} needs low <= high, got low={lo!r}, high={hi!r}.")
    return lo, hi


class Dimension(Protocol):
    """One axis of a search space: draws a value, and says what it is."""

    @property
    def discrete(self) -> bool:
        """Whether the axis is a finite set of values (:attr:`Choice.values`)."""
        ...

    def sample(self, rng: np.random.Generator) -> Any:
        """Draw one value."""
        ...

    def describe(self) -> str:
        """A short human description, e.g. ``"log-uniform [0.1, 50]"``."""
        ...


@dataclass(frozen=True)
class LogUniform:
    """Values spread evenly in ``log(value)`` between ``low`` and ``high`` (both > 0).

    Draws are rounded to three significant digits, or to the nearest integer with
    ``integer=True``.

    Examples
    --------
    >>> import numpy as np
    >>> dim = LogUniform(0.1, 10)
    >>> 0.1 <= dim.sample(np.random.default_rng(0)) <= 10
    True
    >>> LogUniform(0, 1)
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: LogUniform low must be finite and > 0, got 0.
    """

    low: float
    high: float
    integer: bool = False

    def __post_init__(self) -> None:
        lo, hi = _check_bounds(type(self).__name__, self.low, self.high)
        if self.integer and math.floor(hi) < math.ceil(lo):
            raise ConfigError(f"LogUniform({lo}, {hi}, integer=True) contains no integer.")
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)

    @property
    def discrete(self) -> bool:
        """Always ``False``."""
        return False

    def sample(self, rng: np.random.Generator) -> float | int:
        """Draw one value."""
        value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        if self.integer:
            return int(min(max(round(value), math.ceil(self.low)), math.floor(self.high)))
        return min(max(_round3(value), self.low), self.high)

    def describe(self) -> str:
        """``"log-uniform [low, high]"``."""
        return f"log-uniform [{self.low:g}, {self.high:g}]" + (" (integers)" * self.integer)


@dataclass(frozen=True)
class ScaledLogUniform:
    """``regularization`` only: a log-uniform ratio times the trial's confidence scale.

    A drawn ratio ``r`` gives ``λ = r * s`` with ``s = 1 + sum_ui (c_ui - 1) / n_users``, the
    confidence each user adds on average above the implicit 1 (``alpha`` times the mean
    total weight per user; computed with the trial's own ``alpha``, and weighting scheme
    where there is one, on all the data). See the module documentation for why.

    Examples
    --------
    >>> ScaledLogUniform().describe()
    'log-uniform [0.01, 100] x confidence scale'
    """

    low: float = 0.01
    high: float = 100.0

    def __post_init__(self) -> None:
        lo, hi = _check_bounds(type(self).__name__, self.low, self.high)
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)

    @property
    def discrete(self) -> bool:
        """Always ``False``."""
        return False

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one ratio (three significant digits)."""
        value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return min(max(_round3(value), self.low), self.high)

    def describe(self) -> str:
        """``"log-uniform [low, high] x confidence scale"``."""
        return f"log-uniform [{self.low:g}, {self.high:g}] x confidence scale"


@dataclass(frozen=True, init=False)
class Choice:
    """One of a few given values, each equally likely.

    Examples
    --------
    >>> Choice([16, 32]).values
    (16, 32)
    >>> Choice([])
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: Choice needs at least one value.
    """

    values: tuple[Any, ...]

    def __init__(self, values: Sequence[Any] | npt.NDArray[Any]) -> None:
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            raise ConfigError(f"Choice needs a sequence of values, got {values!r}.")
        items = tuple(v.item() if isinstance(v, np.generic) else v for v in values)
        if not items:
            raise ConfigError("Choice needs at least one value.")
        if len(set(map(repr, items))) != len(items):
            raise ConfigError(f"Choice values must be distinct, got {list(items)!r}.")
        object.__setattr__(self, "values", items)

    @property
    def discrete(self) -> bool:
        """Always ``True``."""
        return True

    def sample(self, rng: np.random.Generator) -> Any:
        """Draw one of the values."""
        return self.values[int(rng.integers(len(self.values)))]

    def describe(self) -> str:
        """``"one of 16, 32, 64"``."""
        return "one of " + ", ".join(map(str, self.values))


SpaceArg = Mapping[str, "Dimension | Sequence[Any] | int | float | str"]
"""What :func:`search` accepts as ``space``: a parameter name per key; a dimension, a list
of values (a :class:`Choice`), or one fixed value."""


# -- the space ----------------------------------------------------------------------------------


def _param_fields() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(ALSParams))


def _weighting_values() -> tuple[str, ...]:
    """The weighting schemes :class:`ALSParams` accepts (empty if it has no such field)."""
    if "weighting" not in _param_fields():
        return ()
    candidates: tuple[Any, ...] = _DEFAULT_WEIGHTINGS
    with contextlib.suppress(Exception):  # an unresolvable annotation: use the known names
        hint = typing.get_type_hints(ALSParams)["weighting"]
        if typing.get_origin(hint) is typing.Literal:
            candidates = typing.get_args(hint)
    valid = []
    for value in candidates:
        with contextlib.suppress(ConfigError, TypeError, ValueError):
            ALSParams(**{"weighting": value})  # noqa: PIE804 (a field mypy may not know)
            valid.append(value)
    return tuple(valid)


def default_space(interactions: Interactions) -> dict[str, Dimension]:
    """The default search space for ``interactions``; see the module documentation.

    Start from it to change one dimension::

        space = {**default_space(data), "iterations": [15]}

    Examples
    --------
    >>> from alsrec import Interactions
    >>> data = Interactions.from_arrays([1, 1, 2, 3] * 20, list(range(80)))
    >>> space = default_space(data)
    >>> space["factors"].describe(), space["alpha"].describe()
    ('one of 1', 'log-uniform [0.1, 50]')
    """
    n_users, n_items = interactions.matrix.shape
    cap = min(n_users, n_items) // 2
    factors = tuple(f for f in _DEFAULT_FACTORS if f <= cap) or (max(1, cap),)
    space: dict[str, Dimension] = {
        "factors": Choice(factors),
        "regularization": ScaledLogUniform(0.01, 100.0),
        "alpha": LogUniform(0.1, 50.0),
        "iterations": Choice(_DEFAULT_ITERATIONS),
    }
    weightings = _weighting_values()
    if weightings:
        space["weighting"] = Choice(weightings)
    return space


def _as_dimension(name: str, value: object) -> Dimension:
    if isinstance(value, (LogUniform, ScaledLogUniform, Choice)):
        if isinstance(value, ScaledLogUniform) and name != "regularization":
            raise ConfigError(
                f"ScaledLogUniform only applies to 'regularization', not {name!r}; use "
                "LogUniform for other parameters."
            )
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return Choice(value)
    if isinstance(value, (bool, int, float, str, np.generic)) or value is None:
        return Choice([value])
    if all(hasattr(value, a) for a in ("sample", "describe", "discrete")):
        return typing.cast("Dimension", value)
    raise ConfigError(
        f"The search space entry for {name!r} must be a LogUniform, ScaledLogUniform, Choice, "
        f"a list of values or one value; got {value!r}."
    )


def _normalize_space(space: SpaceArg) -> dict[str, Dimension]:
    if not isinstance(space, Mapping):
        raise ConfigError(f"space must be a mapping of parameter names, got {space!r}.")
    known = _param_fields()
    if "random_state" in space:
        raise ConfigError(
            "random_state cannot be searched: every trial trains from the seed given to "
            "search(random_state=...)."
        )
    unknown = sorted(set(space) - set(known))
    if unknown:
        raise ConfigError(
            f"Unknown parameter(s) {unknown} in the search space; expected names among "
            f"{[k for k in known if k != 'random_state']}."
        )
    # A canonical order (ALSParams' fields), so equal spaces draw equal trials.
    return {name: _as_dimension(name, space[name]) for name in known if name in space}


def _draw(
    space: dict[str, Dimension], budget: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Parameter draws: the whole grid when it fits the budget, else distinct random draws."""
    names = list(space)
    if all(dim.discrete for dim in space.values()):
        choices = [typing.cast("Choice", space[name]).values for name in names]
        size = math.prod(len(c) for c in choices)
        if size <= budget:
            grid: list[dict[str, Any]] = [{}]
            for name, values in zip(names, choices, strict=True):
                grid = [{**g, name: v} for g in grid for v in values]
            return grid
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, ...]] = set()
    for _ in range(budget * _MAX_DRAW_ATTEMPTS):
        if len(out) == budget:
            break
        draw = {name: space[name].sample(rng) for name in names}
        key = tuple(repr(draw[name]) for name in names)
        if key not in seen:
            seen.add(key)
            out.append(draw)
    return out


def _confidence_scale(matrix: sp.csr_matrix, params: ALSParams) -> float:
    """``1 + sum(c - 1) / n_users`` for the confidence ``params`` gives ``matrix``."""
    conf = history_confidence(matrix, params)
    extra: float = float(np.asarray(conf.data, dtype=np.float64).sum()) - int(conf.nnz)
    users: int = int(matrix.shape[0])
    return 1.0 + max(extra, 0.0) / max(users, 1)


def _resolve(
    draw: dict[str, Any],
    space: dict[str, Dimension],
    matrix: sp.csr_matrix,
    random_state: int,
) -> tuple[ALSParams, float | None]:
    """The parameters of a draw (absolute regularization) and the confidence scale used."""
    values = {**draw, "random_state": random_state}
    scale: float | None = None
    try:
        if isinstance(space.get("regularization"), ScaledLogUniform):
            unscaled = ALSParams(**{**values, "regularization": 0.0})
            scale = _confidence_scale(matrix, unscaled)
            values["regularization"] = _round3(draw["regularization"] * scale)
        return ALSParams(**values), scale
    except (ConfigError, TypeError) as exc:
        raise ConfigError(f"The search space gave invalid parameters {draw}: {exc}") from exc


# -- trials -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trial:
    """One evaluated parameter set.

    Attributes
    ----------
    index : int
        Position in the order of the draws (0-based).
    params : ALSParams
        The parameters trained with (absolute values; ``random_state`` is the search's).
    value : float
        The metric, averaged over the validation splits (NaN if no split could score it).
    split_values : tuple of float
        The metric on each split.
    sampled : Mapping[str, Any]
        The drawn value of each searched dimension (for :class:`ScaledLogUniform`: the
        ratio, before scaling).
    scale : float or None
        The confidence scale that multiplied the drawn regularization ratio.
    fit_seconds : float
        Training time summed over the splits (not part of ``==``).
    seconds : float
        Training and evaluation time (not part of ``==``).
    """

    index: int
    params: ALSParams
    value: float
    split_values: tuple[float, ...]
    sampled: Mapping[str, Any]
    scale: float | None
    fit_seconds: float = field(compare=False)
    seconds: float = field(compare=False)

    def __eq__(self, other: object) -> bool:
        # NaN metric values (nothing scorable) compare equal to themselves here.
        if not isinstance(other, Trial):
            return NotImplemented
        return (
            self.index == other.index
            and self.params == other.params
            and _same(self.value, other.value)
            and len(self.split_values) == len(other.split_values)
            and all(_same(a, b) for a, b in zip(self.split_values, other.split_values, strict=True))
            and dict(self.sampled) == dict(other.sampled)
            and self.scale == other.scale
        )

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes ``None``)."""
        return {
            "index": self.index,
            "value": _json_float(self.value),
            "split_values": [_json_float(v) for v in self.split_values],
            "params": self.params.to_dict(),
            "sampled": dict(self.sampled),
            "scale": self.scale,
            "fit_seconds": self.fit_seconds,
            "seconds": self.seconds,
        }


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else value


@dataclass(frozen=True)
class _Task:
    """What a worker needs besides the splits to run one trial."""

    index: int
    params: dict[str, Any]


@dataclass(frozen=True)
class _Setup:
    """The fixed part of every trial: splits, metric, backend."""

    splits: tuple[tuple[Interactions, Interactions], ...]
    metric: str
    k: int
    backend: str | Backend
    single_threaded_backend: bool


def _recommender(params: ALSParams, backend: str | Backend) -> Recommender:
    """An unfitted recommender with every field of ``params`` (some have no __init__ argument)."""
    rec = Recommender(backend=backend)
    rec.params = params
    return rec


def _fit_params(params: dict[str, Any], single_threaded_backend: bool) -> dict[str, Any]:
    if single_threaded_backend:
        return {**params, "num_threads": 1}
    return params


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    from alsrec.backends._implicit import blas_single_threaded

    with blas_single_threaded():
        yield


def _run(setup: _Setup, task: _Task) -> tuple[int, tuple[float, ...], float, float]:
    """Train and score one parameter set on every split."""
    start = time.perf_counter()
    fit_seconds = 0.0
    values = []
    params = ALSParams.from_dict(_fit_params(task.params, setup.single_threaded_backend))
    for train, valid in setup.splits:
        rec = _recommender(params, setup.backend)
        tick = time.perf_counter()
        rec.fit(train)
        fit_seconds += time.perf_counter() - tick
        report = evaluate(rec, valid, setup.k, bootstrap=0, baseline=False)
        values.append(float(report.metrics[setup.metric].value))
    return task.index, tuple(values), fit_seconds, time.perf_counter() - start


_WORKER_SETUP: _Setup | None = None
_WORKER_LIMITS: object = None


def _init_worker(setup: _Setup) -> None:
    """Worker initializer: one BLAS thread for the worker's whole life, and the splits."""
    global _WORKER_SETUP, _WORKER_LIMITS
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with implicit
        pass
    else:
        _WORKER_LIMITS = threadpool_limits(limits=1, user_api="blas")
    _WORKER_SETUP = setup


def _run_in_worker(task: _Task) -> tuple[int, tuple[float, ...], float, float]:
    assert _WORKER_SETUP is not None, "worker not initialized"
    return _run(_WORKER_SETUP, task)


# -- the report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterEffect:
    """How the metric varied with one searched parameter, across the trials.

    Trials are grouped by the parameter's value (finite choices) or into up to three
    equal-sized bins of its drawn value (continuous dimensions; for a
    :class:`ScaledLogUniform` the ratio, so the grouping is not confounded with
    ``alpha``). These are marginal means over a random search: a hint of what matters,
    not a controlled experiment.

    Attributes
    ----------
    name : str
        The parameter.
    levels : tuple of str
        Group labels (a value, or a ``low..high`` range).
    means : tuple of float
        Mean metric of each group.
    counts : tuple of int
        Trials per group.
    effect : float
        Largest minus smallest group mean: how much choosing this parameter well is
        worth, roughly.
    best_level : str
        The label of the group with the highest mean.
    """

    name: str
    levels: tuple[str, ...]
    means: tuple[float, ...]
    counts: tuple[int, ...]
    effect: float
    best_level: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "levels": list(self.levels),
            "means": list(self.means),
            "counts": list(self.counts),
            "effect": self.effect,
            "best_level": self.best_level,
        }


def _effects(trials: Sequence[Trial], space: dict[str, Dimension]) -> tuple[ParameterEffect, ...]:
    scored = [t for t in trials if not math.isnan(t.value)]
    out = []
    for name, dim in space.items():
        if dim.discrete and len(typing.cast("Choice", dim).values) < 2:
            continue
        groups: list[tuple[str, list[float]]] = []
        if dim.discrete:
            for value in typing.cast("Choice", dim).values:
                vals = [t.value for t in scored if t.sampled[name] == value]
                if vals:
                    groups.append((str(value), vals))
        else:
            ordered = sorted(scored, key=lambda t: (t.sampled[name], t.index))
            bins = min(3, len(ordered))
            for part in np.array_split(np.arange(len(ordered)), bins) if bins else []:
                members = [ordered[i] for i in part.tolist()]
                if not members:
                    continue
                lo, hi = members[0].sampled[name], members[-1].sampled[name]
                label = f"{lo:.3g}" if lo == hi else f"{lo:.3g}..{hi:.3g}"
                if isinstance(dim, ScaledLogUniform):
                    label += " x s"
                groups.append((label, [t.value for t in members]))
        if len(groups) < 2:
            continue
        means = tuple(float(np.mean(v)) for _, v in groups)
        best = int(np.argmax(means))
        out.append(
            ParameterEffect(
                name=name,
                levels=tuple(label for label, _ in groups),
                means=means,
                counts=tuple(len(v) for _, v in groups),
                effect=max(means) - min(means),
                best_level=groups[best][0],
            )
        )
    return tuple(sorted(out, key=lambda e: (-e.effect, e.name)))


@dataclass(frozen=True)
class TuningReport:
    """What :func:`search` found.

    ``==`` compares everything but timings, the job count and the refitted model, so two
    runs with the same seed compare equal.

    Attributes
    ----------
    metric : str
        The metric maximized (a name of :data:`alsrec.evaluation.METRICS`).
    k : int
        List length of the metric.
    trials : tuple of Trial
        Every trial, in draw order.
    best : Trial
        The trial with the highest mean metric (the earliest one on ties).
    effects : tuple of ParameterEffect
        Per-parameter sensitivity, largest effect first.
    space : Mapping[str, str]
        A description of each searched dimension.
    n_splits : int
        Validation splits each trial was scored on.
    test_fraction : float or None
        Share held out per user in each split (``None`` for splits given by the caller).
    random_state : int
        The seed.
    backend : str
        The training backend.
    wall_seconds : float
        Wall time of the search (without the refit).
    n_jobs : int
        Processes that ran trials.
    best_model : Recommender or None
        With ``refit=True``: the best parameters trained on all the data.
    """

    metric: str
    k: int
    trials: tuple[Trial, ...]
    best: Trial
    effects: tuple[ParameterEffect, ...]
    space: Mapping[str, str]
    n_splits: int
    test_fraction: float | None
    random_state: int
    backend: str
    wall_seconds: float = field(compare=False)
    n_jobs: int = field(compare=False)
    best_model: Recommender | None = field(default=None, compare=False, repr=False)

    @property
    def best_params(self) -> ALSParams:
        """The parameters of :attr:`best`."""
        return self.best.params

    @property
    def best_value(self) -> float:
        """The best trial's metric."""
        return self.best.value

    def _values(self) -> list[float]:
        return [t.value for t in self.trials if not math.isnan(t.value)]

    @property
    def median_value(self) -> float:
        """The median metric over the scored trials."""
        return float(np.median(self._values()))

    @property
    def worst_value(self) -> float:
        """The lowest metric over the scored trials."""
        return min(self._values())

    def ranked(self) -> list[Trial]:
        """The trials best first (unscorable ones last; ties by draw order)."""
        return sorted(
            self.trials, key=lambda t: (math.isnan(t.value), -np.nan_to_num(t.value), t.index)
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: settings, best parameters, spread, effects, every trial."""
        return {
            "metric": self.metric,
            "k": self.k,
            "n_trials": len(self.trials),
            "n_splits": self.n_splits,
            "test_fraction": self.test_fraction,
            "random_state": self.random_state,
            "backend": self.backend,
            "n_jobs": self.n_jobs,
            "wall_seconds": self.wall_seconds,
            "space": dict(self.space),
            "best": self.best.to_dict(),
            "spread": {
                "best": self.best_value,
                "median": self.median_value,
                "worst": self.worst_value,
            },
            "effects": [e.to_dict() for e in self.effects],
            "trials": [t.to_dict() for t in self.trials],
        }

    def table(self, n: int | None = None) -> str:
        """The trials as a text table, best first (the ``n`` best when given)."""
        names = ["factors", "regularization", "alpha", "iterations"]
        if any("weighting" in t.sampled for t in self.trials):
            names.append("weighting")
        header = ["rank", "trial", f"{self.metric}@{self.k}", *names, "fit s"]
        rows = [header]
        for rank, trial in enumerate(self.ranked()[:n], 1):
            p = trial.params.to_dict()
            rows.append(
                [
                    str(rank),
                    str(trial.index),
                    "nan" if math.isnan(trial.value) else f"{trial.value:.4f}",
                    *(f"{p[m]:.3g}" if isinstance(p[m], float) else str(p[m]) for m in names),
                    f"{trial.fit_seconds:.2f}",
                ]
            )
        widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
        return "\n".join(
            "  ".join(cell.rjust(widths[c]) for c, cell in enumerate(row)).rstrip() for row in rows
        )

    def __str__(self) -> str:
        label = f"{self.metric}@{self.k}"
        splits = f"{self.n_splits} validation split{'s' * (self.n_splits > 1)}"
        if self.test_fraction is not None:
            splits += f" ({self.test_fraction:g} of each user's items held out)"
        lines = [
            f"Search: {len(self.trials)} trials, {label} on {splits}, backend "
            f"{self.backend!r}, seed {self.random_state}, {self.wall_seconds:.1f} s "
            f"with {self.n_jobs} job{'s' * (self.n_jobs > 1)}",
            "Space: " + "; ".join(f"{k} {v}" for k, v in self.space.items()),
            f"Best (trial {self.best.index}): {label} {self.best_value:.4f}  "
            + ", ".join(
                f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in self.best_params.to_dict().items()
                if k in self.space
            ),
            f"Spread of {label}: best {self.best_value:.4f}, median {self.median_value:.4f}, "
            f"worst {self.worst_value:.4f}",
        ]
        if self.effects:
            lines.append("Sensitivity (mean metric by parameter level; largest effect first):")
            for e in self.effects:
                levels = ", ".join(
                    f"{lvl}: {m:.4f} ({c})"
                    for lvl, m, c in zip(e.levels, e.means, e.counts, strict=True)
                )
                lines.append(f"  {e.name:<15} effect {e.effect:.4f}  {levels}")
        lines += ["", self.table()]
        return "\n".join(lines)


# -- the search -----------------------------------------------------------------------------------


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _check_splits(
    interactions: Interactions,
    splits: int | Sequence[tuple[Interactions, Interactions]],
    test_fraction: float,
    seq: np.random.SeedSequence,
) -> tuple[tuple[tuple[Interactions, Interactions], ...], float | None]:
    if isinstance(splits, (int, np.integer)) and not isinstance(splits, bool):
        n = _check_int("splits", splits, 1)
        seeds = seq.generate_state(n).tolist()
        made = tuple(holdout_split(interactions, test_fraction, random_state=int(s)) for s in seeds)
        return made, float(test_fraction)
    if not isinstance(splits, Sequence) or not splits:
        raise ConfigError(
            f"splits must be a number of holdout splits (>= 1) or a non-empty sequence of "
            f"(train, validation) Interactions pairs, got {splits!r}."
        )
    out = []
    for pos, pair in enumerate(splits):
        if (
            not isinstance(pair, tuple)
            or len(pair) != 2
            or not all(isinstance(p, Interactions) for p in pair)
        ):
            raise ConfigError(
                f"splits[{pos}] must be a (train, validation) pair of Interactions, got "
                f"{type(pair).__name__}."
            )
        out.append((pair[0], pair[1]))
    return tuple(out), None


def _jobs(n_jobs: object, n_trials: int) -> int:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)):
        raise ConfigError(f"n_jobs must be an integer (-1 for every core), got {n_jobs!r}.")
    if n_jobs == -1:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not on Linux
            cores = os.cpu_count() or 1
        n_jobs = cores
    if n_jobs < 1:
        raise ConfigError(f"n_jobs must be >= 1 or -1 (every core), got {n_jobs!r}.")
    return max(1, min(int(n_jobs), n_trials))


def search(
    interactions: Interactions,
    space: SpaceArg | None = None,
    *,
    metric: str = "ndcg",
    k: int = 10,
    budget: int = 20,
    splits: int | Sequence[tuple[Interactions, Interactions]] = 1,
    test_fraction: float = 0.2,
    random_state: int = 0,
    n_jobs: int = 1,
    backend: str | Backend = "numpy",
    refit: bool = False,
    progress: Callable[[int, int, Trial], None] | None = None,
) -> TuningReport:
    """Search ALS hyperparameters on held-out data; see the module documentation.

    Parameters
    ----------
    interactions : Interactions
        All the data. Validation splits are drawn from it; keep a final test set out of it
        if you want an unbiased estimate of the tuned model.
    space : mapping, optional
        Parameter name -> :class:`LogUniform`, :class:`ScaledLogUniform` (regularization),
        :class:`Choice`, a list of values, or one fixed value. Names are fields of
        :class:`~alsrec.ALSParams` except ``random_state``; parameters left out keep their
        defaults. ``None`` means :func:`default_space` of ``interactions``.
    metric : str, default "ndcg"
        What to maximize: a name of :data:`alsrec.evaluation.METRICS` except
        ``"popularity_rank"``.
    k : int, default 10
        List length of the metric.
    budget : int, default 20
        Number of trials (parameter sets). A space of finite choices with fewer
        combinations runs each once.
    splits : int or sequence of (train, validation) pairs, default 1
        How many seeded per-user holdout splits to average each trial over, or the splits
        themselves (e.g. from :func:`alsrec.evaluation.time_split`).
    test_fraction : float, default 0.2
        Share of each user's items held out in generated splits.
    random_state : int, default 0
        Seed of the draws, the splits and every model's initialization.
    n_jobs : int, default 1
        Trials run at once, each in its own worker process (``-1``: one per core); ``1``
        runs them in this process. See the module documentation on BLAS threads.
    backend : str or Backend, default "numpy"
        Training backend; with ``n_jobs > 1`` it must be a name. A backend that is not
        deterministic (GPU) makes the search irreproducible (warned).
    refit : bool, default False
        Train the best parameters on all of ``interactions``
        (:attr:`TuningReport.best_model`).
    progress : callable, optional
        Called as ``progress(done, total, trial)`` after each trial (in completion order).

    Returns
    -------
    TuningReport

    Raises
    ------
    ConfigError
        A bad space, metric, ``k``, budget, split count or job count; a space that
        yields invalid parameters.
    DataError
        Too little data to split, or no trial could be scored.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> from alsrec.datasets import synthetic
    >>> data = synthetic(n_users=150, n_items=60, n_clusters=3, random_state=0)
    >>> full = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)
    >>> report = search(full, {"factors": [8], "iterations": [5],
    ...                        "regularization": LogUniform(0.1, 100), "alpha": [1.0, 10.0]},
    ...                 budget=4, random_state=0, refit=True)
    >>> len(report.trials), report.best.value == max(t.value for t in report.trials)
    (4, True)
    >>> report.best_model.params == report.best_params
    True
    >>> report == search(full, {"factors": [8], "iterations": [5],
    ...                         "regularization": LogUniform(0.1, 100), "alpha": [1.0, 10.0]},
    ...                  budget=4, random_state=0)
    True
    """
    started = time.perf_counter()
    if not isinstance(interactions, Interactions):
        raise ConfigError(
            f"interactions must be an alsrec Interactions, got {type(interactions).__name__}; "
            "build one with Interactions.from_arrays(user_ids, item_ids, weights)."
        )
    if metric not in _TUNABLE_METRICS:
        raise ConfigError(
            f"metric must be one of {list(_TUNABLE_METRICS)}, got {metric!r} "
            "(popularity_rank measures bias, not quality: it cannot be maximized)."
        )
    k = _check_int("k", k, 1)
    budget = _check_int("budget", budget, 1)
    random_state = _check_int("random_state", random_state, 0)
    resolved_space = _normalize_space(default_space(interactions) if space is None else space)
    if not isinstance(backend, str) and n_jobs != 1:
        raise ConfigError(
            "With n_jobs > 1 the backend must be given by name (e.g. 'numpy' or 'implicit'), "
            "since worker processes build their own."
        )
    from alsrec.backends import get_backend

    engine = get_backend(backend)  # fails early, with the valid names, for a bad name
    if not engine.deterministic:
        warnings.warn(
            f"Backend {engine.name!r} is not deterministic: the same seed can give different "
            "trials. Use a deterministic backend (e.g. 'numpy' or 'implicit') to reproduce "
            "a search.",
            AlsrecWarning,
            stacklevel=2,
        )
    sample_seq, split_seq = np.random.SeedSequence(random_state).spawn(2)
    draws = _draw(resolved_space, budget, np.random.default_rng(sample_seq))
    resolved = [_resolve(d, resolved_space, interactions.matrix, random_state) for d in draws]
    made_splits, fraction = _check_splits(interactions, splits, test_fraction, split_seq)
    jobs = _jobs(n_jobs, len(draws))
    setup = _Setup(made_splits, metric, k, backend, single_threaded_backend=jobs > 1)
    tasks = [_Task(i, p.to_dict()) for i, (p, _) in enumerate(resolved)]
    results: dict[int, Trial] = {}

    def record(outcome: tuple[int, tuple[float, ...], float, float]) -> None:
        index, values, fit_seconds, seconds = outcome
        scored = [v for v in values if not math.isnan(v)]
        params, scale = resolved[index]
        results[index] = Trial(
            index=index,
            params=params,
            value=float(np.mean(scored)) if scored else math.nan,
            split_values=values,
            sampled=MappingProxyType(dict(draws[index])),
            scale=scale,
            fit_seconds=fit_seconds,
            seconds=seconds,
        )
        if progress is not None:
            progress(len(results), len(tasks), results[index])

    if jobs == 1:
        with _one_blas_thread():
            for task in tasks:
                record(_run(setup, task))
    else:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(setup,)
        ) as pool:
            futures = []
            try:
                futures = [pool.submit(_run_in_worker, task) for task in tasks]
                for future in as_completed(futures):
                    record(future.result())
            except BrokenProcessPool as exc:
                raise BackendError(
                    "A trial worker process died before finishing. If search() runs from a "
                    "script, call it under 'if __name__ == \"__main__\":' (workers are started "
                    "with 'spawn' and import the main module); if memory is short, lower "
                    f"n_jobs (it was {jobs}) or use n_jobs=1."
                ) from exc
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    trials = tuple(results[i] for i in range(len(tasks)))
    scored = [t for t in trials if not math.isnan(t.value)]
    if not scored:
        raise DataError(
            f"No trial could be scored: {metric}@{k} is undefined on every validation split "
            "(no user has a held-out item the model knows). Use more data or other splits."
        )
    best = max(scored, key=lambda t: (t.value, -t.index))
    wall = time.perf_counter() - started
    best_model = None
    if refit:
        with _one_blas_thread():  # as the trials ran: the same arithmetic, no oversubscription
            best_model = _recommender(best.params, backend).fit(interactions)
    return TuningReport(
        metric=metric,
        k=k,
        trials=trials,
        best=best,
        effects=_effects(trials, resolved_space),
        space=MappingProxyType({n: d.describe() for n, d in resolved_space.items()}),
        n_splits=len(made_splits),
        test_fraction=fraction,
        random_state=random_state,
        backend=engine.name,
        wall_seconds=wall,
        n_jobs=jobs,
        best_model=best_model,
    )
