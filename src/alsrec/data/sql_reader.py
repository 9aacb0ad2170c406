"""The SQL reader: runs a query on a DB-API 2 connection, fetched in batches (``from_sql``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from alsrec.data.rows import (
    BadRows,
    Collected,
    Column,
    _resolve,
    _short,
    _Stream,
)
from alsrec.exceptions import ConfigError, DataError
from alsrec.progress import ProgressBar

if TYPE_CHECKING:
    from alsrec.progress import ProgressOption

__all__ = ["collect_sql"]


def collect_sql(
    connection: object,
    query: str,
    params: object,
    *,
    user: Column,
    item: Column,
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
    own_cursor = callable(getattr(connection, "cursor", None))
    if own_cursor:
        cursor: Any = cast("Any", connection).cursor()
    elif callable(getattr(connection, "execute", None)) and callable(
        getattr(connection, "fetchmany", None)
    ):
        cursor = connection
    else:
        raise ConfigError(
            f"from_sql needs a DB-API 2 connection (with .cursor()) or cursor (with .execute() "
            f"and .fetchmany()); got {type(connection).__name__}."
        )
    shown = _short(query)
    try:
        try:
            if params is None:
                cursor.execute(query)
            else:
                cursor.execute(query, params)
        except Exception as exc:
            raise DataError(
                f"The query failed ({type(exc).__module__}.{type(exc).__name__}: "
                f"{_short(str(exc), 300)}). Query: {shown!r}"
            ) from exc
        description = cursor.description
        if not description:
            raise DataError(f"The query returned no result set (is it a SELECT?): {shown!r}")
        names = [str(d[0]) for d in description]

        def describe() -> tuple[str, str]:
            return f"the query's result has columns {names!r}", ""

        specs = {"user": user, "item": item, "weight": weight, "timestamp": timestamp}
        positions = {
            role: _resolve(spec, role, names, len(names), describe)
            for role, spec in specs.items()
            if spec is not None
        }
        if positions["user"] == positions["item"]:
            raise ConfigError("user and item must be different columns.")
        labels = {role: f"column {names[pos]!r}" for role, pos in positions.items()}
        labels.setdefault("weight", "")
        labels.setdefault("timestamp", "")
        stream = _Stream("query", labels, on_bad_rows, text=False)
        bar = ProgressBar("query", None, progress)
        while True:
            try:
                batch = cursor.fetchmany(batch_size)
            except Exception as exc:
                raise DataError(
                    f"Fetching the query's rows failed after row {stream.rows_read} "
                    f"({type(exc).__name__}: {_short(str(exc), 300)})."
                ) from exc
            if not batch:
                break
            offset = stream.rows_read
            stream.rows_read += len(batch)
            columns = {role: [r[pos] for r in batch] for role, pos in positions.items()}

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
        if stream.rows_read == 0:
            raise DataError(
                f"The query returned no rows: {shown!r}. Check its WHERE clause and parameters."
            )
        return stream.finish(
            has_weights="weight" in positions, has_timestamps="timestamp" in positions
        )
    finally:
        if own_cursor:
            cursor.close()
