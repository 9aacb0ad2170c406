"""numpy-backend ``fit`` in the default environment against single-threaded BLAS and implicit.

Usage::

    python benchmarks/scripts/threads_default_env.py [--runs 3] [--sizes medium,large] [--keep]

For each size the confidence matrix (``1 + w`` of seeded synthetic data) is generated once
and saved to a temporary ``.npz``; every measurement then runs in a fresh subprocess that
loads it and times one ``fit`` (64 factors, 5 iterations, ``num_threads=2``,
regularization 0.05, seed 0). Configurations are interleaved run by run, so a burst of
load on the machine hits all of them alike; the medians of ``--runs`` runs are reported.

Environments (the rest of the environment, e.g. ``OPENBLAS_CORETYPE``, is passed on as it
is: it is part of the user's default environment):

- ``default``: no ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS``
  (OpenBLAS starts one thread per core);
- ``blas1``: ``OPENBLAS_NUM_THREADS=1``.

Implementations:

- ``numpy``: alsrec's ``NumpyBackend().fit``, as a user calls it;
- ``numpy-keep`` (``--keep``): the same with ``ALSREC_BLAS_THREADS=keep`` (alsrec leaves
  BLAS alone: the behaviour before the BLAS scope);
- ``implicit``: raw ``implicit.cpu.als.AlternatingLeastSquares`` in its best configuration,
  ``threadpool_limits(1, "blas")`` around its construction and ``fit`` (as implicit asks),
  the same thread count, on the same matrix.

Ratios printed: numpy default / numpy blas1 (target <= 1.10) and numpy default / implicit
default (target <= 1.0 at the medium size).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = {
    # name: (users, items, clusters, mean interactions per user)
    "medium": (20_000, 5_000, 20, 28.5),
    "large": (200_000, 50_000, 50, 35.0),
}
FACTORS = 64
ITERATIONS = 5
THREADS = 2
REGULARIZATION = 0.05
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

_CHILD = r"""
import json, sys, time, warnings
import numpy as np
import scipy.sparse as sp
impl, path, factors, iterations, threads, reg = sys.argv[1:7]
factors, iterations, threads, reg = int(factors), int(iterations), int(threads), float(reg)
conf = sp.load_npz(path).tocsr()
from threadpoolctl import threadpool_info
blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
if impl.startswith("numpy"):
    from alsrec import ALSParams
    from alsrec.backends import NumpyBackend
    params = ALSParams(factors=factors, iterations=iterations, regularization=reg,
                       random_state=0, num_threads=threads)
    start = time.perf_counter()
    NumpyBackend().fit(conf, params)
    seconds = time.perf_counter() - start
else:
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with threadpool_limits(1, user_api="blas"):
            model = AlternatingLeastSquares(factors=factors, regularization=reg, alpha=1.0,
                iterations=iterations, calculate_training_loss=False, num_threads=threads,
                random_state=0)
            start = time.perf_counter()
            model.fit(conf, show_progress=False)
            seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "blas_threads_at_start": blas}))
"""


def _matrix(name: str, folder: Path) -> tuple[Path, tuple[int, int, int]]:
    import scipy.sparse as sp

    from alsrec import Interactions
    from alsrec.datasets import synthetic

    users, items, clusters, mean = SIZES[name]
    rows = synthetic(users, items, n_clusters=clusters, mean_interactions=mean, random_state=0)
    data = Interactions.from_arrays(rows.user_ids, rows.item_ids, rows.weights)
    conf = data.matrix.astype("float32").tocsr()
    conf.data = 1.0 + conf.data  # 1 + alpha * w with alpha 1: both libraries train on it
    path = folder / f"{name}.npz"
    sp.save_npz(path, conf)
    return path, (conf.shape[0], conf.shape[1], int(conf.nnz))


def _env(kind: str, impl: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    env.pop("ALSREC_BLAS_THREADS", None)
    if kind == "blas1":
        env["OPENBLAS_NUM_THREADS"] = "1"
    if impl == "numpy-keep":
        env["ALSREC_BLAS_THREADS"] = "keep"
    return env


def _run(impl: str, kind: str, path: Path) -> dict[str, object]:
    args = [str(a) for a in (impl, path, FACTORS, ITERATIONS, THREADS, REGULARIZATION)]
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        env=_env(kind, impl),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="medium,large")
    parser.add_argument("--keep", action="store_true", help="also time ALSREC_BLAS_THREADS=keep")
    args = parser.parse_args()
    shown = {k: os.environ[k] for k in sorted(os.environ) if k.startswith("OPENBLAS")}
    print(f"environment passed on: {shown or '(no OPENBLAS_* variables set)'}")
    print(f"cores: {os.cpu_count()}; load at start: {os.getloadavg()}")
    impls = ["numpy", "implicit"] + (["numpy-keep"] if args.keep else [])
    configs = [(impl, kind) for kind in ("default", "blas1") for impl in impls]
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sizes.split(","):
            path, shape = _matrix(name, Path(tmp))
            print(f"\n{name}: {shape[0]:,} users x {shape[1]:,} items x {shape[2]:,} pairs")
            times: dict[tuple[str, str], list[float]] = {c: [] for c in configs}
            for run in range(args.runs):
                for impl, kind in configs:
                    if impl == "numpy-keep" and kind == "blas1":
                        continue  # the same as numpy under OPENBLAS_NUM_THREADS=1
                    result = _run(impl, kind, path)
                    seconds = float(result["seconds"])  # type: ignore[arg-type]
                    times[(impl, kind)].append(seconds)
                    print(
                        f"  run {run + 1} {impl:10s} {kind:7s} {seconds:7.2f} s "
                        f"(BLAS threads at start {result['blas_threads_at_start']}; "
                        f"load {os.getloadavg()[0]:.2f})",
                        flush=True,
                    )
            med = {c: statistics.median(v) for c, v in times.items() if v}
            for (impl, kind), value in med.items():
                print(f"  median {impl:10s} {kind:7s} {value:7.2f} s")
            np_def, np_one = med[("numpy", "default")], med[("numpy", "blas1")]
            imp_def = med[("implicit", "default")]
            row = {
                "size": name,
                "shape": shape,
                "medians": {f"{i} {k}": round(v, 3) for (i, k), v in med.items()},
                "numpy default / numpy blas1": round(np_def / np_one, 3),
                "numpy default / implicit default": round(np_def / imp_def, 3),
                "numpy blas1 / implicit blas1": round(np_one / med[("implicit", "blas1")], 3),
            }
            if ("numpy-keep", "default") in med:
                row["numpy-keep default / numpy default"] = round(
                    med[("numpy-keep", "default")] / np_def, 3
                )
            summary.append(row)
            for key, value in row.items():
                if "/" in key:
                    print(f"  {key}: {value:.2f}x")
    print(f"\nload at end: {os.getloadavg()}; {time.strftime('%Y-%m-%d %H:%M:%S')}")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
