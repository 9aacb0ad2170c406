"""The numpy reference backend solves the implicit-ALS normal equations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from alsrec import ALSParams, DataError
from alsrec.backends import Backend, NumpyBackend, available, get_backend, names
from alsrec.backends._numpy import _bucket_widths


def _random_confidence(
    seed: int, shape: tuple[int, int] = (40, 30), density: float = 0.2
) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    mask = sp.random(*shape, density=density, random_state=seed, format="csr")
    mask.data = (1.0 + rng.integers(1, 5, mask.nnz)).astype(np.float32)
    return sp.csr_matrix(mask, dtype=np.float32)


def _normal_equation_residual(
    solved: np.ndarray, fixed: np.ndarray, conf: sp.csr_matrix, reg: float
) -> float:
    """Max relative residual of (FᵀF + Fᵀ(C-I)F + λI) x = Fᵀ C p over all rows."""
    fixed64 = fixed.astype(np.float64)
    gram = fixed64.T @ fixed64
    worst = 0.0
    for row in range(conf.shape[0]):
        cols = conf.indices[conf.indptr[row] : conf.indptr[row + 1]]
        c = conf.data[conf.indptr[row] : conf.indptr[row + 1]].astype(np.float64)
        f = fixed64[cols]
        lhs = gram + (f.T * (c - 1)) @ f + reg * np.eye(gram.shape[0])
        rhs = f.T @ c
        x = solved[row].astype(np.float64)
        worst = max(worst, float(np.linalg.norm(lhs @ x - rhs) / max(np.linalg.norm(rhs), 1e-12)))
    return worst


def test_exact_solver_satisfies_the_normal_equations() -> None:
    conf = _random_confidence(0)
    params = ALSParams(
        factors=5, regularization=0.3, iterations=3, random_state=0, solver="cholesky"
    )
    users, items = NumpyBackend().fit(conf, params)
    # Items are solved last, against the final user factors: they satisfy their equations.
    assert _normal_equation_residual(items, users, conf.T.tocsr(), 0.3) < 1e-4


def test_cg_with_enough_steps_matches_the_exact_solver() -> None:
    conf = _random_confidence(1)
    exact = NumpyBackend().fit(
        conf,
        ALSParams(factors=4, regularization=0.5, iterations=2, random_state=3, solver="cholesky"),
    )
    cg = NumpyBackend().fit(
        conf, ALSParams(factors=4, regularization=0.5, iterations=2, random_state=3, cg_steps=12)
    )
    np.testing.assert_allclose(cg[0], exact[0], atol=2e-4)
    np.testing.assert_allclose(cg[1], exact[1], atol=2e-4)


def test_default_cg_reduces_the_residual_each_sweep() -> None:
    conf = _random_confidence(2, (80, 60))
    residuals = []
    for iterations in (1, 3, 10):
        users, items = NumpyBackend().fit(
            conf, ALSParams(factors=6, regularization=0.2, iterations=iterations, random_state=0)
        )
        residuals.append(_normal_equation_residual(items, users, conf.T.tocsr(), 0.2))
    assert residuals[2] < residuals[0]
    assert residuals[2] < 0.05


def test_rows_without_interactions_get_zero_factors() -> None:
    dense = np.array([[2, 0, 0], [0, 0, 0], [0, 3, 0]], dtype=np.float32)
    users, items = NumpyBackend().fit(
        sp.csr_matrix(dense), ALSParams(regularization=0.1, factors=3, random_state=0)
    )
    assert not users[1].any()
    assert not items[2].any()
    assert users[0].any() and items[1].any()


def test_zero_iterations_keep_the_seeded_initialisation() -> None:
    conf = _random_confidence(3)
    a = NumpyBackend().fit(
        conf, ALSParams(regularization=0.1, factors=3, iterations=0, random_state=9)
    )
    b = NumpyBackend().fit(
        conf, ALSParams(regularization=0.1, factors=3, iterations=0, random_state=9)
    )
    np.testing.assert_array_equal(a[0], b[0])
    assert 0 < np.abs(a[1]).max() < 0.1


def test_non_finite_confidence_is_refused() -> None:
    conf = _random_confidence(4)
    conf.data[0] = np.nan
    with pytest.raises(DataError, match="NaN or inf"):
        NumpyBackend().fit(conf, ALSParams(regularization=0.1, factors=2))


def test_long_rows_and_blocks_of_every_width() -> None:
    # One very popular item and users with very different history lengths.
    rng = np.random.default_rng(5)
    rows, cols = [], []
    for user in range(300):
        k = int(rng.integers(1, 60))
        rows += [user] * (k + 1)
        cols += [0, *list(rng.choice(np.arange(1, 200), k, replace=False))]
    conf = sp.csr_matrix((np.full(len(rows), 3.0, np.float32), (rows, cols)), shape=(300, 200))
    users, items = NumpyBackend().fit(
        conf,
        ALSParams(factors=4, regularization=0.1, iterations=2, random_state=0, solver="cholesky"),
    )
    assert _normal_equation_residual(items, users, conf.T.tocsr(), 0.1) < 1e-4


def test_bucket_widths_pad_at_most_a_third() -> None:
    widths = _bucket_widths(5000)
    assert widths[0] == 1 and widths[-1] >= 5000
    assert np.all(np.diff(widths) > 0)
    lengths = np.arange(1, 5001)
    padded = widths[np.searchsorted(widths, lengths)]
    assert np.all(padded >= lengths)
    assert np.all(padded <= np.maximum(lengths * 4 // 3, lengths + 1))


def test_registry() -> None:
    assert "numpy" in names()
    backend = get_backend("numpy")
    assert isinstance(backend, Backend)
    assert backend.name == "numpy" and backend.deterministic
    assert get_backend(backend) is backend
    status = {s.name: s for s in available()}
    assert status["numpy"].available
