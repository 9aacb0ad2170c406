"""The staged search: explore cheaply, promote the best, refine locally, grow the factors.

:func:`staged_draws` decides which parameter sets to try, in batches, from the values of
the batches before; :func:`alsrec.tuning.search` trains and scores each batch (in worker
processes if asked) and records every trial. Nothing here trains a model, so the plan is
tested with a made-up objective.

A *point* is a dict of drawn values, one per dimension of the space (for a
:class:`~alsrec.tuning.ScaledLogUniform`, the ratio to the automatic regularization), the
same as a random draw. The stages:

1. **explore**: random points of the space at the exploration size (``factors`` 64, or
   the largest choice below it) and a quarter of the full ``iterations``;
2. **promote**: the best explored points, trained with the full ``iterations`` (the
   largest value of that dimension): successive halving with one cut;
3. **local**: a batched pattern search around the best full trial. Each round tries
   both neighbours of the centre along every dimension that is neither ``factors`` nor
   ``iterations`` (a multiplicative step on log-uniform dimensions, the adjacent value of
   a numeric choice, every other value of a choice of names, once); the best improving
   neighbour becomes the centre, and when none improves every step shrinks to its
   square root;
4. **grow**: the centre at each larger ``factors`` choice, in order, with the
   regularization ratio also one step up and down (larger models want more shrinkage);
   growing stops at the first size that does not improve;
5. **local** again, at the final size, with what is left of the budget.

A dimension added to the space takes part in the local stage without any change here,
whatever its kind (log-uniform, a numeric or a named choice).
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alsrec.tuning.space import Choice, Dimension, LogUniform, ScaledLogUniform

if TYPE_CHECKING:
    import numpy as np

__all__ = ["EXPLORE_FACTORS", "Budget", "staged_draws"]

EXPLORE_FACTORS = 64
"""Factors of the exploring, promoted and first local trials (or the largest choice
below it); larger choices are tried in the growing stage."""

_FIRST_STEP_SHARE = 1 / 6
"""A log-uniform dimension's first local step: this share of its log range."""
_LAST_STEP_SHARE = 1 / 40
"""Steps shrink (square root) until they are below this share of the log range."""
_GROW_STEP = 10**0.25
"""The regularization ratio's step up and down at each larger size."""
_GROW_TOLERANCE = 0.995
"""Growing goes on while a size scores at least this share of the best so far (the
validation metric is noisy; a size a hair below the best may lead to a better one)."""

Evaluate = Callable[[Sequence[dict[str, Any]], str], list[float]]
"""Train and score a batch of draws for a stage; returns their metric values."""


@dataclass(frozen=True)
class Budget:
    """How many trials each stage may use out of ``total``.

    Examples
    --------
    >>> Budget.split(60)
    Budget(total=60, explore=24, promote=6)
    >>> Budget.split(1)
    Budget(total=1, explore=1, promote=0)
    """

    total: int
    explore: int
    promote: int

    @classmethod
    def split(cls, total: int) -> Budget:
        """40% exploring, 10% promoted (at least one when two trials are allowed)."""
        explore = max(1, round(0.4 * total))
        promote = min(explore, max(1, round(0.1 * total))) if total > explore else 0
        return cls(total=total, explore=explore, promote=promote)


def _key(draw: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in draw.items()))


def _log_dimension(dim: Dimension) -> tuple[float, float] | None:
    if isinstance(dim, (LogUniform, ScaledLogUniform)):
        return dim.low, dim.high
    return None


def _numeric(values: tuple[Any, ...]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _round_like(dim: Dimension, value: float) -> float | int:
    if isinstance(dim, LogUniform) and dim.integer:
        return int(min(max(round(value), math.ceil(dim.low)), math.floor(dim.high)))
    low, high = typing.cast("tuple[float, float]", _log_dimension(dim))
    return min(max(float(f"{value:.3g}"), low), high)


class _Search:
    """The state of one staged search: every result so far, and the budget left."""

    def __init__(
        self,
        space: dict[str, Dimension],
        budget: Budget,
        rng: np.random.Generator,
        evaluate: Evaluate,
    ) -> None:
        self.space = space
        self.budget = budget
        self.rng = rng
        self.evaluate = evaluate
        self.values: dict[tuple[tuple[str, str], ...], float] = {}
        self.used = 0
        factors = space.get("factors")
        self.sizes: tuple[Any, ...] = ()
        if isinstance(factors, Choice) and _numeric(factors.values):
            self.sizes = tuple(sorted(factors.values))
        iterations = space.get("iterations")
        self.full_iterations: int | None = None
        if isinstance(iterations, Choice) and _numeric(iterations.values):
            ordered = sorted(iterations.values)
            self.full_iterations = int(ordered[(len(ordered) - 1) // 2])
        self.fixed = {"factors"} if self.sizes else set()
        if self.full_iterations is not None:
            self.fixed.add("iterations")
        self.movable = [
            name
            for name, dim in space.items()
            if name not in self.fixed
            and (
                _log_dimension(dim) is not None or (isinstance(dim, Choice) and len(dim.values) > 1)
            )
        ]

    @property
    def left(self) -> int:
        return self.budget.total - self.used

    def fidelity(self, draw: dict[str, Any], factors: Any, full: bool) -> dict[str, Any]:
        """``draw`` at ``factors`` and the full or the exploring number of iterations."""
        out = dict(draw)
        if self.sizes:
            out["factors"] = factors
        if self.full_iterations is not None:
            full_iterations = self.full_iterations
            out["iterations"] = full_iterations if full else max(1, full_iterations // 3)
        return out

    def run(self, draws: list[dict[str, Any]], stage: str) -> list[tuple[float, dict[str, Any]]]:
        """Score the draws not scored yet (within the budget); all of them with values."""
        fresh: list[dict[str, Any]] = []
        seen = set(self.values)
        for draw in draws:
            key = _key(draw)
            if key not in seen and len(fresh) < self.left:
                seen.add(key)
                fresh.append(draw)
        if fresh:
            for draw, value in zip(fresh, self.evaluate(fresh, stage), strict=True):
                self.values[_key(draw)] = value
            self.used += len(fresh)
        return [(self.values[_key(d)], d) for d in draws if _key(d) in self.values]

    # -- stages ---------------------------------------------------------------------------------

    def explore_size(self) -> Any:
        if not self.sizes:
            return None
        below = [f for f in self.sizes if f <= EXPLORE_FACTORS]
        return below[-1] if below else self.sizes[0]

    def explore(self, size: Any) -> list[tuple[float, dict[str, Any]]]:
        names = [n for n in self.space if n not in self.fixed]
        points: list[dict[str, Any]] = []
        seen: set[tuple[tuple[str, str], ...]] = set()
        for _ in range(self.budget.explore * 50):
            if len(points) == self.budget.explore:
                break
            point = {name: self.space[name].sample(self.rng) for name in names}
            if _key(point) not in seen:
                seen.add(_key(point))
                points.append(point)
        full = self.budget.promote == 0  # no second stage: explore at full fidelity
        draws = [self.fidelity(p, size, full) for p in points]
        return self.run(draws, "explore")

    def neighbours(
        self, centre: dict[str, Any], steps: dict[str, float], first: bool
    ) -> list[dict[str, Any]]:
        out = []
        for name in self.movable:
            dim = self.space[name]
            value = centre[name]
            if _log_dimension(dim) is not None:
                for factor in (steps[name], 1 / steps[name]):
                    moved = _round_like(dim, value * factor)
                    if moved != value:
                        out.append({**centre, name: moved})
            else:
                values = typing.cast("Choice", dim).values
                if _numeric(values):
                    ordered = sorted(values)
                    i = ordered.index(value)
                    out += [
                        {**centre, name: ordered[j]}
                        for j in (i + 1, i - 1)
                        if 0 <= j < len(ordered)
                    ]
                elif first:
                    out += [{**centre, name: v} for v in values if v != value]
        return out

    def first_steps(self, share: float) -> dict[str, float]:
        steps = {}
        for name in self.movable:
            bounds = _log_dimension(self.space[name])
            if bounds is not None:
                steps[name] = max((bounds[1] / bounds[0]) ** share, 1.0)
        return steps

    def local(
        self, best: tuple[float, dict[str, Any]], steps: dict[str, float], stop_at: int
    ) -> tuple[float, dict[str, Any]]:
        """Pattern search from ``best`` until ``stop_at`` trials are used or steps are tiny."""
        last = self.first_steps(_LAST_STEP_SHARE)
        first = True
        while self.used < stop_at:
            candidates = self.neighbours(best[1], steps, first)
            fresh = [c for c in candidates if _key(c) not in self.values]
            if not fresh and not first and all(steps[n] <= last[n] for n in steps):
                break
            budget_left = stop_at - self.used
            results = self.run(fresh[:budget_left], "local")
            results += [(self.values[_key(c)], c) for c in candidates if _key(c) in self.values]
            first = False
            top = max(results, key=lambda r: r[0], default=None)
            if top is not None and top[0] > best[0]:
                best = top
            else:
                if all(steps[n] <= last[n] for n in steps):
                    break
                steps = {n: math.sqrt(s) for n, s in steps.items()}
        return best

    def grow(self, best: tuple[float, dict[str, Any]]) -> tuple[float, dict[str, Any]]:
        """Try each larger size from the best so far; stop at one that is clearly worse."""
        if not self.sizes:
            return best
        reg = "regularization" if "regularization" in self.movable else None
        anchor = best
        for size in (f for f in self.sizes if f > best[1]["factors"]):
            centre = {**anchor[1], "factors": size}
            draws = [centre]
            if reg is not None:
                dim = self.space[reg]
                for factor in (_GROW_STEP, 1 / _GROW_STEP):
                    draws.append({**centre, reg: _round_like(dim, centre[reg] * factor)})
            top = _best(self.run(draws, "grow"))
            if top is None or top[0] < _GROW_TOLERANCE * best[0]:
                break  # clearly worse than the best: larger sizes will not help
            anchor = top  # about as good or better: grow on from here
            if top[0] > best[0]:
                best = top
        return best


def _best(results: list[tuple[float, dict[str, Any]]]) -> tuple[float, dict[str, Any]] | None:
    scored = [r for r in results if not math.isnan(r[0])]
    return max(scored, key=lambda r: r[0]) if scored else None


def staged_draws(
    space: dict[str, Dimension], budget: int, rng: np.random.Generator, evaluate: Evaluate
) -> None:
    """Run the staged search; ``evaluate`` is called once per batch, in order.

    Parameters
    ----------
    space : dict
        The normalized space (name -> dimension).
    budget : int
        Trials at most, over every stage.
    rng : numpy.random.Generator
        Source of the exploring draws (the only random choice).
    evaluate : callable
        ``evaluate(draws, stage)`` trains and scores a batch; returns one value per draw
        (NaN when unscorable).

    Examples
    --------
    >>> import math
    >>> import numpy as np
    >>> from alsrec.tuning import Choice, LogUniform
    >>> calls = []
    >>> def evaluate(draws, stage):
    ...     calls.append(stage)
    ...     return [-abs(math.log(d["alpha"] / 3)) for d in draws]  # best at alpha 3
    >>> space = {"alpha": LogUniform(0.1, 100), "iterations": Choice([12])}
    >>> staged_draws(space, 20, np.random.default_rng(0), evaluate)
    >>> calls[:3]
    ['explore', 'promote', 'local']
    """
    state = _Search(space, Budget.split(budget), rng, evaluate)
    size = state.explore_size()
    explored = state.explore(size)
    if state.budget.promote == 0 or not explored:
        return
    ranked = sorted((r for r in explored if not math.isnan(r[0])), key=lambda r: -r[0])[
        : state.budget.promote
    ]
    promoted = state.run(
        [state.fidelity(d, size, full=True) for _, d in ranked]
        or [state.fidelity(explored[0][1], size, full=True)],
        "promote",
    )
    best = _best(promoted)
    if best is None:
        return
    larger = sum(1 for f in state.sizes if size is not None and f > size)
    grow_reserve = min(3 * larger, max(0, state.left // 3))
    best = state.local(best, state.first_steps(_FIRST_STEP_SHARE), budget - grow_reserve)
    best = state.grow(best)
    state.local(best, state.first_steps(_FIRST_STEP_SHARE / 2), budget)
