"""Immutable mapping between external IDs and matrix indices.

The IDs are validated by :func:`alsrec.ids.as_id_array` (re-exported here, with
``check_one_id`` and ``one_id_array``, for the imports that named this module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NoReturn, cast, final, overload

import numpy as np
import numpy.typing as npt

from alsrec.exceptions import (
    DataError,
    IdTypeError,
    UnknownIdError,
    UnmappedIndexError,
    UsageError,
)
from alsrec.ids import as_id_array as as_id_array
from alsrec.ids import check_one_id as check_one_id
from alsrec.ids import one_id_array as one_id_array
from alsrec.ids import warn_if_wide

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from alsrec.types import ExternalId, IdArray, IdLike, IndexArray

__all__ = ["IdKind", "IdMapper"]

IdKind = Literal["int", "str"]

_MAX_SHOWN = 5


def _preview(values: Iterable[object]) -> str:
    shown: list[str] = []
    for value in values:
        if len(shown) == _MAX_SHOWN:
            shown.append("...")
            break
        shown.append(repr(value))
    return ", ".join(shown)


def _python_scalar(value: object) -> ExternalId:
    if isinstance(value, np.generic):
        return cast("ExternalId", value.item())
    return cast("ExternalId", value)


_HASH_CHUNK = 1 << 15
"""Rows hashed at once: their words stay in the CPU cache through every step."""

_WORD_MIX = np.uint64(0xBF58476D1CE4E5B9)
_FINAL_MIX = np.uint64(0x94D049BB133111EB)
_position_keys: npt.NDArray[np.uint64] = np.empty(0, dtype=np.uint64)


def _keys_for(words: int) -> npt.NDArray[np.uint64]:
    """Odd 64-bit multipliers, one per 8-byte word position (fixed, so hashes are stable)."""
    global _position_keys
    while _position_keys.size < words:  # grow only: existing keys never change
        rng = np.random.default_rng((0x5EED, _position_keys.size))
        more = rng.integers(0, 2**63, 64, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        _position_keys = np.concatenate([_position_keys, more])
    return _position_keys[:words]


def _hash_strings(arr: IdArray) -> npt.NDArray[np.int64]:
    """A 64-bit hash of every string of a unicode array, independent of its dtype width.

    Each pair of code points is one 64-bit word; a word is mixed (a bijection that keeps
    0 at 0), multiplied by an odd constant of its position and summed. The padding NULs
    of a wider dtype therefore add nothing, so ``"ab"`` hashes alike as ``<U2`` and
    ``<U9``. Equal strings always get equal hashes; callers verify matches by comparing
    the strings, so a collision can cost time but never give a wrong answer.
    """
    n = arr.size
    chars = max(1, arr.dtype.itemsize // 4)
    words = (chars + 1) // 2
    out = np.empty(n, dtype=np.uint64)
    if n == 0:
        return out.view(np.int64)
    codes = np.ascontiguousarray(arr).view(np.uint32).reshape(n, chars)
    keys = _keys_for(words)
    packed = np.zeros((min(n, _HASH_CHUNK), words), dtype=np.uint64)
    for start in range(0, n, _HASH_CHUNK):
        block = codes[start : start + _HASH_CHUNK]
        rows = block.shape[0]
        w = packed[:rows]
        halves = w.view(np.uint32).reshape(rows, 2 * words)
        halves[:, :chars] = block
        halves[:, chars:] = 0  # an odd width leaves one half-word: keep it zero
        w *= _WORD_MIX
        w ^= w >> np.uint64(31)
        w *= keys
        h = w.sum(axis=1, dtype=np.uint64)
        h ^= h >> np.uint64(29)
        h *= _FINAL_MIX
        h ^= h >> np.uint64(32)
        out[start : start + rows] = h
    return out.view(np.int64)


_MASK64 = (1 << 64) - 1
_WORD_MIX_INT = int(_WORD_MIX)
_FINAL_MIX_INT = int(_FINAL_MIX)


def _hash_one(value: str) -> int:
    """:func:`_hash_strings` of one string, in Python integers (as a signed int64)."""
    data = value.encode("utf-32-le")
    if len(data) % 8:
        data += b"\x00\x00\x00\x00"
    words = len(data) // 8
    keys = _keys_for(words).tolist()
    h = 0
    for j in range(words):
        x = (int.from_bytes(data[8 * j : 8 * j + 8], "little") * _WORD_MIX_INT) & _MASK64
        x ^= x >> 31
        h += x * keys[j]
    h &= _MASK64
    h ^= h >> 29
    h = (h * _FINAL_MIX_INT) & _MASK64
    h ^= h >> 32
    return h - (1 << 64) if h >> 63 else h


def _sort_with_positions(
    values: npt.NDArray[np.int64],
) -> tuple[IndexArray, npt.NDArray[np.int64]]:
    """``(perm, values[perm])`` with ``perm`` sorting ``values`` (equal values: any order).

    When the value range and the positions fit in 64 bits together, one vectorized
    sort of ``(value - min) << bits | position`` keys gives both, several times faster
    than an argsort; otherwise an argsort plus a sort.
    """
    n = values.size
    low, high = int(values.min()), int(values.max())
    bits = max(1, (n - 1).bit_length())
    if (high - low).bit_length() + bits <= 64:
        keys = (values - np.int64(low)).astype(np.uint64)
        keys <<= np.uint64(bits)
        keys |= np.arange(n, dtype=np.uint64)
        keys.sort()
        perm = (keys & np.uint64((1 << bits) - 1)).astype(np.int64)
        keys >>= np.uint64(bits)
        ordered = keys.astype(np.int64)
        ordered += np.int64(low)
        return perm, ordered
    return np.argsort(values), np.sort(values)  # a sort beats gathering values[perm]


def _factorize_int64(
    values: npt.NDArray[np.int64],
) -> tuple[IndexArray, IndexArray, tuple[IndexArray, IndexArray]]:
    """Group equal values: ``(first, codes)`` with codes in order of first appearance.

    ``first[j]`` is the position of the first occurrence of the ``j``-th distinct value
    and ``codes[i]`` the code of ``values[i]``. One sort, then linear passes. The third
    item is ``(distinct values ascending, their codes)``: a ready lookup table.
    """
    n = values.size
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, (empty, empty)
    perm, ordered = _sort_with_positions(values)
    starts_mask = np.empty(n, dtype=bool)
    starts_mask[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts_mask[1:])
    starts = np.flatnonzero(starts_mask)
    del starts_mask
    distinct = ordered[starts]
    del ordered
    first = np.minimum.reduceat(perm, starts)  # earliest position of each value
    order = np.argsort(first)
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size, dtype=np.int64)
    counts = np.diff(starts, append=n)
    codes = np.empty(n, dtype=np.int64)
    codes[perm] = np.repeat(rank, counts)
    return cast("IndexArray", first[order]), codes, (distinct, rank)


def _strings_match(arr: IdArray, uniques: IdArray, codes: IndexArray) -> bool:
    """Whether ``arr[i] == uniques[codes[i]]`` for every ``i`` (chunked, bounded memory)."""
    step = 1 << 18
    return all(
        bool(np.all(arr[s : s + step] == uniques[codes[s : s + step]]))
        for s in range(0, arr.size, step)
    )


def _factorize_strings_exact(arr: IdArray) -> tuple[IdArray, IndexArray]:
    """Dict-based factorization: the slow path, taken only after a hash collision."""
    table: dict[str, int] = {}
    setdefault = table.setdefault
    codes = np.fromiter(
        (setdefault(s, len(table)) for s in arr.tolist()), dtype=np.int64, count=arr.size
    )
    uniques = np.asarray(list(table), dtype=arr.dtype)
    return uniques, codes


@final
class IdMapper:
    """An immutable, numpy-backed mapping between external IDs and indices ``0..n-1``.

    Index ``k`` is the ``k``-th ID given. IDs are all ``int`` or all ``str``; they must be
    unique (use :meth:`from_ids` or :meth:`factorize` to deduplicate). The lookup
    structure is built once, at construction; growing a mapper with :meth:`with_added`
    returns a new mapper in which every old ID keeps its index.

    Parameters
    ----------
    ids
        Unique IDs in index order.
    what
        How to name ``ids`` in error messages (e.g. the argument they came from).

    Raises
    ------
    IdTypeError
        If the IDs are not all int or all str.
    DataError
        If an ID occurs twice.

    Examples
    --------
    >>> from alsrec import IdMapper
    >>> users = IdMapper(["u1", "u2", "u3"])
    >>> len(users), "u2" in users
    (3, True)
    >>> users.to_index(["u3", "u1"]).tolist()
    [2, 0]
    >>> users.to_id([1]).tolist()
    ['u2']
    >>> users.to_index(["nobody"], missing="negative").tolist()
    [-1]
    >>> bigger = users.with_added(["u4", "u1"])
    >>> bigger.to_index(["u1", "u4"]).tolist()
    [0, 3]
    """

    __slots__ = ("_ids", "_kind", "_lookup", "_sorted_keys", "_sorted_pos")

    # Lookup: int IDs are kept sorted (``_sorted_keys`` = the IDs); str IDs by their
    # 64-bit hashes (``_sorted_keys`` = sorted hashes, matches verified by comparing the
    # strings). ``_lookup`` is a dict, used only if two distinct str IDs share a hash.
    _ids: IdArray
    _kind: IdKind
    _lookup: dict[str, int] | None
    _sorted_keys: IndexArray
    _sorted_pos: IndexArray

    def __init__(self, ids: IdLike | Iterable[ExternalId], *, what: str = "IDs") -> None:
        arr = as_id_array(ids, what)
        self._init_from_array(arr, check_unique=True, what=what)

    def _init_from_array(
        self,
        arr: IdArray,
        *,
        check_unique: bool,
        table: tuple[IndexArray, IndexArray] | None = None,
        what: str = "IDs",
    ) -> None:
        arr = arr.copy()
        arr.flags.writeable = False
        kind: IdKind = "str" if arr.dtype.kind == "U" else "int"
        warn_if_wide(arr, what)
        lookup: dict[str, int] | None = None
        if table is not None:  # sorted distinct keys and their positions, known unique
            sorted_keys, sorted_pos = table
        else:
            keys = _hash_strings(arr) if kind == "str" else cast("IndexArray", arr)
            sorted_pos = np.argsort(keys, kind="stable").astype(np.int64)
            sorted_keys = keys[sorted_pos]
        if sorted_keys.size > 1 and np.any(sorted_keys[1:] == sorted_keys[:-1]):
            if kind == "int":
                _raise_duplicate(arr, what)
            # Equal hashes: a duplicate ID, or (very rarely) two IDs that collide.
            lookup = {s: i for i, s in enumerate(arr.tolist())}
            if check_unique and len(lookup) != arr.size:
                _raise_duplicate(arr, what)
        object.__setattr__(self, "_ids", arr)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_lookup", lookup)
        object.__setattr__(self, "_sorted_keys", sorted_keys)
        object.__setattr__(self, "_sorted_pos", sorted_pos)

    @classmethod
    def _from_unique(
        cls, arr: IdArray, table: tuple[IndexArray, IndexArray] | None = None
    ) -> IdMapper:
        mapper = cls.__new__(cls)
        mapper._init_from_array(arr, check_unique=False, table=table)
        return mapper

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_ids(cls, ids: IdLike | Iterable[ExternalId]) -> IdMapper:
        """Build a mapper from IDs that may repeat, in order of first appearance.

        Examples
        --------
        >>> IdMapper.from_ids(["b", "a", "b"]).ids.tolist()
        ['b', 'a']
        """
        mapper, _ = cls.factorize(ids)
        return mapper

    @classmethod
    def factorize(
        cls, ids: IdLike | Iterable[ExternalId], what: str = "IDs"
    ) -> tuple[IdMapper, IndexArray]:
        """Map a column of (repeating) IDs to a mapper and one index per element.

        Indices follow the order of first appearance, so the result is deterministic.

        Examples
        --------
        >>> mapper, codes = IdMapper.factorize([30, 10, 30, 20])
        >>> mapper.ids.tolist(), codes.tolist()
        ([30, 10, 20], [0, 1, 0, 2])
        """
        arr = as_id_array(ids, what)
        # Factorizing the int IDs (or the str IDs' hashes) yields the mapper's lookup table.
        table: tuple[IndexArray, IndexArray] | None
        if arr.dtype.kind == "U":
            first, codes, table = _factorize_int64(_hash_strings(arr))
            uniques = arr[first]
            if not _strings_match(arr, uniques, codes):  # a hash collision: be exact
                uniques, codes = _factorize_strings_exact(arr)
                table = None
            if uniques.size == 0:
                uniques = np.empty(0, dtype=np.str_)
        else:
            first, codes, table = _factorize_int64(arr.astype(np.int64, copy=False))
            uniques = arr[first]
        return cls._from_unique(uniques, table), codes

    def with_added(self, ids: IdLike | Iterable[ExternalId]) -> IdMapper:
        """Return a new mapper with the unseen ``ids`` appended; old indices are unchanged.

        IDs already present are ignored; new ones get indices ``len(self)``, ... in order
        of first appearance. ``self`` is not modified.

        Examples
        --------
        >>> m = IdMapper([1, 2])
        >>> m.with_added([3, 1, 4]).ids.tolist(), m.ids.tolist()
        ([1, 2, 3, 4], [1, 2])
        """
        new = as_id_array(ids, "added IDs")
        if new.size == 0:
            return self
        if len(self) and (new.dtype.kind == "U") != (self._kind == "str"):
            raise IdTypeError(
                f"Cannot add {'str' if new.dtype.kind == 'U' else 'int'} IDs to a mapper of "
                f"{self._kind} IDs (e.g. {_preview(new[:1].tolist())})."
            )
        fresh = new[self.to_index(new, missing="negative") < 0]
        if fresh.size == 0:
            return self
        fresh_mapper = IdMapper.from_ids(fresh)
        if len(self) == 0:
            return fresh_mapper
        return IdMapper._from_unique(cast("IdArray", np.concatenate([self._ids, fresh_mapper.ids])))

    def head(self, n: int) -> IdMapper:
        """Return a mapper with only the first ``n`` IDs (indices unchanged).

        Examples
        --------
        >>> IdMapper(["a", "b", "c"]).head(2).ids.tolist()
        ['a', 'b']
        """
        if n >= len(self):
            return self
        return IdMapper._from_unique(self._ids[: max(n, 0)])

    # -- inspection ---------------------------------------------------------------------------

    @property
    def ids(self) -> IdArray:
        """The IDs in index order (a read-only array)."""
        return self._ids

    @property
    def kind(self) -> IdKind:
        """``"int"`` or ``"str"``: the type of every ID in this mapper."""
        return self._kind

    def __len__(self) -> int:
        return int(self._ids.size)

    def __iter__(self) -> Iterator[ExternalId]:
        return iter(cast("list[ExternalId]", self._ids.tolist()))

    def __getitem__(self, key: object) -> NoReturn:
        """Refused: with integer IDs, ``mapper[5]`` could mean position 5 or ID 5."""
        raise UsageError(
            f"IdMapper[{key!r}] is ambiguous (a position, or an ID?), so it is not supported: "
            "the ID at index k is mapper.ids[k] or mapper.id_of(k); the index of an ID is "
            "mapper.index_of(id); many at once: mapper.to_id([...]), mapper.to_index([...])."
        )

    def __array__(
        self, dtype: npt.DTypeLike | None = None, copy: bool | None = None
    ) -> npt.NDArray[np.generic]:
        """``numpy.asarray(mapper)``: the IDs in index order, as :attr:`ids`."""
        out = self._ids if dtype is None else self._ids.astype(dtype)
        return out.copy() if copy and out is self._ids else out

    def __contains__(self, item: object) -> bool:
        if self._kind == "str":
            if not isinstance(item, str) or item == "" or item.endswith("\x00"):
                return False
            return bool(self.to_index([item], missing="negative")[0] >= 0)
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            return False
        return bool(self.to_index([int(item)], missing="negative")[0] >= 0)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IdMapper):
            return NotImplemented
        return self._kind == other._kind and np.array_equal(self._ids, other._ids)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"IdMapper({len(self)} {self._kind} IDs: {_preview(self._ids[:6].tolist())})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"IdMapper is immutable; cannot set {name!r}.")

    def __reduce__(self) -> tuple[object, ...]:
        return (IdMapper._from_unique, (self._ids,))

    # -- lookups ------------------------------------------------------------------------------

    @overload
    def to_index(
        self, ids: IdLike | Iterable[ExternalId], *, missing: Literal["raise"] = ...
    ) -> IndexArray: ...

    @overload
    def to_index(
        self, ids: IdLike | Iterable[ExternalId], *, missing: Literal["negative"]
    ) -> IndexArray: ...

    def to_index(
        self,
        ids: IdLike | Iterable[ExternalId],
        *,
        missing: Literal["raise", "negative"] = "raise",
    ) -> IndexArray:
        """Return the index of every ID (vectorized).

        Parameters
        ----------
        ids
            IDs to look up.
        missing : {"raise", "negative"}
            ``"raise"``: an unknown ID raises :class:`~alsrec.UnknownIdError` naming it.
            ``"negative"``: an unknown ID gets index ``-1``.

        Returns
        -------
        numpy.ndarray of int64
            One index per given ID, in the given order.
        """
        if missing not in ("raise", "negative"):
            raise ValueError(f"missing must be 'raise' or 'negative', got {missing!r}.")
        if type(ids) is list and len(ids) == 1:  # one ID (a single-user query): no arrays
            one = self._index_of_one(ids[0])
            if one >= 0 or (missing == "negative" and one == -1):
                return np.array([one], dtype=np.int64)
        query = as_id_array(ids, "queried IDs")
        if query.size == 0:
            return np.empty(0, dtype=np.int64)
        query_is_str = query.dtype.kind == "U"
        if len(self) == 0 or query_is_str != (self._kind == "str"):
            out = np.full(query.size, -1, dtype=np.int64)
        elif self._lookup is not None:
            get = self._lookup.get
            out = np.fromiter((get(s, -1) for s in query.tolist()), np.int64, count=query.size)
        else:
            keys = _hash_strings(query) if query_is_str else query
            pos = np.searchsorted(self._sorted_keys, keys)
            pos = np.minimum(pos, self._sorted_keys.size - 1)
            hit = self._sorted_keys[pos] == keys
            out = np.where(hit, self._sorted_pos[pos], -1)
            if query_is_str:  # equal hashes: confirm the strings are equal too
                found = np.flatnonzero(hit)
                out[found[self._ids[out[found]] != query[found]]] = -1
        if missing == "raise":
            bad = np.flatnonzero(out < 0)
            if bad.size:
                unknown = tuple(_python_scalar(v) for v in query[bad].tolist())
                raise UnknownIdError(
                    f"{bad.size} unknown ID(s): {_preview(unknown)} (first at position "
                    f"{int(bad[0])}). Check the IDs, or use missing='negative' to get -1.",
                    ids=unknown,
                )
        return out

    def _index_of_one(self, value: object) -> int:
        """Index of one plain ``str``/``int`` ID, ``-1`` if absent, ``-2`` if not plain.

        The same lookup as :meth:`to_index` with Python scalars (a one-element array costs
        more than the lookup itself); ``-2`` sends the caller to the vectorized path, which
        validates and reports errors.
        """
        if self._lookup is not None or not len(self):
            return -2
        if type(value) is str:
            if self._kind != "str" or not value or value[-1] == "\x00":
                return -2
            key = _hash_one(value)
        elif type(value) is int:
            if self._kind != "int" or not -(2**63) <= value < 2**63:
                return -2
            key = value
        else:
            return -2
        pos = int(np.searchsorted(self._sorted_keys, key))
        if pos == self._sorted_keys.size or int(self._sorted_keys[pos]) != key:
            return -1
        index = int(self._sorted_pos[pos])
        return index if self._ids[index] == value else -1

    def index_of(self, id_: ExternalId) -> int:
        """Return the index of one ID, raising :class:`~alsrec.UnknownIdError` if unknown.

        Examples
        --------
        >>> IdMapper(["a", "b"]).index_of("b")
        1
        """
        idx = int(self.to_index([id_], missing="negative")[0])
        if idx < 0:
            raise UnknownIdError(f"Unknown ID {id_!r} (not among {len(self)} IDs).", ids=(id_,))
        return idx

    def to_id(self, indices: npt.ArrayLike) -> IdArray:
        """Return the ID of every index (vectorized).

        Raises
        ------
        UnmappedIndexError
            If an index is negative or ``>= len(self)``; the message names it.

        Examples
        --------
        >>> IdMapper([7, 8, 9]).to_id([2, 0]).tolist()
        [9, 7]
        """
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu":
            if idx.size == 0:
                idx = idx.astype(np.int64)
            else:
                raise UnmappedIndexError(f"indices must be integers, got dtype {idx.dtype}.")
        bad = np.flatnonzero((idx < 0) | (idx >= len(self)))
        if bad.size:
            flat = idx.reshape(-1)
            raise UnmappedIndexError(
                f"Index {int(flat[bad[0]])} (position {int(bad[0])}) has no mapped ID: valid "
                f"indices are 0..{len(self) - 1}. The factor matrix may have more rows than "
                "the mapping has IDs."
            )
        return cast("IdArray", self._ids[idx])

    def id_of(self, index: int) -> ExternalId:
        """Return the ID at one index.

        Examples
        --------
        >>> IdMapper(["a", "b"]).id_of(1)
        'b'
        """
        return _python_scalar(self.to_id(np.asarray([index]))[0])


def _raise_duplicate(arr: IdArray, what: str) -> None:
    first: dict[object, int] = {}
    for pos, value in enumerate(arr.tolist()):
        if value in first:
            raise DataError(
                f"{what} must be unique: position k names row k, but {value!r} is at "
                f"positions {first[value]} and {pos}. Remove or rename the repeat; dropping "
                "it would move every later row up by one. (IdMapper.from_ids() deduplicates "
                "a column of interactions, not labels of existing rows.)"
            )
        first[value] = pos
