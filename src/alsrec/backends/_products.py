"""Dense work of the numpy backend's sweeps outside the row blocks: the arrays a fit reuses
(:class:`Workspace`) and the products over a whole factor matrix that the large-factor dual
solver (``_solve_dual`` in :mod:`alsrec.backends._numpy`) computes once per sweep: the lower
triangle of the Gram matrix (:func:`lower_gram`) and triangular products by BLAS ``trmm``
(:func:`lower_products`), in row chunks of a fixed size (:func:`product_chunks`), so that
results do not depend on the thread count.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
import scipy.linalg

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from concurrent.futures import ThreadPoolExecutor

    from alsrec.types import FactorMatrix

__all__ = [
    "PRODUCT_ROWS",
    "Workspace",
    "lower_gram",
    "lower_products",
    "product_chunks",
    "times_lower_in_place",
]

_T = TypeVar("_T")
_R = TypeVar("_R")

PRODUCT_ROWS = 8192
"""Rows per chunk of the per-sweep products over a whole factor matrix in the dual solver
(a fixed size, so results do not depend on the thread count)."""


def product_chunks(rows: int) -> list[slice]:
    """Row chunks of ``PRODUCT_ROWS`` for a per-sweep product over ``rows`` rows.

    Chunks of a few hundred rows, to spread small data's triangular products over the
    worker threads, were measured slower: scipy's BLAS wrappers keep the GIL during the
    call, so ``trmm`` calls run one at a time whatever the number of threads.
    """
    return [slice(a, a + PRODUCT_ROWS) for a in range(0, rows, PRODUCT_ROWS)]


def _map(fn: Callable[[_T], _R], items: list[_T], pool: ThreadPoolExecutor | None) -> Iterator[_R]:
    """``fn`` over ``items``, on the pool when there is one; results in order."""
    return pool.map(fn, items) if pool is not None else map(fn, items)


class Workspace:
    """Arrays a fit reuses from sweep to sweep (by name and shape): fresh arrays of a few
    MiB every sweep cost page faults, a tenth of a 512-factor fit (measured)."""

    def __init__(self) -> None:
        self._arrays: dict[tuple[str, tuple[int, ...]], npt.NDArray[np.floating]] = {}
        self._local = threading.local()

    def scratch(self, shape: tuple[int, ...]) -> FactorMatrix:
        """An uninitialised float32 array of ``shape`` on this thread's own buffer (a
        block's gathered factors): the same memory for every block the thread solves."""
        size = math.prod(shape)
        buffer: npt.NDArray[np.float32] | None = getattr(self._local, "buffer", None)
        if buffer is None or buffer.size < size:
            buffer = self._local.buffer = np.empty(size, dtype=np.float32)
        return cast("FactorMatrix", buffer[:size].reshape(shape))

    def gather(self, fixed: FactorMatrix, cols: npt.NDArray[np.int32]) -> FactorMatrix:
        """``fixed[cols]`` into this thread's scratch buffer."""
        out = self.scratch((*cols.shape, fixed.shape[1]))
        np.take(fixed, cols, axis=0, out=out, mode="clip")  # "clip": not buffered; in range
        return out

    def array(
        self, name: str, shape: tuple[int, ...], dtype: type[np.floating], *, fortran: bool = False
    ) -> Any:
        """An uninitialised array of this name and shape, the same one at every call."""
        key = (name, shape)
        found = self._arrays.get(key)
        if found is None:
            found = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
            self._arrays[key] = found
        return found


def lower_gram(
    fixed: FactorMatrix, pool: ThreadPoolExecutor | None, work: Workspace
) -> npt.NDArray[np.float64]:
    """``YᵀY`` in float64 and Fortran order, correct in its lower triangle (the only one
    LAPACK reads), from two products of equal size, one per worker thread (numpy's
    matrix product releases the GIL): columns ``:h`` and the square ``h:, h:``, with
    ``h ≈ 0.38 f`` (where ``f h = (f - h)²``). The split depends on ``f`` alone, so the
    result does not depend on the thread count."""
    factors = fixed.shape[1]
    h = min(factors - 1, max(1, round(factors * 0.382)))
    gram = work.array("gram", (factors, factors), np.float64, fortran=True)
    gram[:h, h:] = 0
    parts = [  # (rows, columns) of the Gram matrix, and a float32 buffer for each
        (slice(0, factors), slice(0, h), work.array("gram_left", (factors, h), np.float32)),
        (
            slice(h, factors),
            slice(h, factors),
            work.array("gram_right", (factors - h,) * 2, np.float32),
        ),
    ]

    def product(part: tuple[slice, slice, FactorMatrix]) -> None:
        rows, cols, out = part
        np.matmul(fixed[:, rows].T, fixed[:, cols], out=out)
        gram[rows, cols] = out

    for _ in _map(product, parts, pool):
        pass
    return cast("npt.NDArray[np.float64]", gram)


def lower_products(
    out: FactorMatrix,
    lower: npt.NDArray[np.float32],
    chunks: list[slice],
    *,
    source: Callable[[slice], FactorMatrix] | None = None,
    transpose: bool = False,
) -> None:
    """``out[c] = out[c] @ lower`` (``@ lower.T`` with ``transpose``) for each chunk ``c``,
    in place, after copying ``source(c)`` into ``out[c]`` when a source is given: one
    write per row and no stacking of the parts.

    On the calling thread: scipy's BLAS wrappers keep the GIL during ``trmm`` (two threads
    ran 40 products of 8192 x 256 rows in 0.26 s, one in 0.24 s), so worker threads would
    run the chunks one at a time anyway. Measured against handing them to the pool:
    paired fit-time ratios 0.96 (synthetic 50k x 10k, 256 factors) and 0.98 (MovieLens-100k),
    medians of 4 and 12 interleaved pairs, i.e. no slower and a little simpler."""
    for chunk in chunks:
        rows = out[chunk]
        if source is not None:
            rows[...] = source(chunk)
        times_lower_in_place(rows, lower, transpose=transpose)


def times_lower_in_place(
    rows: FactorMatrix, lower: npt.NDArray[np.float32], *, transpose: bool = False
) -> None:
    """``rows = rows @ lower`` (``@ lower.T`` with ``transpose``) for C-ordered float32
    ``rows`` and a lower-triangular ``lower`` (Fortran order), by BLAS ``trmm``: half the
    flops of a general product and measured 2.7-3.2x faster than ``@`` at 256-512 factors.

    Row-major ``rows`` is the column-major ``rowsᵀ``, and ``(rows L)ᵀ = Lᵀ rowsᵀ``: one
    left-side ``trmm`` on the transposed view overwrites it with the result.
    """
    if rows.size == 0:
        return
    result = scipy.linalg.blas.strmm(
        1.0, lower, rows.T, side=0, lower=1, trans_a=0 if transpose else 1, overwrite_b=1
    )
    if not np.shares_memory(result, rows):  # BLAS worked on a copy
        rows[...] = result.T
