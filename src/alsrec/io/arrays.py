"""Opening an artifact and reading its array files, checked before any data is trusted.

:func:`open_artifact` opens the manifest and every array file it lists through one handle
on the directory (again, up to :data:`~alsrec.io.format.OPEN_ATTEMPTS` times, when a
concurrent save swaps the directory away), checks every ``.npy`` header against the
manifest and the other headers before reading any data, reads the arrays (memory-mapping
the factor matrices), verifies the SHA-256 checksums in background threads, and checks the
values the shapes cannot (the seen matrix, the unmapped ranges). The layout and the
manifest themselves are :mod:`alsrec.io.format`'s.
"""

from __future__ import annotations

import contextlib
import io
import math
import operator
import os
import time
import tokenize
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from alsrec.exceptions import AlsrecWarning, ArtifactError
from alsrec.io._files import ArtifactDir, Swapped, file_sha256, read_at
from alsrec.io.format import (
    ARRAY_SPECS,
    MANIFEST,
    MAX_ID_WIDTH,
    OPEN_ATTEMPTS,
    artifact_error,
    old_copies,
    open_artifact_dir,
    read_manifest_in,
    replaced_error,
)
from alsrec.model.fitted import seen_weights_problem

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["RawArtifact", "open_artifact"]

_MAX_HEADER = 1 << 16  # bytes of a .npy header; alsrec writes about 128
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
    manifest = read_manifest_in(handle)
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
    for attempt in range(OPEN_ATTEMPTS):
        try:
            handle = open_artifact_dir(root)
        except ArtifactError:
            if os.path.lexists(root):
                raise
            if attempt < 2:  # a save without an atomic exchange may be between renames
                time.sleep(0.01)
                continue
            kept = old_copies(root)
            if not kept:
                raise
            warnings.warn(
                f"{root} is missing because a save was interrupted; loading the previous "
                f"version kept at {kept[0]}. Save the model again (or rename that directory "
                "back) to repair it.",
                AlsrecWarning,
                stacklevel=4,
            )
            handle = open_artifact_dir(kept[0])
        with handle:
            try:
                manifest, fds = _open_members(handle)
            except Swapped:
                continue
        return handle.path, manifest, fds
    raise replaced_error(root)


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
