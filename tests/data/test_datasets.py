"""The synthetic generator: seeded, sized as asked, and with the planted structure."""

from __future__ import annotations

import numpy as np
import pytest

from alsrec import ConfigError
from alsrec.datasets import demo_data, synthetic


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = synthetic(100, 50, random_state=1)
    b = synthetic(100, 50, random_state=1)
    c = synthetic(100, 50, random_state=2)
    assert np.array_equal(a.item_ids, b.item_ids) and np.array_equal(a.weights, b.weights)
    assert not np.array_equal(a.item_ids, c.item_ids)


def test_planted_clusters_dominate() -> None:
    data = synthetic(400, 100, n_clusters=5, in_cluster=0.9, random_state=0)
    users = np.array([int(u[1:]) for u in data.user_ids.tolist()])
    items = np.array([int(i[1:]) for i in data.item_ids.tolist()])
    same = data.user_clusters[users] == data.item_clusters[items]
    # 90% drawn in-cluster plus the global draws that land in-cluster by chance.
    assert 0.88 < same.mean() < 0.96


def test_shapes_and_types() -> None:
    data = synthetic(60, 30, n_clusters=3, mean_interactions=5, random_state=0)
    assert len(data) == data.item_ids.size == data.weights.size == data.timestamps.size
    assert data.weights.dtype == np.float32 and (data.weights >= 1).all()
    assert len(set(data.user_ids.tolist())) == 60
    assert data.user_clusters.shape == (60,) and data.item_clusters.shape == (30,)
    order = np.argsort(data.user_ids, kind="stable")
    per_user = data.timestamps[order]
    same_user = data.user_ids[order][1:] == data.user_ids[order][:-1]
    assert (np.diff(per_user)[same_user] > 0).all()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_users": 0},
        {"n_items": 1},
        {"n_clusters": 0},
        {"in_cluster": 1.5},
        {"mean_interactions": 1.0},
        {"popularity_exponent": -1.0},
    ],
)
def test_invalid_arguments(kwargs: dict[str, float]) -> None:
    args = {"n_users": 10, "n_items": 10, **kwargs}
    with pytest.raises(ConfigError):
        synthetic(**args)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="cannot exceed"):
        synthetic(10, 5, n_clusters=6)


def test_demo_data_is_fixed() -> None:
    assert np.array_equal(demo_data().item_ids[:50], demo_data().item_ids[:50])


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("in_cluster", "0.5"),
        ("in_cluster", None),
        ("mean_interactions", "20"),
        ("mean_interactions", float("nan")),
        ("popularity_exponent", None),
        ("popularity_exponent", float("inf")),
        ("random_state", -1),
        ("random_state", "a"),
        ("random_state", 1.5),
    ],
)
def test_synthetic_refuses_bad_arguments_by_name(keyword: str, value: object) -> None:
    with pytest.raises(ConfigError, match=keyword):
        synthetic(10, 5, n_clusters=2, **{keyword: value})  # type: ignore[arg-type]


def test_synthetic_data_is_short_to_print_and_becomes_interactions() -> None:
    data = synthetic(60, 30, n_clusters=3, random_state=1)
    assert repr(data) == f"SyntheticData({len(data)} rows: 60 users x 30 items, 3 clusters)"
    interactions = data.to_interactions()
    assert interactions.shape == (60, 30) and interactions.rows_read == len(data)
    assert interactions.timestamps is not None
