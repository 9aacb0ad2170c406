"""Writing a :class:`~alsrec.model.FittedModel` as an artifact directory, atomically."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from alsrec._version import __version__
from alsrec.exceptions import (
    ArtifactError,
)
from alsrec.io.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    PathArg,
    _now,
)
from alsrec.model.fitted import FittedModel, model_of
from alsrec.model.provenance import check_metadata

if TYPE_CHECKING:
    from alsrec.mapping import IdMapper

__all__ = ["save"]


class _HashingWriter:
    """A write-only file wrapper that computes the SHA-256 of what passes through."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        self.sha256.update(data)
        self.size += memoryview(data).nbytes
        return self._fh.write(data)


def _fsync_dir(path: Path) -> None:
    flag = getattr(os, "O_DIRECTORY", None)
    if flag is None:  # pragma: no cover - Windows cannot open a directory
        return
    fd = os.open(path, os.O_RDONLY | flag)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_array(directory: Path, name: str, arr: npt.NDArray[Any]) -> dict[str, Any]:
    with (directory / f"{name}.npy").open("xb") as fh:
        writer = _HashingWriter(fh)
        np.save(cast("IO[bytes]", writer), arr, allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())
    return {
        "dtype": np.lib.format.dtype_to_descr(arr.dtype),
        "shape": list(arr.shape),
        "bytes": writer.size,
        "sha256": writer.sha256.hexdigest(),
    }


def _is_artifact_dir(path: Path) -> bool:
    try:
        with (path / MANIFEST).open(encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT_NAME


def _check_destination(path: Path, overwrite: bool) -> None:
    if not path.exists() and not path.is_symlink():
        return
    if path.is_symlink() or not path.is_dir():
        what = "a symbolic link" if path.is_symlink() else "not a directory"
        raise ArtifactError(f"Cannot save to {path}: it exists and is {what}. Choose another path.")
    if not overwrite:
        raise ArtifactError(
            f"Cannot save to {path}: it already exists and overwrite=False. Pass "
            "overwrite=True to replace it, or choose another path."
        )
    if any(path.iterdir()) and not _is_artifact_dir(path):
        raise ArtifactError(
            f"Cannot save to {path}: it is a non-empty directory that is not an alsrec "
            "artifact, and alsrec only replaces its own artifacts. Choose another path."
        )


def _manifest_axis(
    mapper: IdMapper, rows: int, ranges: tuple[tuple[int, int], ...]
) -> dict[str, Any]:
    return {
        "kind": mapper.kind,
        "count": len(mapper),
        "factor_rows": rows,
        "unmapped_ranges": [list(r) for r in ranges],
    }


def save(
    model: FittedModel,
    path: PathArg,
    *,
    overwrite: bool = True,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write a fitted model as an artifact directory at ``path``; return the path.

    The arrays and the manifest go into a temporary directory next to ``path``, each file
    is flushed to disk, and the directory is then renamed to ``path``. If anything fails,
    the temporary directory is removed and an artifact already at ``path`` stays intact.
    An existing ``path`` is replaced only if it is an alsrec artifact or an empty
    directory. (Replacing an existing artifact takes two renames; if the process dies
    between them, the previous artifact survives next to ``path`` as ``.NAME.old-*``.)

    Parameters
    ----------
    model : FittedModel
        The model (for compatibility, a fitted :class:`~alsrec.Recommender` works too).
    path : str or os.PathLike
        The artifact directory to create or replace.
    overwrite : bool, default True
        Replace an existing artifact; with ``False`` an existing ``path`` is an error.
    metadata : dict, optional
        Your own facts to store in the manifest (JSON-serialisable: strings, numbers,
        booleans, None, lists, dicts with string keys); default: the metadata the model
        was loaded with, if any. The training data's provenance is recorded without it.

    Raises
    ------
    NotFittedError
        If ``model`` is an unfitted Recommender.
    ArtifactError
        If ``path`` cannot be written or is something other than an artifact.
    ConfigError
        If ``metadata`` is not JSON-serialisable (the message says where).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from alsrec import Recommender
    >>> from alsrec.io import read_manifest
    >>> rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save(rec.model_, Path(tmp) / "model")
    ...     print(sorted(p.name for p in path.iterdir())[:3])
    ...     print(read_manifest(path)["format_version"])
    ['item_factors.npy', 'item_ids.npy', 'manifest.json']
    1
    """
    state = model_of(model)
    meta = check_metadata(metadata) if metadata is not None else state.provenance.metadata
    dest = Path(path)
    _check_destination(dest, overwrite)
    parent = dest.parent
    token = uuid.uuid4().hex[:12]
    tmp = parent / f".{dest.name}.tmp-{token}"
    arrays: dict[str, npt.NDArray[Any]] = {
        "user_factors": state.user_factors,
        "item_factors": state.item_factors,
        "user_ids": state.users.ids,
        "item_ids": state.items.ids,
        "popularity": np.asarray(state.popularity, dtype=np.float32),
        "popular_order": np.asarray(state.popular_order, dtype=np.int64),
    }
    if state.seen is not None:
        arrays["seen_indptr"] = state.seen.indptr
        arrays["seen_indices"] = state.seen.indices
        arrays["seen_data"] = np.asarray(state.seen.data, dtype=np.float32)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
    except OSError as exc:
        raise ArtifactError(f"Cannot save to {dest}: cannot create {tmp}: {exc}") from exc
    try:
        entries = {name: _write_array(tmp, name, arr) for name, arr in arrays.items()}
        manifest: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "alsrec_version": __version__,
            "created": _now(),
            "backend": state.backend,
            "params": state.params.to_dict(),
            "dtype": "float32",
            "factors": int(state.user_factors.shape[1]),
            "users": _manifest_axis(state.users, state.user_factors.shape[0], state.user_ranges),
            "items": _manifest_axis(state.items, state.item_factors.shape[0], state.item_ranges),
            "seen": None
            if state.seen is None
            else {"shape": list(state.seen.shape), "nnz": int(state.seen.nnz)},
            "origin": state.provenance.origin,
            "training": state.provenance.training,
            "metadata": meta,
            "arrays": entries,
        }
        with (tmp / MANIFEST).open("x", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, sort_keys=True, allow_nan=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(tmp)
        _swap_into_place(tmp, dest, token)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise ArtifactError(f"Cannot save to {dest}: {exc}") from exc
        raise
    return dest


def _swap_into_place(tmp: Path, dest: Path, token: str) -> None:
    """Rename ``tmp`` to ``dest``; an existing ``dest`` survives any failure."""
    old: Path | None = None
    if dest.exists():
        old = dest.parent / f".{dest.name}.old-{token}"
        os.replace(dest, old)
    try:
        os.replace(tmp, dest)
    except BaseException:
        if old is not None:
            os.replace(old, dest)
        raise
    try:
        _fsync_dir(dest.parent)
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


# -- reading -------------------------------------------------------------------------------------
