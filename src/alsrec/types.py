"""Named type aliases used across alsrec's public signatures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "ExternalId",
    "FactorMatrix",
    "FloatArray",
    "IdArray",
    "IdLike",
    "IndexArray",
    "Policy",
    "RandomState",
    "Source",
]

ExternalId: TypeAlias = int | str
"""One external user or item ID: a Python ``int`` or ``str``."""

IdArray: TypeAlias = npt.NDArray[np.int64 | np.str_]
"""A numpy array of external IDs: ``int64`` or fixed-width unicode (``<U``)."""

IdLike: TypeAlias = Sequence[int] | Sequence[str] | npt.NDArray[np.generic]
"""Anything accepted where several IDs are expected: a list/tuple or a 1-d array."""

IndexArray: TypeAlias = npt.NDArray[np.int64]
"""Matrix row indices (``int64``); ``-1`` marks "no index" where documented."""

FloatArray: TypeAlias = npt.NDArray[np.float32]
"""A ``float32`` array (scores, weights)."""

FactorMatrix: TypeAlias = npt.NDArray[np.float32]
"""A C-contiguous ``float32`` matrix of shape ``(rows, factors)``."""

RandomState: TypeAlias = int | np.random.Generator | None
"""A seed, a numpy ``Generator``, or ``None`` for fresh entropy."""

Policy: TypeAlias = Literal["safe", "strict"]
"""How unknown IDs and unmapped matrix rows are handled (see the Concepts page)."""

Source: TypeAlias = Literal["model", "fold-in", "fallback"]
"""Where a result came from: stored factors, a fold-in solve, or the popularity fallback."""
