"""IdMapper: round trips, immutability, stable growth, and clear errors (property-based)."""

from __future__ import annotations

import enum
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alsrec import (
    AlsrecWarning,
    DataError,
    IdMapper,
    IdTypeError,
    Interactions,
    Recommender,
    UnknownIdError,
    UnmappedIndexError,
)

# IDs numpy can store faithfully: non-empty, no trailing NUL.
str_ids = st.text(min_size=1, max_size=12).filter(lambda s: not s.endswith("\x00"))
int_ids = st.integers(min_value=-(2**63), max_value=2**63 - 1)
id_lists = st.one_of(
    st.lists(str_ids, unique=True, max_size=60), st.lists(int_ids, unique=True, max_size=60)
)


@given(id_lists)
def test_round_trip(ids: list[object]) -> None:
    mapper = IdMapper(ids)  # type: ignore[arg-type]
    assert len(mapper) == len(ids)
    idx = mapper.to_index(ids)  # type: ignore[arg-type]
    assert idx.tolist() == list(range(len(ids)))
    assert mapper.to_id(idx).tolist() == ids
    for position, id_ in enumerate(ids):
        assert id_ in mapper
        assert mapper.index_of(id_) == position  # type: ignore[arg-type]
        assert mapper.id_of(position) == id_


@given(id_lists, st.data())
def test_with_added_keeps_old_indices(ids: list[object], data: st.DataObject) -> None:
    mapper = IdMapper(ids)  # type: ignore[arg-type]
    strategy = str_ids if (ids and isinstance(ids[0], str)) else int_ids
    if not ids:
        strategy = str_ids
    extra = data.draw(st.lists(strategy, max_size=30))
    before = mapper.ids.copy()
    grown = mapper.with_added(extra)  # type: ignore[arg-type]
    # The old mapper is unchanged, every old ID keeps its index.
    assert np.array_equal(mapper.ids, before)
    assert grown.to_index(ids).tolist() == list(range(len(ids)))  # type: ignore[arg-type]
    # New IDs are appended in order of first appearance, once each.
    fresh = list(dict.fromkeys(x for x in extra if x not in set(ids)))
    assert grown.ids.tolist() == ids + fresh


@given(st.lists(str_ids, unique=True, min_size=1, max_size=30), st.lists(str_ids, max_size=10))
def test_unknown_ids_raise_or_give_minus_one(ids: list[str], queries: list[str]) -> None:
    mapper = IdMapper(ids)
    unknown = [q for q in queries if q not in set(ids)]
    idx = mapper.to_index(queries, missing="negative")
    assert [i for q, i in zip(queries, idx.tolist(), strict=True) if q in unknown] == [-1] * len(
        [q for q in queries if q in unknown]
    )
    if unknown:
        with pytest.raises(UnknownIdError) as info:
            mapper.to_index(queries)
        assert info.value.ids[0] == unknown[0]
        assert repr(unknown[0]) in str(info.value)
    else:
        assert mapper.to_index(queries).tolist() == idx.tolist()


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=40))
def test_factorize_is_first_appearance_order(column: list[str]) -> None:
    mapper, codes = IdMapper.factorize(column)
    assert mapper.ids.tolist() == list(dict.fromkeys(column))
    assert mapper.to_id(codes).tolist() == column


def test_factorize_ints_matches_first_appearance() -> None:
    mapper, codes = IdMapper.factorize(np.array([30, 10, 30, 20, 10]))
    assert mapper.ids.tolist() == [30, 10, 20]
    assert codes.tolist() == [0, 1, 0, 2, 1]


def test_mixed_types_are_refused_with_position() -> None:
    with pytest.raises(IdTypeError, match="position 2"):
        IdMapper(["a", "b", 3])


@pytest.mark.parametrize(
    ("ids", "fragment"),
    [
        ([1.5, 2.5], "float"),
        ([True, False], "bool"),
        ([None], "NoneType"),
        ([b"x"], "bytes"),
        (np.array([1.0, 2.0]), "Float IDs are ambiguous"),
        (np.array([[1, 2]]), "one-dimensional"),
        (["a", ""], "empty string at position 1"),
        (["a\x00"], "NUL"),
    ],
)
def test_invalid_ids_are_refused(ids: object, fragment: str) -> None:
    with pytest.raises(IdTypeError, match=fragment):
        IdMapper(ids)  # type: ignore[arg-type]


def test_a_single_string_is_not_a_sequence_of_ids() -> None:
    with pytest.raises(IdTypeError, match="single str"):
        IdMapper("abc")


def test_duplicates_are_refused_by_the_constructor() -> None:
    with pytest.raises(DataError, match="'b' is at positions 1 and 2"):
        IdMapper(["a", "b", "b"])
    with pytest.raises(DataError, match="7 is at positions 0 and 2"):
        IdMapper([7, 8, 7])


def test_duplicate_factor_row_ids_name_the_argument_and_do_not_advise_dropping() -> None:
    """Dropping a repeated row label would shift every later factor row: the message
    names the argument and warns of that instead of pointing at from_ids()."""
    with pytest.raises(
        DataError, match=r"^user_ids must be unique.*'ann' is at positions 0 and 2"
    ) as err:
        Recommender.from_factors(np.eye(4), np.eye(4), ["ann", "bob", "ann", "dan"], list("wxyz"))
    assert "move every later row up" in str(err.value)
    with pytest.raises(DataError, match=r"^item_ids must be unique"):
        Recommender.from_factors(np.eye(2), np.eye(2), ["u", "v"], [5, 5])


def test_to_id_names_the_bad_index() -> None:
    mapper = IdMapper(["a", "b"])
    with pytest.raises(UnmappedIndexError, match="Index 5 \\(position 1\\)"):
        mapper.to_id([0, 5])
    with pytest.raises(UnmappedIndexError, match="Index -1"):
        mapper.to_id([-1])
    with pytest.raises(UnmappedIndexError):
        mapper.id_of(2)


def test_mapper_is_immutable() -> None:
    mapper = IdMapper([1, 2, 3])
    with pytest.raises(AttributeError, match="immutable"):
        mapper.foo = 1
    with pytest.raises(ValueError, match="read-only"):
        mapper.ids[0] = 9


def test_queries_of_the_other_kind_are_unknown_not_errors() -> None:
    mapper = IdMapper([1, 2])
    assert mapper.to_index(["1"], missing="negative").tolist() == [-1]
    assert "1" not in mapper
    assert 1 in mapper
    assert True not in mapper


def test_cannot_add_other_kind() -> None:
    with pytest.raises(IdTypeError, match="Cannot add str IDs"):
        IdMapper([1]).with_added(["x"])


def test_equality_and_head() -> None:
    assert IdMapper(["a", "b"]) == IdMapper(["a", "b"])
    assert IdMapper(["a", "b"]) != IdMapper(["b", "a"])
    assert IdMapper(["a", "b", "c"]).head(2) == IdMapper(["a", "b"])
    assert "3 str IDs" in repr(IdMapper(["a", "b", "c"]))


def test_numpy_and_unsigned_inputs() -> None:
    mapper = IdMapper(np.array([5, 6], dtype=np.uint32))
    assert mapper.kind == "int"
    assert mapper.to_index(np.array([6], dtype=np.int16)).tolist() == [1]
    assert IdMapper(np.array(["x", "y"], dtype=object)).kind == "str"
    with pytest.raises(IdTypeError, match="int64 range"):
        IdMapper(np.array([2**64 - 1], dtype=np.uint64))


class _Color(str, enum.Enum):
    RED = "red"
    BLUE = "blue"


class _Tag(str):
    def __str__(self) -> str:  # numpy's str() of it would store this, not the ID
        return "not the ID"


class _Level(enum.IntEnum):
    LOW = 1


def test_instances_of_str_subclasses_are_str_ids_kept_as_their_text() -> None:
    """A ``str, Enum`` member (or a StrEnum's) and any str subclass are str IDs, like an
    IntEnum member is an int: they were refused with "could not be converted to int or
    str", naming no value."""
    mapper = IdMapper([_Color.RED, "green", _Tag("tag")])
    assert mapper.kind == "str"
    assert mapper.ids.tolist() == ["red", "green", "tag"]
    assert mapper.to_index([_Color.RED, _Tag("tag"), "red"]).tolist() == [0, 2, 0]
    assert IdMapper([_Level.LOW, 2]).ids.tolist() == [1, 2]
    data = Interactions.from_arrays([_Color.RED, _Color.BLUE, "red"], ["x", "y", "y"])
    assert data.users.ids.tolist() == ["red", "blue"]
    rec = Recommender(factors=2, iterations=1, random_state=0).fit(data)
    assert rec.recommend(_Color.BLUE, n=1).ids.tolist() == ["x"]
    if hasattr(enum, "StrEnum"):  # Python 3.11+
        members = enum.StrEnum("Kind", ["A", "B"])
        assert IdMapper(list(members)).ids.tolist() == ["a", "b"]
    with pytest.raises(IdTypeError, match=r"mix int and str: .* position 1 is 2"):
        IdMapper([_Color.RED, 2])


def test_one_long_str_id_that_widens_every_id_is_reported() -> None:
    ids = [f"U{i}" for i in range(20_000)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        IdMapper(ids)  # short IDs: nothing to say
    with pytest.warns(AlsrecWarning, match=r"longest ID \(1,024 characters, at index 20000\)"):
        wide = IdMapper([*ids, "X" * 1024])
    assert wide.ids.nbytes >= 20_001 * 4096  # what the warning is about
