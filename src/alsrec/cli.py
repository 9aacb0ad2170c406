"""The ``alsrec`` command line (also ``python -m alsrec``): a thin shell over the library.

Commands: ``train``, ``recommend``, ``similar-items``, ``similar-users``, ``inspect``,
``evaluate``, ``tune``, ``explain`` and ``demo``; ``alsrec COMMAND --help`` describes each,
with an example.

Exit codes: 0 success, 2 usage error (bad arguments or options), 3 data or artifact error
(unreadable or invalid input, a model that cannot be loaded), 4 unknown ID under the
``strict`` policy, 1 any other error. Errors print one line on stderr; ``--debug`` also
prints the traceback.

IDs given on the command line are strings; when a model's IDs are integers, they are
converted (an ID that is not an integer is then simply unknown).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import numpy as np

from alsrec._version import __version__
from alsrec.exceptions import (
    AlsrecError,
    ArtifactError,
    BackendUnavailableError,
    ConfigError,
    DataError,
    MappingMismatchError,
    NotFittedError,
    UnknownIdError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import numpy.typing as npt

    from alsrec.backends import ProgressCallback
    from alsrec.interactions import Interactions
    from alsrec.recommender import Recommender
    from alsrec.types import ExternalId, FactorMatrix, Policy

__all__ = ["main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_UNKNOWN_ID = 4

_INT64 = (-(2**63), 2**63 - 1)
_BATCH = 4096
"""Queries answered (and written) at a time by ``recommend``."""


@dataclass(frozen=True)
class _Streams:
    out: TextIO
    err: TextIO

    def note(self, message: str) -> None:
        print(f"alsrec: note: {message}", file=self.err)


# -- reading interactions -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Columns:
    """Raw columns read from a CSV file or a SQL query (for the fallbacks and time splits)."""

    users: list[Any]
    items: list[Any]
    weights: npt.NDArray[np.float64] | None
    times: npt.NDArray[Any] | None


_CANONICAL_INT = re.compile(r"-?(0|[1-9][0-9]*)\Z")


def _typed_ids(values: list[Any]) -> list[Any]:
    """Integers when every value is a canonical integer string (lossless), else unchanged."""
    if not values or not all(isinstance(v, str) and _CANONICAL_INT.match(v) for v in values):
        return values
    ints = [int(v) for v in values]
    if min(ints) < _INT64[0] or max(ints) > _INT64[1]:
        return values
    return ints


def _reason(exc: BaseException) -> str:
    """An exception's message as a clause: one line, no final period."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__


def _parse_weight(value: Any, where: str) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DataError(f"{where}: the weight is empty; give every row a weight.")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: weight {value!r} is not a number.") from None


def _parse_times(values: list[Any], source: str) -> npt.NDArray[Any]:
    """Numbers (ints or floats) or ISO dates/times (numpy datetime64)."""
    for pos, value in enumerate(values):
        if value is None or (isinstance(value, str) and not value.strip()):
            raise DataError(f"{source}, row {pos + 1}: the timestamp is empty.")
    try:
        return np.asarray([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        pass
    try:
        return np.asarray([np.datetime64(str(v).strip(), "ns") for v in values])
    except ValueError:
        pass
    bad = next(
        v
        for v in values
        if not _is_number(v) and not _is_datetime(v)  # the first unparsable value
    )
    raise DataError(
        f"{source}: timestamp {bad!r} is neither a number nor an ISO date/time "
        "(e.g. 1700000000 or 2024-05-01T12:00:00); use one kind in the whole column."
    )


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_datetime(value: Any) -> bool:
    try:
        np.datetime64(str(value).strip(), "ns")
    except ValueError:
        return False
    return True


def _column_index(name: str, header: list[str] | None, source: str, what: str) -> int:
    if header is None:
        try:
            return int(name)
        except ValueError:
            raise ConfigError(
                f"With --no-header, --{what}-col must be a 0-based column number, got {name!r}."
            ) from None
    if name not in header:
        raise DataError(
            f"{source} has no column {name!r} (for --{what}-col); its columns are "
            f"{', '.join(map(repr, header))}."
        )
    return header.index(name)


def _read_columns_csv(
    path: str,
    *,
    user: str,
    item: str,
    weight: str | None,
    time_col: str | None = None,
    delimiter: str = ",",
    header: bool = True,
) -> _Columns:
    """Read the ID, weight and time columns of a CSV file with the stdlib ``csv`` module."""
    source = repr(path)
    users: list[Any] = []
    items: list[Any] = []
    weights: list[float] = []
    times: list[Any] = []
    try:
        handle = open(path, newline="", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise DataError(f"Cannot read {source}: {_reason(exc)}.") from exc
    with handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            names = next(reader) if header else None
        except StopIteration:
            raise DataError(f"{source} is empty.") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DataError(f"{source} is not readable CSV text: {_reason(exc)}.") from exc
        if names is not None:
            names = [n.strip() for n in names]
        cols = [
            _column_index(user, names, source, "user"),
            _column_index(item, names, source, "item"),
        ]
        w_col = None if weight is None else _column_index(weight, names, source, "weight")
        t_col = None if time_col is None else _column_index(time_col, names, source, "time")
        needed = max(c for c in [*cols, w_col, t_col] if c is not None) + 1
        first = 2 if header else 1
        try:
            for row_no, row in enumerate(reader, first):
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) < needed:
                    raise DataError(
                        f"{source}, line {row_no}: {len(row)} field(s), but column "
                        f"{needed - 1} is needed; check the delimiter (--delimiter)."
                    )
                for target, col, what in ((users, cols[0], "user"), (items, cols[1], "item")):
                    value = row[col].strip()
                    if not value:
                        raise DataError(f"{source}, line {row_no}: the {what} ID is empty.")
                    target.append(value)
                if w_col is not None:
                    weights.append(_parse_weight(row[w_col], f"{source}, line {row_no}"))
                if t_col is not None:
                    times.append(row[t_col])
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DataError(f"{source} is not readable CSV text: {_reason(exc)}.") from exc
    if not users:
        raise DataError(f"{source} has no data rows.")
    return _Columns(
        users=_typed_ids(users),
        items=_typed_ids(items),
        weights=None if w_col is None else np.asarray(weights, dtype=np.float64),
        times=None if t_col is None else _parse_times(times, source),
    )


def _connect(db: str) -> sqlite3.Connection:
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
        raise DataError(f"Cannot open the SQLite database {str(path)!r}: {_reason(exc)}.") from exc


def _read_columns_sql(
    conn: sqlite3.Connection,
    query: str,
    *,
    user: str,
    item: str,
    weight: str | None,
    time_col: str | None = None,
) -> _Columns:
    """Run ``query`` and take the named columns of its result (stdlib ``sqlite3``)."""
    try:
        cursor = conn.execute(query)
    except sqlite3.Error as exc:
        raise DataError(f"The SQL query failed: {_reason(exc)}.") from exc
    names = [d[0] for d in cursor.description or ()]
    source = "the SQL query result"
    u = _column_index(user, names, source, "user")
    i = _column_index(item, names, source, "item")
    w = None if weight is None else _column_index(weight, names, source, "weight")
    t = None if time_col is None else _column_index(time_col, names, source, "time")
    users: list[Any] = []
    items: list[Any] = []
    weights: list[float] = []
    times: list[Any] = []
    try:
        for row_no, row in enumerate(cursor, 1):
            for target, col, what in ((users, u, "user"), (items, i, "item")):
                value = row[col]
                if value is None or value == "":
                    raise DataError(f"{source}, row {row_no}: the {what} ID is NULL or empty.")
                target.append(value)
            if w is not None:
                weights.append(_parse_weight(row[w], f"{source}, row {row_no}"))
            if t is not None:
                times.append(row[t])
    except sqlite3.Error as exc:
        raise DataError(f"The SQL query failed: {_reason(exc)}.") from exc
    if not users:
        raise DataError("The SQL query returned no rows.")
    return _Columns(
        users=users,
        items=items,
        weights=None if w is None else np.asarray(weights, dtype=np.float64),
        times=None if t is None else _parse_times(times, source),
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read_csv(
    path: str, *, user: str, item: str, weight: str | None, delimiter: str, header: bool
) -> Interactions:
    """Interactions from a CSV file (columns by name, or by 0-based index without a header)."""
    from alsrec.interactions import Interactions

    users: str | int = user if header else _column_index(user, None, path, "user")
    items: str | int = item if header else _column_index(item, None, path, "item")
    weights: str | int | None = weight
    if weight is not None and not header:
        weights = _column_index(weight, None, path, "weight")
    return Interactions.from_csv(
        path, user=users, item=items, weight=weights, delimiter=delimiter, header=header
    )


def _read_sql(db: str, query: str, *, user: str, item: str, weight: str | None) -> Interactions:
    """Interactions from a SQL query over a SQLite database."""
    from alsrec.interactions import Interactions

    conn = _connect(db)
    try:
        return Interactions.from_sql(conn, query, user=user, item=item, weight=weight)
    finally:
        conn.close()


def _read_interactions(args: argparse.Namespace) -> Interactions:
    _check_source(args)
    if args.sql is not None:
        return _read_sql(
            args.db, args.sql, user=args.user_col, item=args.item_col, weight=args.weight_col
        )
    return _read_csv(
        args.data,
        user=args.user_col,
        item=args.item_col,
        weight=args.weight_col,
        delimiter=args.delimiter,
        header=not args.no_header,
    )


def _read_columns(args: argparse.Namespace, time_col: str) -> _Columns:
    """Raw columns including timestamps (Interactions has no time column)."""
    _check_source(args)
    if args.sql is not None:
        conn = _connect(args.db)
        try:
            return _read_columns_sql(
                conn,
                args.sql,
                user=args.user_col,
                item=args.item_col,
                weight=args.weight_col,
                time_col=time_col,
            )
        finally:
            conn.close()
    return _read_columns_csv(
        args.data,
        user=args.user_col,
        item=args.item_col,
        weight=args.weight_col,
        time_col=time_col,
        delimiter=args.delimiter,
        header=not args.no_header,
    )


def _check_source(args: argparse.Namespace) -> None:
    if args.sql is not None:
        if args.data is not None:
            raise ConfigError("Give either a CSV file (DATA) or --sql with --db, not both.")
        if args.db is None:
            raise ConfigError("--sql needs --db (a SQLite file path or sqlite:///path URL).")
    elif args.data is None:
        raise ConfigError("Give the data: a CSV file path (DATA), or --sql QUERY --db DATABASE.")
    elif args.db is not None:
        raise ConfigError("--db is only used with --sql.")


# -- saving and loading models ------------------------------------------------------------------


def _check_output(target: Path, force: bool) -> None:
    if target.exists() and not force and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(
            f"{str(target)!r} already exists; choose another -o directory or pass --force "
            "to replace it."
        )


def _write_directory(target: Path, force: bool, write: Callable[[Path], None]) -> None:
    """Write a directory next to ``target``, then move it into place (never half-written)."""
    _check_output(target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fresh = work / "new"
        write(fresh)
        if target.exists():
            target.rename(work / "old")
        fresh.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _save_model(rec: Recommender, target: Path, force: bool) -> None:
    def write(path: Path) -> None:
        rec.save(path)

    _write_directory(target, force, write)


def _load_model(path: str, policy: Policy) -> Recommender:
    from alsrec.recommender import Recommender

    return Recommender.load(path, mmap=True, policy=policy, verify=True)


def _inspect_model(path: str, policy: Policy) -> tuple[str, dict[str, Any]]:
    """A human report and a JSON-ready dict describing a saved model."""
    from alsrec.artifacts import inspect_artifact

    report = inspect_artifact(path)
    return str(report), report.to_dict()


# -- IDs, output ---------------------------------------------------------------------------------


def _as_model_id(raw: str, kind: str) -> ExternalId:
    """The ID as the model stores it: an int for int-ID models when ``raw`` is one."""
    if kind != "int":
        return raw
    try:
        value = int(raw)
    except ValueError:
        return raw
    return value if _INT64[0] <= value <= _INT64[1] else raw


def _gather_ids(given: list[str], path: str | None) -> list[str]:
    ids = [s.strip() for s in given]
    if path is not None:
        if path == "-":
            lines = sys.stdin.read().splitlines()
        else:
            try:
                lines = Path(path).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise DataError(f"Cannot read the IDs file {path!r}: {_reason(exc)}.") from exc
        ids.extend(line.strip() for line in lines)
    ids = [s for s in ids if s]
    if not ids:
        raise ConfigError("No IDs given: pass them as arguments or with --users-file FILE|-.")
    return ids


def _score(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


@dataclass(frozen=True)
class _Answer:
    query: ExternalId
    source: str
    results: list[tuple[ExternalId, float]]


class _Writer:
    """Streams answers as a table, a JSON array, or CSV rows."""

    def __init__(self, fmt: str, out: TextIO, query_name: str, result_name: str) -> None:
        self.fmt, self.out = fmt, out
        self.query_name, self.result_name = query_name, result_name
        self.count = 0
        self.csv = csv.writer(out, lineterminator="\n")

    def start(self) -> None:
        if self.fmt == "json":
            self.out.write("[")
        elif self.fmt == "csv":
            self.csv.writerow([self.query_name, "rank", self.result_name, "score", "source"])
        else:
            self.out.write(
                f"{self.query_name:<12} {'rank':>4}  {self.result_name:<12} {'score':>10}  source\n"
            )

    def write(self, answer: _Answer) -> None:
        if self.fmt == "json":
            entry = {
                self.query_name: answer.query,
                "source": answer.source,
                "items": [{self.result_name: rid, "score": _score(s)} for rid, s in answer.results],
            }
            self.out.write(("," if self.count else "") + "\n  " + json.dumps(entry))
        elif self.fmt == "csv":
            for rank, (rid, s) in enumerate(answer.results, 1):
                self.csv.writerow([answer.query, rank, rid, f"{s:.6g}", answer.source])
        else:
            for rank, (rid, s) in enumerate(answer.results, 1):
                self.out.write(
                    f"{answer.query!s:<12} {rank:>4}  {rid!s:<12} {s:>10.4f}  {answer.source}\n"
                )
            if not answer.results:
                self.out.write(f"{answer.query!s:<12} {'-':>4}  (no result)\n")
        self.count += 1

    def finish(self) -> None:
        if self.fmt == "json":
            self.out.write("\n]\n" if self.count else "]\n")


def _similar_output(
    fmt: str, out: TextIO, axis: str, query: ExternalId, results: list[tuple[ExternalId, float]]
) -> None:
    if fmt == "json":
        entry = {
            axis: query,
            "similar": [{axis: rid, "score": _score(s)} for rid, s in results],
        }
        out.write(json.dumps(entry, indent=2) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([axis, "rank", f"similar_{axis}", "score"])
        for rank, (rid, s) in enumerate(results, 1):
            writer.writerow([query, rank, rid, f"{s:.6g}"])
    else:
        out.write(f"{axis.capitalize()}s most similar to {query!r} (cosine of factors):\n")
        out.write(f"{'rank':>4}  {axis:<12} {'cosine':>8}\n")
        for rank, (rid, s) in enumerate(results, 1):
            out.write(f"{rank:>4}  {rid!s:<12} {s:>8.4f}\n")


# -- commands ------------------------------------------------------------------------------------


def _make_recommender(args: argparse.Namespace) -> Recommender:
    from alsrec.recommender import Recommender

    return Recommender(
        factors=args.factors,
        regularization=args.regularization,
        alpha=args.alpha,
        iterations=args.iterations,
        random_state=args.random_state,
        backend=args.backend,
        policy=args.policy,
        weighting=args.weighting,
    )


def _progress(rec: Recommender, data: Interactions, err: TextIO) -> ProgressCallback:
    """A callback drawing one progress bar line per sweep, with the training loss."""
    from alsrec.data.weighting import confidence
    from alsrec.model.loss import als_loss

    conf = confidence(
        data.matrix, rec.params.alpha, rec.params.weighting, **rec.params.weighting_options()
    )
    total = rec.params.iterations
    start = time.perf_counter()
    live = err.isatty()

    def callback(iteration: int, users: FactorMatrix, items: FactorMatrix) -> None:
        loss = als_loss(conf, users, items, rec.params.regularization)
        text = f"loss {loss:.6f}  {time.perf_counter() - start:6.1f} s"
        _bar(err, live, iteration, total, text)

    return callback


def _bar(err: TextIO, live: bool, done: int, total: int, text: str) -> None:
    """Draw one progress bar line: redrawn in place on a terminal, one line each otherwise."""
    filled = round(20 * done / max(total, 1))
    line = f"[{'#' * filled}{'.' * (20 - filled)}] {done:>{len(str(total))}}/{total}  {text}"
    if live:
        err.write("\r" + line + ("\n" if done == total else ""))
    else:
        err.write(line + "\n")
    err.flush()


def _fit(rec: Recommender, data: Interactions, args: argparse.Namespace, err: TextIO) -> float:
    callback = _progress(rec, data, err) if args.progress else None
    start = time.perf_counter()
    rec.fit(data, callback=callback)
    return time.perf_counter() - start


def _train(args: argparse.Namespace, io: _Streams) -> int:
    target = Path(args.output)
    _check_output(target, args.force)
    rec = _make_recommender(args)  # validates the hyperparameters before reading data
    data = _read_interactions(args)
    print(f"Read {data.summary()}", file=io.out)
    seconds = _fit(rec, data, args, io.err)
    print(f"Trained in {seconds:.2f} s", file=io.out)
    print(rec.summary(), file=io.out)
    _save_model(rec, target, args.force)
    print(f"Saved to {target}", file=io.out)
    return EXIT_OK


def _recommend(args: argparse.Namespace, io: _Streams) -> int:
    rec = _load_model(args.model_dir, args.policy)
    raw = _gather_ids(args.user_ids, args.users_file)
    kind = rec.users_.kind
    if args.policy == "strict":  # refuse before writing anything
        ids = [_as_model_id(s, kind) for s in raw]
        typed = [i for i in ids if isinstance(i, int) == (kind == "int")]
        known: list[bool] = (rec.users_.to_index(typed, missing="negative") >= 0).tolist()
        unknown = [i for i in ids if isinstance(i, int) != (kind == "int")]
        unknown += [i for i, ok in zip(typed, known, strict=True) if not ok]
        if unknown:
            shown = ", ".join(map(repr, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
            raise UnknownIdError(
                f"{len(unknown)} of {len(ids)} user ID(s) unknown to the model: {shown}. "
                "Remove them, or use --policy safe to give them the most popular items.",
                ids=tuple(unknown),
            )
    writer = _Writer(args.format, io.out, "user", "item")
    fallback_count = 0
    writer.start()
    for start in range(0, len(raw), _BATCH):
        ids = [_as_model_id(s, kind) for s in raw[start : start + _BATCH]]
        rows = [p for p, i in enumerate(ids) if isinstance(i, int) == (kind == "int")]
        answers: dict[int, _Answer] = {}
        if rows:
            batch = rec.recommend_many([ids[p] for p in rows], n=args.n, policy=args.policy)
            for pos, row in zip(rows, batch, strict=True):
                answers[pos] = _Answer(ids[pos], row.source, row.to_list())
        for pos, query in enumerate(ids):
            if pos not in answers:  # not an int for an int-ID model: unknown
                recs = rec.recommend(query, n=args.n, policy=args.policy)
                answers[pos] = _Answer(query, recs.source, recs.to_list())
            fallback_count += answers[pos].source == "fallback"
            writer.write(answers[pos])
    writer.finish()
    if fallback_count:
        io.note(
            f"{fallback_count} unknown user ID(s) got the most popular items (source "
            "'fallback'); use --policy strict to treat unknown IDs as errors."
        )
    return EXIT_OK


def _similar(axis: str) -> Callable[[argparse.Namespace, _Streams], int]:
    def run(args: argparse.Namespace, io: _Streams) -> int:
        rec = _load_model(args.model_dir, args.policy)
        mapper = rec.items_ if axis == "item" else rec.users_
        query = _as_model_id(args.id.strip(), mapper.kind)
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
        _similar_output(args.format, io.out, axis, query, recs.to_list())
        return EXIT_OK

    return run


def _inspect(args: argparse.Namespace, io: _Streams) -> int:
    text, info = _inspect_model(args.model_dir, args.policy)
    if args.format == "json":
        io.out.write(json.dumps(info, indent=2, default=str) + "\n")
    else:
        io.out.write(text + "\n")
    return EXIT_OK


def _evaluate(args: argparse.Namespace, io: _Streams) -> int:
    from alsrec import evaluation

    _check_source(args)
    rec = _make_recommender(args)
    if args.split == "time":
        if args.time_col is None:
            raise ConfigError("--split time needs --time-col (the timestamp column).")
        cols = _read_columns(args, args.time_col)
        assert cols.times is not None
        train, test = evaluation.time_split(
            cols.users,
            cols.items,
            cols.weights,
            cols.times,
            test_fraction=args.test_fraction,
            mode=args.time_mode,
        )
        split = {"kind": "time", "mode": args.time_mode, "test_fraction": args.test_fraction}
    else:
        if args.time_col is not None:
            raise ConfigError("--time-col is only used with --split time.")
        data = _read_interactions(args)
        if args.split == "leave-k-out":
            train, test = evaluation.leave_k_out_split(
                data, args.leave_k, random_state=args.random_state
            )
            split = {"kind": "leave-k-out", "k": args.leave_k, "random_state": args.random_state}
        else:
            train, test = evaluation.holdout_split(
                data, args.test_fraction, random_state=args.random_state
            )
            split = {
                "kind": "holdout",
                "test_fraction": args.test_fraction,
                "random_state": args.random_state,
            }
    split.update(train_interactions=train.nnz, test_interactions=test.nnz)
    seconds = _fit(rec, train, args, io.err)
    report = evaluation.evaluate(
        rec, test, args.k, bootstrap=args.bootstrap, random_state=args.random_state
    )
    if args.format == "json":
        payload = {"split": split, "params": rec.params.to_dict(), **report.to_dict()}
        io.out.write(json.dumps(payload, indent=2) + "\n")
    else:
        desc = ", ".join(f"{k} {v}" for k, v in split.items() if k != "kind")
        io.out.write(f"Split: {split['kind']} ({desc})\n")
        io.out.write(f"Trained on the training part in {seconds:.2f} s\n{report}\n")
    return EXIT_OK


def _tune(args: argparse.Namespace, io: _Streams) -> int:
    from alsrec import tuning

    target = None if args.output is None else Path(args.output)
    if target is not None:
        _check_output(target, args.force)
    data = _read_interactions(args)
    if args.format == "table":
        print(f"Read {data.summary()}", file=io.out)
    callback = None
    if not args.no_progress:
        start = time.perf_counter()
        live = io.err.isatty()
        best = [-math.inf]

        def callback(done: int, total: int, trial: tuning.Trial) -> None:
            if not math.isnan(trial.value):
                best[0] = max(best[0], trial.value)
            label = f"{args.metric}@{args.k}"
            text = (
                f"trial {trial.index:>{len(str(total - 1))}}: {label} {trial.value:.4f}  "
                f"best {best[0]:.4f}  {time.perf_counter() - start:6.1f} s"
            )
            _bar(io.err, live, done, total, text)

    report = tuning.search(
        data,
        metric=args.metric,
        k=args.k,
        budget=args.budget,
        splits=args.splits,
        test_fraction=args.test_fraction,
        random_state=args.random_state,
        n_jobs=args.jobs,
        backend=args.backend,
        refit=target is not None,
        progress=callback,
    )
    if target is not None:
        assert report.best_model is not None
        _save_model(report.best_model, target, args.force)
    if args.format == "json":
        payload = report.to_dict()
        payload["saved_to"] = None if target is None else str(target)
        io.out.write(json.dumps(payload, indent=2) + "\n")
    else:
        io.out.write(f"{report}\n")
        if target is not None:
            io.out.write(f"Refit the best parameters on all the data; saved to {target}\n")
    return EXIT_OK


def _explain(args: argparse.Namespace, io: _Streams) -> int:
    rec = _load_model(args.model_dir, args.policy)
    user = _as_model_id(args.user_id.strip(), rec.users_.kind)
    item = _as_model_id(args.item_id.strip(), rec.items_.kind)
    history = None
    if args.history:
        history = [_as_model_id(h.strip(), rec.items_.kind) for h in args.history]
    why = rec.explain(user, item, history=history, n=args.n, policy=args.policy)
    if why.skipped:
        io.note(
            f"unknown history item ID(s) skipped: {', '.join(map(repr, why.skipped))}; use "
            "--policy strict to treat them as errors."
        )
    if why.source == "fallback":
        io.note(
            f"user {user!r} is unknown and has no usable history: the score is the item's "
            "popularity (the fallback), nothing to split."
        )
    if args.format == "json":
        io.out.write(json.dumps(why.to_dict(), indent=2) + "\n")
    else:
        io.out.write(f"{why}\n")
    return EXIT_OK


def _demo(args: argparse.Namespace, io: _Streams) -> int:
    from alsrec import Interactions, Recommender
    from alsrec.datasets import demo_data
    from alsrec.evaluation import PopularityBaseline, holdout_split, ndcg_at_k

    out = io.out

    def say(line: str = "") -> None:
        print(line, file=out)

    data = demo_data()
    interactions = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)
    summary = interactions.summary()
    say(f"alsrec {__version__} demo: embedded synthetic data with 12 planted taste clusters")
    say(f"  {summary}")
    say()

    rec = Recommender(
        factors=args.factors,
        regularization=args.regularization,
        alpha=args.alpha,
        iterations=args.iterations,
        random_state=0,
        policy=args.policy,
    )
    start = time.perf_counter()
    rec.fit(interactions)
    say(f"Trained in {time.perf_counter() - start:.2f} s")
    say(rec.summary())
    say()

    # Generated IDs are "U" / "I" plus the zero-padded index into the cluster arrays.
    def user_cluster(user_id: object) -> int:
        return int(data.user_clusters[int(str(user_id)[1:])])

    def item_cluster(item_id: object) -> int:
        return int(data.item_clusters[int(str(item_id)[1:])])

    user = "U000042"
    cluster = user_cluster(user)
    recs = rec.recommend(user, n=10)
    same = sum(item_cluster(i) == cluster for i, _ in recs)
    say(f"Top-10 for user {user} (taste cluster {cluster}; seen items excluded):")
    for rank, (item, score) in enumerate(recs, 1):
        mark = "same cluster" if item_cluster(item) == cluster else ""
        say(f"  {rank:2d}. {item}  score {score:7.4f}  {mark}".rstrip())
    say(f"  {same}/10 from the user's own cluster (chance: about 1/12)")
    say()

    item = str(recs.ids[0])
    say(f"Items similar to {item} (cluster {item_cluster(item)}; cosine of item factors):")
    for other, score in rec.similar_items(item, n=5):
        say(f"  {other}  cosine {score:6.3f}  cluster {item_cluster(other)}")
    say()

    say(f"Users similar to {user} (cluster {cluster}):")
    for other, score in rec.similar_users(user, n=5):
        say(f"  {other}  cosine {score:6.3f}  cluster {user_cluster(other)}")
    say()

    try:
        unknown = rec.recommend("NEW_USER", n=3)
    except UnknownIdError as exc:
        say("Unknown user 'NEW_USER' under the strict policy -> UnknownIdError:")
        say(f"  {exc}")
    else:
        say(f"Unknown user 'NEW_USER' under the safe policy -> source={unknown.source!r}:")
        say("  " + ", ".join(str(i) for i, _ in unknown) + "  (most popular items)")
    say()

    train, test = holdout_split(interactions, 0.2, random_state=0)
    held_out = Recommender(
        factors=args.factors,
        regularization=args.regularization,
        alpha=args.alpha,
        iterations=args.iterations,
        random_state=0,
    ).fit(train)
    model_ndcg = ndcg_at_k(held_out, test, k=10)
    pop_ndcg = ndcg_at_k(PopularityBaseline(train), test, k=10)
    say("Held-out evaluation (20% of each user's items hidden during training):")
    say(f"  NDCG@10 model      {model_ndcg:.4f}")
    say(f"  NDCG@10 popularity {pop_ndcg:.4f}")
    say(f"  the model is {model_ndcg / pop_ndcg:.2f}x better than recommending popular items")
    return EXIT_OK


# -- the parser ---------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, got {text}")
    return value


def _common_options() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--policy",
        choices=("safe", "strict"),
        default="safe",
        help="unknown IDs: 'safe' answers anyway (popularity fallback, empty result), "
        "'strict' fails with exit code 4 (default: safe)",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of an error",
    )
    return common


def _source_options() -> _Parser:
    source = _Parser(add_help=False)
    group = source.add_argument_group("data")
    group.add_argument("data", nargs="?", metavar="DATA", help="CSV file of interactions")
    group.add_argument("--sql", metavar="QUERY", help="read the result of a SQL query instead")
    group.add_argument(
        "--db", metavar="DATABASE", help="SQLite file path or sqlite:///path URL (with --sql)"
    )
    group.add_argument("--user-col", default="user", help="user ID column (default: user)")
    group.add_argument("--item-col", default="item", help="item ID column (default: item)")
    group.add_argument(
        "--weight-col", default=None, help="interaction weight column (default: 1 per row)"
    )
    group.add_argument("--delimiter", default=",", help="CSV field delimiter (default: ,)")
    group.add_argument(
        "--no-header",
        action="store_true",
        help="the CSV has no header row; the --*-col options are then 0-based column numbers",
    )
    return source


def _model_options() -> _Parser:
    from alsrec.backends import names

    model = _Parser(add_help=False)
    group = model.add_argument_group("model")
    group.add_argument("--factors", type=int, default=64, help="factor count (default: 64)")
    group.add_argument(
        "--regularization", type=float, default=0.01, help="L2 penalty lambda (default: 0.01)"
    )
    group.add_argument(
        "--alpha", type=float, default=1.0, help="confidence slope: c = 1 + alpha*w (default: 1)"
    )
    group.add_argument("--iterations", type=int, default=15, help="ALS sweeps (default: 15)")
    group.add_argument(
        "--weighting",
        choices=("linear", "log", "bm25", "tfidf"),
        default="linear",
        help="how weights become confidence (default: linear, c = 1 + alpha*w)",
    )
    group.add_argument(
        "--backend",
        default="numpy",
        help=f"training backend: {', '.join(names())} (default: numpy)",
    )
    group.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the initialization (and of the split, for evaluate); default: 0",
    )
    group.add_argument(
        "--progress",
        action="store_true",
        help="draw a progress bar on stderr with the training loss after each sweep",
    )
    return model


def _formats(parser: argparse.ArgumentParser, choices: Sequence[str]) -> None:
    parser.add_argument(
        "--format",
        choices=tuple(choices),
        default="table",
        help=f"output: 'table' for people, {' or '.join(repr(c) for c in choices[1:])} for "
        "programs (default: table)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``alsrec`` command."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="alsrec",
        description="Implicit-feedback ALS recommendations by your own IDs.",
        epilog="Exit codes: 0 ok, 2 usage error, 3 data or artifact error, 4 unknown ID "
        "under --policy strict, 1 other error.\n\nExample: alsrec demo",
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"alsrec {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    common = _common_options()
    source = _source_options()
    model = _model_options()

    train = sub.add_parser(
        "train",
        parents=[common, source, model],
        help="train a model on a CSV file or a SQL query and save it",
        description="Read interactions (one row per user-item event; duplicates are "
        "summed), train an ALS model and save it to a directory.",
        epilog="Examples:\n"
        "  alsrec train events.csv --user-col user_id --item-col item_id "
        "--weight-col plays -o model/\n"
        '  alsrec train --sql "SELECT user_id, item_id FROM events" --db sqlite:///app.db '
        "--user-col user_id --item-col item_id -o model/ --progress",
        formatter_class=formatter,
    )
    train.add_argument("-o", "--output", required=True, metavar="MODEL_DIR", help="where to save")
    train.add_argument("--force", action="store_true", help="replace MODEL_DIR if it exists")
    train.set_defaults(handler=_train)

    recommend = sub.add_parser(
        "recommend",
        parents=[common],
        help="recommend items for one or more users",
        description="Top-N items per user, the user's training items excluded. Unknown "
        "users get the most popular items under --policy safe (source 'fallback').",
        epilog="Examples:\n"
        "  alsrec recommend model/ U42 -n 5\n"
        "  alsrec recommend model/ --users-file users.txt --format csv > recs.csv\n"
        "  cat users.txt | alsrec recommend model/ --users-file - --format json",
        formatter_class=formatter,
    )
    recommend.add_argument("model_dir", metavar="MODEL_DIR", help="a directory from 'train'")
    recommend.add_argument("user_ids", nargs="*", metavar="USER_ID", help="user IDs")
    recommend.add_argument(
        "--users-file",
        metavar="FILE",
        help="also read user IDs from FILE, one per line ('-' for stdin)",
    )
    recommend.add_argument(
        "-n", type=_positive_int, default=10, help="items per user (default: 10)"
    )
    _formats(recommend, ("table", "json", "csv"))
    recommend.set_defaults(handler=_recommend)

    for axis in ("item", "user"):
        similar = sub.add_parser(
            f"similar-{axis}s",
            parents=[common],
            help=f"{axis}s most similar to one {axis}",
            description=f"The {axis}s whose factors have the highest cosine similarity "
            f"with the given {axis}'s, the {axis} itself excluded.",
            epilog=f"Example: alsrec similar-{axis}s model/ {'I7' if axis == 'item' else 'U42'}"
            " -n 5 --format json",
            formatter_class=formatter,
        )
        similar.add_argument("model_dir", metavar="MODEL_DIR", help="a directory from 'train'")
        similar.add_argument("id", metavar=f"{axis.upper()}_ID", help=f"the {axis} ID")
        similar.add_argument(
            "-n", type=_positive_int, default=10, help=f"{axis}s to show (default: 10)"
        )
        _formats(similar, ("table", "json", "csv"))
        similar.set_defaults(handler=_similar(axis))

    inspect = sub.add_parser(
        "inspect",
        parents=[common],
        help="describe a saved model",
        description="Show a saved model's format, hyperparameters, sizes and mapping check.",
        epilog="Example: alsrec inspect model/ --format json",
        formatter_class=formatter,
    )
    inspect.add_argument("model_dir", metavar="MODEL_DIR", help="a directory from 'train'")
    _formats(inspect, ("table", "json"))
    inspect.set_defaults(handler=_inspect)

    evaluate = sub.add_parser(
        "evaluate",
        parents=[common, source, model],
        help="split data, train, and measure ranking metrics against popularity",
        description="Split the interactions, train on one part, and report precision, "
        "recall, MAP, NDCG, hit rate, MRR, AUC, catalog coverage and popularity rank at k on "
        "the other, with bootstrap 95% intervals and the popularity baseline.",
        epilog="Examples:\n"
        "  alsrec evaluate events.csv --user-col user_id --item-col item_id "
        "--test-fraction 0.2 -k 10\n"
        "  alsrec evaluate events.csv --split time --time-col ts --format json",
        formatter_class=formatter,
    )
    group = evaluate.add_argument_group("evaluation")
    group.add_argument(
        "--split",
        choices=("holdout", "leave-k-out", "time"),
        default="holdout",
        help="random per-user holdout, leave-k-out per user, or by time (default: holdout)",
    )
    group.add_argument(
        "--test-fraction",
        type=_fraction,
        default=0.2,
        help="share held out per user (holdout) or of all rows (time); default: 0.2",
    )
    group.add_argument(
        "--leave-k", type=_positive_int, default=1, help="items per user for leave-k-out"
    )
    group.add_argument(
        "--time-col", help="timestamp column (numbers or ISO dates) for --split time"
    )
    group.add_argument(
        "--time-mode",
        choices=("global", "per-user"),
        default="global",
        help="time split: one cutoff for everyone, or each user's latest rows (default: global)",
    )
    group.add_argument("-k", type=_positive_int, default=10, help="list length (default: 10)")
    group.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        help="bootstrap resamples for the intervals; 0 for none (default: 1000)",
    )
    _formats(evaluate, ("table", "json"))
    evaluate.set_defaults(handler=_evaluate)

    tune = sub.add_parser(
        "tune",
        parents=[common, source],
        help="search hyperparameters on held-out data; optionally save the best model",
        description="Random search over regularization, alpha, factors and iterations (and "
        "the weighting scheme, where the library has one): each trial trains on a seeded "
        "holdout split and is scored on the held-out part. Prints every trial, the best "
        "parameters, the spread and each parameter's effect; with -o, trains the best "
        "parameters on all the data and saves the model.",
        epilog="Examples:\n"
        "  alsrec tune events.csv --user-col user_id --item-col item_id --budget 30\n"
        "  alsrec tune events.csv --jobs 2 --metric map -k 20 --format json -o model/",
        formatter_class=formatter,
    )
    group = tune.add_argument_group("search")
    group.add_argument(
        "--budget", type=_positive_int, default=20, help="number of trials (default: 20)"
    )
    group.add_argument(
        "--metric",
        choices=("ndcg", "map", "precision", "recall", "hit_rate", "mrr", "auc", "coverage"),
        default="ndcg",
        help="what to maximize (default: ndcg)",
    )
    group.add_argument("-k", type=_positive_int, default=10, help="list length (default: 10)")
    group.add_argument(
        "--test-fraction",
        type=_fraction,
        default=0.2,
        help="share of each user's items held out for validation (default: 0.2)",
    )
    group.add_argument(
        "--splits",
        type=_positive_int,
        default=1,
        help="validation splits to average each trial over (default: 1)",
    )
    group.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the draws, the splits and the models (default: 0)",
    )
    group.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="trials run at once in worker processes, -1 for one per core (default: 1)",
    )
    group.add_argument("--backend", default="numpy", help="training backend (default: numpy)")
    group.add_argument(
        "--no-progress", action="store_true", help="do not draw the progress bar on stderr"
    )
    tune.add_argument(
        "-o",
        "--output",
        metavar="MODEL_DIR",
        help="train the best parameters on all the data and save the model here",
    )
    tune.add_argument("--force", action="store_true", help="replace MODEL_DIR if it exists")
    _formats(tune, ("table", "json"))
    tune.set_defaults(handler=_tune)

    explain = sub.add_parser(
        "explain",
        parents=[common],
        help="split a recommendation score into contributions of the user's items",
        description="Why an item scores as it does for a user: the score as a sum of one "
        "contribution per item of the user's history (confidence x user-specific "
        "similarity; Hu, Koren and Volinsky 2008), largest first, plus the residual "
        "between the stored model and the exact split.",
        epilog="Examples:\n"
        "  alsrec explain model/ U42 I7\n"
        "  alsrec explain model/ U42 I7 --history I3 --history I9 -n 5 --format json",
        formatter_class=formatter,
    )
    explain.add_argument("model_dir", metavar="MODEL_DIR", help="a directory from 'train'")
    explain.add_argument("user_id", metavar="USER_ID", help="the user")
    explain.add_argument("item_id", metavar="ITEM_ID", help="the item to explain")
    explain.add_argument(
        "--history",
        action="append",
        metavar="ITEM_ID",
        help="an item the user interacted with since training (repeatable): the score is "
        "then folded in",
    )
    explain.add_argument(
        "-n", type=_positive_int, default=10, help="contributions to list (default: 10)"
    )
    _formats(explain, ("table", "json"))
    explain.set_defaults(handler=_explain)

    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="train on the embedded synthetic data and show what the model does",
        description="Train on the embedded synthetic dataset (3,000 users, 600 items) and "
        "print recommendations, similar items and users, and a held-out comparison with "
        "popularity.",
        epilog="Example: alsrec demo --factors 32",
        formatter_class=formatter,
    )
    demo.add_argument("--factors", type=int, default=32, help="factor count (default 32)")
    demo.add_argument("--regularization", type=float, default=10.0, help="L2 penalty (default 10)")
    demo.add_argument("--alpha", type=float, default=1.0, help="confidence slope (default 1)")
    demo.add_argument("--iterations", type=int, default=15, help="ALS sweeps (default 15)")
    demo.set_defaults(handler=_demo)
    return parser


def _exit_code(exc: BaseException) -> int:
    if isinstance(exc, UnknownIdError):
        return EXIT_UNKNOWN_ID
    if isinstance(exc, (ConfigError, BackendUnavailableError)):
        return EXIT_USAGE
    if isinstance(exc, (DataError, ArtifactError, MappingMismatchError, NotFittedError, OSError)):
        return EXIT_DATA
    return EXIT_ERROR


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"cannot access {str(exc.filename)!r}: {exc.strerror or exc}"
    text = " ".join(str(exc).split())  # one line
    return text or type(exc).__name__


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; return the exit code.

    Usage errors raise ``SystemExit(2)`` from argument parsing, as ``--help`` and
    ``--version`` raise ``SystemExit(0)``.

    Examples
    --------
    >>> main(["--version"])
    Traceback (most recent call last):
    ...
    SystemExit: 0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    streams = _Streams(
        out if out is not None else sys.stdout, err if err is not None else sys.stderr
    )
    handler: Callable[[argparse.Namespace, _Streams], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(streams.out)
        return EXIT_USAGE
    try:
        return handler(args, streams)
    except KeyboardInterrupt:
        print("alsrec: interrupted", file=streams.err)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. '| head'): stop quietly. Point stdout at devnull so
        # that the interpreter's final flush does not fail again.
        if streams.out is sys.stdout:
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except (AlsrecError, OSError) as exc:
        if args.debug:
            traceback.print_exc(file=streams.err)
        print(f"alsrec: error: {_message(exc)}", file=streams.err)
        return _exit_code(exc)
    except Exception as exc:
        if args.debug:
            traceback.print_exc(file=streams.err)
        print(
            f"alsrec: internal error: {type(exc).__name__}: {_message(exc)} "
            "(rerun with --debug for the traceback, and please report it)",
            file=streams.err,
        )
        return EXIT_ERROR
