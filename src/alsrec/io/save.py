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
import shutil
import sys
import uuid
from typing import IO, TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from alsrec._version import __version__
from alsrec.checks import check_bool
from alsrec.exceptions import (
    ArtifactError,
)
from alsrec.io._files import as_path
from alsrec.io.format import (
    _SPECS,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    PathArg,
    _is_artifact,
    _now,
    seen_weights_problem,
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


_ARTIFACT_FILES = frozenset({MANIFEST, *(f"{name}.npy" for name in _SPECS)})


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
    for parent in path.absolute().parents:
        if _is_artifact(parent):
            raise ArtifactError(
                f"Cannot save to {path}: {parent} is an alsrec artifact, and a save inside it "
                "would make it an artifact with other files, which no later save replaces. "
                "Save next to it instead."
            )
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
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        raise ArtifactError(f"Cannot save to {path}: cannot list it ({exc}).") from exc
    if names and not _is_artifact(path):
        raise ArtifactError(
            f"Cannot save to {path}: it is a non-empty directory that is not an alsrec "
            "artifact, and alsrec only replaces its own artifacts. Choose another path."
        )
    others = [name for name in names if name not in _ARTIFACT_FILES]
    if names and others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise ArtifactError(
            f"Cannot save to {path}: it is an alsrec artifact but also holds other files "
            f"({shown}), which replacing it would delete. Move them away or choose another "
            "path."
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
        If ``path`` cannot be written or is something other than an artifact, or the
        model's seen matrix holds weights that are not finite and positive.
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
    dest = as_path(path)
    check_destination(dest, overwrite=overwrite)
    arrays = _arrays_of(state, dest)
    token = uuid.uuid4().hex[:12]
    tmp = dest.parent / f".{dest.name}.tmp-{token}"
    lock = _make_tmp(dest, tmp)
    try:
        entries = {name: _write_array(tmp, name, arr) for name, arr in arrays.items()}
        manifest: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "alsrec_version": __version__,
            "created": _now(),
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
            shutil.rmtree(dest.parent / name, ignore_errors=True)
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


def _swap_into_place(tmp: Path, dest: Path, token: str) -> None:
    """Put ``tmp`` at ``dest``; an existing ``dest`` survives any failure.

    On Linux the two directories are exchanged atomically, so ``dest`` is never absent. Elsewhere
    the old one is first renamed aside (as ``.NAME.old-TOKEN``, locked while this save runs), so
    a crash between the two renames leaves it there, and :func:`~alsrec.io.load` recovers it.
    """
    if not dest.exists():
        try:
            os.replace(tmp, dest)
        except OSError as exc:
            # Another save put an artifact there since the check: replace it as below.
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not dest.is_dir():
                raise
        else:
            _fsync_dir(dest.parent)
            return
    if _exchange(tmp, dest):
        _fsync_dir(dest.parent)
        shutil.rmtree(tmp, ignore_errors=True)  # now the previous artifact
        return
    old = dest.parent / f".{dest.name}.old-{token}"
    held = _open_directory(dest)
    try:
        if held is not None and sys.platform != "win32":
            _lock(held, fcntl.LOCK_EX)
        os.replace(dest, old)
        try:
            os.replace(tmp, dest)
        except BaseException:
            os.replace(old, dest)
            raise
        try:
            _fsync_dir(dest.parent)
        finally:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        _unlock(held)
