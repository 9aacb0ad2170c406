"""Apache Spark MLlib ALS as an alsrec training backend (optional: ``alsrec[spark]``).

Nothing here imports :mod:`pyspark` at module level: ``import alsrec`` (and
``import alsrec.backends``) never starts or even loads Spark. pyspark is imported when a
:class:`SparkBackend` trains, when :func:`local_session` starts a session, or when
:mod:`alsrec.spark` is used.

How alsrec's model maps onto Spark's ``ALS(implicitPrefs=True)``
-----------------------------------------------------------------
Spark gives an observed rating ``r`` the confidence ``1 + alpha_s * |r|`` and the
preference ``1`` when ``r > 0`` (``0`` otherwise), and solves every row with the penalty
``regParam * n`` where ``n`` is the row's number of positive ratings (ALS-WR). alsrec's
model (:class:`~alsrec.ALSParams`) uses ``c = 1 + alpha * w`` and by default one constant
``lambda``.

* Confidence. The backend protocol hands over ``c`` itself, so the backend sends the
  rating ``r = c - 1`` with ``alpha_s = 1``; Spark then computes ``1 + (c - 1) = c``
  exactly (it works in double precision). An entry with ``c == 1`` (``alpha = 0``) is
  sent as the smallest positive float32, so that Spark still sees a positive preference
  while ``1 + r`` rounds to exactly ``1``. Spark cannot express a confidence below 1 for
  an observed pair, so such input is refused. :meth:`alsrec.Recommender.fit_spark` sends
  the raw weights ``w`` with ``alpha_s = alpha`` instead, which is the same model.
* Regularization. ``regParam = lambda * (n_user_rows + n_item_rows) / (2 * nnz)``:
  ``lambda`` divided by the mean number of interactions per row over every user and
  item row that has data (see :func:`spark_reg_param`). With it, the total penalty
  weight over all solved rows (``sum_rows regParam * n_row = 2 * nnz * regParam``) equals
  alsrec's (``lambda`` per row). Rows with more interactions than the mean are
  regularized more than with a constant ``lambda``, rows with fewer less: this is
  alsrec's frequency-scaled penalty with ``regularization_exponent=1``,
  ``regularization_scale="count"`` and ``regularization_reference`` = that mean, and the
  fitted model reports exactly these values (:func:`spark_penalty`), so fold-in,
  ``explain`` and ``updated`` solve Spark's objective. Other exponents are refused.
* Solver. Spark always solves each row exactly (Cholesky), like ``solver="cholesky"``;
  ``solver`` and ``cg_steps`` are ignored.
* Progress. Spark returns factors only at the end of a fit, so with a ``callback`` the
  backend refits with 1, 2, ..., ``iterations`` sweeps from the same seed and reports
  each result: ``n (n + 1) / 2`` sweeps instead of ``n``. Pass no callback for real runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from alsrec._penalty import als_wr_share as als_wr_share
from alsrec.exceptions import (
    AlsrecError,
    AlsrecWarning,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    DataError,
)
from alsrec.logs import warn as warn_and_log

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pyspark.sql import DataFrame, SparkSession

    from alsrec.params import ALSParams
    from alsrec.types import FactorMatrix

__all__ = [
    "als_wr_share",
    "local_session",
    "spark_penalty",
    "spark_reg_param",
    "spark_status",
]

MIN_PYSPARK = (4, 0)
"""Oldest pyspark alsrec supports (``DataFrame.toArrow`` and Arrow-based
``createDataFrame`` arrived in 4.0)."""

MIN_JAVA = 17
"""Spark 4 runs on Java 17 or later."""

TINY_RATING = float(np.nextafter(np.float32(0), np.float32(1)))
"""Smallest positive float32: a positive preference whose confidence rounds to 1."""

_CHECKPOINT_WARN_ITERATIONS = 20
"""Without a checkpoint directory, ALS lineage grows each sweep; at about 30 sweeps the
JVM dies of StackOverflowError (measured), so warn well before."""

_INSTALL_HINT = 'install it with: pip install "alsrec[spark]"'


# -- availability ------------------------------------------------------------------------------


def _pyspark_problem() -> str | None:
    """Why pyspark cannot be used here, or ``None``."""
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return "importlib.metadata is missing"
    try:
        found = version("pyspark")
    except PackageNotFoundError:
        return f"pyspark is not installed; {_INSTALL_HINT}"
    parts = tuple(int(p) for p in re.findall(r"\d+", found)[:2])
    if parts < MIN_PYSPARK:
        need = ".".join(map(str, MIN_PYSPARK))
        return f"pyspark {found} is installed but alsrec needs pyspark >= {need}; {_INSTALL_HINT}"
    if importlib.util.find_spec("pyarrow") is None:
        return f"pyarrow (used to move data in and out of Spark) is not installed; {_INSTALL_HINT}"
    return None


def _java_executable() -> str | None:
    """The java that pyspark would launch: ``$JAVA_HOME/bin/java``, else java on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = os.path.join(home, "bin", "java")
        return candidate if os.access(candidate, os.X_OK) else None
    return shutil.which("java")


@functools.lru_cache(maxsize=8)
def _java_version(java: str) -> int | str:
    """The major version of ``java``, or a description of why it does not run."""
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{java} could not be run ({exc})"
    text = done.stderr + done.stdout
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if done.returncode != 0 or match is None:
        return f"{java} -version failed (exit code {done.returncode}): {text.strip()[:200]}"
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0" style
        major = int(match.group(2))
    return major


def _java_problem() -> str | None:
    """Why no usable Java is here, or ``None``; checked before any JVM is started."""
    java = _java_executable()
    if java is None:
        if os.environ.get("JAVA_HOME"):
            return (
                f"JAVA_HOME is {os.environ['JAVA_HOME']!r} but it has no executable bin/java; "
                f"point JAVA_HOME at a Java {MIN_JAVA}+ installation or unset it"
            )
        return (
            f"no java found on PATH and JAVA_HOME is not set; Spark needs Java {MIN_JAVA}+ "
            "(e.g. apt-get install openjdk-17-jre-headless)"
        )
    found = _java_version(java)
    if isinstance(found, str):
        return found
    if found < MIN_JAVA:
        return f"{java} is Java {found} but Spark 4 needs Java {MIN_JAVA}+"
    return None


def spark_status(*, need_java: bool = True) -> str | None:
    """Return why the Spark backend cannot run here, or ``None`` when it can.

    Parameters
    ----------
    need_java : bool, default True
        Also check for Java, which only matters when alsrec has to start a local session
        (a session you pass in already runs its own JVM).

    Examples
    --------
    >>> reason = spark_status()
    >>> reason is None or isinstance(reason, str)
    True
    """
    problem = _pyspark_problem()
    if problem is None and need_java:
        problem = _java_problem()
    return problem


def spark_availability() -> tuple[bool, str]:
    """``(can run, reason)`` for :func:`alsrec.backends.available`: pyspark and Java."""
    problem = spark_status()
    if problem is not None:
        return False, problem
    from importlib.metadata import version

    return True, f"pyspark {version('pyspark')}, Java at {_java_executable()}"


def require_spark(*, need_java: bool) -> None:
    problem = spark_status(need_java=need_java)
    if problem is not None:
        raise BackendUnavailableError(f"The Spark backend cannot run here: {problem}.")


def check_session(spark: object, none_means: str) -> None:
    """Refuse a ``spark`` argument that is neither ``None`` nor a SparkSession (pyspark
    imported); ``none_means`` says what ``None`` gives, for the message."""
    from pyspark.sql import SparkSession

    if spark is not None and not isinstance(spark, SparkSession):
        raise ConfigError(
            f"spark must be a pyspark.sql.SparkSession (or None for {none_means}), got "
            f"{type(spark).__name__}."
        )


# -- error translation -------------------------------------------------------------------------

_OOM_MARKERS = (
    "OutOfMemoryError",
    "Java heap space",
    "GC overhead limit exceeded",
    "Requested array size exceeds VM limit",
    "exceeding memory limits",
)


_RAISED = re.compile(r"[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b.*")
"""The last line of a Python traceback: ``ZeroDivisionError: division by zero``."""


def _first_line(exc: BaseException) -> str:
    """The first line of Spark's message; when that line only announces what follows (a
    Python worker's traceback: "An exception was thrown from the Python worker:"), with
    the exception line of the traceback after it."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    line = lines[0]
    if line.endswith(":") and len(lines) > 1:
        raised = [other for other in lines[1:] if _RAISED.fullmatch(other)]
        line = f"{line} {raised[0] if raised else lines[-1]}"
    return line[:500]


def translate_error(exc: BaseException, doing: str) -> AlsrecError:
    """Turn an exception raised by Spark into the alsrec error that names its cause.

    Returns (does not raise) the new error; callers ``raise translate_error(e, ...) from e``.
    ``doing`` completes "while ..." in the message.
    """
    if isinstance(exc, AlsrecError):
        return exc
    text = str(exc)
    condition = ""
    getter = getattr(exc, "getCondition", None)
    if callable(getter):
        with contextlib.suppress(Exception):
            condition = str(getter() or "")
    module = type(exc).__module__ or ""
    if condition == "JAVA_GATEWAY_EXITED" or "Java gateway process exited" in text:
        return BackendError(
            f"The Spark session failed to start while {doing}: the Java process exited "
            "before it could talk to Python. Check that JAVA_HOME / java on PATH is a working "
            f"Java {MIN_JAVA}+, that spark.driver.memory fits this machine, and read the "
            f"Java output above. Spark said: {_first_line(exc)}"
        )
    if any(marker in text for marker in _OOM_MARKERS):
        return BackendError(
            f"Spark ran out of memory while {doing}. Give Spark more memory "
            "(spark.driver.memory for local sessions, spark.executor.memory on a cluster), "
            "use fewer factors, or score in smaller blocks. Spark said: "
            f"{_first_line(exc)}"
        )
    if condition == "PATH_ALREADY_EXISTS":
        return ConfigError(
            f"The output already exists while {doing}; choose a new path or pass "
            f"mode='overwrite'. Spark said: {_first_line(exc)}"
        )
    if module.startswith("py4j") and type(exc).__name__ != "Py4JJavaError":
        return BackendError(
            f"The Spark JVM stopped responding while {doing} (it may have run out of memory "
            f"or been killed); start a new session. py4j said: {_first_line(exc)}"
        )
    if isinstance(exc, ConnectionError):
        return BackendError(
            f"Lost the connection to the Spark JVM while {doing} (it may have run out of "
            f"memory or been killed); start a new session. Error: {_first_line(exc)}"
        )
    return BackendError(f"Spark failed while {doing}: {_first_line(exc)}")


@contextlib.contextmanager
def spark_errors(doing: str) -> Iterator[None]:
    """Translate any non-alsrec exception raised inside into an alsrec error."""
    try:
        with warnings.catch_warnings():
            # pyspark 4.x warns about pandas >= 3 whenever it touches Arrow; alsrec uses
            # pyarrow only, so the warning says nothing about alsrec's results.
            warnings.filterwarnings(
                "ignore",
                message="PySpark does not yet fully support pandas",
                category=FutureWarning,
            )
            yield
    except (AlsrecError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise translate_error(exc, doing) from exc


# -- sessions ----------------------------------------------------------------------------------


def _local_config(master: str, driver_memory: str, local_dir: str) -> dict[str, str]:
    cores = os.cpu_count() or 1
    return {
        "spark.master": master,
        "spark.app.name": "alsrec",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.memory": driver_memory,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.local.dir": local_dir,
        "spark.sql.shuffle.partitions": str(max(4, 2 * cores)),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }


@contextlib.contextmanager
def _patched_environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables only while the JVM and the context start."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@contextlib.contextmanager
def local_session(
    master: str = "local[*]",
    *,
    driver_memory: str = "2g",
    config: dict[str, str] | None = None,
) -> Iterator[SparkSession]:
    """Start an offline-safe local :class:`~pyspark.sql.SparkSession`; stop it on exit.

    The session listens on 127.0.0.1 only, has no web UI, keeps its scratch files
    (``spark.local.dir``) and ALS checkpoints in a temporary directory that is deleted on
    exit, and runs Python workers with this interpreter. Java is checked *before* the JVM
    is started, so a missing Java raises :class:`~alsrec.BackendUnavailableError` instead
    of Spark's opaque gateway error.

    If a SparkContext is already running in this process, Spark cannot start a second
    one: :class:`~alsrec.ConfigError` is raised (pass that session to alsrec instead).

    Parameters
    ----------
    master : str, default "local[*]"
        A ``local[...]`` master URL.
    driver_memory : str, default "2g"
        JVM heap (``spark.driver.memory``); in local mode the executors share it.
    config : dict, optional
        More Spark settings, applied after alsrec's.

    Raises
    ------
    BackendUnavailableError
        pyspark or Java is missing (or Java is older than 17).
    BackendError
        The session failed to start (Spark's error is chained).

    Examples
    --------
    >>> from alsrec.spark import local_session
    >>> with local_session("local[1]") as spark:  # doctest: +SKIP
    ...     spark.range(3).count()
    3
    """
    if not master.startswith("local"):
        raise ConfigError(
            f"local_session needs a local[...] master, got {master!r}; for a cluster, build "
            "the SparkSession yourself and pass it to alsrec."
        )
    require_spark(need_java=True)
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if SparkContext._active_spark_context is not None:
        raise ConfigError(
            "A SparkContext is already running in this process; Spark allows only one. "
            "Pass its SparkSession to alsrec (spark=...) instead of starting a local one."
        )
    workdir = tempfile.mkdtemp(prefix="alsrec-spark-")
    settings = _local_config(master, driver_memory, os.path.join(workdir, "local"))
    settings.update(config or {})
    session: SparkSession | None = None
    try:
        env = {"SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
        with _patched_environ(env), spark_errors("starting a local Spark session"):
            builder = SparkSession.builder
            for key, value in settings.items():
                builder = builder.config(key, value)
            session = builder.getOrCreate()
            session.sparkContext.setLogLevel("ERROR")
            session.sparkContext.setCheckpointDir(os.path.join(workdir, "checkpoints"))
        yield session
    finally:
        if session is not None:
            with contextlib.suppress(Exception):
                session.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def session_scope(
    spark: SparkSession | None, *, master: str, driver_memory: str
) -> Iterator[tuple[SparkSession, bool]]:
    """Yield ``(session, owned)``: the given or active session, else a new local one."""
    if spark is not None:
        require_spark(need_java=False)
        yield spark, False
        return
    require_spark(need_java=False)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        yield active, False
        return
    with local_session(master, driver_memory=driver_memory) as session:
        yield session, True


_fallback_checkpoints: list[str] = []


def ensure_checkpoint_dir(spark: SparkSession, iterations: int) -> None:
    """Give a session without a checkpoint directory one, so long ALS runs survive.

    A local session gets a temporary directory (removed when Python exits); a cluster
    session needs a shared path, so alsrec only warns there.
    """
    context = spark.sparkContext
    if context.getCheckpointDir() is not None:
        return
    if str(context.master).startswith("local"):
        path = tempfile.mkdtemp(prefix="alsrec-checkpoints-")
        if not _fallback_checkpoints:
            import atexit

            atexit.register(_remove_fallback_checkpoints)
        _fallback_checkpoints.append(path)
        context.setCheckpointDir(path)
    elif iterations >= _CHECKPOINT_WARN_ITERATIONS:
        warn_and_log(
            f"This Spark session has no checkpoint directory; Spark's ALS lineage grows with "
            f"each of the {iterations} iterations and may die of StackOverflowError. Call "
            "spark.sparkContext.setCheckpointDir(<a path every executor can write>) first.",
            AlsrecWarning,
            stacklevel=3,
        )


def _remove_fallback_checkpoints() -> None:
    for path in _fallback_checkpoints:
        shutil.rmtree(path, ignore_errors=True)


# -- the ALS call ------------------------------------------------------------------------------


def spark_reg_param(
    regularization: float, n_interactions: int, n_user_rows: int, n_item_rows: int
) -> float:
    """Spark ``regParam`` equivalent to alsrec's constant ``regularization``.

    Spark multiplies ``regParam`` by each row's number of interactions (ALS-WR); alsrec
    adds the same ``lambda`` to every row. Dividing ``lambda`` by the mean number of
    interactions per row (over every user and item row with data) makes the total
    penalty weight of both models equal: ``regParam * 2 * nnz == lambda * rows``.

    Parameters
    ----------
    regularization : float
        alsrec's ``lambda`` (:attr:`ALSParams.regularization`).
    n_interactions : int
        Distinct (user, item) pairs with data.
    n_user_rows, n_item_rows : int
        Users and items with at least one interaction.

    Examples
    --------
    >>> spark_reg_param(30.0, n_interactions=100_000, n_user_rows=943, n_item_rows=1682)
    0.39375
    """
    if n_interactions <= 0:
        raise DataError("Cannot map regularization for Spark: there are no interactions.")
    mean_count = 2.0 * n_interactions / (n_user_rows + n_item_rows)
    return regularization / mean_count


def spark_penalty(
    params: ALSParams, n_interactions: int, n_user_rows: int, n_item_rows: int
) -> tuple[ALSParams, float]:
    """What Spark trains for ``params``: the hyperparameters that describe it exactly, and
    its ``regParam``.

    Spark's ALS-WR penalizes every row with ``regParam * n`` (``n``: the row's observed
    pairs), which is alsrec's frequency-scaled penalty ``regularization * (n / s_ref) **
    1`` with ``regularization_scale="count"`` and ``regParam = regularization / s_ref``.
    So the model of a Spark fit reports ``regularization_exponent=1``,
    ``regularization_scale="count"`` and ``regularization_reference=s_ref``, and fold-in
    reproduces its rows. ``s_ref`` is the given ``regularization_reference``, or for
    ``"auto"`` (and always for exponent 0) the mean count over every user and item row
    with data, ``2 nnz / (users + items)``, as :func:`spark_reg_param` uses.

    ``regularization_exponent`` 0 (the default: "no scaling asked for") is read as Spark's
    native scaling; 1 with ``regularization_scale="count"`` is that scaling asked for
    explicitly. Anything else raises :class:`~alsrec.ConfigError` naming the numpy backend,
    which trains every exponent and scale.

    Examples
    --------
    >>> from alsrec import ALSParams
    >>> trained, reg_param = spark_penalty(ALSParams(regularization=30.0), 100_000, 943, 1682)
    >>> reg_param, trained.regularization_exponent, trained.regularization_scale
    (0.39375, 1.0, 'count')
    >>> round(trained.regularization_reference, 4)  # 2 * 100000 / (943 + 1682)
    76.1905
    """
    explicit = check_spark_penalty(params)
    if n_interactions <= 0:
        raise DataError("Cannot map regularization for Spark: there are no interactions.")
    reference = params.regularization_reference
    if not explicit or isinstance(reference, str):
        reference = 2.0 * n_interactions / (n_user_rows + n_item_rows)
    reg = params.regularization_value
    trained = dataclasses.replace(
        params,
        regularization_exponent=1.0,
        regularization_scale="count",
        regularization_reference=reference,
    )
    return trained, reg / reference


def check_spark_penalty(params: ALSParams) -> bool:
    """Raise :class:`~alsrec.ConfigError` for a penalty Spark cannot train (see
    :func:`spark_penalty`); return whether ALS-WR was asked for explicitly."""
    exponent, scale = params.regularization_exponent, params.regularization_scale
    explicit = exponent == 1.0 and scale == "count"
    if exponent != 0.0 and not explicit:
        raise ConfigError(
            f"Spark trains ALS-WR only (regularization_exponent=1 with "
            f"regularization_scale='count'), not regularization_exponent={exponent:g} with "
            f"regularization_scale={scale!r}. Use backend='numpy' (Recommender(backend="
            "'numpy')), which trains every exponent and scale, or leave "
            "regularization_exponent at 0 for Spark's own scaling."
        )
    return explicit


def training_seed(params: ALSParams) -> int:
    """The seed of a Spark training: ``params.random_state``, or a random one if ``None``."""
    if params.random_state is not None:
        return int(params.random_state)
    return int(np.random.default_rng().integers(0, 2**31 - 1))


def _default_blocks(spark: SparkSession) -> int:
    try:
        return max(1, int(spark.sparkContext.defaultParallelism))
    except Exception:  # pragma: no cover - e.g. Spark Connect has no SparkContext
        return 10


def _scatter(table: Any, rows: int, factors: int) -> FactorMatrix:
    """Place Spark's ``(id, features)`` rows into a zero ``(rows, factors)`` matrix."""
    out = np.zeros((rows, factors), dtype=np.float32)
    if table.num_rows == 0:
        return out
    ids = np.asarray(table.column("id").to_numpy(), dtype=np.int64)
    features = table.column("features").combine_chunks()
    values = np.asarray(features.flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
    if values.size != ids.size * factors or (ids.size and (ids.min() < 0 or ids.max() >= rows)):
        raise BackendError(
            f"Spark returned {ids.size} factor rows of unexpected shape or ids outside "
            f"0..{rows - 1}; the ALS output does not match its input."
        )
    out[ids] = values.reshape(ids.size, factors)
    return out


def train_als(
    spark: SparkSession,
    ratings: DataFrame,
    *,
    n_users: int,
    n_items: int,
    params: ALSParams,
    alpha: float,
    reg_param: float,
    num_blocks: int | None,
    user_col: str = "user",
    item_col: str = "item",
    rating_col: str = "rating",
) -> tuple[FactorMatrix, FactorMatrix]:
    """Fit Spark's implicit ALS on an int32-indexed ratings frame; return dense factors.

    Users ``0..n_users-1`` and items ``0..n_items-1``; indices without ratings get zero
    factors, as in every alsrec backend.
    """
    from pyspark.ml.recommendation import ALS

    ensure_checkpoint_dir(spark, params.iterations)
    blocks = num_blocks if num_blocks is not None else _default_blocks(spark)
    als = ALS(
        rank=params.factors,
        maxIter=params.iterations,
        regParam=reg_param,
        implicitPrefs=True,
        alpha=alpha,
        userCol=user_col,
        itemCol=item_col,
        ratingCol=rating_col,
        nonnegative=False,
        numUserBlocks=blocks,
        numItemBlocks=blocks,
        checkpointInterval=10,
        seed=training_seed(params),
    )
    with spark_errors("training Spark ALS"):
        model = als.fit(ratings)
    with spark_errors("collecting the factors from Spark"):
        users = _scatter(model.userFactors.toArrow(), n_users, params.factors)
        items = _scatter(model.itemFactors.toArrow(), n_items, params.factors)
    return users, items
