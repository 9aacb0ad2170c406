"""Shared fixtures of the benchmark suite and the ratio table printed at the end.

Run ``pytest benchmarks/ --benchmark-only`` (``ALSREC_BENCH_SIZE=small|medium|large``,
default ``small``). Every benchmark times alsrec and a reference (raw implicit, or pandas
for ID mapping) in the same process, on the same data, with the same number of threads
(``ALSREC_BENCH_THREADS``, default 2 worker threads in each library).

BLAS environments (``ALSREC_BENCH_BLAS``: ``both``, the default, ``default`` or
``blas1``): every alsrec benchmark that takes the ``alsrec_threads`` fixture runs twice,
first as a user runs it with no environment variable set (``default``: BLAS at one
thread per core, as OpenBLAS starts; alsrec scopes BLAS itself during its heavy calls),
then with single-threaded BLAS (``blas1``, as ``OPENBLAS_NUM_THREADS=1``). The table
shows the default environment first; ``alsrec 1 BLAS`` is the second run and
``default/1 BLAS`` their ratio (target <= 1.10). The reference (implicit) always runs
in its best configuration, one BLAS thread, as implicit asks.

Each benchmark test records the median of its timed rounds in :class:`Collector`; at the
end of the session the table of medians, ratios and targets is printed, and written as
JSON to ``ALSREC_BENCH_JSON`` when that is set (``benchmarks/scripts/plot.py`` draws the README
figure from it).

Fixtures for other benchmark modules:

- ``size`` (:class:`bench_data.BenchSize`), ``threads`` (int), ``dataset`` (the
  :class:`alsrec.Interactions` of this size, or MovieLens from ``ALSREC_BENCH_MOVIELENS``),
  ``split`` (a seeded holdout ``(train, test)``), ``collector`` (call
  ``collector.define(...)`` once per table row and ``collector.add(...)`` per measurement),
  ``timed`` (wraps a callable so every call's wall time is recorded), ``fitted`` (an alsrec
  model plus an implicit model holding the same factors), ``alsrec_threads`` /
  ``implicit_threads`` (context managers that set the BLAS environment of each side),
  ``blas_env`` (``"default"`` or ``"blas1"``, the environment of this run).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import alsrec
from alsrec import Interactions, Recommender
from alsrec.evaluation import holdout_split

if TYPE_CHECKING:
    from collections.abc import Callable

    import scipy.sparse as sp
from bench_support import (
    ALPHA,
    COLLECTOR,
    FACTORS,
    REGULARIZATION,
    BenchSize,
    Collector,
    Timed,
    bench_size,
    generate,
    implicit_model,
    load_movielens,
)

BLAS_ENVS = ("default", "blas1")


def _blas_envs() -> tuple[str, ...]:
    value = os.environ.get("ALSREC_BENCH_BLAS", "both").strip().lower()
    if value == "both":
        return BLAS_ENVS
    if value not in BLAS_ENVS:
        raise ValueError(f"ALSREC_BENCH_BLAS must be both, default or blas1, got {value!r}.")
    return (value,)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every benchmark that takes ``alsrec_threads`` in each BLAS environment."""
    if "alsrec_threads" in metafunc.fixturenames:
        metafunc.parametrize("blas_env", _blas_envs(), scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The reference runs once (its configuration does not change with ``blas_env``)."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        params = params.params if params is not None else {}
        env, impl = params.get("blas_env"), params.get("impl")
        if env is not None and env != _blas_envs()[0] and impl not in (None, "alsrec"):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def collector() -> Collector:
    return COLLECTOR


@pytest.fixture(autouse=True)
def _record_blas_env(request: pytest.FixtureRequest) -> Any:
    """Tell the collector which BLAS environment this benchmark's alsrec timings are from."""
    spec = getattr(request.node, "callspec", None)
    COLLECTOR.environment = spec.params.get("blas_env", "default") if spec else "default"
    yield
    COLLECTOR.environment = "default"


def machine_info(threads: int) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo", encoding="utf-8"):  # noqa: SIM115
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture', '?')}, "
        f"{i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    import implicit

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": threads,
        "blas": blas,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "implicit": implicit.__version__,
        "alsrec": alsrec.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"),
        "ALSREC_BLAS_THREADS": os.environ.get("ALSREC_BLAS_THREADS", "(unset)"),
        "blas_envs": list(_blas_envs()),
    }


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own tables
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if not COLLECTOR.rows:
        return
    size = bench_size()
    threads = _threads()
    lines = COLLECTOR.table()
    cols = [
        "benchmark",
        "alsrec",
        "reference",
        "ratio",
        "target",
        "met",
        "alsrec 1 BLAS",
        "default/1 BLAS",
        "notes",
    ]
    widths = {c: max(len(c), *(len(r[c]) for r in lines)) for c in cols}
    tr = terminalreporter
    data_name = os.environ.get("ALSREC_BENCH_MOVIELENS") or f"synthetic {size.name}"
    tr.write_sep(
        "=",
        f"alsrec ratio table (medians; {data_name}; {threads} threads; alsrec in the default "
        "environment, then with 1 BLAS thread)",
    )
    tr.write_line("  ".join(c.ljust(widths[c]) for c in cols))
    for r in lines:
        tr.write_line("  ".join(r[c].ljust(widths[c]) for c in cols))
    for name, why in COLLECTOR.skipped.items():
        tr.write_line(f"skipped: {name}: {why}")
    out = os.environ.get("ALSREC_BENCH_JSON")
    if out:
        payload = {
            "size": size.name,
            "data": data_name,
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "machine": machine_info(threads),
            "rows": [
                {
                    "key": row.key,
                    "title": row.title,
                    "kind": row.kind,
                    "target": row.target,
                    "reference": row.reference,
                    "unit": row.unit,
                    "values": row.values,
                    "ratio": row.ratio(),
                    "default_vs_blas1": row.env_ratio(),
                    "met": row.met(),
                    "notes": row.notes,
                }
                for row in COLLECTOR.rows.values()
            ],
            "table": lines,
            "skipped": COLLECTOR.skipped,
        }
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)
        tr.write_line(f"results written to {out}")


# -- sizes, threads, data -----------------------------------------------------------------


def _threads() -> int:
    return int(os.environ.get("ALSREC_BENCH_THREADS", "2"))


@pytest.fixture(scope="session")
def size() -> BenchSize:
    return bench_size()


@pytest.fixture(scope="session")
def threads() -> int:
    return _threads()


@pytest.fixture(scope="session")
def blas_env(request: pytest.FixtureRequest) -> str:
    """``"default"`` or ``"blas1"`` (parametrized by :func:`pytest_generate_tests`)."""
    return str(getattr(request, "param", "default"))


@pytest.fixture(scope="session")
def alsrec_threads(blas_env: str) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    """The BLAS environment alsrec is timed in.

    ``default``: BLAS at one thread per core, what OpenBLAS starts with when no environment
    variable is set (set explicitly, so the run means the same even when the shell exports
    ``OPENBLAS_NUM_THREADS``); alsrec scopes BLAS itself during its heavy calls.
    ``blas1``: single-threaded BLAS, as ``OPENBLAS_NUM_THREADS=1``.
    """
    count = 1 if blas_env == "blas1" else (os.cpu_count() or 1)
    return lambda: threadpool_limits(count, user_api="blas")


@pytest.fixture(scope="session")
def implicit_threads() -> Callable[[], contextlib.AbstractContextManager[Any]]:
    """implicit runs its own ``num_threads`` pool and asks for single-threaded BLAS.

    This is implicit's documented configuration (it warns otherwise) and, measured here,
    its fastest (BLAS at 2 threads was 1.7-2.7x slower for batch ``recommend``). alsrec
    is timed both in the default environment and in this one (see ``alsrec_threads``),
    with the same ``threads`` worker threads.
    """
    return lambda: threadpool_limits(1, user_api="blas")


@pytest.fixture(scope="session")
def dataset(size: BenchSize) -> Interactions:
    path = os.environ.get("ALSREC_BENCH_MOVIELENS")
    if path:
        return load_movielens(path)
    return generate(size)


@pytest.fixture(scope="session")
def split(dataset: Interactions) -> tuple[Interactions, Interactions]:
    return holdout_split(dataset, 0.2, random_state=0)


@dataclass
class Fitted:
    """An alsrec model and an implicit model that hold the same factors."""

    rec: Recommender
    model: Any  # implicit.cpu.als.AlternatingLeastSquares
    user_items: sp.csr_matrix  # what implicit filters with (the training matrix)
    user_ids: np.ndarray  # external ID of user row k
    item_ids: np.ndarray


@pytest.fixture(scope="session")
def fitted(dataset: Interactions, threads: int) -> Fitted:
    """Factors for the query benchmarks (a few sweeps: ranking speed, not quality)."""
    rec = Recommender(
        factors=FACTORS,
        regularization=REGULARIZATION,
        alpha=ALPHA,
        iterations=3,
        random_state=0,
        num_threads=threads,
    )
    rec.fit(dataset)  # in the process's environment; alsrec scopes BLAS itself
    model = implicit_model(threads)
    model.user_factors = rec.user_factors_
    model.item_factors = rec.item_factors_
    return Fitted(rec, model, dataset.matrix, dataset.users.ids, dataset.items.ids)


@pytest.fixture
def timed() -> Callable[..., Timed]:
    """``timed(fn, warmup=0)``: see :class:`bench_support.Timed`."""
    return Timed


@pytest.fixture(scope="session")
def matmul_peak(threads: int, size: BenchSize) -> float:
    """The machine's float32 matrix-multiply rate, GFLOP/s, at ``threads`` BLAS threads."""
    n = 1024 if size.name == "small" else 3072
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    best = float("inf")
    with threadpool_limits(threads, user_api="blas"):
        for _ in range(5):
            start = time.perf_counter()
            np.matmul(a, b, out=out)
            best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9
