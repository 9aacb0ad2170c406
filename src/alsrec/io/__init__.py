"""Saved models: the artifact format, save, load, inspect, and the legacy pickle import.

Every function here works on a :class:`~alsrec.model.FittedModel`; the
:class:`~alsrec.Recommender` methods (``save``, ``load``, ``inspect``,
``from_legacy_pickle``) delegate to them. Importing this package (and loading a model)
imports no training backend.

- :mod:`alsrec.io.format`: the on-disk layout and the manifest;
- :mod:`alsrec.io.arrays`: opening an artifact and the checked reading of its arrays;
- :mod:`alsrec.io.save`: :func:`save`, atomic, and :func:`check_destination`;
- :mod:`alsrec.io.load`: :func:`load`;
- :mod:`alsrec.io.inspect`: :func:`inspect_model`, :func:`inspect_artifact`;
- :mod:`alsrec.io.legacy`: :func:`import_legacy_pickle`.
"""

from alsrec.io.format import (
    FORMAT_VERSION,
    MAX_ID_WIDTH,
    MAX_MANIFEST_BYTES,
    PathArg,
    read_manifest,
)
from alsrec.io.inspect import AxisReport, InspectionReport, inspect_artifact, inspect_model
from alsrec.io.legacy import import_legacy_pickle
from alsrec.io.load import load
from alsrec.io.save import check_destination, save

__all__ = [
    "FORMAT_VERSION",
    "MAX_ID_WIDTH",
    "MAX_MANIFEST_BYTES",
    "AxisReport",
    "InspectionReport",
    "PathArg",
    "check_destination",
    "import_legacy_pickle",
    "inspect_artifact",
    "inspect_model",
    "load",
    "read_manifest",
    "save",
]
