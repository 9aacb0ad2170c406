"""``alsrec evaluate``: split the data, train on one part, score on the other."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from alsrec import ConfigError, evaluation
from alsrec.cli.options import EXIT_OK, FORMATTER, add_formats, fraction, positive_int
from alsrec.cli.sources import check_source, read_interactions
from alsrec.cli.training import fit, make_recommender

if TYPE_CHECKING:
    import argparse

    from alsrec import Interactions
    from alsrec.cli.options import Parents, Streams

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Register ``evaluate`` and its options."""
    parser = sub.add_parser(
        "evaluate",
        parents=[parents.common, parents.source, parents.model],
        help="split data, train, and measure ranking metrics against popularity",
        description="Split the interactions, train on one part, and report precision, "
        "recall, MAP, NDCG, hit rate, MRR, AUC, catalog coverage and popularity rank at k on "
        "the other, with bootstrap 95% intervals and the popularity baseline.",
        epilog="Examples:\n"
        "  alsrec evaluate events.csv --user-col user_id --item-col item_id "
        "--test-fraction 0.2 -k 10\n"
        "  alsrec evaluate events.csv --split time --time-col ts --format json",
        formatter_class=FORMATTER,
    )
    group = parser.add_argument_group("evaluation")
    group.add_argument(
        "--split",
        choices=("holdout", "leave-k-out", "time"),
        default="holdout",
        help="random per-user holdout, leave-k-out per user, or by time (default: holdout)",
    )
    group.add_argument(
        "--test-fraction",
        type=fraction,
        default=0.2,
        help="share held out per user (holdout) or of all pairs (time); default: 0.2",
    )
    group.add_argument(
        "--leave-k", type=positive_int, default=1, help="items per user for leave-k-out"
    )
    group.add_argument(
        "--time-col", help="timestamp column (numbers or ISO dates) for --split time"
    )
    group.add_argument(
        "--time-mode",
        choices=("global", "per-user"),
        default="global",
        help="time split: one cutoff for everyone, or each user's latest pairs (default: global)",
    )
    group.add_argument("-k", type=positive_int, default=10, help="list length (default: 10)")
    group.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        help="bootstrap resamples for the intervals; 0 for none (default: 1000)",
    )
    add_formats(parser, ("table", "json"))
    parser.set_defaults(handler=run)


def _split(args: argparse.Namespace) -> tuple[Interactions, Interactions, dict[str, Any]]:
    """Read the data (with its timestamps for a time split) and split it as asked."""
    seed = args.random_state
    if args.split == "time":
        if args.time_col is None:
            raise ConfigError("--split time needs --time-col (the timestamp column).")
        data = read_interactions(args, timestamp=args.time_col)
        train, test = evaluation.time_split(
            data, test_fraction=args.test_fraction, mode=args.time_mode
        )
        split = {"kind": "time", "mode": args.time_mode, "test_fraction": args.test_fraction}
        return train, test, split
    if args.time_col is not None:
        raise ConfigError("--time-col is only used with --split time.")
    data = read_interactions(args)
    if args.split == "leave-k-out":
        train, test = evaluation.leave_k_out_split(data, args.leave_k, random_state=seed)
        return train, test, {"kind": "leave-k-out", "k": args.leave_k, "random_state": seed}
    train, test = evaluation.holdout_split(data, args.test_fraction, random_state=seed)
    split = {"kind": "holdout", "test_fraction": args.test_fraction, "random_state": seed}
    return train, test, split


def run(args: argparse.Namespace, io: Streams) -> int:
    """Split, train, evaluate against popularity, and print the report."""
    check_source(args)
    rec = make_recommender(args)
    train, test, split = _split(args)
    split.update(train_interactions=train.nnz, test_interactions=test.nnz)
    seconds = fit(rec, train, args.progress, io.err)
    report = evaluation.evaluate(
        rec, test, args.k, bootstrap=args.bootstrap, random_state=args.random_state
    )
    if args.format == "json":
        payload = {"split": split, "params": rec.params.to_dict(), **report.to_dict()}
        io.out.write(json.dumps(payload, indent=2) + "\n")
    else:
        desc = ", ".join(f"{k} {v}" for k, v in split.items() if k != "kind")
        io.out.write(f"Split: {split['kind']} ({desc})\n")
        io.out.write(f"Trained on the training part in {seconds:.2f} s\n{report}\n")
    return EXIT_OK
