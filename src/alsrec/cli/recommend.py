"""``alsrec recommend``: top-N items for one or many users of a saved model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alsrec import UnknownIdError
from alsrec.cli.options import EXIT_OK, FORMATTER, add_formats, positive_int
from alsrec.cli.output import Answer, Writer
from alsrec.cli.sources import as_model_id, gather_ids, load_model, unknown_ids

if TYPE_CHECKING:
    import argparse

    from alsrec import Recommender
    from alsrec.cli.options import Parents, Streams
    from alsrec.types import ExternalId, Policy

__all__ = ["add_parser", "run"]

BATCH = 4096
"""Queries answered (and written) at a time."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Register ``recommend`` and its options."""
    parser = sub.add_parser(
        "recommend",
        parents=[parents.common],
        help="recommend items for one or more users",
        description="Top-N items per user, the user's training items excluded. Unknown "
        "users get the most popular items under --policy safe (source 'fallback').",
        epilog="Examples:\n"
        "  alsrec recommend model/ U42 -n 5\n"
        "  alsrec recommend model/ --users-file users.txt --format csv > recs.csv\n"
        "  cat users.txt | alsrec recommend model/ --users-file - --format json",
        formatter_class=FORMATTER,
    )
    parser.intermixed = True  # type: ignore[attr-defined]  # recommend MODEL -n 5 U42
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a directory from 'train'")
    parser.add_argument("user_ids", nargs="*", metavar="USER_ID", help="user IDs")
    parser.add_argument(
        "--users-file",
        metavar="FILE",
        help="also read user IDs from FILE, one per line ('-' for stdin)",
    )
    parser.add_argument("-n", type=positive_int, default=10, help="items per user (default: 10)")
    add_formats(parser, ("table", "json", "csv"))
    parser.set_defaults(handler=run)


def _refuse_unknown(rec: Recommender, ids: list[ExternalId]) -> None:
    """Under ``--policy strict``: fail before writing anything if an ID is unknown."""
    unknown = unknown_ids(rec.users_, ids)
    if unknown:
        shown = ", ".join(map(repr, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
        raise UnknownIdError(
            f"{len(unknown)} of {len(ids)} user ID(s) unknown to the model: {shown}. "
            "Remove them, or use --policy safe to give them the most popular items.",
            ids=tuple(unknown),
        )


def _answers(rec: Recommender, ids: list[ExternalId], n: int, policy: Policy) -> list[Answer]:
    """One batch of queries, answered in order."""
    kind = rec.users_.kind
    rows = [p for p, i in enumerate(ids) if isinstance(i, int) == (kind == "int")]
    answers: dict[int, Answer] = {}
    if rows:
        batch = rec.recommend_many([ids[p] for p in rows], n=n, policy=policy)
        for pos, row in zip(rows, batch, strict=True):
            answers[pos] = Answer(ids[pos], row.source, row.to_list())
    for pos, query in enumerate(ids):
        if pos not in answers:  # not an int for an int-ID model: unknown, so the
            # fallback of an unknown user (asked without the ID: no ID-type warning)
            recs = rec.recommend_for_history([], n=n, policy=policy)
            answers[pos] = Answer(query, recs.source, recs.to_list())
    return [answers[pos] for pos in range(len(ids))]


def run(args: argparse.Namespace, io: Streams) -> int:
    """Recommend for every user given, in batches, streaming the output."""
    rec = load_model(args.model_dir, args.policy)
    raw = gather_ids(args.user_ids, args.users_file)
    kind = rec.users_.kind
    if args.policy == "strict":
        _refuse_unknown(rec, [as_model_id(s, kind) for s in raw])
    writer = Writer(args.format, io.out, "user", "item")
    unknown = blank = 0
    writer.start()
    for start in range(0, len(raw), BATCH):
        ids = [as_model_id(s, kind) for s in raw[start : start + BATCH]]
        for answer in _answers(rec, ids, args.n, args.policy):
            if answer.source == "fallback":  # unknown, or known with an all-zero factor row
                known = answer.query in rec.users_
                unknown, blank = unknown + (not known), blank + known
            writer.write(answer)
    writer.finish()
    if unknown:
        io.note(
            f"{unknown} unknown user ID(s) got the most popular items (source "
            "'fallback'); use --policy strict to treat unknown IDs as errors."
        )
    if blank:
        io.note(
            f"{blank} known user ID(s) got the most popular items (source 'fallback'): "
            "their factor rows are all zero (no training signal, e.g. only items no other "
            "user has)."
        )
    return EXIT_OK
