"""The artifact format: constants, the manifest, and the checked reading of array files.

An artifact is a directory that holds only data, never code::

    model/
      manifest.json          format version, alsrec version, hyperparameters, backend,
                             dtype, shapes, ID kinds, SHA-256 of every array file, creation time;
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

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from alsrec._version import __version__
from alsrec.exceptions import (
    ArtifactError,
    DataError,
)
from alsrec.mapping import IdMapper

if TYPE_CHECKING:
    from alsrec.types import ExternalId, IndexArray

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "MANIFEST", "PathArg", "read_manifest"]

PathArg = str | os.PathLike[str]
"""A filesystem path: ``str`` or any ``os.PathLike`` (e.g. :class:`pathlib.Path`)."""

FORMAT_VERSION = 1
"""The artifact format this alsrec writes; it reads every version up to this one."""

FORMAT_NAME = "alsrec-model"
MANIFEST = "manifest.json"
_SHOWN = 5
_HASH_CHUNK = 1 << 20


def _python_id(value: object) -> ExternalId:
    return cast("ExternalId", value.item() if isinstance(value, np.generic) else value)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _ranges(indices: IndexArray) -> tuple[tuple[int, int], ...]:
    """Inclusive ``(first, last)`` runs of consecutive values of a sorted index array."""
    if indices.size == 0:
        return ()
    breaks = np.flatnonzero(np.diff(indices) != 1)
    firsts = np.concatenate((indices[:1], indices[breaks + 1]))
    lasts = np.concatenate((indices[breaks], indices[-1:]))
    return tuple(zip(firsts.tolist(), lasts.tolist(), strict=True))


def _format_ranges(ranges: tuple[tuple[int, int], ...], limit: int = _SHOWN) -> str:
    parts = [str(a) if a == b else f"{a}..{b}" for a, b in ranges[:limit]]
    if len(ranges) > limit:
        parts.append(f"... ({len(ranges)} ranges)")
    return ", ".join(parts)


def _fail(path: Path, problem: str) -> ArtifactError:
    return ArtifactError(f"{path}: {problem}")


def _stale_hint(path: Path) -> str:
    leftovers = sorted(path.parent.glob(f".{path.name}.old-*")) if path.parent.is_dir() else []
    if leftovers:
        return (
            f" A previous version of it is kept at {leftovers[-1]} (a save was interrupted);"
            " rename it back to use it."
        )
    return ""


def read_manifest(path: PathArg) -> dict[str, Any]:
    """Read and check the manifest of the artifact directory ``path``.

    Returns the parsed ``manifest.json`` after checking that it describes an alsrec
    artifact in a format version this alsrec can read.

    Raises
    ------
    ArtifactError
        If ``path`` is not an artifact directory, the manifest is missing or malformed,
        or it was written in a newer format (then upgrade alsrec).
    """
    root = Path(path)
    if not root.exists():
        raise _fail(
            root,
            "no such artifact directory; save a model there with rec.save(path) or "
            "'alsrec train ... -o DIR'." + _stale_hint(root),
        )
    if not root.is_dir():
        hint = (
            " It looks like a pickle: import it once with "
            "Recommender.from_legacy_pickle(path, trusted=True) if you trust it."
            if root.suffix in (".pkl", ".pickle")
            else ""
        )
        raise _fail(
            root, "not an alsrec artifact: an artifact is a directory, this is a file." + hint
        )
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise _fail(
            root,
            f"not an alsrec artifact: it has no {MANIFEST}. Save a model there with "
            "Recommender.save(path) first.",
        )
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _fail(mpath, f"unreadable manifest ({exc}); the artifact is damaged.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise _fail(
            mpath,
            f'not an alsrec artifact manifest (expected "format": "{FORMAT_NAME}").',
        )
    version = manifest.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _fail(
            mpath,
            f"invalid format_version {version!r}; expected an integer from 1 to "
            f"{FORMAT_VERSION}. The artifact is damaged.",
        )
    if version > FORMAT_VERSION:
        writer = manifest.get("alsrec_version", "a newer alsrec")
        raise _fail(
            mpath,
            f"format version {version} (written by alsrec {writer}) is newer than this "
            f"alsrec {__version__} can read (up to version {FORMAT_VERSION}). Upgrade alsrec "
            "(pip install --upgrade alsrec) to load it.",
        )
    return manifest


_FLOAT = ("f4",)
_INT64 = ("i8",)
_ID = ("i8", "U")
_INDEX = ("i4", "i8")
_SPECS: dict[str, tuple[int, tuple[str, ...]]] = {
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
_SEEN = ("seen_indptr", "seen_indices", "seen_data")
_MMAPPED = ("user_factors", "item_factors")


class _Checksums:
    """SHA-256 of the array files, computed in background threads while loading goes on.

    Hashing releases the GIL, so on a multi-core machine verification overlaps with the
    rest of the load instead of adding to it. :meth:`finish` waits and raises
    :class:`~alsrec.ArtifactError` for the first file whose digest differs.
    """

    def __init__(self, files: list[tuple[Path, str]]) -> None:
        workers = max(1, min(len(files), os.cpu_count() or 1, 4))
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="alsrec-sha256")
        # Largest files first, so the longest job starts at once.
        ordered = sorted(files, key=lambda f: -f[0].stat().st_size)
        self._jobs = [(path, want, self._pool.submit(_file_sha256, path)) for path, want in ordered]
        self._done = False

    def finish(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            for path, want, job in sorted(self._jobs, key=lambda j: j[0].name):
                try:
                    digest = job.result()
                except OSError as exc:
                    raise _fail(path, f"cannot be read ({exc}).") from exc
                if digest != want:
                    raise _fail(
                        path,
                        f"checksum mismatch (SHA-256 {digest[:16]}..., manifest "
                        f"{want[:16]}...): the file changed after it was saved. Restore it "
                        "from a good copy or save the model again.",
                    )
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class _RawArtifact:
    path: Path
    manifest: dict[str, Any]
    arrays: dict[str, npt.NDArray[Any]]
    user_ranges: tuple[tuple[int, int], ...]
    item_ranges: tuple[tuple[int, int], ...]
    checksums: _Checksums | None

    def finish(self) -> None:
        """Wait for the checksums (if verifying); raise on a mismatch."""
        if self.checksums is not None:
            self.checksums.finish()


def _dtype_code(dtype: np.dtype[Any]) -> str:
    return "U" if dtype.kind == "U" else f"{dtype.kind}{dtype.itemsize}"


def _read_header(fpath: Path, fh: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, OSError, SyntaxError) as exc:
        raise _fail(fpath, f"not a readable .npy array file ({exc}).") from exc
    return tuple(int(s) for s in shape), bool(fortran), dtype, fh.tell()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    view = memoryview(bytearray(_HASH_CHUNK))
    with path.open("rb", buffering=0) as fh:
        while True:
            n = fh.readinto(view)
            if not n:
                break
            digest.update(view[:n])
    return digest.hexdigest()


def _check_array_file(root: Path, name: str, entry: object) -> Path:
    """Check one array file's header and size against the manifest; return its path."""
    fpath = root / f"{name}.npy"
    mpath = root / MANIFEST
    ndim, allowed = _SPECS[name]
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("dtype"), str)
        or not isinstance(entry.get("sha256"), str)
        or not isinstance(entry.get("shape"), list)
    ):
        raise _fail(mpath, f"the entry for {name!r} lacks a valid dtype, shape or sha256.")
    if not fpath.is_file():
        raise _fail(fpath, "missing array file; the artifact is incomplete. Save it again.")
    with fpath.open("rb") as fh:
        shape, fortran, dtype, offset = _read_header(fpath, fh)
        actual = os.fstat(fh.fileno()).st_size
    if dtype.hasobject:
        raise _fail(
            fpath,
            f"holds an object array (dtype {dtype}); alsrec never unpickles array "
            "contents. The artifact was not written by alsrec or was tampered with.",
        )
    if fortran:
        raise _fail(fpath, "holds a Fortran-ordered array; alsrec writes C order only.")
    described = np.lib.format.dtype_to_descr(dtype)
    if described != entry["dtype"] or list(shape) != entry["shape"]:
        raise _fail(
            fpath,
            f"holds a {described} array of shape {shape}, but the manifest says "
            f"{entry['dtype']} of shape {tuple(entry['shape'])}; the files disagree.",
        )
    if len(shape) != ndim or _dtype_code(dtype) not in allowed:
        raise _fail(
            fpath,
            f"expected a {ndim}-d array of {' or '.join(allowed)}, found {described} "
            f"of shape {shape}.",
        )
    expected = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if actual < expected:
        raise _fail(
            fpath,
            f"truncated: {actual} bytes, but a {described} array of shape {shape} needs "
            f"{expected}. The artifact is damaged; save it again.",
        )
    if actual > expected:
        raise _fail(fpath, f"{actual - expected} unexpected bytes after the array data.")
    return fpath


def _load_array(fpath: Path, name: str, *, mmap: bool) -> npt.NDArray[Any]:
    try:
        arr = np.load(
            fpath, mmap_mode="r" if mmap and name in _MMAPPED else None, allow_pickle=False
        )
    except (ValueError, OSError, EOFError) as exc:
        raise _fail(fpath, f"cannot be read as an array ({exc}).") from exc
    return cast("npt.NDArray[Any]", arr)


def _manifest_ranges(
    mpath: Path, axis: str, info: object, rows: int, mapped: int
) -> tuple[tuple[int, int], ...]:
    if not isinstance(info, dict):
        raise _fail(mpath, f"the {axis!r} entry is missing or not an object.")
    raw = info.get("unmapped_ranges", [])
    try:
        ranges = tuple((int(a), int(b)) for a, b in raw)
    except (TypeError, ValueError) as exc:
        raise _fail(mpath, f"{axis}.unmapped_ranges is malformed ({exc}).") from exc
    total = sum(b - a + 1 for a, b in ranges)
    ordered = all(0 <= a <= b < rows for a, b in ranges) and all(
        ranges[i][1] < ranges[i + 1][0] for i in range(len(ranges) - 1)
    )
    if not ordered or total != max(0, rows - mapped):
        raise _fail(
            mpath,
            f"{axis}.unmapped_ranges {raw!r} does not describe the {max(0, rows - mapped)} "
            f"unmapped rows of {rows}.",
        )
    return ranges


def _open_artifact(root: Path, *, mmap: bool, verify: bool) -> _RawArtifact:
    """Read and check the files of an artifact (structure, sizes, shapes; checksums started).

    The caller must call :meth:`_RawArtifact.finish` (also when it fails later: a damaged
    file explains a failure best, so a checksum error takes precedence).
    """
    manifest = read_manifest(root)
    mpath = root / MANIFEST
    entries = manifest.get("arrays")
    if not isinstance(entries, dict):
        raise _fail(mpath, "lacks the 'arrays' table.")
    for key in ("params", "backend", "users", "items"):
        if key not in manifest:
            raise _fail(mpath, f"lacks the {key!r} entry.")
    has_seen = manifest.get("seen") is not None
    names = [n for n in _SPECS if has_seen or n not in _SEEN]
    missing = [n for n in names if n not in entries]
    if missing:
        raise _fail(mpath, f"lists no entry for {', '.join(missing)}.")
    files = {n: _check_array_file(root, n, entries[n]) for n in names}
    checksums = (
        _Checksums([(files[n], str(entries[n]["sha256"])) for n in names]) if verify else None
    )
    try:
        arrays = {n: _load_array(files[n], n, mmap=mmap) for n in names}
        user_ranges, item_ranges = _check_consistency(root, manifest, arrays, has_seen)
    except BaseException:
        if checksums is not None:
            checksums.finish()
        raise
    return _RawArtifact(root, manifest, arrays, user_ranges, item_ranges, checksums)


def _check_consistency(
    root: Path, manifest: dict[str, Any], arrays: dict[str, npt.NDArray[Any]], has_seen: bool
) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    mpath = root / MANIFEST
    uf, itf = arrays["user_factors"], arrays["item_factors"]
    if uf.shape[1] != itf.shape[1]:
        raise _fail(
            root / "item_factors.npy",
            f"has {itf.shape[1]} factor columns but user_factors.npy has {uf.shape[1]}.",
        )
    for axis, ids_name in (("users", "user_ids"), ("items", "item_ids")):
        info = manifest[axis]
        ids = arrays[ids_name]
        kind = "str" if ids.dtype.kind == "U" else "int"
        if not isinstance(info, dict) or info.get("kind") != kind or info.get("count") != ids.size:
            raise _fail(
                root / f"{ids_name}.npy",
                f"holds {ids.size} {kind} IDs but the manifest's {axis!r} entry says {info!r}.",
            )
    n_users, n_items = int(arrays["user_ids"].size), int(arrays["item_ids"].size)
    for name in ("popularity", "popular_order"):
        if arrays[name].size != n_items:
            raise _fail(
                root / f"{name}.npy",
                f"has {arrays[name].size} entries for {n_items} mapped items.",
            )
    if has_seen:
        _check_seen(root, manifest["seen"], arrays, n_users, n_items)
    user_ranges = _manifest_ranges(mpath, "users", manifest["users"], uf.shape[0], n_users)
    item_ranges = _manifest_ranges(mpath, "items", manifest["items"], itf.shape[0], n_items)
    return user_ranges, item_ranges


def _check_seen(
    root: Path, info: object, arrays: dict[str, npt.NDArray[Any]], n_users: int, n_items: int
) -> None:
    indptr, indices, data = (arrays[n] for n in _SEEN)
    if not isinstance(info, dict) or info.get("shape") != [n_users, n_items]:
        raise _fail(
            root / MANIFEST,
            f"the 'seen' entry {info!r} does not match {n_users} users x {n_items} items.",
        )
    problem = None
    if indptr.size != n_users + 1:
        problem = f"has {indptr.size} entries for {n_users} users (expected {n_users + 1})"
    elif indptr[0] != 0 or indptr[-1] != indices.size or np.any(np.diff(indptr) < 0):
        problem = "is not a valid CSR row pointer (not increasing from 0 to nnz)"
    elif indices.size != data.size:
        problem = f"describes {indices.size} entries but seen_data.npy has {data.size}"
    if problem is not None:
        raise _fail(root / "seen_indptr.npy", problem + ".")
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= n_items):
        raise _fail(root / "seen_indices.npy", f"holds item indices outside 0..{n_items - 1}.")


def _mapper(root: Path, name: str, ids: npt.NDArray[Any]) -> IdMapper:
    try:
        return IdMapper(ids)
    except DataError as exc:
        raise _fail(root / f"{name}.npy", f"invalid IDs: {exc}") from exc


def _manifest_auto_params(root: Path, manifest: dict[str, Any]) -> tuple[str, ...]:
    """The manifest's ``auto_params``: hyperparameter names resolved from ``"auto"``."""
    value = manifest.get("auto_params", [])
    params = manifest.get("params")
    known = set(params) if isinstance(params, dict) else set()
    if not isinstance(value, list) or not all(isinstance(v, str) and v in known for v in value):
        raise _fail(
            root / MANIFEST,
            f"invalid 'auto_params' {value!r}; expected a list of hyperparameter names.",
        )
    return tuple(value)
