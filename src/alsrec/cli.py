"""The ``alsrec`` command line (also ``python -m alsrec``): a thin shell over the library.

Exit codes: 0 success, 2 usage error, 3 data or artifact error, 4 unknown ID under the
strict policy, 1 any other alsrec error. Errors print one line on stderr; ``--debug``
shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from alsrec._version import __version__
from alsrec.exceptions import (
    AlsrecError,
    ArtifactError,
    ConfigError,
    DataError,
    MappingMismatchError,
    UnknownIdError,
)

__all__ = ["main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_UNKNOWN_ID = 4

Command = Callable[[argparse.Namespace, TextIO], int]


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from alsrec import Interactions, Recommender
    from alsrec.datasets import demo_data
    from alsrec.evaluation import PopularityBaseline, holdout_split, ndcg_at_k

    def say(line: str = "") -> None:
        print(line, file=out)

    data = demo_data()
    interactions = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)
    summary = interactions.summary()
    say(f"alsrec {__version__} demo: embedded synthetic data with 12 planted taste clusters")
    say(f"  {summary}")
    say()

    rec = Recommender(
        factors=args.factors,
        regularization=args.regularization,
        alpha=args.alpha,
        iterations=args.iterations,
        random_state=0,
    )
    start = time.perf_counter()
    rec.fit(interactions)
    say(f"Trained in {time.perf_counter() - start:.2f} s")
    say(rec.summary())
    say()

    # Generated IDs are "U" / "I" plus the zero-padded index into the cluster arrays.
    def user_cluster(user_id: object) -> int:
        return int(data.user_clusters[int(str(user_id)[1:])])

    def item_cluster(item_id: object) -> int:
        return int(data.item_clusters[int(str(item_id)[1:])])

    user = "U000042"
    cluster = user_cluster(user)
    recs = rec.recommend(user, n=10)
    same = sum(item_cluster(i) == cluster for i, _ in recs)
    say(f"Top-10 for user {user} (taste cluster {cluster}; seen items excluded):")
    for rank, (item, score) in enumerate(recs, 1):
        mark = "same cluster" if item_cluster(item) == cluster else ""
        say(f"  {rank:2d}. {item}  score {score:7.4f}  {mark}".rstrip())
    say(f"  {same}/10 from the user's own cluster (chance: about 1/12)")
    say()

    item = str(recs.ids[0])
    say(f"Items similar to {item} (cluster {item_cluster(item)}; cosine of item factors):")
    for other, score in rec.similar_items(item, n=5):
        say(f"  {other}  cosine {score:6.3f}  cluster {item_cluster(other)}")
    say()

    say(f"Users similar to {user} (cluster {cluster}):")
    for other, score in rec.similar_users(user, n=5):
        say(f"  {other}  cosine {score:6.3f}  cluster {user_cluster(other)}")
    say()

    unknown = rec.recommend("NEW_USER", n=3)
    say(f"Unknown user 'NEW_USER' under the safe policy -> source={unknown.source!r}:")
    say("  " + ", ".join(str(i) for i, _ in unknown) + "  (most popular items)")
    say()

    train, test = holdout_split(interactions, 0.2, random_state=0)
    held_out = Recommender(
        factors=args.factors,
        regularization=args.regularization,
        alpha=args.alpha,
        iterations=args.iterations,
        random_state=0,
    ).fit(train)
    model_ndcg = ndcg_at_k(held_out, test, k=10)
    pop_ndcg = ndcg_at_k(PopularityBaseline(train), test, k=10)
    say("Held-out evaluation (20% of each user's items hidden during training):")
    say(f"  NDCG@10 model      {model_ndcg:.4f}")
    say(f"  NDCG@10 popularity {pop_ndcg:.4f}")
    say(f"  the model is {model_ndcg / pop_ndcg:.2f}x better than recommending popular items")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``alsrec`` command."""
    parser = argparse.ArgumentParser(
        prog="alsrec",
        description="Implicit-feedback ALS recommendations by your own IDs.",
        epilog="Example: alsrec demo",
    )
    parser.add_argument("--version", action="version", version=f"alsrec {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="train on the embedded synthetic data and show what the model does",
        description="Train on the embedded synthetic dataset (3,000 users, 600 items) and "
        "print recommendations, similar items and users, and a held-out comparison with "
        "popularity.",
        epilog="Example: alsrec demo --factors 32",
    )
    demo.add_argument("--factors", type=int, default=32, help="factor count (default 32)")
    demo.add_argument("--regularization", type=float, default=10.0, help="L2 penalty (default 10)")
    demo.add_argument("--alpha", type=float, default=1.0, help="confidence slope (default 1)")
    demo.add_argument("--iterations", type=int, default=15, help="ALS sweeps (default 15)")
    demo.set_defaults(handler=_demo)
    return parser


def _exit_code(exc: AlsrecError) -> int:
    if isinstance(exc, UnknownIdError):
        return EXIT_UNKNOWN_ID
    if isinstance(exc, ConfigError):
        return EXIT_USAGE
    if isinstance(exc, (DataError, ArtifactError, MappingMismatchError)):
        return EXIT_DATA
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; return the exit code.

    Examples
    --------
    >>> main(["--version"])
    Traceback (most recent call last):
    ...
    SystemExit: 0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    stream = out if out is not None else sys.stdout
    handler: Command | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(stream)
        return EXIT_USAGE
    try:
        return handler(args, stream)
    except AlsrecError as exc:
        if args.debug:
            raise
        print(f"alsrec: error: {exc}", file=sys.stderr)
        return _exit_code(exc)
