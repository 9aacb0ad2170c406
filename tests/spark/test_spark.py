"""The Spark backend, ``Recommender.fit_spark`` and ``alsrec.spark.recommend_all``.

All tests that need a JVM share one local session (``spark`` fixture, started on first
use, about 6-10 s). They skip, with the reason, only where pyspark or Java is absent;
the tests that need neither run everywhere.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from alsrec import (
    ALSParams,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    DataError,
    IdTypeError,
    Interactions,
    Recommender,
    UnreadColumnWarning,
)
from alsrec.backends import available, get_backend
from alsrec.datasets import synthetic
from alsrec.evaluation import holdout_split, ndcg_at_k
from alsrec.model.defaults import resolve_params
from alsrec.spark import engine as spark_backend
from alsrec.spark.backend import SparkBackend, confidence_to_ratings
from alsrec.spark.engine import (
    als_wr_share,
    spark_errors,
    spark_reg_param,
    spark_status,
    translate_error,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pyspark.sql import DataFrame, SparkSession

SRC = str(Path(__file__).resolve().parents[2] / "src")
_UNAVAILABLE = spark_status()
needs_spark = pytest.mark.skipif(
    _UNAVAILABLE is not None, reason=f"Spark cannot run here: {_UNAVAILABLE}"
)


@pytest.fixture(scope="module")  # stopped before other modules (docs examples) start their own
def spark() -> Iterator[SparkSession]:
    """One local[2] session, loopback only, small heap, temporary dirs; for every test."""
    if _UNAVAILABLE is not None:
        pytest.skip(f"Spark cannot run here: {_UNAVAILABLE}")
    from alsrec.spark import local_session

    with local_session("local[2]", driver_memory="1g") as session:
        workdir = Path(str(session.conf.get("spark.local.dir"))).parent
        yield session
    # local_session must stop its session and delete its scratch and checkpoint files.
    from pyspark import SparkContext

    assert SparkContext._active_spark_context is None
    assert not workdir.exists()


def _frame(spark: SparkSession, columns: dict[str, Any]) -> DataFrame:
    import pyarrow as pa

    return spark.createDataFrame(pa.table(columns))


def _expected_user_factors(
    item_factors: np.ndarray, weights: sp.csr_matrix, alpha: float, reg_param: float
) -> np.ndarray:
    """Spark's last half-sweep, recomputed in numpy: each user's exact ALS-WR solve.

    Spark solves items, then users, in every iteration, so its final user factors are
    the exact solution given its final item factors, with confidence ``1 + alpha * w``
    and penalty ``reg_param * n_u``. Comparing with that checks the confidence and
    regularization mapping, not just "some model came out".
    """
    y = item_factors.astype(np.float64)
    gram = y.T @ y
    out = np.zeros((weights.shape[0], y.shape[1]))
    for u in range(weights.shape[0]):
        cols = weights.indices[weights.indptr[u] : weights.indptr[u + 1]]
        if cols.size == 0:
            continue
        conf = 1.0 + alpha * weights.data[weights.indptr[u] : weights.indptr[u + 1]]
        yu = y[cols]
        lhs = gram + (yu.T * (conf - 1.0)) @ yu + reg_param * cols.size * np.eye(y.shape[1])
        out[u] = np.linalg.solve(lhs, yu.T @ conf)
    return out


# -- without a JVM -----------------------------------------------------------------------------


def test_importing_alsrec_never_imports_pyspark() -> None:
    code = (
        "import sys, alsrec, alsrec.backends, alsrec.spark\n"
        "alsrec.backends.available()\n"
        "assert 'pyspark' not in sys.modules, 'pyspark was imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_reg_param_makes_the_total_penalty_equal() -> None:
    # 3 users and 2 items with data, 4 interactions: mean count per row 8 / 5.
    reg = spark_reg_param(2.0, n_interactions=4, n_user_rows=3, n_item_rows=2)
    assert reg == pytest.approx(2.0 * 5 / 8)
    # Spark's total penalty weight (reg * count summed over rows) equals alsrec's.
    assert reg * (2 * 4) == pytest.approx(2.0 * (3 + 2))
    with pytest.raises(DataError, match="no interactions"):
        spark_reg_param(1.0, 0, 0, 0)


def test_confidence_becomes_a_positive_rating_with_the_same_confidence() -> None:
    conf = np.array([1.0, 1.5, 3.0, 101.0], dtype=np.float32)
    ratings = confidence_to_ratings(conf)
    assert np.all(ratings > 0)  # Spark's preference is 1 only for ratings > 0
    # Spark computes 1 + alpha * |r| in double with alpha = 1.
    assert np.array_equal(1.0 + ratings.astype(np.float64), conf.astype(np.float64))
    with pytest.raises(DataError, match="below 1"):
        confidence_to_ratings(np.array([2.0, 0.5], dtype=np.float32))
    with pytest.raises(DataError, match="NaN or inf"):
        confidence_to_ratings(np.array([2.0, np.nan], dtype=np.float32))


def _fake_java(tmp_path: Path, version: str, runs: bool) -> Path:
    home = tmp_path / f"jdk-{version}"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    body = f"echo 'openjdk version \"{version}\" 2024-01-01' >&2; exit 0"
    java.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-version" ]; then {body}; fi\n'
        + ("exec java-that-does-not-exist\n" if not runs else "exit 0\n")
    )
    java.chmod(0o755)
    return home


def test_missing_or_old_java_is_reported_before_any_jvm_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if spark_backend._pyspark_problem() is not None:
        pytest.skip(f"pyspark is absent: {spark_backend._pyspark_problem()}")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-such-jdk"))
    with pytest.raises(BackendUnavailableError, match="JAVA_HOME"):
        SparkBackend()
    with pytest.raises(BackendUnavailableError, match="JAVA_HOME"):
        get_backend("spark")
    status = {s.name: s for s in available()}
    assert not status["spark"].available and "JAVA_HOME" in status["spark"].reason
    assert status["numpy"].available and status["auto"].available

    monkeypatch.delenv("JAVA_HOME")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackendUnavailableError, match="no java found on PATH"):
        Recommender(factors=2, backend="spark").fit(["a", "b"], ["x", "y"])

    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path, "11.0.2", runs=True)))
    with pytest.raises(BackendUnavailableError, match="Java 11 but Spark 4 needs Java 17"):
        SparkBackend()


def test_missing_pyspark_is_reported_by_every_entry_point(
    monkeypatch: pytest.MonkeyPatch, fitted: Recommender
) -> None:
    from alsrec.spark import recommend_all

    missing = 'pyspark is not installed; install it with: pip install "alsrec[spark]"'
    monkeypatch.setattr(spark_backend, "_pyspark_problem", lambda: missing)
    no_session: Any = None
    for call in (
        lambda: SparkBackend(),
        lambda: Recommender.fit_spark(no_session, "u", "i"),
        lambda: recommend_all(fitted, no_session, output="unused"),
    ):
        with pytest.raises(BackendUnavailableError, match=r"alsrec\[spark\]"):
            call()


def test_a_session_that_fails_to_start_names_the_cause(tmp_path: Path) -> None:
    if spark_backend._pyspark_problem() is not None:
        pytest.skip(f"pyspark is absent: {spark_backend._pyspark_problem()}")
    # A java that claims version 17 but cannot run Spark: the JVM really is launched
    # (in a fresh interpreter, so this process's session is untouched) and dies.
    home = _fake_java(tmp_path, "17.0.9", runs=False)
    code = textwrap.dedent(
        """
        from alsrec import BackendError
        from alsrec.spark import local_session
        try:
            with local_session("local[1]"):
                raise SystemExit("the session started")
        except BackendError as exc:
            assert "failed to start" in str(exc), exc
            assert exc.__cause__ is not None
            print("translated:", type(exc.__cause__).__name__)
        """
    )
    env = {**os.environ, "PYTHONPATH": SRC, "JAVA_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "translated: PySparkRuntimeError" in done.stdout


def test_error_translation_names_the_cause() -> None:
    oom = RuntimeError("Job aborted: java.lang.OutOfMemoryError: Java heap space")
    assert "ran out of memory" in str(translate_error(oom, "training"))
    lost = ConnectionRefusedError("[Errno 111] Connection refused")
    assert "Lost the connection to the Spark JVM" in str(translate_error(lost, "training"))
    other = translate_error(ValueError("bad thing"), "training")
    assert isinstance(other, BackendError) and "Spark failed while training" in str(other)
    # a Python worker's failure: the announcing line alone ended in a colon, saying nothing
    worker = RuntimeError(
        "An exception was thrown from the Python worker:\nTraceback (most recent call last):"
        '\n  File "udf.py", line 1, in <lambda>\nZeroDivisionError: division by zero\n\n'
        "  JVM stacktrace:\norg.apache.spark.SparkException: Job aborted\n\tat org.x.y"
    )
    told = str(translate_error(worker, "validating the interactions"))
    assert "Python worker: ZeroDivisionError: division by zero" in told
    with pytest.raises(BackendError) as info, spark_errors("doing X"):
        raise RuntimeError("GC overhead limit exceeded")
    assert isinstance(info.value.__cause__, RuntimeError)
    if spark_backend._pyspark_problem() is None:
        network_error = importlib.import_module("py4j.protocol").Py4JNetworkError
        gone = translate_error(network_error("Answer from Java side is empty"), "training")
        assert "stopped responding" in str(gone)


# -- with the shared session -------------------------------------------------------------------


@needs_spark
def test_local_session_is_offline_safe(spark: SparkSession) -> None:
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert conf.get("spark.driver.host") == "127.0.0.1"
    assert conf.get("spark.ui.enabled") == "false"
    assert Path(str(conf.get("spark.local.dir"))).name == "local"
    checkpoints = spark.sparkContext.getCheckpointDir()
    assert checkpoints is not None and "alsrec-spark-" in checkpoints
    from alsrec.spark import local_session

    with pytest.raises(ConfigError, match="already running"), local_session():
        pass


@needs_spark
@pytest.mark.parametrize("alpha", [2.0, 0.0])
def test_backend_trains_alsrecs_model(spark: SparkSession, alpha: float) -> None:
    rng = np.random.default_rng(5)
    users = rng.integers(0, 40, 400)
    items = rng.integers(0, 25, 400)
    weights = rng.integers(1, 5, 400).astype(np.float32)
    data = Interactions.from_arrays(users, items, weights)
    rec = Recommender(
        factors=4,
        regularization=3.0,
        alpha=alpha,
        iterations=4,
        random_state=1,
        backend=SparkBackend(spark, num_blocks=2),
    ).fit(data)
    assert rec.backend_ == "spark"
    matrix = data.matrix
    reg = spark_reg_param(3.0, matrix.nnz, matrix.shape[0], matrix.shape[1])
    expected = _expected_user_factors(rec.item_factors_, matrix, alpha, reg)
    np.testing.assert_allclose(rec.user_factors_, expected, rtol=1e-3, atol=1e-5)
    # The given session is still alive: alsrec never stops a session it did not start.
    assert spark.range(3).count() == 3


@needs_spark
def test_backend_without_a_session_uses_the_active_one_or_starts_its_own(
    spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = sp.csr_matrix(np.array([[2.0, 0.0, 3.0], [0.0, 2.0, 2.0]], dtype=np.float32))
    params = ALSParams(factors=2, regularization=0.1, iterations=1, random_state=0)
    users, items = SparkBackend().fit(conf, params)  # the active session: the fixture's
    assert users.shape == (2, 2) and items.shape == (3, 2)
    assert spark.range(1).count() == 1

    from pyspark.sql import SparkSession

    events: list[str] = []

    class _Owned:
        def __init__(self, master: str, *, driver_memory: str) -> None:
            events.append(f"start {master} {driver_memory}")

        def __enter__(self) -> SparkSession:
            return spark

        def __exit__(self, *exc: object) -> None:
            events.append("stop")

    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.setattr(spark_backend, "local_session", _Owned)
    params = ALSParams(factors=2, regularization=0.1, iterations=1, num_threads=1)
    SparkBackend(driver_memory="1g").fit(conf, params)
    assert events == ["start local[1] 1g", "stop"]


@needs_spark
def test_ndcg_matches_the_numpy_backend_with_matched_settings(spark: SparkSession) -> None:
    data = synthetic(n_users=600, n_items=150, n_clusters=6, random_state=0)
    train, test = holdout_split(
        Interactions.from_arrays(data.user_ids, data.item_ids, data.weights), 0.2
    )

    # Tune lambda for the numpy backend, then hand the same settings to Spark.
    def model(lam: float, backend: str | SparkBackend = "numpy") -> Recommender:
        return Recommender(
            factors=16, regularization=lam, iterations=10, random_state=0, backend=backend
        )

    scores = {lam: ndcg_at_k(model(lam).fit(train), test) for lam in (5.0, 10.0, 20.0, 30.0)}
    best = max(scores, key=scores.__getitem__)
    spark_ndcg = ndcg_at_k(model(best, SparkBackend(spark)).fit(train), test)
    assert spark_ndcg == pytest.approx(scores[best], rel=0.03)


@needs_spark
def test_fit_spark_maps_ids_on_the_cluster(spark: SparkSession) -> None:
    big = 2**40  # int64 IDs outside Spark's int32 range
    users = np.array([big + 7, big + 7, big + 3, big + 3, big + 9, 5, 5, big + 7], dtype=np.int64)
    items = np.array(["tea", "cup", "tea", "pot", "cup", "pot", "tea", "tea"])
    weights = np.array([1.0, 2.0, 1.0, 1.0, 3.0, 1.0, 2.0, 4.0])
    df = _frame(spark, {"uid": users, "iid": items, "n": weights})
    params = ALSParams(factors=3, regularization=0.5, alpha=2.0, iterations=3, random_state=0)
    rec = Recommender.fit_spark(df, user="uid", item="iid", weight="n", params=params)
    assert rec.backend_ == "spark"
    assert rec.users_.ids.tolist() == [5, big + 3, big + 7, big + 9]  # sorted
    assert rec.items_.ids.tolist() == ["cup", "pot", "tea"]
    seen = rec.seen_
    assert seen is not None
    u, t = rec.users_.index_of(big + 7), rec.items_.index_of("tea")
    assert seen[u, t] == pytest.approx(5.0)  # duplicate rows (1 + 4) summed
    assert seen.nnz == 7
    reg = spark_reg_param(0.5, seen.nnz, 4, 3)
    expected = _expected_user_factors(rec.item_factors_, seen, 2.0, reg)
    np.testing.assert_allclose(rec.user_factors_, expected, rtol=1e-3, atol=1e-5)
    assert [i for i, _ in rec.recommend(big + 3, n=5)] == ["cup"]  # seen items excluded

    with pytest.warns(UnreadColumnWarning, match=r"\['n'\] were not read"):
        lean = Recommender.fit_spark(df, "uid", "iid", params=params, keep_seen=False)
    assert lean.seen_ is None
    assert lean.users_ == rec.users_
    assert len(lean.recommend(big + 3, n=5)) == 3  # nothing to exclude


@needs_spark
def test_fit_spark_gives_flat_popularity_the_flat_multiple(spark: SparkSession) -> None:
    # Items about equally popular: the Gini of the item masses (brought to the driver
    # anyway) selects the flat multiple, which makes the spectral one irrelevant, so the
    # cluster's value equals the local rule's exactly.
    from alsrec.model.defaults import FLAT_SCALE, auto_multiple, auto_regularization
    from alsrec.model.defaults import params_confidence as local_confidence

    raw = synthetic(
        300, 200, n_clusters=4, mean_interactions=8, random_state=2, popularity_exponent=0.1
    )
    pairs = sorted(set(zip(raw.user_ids.tolist(), raw.item_ids.tolist(), strict=True)))
    users = np.array([u for u, _ in pairs])
    items = np.array([i for _, i in pairs])
    data = Interactions.from_arrays(users, items, None)  # one pair each: weight 1
    df = _frame(spark, {"u": users, "i": items})
    params = ALSParams(factors=2, alpha=1.0, iterations=1)
    rec = Recommender.fit_spark(df, "u", "i", params=params, keep_seen=False)
    conf = local_confidence(data.matrix, params)
    assert auto_multiple(conf) == pytest.approx(FLAT_SCALE)  # binary at alpha 1: level 2
    share = als_wr_share(np.diff(conf.indptr), np.bincount(conf.indices))
    expected = auto_regularization(conf) * share
    assert rec.params_.regularization == pytest.approx(expected, rel=1e-9)


@needs_spark
def test_fit_spark_resolves_auto_on_the_cluster(spark: SparkSession) -> None:
    users = np.array(["a", "a", "b", "b", "c", "c", "a", "a"])
    items = np.array(["x", "y", "x", "z", "y", "z", "x", "z"])
    weights = np.array([1.0, 2.0, 1.0, 1.0, 3.0, 1.0, 4.0, 1.0])
    df = _frame(spark, {"u": users, "i": items, "w": weights})
    params = ALSParams(factors=2, alpha=2.0, iterations=2)  # regularization="auto"
    rec = Recommender.fit_spark(df, "u", "i", "w", params=params, keep_seen=False)
    # The rule from its definition, on the summed pairs (a-x: 1 + 4).
    dense = np.array([[5.0, 2.0, 1.0], [1.0, 0.0, 1.0], [0.0, 3.0, 1.0]])
    conf = np.where(dense > 0, 1.0 + 2.0 * dense, 0.0)
    d_u, d_i, total = conf.sum(axis=1), conf.sum(axis=0), conf.sum()
    c = conf[conf > 0]
    level = c.mean() ** 3 / (c**2).mean()  # the confidence level, (level / 2) ** 0.2
    expected = 0.8 * (level / 2) ** 0.2
    expected *= np.sqrt((d_u**2).sum() / total) + np.sqrt((d_i**2).sum() / total)
    # ALS-WR's share: the mean count over rows, 2 * 7 pairs / (3 + 3), against the
    # count-weighted mean counts of users (3, 2, 2) and items (2, 2, 3): 17 / 7 each
    expected *= (14 / 6) / (17 / 7)
    assert rec.params_.regularization == pytest.approx(expected, rel=1e-6)
    assert rec.model_.provenance.auto_params == ("regularization", "regularization_reference")
    assert rec.params.regularization == "auto"
    # Spark trained ALS-WR, and the model says so: regParam * n = lambda * (n / s_ref)
    # with s_ref the mean count over users and items, 2 * 7 pairs / (3 + 3).
    trained = rec.params_
    assert (trained.regularization_exponent, trained.regularization_scale) == (1.0, "count")
    assert trained.regularization_reference == pytest.approx(14 / 6)
    assert rec.recommend_for_history(["x", "y"], n=1).source == "fold-in"  # no seen needed


@needs_spark
@pytest.mark.parametrize(("factor", "expected"), [(1.0, 2.0), (1000.0, 10.0 / 1500.0)])
def test_fit_spark_resolves_alpha_on_the_cluster_as_fit_does(
    spark: SparkSession, factor: float, expected: float
) -> None:
    # 200 users x 200 items, two pairs per user (weights 1 and 2): 1% observed, mean
    # weight 1.5, so alpha="auto" is 0.03 * 40,000 / 600 = 2 (the rule of a local fit).
    # In another unit (x1000, mean 1500) the weights are read at mean 10, where the rule
    # gives its floor of 1: alpha 10 / 1500.
    index = np.arange(200)
    users = np.repeat(index, 2).astype(str)
    items = np.stack([index, (index + 7) % 200], axis=1).ravel().astype(str)
    weights = np.tile([1.0, 2.0], 200) * factor
    df = _frame(spark, {"u": users, "i": items, "w": weights})
    params = ALSParams(factors=2, iterations=2, random_state=0)
    rec = Recommender.fit_spark(df, "u", "i", "w", params=params, keep_seen=False)
    assert rec.params.alpha == "auto"
    assert rec.params_.alpha == pytest.approx(expected)
    assert rec.model_.provenance.auto_params[:2] == ("alpha", "regularization")
    local = Recommender(factors=2, iterations=2).fit(users, items, weights)
    assert local.params_.alpha == pytest.approx(rec.params_.alpha)


@needs_spark
def test_fit_spark_with_seen_pairs_resolves_auto_as_a_local_fit_does(spark: SparkSession) -> None:
    # keep_seen brings the triples to the driver anyway; collected before training, they
    # give "auto" the whole rule (the spectrum too), so both backends agree on the data.
    # (data whose whole rule and mass-only rule differ by about 10%)
    raw = synthetic(400, 300, n_clusters=12, mean_interactions=12, random_state=6)
    df = _frame(spark, {"u": raw.user_ids, "i": raw.item_ids, "w": raw.weights})
    params = ALSParams(factors=2, iterations=1, random_state=0)
    rec = Recommender.fit_spark(df, "u", "i", "w", params=params)
    # The local rule on the same matrix, rows and columns in the sorted ID order that
    # fit_spark numbers them in (its randomized SVD reads the matrix in that order).
    _, rows = np.unique(raw.user_ids, return_inverse=True)
    _, cols = np.unique(raw.item_ids, return_inverse=True)
    matrix = sp.csr_matrix((raw.weights, (rows, cols)), dtype=np.float32)
    local, _ = resolve_params(params, matrix)
    share = als_wr_share(np.diff(matrix.indptr), np.bincount(matrix.indices))
    assert 0.2 < share < 1.0  # Spark's ALS-WR takes a share of the constant-penalty value
    assert rec.params_.alpha == pytest.approx(local.alpha_value, rel=1e-9)
    expected = local.regularization_value * share
    assert rec.params_.regularization == pytest.approx(expected, rel=1e-6)
    assert rec.model_.provenance.auto_params == (
        "alpha",
        "regularization",
        "regularization_reference",
    )
    # Without the triples the cluster's mass-only rule applies, which differs here.
    lean = Recommender.fit_spark(df, "u", "i", "w", params=params, keep_seen=False)
    assert lean.params_.alpha == pytest.approx(rec.params_.alpha)
    gap = lean.params_.regularization_value / rec.params_.regularization_value
    assert abs(gap - 1.0) > 0.05


@needs_spark
def test_fit_spark_refuses_a_weighting_it_would_not_train_with(spark: SparkSession) -> None:
    # fit_spark sends the column as given: a model that said weighting='log' and folded in
    # with it had factors trained on the linear weights.
    df = _frame(spark, {"u": np.array(["a", "b"]), "i": np.array(["x", "y"]), "w": [1.0, 3.0]})
    with pytest.raises(ConfigError, match=r"weighting='log'.*SparkBackend"):
        Recommender.fit_spark(df, "u", "i", "w", params=ALSParams(factors=2, weighting="log"))


@needs_spark
def test_fit_spark_reads_dotted_column_names_and_checks_num_blocks(spark: SparkSession) -> None:
    # A dot is a struct-field path in Spark's column syntax: 'user.id' raised a raw
    # AnalysisException. num_blocks=0 failed as "Spark failed" after the work on the cluster.
    df = _frame(spark, {"user.id": np.array(["a", "b", "a"]), "item": np.array(["x", "y", "y"])})
    params = ALSParams(factors=2, iterations=2, random_state=0)
    rec = Recommender.fit_spark(df, "user.id", "item", params=params)
    assert sorted(rec.users_.ids.tolist()) == ["a", "b"]
    with pytest.raises(ConfigError, match="num_blocks must be >= 1, got 0"):
        Recommender.fit_spark(df, "user.id", "item", params=params, num_blocks=0)


@needs_spark
def test_fit_spark_refuses_what_float32_and_id_arrays_cannot_hold(spark: SparkSession) -> None:
    # Spark trains on float32 (1e39 is infinite there, 1e-46 is 0: a row silently lost);
    # a str ID ending in NUL cannot be stored, one over 1,024 characters is refused by fit.
    users, items = np.array(["a", "b"]), np.array(["x", "y"])
    for weight in (1e39, 1e-46):
        df = _frame(spark, {"u": users, "i": items, "w": [1.0, weight]})
        with pytest.raises(DataError, match="1 of 2 rows have a weight outside float32's range"):
            Recommender.fit_spark(df, "u", "i", "w")
    for bad in ("b\x00", "b" * 1_025):
        df = _frame(spark, {"u": ["a", bad], "i": items})  # a list: numpy drops the NUL
        with pytest.raises(DataError, match="user ID longer than 1,024 characters or ending"):
            Recommender.fit_spark(df, "u", "i")


@needs_spark
def test_spark_refuses_other_exponents_before_training(spark: SparkSession) -> None:
    df = _frame(spark, {"u": np.array(["a", "b"]), "i": np.array(["x", "y"])})
    params = ALSParams(factors=2, regularization_exponent=0.5)
    with pytest.raises(ConfigError, match="backend='numpy'"):
        Recommender.fit_spark(df, "u", "i", params=params)
    rec = Recommender(factors=2, regularization_exponent=0.5, backend=SparkBackend(spark))
    with pytest.raises(ConfigError, match=r"regularization_exponent=0\.5"):
        rec.fit(["a", "b"], ["x", "y"])


@needs_spark
@pytest.mark.parametrize(
    ("columns", "kwargs", "error", "match"),
    [
        ({"u": ["a", None], "i": ["x", "y"]}, {}, DataError, "null user ID"),
        ({"u": ["a", ""], "i": ["x", "y"]}, {}, DataError, "empty-string user ID"),
        ({"u": ["a", "b"], "i": ["x", "y"], "w": [1.0, 0.0]}, {"weight": "w"}, DataError, "<= 0"),
        ({"u": ["a", "b"], "i": ["x", "y"], "w": [1.0, np.nan]}, {"weight": "w"}, DataError, "NaN"),
        ({"u": [1.5, 2.5], "i": ["x", "y"]}, {}, IdTypeError, "string or integer"),
        ({"u": ["a"], "i": ["x"]}, {"weight": "nope"}, ConfigError, "'nope' is not in"),
    ],
)
def test_fit_spark_rejects_bad_rows(
    spark: SparkSession,
    columns: dict[str, Any],
    kwargs: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    import pyarrow as pa

    table = pa.table({k: pa.array(v) for k, v in columns.items()})
    with pytest.raises(error, match=match):
        Recommender.fit_spark(spark.createDataFrame(table), "u", "i", **kwargs)


@needs_spark
@pytest.mark.parametrize("blocks", [{}, {"user_block_rows": 16, "item_block_rows": 7}])
def test_recommend_all_matches_recommend_many(
    spark: SparkSession, fitted: Recommender, tmp_path: Path, blocks: dict[str, Any]
) -> None:
    from alsrec.spark import recommend_all

    # A saved artifact works like the model itself (here with several item blocks).
    model: Recommender | Path = fitted.save(tmp_path / "model") if blocks else fitted
    out = recommend_all(model, spark, n=5, output=tmp_path / "recs", **blocks)
    table = spark.read.parquet(out).toArrow().to_pylist()
    got: dict[str, list[tuple[str, float, int]]] = {}
    for row in table:
        got.setdefault(row["user_id"], []).append((row["item_id"], row["score"], row["rank"]))
    users = fitted.users_.ids
    assert sorted(got) == sorted(users.tolist())
    batch = fitted.recommend_many(users, n=5)
    seen = fitted.seen_
    assert seen is not None
    for k, user in enumerate(users.tolist()):
        rows = sorted(got[user], key=lambda r: r[2])
        assert [r[2] for r in rows] == list(range(1, len(rows) + 1))
        assert [r[0] for r in rows] == batch.ids[k][batch.mask[k]].tolist()
        np.testing.assert_allclose([r[1] for r in rows], batch.scores[k][batch.mask[k]], rtol=1e-5)
        own = set(fitted.items_.ids[seen.indices[seen.indptr[k] : seen.indptr[k + 1]]].tolist())
        assert own.isdisjoint(r[0] for r in rows)
    with pytest.raises(ConfigError, match="already exists"):
        recommend_all(fitted, spark, n=5, output=out)


def test_recommend_all_refuses_what_it_cannot_do(fitted: Recommender) -> None:
    from alsrec.spark import recommend_all

    unseen = Recommender.from_factors(
        fitted.user_factors_, fitted.item_factors_, fitted.users_, fitted.items_
    )
    fake_session: Any = object()
    with pytest.raises(ConfigError, match="exclude_seen=False"):
        recommend_all(unseen, fake_session, output="unused")
    with pytest.raises(ConfigError, match="n must be >= 1"):
        recommend_all(fitted, fake_session, n=0, output="unused")
    with pytest.raises(
        ConfigError, match="needs a fitted Recommender, a FittedModel or an artifact path"
    ):
        recommend_all(42, fake_session, output="unused")  # type: ignore[arg-type]


@needs_spark
def test_fit_spark_refuses_a_local_frame_a_bad_session_and_a_shared_column(
    spark: SparkSession,
) -> None:
    local = pd.DataFrame({"u": ["a", "b"], "i": ["x", "y"]})
    with pytest.raises(
        ConfigError, match=r"pyspark.sql.DataFrame, got pandas.*Recommender\(\).fit"
    ):
        Recommender.fit_spark(local, "u", "i")  # type: ignore[arg-type,unused-ignore]
    with pytest.raises(ConfigError, match=r"got builtins\.NoneType"):
        Recommender.fit_spark(None, "u", "i")  # type: ignore[arg-type]
    df = _frame(spark, {"u": np.array([1, 2]), "i": np.array([3, 4])})
    with pytest.raises(ConfigError, match=r"spark must be a pyspark\.sql\.SparkSession"):
        Recommender.fit_spark(df, "u", "i", spark="local")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="user= and weight= both name the column 'u'"):
        Recommender.fit_spark(df, "u", "i", "u")


@needs_spark
def test_fit_spark_says_when_a_numeric_column_is_left_unread(spark: SparkSession) -> None:
    df = _frame(
        spark,
        {"u": np.array(["a", "b"]), "i": np.array(["x", "y"]), "rating": [4.0, 5.0], "ts": [1, 2]},
    )
    params = ALSParams(factors=2, iterations=1)
    with pytest.warns(UnreadColumnWarning, match=r"fit_spark: no weight column.*\['rating'\]"):
        Recommender.fit_spark(df, "u", "i", params=params)  # 'ts' is a time, not a weight


@needs_spark
def test_serving_and_backend_arguments_of_the_wrong_type_are_named(spark: SparkSession) -> None:
    with pytest.raises(ConfigError, match=r"spark must be a pyspark\.sql\.SparkSession"):
        SparkBackend("local")  # type: ignore[arg-type]
    from alsrec.spark import recommend_all

    rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    with pytest.raises(ConfigError, match="output must be a path"):
        recommend_all(rec, spark, n=1, output=123, exclude_seen=False)  # type: ignore[arg-type]
