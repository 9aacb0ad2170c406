"""The artifact format: constants, the manifest, and the checked reading of array files.

An artifact is a directory that holds only data, never code::

    model/
      manifest.json          format version, alsrec version, hyperparameters, backend,
                             dtype, shapes, ID kinds, SHA-256 of every array file, creation time;
                             "manifest_sha256" is the SHA-256 of the manifest's own content
                             (absent in artifacts written before alsrec checked it);
                             "auto_params" names the hyperparameters resolved from "auto"
                             (their concrete values are in "params"; absent = none)
      user_factors.npy       float32 (user rows, factors)
      item_factors.npy       float32 (item rows, factors)
      user_ids.npy           int64, or fixed-width unicode for str IDs
      item_ids.npy
      seen_indptr.npy        the training interactions as CSR arrays (absent when the model
      seen_indices.npy       has no interaction data)
      seen_data.npy
      popularity.npy         float32 popularity of each mapped item (the fallback's scores)
      popular_order.npy      int64 mapped item indices, most popular first

Every array is read with ``numpy.load(..., allow_pickle=False)``; object arrays are refused
before they are read. :func:`load` memory-maps the factor matrices, so a large model answers
its first query without reading all of it, and checks the format version, the shapes, the
uniqueness of IDs and (unless ``verify=False``) the SHA-256 checksums. :func:`save` writes
into a temporary sibling directory and renames it into place, so a failed save leaves the
previous artifact as it was.

:func:`import_legacy_pickle` reads the ``recommender_artifacts.pkl`` dict that hand-built
scripts ship (an ``implicit`` model plus four ID dicts), only when the caller states that the
file is trusted. :func:`inspect_model` and :func:`inspect_artifact` report a model's health.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import operator
import os
import time
import tokenize
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from alsrec._version import __version__
from alsrec.exceptions import AlsrecWarning, ArtifactError, DataError
from alsrec.io._files import ArtifactDir, Swapped, as_path, file_sha256, read_at
from alsrec.mapping import IdMapper
from alsrec.model.fitted import seen_weights_problem

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from alsrec.types import ExternalId, IndexArray

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST",
    "MANIFEST_DIGEST",
    "MAX_ID_WIDTH",
    "MAX_MANIFEST_BYTES",
    "PathArg",
    "check_manifest_digest",
    "fallback_problem",
    "manifest_digest",
    "read_manifest",
    "seen_weights_problem",
]

PathArg = str | os.PathLike[str]
"""A filesystem path: ``str`` or any ``os.PathLike`` (e.g. :class:`pathlib.Path`)."""

FORMAT_VERSION = 1
"""The artifact format this alsrec writes; it reads every version up to this one."""

FORMAT_NAME = "alsrec-model"
MANIFEST = "manifest.json"

MAX_MANIFEST_BYTES = 16 << 20
"""The largest ``manifest.json`` (16 MiB) a reader accepts; alsrec writes a few kB. A larger
one is refused before it is read."""

MAX_ID_WIDTH = 1 << 16
"""The widest string ID (65,536 characters) an artifact may store; a wider ``*_ids.npy``
header is refused before its data is read."""

MANIFEST_DIGEST = "manifest_sha256"
"""The manifest entry holding the SHA-256 of the manifest's content without that entry
(see :func:`manifest_digest`)."""

MAX_LISTED = 5
"""How many ranges or IDs a message lists before it summarizes the rest."""
_MAX_HEADER = 1 << 16  # bytes of a .npy header; alsrec writes about 128
_ATTEMPTS = 8  # opens of an artifact that a concurrent save may swap away


def python_id(value: object) -> ExternalId:
    """A stored ID as a plain Python ``int`` or ``str`` (numpy scalars unwrapped)."""
    return cast("ExternalId", value.item() if isinstance(value, np.generic) else value)


def utc_timestamp() -> str:
    """The current UTC time in ISO 8601, to the second (``2024-01-31T12:00:00Z``)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def index_ranges(indices: IndexArray) -> tuple[tuple[int, int], ...]:
    """Inclusive ``(first, last)`` runs of consecutive values of a sorted index array."""
    if indices.size == 0:
        return ()
    breaks = np.flatnonzero(np.diff(indices) != 1)
    firsts = np.concatenate((indices[:1], indices[breaks + 1]))
    lasts = np.concatenate((indices[breaks], indices[-1:]))
    return tuple(zip(firsts.tolist(), lasts.tolist(), strict=True))


def format_ranges(ranges: tuple[tuple[int, int], ...], limit: int = MAX_LISTED) -> str:
    """Index ranges as ``"0, 3..7"``, the first ``limit`` of them."""
    parts = [str(a) if a == b else f"{a}..{b}" for a, b in ranges[:limit]]
    if len(ranges) > limit:
        parts.append(f"... ({len(ranges)} ranges)")
    return ", ".join(parts)


def artifact_error(path: Path, problem: str) -> ArtifactError:
    """The :class:`~alsrec.ArtifactError` for ``problem`` with the file at ``path``."""
    return ArtifactError(f"{path}: {problem}")


def _old_copies(path: Path) -> list[Path]:
    """Previous versions that interrupted saves kept next to ``path``, newest first."""
    try:
        found = [p for p in path.parent.glob(f".{path.name}.old-*") if p.is_dir()]
    except OSError:
        return []

    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return 0.0

    return sorted(found, key=mtime, reverse=True)


def _stale_hint(path: Path) -> str:
    leftovers = _old_copies(path)
    if leftovers:
        return (
            f" A previous version of it is kept at {leftovers[0]} (a save was interrupted);"
            " rename it back to use it."
        )
    return ""


def _missing(root: Path) -> ArtifactError:
    return artifact_error(
        root,
        "no such artifact directory; save a model there with rec.save(path) or "
        "'alsrec train ... -o DIR'." + _stale_hint(root),
    )


def _open_dir(root: Path) -> ArtifactDir:
    """Open the artifact directory ``root`` (ArtifactError in the caller's words)."""
    try:
        return ArtifactDir(root)
    except FileNotFoundError:
        raise _missing(root) from None
    except NotADirectoryError:
        hint = (
            " It looks like a pickle: import it once with "
            "Recommender.from_legacy_pickle(path, trusted=True) if you trust it."
            if root.suffix in (".pkl", ".pickle")
            else ""
        )
        raise artifact_error(
            root, "not an alsrec artifact: an artifact is a directory, this is a file." + hint
        ) from None
    except OSError as exc:
        raise artifact_error(root, f"cannot be opened ({exc.strerror or exc}).") from exc


def _parse_manifest(mpath: Path, data: bytes, *, any_version: bool = False) -> dict[str, Any]:
    """Parse and check manifest bytes (the format name, and the version unless
    ``any_version``)."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise artifact_error(
            mpath, "unreadable manifest (nested too deeply); the artifact is damaged."
        ) from None
    except (UnicodeDecodeError, ValueError, MemoryError) as exc:
        raise artifact_error(
            mpath, f"unreadable manifest ({exc}); the artifact is damaged."
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise artifact_error(
            mpath,
            f'not an alsrec artifact manifest (expected "format": "{FORMAT_NAME}").',
        )
    version = manifest.get("format_version")
    if any_version:
        return manifest
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise artifact_error(
            mpath,
            f"invalid format_version {version!r}; expected an integer from 1 to "
            f"{FORMAT_VERSION}. The artifact is damaged.",
        )
    if version > FORMAT_VERSION:
        writer = manifest.get("alsrec_version", "a newer alsrec")
        raise artifact_error(
            mpath,
            f"format version {version} (written by alsrec {writer}) is newer than this "
            f"alsrec {__version__} can read (up to version {FORMAT_VERSION}). Upgrade alsrec "
            "(pip install --upgrade alsrec) to load it.",
        )
    return manifest


def _read_manifest_in(handle: ArtifactDir, *, any_version: bool = False) -> dict[str, Any]:
    """Read the manifest through ``handle``: at most :data:`MAX_MANIFEST_BYTES`."""
    root = handle.path
    mpath = root / MANIFEST
    fd = handle.open(MANIFEST)
    if fd is None:
        raise artifact_error(
            root,
            f"not an alsrec artifact: it has no {MANIFEST}. Save a model there with "
            "Recommender.save(path) first.",
        )
    try:
        size = os.fstat(fd).st_size
        if size > MAX_MANIFEST_BYTES:
            raise artifact_error(
                mpath,
                f"is {size:,} bytes, more than any alsrec manifest (at most "
                f"{MAX_MANIFEST_BYTES:,}); the artifact is damaged or not an alsrec artifact.",
            )
        data = read_at(fd, 0, size + 1)  # a file growing meanwhile stops at the check below
    except OSError as exc:
        raise artifact_error(
            mpath, f"unreadable manifest ({exc}); the artifact is damaged."
        ) from exc
    finally:
        os.close(fd)
    if len(data) > MAX_MANIFEST_BYTES:
        raise artifact_error(
            mpath, f"is more than {MAX_MANIFEST_BYTES:,} bytes; the artifact is damaged."
        )
    return _parse_manifest(mpath, data, any_version=any_version)


def artifact_refusal(path: Path) -> str | None:
    """Why ``path`` is not an alsrec artifact directory (of any format version), or ``None``."""
    try:
        with ArtifactDir(path) as handle:
            _read_manifest_in(handle, any_version=True)
    except ArtifactError as exc:
        return str(exc)
    except Swapped:
        return f"{path}: was replaced while being read."
    except OSError as exc:
        return f"{path}: cannot be opened ({exc.strerror or exc})."
    return None


def is_artifact(path: Path) -> bool:
    """Whether ``path`` is an alsrec artifact directory (of any format version)."""
    return artifact_refusal(path) is None


def manifest_digest(manifest: dict[str, Any]) -> str:
    """The SHA-256 of the manifest's content, without its :data:`MANIFEST_DIGEST` entry.

    The content is hashed in a canonical JSON form (sorted keys, no whitespace, ASCII), so
    the digest depends on the values, not on how the file is laid out.
    """
    content = {k: v for k, v in manifest.items() if k != MANIFEST_DIGEST}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def check_manifest_digest(mpath: Path, manifest: dict[str, Any]) -> None:
    """Refuse a manifest whose content differs from its :data:`MANIFEST_DIGEST` entry.

    A manifest without the entry (written before alsrec recorded it) passes.
    """
    if MANIFEST_DIGEST not in manifest:
        return
    stored = manifest[MANIFEST_DIGEST]
    try:
        digest = manifest_digest(manifest)
    except (TypeError, ValueError, RecursionError) as exc:  # pragma: no cover - parsed JSON
        raise artifact_error(
            mpath, f"unreadable manifest ({exc}); the artifact is damaged."
        ) from exc
    if stored != digest:
        shown = f"{stored[:16]}..." if isinstance(stored, str) else repr(stored)[:40]
        raise artifact_error(
            mpath,
            f"checksum mismatch (SHA-256 of its content {digest[:16]}..., recorded "
            f"{shown}): the manifest changed after it was saved. Restore it from a good copy "
            "or save the model again.",
        )


def fallback_problem(
    popularity: npt.NDArray[Any], order: npt.NDArray[Any], n_items: int
) -> tuple[str, str] | None:
    """``(file name, problem)`` when the fallback arrays are inconsistent, else ``None``.

    ``popular_order`` must be a permutation of the ``n_items`` item indices that ranks
    ``popularity`` (finite and non-negative) from most to least popular.
    """
    if order.shape != (n_items,) or (
        order.size
        and (
            int(order.min()) < 0
            or int(order.max()) >= n_items
            or np.any(np.bincount(order, minlength=n_items) != 1)
        )
    ):
        return "popular_order.npy", "is not a permutation of the item indices."
    if popularity.shape != (n_items,):
        return "popularity.npy", f"has shape {popularity.shape} for {n_items} items."
    if not np.isfinite(popularity).all():
        return "popularity.npy", "contains NaN or infinity."
    negative = int(np.count_nonzero(popularity < 0))
    if negative:
        return "popularity.npy", f"holds {negative} negative values; popularity is >= 0."
    ranked = popularity[order]
    if np.any(ranked[1:] > ranked[:-1]):
        return (
            "popular_order.npy",
            "does not rank the items from most to least popular (by popularity.npy).",
        )
    return None


def read_manifest(path: PathArg) -> dict[str, Any]:
    """Read and check the manifest of the artifact directory ``path``.

    Returns the parsed ``manifest.json`` after checking that it describes an alsrec
    artifact in a format version this alsrec can read. A manifest larger than
    :data:`MAX_MANIFEST_BYTES`, nested too deeply to parse, or reached through a symbolic
    link is refused without reading it whole.

    Raises
    ------
    ArtifactError
        If ``path`` is not an artifact directory, the manifest is missing or malformed,
        or it was written in a newer format (then upgrade alsrec).
    """
    root = as_path(path)
    for _ in range(_ATTEMPTS):
        with _open_dir(root) as handle:
            try:
                return _read_manifest_in(handle)
            except Swapped:
                continue
    raise _replaced(root)


def _replaced(root: Path) -> ArtifactError:
    return artifact_error(
        root,
        f"was replaced by other saves {_ATTEMPTS} times while being read; load it again "
        "when the saves are done.",
    )


_FLOAT = ("f4",)
_INT64 = ("i8",)
_ID = ("i8", "U")
_INDEX = ("i4", "i8")
ARRAY_SPECS: dict[str, tuple[int, tuple[str, ...]]] = {
    "user_factors": (2, _FLOAT),
    "item_factors": (2, _FLOAT),
    "user_ids": (1, _ID),
    "item_ids": (1, _ID),
    "popularity": (1, _FLOAT),
    "popular_order": (1, _INT64),
    "seen_indptr": (1, _INDEX),
    "seen_indices": (1, _INDEX),
    "seen_data": (1, _FLOAT),
}
"""The number of dimensions and the allowed dtypes of each array file of an artifact."""
_SEEN = ("seen_indptr", "seen_indices", "seen_data")
_MMAPPED = ("user_factors", "item_factors")


@dataclass(frozen=True)
class _ArrayFile:
    """One opened array file with its checked header."""

    path: Path
    fd: int
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    offset: int
    sha256: str


class _Checksums:
    """SHA-256 of the array files, computed in background threads while loading goes on.

    Hashing releases the GIL, so on a multi-core machine verification overlaps with the
    rest of the load instead of adding to it. The files are read through their open
    descriptors (``pread``), so they are the very files being loaded. :meth:`finish` waits
    and raises :class:`~alsrec.ArtifactError` for the first file whose digest differs.
    """

    def __init__(self, files: list[_ArrayFile]) -> None:
        workers = max(1, min(len(files), os.cpu_count() or 1, 4))
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="alsrec-sha256")
        # Largest files first, so the longest job starts at once.
        ordered = sorted(files, key=lambda f: -os.fstat(f.fd).st_size)
        self._jobs = [(f, self._pool.submit(file_sha256, f.fd)) for f in ordered]
        if not hasattr(os, "pread"):  # pragma: no cover - no positional reads: hash first
            for _, job in self._jobs:
                job.exception()
        self._done = False

    def finish(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            for file, job in sorted(self._jobs, key=lambda j: j[0].path.name):
                try:
                    digest = job.result()
                except OSError as exc:
                    raise artifact_error(file.path, f"cannot be read ({exc}).") from exc
                if digest != file.sha256:
                    raise artifact_error(
                        file.path,
                        f"checksum mismatch (SHA-256 {digest[:16]}..., manifest "
                        f"{file.sha256[:16]}...): the file changed after it was saved. Restore "
                        "it from a good copy or save the model again.",
                    )
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class RawArtifact:
    """The checked files of an open artifact, before they become a model."""

    path: Path
    manifest: dict[str, Any]
    arrays: dict[str, npt.NDArray[Any]]
    user_ranges: tuple[tuple[int, int], ...]
    item_ranges: tuple[tuple[int, int], ...]
    checksums: _Checksums | None
    fds: tuple[int, ...] = ()

    def finish(self) -> None:
        """Wait for the checksums (if verifying) and close the files; raise on a mismatch."""
        try:
            if self.checksums is not None:
                self.checksums.finish()
        finally:
            _close_all(self.fds)


def _close_all(fds: Iterable[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _dtype_code(dtype: np.dtype[Any]) -> str:
    return "U" if dtype.kind == "U" else f"{dtype.kind}{dtype.itemsize}"


_HEADER_ERRORS = (
    ValueError,
    OSError,
    SyntaxError,
    TypeError,
    KeyError,
    tokenize.TokenError,
    RecursionError,
    MemoryError,
)


def _read_header(fpath: Path, fd: int) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
    """Parse a ``.npy`` header read through ``fd``, reading at most :data:`_MAX_HEADER` bytes."""
    prefix = read_at(fd, 0, 12)
    if len(prefix) < 10 or prefix[:6] != b"\x93NUMPY" or prefix[6] not in (1, 2):
        raise artifact_error(
            fpath, "not a readable .npy array file (no .npy version 1 or 2 header)."
        )
    start = 10 if prefix[6] == 1 else 12
    length = int.from_bytes(prefix[8:start], "little")
    if length > _MAX_HEADER:
        raise artifact_error(fpath, f"not a readable .npy array file (a {length:,}-byte header).")
    raw = read_at(fd, 0, start + length)
    try:
        fh = io.BytesIO(raw)
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh, _MAX_HEADER)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh, _MAX_HEADER)
        dims = tuple(operator.index(s) for s in shape)
    except _HEADER_ERRORS as exc:
        raise artifact_error(fpath, f"not a readable .npy array file ({exc}).") from None
    if any(d < 0 for d in dims):
        raise artifact_error(fpath, f"not a readable .npy array file (shape {dims}).")
    return dims, bool(fortran), dtype, fh.tell()


def _check_array_file(fpath: Path, fd: int, name: str, entry: object) -> _ArrayFile:
    """Check one array file's header and size against its manifest entry (no data read)."""
    mpath = fpath.parent / MANIFEST
    ndim, allowed = ARRAY_SPECS[name]
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("dtype"), str)
        or not isinstance(entry.get("sha256"), str)
        or not isinstance(entry.get("shape"), list)
    ):
        raise artifact_error(mpath, f"the entry for {name!r} lacks a valid dtype, shape or sha256.")
    shape, fortran, dtype, offset = _read_header(fpath, fd)
    actual = os.fstat(fd).st_size
    if dtype.hasobject:
        raise artifact_error(
            fpath,
            f"holds an object array (dtype {dtype}); alsrec never unpickles array "
            "contents. The artifact was not written by alsrec or was tampered with.",
        )
    if fortran:
        raise artifact_error(fpath, "holds a Fortran-ordered array; alsrec writes C order only.")
    described = np.lib.format.dtype_to_descr(dtype)
    if described != entry["dtype"] or list(shape) != entry["shape"]:
        raise artifact_error(
            fpath,
            f"holds a {described} array of shape {shape}, but the manifest says "
            f"{entry['dtype']} of shape {tuple(entry['shape'])}; the files disagree.",
        )
    if len(shape) != ndim or _dtype_code(dtype) not in allowed:
        raise artifact_error(
            fpath,
            f"expected a {ndim}-d array of {' or '.join(allowed)}, found {described} "
            f"of shape {shape}.",
        )
    if dtype.kind == "U" and dtype.itemsize // 4 > MAX_ID_WIDTH:
        raise artifact_error(
            fpath, f"holds IDs {dtype.itemsize // 4:,} characters wide (at most {MAX_ID_WIDTH:,})."
        )
    expected = offset + math.prod(shape) * dtype.itemsize
    if actual < expected:
        raise artifact_error(
            fpath,
            f"truncated: {actual} bytes, but a {described} array of shape {shape} needs "
            f"{expected}. The artifact is damaged; save it again.",
        )
    if actual > expected:
        raise artifact_error(fpath, f"{actual - expected} unexpected bytes after the array data.")
    return _ArrayFile(fpath, fd, shape, dtype, offset, str(entry["sha256"]))


def _count(mpath: Path, info: dict[str, Any], where: str, key: str) -> int:
    value = info.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise artifact_error(mpath, f"{where}.{key} is {value!r}, not a count.")
    return value


def _expected_shapes(mpath: Path, manifest: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The shape of every array as the manifest's counts describe it."""
    counts: dict[str, tuple[int, int]] = {}
    for axis in ("users", "items"):
        info = manifest[axis]
        if not isinstance(info, dict):
            raise artifact_error(mpath, f"the {axis!r} entry is missing or not an object.")
        rows = _count(mpath, info, axis, "factor_rows")
        counts[axis] = (_count(mpath, info, axis, "count"), rows)
    factors = _count(mpath, manifest, "manifest", "factors")
    (n_users, user_rows), (n_items, item_rows) = counts["users"], counts["items"]
    shapes: dict[str, tuple[int, ...]] = {
        "user_factors": (user_rows, factors),
        "item_factors": (item_rows, factors),
        "user_ids": (n_users,),
        "item_ids": (n_items,),
        "popularity": (n_items,),
        "popular_order": (n_items,),
    }
    seen = manifest["seen"]
    if seen is not None:
        if not isinstance(seen, dict) or seen.get("shape") != [n_users, n_items]:
            raise artifact_error(
                mpath,
                f"the 'seen' entry {seen!r} does not match {n_users} users x {n_items} items.",
            )
        nnz = _count(mpath, seen, "seen", "nnz")
        shapes.update(seen_indptr=(n_users + 1,), seen_indices=(nnz,), seen_data=(nnz,))
    return shapes


def _check_layout(root: Path, manifest: dict[str, Any], files: dict[str, _ArrayFile]) -> None:
    """Cross-check every header against the manifest's counts, before any data is read."""
    want = _expected_shapes(root / MANIFEST, manifest)
    shape = {n: f.shape for n, f in files.items()}
    if shape["user_factors"][1] != shape["item_factors"][1]:
        raise artifact_error(
            files["item_factors"].path,
            f"has {shape['item_factors'][1]} factor columns but user_factors.npy has "
            f"{shape['user_factors'][1]}.",
        )
    for axis, name in (("users", "user_ids"), ("items", "item_ids")):
        info = manifest[axis]
        kind = "str" if files[name].dtype.kind == "U" else "int"
        if info.get("kind") != kind or shape[name] != want[name]:
            raise artifact_error(
                files[name].path,
                f"holds {shape[name][0]} {kind} IDs but the manifest's {axis!r} entry says "
                f"{info!r}.",
            )
    for name in ("popularity", "popular_order"):
        if shape[name] != want[name]:
            raise artifact_error(
                files[name].path,
                f"has {shape[name][0]} entries for {want[name][0]} mapped items.",
            )
    if "seen_indptr" in want and shape["seen_indptr"] != want["seen_indptr"]:
        n_users = want["user_ids"][0]
        raise artifact_error(
            files["seen_indptr"].path,
            f"has {shape['seen_indptr'][0]} entries for {n_users} users (expected {n_users + 1}).",
        )
    for name, expected in want.items():
        if shape[name] != expected:
            raise artifact_error(
                files[name].path,
                f"holds an array of shape {shape[name]}, but the manifest's counts describe "
                f"{expected}; the files disagree. The artifact is damaged or was tampered with.",
            )


def _read_array(file: _ArrayFile, *, mmap: bool) -> npt.NDArray[Any]:
    """The array's data, read (or memory-mapped) through its open descriptor."""
    count = math.prod(file.shape)
    try:
        if mmap and count:
            with open(file.fd, "rb", buffering=0, closefd=False) as fh:
                return np.memmap(fh, file.dtype, "r", file.offset, file.shape, order="C")
        arr = np.empty(file.shape, dtype=file.dtype)
        view = memoryview(cast("bytearray", arr.reshape(-1).view(np.uint8)))
        got = 0
        with open(file.fd, "rb", buffering=0, closefd=False) as fh:
            fh.seek(file.offset)
            while got < len(view):
                n = fh.readinto(view[got:])
                if not n:
                    raise artifact_error(
                        file.path, "truncated while being read; the artifact is damaged."
                    )
                got += n
    except (OSError, ValueError) as exc:
        raise artifact_error(file.path, f"cannot be read as an array ({exc}).") from exc
    return arr


def _manifest_ranges(
    mpath: Path, axis: str, info: object, rows: int, mapped: int
) -> tuple[tuple[int, int], ...]:
    if not isinstance(info, dict):
        raise artifact_error(mpath, f"the {axis!r} entry is missing or not an object.")
    raw = info.get("unmapped_ranges", [])
    try:
        ranges = tuple((int(a), int(b)) for a, b in raw)
    except (TypeError, ValueError) as exc:
        raise artifact_error(mpath, f"{axis}.unmapped_ranges is malformed ({exc}).") from exc
    total = sum(b - a + 1 for a, b in ranges)
    ordered = all(0 <= a <= b < rows for a, b in ranges) and all(
        ranges[i][1] < ranges[i + 1][0] for i in range(len(ranges) - 1)
    )
    if not ordered or total != max(0, rows - mapped):
        raise artifact_error(
            mpath,
            f"{axis}.unmapped_ranges {raw!r} does not describe the {max(0, rows - mapped)} "
            f"unmapped rows of {rows}.",
        )
    return ranges


def _array_names(mpath: Path, manifest: dict[str, Any]) -> list[str]:
    """The arrays the manifest lists, after checking its top-level entries."""
    entries = manifest.get("arrays")
    if not isinstance(entries, dict):
        raise artifact_error(mpath, "lacks the 'arrays' table.")
    for key in ("params", "backend", "users", "items", "seen", "factors"):
        if key not in manifest:
            raise artifact_error(mpath, f"lacks the {key!r} entry.")
    has_seen = manifest["seen"] is not None
    listed = [n for n in _SEEN if n in entries]
    if not has_seen and listed:
        raise artifact_error(
            mpath,
            f"says the model has no seen items ('seen': null) but lists {', '.join(listed)}; "
            "the artifact is damaged or was edited.",
        )
    names = [n for n in ARRAY_SPECS if has_seen or n not in _SEEN]
    missing = [n for n in names if n not in entries]
    if missing:
        raise artifact_error(mpath, f"lists no entry for {', '.join(missing)}.")
    return names


def _open_members(handle: ArtifactDir) -> tuple[dict[str, Any], dict[str, int]]:
    """Read the manifest and open every array file it lists, all through ``handle``."""
    manifest = _read_manifest_in(handle)
    names = _array_names(handle.path / MANIFEST, manifest)
    fds: dict[str, int] = {}
    try:
        for name in names:
            fd = handle.open(f"{name}.npy")
            if fd is None:
                raise artifact_error(
                    handle.path / f"{name}.npy",
                    "missing array file; the artifact is incomplete. Save it again.",
                )
            fds[name] = fd
    except BaseException:
        _close_all(fds.values())
        raise
    return manifest, fds


def _open_consistent(root: Path) -> tuple[Path, dict[str, Any], dict[str, int]]:
    """Open one artifact's manifest and arrays, retrying when a concurrent save swapped it.

    When ``root`` is missing but an interrupted save kept the previous version next to it,
    that version is opened instead, with an :class:`~alsrec.AlsrecWarning`.
    """
    for attempt in range(_ATTEMPTS):
        try:
            handle = _open_dir(root)
        except ArtifactError:
            if os.path.lexists(root):
                raise
            if attempt < 2:  # a save without an atomic exchange may be between renames
                time.sleep(0.01)
                continue
            kept = _old_copies(root)
            if not kept:
                raise
            warnings.warn(
                f"{root} is missing because a save was interrupted; loading the previous "
                f"version kept at {kept[0]}. Save the model again (or rename that directory "
                "back) to repair it.",
                AlsrecWarning,
                stacklevel=4,
            )
            handle = _open_dir(kept[0])
        with handle:
            try:
                manifest, fds = _open_members(handle)
            except Swapped:
                continue
        return handle.path, manifest, fds
    raise _replaced(root)


def open_artifact(root: Path, *, mmap: bool, verify: bool) -> RawArtifact:
    """Read and check the files of an artifact (structure, sizes, shapes; checksums started).

    Every file is opened through one handle on the directory, so a concurrent save over
    ``root`` never mixes two artifacts. All headers are checked against the manifest and
    each other before any data is read. The caller must call :meth:`RawArtifact.finish`
    (also when it fails later: a damaged file explains a failure best, so a checksum error
    takes precedence).
    """
    root, manifest, fds = _open_consistent(root)
    checksums: _Checksums | None = None
    try:
        entries = manifest["arrays"]
        files = {
            n: _check_array_file(root / f"{n}.npy", fd, n, entries[n]) for n, fd in fds.items()
        }
        _check_layout(root, manifest, files)
        checksums = _Checksums(list(files.values())) if verify else None
        arrays = {n: _read_array(f, mmap=mmap and n in _MMAPPED) for n, f in files.items()}
        user_ranges, item_ranges = _check_consistency(root, manifest, arrays)
    except BaseException:
        try:
            if checksums is not None:
                checksums.finish()
        finally:
            _close_all(fds.values())
        raise
    return RawArtifact(
        root, manifest, arrays, user_ranges, item_ranges, checksums, tuple(fds.values())
    )


def _check_consistency(
    root: Path, manifest: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]
) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """Check the values the shapes cannot: the seen matrix, the unmapped ranges."""
    mpath = root / MANIFEST
    n_users, n_items = int(arrays["user_ids"].size), int(arrays["item_ids"].size)
    if "seen_indptr" in arrays:
        _check_seen(root, arrays, n_users, n_items)
    uf, itf = arrays["user_factors"], arrays["item_factors"]
    user_ranges = _manifest_ranges(mpath, "users", manifest["users"], uf.shape[0], n_users)
    item_ranges = _manifest_ranges(mpath, "items", manifest["items"], itf.shape[0], n_items)
    return user_ranges, item_ranges


def _check_seen(
    root: Path, arrays: dict[str, npt.NDArray[Any]], n_users: int, n_items: int
) -> None:
    indptr, indices, data = (arrays[n] for n in _SEEN)
    if indptr[0] != 0 or indptr[-1] != indices.size or np.any(np.diff(indptr) < 0):
        raise artifact_error(
            root / "seen_indptr.npy",
            "is not a valid CSR row pointer (not increasing from 0 to nnz).",
        )
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= n_items):
        raise artifact_error(
            root / "seen_indices.npy", f"holds item indices outside 0..{n_items - 1}."
        )
    problem = seen_weights_problem(data)
    if problem is not None:
        raise artifact_error(
            root / "seen_data.npy",
            f"holds {problem}; interaction weights are finite and positive. The artifact is "
            "damaged: save the model again.",
        )


def artifact_mapper(root: Path, name: str, ids: npt.NDArray[Any]) -> IdMapper:
    """The :class:`~alsrec.IdMapper` of a stored ID array; invalid IDs are an artifact error."""
    try:
        return IdMapper(ids)
    except DataError as exc:
        raise artifact_error(root / f"{name}.npy", f"invalid IDs: {exc}") from exc


def manifest_auto_params(root: Path, manifest: dict[str, Any]) -> tuple[str, ...]:
    """The manifest's ``auto_params``: hyperparameter names resolved from ``"auto"``."""
    value = manifest.get("auto_params", [])
    params = manifest.get("params")
    known = set(params) if isinstance(params, dict) else set()
    if not isinstance(value, list) or not all(isinstance(v, str) and v in known for v in value):
        raise artifact_error(
            root / MANIFEST,
            f"invalid 'auto_params' {value!r}; expected a list of hyperparameter names.",
        )
    return tuple(value)
