"""The files of an artifact, opened through one handle on its directory.

A save never changes a file in place: it writes a whole new directory and renames it over
the old one. So every file opened relative to one directory handle belongs to one save,
whatever a concurrent save does to the path meanwhile; a file opened before a save removes
it stays readable. :class:`ArtifactDir` opens each member with ``O_NOFOLLOW`` and accepts
only regular files, so nothing outside the directory is read through a symbolic link.

Where the platform has no ``dir_fd`` support (Windows), members are opened by path after
checking that they are not links; a concurrent save is then detected less reliably.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from alsrec.exceptions import ArtifactError, ConfigError

__all__ = ["ArtifactDir", "Swapped", "as_path", "file_sha256", "read_at"]

_DIR_FD = hasattr(os, "O_DIRECTORY") and os.open in os.supports_dir_fd
_MEMBER_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO planted in the directory must not block open()
    | getattr(os, "O_BINARY", 0)
)
_LINK_ERRORS = (errno.ELOOP, getattr(errno, "EMLINK", errno.ELOOP), getattr(errno, "EFTYPE", -1))
_HASH_CHUNK = 1 << 20


class Swapped(Exception):
    """The directory at the path was replaced (by a concurrent save) while being opened."""


class ArtifactDir:
    """A read-only handle on an artifact directory; members are opened relative to it.

    Raises :class:`OSError` from the constructor as ``os.open`` does (the caller turns it
    into an :class:`~alsrec.ArtifactError` in its own words).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        if _DIR_FD:
            self._fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        elif not path.is_dir():  # pragma: no cover - platforms without dir_fd
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ArtifactDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def still_at_path(self) -> bool:
        """Whether the path still names the directory this handle holds."""
        if self._fd is None:  # pragma: no cover - platforms without dir_fd
            return self.path.is_dir()
        try:
            there = os.stat(self.path)
        except OSError:
            return False
        here = os.fstat(self._fd)
        return (there.st_dev, there.st_ino) == (here.st_dev, here.st_ino)

    def open(self, name: str) -> int | None:
        """Open the regular file ``name`` of the directory; return its descriptor.

        Returns ``None`` when the file does not exist. Raises :class:`Swapped` when it
        vanished because the directory was replaced meanwhile, and
        :class:`~alsrec.ArtifactError` for a symbolic link or anything but a regular file.
        """
        fpath = self.path / name
        try:
            if self._fd is not None:
                fd = os.open(name, _MEMBER_FLAGS, dir_fd=self._fd)
            else:  # pragma: no cover - platforms without dir_fd
                if fpath.is_symlink():
                    raise OSError(errno.ELOOP, "is a symbolic link", str(fpath))
                fd = os.open(fpath, _MEMBER_FLAGS)
        except FileNotFoundError:
            if not self.still_at_path():
                raise Swapped(str(fpath)) from None
            return None
        except OSError as exc:
            if exc.errno in _LINK_ERRORS:
                raise ArtifactError(
                    f"{fpath}: is a symbolic link; alsrec reads only regular files inside the "
                    "artifact directory. Replace the link by the file itself."
                ) from None
            raise ArtifactError(f"{fpath}: cannot be opened ({exc.strerror or exc}).") from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ArtifactError(
                f"{fpath}: is not a regular file; an artifact holds only regular files."
            )
        return fd


def read_at(fd: int, offset: int, size: int) -> bytes:
    """Up to ``size`` bytes at ``offset`` (fewer only at the end of the file)."""
    parts: list[bytes] = []
    got = 0
    while got < size:
        if hasattr(os, "pread"):
            part = os.pread(fd, size - got, offset + got)
        else:  # pragma: no cover - Windows
            os.lseek(fd, offset + got, os.SEEK_SET)
            part = os.read(fd, size - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def file_sha256(fd: int) -> str:
    """The SHA-256 of the whole file behind ``fd``, read through one 1 MiB buffer."""
    digest = hashlib.sha256()
    offset = 0
    if not hasattr(os, "preadv"):  # pragma: no cover - macOS before 11, Windows
        while chunk := read_at(fd, offset, _HASH_CHUNK):
            digest.update(chunk)
            offset += len(chunk)
        return digest.hexdigest()
    buffer = bytearray(_HASH_CHUNK)
    view = memoryview(buffer)
    while n := os.preadv(fd, [buffer], offset):
        digest.update(view[:n])
        offset += n
    return digest.hexdigest()


def as_path(path: object) -> Path:
    """``path`` (a ``str``, ``bytes`` or ``os.PathLike``) as a :class:`~pathlib.Path`, with a
    leading ``~`` expanded to the home directory (as pandas and the shell do).

    A ``~`` or ``~user`` that names no home directory is an :class:`~alsrec.ArtifactError`
    naming the path (``pathlib`` raises a bare :class:`RuntimeError`).
    """
    if isinstance(path, bytes):
        given = Path(os.fsdecode(path))
    elif isinstance(path, (str, os.PathLike)):
        given = Path(path)
    else:
        raise ConfigError(
            f"path must be a str or os.PathLike, got {type(path).__name__}: {path!r}."
        )
    try:
        return given.expanduser()
    except RuntimeError:
        head = given.parts[0] if given.parts else str(given)
        raise ArtifactError(
            f"{str(given)!r}: {head!r} names no home directory (no such user, or no home "
            "directory is known), so the path cannot be expanded; write it out in full."
        ) from None
