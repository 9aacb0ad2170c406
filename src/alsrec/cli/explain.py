"""``alsrec explain``: a score split into contributions of the user's items."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from alsrec.cli.options import EXIT_OK, FORMATTER, add_formats, positive_int
from alsrec.cli.sources import as_model_id, load_model, unknown_ids

if TYPE_CHECKING:
    import argparse

    from alsrec.cli.options import Parents, Streams

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Register ``explain``."""
    parser = sub.add_parser(
        "explain",
        parents=[parents.common],
        help="split a recommendation score into contributions of the user's items",
        description="Why an item scores as it does for a user: the score as a sum of one "
        "contribution per item of the user's history (confidence x user-specific "
        "similarity; Hu, Koren and Volinsky 2008), largest first, plus the residual "
        "between the stored model and the exact split.",
        epilog="Examples:\n"
        "  alsrec explain model/ U42 I7\n"
        "  alsrec explain model/ U42 I7 --history I3 --history I9 -n 5 --format json",
        formatter_class=FORMATTER,
    )
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a directory from 'train'")
    parser.add_argument("user_id", metavar="USER_ID", help="the user")
    parser.add_argument("item_id", metavar="ITEM_ID", help="the item to explain")
    parser.add_argument(
        "--history",
        action="append",
        metavar="ITEM_ID",
        help="an item the user interacted with since training (repeatable): the score is "
        "then folded in",
    )
    parser.add_argument(
        "-n", type=positive_int, default=10, help="contributions to list (default: 10)"
    )
    add_formats(parser, ("table", "json"))
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, io: Streams) -> int:
    """Explain one (user, item) score of a saved model."""
    rec = load_model(args.model_dir, args.policy)
    user = as_model_id(args.user_id, rec.users_.kind)
    item = as_model_id(args.item_id, rec.items_.kind)
    history = None
    if args.history:
        history = [as_model_id(h, rec.items_.kind) for h in args.history]
    if args.policy == "safe" and unknown_ids(rec.items_, [item]):
        # As everywhere under the safe policy: an unknown item gives an empty answer.
        io.note(
            f"unknown item ID {item!r}: nothing to explain under the safe policy; use "
            "--policy strict to treat unknown IDs as errors."
        )
        if args.format == "json":
            io.out.write("null\n")
        return EXIT_OK
    why = rec.explain(user, item, history=history, n=args.n, policy=args.policy)
    if why.skipped:
        io.note(
            f"unknown history item ID(s) skipped: {', '.join(map(repr, why.skipped))}; use "
            "--policy strict to treat them as errors."
        )
    if why.source == "fallback":
        state = (
            "has an all-zero factor row (no training signal)"
            if user in rec.users_
            else "is unknown and has no usable history"
        )
        io.note(
            f"user {user!r} {state}: the score is the item's popularity (the fallback), "
            "nothing to split."
        )
    if args.format == "json":
        io.out.write(json.dumps(why.to_dict(), indent=2) + "\n")
    else:
        io.out.write(f"{why}\n")
    return EXIT_OK
