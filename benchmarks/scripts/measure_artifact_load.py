"""Time ``Recommender.load`` plus the first ``recommend`` of a large saved model.

Two steps, so that the query runs in a fresh process (nothing warm in Python)::

    python benchmarks/scripts/measure_artifact_load.py build /tmp/big --users 1000000 --items 100000
    python benchmarks/scripts/measure_artifact_load.py query /tmp/big            # verify=True
    python benchmarks/scripts/measure_artifact_load.py query /tmp/big --no-verify

``build`` saves a model of random factors (via ``Recommender.from_factors``), optionally with
a seen-items matrix; ``query`` prints the wall time of each phase. The operating system's
page cache is whatever the machine has: right after ``build`` the files are usually cached.
"""

from __future__ import annotations

import argparse
import time

_T0 = time.perf_counter()

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from alsrec import Recommender  # noqa: E402

_IMPORTED = time.perf_counter()


def build(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(0)
    users = rng.standard_normal((args.users, args.factors), dtype=np.float32)
    items = rng.standard_normal((args.items, args.factors), dtype=np.float32)
    user_ids: np.ndarray = np.arange(args.users, dtype=np.int64) * 7 + 3
    item_ids: np.ndarray = np.arange(args.items, dtype=np.int64) * 11 + 5
    if args.str_ids:
        user_ids = np.char.add("U", user_ids.astype(str))
        item_ids = np.char.add("I", item_ids.astype(str))
    seen = None
    if args.seen_per_user:
        nnz = args.users * args.seen_per_user
        rows = np.repeat(np.arange(args.users), args.seen_per_user)
        cols = rng.integers(0, args.items, nnz)
        seen = sp.csr_matrix(
            (np.ones(nnz, dtype=np.float32), (rows, cols)), shape=(args.users, args.items)
        )
    rec = Recommender.from_factors(users, items, user_ids, item_ids, seen=seen)
    start = time.perf_counter()
    rec.save(args.path)
    print(f"saved {args.path} in {time.perf_counter() - start:.2f} s")


def query(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    cpu = time.process_time()
    rec = Recommender.load(args.path, verify=not args.no_verify, mmap=not args.no_mmap)
    loaded = time.perf_counter()
    user = rec.users_.id_of(12345 % len(rec.users_))
    recs = rec.recommend(user, n=10)
    done = time.perf_counter()
    cpu = time.process_time() - cpu
    assert len(recs) == 10
    print(
        f"import alsrec {_IMPORTED - _T0:.3f} s | load {loaded - start:.3f} s | "
        f"first recommend {done - loaded:.3f} s | load + first recommend {done - start:.3f} s "
        f"(CPU {cpu:.3f} s) "
        f"(verify={not args.no_verify}, mmap={not args.no_mmap})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    b = sub.add_parser("build")
    b.add_argument("path")
    b.add_argument("--users", type=int, default=1_000_000)
    b.add_argument("--items", type=int, default=100_000)
    b.add_argument("--factors", type=int, default=64)
    b.add_argument("--seen-per-user", type=int, default=0)
    b.add_argument("--str-ids", action="store_true")
    b.set_defaults(func=build)
    q = sub.add_parser("query")
    q.add_argument("path")
    q.add_argument("--no-verify", action="store_true")
    q.add_argument("--no-mmap", action="store_true")
    q.set_defaults(func=query)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
