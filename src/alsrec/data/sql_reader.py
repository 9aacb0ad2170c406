"""The SQL reader: runs a query on a DB-API 2 connection, fetched in batches (``from_sql``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from alsrec.data.columns import resolve_roles, role_labels
from alsrec.data.rows import (
    BadRows,
    Collected,
    Column,
    RowStream,
    shorten,
)
from alsrec.data.unread import SAMPLE_ROWS, candidate_columns, looks_numeric, warn_unread
from alsrec.exceptions import ConfigError, DataError
from alsrec.progress import ProgressBar

if TYPE_CHECKING:
    from collections.abc import Hashable

    from alsrec.progress import ProgressOption

__all__ = ["check_read_only", "collect_sql"]


def _cursor_of(connection: object) -> tuple[Any, bool]:
    """A cursor, and whether it is ours to close (a passed cursor is not)."""
    if callable(getattr(connection, "cursor", None)):
        try:
            return cast("Any", connection).cursor(), True
        except Exception as exc:  # the driver's own error types (a closed connection, ...)
            raise DataError(
                f"Could not open a cursor on the connection ({type(exc).__name__}: {exc}); "
                "is the connection closed? Pass an open connection."
            ) from exc
    if callable(getattr(connection, "execute", None)) and callable(
        getattr(connection, "fetchmany", None)
    ):
        return connection, False
    raise ConfigError(
        f"from_sql needs a DB-API 2 connection (with .cursor()) or cursor (with .execute() "
        f"and .fetchmany()); got {type(connection).__name__}."
    )


_COMMENTS = re.compile(r"\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/)", re.DOTALL)
_READS = ("select", "with", "values", "table")
_WRITES = re.compile(
    r"\b(?:insert\s+into|update\s+\S+\s+set|delete\s+from|merge\s+into|truncate|"
    r"(?:drop|alter|create)\s+(?:table|view|index|schema))\b",
    re.IGNORECASE,
)


def check_read_only(query: str) -> None:
    """Refuse a query that is not a read before it runs: a ``DELETE`` or ``INSERT`` would
    change the caller's database and only then be told it returned no rows.

    Examples
    --------
    >>> check_read_only("-- events\\nSELECT user_id, item_id FROM events")
    >>> check_read_only("DELETE FROM events")
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: from_sql runs reads only (SELECT, WITH ... SELECT, ...
    """
    rest = query
    while (match := _COMMENTS.match(rest)) and match.end():
        rest = rest[match.end() :]
    first = rest.lstrip(" \t\r\n(").split(None, 1)[0].lower() if rest.strip() else ""
    if first not in _READS or (first == "with" and _WRITES.search(rest)):
        raise ConfigError(
            "from_sql runs reads only (SELECT, WITH ... SELECT, VALUES), and refuses this "
            f"query before running it, so that it changes nothing: {shorten(query)!r}."
        )


def _execute(
    cursor: Any, query: str, params: object, specs: dict[str, Column | None]
) -> dict[str, int]:
    """Run the query; return the result position of each requested column."""
    shown = shorten(query)
    check_read_only(query)
    try:
        if params is None:
            cursor.execute(query)
        else:
            cursor.execute(query, params)
    except Exception as exc:
        raise DataError(
            f"The query failed ({type(exc).__module__}.{type(exc).__name__}: "
            f"{shorten(str(exc), 300)}). Query: {shown!r}"
        ) from exc
    description = cursor.description
    if not description:
        raise DataError(f"The query returned no result set (is it a SELECT?): {shown!r}")
    names = [str(d[0]) for d in description]

    def describe() -> tuple[str, str]:
        return f"the query's result has columns {names!r}", ""

    return resolve_roles(specs, names, len(names), describe)


def _fetch_all(
    cursor: Any,
    positions: dict[str, int],
    names: list[str],
    stream: RowStream,
    batch_size: int,
    bar: ProgressBar,
) -> list[Hashable]:
    """Fetch and screen every row, ``batch_size`` at a time. Rows are sequences, or
    mappings by column name (psycopg's ``dict_row``, a dict ``row_factory``).

    Return the numeric columns that no role reads, if no column is the weight (judged
    on the first batch's first rows)."""
    unread: list[Hashable] | None = None if "weight" not in positions else []
    while True:
        try:
            batch = cursor.fetchmany(batch_size)
        except Exception as exc:
            raise DataError(
                f"Fetching the query's rows failed after row {stream.rows_read} "
                f"({type(exc).__name__}: {shorten(str(exc), 300)})."
            ) from exc
        if not batch:
            break
        offset = stream.rows_read
        stream.rows_read += len(batch)
        keys: dict[str, Any] = (
            {role: names[pos] for role, pos in positions.items()}
            if isinstance(batch[0], Mapping)
            else dict(positions)
        )
        columns = {role: [r[key] for r in batch] for role, key in keys.items()}
        if unread is None:
            unread = _unread_numeric(batch[:SAMPLE_ROWS], positions, names)

        def where(pos: int, offset: int = offset) -> str:
            return f"query result row {offset + pos + 1}"

        stream.add(
            columns["user"],
            columns["item"],
            columns.get("weight"),
            columns.get("timestamp"),
            where,
        )
        bar.update(0, stream.rows_read)
    bar.close(0, stream.rows_read)
    return unread or []


def _unread_numeric(rows: list[Any], positions: dict[str, int], names: list[str]) -> list[Hashable]:
    """The columns no role reads whose values in ``rows`` are numbers (not booleans) that
    differ: weights the caller may have meant (text such as ``'4'`` counts as well)."""
    found: list[Hashable] = []
    for name, k in candidate_columns(names, len(names), set(positions.values())):
        key = name if isinstance(rows[0], Mapping) else k
        values = [row[key] for row in rows]
        if any(isinstance(v, (bool, bytes)) for v in values):
            continue
        if looks_numeric("" if v is None else str(v) for v in values):
            found.append(name)
    return found


def collect_sql(
    connection: object,
    query: str,
    params: object,
    *,
    user: Column | None,
    item: Column | None,
    weight: Column | None,
    timestamp: Column | None,
    batch_size: int,
    on_bad_rows: BadRows,
    progress: ProgressOption,
) -> Collected:
    """Run ``query`` on a DB-API 2 connection (or cursor) and stream the rows with fetchmany."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be an integer >= 1, got {batch_size!r}.")
    if not isinstance(query, str) or not query.strip():
        raise ConfigError(f"query must be a non-empty SQL string, got {query!r}.")
    cursor, own_cursor = _cursor_of(connection)
    try:
        specs = {"user": user, "item": item, "weight": weight, "timestamp": timestamp}
        positions = _execute(cursor, query, params, specs)
        names = [str(d[0]) for d in cursor.description]
        labels = role_labels(specs, positions, names)
        stream = RowStream("query", labels, on_bad_rows, text=False)
        unread = _fetch_all(
            cursor, positions, names, stream, batch_size, ProgressBar("query", None, progress)
        )
        if stream.rows_read == 0:
            raise DataError(
                f"The query returned no rows: {shorten(query)!r}. Check its WHERE clause and "
                "parameters."
            )
        # user -> Interactions.from_sql -> collect_sql
        if weight is not False:  # weight=False: 1.0 per row on purpose
            warn_unread("The query has no weight column given", unread, None)
        return stream.finish(
            has_weights="weight" in positions, has_timestamps="timestamp" in positions
        )
    finally:
        if own_cursor:
            cursor.close()
