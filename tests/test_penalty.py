"""Frequency-scaled regularization (``regularization_exponent``; ``alsrec._penalty``).

What the parameter means (validation, resolution of the reference), that the numpy backend
trains exactly that objective (brute-force normal equations, the paper's parameterization),
that 0 is the constant penalty bit for bit, and that fold-in, ``updated``, ``explain`` and
artifacts carry it.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import scipy.sparse as sp

from alsrec import ALSParams, ConfigError, DataError, Interactions, Recommender
from alsrec._foldin import FoldInSolver, history_confidence
from alsrec._penalty import reference_scale, row_penalties, row_scales, side_penalties
from alsrec.backends import NumpyBackend
from alsrec.datasets import synthetic
from alsrec.io import inspect_artifact
from alsrec.model.defaults import resolve_params
from alsrec.model.loss import als_loss, loss_monitor
from alsrec.spark.engine import spark_penalty, spark_reg_param
from alsrec.weighting import confidence

if TYPE_CHECKING:
    from pathlib import Path

    import numpy.typing as npt

    from alsrec.types import FactorMatrix

NU = 0.7


@pytest.fixture(scope="module")
def data() -> Interactions:
    d = synthetic(n_users=150, n_items=60, n_clusters=4, mean_interactions=10, random_state=5)
    return Interactions.from_arrays(d.user_ids, d.item_ids, d.weights)


@pytest.fixture(scope="module")
def rec(data: Interactions) -> Recommender:
    """A model trained with a frequency-scaled penalty; tests must not mutate it."""
    return Recommender(
        factors=6, regularization=0.5, alpha=2.0, iterations=6, regularization_exponent=NU
    ).fit(data)


def _weights(seed: int = 0, shape: tuple[int, int] = (50, 30)) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = np.where(rng.random(shape) < 0.2, rng.integers(1, 4, shape), 0).astype(np.float32)
    dense[3] = 0  # a user without interactions
    dense[:, 4] = 0  # an item without interactions
    return sp.csr_matrix(dense)


def _conf(seed: int = 0, shape: tuple[int, int] = (50, 30)) -> sp.csr_matrix:
    return confidence(_weights(seed, shape), 2.0)


# -- the parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"regularization_exponent": -0.5}, "regularization_exponent must be >= 0"),
        ({"regularization_exponent": math.nan}, "regularization_exponent must be finite"),
        ({"regularization_exponent": math.inf}, "regularization_exponent must be finite"),
        ({"regularization_exponent": "1"}, "regularization_exponent must be a real number"),
        ({"regularization_exponent": True}, "regularization_exponent must be a real number"),
        ({"regularization_scale": "mass"}, "regularization_scale must be 'confidence' or"),
        ({"regularization_reference": 0.0}, "regularization_reference must be > 0"),
        ({"regularization_reference": -1.0}, "regularization_reference must be > 0"),
        ({"regularization_reference": "mean"}, "regularization_reference must be a number"),
        ({"regularization_reference": math.inf}, "regularization_reference must be finite"),
    ],
)
def test_invalid_values_name_the_keyword(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ALSParams(**kwargs)
    with pytest.raises(ConfigError, match=message):
        Recommender(**kwargs)


def test_defaults_and_keywords() -> None:
    params = ALSParams()
    assert params.regularization_exponent == 0.0
    assert params.regularization_scale == "confidence"
    assert params.regularization_reference == "auto"
    assert not params.scaled_regularization
    rec = Recommender(regularization_exponent=1, regularization_scale="count")
    assert rec.params.regularization_exponent == 1.0
    assert isinstance(rec.params.regularization_exponent, float)
    assert rec.params.regularization_scale == "count"
    # The reference only matters (and only has to be resolved) with an exponent > 0.
    assert ALSParams(regularization=1.0, alpha=1.0).is_resolved
    assert not ALSParams(regularization=1.0, alpha=1.0, regularization_exponent=0.5).is_resolved
    assert ALSParams(
        regularization=1.0, alpha=1.0, regularization_exponent=0.5, regularization_reference=3.0
    ).is_resolved
    with pytest.raises(ConfigError, match="regularization_reference is 'auto'"):
        _ = ALSParams().regularization_reference_value


def test_summary_names_the_exponent_only_when_it_scales() -> None:
    scaled = Recommender(regularization=2.0, regularization_exponent=0.5)
    assert "with exponent 0.5 (confidence scale)" in scaled.summary()
    assert "exponent" not in Recommender(regularization=2.0).summary()


def test_resolve_params_resolves_the_reference_only_when_it_matters() -> None:
    conf = _conf()
    resolved, names = resolve_params(ALSParams(regularization=1.0, alpha=2.0), _weights())
    assert names == ()
    assert resolved.regularization_reference == "auto"
    params = ALSParams(regularization_exponent=0.5, alpha=2.0)
    resolved, names = resolve_params(params, _weights())
    assert names == ("regularization", "regularization_reference")
    assert resolved.regularization_reference == pytest.approx(reference_scale(conf, "confidence"))


# -- the row scales -------------------------------------------------------------------------


def test_row_scales_and_reference_by_hand() -> None:
    conf = sp.csr_matrix(np.array([[3.0, 0.0, 2.0], [0.0, 0.0, 0.0], [0.0, 5.0, 1.0]]))
    # confidence: 3 columns, observed pairs add c - 1
    assert row_scales(conf, "confidence").tolist() == [3 + 2 + 1, 3.0, 3 + 4 + 0]
    assert row_scales(conf, "count").tolist() == [2.0, 0.0, 2.0]
    # rows with data: users 0 and 2 (6, 7); items 0, 1, 2 (3 + 2, 3 + 4, 3 + 1 + 0)
    assert reference_scale(conf, "confidence") == pytest.approx((6 + 7 + 5 + 7 + 4) / 5)
    assert reference_scale(conf, "count") == pytest.approx(2 * 4 / 5)
    assert row_penalties([2.0, 8.0], 3.0, 0.5, 2.0).tolist() == [3.0, 6.0]
    with pytest.raises(DataError, match="regularization_reference='auto' needs"):
        reference_scale(sp.csr_matrix((2, 2)), "count")


def test_count_reference_is_sparks_mean_count() -> None:
    conf = _conf(1)
    users = int((np.diff(conf.indptr) > 0).sum())
    items = int(np.unique(conf.indices).size)
    ref = reference_scale(conf, "count")
    assert 2.0 / ref == pytest.approx(spark_reg_param(2.0, conf.nnz, users, items))
    trained, reg_param = spark_penalty(ALSParams(regularization=2.0), conf.nnz, users, items)
    assert trained.regularization_reference == pytest.approx(ref)
    assert reg_param == pytest.approx(2.0 / ref)


@pytest.mark.parametrize(
    "params",
    [
        ALSParams(regularization=1.0, regularization_exponent=0.5),
        ALSParams(regularization=1.0, regularization_exponent=1.0),  # "confidence" scale
        ALSParams(regularization=1.0, regularization_exponent=2.0, regularization_scale="count"),
    ],
)
def test_spark_refuses_penalties_it_cannot_train(params: ALSParams) -> None:
    with pytest.raises(ConfigError, match="backend='numpy'"):
        spark_penalty(params, 10, 3, 3)


def test_spark_keeps_an_explicit_reference() -> None:
    params = ALSParams(
        regularization=6.0,
        regularization_exponent=1.0,
        regularization_scale="count",
        regularization_reference=3.0,
    )
    trained, reg_param = spark_penalty(params, 10, 3, 3)
    assert trained == params
    assert reg_param == 2.0


# -- training -------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
def test_exponent_zero_is_the_constant_penalty_bit_for_bit(solver: str) -> None:
    conf = _conf(2)
    base = ALSParams(factors=5, regularization=0.8, alpha=2.0, iterations=3, solver=solver)  # type: ignore[arg-type]
    assert side_penalties(conf, base) == (0.8, 0.8)  # floats: the constant fast path
    expected = NumpyBackend().fit(conf, base)
    for variant in (
        {"regularization_exponent": 0.0, "regularization_scale": "count"},
        {"regularization_reference": 7.0},
    ):
        params = ALSParams(**{**base.to_dict(), **variant})
        got = NumpyBackend().fit(conf, params)
        assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))
    scaled = ALSParams(**{**base.to_dict(), "regularization_exponent": 0.5})
    scaled, _ = resolve_params(scaled, _weights(2))
    assert not np.allclose(NumpyBackend().fit(conf, scaled)[1], expected[1])


def test_auto_solver_trains_per_row_penalties_with_cg_at_large_factors() -> None:
    """solver='auto' switches to its dual solver from 128 factors, which preconditions
    with one shared YᵀY + λI; with per-row penalties it must fall back to plain CG."""
    conf = _conf(4)
    base = ALSParams(
        factors=128, regularization=1.5, alpha=2.0, iterations=2, regularization_exponent=NU
    )
    base, _ = resolve_params(base, _weights(4))
    auto = NumpyBackend().fit(conf, base)
    cg = NumpyBackend().fit(conf, ALSParams(**{**base.to_dict(), "solver": "cg"}))
    assert all(np.array_equal(a, b) for a, b in zip(auto, cg, strict=True))
    # while at a constant penalty the dual solver runs (and differs from CG's 3 steps)
    constant = ALSParams(**{**base.to_dict(), "regularization_exponent": 0.0})
    dual = NumpyBackend().fit(conf, constant)
    plain = NumpyBackend().fit(conf, ALSParams(**{**constant.to_dict(), "solver": "cg"}))
    assert not np.array_equal(dual[0], plain[0])


def _brute_force_rows(
    fixed: FactorMatrix, conf: sp.csr_matrix, params: ALSParams
) -> npt.NDArray[np.float64]:
    """Each row's least-squares solution with a dense confidence row and its own penalty."""
    y = fixed.astype(np.float64)
    dense = conf.toarray().astype(np.float64)
    out = np.zeros((dense.shape[0], y.shape[1]))
    for u, row in enumerate(dense):
        if not np.any(row > 0):
            continue
        c = np.where(row > 0, row, 1.0)  # every column: unobserved ones have c = 1
        p = (row > 0).astype(np.float64)
        scale = c.sum() if params.regularization_scale == "confidence" else p.sum()
        lam = params.regularization_value
        if params.scaled_regularization:
            ratio = scale / params.regularization_reference_value
            lam *= ratio**params.regularization_exponent
        lhs = y.T @ (c[:, None] * y) + lam * np.eye(y.shape[1])
        out[u] = np.linalg.solve(lhs, y.T @ (c * p))
    return out


@pytest.mark.parametrize("scale", ["confidence", "count"])
@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_numpy_backend_solves_the_per_row_normal_equations(scale: str, solver: str) -> None:
    """Both halves of the last sweep solve each row with its own penalty (brute force)."""
    conf = _conf(3)
    params = ALSParams(
        factors=5,
        regularization=1.5,
        iterations=3,
        solver=solver,  # type: ignore[arg-type]
        cg_steps=40,  # CG: converged, so equal to the exact solve up to float32 rounding
        regularization_exponent=NU,
        regularization_scale=scale,  # type: ignore[arg-type]
        regularization_reference=4.0 if scale == "count" else 40.0,
    )
    caught: dict[int, np.ndarray] = {}

    def capture(iteration: int, users: FactorMatrix, items: FactorMatrix) -> None:
        caught[iteration] = np.array(items, copy=True)

    users, items = NumpyBackend().fit(conf, params, callback=capture)
    tol = 1e-4 if solver == "cholesky" else 2e-3
    expected_items = _brute_force_rows(users, conf.T.tocsr(), params)
    np.testing.assert_allclose(items, expected_items, atol=tol * np.abs(expected_items).max())
    expected_users = _brute_force_rows(caught[2], conf, params)
    np.testing.assert_allclose(users, expected_users, atol=tol * np.abs(expected_users).max())
    # and the constant penalty is a different solution
    constant = _brute_force_rows(users, conf.T.tocsr(), ALSParams(regularization=1.5))
    assert np.abs(constant - items).max() > 10 * tol * np.abs(items).max()


def test_paper_parameterization_maps_exactly() -> None:
    """Rendle et al. (2022): observed pairs weigh 1 on (y - 1)^2, all pairs alpha0 on y^2,
    penalty lambda_p (|I_u| + alpha0 |I|)^nu. alsrec with alpha = 1 / alpha0, the
    "confidence" scale and lambda = lambda_p (1 + alpha0) alpha0^(nu - 1) s_ref^nu trains
    the same model: its factors times sqrt(1 / (1 + alpha0)) solve the paper's normal
    equations."""
    rng = np.random.default_rng(7)
    binary = (rng.random((40, 25)) < 0.25).astype(np.float32)
    weights = sp.csr_matrix(binary)
    alpha0, lam_p, nu, ref = 0.3, 0.05, 0.8, 25.0
    params = ALSParams(
        factors=4,
        regularization=lam_p * (1 + alpha0) * alpha0 ** (nu - 1) * ref**nu,
        alpha=1 / alpha0,
        iterations=4,
        solver="cholesky",
        regularization_exponent=nu,
        regularization_reference=ref,
    )
    users, items = NumpyBackend().fit(confidence(weights, params.alpha_value), params)
    shrink = math.sqrt(1 / (1 + alpha0))
    w = users.astype(np.float64) * shrink
    h = items.astype(np.float64) * shrink
    n_users = binary.shape[0]
    for i in range(binary.shape[1]):
        observed = np.flatnonzero(binary[:, i])
        if observed.size == 0:
            continue
        wi = w[observed]
        penalty = lam_p * (observed.size + alpha0 * n_users) ** nu
        lhs = alpha0 * w.T @ w + wi.T @ wi + penalty * np.eye(w.shape[1])
        np.testing.assert_allclose(lhs @ h[i], wi.sum(axis=0), atol=1e-4)


# -- fold-in, updated, explain, artifacts ---------------------------------------------------


def test_fold_in_uses_each_historys_penalty(rec: Recommender) -> None:
    params = rec.params_
    assert params.regularization_reference != "auto"
    assert "regularization_reference" in rec.model_.provenance.auto_params
    seen = rec.seen_
    assert seen is not None
    conf = history_confidence(seen[:20], params)
    folded = FoldInSolver.for_params(rec.item_factors_, params).solve(conf)
    expected = _brute_force_rows(rec.item_factors_, conf, params)
    np.testing.assert_allclose(folded, expected, rtol=1e-5, atol=1e-7)
    # recommend_for_history solves the same row
    user = rec.users_.ids[0]
    row = seen[0]
    items = rec.items_.to_id(row.indices).tolist()
    recs = rec.recommend_for_history(items, row.data.tolist(), n=5)
    scores = rec.item_factors_.astype(np.float64) @ expected[0]
    np.testing.assert_allclose(recs.scores, scores[rec.items_.to_index(recs.ids)], rtol=1e-4)
    assert user is not None


def test_updated_rows_equal_fold_in(rec: Recommender) -> None:
    user = rec.users_.ids[1]
    item = rec.items_.ids[-1]
    new = rec.updated([user], [item], [2.0])
    seen = new.seen_
    assert seen is not None
    row = new.users_.index_of(user)
    conf = history_confidence(seen[row], new.params_)
    expected = _brute_force_rows(rec.item_factors_, conf, rec.params_)[0]
    np.testing.assert_allclose(new.user_factors_[row], expected, rtol=1e-4, atol=1e-6)
    assert new.params_ == rec.params_  # the stored reference travels unchanged


def test_explain_splits_the_scaled_fold_in_exactly(rec: Recommender) -> None:
    seen = rec.seen_
    assert seen is not None
    row = seen[2]
    history = rec.items_.to_id(row.indices).tolist()
    target = rec.recommend_for_history(history, row.data.tolist(), n=1)
    explanation = rec.explain_history(history, target.ids[0], row.data.tolist())
    assert explanation.residual == 0.0
    assert float(np.sum(explanation.contributions)) + explanation.rest == pytest.approx(
        float(target.scores[0]), rel=1e-5
    )


def test_artifact_round_trip_and_legacy_manifest(rec: Recommender, tmp_path: Path) -> None:
    path = rec.save(tmp_path / "model")
    loaded = Recommender.load(path)
    assert loaded.params_ == rec.params_
    assert loaded.params.regularization_reference == "auto"  # resolved from "auto"
    history, weights = ["I000001", "I000002"], [1.0, 3.0]
    a = rec.recommend_for_history(history, weights, n=5)
    b = loaded.recommend_for_history(history, weights, n=5)
    assert a.ids.tolist() == b.ids.tolist()
    np.testing.assert_array_equal(a.scores, b.scores)
    assert "exponent 0.7" in str(inspect_artifact(path))
    # An artifact written before the parameter existed loads as the constant penalty.
    manifest_path = path / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for key in ("regularization_exponent", "regularization_scale", "regularization_reference"):
        del manifest["params"][key]
    manifest["auto_params"] = ["regularization"]
    del manifest["manifest_sha256"]  # a manifest of that time had no checksum of its own
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    legacy = Recommender.load(path)
    assert legacy.params_.regularization_exponent == 0.0
    assert legacy.params_.regularization_reference == "auto"
    assert legacy.recommend_for_history(history, weights, n=5).source == "fold-in"


def test_loss_uses_the_per_row_penalties(data: Interactions) -> None:
    """The objective with per-row penalties; exact ALS never increases it."""
    params = ALSParams(
        factors=4, regularization=2.0, iterations=4, solver="cholesky", regularization_exponent=1.0
    )
    losses: list[float] = []
    monitor = loss_monitor(data, params, progress=False, on_loss=lambda i, v: losses.append(v))
    Recommender(params=params).fit(data, callback=monitor)
    assert all(b <= a * (1 + 1e-6) for a, b in itertools.pairwise(losses))
    x, y = np.ones((2, 1)), np.array([[1.0], [2.0]])
    conf = sp.csr_matrix(np.array([[3.0, 0.0], [0.0, 0.0]]))
    constant = als_loss(conf, x, y, 0.0)
    scaled = als_loss(conf, x, y, (np.array([1.0, 2.0]), np.array([0.5, 0.0])))
    mass = 3.0 + 3
    assert scaled - constant == pytest.approx((1.0 + 2.0 + 0.5 * 1.0) / mass)


def test_factors_without_training_data_need_a_concrete_reference(rec: Recommender) -> None:
    params = ALSParams(factors=6, regularization=0.5, alpha=2.0, regularization_exponent=NU)
    bare = Recommender.from_factors(
        rec.user_factors_, rec.item_factors_, rec.users_, rec.items_, params=params
    )
    with pytest.raises(ConfigError, match="regularization_reference is 'auto'"):
        bare.recommend_for_history(["I000001"], n=3)
    # With the training matrix the reference is resolved from it: the trained model's value.
    wrapped = Recommender.from_factors(
        rec.user_factors_, rec.item_factors_, rec.users_, rec.items_, seen=rec.seen_, params=params
    )
    assert wrapped.params_.regularization_reference == rec.params_.regularization_reference


def test_auto_is_sized_for_the_count_scaled_penalty() -> None:
    # ALS-WR penalizes the heavy rows more than the constant penalty the rule is sized
    # for; "auto" takes als_wr_share of its value there, to the exponent.
    from alsrec._penalty import als_wr_share
    from alsrec.datasets import synthetic

    raw = synthetic(400, 300, n_clusters=6, mean_interactions=12, random_state=5)
    plain = Recommender(factors=2, iterations=1).fit(raw.user_ids, raw.item_ids, raw.weights)
    matrix = plain.seen_
    assert matrix is not None
    share = als_wr_share(np.diff(matrix.indptr), np.bincount(matrix.indices))
    assert 0.2 < share < 1.0
    base = plain.params_.regularization_value
    for exponent in (1.0, 0.5):
        wr = Recommender(
            factors=2, iterations=1, regularization_exponent=exponent, regularization_scale="count"
        ).fit(raw.user_ids, raw.item_ids, raw.weights)
        assert wr.params_.regularization == pytest.approx(base * share**exponent, rel=1e-9)
    scaled = Recommender(factors=2, iterations=1, regularization_exponent=1.0)  # confidence
    assert scaled.fit(raw.user_ids, raw.item_ids, raw.weights).params_.regularization == (
        pytest.approx(base, rel=1e-9)
    )
