"""Deprecated alias: the Spark backend moved to :mod:`alsrec.spark` (``engine``, ``backend``)."""

from alsrec.spark.backend import SparkBackend, confidence_to_ratings
from alsrec.spark.engine import (
    local_session,
    require_spark,
    session_scope,
    spark_availability,
    spark_errors,
    spark_reg_param,
    spark_status,
    train_als,
    translate_error,
)

__all__ = [
    "SparkBackend",
    "confidence_to_ratings",
    "local_session",
    "require_spark",
    "session_scope",
    "spark_availability",
    "spark_errors",
    "spark_reg_param",
    "spark_status",
    "train_als",
    "translate_error",
]
