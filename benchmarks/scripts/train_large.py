"""Large size by hand: 1M users x 100k items (~50M rows) on the numpy backend.

Usage::

    OPENBLAS_NUM_THREADS=1 /usr/bin/time -v python benchmarks/scripts/train_large.py [SWEEPS]

Prints the time to generate and map the data, the time of each sweep, and the peak resident
memory of the process, to check that the large size trains on a 24 GiB machine.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np

from alsrec import Interactions, Recommender
from alsrec.datasets import synthetic

GIB = 2**20  # ru_maxrss is in KiB on Linux


def main(sweeps: int) -> None:
    start = time.perf_counter()
    rows = synthetic(1_000_000, 100_000, n_clusters=100, mean_interactions=50.0, random_state=0)
    print(f"generated {len(rows):,} rows in {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    data = Interactions.from_arrays(rows.user_ids, rows.item_ids, rows.weights)
    del rows
    print(f"mapped {data.shape} with {data.nnz:,} pairs in {time.perf_counter() - start:.1f} s")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stamps: list[float] = []
    start = time.perf_counter()
    rec = Recommender(factors=64, regularization=0.05, iterations=sweeps, random_state=0)
    rec.fit(data, callback=lambda *_: stamps.append(time.perf_counter()))
    per_sweep = np.diff([start, *stamps]).round(1).tolist()
    print(f"fit {sweeps} sweeps in {time.perf_counter() - start:.1f} s; per sweep {per_sweep}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    factors = rec.user_factors_.nbytes + rec.item_factors_.nbytes
    m = data.matrix
    csr = m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
    print(
        f"peak RSS {peak / GIB:.2f} GiB (before fit {before / GIB:.2f} GiB); "
        f"factors {factors / 2**20:.0f} MiB, CSR {csr / 2**20:.0f} MiB (twice with its transpose)"
    )
    start = time.perf_counter()
    rec.recommend("U000001", n=10)
    print(f"first recommend {1e3 * (time.perf_counter() - start):.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
