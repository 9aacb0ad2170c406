"""The CSV reader: streams a file in blocks of whole records (``Interactions.from_csv``)."""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import os
import re
from itertools import compress
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from alsrec.data.columns import resolve_roles, role_labels
from alsrec.data.csv_checks import (
    GUESSES,
    check_arguments,
    check_encoding,
    encoding_name,
    guess_delimiter,
)
from alsrec.data.headers import warn_if_header
from alsrec.data.rows import (
    MAX_FIELD_CHARS,
    SKIP_HINT,
    BadRows,
    Collected,
    Column,
    IdType,
    RowStream,
    shorten,
)
from alsrec.data.unread import SAMPLE_ROWS, candidate_columns, looks_numeric, warn_unread
from alsrec.exceptions import ConfigError, DataError
from alsrec.progress import ProgressBar

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable, Iterator

    from alsrec.progress import ProgressOption
    from alsrec.types import IndexArray

__all__ = ["read_csv"]


_OPENERS: dict[bytes, tuple[str, Callable[[io.BufferedReader], io.BufferedIOBase]]] = {
    b"\x1f\x8b": ("gzip", lambda raw: gzip.GzipFile(fileobj=raw, mode="rb")),
    b"BZh": ("bzip2", lambda raw: bz2.BZ2File(raw, mode="rb")),
    b"\xfd7zXZ\x00": ("xz", lambda raw: lzma.LZMAFile(raw, mode="rb")),  # noqa: SIM115
}
"""Compressed files read as they are: magic bytes -> format name, reader."""

_EXTRACT = (
    "not CSV text: extract or decompress it first (gzip, bzip2 and xz files are read as they are)."
)
_UNREADABLE = {
    b"PK\x03\x04": f"a zip archive, {_EXTRACT}",
    b"\x28\xb5\x2f\xfd": f"zstd-compressed, {_EXTRACT}",
    b"PAR1": (
        "a Parquet file, not CSV text: read it with pandas (pandas.read_parquet) or polars "
        "(polars.read_parquet) and pass the frame to Interactions.from_frame."
    ),
}
"""Other formats, refused with a hint: magic bytes -> what the file is, what to do."""


def _has_magic(head: bytes, magic: bytes) -> bool:
    """Whether a file's first bytes ``head`` start with ``magic``; Parquet's ``PAR1`` is
    text too (an ID such as ``PAR1001``), so a byte that no text holds must follow it.

    Examples
    --------
    >>> _has_magic(b"PAR1\x15\x04", b"PAR1"), _has_magic(b"PAR1001,", b"PAR1")
    (True, False)
    """
    if not head.startswith(magic):
        return False
    if magic != b"PAR1":
        return True
    return len(head) > 4 and not (32 <= head[4] < 127 or head[4] in b"\t\r\n")


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
"""One physical line with its line end: ``\r\n``, a lone ``\r`` or ``\n``."""

_OTHER_BREAKS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"
"""What ``str.splitlines`` also splits at, and a CSV line does not end at."""


def _physical_lines(text: str) -> Iterable[str]:
    """The lines of ``text`` with their line ends, as ``io.StringIO(text, newline="")``
    splits it, without the copy of the whole text that StringIO keeps (4 bytes a character:
    160 MB for a block of one 40 MB line): ``str.splitlines`` where it splits the same way,
    else a regex (slower)."""
    if any(c in text for c in _OTHER_BREAKS):
        return (found[0] for found in _LINE.finditer(text))
    return text.splitlines(keepends=True)


_MAX_BLOCK_CHARS = 1 << 24
"""The most characters one read asks for. ``TextIOWrapper.read(n)`` allocates ``n``
characters before it reads: a size estimated from one block of a few long lines (``block
length x chunk_rows / records``) had asked for 268 MB on a 2 MB file."""

_LONG_LINE = 1 << 16
"""Lines longer than this are counted field by field before the csv module sees them."""


def _field_count(line: str, delimiter: str) -> int | None:
    """The fields of ``line`` read as one whole record the csv module's way (strict RFC 4180
    quoting), counted without building them; ``None`` where the csv module must decide: a
    quoted field left open (the record goes on to the next line) or text after a closing
    quote (malformed).

    The csv module builds every field of a record before anything can count them: one line
    of millions of short fields took about 20 times its size in memory. Counted first, a
    record of the wrong length is reported or skipped from its count alone. (As on the
    unquoted fast path, the field length limit applies to records of the right length.)
    """
    if not line.rstrip("\r\n"):
        return 0  # a blank line: the csv module's empty record
    sep = re.escape(delimiter)
    # every well-formed quoted field: it starts a field and ends at a delimiter or line end
    quoted = re.compile(f'(?:^|(?<={sep}))"[^"]*(?:""[^"]*)*"(?={sep}|\\r|\\n|$)')
    rest = quoted.sub("", line)
    if re.search(f'(?:^|{sep})"', rest):  # a field opens with a quote it does not close
        return None
    return rest.count(delimiter) + 1


def _trailing(entries: list[Any], blank: object) -> int:
    """How many entries at the end of ``entries`` equal ``blank``."""
    count = 0
    while count < len(entries) and entries[-1 - count] == blank:
        count += 1
    return count


def _count_lines(text: str) -> int:
    """Physical lines in ``text`` (``\\n``, ``\\r\\n`` or a lone ``\\r`` ends a line)."""
    n = text.count("\n") + text.count("\r") - text.count("\r\n")
    if text and not text.endswith(("\n", "\r")):
        n += 1
    return n


def _delimiter_hint(line: str, delimiter: str, guessed: bool) -> str:
    how = "guessed" if guessed else "given"
    others = [d for d in GUESSES if d != delimiter and d in line]
    hint = f" The delimiter {how} was {delimiter!r}"
    if others:
        hint += (
            f"; the line contains {others[0]!r}: is that the delimiter (delimiter={others[0]!r})?"
        )
    else:
        hint += "."
    return hint


class _CsvReader:
    """Streams one CSV file in blocks of whole records (see :func:`read_csv`)."""

    def __init__(
        self,
        path: str,
        *,
        user: Column | None,
        item: Column | None,
        weight: Column | None,
        timestamp: Column | None,
        delimiter: str | None,
        header: bool,
        encoding: str,
        user_type: IdType,
        item_type: IdType,
        chunk_rows: int,
        on_bad_rows: BadRows,
        progress: ProgressOption,
    ) -> None:
        self.path = path
        self.specs = {"user": user, "item": item, "weight": weight, "timestamp": timestamp}
        self.delimiter = delimiter
        self.header = header
        self.encoding = encoding
        self.user_type = user_type
        self.item_type = item_type
        self.chunk_rows = chunk_rows
        self.on_bad_rows = on_bad_rows
        self.progress = progress
        self.name = os.path.basename(path) or path
        self.line = 0  # physical lines consumed so far
        self.opener = ""  # the compression the file was read through, if any
        # records of the block being parsed that were counted, not built (_field_count):
        # first line -> (fields, the line as written)
        self.counted: dict[int, tuple[int, str]] = {}
        # without a weight column: the columns read by no role (name, position), to be
        # checked on the first data block for numbers (see unread_numeric)
        self.unchecked: list[tuple[Hashable, int]] = []
        self.unread_numeric: list[Hashable] = []

    # the file -------------------------------------------------------------------------------

    def _read(self, text: io.TextIOWrapper, size: int, raw: io.BufferedReader) -> str:
        """``size`` characters, or (``size=-1``) one line of at most MAX_FIELD_CHARS + 1."""
        try:
            return text.read(size) if size >= 0 else text.readline(MAX_FIELD_CHARS + 1)
        except UnicodeDecodeError as exc:
            found = self._locate_bad_byte() if raw.seekable() else None
            where = (
                f", line {found[0]} (byte {found[1]:,}{' uncompressed' if self.opener else ''})"
                if found is not None
                else f", after line {self.line}"
            )
            raise DataError(
                f"{self.path}{where}: not valid {encoding_name(self.encoding)} text: "
                f"{exc.reason}. Pass the file's encoding as encoding=... (e.g. 'latin-1' or "
                "'cp1252' for Western European text from older systems)."
            ) from exc

    def _open(self) -> tuple[io.BufferedReader, io.BufferedIOBase]:
        """The file and the byte stream to decode (decompressed, for gzip/bzip2/xz)."""
        try:
            raw = open(self.path, "rb")  # noqa: SIM115 - the caller closes it
        except OSError as exc:
            raise DataError(f"Cannot open the CSV file {self.path!r}: {exc.strerror}.") from exc
        head = raw.peek(8)[:8]
        for magic, what in _UNREADABLE.items():
            if _has_magic(head, magic):
                raw.close()
                raise DataError(f"{self.path} is {what}")
        for magic, (name, opener) in _OPENERS.items():
            if head.startswith(magic):
                self.opener = name
                return raw, opener(raw)
        return raw, raw

    def _locate_bad_byte(self) -> tuple[int, int] | None:
        """The line (1-based) and byte offset of the first undecodable byte, found by
        reading the file again line by line (only after a decoding error); ``None`` where
        lines cannot be split on bytes (UTF-16/32) or the file cannot be read again."""
        name = codecs.lookup(self.encoding).name
        if "16" in name or "32" in name:
            return None
        line, offset = 1, 0
        try:
            raw, data = self._open()
        except DataError:
            return None
        with raw, data:
            for chunk in data:
                try:
                    chunk.decode(self.encoding if offset == 0 else name.replace("-sig", ""))
                except UnicodeDecodeError as exc:
                    before = chunk[: exc.start]
                    return line + before.count(b"\r") - before.count(b"\r\n"), offset + exc.start
                offset += len(chunk)
                line += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
        return None

    def _complete(self, block: str, text: io.TextIOWrapper, raw: io.BufferedReader) -> str:
        """Extend ``block`` to the end of its last line.

        Reads at most ``MAX_FIELD_CHARS + 1`` characters at a time and stops with a
        :class:`DataError` as soon as the last field passes ``MAX_FIELD_CHARS``, so input
        without line ends (``/dev/zero``) fails fast. A quoted field still open at the line
        end is completed by :meth:`_parse_records`, which follows the quoting.
        """
        if not block or block.endswith("\n"):
            return block
        if block.endswith("\r"):  # a line end, unless a "\r\n" was cut in two
            after = self._read(text, 1, raw)
            block += after
            if after in ("", "\n"):
                return block
            # ``after`` starts the next line: complete that one below
        delimiter = cast("str", self.delimiter)
        pieces = [block]
        piece = block
        tail = 0  # characters of the last field so far
        while True:
            cut = max(piece.rfind(delimiter), piece.rfind("\n"), piece.rfind("\r"))
            tail = len(piece) - cut - 1 if cut >= 0 else tail + len(piece)
            if tail > MAX_FIELD_CHARS:
                line = self.line + _count_lines("".join(pieces))
                raise DataError(
                    f"{self.path}, line {line}: a field runs past {MAX_FIELD_CHARS:,} "
                    "characters, the limit for one field (is this a CSV file? a line end may "
                    "be missing)."
                )
            piece = self._read(text, -1, raw)
            if not piece:
                break
            pieces.append(piece)
            if piece.endswith(("\n", "\r")):  # readline keeps a "\r\n" whole
                break
        return "".join(pieces)

    def _parse_records(
        self,
        block: str,
        first_line: int,
        text: io.TextIOWrapper,
        raw: io.BufferedReader,
        n_fields: int = 0,
    ) -> tuple[list[list[str]], list[int], str]:
        """Parse ``block`` with the csv module: records, their first lines, the text parsed.

        RFC 4180 quoting, strictly: text after a closing quote (``"a"b``) or a quote still
        open at the end of the file is a :class:`DataError` naming the record's line. A
        record whose quoted field is still open at the end of ``block`` is completed with
        lines from the file (returned as part of the text parsed), in linear time, up to
        ``MAX_FIELD_CHARS`` characters: then a :class:`DataError` names the record's line.
        """
        delimiter = cast("str", self.delimiter)
        more: list[str] = []
        previous = 0  # lines used by the records parsed so far
        self.counted.clear()

        def lines() -> Iterator[str]:
            for line in _physical_lines(block):
                if n_fields and len(line) > _LONG_LINE and reader.line_num == previous:
                    count = _field_count(line, delimiter)
                    if count is not None and count != n_fields:
                        # a wrong-length record, known without its fields: a stand-in
                        # of one field takes its place, reported as this one
                        self.counted[first_line + previous] = (count, line.rstrip("\r\n"))
                        line = "\x00\n"
                yield line
            extra = 0
            while reader.line_num > previous:  # the csv module is inside a record: go on
                line = self._read(text, -1, raw)
                if not line:
                    return
                extra += len(line)
                if extra > MAX_FIELD_CHARS:
                    raise DataError(
                        f"{self.path}, line {first_line + previous}: a quoted field in the record "
                        f"starting on this line runs past {MAX_FIELD_CHARS:,} characters, the "
                        "limit for one field: a closing quote is probably missing."
                    )
                more.append(line)
                yield line

        reader = csv.reader(lines(), delimiter=delimiter, strict=True)
        records: list[list[str]] = []
        starts: list[int] = []
        try:
            for record in reader:
                records.append(record)
                starts.append(first_line + previous)
                previous = reader.line_num
        except csv.Error as exc:
            reason = str(exc)
            if "unexpected end of data" in reason:
                reason += "; a quoted field opens in this record and never closes"
            elif "field limit" in reason:
                reason += (
                    f"; a field is at most {MAX_FIELD_CHARS:,} characters. If this one should "
                    "end sooner, a closing quote is probably missing"
                )
            elif "expected after" in reason:
                reason += (
                    "; text follows a closing quote: a quoted field ends at a delimiter or "
                    'line end, and a quote inside it is written twice ("")'
                )
            raise DataError(
                f"{self.path}, line {first_line + previous}: the CSV is malformed ({reason})."
            ) from exc
        return records, starts, block + "".join(more) if more else block

    def read(self) -> Collected:
        raw, data = self._open()
        try:
            # A pipe, FIFO or /dev/stdin cannot tell() its position: stream it, with a bar
            # that counts rows only. The bar follows the file, compressed or not.
            total = os.fstat(raw.fileno()).st_size if raw.seekable() else None
            check_encoding(
                cast("io.BufferedReader", data).peek(4096)[:4096], self.path, self.encoding
            )
            text = io.TextIOWrapper(
                cast("io.BufferedReader", data), encoding=self.encoding, newline=""
            )
            return self._read_all(text, raw, total)
        except (OSError, EOFError, lzma.LZMAError) as exc:
            if not self.opener:
                raise
            raise DataError(  # a damaged compressed stream
                f"{self.path}: cannot read the {self.opener} data ({exc}); the file may be "
                "truncated or damaged."
            ) from exc
        finally:
            data.close()
            raw.close()

    def _read_all(
        self, text: io.TextIOWrapper, raw: io.BufferedReader, total: int | None
    ) -> Collected:
        first = self._read(text, -1, raw)
        if not first:
            raise DataError(f"{self.path}: the file is empty; expected a CSV header and rows.")
        first_line_text = first.splitlines()[0] if first.strip() else first
        guessed = self.delimiter is None
        if self.delimiter is None:
            specs = self.specs if self.header else None  # a header may vouch for one
            self.delimiter = guess_delimiter(first_line_text, self.path, specs)
        elif len(self.delimiter) != 1 or self.delimiter in '"\r\n' or self.delimiter.isalnum():
            raise ConfigError(
                f"delimiter must be one character other than a quote, a letter, a digit or a "
                f"line break, got {self.delimiter!r}."
            )
        first = self._complete(first, text, raw)
        records, starts, first = self._parse_records(first, 1, text, raw)
        fields = records[0] if records else []
        names = fields if self.header else None
        seen = "the header" if self.header else "line 1"

        def describe() -> tuple[str, str]:
            hint = ""
            if len(fields) < 2:
                hint = _delimiter_hint(first_line_text, cast("str", self.delimiter), guessed)
            text = f"{self.path}: {seen} reads {shorten(first_line_text)!r}, columns {fields!r}"
            return text, hint

        positions = resolve_roles(self.specs, names, len(fields), describe, header_row=True)
        labels = role_labels(self.specs, positions, names)
        if "weight" not in positions and self.specs["weight"] is not False:
            self.unchecked = candidate_columns(names, len(fields), set(positions.values()))
        stream = RowStream(
            self.path,
            labels,
            self.on_bad_rows,
            text=True,
            user_type=self.user_type,
            item_type=self.item_type,
        )
        n_fields = len(fields)
        pending = ""
        if not self.header:
            pending = first
            if len(fields) > max(positions["user"], positions["item"]):
                warn_if_header(fields[positions["user"]], fields[positions["item"]], self.path)
        elif len(starts) > 1:
            # The first block holds more than the header (a lone "\r" line end is only
            # known as one after the next character): the rest are data lines.
            self.line = starts[1] - 1
            pending = "".join(io.StringIO(first, newline="").readlines()[self.line :])
        else:
            self.line = _count_lines(first)
        self._blocks(pending, n_fields, positions, stream, text, raw, total)
        return stream.finish(
            has_weights="weight" in positions, has_timestamps="timestamp" in positions
        )

    def _blocks(
        self,
        pending: str,
        n_fields: int,
        positions: dict[str, int],
        stream: RowStream,
        text: io.TextIOWrapper,
        raw: io.BufferedReader,
        total: int | None,
    ) -> None:
        """Read the rest of the file in blocks of whole lines, ``pending`` first."""
        bar = ProgressBar(self.name, total, self.progress)
        size = min(1 << 20, 64 * self.chunk_rows)
        held = (0, 0)  # blank lines that ended the last block (count, first line)
        chars = records = 0  # read so far, for the average record length
        while True:
            fresh = self._read(text, size, raw)
            end = not fresh and not pending
            if held[0]:  # an editor's blank lines at the end are dropped and counted
                self._blank_lines(*held, n_fields, stream, at_end=end)
            if end:
                break
            block = self._complete(pending + fresh, text, raw)
            pending = ""
            n_before = stream.rows_read
            held = self._block(block, n_fields, positions, stream, text, raw)
            chars, records = chars + len(block), records + stream.rows_read - n_before
            if records:  # chunk_rows records of the average length so far, within a cap
                size = max(1, min(_MAX_BLOCK_CHARS, chars * self.chunk_rows // records))
            if total is not None and not self.opener:  # nor more than the file has left
                size = min(size, max(0, total - raw.tell()) + (1 << 16))
            bar.update(raw.tell() if total is not None else 0, stream.rows_read)
        bar.close(raw.tell() if total is not None else 0, stream.rows_read)

    def _block(
        self,
        block: str,
        n_fields: int,
        positions: dict[str, int],
        stream: RowStream,
        text: io.TextIOWrapper,
        raw: io.BufferedReader,
    ) -> tuple[int, int]:
        """Read the records of ``block``; return the blank lines that end it (their count
        and first line), left to :meth:`_blank_lines` once it is known whether more follows."""
        delimiter = cast("str", self.delimiter)
        first_line = self.line + 1
        flat = block
        if '"' not in flat and "\r" in flat:
            # Unquoted, so every "\r" ends a line: "\r\n" (Windows) or alone (old Mac).
            flat = flat.replace("\r\n", "\n").replace("\r", "\n")
        if '"' not in flat:
            # Fast path: no quoting, one record per line; split the whole block at once.
            self.line += _count_lines(block)
            lines = flat.split("\n")
            if lines[-1] == "":
                lines.pop()
            blanks = _trailing(lines, "")
            trailing = (blanks, first_line + len(lines) - blanks)
            lines = lines[: len(lines) - blanks]
            stream.rows_read += len(lines)
            line_of = np.arange(first_line, first_line + len(lines), dtype=np.int64)
            counts = [line.count(delimiter) for line in lines]
            if counts.count(n_fields - 1) != len(counts):
                keep = np.asarray(counts, dtype=np.int64) == n_fields - 1
                self._bad_lines(keep, [[line] for line in lines], line_of, n_fields, stream)
                lines = list(compress(lines, keep.tolist()))
                line_of = line_of[keep]
            if not lines:
                return trailing
            values = delimiter.join(lines).split(delimiter)
            # the csv module's field limit, on this path too (a field is within one line)
            if max(map(len, lines)) > MAX_FIELD_CHARS and max(map(len, values)) > MAX_FIELD_CHARS:
                pos = next(k for k, v in enumerate(values) if len(v) > MAX_FIELD_CHARS)
                raise DataError(
                    f"{self.path}, line {int(line_of[pos // n_fields])}: a field of "
                    f"{len(values[pos]):,} characters; a field is at most {MAX_FIELD_CHARS:,} "
                    "characters."
                )
            columns = {role: values[pos::n_fields] for role, pos in positions.items()}
            self._check_unread(lambda k: values[k : k + n_fields * SAMPLE_ROWS : n_fields])
        else:
            records, starts, parsed = self._parse_records(block, first_line, text, raw, n_fields)
            self.line += _count_lines(parsed)
            blanks = _trailing(records, [])
            trailing = (blanks, starts[len(records) - blanks] if blanks else 0)
            records, starts = records[: len(records) - blanks], starts[: len(starts) - blanks]
            stream.rows_read += len(records)
            line_of = np.asarray(starts, dtype=np.int64)
            lengths = [len(r) for r in records]
            if lengths.count(n_fields) != len(lengths):
                keep = np.asarray(lengths, dtype=np.int64) == n_fields
                self._bad_lines(keep, records, line_of, n_fields, stream)
                records = list(compress(records, keep.tolist()))
                line_of = line_of[keep]
            if not records:
                return trailing
            columns = {role: [r[pos] for r in records] for role, pos in positions.items()}
            self._check_unread(lambda k: [r[k] for r in records[:SAMPLE_ROWS]])

        path = self.path

        def where(pos: int) -> str:
            return f"{path}, line {int(line_of[pos])}"

        stream.add(
            columns["user"], columns["item"], columns.get("weight"), columns.get("timestamp"), where
        )
        return trailing

    def _check_unread(self, sample: Callable[[int], list[str]]) -> None:
        """On the first block with data rows: which unread columns hold numbers."""
        if self.unchecked:
            self.unread_numeric = [name for name, k in self.unchecked if looks_numeric(sample(k))]
            self.unchecked = []

    def _blank_lines(
        self, count: int, first: int, n_fields: int, stream: RowStream, *, at_end: bool
    ) -> None:
        """``count`` blank lines from line ``first``: at the end of the file dropped and
        counted, never an error; elsewhere bad rows like any other."""
        stream.rows_read += count
        if at_end:
            stream.drop("blank_line", count)
        else:
            lines = np.arange(first, first + count, dtype=np.int64)
            self._bad_lines(np.zeros(count, dtype=bool), [[]] * count, lines, n_fields, stream)

    def _bad_lines(
        self,
        keep: npt.NDArray[np.bool_],
        records: list[list[str]],
        line_of: IndexArray,
        n_fields: int,
        stream: RowStream,
    ) -> None:
        bad = np.flatnonzero(~keep)
        blank = [records[pos] in ([""], []) for pos in bad.tolist()]
        if self.on_bad_rows == "raise":
            pos = int(bad[0])
            if blank[0]:
                raise DataError(
                    f"{self.path}, line {int(line_of[pos])}: the line is blank. Remove blank "
                    "lines, or pass on_bad_rows='skip' to drop them (counted in summary().dropped)."
                )
            record = records[pos]
            shown = record[0] if len(record) == 1 else cast("str", self.delimiter).join(record)
            n_seen = (
                len(record) if len(record) > 1 else shown.count(cast("str", self.delimiter)) + 1
            )
            n_seen, shown = self.counted.get(int(line_of[pos]), (n_seen, shown))
            raise DataError(
                f"{self.path}, line {int(line_of[pos])}: {n_seen} field(s) where the "
                f"{'header has' if self.header else 'first line has'} {n_fields}; the line "
                f"reads {shorten(shown)!r}. {SKIP_HINT}"
            )
        n_blank = sum(blank)
        if n_blank:
            stream.drop("blank_line", n_blank)
        if len(blank) - n_blank:
            stream.drop("wrong_field_count", len(blank) - n_blank)


def read_csv(
    path: str | os.PathLike[str],
    *,
    user: Column | None,
    item: Column | None,
    weight: Column | None,
    timestamp: Column | None,
    delimiter: str | None,
    header: bool,
    encoding: str,
    user_type: IdType,
    item_type: IdType,
    chunk_rows: int,
    on_bad_rows: BadRows,
    progress: ProgressOption,
) -> Collected:
    """Stream a CSV file into :class:`Collected` columns (see ``Interactions.from_csv``)."""
    for option, value in (("user_type", user_type), ("item_type", item_type)):
        if value not in ("auto", "int", "str"):
            raise ConfigError(f"{option} must be 'auto', 'int' or 'str', got {value!r}.")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be an integer >= 1, got {chunk_rows!r}.")
    if not isinstance(header, bool):
        raise ConfigError(f"header must be True or False, got {header!r}.")
    where, encoding = check_arguments(path, delimiter, encoding, progress)
    reader = _CsvReader(
        os.path.expanduser(where),  # "~/data.csv", as pandas reads it
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
        on_bad_rows=on_bad_rows,
        progress=progress,
    )
    collected = reader.read()
    # user -> Interactions.from_csv -> read_csv
    warn_unread(f"{reader.path}: no weight column was given", reader.unread_numeric, None)
    return collected
