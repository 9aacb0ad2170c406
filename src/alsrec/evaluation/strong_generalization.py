"""The strong-generalization protocol: fold in held-out users, score the rest of their items.

Liang, Krishnan, Hoffman and Jebara (WWW 2018, "Variational Autoencoders for
Collaborative Filtering") evaluate on users the model never trained on: each held-out
user's history is split into a part the model may see (folded in at evaluation time,
without retraining) and a part it must rank. Rendle, Krichene, Zhang and Koren (RecSys
2022) report iALS under the same protocol. :func:`~alsrec.evaluation.user_split` makes the
split; :func:`evaluate_strong_generalization` measures it, through the batch fold-in of
:meth:`~alsrec.Recommender.recommend_many` (``histories=``): the item factors stay fixed
and each held-out user's factor row is the exact least-squares solve against them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from alsrec.checks import check_bool
from alsrec.data.interactions import Interactions
from alsrec.evaluation.baselines import popularity_recommender
from alsrec.evaluation.metrics import (
    UserMetrics,
    assemble_metrics,
    check_id_kinds,
    check_k,
    is_member,
    pair_keys,
    stored_entries,
    training_matrix,
)
from alsrec.evaluation.report import (
    EvaluationReport,
    MetricEstimate,
    bootstrap_counts,
    format_estimate,
    format_interval,
    metric_estimates,
)
from alsrec.exceptions import ConfigError, DataError
from alsrec.mapping import IdMapper

if TYPE_CHECKING:
    from collections.abc import Mapping

    from alsrec.evaluation.splits import HeldOutUsers
    from alsrec.recommender import Recommender
    from alsrec.types import IdArray, IndexArray

__all__ = [
    "StrongGeneralizationReport",
    "evaluate_strong_generalization",
    "heldout_user_metrics",
]

_USER_BLOCK = 4096
"""Held-out users folded in and ranked per ``recommend_many`` call (bounds memory)."""


def _model_matrix(
    part: Interactions, rows_of_users: IndexArray, items: IdMapper, n_rows: int
) -> tuple[sp.csr_matrix, int]:
    """``part`` in (row x model item) space, and how many of its pairs have unknown items."""
    coo = part.matrix.tocoo()
    rows = rows_of_users[coo.row]
    cols = items.to_index(part.items.ids, missing="negative")[coo.col].astype(np.int64)
    keep = (rows >= 0) & (cols >= 0)
    out = sp.csr_matrix(
        (coo.data[keep].astype(np.float32), (rows[keep], cols[keep])),
        shape=(n_rows, len(items)),
    )
    out.sum_duplicates()
    out.sort_indices()
    return out, int(((rows >= 0) & (cols < 0)).sum())


def _ranked(
    recommender: Recommender, user_ids: IdArray, k: int, history: sp.csr_matrix | None
) -> IndexArray:
    """Each user's top-``k`` item indices (``-1`` padded), folding in ``history`` rows."""
    items = recommender.items_
    top = np.full((user_ids.size, k), -1, dtype=np.int64)
    for start in range(0, user_ids.size, _USER_BLOCK):
        stop = min(start + _USER_BLOCK, user_ids.size)
        block = user_ids[start:stop]
        if history is None:
            batch = recommender.recommend_many(block, n=k, policy="safe")
        else:
            part = history[start:stop]
            histories: dict[Any, IdArray] = {}  # keys: int or str IDs, as the model's
            weights: dict[Any, npt.NDArray[np.float32]] = {}
            for i, user in enumerate(block.tolist()):
                lo, hi = part.indptr[i], part.indptr[i + 1]
                if hi > lo:
                    histories[user] = items.ids[part.indices[lo:hi]]
                    weights[user] = part.data[lo:hi]
            batch = recommender.recommend_many(
                block, n=k, histories=histories, history_weights=weights, policy="safe"
            )
        width = batch.ids.shape[1]
        found = np.full((stop - start, width), -1, dtype=np.int64)
        if batch.mask.any():
            found[batch.mask] = items.to_index(batch.ids[batch.mask])
        top[start:stop, :width] = found
    return top


def _heldout_parts(heldout: object) -> tuple[Interactions, Interactions]:
    if (
        not isinstance(heldout, tuple)
        or len(heldout) != 2
        or not all(isinstance(part, Interactions) for part in heldout)
    ):
        raise ConfigError(
            "heldout must be a HeldOutUsers (fold_in, target) of two Interactions, e.g. "
            f"user_split(...).test, got {type(heldout).__name__}."
        )
    return heldout[0], heldout[1]


def heldout_user_metrics(
    recommender: Recommender,
    heldout: HeldOutUsers,
    k: int = 100,
    *,
    train: Interactions | None = None,
    baseline: bool = False,
) -> UserMetrics:
    """Fold in held-out users' histories and compute their top-``k`` lists and hits.

    For each user of ``heldout.target``: the user's ``heldout.fold_in`` rows are folded
    in (one batch fold-in per block of users, no retraining), the list excludes them,
    and the relevant items are the user's ``target`` items that the model knows and that
    are not fold-in items (those pairs are counted in ``dropped_seen_pairs``, unknown
    items in ``dropped_unknown_item_pairs``). Users without a relevant item are counted
    in ``skipped_users_without_relevant``; a user without a fold-in history gets the
    model's answer for an unknown user (the most popular items). Metric definitions are
    those of :mod:`alsrec.evaluation`, with the fold-in items in the role of training
    items.

    Parameters
    ----------
    recommender : Recommender
        A model fitted without the held-out users.
    heldout : HeldOutUsers
        ``(fold_in, target)``, e.g. ``user_split(...).test``.
    k : int, default 100
        List length.
    train : Interactions, optional
        The training interactions, for the popularity ranks (and the baseline); defaults
        to what the model was fitted on.
    baseline : bool, default False
        Rank by training popularity instead of by the model (the fold-in items still
        excluded): the popularity baseline on the same users.

    Returns
    -------
    UserMetrics

    Raises
    ------
    ConfigError
        Bad ``k`` or ``heldout``; a model without training interactions and no ``train``.
    DataError
        A held-out user is a user of the model (the protocol needs users it never saw),
        IDs of another type (int/str) than the model's, or no user to evaluate.

    Examples
    --------
    >>> from alsrec import Interactions, Recommender
    >>> from alsrec.data import synthetic
    >>> from alsrec.evaluation import user_split
    >>> data = synthetic(n_users=300, n_items=80, random_state=0)
    >>> full = Interactions.from_arrays(data.user_ids, data.item_ids)
    >>> split = user_split(full, 0, 50, random_state=0)
    >>> rec = Recommender(factors=8, iterations=5, random_state=0).fit(split.train)
    >>> m = heldout_user_metrics(rec, split.test, k=20)
    >>> len(m), m.k, bool(m.ndcg.mean() > heldout_user_metrics(rec, split.test, 20,
    ...     baseline=True).ndcg.mean())
    (50, 20, True)
    """
    k = check_k(k)
    fold_in, target = _heldout_parts(heldout)
    check_id_kinds(recommender, [("fold-in", fold_in), ("target", target), ("training", train)])
    users, items = recommender.users_, recommender.items_
    n_catalog = len(items)
    for name, part in (("fold-in", fold_in), ("target", target)):
        trained = users.to_index(part.users.ids, missing="negative") >= 0
        if trained.any():
            example = part.users.ids[trained][:3].tolist()
            raise DataError(
                f"{int(trained.sum())} {name} users are users of the model (e.g. {example}); "
                "strong generalization scores users the model was not trained on. Fit "
                "on user_split(...).train."
            )
    seen_train = training_matrix(recommender, train)
    n_target_users = len(target.users)
    target_rows = np.arange(n_target_users, dtype=np.int64)
    history, _ = _model_matrix(
        fold_in,
        target.users.to_index(fold_in.users.ids, missing="negative").astype(np.int64),
        items,
        n_target_users,
    )
    wanted, n_unknown = _model_matrix(target, target_rows, items, n_target_users)
    t_rows, t_cols = stored_entries(wanted)
    h_rows, h_cols = stored_entries(history)
    in_history = is_member(
        pair_keys(t_rows, t_cols, n_catalog), pair_keys(h_rows, h_cols, n_catalog)
    )
    eval_rows = np.unique(t_rows[~in_history])
    if eval_rows.size == 0:
        raise DataError(
            f"None of the {n_target_users} held-out users has a target item that the model "
            "knows and that is not among their fold-in items. Check that the model was "
            "trained on the same split's train."
        )
    relevant = sp.csr_matrix(
        (np.ones(int((~in_history).sum()), np.float32), (t_rows[~in_history], t_cols[~in_history])),
        shape=(n_target_users, n_catalog),
    )[eval_rows]
    history = history[eval_rows]
    user_ids = target.users.ids[eval_rows]
    if check_bool("baseline", baseline):
        binary = sp.csr_matrix(history, copy=True)
        binary.data[:] = 1.0
        popular = popularity_recommender(
            IdMapper(user_ids), items, binary, "safe", counts_from=seen_train
        )
        top = _ranked(popular, user_ids, k, None)
    else:
        top = _ranked(recommender, user_ids, k, history)
    return assemble_metrics(
        k,
        user_ids,
        items,
        top,
        relevant,
        np.diff(history.indptr).astype(np.int64),
        np.bincount(seen_train.indices, minlength=n_catalog),
        skipped_unknown_users=0,
        skipped_users_without_relevant=n_target_users - int(eval_rows.size),
        dropped_seen_pairs=int(in_history.sum()),
        dropped_unknown_item_pairs=n_unknown,
    )


_HEADLINE = (("capped_recall", "Recall"), ("ndcg", "NDCG"))


@dataclass(frozen=True)
class StrongGeneralizationReport:
    """What :func:`evaluate_strong_generalization` measured, at each list length.

    Attributes
    ----------
    reports : Mapping[int, EvaluationReport]
        One report per ``k`` (every metric of :data:`~alsrec.evaluation.METRICS`, with
        intervals and the popularity baseline), all on the same users and resamples.
    n_fold_in_pairs : int
        Fold-in interactions of the evaluated users.

    Examples
    --------
    >>> from alsrec import Interactions, Recommender
    >>> from alsrec.data import synthetic
    >>> from alsrec.evaluation import user_split
    >>> data = synthetic(n_users=300, n_items=80, random_state=1)
    >>> split = user_split(Interactions.from_arrays(data.user_ids, data.item_ids), 0, 40)
    >>> rec = Recommender(factors=8, iterations=5, random_state=0).fit(split.train)
    >>> report = evaluate_strong_generalization(rec, split.test, k=(10, 20), bootstrap=0)
    >>> print(str(report).splitlines()[0])
    Strong generalization: 40 held-out users folded in (306 fold-in pairs), 80 items in the catalog
    >>> report.metric("ndcg", 20) == report.reports[20].metrics["ndcg"]
    True
    """

    reports: Mapping[int, EvaluationReport]
    n_fold_in_pairs: int

    def metric(self, name: str, k: int) -> MetricEstimate:
        """The model's ``name`` metric at ``k``, e.g. ``metric("capped_recall", 20)``."""
        if k not in self.reports:
            raise ConfigError(f"k={k!r} was not measured; measured: {sorted(self.reports)}.")
        report = self.reports[k]
        if name not in report.metrics:
            raise ConfigError(f"Unknown metric {name!r}; known: {list(report.metrics)}.")
        return report.metrics[name]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"protocol", "n_fold_in_pairs", "reports": {k: ...}}``."""
        return {
            "protocol": "strong-generalization",
            "n_fold_in_pairs": self.n_fold_in_pairs,
            "reports": {str(k): report.to_dict() for k, report in self.reports.items()},
        }

    def __str__(self) -> str:
        first = next(iter(self.reports.values()))
        with_base = first.baseline is not None
        header = ["metric", "model", "95% CI"] + (["popularity", "95% CI"] if with_base else [])
        rows = [header]
        for k, report in self.reports.items():
            for name, label in _HEADLINE:
                est = report.metrics[name]
                row = [f"{label}@{k}", format_estimate(est.value), format_interval(est)]
                if report.baseline is not None:
                    base = report.baseline[name]
                    row += [format_estimate(base.value), format_interval(base)]
                rows.append(row)
        if not first.bootstrap:  # no intervals: no empty interval columns
            rows = [[row[0], *row[1::2]] for row in rows]
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        lines = [
            f"Strong generalization: {first.n_users} held-out users folded in "
            f"({self.n_fold_in_pairs} fold-in pairs), {first.n_items} items in the catalog",
            "  Recall@k = hits / min(k, relevant items) (Liang et al. 2018)",
        ]
        if first.skipped_users_without_relevant or first.dropped_unknown_item_pairs:
            lines.append(
                f"  not scored: users without a scorable target item "
                f"{first.skipped_users_without_relevant}, target pairs with unknown items "
                f"{first.dropped_unknown_item_pairs}"
            )
        lines.append("")
        for row in rows:
            cells = [row[0].ljust(widths[0])] + [
                cell.rjust(widths[c]) if c % 2 or not first.bootstrap else cell.ljust(widths[c])
                for c, cell in enumerate(row[1:], 1)
            ]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)


def _check_ks(k: int | Iterable[int]) -> list[int]:
    # a str is one (wrong) value, not a sequence of characters
    given = [k] if isinstance(k, (str, bytes)) or not isinstance(k, Iterable) else list(k)
    if not given:
        raise ConfigError("k must be an integer >= 1 or a non-empty sequence of them, got [].")
    return sorted({check_k(value) for value in given})


def evaluate_strong_generalization(
    recommender: Recommender,
    heldout: HeldOutUsers,
    k: int | Iterable[int] = (20, 50, 100),
    *,
    train: Interactions | None = None,
    bootstrap: int = 1000,
    random_state: int | None = 0,
    baseline: bool = True,
) -> StrongGeneralizationReport:
    """Measure a model on users it never trained on (Liang et al. 2018's protocol).

    Each held-out user's ``fold_in`` part is folded in without retraining (a batch
    fold-in, see :func:`heldout_user_metrics`), excluded from their list, and the list is
    scored against their ``target`` part. One ranking at the largest ``k`` gives every
    ``k``; each gets every metric of :data:`~alsrec.evaluation.METRICS` with
    percentile-bootstrap intervals, next to the popularity baseline on the same users.
    The papers' numbers are ``capped_recall`` at 20 and 50 (their "Recall@k",
    normalised by ``min(k, n_u)``) and ``ndcg`` at 100.

    Parameters
    ----------
    recommender : Recommender
        A model fitted on ``user_split(...).train``.
    heldout : HeldOutUsers
        ``(fold_in, target)``: ``user_split(...).validation`` or ``.test``.
    k : int or sequence of int, default (20, 50, 100)
        List lengths.
    train : Interactions, optional
        The training interactions; defaults to what the model was fitted on.
    bootstrap : int, default 1000
        Resamples of the users for the intervals; 0 skips them.
    random_state : int or None, default 0
        Seed of the resampling.
    baseline : bool, default True
        Also evaluate the popularity baseline.

    Returns
    -------
    StrongGeneralizationReport
        ``str(report)`` is a table of Recall@k and NDCG@k; ``report.reports[k]`` holds
        every metric at ``k``; ``report.to_dict()`` is JSON-ready.

    Raises
    ------
    ConfigError
        Bad ``k``, ``bootstrap`` or ``heldout``.
    DataError
        Held-out users known to the model, or no user to evaluate.

    Examples
    --------
    >>> from alsrec import Interactions, Recommender
    >>> from alsrec.data import synthetic
    >>> from alsrec.evaluation import user_split
    >>> data = synthetic(n_users=400, n_items=100, random_state=0)
    >>> train, validation, test = user_split(
    ...     Interactions.from_arrays(data.user_ids, data.item_ids), 50, 50, random_state=0)
    >>> rec = Recommender(factors=8, iterations=5, random_state=0).fit(train)
    >>> report = evaluate_strong_generalization(rec, test, k=(20, 50), bootstrap=100)
    >>> sorted(report.reports)
    [20, 50]
    >>> recall = report.metric("capped_recall", 20)
    >>> recall.low <= recall.value <= recall.high
    True
    >>> recall.value > report.reports[20].baseline["capped_recall"].value
    True
    """
    ks = _check_ks(k)
    baseline = check_bool("baseline", baseline)
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)):
        raise ConfigError(f"bootstrap must be an integer >= 0, got {bootstrap!r}.")
    if bootstrap < 0:
        raise ConfigError(f"bootstrap must be >= 0, got {bootstrap!r}.")
    longest = heldout_user_metrics(recommender, heldout, ks[-1], train=train)
    base = (
        heldout_user_metrics(recommender, heldout, ks[-1], train=train, baseline=True)
        if baseline
        else None
    )
    counts = bootstrap_counts(len(longest), int(bootstrap), random_state)
    reports: dict[int, EvaluationReport] = {}
    for length in ks:
        model_k = longest.truncated(length)
        base_k = None if base is None else base.truncated(length)
        reports[length] = EvaluationReport(
            k=length,
            metrics=MappingProxyType(metric_estimates(model_k, counts)),
            baseline=None if base_k is None else MappingProxyType(metric_estimates(base_k, counts)),
            n_users=len(longest),
            n_items=longest.n_catalog,
            skipped_unknown_users=0,
            skipped_users_without_relevant=longest.skipped_users_without_relevant,
            dropped_seen_pairs=longest.dropped_seen_pairs,
            dropped_unknown_item_pairs=longest.dropped_unknown_item_pairs,
            bootstrap=int(bootstrap),
            random_state=random_state,
        )
    n_fold_in = int(longest.n_catalog * len(longest) - longest.n_candidates.sum())
    return StrongGeneralizationReport(MappingProxyType(reports), n_fold_in)
