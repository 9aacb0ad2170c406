"""A validated, immutable user x item interaction dataset, and how to build one.

Sources: :meth:`Interactions.from_arrays` (three columns), :meth:`~Interactions.from_frame`
(pandas or polars), :meth:`~Interactions.from_csv` (streamed in chunks),
:meth:`~Interactions.from_sql` (any DB-API 2 connection, fetched in batches) and
:meth:`~Interactions.from_scipy` (a sparse matrix). Every source screens its rows the same
way, merges duplicate ``(user, item)`` pairs with the same named ``aggregate`` rule, and
counts every row it drops, by reason, in :meth:`Interactions.summary`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from alsrec.data.assemble import Aggregate, as_weights, assemble, check_options
from alsrec.data.columns import FOUND_WEIGHT
from alsrec.data.csv_reader import read_csv
from alsrec.data.frames import collect_columns, collect_frame, frame_roles
from alsrec.data.matrices import read_indices, read_matrix
from alsrec.data.rows import REASONS, BadRows, Column, IdType, check_bad_rows
from alsrec.data.sql_reader import collect_sql
from alsrec.data.summary import InteractionsSummary
from alsrec.data.unread import numeric_frame_columns, warn_unread
from alsrec.exceptions import ConfigError, DataError

if TYPE_CHECKING:
    import os
    from collections.abc import Hashable, Iterable, Mapping

    from alsrec.mapping import IdMapper
    from alsrec.progress import ProgressOption
    from alsrec.types import ExternalId, FloatArray, IdLike, IndexArray

__all__ = [
    "DROP_REASONS",
    "Aggregate",
    "Interactions",
    "InteractionsSummary",
    "as_weights",
    "require_interactions",
]


@dataclass(frozen=True, eq=False)
class Interactions:
    """Implicit feedback as a sparse ``users x items`` matrix with its two ID mappers.

    Build it with :meth:`from_arrays`, :meth:`from_frame`, :meth:`from_csv`,
    :meth:`from_sql` or :meth:`from_scipy`. The matrix holds raw weights (not
    confidence): alsrec turns them into confidence at training time, with the model's
    ``alpha`` and ``weighting`` scheme (see :func:`alsrec.data.weighting.confidence`).

    Building from rows works the same way for every source:

    1. *Bad rows* (missing or empty ID, weight that is missing, unparsable, NaN,
       infinite, negative or zero, unreadable timestamp; in CSV files also blank lines
       and lines with the wrong number of fields) raise :class:`~alsrec.DataError` naming
       the file and line (or row) and the column, with ``on_bad_rows="raise"`` (the
       default); with ``on_bad_rows="skip"`` they are dropped and counted by reason in
       ``summary().dropped``. Mixed ID types in one column always raise
       :class:`~alsrec.IdTypeError`. An ID longer than 1,024 characters
       (``alsrec.data.rows.MAX_ID_CHARS``) always raises :class:`~alsrec.DataError`
       naming its line or row: numpy stores IDs at the width of the longest one, so the
       limit keeps memory in proportion to the input. Nullable integer columns (pandas
       or polars ``Int64``) are read exactly, nulls as missing IDs.
    2. *Duplicate* ``(user, item)`` rows are merged by ``aggregate``: ``"sum"`` (default)
       adds their weights, ``"max"`` keeps the largest, ``"last"`` keeps the weight of
       the latest row (by ``timestamps`` when given, ties and no timestamps: the later
       row), ``"count"`` stores how many rows there were (weights are validated but
       otherwise ignored).
    3. *Filters* ``min_user_interactions`` / ``min_item_interactions`` count *distinct*
       items per user and users per item, after merging. They are applied
       **iteratively**: users below the threshold are removed, then items, and again,
       until every remaining user and item meets its threshold (a k-core). The rows of
       removed pairs are counted in ``dropped`` under the filter's name.
    4. IDs are numbered by *first appearance* among the rows that remain: matrix row
       ``k`` is ``users.ids[k]``.
    5. *Timestamps* (``timestamp=`` of the readers, ``timestamps=`` of
       :meth:`from_arrays`) are kept, one per stored pair, in :attr:`timestamps`: float64
       seconds since the Unix epoch (UTC) for dates and times, numbers as given (see
       :mod:`alsrec.data.timestamps`). A pair merged from duplicate rows keeps the
       **latest** of their timestamps, whatever the ``aggregate`` rule; filters drop the
       timestamps of the pairs they drop. :func:`alsrec.evaluation.time_split` splits by
       them.

    Nothing is dropped silently: ``rows_read == nnz + duplicates_merged +
    sum(dropped.values())``.

    Two datasets compare equal (``==``) when they hold the same IDs in the same order and
    the same matrix; how they were built (rows read, dropped, source) and the timestamps
    are not compared.

    Attributes
    ----------
    users, items : IdMapper
        Row and column mappings: matrix row ``k`` is ``users.ids[k]``.
    matrix : scipy.sparse.csr_matrix
        ``float32`` weights, shape ``(len(users), len(items))``, sorted indices, no
        duplicates, no explicit zeros. Treat it as read-only: alsrec never modifies it
        (its arrays stay writeable because compiled code such as implicit's refuses
        read-only buffers).
    rows_read : int
        Input rows (CSV records, query rows, array positions, stored entries) read.
    duplicates_merged : int
        Rows merged into another row of the same pair.
    dropped : Mapping[str, int]
        Rows dropped, by reason (see :data:`DROP_REASONS`).
    aggregate : str
        The duplicate rule used.
    source : str
        Where the data came from (``"arrays"``, a file path, ``"query"``, ...).
    timestamps : numpy.ndarray of float64, or None
        One time per stored pair, aligned with ``matrix.data`` (CSR order), or ``None``
        when no timestamp column was read.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> data = Interactions.from_arrays(["u1", "u1", "u2"], ["a", "b", "a"], [1, 2, 5])
    >>> data.shape, data.nnz
    ((2, 2), 3)
    >>> data.matrix.toarray().tolist()
    [[1.0, 2.0], [5.0, 0.0]]
    >>> dated = Interactions.from_arrays(["u1", "u1"], ["a", "a"], timestamps=[
    ...     "2024-01-02", "2024-01-01"])
    >>> dated.timestamps.tolist()  # the latest of the merged rows
    [1704153600.0]
    """

    users: IdMapper
    items: IdMapper
    matrix: sp.csr_matrix
    rows_read: int
    duplicates_merged: int
    dropped: Mapping[str, int] = field(default_factory=dict)
    aggregate: str = "sum"
    source: str = "arrays"
    timestamps: npt.NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        shape = (len(self.users), len(self.items))
        if self.matrix.shape != shape:
            raise DataError(f"matrix shape {self.matrix.shape} does not match the mappers {shape}.")
        if self.timestamps is not None:
            times = np.asarray(self.timestamps, dtype=np.float64)
            if times.shape != (self.matrix.nnz,):
                raise DataError(
                    f"timestamps has shape {times.shape} but the matrix stores "
                    f"{self.matrix.nnz} pairs; give one timestamp per stored pair."
                )
            object.__setattr__(self, "timestamps", times)
        object.__setattr__(self, "dropped", MappingProxyType(dict(self.dropped)))

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        user_ids: IdLike | Iterable[ExternalId],
        item_ids: IdLike | Iterable[ExternalId],
        weights: npt.ArrayLike | None = None,
        *,
        aggregate: Aggregate = "sum",
        min_user_interactions: int = 1,
        min_item_interactions: int = 1,
        on_bad_rows: BadRows = "raise",
        timestamps: npt.ArrayLike | Iterable[object] | None = None,
    ) -> Interactions:
        """Build from equal-length columns; ``weights=None`` means 1.0 per row.

        Parameters
        ----------
        user_ids, item_ids
            One ID per interaction (all int or all str per column).
        weights : array_like, optional
            Strength of each interaction, finite and > 0.
        aggregate : {"sum", "max", "last", "count"}
            How duplicate ``(user, item)`` rows are merged (see the class docstring).
        min_user_interactions, min_item_interactions : int, default 1
            Keep only users with at least this many distinct items and items with at
            least this many distinct users, applied iteratively.
        on_bad_rows : {"raise", "skip"}
            Raise :class:`~alsrec.DataError` on the first bad row (default), or drop bad
            rows and count them in ``summary().dropped``.
        timestamps : array_like, optional
            One time per row (numbers, ``datetime64``, ``datetime`` or ISO 8601
            strings), used by ``aggregate="last"`` and kept in :attr:`timestamps`.

        Raises
        ------
        DataError
            On empty input, length mismatch, or (with ``on_bad_rows="raise"``) a bad row,
            named by its position.
        IdTypeError
            If the IDs of one column are not all int or all str.

        Examples
        --------
        >>> data = Interactions.from_arrays(
        ...     ["u1", "u1", "u2", "u2"], ["a", "a", "a", "b"], [1.0, 4.0, 2.0, 0.0],
        ...     aggregate="max", on_bad_rows="skip")
        >>> data.matrix.toarray().tolist()
        [[4.0], [2.0]]
        >>> data.summary().dropped
        {'zero_weight': 1}
        """
        agg = check_options(aggregate, min_user_interactions, min_item_interactions)
        policy = check_bad_rows(on_bad_rows)
        collected = collect_columns(user_ids, item_ids, weights, timestamps, on_bad_rows=policy)
        return cls(
            **assemble(
                collected,
                aggregate=agg,
                min_user=int(min_user_interactions),
                min_item=int(min_item_interactions),
            )
        )

    @classmethod
    def from_frame(
        cls,
        frame: object,
        user: Hashable | None = None,
        item: Hashable | None = None,
        weight: Hashable | None = None,
        *,
        timestamp: Hashable | None = None,
        aggregate: Aggregate = "sum",
        min_user_interactions: int = 1,
        min_item_interactions: int = 1,
        on_bad_rows: BadRows = "raise",
    ) -> Interactions:
        """Build from columns of a pandas or polars DataFrame.

        Neither library is needed by alsrec: the frame is read through ``frame.columns``,
        ``frame[name]`` and ``Series.to_numpy()``. Missing values (``None``, ``NaN``,
        ``pd.NA``, polars nulls) are bad rows. An integer column with nulls (which both
        libraries hand over as floats) is read back as integers.

        Parameters
        ----------
        frame
            A ``pandas.DataFrame`` or ``polars.DataFrame``.
        user, item : column label, optional
            The ID columns. Not given: the columns named like them, as in ``fit(df)``
            (``user_id`` or else the one of ``user``, ``userId``, ``userID``,
            ``user_idx``; ``item_id`` or else one of ``item``, ..., ``movieId``: see
            :mod:`alsrec.data.columns`).
        weight : column label or False, optional
            The weight column; not given, a column named ``weight`` if there is one
            (``False``: none, whatever the names). Without one every row weighs 1.0, and
            an :class:`~alsrec.UnreadColumnWarning` names the numeric columns left unread
            (a ``rating`` or ``plays`` column was probably meant as the weight).
        timestamp : column label, optional
            A time column, used by ``aggregate="last"`` and kept in :attr:`timestamps`.
        aggregate, min_user_interactions, min_item_interactions, on_bad_rows
            As in :meth:`from_arrays`; bad rows are named by their 0-based row number.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["x", "y", "x"],
        ...                    "plays": [3, 1, 2]})
        >>> Interactions.from_frame(df, weight="plays").matrix.toarray().tolist()
        [[3.0, 1.0], [2.0, 0.0]]
        """
        agg = check_options(aggregate, min_user_interactions, min_item_interactions)
        user, item, found = frame_roles(frame, user, item, weight)
        collected = collect_frame(
            frame,
            user=user,
            item=item,
            weight=None if found is False else found,
            timestamp=timestamp,
            on_bad_rows=check_bad_rows(on_bad_rows),
            weight_note=FOUND_WEIGHT if weight is None and found is not None else "",
        )
        if found is None:  # the frame was checked by now
            warn_unread(
                "The frame has no weight column given",
                numeric_frame_columns(frame, {user, item, timestamp}),
                "select the columns you mean (e.g. df[[user_column, item_column]])",
            )
        return cls(
            **assemble(
                collected,
                aggregate=agg,
                min_user=int(min_user_interactions),
                min_item=int(min_item_interactions),
            )
        )

    @classmethod
    def from_csv(
        cls,
        path: str | os.PathLike[str],
        user: Column | None = None,
        item: Column | None = None,
        weight: Column | None = None,
        *,
        timestamp: Column | None = None,
        delimiter: str | None = ",",
        header: bool = True,
        encoding: str = "utf-8-sig",
        user_type: IdType = "auto",
        item_type: IdType = "auto",
        aggregate: Aggregate = "sum",
        min_user_interactions: int = 1,
        min_item_interactions: int = 1,
        on_bad_rows: BadRows = "raise",
        chunk_rows: int = 200_000,
        progress: ProgressOption = None,
    ) -> Interactions:
        """Stream a CSV file in chunks of rows.

        The file is read in blocks of about ``chunk_rows`` records; only the current
        block is held as Python strings, the rest as compact numpy arrays plus one dict
        entry per distinct ID (a 10M-row file with 100k users and 100k items peaked at
        about 1.2 GiB). Quoting follows RFC 4180 (``"a,b"``, ``""`` for a
        quote, line breaks inside quotes), strictly: text after a closing quote
        (``"a"b``) and a quote that never closes are errors. ``\\n``, ``\\r\\n`` and
        ``\\r`` line ends and a UTF-8 byte-order mark are accepted. Fields are not
        stripped: ``" u1"`` and ``"u1"`` are different IDs. gzip, bzip2 and xz files are
        read as they are (recognized by their first bytes, whatever their name); a zip or
        zstd file is refused with a hint. A byte the encoding cannot decode is reported
        with its line and byte offset.

        Limits, so that memory and time stay in proportion to the file: a field is at
        most 131,072 characters (``alsrec.data.rows.MAX_FIELD_CHARS``, the csv
        module's limit), quoted or not, and an ID at most 1,024 characters
        (``MAX_ID_CHARS``). Reading stops at the first field past the limit, so a
        missing closing quote or input without line ends fails at once, in linear time.
        ``path`` may be a pipe, a FIFO or ``/dev/stdin``: non-seekable input is streamed
        (the progress bar then counts rows, without a percentage).

        Parameters
        ----------
        path
            The CSV file.
        user, item, weight, timestamp : str or int, optional
            Columns by header name, or by 0-based position (needed with
            ``header=False``). Not given, ``user`` and ``item`` are the columns named
            like them, as in ``fit(df)`` (``user_id`` or else the one of ``user``,
            ``userId``, ...: :mod:`alsrec.data.columns`), and ``weight`` is a column
            named ``weight``, if any (else every row weighs 1.0; ``weight=False``: 1.0
            per row whatever the names). ``timestamp``: kept per pair in
            :attr:`timestamps` (numbers or ISO 8601 text).
        delimiter : str or None, default ","
            One character. ``None`` guesses it from the first line among ``,``, tab,
            ``;`` and ``|``: the one that appears, or, when several do, the one that
            splits a header into the columns named; otherwise a :class:`DataError` asks
            for it. Errors say which was guessed.
        header : bool, default True
            Whether the first record names the columns.
        encoding : str, default "utf-8-sig"
            Text encoding (the default also reads plain UTF-8).
        user_type, item_type : {"auto", "int", "str"}
            How to read an ID column. ``"auto"``: integers when the column's first ID is
            an integer written plainly (``17``, not ``017``), else text; in an integer
            column a later non-integer ID raises :class:`~alsrec.IdTypeError` (mixed
            types), naming the line; pass ``"str"`` to read such a column as text.
        aggregate, min_user_interactions, min_item_interactions, on_bad_rows
            As in :meth:`from_arrays`. With ``on_bad_rows="skip"``, blank lines and lines
            with the wrong number of fields are dropped (and counted) too. Blank lines
            after the last row are always dropped and counted, never an error.
        chunk_rows : int, default 200_000
            About how many records each block holds (memory vs. overhead).
        progress : bool, text stream or None
            A progress bar on stderr: ``None`` (default) draws one only when stderr is a
            terminal and the load takes over a second; ``True`` always, ``False`` never;
            a text stream: always, on that stream.

        Raises
        ------
        DataError
            Naming the file, line number and column: a missing column (listing the
            columns seen, and hinting at the delimiter when the header did not split),
            an empty file, an unparsable/NaN/infinite/negative/zero weight, an empty ID,
            an ID over 1,024 characters, a field over 131,072 characters, malformed
            quoting, a blank line, a line with the wrong number of fields, undecodable
            text.
        IdTypeError
            Mixed ID types in a column, or an ID ending in a NUL character (which numpy
            cannot store), naming its line.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "plays.csv"
        >>> _ = path.write_text("user,song,plays\\nann,s1,3\\nann,s2,1\\nbob,s1,7\\n")
        >>> data = Interactions.from_csv(path, user="user", item="song", weight="plays")
        >>> data.users.ids.tolist(), data.matrix.toarray().tolist()
        (['ann', 'bob'], [[3.0, 1.0], [7.0, 0.0]])
        >>> Interactions.from_csv(path, user="user_id", item="song")
        Traceback (most recent call last):
        ...
        alsrec.exceptions.DataError: There is no column 'user_id' (the user column): ...plays.csv:
        the header reads 'user,song,plays', columns ['user', 'song', 'plays']. Pass
        user=<one of the columns>.
        """
        agg = check_options(aggregate, min_user_interactions, min_item_interactions)
        collected = read_csv(
            path,
            user=user,
            item=item,
            weight=weight,
            timestamp=timestamp,
            delimiter=delimiter,
            header=header,
            encoding=encoding,
            user_type=user_type,
            item_type=item_type,
            chunk_rows=chunk_rows,
            on_bad_rows=check_bad_rows(on_bad_rows),
            progress=progress,
        )
        return cls(
            **assemble(
                collected,
                aggregate=agg,
                min_user=int(min_user_interactions),
                min_item=int(min_item_interactions),
            )
        )

    @classmethod
    def from_sql(
        cls,
        connection: object,
        query: str,
        params: object = None,
        *,
        user: Column | None = None,
        item: Column | None = None,
        weight: Column | None = None,
        timestamp: Column | None = None,
        aggregate: Aggregate = "sum",
        min_user_interactions: int = 1,
        min_item_interactions: int = 1,
        on_bad_rows: BadRows = "raise",
        batch_size: int = 50_000,
        progress: ProgressOption = None,
    ) -> Interactions:
        """Run a query on a DB-API 2 connection and load its rows, fetched in batches.

        The rows are fetched with ``cursor.fetchmany(batch_size)``; only one batch is
        held as Python objects at a time. Some drivers buffer the whole result on the
        client anyway (psycopg's default cursor does): to stream from the server, pass a
        server-side cursor instead of the connection (psycopg:
        ``connection.cursor(name="alsrec")``); a passed cursor is not closed.

        Parameters
        ----------
        connection
            A DB-API 2 connection (``sqlite3``, ``psycopg``, ...), or a cursor.
        query : str
            A query returning one row per interaction.
        params : sequence or mapping, optional
            Query parameters, in the driver's ``paramstyle``
            (``?`` for sqlite3, ``%s`` for psycopg).
        user, item, weight, timestamp : str or int, optional
            Result columns by name or 0-based position; ``user``, ``item`` and ``weight``
            not given are found by name as in :meth:`from_csv` (``weight=False``: none).
            IDs must come back as int or str (cast other types in the query); weights as
            numbers (``Decimal`` is fine);
            timestamps as numbers, ``datetime``/``date`` or ISO 8601 text (kept per pair
            in :attr:`timestamps`).
        aggregate, min_user_interactions, min_item_interactions, on_bad_rows
            As in :meth:`from_arrays`; bad rows are named by their 1-based result row.
        batch_size : int, default 50_000
            Rows per ``fetchmany``.
        progress : bool, text stream or None
            As in :meth:`from_csv` (rows and rate; the total is unknown).

        Raises
        ------
        DataError
            The query failed (the driver's error is chained), returned no result set or
            no rows, lacks a requested column, or (``on_bad_rows="raise"``) has a bad row.
        IdTypeError
            An ID of another type than int/str, or a column mixing int and str.

        Examples
        --------
        >>> import sqlite3
        >>> db = sqlite3.connect(":memory:")
        >>> _ = db.execute("CREATE TABLE plays (user_id TEXT, item_id INTEGER, n REAL)")
        >>> _ = db.executemany("INSERT INTO plays VALUES (?, ?, ?)",
        ...                    [("ann", 10, 2.0), ("bob", 10, 1.0), ("bob", 11, 5.0)])
        >>> data = Interactions.from_sql(db, "SELECT * FROM plays WHERE n > ?", (0,),
        ...                              weight="n")
        >>> data.items.ids.tolist(), data.matrix.toarray().tolist()
        ([10, 11], [[2.0, 0.0], [1.0, 5.0]])
        """
        agg = check_options(aggregate, min_user_interactions, min_item_interactions)
        collected = collect_sql(
            connection,
            query,
            params,
            user=user,
            item=item,
            weight=weight,
            timestamp=timestamp,
            batch_size=batch_size,
            on_bad_rows=check_bad_rows(on_bad_rows),
            progress=progress,
        )
        return cls(
            **assemble(
                collected,
                aggregate=agg,
                min_user=int(min_user_interactions),
                min_item=int(min_item_interactions),
            )
        )

    @classmethod
    def from_scipy(
        cls,
        matrix: object,
        user_ids: IdLike | Iterable[ExternalId] | None = None,
        item_ids: IdLike | Iterable[ExternalId] | None = None,
        *,
        on_bad_rows: BadRows = "raise",
    ) -> Interactions:
        """Wrap a ``users x items`` scipy sparse matrix (or 2-d array) of weights.

        Row ``k`` belongs to ``user_ids[k]`` and column ``j`` to ``item_ids[j]``; without
        IDs they are ``0..n-1``. The IDs are kept exactly, including users or items
        without any stored entry. Stored zeros are unobserved pairs: they are removed
        and counted under ``dropped["explicit_zero"]``. Duplicate stored entries (a COO
        matrix) are summed. Negative, NaN or infinite entries are bad rows.

        Raises
        ------
        ConfigError
            ``matrix`` is a data frame (pandas, polars): its labels would be lost. Pass
            ``from_scipy(scipy.sparse.csr_matrix(df.to_numpy()), user_ids=df.index,
            item_ids=df.columns)``, or a long frame to :meth:`from_frame`.
        DataError
            Not a 2-d numeric matrix, ID counts that do not match its shape, or (with
            ``on_bad_rows="raise"``) a bad entry, named by its row and column.

        Examples
        --------
        >>> import numpy as np, scipy.sparse as sp
        >>> m = sp.csr_matrix(np.array([[0.0, 2.0], [1.0, 0.0], [0.0, 0.0]]))
        >>> data = Interactions.from_scipy(m, ["u1", "u2", "u3"], ["a", "b"])
        >>> data.shape, data.users.ids.tolist()
        ((3, 2), ['u1', 'u2', 'u3'])
        """
        return cls(
            **read_matrix(matrix, user_ids, item_ids, on_bad_rows=check_bad_rows(on_bad_rows))
        )

    @classmethod
    def from_indices(
        cls,
        users: IdMapper,
        items: IdMapper,
        rows: IndexArray,
        cols: IndexArray,
        weights: FloatArray,
    ) -> Interactions:
        """Build from already-mapped row/column indices (duplicates are summed).

        The mappers are kept as given, including IDs without interactions.
        """
        return cls(**read_indices(users, items, rows, cols, weights))

    # -- inspection ---------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_users, n_items)``."""
        return (len(self.users), len(self.items))

    @property
    def nnz(self) -> int:
        """Number of distinct observed ``(user, item)`` pairs."""
        return int(self.matrix.nnz)

    def summary(self) -> InteractionsSummary:
        """Return counts, density, duplicates merged and rows dropped (by reason).

        Examples
        --------
        >>> data = Interactions.from_arrays([1, 1, 2], [7, 7, 8])
        >>> print(data.summary())
        2 users x 2 items, 2 interactions (density 0.5); 3 rows read, 1 duplicate ...
        >>> data = Interactions.from_arrays([1, 2, 3], [7, 7, 8], min_item_interactions=2)
        >>> data.summary().dropped
        {'min_item_interactions': 1}
        """
        n_users, n_items = self.shape
        cells = n_users * n_items
        return InteractionsSummary(
            n_users=n_users,
            n_items=n_items,
            n_interactions=self.nnz,
            rows_read=self.rows_read,
            duplicates_merged=self.duplicates_merged,
            density=self.nnz / cells if cells else 0.0,
            dropped=dict(self.dropped),
            aggregate=self.aggregate,
            source=self.source,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Interactions):
            return NotImplemented
        a, b = self.matrix, other.matrix
        return (
            self.users == other.users
            and self.items == other.items
            and a.shape == b.shape
            and np.array_equal(a.indptr, b.indptr)
            and np.array_equal(a.indices, b.indices)
            and np.array_equal(a.data, b.data)
        )

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[object, ...]:
        # ``dropped`` is a read-only mapping proxy, which copy/pickle cannot handle.
        return (
            Interactions,
            (
                self.users,
                self.items,
                self.matrix,
                self.rows_read,
                self.duplicates_merged,
                dict(self.dropped),
                self.aggregate,
                self.source,
                self.timestamps,
            ),
        )

    def __repr__(self) -> str:
        return f"Interactions({self.summary()})"


DROP_REASONS: Mapping[str, str] = MappingProxyType(REASONS)
"""Every reason a row can be dropped for (the keys of ``summary().dropped``), explained."""


def require_interactions(value: object, name: str, call: str) -> Interactions:
    """``value`` itself when it is an :class:`Interactions`; otherwise
    :class:`~alsrec.ConfigError` naming ``call``'s parameter ``name`` and how to build one.

    Examples
    --------
    >>> require_interactions([("u", "a")], "data", "holdout_split")
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: holdout_split: data must be an alsrec Interactions, got list; ...
    """
    if not isinstance(value, Interactions):
        how = (
            "wrap a users x items matrix with Interactions.from_scipy(matrix, user_ids, "
            "item_ids) (the IDs of its rows and columns)"
            if sp.issparse(value)
            else "build one with Interactions.from_arrays(user_ids, item_ids, weights), "
            "from_frame(df, ...) or from_csv(path, ...)"
        )
        raise ConfigError(
            f"{call}: {name} must be an alsrec Interactions, got {type(value).__name__}; {how}."
        )
    return value
