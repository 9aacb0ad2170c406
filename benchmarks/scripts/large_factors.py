"""numpy-backend ``fit`` at large factors against implicit, time and NDCG@10 (issue 17).

Usage::

    python benchmarks/scripts/large_factors.py [--runs 3] [--factors 64,128,256,512]
        [--data synthetic,dense,ml100k] [--before ../main/src] [--iterations 15]
        [--threads 2] [--solvers default]

``--data`` lists datasets: ``synthetic`` (many short rows), ``dense`` (few long rows,
the shape of MovieLens-1M), both from ``alsrec.datasets.synthetic`` (see ``SYNTHETIC``),
and ``ml100k``, which reads MovieLens-100k from the path in ``ALSREC_ML100K`` (a tab-separated
``user item rating timestamp`` file, with or without a header line; never committed);
ratings are the weights.

Each dataset is split 80/20 with ``alsrec.evaluation.holdout_split`` (seed 0); both
libraries train on the same confidence matrix ``1 + w`` of the training part (implicit
with its alpha at 1), with the same regularization (alsrec's ``"auto"`` value of that
matrix), factors, iterations, thread count and seed. Every timing runs in a fresh
subprocess in the default environment (no ``OPENBLAS_*`` / ``OMP_*`` / ``MKL_*`` thread
variables, no ``ALSREC_BLAS_THREADS``), and the configurations are interleaved run by run,
so a burst of load hits all of them alike; medians of ``--runs`` runs are reported, with
the 1-minute load average seen at each run. implicit runs in its best configuration:
``implicit.cpu.als.AlternatingLeastSquares`` with ``threadpool_limits(1, "blas")`` around
its construction and ``fit``, ``cg_steps=3``. NDCG@10 of both models is computed by the
same alsrec code on the held-out 20% (the factors of the first run).

``--solvers`` lists the numpy backend's ``solver`` values to time (``default`` leaves
the parameter at its default; e.g. ``default,cg,cholesky``).
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
from typing import Any

import numpy as np

SYNTHETIC = {
    # name: users, items, mean interactions per user (short rows: many users, few each)
    "synthetic": (50_000, 10_000, 20.0),
    # long rows, the shape of MovieLens-1M (6k users x 3.7k items, ~165 per user)
    "dense": (6_000, 3_700, 165.0),
}
SRC = str(Path(__file__).resolve().parents[2] / "src")
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "ALSREC_BLAS_THREADS")

_CHILD = r"""
import json, sys, time, warnings
import numpy as np
import scipy.sparse as sp
impl, folder, factors, iterations, threads, reg, solver = sys.argv[1:8]
factors, iterations, threads, reg = int(factors), int(iterations), int(threads), float(reg)
conf = sp.load_npz(folder + "/conf.npz").tocsr()
if impl in ("numpy", "before"):
    from alsrec import ALSParams
    from alsrec.backends import NumpyBackend
    extra = {} if solver == "default" else {"solver": solver}
    params = ALSParams(factors=factors, iterations=iterations, regularization=reg,
                       random_state=0, num_threads=threads, **extra)
    start = time.perf_counter()
    users, items = NumpyBackend().fit(conf, params)
    seconds = time.perf_counter() - start
else:
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with threadpool_limits(1, user_api="blas"):
            model = AlternatingLeastSquares(factors=factors, regularization=reg, alpha=1.0,
                iterations=iterations, calculate_training_loss=False, num_threads=threads,
                random_state=0, use_cg=True)  # 3 CG steps (fixed)
            start = time.perf_counter()
            model.fit(conf, show_progress=False)
            seconds = time.perf_counter() - start
    users, items = model.user_factors, model.item_factors
np.save(folder + f"/{impl}-{solver}-{factors}-users.npy", np.asarray(users))
np.save(folder + f"/{impl}-{solver}-{factors}-items.npy", np.asarray(items))
print(json.dumps({"seconds": seconds}))
"""


def _dataset(name: str) -> Any:
    from alsrec import Interactions
    from alsrec.datasets import synthetic

    if name in SYNTHETIC:
        users, items, mean = SYNTHETIC[name]
        rows = synthetic(users, items, n_clusters=50, mean_interactions=mean, random_state=0)
        return Interactions.from_arrays(rows.user_ids, rows.item_ids, rows.weights)
    from ml100k import ml100k_columns

    rows = ml100k_columns()
    return Interactions.from_arrays(rows["user"], rows["item"], rows["rating"])


def _env(src: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(impl: str, solver: str, folder: Path, factors: int, args: argparse.Namespace) -> float:
    argv = [impl, str(folder), factors, args.iterations, args.threads, args.reg, solver]
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, *map(str, argv)],
        env=_env(args.before if impl == "before" else SRC),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"{impl} {solver} {factors}f failed:\n{out.stderr}")
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def _ndcg(folder: Path, key: str, train: Any, test: Any) -> float:
    from alsrec import Recommender
    from alsrec.evaluation import ndcg_at_k

    users = np.load(folder / f"{key}-users.npy")
    items = np.load(folder / f"{key}-items.npy")
    rec = Recommender.from_factors(users, items, train.users, train.items, seen=train.matrix)
    return float(ndcg_at_k(rec, test, k=10))


def main() -> None:
    import scipy.sparse as sp

    import alsrec.weighting
    from alsrec.evaluation import holdout_split
    from alsrec.model.defaults import auto_regularization

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--factors", default="64,128,256,512")
    parser.add_argument("--data", default="synthetic,dense,ml100k")
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--solvers", default="default")
    parser.add_argument(
        "--before",
        default="",
        help="the src folder of an older alsrec checkout: also time its numpy backend",
    )
    args = parser.parse_args()
    shown = {k: os.environ[k] for k in BLAS_VARS if k in os.environ}
    print(f"removed from the children's environment: {shown or '(none was set)'}")
    print(f"cores: {os.cpu_count()}; load at start: {os.getloadavg()}")
    solvers = args.solvers.split(",")
    impls = [("numpy", s) for s in solvers] + [("implicit", "-")]
    if args.before:
        impls.insert(0, ("before", "default"))
    summary = []
    for name in args.data.split(","):
        data = _dataset(name)
        train, test = holdout_split(data, 0.2, random_state=0)
        conf = alsrec.weighting.confidence(train.matrix, 1.0)
        args.reg = round(auto_regularization(conf), 4)
        print(
            f"\n{name}: {conf.shape[0]:,} users x {conf.shape[1]:,} items, "
            f"{conf.nnz:,} training pairs; regularization {args.reg}",
            flush=True,
        )
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            sp.save_npz(folder / "conf.npz", conf, compressed=False)
            for factors in [int(f) for f in args.factors.split(",")]:
                times: dict[tuple[str, str], list[float]] = {c: [] for c in impls}
                loads: list[float] = []
                for _run_index in range(args.runs):
                    for impl, solver in impls:
                        times[(impl, solver)].append(_run(impl, solver, folder, factors, args))
                        loads.append(os.getloadavg()[0])
                med = {c: statistics.median(v) for c, v in times.items()}
                ndcg = {c: _ndcg(folder, f"{c[0]}-{c[1]}-{factors}", train, test) for c in impls}
                ref_t, ref_n = med[("implicit", "-")], ndcg[("implicit", "-")]
                for impl, solver in impls:
                    c = (impl, solver)
                    row = {
                        "data": name,
                        "factors": factors,
                        "impl": {"implicit": "implicit", "before": "alsrec numpy before"}.get(
                            impl, f"alsrec numpy ({solver})"
                        ),
                        "seconds": round(med[c], 3),
                        "runs": [round(t, 3) for t in times[c]],
                        "ratio": round(med[c] / ref_t, 3),
                        "ndcg@10": round(ndcg[c], 4),
                        "ndcg_vs_implicit": f"{(ndcg[c] - ref_n) / ref_n * 100:+.2f}%",
                        "load_1min": f"{min(loads):.2f}-{max(loads):.2f}",
                    }
                    summary.append(row)
                    print(
                        f"  {factors:4d}f {row['impl']:24s} {row['seconds']:7.2f} s "
                        f"{row['runs']} ratio {row['ratio']:.2f}  NDCG@10 {row['ndcg@10']:.4f} "
                        f"({row['ndcg_vs_implicit']})  load {row['load_1min']}",
                        flush=True,
                    )
    print(f"\nload at end: {os.getloadavg()}; {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
