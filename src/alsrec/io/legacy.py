"""Importing a legacy ``recommender_artifacts.pkl`` (an implicit model plus four ID dicts).

Unpickling runs code: :func:`import_legacy_pickle` refuses unless the caller vouches for the
file. The implicit model is read by :func:`alsrec.interop.implicit.read_implicit_model`, the
one reader of implicit models.
"""

from __future__ import annotations

import pickle
import warnings
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from alsrec.checks import check_policy
from alsrec.exceptions import (
    AlsrecWarning,
    ArtifactError,
    DataError,
    MappingMismatchError,
    NotFittedError,
)
from alsrec.ids import as_id_array
from alsrec.io._files import as_path
from alsrec.logs import warn as warn_and_log
from alsrec.mapping import IdMapper

if TYPE_CHECKING:
    from pathlib import Path

    from alsrec.types import IdArray, IndexArray, Policy
from alsrec.interop.implicit import ImplicitModel, read_implicit_model
from alsrec.io.format import (
    FORMAT_VERSION,
    PathArg,
    artifact_error,
    format_ranges,
    index_ranges,
    python_id,
)
from alsrec.model.fitted import FittedModel, Provenance, as_factors, build_model

__all__ = ["import_legacy_pickle"]

_LEGACY_KEYS = ("model", "user_id_to_idx", "idx_to_user_id", "item_id_to_idx", "idx_to_item_id")


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
        raise artifact_error(path, f"cannot be read ({exc}).") from exc
    except Exception as exc:  # unpickling can raise anything the file's code raises
        text = f"{type(exc).__name__}: {exc}"
        hint = ""
        if "gpu" in text.lower() or "cuda" in text.lower() or "Matrix" in text:
            hint = (
                " It seems to hold an implicit GPU model, which needs implicit's CUDA "
                "extension to unpickle. On a GPU machine, replace the model by "
                "model.to_cpu() and pickle the dict again."
            )
        raise artifact_error(path, f"cannot be unpickled ({text}).{hint}") from exc


def _read_model(path: Path, model: object) -> ImplicitModel:
    try:
        return read_implicit_model(model, check_class=False)
    except (NotFittedError, DataError) as exc:
        raise artifact_error(path, str(exc)) from exc


_MAX_INDEX = np.iinfo(np.int64).max


def _as_index(path: Path, what: str, value: object) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise artifact_error(
            path,
            f"{what} is {value!r} ({type(value).__name__}); indices must be non-negative integers.",
        )
    if int(value) < 0:
        raise artifact_error(path, f"{what} is {value!r}; indices must be non-negative.")
    if int(value) > _MAX_INDEX:
        shown = f"{value!r}" if int(value).bit_length() <= 256 else "a number above 2**256"
        raise artifact_error(
            path,
            f"{what} is {shown}; indices must be below 2**63 (a factor row's index). Fix "
            "the dict, then import again.",
        )
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
            raise artifact_error(path, f"{name!r} is a {type(value).__name__}, expected a dict.")
    fwd = cast("dict[object, object]", id_to_idx)
    back = cast("dict[object, object]", idx_to_id)
    claimed: dict[int, object] = {}
    for id_, idx in fwd.items():
        index = _as_index(path, f"{fwd_name}[{id_!r}]", idx)
        if index in claimed:
            raise artifact_error(
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
        raise artifact_error(
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
        raise artifact_error(path, str(exc)) from exc
    return ids, indices[order]


_Side = tuple["IdArray", "npt.NDArray[Any]", tuple[tuple[int, int], ...], int]
"""IDs, factor rows (mapped first), unmapped index ranges, IDs without rows."""


def _legacy_side(
    src: Path, axis: str, factors: npt.NDArray[Any], payload: dict[Any, Any], policy: Policy
) -> _Side:
    """One side of the pickle: its IDs checked against the factor rows, rows reordered."""
    ids, indices = _legacy_axis(
        src, axis, payload[f"{axis}_id_to_idx"], payload[f"idx_to_{axis}_id"]
    )
    rows = int(factors.shape[0])
    beyond = indices >= rows
    if beyond.any():
        first = python_id(ids[np.flatnonzero(beyond)[0]])
        msg = (
            f"{src}: {int(beyond.sum())} {axis} IDs point past the {rows} {axis} factor "
            f"rows (e.g. {first!r} -> index {int(indices[beyond][0])}); they have no "
            "factors"
        )
        if policy == "strict":
            raise MappingMismatchError(msg + "; the 'strict' policy refuses such a model.")
        warn_and_log(msg + " and are treated as unknown.", AlsrecWarning, stacklevel=4)
        ids, indices = ids[~beyond], indices[~beyond]
    unmapped = np.setdiff1d(np.arange(rows, dtype=np.int64), indices, assume_unique=True)
    if indices.size == rows and np.array_equal(indices, np.arange(rows)):
        ordered = factors
    else:
        ordered = factors[np.concatenate((indices, unmapped))]
    return ids, ordered, index_ranges(unmapped), int(beyond.sum())


_NO_SEEN = (
    "the pickle holds no interactions, so the imported model excludes no seen items "
    "(implicit's recommend(..., user_items) filtered them) and its fallback ranks items by "
    "factor norm. Retrain with alsrec, or attach the training interactions with "
    "Recommender.from_factors(..., seen=...): see 'Seen items after the import' in the "
    "artifacts guide."
)
"""What every legacy import warns about (the pickle's dicts and model hold no interactions)."""


def import_legacy_pickle(path: PathArg, *, trusted: bool, policy: Policy = "safe") -> FittedModel:
    """Import a hand-built ``recommender_artifacts.pkl`` (an implicit model and ID dicts).

    The pickle must hold the dict ``{"model": <implicit ALS model>, "user_id_to_idx": {...},
    "idx_to_user_id": {...}, "item_id_to_idx": {...}, "idx_to_item_id": {...}}``. Loading a
    pickle runs code, so this refuses to open the file unless ``trusted=True``. Save the
    result with :func:`~alsrec.io.save` and use that safe artifact from then on.
    :meth:`Recommender.from_legacy_pickle` wraps the result in a :class:`~alsrec.Recommender`.

    The model is read by :func:`alsrec.interop.implicit.read_implicit_model`: CPU models
    through their ``user_factors`` and ``item_factors``; GPU models with ``to_numpy()`` or
    ``to_cpu()`` (which needs implicit's CUDA extension). IDs may
    be all int or all str. The two dicts of each side must be inverse of each other.

    The mapping may have holes (factor rows without an ID, e.g. 1000 item rows but 950
    mapped items, anywhere in the index range): the factor rows are reordered so that mapped
    rows come first, in index order, and unmapped rows after; the original unmapped index
    ranges are kept for :meth:`Recommender.inspect` and in the saved manifest. Under
    ``policy="safe"`` such a model loads with an :class:`~alsrec.AlsrecWarning` and never
    returns unmapped rows; ``"strict"`` refuses it. IDs whose index has no factor row are
    dropped with a warning (``"safe"``) or refused (``"strict"``).

    The pickle holds no interactions, so the model excludes no seen items (implicit's
    ``recommend(userid, user_items[userid])`` did) and its popularity fallback ranks items
    by factor norm; every import says so in an :class:`~alsrec.AlsrecWarning`. Retrain
    with alsrec, or attach the training interactions with
    :meth:`Recommender.from_factors` (``seen=``), as the artifacts guide shows.

    Parameters
    ----------
    path : str or os.PathLike
        The pickle file.
    trusted : bool
        Must be ``True``: you vouch that the file is not malicious.
    policy : {"safe", "strict"}, default "safe"
        Policy of the mapping checks above.

    Raises
    ------
    ArtifactError
        ``trusted`` is not ``True``, the file cannot be unpickled, lacks a key, holds an
        unfitted or non-ALS model, or its dicts disagree.
    MappingMismatchError
        Under ``"strict"``, when factor rows and IDs do not match one to one.
    """
    src = as_path(path)
    policy = check_policy(policy)
    if trusted is not True:
        raise _refuse_untrusted(src)
    if src.is_dir():
        raise artifact_error(
            src, "it is a directory; pass the pickle file itself (e.g. model.pkl)."
        )
    if not src.is_file():
        raise artifact_error(src, "no such file.")
    payload = _unpickle(src)
    if not isinstance(payload, dict):
        raise artifact_error(
            src,
            f"holds a {type(payload).__name__}, expected the dict with keys {list(_LEGACY_KEYS)}.",
        )
    absent = [k for k in _LEGACY_KEYS if k not in payload]
    if absent:
        raise artifact_error(
            src,
            f"the pickled dict lacks {absent}; found keys {sorted(map(str, payload))}. "
            f"Expected {list(_LEGACY_KEYS)}.",
        )
    read = _read_model(src, payload["model"])
    uf_raw, itf_raw = read.user_factors, read.item_factors
    sides = {
        axis: _legacy_side(src, axis, factors, payload, policy)
        for axis, factors in (("user", uf_raw), ("item", itf_raw))
    }
    holes = [
        f"{len(ordered) - ids.size} of the {len(ordered)} {axis} factor rows have no ID "
        f"(the pickle's indices {format_ranges(ranges)})"
        for axis, (ids, ordered, ranges, _) in sides.items()
        if ranges
    ]
    if holes and policy == "strict":
        raise MappingMismatchError(
            f"{src}: {'; '.join(holes)}. The 'strict' policy refuses such a model; use "
            "policy='safe' to import it without those rows, or fix the mapping."
        )
    for hole in holes:
        warn_and_log(
            f"{src}: {hole}; they are moved after the mapped rows and never returned.",
            AlsrecWarning,
            stacklevel=2,
        )
    model_type = type(payload["model"])
    provenance = Provenance(
        FORMAT_VERSION,
        sides["user"][2],
        sides["item"][2],
        {
            "kind": "legacy-pickle",
            "file": src.name,
            "model_class": f"{model_type.__module__}.{model_type.__qualname__}",
            "implicit_params": read.raw_params,
            "user_ids_without_rows": sides["user"][3],
            "item_ids_without_rows": sides["item"][3],
        },
    )
    warn_and_log(f"{src}: {_NO_SEEN}", AlsrecWarning, stacklevel=None)
    try:
        with warnings.catch_warnings():
            if holes:  # already reported above, in the pickle's numbering
                warnings.simplefilter("ignore", AlsrecWarning)
            return build_model(
                as_factors("user factors", sides["user"][1]),
                as_factors("item factors", sides["item"][1]),
                IdMapper(sides["user"][0]),
                IdMapper(sides["item"][0]),
                backend="implicit",
                params=read.params,
                policy=policy,
                provenance=provenance,
            )
    except DataError as exc:
        raise artifact_error(src, f"the pickled model is unusable: {exc}") from exc
