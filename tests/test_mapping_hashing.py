"""The hashed lookup and sort-based factorization behind IdMapper (large inputs, collisions)."""

from __future__ import annotations

import numpy as np
import pytest

from alsrec import IdMapper, mapping
from alsrec.exceptions import DataError, IdTypeError, UnknownIdError


def _column(rows: int, distinct: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Fixed-length IDs ("id0001234") fill their dtype exactly, so the last code point of
    # an odd width is never a padding NUL.
    digits = np.char.zfill(rng.choice(10**7, distinct, replace=False).astype(str), 7)
    pool = np.char.add("id", digits).astype("<U9")
    return pool[rng.integers(0, distinct, rows)]


def _reference_factorize(values: list[object]) -> tuple[list[object], list[int]]:
    table: dict[object, int] = {}
    codes = [table.setdefault(v, len(table)) for v in values]
    return list(table), codes


@pytest.mark.parametrize("width_pad", [0, 1, 2, 3])
def test_factorize_strings_over_many_hash_chunks(width_pad: int) -> None:
    # More rows than one hashing chunk, odd and even dtype widths (padding NULs must not
    # change a string's hash).
    column = _column(3 * mapping._HASH_CHUNK + 17, 5000, seed=width_pad)
    column = column.astype(f"<U{column.dtype.itemsize // 4 + width_pad}")
    mapper, codes = IdMapper.factorize(column)
    uniques, want = _reference_factorize(column.tolist())
    assert mapper.ids.tolist() == uniques
    assert codes.tolist() == want
    # The mapper's lookup table comes from the factorization: it must answer lookups.
    np.testing.assert_array_equal(mapper.to_index(column), codes)
    assert mapper.to_index(["zz"], missing="negative").tolist() == [-1]


def test_factorize_ints_in_first_appearance_order() -> None:
    rng = np.random.default_rng(5)
    column = rng.integers(-(10**15), 10**15, 4000)[rng.integers(0, 4000, 50_000)]
    mapper, codes = IdMapper.factorize(column)
    uniques, want = _reference_factorize(column.tolist())
    assert mapper.ids.tolist() == uniques
    assert codes.tolist() == want
    np.testing.assert_array_equal(mapper.to_index(column), codes)
    assert mapper.to_index([12345678901234567], missing="negative").tolist() == [-1]


@pytest.mark.parametrize(
    ("low", "high"),
    [(0, 50), (-(10**6), 10**6), (-(2**62), 2**62), (-(2**63), 2**63 - 1)],
    ids=["tiny range", "small signed", "wide (argsort path)", "full int64 range"],
)
def test_factorize_ints_any_range(low: int, high: int) -> None:
    rng = np.random.default_rng(7)
    pool = np.unique(rng.integers(low, high, 300, endpoint=True, dtype=np.int64))
    pool = np.concatenate([pool, [low, high]])
    column = pool[rng.integers(0, pool.size, 5000)]
    mapper, codes = IdMapper.factorize(column)
    uniques, want = _reference_factorize(column.tolist())
    assert mapper.ids.tolist() == uniques
    assert codes.tolist() == want
    np.testing.assert_array_equal(mapper.to_index(column), codes)


def test_to_index_ignores_dtype_width_of_the_query() -> None:
    mapper = IdMapper(["a", "bb", "ccc", "dddd"])
    narrow = np.array(["bb", "a"], dtype="<U2")
    wide = np.array(["dddd", "bb", "a", "dddde", "zz"], dtype="<U9")
    assert mapper.to_index(narrow).tolist() == [1, 0]
    assert mapper.to_index(wide, missing="negative").tolist() == [3, 1, 0, -1, -1]


def test_large_lookup_matches_positions() -> None:
    ids = np.unique(_column(200_000, 150_000, seed=9))
    mapper = IdMapper(ids)
    query = np.random.default_rng(1).permutation(ids)
    got = mapper.to_index(query)
    np.testing.assert_array_equal(ids[got], query)
    assert "id" + "9" * 12 not in mapper


def test_hash_collisions_never_give_wrong_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    # With every string hashing alike, lookups and factorization must stay exact.
    def constant(arr: np.ndarray) -> np.ndarray:
        return np.zeros(arr.size, dtype=np.int64)

    monkeypatch.setattr(mapping, "_hash_strings", constant)
    column = ["b", "a", "b", "c", "a"]
    mapper, codes = IdMapper.factorize(column)
    assert mapper.ids.tolist() == ["b", "a", "c"]
    assert codes.tolist() == [0, 1, 0, 2, 1]
    assert mapper.to_index(["c", "b", "zz"], missing="negative").tolist() == [2, 0, -1]
    assert "a" in mapper and "q" not in mapper
    with pytest.raises(DataError, match="at positions 0 and 2"):
        IdMapper(["x", "y", "x"])


def test_hash_is_stable_and_width_independent() -> None:
    a = mapping._hash_strings(np.array(["ab", "abc"], dtype="<U3"))
    b = mapping._hash_strings(np.array(["ab", "abc"], dtype="<U8"))
    assert a.tolist() == b.tolist()
    assert a[0] != a[1]


@pytest.mark.parametrize(
    "value", ["a", "ab", "abc", "I000759", "ünïcødé", "\U0001f600x", "x" * 41, "user_0123456789"]
)
def test_scalar_hash_equals_vectorized_hash(value: str) -> None:
    assert mapping._hash_one(value) == int(mapping._hash_strings(np.array([value]))[0])


def test_single_id_lookup_agrees_with_the_vectorized_path() -> None:
    mapper = IdMapper(["u1", "u22", "u333"])
    assert mapper.to_index(["u22"]).tolist() == [1]
    assert mapper.to_index(["nope"], missing="negative").tolist() == [-1]
    assert mapper.to_index([5], missing="negative").tolist() == [-1]  # wrong kind
    with pytest.raises(UnknownIdError, match="nope"):
        mapper.to_index(["nope"])
    ints = IdMapper([10, -(2**63), 2**63 - 1])
    assert ints.to_index([2**63 - 1]).tolist() == [2]
    assert ints.to_index([-(2**63)]).tolist() == [1]
    assert ints.to_index([11], missing="negative").tolist() == [-1]
    with pytest.raises(IdTypeError):
        ints.to_index([2**63])
    with pytest.raises(IdTypeError):
        ints.to_index([True])
