"""Deprecated alias of :mod:`alsrec.io` (moved there in 0.2; kept for one release).

The functions here take and return :class:`~alsrec.Recommender` objects, as before:
:func:`load` and :func:`import_legacy_pickle` return a Recommender, :func:`save` and
:func:`inspect_model` accept one (or a :class:`~alsrec.model.FittedModel`). New code uses
:mod:`alsrec.io`, which works on :class:`~alsrec.model.FittedModel`, or the
:class:`~alsrec.Recommender` methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alsrec import io
from alsrec.io import (
    FORMAT_VERSION,
    AxisReport,
    InspectionReport,
    PathArg,
    inspect_artifact,
    read_manifest,
)
from alsrec.model.fitted import FittedModel, model_of
from alsrec.recommender import Recommender

if TYPE_CHECKING:
    from pathlib import Path

    from alsrec.types import Policy

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


def save(rec: Recommender | FittedModel, path: PathArg, *, overwrite: bool = True) -> Path:
    """Deprecated alias of :func:`alsrec.io.save` (also :meth:`Recommender.save`)."""
    return io.save(model_of(rec), path, overwrite=overwrite)


def load(
    path: PathArg, *, mmap: bool = True, policy: Policy = "safe", verify: bool = True
) -> Recommender:
    """Deprecated alias of :meth:`Recommender.load`."""
    return Recommender.load(path, mmap=mmap, policy=policy, verify=verify)


def import_legacy_pickle(path: PathArg, *, trusted: bool, policy: Policy = "safe") -> Recommender:
    """Deprecated alias of :meth:`Recommender.from_legacy_pickle`."""
    return Recommender.from_legacy_pickle(path, trusted=trusted, policy=policy)


def inspect_model(rec: Recommender | FittedModel) -> InspectionReport:
    """Deprecated alias of :func:`alsrec.io.inspect_model` (also :meth:`Recommender.inspect`)."""
    return io.inspect_model(model_of(rec))
