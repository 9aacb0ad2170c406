"""``alsrec inspect``: describe a saved model."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from alsrec.cli.options import EXIT_DATA, EXIT_OK, FORMATTER, add_formats
from alsrec.cli.sources import inspect_model

if TYPE_CHECKING:
    import argparse

    from alsrec.cli.options import Parents, Streams

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Register ``inspect``."""
    parser = sub.add_parser(
        "inspect",
        parents=[parents.common],
        help="describe a saved model",
        description="Show a saved model's format, hyperparameters, sizes and mapping check. "
        "Exits with code 3 (data or artifact error) when the report finds problems "
        '(status PROBLEMS, "ok": false in JSON), after printing it, so that '
        "'alsrec inspect model/ && deploy' stops at a model that cannot serve.",
        epilog="Example: alsrec inspect model/ --format json",
        formatter_class=FORMATTER,
    )
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a directory from 'train'")
    add_formats(parser, ("table", "json"))
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, io: Streams) -> int:
    """Print the artifact report as a table or JSON; exit code 3 when it finds problems."""
    text, info = inspect_model(args.model_dir)
    if args.format == "json":
        io.out.write(json.dumps(info, indent=2, default=str) + "\n")
    else:
        io.out.write(text + "\n")
    if info.get("ok") is True:
        return EXIT_OK
    problems = info.get("problems") or []
    print(
        f"alsrec: error: {args.model_dir}: the model has {len(problems)} problem(s), listed "
        "in the report; fix or retrain it before serving it.",
        file=io.err,
    )
    return EXIT_DATA
