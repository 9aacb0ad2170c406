"""Turning interaction weights into ALS confidence values."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from alsrec.exceptions import ConfigError

__all__ = ["confidence"]


def confidence(matrix: sp.csr_matrix, alpha: float) -> sp.csr_matrix:
    """Return the confidence matrix ``c = 1 + alpha * w`` of a weight matrix.

    Only stored (observed) entries are transformed; every other pair keeps the implicit
    confidence 1 and preference 0 (Hu, Koren and Volinsky, 2008).

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix
        Non-negative interaction weights, users x items.
    alpha : float
        Confidence slope, >= 0.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> w = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 3.0]], dtype=np.float32))
    >>> confidence(w, alpha=2.0).toarray().tolist()
    [[3.0, 0.0], [0.0, 7.0]]
    """
    if not alpha >= 0:
        raise ConfigError(f"alpha must be >= 0, got {alpha!r}.")
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    out.data = (1.0 + np.float32(alpha) * out.data).astype(np.float32)
    return out
