"""Result objects returned by :class:`~alsrec.Recommender` queries."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast, overload

import numpy as np
import numpy.typing as npt

from alsrec.exceptions import IdTypeError
from alsrec.logs import logger
from alsrec.tables import to_frame
from alsrec.types import ExternalId, FloatArray, IdArray, IndexArray, Source

if TYPE_CHECKING:
    from alsrec.mapping import IdMapper
    from alsrec.tables import FrameBackend

__all__ = [
    "BatchRecommendations",
    "ItemScores",
    "Recommendations",
    "batch_at",
    "recommendations_at",
]

_INT_PAD = np.iinfo(np.int64).min


def _readonly(arr: npt.NDArray[np.generic]) -> None:
    arr.flags.writeable = False


@dataclass(frozen=True, eq=False)
class Recommendations(Sequence[tuple[ExternalId, float]]):
    """A ranked list of ``(external_id, score)`` pairs, best first.

    It is a read-only sequence: iterate it, index it, take ``len``. The arrays
    :attr:`ids` and :attr:`scores` give the same data for vectorized use.

    Attributes
    ----------
    query : int or str or None
        The user or item the list was computed for (``None`` for an anonymous history).
    ids : numpy.ndarray
        External IDs, best first (``int64`` or unicode).
    scores : numpy.ndarray of float32
        The score of each ID. For ``source="model"`` and ``"fold-in"``: the dot product of
        user and item factors (``recommend``) or the cosine similarity of factor vectors
        (``similar_items``, ``similar_users``); only comparable within one list. For
        ``source="fallback"``: the number of training users who interacted with the item
        (for a model built without training interactions, the norm of its factor vector).
    source : {"model", "fold-in", "fallback"}
        Where the list came from: the stored factors, factors folded in from a history, or
        the popularity fallback for an unknown user.
    skipped : tuple
        IDs that were given (the query or candidates) but are unknown to the model and
        were skipped under the ``"safe"`` policy.

    Examples
    --------
    >>> import numpy as np
    >>> recs = Recommendations("u1", np.array(["a", "b"]), np.array([0.9, 0.5], np.float32))
    >>> [(item, round(score, 2)) for item, score in recs]
    [('a', 0.9), ('b', 0.5)]
    >>> recs[0][0], len(recs), recs.source
    ('a', 2, 'model')
    """

    query: ExternalId | None
    ids: IdArray
    scores: FloatArray
    source: Source = "model"
    skipped: tuple[ExternalId, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.ids.shape != self.scores.shape or self.ids.ndim != 1:
            raise ValueError(
                f"ids and scores must be 1-d and of equal length, got {self.ids.shape} "
                f"and {self.scores.shape}."
            )
        _readonly(self.ids)
        _readonly(self.scores)

    def __len__(self) -> int:
        return int(self.ids.size)

    @overload
    def __getitem__(self, index: int) -> tuple[ExternalId, float]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[ExternalId, float]]: ...

    def __getitem__(
        self, index: int | slice
    ) -> tuple[ExternalId, float] | Sequence[tuple[ExternalId, float]]:
        if isinstance(index, slice):
            return self.to_list()[index]
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            span = f"0 to {len(self) - 1}" if len(self) else "there are no results"
            raise IdTypeError(
                f"Results are indexed by rank position ({span}), got {index!r}; to look a "
                f"score up by ID, use dict(recs).get({index!r})."
            )
        if not -len(self) <= index < len(self):
            raise IndexError(f"position {index} out of range for {len(self)} results")
        return self.to_list()[index]

    def __iter__(self) -> Iterator[tuple[ExternalId, float]]:
        return iter(self.to_list())

    def to_list(self) -> list[tuple[ExternalId, float]]:
        """Return the pairs as a list of ``(id, score)`` with Python ``int``/``str``/``float``."""
        ids = cast("list[ExternalId]", self.ids.tolist())
        scores = cast("list[float]", self.scores.tolist())
        return list(zip(ids, scores, strict=False))

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """The list as a long-format DataFrame: one row per result, best first.

        Columns ``query`` (the queried ID, ``None`` for an anonymous history), ``rank``
        (1-based), ``id``, ``score`` and ``source``; the same columns as
        :meth:`BatchRecommendations.to_frame`, so frames of single and batch calls concatenate.

        Parameters
        ----------
        backend : {"pandas", "polars"}, default "pandas"
            The library to build the frame with; neither is a dependency of alsrec, and a
            missing one raises :class:`~alsrec.BackendUnavailableError` with the install hint.

        Examples
        --------
        >>> import numpy as np
        >>> recs = Recommendations("u1", np.array(["a", "b"]), np.array([0.9, 0.5], np.float32))
        >>> recs.to_frame()[["query", "rank", "id", "source"]].values.tolist()
        [['u1', 1, 'a', 'model'], ['u1', 2, 'b', 'model']]
        """
        size = len(self)
        # Typed columns, also when empty, so that frames of several calls concatenate
        # without casts (an empty object column would become float64).
        query = np.full(size, self.query, dtype=object if self.query is None else None)
        columns = {
            "query": query,
            "rank": np.arange(1, size + 1, dtype=np.int64),
            "id": self.ids,
            "score": self.scores,
            "source": np.full(size, self.source),
        }
        return to_frame(columns, backend)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Recommendations):
            return NotImplemented
        return (
            self.query == other.query
            and self.source == other.source
            and self.skipped == other.skipped
            and np.array_equal(self.ids, other.ids)
            and np.array_equal(self.scores, other.scores)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"({i!r}, {s:.4g})" for i, s in self.to_list()[:3])
        more = ", ..." if len(self) > 3 else ""
        extra = f", skipped={self.skipped!r}" if self.skipped else ""
        return (
            f"Recommendations(query={self.query!r}, source={self.source!r}, "
            f"n={len(self)}: [{shown}{more}]{extra})"
        )


@dataclass(frozen=True, eq=False)
class BatchRecommendations:
    """Results for many queries at once, as fixed-shape arrays.

    Row ``i`` answers query ``i``. Its shape is ``(len(queries), k)``, where ``k`` is the
    ``n`` asked for capped at the number of candidates (the model's items, or the known
    ``items=`` candidates); a row with fewer than ``k`` eligible results is padded at the
    end.

    Padding: :attr:`mask` is ``False``; :attr:`scores` is ``NaN``; :attr:`ids` holds
    ``""`` (string IDs, never a valid ID) or the smallest ``int64`` (integer IDs). Use
    :attr:`mask`, or iterate, which drops padding.

    Attributes
    ----------
    queries : numpy.ndarray
        The queried user or item IDs, in the given order.
    ids : numpy.ndarray, shape (n_queries, k)
        Recommended or similar IDs, best first per row.
    scores : numpy.ndarray of float32, shape (n_queries, k)
        Scores, as in :class:`Recommendations`.
    mask : numpy.ndarray of bool, shape (n_queries, k)
        ``True`` where a slot holds a result.
    sources : numpy.ndarray of str, shape (n_queries,)
        ``"model"``, ``"fold-in"`` or ``"fallback"`` per row.
    skipped : tuple
        IDs skipped under the ``"safe"`` policy (unknown candidates or queries).

    Examples
    --------
    >>> import numpy as np
    >>> batch = BatchRecommendations(
    ...     queries=np.array(["u1", "u2"]),
    ...     ids=np.array([["a", "b"], ["c", ""]]),
    ...     scores=np.array([[0.9, 0.5], [0.7, np.nan]], np.float32),
    ...     mask=np.array([[True, True], [True, False]]),
    ...     sources=np.array(["model", "model"]),
    ... )
    >>> batch.ids.shape, [len(r) for r in batch]
    ((2, 2), [2, 1])
    """

    queries: IdArray
    ids: IdArray
    scores: FloatArray
    mask: npt.NDArray[np.bool_]
    sources: npt.NDArray[np.str_]
    skipped: tuple[ExternalId, ...] = field(default=())

    def __post_init__(self) -> None:
        if not (self.ids.shape == self.scores.shape == self.mask.shape) or self.ids.ndim != 2:
            raise ValueError("ids, scores and mask must be 2-d arrays of one shape.")
        if self.queries.shape != (self.ids.shape[0],) or self.sources.shape != self.queries.shape:
            raise ValueError("queries and sources need one entry per row of ids.")
        for arr in (self.queries, self.ids, self.scores, self.mask, self.sources):
            _readonly(arr)

    def __len__(self) -> int:
        return int(self.queries.size)

    def __getitem__(self, row: int) -> Recommendations:
        """Return row ``row`` as a :class:`Recommendations`, padding removed.

        The row's ``skipped`` is empty: the batch lists what it skipped once, for all its
        rows, in :attr:`skipped` (which query or history an ID came from is not kept)."""
        if isinstance(row, (bool, np.bool_)) or not isinstance(row, (int, np.integer)):
            raise IdTypeError(
                f"Rows of a batch are indexed by position (0 to {len(self) - 1}), got "
                f"{row!r}; to look a query up by ID, use batch.to_dict()[{row!r}]."
            )
        if not -len(self) <= row < len(self):
            raise IndexError(f"row {row} out of range for {len(self)} queries")
        keep = self.mask[row]
        query = cast("ExternalId", self.queries[row].item())
        return Recommendations(
            query,
            self.ids[row][keep].copy(),
            self.scores[row][keep].copy(),
            cast("Source", str(self.sources[row])),
        )

    def __iter__(self) -> Iterator[Recommendations]:
        return (self[i] for i in range(len(self)))

    def to_dict(self) -> dict[ExternalId, list[tuple[ExternalId, float]]]:
        """Return ``{query: [(id, score), ...]}`` with padding removed.

        A query given twice appears once.
        """
        return {cast("ExternalId", r.query): r.to_list() for r in self}

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """The results as a long-format DataFrame: one row per result, padding dropped.

        Columns ``query``, ``rank`` (1-based within its query), ``id``, ``score`` and
        ``source``, in query order then rank; a query without results has no row. See
        :meth:`Recommendations.to_frame` for ``backend``.

        Examples
        --------
        >>> import numpy as np
        >>> batch = BatchRecommendations(
        ...     queries=np.array(["u1", "u2"]),
        ...     ids=np.array([["a", "b"], ["c", ""]]),
        ...     scores=np.array([[0.9, 0.5], [0.7, np.nan]], np.float32),
        ...     mask=np.array([[True, True], [True, False]]),
        ...     sources=np.array(["model", "fallback"]),
        ... )
        >>> batch.to_frame()[["query", "rank", "id", "source"]].values.tolist()
        [['u1', 1, 'a', 'model'], ['u1', 2, 'b', 'model'], ['u2', 1, 'c', 'fallback']]
        """
        rows, cols = np.nonzero(self.mask)
        columns = {
            "query": self.queries[rows],
            "rank": (cols + 1).astype(np.int64),
            "id": self.ids[rows, cols],
            "score": self.scores[rows, cols],
            "source": self.sources[rows],
        }
        return to_frame(columns, backend)

    def __repr__(self) -> str:
        n_rows, n = self.ids.shape
        return (
            f"BatchRecommendations({n_rows} queries x n={n}, "
            f"{int(self.mask.sum())} results, skipped={len(self.skipped)})"
        )


@dataclass(frozen=True, eq=False)
class ItemScores:
    """The scores of given items for one user (:meth:`alsrec.Recommender.score`).

    Attributes
    ----------
    query : int or str
        The user.
    ids : numpy.ndarray
        The known items, in the given order (or best first with ``ranked=True``).
    scores : numpy.ndarray of float32
        Their scores (dot products; for ``source="fallback"``, popularity counts).
    seen : numpy.ndarray of bool
        ``True`` where the user interacted with the item in training.
    source : {"model", "fallback"}
        The stored factors, or the popularity fallback for an unknown user.
    skipped : tuple
        Unknown items, skipped under the ``"safe"`` policy.

    Examples
    --------
    >>> import numpy as np
    >>> s = ItemScores("u", np.array(["a", "b"]), np.array([0.5, 0.9], np.float32),
    ...                np.array([True, False]))
    >>> s.to_dict()
    {'a': 0.5, 'b': 0.8999999761581421}
    """

    query: ExternalId
    ids: IdArray
    scores: FloatArray
    seen: npt.NDArray[np.bool_]
    source: Source = "model"
    skipped: tuple[ExternalId, ...] = field(default=())

    def __post_init__(self) -> None:
        if not (self.ids.shape == self.scores.shape == self.seen.shape) or self.ids.ndim != 1:
            raise ValueError("ids, scores and seen must be 1-d arrays of one length.")
        for arr in (self.ids, self.scores, self.seen):
            _readonly(arr)

    def __len__(self) -> int:
        return int(self.ids.size)

    def to_dict(self) -> dict[ExternalId, float]:
        """``{item_id: score}`` in order."""
        return {
            cast("ExternalId", i): float(v)
            for i, v in zip(self.ids.tolist(), self.scores.tolist(), strict=True)
        }

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """A DataFrame with columns ``query``, ``id``, ``score``, ``seen`` and ``source``."""
        size = len(self)
        query = np.empty(size, dtype=object)
        query[:] = [self.query] * size
        columns = {
            "query": query,
            "id": self.ids,
            "score": self.scores,
            "seen": self.seen,
            "source": np.full(size, self.source, dtype=object),
        }
        return to_frame(columns, backend)


def recommendations_at(
    query: ExternalId | None,
    mapper: IdMapper,
    pos: IndexArray,
    vals: FloatArray,
    source: Source,
    skipped: tuple[ExternalId, ...],
) -> Recommendations:
    """:class:`Recommendations` of the mapped indices ``pos`` (``-1`` = padding, dropped)."""
    keep = pos >= 0
    if source == "fallback":
        logger.debug("query %r: answered by the popularity fallback", query)
    if skipped:
        logger.debug("query %r: skipped unknown IDs %s", query, list(skipped))
    return Recommendations(query, mapper.to_id(pos[keep]), vals[keep].copy(), source, skipped)


def _pad_ids(mapper: IdMapper, shape: tuple[int, ...]) -> IdArray:
    if mapper.kind == "str":
        width = max(1, mapper.ids.dtype.itemsize // 4)
        return cast("IdArray", np.full(shape, "", dtype=f"<U{width}"))
    return cast("IdArray", np.full(shape, _INT_PAD, dtype=np.int64))


def batch_at(
    queries: IdArray,
    mapper: IdMapper,
    pos: IndexArray,
    vals: FloatArray,
    sources: npt.NDArray[np.str_],
    skipped: tuple[ExternalId, ...],
) -> BatchRecommendations:
    """:class:`BatchRecommendations` of the mapped indices ``pos`` (``-1`` = padding)."""
    mask = pos >= 0
    if logger.isEnabledFor(logging.DEBUG):
        fallback = int(np.count_nonzero(sources == "fallback"))
        if fallback:
            logger.debug("batch of %d: %d by the popularity fallback", len(queries), fallback)
        if skipped:
            logger.debug("batch of %d: skipped unknown IDs %s", len(queries), list(skipped))
    ids = _pad_ids(mapper, pos.shape)
    if mask.any():
        ids = ids.astype(np.result_type(ids.dtype, mapper.ids.dtype))
        ids[mask] = mapper.to_id(pos[mask])
    return BatchRecommendations(queries, ids, vals, mask, sources, skipped)
