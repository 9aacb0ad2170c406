"""Fold-in, the cold-start chain, and incremental updates (``alsrec._foldin`` and the
``Recommender`` methods built on it: ``recommend_for_history``, ``recommend(history=)``,
``recommend_many(histories=)`` and ``updated``)."""

from __future__ import annotations

import threading
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp

import alsrec._foldin as foldin_module
from alsrec import (
    ALSParams,
    AlsrecWarning,
    ConfigError,
    DataError,
    IdTypeError,
    Interactions,
    Recommender,
    UnknownIdError,
)
from alsrec._foldin import FoldInSolver, history_confidence
from alsrec.backends import available, names
from alsrec.datasets import synthetic

if TYPE_CHECKING:
    from alsrec.types import FactorMatrix

FACTORS = 8
REG = 0.5
ALPHA = 2.0

# Relative tolerance of "equals the trained row" per training solver. The exact solver
# must agree to float32 rounding; conjugate gradient with as many steps as factors is
# exact in exact arithmetic, but runs in float32, so it gets a looser bound.
TOLERANCE = {"cholesky": 1e-4, "cg": 1e-2}

Events = tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]
"""The ``banded_events`` fixture: user IDs, item IDs, weights."""


@pytest.fixture(scope="module")
def data() -> Interactions:
    d = synthetic(n_users=200, n_items=80, n_clusters=4, mean_interactions=10, random_state=3)
    return Interactions.from_arrays(d.user_ids, d.item_ids, d.weights)


@pytest.fixture(scope="module")
def rec(data: Interactions) -> Recommender:
    """A fitted model; tests must not mutate it."""
    return Recommender(
        factors=FACTORS, regularization=REG, alpha=ALPHA, iterations=8, random_state=0
    ).fit(data)


def _history(rec: Recommender, user: str) -> tuple[list[str], list[float]]:
    """A user's training items and weights, as external IDs."""
    seen = rec.seen_
    assert seen is not None
    row = rec.users_.index_of(user)
    start, stop = seen.indptr[row], seen.indptr[row + 1]
    items = rec.items_.to_id(seen.indices[start:stop]).tolist()
    return items, seen.data[start:stop].tolist()


def _dense_reference(fixed: FactorMatrix, conf_row: np.ndarray, reg: float) -> np.ndarray:
    """The textbook formula with dense matrices: (YᵀC_uY + λI)⁻¹ YᵀC_u p_u."""
    y = fixed.astype(np.float64)
    c = np.where(conf_row > 0, conf_row, 1.0)
    p = (conf_row > 0).astype(np.float64)
    lhs = y.T @ (c[:, None] * y) + reg * np.eye(y.shape[1])
    return np.asarray(np.linalg.solve(lhs, y.T @ (c * p)))


# -- the solver ---------------------------------------------------------------------------------


def _histories_and_solutions(
    rng: np.random.Generator, fixed: FactorMatrix, lengths: list[int]
) -> tuple[sp.csr_matrix, npt.NDArray[np.float64]]:
    """Random confidences (1-4) of histories of ``lengths`` over the 60 rows of ``fixed``,
    and their solutions by the dense textbook formula at regularization 0.3."""
    rows, cols, vals = [], [], []
    for r, length in enumerate(lengths):
        cols.extend(rng.choice(60, size=length, replace=False).tolist())
        rows.extend([r] * length)
        vals.extend((1.0 + 3.0 * rng.random(length)).tolist())
    conf = sp.csr_matrix((vals, (rows, cols)), shape=(len(lengths), 60), dtype=np.float32)
    expected = np.stack(
        [_dense_reference(fixed, conf[r].toarray()[0], 0.3) for r in range(len(lengths))]
    )
    return conf, expected


def test_solver_matches_dense_formula_across_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batched, padded solves equal the dense textbook formula row by row, also when
    histories of very different lengths are split over many small blocks."""
    rng = np.random.default_rng(0)
    fixed = rng.standard_normal((60, 5)).astype(np.float32)
    lengths = [0, 1, 2, 3, 7, 20, 60, 5, 0, 33]
    conf, expected = _histories_and_solutions(rng, fixed, lengths)
    expected[[0, 8]] = 0.0  # empty histories get zero factors
    whole = FoldInSolver(fixed, 0.3).solve(conf)
    monkeypatch.setattr(foldin_module, "_BLOCK_ENTRIES", 16)
    monkeypatch.setattr(foldin_module, "_BLOCK_ROWS", 2)
    monkeypatch.setattr(foldin_module, "_GRAM_CHUNK", 7)
    blocked = FoldInSolver(fixed, 0.3).solve(conf)
    np.testing.assert_allclose(whole, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(blocked, expected, rtol=1e-5, atol=1e-6)
    assert whole.dtype == np.float32
    assert whole.shape == (len(lengths), 5)


def test_the_dual_solve_matches_the_dense_formula(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every history through the dual system (the path of confidences far above the
    penalty) gives the normal equations' solution, short histories and long ones."""
    rng = np.random.default_rng(1)
    fixed = rng.standard_normal((60, 5)).astype(np.float32)
    lengths = [1, 2, 4, 5, 9, 60]
    conf, expected = _histories_and_solutions(rng, fixed, lengths)
    monkeypatch.setattr(foldin_module, "_STIFF_RATIO", 0.0)
    np.testing.assert_allclose(FoldInSolver(fixed, 0.3).solve(conf), expected, rtol=1e-5, atol=1e-6)


def test_a_batch_finds_its_stiff_histories_whatever_their_order() -> None:
    # Rows are solved in order of length: each row's largest confidence must be its own
    # (here the long row 0 comes after the short row 1, whose huge value is its second).
    rng = np.random.default_rng(3)
    fixed = rng.standard_normal((30, 4)).astype(np.float32)
    rows, cols = [0] * 6 + [1] * 2, [*range(6), 10, 11]
    conf = sp.csr_matrix(([2.0] * 6 + [2.0, 1e20], (rows, cols)), shape=(2, 30))
    solver = FoldInSolver(fixed, 0.5)
    single = np.vstack([solver.solve(conf[[0]]), solver.solve(conf[[1]])])
    np.testing.assert_allclose(solver.solve(conf), single, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", ["numpy", "implicit"])
def test_huge_history_weights_fold_in_at_their_limit(backend: str, banded_events: Events) -> None:
    # With c - 1 near 1e20 times the penalty the normal equations lost YᵀY + λI to
    # rounding and the top items were noise. The answer tends to a limit as the weights
    # grow: 1e6, 1e20 and 1e30 must rank alike.
    users, items, weights = banded_events
    rec = Recommender(factors=8, iterations=10, backend=backend, random_state=0)
    rec.fit(users, items, weights)
    history = [int(items[0]), int(items[1])]
    answers = [rec.recommend_for_history(history, [w, w], n=5) for w in (1e6, 1e20, 1e30)]
    for answer in answers[1:]:
        assert answer.ids.tolist() == answers[0].ids.tolist()
        np.testing.assert_allclose(answer.scores, answers[0].scores, rtol=1e-3)


def test_frequency_scaled_penalties_take_the_dual_path_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = synthetic(n_users=200, n_items=80, random_state=2)
    rec = Recommender(factors=6, iterations=5, regularization_exponent=1.0, random_state=0)
    rec.fit(data.user_ids, data.item_ids, data.weights)
    history = rec.items_.ids[:7].tolist()
    normal = rec.recommend_for_history(history, n=10)
    monkeypatch.setattr(foldin_module, "_STIFF_RATIO", 0.0)
    fresh = Recommender.from_factors(
        rec.user_factors_,
        rec.item_factors_,
        rec.users_.ids,
        rec.items_.ids,
        params=rec.params_,
        seen=rec.seen_,
    )
    dual = fresh.recommend_for_history(history, n=10)
    assert dual.ids.tolist() == normal.ids.tolist()
    np.testing.assert_allclose(dual.scores, normal.scores, rtol=1e-4, atol=1e-6)


def test_solver_singular_system_gives_minimum_norm_solution() -> None:
    """With regularization 0 and rank-deficient factors the solve falls back to lstsq."""
    fixed = np.zeros((4, 3), dtype=np.float32)
    fixed[:, 0] = [1.0, 2.0, 0.0, 1.0]
    conf = sp.csr_matrix(np.array([[2.0, 0.0, 0.0, 0.0]], dtype=np.float32))
    x = FoldInSolver(fixed, 0.0).solve(conf)
    assert np.isfinite(x).all()
    # Only the first factor is identifiable: (Σ y² + y₀²) x₀ = c y₀ -> (6 + 1) x₀ = 2.
    np.testing.assert_allclose(x[0], [2.0 / 7.0, 0.0, 0.0], rtol=1e-6, atol=1e-7)


def test_solver_rejects_bad_input() -> None:
    solver = FoldInSolver(np.ones((3, 2), dtype=np.float32), 0.1)
    with pytest.raises(DataError, match="4 columns but only 3"):
        solver.solve(sp.csr_matrix((1, 4), dtype=np.float32))
    bad = sp.csr_matrix(np.array([[np.nan, 1.0, 0.0]], dtype=np.float32))
    with pytest.raises(DataError, match="confidences to fold in are not finite"):
        solver.solve(bad)


def test_gram_is_computed_once_under_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = foldin_module._regularized_gram
    barrier = threading.Barrier(8)

    def counting(fixed: FactorMatrix, regularization: float) -> np.ndarray:
        calls.append(1)
        return real(fixed, regularization)

    monkeypatch.setattr(foldin_module, "_regularized_gram", counting)
    fixed = np.random.default_rng(1).standard_normal((50, 4)).astype(np.float32)
    solver = FoldInSolver(fixed, 0.2)
    conf = sp.csr_matrix(np.array([[2.0] + [0.0] * 49], dtype=np.float32))
    results: list[np.ndarray] = []

    def work() -> None:
        barrier.wait()
        results.append(solver.solve(conf))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(results) == 8
    assert all(np.array_equal(r, results[0]) for r in results)
    assert not solver.gram.flags.writeable


def test_history_confidence_follows_the_model_alpha() -> None:
    weights = sp.csr_matrix(np.array([[0.0, 2.0, 1.0]], dtype=np.float32))
    conf = history_confidence(weights, ALSParams(alpha=3.0))
    assert conf.toarray().tolist() == [[0.0, 7.0, 4.0]]


# -- fold-in equals training ------------------------------------------------------------------


NU = 0.7
"""A frequency-scaled penalty (``regularization_exponent``) the numpy backend trains."""


def _backend_params() -> list[object]:
    status = {s.name: s for s in available()}
    out: list[object] = []
    for name in names():
        # Spark always solves exactly (solver is ignored) and trains ALS-WR whatever the
        # exponent, reported as regularization_exponent=1 ("count"): one case suffices.
        solvers = ("cholesky",) if name == "spark" else ("cholesky", "cg")
        exponents = (0.0, NU) if name == "numpy" else (0.0,)
        for solver in solvers:
            for nu in exponents:
                marks = []
                if not status[name].available:
                    marks.append(
                        pytest.mark.skip(reason=f"backend {name!r}: {status[name].reason}")
                    )
                out.append(
                    pytest.param(name, solver, nu, marks=marks, id=f"{name}-{solver}-nu{nu:g}")
                )
    return out


@pytest.mark.parametrize(("backend", "solver", "nu"), _backend_params())
def test_foldin_reproduces_trained_user_rows(
    data: Interactions, backend: str, solver: str, nu: float
) -> None:
    """Folding in a user's full training history gives the user's trained factor row.

    ALS sweeps users, then items, in every iteration. After ``k`` iterations the stored
    user rows were therefore solved against the item factors of iteration ``k - 1``, not
    against the final ones (the final item sweep moved them afterwards). So the check
    captures the item factors after iteration ``k - 1`` with the progress callback and
    folds in against those: with the exact solver this must reproduce every trained user
    row to float32 rounding. Conjugate gradient with as many steps as there are factors
    converges in exact arithmetic, so a CG backend must agree within a looser tolerance.
    Spark sweeps items, then users, so its user rows were solved against the final item
    factors; and it trains ALS-WR, which its model reports (``regularization_exponent=1``,
    ``"count"`` scale), so fold-in solves the same per-row penalty. With
    ``regularization_exponent > 0`` (numpy) fold-in gives each history the penalty
    training gave the row, from the model's stored ``regularization_reference``.
    The check goes both through the solver and through the public API (a model wrapping
    the trained user factors and the previous item factors ranks a user the same way by
    stored row and by ``recommend_for_history`` of the user's training history).
    """
    iterations = 3
    caught: dict[int, np.ndarray] = {}

    def capture(iteration: int, users: FactorMatrix, items: FactorMatrix) -> None:
        caught[iteration] = np.array(items, copy=True)

    model = Recommender(
        factors=FACTORS,
        regularization=REG,
        alpha=ALPHA,
        iterations=iterations,
        random_state=0,
        backend=backend,
        solver="cholesky" if solver == "cholesky" else "cg",
        cg_steps=FACTORS,
        regularization_exponent=nu,
    ).fit(data, callback=capture)
    assert sorted(caught) == list(range(1, iterations + 1))
    params = model.params_
    if backend == "spark":
        assert (params.regularization_exponent, params.regularization_scale) == (1.0, "count")
        assert "regularization_reference" in model.model_.provenance.auto_params
    else:
        assert params.regularization_exponent == nu
    users_after_items = backend == "spark"
    previous = caught[iterations] if users_after_items else caught[iterations - 1]
    other = caught[iterations - 1] if users_after_items else caught[iterations]
    trained = model.user_factors_
    seen = model.seen_
    assert seen is not None
    conf = history_confidence(seen, params)
    folded = FoldInSolver.for_params(previous, params).solve(conf)
    scale = np.linalg.norm(trained, axis=1, keepdims=True)
    assert float(scale.min()) > 0
    error = np.linalg.norm(folded - trained, axis=1, keepdims=True) / scale
    assert float(error.max()) < TOLERANCE[solver]
    # Against the other item factors the rows differ: the check above is not vacuous.
    final = FoldInSolver.for_params(other, params).solve(conf)
    final_error = np.linalg.norm(final - trained, axis=1, keepdims=True) / scale
    assert float(final_error.max()) > 5 * TOLERANCE[solver]
    if params.scaled_regularization:
        # ... and a constant penalty would not reproduce them either.
        constant = FoldInSolver(previous, params.regularization_value).solve(conf)
        constant_error = np.linalg.norm(constant - trained, axis=1, keepdims=True) / scale
        assert float(constant_error.max()) > 5 * TOLERANCE[solver]

    wrapped = Recommender.from_factors(
        trained, previous, model.users_, model.items_, seen=seen, params=params
    )
    n_items = len(model.items_)
    for user in model.users_.ids[:20].tolist():
        items, weights = _history(wrapped, user)
        by_row = wrapped.recommend(user, n=n_items)
        by_history = wrapped.recommend_for_history(items, weights, n=n_items)
        assert by_history.source == "fold-in"
        assert set(by_history.ids.tolist()) == set(by_row.ids.tolist())
        assert not set(items) & set(by_history.ids.tolist())
        np.testing.assert_allclose(
            np.sort(by_history.scores),
            np.sort(by_row.scores),
            atol=TOLERANCE[solver] * float(np.abs(by_row.scores).max()),
        )


# -- recommend_for_history --------------------------------------------------------------------


def test_recommend_for_history_scores_are_fold_in_dot_products(rec: Recommender) -> None:
    history = ["I000003", "I000010", "I000010", "I000042"]
    weights = [1.0, 2.0, 0.5, 4.0]
    recs = rec.recommend_for_history(history, weights, n=5)
    conf = sp.csr_matrix(
        ([1.0, 2.5, 4.0], ([0, 0, 0], rec.items_.to_index(["I000003", "I000010", "I000042"]))),
        shape=(1, len(rec.items_)),
    )
    x = _dense_reference(rec.item_factors_, history_confidence(conf, rec.params).toarray()[0], REG)
    scores = rec.item_factors_.astype(np.float64) @ x
    scores[rec.items_.to_index(["I000003", "I000010", "I000042"])] = -np.inf
    best = np.argsort(-scores, kind="stable")[:5]
    assert recs.source == "fold-in"
    assert recs.query is None
    assert recs.ids.tolist() == rec.items_.to_id(best).tolist()
    np.testing.assert_allclose(recs.scores, scores[best], rtol=1e-4)


def test_repeated_history_items_are_summed(rec: Recommender) -> None:
    twice = rec.recommend_for_history(["I000001", "I000001", "I000002"], [1.0, 2.0, 1.0], n=6)
    once = rec.recommend_for_history(["I000002", "I000001"], [1.0, 3.0], n=6)
    assert twice.ids.tolist() == once.ids.tolist()
    np.testing.assert_allclose(twice.scores, once.scores, rtol=1e-6)


def test_history_exclusion_and_candidates(rec: Recommender) -> None:
    history = ["I000005", "I000006"]
    n_items = len(rec.items_)
    excluded = rec.recommend_for_history(history, n=n_items)
    assert len(excluded) == n_items - 2
    assert not {"I000005", "I000006"} & set(excluded.ids.tolist())
    kept = rec.recommend_for_history(history, n=n_items, exclude_history=False)
    assert len(kept) == n_items
    candidates = ["I000005", "I000007", "I000008", "NOPE"]
    restricted = rec.recommend_for_history(history, n=5, items=candidates)
    assert set(restricted.ids.tolist()) == {"I000007", "I000008"}
    assert restricted.skipped == ("NOPE",)


def test_unknown_history_items_follow_the_policy(rec: Recommender) -> None:
    clean = rec.recommend_for_history(["I000001", "I000004"], [2.0, 1.0], n=5)
    mixed = rec.recommend_for_history(["X1", "I000001", "I000004", "X2"], [9.0, 2.0, 1.0, 9.0], n=5)
    assert mixed.skipped == ("X1", "X2")
    assert mixed.ids.tolist() == clean.ids.tolist()
    np.testing.assert_array_equal(mixed.scores, clean.scores)
    with pytest.raises(UnknownIdError, match="'X1', 'X2'") as info:
        rec.recommend_for_history(["X1", "I000001", "X2"], n=5, policy="strict")
    assert info.value.ids == ("X1", "X2")
    # Integer IDs against a model of string IDs are unknown too, and said to be of the
    # wrong type (issue 18, item 7).
    with pytest.warns(AlsrecWarning, match=r"1, 2 are int IDs .* item IDs are str"):
        assert rec.recommend_for_history([1, 2], n=3).skipped == (1, 2)


def test_empty_or_unknown_history_falls_back_to_popularity(rec: Recommender) -> None:
    popular = rec.recommend_many(["nobody"], n=5)[0]
    assert popular.source == "fallback"
    empty = rec.recommend_for_history([], n=5)
    assert empty.source == "fallback"
    assert empty.ids.tolist() == popular.ids.tolist()
    unknown = rec.recommend_for_history(["X1"], n=5)
    assert unknown.source == "fallback"
    assert unknown.skipped == ("X1",)
    assert unknown.ids.tolist() == popular.ids.tolist()


def test_history_of_zero_factor_items_falls_back_excluding_them() -> None:
    """Items without a factor signal give a zero fold-in row: the popularity fallback
    answers instead, without the given items."""
    users = np.array([[1.0, 0.0], [0.0, 1.0]])
    items = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.5, 0.5]])
    seen = sp.csr_matrix(np.array([[1, 1, 1, 0], [1, 0, 1, 1]], dtype=np.float32))
    model = Recommender.from_factors(users, items, ["u", "v"], ["a", "b", "c", "d"], seen=seen)
    # Popularity: a (2), c (2), b (1), d (1).
    recs = model.recommend_for_history(["c"], n=3)
    assert recs.source == "fallback"
    assert recs.ids.tolist() == ["a", "b", "d"]
    assert model.recommend("new", history=["c"], n=1).ids.tolist() == ["a"]


def test_zero_stored_row_falls_back_excluding_seen() -> None:
    """A known user whose stored factors are zero gets the fallback, not zero scores."""
    users = np.array([[0.0, 0.0], [0.0, 1.0]])
    items = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    seen = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0]], dtype=np.float32))
    model = Recommender.from_factors(users, items, ["u", "v"], ["a", "b", "c"], seen=seen)
    recs = model.recommend("u", n=3)
    assert recs.source == "fallback"
    assert recs.ids.tolist() == ["b", "c"]  # popularity order without u's own item "a"
    batch = model.recommend_many(["u", "v"], n=3)
    assert batch.sources.tolist() == ["fallback", "model"]
    assert batch[0].ids.tolist() == ["b", "c"]
    everything = model.recommend("u", n=3, exclude_seen=False)
    assert everything.ids.tolist() == ["a", "b", "c"]


def test_recommend_for_history_validates_weights(rec: Recommender) -> None:
    with pytest.raises(DataError, match=r"weights has 2 weight\(s\) but item_ids has 1 item"):
        rec.recommend_for_history(["I000001"], [1.0, 2.0])
    with pytest.raises(DataError, match="must be > 0"):
        rec.recommend_for_history(["I000001"], [-1.0])
    with pytest.raises(IdTypeError):
        rec.recommend_for_history(["I000001", 3])


def test_recommend_for_history_does_not_change_the_model(rec: Recommender) -> None:
    before = rec.recommend_many(rec.users_.ids[:10], n=5)
    factors = rec.user_factors_.copy()
    rec.recommend_for_history(["I000001", "I000002"], n=5)
    assert np.array_equal(rec.user_factors_, factors)
    after = rec.recommend_many(rec.users_.ids[:10], n=5)
    assert np.array_equal(before.ids, after.ids)


# -- recommend with history --------------------------------------------------------------------


def test_known_user_history_is_folded_in_with_training_history(rec: Recommender) -> None:
    user = "U000004"
    items, weights = _history(rec, user)
    fresh = [i for i in rec.items_.ids.tolist() if i not in items][:2]
    n_items = len(rec.items_)
    with_history = rec.recommend(user, n=n_items, history=fresh, history_weights=[1.0, 3.0])
    by_hand = rec.recommend_for_history(items + fresh, [*weights, 1.0, 3.0], n=n_items)
    assert with_history.source == "fold-in"
    assert with_history.ids.tolist() == by_hand.ids.tolist()
    np.testing.assert_allclose(with_history.scores, by_hand.scores, rtol=1e-5)
    # Training and fresh items are both excluded; everything else is ranked.
    assert not (set(items) | set(fresh)) & set(with_history.ids.tolist())
    assert len(with_history) == n_items - len(items) - 2
    # exclude_seen=False lets them back in.
    assert len(rec.recommend(user, n=n_items, history=fresh, exclude_seen=False)) == n_items
    # Stored factors are untouched by the query.
    assert rec.recommend(user, n=3).source == "model"


def test_known_user_with_only_unknown_history_uses_stored_factors(rec: Recommender) -> None:
    plain = rec.recommend("U000004", n=5)
    recs = rec.recommend("U000004", n=5, history=["X9"])
    assert recs.source == "model"
    assert recs.skipped == ("X9",)
    assert recs.ids.tolist() == plain.ids.tolist()


def test_cold_start_chain_of_recommend(rec: Recommender) -> None:
    assert rec.recommend("U000001", n=3).source == "model"
    assert rec.recommend("U000001", n=3, history=["I000001"]).source == "fold-in"
    new = rec.recommend("new-user", n=3, history=["I000001", "I000002"])
    same = rec.recommend_for_history(["I000001", "I000002"], n=3)
    assert new.source == "fold-in"
    assert new.query == "new-user"
    assert new.ids.tolist() == same.ids.tolist()
    assert rec.recommend("new-user", n=3).source == "fallback"
    assert rec.recommend("new-user", n=3, history=[]).source == "fallback"
    # strict: an unknown user with a usable history is folded in; without one it raises.
    assert rec.recommend("new-user", n=3, history=["I000001"], policy="strict").source == (
        "fold-in"
    )
    with pytest.raises(UnknownIdError, match="new-user"):
        rec.recommend("new-user", n=3, policy="strict")
    with pytest.raises(UnknownIdError, match="new-user"):
        rec.recommend("new-user", n=3, history=[], policy="strict")
    with pytest.raises(UnknownIdError, match="X1"):
        rec.recommend("new-user", n=3, history=["X1"], policy="strict")
    with pytest.raises(ConfigError, match="history_weights was given without history"):
        rec.recommend("U000001", history_weights=[1.0])


def test_history_for_known_user_needs_training_interactions() -> None:
    params = ALSParams(regularization=0.01, alpha=1.0)  # without seen=, "auto" cannot resolve
    model = Recommender.from_factors(np.eye(2), np.eye(2), ["u", "v"], ["a", "b"], params=params)
    with pytest.raises(ConfigError, match="seen="):
        model.recommend("u", history=["a"])
    assert model.recommend("w", history=["a"], n=1).source == "fold-in"
    with pytest.raises(
        ConfigError, match=r"updated\(\) cannot add to them\. Rebuild it with seen="
    ):
        model.updated(["u"], ["a"])


# -- recommend_many -----------------------------------------------------------------------------


def test_recommend_many_mixes_sources_and_matches_single_calls(rec: Recommender) -> None:
    queries = ["U000001", "U000002", "new-a", "new-b", "U000001", "new-c"]
    histories = {
        "U000002": ["I000007", "X7"],
        "new-a": ["I000001", "I000002"],
        "new-c": ["X8"],
    }
    batch = rec.recommend_many(
        queries, n=4, histories=histories, history_weights={"new-a": [3.0, 1.0]}
    )
    assert batch.sources.tolist() == [
        "model",
        "fold-in",
        "fold-in",
        "fallback",
        "model",
        "fallback",
    ]
    assert batch.skipped == ("X7", "X8")
    singles = [
        rec.recommend("U000001", n=4),
        rec.recommend("U000002", n=4, history=["I000007"]),
        rec.recommend("new-a", n=4, history=["I000001", "I000002"], history_weights=[3.0, 1.0]),
        rec.recommend("new-b", n=4),
        rec.recommend("U000001", n=4),
        rec.recommend("new-c", n=4),
    ]
    for row, single in zip(batch, singles, strict=True):
        assert row.source == single.source
        assert row.ids.tolist() == single.ids.tolist()
        np.testing.assert_allclose(row.scores, single.scores, rtol=1e-5)


def test_recommend_many_strict_and_argument_checks(rec: Recommender) -> None:
    ok = rec.recommend_many(["new-a"], n=2, histories={"new-a": ["I000001"]}, policy="strict")
    assert ok.sources.tolist() == ["fold-in"]
    with pytest.raises(UnknownIdError, match="new-b") as info:
        rec.recommend_many(
            ["new-a", "new-b"], n=2, histories={"new-a": ["I000001"]}, policy="strict"
        )
    assert info.value.ids == ("new-b",)
    with pytest.raises(UnknownIdError, match="X1"):
        rec.recommend_many(["new-a"], n=2, histories={"new-a": ["X1"]}, policy="strict")
    with pytest.raises(ConfigError, match="not in user_ids: 'zzz'"):
        rec.recommend_many(["new-a"], histories={"zzz": ["I000001"]})
    with pytest.raises(ConfigError, match="without a history: 'new-a'"):
        rec.recommend_many(["new-a"], history_weights={"new-a": [1.0]})
    with pytest.raises(ConfigError, match="must be a mapping"):
        rec.recommend_many(["new-a"], histories=[("new-a", ["I1"])])  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"history_weights\['new-a'\] has 2 weight\(s\)"):
        rec.recommend_many(
            ["new-a"], histories={"new-a": ["I000001"]}, history_weights={"new-a": [1.0, 2.0]}
        )


def test_recommend_many_with_int_ids() -> None:
    model = Recommender(factors=4, iterations=5, random_state=0).fit(
        [1, 1, 2, 2, 3, 3], [10, 11, 10, 12, 11, 12]
    )
    batch = model.recommend_many(np.array([1, 7, 8]), n=2, histories={7: [10]})
    assert batch.sources.tolist() == ["model", "fold-in", "fallback"]
    assert 10 not in batch[1].ids.tolist()


# -- updated ---------------------------------------------------------------------------------


def _snapshot(model: Recommender) -> dict[str, object]:
    seen = model.seen_
    assert seen is not None
    return {
        "users": model.user_factors_.copy(),
        "items": model.item_factors_.copy(),
        "user_ids": model.users_.ids.copy(),
        "item_ids": model.items_.ids.copy(),
        "seen": seen.toarray(),
        "recs": model.recommend_many(model.users_.ids, n=5).ids.copy(),
        "fallback": model.recommend("nobody", n=5).ids.copy(),
    }


def test_updated_leaves_the_old_model_unchanged(rec: Recommender) -> None:
    before = _snapshot(rec)
    new = rec.updated(
        ["U000001", "brand-new", "brand-new"], ["I000002", "I000003", "NEW-ITEM"], [2.0, 1.0, 1.0]
    )
    after = _snapshot(rec)
    for key, value in before.items():
        assert np.array_equal(value, after[key]), key  # type: ignore[arg-type]
    assert new is not rec
    assert len(new.users_) == len(rec.users_) + 1
    assert "brand-new" not in rec.users_


def test_updated_keeps_old_indices_and_appends_new_ids(rec: Recommender) -> None:
    new = rec.updated(
        ["U000003", "fresh-1", "fresh-2", "fresh-1", "fresh-2"],
        ["I000001", "I000002", "NEW-1", "NEW-2", "I000004"],
    )
    n_users, n_items = len(rec.users_), len(rec.items_)
    assert new.users_.ids[:n_users].tolist() == rec.users_.ids.tolist()
    assert new.users_.ids[n_users:].tolist() == ["fresh-1", "fresh-2"]
    assert new.items_.ids[:n_items].tolist() == rec.items_.ids.tolist()
    assert new.items_.ids[n_items:].tolist() == ["NEW-1", "NEW-2"]
    assert new.user_factors_.shape == (n_users + 2, FACTORS)
    assert new.item_factors_.shape == (n_items + 2, FACTORS)
    assert new.mapping_check()["ok"]
    # Every other user's row and every old item's row are untouched.
    untouched = np.ones(n_users, dtype=bool)
    untouched[rec.users_.index_of("U000003")] = False
    np.testing.assert_array_equal(
        new.user_factors_[:n_users][untouched], rec.user_factors_[untouched]
    )
    np.testing.assert_array_equal(new.item_factors_[:n_items], rec.item_factors_)
    # New items got factors, and can be recommended.
    assert np.linalg.norm(new.item_factors_[n_items:], axis=1).min() > 0
    assert "NEW-1" in new.recommend("fresh-2", n=n_items + 2, exclude_seen=False).ids.tolist()
    assert new.recommend("fresh-1", n=3).source == "model"


def test_updated_isolated_new_pair_has_no_signal_and_falls_back(rec: Recommender) -> None:
    """A new user whose only item is new and touched by nobody else carries no signal that
    links it to the model: both rows stay zero, and the user gets the popularity fallback
    (without the item) rather than an arbitrary order of zero scores."""
    new = rec.updated(["loner"], ["LONE-ITEM"])
    assert not new.user_factors_[new.users_.index_of("loner")].any()
    assert not new.item_factors_[new.items_.index_of("LONE-ITEM")].any()
    recs = new.recommend("loner", n=3)
    assert recs.source == "fallback"
    assert recs.ids.tolist() == new.recommend("nobody", n=3).ids.tolist()
    batch = new.recommend_many(["loner", "U000001"], n=3)
    assert batch.sources.tolist() == ["fallback", "model"]


def test_updated_rows_equal_fold_in_without_new_items(rec: Recommender) -> None:
    """With only old items, an updated row is the fold-in of the user's full history."""
    user = "U000010"
    items, _ = _history(rec, user)
    fresh = [i for i in rec.items_.ids.tolist() if i not in items][:3]
    new = rec.updated([user, user, user, "newbie", "newbie"], [*fresh, fresh[0], "I000000"])
    n_items = len(rec.items_)
    expected = rec.recommend(user, n=n_items, history=fresh)
    got = new.recommend(user, n=n_items)
    assert got.ids.tolist() == expected.ids.tolist()
    np.testing.assert_allclose(got.scores, expected.scores, rtol=1e-5)
    expected_new = rec.recommend_for_history([fresh[0], "I000000"], n=n_items)
    got_new = new.recommend("newbie", n=n_items)
    assert got_new.ids.tolist() == expected_new.ids.tolist()
    np.testing.assert_allclose(got_new.scores, expected_new.scores, rtol=1e-5)


def test_updated_new_item_row_is_exact_against_user_factors(rec: Recommender) -> None:
    users = ["U000001", "U000002", "U000003"]
    new = rec.updated(users, ["NEW"] * 3, [1.0, 2.0, 3.0])
    row = new.items_.index_of("NEW")
    seen = new.seen_
    assert seen is not None
    column = sp.csr_matrix(seen[:, [row]].T)
    conf = history_confidence(column, new.params).toarray()[0]
    expected = _dense_reference(new.user_factors_, conf, REG)
    # The new item was solved against the user rows of the first pass; the users were then
    # re-solved once more, so compare with a tolerance that allows for that last step.
    got = new.item_factors_[row].astype(np.float64)
    first_pass = FoldInSolver(new.user_factors_, REG).solve(history_confidence(column, new.params))[
        0
    ]
    assert np.linalg.norm(got) > 0
    assert np.linalg.norm(got - expected) <= 0.5 * np.linalg.norm(expected)
    assert np.allclose(first_pass, expected, rtol=1e-4, atol=1e-6)


def test_updated_sums_seen_and_recomputes_popularity(rec: Recommender) -> None:
    seen = rec.seen_
    assert seen is not None
    old = float(seen[rec.users_.index_of("U000001"), rec.items_.index_of("I000002")])
    counts = np.bincount(seen.indices, minlength=len(rec.items_))
    rare = rec.items_.id_of(int(np.argmin(counts)))
    movers = [f"crowd-{k}" for k in range(200)]
    new = rec.updated(["U000001", *movers], ["I000002", *([rare] * 200)], [2.0] + [1.0] * 200)
    new_seen = new.seen_
    assert new_seen is not None
    got = float(new_seen[new.users_.index_of("U000001"), new.items_.index_of("I000002")])
    assert got == pytest.approx(old + 2.0)
    assert new_seen.nnz == seen.nnz + 200 + (0 if old else 1)
    assert new.recommend("nobody", n=1).ids.tolist() == [rare]
    assert rec.recommend("nobody", n=1).ids.tolist() != [rare]
    # The fresh interactions are seen now, so they are excluded.
    assert rare not in new.recommend("crowd-0", n=len(new.items_)).ids.tolist()


def test_updated_rejects_bad_input(rec: Recommender) -> None:
    with pytest.raises(DataError, match="No interactions"):
        rec.updated([], [])
    with pytest.raises(DataError, match="2 entries but item_ids has 1"):
        rec.updated(["U000001", "U000002"], ["I000001"])
    with pytest.raises(IdTypeError):
        rec.updated([1], ["I000001"])
    with pytest.raises(DataError, match="must be > 0"):
        rec.updated(["U000001"], ["I000001"], [0.0])


def test_updated_drops_unmapped_factor_rows() -> None:
    """A safe model with more factor rows than IDs: new IDs must not inherit the unmapped
    rows; they are dropped and the new users get rows of their own."""
    users = np.array([[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]])
    items = np.array([[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    seen = sp.csr_matrix(np.array([[1, 0], [0, 1]], dtype=np.float32))
    with pytest.warns(Warning, match="no ID"):
        model = Recommender.from_factors(users, items, ["u", "v"], ["a", "b"], seen=seen)
    new = model.updated(["w", "w"], ["a", "c"])
    assert new.mapping_check() == {
        "user_rows": 3,
        "user_ids": 3,
        "item_rows": 3,
        "item_ids": 3,
        "ok": True,
    }
    assert not np.allclose(new.user_factors_[2], [9.0, 9.0])
    assert not np.allclose(new.item_factors_[2], [5.0, 5.0])


def test_an_overflowing_frequency_penalty_leaks_no_numpy_warning(banded_events: Events) -> None:
    # lambda * (s / reference) ** 50 for a history of weight 1e30 overflows to inf: the
    # fold-in is a zero row and the answer the popularity fallback, without numpy's
    # "overflow encountered in power" on the way.
    users, items, weights = banded_events
    rec = Recommender(factors=8, iterations=10, regularization_exponent=50.0, random_state=0)
    rec.fit(users, items, weights)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        answer = rec.recommend_for_history([int(items[0]), int(items[1])], [1e30, 1e30], n=3)
    assert answer.source == "fallback"
