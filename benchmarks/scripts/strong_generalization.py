"""The strong-generalization protocol (Liang et al. 2018) on MovieLens-100k.

Liang et al.'s preprocessing (ratings >= 4 as positives, users with >= 5 of them) through
:func:`alsrec.data.movielens_ratings`; :func:`alsrec.evaluation.user_split` holds out 100
validation and 100 test users (80% of each held-out user's items folded in, 20% scored);
:func:`alsrec.evaluation.evaluate_strong_generalization` folds the 80% in without
retraining and reports Recall@20, Recall@50 (normalised by ``min(k, n_u)``) and NDCG@100.

Settings: the default ``Recommender()`` (64 factors, alpha 1, ``regularization="auto"``),
a few fixed regularizations, and 128 factors; plus the popularity baseline. Each runs on
five user splits (seeds 0 to 4); the table gives the mean over seeds of the validation
and test values (100 users each, so a single split's 95% interval is about +-0.04).

The data file is never committed: take ``ml-100k.inter`` from the ``recbole==1.2.1`` wheel
(see ``defaults_experiment.py``) and pass its path in ``ALSREC_ML100K``. MovieLens-20M's
``ratings.csv`` works the same way with ``--ml20m PATH`` (10,000 validation and 10,000
test users, as in the papers; hours of CPU and several GiB of memory).

Command (about a minute and a half on 2 shared cores)::

    ALSREC_ML100K=/path/to/ml-100k.inter OPENBLAS_NUM_THREADS=1 \
        python benchmarks/scripts/strong_generalization.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

from alsrec import Interactions, Recommender
from alsrec.data import movielens_ratings
from alsrec.evaluation import evaluate_strong_generalization, user_split

SEEDS = (0, 1, 2, 3, 4)
SETTINGS: dict[str, dict[str, Any]] = {
    "default (reg auto)": {},
    "reg 5": {"regularization": 5.0},
    "reg 10": {"regularization": 10.0},
    "reg 50": {"regularization": 50.0},
    "reg 100": {"regularization": 100.0},
    "128 factors, reg auto": {"factors": 128},
    "alpha 3, reg auto": {"alpha": 3.0},
    "alpha 3, reg 60, 256 factors": {"alpha": 3.0, "regularization": 60.0, "factors": 256},
}
HEADLINE = (("capped_recall", 20), ("capped_recall", 50), ("ndcg", 100))


def load(args: argparse.Namespace) -> tuple[Interactions, int]:
    if args.ml20m:
        return movielens_ratings(args.ml20m), 10_000
    path = os.environ.get("ALSREC_ML100K")
    if not path:
        sys.exit("Set ALSREC_ML100K to the path of ml-100k.inter (or pass --ml20m PATH).")
    data = movielens_ratings(
        path, user="user_id:token", item="item_id:token", rating="rating:float", delimiter="\t"
    )
    return data, 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ml20m", help="MovieLens-20M ratings.csv instead of ML-100k")
    args = parser.parse_args()
    data, n_heldout = load(args)
    print(f"data: {data.summary().n_users} users, {data.summary().n_items} items, {data.nnz}")
    rows: dict[str, dict[str, list[float]]] = {name: {} for name in [*SETTINGS, "popularity"]}
    started = time.perf_counter()
    for seed in SEEDS:
        train, validation, test = user_split(data, n_heldout, n_heldout, random_state=seed)
        assert validation is not None
        for name, kwargs in SETTINGS.items():
            rec = Recommender(random_state=0, **kwargs).fit(train)
            for part, heldout in (("val", validation), ("test", test)):
                report = evaluate_strong_generalization(rec, heldout, bootstrap=0)
                for metric, k in HEADLINE:
                    key = f"{part} {'Recall' if metric == 'capped_recall' else 'NDCG'}@{k}"
                    rows.setdefault(name, {}).setdefault(key, []).append(
                        report.metric(metric, k).value
                    )
                    base = report.reports[k].baseline
                    if name == "default (reg auto)" and base is not None:
                        rows.setdefault("popularity", {}).setdefault(key, []).append(
                            base[metric].value
                        )
            print(f"seed {seed} {name}: {rec.summary().splitlines()[0]}", file=sys.stderr)
    columns = list(next(iter(rows.values())))
    print(f"\n{len(SEEDS)} splits, {time.perf_counter() - started:.0f} s\n")
    print("| setting | " + " | ".join(columns) + " |")
    print("|" + "---|" * (len(columns) + 1))
    for name, values in rows.items():
        cells = [f"{statistics.mean(values[c]):.3f}" for c in columns]
        print(f"| {name} | " + " | ".join(cells) + " |")
    spread = max(statistics.stdev(v) for values in rows.values() for v in values.values())
    print(f"\nlargest standard deviation over the {len(SEEDS)} splits: {spread:.3f}")


if __name__ == "__main__":
    main()
