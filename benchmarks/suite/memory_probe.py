"""Measure the extra memory of one training run, in a fresh process (run by the benchmarks).

Usage: ``python memory_probe.py {alsrec|implicit} MATRIX.npz THREADS ITERATIONS``. Prints one
JSON line: ``peak_rss_delta`` (peak resident set size during training minus the resident
size just before it, bytes) and, for alsrec, ``traced_peak`` (peak of numpy allocations
seen by tracemalloc).
"""

from __future__ import annotations

import json
import resource
import sys
import tracemalloc

import scipy.sparse as sp
from threadpoolctl import threadpool_limits


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize()


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0), so loading the data is not counted."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _peak_bytes() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    impl, path, threads, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    conf = sp.load_npz(path).tocsr()
    factors = 64
    if impl == "alsrec":
        from alsrec import ALSParams
        from alsrec.backends import NumpyBackend

        params = ALSParams(
            factors=factors, regularization=0.05, iterations=iterations, num_threads=threads
        )
        backend = NumpyBackend()

        def train() -> object:
            with threadpool_limits(1, user_api="blas"):  # as in the benchmarks
                return backend.fit(conf, params)
    else:
        from implicit.cpu.als import AlternatingLeastSquares

        model = AlternatingLeastSquares(
            factors=factors,
            regularization=0.05,
            iterations=iterations,
            num_threads=threads,
            calculate_training_loss=False,
        )

        def train() -> object:
            with threadpool_limits(1, user_api="blas"):
                model.fit(conf, show_progress=False)
            return model

    reset = _reset_peak()
    before = _rss_bytes()
    tracemalloc.start()
    train()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = _peak_bytes()
    print(
        json.dumps(
            {
                "peak_rss_delta": peak - before,
                "traced_peak": traced_peak,
                "rss_before": before,
                "peak_reset": reset,
            }
        )
    )


if __name__ == "__main__":
    main()
