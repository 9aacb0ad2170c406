"""alsrec's BLAS scope: single-threaded BLAS during its heavy calls, restored afterwards."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import scipy.sparse as sp

from alsrec import ALSParams, _threads
from alsrec._foldin import FoldInSolver
from alsrec._scoring import ranked_top_n
from alsrec.backends import NumpyBackend

if TYPE_CHECKING:
    from collections.abc import Iterator

threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl comes with implicit")


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


@pytest.fixture
def threaded_blas(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """BLAS at 2 threads (as with no environment variable on 2 cores), scoping enabled."""
    if not _blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can control is loaded")
    monkeypatch.delenv(_threads.ENV_VAR, raising=False)
    monkeypatch.setattr(_threads, "KEEP_BLAS_THREADS", False)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        assert set(_blas_threads()) == {2}
        yield
        assert set(_blas_threads()) == {2}, "alsrec left BLAS changed"
    assert _threads._depth == 0


@pytest.mark.usefixtures("threaded_blas")
def test_scope_sets_one_thread_and_restores() -> None:
    with _threads.single_threaded_blas():
        assert set(_blas_threads()) == {1}
        assert _threads.blas_threads() == 1
    assert set(_blas_threads()) == {2}


@pytest.mark.usefixtures("threaded_blas")
def test_scope_restores_when_the_body_raises() -> None:
    inside: list[list[int]] = []

    def body() -> None:
        with _threads.single_threaded_blas():
            inside.append(_blas_threads())
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        body()
    assert inside == [[1] * len(inside[0])]
    assert set(_blas_threads()) == {2}


@pytest.mark.usefixtures("threaded_blas")
def test_nested_scopes_restore_when_the_outermost_leaves() -> None:
    with _threads.single_threaded_blas():
        with _threads.single_threaded_blas():
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {1}, "the inner scope restored too early"
        assert _threads._depth == 1
    assert set(_blas_threads()) == {2}


@pytest.mark.usefixtures("threaded_blas")
def test_concurrent_scopes_restore_when_the_last_leaves() -> None:
    """A enters, B enters, A leaves (BLAS stays at 1 for B), B leaves (restored)."""
    a_in, b_in, a_out, b_go = (threading.Event() for _ in range(4))
    seen: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def a() -> None:
        try:
            with _threads.single_threaded_blas():
                a_in.set()
                assert b_in.wait(10)
            a_out.set()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def b() -> None:
        try:
            assert a_in.wait(10)
            with _threads.single_threaded_blas():
                b_in.set()
                assert b_go.wait(10)
                seen["b, after a left"] = _blas_threads()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start()
    tb.start()
    assert a_out.wait(10)
    seen["main, after a left"] = _blas_threads()
    b_go.set()
    ta.join(10)
    tb.join(10)
    assert not errors, errors
    assert set(seen["main, after a left"]) == {1}
    assert set(seen["b, after a left"]) == {1}
    assert set(_blas_threads()) == {2}


@pytest.mark.usefixtures("threaded_blas")
def test_many_threads_entering_and_leaving_restore_once_all_left() -> None:
    barrier = threading.Barrier(8)
    inside: list[list[int]] = []

    def work() -> None:
        barrier.wait(10)
        for _ in range(50):
            with _threads.single_threaded_blas():
                inside.append(_blas_threads())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(inside) == 400
    assert all(set(v) == {1} for v in inside)
    assert set(_blas_threads()) == {2}


@pytest.mark.usefixtures("threaded_blas")
def test_worker_count_inside_the_scope_honours_num_threads() -> None:
    with _threads.single_threaded_blas():
        assert _threads.worker_count(3) == 3
        assert _threads.worker_count(1) == 1
        assert _threads.worker_count(0) >= 1
    # Outside, with scoping on: the heavy calls will enter the scope, so num_threads too.
    assert _threads.worker_count(3) == 3


@pytest.mark.usefixtures("threaded_blas")
@pytest.mark.parametrize("how", ["env", "module"])
def test_opt_out_leaves_blas_alone(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if how == "env":
        monkeypatch.setenv(_threads.ENV_VAR, "keep")
    else:
        monkeypatch.setattr(_threads, "KEEP_BLAS_THREADS", True)
    assert not _threads.manages_blas()
    with _threads.single_threaded_blas():
        assert set(_blas_threads()) == {2}
    # Today's behaviour: one worker next to threaded BLAS, num_threads next to one thread.
    assert _threads.worker_count(3) == 1
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert _threads.worker_count(3) == 3


@pytest.mark.usefixtures("threaded_blas")
def test_without_threadpoolctl_the_scope_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "_controller", None)
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import fails
    assert not _threads.manages_blas()
    assert _threads.blas_threads() is None
    with _threads.single_threaded_blas():
        pass
    assert _threads.worker_count(3) == 1
    monkeypatch.undo()
    assert set(_blas_threads()) == {2}


def _conf() -> sp.csr_matrix:
    rng = np.random.default_rng(0)
    conf = sp.random(300, 120, density=0.05, random_state=1, format="csr", dtype=np.float32)
    conf.data = 1 + rng.random(conf.nnz).astype(np.float32)
    return conf


@pytest.mark.usefixtures("threaded_blas")
def test_fit_runs_with_one_blas_thread_and_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[int]] = []
    params = ALSParams(regularization=0.1, factors=6, iterations=2, random_state=0, num_threads=2)
    NumpyBackend().fit(_conf(), params, callback=lambda *_: seen.append(_blas_threads()))
    assert seen and all(set(v) == {1} for v in seen)
    monkeypatch.setenv(_threads.ENV_VAR, "keep")
    seen.clear()
    NumpyBackend().fit(_conf(), params, callback=lambda *_: seen.append(_blas_threads()))
    assert seen and all(set(v) == {2} for v in seen)


@pytest.mark.usefixtures("threaded_blas")
def test_fit_restores_blas_when_the_callback_raises() -> None:
    def fail(*_: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        NumpyBackend().fit(
            _conf(), ALSParams(regularization=0.1, factors=4, iterations=3), callback=fail
        )
    assert set(_blas_threads()) == {2}


@pytest.mark.usefixtures("threaded_blas")
def test_batch_scoring_and_fold_in_scope_blas(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches run with single-threaded BLAS, whatever their worker count; one row does not."""
    seen: list[list[int]] = []
    real_enter = _threads.single_threaded_blas

    def spying() -> object:
        seen.append(["entered"])  # type: ignore[list-item]
        return real_enter()

    rng = np.random.default_rng(0)
    factors = rng.standard_normal((400, 8), dtype=np.float32)
    targets = rng.standard_normal((300, 8), dtype=np.float32)
    from alsrec import _scoring

    monkeypatch.setattr(_scoring, "single_threaded_blas", spying)
    one = ranked_top_n(factors, np.array([0]), targets, 5, block_entries=3000, workers=2)
    assert not seen, "a single query entered the scope"
    batch = ranked_top_n(factors, np.arange(400), targets, 5, block_entries=3000, workers=2)
    assert len(seen) == 1
    np.testing.assert_array_equal(batch[0][:1], one[0])
    serial = ranked_top_n(factors, np.arange(400), targets, 5, block_entries=3000, workers=1)
    assert len(seen) == 2, "a batch on one worker runs with single-threaded BLAS too"
    np.testing.assert_array_equal(batch[0], serial[0])

    from alsrec import _foldin

    seen.clear()
    monkeypatch.setattr(_foldin, "single_threaded_blas", spying)
    solver = FoldInSolver(targets, 0.1)
    conf = _conf()  # 300 histories over 120 items: one batch of more than 256 rows
    solver.solve(conf[:1])
    assert not seen, "a single history entered the scope"
    solver.solve(conf)
    assert len(seen) == 1
    assert set(_blas_threads()) == {2}


@pytest.mark.usefixtures("threaded_blas")
def test_training_is_deterministic_across_threads_and_blas_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conf = _conf()
    results = []
    for keep, threads in ((False, 1), (False, 3), (True, 2)):
        monkeypatch.setattr(_threads, "KEEP_BLAS_THREADS", keep)
        params = ALSParams(
            regularization=0.1, factors=6, iterations=3, random_state=0, num_threads=threads
        )
        results.append(NumpyBackend().fit(conf, params))
        assert set(_blas_threads()) == {2}
    for users, items in results[1:]:
        np.testing.assert_allclose(users, results[0][0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(items, results[0][1], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(results[0][0], results[1][0])  # same BLAS: bitwise


_LATE_LIBRARY_SCRIPT = """
import sys
from threadpoolctl import threadpool_info
from alsrec import _threads

def counts():
    return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

assert "scipy.linalg" not in sys.modules, "the check needs scipy's BLAS loaded late"
with _threads.single_threaded_blas():  # the first scope: only numpy's BLAS is loaded yet
    pass
before = len(counts())
with _threads.single_threaded_blas():
    import scipy.linalg  # noqa: F401  # scipy's own BLAS, loaded inside a scope
    with _threads.single_threaded_blas():
        assert set(counts().values()) == {1}, counts()
    assert set(counts().values()) == {1}, counts()
assert set(counts().values()) == {2}, counts()
with _threads.single_threaded_blas():
    assert set(counts().values()) == {1}, counts()
assert set(counts().values()) == {2}, counts()
print(before, len(counts()))
"""


def test_a_blas_library_loaded_after_the_first_scope_is_scoped_too() -> None:
    """scipy's own OpenBLAS (``scipy.linalg``, ARPACK) loads after numpy's; a scope entered
    after it loads must set it to one thread as well, and restore it."""
    import os
    import subprocess

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    env.pop(_threads.ENV_VAR, None)
    done = subprocess.run(
        [sys.executable, "-c", _LATE_LIBRARY_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    first, last = (int(n) for n in done.stdout.split())
    if last == first:
        pytest.skip("scipy and numpy share one BLAS library here: nothing loads late")
    assert last > first


@pytest.mark.usefixtures("threaded_blas")
def test_recommender_fit_resolves_auto_values_inside_the_scope(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The "auto" resolution and the training share one scope: a threaded BLAS call between
    them (a dot product over the stored entries) left OpenBLAS's threads spinning into the
    training, against its workers."""
    from alsrec import Recommender
    from alsrec.model import training

    seen: list[list[int]] = []
    from alsrec.model.defaults import resolved_confidence as resolve

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(_blas_threads())
        return resolve(*args, **kwargs)

    monkeypatch.setattr(training, "resolved_confidence", spy)
    Recommender(factors=4, iterations=1).fit(_conf())
    assert seen == [[1] * len(seen[0])]
