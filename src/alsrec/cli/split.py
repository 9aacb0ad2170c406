"""``alsrec split``: write a seeded train/test split of the data as two CSV files."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from alsrec import ConfigError
from alsrec.cli.options import EXIT_OK, FORMATTER, add_split_options
from alsrec.cli.output import atomic_files
from alsrec.cli.sources import check_source, check_writable
from alsrec.cli.training import split_interactions

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

    from alsrec import Interactions
    from alsrec.cli.options import Parents, Streams

__all__ = ["add_parser", "run", "write_csv"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Register ``split`` and its options."""
    parser = sub.add_parser(
        "split",
        parents=[parents.common, parents.source],
        help="split interactions into train and test CSV files (holdout, leave-k-out, time)",
        description="Read the interactions as train does, split them as evaluate does "
        "(seeded), and write the two parts as CSV files with the columns of the input: "
        "user, item, weight (the merged weight of each pair), and the timestamp with "
        "--time-col (seconds since the epoch for dates). Both files are written next to "
        "their destinations and moved into place at the end, so an interrupted run leaves "
        "no partial file.",
        epilog="Examples:\n"
        "  alsrec split events.csv --user-col user_id --item-col item_id "
        "--test-fraction 0.2 -o train.csv test.csv\n"
        "  alsrec split events.csv --method time --time-col ts -o train.csv test.csv",
        formatter_class=FORMATTER,
    )
    group = parser.add_argument_group("split")
    add_split_options(group, "--method")
    group.add_argument(
        "--random-state",
        "--seed",
        type=int,
        default=0,
        help="seed of the holdout and leave-k-out draws (default: 0)",
    )
    parser.add_argument(
        "-o",
        "--output",
        nargs=2,
        required=True,
        metavar=("TRAIN_CSV", "TEST_CSV"),
        help="where to write the training and the test part",
    )
    parser.add_argument("--force", action="store_true", help="replace the files if they exist")
    parser.set_defaults(handler=run)


def _names(args: argparse.Namespace) -> list[str]:
    """Output column names: the input's, or user/item/weight/timestamp without a header."""
    if args.no_header:
        names = ["user", "item", "weight"]
        return names + (["timestamp"] if args.time_col is not None else [])
    names = [args.user_col, args.item_col, args.weight_col or "weight"]
    return names + ([args.time_col] if args.time_col is not None else [])


def write_csv(data: Interactions, out: TextIO, names: list[str]) -> None:
    """One row per stored pair: user, item, weight (and timestamp when ``names`` has 4)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    matrix = data.matrix
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    columns = [
        data.users.ids[rows].tolist(),
        data.items.ids[matrix.indices].tolist(),
        [f"{w:.9g}" for w in matrix.data.tolist()],
    ]
    if len(names) == 4:
        times = data.timestamps if data.timestamps is not None else np.full(len(rows), np.nan)
        columns.append([f"{t:.17g}" for t in times.tolist()])
    writer.writerows(zip(*columns, strict=True))


def run(args: argparse.Namespace, io: Streams) -> int:
    """Split and write both parts, atomically."""
    check_source(args)
    targets = [Path(p) for p in args.output]
    if targets[0].absolute() == targets[1].absolute():
        raise ConfigError("-o needs two different files: TRAIN_CSV TEST_CSV.")
    for target in targets:
        check_writable(target)
        if target.exists() and not args.force:
            raise ConfigError(
                f"{str(target)!r} already exists; choose another -o file or pass --force "
                "to replace it."
            )
    train, test, split = split_interactions(args, args.method)
    names = _names(args)
    with atomic_files(targets) as (train_out, test_out):
        write_csv(train, train_out, names)
        write_csv(test, test_out, names)
    desc = ", ".join(f"{k} {v}" for k, v in split.items() if k != "kind")
    print(f"Split: {split['kind']} ({desc})", file=io.out)
    print(f"Wrote {train.nnz} training pairs to {targets[0]}", file=io.out)
    print(f"Wrote {test.nnz} test pairs to {targets[1]}", file=io.out)
    return EXIT_OK
