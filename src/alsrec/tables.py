"""Columns of numpy arrays to a pandas or polars DataFrame, neither a dependency of alsrec.

The one place results become data frames (:meth:`alsrec.Recommendations.to_frame`,
:meth:`alsrec.BatchRecommendations.to_frame`). The library is imported when a frame is
asked for; a missing one raises :class:`~alsrec.BackendUnavailableError` with the install
command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal

from alsrec.exceptions import BackendUnavailableError, ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy as np
    import numpy.typing as npt

__all__ = ["FRAME_BACKENDS", "FrameBackend", "to_frame"]

FrameBackend = Literal["pandas", "polars"]
"""The DataFrame libraries :func:`to_frame` can build."""

FRAME_BACKENDS: tuple[FrameBackend, ...] = ("pandas", "polars")


def to_frame(columns: Mapping[str, npt.NDArray[np.generic]], backend: str = "pandas") -> Any:
    """A ``backend`` DataFrame with ``columns`` (name -> 1-d array of one length).

    Raises
    ------
    ConfigError
        ``backend`` is neither ``"pandas"`` nor ``"polars"``.
    BackendUnavailableError
        The library is not installed; the message says how to install it.

    Examples
    --------
    >>> import numpy as np
    >>> to_frame({"id": np.array(["a", "b"]), "score": np.array([0.5, 0.25])}).shape
    (2, 2)
    """
    if backend not in FRAME_BACKENDS:
        raise ConfigError(f"to_frame(backend={backend!r}): choose one of {list(FRAME_BACKENDS)}.")
    try:
        library = importlib.import_module(backend)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"to_frame(backend={backend!r}) needs {backend}, which is not installed; "
            f"install it with `pip install {backend}`, or choose the other backend of "
            f"{list(FRAME_BACKENDS)}."
        ) from exc
    data = {
        name: values.tolist() if values.dtype.kind == "O" else values
        for name, values in columns.items()
    }
    return library.DataFrame(data)
