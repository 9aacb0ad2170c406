"""The implicit-ALS objective used for progress reports."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from alsrec import DataError, Interactions, Recommender
from alsrec.model.loss import als_loss, loss_monitor
from alsrec.weighting import confidence


def dense_loss(conf: np.ndarray, users: np.ndarray, items: np.ndarray, lam: float) -> float:
    observed = conf > 0
    c = np.where(observed, conf, 1.0)
    p = observed.astype(float)
    s = users @ items.T
    penalty = lam * ((users**2).sum() + (items**2).sum())
    return float(((c * (p - s) ** 2).sum() + penalty) / c.sum())


def test_matches_the_dense_definition() -> None:
    rng = np.random.default_rng(0)
    conf = np.where(rng.random((7, 5)) < 0.4, 1.0 + 3.0 * rng.random((7, 5)), 0.0)
    users, items = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    got = als_loss(sp.csr_matrix(conf.astype(np.float32)), users, items, 0.7)
    assert got == pytest.approx(dense_loss(conf.astype(np.float32), users, items, 0.7), rel=1e-6)


def test_extra_factor_rows_are_ignored_and_bad_shapes_refused() -> None:
    conf = sp.csr_matrix(np.array([[2.0, 0.0]], dtype=np.float32))
    users, items = np.ones((3, 2)), np.ones((4, 2))
    assert als_loss(conf, users, items, 0.0) == als_loss(conf, users[:1], items[:2], 0.0)
    with pytest.raises(DataError, match="do not fit"):
        als_loss(conf, np.ones((1, 2)), np.ones((2, 3)), 0.0)


def test_exact_als_never_increases_the_loss(small_interactions: Interactions) -> None:
    # Each exact solve minimises the objective over one side, so the sequence cannot rise.
    lam, alpha = 2.0, 3.0
    conf = confidence(small_interactions.matrix, alpha)
    losses: list[float] = []

    def record(iteration: int, users: np.ndarray, items: np.ndarray) -> None:
        losses.append(als_loss(conf, users, items, lam))

    Recommender(
        factors=6, regularization=lam, alpha=alpha, iterations=6, solver="cholesky", random_state=0
    ).fit(small_interactions, callback=record)
    assert len(losses) == 6
    assert all(b <= a * (1 + 1e-6) for a, b in itertools.pairwise(losses))
    assert losses[-1] < losses[0]


def test_fit_progress_draws_one_step_per_sweep_with_the_loss(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = Interactions.from_arrays(["a", "a", "b", "c"], ["x", "y", "x", "z"])
    out = io.StringIO()
    rec = Recommender(factors=2, iterations=4, random_state=0)
    rec.fit(data, progress=out)
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["1/4", "2/4", "3/4", "4/4"]
    final = float(lines[-1].split("loss ")[1].split()[0])
    conf = confidence(data.matrix, 1.0)
    reg = rec.params_.regularization_value  # the value fit resolved from "auto"
    expected = als_loss(conf, rec.user_factors_, rec.item_factors_, reg)
    assert final == pytest.approx(expected, rel=1e-5)
    Recommender(factors=2, iterations=2).fit(data)  # default: no bar
    assert capsys.readouterr().err == ""
    Recommender(factors=2, iterations=2).fit(data, progress=True)
    assert capsys.readouterr().err.count("loss ") == 2


def test_loss_monitor_reports_and_chains_the_callback() -> None:
    data = Interactions.from_arrays(["a", "a", "b", "c"], ["x", "y", "x", "z"])
    rec = Recommender(factors=2, iterations=5, random_state=0)
    losses: list[tuple[int, float]] = []
    sweeps: list[int] = []
    monitor = loss_monitor(
        data,
        rec.params,
        progress=False,
        on_loss=lambda i, loss: losses.append((i, loss)),
        callback=lambda i, users, items: sweeps.append(i),
    )
    rec.fit(data, callback=monitor)
    assert [i for i, _ in losses] == sweeps == [1, 2, 3, 4, 5]
    assert losses[-1][1] <= losses[0][1]
