"""What commands read and write: interactions (through ``Interactions``), models, IDs.

Every read goes through the library: ``Interactions.from_csv`` / ``from_sql`` (with the
data's timestamps when a command needs them), ``Recommender.load`` and ``save`` (which is
atomic), the artifact inspector. The command line adds only what is its own: SQLite URLs,
0-based column numbers with ``--no-header``, the ``--force`` check, and IDs typed on the
command line.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alsrec import ArtifactError, ConfigError, DataError, Interactions, Recommender
from alsrec.io import check_destination, inspect_artifact

if TYPE_CHECKING:
    import argparse

    from alsrec.types import ExternalId, Policy

__all__ = [
    "as_model_id",
    "check_output",
    "check_source",
    "connect",
    "gather_ids",
    "inspect_model",
    "load_model",
    "read_csv",
    "read_interactions",
    "read_sql",
    "reason",
    "save_model",
]

_INT64 = (-(2**63), 2**63 - 1)


def reason(exc: BaseException) -> str:
    """An exception's message as a clause: one line, no final period."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__


# -- interactions ---------------------------------------------------------------------------


def _column(name: str, header: bool, what: str) -> str | int:
    """A column by header name, or by 0-based number with ``--no-header``."""
    if header:
        return name
    try:
        return int(name)
    except ValueError:
        raise ConfigError(
            f"With --no-header, --{what}-col must be a 0-based column number, got {name!r}."
        ) from None


def read_csv(
    path: str,
    *,
    user: str,
    item: str,
    weight: str | None,
    delimiter: str,
    header: bool,
    timestamp: str | None = None,
) -> Interactions:
    """Interactions from a CSV file, read by ``Interactions.from_csv``."""
    return Interactions.from_csv(
        path,
        user=_column(user, header, "user"),
        item=_column(item, header, "item"),
        weight=None if weight is None else _column(weight, header, "weight"),
        timestamp=None if timestamp is None else _column(timestamp, header, "time"),
        delimiter=delimiter,
        header=header,
    )


def connect(db: str) -> sqlite3.Connection:
    """Open a SQLite database read-only, from a path or a ``sqlite:///path`` URL."""
    if "://" in db:
        scheme, _, rest = db.partition("://")
        if scheme != "sqlite":
            raise ConfigError(
                f"Only SQLite databases can be read from the command line, got a "
                f"{scheme!r} URL. Use sqlite:///path/to/file.db or a file path; for other "
                "databases, build Interactions in Python from your driver's connection."
            )
        db = rest[1:] if rest.startswith("/") else rest  # sqlite:///rel, sqlite:////abs
    path = Path(db)
    if not path.is_file():
        raise DataError(f"No SQLite database at {str(path)!r}.")
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DataError(f"Cannot open the SQLite database {str(path)!r}: {reason(exc)}.") from exc


def read_sql(
    db: str,
    query: str,
    *,
    user: str,
    item: str,
    weight: str | None,
    timestamp: str | None = None,
) -> Interactions:
    """Interactions from a SQL query over a SQLite database, read by ``from_sql``."""
    conn = connect(db)
    try:
        return Interactions.from_sql(
            conn, query, user=user, item=item, weight=weight, timestamp=timestamp
        )
    finally:
        conn.close()


def check_source(args: argparse.Namespace) -> None:
    """Exactly one source: a CSV file, or ``--sql`` with ``--db``."""
    if args.sql is not None:
        if args.data is not None:
            raise ConfigError("Give either a CSV file (DATA) or --sql with --db, not both.")
        if args.db is None:
            raise ConfigError("--sql needs --db (a SQLite file path or sqlite:///path URL).")
    elif args.data is None:
        raise ConfigError("Give the data: a CSV file path (DATA), or --sql QUERY --db DATABASE.")
    elif args.db is not None:
        raise ConfigError("--db is only used with --sql.")


def read_interactions(args: argparse.Namespace, timestamp: str | None = None) -> Interactions:
    """The interactions the data options name (with a timestamp column, if given)."""
    check_source(args)
    if args.sql is not None:
        return read_sql(
            args.db,
            args.sql,
            user=args.user_col,
            item=args.item_col,
            weight=args.weight_col,
            timestamp=timestamp,
        )
    return read_csv(
        args.data,
        user=args.user_col,
        item=args.item_col,
        weight=args.weight_col,
        delimiter=args.delimiter,
        header=not args.no_header,
        timestamp=timestamp,
    )


# -- models ---------------------------------------------------------------------------------


def check_output(target: Path, force: bool, data: str | None = None) -> None:
    """Refuse an existing, non-empty ``-o`` target unless ``--force`` (before any work).

    ``--force`` replaces only an alsrec model or an empty directory (as ``save`` does),
    never a file, a directory of other files, or the directory holding ``data``.
    """
    if target.exists() and not force and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(
            f"{str(target)!r} already exists; choose another -o directory or pass --force "
            "to replace it."
        )
    if (
        data is not None
        and target.is_dir()
        and Path(data).resolve().is_relative_to(target.resolve())
    ):
        raise ConfigError(
            f"{str(target)!r} holds the data {data!r}; saving there would delete it. "
            "Choose another -o directory."
        )
    try:
        check_destination(target, overwrite=True)
    except ArtifactError as exc:
        raise ConfigError(
            f"{reason(exc)} (--force replaces only an alsrec model or an empty directory)."
        ) from None


def save_model(rec: Recommender, target: Path, force: bool) -> None:
    """Save with ``Recommender.save``, which writes atomically (never half a model)."""
    check_output(target, force)
    rec.save(target, overwrite=True)


def load_model(path: str, policy: Policy) -> Recommender:
    """Load a saved model, memory-mapped and checked against its manifest."""
    return Recommender.load(path, mmap=True, policy=policy, verify=True)


def inspect_model(path: str) -> tuple[str, dict[str, Any]]:
    """A human report and a JSON-ready dict describing a saved model."""
    report = inspect_artifact(path)
    return str(report), report.to_dict()


# -- IDs ------------------------------------------------------------------------------------


def as_model_id(raw: str, kind: str) -> ExternalId:
    """The ID as the model stores it: an int for int-ID models when ``raw`` is one."""
    if kind != "int":
        return raw
    try:
        value = int(raw)
    except ValueError:
        return raw
    return value if _INT64[0] <= value <= _INT64[1] else raw


def gather_ids(given: list[str], path: str | None) -> list[str]:
    """IDs from the arguments and from ``--users-file`` (``-``: stdin), blank lines skipped."""
    ids = [s.strip() for s in given]
    if path is not None:
        if path == "-":
            if sys.stdin is None:
                raise DataError(
                    "--users-file -: standard input is closed; pipe the IDs in or give a file."
                )
            lines = sys.stdin.read().splitlines()
        else:
            try:
                lines = Path(path).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise DataError(f"Cannot read the IDs file {path!r}: {reason(exc)}.") from exc
        ids.extend(line.strip() for line in lines)
    ids = [s for s in ids if s]
    if not ids:
        raise ConfigError("No IDs given: pass them as arguments or with --users-file FILE|-.")
    return ids
