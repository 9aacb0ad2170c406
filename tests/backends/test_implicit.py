"""The implicit backends (CPU, GPU), the backend registry, and Recommender.from_implicit.

This machine (and CI) has no GPU: the CUDA path is tested through its availability
report, its errors, and a stand-in model that mimics implicit's GPU factors
(``to_numpy()``). Real CUDA training is covered by tests/backends/test_conformance.py, which runs
the conformance suite on "implicit-gpu" wherever ``implicit.gpu.HAS_CUDA`` is true.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import TYPE_CHECKING, Any

import implicit
import implicit.als
import implicit.bpr
import implicit.gpu
import implicit.gpu.als
import implicit.recommender_base
import implicit.utils
import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_info, threadpool_limits

import alsrec.backends
from alsrec import (
    ALSParams,
    AlsrecWarning,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    DataError,
    Interactions,
    MappingMismatchError,
    NotFittedError,
    Recommender,
)
from alsrec.backends import ImplicitBackend, NumpyBackend, available, get_backend, names
from alsrec.backends import _implicit as impl
from alsrec.datasets import synthetic
from alsrec.evaluation import holdout_split, ndcg_at_k
from alsrec.interop import implicit as probe
from alsrec.weighting import confidence

if TYPE_CHECKING:
    from alsrec.types import FactorMatrix

needs_no_cuda = pytest.mark.skipif(
    bool(implicit.gpu.HAS_CUDA), reason="CUDA is usable here; these tests cover its absence"
)


def _weights(n_users: int = 60, n_items: int = 30, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = np.where(
        rng.random((n_users, n_items)) < 0.2, rng.integers(1, 4, (n_users, n_items)), 0
    )
    out = sp.csr_matrix(dense.astype(np.float32))
    out.sort_indices()
    return out


def _raw_implicit(conf: sp.csr_matrix, cg_steps: int = 3, **kwargs: Any) -> Any:
    """Fit implicit's CPU ALS by hand, the way a user of implicit would."""
    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = implicit.als.AlternatingLeastSquares(use_gpu=False, **kwargs)
        model.cg_steps = cg_steps
        model.fit(conf, show_progress=False)
    return model


class _Spy:
    """Wraps implicit.als.AlternatingLeastSquares, recording arguments and fitted data."""

    def __init__(self) -> None:
        self.kwargs: dict[str, Any] = {}
        self.fitted: list[sp.csr_matrix] = []
        self.real = implicit.als.AlternatingLeastSquares

    def __call__(self, **kwargs: Any) -> Any:
        self.kwargs = kwargs
        model = self.real(**{**kwargs, "use_gpu": False})
        original_fit = model.fit
        spy = self

        def fit(user_items: sp.csr_matrix, **fit_kwargs: Any) -> None:
            spy.fitted.append(user_items)
            original_fit(user_items, **fit_kwargs)

        model.fit = fit
        return model


# -- hyperparameters mean the same ----------------------------------------------------------------


def test_implicit_gets_alsrecs_confidence_with_alpha_one(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _Spy()
    monkeypatch.setattr(implicit.als, "AlternatingLeastSquares", spy)
    weights = _weights()
    rec = Recommender(
        factors=5,
        regularization=0.3,
        alpha=7.0,
        iterations=4,
        random_state=3,
        num_threads=1,
        backend="implicit",
    )
    rows = np.repeat(np.arange(weights.shape[0]), np.diff(weights.indptr))
    rec.fit(rows, weights.indices.astype(np.int64), weights.data)
    assert spy.kwargs["alpha"] == 1.0
    assert spy.kwargs["use_gpu"] is False
    assert spy.kwargs["use_cg"] is True
    assert (spy.kwargs["factors"], spy.kwargs["regularization"]) == (5, 0.3)
    assert (spy.kwargs["iterations"], spy.kwargs["random_state"]) == (4, 3)
    assert spy.kwargs["num_threads"] == 1
    (given,) = spy.fitted
    assert rec.seen_ is not None
    expected = confidence(rec.seen_, 7.0)
    assert given.dtype == np.float32
    np.testing.assert_array_equal(given.toarray(), expected.toarray())
    assert given.data.min() >= 1 + 7.0 * 1.0


@pytest.mark.parametrize("exact", [False, True])
def test_backend_equals_raw_implicit_on_the_same_confidence(exact: bool) -> None:
    conf = confidence(_weights(), 4.0)
    params = ALSParams(
        factors=6,
        regularization=0.2,
        iterations=5,
        random_state=11,
        solver="cholesky" if exact else "cg",
        cg_steps=2,
    )
    users, items = ImplicitBackend().fit(conf, params)
    model = _raw_implicit(
        conf,
        cg_steps=2,
        factors=6,
        regularization=0.2,
        iterations=5,
        random_state=11,
        use_cg=not exact,
        alpha=1.0,
    )
    np.testing.assert_array_equal(users, model.user_factors)
    np.testing.assert_array_equal(items, model.item_factors)


def test_cg_steps_reach_implicit() -> None:
    conf = confidence(_weights(), 2.0)
    one = ImplicitBackend().fit(
        conf, ALSParams(regularization=0.1, factors=6, iterations=2, cg_steps=1, random_state=0)
    )
    three = ImplicitBackend().fit(
        conf, ALSParams(regularization=0.1, factors=6, iterations=2, cg_steps=3, random_state=0)
    )
    assert not np.array_equal(one[0], three[0])


@pytest.mark.parametrize("exact", [False, True])
def test_equal_seeds_give_equal_factors_on_numpy_and_implicit(exact: bool) -> None:
    # Same confidence, same hyperparameters, same seed: both backends start from the
    # same factors and solve the same equations, so they end at the same factors.
    conf = confidence(_weights(200, 80, seed=6), 3.0)
    params = ALSParams(
        factors=8,
        regularization=0.5,
        iterations=10,
        random_state=3,
        solver="cholesky" if exact else "cg",
    )
    numpy_users, numpy_items = NumpyBackend().fit(conf, params)
    users, items = ImplicitBackend().fit(conf, params)
    # Measured worst case over 10 seeds: 5e-5 exact, 4e-2 CG (float32 CG amplifies
    # rounding differences); another seed differs by ~1 (relative to the largest entry).
    tolerance = 1e-3 if exact else 1e-1
    np.testing.assert_allclose(users, numpy_users, atol=tolerance * np.abs(users).max())
    np.testing.assert_allclose(items, numpy_items, atol=tolerance * np.abs(items).max())
    other_seed = NumpyBackend().fit(conf, ALSParams(**{**params.to_dict(), "random_state": 4}))
    assert not np.allclose(other_seed[0], users, atol=tolerance * np.abs(users).max())


def test_exact_solves_agree_with_the_numpy_backend_given_the_same_users() -> None:
    # The item half-sweep of an exact solve is a function of the user factors alone;
    # implicit's and numpy's must agree when both start from implicit's users.
    conf = confidence(_weights(80, 40, seed=4), 3.0)
    params = ALSParams(
        factors=5, regularization=0.7, iterations=3, random_state=0, solver="cholesky"
    )
    users, items = ImplicitBackend().fit(conf, params)
    from alsrec.testing import _exact_items

    np.testing.assert_allclose(items, _exact_items(users, conf, params), rtol=1e-3, atol=1e-5)
    # and a regularization 10x larger is not what implicit solved for
    larger = ALSParams(**{**params.to_dict(), "regularization": 7.0})
    assert not np.allclose(items, _exact_items(users, conf, larger), rtol=1e-2, atol=1e-4)


def test_a_nonzero_regularization_exponent_is_refused_before_training() -> None:
    # A NaN confidence would raise DataError once training starts: the refusal comes first.
    conf = sp.csr_matrix(np.array([[np.nan, 2.0]], dtype=np.float32))
    params = ALSParams(factors=2, regularization=1.0, regularization_exponent=0.5)
    with pytest.raises(ConfigError, match=r"backend='numpy'.*regularization_exponent=0"):
        ImplicitBackend().fit(conf, params)
    with pytest.raises(ConfigError, match=r"regularization_exponent=0\.5"):
        Recommender(factors=2, regularization_exponent=0.5, backend="implicit").fit(["a"], ["x"])


def test_ndcg_parity_with_numpy_backend_and_raw_implicit() -> None:
    data = synthetic(n_users=1500, n_items=400, n_clusters=8, random_state=5)
    train, test = holdout_split(
        Interactions.from_arrays(data.user_ids, data.item_ids, data.weights), 0.2, random_state=0
    )
    kwargs: dict[str, Any] = {
        "factors": 16,
        "regularization": 1.0,
        "alpha": 2.0,
        "iterations": 15,
        "random_state": 0,
        "num_threads": 1,
    }
    scores = {
        name: ndcg_at_k(Recommender(**kwargs, backend=name).fit(train), test, k=10)
        for name in ("numpy", "implicit")
    }
    conf = train.matrix.copy()
    conf.data = (1.0 + 2.0 * conf.data).astype(np.float32)
    model = _raw_implicit(
        conf, factors=16, regularization=1.0, alpha=1.0, iterations=15, random_state=0
    )
    raw = Recommender.from_factors(
        model.user_factors, model.item_factors, train.users, train.items, seen=train.matrix
    )
    scores["raw"] = ndcg_at_k(raw, test, k=10)
    # The same seed through alsrec and by hand gives the same factors, hence the same score.
    assert scores["implicit"] == pytest.approx(scores["raw"], rel=1e-6)
    # Same initialization and equations: same quality (measured: within 0.1-0.5%).
    assert scores["numpy"] == pytest.approx(scores["implicit"], rel=0.02)
    popularity = ndcg_at_k(
        Recommender.from_factors(
            np.ones((len(train.users), 1)),
            np.bincount(train.matrix.indices, minlength=len(train.items))[:, None],
            train.users,
            train.items,
            seen=train.matrix,
        ),
        test,
        k=10,
    )
    assert scores["implicit"] > 1.5 * popularity


# -- determinism, threads, warnings ---------------------------------------------------------------


def test_cpu_factors_do_not_depend_on_num_threads() -> None:
    conf = confidence(_weights(200, 80), 2.0)
    runs = [
        ImplicitBackend().fit(
            conf,
            ALSParams(regularization=0.1, factors=8, iterations=4, random_state=2, num_threads=t),
        )
        for t in (1, 2, 0)
    ]
    for users, items in runs[1:]:
        np.testing.assert_array_equal(users, runs[0][0])
        np.testing.assert_array_equal(items, runs[0][1])


def _blas_threads() -> list[int]:
    return [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]


def test_blas_limited_to_one_thread_only_while_training() -> None:
    assert _blas_threads(), "numpy's BLAS should be visible to threadpoolctl"
    seen_inside: list[list[int]] = []

    def record(iteration: int, users: FactorMatrix, items: FactorMatrix) -> None:
        seen_inside.append(_blas_threads())

    with threadpool_limits(2, "blas"):
        before = _blas_threads()
        ImplicitBackend().fit(
            confidence(_weights(), 1.0),
            ALSParams(regularization=0.1, factors=4, iterations=2),
            callback=record,
        )
        after = _blas_threads()
    assert seen_inside == [[1] * len(before)] * 2
    assert after == before
    assert max(before) == 2 or max(before) == 1  # a 1-core BLAS build caps at 1


def test_no_blas_warning_reaches_the_user(monkeypatch: pytest.MonkeyPatch) -> None:
    with threadpool_limits(2, "blas"):
        if max(_blas_threads()) < 2:
            pytest.skip("this BLAS runs one thread at most; implicit would never warn")
        # Control: implicit built by hand with a multithreaded BLAS does warn.
        monkeypatch.setattr(implicit.utils, "_checked_blas_config", False)
        with pytest.warns(RuntimeWarning, match="threads"):
            implicit.als.AlternatingLeastSquares(use_gpu=False)
        monkeypatch.setattr(implicit.utils, "_checked_blas_config", False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ImplicitBackend().fit(
                confidence(_weights(), 1.0), ALSParams(regularization=0.1, factors=4, iterations=2)
            )
        assert [str(w.message) for w in caught] == []


def test_works_without_threadpoolctl(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = confidence(_weights(), 1.0)
    params = ALSParams(regularization=0.1, factors=4, iterations=3, random_state=0)
    expected = ImplicitBackend().fit(conf, params)
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    with impl.blas_single_threaded():
        pass  # no error without threadpoolctl
    users, items = ImplicitBackend().fit(conf, params)
    np.testing.assert_array_equal(users, expected[0])
    np.testing.assert_array_equal(items, expected[1])


# -- input handling -------------------------------------------------------------------------------


def test_accepts_other_sparse_formats_and_merges_duplicates() -> None:
    conf = confidence(_weights(), 1.0)
    params = ALSParams(regularization=0.1, factors=4, iterations=3, random_state=0)
    expected = ImplicitBackend().fit(conf, params)
    coo = conf.tocoo()
    split = sp.coo_matrix(
        (
            np.concatenate([coo.data / 2, coo.data / 2]),
            (np.concatenate([coo.row, coo.row]), np.concatenate([coo.col, coo.col])),
        ),
        shape=conf.shape,
    )
    for other in (sp.csr_array(conf), conf.tocsc(), split, conf.astype(np.float64)):
        users, items = ImplicitBackend().fit(other, params)
        np.testing.assert_allclose(users, expected[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(items, expected[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -2.0])
def test_rejects_nan_inf_and_negative_confidence(bad: float) -> None:
    conf = confidence(_weights(), 1.0)
    conf.data[5] = bad
    with pytest.raises(DataError, match=r"NaN or inf|negative"):
        ImplicitBackend().fit(conf, ALSParams(regularization=0.1, factors=4, iterations=2))


def test_rejects_dense_input() -> None:
    with pytest.raises(DataError, match="scipy sparse"):
        ImplicitBackend().fit(np.ones((3, 3)), ALSParams(regularization=0.1, factors=2))


def test_rows_without_interactions_keep_their_place_and_get_zeros() -> None:
    conf = sp.csr_matrix(([3.0, 2.0], ([1, 3], [2, 0])), shape=(5, 4), dtype=np.float32)
    users, items = ImplicitBackend().fit(
        conf, ALSParams(regularization=0.1, factors=3, iterations=3, random_state=0)
    )
    assert (users.shape, items.shape) == ((5, 3), (4, 3))
    assert not users[[0, 2, 4]].any()
    assert not items[[1, 3]].any()
    assert users[[1, 3]].all(axis=1).all()
    assert items[[0, 2]].all(axis=1).all()


def test_empty_matrices_give_empty_factors() -> None:
    for shape in ((0, 0), (3, 0), (0, 4), (3, 4)):
        users, items = ImplicitBackend().fit(
            sp.csr_matrix(shape, dtype=np.float32),
            ALSParams(regularization=0.1, factors=2, iterations=1),
        )
        assert (users.shape, items.shape) == ((shape[0], 2), (shape[1], 2))
        assert not np.concatenate([users.ravel(), items.ravel()]).any()


# -- exception translation ------------------------------------------------------------------------


def test_model_fit_error_is_translated() -> None:
    conf = confidence(_weights(), 1.0)
    conf.data[:] = 3e38  # finite, but implicit's float32 solve overflows to NaN
    with pytest.raises(BackendError, match="diverged") as info:
        ImplicitBackend().fit(conf, ALSParams(regularization=0.1, factors=4, iterations=2))
    assert isinstance(info.value.__cause__, implicit.recommender_base.ModelFitError)


def test_value_error_from_a_singular_exact_solve_is_translated() -> None:
    conf = sp.csr_matrix(np.ones((3, 3), dtype=np.float32))
    params = ALSParams(factors=4, regularization=0.0, iterations=2, solver="cholesky")
    with pytest.raises(BackendError, match="ValueError") as info:
        ImplicitBackend().fit(conf, params)
    assert isinstance(info.value.__cause__, ValueError)
    assert not isinstance(info.value, BackendUnavailableError)


@pytest.mark.parametrize(
    "error",
    [
        implicit.recommender_base.ModelFitError("NaN encountered in factors"),
        ValueError("bad value"),
        RuntimeError("cuda error"),
        TypeError("bad type"),
        IndexError("index 7 out of range"),
        OverflowError("too big"),
        ZeroDivisionError("zero"),
        OSError("disk"),
    ],
)
@pytest.mark.parametrize("gpu", [False, True])
def test_every_error_from_implicit_becomes_a_backend_error(
    monkeypatch: pytest.MonkeyPatch, error: Exception, gpu: bool
) -> None:
    class Failing:
        cg_steps = 3

        def __init__(self, **kwargs: Any) -> None:
            pass

        def fit(self, *args: Any, **kwargs: Any) -> None:
            raise error

    monkeypatch.setattr(implicit.als, "AlternatingLeastSquares", Failing)
    monkeypatch.setattr(probe, "gpu_status", lambda: (True, "pretend"))
    with pytest.raises(BackendError) as info:
        ImplicitBackend(gpu=gpu).fit(
            confidence(_weights(), 1.0), ALSParams(regularization=0.1, factors=2)
        )
    assert info.value.__cause__ is error
    assert (
        type(error).__name__ in str(info.value)
        or "diverged" in str(info.value)
        or ("CUDA" in str(info.value))
    )


def test_memory_error_and_callback_errors_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(iteration: int, users: FactorMatrix, items: FactorMatrix) -> None:
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        ImplicitBackend().fit(
            confidence(_weights(), 1.0), ALSParams(regularization=0.1, factors=2), callback=boom
        )

    class OutOfMemory:
        def __init__(self, **kwargs: Any) -> None:
            self.cg_steps = 3

        def fit(self, *args: Any, **kwargs: Any) -> None:
            raise MemoryError

    monkeypatch.setattr(implicit.als, "AlternatingLeastSquares", OutOfMemory)
    with pytest.raises(MemoryError):
        ImplicitBackend().fit(confidence(_weights(), 1.0), ALSParams(regularization=0.1, factors=2))


def test_recommender_fit_reports_backend_errors_with_the_cause() -> None:
    # Three identical users: after one sweep their factors are equal and, with no
    # regularization, the items' systems singular. (More factors than users or items is
    # refused before training, whatever the data.)
    rec = Recommender(factors=3, regularization=0.0, iterations=2, solver="cholesky")
    rec.backend = "implicit"
    with pytest.raises(BackendError) as info:
        rec.fit([1, 1, 1, 2, 2, 2, 3, 3, 3], [1, 2, 3] * 3)
    assert isinstance(info.value.__cause__, ValueError)


# -- lazy import ----------------------------------------------------------------------------------


def test_importing_alsrec_does_not_import_implicit() -> None:
    code = (
        "import sys, alsrec, alsrec.backends, alsrec.testing, alsrec.recommender\n"
        "print('implicit' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _hide_implicit(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name == "implicit" or name.startswith("implicit."):
            monkeypatch.setitem(sys.modules, name, None)


def test_without_implicit_numpy_still_works_and_reasons_are_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _hide_implicit(monkeypatch)
    with pytest.raises(ImportError):
        import implicit as _  # noqa: F401
    statuses = {s.name: s for s in available()}
    assert statuses["numpy"].available
    for name in ("implicit", "implicit-gpu"):
        assert not statuses[name].available
        assert "pip install implicit" in statuses[name].reason
    assert "'numpy'" in statuses["auto"].reason
    assert get_backend("auto").name == "numpy"
    with pytest.raises(BackendUnavailableError, match="pip install implicit"):
        ImplicitBackend().fit(confidence(_weights(), 1.0), ALSParams(regularization=0.1, factors=2))
    rec = Recommender(factors=2, iterations=2, random_state=0, backend="implicit")
    with pytest.raises(ImportError):  # BackendUnavailableError is an ImportError too
        rec.fit([1, 1, 2], [1, 2, 2])
    rec = Recommender(factors=2, iterations=2, random_state=0, backend="auto")
    assert rec.fit([1, 1, 2], [1, 2, 2]).backend_ == "numpy"
    with pytest.raises(ConfigError, match="cannot be imported"):
        Recommender.from_implicit(object(), [1], [1])


# -- GPU: availability, errors, never a silent switch ---------------------------------------------


@needs_no_cuda
def test_gpu_backend_refuses_without_cuda() -> None:
    with pytest.raises(BackendUnavailableError, match=r"HAS_CUDA is False.*pip install rmm-cu13"):
        ImplicitBackend(gpu=True).fit(
            confidence(_weights(), 1.0), ALSParams(regularization=0.1, factors=2)
        )
    rec = Recommender(factors=2, iterations=2, backend="implicit-gpu")
    with pytest.raises(BackendUnavailableError, match="implicit-gpu"):
        rec.fit([1, 1, 2], [1, 2, 2])
    assert not rec.is_fitted


@needs_no_cuda
def test_available_reports_every_name_with_reasons_here() -> None:
    statuses = {s.name: s for s in available()}
    assert list(statuses) == list(names()) == ["auto", "implicit", "implicit-gpu", "numpy", "spark"]
    assert statuses["implicit"].available
    assert implicit.__version__ in statuses["implicit"].reason
    gpu = statuses["implicit-gpu"]
    assert not gpu.available
    assert "HAS_CUDA is False" in gpu.reason
    assert "backend='implicit'" in gpu.reason
    assert statuses["auto"].reason.startswith("resolves to 'implicit'")


@pytest.mark.parametrize(
    ("devices", "driver", "libs", "rmm", "expect", "absent"),
    [
        ([], False, False, False, ["no CUDA device", "rmm", "libcublas.so.13"], []),
        (["nvidia0"], True, True, False, ["'rmm' Python package"], ["no CUDA device"]),
        (["nvidia0"], True, False, True, ["libcublas.so.13", "libcurand.so.10"], ["device"]),
        ([], False, True, True, ["no CUDA device", "/dev/nvidia"], ["libraries missing"]),
        (["nvidia0"], False, True, True, ["libcuda.so.1"], ["/dev/nvidia* device", "missing"]),
        (["nvidia0"], True, True, True, ["did not load although"], ["no CUDA", "missing"]),
    ],
)
@needs_no_cuda
def test_gpu_reason_tells_device_from_libraries(
    monkeypatch: pytest.MonkeyPatch,
    devices: list[str],
    driver: bool,
    libs: bool,
    rmm: bool,
    expect: list[str],
    absent: list[str],
) -> None:
    monkeypatch.setattr(probe, "_device_nodes", lambda: devices)
    monkeypatch.setattr(probe, "_loadable", lambda lib: driver if lib == "libcuda.so.1" else libs)
    monkeypatch.setattr(implicit.gpu, "HAS_RMM", rmm)
    monkeypatch.setattr(probe, "_import_warnings", [])
    ok, reason = probe.gpu_status()
    assert not ok
    for text in expect:
        assert text in reason
    for text in absent:
        assert text not in reason
    assert probe.GPU_INSTALL_HINT in reason


@needs_no_cuda
def test_gpu_reason_includes_what_implicit_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe, "_device_nodes", lambda: ["nvidia0"])
    monkeypatch.setattr(probe, "_loadable", lambda lib: True)
    monkeypatch.setattr(implicit.gpu, "HAS_RMM", True)
    monkeypatch.setattr(
        probe, "_import_warnings", ["Disabling GPU support because of 'libfoo.so: nope'"]
    )
    ok, reason = probe.gpu_status()
    assert not ok
    assert "libfoo.so: nope" in reason


@needs_no_cuda
def test_implicits_import_time_gpu_warning_is_kept_for_the_report() -> None:
    # A stand-in 'rmm' makes implicit try its CUDA extension, which then fails here and
    # warns; alsrec imported implicit, so that warning goes into the reason instead.
    code = (
        "import sys, types, warnings\n"
        "sys.modules['rmm'] = types.ModuleType('rmm')\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    from alsrec.backends import gpu_status\n"
        "    ok, reason = gpu_status()\n"
        "print(ok)\n"
        "print(sum('GPU' in str(w.message) for w in caught))\n"
        "print(reason)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    ok, leaked, reason = out.stdout.split("\n", 2)
    assert ok == "False"
    assert leaked == "0"
    assert "implicit reported:" in reason
    assert "disabling gpu support" in reason.lower()


def test_gpu_status_when_cuda_is_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(implicit.gpu, "HAS_CUDA", True)
    monkeypatch.setattr(implicit.gpu, "get_device_count", lambda: 2, raising=False)
    assert probe.gpu_status() == (True, f"implicit {implicit.__version__}, CUDA ALS on 2 device(s)")
    assert {s.name: s for s in available()}["implicit-gpu"].available


def test_implicit_gpu_constructor_error_is_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    if implicit.gpu.HAS_RMM:
        pytest.skip("RMM is installed: implicit's GPU constructor would not refuse")
    # Pretend CUDA is there: implicit's own GPU model then refuses (no RMM).
    monkeypatch.setattr(implicit.gpu, "HAS_CUDA", True)
    with pytest.raises(BackendUnavailableError, match="refused to build a GPU model") as info:
        ImplicitBackend(gpu=True).fit(
            confidence(_weights(), 1.0), ALSParams(regularization=0.1, factors=2)
        )
    assert isinstance(info.value.__cause__, ValueError)


def test_cpu_backend_never_switches_to_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    # implicit's factory defaults to use_gpu=implicit.gpu.HAS_CUDA; alsrec always says.
    monkeypatch.setattr(implicit.gpu, "HAS_CUDA", True)
    spy = _Spy()
    monkeypatch.setattr(implicit.als, "AlternatingLeastSquares", spy)
    rec = Recommender(factors=2, iterations=2, random_state=0, backend="implicit")
    assert rec.fit([1, 1, 2], [1, 2, 2]).backend_ == "implicit"
    assert spy.kwargs["use_gpu"] is False


class _FakeGpuMatrix:
    """Stands in for implicit.gpu.Matrix: device memory reachable only via to_numpy()."""

    def __init__(self, array: np.ndarray) -> None:
        self._array: np.ndarray = np.array(array)

    def to_numpy(self) -> np.ndarray:
        out: np.ndarray = self._array.copy()
        return out

    def __array__(self) -> np.ndarray:
        raise AssertionError("GPU factors must be copied with to_numpy()")


def test_gpu_training_path_with_a_stand_in_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seam of the GPU path: arguments, seeding, steps, host copies, callback."""
    made: list[dict[str, Any]] = []
    real = implicit.als.AlternatingLeastSquares

    class StandIn:
        def __init__(self, **kwargs: Any) -> None:
            made.append(kwargs)
            self.cg_steps = 3
            self.user_factors: Any = None
            self.item_factors: Any = None

        def fit(self, conf: sp.csr_matrix, show_progress: bool, callback: Any) -> None:
            cpu = real(**{**made[-1], "use_gpu": False, "random_state": 0})
            cpu.fit(conf, show_progress=False)
            self.user_factors = _FakeGpuMatrix(cpu.user_factors)
            self.item_factors = _FakeGpuMatrix(cpu.item_factors.astype(np.float16))
            callback(0, 0.1, None)

    monkeypatch.setattr(implicit.als, "AlternatingLeastSquares", StandIn)
    monkeypatch.setattr(probe, "gpu_status", lambda: (True, "pretend"))
    calls: list[tuple[int, str, str]] = []

    def record(iteration: int, users: FactorMatrix, items: FactorMatrix) -> None:
        calls.append((iteration, users.dtype.name, items.dtype.name))

    backend = ImplicitBackend(gpu=True)
    assert (backend.name, backend.deterministic, backend.gpu) == ("implicit-gpu", False, True)
    params = ALSParams(
        regularization=0.1, factors=4, iterations=2, random_state=0, solver="cholesky"
    )
    users, items = backend.fit(confidence(_weights(), 1.0), params, callback=record)
    assert made[-1]["use_gpu"] is True
    assert made[-1]["alpha"] == 1.0
    # seed 0 must not reach implicit's GPU seeding, which reads 0 as "use the clock"
    assert isinstance(made[-1]["random_state"], np.random.Generator)
    assert users.dtype == items.dtype == np.float32
    assert users.flags.c_contiguous
    assert items.flags.c_contiguous
    assert calls == [(1, "float32", "float32")]
    rec = Recommender(factors=4, iterations=2, backend=backend).fit([1, 1, 2], [1, 2, 2])
    assert rec.backend_ == "implicit-gpu"


# -- auto -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gpu_ok", "cpu_ok", "expected"),
    [(True, True, "implicit-gpu"), (False, True, "implicit"), (False, False, "numpy")],
)
def test_auto_picks_gpu_then_cpu_then_numpy(
    monkeypatch: pytest.MonkeyPatch, gpu_ok: bool, cpu_ok: bool, expected: str
) -> None:
    monkeypatch.setitem(alsrec.backends._STATUS, "implicit-gpu", lambda: (gpu_ok, "gpu"))
    monkeypatch.setitem(alsrec.backends._STATUS, "implicit", lambda: (cpu_ok, "cpu"))
    assert get_backend("auto").name == expected
    assert f"resolves to {expected!r}" in {s.name: s for s in available()}["auto"].reason


def test_auto_reports_the_backend_it_used() -> None:
    rec = Recommender(factors=2, iterations=2, random_state=0, backend="auto")
    expected = "implicit-gpu" if implicit.gpu.HAS_CUDA else "implicit"
    assert rec.fit([1, 1, 2], [1, 2, 2]).backend_ == expected
    assert "backend 'implicit" in rec.summary()


def test_gpu_flag_is_validated_and_repr() -> None:
    with pytest.raises(ConfigError, match="gpu must be"):
        ImplicitBackend(gpu=1)  # type: ignore[arg-type]
    assert repr(ImplicitBackend()) == "ImplicitBackend(gpu=False)"
    assert get_backend("implicit-gpu").name == "implicit-gpu"
    assert isinstance(get_backend("numpy"), NumpyBackend)


# -- from_implicit --------------------------------------------------------------------------------


def test_from_implicit_wraps_a_cpu_model() -> None:
    weights = _weights()
    conf = confidence(weights, 2.0)
    model = _raw_implicit(conf, factors=7, regularization=0.4, iterations=6, random_state=1)
    users = [f"u{k}" for k in range(weights.shape[0])]
    items = [f"i{k}" for k in range(weights.shape[1])]
    # implicit was given alsrec's confidences 1 + 2w: alpha 2 says so (with seen's varying
    # weights no translation of implicit's own alpha could, and from_implicit warns)
    with pytest.warns(AlsrecWarning, match="differ from training by a confidence of 1"):
        Recommender.from_implicit(model, users, items, seen=weights)
    rec = Recommender.from_implicit(model, users, items, seen=weights, alpha=2.0)
    assert rec.backend_ == "implicit"
    assert (rec.params.factors, rec.params.regularization, rec.params.iterations) == (7, 0.4, 6)
    assert (rec.params.solver, rec.params.random_state) == ("cg", 1)
    np.testing.assert_array_equal(rec.user_factors_, model.user_factors)
    np.testing.assert_array_equal(rec.item_factors_, model.item_factors)
    reference = Recommender.from_factors(
        model.user_factors.copy(), model.item_factors.copy(), users, items, seen=weights
    )
    before = rec.recommend_many(users, n=5)
    np.testing.assert_array_equal(before.ids, reference.recommend_many(users, n=5).ids)
    seen_items = set(np.asarray(items)[weights[0].indices].tolist())
    assert not seen_items & {i for i, _ in rec.recommend("u0", n=len(items))}
    model.user_factors[:] = 0  # implicit updates factors in place (partial_fit_users)
    after = rec.recommend_many(users, n=5)
    np.testing.assert_array_equal(after.scores, before.scores)
    exact = _raw_implicit(conf, factors=3, use_cg=False, iterations=1)
    assert Recommender.from_implicit(exact, users, items).params.solver == "cholesky"


def test_from_implicit_ids_and_policies() -> None:
    model = _raw_implicit(confidence(_weights(6, 4), 1.0), factors=2, iterations=2)
    with pytest.warns(AlsrecWarning, match="rows 5..5 have no ID"):
        rec = Recommender.from_implicit(model, list(range(5)), list("abcd"))
    assert rec.mapping_check()["ok"] is False
    with pytest.raises(MappingMismatchError):
        Recommender.from_implicit(model, list(range(5)), list("abcd"), policy="strict")


def test_from_implicit_refuses_unfitted_and_foreign_models() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        unfitted = implicit.als.AlternatingLeastSquares(use_gpu=False)
    with pytest.raises(NotFittedError, match=r"model\.fit"):
        Recommender.from_implicit(unfitted, [1], [1])
    with pytest.raises(ConfigError, match="Expected a trained implicit ALS model"):
        Recommender.from_implicit(NumpyBackend(), [1], [1])
    bpr = implicit.bpr.BayesianPersonalizedRanking(factors=3, use_gpu=False)
    with pytest.raises(ConfigError, match="from_factors"):
        Recommender.from_implicit(bpr, [1], [1])


def test_from_implicit_wraps_a_gpu_model_through_to_numpy() -> None:
    # No CUDA here: build implicit's GPU model class without its constructor (which
    # needs CUDA) and give it stand-in device factors.
    gpu_class = implicit.gpu.als.AlternatingLeastSquares
    model: Any = gpu_class.__new__(gpu_class)
    rng = np.random.default_rng(0)
    user_factors = rng.standard_normal((3, 4)).astype(np.float32)
    item_factors = rng.standard_normal((5, 4)).astype(np.float16)
    model.user_factors = _FakeGpuMatrix(user_factors)
    model.item_factors = _FakeGpuMatrix(item_factors)
    model.factors, model.regularization, model.iterations = 4, 0.05, 9
    model.random_state, model.cg_steps = None, 3
    rec = Recommender.from_implicit(model, ["a", "b", "c"], list("vwxyz"))
    assert rec.backend_ == "implicit-gpu"
    assert rec.item_factors_.dtype == np.float32
    np.testing.assert_array_equal(rec.item_factors_, item_factors.astype(np.float32))
    assert (rec.params.regularization, rec.params.iterations) == (0.05, 9)
