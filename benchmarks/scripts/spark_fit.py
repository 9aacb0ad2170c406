"""Spark training cost: alsrec's overhead over raw pyspark ALS, memory, cores, numpy.

Modes given together run interleaved in one process, so machine noise hits them alike
(compare minimums); give one mode per process when its peak memory matters::

    PYTHONPATH=src python benchmarks/scripts/spark_fit.py als_only,raw,fit_spark --master local[2]

Modes (every one trains the same model: same data, rank, iterations, regParam, alpha,
blocks and seed; the data is cached in Spark before the clock starts):

``als_only``   pyspark ALS.fit + toArrow on already indexed, deduplicated, cached data:
               the floor (no ID handling at all).
``raw``        pyspark only: StringIndexer on users and items, sum duplicates, ALS.fit,
               factors out with toArrow -- what a user would write without alsrec.
``fit_spark``  ``Recommender.fit_spark`` on the same string-ID DataFrame (keep_seen=True).
``lean``       the same with ``keep_seen=False``.
``raw_local``  pyspark only, from driver arrays: factorize, createDataFrame, ALS.fit, toArrow.
``backend``    ``Recommender(backend=SparkBackend(spark)).fit`` on the same driver arrays.
``numpy``      the numpy backend on the same arrays (no JVM).

Prints per mode the minimum and median seconds over ``--rounds``, then the peak Python
RSS and peak JVM RSS of the process (the local-mode JVM holds driver and executors).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from alsrec import ALSParams, Interactions, Recommender
from alsrec.datasets import synthetic
from alsrec.spark import spark_reg_param


def _jvm_peak_mib() -> float:
    """Peak RSS of the java child processes of this process (VmHWM), in MiB."""
    peak = 0.0
    me = str(os.getpid())
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() != me or "java" not in fields.get("Name", ""):
            continue
        peak = max(peak, int(fields.get("VmHWM", "0 kB").split()[0]) / 1024)
    return peak


def _python_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("modes", help="comma-separated modes, run interleaved")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--factors", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    data = synthetic(n_users=args.users, n_items=args.items, n_clusters=20, random_state=0)
    params = ALSParams(
        factors=args.factors, regularization=10.0, iterations=args.iterations, random_state=0
    )
    modes = args.modes.split(",")
    if modes == ["numpy"]:
        run = lambda: Recommender(**_kw(params)).fit(data.user_ids, data.item_ids, data.weights)  # noqa: E731
        _report(args, _timed({"numpy": run}, args.rounds), len(data))
        return

    import pyarrow as pa
    from pyspark.ml.feature import StringIndexer
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    from alsrec.spark import SparkBackend, local_session

    inter = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)
    reg = spark_reg_param(
        params.regularization, inter.matrix.nnz, inter.matrix.shape[0], inter.matrix.shape[1]
    )
    with local_session(args.master, driver_memory="4g") as spark:
        blocks = spark.sparkContext.defaultParallelism
        table = pa.table({"u": data.user_ids, "i": data.item_ids, "w": data.weights})
        df = spark.createDataFrame(table).cache()
        df.count()

        def als(user: str, item: str, rating: str) -> Any:
            return ALS(
                rank=params.factors,
                maxIter=params.iterations,
                regParam=reg,
                alpha=params.alpha,
                implicitPrefs=True,
                userCol=user,
                itemCol=item,
                ratingCol=rating,
                numUserBlocks=blocks,
                numItemBlocks=blocks,
                seed=0,
            )

        def raw() -> None:
            indexed = df
            for col in ("u", "i"):
                indexer = StringIndexer(
                    inputCol=col, outputCol=col + "x", stringOrderType="alphabetAsc"
                )
                indexed = indexer.fit(indexed).transform(indexed)
            pairs = indexed.groupBy(
                F.col("ux").cast("int").alias("ux"), F.col("ix").cast("int").alias("ix")
            ).agg(F.sum("w").cast("float").alias("w"))
            model = als("ux", "ix", "w").fit(pairs)
            model.userFactors.toArrow()
            model.itemFactors.toArrow()

        def raw_local() -> None:
            _, u = np.unique(data.user_ids, return_inverse=True)
            _, i = np.unique(data.item_ids, return_inverse=True)
            frame = spark.createDataFrame(
                pa.table(
                    {
                        "u": u.astype(np.int32),
                        "i": i.astype(np.int32),
                        "w": data.weights,
                    }
                )
            )
            pairs = frame.groupBy("u", "i").agg(F.sum("w").cast("float").alias("w"))
            model = als("u", "i", "w").fit(pairs)
            model.userFactors.toArrow()
            model.itemFactors.toArrow()

        indexed = None
        if "als_only" in modes:
            coo = inter.matrix.tocoo()
            indexed = spark.createDataFrame(
                pa.table(
                    {
                        "u": coo.row.astype(np.int32),
                        "i": coo.col.astype(np.int32),
                        "w": coo.data.astype(np.float32),
                    }
                )
            ).cache()
            indexed.count()

        def als_only() -> None:
            model = als("u", "i", "w").fit(indexed)
            model.userFactors.toArrow()
            model.itemFactors.toArrow()

        runs = {
            "als_only": als_only,
            "raw": raw,
            "fit_spark": lambda: Recommender.fit_spark(df, "u", "i", "w", params=params),
            "lean": lambda: Recommender.fit_spark(
                df, "u", "i", "w", params=params, keep_seen=False
            ),
            "raw_local": raw_local,
            "backend": lambda: Recommender(**_kw(params), backend=SparkBackend(spark)).fit(
                data.user_ids, data.item_ids, data.weights
            ),
        }
        # Warm the JVM (JIT, ALS classes) on a small slice before timing.
        small = df.limit(20_000)
        Recommender.fit_spark(small, "u", "i", "w", params=ALSParams(factors=4, iterations=2))
        _report(args, _timed({m: runs[m] for m in modes}, args.rounds), len(data))


def _kw(params: ALSParams) -> dict[str, Any]:
    return {
        "factors": params.factors,
        "regularization": params.regularization,
        "iterations": params.iterations,
        "random_state": params.random_state,
    }


def _timed(runs: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    """Run the modes interleaved (a, b, c, a, b, c, ...) so machine noise hits all alike."""
    times: dict[str, list[float]] = {mode: [] for mode in runs}
    for _ in range(rounds):
        for mode, run in runs.items():
            start = time.perf_counter()
            run()
            times[mode].append(time.perf_counter() - start)
    return times


def _report(args: argparse.Namespace, times: dict[str, list[float]], rows: int) -> None:
    for mode, values in times.items():
        print(
            f"{mode:10s} {args.master:9s} rows={rows} factors={args.factors} "
            f"iterations={args.iterations} min_s={min(values):.2f} "
            f"median_s={float(np.median(values)):.2f} runs={len(values)}",
            flush=True,
        )
    print(
        f"peak RSS over all modes: python {_python_peak_mib():.0f} MiB, "
        f"JVM {_jvm_peak_mib():.0f} MiB",
        flush=True,
    )


if __name__ == "__main__":
    main()
