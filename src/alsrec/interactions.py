"""A validated, immutable user x item interaction dataset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from alsrec.exceptions import DataError
from alsrec.mapping import IdMapper

if TYPE_CHECKING:
    from collections.abc import Iterable

    from alsrec.types import ExternalId, FloatArray, IdLike, IndexArray

__all__ = ["Interactions", "InteractionsSummary"]


@dataclass(frozen=True)
class InteractionsSummary:
    """Counts describing an :class:`Interactions` dataset and how it was built."""

    n_users: int
    n_items: int
    n_interactions: int
    rows_read: int
    duplicates_merged: int
    density: float

    def __str__(self) -> str:
        return (
            f"{self.n_users} users x {self.n_items} items, {self.n_interactions} interactions "
            f"(density {self.density:.3g}); {self.rows_read} rows read, "
            f"{self.duplicates_merged} duplicate (user, item) rows merged"
        )


def as_weights(weights: npt.ArrayLike | None, n: int, what: str = "weights") -> FloatArray:
    """Validate interaction weights: finite, strictly positive, one per row.

    ``None`` means weight 1.0 for every row.
    """
    if weights is None:
        return np.ones(n, dtype=np.float32)
    try:
        arr = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} must be numbers: {exc}") from exc
    if arr.ndim != 1:
        raise DataError(f"{what} must be one-dimensional, got shape {arr.shape}.")
    if arr.size != n:
        raise DataError(f"{what} has {arr.size} entries but there are {n} interactions.")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise DataError(
            f"{what} must be finite; row {int(bad[0])} is {float(arr[bad[0]])!r} "
            f"({bad.size} non-finite in all). Drop or fix those rows."
        )
    bad = np.flatnonzero(arr <= 0)
    if bad.size:
        raise DataError(
            f"{what} must be > 0; row {int(bad[0])} is {float(arr[bad[0]])!r} "
            f"({bad.size} such rows). "
            "A pair that was not observed needs no row; drop rows with weight <= 0."
        )
    return arr.astype(np.float32)


@dataclass(frozen=True, eq=False)
class Interactions:
    """Implicit feedback as a sparse ``users x items`` matrix with its two ID mappers.

    Build it with :meth:`from_arrays`. Duplicate ``(user, item)`` rows are summed. The
    matrix holds raw weights (not confidence): alsrec turns them into confidence at
    training time, with the model's ``alpha``.

    Attributes
    ----------
    users, items : IdMapper
        Row and column mappings: matrix row ``k`` is ``users.ids[k]``.
    matrix : scipy.sparse.csr_matrix
        ``float32`` weights, shape ``(len(users), len(items))``, sorted indices, no
        duplicates, no explicit zeros.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> data = Interactions.from_arrays(["u1", "u1", "u2"], ["a", "b", "a"], [1, 2, 5])
    >>> data.shape, data.nnz
    ((2, 2), 3)
    >>> data.matrix.toarray().tolist()
    [[1.0, 2.0], [5.0, 0.0]]
    """

    users: IdMapper
    items: IdMapper
    matrix: sp.csr_matrix
    rows_read: int
    duplicates_merged: int

    def __post_init__(self) -> None:
        shape = (len(self.users), len(self.items))
        if self.matrix.shape != shape:
            raise DataError(f"matrix shape {self.matrix.shape} does not match the mappers {shape}.")

    @classmethod
    def from_arrays(
        cls,
        user_ids: IdLike | Iterable[ExternalId],
        item_ids: IdLike | Iterable[ExternalId],
        weights: npt.ArrayLike | None = None,
    ) -> Interactions:
        """Build from three equal-length columns; ``weights=None`` means 1.0 per row.

        Raises
        ------
        DataError
            On empty input, length mismatch, or a weight that is NaN, infinite or <= 0.
        IdTypeError
            If the IDs of one column are not all int or all str.
        """
        users_arr = user_ids if isinstance(user_ids, np.ndarray) else list(user_ids)
        items_arr = item_ids if isinstance(item_ids, np.ndarray) else list(item_ids)
        if len(users_arr) != len(items_arr):
            raise DataError(
                f"user_ids has {len(users_arr)} entries but item_ids has {len(items_arr)}; "
                "they must have one entry per interaction."
            )
        if len(users_arr) == 0:
            raise DataError("No interactions given: user_ids and item_ids are empty.")
        w = as_weights(weights, len(users_arr))
        users, rows = IdMapper.factorize(cast("Any", users_arr), "user IDs")
        items, cols = IdMapper.factorize(cast("Any", items_arr), "item IDs")
        return cls.from_indices(users, items, rows, cols, w)

    @classmethod
    def from_indices(
        cls,
        users: IdMapper,
        items: IdMapper,
        rows: IndexArray,
        cols: IndexArray,
        weights: FloatArray,
    ) -> Interactions:
        """Build from already-mapped row/column indices (duplicates are summed)."""
        coo = sp.coo_matrix(
            (weights.astype(np.float32), (rows, cols)), shape=(len(users), len(items))
        )
        matrix = coo.tocsr()
        matrix.sum_duplicates()
        matrix.sort_indices()
        return cls(users, items, matrix, int(rows.size), int(rows.size - matrix.nnz))

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_users, n_items)``."""
        return (len(self.users), len(self.items))

    @property
    def nnz(self) -> int:
        """Number of distinct observed ``(user, item)`` pairs."""
        return int(self.matrix.nnz)

    def summary(self) -> InteractionsSummary:
        """Return counts, density and how many duplicate rows were merged.

        Examples
        --------
        >>> data = Interactions.from_arrays([1, 1, 2], [7, 7, 8])
        >>> print(data.summary())
        2 users x 2 items, 2 interactions (density 0.5); 3 rows read, 1 duplicate ...
        """
        n_users, n_items = self.shape
        cells = n_users * n_items
        return InteractionsSummary(
            n_users=n_users,
            n_items=n_items,
            n_interactions=self.nnz,
            rows_read=self.rows_read,
            duplicates_merged=self.duplicates_merged,
            density=self.nnz / cells if cells else 0.0,
        )

    def __repr__(self) -> str:
        return f"Interactions({self.summary()})"
