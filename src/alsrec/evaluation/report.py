"""The evaluation report: every metric with bootstrap intervals, next to popularity."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from alsrec.checks import check_bool, check_seed
from alsrec.data.interactions import require_interactions
from alsrec.evaluation.baselines import popularity_recommender
from alsrec.evaluation.metrics import (
    METRICS,
    UserMetrics,
    check_arguments,
    check_k,
    per_user_metrics,
    training_matrix,
    warn_if_trained_on,
)
from alsrec.exceptions import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from alsrec.data.interactions import Interactions
    from alsrec.evaluation.metrics import Ranker

__all__ = ["EvaluationReport", "MetricEstimate", "evaluate"]

_CONFIDENCE_LEVEL = 0.95
_BOOTSTRAP_BLOCK = 1 << 22
"""Resample entries (resamples x users) drawn at once, bounding bootstrap memory."""


@dataclass(frozen=True)
class MetricEstimate:
    """One metric: its value on the evaluated users and a bootstrap interval.

    ``low`` and ``high`` are ``None`` when no interval was computed (``bootstrap=0``, and
    always for coverage).
    """

    value: float
    low: float | None = None
    high: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        """``{"value": ..., "low": ..., "high": ...}``."""
        return {"value": self.value, "low": self.low, "high": self.high}


_LABELS = {
    "precision": "precision",
    "recall": "recall",
    "capped_recall": "capped recall",
    "map": "MAP",
    "ndcg": "NDCG",
    "hit_rate": "hit rate",
    "mrr": "MRR",
    "auc": "AUC",
    "coverage": "coverage",
    "popularity_rank": "popularity rank",
}


def format_estimate(value: float | None) -> str:
    """A metric value as a report shows it (``""`` for ``None``)."""
    if value is None:
        return ""
    if not np.isfinite(value):
        return "nan"
    return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"


def format_interval(est: MetricEstimate) -> str:
    """The interval of an estimate as a report shows it (``""`` when it has none)."""
    if est.low is None or est.high is None:
        return ""
    return f"[{format_estimate(est.low)}, {format_estimate(est.high)}]"


@dataclass(frozen=True)
class EvaluationReport:
    """What :func:`evaluate` measured: each metric for the model and for popularity.

    Attributes
    ----------
    k : int
        List length.
    metrics : Mapping[str, MetricEstimate]
        The model's metrics, keyed by the names in :data:`METRICS`.
    baseline : Mapping[str, MetricEstimate] or None
        The popularity baseline on the same split and users (``None`` when not asked).
    n_users : int
        Evaluated users.
    n_items : int
        Items the model knows (the catalog).
    skipped_unknown_users, skipped_users_without_relevant, dropped_seen_pairs, \
dropped_unknown_item_pairs : int
        What could not be evaluated, as in :class:`UserMetrics`.
    bootstrap : int
        Number of bootstrap resamples (0: no intervals).
    confidence_level : float
        Coverage of the intervals (0.95).
    random_state : int or None
        Seed of the resampling.
    """

    k: int
    metrics: Mapping[str, MetricEstimate]
    baseline: Mapping[str, MetricEstimate] | None
    n_users: int
    n_items: int
    skipped_unknown_users: int
    skipped_users_without_relevant: int
    dropped_seen_pairs: int
    dropped_unknown_item_pairs: int
    bootstrap: int
    confidence_level: float = _CONFIDENCE_LEVEL
    random_state: int | None = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: counts, then ``metrics`` and ``baseline`` by metric name."""
        return {
            "k": self.k,
            "n_users": self.n_users,
            "n_items": self.n_items,
            "skipped_unknown_users": self.skipped_unknown_users,
            "skipped_users_without_relevant": self.skipped_users_without_relevant,
            "dropped_seen_pairs": self.dropped_seen_pairs,
            "dropped_unknown_item_pairs": self.dropped_unknown_item_pairs,
            "bootstrap": self.bootstrap,
            "confidence_level": self.confidence_level,
            "random_state": self.random_state,
            "metrics": {name: est.to_dict() for name, est in self.metrics.items()},
            "baseline": None
            if self.baseline is None
            else {name: est.to_dict() for name, est in self.baseline.items()},
        }

    def __str__(self) -> str:
        level = f"{round(self.confidence_level * 100)}% CI"
        header = ["metric", "model", level]
        if self.baseline is not None:
            header += ["popularity", level]
        rows = [header]
        for name, est in self.metrics.items():
            row = [
                f"{_LABELS.get(name, name)}@{self.k}",
                format_estimate(est.value),
                format_interval(est),
            ]
            if self.baseline is not None:
                base = self.baseline[name]
                row += [format_estimate(base.value), format_interval(base)]
            rows.append(row)
        value_columns = set(range(1, len(header), 2))
        if not self.bootstrap:  # no intervals: no empty interval columns
            rows = [[row[0], *row[1::2]] for row in rows]
            header = rows[0]
            value_columns = set(range(1, len(header)))
        widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
        lines = [
            f"Evaluation at k={self.k}: {self.n_users} users, {self.n_items} items in the catalog"
        ]
        counts = (
            ("test users unknown to the model", self.skipped_unknown_users),
            ("users without a scorable test item", self.skipped_users_without_relevant),
            ("test pairs already in training", self.dropped_seen_pairs),
            ("test pairs with unknown items", self.dropped_unknown_item_pairs),
        )
        notes = [f"{what} {count}" for what, count in counts if count]
        if notes:
            lines.append("  not scored: " + ", ".join(notes))
        if self.bootstrap:
            lines.append(
                f"  intervals: percentile bootstrap over users, {self.bootstrap} resamples"
            )
        lines.append("")
        for row in rows:
            cells = [row[0].ljust(widths[0])] + [
                cell.rjust(widths[c]) if c in value_columns else cell.ljust(widths[c])
                for c, cell in enumerate(row[1:], 1)
            ]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)


def metric_estimates(
    metrics: UserMetrics, counts_blocks: list[npt.NDArray[np.float64]]
) -> dict[str, MetricEstimate]:
    """Each metric of ``metrics`` with its bootstrap interval over ``counts_blocks``."""
    terms = metrics.ratio_terms()
    out: dict[str, MetricEstimate] = {}
    tail = (1.0 - _CONFIDENCE_LEVEL) / 2.0 * 100.0
    for name in METRICS:
        if name == "coverage":
            out[name] = MetricEstimate(float(metrics.coverage))
            continue
        num, den = terms[name]
        total_den = float(den.sum())
        value = float(num.sum()) / total_den if total_den else float("nan")
        if not counts_blocks:
            out[name] = MetricEstimate(value)
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            resampled = np.concatenate([(c @ num) / (c @ den) for c in counts_blocks])
        finite = resampled[np.isfinite(resampled)]
        if finite.size == 0:
            out[name] = MetricEstimate(value)
            continue
        low, high = np.percentile(finite, [tail, 100.0 - tail])
        out[name] = MetricEstimate(value, float(low), float(high))
    return out


def bootstrap_counts(n: int, resamples: int, random_state: int | None) -> list[npt.NDArray[Any]]:
    """How often each user is drawn in each resample, in blocks of resamples."""
    rng = np.random.default_rng(check_seed("random_state", random_state))
    per_block = max(1, _BOOTSTRAP_BLOCK // max(n, 1))
    blocks = []
    for start in range(0, resamples, per_block):
        b = min(per_block, resamples - start)
        draws = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        blocks.append(np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(float))
    return blocks


def evaluate(
    recommender: Ranker,
    test: Interactions,
    k: int = 10,
    *,
    train: Interactions | None = None,
    bootstrap: int = 1000,
    random_state: int | None = 0,
    baseline: bool = True,
) -> EvaluationReport:
    """Measure a fitted model on held-out interactions, next to the popularity baseline.

    Computes every metric of :data:`METRICS` (defined in the module documentation) at
    ``k`` over the evaluated users, with percentile-bootstrap 95% intervals, and the same
    for a popularity recommender fitted on the same training interactions, on the same
    users, with the same resamples.

    Parameters
    ----------
    recommender : Recommender or PopularityBaseline
        The fitted model.
    test : Interactions
        Held-out interactions, e.g. the second part of :func:`holdout_split`.
    k : int, default 10
        List length.
    train : Interactions, optional
        The training interactions; defaults to what the model was fitted on.
    bootstrap : int, default 1000
        Number of resamples for the intervals; 0 skips them.
    random_state : int or None, default 0
        Seed of the resampling.
    baseline : bool, default True
        Also evaluate the popularity baseline.

    Returns
    -------
    EvaluationReport
        ``str(report)`` is a table; ``report.to_dict()`` is JSON-ready.

    Raises
    ------
    ConfigError
        Bad ``k`` or ``bootstrap``; a model without training interactions and no ``train``.
    DataError
        No test user can be evaluated.

    Examples
    --------
    >>> from alsrec import Interactions, Recommender
    >>> from alsrec.data import synthetic
    >>> from alsrec.evaluation import holdout_split
    >>> data = synthetic(n_users=200, n_items=80, random_state=0)
    >>> full = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)
    >>> train, test = holdout_split(full, 0.2, random_state=0)
    >>> rec = Recommender(factors=8, regularization=1.0, iterations=5, random_state=0).fit(train)
    >>> report = evaluate(rec, test, k=10, bootstrap=100)
    >>> report.metrics["ndcg"].value > report.baseline["ndcg"].value
    True
    >>> est = report.metrics["recall"]
    >>> est.low <= est.value <= est.high
    True
    """
    check_arguments("evaluate", recommender, test, "recommender")
    if train is not None:
        require_interactions(train, "train", "evaluate")
        warn_if_trained_on(  # without train=, the seen matrix itself would refuse this
            recommender,
            test,
            " (train= names what to leave out of the test items; the "
            "model leaves out what it was fitted on.)",
        )
    k = check_k(k)
    baseline = check_bool("baseline", baseline)
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)):
        raise ConfigError(f"bootstrap must be an integer >= 0, got {bootstrap!r}.")
    if bootstrap < 0:
        raise ConfigError(f"bootstrap must be >= 0, got {bootstrap!r}.")
    model_metrics = per_user_metrics(recommender, test, k, train=train)
    base_metrics: UserMetrics | None = None
    if baseline:
        seen = training_matrix(recommender, train)
        popular = popularity_recommender(
            recommender.users_, recommender.items_, seen, recommender.policy
        )
        base_metrics = per_user_metrics(popular, test, k, train=train)
    counts = bootstrap_counts(len(model_metrics), int(bootstrap), random_state)
    return EvaluationReport(
        k=k,
        metrics=MappingProxyType(metric_estimates(model_metrics, counts)),
        baseline=None
        if base_metrics is None
        else MappingProxyType(metric_estimates(base_metrics, counts)),
        n_users=len(model_metrics),
        n_items=model_metrics.n_catalog,
        skipped_unknown_users=model_metrics.skipped_unknown_users,
        skipped_users_without_relevant=model_metrics.skipped_users_without_relevant,
        dropped_seen_pairs=model_metrics.dropped_seen_pairs,
        dropped_unknown_item_pairs=model_metrics.dropped_unknown_item_pairs,
        bootstrap=int(bootstrap),
        random_state=random_state,
    )
