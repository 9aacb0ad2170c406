"""``alsrec train``: read interactions, train a model, save it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alsrec.cli.options import EXIT_OK, FORMATTER
from alsrec.cli.output import Report
from alsrec.cli.sources import check_output, read_interactions, save_model
from alsrec.cli.training import fit, make_recommender
from alsrec.io.format import artifact_path

if TYPE_CHECKING:
    import argparse

    from alsrec.cli.options import Parents, Streams

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Register ``train`` and its options."""
    parser = sub.add_parser(
        "train",
        parents=[parents.common, parents.source, parents.model],
        help="train a model on a CSV file or a SQL query and save it",
        description="Read interactions (one row per user-item event; duplicates are "
        "summed), train an ALS model and save it to a directory.",
        epilog="Examples:\n"
        "  alsrec train events.csv --user-col user_id --item-col item_id "
        "--weight-col plays -o model/\n"
        '  alsrec train --sql "SELECT user_id, item_id FROM events" --db sqlite:///app.db '
        "--user-col user_id --item-col item_id -o model/ --progress",
        formatter_class=FORMATTER,
    )
    parser.add_argument("-o", "--output", required=True, metavar="MODEL_DIR", help="where to save")
    parser.add_argument("--force", action="store_true", help="replace MODEL_DIR if it exists")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, io: Streams) -> int:
    """Train and save; the output directory is checked before any work."""
    target = artifact_path(args.output)  # '~' expanded, as the save will: check that path
    check_output(target, args.force, args.data)
    rec = make_recommender(args)  # validates the hyperparameters before reading data
    if rec.params.iterations == 0:
        io.note(
            "--iterations 0 keeps the random initialization: the saved model is not trained "
            "and its recommendations are noise (default: 15)."
        )
    report = Report(io.out)  # a closed pipe ('| head -1') stops the report, not the save
    data = read_interactions(args)
    print(f"Read {data.summary()}", file=report)
    seconds = fit(rec, data, args.progress, io.err)
    print(f"Trained in {seconds:.2f} s", file=report)
    print(rec.summary(), file=report)
    save_model(rec, target, args.force)
    print(f"Saved to {target}", file=report)
    if args.policy == "strict":  # the summary shows it, the artifact does not keep it
        io.note(
            "--policy strict applied while training; a model does not store its policy, so "
            "pass --policy strict to the commands that serve it too."
        )
    return EXIT_OK
