"""``alsrec split``: write a seeded train/test split of the data as two CSV files."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from alsrec import ConfigError
from alsrec.cli.options import EXIT_OK, FORMATTER, add_split_options
from alsrec.cli.output import Report, atomic_files
from alsrec.cli.sources import check_file_output, check_source, same_file
from alsrec.cli.training import split_interactions

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
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
        help="where to write the training and the test part (two different files, neither "
        "of them DATA)",
    )
    parser.add_argument("--force", action="store_true", help="replace the files if they exist")
    parser.set_defaults(handler=run)


def _layout(args: argparse.Namespace) -> tuple[list[str] | None, list[str | None]]:
    """The header row to write (None for a header-less input) and each column's role.

    With a header, the columns are user, item, weight (and timestamp) under the names the
    flags give (``user_id``, ``item_id`` for columns found by name). Without one, the
    ``--*-col`` numbers are positions, and each column goes back to its position (a column
    not read is left empty; the weight goes last when no ``--weight-col`` was given), so
    that the same flags read the output as they read the input.
    """
    timed = args.time_col is not None
    roles: list[str | None] = ["user", "item", "weight"]
    if timed:
        roles.append("timestamp")
    if not args.no_header:  # columns found by name get the first common name
        header = [args.user_col or "user_id", args.item_col or "item_id"]
        header.append(args.weight_col or "weight")
        return header + ([args.time_col] if timed else []), roles
    given = {"user": args.user_col, "item": args.item_col, "weight": args.weight_col}
    given["timestamp"] = args.time_col
    positions = {role: int(v) for role, v in given.items() if v is not None}
    if min(positions.values()) < 0:
        return None, roles
    if args.weight_col is None:
        positions["weight"] = max(positions.values()) + 1
    placed: list[str | None] = [None] * (max(positions.values()) + 1)
    for role, position in positions.items():
        placed[position] = role
    return None, placed


def write_csv(
    data: Interactions,
    out: TextIO,
    roles: Sequence[str | None],
    header: Sequence[str] | None = None,
) -> None:
    """One row per stored pair, a column per role (``user``, ``item``, ``weight``,
    ``timestamp``; None: an empty column), after the ``header`` row if given."""
    writer = csv.writer(out, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    matrix = data.matrix
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    values: dict[str | None, list[object]] = {
        "user": data.users.ids[rows].tolist(),
        "item": data.items.ids[matrix.indices].tolist(),
        "weight": [f"{w:.9g}" for w in matrix.data.tolist()],
        None: [""] * len(rows),
    }
    if "timestamp" in roles:
        times = data.timestamps if data.timestamps is not None else np.full(len(rows), np.nan)
        values["timestamp"] = [f"{t:.17g}" for t in times.tolist()]
    writer.writerows(zip(*(values[role] for role in roles), strict=True))


def _check_targets(args: argparse.Namespace, targets: list[Path]) -> None:
    """Refuse, before any work, outputs that are one file, a directory, the input data, or
    existing files without ``--force``."""
    if same_file(targets[0], targets[1]):
        same = (
            ""
            if args.output[0] == args.output[1]
            else (f" ({args.output[0]!r} and {args.output[1]!r} are the same file)")
        )
        raise ConfigError(f"-o needs two different files: TRAIN_CSV TEST_CSV{same}.")
    for target in targets:
        check_file_output(target, args.force, "-o", args.data)


def run(args: argparse.Namespace, io: Streams) -> int:
    """Split and write both parts, atomically."""
    check_source(args)
    targets = [Path(p) for p in args.output]
    _check_targets(args, targets)
    train, test, split = split_interactions(args, args.method, "--method")
    header, roles = _layout(args)
    with atomic_files(targets) as (train_out, test_out):
        write_csv(train, train_out, roles, header)
        write_csv(test, test_out, roles, header)
    report = Report(io.out)
    desc = ", ".join(f"{k} {v}" for k, v in split.items() if k != "kind")
    print(f"Split: {split['kind']} ({desc})", file=report)
    print(f"Wrote {train.nnz} training pairs to {targets[0]}", file=report)
    print(f"Wrote {test.nnz} test pairs to {targets[1]}", file=report)
    report.flush()
    return EXIT_OK
