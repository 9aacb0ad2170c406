"""What commands read and write: interactions (through ``Interactions``), models, IDs.

Every read goes through the library: ``Interactions.from_csv`` / ``from_sql`` (with the
data's timestamps when a command needs them), ``Recommender.load`` and ``save`` (which is
atomic), the artifact inspector. The command line adds only what is its own: SQLite URLs,
0-based column numbers with ``--no-header``, the ``--force`` check, and IDs typed on the
command line.
"""

from __future__ import annotations

import ast
import os
import re
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alsrec import ArtifactError, ConfigError, DataError, Interactions, Recommender
from alsrec.data.headers import number_like
from alsrec.io import check_destination, inspect_artifact

if TYPE_CHECKING:
    import argparse

    from alsrec import IdMapper
    from alsrec.types import ExternalId, Policy

__all__ = [
    "as_model_id",
    "check_file_output",
    "check_output",
    "check_source",
    "check_writable",
    "connect",
    "gather_ids",
    "inspect_model",
    "load_model",
    "read_csv",
    "read_interactions",
    "read_sql",
    "reason",
    "same_file",
    "save_model",
    "unknown_ids",
]

_INT64 = (-(2**63), 2**63 - 1)


def reason(exc: BaseException) -> str:
    """An exception's message as a clause: one line, no final period."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__


# -- interactions ---------------------------------------------------------------------------


def _column(name: str | None, header: bool, what: str) -> str | int | None:
    """A column by header name, or by 0-based number with ``--no-header`` (None: found
    by its name, see :mod:`alsrec.data.columns`)."""
    if header or name is None:
        return name
    try:
        return int(name)
    except ValueError:
        raise ConfigError(
            f"With --no-header, --{what}-col must be a 0-based column number, got {name!r}."
        ) from None


def _weight(args: argparse.Namespace, header: bool) -> str | int | None:
    """The weight column of the flags: False for ``--no-weight`` (not read, whatever the
    names), None to find a column named ``weight``."""
    if args.no_weight:
        if args.weight_col is not None:
            raise ConfigError("Give either --weight-col or --no-weight, not both.")
        return False
    return _column(args.weight_col, header, "weight")


def _cleaning(args: argparse.Namespace) -> dict[str, Any]:
    """What every reader takes from the data flags: bad rows, duplicates, filters."""
    return {
        "aggregate": args.aggregate,
        "min_user_interactions": args.min_user_interactions,
        "min_item_interactions": args.min_item_interactions,
        "on_bad_rows": args.on_bad_rows,
    }


_NO_HEADER_HINT = (
    " The first row looks like data: if the file has no header row, pass --no-header with "
    "0-based column numbers (--user-col 0 --item-col 1)."
)
_HEADER_NAMES = re.compile(r"columns (\[[^\]]*\])")


def _header_is_data(message: str) -> bool:
    """Whether the header a missing-column message quotes holds a number (a data row)."""
    match = _HEADER_NAMES.search(message)
    try:
        names = ast.literal_eval(match.group(1)) if match else []
    except (ValueError, SyntaxError):
        return False
    return any(isinstance(n, str) and number_like(n) for n in names)


def read_csv(args: argparse.Namespace, path: str, timestamp: str | None = None) -> Interactions:
    """Interactions from a CSV file, read by ``Interactions.from_csv`` as the flags say."""
    header = not args.no_header
    try:
        return _from_csv(args, path, header, timestamp)
    except DataError as exc:
        if header and str(exc).startswith("There is no column ") and _header_is_data(str(exc)):
            # The first row may be data, not a header: --no-header is then the fix.
            raise DataError(f"{reason(exc)}.{_NO_HEADER_HINT}") from exc
        raise


def _from_csv(
    args: argparse.Namespace, path: str, header: bool, timestamp: str | None
) -> Interactions:
    if path == "-" and os.path.exists("/dev/stdin"):  # the usual spelling of standard input
        path = "/dev/stdin"
    return Interactions.from_csv(
        path,
        user=_column(args.user_col, header, "user"),
        item=_column(args.item_col, header, "item"),
        weight=_weight(args, header),
        timestamp=None if timestamp is None else _column(timestamp, header, "time"),
        delimiter=args.delimiter,
        header=header,
        encoding=args.encoding,
        user_type=args.user_type,
        item_type=args.item_type,
        **_cleaning(args),
    )


def _postgres(url: str) -> Any:
    """A read-only connection to a PostgreSQL URL through psycopg (an optional driver)."""
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "Reading PostgreSQL needs the psycopg driver, which is not installed: "
            "pip install 'psycopg[binary]'."
        ) from None
    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        raise DataError(f"Cannot connect to the PostgreSQL database: {reason(exc)}.") from exc
    conn.read_only = True
    return conn


def connect(db: str) -> Any:
    """Open a database read-only: a SQLite path or ``sqlite:///path`` URL, or PostgreSQL."""
    if "://" in db:
        scheme, _, rest = db.partition("://")
        if scheme in ("postgresql", "postgres"):
            return _postgres(db)
        if scheme != "sqlite":
            raise ConfigError(
                f"--db {scheme}://... is not a database the command line reads. Use a SQLite "
                "file path, sqlite:///path/to/file.db or postgresql://user@host/dbname; for "
                "other databases, build Interactions in Python from your driver's connection."
            )
        db = rest[1:] if rest.startswith("/") else rest  # sqlite:///rel, sqlite:////abs
    path = Path(db)
    if not path.is_file():
        raise DataError(f"No SQLite database at {str(path)!r}.")
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DataError(f"Cannot open the SQLite database {str(path)!r}: {reason(exc)}.") from exc


def read_sql(args: argparse.Namespace, timestamp: str | None = None) -> Interactions:
    """Interactions from the ``--sql`` query over ``--db``, read by ``from_sql``."""
    conn = connect(args.db)
    try:
        return Interactions.from_sql(
            conn,
            args.sql,
            user=args.user_col,
            item=args.item_col,
            weight=_weight(args, True),
            timestamp=timestamp,
            **_cleaning(args),
        )
    finally:
        conn.close()


def check_source(args: argparse.Namespace) -> None:
    """Exactly one source: a CSV file, or ``--sql`` with ``--db``."""
    if args.sql is not None:
        if args.data is not None:
            raise ConfigError("Give either a CSV file (DATA) or --sql with --db, not both.")
        if args.db is None:
            raise ConfigError(
                "--sql needs --db (a SQLite file path, sqlite:///path or postgresql:// URL)."
            )
    elif args.data is None:
        raise ConfigError("Give the data: a CSV file path (DATA), or --sql QUERY --db DATABASE.")
    elif args.db is not None:
        raise ConfigError("--db is only used with --sql.")


def read_interactions(args: argparse.Namespace, timestamp: str | None = None) -> Interactions:
    """The interactions the data options name (with a timestamp column, if given)."""
    check_source(args)
    if args.sql is not None:
        return read_sql(args, timestamp=timestamp)
    return read_csv(args, args.data, timestamp=timestamp)


# -- models ---------------------------------------------------------------------------------


def check_writable(target: Path, flag: str = "-o") -> None:
    """Refuse a target whose directory is missing or not writable, or ``-``, which reads
    as standard output elsewhere in the command (before any work)."""
    if str(target) == "-":
        raise ConfigError(
            f"{flag} -: this output is written as a file (or directory), not to standard "
            f"output; give its path (./- for a file named '-')."
        )
    parent = target.absolute().parent
    if not parent.is_dir():
        raise ConfigError(
            f"{flag} {str(target)!r}: the directory {str(parent)!r} does not exist; create it "
            f"first or choose another {flag}."
        )
    if not os.access(parent, os.W_OK | os.X_OK) or (
        target.exists() and not os.access(target, os.W_OK)
    ):
        raise ConfigError(f"{flag} {str(target)!r}: not writable here; choose another {flag}.")


def same_file(first: Path, second: Path) -> bool:
    """Whether two paths name one file: the same inode when both exist (links, ``..``),
    else the same resolved path."""
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist (yet)
        return first.resolve() == second.resolve()


def check_file_output(
    target: Path, force: bool, flag: str, data: str | None = None, what: str = "file"
) -> None:
    """Refuse a file output (``split -o``, ``tune --params-out``) before any work: a missing
    or read-only directory, a directory, the input ``data`` itself (even with ``--force``),
    or an existing file without ``--force``."""
    check_writable(target, flag)
    if target.is_dir():
        raise ConfigError(
            f"{flag} {str(target)!r} is a directory; give the path of a {what} to write."
        )
    if data is not None and same_file(target, Path(data)):
        raise ConfigError(
            f"{flag} {str(target)!r} is the input data {data!r}; writing there would replace "
            f"it. Choose another {flag} {what}."
        )
    if target.exists() and not force:
        raise ConfigError(
            f"{str(target)!r} already exists; choose another {flag} {what} or pass --force "
            "to replace it."
        )


def check_output(target: Path, force: bool, data: str | None = None) -> None:
    """Refuse an existing, non-empty ``-o`` target unless ``--force`` (before any work).

    ``--force`` replaces only an alsrec model or an empty directory (as ``save`` does),
    never a file, a directory of other files, or the directory holding ``data``.
    """
    check_writable(target)
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


_PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")


def as_model_id(raw: str, kind: str) -> ExternalId:
    """The ID as the model stores it: an int for int-ID models when ``raw`` is one.

    Only an integer written plainly (``42``, ``-7``; not `` 42`` or ``042``) is converted,
    as ``Interactions.from_csv`` reads integer columns; IDs are never stripped.
    """
    if kind != "int" or not _PLAIN_INT.fullmatch(raw):
        return raw
    value = int(raw)
    return value if _INT64[0] <= value <= _INT64[1] else raw


def unknown_ids(mapper: IdMapper, ids: list[ExternalId]) -> list[ExternalId]:
    """The IDs ``mapper`` does not know, in order (an ID of the other type is unknown)."""
    typed = [i for i in ids if isinstance(i, int) == (mapper.kind == "int")]
    known = set()
    if typed:
        found = mapper.to_index(typed, missing="negative") >= 0
        known = {i for i, ok in zip(typed, found.tolist(), strict=True) if ok}
    return [i for i in ids if i not in known]


def gather_ids(given: list[str], path: str | None, flag: str = "--users-file") -> list[str]:
    """IDs from the arguments and from an IDs file (``-``: stdin), empty lines skipped.

    IDs are taken exactly as given (a line without its line ending), never stripped of
    spaces: the data's IDs are not stripped either (``" u1"`` and ``"u1"`` differ). A
    byte-order mark at the start of the file is not part of the first ID.
    """
    ids = list(given)
    if path is not None:
        if path == "-":
            if sys.stdin is None:
                raise DataError(
                    f"{flag} -: standard input is closed; pipe the IDs in or give a file."
                )
            try:
                lines = sys.stdin.read().splitlines()
            except UnicodeDecodeError as exc:
                raise DataError(_not_utf8(f"{flag} -: standard input", exc)) from exc
        else:
            try:
                raw = Path(path).read_bytes()
            except OSError as exc:
                raise DataError(f"Cannot read the IDs file {path!r}: {reason(exc)}.") from exc
            try:
                lines = raw.decode("utf-8").splitlines()
            except UnicodeDecodeError as exc:
                line = raw[: exc.start].count(b"\n") + 1
                raise DataError(_not_utf8(f"The IDs file {path!r}, line {line},", exc)) from exc
        if lines and lines[0].startswith("\ufeff"):  # a BOM (Notepad, Excel's "CSV UTF-8")
            lines[0] = lines[0][1:]
        ids.extend(lines)
    ids = [s for s in ids if s]
    if not ids:
        raise ConfigError(f"No IDs given: pass them as arguments or with {flag} FILE|-.")
    return ids


def _not_utf8(where: str, exc: UnicodeDecodeError) -> str:
    """An IDs file that is not UTF-8 text, said without the codec's own words."""
    byte = exc.object[exc.start : exc.start + 1].hex()
    return (
        f"{where} is not UTF-8 text (byte 0x{byte}). ID files are read as UTF-8, one ID "
        "per line; convert it first (e.g. iconv -f <its encoding> -t utf-8)."
    )
