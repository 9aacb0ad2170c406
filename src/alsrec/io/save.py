"""Writing a :class:`~alsrec.model.FittedModel` as an artifact directory, atomically."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import hashlib
import json
import os
import re
import sys
import uuid
import warnings
from typing import IO, TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from alsrec._version import __version__
from alsrec.checks import check_bool
from alsrec.exceptions import AlsrecWarning, ArtifactError, ConfigError, DataError
from alsrec.io._files import as_path
from alsrec.io.format import (
    ARRAY_SPECS,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    MANIFEST_DIGEST,
    MAX_ID_WIDTH,
    MAX_MANIFEST_BYTES,
    PathArg,
    artifact_refusal,
    fallback_problem,
    is_artifact,
    manifest_digest,
    seen_weights_problem,
    utc_timestamp,
)
from alsrec.model.fitted import FittedModel, model_of
from alsrec.model.provenance import check_metadata

if sys.platform != "win32":
    import fcntl

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from alsrec.mapping import IdMapper

__all__ = ["check_destination", "save"]


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


_FILE_SUFFIXES = (".npz", ".npy", ".pkl", ".pickle", ".joblib", ".json")
"""Suffixes of single-file formats that a path for an artifact (a directory) is given by
habit (implicit's ``model.save("model.npz")``)."""

_ARTIFACT_FILES = frozenset({MANIFEST, *(f"{name}.npy" for name in ARRAY_SPECS)})


def check_destination(path: PathArg, *, overwrite: bool = True) -> None:
    """Check that :func:`save` may write to ``path``, without writing anything.

    ``path`` may be absent, an empty directory, or (with ``overwrite``) an alsrec artifact
    that holds no other files. Anything else (a file, a link, a directory of other files,
    an artifact next to which someone keeps their own files) is refused, so that a save
    never deletes what it did not write. :func:`save` runs this check itself; call it to
    refuse a destination before a long computation.

    Raises
    ------
    ArtifactError
        Naming ``path`` and why it cannot be replaced.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "notes.txt").write_text("mine")
    ...     check_destination(Path(tmp) / "model")  # absent: fine
    ...     check_destination(tmp)
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ArtifactError: Cannot save to ...: it is a non-empty directory ...
    """
    overwrite = check_bool("overwrite", overwrite)
    path = as_path(path)
    if path.name in ("", ".."):  # ".", "", "..", "sub/..", "/": not a directory of its own
        raise ArtifactError(
            f"Cannot save to {str(path)!r}: a save replaces the directory at the path as a "
            "whole, so it needs a directory of its own, not the current directory or a parent "
            "of it; name one (e.g. 'model')."
        )
    blocking = next((p for p in path.parents if os.path.lexists(p) and not p.is_dir()), None)
    if blocking is not None:
        raise ArtifactError(
            f"Cannot save to {path}: {blocking} is a file, not a directory, so nothing can be "
            "created inside it. Choose another path."
        )
    for parent in path.absolute().parents:
        if is_artifact(parent):
            raise ArtifactError(
                f"Cannot save to {path}: {parent} is an alsrec artifact, and a save inside it "
                "would make it an artifact with other files, which no later save replaces. "
                "Save next to it instead."
            )
    problem = _refusal(path, overwrite=overwrite)
    if problem is not None:
        raise ArtifactError(f"Cannot save to {path}: {problem}")


def _refusal(path: Path, *, overwrite: bool = True) -> str | None:
    """Why a save may not replace what is at ``path`` now; ``None`` when it may.

    It may replace nothing (``path`` absent), an empty directory, or (with ``overwrite``) an
    alsrec artifact that holds no other files.
    """
    if not os.path.lexists(path):
        return None
    if path.is_symlink() or not path.is_dir():
        what = "a symbolic link" if path.is_symlink() else "not a directory"
        return f"it exists and is {what}. Choose another path."
    if not overwrite:
        return (
            "it already exists and overwrite=False. Pass overwrite=True to replace it, or "
            "choose another path."
        )
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        return f"cannot list it ({exc})."
    if not names:
        return None
    why = artifact_refusal(path)
    if why is not None:
        # Name the reason when it holds a manifest (say, one an older alsrec wrote too large).
        reason = f" ({why})" if MANIFEST in names else ""
        return (
            f"it is a non-empty directory that is not an alsrec artifact{reason}, and alsrec "
            "only replaces its own artifacts. Choose another path."
        )
    others = [name for name in names if name not in _ARTIFACT_FILES]
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        return (
            f"it is an alsrec artifact but also holds other files ({shown}), which replacing "
            "it would delete. Move them away or choose another path."
        )
    return None


def _discard(directory: Path) -> bool:
    """Remove ``directory`` if it holds nothing but artifact files; return whether it did.

    Only files with the names of an artifact's files are unlinked, and the directory is then
    removed with ``rmdir``, which fails if anything else appeared in it meanwhile: a directory
    of someone else's files is left where it is.
    """
    try:
        names = os.listdir(directory)
        if any(name not in _ARTIFACT_FILES for name in names):
            return False
        for name in names:
            os.unlink(directory / name)
        os.rmdir(directory)
    except FileNotFoundError:
        return not os.path.lexists(directory)
    except OSError:
        return False
    return True


def _manifest_axis(
    mapper: IdMapper, rows: int, ranges: tuple[tuple[int, int], ...]
) -> dict[str, Any]:
    return {
        "kind": mapper.kind,
        "count": len(mapper),
        "factor_rows": rows,
        "unmapped_ranges": [list(r) for r in ranges],
    }


def _check_ids(state: FittedModel) -> None:
    """Refuse string IDs wider than a reader accepts (:data:`~alsrec.io.MAX_ID_WIDTH`)."""
    for axis, mapper in (("user", state.users), ("item", state.items)):
        dtype = np.asarray(mapper.ids).dtype
        width = dtype.itemsize // 4 if dtype.kind == "U" else 0
        if width > MAX_ID_WIDTH:
            raise DataError(
                f"Cannot save the model: its {axis} IDs include one {width:,} characters wide, "
                f"and an artifact stores string IDs of at most {MAX_ID_WIDTH:,} characters "
                "(alsrec.io.MAX_ID_WIDTH), so load would refuse it. Shorten or hash those "
                f"{axis} IDs and rebuild the model (fit() accepts IDs up to 1,024 characters)."
            )


def _manifest_of(
    state: FittedModel, meta: dict[str, Any] | None, entries: dict[str, Any]
) -> dict[str, Any]:
    """The manifest's content (without its checksum)."""
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "alsrec_version": __version__,
        "created": utc_timestamp(),
        "backend": state.backend,
        "params": state.params.to_dict(),
        "auto_params": list(state.provenance.auto_params),
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


def _encode_manifest(manifest: dict[str, Any]) -> bytes:
    """``manifest`` with its checksum, as the bytes of ``manifest.json``.

    Raises :class:`~alsrec.ConfigError` when they exceed what a reader accepts
    (:data:`~alsrec.io.MAX_MANIFEST_BYTES`); only ``metadata`` can make them that large.
    """
    manifest = {**manifest, MANIFEST_DIGEST: manifest_digest(manifest)}
    text = json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False) + "\n"
    data = text.encode("utf-8")
    if len(data) > MAX_MANIFEST_BYTES:
        raise ConfigError(
            f"metadata is too large: the manifest would be {len(data):,} bytes, more than the "
            f"{MAX_MANIFEST_BYTES:,} a reader accepts (alsrec.io.MAX_MANIFEST_BYTES), so load "
            "would refuse the artifact. Store large data in a file of its own and put only "
            "its name or a summary in metadata."
        )
    return data


def _placeholder_entries(arrays: dict[str, npt.NDArray[Any]]) -> dict[str, Any]:
    """Array entries at least as long as the real ones will be (for the size check)."""
    return {
        name: {
            "dtype": np.lib.format.dtype_to_descr(arr.dtype),
            "shape": list(arr.shape),
            "bytes": 10**20 - 1,
            "sha256": "0" * 64,
        }
        for name, arr in arrays.items()
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
    An existing ``path`` is replaced only if it is an alsrec artifact (holding no other
    files) or an empty directory. On Linux the old and the new directory are exchanged in
    one atomic step, so ``path`` always holds a whole artifact; elsewhere the old one is
    renamed aside first, and if the process dies between the two renames, :func:`load`
    finds it as ``.NAME.old-*``. Hidden ``.NAME.tmp-*`` / ``.NAME.old-*`` directories that
    saves which died left behind are removed by the next save to ``path``.

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
        If ``path`` cannot be written or is something other than an artifact (also when
        that changed while the arrays were written: nothing is replaced then), or the
        model's seen matrix holds weights that are not finite and positive, or its
        fallback popularity is not finite and >= 0 and ranked by its ``popular_order``.
    ConfigError
        If ``metadata`` is not JSON-serialisable (the message says where), or so large that
        ``manifest.json`` would exceed :data:`~alsrec.io.MAX_MANIFEST_BYTES`.
    DataError
        If a string ID is wider than :data:`~alsrec.io.MAX_ID_WIDTH` characters.

    Every check of what :func:`~alsrec.io.load` would refuse runs before ``path`` is
    touched; ``manifest.json`` records the SHA-256 of its own content
    (``manifest_sha256``), which ``load(verify=True)`` checks.

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
    dest = as_path(path)
    if dest.suffix.lower() in _FILE_SUFFIXES:
        warnings.warn(
            f"{dest} ends in {dest.suffix!r}, but an alsrec artifact is a directory (.npy "
            "arrays and manifest.json), created at that path: np.load or pickle cannot read "
            "it; Recommender.load can. Prefer a path without a file suffix.",
            AlsrecWarning,
            stacklevel=3,
        )
    check_destination(dest, overwrite=overwrite)
    _check_ids(state)
    arrays = _arrays_of(state, dest)
    _encode_manifest(_manifest_of(state, meta, _placeholder_entries(arrays)))  # size check
    token = uuid.uuid4().hex[:12]
    tmp = dest.parent / f".{dest.name}.tmp-{token}"
    lock = _make_tmp(dest, tmp)
    try:
        entries = {name: _write_array(tmp, name, arr) for name, arr in arrays.items()}
        data = _encode_manifest(_manifest_of(state, meta, entries))
        with (tmp / MANIFEST).open("xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(tmp)
        _swap_into_place(tmp, dest, token, overwrite=overwrite)
    except BaseException as exc:
        _discard(tmp)
        if isinstance(exc, OSError):
            raise ArtifactError(f"Cannot save to {dest}: {exc}") from exc
        raise
    finally:
        _unlock(lock)
    _remove_leftovers(dest)
    return dest


def _arrays_of(state: FittedModel, dest: Path) -> dict[str, npt.NDArray[Any]]:
    """The arrays to write, after checking what the reader would refuse."""
    arrays: dict[str, npt.NDArray[Any]] = {
        "user_factors": state.user_factors,
        "item_factors": state.item_factors,
        "user_ids": state.users.ids,
        "item_ids": state.items.ids,
        "popularity": np.asarray(state.popularity, dtype=np.float32),
        "popular_order": np.asarray(state.popular_order, dtype=np.int64),
    }
    if state.seen is not None:
        data = np.asarray(state.seen.data, dtype=np.float32)
        problem = seen_weights_problem(data)
        if problem is not None:
            raise ArtifactError(
                f"Cannot save to {dest}: the model's seen matrix holds {problem}; interaction "
                "weights must be finite and positive (drop or fix those entries)."
            )
        arrays["seen_indptr"] = state.seen.indptr
        arrays["seen_indices"] = state.seen.indices
        arrays["seen_data"] = data
    fallback = fallback_problem(arrays["popularity"], arrays["popular_order"], len(state.items))
    if fallback is not None:
        raise ArtifactError(
            f"Cannot save to {dest}: the model's fallback arrays are inconsistent: "
            f"{fallback[0]} {fallback[1]} popular_order must rank popularity (finite, >= 0) "
            "from most to least popular; rebuild the model (e.g. Recommender.from_factors)."
        )
    return arrays


# -- the swap, its locks, and the cleanup of interrupted saves --------------------------------
#
# A save holds an exclusive flock(2) on its temporary directory while it runs; the lock dies
# with the process. So a hidden ".NAME.tmp-*" or ".NAME.old-*" sibling whose lock can be
# taken belongs to a save that died, and the next save of NAME removes it. Creating and
# locking the temporary directory happens under a shared lock on the parent directory, and
# the cleanup collects its victims under an exclusive one, so a directory is never taken for
# a leftover in the instant between its creation and its lock. Where flock is unavailable
# (Windows, some network filesystems) nothing is locked and nothing is removed.

_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?:tmp|old)-[0-9a-f]{12}")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", -1)}


def _lock(fd: int, operation: int) -> bool:
    """Take a flock on ``fd``; ``False`` when it is held elsewhere or unsupported."""
    if sys.platform == "win32":  # pragma: no cover
        return False
    try:
        fcntl.flock(fd, operation)
    except OSError:
        return False
    return True


def _open_directory(path: Path) -> int | None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
    if sys.platform == "win32":  # pragma: no cover - directories cannot be opened
        return None
    try:
        return os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None


def _unlock(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)  # closing releases the flock


def _make_tmp(dest: Path, tmp: Path) -> int | None:
    """Create the temporary directory and lock it; return the lock's descriptor."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        parent = _open_directory(dest.parent)
        try:
            if parent is not None and sys.platform != "win32":
                _lock(parent, fcntl.LOCK_SH)
            tmp.mkdir()
            own = _open_directory(tmp)
            if own is not None and sys.platform != "win32":
                _lock(own, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            _unlock(parent)
    except OSError as exc:
        raise ArtifactError(f"Cannot save to {dest}: cannot create {tmp}: {exc}") from exc
    return own


def _remove_leftovers(dest: Path) -> None:
    """Remove the hidden siblings of ``dest`` that saves which died left behind."""
    if sys.platform == "win32":  # pragma: no cover
        return
    parent = _open_directory(dest.parent)
    if parent is None:
        return
    victims: list[tuple[str, int]] = []
    try:
        if not _lock(parent, fcntl.LOCK_EX):
            return
        for name in os.listdir(dest.parent):
            match = _LEFTOVER.fullmatch(name)
            if match is None or match["name"] != dest.name:
                continue
            fd = _open_directory(dest.parent / name)
            if fd is not None and _lock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB):
                victims.append((name, fd))
            else:
                _unlock(fd)
    except OSError:
        pass
    finally:
        _unlock(parent)
    for name, fd in victims:
        try:
            _discard(dest.parent / name)  # leaves one that somebody put files of their own in
        finally:
            _unlock(fd)


@functools.cache
def _renameat2() -> Callable[[int, bytes, int, bytes, int], int] | None:
    """glibc's renameat2, or ``None`` (other systems, older C libraries)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        func = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return cast("Callable[[int, bytes, int, bytes, int], int]", func)


def _exchange(a: Path, b: Path) -> bool:
    """Swap the directories ``a`` and ``b`` in one atomic step; ``False`` if unsupported."""
    func = _renameat2()
    if func is None:
        return False
    if func(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_into_place(tmp: Path, dest: Path, token: str, *, overwrite: bool = True) -> None:
    """Put ``tmp`` at ``dest``; an existing ``dest`` survives any failure.

    What is at ``dest`` is checked again right before the swap, and what the swap took away
    is checked once more right after it (before anything is deleted): if another process put
    a directory of its own files there meanwhile, it is put back, and the save fails with
    :class:`~alsrec.ArtifactError`. On Linux the two directories are exchanged atomically, so
    ``dest`` is never absent. Elsewhere the old one is first renamed aside (as
    ``.NAME.old-TOKEN``, locked while this save runs), so a crash between the two renames
    leaves it there, and :func:`~alsrec.io.load` recovers it.
    """
    if not os.path.lexists(dest):
        try:
            os.replace(tmp, dest)  # atomic; replaces at most an empty directory
        except OSError as exc:
            # Something appeared there since the check: it is checked below.
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not dest.is_dir():
                raise
        else:
            _fsync_dir(dest.parent)
            return
    _refuse_if_taken(dest, dest, overwrite=overwrite)
    if _exchange(tmp, dest):
        # ``tmp`` now names what was at ``dest``: it may have changed since the check above.
        problem = _refusal(tmp)
        if problem is not None:
            _exchange(tmp, dest)  # put it back; ``tmp`` is our new artifact again
            raise _changed(dest, problem)
        _fsync_dir(dest.parent)
        _discard(tmp)  # the previous artifact
        return
    old = dest.parent / f".{dest.name}.old-{token}"
    held = _open_directory(dest)
    try:
        if held is not None and sys.platform != "win32":
            _lock(held, fcntl.LOCK_EX)
        os.replace(dest, old)
        try:
            _refuse_if_taken(old, dest)
            os.replace(tmp, dest)
        except BaseException:
            os.replace(old, dest)
            raise
        try:
            _fsync_dir(dest.parent)
        finally:
            _discard(old)
    finally:
        _unlock(held)


def _refuse_if_taken(where: Path, dest: Path, *, overwrite: bool = True) -> None:
    """Raise :class:`~alsrec.ArtifactError` if what is at ``where`` (what was at ``dest``)
    may not be replaced."""
    problem = _refusal(where, overwrite=overwrite)
    if problem is not None:
        raise _changed(dest, problem)


def _changed(dest: Path, problem: str) -> ArtifactError:
    return ArtifactError(
        f"Cannot save to {dest}: it changed while the model was being written, and now "
        f"{problem} Nothing was replaced."
    )
