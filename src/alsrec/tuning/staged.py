"""The staged search: explore cheaply, promote, refine locally, pick a finalist, grow.

:func:`staged_draws` decides which parameter sets to try, in batches, from the values of
the batches before; :func:`alsrec.tuning.search` trains and scores each batch (in worker
processes if asked) and records every trial. Nothing here trains a model, so the plan is
tested with a made-up objective.

A *point* is a dict of drawn values, one per dimension of the space (for a
:class:`~alsrec.tuning.ScaledLogUniform`, the ratio to the automatic value), the
same as a random draw. The stages:

1. **explore**: the data-aware centre (``start``: what a default fit uses, when the
   search is given it) and random points of the space, at the exploration size
   (``factors`` 64, or the largest choice below it) and a third of the full
   ``iterations``. The centre is a strong point on its own (a default fit reaches
   88-99% of a fine grid's best), and random draws of five dimensions rarely land near
   it;
2. **promote**: the best explored points, trained with the full ``iterations`` (the
   middle value of that dimension): successive halving with one cut. The start is
   always among them (unless its exploring trial could not be scored), in place of the
   last, or beside the only one where the budget promotes one point: at a third of the
   iterations a point near a sharp optimum can score far below what it reaches with all
   of them (on a synthetic set with flat popularity, seed 2, the start ranked sixth of
   twelve, and the local stage then spent its budget climbing from alpha 9 without
   reaching the optimum near 1);
3. **local**: a batched pattern search from the promoted point closest to the start
   among those not significantly below the best promoted one (:func:`within_noise` on
   their split values; the best one itself without a start). Promotion ranks points by
   two splits at a single draw each, and a lead there is mostly luck: climbing from a
   lucky point far from the data-aware start spent the local budget in the wrong
   region (MovieLens-100k binarized, seed 2: alpha 9-15 where the optimum is near 1).
   Each round tries
   both neighbours of the centre along every dimension that is neither ``factors`` nor
   ``iterations`` (a multiplicative step on log-uniform dimensions, the adjacent value of
   a numeric choice, every other value of a choice of names, once), and, when moves
   along two or more dimensions improve, the point that makes all of them at once; the
   best of these becomes the centre. Each log-uniform dimension keeps its own step, which
   shrinks to its square root (down to a floor of 1/40 of its log range) after a round
   in which neither of its moves improved: a sharp dimension (the regularization, whose
   optimum is often a narrow peak) is refined while a flat one keeps its long steps;
4. **final**: the best few distinct points of the local stage (the finalists) are scored
   again on further validation splits (when :func:`staged_draws` is told there are
   some), each a trial of its own within the budget; the finalist with the best mean over
   all its splits wins, or, when told each trial's split values, the finalist closest to
   the start among those not significantly below that mean (:func:`within_noise`). Near
   the optimum the differences between points are of the order of one split's noise, and
   the top of many noisy values is biased towards luck;
5. **grow**: the winner at each larger ``factors`` choice, in order, compared on the
   splits both were scored on; growing stops at the first size that scores clearly
   below the best so far, and the largest size before it wins (the refit trains on
   more data than the validation models and gains from the factors they cannot use).
   The regularization's optimum barely moves with the size (measured on MovieLens-100k
   and synthetic data from 64 to 256 factors), so each size is one trial.

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

__all__ = ["EXPLORE_FACTORS", "Budget", "staged_draws", "within_noise"]

EXPLORE_FACTORS = 64
"""Factors of the exploring, promoted and first local trials (or the largest choice
below it); larger choices are tried in the growing stage."""

_FIRST_STEP_SHARE = 1 / 6
"""A log-uniform dimension's first local step: this share of its log range."""
_LAST_STEP_SHARE = 1 / 40
"""Steps shrink (square root) until they are below this share of the log range."""
_EXPLORE_SHARE = 0.3
"""Share of the budget for the exploring draws."""
_PROMOTE_SHARE = 0.1
"""Share of the budget for the promoted draws (at least one when two trials are allowed)."""
_FINAL_SHARE = 0.075
"""Share of the budget for the finalists' scoring on further splits (3 of 40)."""
_NOISE_LEVEL = 0.05
"""One-sided level of the paired t-test that tells a finalist significantly below the best
mean from one within the splits' noise."""
_GROW_TOLERANCE = 0.995
"""Growing goes on while a size scores at least this share of the best so far, and the
largest such size wins: the validation metric is noisy, and the refit on all the data
gains from factors that validation models, trained on less, cannot use (the test NDCG@10
of a search's choice rose 0-0.9% from 64 to 256 factors on every dataset of
``benchmarks/scripts/search_vs_grid.py``)."""

Evaluate = Callable[[Sequence[dict[str, Any]], str], list[float]]
"""Train and score a batch of draws for a stage; returns their metric values.

For the ``"final"`` stage the draws were scored before: they are scored on the further
validation splits, and the value returned is the mean over every split each was scored
on."""

Result = tuple[float, dict[str, Any]]


@dataclass(frozen=True)
class Budget:
    """How many trials each stage may use out of ``total``.

    ``final`` trials are reserved only when there are further splits to score the
    finalists on, and only when at least two finalists fit (there is nothing to choose
    between otherwise).

    Examples
    --------
    >>> Budget.split(40)
    Budget(total=40, explore=12, promote=4, final=3)
    >>> Budget.split(40, final_splits=False)
    Budget(total=40, explore=12, promote=4, final=0)
    >>> Budget.split(1)
    Budget(total=1, explore=1, promote=0, final=0)
    """

    total: int
    explore: int
    promote: int
    final: int = 0

    @classmethod
    def split(cls, total: int, *, final_splits: bool = True) -> Budget:
        """30% exploring, 10% promoted, 7.5% finalists (when 2 or more), the rest local."""
        explore = max(1, round(_EXPLORE_SHARE * total))
        promote = min(explore, max(1, round(_PROMOTE_SHARE * total))) if total > explore else 0
        final = round(_FINAL_SHARE * total) if final_splits else 0
        if final < 2 or explore + promote + final >= total:
            final = 0
        return cls(total=total, explore=explore, promote=promote, final=final)


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
        start: dict[str, Any] | None = None,
        split_values: Callable[[dict[str, Any]], tuple[float, ...]] | None = None,
    ) -> None:
        self.space = space
        self.start = start
        self.split_values = split_values
        self.budget = budget
        self.rng = rng
        self.evaluate = evaluate
        self.values: dict[tuple[tuple[str, str], ...], float] = {}
        self.draws: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
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

    def run(self, draws: list[dict[str, Any]], stage: str) -> list[Result]:
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
                self.draws[_key(draw)] = draw
            self.used += len(fresh)
        return [(self.values[_key(d)], d) for d in draws if _key(d) in self.values]

    # -- stages ---------------------------------------------------------------------------------

    def explore_size(self) -> Any:
        if not self.sizes:
            return None
        below = [f for f in self.sizes if f <= EXPLORE_FACTORS]
        return below[-1] if below else self.sizes[0]

    def home(self) -> dict[str, Any] | None:
        """The start's values of the searched dimensions (``None`` without a full start)."""
        names = [n for n in self.space if n not in self.fixed]
        if self.start is None or not all(name in self.start for name in names):
            return None
        return {name: self.start[name] for name in names}

    def explore(self, size: Any) -> list[Result]:
        names = [n for n in self.space if n not in self.fixed]
        home = self.home()
        points: list[dict[str, Any]] = [] if home is None else [home]
        seen = {_key(p) for p in points}
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
    ) -> list[tuple[str, dict[str, Any]]]:
        """``(dimension, point)`` for each neighbour of ``centre``."""
        out = []
        for name in self.movable:
            dim = self.space[name]
            value = centre[name]
            if _log_dimension(dim) is not None:
                for factor in (steps[name], 1 / steps[name]):
                    moved = _round_like(dim, value * factor)
                    if moved != value:
                        out.append((name, {**centre, name: moved}))
            else:
                values = typing.cast("Choice", dim).values
                if _numeric(values):
                    ordered = sorted(values)
                    i = ordered.index(value)
                    out += [
                        (name, {**centre, name: ordered[j]})
                        for j in (i + 1, i - 1)
                        if 0 <= j < len(ordered)
                    ]
                elif first:
                    out += [(name, {**centre, name: v}) for v in values if v != value]
        return out

    def first_steps(self, share: float) -> dict[str, float]:
        steps = {}
        for name in self.movable:
            bounds = _log_dimension(self.space[name])
            if bounds is not None:
                steps[name] = max((bounds[1] / bounds[0]) ** share, 1.0)
        return steps

    def local(self, best: Result, steps: dict[str, float], stop_at: int) -> Result:
        """Pattern search from ``best`` until ``stop_at`` trials are used or steps are tiny.

        A dimension's step shrinks (down to the last step) after a round in which none of
        its moves beat the centre; the search ends when no move improves and every step is
        at the last.
        """
        last = self.first_steps(_LAST_STEP_SHARE)
        first = True
        while self.used < stop_at:
            candidates = self.neighbours(best[1], steps, first)
            fresh = [c for _, c in candidates if _key(c) not in self.values]
            if not fresh and not first and all(steps[n] <= last[n] for n in steps):
                break
            self.run(fresh[: stop_at - self.used], "local")
            first = False
            scored = [
                (self.values[_key(c)], name, c)
                for name, c in candidates
                if _key(c) in self.values and not math.isnan(self.values[_key(c)])
            ]
            moves: dict[str, tuple[float, dict[str, Any]]] = {}
            for value, name, point in scored:
                if value > best[0] and (name not in moves or value > moves[name][0]):
                    moves[name] = (value, point)
            improving = set(moves)
            top = max(scored, key=lambda r: r[0], default=None)
            if len(moves) > 1 and self.used < stop_at:  # every improving move at once
                combined = {**best[1], **{n: p[n] for n, (_, p) in moves.items()}}
                scored += [(v, "", c) for v, c in self.run([combined], "local")]
                top = max(scored, key=lambda r: r[0])
            if top is not None and top[0] > best[0]:
                best = (top[0], top[2])
            elif all(steps[n] <= last[n] for n in steps):
                break
            steps = {
                n: s if n in improving else max(math.sqrt(s), last[n]) for n, s in steps.items()
            }
        return best

    def anchor(self, promoted: list[Result]) -> Result | None:
        """Where the local stage starts: the promoted point closest to the start among
        those not significantly below the best (the best itself without a start)."""
        best = _best(promoted)
        if best is None or self.start is None or self.split_values is None:
            return best
        top = self.split_values(best[1])
        close = [
            r
            for r in promoted
            if not math.isnan(r[0]) and (r is best or within_noise(top, self.split_values(r[1])))
        ]
        return min(close, key=lambda r: self.distance(r[1]))

    def finalists(self, size: Any) -> list[dict[str, Any]]:
        """The best distinct full-fidelity points at ``size``, as many as the budget has."""
        full = [
            (value, self.draws[key])
            for key, value in self.values.items()
            if not math.isnan(value)
            and self.draws[key] == self.fidelity(self.draws[key], size, full=True)
        ]
        full.sort(key=lambda r: -r[0])
        return [draw for _, draw in full[: self.budget.final]]

    def final(self, best: Result, size: Any) -> Result:
        """Score the finalists on the further splits; the best mean over all splits wins.

        The winner keeps its value on the splits every trial was scored on, so that the
        growing stage compares sizes on equal terms.
        """
        finalists = self.finalists(size)
        if len(finalists) < 2 or self.left < len(finalists):
            return best
        means = self.evaluate(finalists, "final")
        self.used += len(finalists)
        ranked = [(m, d) for m, d in zip(means, finalists, strict=True) if not math.isnan(m)]
        if not ranked:
            return best
        winner = max(ranked, key=lambda r: r[0])[1]
        if self.start is not None and self.split_values is not None:
            top = self.split_values(winner)
            close = [d for _, d in ranked if within_noise(top, self.split_values(d))]
            winner = min(close, key=self.distance)  # max() above: the winner is in close
        return self.values[_key(winner)], winner

    def distance(self, draw: dict[str, Any]) -> float:
        """How far ``draw`` is from the start: the sum over dimensions of the share of the
        range between them (log range; positions of numeric choices; 0 or 1 for names)."""
        start = typing.cast("dict[str, Any]", self.start)
        total = 0.0
        for name in self.movable:
            dim, value, centre = self.space[name], draw[name], start.get(name)
            bounds = _log_dimension(dim)
            if centre is None or value == centre:
                continue
            if bounds is not None:
                span = math.log(bounds[1] / bounds[0]) or 1.0
                total += abs(math.log(value / centre)) / span
            elif _numeric(values := typing.cast("Choice", dim).values) and centre in values:
                ordered = sorted(values)
                total += abs(ordered.index(value) - ordered.index(centre)) / (len(values) - 1)
            else:
                total += 1.0
        return total

    def grow(self, best: Result) -> Result:
        """Try each larger size from the best so far; stop at one that is clearly worse.

        The largest size tried that is not clearly worse than the best so far wins: the
        refit trains on more data than the validation models, which carries more factors.
        """
        if not self.sizes:
            return best
        start, peak = best, best[0]
        for size in (f for f in self.sizes if f > start[1]["factors"]):
            top = _best(self.run([{**start[1], "factors": size}], "grow"))
            if top is None or top[0] < _GROW_TOLERANCE * peak:
                break  # clearly worse than the best: larger sizes will not help
            best, peak = top, max(peak, top[0])
        return best


def within_noise(best: Sequence[float], other: Sequence[float]) -> bool:
    """Whether ``other``'s split values are not significantly below ``best``'s.

    A paired t-test on the splits both were scored on (NaN pairs left out), one-sided at
    the 5% level; with fewer than two splits nothing tells noise from a gap (``False``).

    Parameters
    ----------
    best, other : sequence of float
        The values of two parameter sets on the same validation splits, in order.

    Returns
    -------
    bool
        ``True`` when the gap ``best - other`` is within the splits' noise.

    Examples
    --------
    >>> within_noise([0.30, 0.32, 0.29, 0.31], [0.31, 0.30, 0.30, 0.30])
    True
    >>> within_noise([0.30, 0.32, 0.29, 0.31], [0.29, 0.31, 0.28, 0.30])
    False
    """
    pairs = [
        (b, o) for b, o in zip(best, other, strict=False) if not (math.isnan(b) or math.isnan(o))
    ]
    if len(pairs) < 2:
        return False
    gaps = [b - o for b, o in pairs]
    mean = sum(gaps) / len(gaps)
    spread = math.sqrt(sum((g - mean) ** 2 for g in gaps) / (len(gaps) - 1))
    if spread == 0:
        return mean <= 0
    import scipy.stats  # here, not at the top: it takes 0.5-0.7 s to import

    limit = float(scipy.stats.t.ppf(1 - _NOISE_LEVEL, len(gaps) - 1))
    return mean / (spread / math.sqrt(len(gaps))) < limit


def _best(results: list[Result]) -> Result | None:
    scored = [r for r in results if not math.isnan(r[0])]
    return max(scored, key=lambda r: r[0]) if scored else None


def staged_draws(
    space: dict[str, Dimension],
    budget: int,
    rng: np.random.Generator,
    evaluate: Evaluate,
    *,
    final_splits: bool = False,
    start: dict[str, Any] | None = None,
    split_values: Callable[[dict[str, Any]], tuple[float, ...]] | None = None,
) -> dict[str, Any] | None:
    """Run the staged search; ``evaluate`` is called once per batch, in order.

    Parameters
    ----------
    space : dict
        The normalized space (name -> dimension).
    budget : int
        Trials at most, over every stage (a finalist's scoring on further splits is a
        trial).
    rng : numpy.random.Generator
        Source of the exploring draws (the only random choice).
    evaluate : callable
        ``evaluate(draws, stage)`` trains and scores a batch; returns one value per draw
        (NaN when unscorable). See :data:`Evaluate` for the ``"final"`` stage.
    final_splits : bool, default False
        Whether ``evaluate`` can score finalists on further splits (the final stage).
    start : dict, optional
        A point (a value per dimension) explored first, before the random draws: the
        data-aware defaults (:func:`alsrec.tuning.space.default_point`) when
        :func:`alsrec.tuning.search` runs the search.
    split_values : callable, optional
        ``split_values(draw)``: a scored draw's value on each split, in the order of the
        splits. With it and ``start``, the final stage prefers, among the finalists not
        significantly below the best mean (a paired t-test on the splits), the one
        closest to ``start``.

    Returns
    -------
    dict or None
        The chosen draw: the winner of the final and growing stages, or, when the budget
        left no final stage, the best point trained with every iteration (promoted or
        local). ``None`` when nothing was promoted (a budget too small for a second
        stage explores at full fidelity; then the trial with the best value is the
        choice, as in a random search).

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
    >>> chosen = staged_draws(space, 20, np.random.default_rng(0), evaluate, final_splits=True)
    >>> calls[:3], calls[-1]
    (['explore', 'promote', 'local'], 'final')
    >>> 2.5 < chosen["alpha"] < 3.5
    True
    """
    state = _Search(
        space, Budget.split(budget, final_splits=final_splits), rng, evaluate, start, split_values
    )
    size = state.explore_size()
    explored = state.explore(size)
    if state.budget.promote == 0 or not explored:
        return None
    ranked = [
        d for _, d in sorted((r for r in explored if not math.isnan(r[0])), key=lambda r: -r[0])
    ][: state.budget.promote]
    home = state.home()
    if home is not None and ranked:
        start = state.fidelity(home, size, full=False)
        scored = not math.isnan(state.values.get(_key(start), math.nan))
        if scored and start not in ranked:  # the start is always promoted: see the module docs
            # in place of the last, or beside the only one (a small budget): the best
            # explored point is always trained in full too
            ranked = [*ranked[: max(1, state.budget.promote - 1)], start]
    promoted = state.run(
        [state.fidelity(d, size, full=True) for d in ranked]
        or [state.fidelity(explored[0][1], size, full=True)],
        "promote",
    )
    best = state.anchor(promoted)
    if best is None:
        return None
    larger = sum(1 for f in state.sizes if size is not None and f > size)
    grow_reserve = min(larger, max(0, state.left // 3))
    stop_at = budget - grow_reserve - state.budget.final
    best = state.local(best, state.first_steps(_FIRST_STEP_SHARE), stop_at)
    best = state.grow(state.final(best, size))
    # Without a final stage (a small budget) this is still the best full-fidelity point:
    # an exploring trial's value, at a third of the iterations, is not comparable.
    return best[1]
