"""Support for the benchmarks: sizes, data, the implicit reference, the ratio table.

Nothing here is downloaded and no data file is ever committed: the synthetic data is
generated from a seed, and real data is read from a path the user gives
(``ALSREC_BENCH_MOVIELENS``).
"""

from __future__ import annotations

import csv
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import alsrec.weighting
from alsrec import Interactions
from alsrec.datasets import synthetic

if TYPE_CHECKING:
    from collections.abc import Callable

    import scipy.sparse as sp

__all__ = [
    "ALPHA",
    "BLAS1",
    "COLLECTOR",
    "FACTORS",
    "REGULARIZATION",
    "SIZES",
    "BenchSize",
    "Collector",
    "Row",
    "Timed",
    "bench_size",
    "confidence_csr",
    "generate",
    "implicit_model",
    "load_movielens",
    "sample_users",
]

FACTORS = 64
REGULARIZATION = 0.05
ALPHA = 1.0


@dataclass(frozen=True)
class BenchSize:
    """One benchmark size: the synthetic shape and the sizes of the query benchmarks."""

    name: str
    users: int
    items: int
    clusters: int
    mean_interactions: float
    batch_users: int  # users per recommend_many / similar_items_many call
    latency_queries: int  # single-user calls whose median is the p50
    lookup_ids: int  # distinct string IDs for the IdMapper.to_index benchmark
    factorize_rows: int  # rows of the IdMapper.factorize benchmark
    rounds: int  # timed rounds of a training benchmark


SIZES: dict[str, BenchSize] = {
    # CI smoke: the whole suite in well under a minute on 2 cores.
    "small": BenchSize("small", 3_000, 1_000, 10, 20.0, 1_000, 50, 20_000, 200_000, 1),
    # The size the targets in benchmarks/README.md are stated for.
    "medium": BenchSize("medium", 200_000, 50_000, 50, 25.0, 10_000, 300, 1_000_000, 10_000_000, 3),
    # By hand only: about 50M interaction rows, several GiB of memory.
    "large": BenchSize(
        "large", 1_000_000, 100_000, 100, 50.0, 10_000, 300, 1_000_000, 10_000_000, 1
    ),
}


def bench_size() -> BenchSize:
    """The size named by ``ALSREC_BENCH_SIZE`` (default ``small``)."""
    name = os.environ.get("ALSREC_BENCH_SIZE", "small").strip().lower()
    if name not in SIZES:
        raise ValueError(f"ALSREC_BENCH_SIZE must be one of {sorted(SIZES)}, got {name!r}.")
    return SIZES[name]


def generate(size: BenchSize, random_state: int = 0) -> Interactions:
    """Seeded synthetic interactions of one size (string user and item IDs)."""
    data = synthetic(
        size.users,
        size.items,
        n_clusters=size.clusters,
        mean_interactions=size.mean_interactions,
        random_state=random_state,
    )
    return Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)


def load_movielens(path: str | os.PathLike[str]) -> Interactions:
    """Read MovieLens ratings as interactions weighted by the rating.

    Two formats are understood: ``ratings.csv`` (ML-20M/25M/latest: a header line
    ``userId,movieId,rating,timestamp``) and ``u.data`` (ML-100K: tab-separated
    ``user item rating timestamp``, no header). ``ratings.dat`` (ML-1M/10M, ``::``
    separated) is read too. IDs stay integers.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"ALSREC_BENCH_MOVIELENS points to {file}, which is not a file.")
    with file.open(encoding="utf-8", newline="") as handle:
        first = handle.readline()
    if "::" in first:
        raw = np.loadtxt(file, delimiter="::", usecols=(0, 1, 2), dtype=np.float64)
    elif "\t" in first:
        raw = np.loadtxt(file, delimiter="\t", usecols=(0, 1, 2), dtype=np.float64)
    else:
        header = next(csv.reader([first]))
        skip = 1 if header and not header[0].strip().lstrip("-").isdigit() else 0
        raw = np.loadtxt(file, delimiter=",", skiprows=skip, usecols=(0, 1, 2), dtype=np.float64)
    raw = np.atleast_2d(raw)
    if raw.shape[0] == 0:
        raise ValueError(f"{file} holds no ratings.")
    users = raw[:, 0].astype(np.int64)
    items = raw[:, 1].astype(np.int64)
    ratings = raw[:, 2].astype(np.float32)
    keep = ratings > 0
    return Interactions.from_arrays(users[keep], items[keep], ratings[keep])


def confidence_csr(data: Interactions, alpha: float = ALPHA) -> sp.csr_matrix:
    """``1 + alpha * w``: what alsrec trains on, given to implicit as its matrix."""
    return alsrec.weighting.confidence(data.matrix, alpha)


def implicit_model(
    threads: int, iterations: int = 15, factors: int = FACTORS, random_state: int = 0
) -> Any:
    """implicit's CPU ALS configured like alsrec (its alpha 1 on ``1 + alpha * w``)."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    # implicit checks the BLAS threads when constructed: build it in its own configuration.
    with threadpool_limits(1, user_api="blas"):
        return AlternatingLeastSquares(
            factors=factors,
            regularization=REGULARIZATION,
            alpha=1.0,
            iterations=iterations,
            calculate_training_loss=False,
            num_threads=threads,
            random_state=random_state,
        )


def sample_users(n_users: int, count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_users, min(count, n_users), replace=False)).astype(np.int64)


class Timed:
    """Wrap a callable so every call's wall time is kept.

    ``median`` leaves out the first ``warmup`` calls (pytest-benchmark's warm-up rounds),
    unless nothing else was timed (``--benchmark-disable`` runs a benchmark once).
    """

    def __init__(self, fn: Callable[..., Any], warmup: int = 0) -> None:
        self.fn = fn
        self.warmup = warmup
        self.times: list[float] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = self.fn(*args, **kwargs)
        self.times.append(time.perf_counter() - start)
        return out

    @property
    def measured(self) -> list[float]:
        return self.times[self.warmup :] or self.times

    @property
    def median(self) -> float:
        return statistics.median(self.measured)


# -- the ratio table --------------------------------------------------------------------


@dataclass
class Row:
    """One line of the ratio table: alsrec against a reference, and the target."""

    key: str
    title: str
    kind: str  # "time" (a/ref <= target), "speedup" (ref/a >= target),
    # "delta_us" (a - ref <= target us), "budget" (a / ref <= target; ref is a budget)
    target: float
    reference: str = "implicit"
    unit: str = "s"
    values: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def env_ratio(self) -> float | None:
        """alsrec's time in the default environment over its time with 1 BLAS thread."""
        a, b = self.values.get("alsrec"), self.values.get(BLAS1)
        if a is None or b is None or a <= 0 or b <= 0:
            return None
        return a / b

    def ratio(self) -> float | None:
        a, r = self.values.get("alsrec"), self.values.get(self.reference)
        if a is None or r is None or r <= 0 or a <= 0:
            return None
        if self.kind == "speedup":
            return r / a
        if self.kind == "delta_us":
            return (a - r) * 1e6
        return a / r

    def met(self) -> bool | None:
        value = self.ratio()
        if value is None:
            return None
        return value >= self.target if self.kind == "speedup" else value <= self.target

    def target_text(self) -> str:
        if self.kind == "speedup":
            return f">= {self.target:g}x"
        if self.kind == "delta_us":
            return f"<= +{self.target:g} us"
        return f"<= {self.target:g}x"

    def ratio_text(self) -> str:
        value = self.ratio()
        if value is None:
            return "n/a"
        if self.kind == "delta_us":
            return f"{value:+.0f} us"
        return f"{value:.2f}x"


def _fmt(seconds: float | None, unit: str) -> str:
    if seconds is None:
        return "-"
    if unit == "bytes":
        return f"{seconds / 2**20:.0f} MiB"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


BLAS1 = "alsrec 1 BLAS"
"""The key of alsrec's value measured with single-threaded BLAS (``blas_env="blas1"``)."""


class Collector:
    """Medians recorded by the benchmarks of this session, grouped into table rows.

    ``environment`` is the BLAS environment of the running benchmark (set by the suite's
    conftest): alsrec's values from the ``blas1`` run are kept under :data:`BLAS1`, so
    ``alsrec`` always holds the default environment's.
    """

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self.skipped: dict[str, str] = {}
        self.environment = "default"

    def define(
        self,
        key: str,
        title: str,
        kind: str,
        target: float,
        *,
        reference: str = "implicit",
        unit: str = "s",
    ) -> Row:
        if key not in self.rows:
            self.rows[key] = Row(key, title, kind, target, reference, unit)
        return self.rows[key]

    def add(self, key: str, impl: str, value: float, **notes: str) -> None:
        row = self.rows[key]
        if impl == "alsrec" and self.environment == "blas1":
            row.values[BLAS1] = value
            return  # the notes (quality, p99) are those of the default environment's run
        row.values[impl] = value
        row.notes.update(notes)

    def table(self) -> list[dict[str, str]]:
        out = []
        for row in self.rows.values():
            met = row.met()
            env = row.env_ratio()
            out.append(
                {
                    "benchmark": row.title,
                    "alsrec": _fmt(row.values.get("alsrec"), row.unit),
                    "reference": f"{row.reference} {_fmt(row.values.get(row.reference), row.unit)}",
                    "ratio": row.ratio_text(),
                    "target": row.target_text(),
                    "met": "-" if met is None else ("yes" if met else "NO"),
                    BLAS1: _fmt(row.values.get(BLAS1), row.unit),
                    "default/1 BLAS": "n/a" if env is None else f"{env:.2f}x",
                    "notes": "; ".join(f"{k} {v}" for k, v in row.notes.items()),
                }
            )
        return out


COLLECTOR = Collector()
