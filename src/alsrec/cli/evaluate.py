"""``alsrec evaluate``: split the data, train on one part, score on the other; or score a
saved model on a separate test file (``--test``)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from alsrec import ConfigError, UnreadColumnWarning, evaluation
from alsrec.cli.options import (
    EXIT_OK,
    FORMATTER,
    add_formats,
    add_split_options,
    nonnegative_int,
    positive_int,
)
from alsrec.cli.output import verdict
from alsrec.cli.sources import check_source, load_model, read_csv
from alsrec.cli.training import fit, make_recommender, split_interactions

if TYPE_CHECKING:
    import argparse

    from alsrec import Interactions, Recommender
    from alsrec.cli.options import Parents, Streams

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Register ``evaluate`` and its options."""
    parser = sub.add_parser(
        "evaluate",
        parents=[parents.common, parents.source, parents.model],
        help="measure ranking metrics against popularity: split and train, or a saved model",
        description="Split the interactions, train on one part, and report precision, "
        "recall, MAP, NDCG, hit rate, MRR, AUC, catalog coverage and popularity rank at k on "
        "the other, with bootstrap 95% intervals and the popularity baseline. With --test "
        "FILE, DATA is instead a saved model directory, scored on FILE (read with the same "
        "column options as train) next to the popularity of the model's own training data; "
        "test users and items the model does not know are counted. Says plainly when the "
        "model loses to popularity.",
        epilog="Examples:\n"
        "  alsrec evaluate events.csv --user-col user_id --item-col item_id "
        "--test-fraction 0.2 -k 10\n"
        "  alsrec evaluate events.csv --split time --time-col ts --format json\n"
        "  alsrec evaluate model/ --test test.csv --user-col user_id --item-col item_id",
        formatter_class=FORMATTER,
    )
    group = parser.add_argument_group("evaluation")
    group.add_argument(
        "--test",
        metavar="FILE",
        help="score the saved model DATA (a model directory) on this CSV file instead of "
        "splitting and training",
    )
    add_split_options(group, "--split")
    group.add_argument("-k", type=positive_int, default=10, help="list length (default: 10)")
    group.add_argument(
        "--bootstrap",
        type=nonnegative_int,
        default=1000,
        help="bootstrap resamples for the intervals; 0 for none (default: 1000)",
    )
    group.add_argument(
        "--metric",
        choices=tuple(m for m in evaluation.METRICS if m != "popularity_rank"),
        default="ndcg",
        help="the metric the verdict against popularity is about (default: ndcg)",
    )
    add_formats(parser, ("table", "json"))
    parser.set_defaults(handler=run)


def _unknown(rec: Recommender, test: Interactions) -> dict[str, int]:
    """Distinct test users and items the model does not know."""
    users = rec.users_.to_index(test.users.ids, missing="negative")
    items = rec.items_.to_index(test.items.ids, missing="negative")
    return {
        "test_users": len(test.users),
        "unknown_users": int((users < 0).sum()),
        "test_items": len(test.items),
        "unknown_items": int((items < 0).sum()),
    }


def _check_test_options(args: argparse.Namespace) -> None:
    """With ``--test``: a model directory as DATA, and no split or training options."""
    if args.sql is not None or args.db is not None:
        raise ConfigError("--test reads a CSV file; --sql and --db do not apply to it.")
    if args.data is None:
        raise ConfigError("--test needs the saved model: alsrec evaluate MODEL_DIR --test FILE.")
    names = ("test_fraction", "leave_k", "time_col", "time_mode")
    split = [n for n in names if getattr(args, n) is not None]
    if args.split != "holdout":  # the method's default: whether given cannot be told
        split.insert(0, "split")
    if split:
        flags = ", ".join("--" + n.replace("_", "-") for n in split)
        raise ConfigError(
            f"{flags}: split options do not apply with --test, which scores the saved model on "
            "the test file as it is."
        )
    training = [
        f for f, on in (("--backend", args.backend != "numpy"), ("--progress", args.progress)) if on
    ]
    if training:
        raise ConfigError(
            f"{', '.join(training)}: training options do not apply with --test, which scores "
            "the saved model without training."
        )
    given = sorted(set(getattr(args, "given_params", ())) - {"random_state"})
    if given or args.params is not None:
        flags = ", ".join("--" + g.replace("_", "-") for g in given) or "--params"
        raise ConfigError(
            f"{flags}: hyperparameters do not apply with --test, which scores the saved model "
            "as it is."
        )


def _saved_model(args: argparse.Namespace, io: Streams) -> int:
    """``evaluate MODEL_DIR --test FILE``: score a saved model on a test file."""
    _check_test_options(args)
    rec = load_model(args.data, args.policy)
    # Read the test IDs as the model stores them (integers or text), unless told otherwise.
    if args.user_type == "auto":
        args.user_type = rec.users_.kind
    if args.item_type == "auto":
        args.item_type = rec.items_.kind
    with warnings.catch_warnings():
        # relevance is binary: a test file's weights change no metric, so a note that
        # names an unread numeric column (--weight-col) would only mislead here
        warnings.simplefilter("ignore", UnreadColumnWarning)
        test = read_csv(args, args.test)
    counts = _unknown(rec, test)
    report = evaluation.evaluate(
        rec, test, args.k, bootstrap=args.bootstrap, random_state=args.random_state
    )
    found = verdict(report, args.metric)
    if args.format == "json":
        payload = {
            "model": args.data,
            "test": {"path": args.test, "interactions": test.nnz, **counts},
            "params": rec.params.to_dict(),
            **report.to_dict(),
            "verdict": found,
        }
        io.out.write(json.dumps(payload, indent=2) + "\n")
    else:
        io.out.write(
            f"Model {args.data} on {args.test}: {test.nnz} test interactions; "
            f"{counts['unknown_users']} of {counts['test_users']} test users and "
            f"{counts['unknown_items']} of {counts['test_items']} test items unknown to the "
            "model\n"
        )
        io.out.write(f"{report}\n{found['text']}\n")
    _warn(found, io)
    return EXIT_OK


def _warn(found: dict[str, object], io: Streams) -> None:
    if found["beats_popularity"] is False:
        io.note(str(found["text"]))


def run(args: argparse.Namespace, io: Streams) -> int:
    """Split, train, evaluate against popularity, and print the report."""
    if args.test is not None:
        return _saved_model(args, io)
    check_source(args)
    if args.data is not None and Path(args.data).is_dir():
        raise ConfigError(
            f"DATA {args.data!r} is a directory. To score a saved model, pass the test data: "
            f"alsrec evaluate {args.data} --test FILE; to split and train, give a CSV file."
        )
    rec = make_recommender(args)
    train, test, split = split_interactions(args, args.split, "--split")
    split.update(train_interactions=train.nnz, test_interactions=test.nnz)
    seconds = fit(rec, train, args.progress, io.err)
    report = evaluation.evaluate(
        rec, test, args.k, bootstrap=args.bootstrap, random_state=args.random_state
    )
    found = verdict(report, args.metric)
    if args.format == "json":
        payload = {
            "split": split,
            "params": rec.params.to_dict(),
            **report.to_dict(),
            "verdict": found,
        }
        io.out.write(json.dumps(payload, indent=2) + "\n")
    else:
        desc = ", ".join(f"{k} {v}" for k, v in split.items() if k != "kind")
        io.out.write(f"Split: {split['kind']} ({desc})\n")
        io.out.write(f"Trained on the training part in {seconds:.2f} s\n{report}\n")
        io.out.write(f"{found['text']}\n")
    _warn(found, io)
    return EXIT_OK
