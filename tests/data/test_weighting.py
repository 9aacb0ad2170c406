"""Tests of alsrec.weighting and the weighting hyperparameters."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from alsrec import ALSParams, ConfigError, DataError, Interactions, Recommender
from alsrec.weighting import SCHEME_OPTIONS, confidence, weigh

if TYPE_CHECKING:
    from alsrec.backends import ProgressCallback
    from alsrec.types import FactorMatrix

W = np.array(
    [
        [1.0, 0.0, 4.0, 0.0],
        [2.0, 3.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [5.0, 0.0, 0.0, 1.0],
        [0.0, 0.0, 0.0, 0.0],
    ],
    dtype=np.float32,
)


def weights() -> sp.csr_matrix:
    return sp.csr_matrix(W)


def entries(m: sp.csr_matrix) -> dict[tuple[int, int], float]:
    coo = m.tocoo()
    return {(int(r), int(c)): float(v) for r, c, v in zip(coo.row, coo.col, coo.data, strict=True)}


def test_linear_keeps_the_two_argument_call() -> None:
    c = confidence(weights(), 2.0)
    assert c.dtype == np.float32
    assert entries(c) == {k: 1.0 + 2.0 * v for k, v in entries(weights()).items()}
    assert entries(confidence(weights(), 2.0, "linear")) == entries(c)


def test_log_follows_its_formula() -> None:
    got = entries(confidence(weights(), 3.0, "log", eps=0.5))
    for (u, i), w in entries(weights()).items():
        assert got[(u, i)] == pytest.approx(1.0 + 3.0 * math.log(1.0 + w / 0.5), rel=1e-6)


def test_bm25_follows_its_formula() -> None:
    k1, b = 1.5, 0.6
    got = entries(confidence(weights(), 1.0, "bm25", k1=k1, b=b))
    n_users = W.shape[0]
    lengths = W.sum(axis=1)
    avg = lengths[lengths > 0].mean()
    for (u, i), w in entries(weights()).items():
        n_i = int((W[:, i] > 0).sum())
        idf = math.log(1.0 + (n_users - n_i + 0.5) / (n_i + 0.5))
        tf = w * (k1 + 1) / (w + k1 * (1 - b + b * lengths[u] / avg))
        assert got[(u, i)] == pytest.approx(1.0 + idf * tf, rel=1e-6)


def test_tfidf_follows_its_formula_and_discounts_popular_items() -> None:
    got = entries(confidence(weights(), 1.0, "tfidf"))
    n_users = W.shape[0]
    for (u, i), w in entries(weights()).items():
        n_i = int((W[:, i] > 0).sum())
        assert got[(u, i)] == pytest.approx(
            1.0 + w * (math.log((1 + n_users) / (1 + n_i)) + 1), rel=1e-6
        )
    # user 2 has weight 1 on item 2 (2 users); user 3 has weight 1 on item 3 (1 user)
    assert got[(2, 2)] < got[(3, 3)]


def test_bm25_saturates_and_b_zero_ignores_user_length() -> None:
    m = sp.csr_matrix(np.array([[1.0, 10.0, 1000.0], [1.0, 1.0, 1.0]], dtype=np.float32))
    low = weigh(m, "bm25", k1=1.2, b=0.0).toarray()
    # with b=0 the same (item, weight) scores the same for both users
    assert low[0, 0] == pytest.approx(low[1, 0])
    # saturation: the gain from 10 to 1000 is far smaller than the weights' ratio
    ratio = (low[0, 2] / low[0, 1]) / (m[0, 2] / m[0, 1])
    assert ratio < 0.05
    high = weigh(m, "bm25", k1=1000.0, b=0.0).toarray()
    assert high[0, 2] / high[0, 1] > 30  # large k1: close to linear


@settings(max_examples=50, deadline=None)
@given(
    data=st.lists(st.floats(0.01, 1e4), min_size=1, max_size=40),
    seed=st.integers(0, 2**16),
    scheme=st.sampled_from(sorted(SCHEME_OPTIONS)),
    alpha=st.floats(0.0, 50.0),
)
def test_every_scheme_keeps_the_pattern_and_confidence_above_one(
    data: list[float], seed: int, scheme: str, alpha: float
) -> None:
    rng = np.random.default_rng(seed)
    n = len(data)
    m = sp.coo_matrix(
        (np.asarray(data, dtype=np.float32), (rng.integers(0, 6, n), rng.integers(0, 5, n))),
        shape=(6, 5),
    ).tocsr()
    c = confidence(m, alpha, scheme)
    assert c.dtype == np.float32
    assert c.shape == m.shape
    m.sum_duplicates()
    assert np.array_equal(c.indptr, m.indptr)
    assert np.array_equal(c.indices, m.indices)
    assert np.all(np.isfinite(c.data))
    assert np.all(c.data >= 1.0)
    if alpha > 0 and scheme in ("linear", "log"):
        # monotone in the weight: a larger weight never gets a smaller confidence
        order = np.argsort(m.data, kind="stable")
        assert np.all(np.diff(c.data[order]) >= -1e-3 * c.data[order][1:])


def test_input_is_not_modified() -> None:
    m = weights()
    before = m.data.copy()
    for scheme in SCHEME_OPTIONS:
        confidence(m, 5.0, scheme)
    assert np.array_equal(m.data, before)


def test_read_only_interactions_matrix_is_fine() -> None:
    data = Interactions.from_arrays(["a", "a", "b"], ["x", "y", "x"], [1.0, 2.0, 3.0])
    for scheme in SCHEME_OPTIONS:
        assert confidence(data.matrix, 1.0, scheme).nnz == 3


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: confidence(weights(), -1.0), "alpha must be a finite number >= 0"),
        (lambda: confidence(weights(), float("nan")), "alpha must be a finite number >= 0"),
        (lambda: confidence(weights(), 1.0, "cubic"), "Unknown weighting scheme 'cubic'"),
        (lambda: confidence(weights(), 1.0, "log", k1=2.0), r"takes the options \['eps'\]"),
        (lambda: confidence(weights(), 1.0, "linear", eps=2.0), "takes the options none"),
        (lambda: confidence(weights(), 1.0, "log", eps=0.0), "eps must be > 0"),
        (lambda: confidence(weights(), 1.0, "bm25", b=1.5), r"b must be in \[0, 1\]"),
        (lambda: confidence(weights(), 1.0, "bm25", k1=-1.0), "k1 must be >= 0"),
    ],
)
def test_option_validation(call: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call()


def test_params_validate_and_round_trip_weighting() -> None:
    p = ALSParams(weighting="log", weighting_eps=0.25)
    assert p.weighting_options() == {"eps": 0.25}
    assert ALSParams.from_dict(p.to_dict()) == p
    old = {k: v for k, v in ALSParams().to_dict().items() if "weight" not in k and "bm25" not in k}
    assert ALSParams.from_dict(old).weighting == "linear"  # dicts saved before weighting load
    with pytest.raises(ConfigError, match="weighting must be one of"):
        ALSParams(weighting="sqrt")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="weighting_eps must be > 0"):
        ALSParams(weighting_eps=0.0)
    with pytest.raises(ConfigError, match=r"bm25_b must be in \[0, 1\]"):
        ALSParams(bm25_b=2.0)
    with pytest.raises(ConfigError, match="bm25_k1 must be >= 0"):
        ALSParams(bm25_k1=-0.5)
    assert ALSParams(weighting="bm25", bm25_k1=50, bm25_b=0.5).weighting_options() == {
        "k1": 50.0,
        "b": 0.5,
    }


class CapturingBackend:
    """A backend that records the confidence matrix it is given."""

    name = "capture"
    deterministic = True

    def __init__(self) -> None:
        self.seen: sp.csr_matrix | None = None

    def fit(
        self,
        confidence: sp.csr_matrix,
        params: ALSParams,
        *,
        callback: ProgressCallback | None = None,
    ) -> tuple[FactorMatrix, FactorMatrix]:
        self.seen = confidence
        n_users, n_items = confidence.shape
        rng = np.random.default_rng(0)
        return (
            rng.random((n_users, params.factors), dtype=np.float32),
            rng.random((n_items, params.factors), dtype=np.float32),
        )


@pytest.mark.parametrize("scheme", sorted(SCHEME_OPTIONS))
def test_recommender_trains_on_the_chosen_scheme(scheme: str) -> None:
    data = Interactions.from_arrays(
        ["a", "a", "b", "c", "c", "c"], ["x", "y", "x", "x", "y", "z"], [1, 9, 2, 3, 1, 40]
    )
    backend = CapturingBackend()
    rec = Recommender(factors=2, alpha=3.0, weighting=scheme, backend=backend)  # type: ignore[arg-type]
    assert rec.params.weighting == scheme
    rec.fit(data)
    assert backend.seen is not None
    expected = confidence(data.matrix, 3.0, scheme, **rec.params.weighting_options())
    assert np.array_equal(backend.seen.toarray(), expected.toarray())
    with pytest.raises(ConfigError, match="weighting must be one of"):
        Recommender(weighting="nope")  # type: ignore[arg-type]


def test_from_factors_keeps_every_weighting_field() -> None:
    params = ALSParams(factors=2, weighting="log", weighting_eps=4.0)
    rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u", "v"], ["a", "b"], params=params)
    assert rec.params.weighting == "log"
    assert rec.params.weighting_eps == 4.0


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    scheme=st.sampled_from(sorted(SCHEME_OPTIONS)),
    rows=st.lists(st.integers(0, 7), min_size=1, max_size=5),
)
def test_history_rows_weighted_against_the_training_matrix_match_training(
    seed: int, scheme: str, rows: list[int]
) -> None:
    rng = np.random.default_rng(seed)
    dense = rng.integers(0, 6, size=(8, 6)).astype(np.float32) * (rng.random((8, 6)) < 0.5)
    m = sp.csr_matrix(dense)
    full = confidence(m, 2.0, scheme).toarray()
    part = confidence(m[rows], 2.0, scheme, reference=m).toarray()
    assert np.allclose(part, full[rows], rtol=1e-6)


@pytest.mark.parametrize("scheme", ["log", "bm25"])
def test_fold_in_uses_the_models_weighting(scheme: str) -> None:
    rng = np.random.default_rng(3)
    users = rng.integers(0, 12, 150).tolist()
    items = rng.integers(0, 20, 150).tolist()
    plays = rng.integers(1, 30, 150).tolist()
    data = Interactions.from_arrays(users, items, plays)
    rec = Recommender(
        factors=4,
        alpha=2.0,
        regularization=0.5,
        iterations=3,
        random_state=0,
        solver="cholesky",
        weighting=scheme,  # type: ignore[arg-type]
    ).fit(data)
    u = 0
    row = data.matrix[u]
    got = rec.recommend_for_history(
        data.items.to_id(row.indices), row.data, n=len(data.items), exclude_history=False
    )
    # the exact ALS user solve with this scheme's confidence for the user's row
    conf = (
        confidence(data.matrix, 2.0, scheme, **rec.params.weighting_options())
        .toarray()[u]
        .astype(np.float64)
    )
    y = rec.item_factors_.astype(np.float64)
    observed = conf > 0
    a = y.T @ y + (y[observed].T * (conf[observed] - 1.0)) @ y[observed] + 0.5 * np.eye(4)
    b = y[observed].T @ conf[observed]
    scores = y @ np.linalg.solve(a, b)
    expected = {data.items.id_of(k): s for k, s in enumerate(scores.tolist())}
    assert got.source == "fold-in"
    for item, score in got:
        assert score == pytest.approx(expected[item], rel=1e-4, abs=1e-5)
    linear = Recommender.from_factors(
        rec.user_factors_,
        rec.item_factors_,
        data.users,
        data.items,
        seen=data.matrix,
        params=ALSParams(factors=4, alpha=2.0, regularization=0.5),
    ).recommend_for_history(
        data.items.to_id(row.indices), row.data, n=len(data.items), exclude_history=False
    )
    assert not np.allclose(linear.scores, got.scores)  # the scheme made a difference


@pytest.mark.parametrize("scheme", ["linear", "log"])
def test_every_scheme_checks_the_weights_and_the_result(scheme: str) -> None:
    for bad in (-5.0, float("nan")):
        with pytest.raises(DataError, match="finite and >= 0"):
            confidence(sp.csr_matrix(np.array([[bad, 1.0]])), 1.0, scheme)
    with pytest.raises(DataError, match=r"passes float32's range.*largest weight, 3e\+38"):
        confidence(sp.csr_matrix(np.array([[3e38, 1.0]])), 1e37, scheme)


def test_confidence_and_weigh_refuse_arguments_of_the_wrong_kind() -> None:
    weights = sp.csr_matrix(np.array([[1.0, 2.0]]))
    for alpha in ("x", None):
        with pytest.raises(ConfigError, match="alpha must be a finite number >= 0"):
            confidence(weights, alpha)  # type: ignore[arg-type]
    for matrix in (None, "abc"):
        with pytest.raises(ConfigError, match="users x items scipy sparse matrix"):
            weigh(matrix, "log")
