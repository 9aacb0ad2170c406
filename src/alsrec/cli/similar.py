"""``alsrec similar-items`` and ``alsrec similar-users``: nearest neighbours by cosine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alsrec import UnknownIdError
from alsrec.cli.options import EXIT_OK, FORMATTER, add_formats, positive_int
from alsrec.cli.output import SimilarWriter
from alsrec.cli.sources import as_model_id, gather_ids, load_model, unknown_ids

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from alsrec.cli.options import Parents, Streams

__all__ = ["add_parser", "runner"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Register ``similar-items`` and ``similar-users``."""
    for axis in ("item", "user"):
        example = "I7 I9" if axis == "item" else "U42"
        parser = sub.add_parser(
            f"similar-{axis}s",
            parents=[parents.common],
            help=f"{axis}s most similar to one or more {axis}s",
            description=f"For each {axis} given, the {axis}s whose factors have the highest "
            f"cosine similarity with its own, the {axis} itself excluded. IDs come from the "
            f"arguments and/or --{axis}s-file, as in recommend.",
            epilog=f"Examples:\n  alsrec similar-{axis}s model/ {example} -n 5 --format json\n"
            f"  alsrec similar-{axis}s model/ --{axis}s-file {axis}s.txt --format csv",
            formatter_class=FORMATTER,
        )
        parser.intermixed = True  # type: ignore[attr-defined]  # similar-items MODEL -n 5 I7
        parser.add_argument("model_dir", metavar="MODEL_DIR", help="a directory from 'train'")
        parser.add_argument("ids", nargs="*", metavar=f"{axis.upper()}_ID", help=f"{axis} IDs")
        parser.add_argument(
            f"--{axis}s-file",
            dest="ids_file",
            metavar="FILE",
            help=f"also read {axis} IDs from FILE, one per line ('-' for stdin)",
        )
        parser.add_argument(
            "-n", type=positive_int, default=10, help=f"{axis}s to show per ID (default: 10)"
        )
        add_formats(parser, ("table", "json", "csv"))
        parser.set_defaults(handler=runner(axis))


def runner(axis: str) -> Callable[[argparse.Namespace, Streams], int]:
    """The handler of ``similar-{axis}s``."""

    def run(args: argparse.Namespace, io: Streams) -> int:
        rec = load_model(args.model_dir, args.policy)
        mapper = rec.items_ if axis == "item" else rec.users_
        raw = gather_ids(args.ids, args.ids_file, f"--{axis}s-file")
        queries = [as_model_id(s, mapper.kind) for s in raw]
        if args.policy == "strict":
            unknown = unknown_ids(mapper, queries)
            if unknown:
                shown = ", ".join(map(repr, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
                raise UnknownIdError(
                    f"{len(unknown)} of {len(queries)} {axis} ID(s) unknown to the model: "
                    f"{shown}. Check the IDs, or use --policy safe to get an empty result "
                    "for them instead.",
                    ids=tuple(unknown),
                )
        similar = rec.similar_items if axis == "item" else rec.similar_users
        writer = SimilarWriter(args.format, io.out, axis)
        skipped = []
        writer.start()
        for query in queries:
            recs = similar(query, n=args.n, policy=args.policy)
            if recs.skipped:
                skipped.append(query)
            writer.write(query, recs.to_list())
        writer.finish()
        if skipped:
            shown = ", ".join(map(repr, skipped[:5])) + (", ..." if len(skipped) > 5 else "")
            io.note(f"unknown {axis} ID(s) {shown}: no result under the safe policy.")
        return EXIT_OK

    return run
