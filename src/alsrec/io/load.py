"""Loading an artifact directory into a :class:`~alsrec.model.FittedModel`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, cast

import numpy as np
import scipy.sparse as sp

from alsrec.checks import check_bool, check_policy
from alsrec.exceptions import (
    ConfigError,
    DataError,
    MappingMismatchError,
)
from alsrec.io._files import as_path
from alsrec.params import ALSParams

if TYPE_CHECKING:
    from alsrec.types import FloatArray, IndexArray, Policy
from alsrec.io.arrays import RawArtifact, open_artifact
from alsrec.io.format import (
    MANIFEST,
    PathArg,
    artifact_error,
    artifact_mapper,
    check_manifest_digest,
    fallback_problem,
    manifest_auto_params,
    manifest_provenance,
)
from alsrec.model.fitted import (
    FittedModel,
    Provenance,
    as_factors,
    build_model,
    freeze_matrix,
)

__all__ = ["load"]


def load(
    path: PathArg, *, mmap: bool = True, policy: Policy = "safe", verify: bool = True
) -> FittedModel:
    """Load an artifact written by :func:`~alsrec.io.save` as a :class:`FittedModel`.

    :meth:`Recommender.load` wraps the result in a :class:`~alsrec.Recommender`. Loading
    imports no training backend.

    Parameters
    ----------
    path : str or os.PathLike
        The artifact directory.
    mmap : bool, default True
        Memory-map the factor matrices (read-only) instead of reading them: the operating
        system pages in what queries touch, and processes share the pages. The model then
        reads the files as long as it lives: never modify them in place (copying new files
        over them can crash the process or change its answers); save a new model to a new
        directory, or over the path (a save replaces the directory, never a file in place).
    policy : {"safe", "strict"}, default "safe"
        ``"strict"`` refuses a model whose factor rows
        and IDs disagree (:class:`~alsrec.MappingMismatchError`); ``"safe"`` loads it with an
        :class:`~alsrec.AlsrecWarning`.
    verify : bool, default True
        Check the SHA-256 of every array file, and that of the manifest's own content
        (its ``manifest_sha256`` entry; checked after the structural checks, which name
        what they find). ``False`` skips only these checks (faster on large models); all
        structural checks still run. A manifest without ``manifest_sha256`` (written by an
        earlier alsrec, which did not record it) loads as before, without this check.

    Raises
    ------
    ArtifactError
        Missing, truncated, altered or inconsistent files (including a manifest whose
        content differs from its checksum), object arrays, duplicate IDs, non-finite
        factors, a ``popular_order`` that does not rank ``popularity`` (finite, >= 0) from
        most to least popular, an ``origin``, ``training`` or ``metadata`` entry of the
        manifest that is not what alsrec writes, a directory that is not an artifact, or a
        newer format version.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from alsrec import Recommender
    >>> from alsrec.io import save
    >>> rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     model = load(save(rec.model_, Path(tmp) / "model"), mmap=False)
    >>> model.items.ids.tolist(), model.provenance.format_version
    (['a', 'b'], 1)
    """
    policy = check_policy(policy)
    mmap, verify = check_bool("mmap", mmap), check_bool("verify", verify)
    raw = open_artifact(as_path(path), mmap=mmap, verify=verify)
    try:
        model = _model_from(raw, policy)
    except BaseException:
        raw.finish()  # a checksum mismatch explains the failure best: it is raised first
        raise
    raw.finish()
    if verify:
        check_manifest_digest(raw.path / MANIFEST, raw.manifest)
    return model


def _model_from(raw: RawArtifact, policy: Policy) -> FittedModel:
    root = raw.path
    arrays = raw.arrays
    users = artifact_mapper(root, "user_ids", arrays["user_ids"])
    items = artifact_mapper(root, "item_ids", arrays["item_ids"])
    for axis, mapper, name in (("user", users, "user_factors"), ("item", items, "item_factors")):
        if len(mapper) > arrays[name].shape[0]:
            raise artifact_error(
                root / f"{name}.npy",
                f"has {arrays[name].shape[0]} rows for {len(mapper)} mapped {axis} IDs.",
            )
    order = arrays["popular_order"]
    problem = fallback_problem(arrays["popularity"], order, len(items))
    if problem is not None:
        raise artifact_error(
            root / problem[0], f"{problem[1]} The artifact is damaged or was edited."
        )
    try:
        params = ALSParams.from_dict(raw.manifest["params"])
    except (ConfigError, TypeError) as exc:
        raise artifact_error(root / MANIFEST, f"invalid 'params': {exc}") from exc
    seen = None
    if "seen_indptr" in arrays:
        seen = sp.csr_matrix(
            (arrays["seen_data"], arrays["seen_indices"], arrays["seen_indptr"]),
            shape=(len(users), len(items)),
        )
    facts = manifest_provenance(root, raw.manifest)
    created, version = raw.manifest.get("created"), raw.manifest.get("alsrec_version")
    provenance = Provenance(
        int(raw.manifest["format_version"]),
        raw.user_ranges,
        raw.item_ranges,
        facts["origin"],
        auto_params=manifest_auto_params(root, raw.manifest),
        training=facts["training"],
        metadata=facts["metadata"],
        created=created if isinstance(created, str) else None,
        alsrec_version=version if isinstance(version, str) else None,
    )
    try:
        model = build_model(
            as_factors("user_factors", arrays["user_factors"]),
            as_factors("item_factors", arrays["item_factors"]),
            users,
            items,
            seen,
            backend=str(raw.manifest["backend"]),
            params=dataclasses.replace(params, factors=max(1, arrays["user_factors"].shape[1])),
            policy=policy,
            provenance=provenance,
        )
    except MappingMismatchError as exc:
        raise MappingMismatchError(f"{root}: {exc}") from exc
    except DataError as exc:
        raise artifact_error(root, f"the stored model is invalid: {exc}") from exc
    if model.seen is not None:  # the served state is immutable, seen items included
        freeze_matrix(model.seen)
    # The fallback ranking the model was saved with, not a recomputed one.
    return dataclasses.replace(
        model,
        popularity=cast("FloatArray", np.ascontiguousarray(arrays["popularity"], np.float32)),
        popular_order=cast("IndexArray", np.ascontiguousarray(order, np.int64)),
    )
