"""What a search found: the trials, the best one, and each parameter's effect."""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from alsrec.checks import check_int
from alsrec.tuning.space import ScaledLogUniform

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from alsrec.params import ALSParams
    from alsrec.recommender import Recommender
    from alsrec.tuning.space import Choice, Dimension

__all__ = ["ParameterEffect", "Trial", "TuningReport"]


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
        The automatic regularization (:func:`alsrec.model.defaults.auto_regularization`
        for the trial's ``alpha`` and weighting) that multiplied the drawn ratio.
    fit_seconds : float
        Training time summed over the splits (not part of ``==``).
    seconds : float
        Training and evaluation time (not part of ``==``).
    stage : str
        The search stage that proposed the trial: ``"random"`` (a random search or grid),
        or one of the staged search's ``"explore"``, ``"promote"``, ``"local"``,
        ``"final"``, ``"grow"`` (see :mod:`alsrec.tuning.staged`). A ``"final"`` trial
        scores an earlier trial's parameters on further splits: its ``split_values`` are
        the earlier ones followed by the new ones, its ``value`` their mean.
    """

    index: int
    params: ALSParams
    value: float
    split_values: tuple[float, ...]
    sampled: Mapping[str, Any]
    scale: float | None
    fit_seconds: float = field(compare=False)
    seconds: float = field(compare=False)
    stage: str = "random"

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
            and self.stage == other.stage
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
            "stage": self.stage,
        }


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else value


@dataclass(frozen=True)
class ParameterEffect:
    """How the metric varied with one searched parameter, across the trials.

    Trials are grouped by the parameter's value (finite choices) or into up to three
    equal-sized bins of its drawn value (continuous dimensions; for a :class:`ScaledLogUniform`
    the ratio, so that the regularization's grouping is not confounded with ``alpha``).
    These are marginal means over a random search: a hint of what matters, not a controlled
    experiment.

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


def parameter_effects(
    trials: Sequence[Trial], space: dict[str, Dimension]
) -> tuple[ParameterEffect, ...]:
    """The mean score per level (or value bin) of each searched parameter that varied."""
    scored = [t for t in trials if not math.isnan(t.value)]
    out: list[ParameterEffect] = []
    if not scored:  # e.g. budget=1: the one trial explored, nothing to compare
        return ()
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
            bins = min(3, len({t.sampled[name] for t in ordered}))
            # Up to three bins of about equal size by rank; equal values share the bin of
            # the first of them (a level is never split, and no two levels show one value).
            bin_of: dict[Any, int] = {}
            for b, part in enumerate(np.array_split(np.arange(len(ordered)), bins)):
                for i in part.tolist():
                    bin_of.setdefault(ordered[i].sampled[name], b)
            for b in range(bins):
                members = [t for t in ordered if bin_of[t.sampled[name]] == b]
                if not members:
                    continue
                lo, hi = members[0].sampled[name], members[-1].sampled[name]
                label = f"{lo:.3g}" if lo == hi else f"{lo:.3g}..{hi:.3g}"
                if isinstance(dim, ScaledLogUniform):
                    label += " x auto"
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
        The chosen trial: the one with the highest mean metric (the earliest on ties)
        for a random search; for a staged search its winner (see
        :func:`alsrec.tuning.search`).
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
    strategy : str
        ``"staged"`` or ``"random"`` (see :func:`alsrec.tuning.search`).
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
    strategy: str = "random"

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
            "strategy": self.strategy,
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

    def _table_columns(self) -> list[str]:
        """The four main hyperparameters, then every other searched one that varies."""
        names = ["factors", "regularization", "alpha", "iterations"]
        for name in self.space:
            if name not in names and len({repr(t.params.to_dict()[name]) for t in self.trials}) > 1:
                names.append(name)
        return names

    def table(self, n: int | None = None) -> str:
        """The trials as a text table, best first (the ``n`` best when given).

        Columns: the factors, regularization, alpha and iterations of each trial, and every
        other dimension of the space whose value differs between trials (such as
        ``weighting`` and ``regularization_exponent`` in the default space). ``n`` is
        ``None`` (every trial) or an integer >= 1.
        """
        if n is not None:  # a negative n would slice off the worst trials without a word
            n = check_int("n", n, minimum=1)
        names = self._table_columns()
        staged = any(t.stage != "random" for t in self.trials)
        header = ["rank", "trial", f"{self.metric}@{self.k}", *names, *["stage"] * staged, "fit s"]
        rows = [header]
        for rank, trial in enumerate(self.ranked()[:n], 1):
            p = trial.params.to_dict()
            rows.append(
                [
                    str(rank),
                    str(trial.index),
                    "nan" if math.isnan(trial.value) else f"{trial.value:.4f}",
                    *(f"{p[m]:.3g}" if isinstance(p[m], float) else str(p[m]) for m in names),
                    *[trial.stage] * staged,
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
            f"Search ({self.strategy}): {len(self.trials)} trial{'s' * (len(self.trials) != 1)}, "
            f"{label} on {splits}, backend "
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
