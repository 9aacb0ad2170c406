"""The search space: dimensions to draw from, the default space, and drawing trials."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from alsrec.data.weighting import Weighting
from alsrec.exceptions import ConfigError
from alsrec.model.defaults import (
    auto_alpha,
    auto_multiple,
    auto_regularization,
    params_confidence,
)
from alsrec.model.statistics import matrix_level
from alsrec.params import ALSParams

if TYPE_CHECKING:
    import scipy.sparse as sp

    from alsrec.backends import Backend
    from alsrec.data.interactions import Interactions

__all__ = ["Choice", "Dimension", "LogUniform", "ScaledLogUniform", "SpaceArg", "default_space"]

_DEFAULT_FACTORS = (16, 32, 64, 128, 256)
_DEFAULT_ITERATIONS = (10, 15, 20)
_DEFAULT_EXPONENTS = (0.0, 0.5, 1.0)
"""``regularization_exponent`` values of the default space on a backend that trains them."""
_MAX_DRAW_ATTEMPTS = 50
"""Draws per requested trial before a random search gives up finding new parameter sets."""
_WEIGHTING_FIELDS = ("weighting", "weighting_eps", "bm25_k1", "bm25_b")
"""The parameters that ``alpha="auto"`` reads besides the data (the weighting scheme)."""
_SCALED = ("regularization", "alpha")
"""The parameters a :class:`ScaledLogUniform` can scale (those with an ``"auto"`` value)."""


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
    """``regularization`` or ``alpha``: a log-uniform ratio times the trial's automatic value.

    For ``regularization``, a drawn ratio ``r`` gives ``λ = r * s`` with ``s`` what
    ``regularization="auto"`` resolves to for the trial's own ``alpha`` and weighting
    scheme on all the data (:func:`alsrec.model.defaults.auto_regularization`), with one
    difference: the confidence-level factor is the one of the search's default point (the
    data's own level under its default ``alpha`` and weighting), not the trial's. That
    factor describes how the best value differs between datasets; within one dataset the
    best regularization on MovieLens-100k did not grow with ``alpha`` as the trial's level
    would have it. At the default point ``s`` is what a default fit uses. The default
    range, 0.1 to 10 times ``s``, puts the search's budget around that value.

    For ``alpha``, ``r`` gives ``alpha = r * a`` with ``a`` what ``alpha="auto"`` resolves
    to for the trial's own weighting scheme on all the data
    (:func:`alsrec.model.defaults.auto_alpha`). The schemes put the weights on different
    scales (on one sparse set of counts ``"auto"`` gave 5.6 for linear weights, 14.7 for
    ``"log"`` and 3.1 for ``"bm25"``), so a ratio keeps a trial that changes only the
    scheme at a comparable confidence instead of at the same number. See the module
    documentation for why.

    Examples
    --------
    >>> ScaledLogUniform().describe()
    'log-uniform [0.1, 10] x auto regularization'
    >>> ScaledLogUniform(0.1, 50).describe("alpha")
    'log-uniform [0.1, 50] x auto alpha'
    """

    low: float = 0.1
    high: float = 10.0

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

    def describe(self, name: str = "regularization") -> str:
        """``"log-uniform [low, high] x auto <name>"`` (``name``: the parameter it scales)."""
        return f"log-uniform [{self.low:g}, {self.high:g}] x auto {name}"


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
    """Every hyperparameter: the fields of :class:`~alsrec.ALSParams`, in their order."""
    return tuple(f.name for f in dataclasses.fields(ALSParams))


def _weighting_values() -> tuple[str, ...]:
    """The weighting schemes :class:`ALSParams` accepts (empty if it has no such field)."""
    if "weighting" not in _param_fields():
        return ()
    candidates: tuple[Any, ...] = typing.get_args(Weighting)
    valid = []
    for value in candidates:
        with contextlib.suppress(ConfigError, TypeError, ValueError):
            ALSParams(**{"weighting": value})  # noqa: PIE804 (a field mypy may not know)
            valid.append(value)
    return tuple(valid)


def default_space(
    interactions: Interactions, *, backend: str | Backend = "numpy"
) -> dict[str, Dimension]:
    """The default search space for ``interactions``; see the module documentation.

    Start from it to change one dimension::

        space = {**default_space(data), "iterations": [15]}

    Parameters
    ----------
    interactions : Interactions
        The data to search on (the factor sizes are capped by its shape).
    backend : str or Backend, default "numpy"
        The backend the trials train on. Only the numpy backend trains frequency-scaled
        regularization, so only its space has a ``regularization_exponent`` dimension
        (:class:`Choice` of 0, 0.5 and 1); other backends keep the constant penalty.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> data = Interactions.from_arrays([1, 1, 2, 3] * 20, list(range(80)))
    >>> space = default_space(data)
    >>> space["factors"].describe(), space["alpha"].describe("alpha")
    ('one of 1', 'log-uniform [0.1, 50] x auto alpha')
    >>> space["regularization_exponent"].describe()
    'one of 0.0, 0.5, 1.0'
    >>> "regularization_exponent" in default_space(data, backend="implicit")
    False
    """
    n_users, n_items = interactions.matrix.shape
    cap = min(n_users, n_items) // 2
    factors = tuple(f for f in _DEFAULT_FACTORS if f <= cap) or (max(1, cap),)
    space: dict[str, Dimension] = {
        "factors": Choice(factors),
        "regularization": ScaledLogUniform(0.1, 10.0),
        "alpha": ScaledLogUniform(0.1, 50.0),
        "iterations": Choice(_DEFAULT_ITERATIONS),
    }
    weightings = _weighting_values()
    if weightings:
        space["weighting"] = Choice(weightings)
    if getattr(backend, "name", backend) == "numpy":
        space["regularization_exponent"] = Choice(_DEFAULT_EXPONENTS)
    return space


def _as_dimension(name: str, value: object) -> Dimension:
    if isinstance(value, (LogUniform, ScaledLogUniform, Choice)):
        if isinstance(value, ScaledLogUniform) and name not in _SCALED:
            raise ConfigError(
                f"ScaledLogUniform only applies to 'regularization' and 'alpha', not "
                f"{name!r}; use LogUniform for other parameters."
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


def normalize_space(space: SpaceArg) -> dict[str, Dimension]:
    """Validate a search space and return its dimensions in ``ALSParams`` field order."""
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


def draw_parameters(
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


def _default_value(name: str, dim: Dimension) -> Any:
    """The value of ``dim`` closest to what :class:`ALSParams` uses when ``name`` is not given."""
    default: Any = next((f.default for f in dataclasses.fields(ALSParams) if f.name == name), None)
    if isinstance(dim, ScaledLogUniform):  # "auto" is the ratio 1
        return min(max(1.0, dim.low), dim.high)
    if isinstance(dim, LogUniform):
        numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
        value = float(default) if numeric else math.sqrt(dim.low * dim.high)
        if not dim.low <= value <= dim.high:
            value = math.sqrt(dim.low * dim.high)
        if dim.integer:
            return int(min(max(round(value), math.ceil(dim.low)), math.floor(dim.high)))
        return _round3(value)
    if isinstance(dim, Choice):
        same = [v for v in dim.values if v == default]
        return same[0] if same else dim.values[len(dim.values) // 2]
    return None


def default_point(
    space: Mapping[str, Dimension], matrix: sp.spmatrix | sp.sparray | None = None
) -> dict[str, Any] | None:
    """The point of ``space`` that :class:`ALSParams`' defaults are: the data-aware centre.

    Each dimension takes the default of its parameter when it holds it (a
    :class:`ScaledLogUniform` its ratio 1, ``"auto"``; a :class:`LogUniform` ``alpha``
    what ``alpha="auto"`` resolves to on ``matrix``, kept in the range), else its middle
    (the geometric centre of a log range, the middle one of the choices). ``None`` when a
    dimension is of a kind this cannot read (a user-made dimension).

    Parameters
    ----------
    space : mapping
        The normalized space (name -> dimension).
    matrix : scipy sparse matrix, optional
        The raw training weights, for the data-aware ``alpha``
        (:func:`alsrec.model.defaults.auto_alpha`); without it ``alpha`` takes its
        range's centre.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> space = {"regularization": ScaledLogUniform(), "alpha": LogUniform(0.1, 50),
    ...          "weighting": Choice(["bm25", "linear"]), "iterations": Choice([5, 8])}
    >>> default_point(space, sp.csr_matrix(np.ones((4, 3))))  # dense: alpha="auto" is 1
    {'regularization': 1.0, 'alpha': 1.0, 'weighting': 'linear', 'iterations': 8}
    """
    out = {name: _default_value(name, dim) for name, dim in space.items()}
    if any(v is None for v in out.values()):
        return None
    alpha = space.get("alpha")
    if matrix is not None and isinstance(alpha, LogUniform):
        options = {k: v for k, v in out.items() if k in _WEIGHTING_FIELDS}
        value = auto_alpha(matrix, ALSParams(**options))
        out["alpha"] = _round3(min(max(value, alpha.low), alpha.high))
    return out


def home_level(space: Mapping[str, Dimension], matrix: sp.spmatrix | sp.sparray) -> float:
    """The confidence level of ``matrix`` at the space's default point: the level
    (:func:`alsrec.model.statistics.matrix_level`) every :class:`ScaledLogUniform` trial's
    automatic regularization is scaled by.

    The default point's ``alpha`` and weighting fields (:func:`default_point`), or, for a
    space it cannot read, ``ALSParams()``'s defaults with ``alpha="auto"`` resolved.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> home_level({"alpha": LogUniform(0.1, 50)}, sp.csr_matrix(np.ones((4, 3))))  # c = 2
    2.0
    """
    return matrix_level(_home_confidence(space, matrix))


def _home_confidence(
    space: Mapping[str, Dimension], matrix: sp.spmatrix | sp.sparray
) -> sp.csr_matrix:
    """The confidences of ``matrix`` at the space's default point (see :func:`home_level`)."""
    point = default_point(space, matrix) or {}
    fields = {k: v for k, v in point.items() if k in _WEIGHTING_FIELDS or k == "alpha"}
    return params_confidence(matrix, _with_alpha(ALSParams(**fields), space, matrix))


def _with_alpha(
    params: ALSParams, space: Mapping[str, Dimension], matrix: sp.spmatrix | sp.sparray
) -> ALSParams:
    """``params`` with a concrete ``alpha``: ``"auto"`` resolved on ``matrix`` for their
    weighting, or a :class:`ScaledLogUniform` ratio times that value."""
    if isinstance(params.alpha, str):
        return dataclasses.replace(params, alpha=auto_alpha(matrix, params))
    if isinstance(space.get("alpha"), ScaledLogUniform):
        auto = auto_alpha(matrix, dataclasses.replace(params, alpha="auto"))
        return dataclasses.replace(params, alpha=_round3(params.alpha * auto))
    return params


def home_multiple(space: Mapping[str, Dimension], matrix: sp.spmatrix | sp.sparray) -> float:
    """The multiple of the noise scale in every :class:`ScaledLogUniform` trial's automatic
    regularization: :func:`~alsrec.model.defaults.auto_multiple` of the confidences at the
    space's default point (the multiple ``regularization="auto"`` gives them, its level
    :func:`home_level`).

    Computed once per search: every trial's confidence matrix has the pattern of
    ``matrix`` (confidences are at least 1, none is dropped), so the randomized SVD behind
    the ratio would give the same value for each.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> home_multiple({}, sp.csr_matrix(np.ones((4, 3))))  # small data: 0.8, level 2
    0.8
    """
    return auto_multiple(_home_confidence(space, matrix))


def _auto_scale(matrix: sp.csr_matrix, params: ALSParams, multiple: float | None) -> float:
    """What ``regularization="auto"`` gives ``matrix`` under ``params`` (alpha, weighting),
    with the noise scale's ``multiple`` (:func:`home_multiple`; the trial's own when
    ``None``)."""
    return auto_regularization(params_confidence(matrix, params), scale=multiple)


def resolve_draw(
    draw: dict[str, Any],
    space: dict[str, Dimension],
    matrix: sp.csr_matrix,
    random_state: int,
    multiple: float | None = None,
) -> tuple[ALSParams, float | None]:
    """The parameters of a draw (absolute regularization) and the automatic value it scaled.

    ``alpha`` is resolved on ``matrix`` when the draw leaves it ``"auto"`` (a space
    without an ``alpha`` dimension), as :meth:`alsrec.Recommender.fit` would, and a
    :class:`ScaledLogUniform` ``alpha`` ratio is multiplied by that value.
    ``multiple``: the noise scale's multiple of :func:`home_multiple` (the trial's own
    when ``None``).
    """
    values = {**draw, "random_state": random_state}
    scale: float | None = None
    try:
        unscaled = _with_alpha(ALSParams(**{**values, "regularization": 0.0}), space, matrix)
        values["alpha"] = unscaled.alpha
        if isinstance(space.get("regularization"), ScaledLogUniform):
            scale = _auto_scale(matrix, unscaled, multiple)
            values["regularization"] = _round3(draw["regularization"] * scale)
        return ALSParams(**values), scale
    except (ConfigError, TypeError) as exc:
        raise ConfigError(f"The search space gave invalid parameters {draw}: {exc}") from exc
