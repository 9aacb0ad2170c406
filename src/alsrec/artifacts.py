"""Saved models: a safe, versioned on-disk format, a legacy pickle importer, and inspection.

An artifact is a directory that holds only data, never code::

    model/
      manifest.json          format version, alsrec version, hyperparameters, backend,
                             dtype, shapes, ID kinds, SHA-256 of every array file, creation time
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

import dataclasses
import hashlib
import json
import math
import os
import pickle
import shutil
import uuid
import warnings
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from alsrec._version import __version__
from alsrec.exceptions import (
    AlsrecWarning,
    ArtifactError,
    ConfigError,
    DataError,
    MappingMismatchError,
)
from alsrec.mapping import IdMapper, as_id_array
from alsrec.params import ALSParams
from alsrec.recommender import Recommender, _check_policy, _State

if TYPE_CHECKING:
    from collections.abc import Mapping

    from alsrec.types import ExternalId, FactorMatrix, FloatArray, IdArray, IndexArray, Policy

__all__ = [
    "FORMAT_VERSION",
    "AxisReport",
    "InspectionReport",
    "PathArg",
    "import_legacy_pickle",
    "inspect_artifact",
    "inspect_model",
    "load",
    "read_manifest",
    "save",
]

PathArg = str | os.PathLike[str]
"""A filesystem path: ``str`` or any ``os.PathLike`` (e.g. :class:`pathlib.Path`)."""

FORMAT_VERSION = 1
"""The artifact format this alsrec writes; it reads every version up to this one."""

FORMAT_NAME = "alsrec-model"
MANIFEST = "manifest.json"
_LEGACY_KEYS = ("model", "user_id_to_idx", "idx_to_user_id", "item_id_to_idx", "idx_to_item_id")
_SHOWN = 5
_HASH_CHUNK = 1 << 20


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- provenance: what a model remembers about where it came from --------------------------------


@dataclass(frozen=True)
class _Provenance:
    format_version: int
    user_ranges: tuple[tuple[int, int], ...]
    item_ranges: tuple[tuple[int, int], ...]
    origin: dict[str, Any] | None


# Keyed by the immutable fitted state, so a refit (a new state) forgets it automatically.
_PROVENANCE: weakref.WeakKeyDictionary[_State, _Provenance] = weakref.WeakKeyDictionary()


def _ranges(indices: IndexArray) -> tuple[tuple[int, int], ...]:
    """Inclusive ``(first, last)`` runs of consecutive values of a sorted index array."""
    if indices.size == 0:
        return ()
    breaks = np.flatnonzero(np.diff(indices) != 1)
    firsts = np.concatenate((indices[:1], indices[breaks + 1]))
    lasts = np.concatenate((indices[breaks], indices[-1:]))
    return tuple(zip(firsts.tolist(), lasts.tolist(), strict=True))


def _default_ranges(rows: int, mapped: int) -> tuple[tuple[int, int], ...]:
    return ((mapped, rows - 1),) if rows > mapped else ()


def _provenance(state: _State) -> _Provenance:
    known = _PROVENANCE.get(state)
    if known is not None:
        return known
    return _Provenance(
        FORMAT_VERSION,
        _default_ranges(state.user_factors.shape[0], len(state.users)),
        _default_ranges(state.item_factors.shape[0], len(state.items)),
        None,
    )


def _format_ranges(ranges: tuple[tuple[int, int], ...], limit: int = _SHOWN) -> str:
    parts = [str(a) if a == b else f"{a}..{b}" for a, b in ranges[:limit]]
    if len(ranges) > limit:
        parts.append(f"... ({len(ranges)} ranges)")
    return ", ".join(parts)


# -- inspection ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AxisReport:
    """Health of one side (users or items) of a model; part of :class:`InspectionReport`.

    Attributes
    ----------
    factor_rows : int
        Rows of the factor matrix.
    mapped_ids : int
        IDs that name a factor row (at most ``factor_rows`` in a loadable model).
    id_kind : {"int", "str"}
        The type of the IDs.
    unmapped_rows : int
        Factor rows without an ID; they are never returned.
    unmapped_ranges : tuple of (int, int)
        Inclusive index ranges of those rows, numbered as in the model's source: the
        pickle's indices for a model imported with :func:`import_legacy_pickle`, the factor
        rows otherwise.
    duplicate_ids : tuple
        Up to five IDs that occur more than once (only a damaged artifact has any).
    duplicate_count : int
        How many ID positions repeat an earlier ID.
    nan_rows : int
        Factor rows holding NaN or infinity (only a damaged artifact has any).
    zero_rows : int
        Factor rows that are all zero (such a user or item scores 0 against everything).
    """

    factor_rows: int
    mapped_ids: int
    id_kind: str
    unmapped_rows: int
    unmapped_ranges: tuple[tuple[int, int], ...]
    duplicate_ids: tuple[ExternalId, ...]
    duplicate_count: int
    nan_rows: int
    zero_rows: int

    @property
    def ids_without_rows(self) -> int:
        """IDs beyond the last factor row (only a damaged artifact has any)."""
        return max(0, self.mapped_ids - self.factor_rows)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-compatible data."""
        return {
            "factor_rows": self.factor_rows,
            "mapped_ids": self.mapped_ids,
            "id_kind": self.id_kind,
            "unmapped_rows": self.unmapped_rows,
            "unmapped_ranges": [list(r) for r in self.unmapped_ranges],
            "ids_without_rows": self.ids_without_rows,
            "duplicate_ids": list(self.duplicate_ids),
            "duplicate_count": self.duplicate_count,
            "nan_rows": self.nan_rows,
            "zero_rows": self.zero_rows,
        }


@dataclass(frozen=True)
class InspectionReport:
    """What :meth:`Recommender.inspect <alsrec.Recommender.inspect>` and ``alsrec inspect`` say.

    ``str(report)`` is a short text for people; :meth:`to_dict` gives the same facts as
    JSON-compatible data for machines.

    Attributes
    ----------
    users, items : AxisReport
        Factor rows against mapped IDs, unmapped ranges, duplicate IDs, NaN and zero rows.
    factors : int
        Length of each factor vector.
    seen_interactions : int or None
        Stored training interactions, ``None`` when the model has no interaction data
        (then nothing is excluded as seen and the fallback ranks items by factor norm).
    seen_coverage : float or None
        Share of mapped users with at least one seen item.
    format_version : int
        The artifact format the model was loaded from (or would be saved in).
    backend : str
        The backend that trained the factors.
    params : ALSParams
        The recorded hyperparameters.
    origin : str or None
        Where the model came from when it was imported (e.g. a legacy pickle).

    Examples
    --------
    >>> import numpy as np
    >>> from alsrec import Recommender
    >>> rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    >>> report = rec.inspect()
    >>> report.ok, report.items.factor_rows, report.items.mapped_ids
    (True, 2, 2)
    >>> report.to_dict()["users"]["unmapped_ranges"]
    []
    """

    users: AxisReport
    items: AxisReport
    factors: int
    seen_interactions: int | None
    seen_coverage: float | None
    format_version: int
    backend: str
    params: ALSParams
    origin: str | None = None

    @property
    def problems(self) -> tuple[str, ...]:
        """One sentence per problem found; empty when the model is healthy."""
        out: list[str] = []
        for name, axis in (("user", self.users), ("item", self.items)):
            if axis.unmapped_rows:
                out.append(
                    f"{axis.unmapped_rows} {name} factor rows have no ID "
                    f"(indices {_format_ranges(axis.unmapped_ranges)}); they are never returned"
                )
            if axis.ids_without_rows:
                out.append(f"{axis.ids_without_rows} {name} IDs have no factor row")
            if axis.duplicate_count:
                shown = ", ".join(map(repr, axis.duplicate_ids))
                out.append(f"{axis.duplicate_count} duplicate {name} IDs (e.g. {shown})")
            if axis.nan_rows:
                out.append(f"{axis.nan_rows} {name} factor rows contain NaN or infinity")
        return tuple(out)

    @property
    def ok(self) -> bool:
        """``True`` when every factor row has exactly one ID and all factors are finite."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-compatible data (``json.dumps`` accepts it)."""
        return {
            "format_version": self.format_version,
            "backend": self.backend,
            "params": self.params.to_dict(),
            "factors": self.factors,
            "users": self.users.to_dict(),
            "items": self.items.to_dict(),
            "seen_interactions": self.seen_interactions,
            "seen_coverage": self.seen_coverage,
            "origin": self.origin,
            "ok": self.ok,
            "problems": list(self.problems),
        }

    def __str__(self) -> str:
        p = self.params
        lines = [
            f"alsrec model (format version {self.format_version}), backend {self.backend!r}, "
            f"{self.factors} factors",
            f"  params: regularization {p.regularization:g}, alpha {p.alpha:g}, "
            f"iterations {p.iterations}, solver {p.solver}",
        ]
        if self.origin:
            lines.append(f"  origin: {self.origin}")
        for name, axis in (("users", self.users), ("items", self.items)):
            line = (
                f"  {name}: {axis.factor_rows} factor rows, {axis.mapped_ids} mapped "
                f"{axis.id_kind} IDs"
            )
            if axis.unmapped_rows:
                line += f"; unmapped rows: {_format_ranges(axis.unmapped_ranges)}"
                here = _default_ranges(axis.factor_rows, axis.mapped_ids)
                if axis.unmapped_ranges != here:
                    line += f" (source indices; rows {_format_ranges(here)} in this model)"
            line += f"; NaN rows {axis.nan_rows}, zero rows {axis.zero_rows}"
            if axis.duplicate_count:
                line += f"; {axis.duplicate_count} duplicate IDs"
            lines.append(line)
        if self.seen_interactions is None:
            lines.append("  seen items: none stored (nothing is excluded as seen)")
        else:
            coverage = 100.0 * (self.seen_coverage or 0.0)
            lines.append(
                f"  seen items: {self.seen_interactions} interactions; "
                f"{coverage:.1f}% of mapped users have seen items"
            )
        problems = self.problems
        lines.append("  status: OK" if not problems else "  status: PROBLEMS")
        lines.extend(f"    - {problem}" for problem in problems)
        return "\n".join(lines)


def _python_id(value: object) -> ExternalId:
    return cast("ExternalId", value.item() if isinstance(value, np.generic) else value)


def _axis_report(
    factors: FactorMatrix, ids: IdArray, ranges: tuple[tuple[int, int], ...]
) -> AxisReport:
    rows = int(factors.shape[0])
    finite = np.isfinite(factors).all(axis=1)
    zero = ~np.any(factors != 0, axis=1)
    duplicates: tuple[ExternalId, ...] = ()
    dup_count = 0
    if ids.size > 1:
        ordered = np.sort(ids, kind="stable")
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        dup_count = int(repeated.size)
        duplicates = tuple(_python_id(v) for v in np.unique(repeated)[:_SHOWN])
    return AxisReport(
        factor_rows=rows,
        mapped_ids=int(ids.size),
        id_kind="str" if ids.dtype.kind == "U" else "int",
        unmapped_rows=max(0, rows - int(ids.size)),
        unmapped_ranges=ranges,
        duplicate_ids=duplicates,
        duplicate_count=dup_count,
        nan_rows=int(rows - np.count_nonzero(finite)),
        zero_rows=int(np.count_nonzero(zero)),
    )


def _origin_text(origin: Mapping[str, Any] | None) -> str | None:
    if not origin:
        return None
    if origin.get("kind") == "legacy-pickle":
        return f"legacy pickle {origin.get('file')!r} ({origin.get('model_class')})"
    return str(origin.get("kind"))


def _seen_numbers(indptr: npt.NDArray[np.integer] | None, n_users: int) -> tuple[Any, Any]:
    if indptr is None:
        return None, None
    nnz = int(indptr[-1]) if indptr.size else 0
    with_seen = int(np.count_nonzero(np.diff(indptr))) if indptr.size else 0
    return nnz, (with_seen / n_users if n_users else 0.0)


def inspect_model(rec: Recommender) -> InspectionReport:
    """Report the health of a fitted model (also :meth:`Recommender.inspect`).

    Raises
    ------
    NotFittedError
        If the model has no factors yet.

    Examples
    --------
    >>> import numpy as np
    >>> from alsrec import AlsrecWarning, Recommender
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", AlsrecWarning)
    ...     rec = Recommender.from_factors(np.ones((2, 2)), np.ones((4, 2)), ["u", "v"], ["a", "b"])
    >>> report = inspect_model(rec)
    >>> report.items.unmapped_ranges, report.ok
    (((2, 3),), False)
    """
    state = rec._fitted()
    prov = _provenance(state)
    seen = state.seen
    interactions, coverage = _seen_numbers(
        None if seen is None else seen.indptr[: len(state.users) + 1], len(state.users)
    )
    return InspectionReport(
        users=_axis_report(state.user_factors, state.users.ids, prov.user_ranges),
        items=_axis_report(state.item_factors, state.items.ids, prov.item_ranges),
        factors=int(state.user_factors.shape[1]),
        seen_interactions=interactions,
        seen_coverage=coverage,
        format_version=prov.format_version,
        backend=state.backend,
        params=state.params,
        origin=_origin_text(prov.origin),
    )


def inspect_artifact(path: PathArg, *, verify: bool = True) -> InspectionReport:
    """Report the health of a saved artifact without building a model from it.

    Damage to the files themselves (missing or truncated files, checksum mismatch, unknown
    format) raises :class:`~alsrec.ArtifactError`, as in :func:`load`. Problems of the model
    inside an intact artifact (duplicate IDs, NaN factor rows, unmapped rows), which
    :func:`load` refuses or warns about, are reported instead.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from alsrec import Recommender
    >>> rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     report = inspect_artifact(rec.save(Path(tmp) / "model"))
    >>> report.ok, report.format_version
    (True, 1)
    """
    raw = _open_artifact(Path(path), mmap=True, verify=verify)
    try:
        report = _report_from(raw)
    except BaseException:
        raw.finish()
        raise
    raw.finish()
    return report


def _report_from(raw: _RawArtifact) -> InspectionReport:
    m = raw.manifest
    arrays = raw.arrays
    user_ids = cast("IdArray", arrays["user_ids"])
    item_ids = cast("IdArray", arrays["item_ids"])
    interactions, coverage = _seen_numbers(arrays.get("seen_indptr"), int(user_ids.size))
    try:
        params = ALSParams.from_dict(m["params"])
    except (ConfigError, TypeError) as exc:
        raise ArtifactError(f"{raw.path / MANIFEST}: invalid 'params': {exc}") from exc
    return InspectionReport(
        users=_axis_report(cast("FactorMatrix", arrays["user_factors"]), user_ids, raw.user_ranges),
        items=_axis_report(cast("FactorMatrix", arrays["item_factors"]), item_ids, raw.item_ranges),
        factors=int(arrays["user_factors"].shape[1]),
        seen_interactions=interactions,
        seen_coverage=coverage,
        format_version=int(m["format_version"]),
        backend=str(m["backend"]),
        params=params,
        origin=_origin_text(m.get("origin")),
    )


# -- saving --------------------------------------------------------------------------------------


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


def save(rec: Recommender, path: PathArg, *, overwrite: bool = True) -> Path:
    """Write a fitted model as an artifact directory at ``path``; return the path.

    The arrays and the manifest go into a temporary directory next to ``path``, each file
    is flushed to disk, and the directory is then renamed to ``path``. If anything fails,
    the temporary directory is removed and an artifact already at ``path`` stays intact.
    An existing ``path`` is replaced only if it is an alsrec artifact or an empty
    directory. (Replacing an existing artifact takes two renames; if the process dies
    between them, the previous artifact survives next to ``path`` as ``.NAME.old-*``.)

    Parameters
    ----------
    rec : Recommender
        A fitted model.
    path : str or os.PathLike
        The artifact directory to create or replace.
    overwrite : bool, default True
        Replace an existing artifact; with ``False`` an existing ``path`` is an error.

    Raises
    ------
    NotFittedError
        If ``rec`` is not fitted.
    ArtifactError
        If ``path`` cannot be written or is something other than an artifact.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from alsrec import Recommender
    >>> rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save(rec, Path(tmp) / "model")
    ...     print(sorted(p.name for p in path.iterdir())[:3])
    ...     print(read_manifest(path)["format_version"])
    ['item_factors.npy', 'item_ids.npy', 'manifest.json']
    1
    """
    state = rec._fitted()
    dest = Path(path)
    _check_destination(dest, overwrite)
    prov = _provenance(state)
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
            "users": _manifest_axis(state.users, state.user_factors.shape[0], prov.user_ranges),
            "items": _manifest_axis(state.items, state.item_factors.shape[0], prov.item_ranges),
            "seen": None
            if state.seen is None
            else {"shape": list(state.seen.shape), "nnz": int(state.seen.nnz)},
            "origin": prov.origin,
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


def load(
    path: PathArg, *, mmap: bool = True, policy: Policy = "safe", verify: bool = True
) -> Recommender:
    """Load an artifact written by :func:`save` (also :meth:`Recommender.load`).

    Parameters
    ----------
    path : str or os.PathLike
        The artifact directory.
    mmap : bool, default True
        Memory-map the factor matrices (read-only) instead of reading them: the operating
        system pages in what queries touch, and processes share the pages.
    policy : {"safe", "strict"}, default "safe"
        Policy of the returned recommender. ``"strict"`` refuses a model whose factor rows
        and IDs disagree (:class:`~alsrec.MappingMismatchError`); ``"safe"`` loads it with an
        :class:`~alsrec.AlsrecWarning`.
    verify : bool, default True
        Check the SHA-256 of every array file. ``False`` skips only this check (faster on
        large models); all structural checks still run.

    Raises
    ------
    ArtifactError
        Missing, truncated, altered or inconsistent files, object arrays, duplicate IDs,
        non-finite factors, a directory that is not an artifact, or a newer format version.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from alsrec import Recommender
    >>> rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     again = load(save(rec, Path(tmp) / "model"))
    ...     print(again.recommend("u1", n=1).ids.tolist())
    ['a']
    """
    policy = _check_policy(policy)
    raw = _open_artifact(Path(path), mmap=mmap, verify=verify)
    try:
        rec = _model_from(raw, policy)
    except BaseException:
        raw.finish()  # a checksum mismatch explains the failure best: it is raised first
        raise
    raw.finish()
    return rec


def _model_from(raw: _RawArtifact, policy: Policy) -> Recommender:
    root = raw.path
    arrays = raw.arrays
    users = _mapper(root, "user_ids", arrays["user_ids"])
    items = _mapper(root, "item_ids", arrays["item_ids"])
    for axis, mapper, name in (("user", users, "user_factors"), ("item", items, "item_factors")):
        if len(mapper) > arrays[name].shape[0]:
            raise _fail(
                root / f"{name}.npy",
                f"has {arrays[name].shape[0]} rows for {len(mapper)} mapped {axis} IDs.",
            )
    order = arrays["popular_order"]
    if order.size and (
        int(order.min()) < 0
        or int(order.max()) >= len(items)
        or np.any(np.bincount(order, minlength=len(items)) != 1)
    ):
        raise _fail(root / "popular_order.npy", "is not a permutation of the item indices.")
    if not np.isfinite(arrays["popularity"]).all():
        raise _fail(root / "popularity.npy", "contains NaN or infinity.")
    try:
        params = ALSParams.from_dict(raw.manifest["params"])
    except (ConfigError, TypeError) as exc:
        raise _fail(root / MANIFEST, f"invalid 'params': {exc}") from exc
    seen = None
    if "seen_indptr" in arrays:
        seen = sp.csr_matrix(
            (arrays["seen_data"], arrays["seen_indices"], arrays["seen_indptr"]),
            shape=(len(users), len(items)),
        )
    try:
        rec = Recommender.from_factors(
            arrays["user_factors"],
            arrays["item_factors"],
            users,
            items,
            seen=seen,
            params=params,
            policy=policy,
            backend_name=str(raw.manifest["backend"]),
        )
    except MappingMismatchError as exc:
        raise MappingMismatchError(f"{root}: {exc}") from exc
    except DataError as exc:
        raise _fail(root, f"the stored model is invalid: {exc}") from exc
    state = rec._fitted()
    # The fallback ranking the model was saved with, not a recomputed one.
    state = dataclasses.replace(
        state,
        popularity=cast("FloatArray", np.ascontiguousarray(arrays["popularity"], np.float32)),
        popular_order=cast("IndexArray", np.ascontiguousarray(order, np.int64)),
    )
    rec._state = state
    origin = raw.manifest.get("origin")
    _PROVENANCE[state] = _Provenance(
        int(raw.manifest["format_version"]),
        raw.user_ranges,
        raw.item_ranges,
        origin if isinstance(origin, dict) else None,
    )
    return rec


# -- legacy pickle import ------------------------------------------------------------------------


def _refuse_untrusted(path: Path) -> ArtifactError:
    return ArtifactError(
        f"Refusing to unpickle {path}: loading a pickle runs whatever code the file "
        "contains, so a tampered or foreign file can take over this process. Pass "
        "trusted=True only for a file you made yourself or got from a source you trust; "
        "then save the model with rec.save(dir) and load that safe, data-only artifact "
        "from then on."
    )


def _unpickle(path: Path) -> object:
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)  # trusted: only reached after trusted=True was checked
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc}).") from exc
    except Exception as exc:  # unpickling can raise anything the file's code raises
        text = f"{type(exc).__name__}: {exc}"
        hint = ""
        if "gpu" in text.lower() or "cuda" in text.lower() or "Matrix" in text:
            hint = (
                " It seems to hold an implicit GPU model, which needs implicit's CUDA "
                "extension to unpickle. On a GPU machine, replace the model by "
                "model.to_cpu() and pickle the dict again."
            )
        raise _fail(path, f"cannot be unpickled ({text}).{hint}") from exc


def _legacy_factors(path: Path, model: object) -> tuple[npt.NDArray[Any], npt.NDArray[Any], object]:
    uf = getattr(model, "user_factors", None)
    itf = getattr(model, "item_factors", None)
    if not (isinstance(uf, np.ndarray) and isinstance(itf, np.ndarray)):
        to_cpu = getattr(model, "to_cpu", None)
        if callable(to_cpu) and uf is not None and itf is not None:
            try:
                model = to_cpu()
            except Exception as exc:  # translate whatever the GPU library raises
                raise _fail(path, f"model.to_cpu() failed: {type(exc).__name__}: {exc}") from exc
            uf = getattr(model, "user_factors", None)
            itf = getattr(model, "item_factors", None)
    out: list[npt.NDArray[Any]] = []
    for name, value in (("user_factors", uf), ("item_factors", itf)):
        if value is None:
            raise _fail(
                path,
                f"the model has no {name}: it was never fitted, or it is not an implicit "
                f"matrix-factorization model ({type(model).__name__}).",
            )
        to_numpy = getattr(value, "to_numpy", None)
        if not isinstance(value, np.ndarray) and callable(to_numpy):
            value = to_numpy()
        arr = np.asarray(value)
        if arr.ndim != 2 or arr.dtype.kind not in "fiu":
            raise _fail(
                path,
                f"model.{name} is not a numeric matrix (dtype {arr.dtype}, shape {arr.shape}).",
            )
        out.append(arr)
    return out[0], out[1], model


def _as_index(path: Path, what: str, value: object) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise _fail(
            path,
            f"{what} is {value!r} ({type(value).__name__}); indices must be non-negative integers.",
        )
    if int(value) < 0:
        raise _fail(path, f"{what} is {value!r}; indices must be non-negative.")
    return int(value)


def _same_id(a: object, b: object) -> bool:
    return isinstance(a, str) == isinstance(b, str) and bool(a == b)


def _legacy_axis(
    path: Path, axis: str, id_to_idx: object, idx_to_id: object
) -> tuple[IdArray, IndexArray]:
    """Check that the two dicts are inverse; return IDs and their indices, by index."""
    fwd_name, back_name = f"{axis}_id_to_idx", f"idx_to_{axis}_id"
    for name, value in ((fwd_name, id_to_idx), (back_name, idx_to_id)):
        if not isinstance(value, dict):
            raise _fail(path, f"{name!r} is a {type(value).__name__}, expected a dict.")
    fwd = cast("dict[object, object]", id_to_idx)
    back = cast("dict[object, object]", idx_to_id)
    claimed: dict[int, object] = {}
    for id_, idx in fwd.items():
        index = _as_index(path, f"{fwd_name}[{id_!r}]", idx)
        if index in claimed:
            raise _fail(
                path,
                f"{fwd_name} maps both {claimed[index]!r} and {id_!r} to index {index}; "
                "an index can name only one ID.",
            )
        claimed[index] = id_
    problems: list[str] = []
    back_indices: set[int] = set()
    for idx, id_ in back.items():
        index = _as_index(path, f"a key of {back_name}", idx)
        back_indices.add(index)
        if index not in claimed:
            problems.append(
                f"{back_name}[{index}] = {id_!r} but no ID has index {index} in {fwd_name}"
            )
        elif not _same_id(claimed[index], id_):
            problems.append(
                f"{back_name}[{index}] = {id_!r} but {fwd_name} gives index {index} to "
                f"{claimed[index]!r}"
            )
    problems.extend(
        f"{fwd_name}[{id_!r}] = {index} but {back_name} has no entry {index}"
        for index, id_ in claimed.items()
        if index not in back_indices
    )
    if problems:
        raise _fail(
            path,
            f"{fwd_name} and {back_name} are not inverse of each other: {len(problems)} "
            f"disagreement(s), e.g. {'; '.join(problems[:3])}. Fix the dicts so that both "
            "describe the same ID <-> index pairs, then import again.",
        )
    indices = np.fromiter(claimed, dtype=np.int64, count=len(claimed))
    order = np.argsort(indices, kind="stable")
    id_list = list(claimed.values())
    try:
        ids = as_id_array([id_list[i] for i in order.tolist()], f"{axis} IDs in {fwd_name}")
    except DataError as exc:
        raise _fail(path, str(exc)) from exc
    return ids, indices[order]


def _legacy_params(model: object, factors: int) -> tuple[ALSParams, dict[str, Any]]:
    raw: dict[str, Any] = {}
    for key in (
        "factors",
        "regularization",
        "alpha",
        "iterations",
        "use_cg",
        "cg_steps",
        "num_threads",
        "random_state",
    ):
        if not hasattr(model, key):
            continue
        value = getattr(model, key)
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            continue  # JSON (the manifest) has no NaN or infinity
        if isinstance(value, (bool, int, float, str)) or value is None:
            raw[key] = value
    # Only the parameters whose meaning is identical in alsrec are carried over; implicit's
    # alpha scales the weights into confidences differently, so it stays in the origin.
    base: dict[str, Any] = {"factors": max(1, factors)}
    candidates = {
        "regularization": raw.get("regularization"),
        "iterations": raw.get("iterations"),
        "cg_steps": raw.get("cg_steps"),
        "num_threads": raw.get("num_threads"),
        "random_state": raw.get("random_state"),
        "solver": None if "use_cg" not in raw else ("cg" if raw["use_cg"] else "cholesky"),
    }
    for key, value in candidates.items():
        if value is None:
            continue
        try:
            ALSParams.from_dict({**base, key: value})
        except (ConfigError, TypeError):
            continue
        base[key] = value
    return ALSParams.from_dict(base), raw


def import_legacy_pickle(path: PathArg, *, trusted: bool, policy: Policy = "safe") -> Recommender:
    """Import a hand-built ``recommender_artifacts.pkl`` (an implicit model and ID dicts).

    The pickle must hold the dict ``{"model": <implicit ALS model>, "user_id_to_idx": {...},
    "idx_to_user_id": {...}, "item_id_to_idx": {...}, "idx_to_item_id": {...}}``. Loading a
    pickle runs code, so this refuses to open the file unless ``trusted=True``. Save the
    result with :meth:`Recommender.save` and use that safe artifact from then on.

    CPU models are read through their ``user_factors`` and ``item_factors``; GPU models are
    converted with implicit's ``to_cpu()`` (which needs implicit's CUDA extension). IDs may
    be all int or all str. The two dicts of each side must be inverse of each other.

    The mapping may have holes (factor rows without an ID, e.g. 1000 item rows but 950
    mapped items, anywhere in the index range): the factor rows are reordered so that mapped
    rows come first, in index order, and unmapped rows after; the original unmapped index
    ranges are kept for :meth:`Recommender.inspect` and in the saved manifest. Under
    ``policy="safe"`` such a model loads with an :class:`~alsrec.AlsrecWarning` and never
    returns unmapped rows; ``"strict"`` refuses it. IDs whose index has no factor row are
    dropped with a warning (``"safe"``) or refused (``"strict"``).

    Parameters
    ----------
    path : str or os.PathLike
        The pickle file.
    trusted : bool
        Must be ``True``: you vouch that the file is not malicious.
    policy : {"safe", "strict"}, default "safe"
        Policy of the returned recommender and of the mapping checks above.

    Raises
    ------
    ArtifactError
        ``trusted`` is not ``True``, the file cannot be unpickled, lacks a key, holds an
        unfitted or non-ALS model, or its dicts disagree.
    MappingMismatchError
        Under ``"strict"``, when factor rows and IDs do not match one to one.
    """
    src = Path(path)
    policy = _check_policy(policy)
    if trusted is not True:
        raise _refuse_untrusted(src)
    if not src.is_file():
        raise _fail(src, "no such file.")
    payload = _unpickle(src)
    if not isinstance(payload, dict):
        raise _fail(
            src,
            f"holds a {type(payload).__name__}, expected the dict with keys {list(_LEGACY_KEYS)}.",
        )
    absent = [k for k in _LEGACY_KEYS if k not in payload]
    if absent:
        raise _fail(
            src,
            f"the pickled dict lacks {absent}; found keys {sorted(map(str, payload))}. "
            f"Expected {list(_LEGACY_KEYS)}.",
        )
    uf_raw, itf_raw, model = _legacy_factors(src, payload["model"])
    sides: dict[str, tuple[IdArray, npt.NDArray[Any], tuple[tuple[int, int], ...], int]] = {}
    for axis, factors in (("user", uf_raw), ("item", itf_raw)):
        ids, indices = _legacy_axis(
            src, axis, payload[f"{axis}_id_to_idx"], payload[f"idx_to_{axis}_id"]
        )
        rows = int(factors.shape[0])
        beyond = indices >= rows
        if beyond.any():
            first = _python_id(ids[np.flatnonzero(beyond)[0]])
            msg = (
                f"{src}: {int(beyond.sum())} {axis} IDs point past the {rows} {axis} factor "
                f"rows (e.g. {first!r} -> index {int(indices[beyond][0])}); they have no "
                "factors"
            )
            if policy == "strict":
                raise MappingMismatchError(msg + "; the 'strict' policy refuses such a model.")
            warnings.warn(msg + " and are treated as unknown.", AlsrecWarning, stacklevel=2)
            ids, indices = ids[~beyond], indices[~beyond]
        unmapped = np.setdiff1d(np.arange(rows, dtype=np.int64), indices, assume_unique=True)
        if indices.size == rows and np.array_equal(indices, np.arange(rows)):
            ordered = factors
        else:
            ordered = factors[np.concatenate((indices, unmapped))]
        sides[axis] = (ids, ordered, _ranges(unmapped), int(beyond.sum()))
    holes = [
        f"{len(ordered) - ids.size} of the {len(ordered)} {axis} factor rows have no ID "
        f"(the pickle's indices {_format_ranges(ranges)})"
        for axis, (ids, ordered, ranges, _) in sides.items()
        if ranges
    ]
    if holes and policy == "strict":
        raise MappingMismatchError(
            f"{src}: {'; '.join(holes)}. The 'strict' policy refuses such a model; use "
            "policy='safe' to import it without those rows, or fix the mapping."
        )
    for hole in holes:
        warnings.warn(
            f"{src}: {hole}; they are moved after the mapped rows and never returned.",
            AlsrecWarning,
            stacklevel=2,
        )
    params, raw_params = _legacy_params(model, int(uf_raw.shape[1]))
    try:
        with warnings.catch_warnings():
            if holes:  # already reported above, in the pickle's numbering
                warnings.simplefilter("ignore", AlsrecWarning)
            rec = Recommender.from_factors(
                sides["user"][1],
                sides["item"][1],
                IdMapper(sides["user"][0]),
                IdMapper(sides["item"][0]),
                params=params,
                policy=policy,
                backend_name="implicit",
            )
    except DataError as exc:
        raise _fail(src, f"the pickled model is unusable: {exc}") from exc
    model_type = type(payload["model"])
    _PROVENANCE[rec._fitted()] = _Provenance(
        FORMAT_VERSION,
        sides["user"][2],
        sides["item"][2],
        {
            "kind": "legacy-pickle",
            "file": src.name,
            "model_class": f"{model_type.__module__}.{model_type.__qualname__}",
            "implicit_params": raw_params,
            "user_ids_without_rows": sides["user"][3],
            "item_ids_without_rows": sides["item"][3],
        },
    )
    return rec
