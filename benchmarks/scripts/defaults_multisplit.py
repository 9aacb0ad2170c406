"""The defaults against the grid on three splits: is a single-split miss a miss?

``defaults_experiment.py`` scores ``Recommender()`` and the 70-point grid on one 80/20
holdout per dataset and takes the grid's best *on that test split*. On the small
synthetic sets (2,500-9,000 users, NDCG@10 of 0.03-0.07) one split's NDCG@10 moves by a
few percent with the draw, and the best of 70 noisy scores is biased upwards by that
noise, so a set can land below 95% of the grid best by the draw alone (the transfer check
there shows defaults at 90.8-109.5% of the split-0 grid best on further splits).

This script measures the same target on three splits instead of one: for every set of
:data:`MULTISPLIT_SETS` it trains the whole 70-point grid (implicit backend, as the
experiment) and ``Recommender()`` (numpy backend, every default) on further holdout
splits of the same data (holdout seeds ``+1`` and ``+2``; split 0 is read from the
experiment's cache), and reports

* each split's share: ``Recommender()`` / the best of the grid on that split;
* the three-split share: the mean of ``Recommender()``'s three NDCG@10 values over the
  best *mean* of a grid point over the same three splits (the grid's best picked on the
  averaged score, whose selection bias is smaller by about ``sqrt(3)``);
* the held-out share: the same mean over a ceiling with no selection bias, the mean over
  the three splits of the score, on each split, of the grid point with the best mean on
  the *other two* (:func:`held_out_ceiling`). The issue's target is the first two; this
  one says how much of a miss is the ceiling's optimism (the best of 70 noisy scores).

The sets were declared before any of this was measured (2026-12-04, code of
``e262c74``): every set of the experiment with a grid whose split-0 share was below 97%.
The per-user time split of ``frozen-ml100k-time-ge4`` has no further draws and is left
out. Results are cached in ``benchmarks/results/defaults-multisplit.json``.

Command (about 30 minutes on 2 cores; ``--table`` prints the table from the cache)::

    ALSREC_ML100K=.../ml-100k.inter OPENBLAS_NUM_THREADS=1 \\
        python benchmarks/scripts/defaults_multisplit.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from defaults_experiment import (
    ALPHA,
    CHECKED,
    DATASETS,
    FACTORS,
    FURTHER_SPLIT,
    REGULARIZATION,
    Split,
    SyntheticSet,
    key,
    score,
)

from alsrec import Recommender
from alsrec.evaluation import ndcg_at_k

MULTISPLIT_SETS = (
    "frozen13-denser-lognormal",
    "frozen5-ml100k-ge4-no-top",
    "frozen-flat-lognormal",
    "frozen11-flat-sparse-lognormal",
    "frozen15-mid-heavy",
    "frozen6-clusters250-poisson",
    "frozen9-clusters50-heavy",
    "frozen8-clusters40-heavy",
    "frozen2-clusters150-lognormal",
    "frozen13-mid-heavy",
    "frozen11-flat-sparse-rating",
    "frozen2-skew17-heavy",
    "frozen5-weak-poisson",
    "frozen10-flat-sparse-lognormal",
    "frozen10-clusters40-rating",
    "frozen14-weak-rating",
    "frozen5-mid-heavy",
    "frozen15-weak-sparse-heavy",
    "frozen3-ml100k-eq5",
    "f16-ml100k-ratings-light",
)
"""Every grid set below 97% of its grid best on split 0 at ``e262c74`` (the four below 95%
first), declared before measuring; ``frozen-ml100k-time-ge4`` (96.0%, a time split) has
no further splits. The sixteenth frozen group, made afterwards, adds its one set below 97%
under the same rule (``f16-ml100k-ratings-light``, 95.6%)."""

MULTISPLIT_CONTROLS = (
    "frozen12-flat-binary",
    "frozen14-skew16-lognormal",
    "frozen8-flat-sparse-poisson",
    "frozen8-clusters90-binary",
    "frozen8-flat-sparse-lognormal",
    "frozen12-flat-heavy",
    "frozen15-weak-lognormal",
    "frozen13-flat-sparse-lognormal",
)
"""Controls: eight of the 105 sets at 97% or more on split 0 (time splits aside), drawn
with ``numpy.random.default_rng(20261204).choice(sorted(names), 8, replace=False)``
before measuring. They show whether the three-split share only ever rises (it should
not: a set can also pass on split 0 by the draw)."""

MULTISPLIT_LATER = (
    "f17-ml100k-ge3-light",
    "f18-ml100k-ge4-light",
    "f19-syn-clusters80-binary",
)
"""The sets of the seventeenth to nineteenth groups below 97% on split 0 with the damping
of the spectral law (2026-12-05), declared under the same rule before their further
splits were measured."""

FURTHER = (1, 2)
"""The further splits (holdout seed offsets); split 0 comes from the experiment's cache."""


def split_of(name: str, k: int) -> Split:
    """Split ``k`` of a set: the synthetic sets draw it themselves, the MovieLens-100k
    variants through :data:`defaults_experiment.FURTHER_SPLIT`."""
    build = {**DATASETS, **CHECKED}[name][1]
    if isinstance(build, SyntheticSet):
        return build.split(k)
    token = FURTHER_SPLIT.set(k)
    try:
        return build()
    finally:
        FURTHER_SPLIT.reset(token)


def run_split(name: str, k: int) -> dict[str, Any]:
    """The 70-point grid and ``Recommender()`` on split ``k`` of ``name``."""
    split = split_of(name, k)
    grid = {
        key(f, r, a): score(split, f, r, a) for f in FACTORS for r in REGULARIZATION for a in ALPHA
    }
    model = Recommender().fit(split[0])
    return {
        "grid": grid,
        "defaults": ndcg_at_k(model, split[1], 10),
        "alpha": float(model.params_.alpha_value),
        "regularization": float(model.params_.regularization_value),
    }


def refit_defaults(name: str, k: int) -> dict[str, Any]:
    """``Recommender()`` alone on split ``k`` of ``name`` (the grid kept from the cache)."""
    split = split_of(name, k)
    model = Recommender().fit(split[0])
    return {
        "defaults": ndcg_at_k(model, split[1], 10),
        "alpha": float(model.params_.alpha_value),
        "regularization": float(model.params_.regularization_value),
    }


def splits_of(name: str, cache: dict[str, Any], experiment: dict[str, Any]) -> list[dict[str, Any]]:
    """Split 0 from the experiment's cache (its grid points only), then the further ones."""
    entry = experiment[name]
    grid_keys = {key(f, r, a) for f in FACTORS for r in REGULARIZATION for a in ALPHA}
    first = {
        "grid": {k: v for k, v in entry["scores"].items() if k in grid_keys},
        "defaults": entry["defaults"]["ndcg"],
        "alpha": entry["defaults"]["alpha"],
        "regularization": entry["defaults"]["regularization"],
    }
    return [first] + [cache[name][str(k)] for k in FURTHER]


def held_out_ceiling(splits: list[dict[str, Any]]) -> float:
    """The mean over the splits of the score of the grid point picked on the others.

    For each split, the point with the best mean NDCG@10 over the other splits is scored
    on it; the ceiling is the mean of those scores. A point's luck on one split then no
    longer decides both its choice and its score.
    """
    points = set.intersection(*(set(s["grid"]) for s in splits))
    scores = []
    for k, held in enumerate(splits):
        others = [s for j, s in enumerate(splits) if j != k]
        pick = max(sorted(points), key=lambda p: statistics.fmean(s["grid"][p] for s in others))
        scores.append(held["grid"][pick])
    return statistics.fmean(scores)


def table(cache: dict[str, Any], experiment: dict[str, Any], names: tuple[str, ...]) -> str:
    """One row per set of ``names``: each split's share and the three-split share."""
    lines = [
        "| dataset | split 0 | split 1 | split 2 | three splits | grid best on three splits |"
        " defaults' NDCG@10 (mean) | held out |",
        "|---|---|---|---|---|---|---|---|",
    ]
    shares: list[float] = []
    held: list[float] = []
    firsts: list[float] = []
    for name in names:
        if name not in cache or any(str(k) not in cache[name] for k in FURTHER):
            continue
        splits = splits_of(name, cache, experiment)
        each = [s["defaults"] / max(s["grid"].values()) for s in splits]
        points = set.intersection(*(set(s["grid"]) for s in splits))
        mean = {p: statistics.fmean(s["grid"][p] for s in splits) for p in points}
        best = max(mean, key=lambda p: mean[p])
        defaults = statistics.fmean(s["defaults"] for s in splits)
        share = defaults / mean[best]
        shares.append(share)
        held.append(defaults / held_out_ceiling(splits))
        firsts.append(each[0])
        lines.append(
            f"| {name} | "
            + " | ".join(f"{x:.1%}" for x in each)
            + f" | **{share:.1%}** | {best} ({mean[best]:.4f}) | {defaults:.4f} |"
            f" {held[-1]:.1%} |"
        )
    if shares:
        lines.append(
            f"\n{len(shares)} sets. Split 0 alone: {sum(x >= 0.95 for x in firsts)} at 95% or"
            f" more (lowest {min(firsts):.1%}). Three splits: {sum(x >= 0.95 for x in shares)}"
            f" at 95% or more (lowest {min(shares):.1%}, median"
            f" {statistics.median(shares):.1%}). Against the held-out ceiling:"
            f" {sum(x >= 0.95 for x in held)} at 95% or more (lowest {min(held):.1%})."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    results = Path(__file__).parents[1] / "results"
    parser.add_argument("--out", type=Path, default=results / "defaults-multisplit.json")
    parser.add_argument("--experiment", type=Path, default=results / "defaults-experiment.json")
    parser.add_argument("--table", action="store_true", help="print the table and exit")
    parser.add_argument("--only", nargs="*", default=None, help="dataset names to run")
    parser.add_argument(
        "--refit-defaults",
        action="store_true",
        help="refit Recommender() on the cached further splits (after a change of the rule)",
    )
    args = parser.parse_args()
    experiment = json.loads(args.experiment.read_text())
    cache: dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() else {}
    if not args.table:
        for name in MULTISPLIT_SETS + MULTISPLIT_LATER + MULTISPLIT_CONTROLS:
            if args.only and name not in args.only:
                continue
            entry = cache.setdefault(name, {})
            for k in FURTHER:
                if str(k) in entry and args.refit_defaults:
                    done = entry[str(k)]
                    if "before_damping" not in done:  # the score before the damping
                        kept = ("defaults", "alpha", "regularization")
                        done["before_damping"] = {f: done[f] for f in kept}
                    done.update(refit_defaults(name, k))
                    args.out.write_text(json.dumps(cache, indent=1, sort_keys=True))
                    continue
                if str(k) in entry:
                    continue
                started = time.perf_counter()
                entry[str(k)] = run_split(name, k)
                args.out.write_text(json.dumps(cache, indent=1, sort_keys=True))
                done = entry[str(k)]
                print(
                    f"{name:32s} split {k}: defaults {done['defaults']:.4f}, grid best "
                    f"{max(done['grid'].values()):.4f} [{time.perf_counter() - started:.0f} s]",
                    flush=True,
                )
    print(
        table(cache, experiment, MULTISPLIT_SETS),
        table(cache, experiment, MULTISPLIT_LATER),
        table(cache, experiment, MULTISPLIT_CONTROLS),
        sep="\n\n",
    )


if __name__ == "__main__":
    main()
