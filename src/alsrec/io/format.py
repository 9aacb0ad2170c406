"""The artifact format: constants, the layout, and the manifest.

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
uniqueness of IDs and (unless ``verify=False``) the SHA-256 checksums; the checked reading
of the array files is :mod:`alsrec.io.arrays`. :func:`save` writes into a temporary sibling
directory and renames it into place, so a failed save leaves the previous artifact as it
was.

:func:`import_legacy_pickle` reads the ``recommender_artifacts.pkl`` dict that hand-built
scripts ship (an ``implicit`` model plus four ID dicts), only when the caller states that the
file is trusted. :func:`inspect_model` and :func:`inspect_artifact` report a model's health.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from alsrec._version import __version__
from alsrec.exceptions import ArtifactError, DataError
from alsrec.io._files import ArtifactDir, Swapped, as_path, read_at
from alsrec.mapping import IdMapper
from alsrec.model.fitted import seen_weights_problem

if TYPE_CHECKING:
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
    "artifact_path",
    "check_manifest_digest",
    "fallback_problem",
    "manifest_digest",
    "manifest_provenance",
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
OPEN_ATTEMPTS = 8
"""How many times a reader opens an artifact that concurrent saves keep swapping away."""


def artifact_path(path: PathArg) -> Path:
    """The path that :func:`~alsrec.io.save` and :func:`~alsrec.io.load` use for ``path``:
    a leading ``~`` or ``~user`` expanded to the home directory.

    Check an output with this path (not the one given), so that the check and the save
    look at the same directory.

    Parameters
    ----------
    path : str or os.PathLike
        An artifact directory, as the caller wrote it.

    Returns
    -------
    pathlib.Path
        ``path`` with ``~`` expanded.

    Raises
    ------
    ArtifactError
        If ``~`` or ``~user`` names no home directory.

    Examples
    --------
    >>> artifact_path("models/v1").as_posix()
    'models/v1'
    """
    return as_path(path)


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


def old_copies(path: Path) -> list[Path]:
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
    leftovers = old_copies(path)
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


def open_artifact_dir(root: Path) -> ArtifactDir:
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


class _NonFinite(Exception):
    """A ``NaN``, ``Infinity`` or ``-Infinity`` in manifest JSON (named by ``args[0]``)."""


def _refuse_constant(name: str) -> object:
    raise _NonFinite(name)


_ELSEWHERE = (
    "Recommender.save(path) will not replace it: it replaces only an alsrec artifact whose "
    "manifest it can read, or an empty directory. Save the model to another path, or delete "
    "this directory first."
)
"""What to do about a directory that neither loads nor can be saved over."""


def _no_manifest(root: Path) -> ArtifactError:
    try:
        names = sorted(os.listdir(root))
    except OSError:
        names = []
    if not names:  # an empty directory: a save there works
        return artifact_error(
            root,
            f"not an alsrec artifact: it has no {MANIFEST}. Save a model there with "
            "Recommender.save(path) first.",
        )
    shown = ", ".join(names[:MAX_LISTED]) + (", ..." if len(names) > MAX_LISTED else "")
    return artifact_error(
        root,
        f"not an alsrec artifact: it has no {MANIFEST} (it holds {shown}). Is it the right "
        f"directory? {_ELSEWHERE}",
    )


def _damaged(mpath: Path, problem: str) -> ArtifactError:
    return artifact_error(
        mpath, f"{problem}; the artifact is damaged. Restore it from a good copy. {_ELSEWHERE}"
    )


def _parse_manifest(mpath: Path, data: bytes, *, any_version: bool = False) -> dict[str, Any]:
    """Parse and check manifest bytes (the format name, and the version unless
    ``any_version``).

    ``NaN`` and ``Infinity``, which Python's ``json`` reads but strict JSON (and alsrec's
    writer) does not allow, are refused: a model loaded with them could not be saved again.
    """
    try:
        manifest = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except _NonFinite as exc:
        raise _damaged(
            mpath,
            f"holds the number {exc.args[0]}, which JSON does not allow (alsrec writes only "
            "finite numbers)",
        ) from None
    except RecursionError:
        raise _damaged(mpath, "unreadable manifest (nested too deeply)") from None
    except (UnicodeDecodeError, ValueError, MemoryError) as exc:
        raise _damaged(mpath, f"unreadable manifest ({exc})") from exc
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


def read_manifest_in(handle: ArtifactDir, *, any_version: bool = False) -> dict[str, Any]:
    """Read the manifest through ``handle``: at most :data:`MAX_MANIFEST_BYTES`."""
    root = handle.path
    mpath = root / MANIFEST
    fd = handle.open(MANIFEST)
    if fd is None:
        raise _no_manifest(root)
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
        raise _damaged(mpath, f"unreadable manifest ({exc})") from exc
    finally:
        os.close(fd)
    if len(data) > MAX_MANIFEST_BYTES:
        raise _damaged(mpath, f"is more than {MAX_MANIFEST_BYTES:,} bytes")
    return _parse_manifest(mpath, data, any_version=any_version)


def artifact_refusal(path: Path) -> str | None:
    """Why ``path`` is not an alsrec artifact directory (of any format version), or ``None``.

    The reason is for a save's refusal, which says what to do itself: without the advice
    on saving elsewhere that a load's error gives.
    """
    try:
        with ArtifactDir(path) as handle:
            read_manifest_in(handle, any_version=True)
    except ArtifactError as exc:
        return str(exc).replace(f" {_ELSEWHERE}", "")
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
    for _ in range(OPEN_ATTEMPTS):
        with open_artifact_dir(root) as handle:
            try:
                return read_manifest_in(handle)
            except Swapped:
                continue
    raise replaced_error(root)


def replaced_error(root: Path) -> ArtifactError:
    """The error when concurrent saves replaced ``root`` on every one of the
    :data:`OPEN_ATTEMPTS` opens."""
    return artifact_error(
        root,
        f"was replaced by other saves {OPEN_ATTEMPTS} times while being read; load it again "
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


_TRAINING_COUNTS = ("rows_read", "duplicates_merged", "users", "items", "interactions")


def _training_problem(training: dict[str, Any]) -> str | None:
    """What is wrong with a manifest's ``training`` entry (as
    :func:`~alsrec.model.provenance.data_provenance` writes it), or ``None``."""
    if "source" in training and not isinstance(training["source"], str):
        return "'source' is not a string"
    for key in _TRAINING_COUNTS:
        value = training.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{key!r} is not an integer"
    dropped = training.get("dropped", {})
    if not isinstance(dropped, dict) or not all(
        isinstance(n, int) and not isinstance(n, bool) for n in dropped.values()
    ):
        return "'dropped' is not an object of row counts by reason"
    span = training.get("time_range")
    if span is not None and (
        not isinstance(span, list) or len(span) != 2 or not all(isinstance(t, str) for t in span)
    ):
        return "'time_range' is neither null nor a list of two timestamps"
    return None


def manifest_provenance(root: Path, manifest: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """The manifest's ``origin``, ``training`` and ``metadata`` (each an object or ``None``),
    checked, so that a report of them cannot fail on a damaged or edited manifest."""
    found: dict[str, dict[str, Any] | None] = {}
    for key in ("origin", "training", "metadata"):
        value = manifest.get(key)
        if value is not None and not isinstance(value, dict):
            raise _damaged(
                root / MANIFEST, f"invalid {key!r} {str(value)[:60]}: expected an object or null"
            )
        found[key] = value
    problem = _training_problem(found["training"] or {})
    if problem is not None:
        raise _damaged(root / MANIFEST, f"invalid 'training': {problem}")
    return found
