"""Shared fixtures: small seeded synthetic data and models fitted on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from alsrec import Interactions, Recommender
from alsrec.backends import available
from alsrec.datasets import SyntheticData, synthetic

if TYPE_CHECKING:
    from collections.abc import Callable


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


_STATUSES = {status.name: status for status in available()}


@pytest.fixture(scope="session")
def require_backend() -> Callable[[str], None]:
    """``require_backend(name)`` skips the test when the backend cannot run here.

    Every such skip is raised from this one place with one reason per backend, so the
    test summary groups them into one line per backend (e.g. one line for CUDA) instead
    of one per test file.
    """

    def check(name: str) -> None:
        status = _STATUSES[name]
        if not status.available:
            pytest.skip(f"backend {name!r} cannot run here: {status.reason}")

    return check
