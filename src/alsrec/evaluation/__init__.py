"""Held-out splits, ranking metrics at ``k``, and the popularity baseline.

Everything here works on external IDs: a test pair counts as a hit when the recommended
ID equals the held-out ID, whatever indices the model uses internally.

Splits
------
All splits are reproducible: the same input and ``random_state`` give the same split.
The first three return ``(train, test)`` :class:`~alsrec.Interactions`:

- :func:`holdout_split`: a random fraction of each user's distinct items goes to the test
  set (at least one; at least one stays in training).
- :func:`leave_k_out_split`: ``k`` random distinct items of each user with more than ``k``
  items go to the test set.
- :func:`time_split`: from an :class:`~alsrec.Interactions` read with timestamps (or raw
  columns with timestamps), either every interaction at or after a cutoff time
  (``mode="global"``) or the latest interactions of each user (``mode="per-user"``) go to
  the test set.

:func:`user_split` holds out whole users instead (the *strong-generalization* protocol of
Liang et al., 2018): it returns a :class:`UserSplit` ``(train, validation, test)`` whose
held-out parts are :class:`HeldOutUsers` ``(fold_in, target)``, and
:func:`evaluate_strong_generalization` scores them (see "Held-out users" below).

Modules: :mod:`~alsrec.evaluation.splits`, :mod:`~alsrec.evaluation.metrics` (per-user
lists, hits, the one NDCG), :mod:`~alsrec.evaluation.baselines` (popularity) and
:mod:`~alsrec.evaluation.report` (:func:`evaluate`, intervals),
:mod:`~alsrec.evaluation.strong_generalization` (held-out users). Import from
``alsrec.evaluation``.

Who and what is evaluated
-------------------------
For a model and a test set, user ``u`` is *evaluated* when the model knows ``u`` and ``u``
has at least one *relevant* item. The relevant set ``R_u`` is ``u``'s test items minus

- ``u``'s training items (they are excluded from recommendations, so they could never be
  hit; this matters for time splits, where users come back to items), and
- items the model does not know (no model trained on the same data could recommend them).

Test relevance is binary: test weights are ignored. Test users the model does not know,
users left without relevant items, and the dropped pairs are counted in the
:class:`EvaluationReport`, so compare models only on the same split.

``L_u`` is the model's top-``k`` list for ``u`` with ``u``'s training items excluded; it
is shorter than ``k`` only when fewer than ``k`` items are left to recommend. ``h_j`` is 1
when the item at rank ``j`` (1-based) is in ``R_u``, ``H_u = sum_j h_j`` is the number of
hits and ``n_u = |R_u|``.

Metric definitions
------------------
Each metric below is computed per evaluated user and averaged over users (a *macro*
average), except catalog coverage (a set property) and popularity rank (a mean over all
recommended slots).

precision@k
    ``H_u / k``. The textbook definition: a user with fewer than ``k`` relevant items
    cannot reach 1. implicit's ``ranking_metrics_at_k`` reports a different quantity under
    this name: the total of hits over all users divided by the total of ``min(k, n_u)``
    (pooled, not averaged per user, and normalised by what is attainable). alsrec does
    not follow implicit here; :attr:`UserMetrics.hits` and :attr:`UserMetrics.n_relevant`
    give what is needed to compute implicit's number.
recall@k
    ``H_u / n_u``.
capped recall@k (``capped_recall``)
    ``H_u / min(k, n_u)``: the "Recall@k" of Liang et al. (2018) and of the papers that
    report on their protocol (Rendle et al., 2022): 1 for a list full of relevant items,
    even when ``n_u > k``. Equal to recall@k when ``n_u <= k``.
MAP@k (``map``)
    Mean over users of ``AP_u = (1 / min(k, n_u)) * sum_j h_j * (h_1 + ... + h_j) / j``.
    Same as implicit.
NDCG@k (``ndcg``)
    ``DCG_u / IDCG_u`` with ``DCG_u = sum_j h_j / log2(j + 1)`` and ``IDCG_u`` the DCG of
    ``min(k, n_u)`` hits at the top. Same as implicit. One function computes it,
    :func:`~alsrec.evaluation.metrics.ndcg_from_hits`, for :func:`evaluate`, for
    :func:`~alsrec.tuning.search` (which scores trials with :func:`evaluate`) and for
    :func:`ndcg_at_k`.
hit rate@k (``hit_rate``)
    1 when ``H_u > 0``, else 0.
MRR@k (``mrr``)
    ``1 / j`` for the rank ``j`` of the first hit, 0 when there is none (reciprocal rank
    truncated at ``k``).
AUC@k (``auc``)
    The probability that a random relevant item is ranked above a random negative item,
    where the ranking is the top-``k`` list followed by every other candidate in one tie
    (a tie counts one half). Candidates are the catalog minus ``u``'s training items;
    negatives are the candidates that are not relevant, ``N_u`` of them. With ``m`` the
    number of non-relevant items in the list and ``a`` the number of hits ranked above
    each of them::

        AUC_u = (sum a + H_u (N_u - m) + (n_u - H_u) (N_u - m) / 2) / (n_u N_u)

    (1 when ``N_u = 0``). This is implicit's "limited AUC" construction, except that
    implicit counts ``N_u`` as the whole catalog minus ``n_u``, i.e. it also counts the
    user's training items as negatives; the tests check both against it.
coverage@k (``coverage``)
    The fraction of the model's catalog that appears in at least one evaluated user's
    list: ``|union of L_u| / |catalog|``.
popularity rank@k (``popularity_rank``)
    The mean, over every recommended slot of every evaluated user, of the item's
    popularity rank: items are ranked by their number of training users, 1 = most popular,
    tied items share the mean of their ranks. Lower means more popular recommendations
    (more popularity bias); the popularity baseline sits near ``(k + 1) / 2``.

Which users count
-----------------
:func:`evaluate`, :func:`per_user_metrics`, :func:`~alsrec.tuning.search` and the
command line's ``evaluate`` and ``tune`` average over the *evaluated* users defined above
(known to the model, with a relevant item that is not a training item).
:func:`ndcg_at_k` (the quick helper of the demo and the benchmarks) averages over *every*
test user instead, with the model's answer for unknown users and all of a user's test
items as relevant. On a :func:`holdout_split` (every test user keeps training items, no
test pair is a training pair) the two give the same number whenever every test item is
known to the model; otherwise :func:`ndcg_at_k` is lower.

Held-out users
--------------
:func:`evaluate_strong_generalization` (and :func:`heldout_user_metrics`, its per-user
form) evaluates users the model was not trained on: each user of ``heldout.target`` gets
the factor row folded in from their ``heldout.fold_in`` items (one batch fold-in through
:meth:`~alsrec.Recommender.recommend_many` with ``histories=``; no retraining), and the
definitions above apply with the fold-in items in the role of the training items: they
are excluded from ``L_u`` and removed from ``R_u``. One ranking at the largest ``k`` gives
the metrics at every smaller ``k`` (:meth:`UserMetrics.truncated`). The papers report
capped recall at 20 and 50 and NDCG at 100.

Confidence intervals
--------------------
:func:`evaluate` resamples the evaluated users with replacement (``bootstrap`` times) and
reports the 2.5th and 97.5th percentiles of each metric over the resamples (a percentile
bootstrap 95% interval). The model and the baseline share the same resamples. Catalog
coverage gets no interval: it is a property of the whole set of lists, and resampling
users biases it downwards.
"""

from alsrec.evaluation.baselines import PopularityBaseline
from alsrec.evaluation.metrics import (
    METRICS,
    RecommendsMany,
    UserMetrics,
    ndcg_at_k,
    ndcg_from_hits,
    per_user_metrics,
    per_user_ndcg,
)
from alsrec.evaluation.report import EvaluationReport, MetricEstimate, evaluate
from alsrec.evaluation.splits import (
    HeldOutUsers,
    UserSplit,
    holdout_split,
    leave_k_out_split,
    time_split,
    user_split,
)
from alsrec.evaluation.strong_generalization import (
    StrongGeneralizationReport,
    evaluate_strong_generalization,
    heldout_user_metrics,
)

__all__ = [
    "METRICS",
    "EvaluationReport",
    "HeldOutUsers",
    "MetricEstimate",
    "PopularityBaseline",
    "RecommendsMany",
    "StrongGeneralizationReport",
    "UserMetrics",
    "UserSplit",
    "evaluate",
    "evaluate_strong_generalization",
    "heldout_user_metrics",
    "holdout_split",
    "leave_k_out_split",
    "ndcg_at_k",
    "ndcg_from_hits",
    "per_user_metrics",
    "per_user_ndcg",
    "time_split",
    "user_split",
]
