"""``alsrec similar-items`` and ``alsrec similar-users``: nearest neighbours by cosine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alsrec import UnknownIdError
from alsrec.cli.options import EXIT_OK, FORMATTER, add_formats, positive_int
from alsrec.cli.output import similar_output
from alsrec.cli.sources import as_model_id, load_model

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from alsrec.cli.options import Parents, Streams

__all__ = ["add_parser", "runner"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Register ``similar-items`` and ``similar-users``."""
    for axis in ("item", "user"):
        parser = sub.add_parser(
            f"similar-{axis}s",
            parents=[parents.common],
            help=f"{axis}s most similar to one {axis}",
            description=f"The {axis}s whose factors have the highest cosine similarity "
            f"with the given {axis}'s, the {axis} itself excluded.",
            epilog=f"Example: alsrec similar-{axis}s model/ {'I7' if axis == 'item' else 'U42'}"
            " -n 5 --format json",
            formatter_class=FORMATTER,
        )
        parser.add_argument("model_dir", metavar="MODEL_DIR", help="a directory from 'train'")
        parser.add_argument("id", metavar=f"{axis.upper()}_ID", help=f"the {axis} ID")
        parser.add_argument(
            "-n", type=positive_int, default=10, help=f"{axis}s to show (default: 10)"
        )
        add_formats(parser, ("table", "json", "csv"))
        parser.set_defaults(handler=runner(axis))


def runner(axis: str) -> Callable[[argparse.Namespace, Streams], int]:
    """The handler of ``similar-{axis}s``."""

    def run(args: argparse.Namespace, io: Streams) -> int:
        rec = load_model(args.model_dir, args.policy)
        mapper = rec.items_ if axis == "item" else rec.users_
        query = as_model_id(args.id.strip(), mapper.kind)
        if args.policy == "strict" and query not in mapper:
            raise UnknownIdError(
                f"Unknown {axis} ID {query!r}: the model knows {len(mapper)} {axis}s. "
                "Check the ID, or use --policy safe to get an empty result instead.",
                ids=(query,),
            )
        if axis == "item":
            recs = rec.similar_items(query, n=args.n, policy=args.policy)
        else:
            recs = rec.similar_users(query, n=args.n, policy=args.policy)
        if recs.skipped:
            io.note(f"unknown {axis} ID {query!r}: no result under the safe policy.")
        similar_output(args.format, io.out, axis, query, recs.to_list())
        return EXIT_OK

    return run
