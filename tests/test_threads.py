"""alsrec's worker threads follow the BLAS setting and never change it."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from alsrec import ALSParams, _threads
from alsrec.backends import NumpyBackend

threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl comes with implicit")


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


@pytest.fixture
def blas_present() -> None:
    if not _blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can control is loaded")


@pytest.mark.usefixtures("blas_present")
def test_workers_only_next_to_single_threaded_blas() -> None:
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert _threads.blas_threads() == 1
        assert _threads.worker_count(3) == 3
        assert _threads.worker_count(0) >= 1
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        assert _threads.blas_threads() == 2
        assert _threads.worker_count(3) == 1


@pytest.mark.usefixtures("blas_present")
def test_training_leaves_blas_alone_and_is_deterministic_across_threads() -> None:
    rng = np.random.default_rng(0)
    conf = sp.random(300, 120, density=0.05, random_state=1, format="csr", dtype=np.float32)
    conf.data = 1 + rng.random(conf.nnz).astype(np.float32)
    results = []
    for blas, threads in ((1, 1), (1, 3), (2, 2)):
        with threadpoolctl.threadpool_limits(blas, user_api="blas"):
            params = ALSParams(factors=6, iterations=3, random_state=0, num_threads=threads)
            results.append(NumpyBackend().fit(conf, params))
            assert set(_blas_threads()) == {blas}
    for users, items in results[1:]:
        np.testing.assert_allclose(users, results[0][0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(items, results[0][1], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(results[0][0], results[1][0])  # same BLAS: bitwise
