"""The numpy reference backend solves the implicit-ALS normal equations."""

from __future__ import annotations

import dataclasses
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp

from alsrec import ALSParams, AlsrecWarning, BackendError, ConfigError, DataError, Recommender
from alsrec.backends import Backend, NumpyBackend, available, get_backend, names
from alsrec.backends._numpy import (
    _DUAL_LONG_FACTORS,
    _DUAL_MIN_FACTORS,
    _PACK_RATIO,
    _PACK_SLACK,
    _Block,
    _block_entries,
    _blocks,
    _cg,
    _dual_pays,
    _dual_width,
    _init_factors,
    _solve_cg,
    _solve_dual,
    _solve_exact,
)
from alsrec.backends._products import (
    Workspace,
    lower_gram,
    lower_products,
    product_chunks,
    times_lower_in_place,
)


def _random_confidence(
    seed: int, shape: tuple[int, int] = (40, 30), density: float = 0.2
) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    mask = sp.random(*shape, density=density, random_state=seed, format="csr")
    mask.data = (1.0 + rng.integers(1, 5, mask.nnz)).astype(np.float32)
    return sp.csr_matrix(mask, dtype=np.float32)


Events = tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]
"""The ``banded_events`` fixture: user IDs, item IDs, weights."""


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


@pytest.mark.parametrize(
    ("entries", "max_rows", "splits"), [(64, None, ()), (64, None, (7, 20)), (512, 5, ())]
)
def test_blocks_hold_every_row_once_nearly_full_and_little_padded(
    entries: int, max_rows: int | None, splits: tuple[int, ...]
) -> None:
    conf = _mixed_widths(7, 300, 200, 90)
    lengths = np.diff(conf.indptr)
    assert (lengths == 0).any()  # empty rows between the others
    blocks = _blocks(conf, max_rows, entries, splits)
    rows = np.concatenate([b.rows for b in blocks])
    assert np.array_equal(np.sort(rows), np.flatnonzero(lengths))  # each non-empty row once
    for block in blocks:
        width = block.cols.shape[1]
        in_block = lengths[block.rows]
        assert width == in_block.max()  # as wide as its longest row
        assert width <= _PACK_RATIO * in_block.min() + _PACK_SLACK  # padding bounded
        assert block.cols.size <= entries or block.rows.size == 1
        assert max_rows is None or block.rows.size <= max_rows
        for split in splits:  # never across a split
            assert in_block.max() <= split or in_block.min() > split
        for row, cols, conf_row in zip(block.rows, block.cols, block.conf, strict=True):
            start, end = conf.indptr[row], conf.indptr[row + 1]
            k = end - start
            assert np.array_equal(cols[:k], conf.indices[start:end])
            assert np.array_equal(conf_row[:k], conf.data[start:end])
            assert np.all(cols[k:] == conf.shape[1]) and np.all(conf_row[k:] == 0)
    # Rows are packed in order of length, so at most one block per run of similar lengths
    # is short of rows: nearly all slots are used by the blocks that have room.
    if max_rows is None and not splits:
        assert sum(b.cols.size for b in blocks) < 1.3 * conf.nnz
        assert len(blocks) <= 2 * -(-sum(b.cols.size for b in blocks) // entries) + 2


def test_registry() -> None:
    assert "numpy" in names()
    backend = get_backend("numpy")
    assert isinstance(backend, Backend)
    assert backend.name == "numpy" and backend.deterministic
    assert get_backend(backend) is backend
    status = {s.name: s for s in available()}
    assert status["numpy"].available


def _mixed_widths(seed: int, n_rows: int, n_fixed: int, widest: int) -> sp.csr_matrix:
    """Rows of every width from 1 to ``widest`` (some empty), confidences in [1, 9]."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for row in range(n_rows):
        k = int(rng.integers(0, widest + 1))
        rows += [row] * k
        cols += list(rng.choice(n_fixed, k, replace=False))
    data = (1.0 + 8.0 * rng.random(len(rows))).astype(np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(n_rows, n_fixed), dtype=np.float32)


def _dual_problem(
    factors: int, n_rows: int, n_fixed: int, seed: int
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, list[_Block]]:
    """Rows of mixed widths up to three times the dual limit, a standard-normal fixed
    side (plus its zero padding row) and a start, in blocks of 64 slots (several blocks
    per width): ``(conf, fixed, start, blocks)``."""
    conf = _mixed_widths(seed, n_rows, n_fixed, 3 * _dual_width(factors))
    rng = np.random.default_rng(1)
    fixed = _init_factors(rng, n_fixed, factors)
    fixed[:n_fixed] = rng.standard_normal((n_fixed, factors)).astype(np.float32)
    start = _init_factors(rng, n_rows, factors)
    return conf, fixed, start, _blocks(conf, entries=64, splits=(_dual_width(factors),))


def test_dual_solver_solves_short_rows_exactly_and_long_rows_by_preconditioned_cg() -> None:
    factors, reg = 24, 0.7
    limit = _dual_width(factors)
    conf, fixed, start, blocks = _dual_problem(factors, 120, 90, seed=0)
    dual, converged, exact, cg = start.copy(), start.copy(), start.copy(), start.copy()
    _solve_dual(dual, fixed, blocks, reg, 3, None)
    _solve_dual(converged, fixed, blocks, reg, 2 * factors, None)
    _solve_exact(exact, fixed, blocks, reg, None)
    _solve_cg(cg, fixed, blocks, reg, 3, None)
    # A row is solved exactly when it has at most ``limit`` interactions (the blocks are
    # split there).
    lengths = np.append(np.diff(conf.indptr), 0)  # + the padding row
    nonempty = lengths > 0
    short, long = (lengths <= limit) & nonempty, lengths > limit
    assert short.sum() > 20 and long.sum() > 20
    np.testing.assert_allclose(dual[short], exact[short], rtol=1e-4, atol=2e-5)
    solved = dual[:120][short[:120]]
    assert _normal_equation_residual(solved, fixed[:90], conf[short[:120]], reg) < 1e-4
    # Long rows: CG, which converges to the exact solution with enough steps ...
    np.testing.assert_allclose(converged[long], exact[long], rtol=1e-3, atol=1e-4)
    # ... and, preconditioned by YᵀY + λI, gets closer in 2 steps (cg_steps=3) than
    # plain CG in 3.
    rows = np.flatnonzero(long)
    error_dual = np.linalg.norm(dual[rows] - exact[rows], axis=1)
    error_cg = np.linalg.norm(cg[rows] - exact[rows], axis=1)
    assert np.median(error_dual) < np.median(error_cg)
    np.testing.assert_array_equal(dual[~nonempty], start[~nonempty])  # empty rows untouched


def test_auto_solver_is_exact_for_short_rows_at_large_factors() -> None:
    # Every item has few interactions: with solver="auto" at _DUAL_MIN_FACTORS factors the
    # items (solved last) satisfy their normal equations against the final user factors.
    conf = _random_confidence(6, (60, 80), density=0.1)
    assert np.diff(conf.T.tocsr().indptr).max() <= _dual_width(_DUAL_MIN_FACTORS)
    params = ALSParams(factors=_DUAL_MIN_FACTORS, regularization=0.4, iterations=2)
    users, items = NumpyBackend().fit(conf, params)
    assert _normal_equation_residual(items, users, conf.T.tocsr(), 0.4) < 1e-4


def test_below_128_factors_auto_takes_the_dual_sweep_only_where_rows_are_long() -> None:
    f = _DUAL_LONG_FACTORS

    def pays(conf: sp.csr_matrix) -> tuple[bool, bool]:
        entries, split = _block_entries(f), (_dual_width(f),)
        users = _blocks(conf, None, entries, split)
        items = _blocks(conf.T.tocsr(), None, entries, split)
        return _dual_pays(users, conf.shape[1], f), _dual_pays(items, conf.shape[0], f)

    long_rows = _random_confidence(3, (80, 60), density=0.6)  # ~36 per user, ~48 per item
    short_rows = _random_confidence(4, (600, 400), density=0.01)  # ~4 per user, ~6 per item
    assert pays(long_rows) == (True, True)
    assert pays(short_rows) == (False, False)  # short rows outnumber the other side
    # Long user rows, but the items' copy (3000 x 64 floats) outweighs the users' blocks.
    wide = _random_confidence(5, (20, 3000), density=0.02)  # ~60 per user
    assert pays(wide)[0] is False

    def fit(conf: sp.csr_matrix, solver: Literal["auto", "cg"]) -> tuple[np.ndarray, np.ndarray]:
        params = ALSParams(factors=f, regularization=0.5, iterations=3, solver=solver)
        return NumpyBackend().fit(conf, params)

    # Short rows: "auto" is plain CG (the same numbers up to float rounding).
    for a, b in zip(fit(short_rows, "auto"), fit(short_rows, "cg"), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    # Long rows: the dual sweep, another path to (about) the same solution.
    auto_users, auto_items = fit(long_rows, "auto")
    cg_users, cg_items = fit(long_rows, "cg")
    assert not np.allclose(auto_items, cg_items, rtol=1e-4, atol=1e-6)
    transposed = long_rows.T.tocsr()
    auto_residual = _normal_equation_residual(auto_items, auto_users, transposed, 0.5)
    cg_residual = _normal_equation_residual(cg_items, cg_users, transposed, 0.5)
    assert auto_residual < 0.02 and cg_residual < 0.02  # measured 0.006 and 0.003


def test_auto_solver_is_deterministic_for_any_thread_count() -> None:
    conf = _mixed_widths(2, 200, 150, 60)
    fits = [
        NumpyBackend().fit(
            conf,
            ALSParams(factors=160, regularization=0.3, iterations=2, num_threads=threads),
        )
        for threads in (1, 2, 2)
    ]
    for users, items in fits[1:]:
        np.testing.assert_array_equal(users, fits[0][0])
        np.testing.assert_array_equal(items, fits[0][1])


def test_two_preconditioned_steps_land_closer_than_three_plain_ones() -> None:
    # Why "auto" takes cg_steps - 1 steps on its preconditioned path: from the same start,
    # two steps preconditioned by YᵀY + λI are nearer the exact row solutions than three
    # plain CG steps.
    factors, reg = 160, 2.0
    conf, fixed, start, blocks = _dual_problem(factors, 120, 200, seed=2)
    two, exact, three = start.copy(), start.copy(), start.copy()
    _solve_dual(two, fixed, blocks, reg, 3, None)  # cg_steps=3: two preconditioned steps
    _solve_exact(exact, fixed, blocks, reg, None)
    _solve_cg(three, fixed, blocks, reg, 3, None)
    long = np.diff(conf.indptr) > _dual_width(factors)
    rows = np.flatnonzero(long)  # the rows CG solves
    assert rows.size > 20
    error_two = np.linalg.norm(two[rows] - exact[rows], axis=1)
    error_three = np.linalg.norm(three[rows] - exact[rows], axis=1)
    assert np.median(error_two) < 0.5 * np.median(error_three)


def test_auto_solver_takes_one_preconditioned_step_fewer() -> None:
    conf = _mixed_widths(2, 200, 150, 60)  # rows wider than the dual limit: CG rows
    fits = {
        steps: NumpyBackend().fit(
            conf,
            ALSParams(factors=_DUAL_MIN_FACTORS, regularization=0.3, iterations=2, cg_steps=steps),
        )
        for steps in (1, 2, 3)
    }
    # cg_steps=2 runs one preconditioned step, as does cg_steps=1 (at least one) ...
    np.testing.assert_array_equal(fits[1][0], fits[2][0])
    np.testing.assert_array_equal(fits[1][1], fits[2][1])
    # ... and cg_steps=3 runs two.
    assert not np.array_equal(fits[2][0], fits[3][0])


def test_auto_solver_is_cg_below_the_crossover() -> None:
    conf = _random_confidence(7)
    auto = NumpyBackend().fit(conf, ALSParams(factors=8, regularization=0.2, iterations=2))
    cg = NumpyBackend().fit(
        conf, ALSParams(factors=8, regularization=0.2, iterations=2, solver="cg")
    )
    np.testing.assert_array_equal(auto[0], cg[0])
    np.testing.assert_array_equal(auto[1], cg[1])


def test_blocks_are_sized_by_bytes_above_64_factors() -> None:
    assert _block_entries(8) == _block_entries(64) == 16384
    assert _block_entries(256) == 4096 and _block_entries(512) == 2048
    assert _block_entries(10**6) >= 1


@pytest.mark.parametrize("n_fixed", [30, 400])
def test_dual_solver_short_rows_with_and_without_the_solved_side(n_fixed: int) -> None:
    # 200 short rows: more than 30 fixed rows (W = Y G⁻¹ is computed), fewer than 400.
    factors, reg = 32, 0.5
    conf = _mixed_widths(3, 200, n_fixed, _dual_width(factors) - 4)
    rng = np.random.default_rng(4)
    fixed = _init_factors(rng, n_fixed, factors)
    fixed[:n_fixed] = rng.standard_normal((n_fixed, factors)).astype(np.float32)
    start = _init_factors(rng, 200, factors)
    blocks = _blocks(conf, entries=64)
    dual, exact = start.copy(), start.copy()
    _solve_dual(dual, fixed, blocks, reg, 3, None)
    _solve_exact(exact, fixed, blocks, reg, None)
    np.testing.assert_allclose(dual, exact, rtol=1e-4, atol=2e-5)


def test_auto_solver_without_regularization_falls_back_to_cg() -> None:
    # λ = 0 and more factors than rows: YᵀY is singular, there is no Cholesky factor.
    conf = _random_confidence(8, (20, 15), density=0.3)
    params = ALSParams(factors=_DUAL_MIN_FACTORS, regularization=0.0, iterations=2)
    users, items = NumpyBackend().fit(conf, params)
    assert np.isfinite(users).all() and np.isfinite(items).all()
    # Both sweeps took the fallback: the result is plain CG's, bit for bit.
    cg_users, cg_items = NumpyBackend().fit(conf, dataclasses.replace(params, solver="cg"))
    np.testing.assert_array_equal(users, cg_users)
    np.testing.assert_array_equal(items, cg_items)


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("n_rows", [0, 1, 37])
def test_triangular_products_match_the_general_product(transpose: bool, n_rows: int) -> None:
    rng = np.random.default_rng(3)
    lower = np.asfortranarray(np.tril(rng.standard_normal((16, 16))), dtype=np.float32)
    rows = rng.standard_normal((n_rows, 16)).astype(np.float32)
    want = rows @ (lower.T if transpose else lower)
    times_lower_in_place(rows, lower, transpose=transpose)
    np.testing.assert_allclose(rows, want, rtol=1e-5, atol=1e-5)


def test_chunked_triangular_products_copy_their_source_and_cover_every_row() -> None:
    rng = np.random.default_rng(4)
    lower = np.asfortranarray(np.tril(rng.standard_normal((8, 8))), dtype=np.float32)
    source = rng.standard_normal((21, 8)).astype(np.float32)
    chunks = [slice(0, 5), slice(5, 16), slice(16, 40)]  # the last runs past the end
    out = np.full_like(source, np.nan)
    lower_products(out, lower, chunks, source=lambda rows: source[rows])
    np.testing.assert_allclose(out, source @ lower, rtol=1e-5, atol=1e-5)
    in_place = source.copy()
    lower_products(in_place, lower, chunks, transpose=True)
    np.testing.assert_allclose(in_place, source @ lower.T, rtol=1e-5, atol=1e-5)


def test_product_chunks_cover_the_rows_in_fixed_sizes() -> None:
    assert product_chunks(0) == []
    chunks = product_chunks(20_000)
    assert [c.start for c in chunks] == [0, 8192, 16384]
    assert np.arange(20_000)[chunks[-1]].size == 20_000 - 16384


@pytest.mark.parametrize("factors", [1, 2, 7, 160])
def test_split_gram_holds_the_lower_triangle_of_the_gram_matrix(factors: int) -> None:
    rng = np.random.default_rng(factors)
    fixed = rng.standard_normal((50, factors)).astype(np.float32)
    want = np.tril(fixed.astype(np.float64).T @ fixed)
    for pool in (None, ThreadPoolExecutor(2)):
        gram = lower_gram(fixed, pool, Workspace())
        np.testing.assert_allclose(np.tril(gram), want, rtol=1e-4, atol=1e-3)
        assert gram.flags.f_contiguous and gram.dtype == np.float64


def test_last_cg_step_by_its_curvature_equals_the_full_product() -> None:
    # The last step needs only pᵀAp: one product with the rows' factors, not two.
    rng = np.random.default_rng(5)
    a = rng.standard_normal((6, 6))
    a = (a @ a.T + 6 * np.eye(6)).astype(np.float32)
    b = rng.standard_normal((4, 6)).astype(np.float32)
    x0 = rng.standard_normal((4, 6)).astype(np.float32)
    results = []
    for curvature in (None, lambda p: np.einsum("bf,bf->b", p, p @ a)):
        x = x0.copy()
        _cg(x, b - x @ a, lambda v: v @ a, 3, curvature)
        results.append(x)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)
    exact = np.linalg.solve(a, b.T).T
    assert np.abs(results[1] - exact).max() < np.abs(x0 - exact).max()  # it moved closer


def test_workspace_gather_matches_fancy_indexing_and_reuses_its_buffer() -> None:
    rng = np.random.default_rng(6)
    fixed = rng.standard_normal((30, 4)).astype(np.float32)
    work = Workspace()
    big = rng.integers(0, 30, (5, 7)).astype(np.int32)
    small = rng.integers(0, 30, (2, 3)).astype(np.int32)
    first = work.gather(fixed, big)
    np.testing.assert_array_equal(first, fixed[big])
    second = work.gather(fixed, small)
    np.testing.assert_array_equal(second, fixed[small])
    assert np.shares_memory(first, second)  # the same per-thread memory
    assert work.array("a", (3, 2), np.float64) is work.array("a", (3, 2), np.float64)


@pytest.mark.parametrize("backend", ["numpy", "implicit"])
def test_an_overflow_names_what_is_too_large_without_numpy_warnings(
    backend: str, banded_events: Events
) -> None:
    users, items, weights = banded_events
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's RuntimeWarnings used to come first
        with pytest.raises(BackendError, match=r"regularization=1e\+30 is too large: lower it"):
            Recommender(factors=8, iterations=3, regularization=1e30, backend=backend).fit(
                users, items, weights
            )
        with pytest.raises(
            BackendError,
            match=r"largest confidence \(1 \+ alpha \* f\(w\)\) is 1.5e\+31: rescale the weights",
        ):
            Recommender(factors=8, iterations=3, alpha=1.0, backend=backend).fit(
                users, items, weights * 1e30
            )
        # alpha="auto" reads such weights in its own range: a model, not an overflow
        Recommender(factors=8, iterations=3, backend=backend).fit(users, items, weights * 1e30)
    if backend == "numpy":
        with pytest.raises(BackendError, match=r"regularization_exponent=1000 makes a row's"):
            Recommender(factors=8, iterations=3, regularization_exponent=1000).fit(
                users, items, weights
            )


@pytest.mark.parametrize("backend", ["numpy", "implicit"])
def test_a_model_the_regularization_shrank_to_nothing_is_flagged(
    backend: str, banded_events: Events
) -> None:
    # regularization=1000 on 600 interactions (auto: about 12): the factors end near 1e-26
    # (numpy) or 1e-15 (implicit); fit warns, and inspect() counts rows whose float32 norm
    # is 0 as zero rows and reports a model that cannot rank.
    users, items, weights = banded_events
    rec = Recommender(factors=8, iterations=10, regularization=1000.0, backend=backend)
    with pytest.warns(AlsrecWarning, match=r"shrank to nothing.*regularization=1000 is too"):
        rec.fit(users, items, weights)
    if backend == "numpy":
        report = rec.inspect()
        assert report.users.zero_rows == 60
        assert not report.ok
        assert any("cannot rank" in problem for problem in report.problems)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        healthy = Recommender(factors=8, iterations=10, backend=backend)
        assert healthy.fit(users, items, weights).inspect().ok


@pytest.mark.parametrize("backend", ["numpy", "implicit"])
def test_exact_solves_of_singular_systems_are_refused_alike(
    backend: str, banded_events: Events
) -> None:
    # No regularization and more factors than items: implicit's Cholesky failed on row 0,
    # the numpy backend returned user factors of 6e6; both now refuse before training.
    users, items, _ = banded_events
    rec = Recommender(factors=64, regularization=0.0, solver="cholesky", backend=backend)
    with pytest.raises(ConfigError, match=r"factors=64 on 60 users x 40 items.*at most 40"):
        rec.fit(users, items)
    Recommender(factors=32, regularization=0.0, solver="cholesky", backend=backend).fit(
        users, items
    )
