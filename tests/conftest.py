"""Shared fixtures: small seeded synthetic data and models fitted on it."""

from __future__ import annotations

import pytest

from alsrec import Interactions, Recommender
from alsrec.datasets import SyntheticData, synthetic


@pytest.fixture(scope="session")
def small_data() -> SyntheticData:
    """300 users x 120 items in 6 planted clusters."""
    return synthetic(n_users=300, n_items=120, n_clusters=6, mean_interactions=12, random_state=7)


@pytest.fixture(scope="session")
def small_interactions(small_data: SyntheticData) -> Interactions:
    return Interactions.from_arrays(small_data.user_ids, small_data.item_ids, small_data.weights)


@pytest.fixture(scope="session")
def fitted(small_interactions: Interactions) -> Recommender:
    """A numpy-backend model on the small data; tests must not mutate it."""
    return Recommender(factors=16, regularization=1.0, iterations=10, random_state=0).fit(
        small_interactions
    )
