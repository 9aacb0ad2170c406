"""Train and score on Apache Spark, serve with alsrec (optional: ``pip install "alsrec[spark]"``).

When the interactions no longer fit one machine, train where they live:

* :func:`fit_dataframe` (also :meth:`alsrec.Recommender.fit_spark`) trains Spark MLlib's
  implicit ALS straight from a Spark DataFrame with string or integer ID columns and
  returns an ordinary :class:`~alsrec.model.FittedModel` (:meth:`~alsrec.Recommender.fit_spark`
  wraps it in a :class:`~alsrec.Recommender`: same artifact, serving code and
  policies as every other backend).
* :func:`recommend_all` writes the top-n items of every user as Parquet, seen items
  excluded, scoring on the cluster.
* :class:`SparkBackend` (``Recommender(backend="spark")``) trains on data already on the
  driver; :func:`local_session` starts an offline-safe local session for trying it out.

Importing this module does not import pyspark; every function imports it when called and
raises :class:`~alsrec.BackendUnavailableError` if it (or Java, for a local session) is
missing.

Same hyperparameters, same model
--------------------------------
Spark's implicit ALS gives a rating ``r > 0`` the confidence ``1 + alpha_s * r`` and
penalizes each row with ``regParam * (its number of interactions)`` (ALS-WR); alsrec uses
``c = 1 + alpha * w`` and a constant ``lambda``. alsrec sends ``w`` with ``alpha_s =
alpha`` (or, from :class:`SparkBackend`, ``c - 1`` with ``alpha_s = 1``), so confidence
is identical, and sets ``regParam = lambda / mean interactions per row``
(:func:`spark_reg_param`), which makes the total penalty equal. Rows with more
interactions than average are still penalized more than a constant ``lambda`` would: this
is alsrec's frequency-scaled penalty with ``regularization_exponent=1`` and
``regularization_scale="count"``, and a Spark-trained model reports exactly that
(:func:`spark_penalty`), so fold-in reproduces its rows; other exponents are refused.
An earlier measurement on one synthetic set found the same best ``lambda`` for Spark and
a constant penalty; sweeps on the data of the defaults experiment (2026-12-05) put Spark's
best at 0.25-0.5 times the constant penalty's (MovieLens-100k, sparse synthetic data), so
``regularization="auto"`` takes the share :func:`als_wr_share` of its value on Spark.
Spark solves rows exactly (``solver``/``cg_steps`` do not apply) and is not bit-for-bit
deterministic.

Memory on the driver
--------------------
The driver never holds the interaction rows. It collects the distinct user and item IDs
(for the :class:`~alsrec.IdMapper` objects), the factor matrices, and, with
``keep_seen=True``, the ``(user index, item index, weight)`` triples of the distinct
interactions: 12 bytes per pair (plus a transient copy while the sparse matrix is
built), which the model needs to exclude seen items and rank the popularity fallback.
Pass ``keep_seen=False`` when even that is too much: the model then cannot exclude seen
items (``recommend(..., exclude_seen=True)`` excludes nothing) and its fallback ranks
items by factor norm.

Modules: :mod:`alsrec.spark.engine` (availability checks, sessions, error translation, the
ALS run), :mod:`alsrec.spark.backend` (:class:`SparkBackend`), :mod:`alsrec.spark.training`
(:func:`fit_dataframe`) and :mod:`alsrec.spark.serving` (:func:`recommend_all`).
"""

from alsrec.spark.backend import SparkBackend
from alsrec.spark.engine import (
    als_wr_share,
    local_session,
    spark_penalty,
    spark_reg_param,
    spark_status,
)
from alsrec.spark.serving import recommend_all
from alsrec.spark.training import fit_dataframe

__all__ = [
    "SparkBackend",
    "als_wr_share",
    "fit_dataframe",
    "local_session",
    "recommend_all",
    "spark_penalty",
    "spark_reg_param",
    "spark_status",
]
