"""The ``"spark"`` training backend: Spark MLlib's implicit ALS behind :class:`Backend`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from alsrec._penalty import matrix_wr_share
from alsrec.checks import check_int
from alsrec.exceptions import DataError
from alsrec.spark.engine import (
    TINY_RATING,
    check_session,
    require_spark,
    session_scope,
    spark_errors,
    spark_penalty,
    train_als,
    training_seed,
)

if TYPE_CHECKING:
    import scipy.sparse as sp
    from pyspark.sql import SparkSession

    from alsrec.backends import ProgressCallback
    from alsrec.params import ALSParams
    from alsrec.types import FactorMatrix

__all__ = ["SparkBackend", "confidence_to_ratings"]


def confidence_to_ratings(
    data: npt.NDArray[np.floating[Any]],
) -> npt.NDArray[np.float32]:
    """Ratings ``r`` for Spark with ``alpha = 1`` such that ``1 + r == c`` and ``r > 0``.

    Examples
    --------
    >>> confidence_to_ratings(np.array([3.0, 1.0], dtype=np.float32))[0]
    np.float32(2.0)
    """
    conf = np.asarray(data, dtype=np.float32)
    if conf.size and not np.all(np.isfinite(conf)):
        raise DataError("The confidence matrix contains NaN or inf values.")
    low = np.flatnonzero(conf < 1)
    if low.size:
        raise DataError(
            f"{low.size} confidence value(s) are below 1 (first: {float(conf[low[0]])!r}); "
            "Spark's implicit ALS cannot give an observed pair less confidence than an "
            "unobserved one. Use weights >= 0 with c = 1 + alpha * w, or another backend."
        )
    ratings: npt.NDArray[np.float32] = conf - np.float32(1)
    ratings[ratings <= 0] = np.float32(TINY_RATING)
    return ratings


class SparkBackend:
    """Train with Apache Spark MLlib's ALS (``implicitPrefs=True``); optional extra.

    The confidence matrix is sent to Spark as ``(user, item, c - 1)`` ratings with
    ``alpha = 1`` and ``regParam`` from :func:`spark_reg_param`, so the model is alsrec's
    (see the module notes for the exact mapping). To train on data that is already in
    Spark, without collecting it, use :meth:`alsrec.Recommender.fit_spark`.

    Parameters
    ----------
    spark : SparkSession, optional
        The session to train on; it is never stopped by alsrec. Without one, the active
        session of this process is used if there is one, otherwise a local session is
        started for each :meth:`fit` (see :func:`local_session`) and stopped afterwards.
    master : str, optional
        Master of a session alsrec starts; default ``local[N]`` with ``N`` =
        ``params.num_threads`` (``*`` for 0).
    driver_memory : str, default "2g"
        ``spark.driver.memory`` of a session alsrec starts.
    num_blocks : int, optional
        ``numUserBlocks`` and ``numItemBlocks``; default: the session's default
        parallelism (Spark's own default of 10 is slow on small machines).

    Raises
    ------
    BackendUnavailableError
        pyspark >= 4.0 is not installed, or (without ``spark``) Java 17+ is missing.

    Examples
    --------
    >>> from alsrec import Recommender
    >>> rec = Recommender(factors=8, backend="spark")  # doctest: +SKIP
    """

    def __init__(
        self,
        spark: SparkSession | None = None,
        *,
        master: str | None = None,
        driver_memory: str = "2g",
        num_blocks: int | None = None,
    ) -> None:
        require_spark(need_java=spark is None)
        check_session(spark, "a local one; master= names a cluster")
        if num_blocks is not None:
            num_blocks = check_int("num_blocks", num_blocks)
        self._spark = spark
        self._master = master
        self._driver_memory = driver_memory
        self._num_blocks = num_blocks

    @property
    def name(self) -> str:
        return "spark"

    @property
    def deterministic(self) -> bool:
        # Spark sums partial Gram matrices in task-completion order.
        return False

    def __repr__(self) -> str:
        given = "given session" if self._spark is not None else "local session"
        return f"SparkBackend({given})"

    @staticmethod
    def _penalty(coo: sp.coo_matrix, params: ALSParams) -> tuple[ALSParams, float]:
        return spark_penalty(
            params,
            int(coo.nnz),
            int(np.unique(coo.row).size),
            int(np.unique(coo.col).size),
        )

    def auto_regularization_share(self, confidence: sp.csr_matrix) -> float:
        """What ``regularization="auto"`` is multiplied by for this backend: Spark trains
        ALS-WR, whose count-scaled penalty needs a smaller ``lambda`` than the constant
        penalty the rule sizes it for (:func:`~alsrec.spark.engine.als_wr_share`)."""
        return matrix_wr_share(confidence)

    def trained_params(self, confidence: sp.csr_matrix, params: ALSParams) -> ALSParams:
        """The hyperparameters of what :meth:`fit` trains: Spark's ALS-WR, exactly
        (``regularization_exponent=1``, ``"count"`` scale; see :func:`spark_penalty`)."""
        return self._penalty(confidence.tocoo(), params)[0]

    def fit(
        self,
        confidence: sp.csr_matrix,
        params: ALSParams,
        *,
        callback: ProgressCallback | None = None,
    ) -> tuple[FactorMatrix, FactorMatrix]:
        """Train on a confidence matrix; see :class:`~alsrec.backends.Backend`."""
        import pyarrow as pa

        coo = confidence.tocoo()
        n_users, n_items = (int(s) for s in coo.shape)
        ratings = confidence_to_ratings(coo.data)
        if ratings.size == 0:
            raise DataError("The confidence matrix has no stored entries; nothing to train.")
        if max(n_users, n_items) > np.iinfo(np.int32).max:
            raise DataError(
                f"Spark's ALS indexes rows with int32; this matrix has shape {coo.shape}."
            )
        _, reg_param = self._penalty(coo, params)
        master = self._master or f"local[{params.num_threads or '*'}]"
        with session_scope(self._spark, master=master, driver_memory=self._driver_memory) as (
            spark,
            _,
        ):
            table = pa.table(
                {
                    "user": pa.array(coo.row.astype(np.int32)),
                    "item": pa.array(coo.col.astype(np.int32)),
                    "rating": pa.array(ratings),
                }
            )
            with spark_errors("sending the interactions to Spark"):
                frame = spark.createDataFrame(table)
                if callback is not None:
                    frame = frame.cache()

            def train(run: ALSParams) -> tuple[FactorMatrix, FactorMatrix]:
                return train_als(
                    spark,
                    frame,
                    n_users=n_users,
                    n_items=n_items,
                    params=run,
                    alpha=1.0,
                    reg_param=reg_param,
                    num_blocks=self._num_blocks,
                )

            if callback is None or params.iterations == 0:
                return train(params)
            # Spark hands back factors only at the end of a fit, so progress means
            # refitting with 1, 2, ..., n sweeps from the same seed (same trajectory).
            fixed = dataclasses.replace(params, random_state=training_seed(params))
            for iteration in range(1, params.iterations + 1):
                users, items = train(dataclasses.replace(fixed, iterations=iteration))
                callback(iteration, users, items)
            frame.unpersist()
        return users, items
