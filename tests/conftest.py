"""Shared fixtures: small seeded synthetic data and models fitted on it."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pytest

from alsrec import Interactions, Recommender
from alsrec.backends import available
from alsrec.datasets import SyntheticData, synthetic

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


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


Events = tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]
"""The ``banded_events`` fixture: user IDs, item IDs, weights."""


@pytest.fixture(scope="session")
def banded_events() -> Events:
    """600 (user, item, weight) rows: 60 users, each on a band of 8 of 40 items, weights
    1-4; small enough for extreme settings (regularization 1e30, weights 1e30)."""
    rng = np.random.default_rng(0)
    users = rng.integers(0, 60, 600)
    items = (users * 7 + rng.integers(0, 8, 600)) % 40
    return users, items, rng.integers(1, 5, 600).astype(float)


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


# -- PostgreSQL, for the SQL reader and the CLI (one throwaway server per session) ---------


def _pg_binaries() -> bool:
    return shutil.which("initdb") is not None or bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A PostgreSQL DSN: ALSREC_TEST_POSTGRES_DSN, or a throwaway cluster from .ci/postgres.sh."""
    pytest.importorskip(
        "psycopg", reason="psycopg is not installed (pip install 'alsrec[postgres]')"
    )
    dsn = os.environ.get("ALSREC_TEST_POSTGRES_DSN")
    if dsn:
        yield dsn
        return
    script = Path(__file__).resolve().parents[1] / ".ci" / "postgres.sh"
    if not _pg_binaries():
        pytest.skip(
            "no PostgreSQL server: ALSREC_TEST_POSTGRES_DSN is unset and no initdb binary "
            "is installed (apt-get install postgresql, or run .ci/run)"
        )
    if not script.exists():
        pytest.skip(
            f"no PostgreSQL server: ALSREC_TEST_POSTGRES_DSN is unset and {script} is absent"
        )
    started = subprocess.run(
        ["bash", str(script), "start"],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "ALSREC_PG_INSTALL": "0"},
        check=False,
    )
    exports = dict(
        line.removeprefix("export ").replace("'", "").split("=", 1)
        for line in started.stdout.splitlines()
        if line.startswith("export ")
    )
    if "ALSREC_TEST_POSTGRES_DSN" not in exports:
        pytest.fail(f"PostgreSQL is installed but did not start:\n{started.stderr}")
    try:
        yield exports["ALSREC_TEST_POSTGRES_DSN"]
    finally:
        subprocess.run(
            ["bash", str(script), "stop", exports["ALSREC_TEST_POSTGRES_DIR"]],
            capture_output=True,
            timeout=120,
            check=False,
        )
