"""Fit time of the default arguments against the old defaults (issue 16: <= 1.2x).

``Recommender(factors=64)`` (``alpha="auto"``, ``regularization="auto"``,
``random_state=0``) against ``Recommender(factors=64, regularization=0.01, alpha=1.0,
random_state=None)`` (the defaults before ``"auto"``) on training splits of
the defaults experiment (its derive, held-out and frozen sets), 7 alternating fits each,
medians of wall and CPU time, default environment. Command (MovieLens-100k as for
``defaults_experiment.py``)::

    ALSREC_ML100K=/path/to/ml-100k.inter python benchmarks/scripts/defaults_fit_time.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import defaults_experiment as de

from alsrec import Recommender


def main() -> None:
    names = sys.argv[1:] or [
        "syn-flat-rating",
        "ml100k-ratings",
        "syn-large-heavy",
        "syn-skewed-poisson",
    ]
    for name in names:
        train, _ = {**de.DATASETS, **de.CHECKED}[name][1]()
        wall: dict[str, list[float]] = {"old": [], "auto": []}
        cpu: dict[str, list[float]] = {"old": [], "auto": []}
        for _ in range(7):
            for label, kwargs in (
                ("old", {"regularization": 0.01, "alpha": 1.0, "random_state": None}),
                ("auto", {}),
            ):
                rec = Recommender(factors=64, **kwargs)  # type: ignore[arg-type]
                w0, c0 = time.perf_counter(), time.process_time()
                rec.fit(train)
                wall[label].append(time.perf_counter() - w0)
                cpu[label].append(time.process_time() - c0)
        mw = {k: statistics.median(v) for k, v in wall.items()}
        mc = {k: statistics.median(v) for k, v in cpu.items()}
        print(
            f"{name:18s} wall old {mw['old']:.2f} s, auto {mw['auto']:.2f} s: "
            f"x{mw['auto'] / mw['old']:.2f}; CPU x{mc['auto'] / mc['old']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
