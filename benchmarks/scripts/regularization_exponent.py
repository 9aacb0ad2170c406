"""Frequency-scaled regularization (``regularization_exponent``, nu): does it help?

On MovieLens-100k, binarized (rating >= 4) and with ratings as weights, an 80/20 per-user
holdout (``holdout_split(..., random_state=0)``), the numpy backend trains every
combination of

* factors {64, 128}, alpha {1, 3};
* penalty: nu = 0 (constant lambda), nu = 0.5 and nu = 1 with the "confidence" scale
  (the paper's ``(|I_u| + alpha0 |I|)^nu``), nu = 1 with the "count" scale (ALS-WR, what
  Spark trains); ``regularization_reference="auto"`` (the mean row scale) throughout;
* regularization: 8 log-spaced values from 2 to 1000,

and reports the best test NDCG@10 (``alsrec.evaluation.ndcg_at_k``, seen items excluded)
per (dataset, factors, penalty) over regularization and alpha, with the arg-max. This
selects on the test split, so it measures the ceiling of each penalty, not a tuned model.

The results are written to ``benchmarks/results/regularization-exponent.json`` (or
``--out``); ``--table`` prints the Markdown table from that file.

Command (256 fits, 23 minutes on a loaded 2-core machine; the ML-100k file from the
``recbole==1.2.1`` wheel as in ``defaults_experiment.py``, never committed)::

    ALSREC_ML100K=/path/to/ml-100k.inter OPENBLAS_NUM_THREADS=1 \\
        nice python benchmarks/scripts/regularization_exponent.py
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from ml100k import ml100k_columns

from alsrec import Interactions, Recommender
from alsrec.evaluation import holdout_split, ndcg_at_k

PENALTIES: dict[str, dict[str, Any]] = {
    "nu=0": {"regularization_exponent": 0.0},
    "nu=0.5": {"regularization_exponent": 0.5},
    "nu=1": {"regularization_exponent": 1.0},
    "nu=1 count": {"regularization_exponent": 1.0, "regularization_scale": "count"},
}
REGULARIZATION = [float(f"{v:.3g}") for v in np.geomspace(2.0, 1000.0, 8)]
ALPHAS = [1.0, 3.0]
FACTORS = [64, 128]
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "results" / "regularization-exponent.json"


def load(binarize: bool) -> Interactions:
    """MovieLens-100k from ``ALSREC_ML100K`` (see ``ml100k.py``)."""
    rows = ml100k_columns()
    users, items, ratings = rows["user"], rows["item"], rows["rating"]
    if binarize:
        keep = ratings >= 4
        return Interactions.from_arrays(users[keep], items[keep])
    return Interactions.from_arrays(users, items, ratings)


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for dataset, binarize in (("ml-100k binarized", True), ("ml-100k ratings", False)):
        train, test = holdout_split(load(binarize), 0.2, random_state=0)
        for factors in FACTORS:
            for penalty, extra in PENALTIES.items():
                for alpha in ALPHAS:
                    for reg in REGULARIZATION:
                        start = time.perf_counter()
                        rec = Recommender(
                            factors=factors,
                            regularization=reg,
                            alpha=alpha,
                            num_threads=1,
                            **extra,
                        ).fit(train)
                        ndcg = ndcg_at_k(rec, test, k=10)
                        rows.append(
                            {
                                "dataset": dataset,
                                "factors": factors,
                                "penalty": penalty,
                                "alpha": alpha,
                                "regularization": reg,
                                "reference": rec.params_.regularization_reference,
                                "ndcg": ndcg,
                                "seconds": time.perf_counter() - start,
                            }
                        )
                        print(json.dumps(rows[-1]), flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| dataset | factors | " + " | ".join(PENALTIES) + " |",
        "|---|---:|" + "---:|" * len(PENALTIES),
    ]
    keys = sorted({(r["dataset"], r["factors"]) for r in rows})
    for dataset, factors in keys:
        cells = []
        for penalty in PENALTIES:
            group = [
                r
                for r in rows
                if (r["dataset"], r["factors"], r["penalty"]) == (dataset, factors, penalty)
            ]
            best = max(group, key=lambda r: r["ndcg"])
            cells.append(
                f"{best['ndcg']:.4f} (reg {best['regularization']:g}, alpha {best['alpha']:g})"
            )
        lines.append(f"| {dataset} | {factors} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--table", action="store_true", help="print the table of --out")
    args = parser.parse_args()
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return
    rows = run()
    args.out.write_text(json.dumps(rows, indent=1) + "\n")
    print(table(rows))


if __name__ == "__main__":
    main()
