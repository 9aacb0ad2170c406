"""Ingest throughput: rows per second of ``Interactions.from_csv`` and ``from_sql``.

Run ``pytest benchmarks/suite/test_bench_ingest.py --benchmark-only``. The size is
``ALSREC_BENCH_INGEST_ROWS`` rows, else from ``ALSREC_BENCH_SIZE`` (``small`` = 100k,
``medium`` = 1M, ``large`` = 10M); rows/second land in each benchmark's ``extra_info``.

The file is also a script, for the by-hand 10M-row measurement (peak memory included)::

    python benchmarks/suite/test_bench_ingest.py write /tmp/plays.csv --rows 10000000
    /usr/bin/time -v python benchmarks/suite/test_bench_ingest.py load /tmp/plays.csv

``load`` prints rows/second and the process's peak RSS (``resource.getrusage``).
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import sys
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from alsrec import Interactions

if TYPE_CHECKING:
    from pathlib import Path

_SIZES = {"small": 100_000, "medium": 1_000_000, "large": 10_000_000}


def bench_rows() -> int:
    """How many rows the benchmarks load."""
    if "ALSREC_BENCH_INGEST_ROWS" in os.environ:
        return int(os.environ["ALSREC_BENCH_INGEST_ROWS"])
    return _SIZES[os.environ.get("ALSREC_BENCH_SIZE", "small")]


def generate(n: int, seed: int = 0) -> tuple[list[str], list[int], list[int]]:
    """``n`` rows: about 10 per user (``"user<k>"``), 100k items (ints), small counts."""
    rng = np.random.default_rng(seed)
    users = [f"user{k}" for k in rng.integers(0, max(1, n // 10), n).tolist()]
    items = rng.integers(0, 100_000, n).tolist()
    weights = rng.integers(1, 50, n).tolist()
    return users, items, weights


def write_csv(path: Path | str, n: int, *, quoted: bool = False, seed: int = 0) -> None:
    """Write an ``n``-row CSV file (``user_id,item_id,plays``), 1M rows at a time."""
    step = 1_000_000
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("user_id,item_id,plays\n")
        for start in range(0, n, step):
            users, items, weights = generate(min(step, n - start), seed + start)
            fmt = '"{}","{}","{}"\n' if quoted else "{},{},{}\n"
            out.write("".join(fmt.format(*r) for r in zip(users, items, weights, strict=True)))


@pytest.fixture(scope="module")
def n_rows() -> int:
    return bench_rows()


@pytest.fixture(scope="module")
def csv_paths(tmp_path_factory: pytest.TempPathFactory, n_rows: int) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ingest")
    paths = {"plain": folder / "plain.csv", "quoted": folder / "quoted.csv"}
    write_csv(paths["plain"], n_rows)
    write_csv(paths["quoted"], n_rows, quoted=True)
    return paths


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory, n_rows: int) -> Path:
    path = tmp_path_factory.mktemp("ingest") / "plays.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE plays (user_id TEXT, item_id INTEGER, plays REAL)")
    users, items, weights = generate(n_rows)
    db.executemany("INSERT INTO plays VALUES (?, ?, ?)", zip(users, items, weights, strict=True))
    db.commit()
    db.close()
    return path


def _rounds(n_rows: int) -> int:
    return 3 if n_rows <= 1_000_000 else 1


@pytest.mark.parametrize("kind", ["plain", "quoted"])
def test_csv_rows_per_second(
    benchmark: Any, csv_paths: dict[str, Path], n_rows: int, kind: str
) -> None:
    """Plain files take the split-the-block fast path; quoted ones go through ``csv``."""
    benchmark.group = "ingest"
    data = benchmark.pedantic(
        Interactions.from_csv,
        args=(csv_paths[kind],),
        kwargs={"weight": "plays", "progress": False},
        rounds=_rounds(n_rows),
        iterations=1,
    )
    assert data.rows_read == n_rows
    benchmark.extra_info["rows"] = n_rows
    benchmark.extra_info["rows_per_second"] = n_rows / benchmark.stats.stats.median


def test_sqlite_rows_per_second(benchmark: Any, sqlite_db: Path, n_rows: int) -> None:
    benchmark.group = "ingest"

    def load() -> Interactions:
        with sqlite3.connect(sqlite_db) as db:
            return Interactions.from_sql(
                db, "SELECT user_id, item_id, plays FROM plays", weight="plays"
            )

    data = benchmark.pedantic(load, rounds=_rounds(n_rows), iterations=1)
    assert data.rows_read == n_rows
    benchmark.extra_info["rows"] = n_rows
    benchmark.extra_info["rows_per_second"] = n_rows / benchmark.stats.stats.median


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("write", help="write a benchmark CSV file")
    write.add_argument("path")
    write.add_argument("--rows", type=int, default=10_000_000)
    write.add_argument("--quoted", action="store_true")
    load = sub.add_parser("load", help="load a CSV file, print rows/s and peak RSS")
    load.add_argument("path")
    load.add_argument("--chunk-rows", type=int, default=200_000)
    args = parser.parse_args(argv)
    if args.command == "write":
        write_csv(args.path, args.rows, quoted=args.quoted)
        print(f"wrote {args.rows} rows to {args.path} ({os.path.getsize(args.path) / 1e6:.0f} MB)")
        return
    before = _peak_rss_mib()
    start = time.perf_counter()
    data = Interactions.from_csv(
        args.path, weight="plays", chunk_rows=args.chunk_rows, progress=None
    )
    seconds = time.perf_counter() - start
    print(data.summary())
    print(
        f"{data.rows_read} rows in {seconds:.1f} s = {data.rows_read / seconds:,.0f} rows/s; "
        f"peak RSS {_peak_rss_mib():.0f} MiB (before loading {before:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
