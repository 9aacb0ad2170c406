"""user_split: held-out users for the strong-generalization protocol."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from alsrec import ConfigError, DataError, Interactions
from alsrec.data import synthetic
from alsrec.evaluation import HeldOutUsers, UserSplit, user_split


def pairs(data: Interactions) -> set[tuple[object, object]]:
    coo = data.matrix.tocoo()
    return set(zip(data.users.ids[coo.row].tolist(), data.items.ids[coo.col].tolist(), strict=True))


def weighted(data: Interactions) -> dict[tuple[object, object], float]:
    coo = data.matrix.tocoo()
    keys = zip(data.users.ids[coo.row].tolist(), data.items.ids[coo.col].tolist(), strict=True)
    return dict(zip(keys, coo.data.tolist(), strict=True))


def dataset() -> Interactions:
    data = synthetic(n_users=300, n_items=60, random_state=3)
    return Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)


def users_of(part: Interactions) -> set[object]:
    return set(part.users.ids.tolist())


def test_users_are_partitioned_and_training_users_keep_everything() -> None:
    data = dataset()
    split = user_split(data, 30, 40, random_state=0)
    assert isinstance(split, UserSplit)
    train, validation, test = split
    assert validation is not None
    assert isinstance(test, HeldOutUsers)
    val_users = users_of(validation.fold_in) | users_of(validation.target)
    test_users = users_of(test.fold_in) | users_of(test.target)
    assert len(val_users) == 30
    assert len(test_users) == 40
    assert not (users_of(train) & val_users)
    assert not (users_of(train) & test_users)
    assert not (val_users & test_users)
    assert users_of(train) | val_users | test_users == users_of(data)
    # Every interaction of a training user is in train, with its weight.
    full = weighted(data)
    train_pairs = weighted(train)
    assert train_pairs == {key: w for key, w in full.items() if key[0] in users_of(train)}


def test_each_heldout_user_is_split_about_80_20() -> None:
    data = dataset()
    split = user_split(data, 0, 60, random_state=1)
    assert split.validation is None
    fold_in, target = split.test
    train_items = set(split.train.items.ids.tolist())
    full = weighted(data)
    fold_pairs, target_pairs = weighted(fold_in), weighted(target)
    assert not (fold_pairs.keys() & target_pairs.keys())
    for user in users_of(fold_in) | users_of(target):
        mine = {key: w for key, w in full.items() if key[0] == user and key[1] in train_items}
        got = {key: w for key, w in {**fold_pairs, **target_pairs}.items() if key[0] == user}
        assert got == mine  # weights kept, nothing lost but items no training user has
        n = len(mine)
        n_target = sum(1 for key in target_pairs if key[0] == user)
        assert n_target == int(0.2 * n), (user, n)  # Liang et al.'s int(test_prop * n)
        assert n_target > 0 or n < 5


def test_target_sizes_follow_liang_et_al() -> None:
    # Users of 4, 8, 9 and 14 items, and three of 14 that keep every item known to train.
    sizes = {"a": 4, "b": 8, "c": 9, "d": 14, "t1": 14, "t2": 14, "t3": 14}
    users = [u for u, n in sizes.items() for _ in range(n)]
    items = [f"i{j}" for n in sizes.values() for j in range(n)]
    data = Interactions.from_arrays(users, items)
    with pytest.raises(DataError, match=r"only 6 of the 7 users have enough items to score one"):
        user_split(data, 0, 7)  # "a" cannot be held out: it has fewer than 5 items
    seen: dict[int, set[tuple[int, int]]] = {}
    for seed in range(30):
        split = user_split(data, 1, 1, random_state=seed)
        assert "a" in users_of(split.train)
        for part in (split.validation, split.test):
            assert part is not None
            for user in users_of(part.fold_in):
                n_target = sum(1 for key in pairs(part.target) if key[0] == user)
                n_fold_in = sum(1 for key in pairs(part.fold_in) if key[0] == user)
                seen.setdefault(n_target + n_fold_in, set()).add((n_target, n_fold_in))
    # int(0.2 * n) to score, as Liang et al.'s code; round() would score two of 8 and 9.
    assert seen[8] == {(1, 7)} and seen[9] == {(1, 8)} and seen[14] == {(2, 12)}
    half = user_split(data, 0, 1, fold_in_fraction=0.5)  # "a" is eligible at 0.5
    assert half.train.nnz < data.nnz


def test_items_without_a_training_user_are_removed_from_heldout_users() -> None:
    # Item "rare" belongs to one user only; whoever holds it out, the item disappears.
    users = [u for u in range(6) for _ in range(5)] + [0]
    items = [f"i{j}" for _ in range(6) for j in range(5)] + ["rare"]
    data = Interactions.from_arrays(users, items)
    for seed in range(6):
        split = user_split(data, 0, 2, random_state=seed)
        held = users_of(split.test.fold_in)
        if 0 in held:
            held_items = {item for _, item in pairs(split.test.fold_in) | pairs(split.test.target)}
            assert held_items == {"i0", "i1", "i2", "i3", "i4"}
            assert "rare" not in split.train.items.ids.tolist()
            return
    pytest.fail("user 0 was never held out")


def test_seeded_and_reproducible() -> None:
    data = dataset()
    a = user_split(data, 10, 20, random_state=5)
    b = user_split(data, 10, 20, random_state=5)
    c = user_split(data, 10, 20, random_state=6)
    assert pairs(a.test.target) == pairs(b.test.target)
    assert pairs(a.train) == pairs(b.train)
    assert users_of(a.test.fold_in) != users_of(c.test.fold_in)


def test_fractions_of_the_eligible_users() -> None:
    # 10 users with 5 items and 2 with four: only the first 10 are eligible.
    users = [u for u in range(10) for _ in range(5)] + [10] * 4 + [11] * 4
    items = [(u + j) % 6 for u in range(10) for j in range(5)] + [0, 1, 2, 3] * 2
    split = user_split(Interactions.from_arrays(users, items), 0.2, 0.3, random_state=0)
    assert split.validation is not None
    assert len(users_of(split.validation.fold_in)) == 2
    assert len(users_of(split.test.fold_in)) == 3
    assert {10, 11} <= users_of(split.train)


def test_timestamps_are_kept() -> None:
    data = synthetic(n_users=80, n_items=30, random_state=0)
    dated = Interactions.from_arrays(data.user_ids, data.item_ids, timestamps=data.timestamps)
    split = user_split(dated, 5, 5, random_state=0)
    for part in (split.train, split.test.fold_in, split.test.target):
        assert part.timestamps is not None


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_validation": 1, "n_test": 0}, "n_test"),
        ({"n_validation": 1, "n_test": -3}, "n_test"),
        ({"n_validation": 1, "n_test": True}, "n_test"),
        ({"n_validation": 1, "n_test": "5"}, "n_test"),
        ({"n_validation": -1, "n_test": 2}, "n_validation"),
        ({"n_validation": 1.5, "n_test": 2}, "n_validation"),
        ({"n_validation": 0.0, "n_test": 2}, "n_validation"),
        ({"n_validation": 1, "n_test": 2, "fold_in_fraction": 1.0}, "fold_in_fraction"),
        ({"n_validation": 1, "n_test": 2, "fold_in_fraction": 0}, "fold_in_fraction"),
        ({"n_validation": 1, "n_test": 2, "fold_in_fraction": "0.8"}, "fold_in_fraction"),
        ({"n_validation": 1, "n_test": 2, "fold_in_fraction": 0.9999999}, "fold_in_fraction"),
    ],
)
def test_bad_arguments_raise_config_error_naming_the_keyword(
    kwargs: dict[str, Any], name: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        user_split(dataset(), **kwargs)


def test_too_many_heldout_users_is_a_data_error() -> None:
    five = list("abcde")
    two = Interactions.from_arrays([1] * 5 + [2] * 5, five * 2)
    with pytest.raises(DataError, match="n_validation=1 and n_test=1 ask for 2 held-out users"):
        user_split(two, 1, 1)  # one user must stay to train on
    three = Interactions.from_arrays([1] * 5 + [2] * 5 + [3], five * 2 + ["a"])
    with pytest.raises(DataError, match="only 2 of the 3 users have enough items"):
        user_split(three, 0, 3)
    # Users 1 and 2 held out, user 3 trains on "a" only: no held-out user keeps five items.
    with pytest.raises(DataError, match="5 or more items among the validation users"):
        user_split(three, 1, 1)


def test_heldout_users_without_a_known_item_is_a_data_error() -> None:
    # Two users share no item: whichever is held out has nothing a training user has.
    data = Interactions.from_arrays([1] * 5 + [2] * 5, list("abcdefghij"))
    with pytest.raises(DataError, match="test users have no item that a training user has"):
        user_split(data, 0, 1)


def test_split_arrays_are_int_or_str_ids_as_given() -> None:
    data = Interactions.from_arrays(
        np.repeat(np.arange(20), 5), np.tile(np.arange(5), 20).astype(np.int64)
    )
    split = user_split(data, 2, 2, random_state=0)
    assert split.test.fold_in.users.kind == "int"
    assert split.test.target.nnz == 2  # one of 5 items per user
