"""Fit time of the default arguments against the old defaults (issue 16: <= 1.2x).

``Recommender(factors=64)`` (``alpha="auto"``, ``regularization="auto"``,
``random_state=0``) against ``Recommender(factors=64, regularization=0.01, alpha=1.0,
random_state=None)`` (the defaults before ``"auto"``) on training splits of the defaults
experiment (its derive, held-out and frozen sets), in one process, the two alternated
``--runs`` times; medians of wall and CPU time and of the per-pair ratio, default
environment. Two more columns split the difference: the same fit with the resolved values
passed as numbers (*explicit*: the training work alone, the same number of CG steps as the
old defaults) and :func:`alsrec.model.defaults.resolve_params` alone (*resolve*: what
``"auto"`` adds). Command (MovieLens-100k as for ``defaults_experiment.py``)::

    ALSREC_ML100K=/path/to/ml-100k.inter python benchmarks/scripts/defaults_fit_time.py \\
        [--runs 7] [dataset ...]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).parent))
import defaults_experiment as de

from alsrec import ALSParams, Recommender
from alsrec.model.defaults import resolve_params

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_SETS = ["syn-flat-rating", "ml100k-ratings", "syn-large-heavy", "syn-skewed-poisson"]


def _timed(action: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=DEFAULT_SETS, help="datasets")
    parser.add_argument("--runs", type=int, default=7, help="alternations (default 7)")
    args = parser.parse_args()
    every = {**de.DATASETS, **de.CHECKED}
    print(
        "dataset | old wall | auto wall | auto/old wall (pairs) | auto/old CPU | explicit wall "
        "| resolve wall (CPU) | resolve / explicit"
    )
    for name in args.names:
        train, _ = every[name][1]()
        resolved = resolve_params(ALSParams(), train.matrix)[0]
        explicit = {"alpha": resolved.alpha_value, "regularization": resolved.regularization_value}
        configs = {
            "old": {"regularization": 0.01, "alpha": 1.0, "random_state": None},
            "auto": {},
            "explicit": explicit,
        }
        wall: dict[str, list[float]] = {label: [] for label in [*configs, "resolve"]}
        cpu: dict[str, list[float]] = {label: [] for label in [*configs, "resolve"]}
        for run in range(args.runs):
            order = list(configs) if run % 2 == 0 else list(reversed(configs))
            for label in order:
                rec = Recommender(factors=64, **configs[label])  # type: ignore[arg-type]
                w, c = _timed(functools.partial(rec.fit, train))
                wall[label].append(w)
                cpu[label].append(c)
            w, c = _timed(functools.partial(resolve_params, ALSParams(), train.matrix))
            wall["resolve"].append(w)
            cpu["resolve"].append(c)
        mw = {k: statistics.median(v) for k, v in wall.items()}
        mc = {k: statistics.median(v) for k, v in cpu.items()}
        pairs = statistics.median(a / o for a, o in zip(wall["auto"], wall["old"], strict=True))
        print(
            f"{name} | {mw['old']:.3f} s | {mw['auto']:.3f} s | {mw['auto'] / mw['old']:.2f}x "
            f"({pairs:.2f}x) | {mc['auto'] / mc['old']:.2f}x | {mw['explicit']:.3f} s | "
            f"{mw['resolve'] * 1000:.0f} ms ({mc['resolve'] * 1000:.0f} ms) | "
            f"{mw['resolve'] / mw['explicit']:.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
