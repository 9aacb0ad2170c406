"""Training on a Spark DataFrame: :func:`fit_dataframe` (also
:meth:`alsrec.Recommender.fit_spark`) returns a :class:`~alsrec.model.FittedModel`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp

from alsrec._penalty import matrix_wr_share
from alsrec.checks import check_int
from alsrec.data.assemble import FLOAT32_MAX
from alsrec.data.rows import MAX_ID_CHARS
from alsrec.data.unread import is_unlikely_weight_name, warn_unread
from alsrec.exceptions import ConfigError, DataError, IdTypeError
from alsrec.mapping import IdMapper
from alsrec.model.defaults import (
    AUTO_SCALE,
    alpha_from_totals,
    level_factor,
    popularity_scale,
    regularization_from_masses,
    resolve_params,
)
from alsrec.model.fitted import FittedModel, Provenance, as_factors, build_model
from alsrec.model.statistics import SPECTRAL_MIN_SIZE, confidence_level, popularity_gini
from alsrec.params import ALSParams
from alsrec.spark.engine import (
    als_wr_share,
    check_session,
    check_spark_penalty,
    require_spark,
    spark_errors,
    spark_penalty,
    train_als,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pyspark.sql import Column, DataFrame, SparkSession

    from alsrec.types import IdArray, Policy

__all__ = ["fit_dataframe"]

_INT32_MAX = int(np.iinfo(np.int32).max)
_PARTITION_SHIFT = 33
"""``monotonically_increasing_id`` puts the partition id above bit 33 (documented)."""


# -- fit_dataframe -----------------------------------------------------------------------------


def _id_kind(df: DataFrame, column: str, what: str) -> Literal["int", "str"]:
    from pyspark.sql import types as T

    fields = {f.name: f.dataType for f in df.schema.fields}
    if column not in fields:
        raise ConfigError(
            f"The {what} column {column!r} is not in the DataFrame; its columns are {df.columns}."
        )
    dtype = fields[column]
    if isinstance(dtype, (T.StringType, T.VarcharType, T.CharType)):
        return "str"
    if isinstance(dtype, (T.ByteType, T.ShortType, T.IntegerType, T.LongType)):
        return "int"
    raise IdTypeError(
        f"The {what} column {column!r} has type {dtype.simpleString()}; IDs must be a string "
        f"or integer column. Cast it first, e.g. df.withColumn({column!r}, "
        f"df[{column!r}].cast('string'))."
    )


def _named(name: str) -> Column:
    """The column called ``name`` literally: a dot or backtick in it is part of the name,
    not Spark's struct-field path or quoting (``user.id`` is one column)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _weight_column(df: DataFrame, weight: str | None) -> Column:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if weight is None:
        return F.lit(1.0).cast("double")
    fields = {f.name: f.dataType for f in df.schema.fields}
    if weight not in fields:
        raise ConfigError(
            f"The weight column {weight!r} is not in the DataFrame; its columns are {df.columns}."
        )
    dtype = fields[weight]
    if not isinstance(dtype, T.NumericType):
        raise DataError(
            f"The weight column {weight!r} has type {dtype.simpleString()}; weights must be "
            "numeric (> 0, finite)."
        )
    return _named(weight).cast("double")


_FLOAT32_TINY = float(np.finfo(np.float32).smallest_subnormal)


def _validate_rows(rows: DataFrame, kinds: Mapping[str, str], names: Mapping[str, str]) -> int:
    """Check every row on the cluster in one pass; return the number of rows."""
    from pyspark.sql import functions as F

    inf = float("inf")
    checks: list[tuple[str, Column]] = [
        (f"a null user ID (column {names['u']!r})", F.col("u").isNull()),
        (f"a null item ID (column {names['i']!r})", F.col("i").isNull()),
        (
            "a null, NaN or infinite weight",
            F.col("w").isNull() | F.isnan("w") | (F.abs(F.col("w")) == F.lit(inf)),
        ),
        ("a weight <= 0 (an unobserved pair needs no row)", F.col("w") <= 0),
        # Spark trains on float32: beyond its range a weight is infinite, below its
        # smallest positive value it is 0 (a row silently lost)
        (
            "a weight outside float32's range (beyond 3.4e38, or below 1.4e-45, which is 0)",
            (F.abs(F.col("w")) > F.lit(FLOAT32_MAX)) | (F.col("w") < F.lit(_FLOAT32_TINY)),
        ),
    ]
    for key, what in (("u", "user"), ("i", "item")):
        if kinds[key] == "str":
            checks.append((f"an empty-string {what} ID", F.col(key) == ""))
            checks.append(
                (
                    f"a {what} ID longer than {MAX_ID_CHARS:,} characters or ending in NUL",
                    (F.length(key) > MAX_ID_CHARS) | F.col(key).endswith("\x00"),
                )
            )
    counts = [
        F.sum(F.when(cond, 1).otherwise(0)).alias(f"c{k}") for k, (_, cond) in enumerate(checks)
    ]
    with spark_errors("validating the interactions"):
        summary = rows.agg(F.count(F.lit(1)).alias("rows"), *counts).collect()[0]
    n_rows = int(summary["rows"])
    if n_rows == 0:
        raise DataError("The DataFrame has no rows; there is nothing to train on.")
    for k, (problem, cond) in enumerate(checks):
        bad = int(summary[f"c{k}"] or 0)
        if bad:
            with spark_errors("fetching an example of the bad rows"):
                example = rows.filter(cond).limit(1).collect()[0].asDict()
            shown = {names.get(key, key): value for key, value in example.items()}
            raise DataError(
                f"{bad} of {n_rows} rows have {problem}, e.g. {shown}. Drop or fix those "
                "rows (df.dropna(...), df.filter(...)) before training."
            )
    return n_rows


def _index_ids(
    pairs: DataFrame, column: str, kind: str, what: str
) -> tuple[DataFrame, IdArray, DataFrame]:
    """Give the distinct IDs of ``column`` contiguous int32 indices, on the cluster.

    IDs are sorted (a deterministic order whatever the partitioning), then numbered like
    ``zipWithIndex`` but without leaving the JVM: each row's position in its partition
    comes from ``monotonically_increasing_id`` and the partition's offset from the
    per-partition counts, the only thing the driver collects besides the IDs themselves.

    Returns ``(index frame with columns column, "idx"; IDs in index order; the persisted
    frame to unpersist later)``.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    with spark_errors(f"numbering the distinct {what} IDs"):
        tagged = (
            pairs.select(column)
            .distinct()
            .orderBy(column)
            .select(
                column,
                F.spark_partition_id().alias("p"),
                F.monotonically_increasing_id().alias("m"),
            )
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        sizes = {int(r["p"]): int(r["count"]) for r in tagged.groupBy("p").count().collect()}
    total = sum(sizes.values())
    if total > _INT32_MAX + 1:
        tagged.unpersist()
        raise DataError(
            f"{total} distinct {what} IDs exceed Spark ALS's int32 index range "
            f"(at most {_INT32_MAX + 1}); split the data or drop rare {what}s."
        )
    starts = np.zeros(max(sizes) + 1, dtype=np.int64)
    for p in sorted(sizes):
        starts[p + 1 :] += sizes[p]
    offset = F.element_at(F.array(*[F.lit(int(s)) for s in starts]), F.col("p") + 1)
    position = F.col("m") - F.shiftleft(F.col("p").cast("long"), _PARTITION_SHIFT)
    index = tagged.select(column, (position + offset).cast("int").alias("idx"))
    with spark_errors(f"collecting the distinct {what} IDs"):
        table = index.toArrow()
    idx = np.asarray(table.column("idx").to_numpy(), dtype=np.int64)
    if idx.size != total or not np.array_equal(np.bincount(idx, minlength=total), np.ones(total)):
        tagged.unpersist()
        raise DataError(  # pragma: no cover - a Spark invariant
            f"Spark numbered the {what} IDs inconsistently; rerun the fit."
        )
    values = table.column(column)
    ids: IdArray
    if kind == "str":
        ids = np.asarray(values.to_pylist(), dtype=np.str_)
    else:
        ids = np.asarray(values.to_numpy(), dtype=np.int64)
    ordered = np.empty_like(ids)
    ordered[idx] = ids
    return index, ordered, tagged


def _collect_seen(ratings: DataFrame, n_users: int, n_items: int) -> sp.csr_matrix:
    """The ``(user, item, rating)`` index triples, collected as a CSR matrix."""
    with spark_errors("collecting the seen (user, item) index pairs"):
        table = ratings.toArrow()
    return sp.csr_matrix(
        (
            np.asarray(table.column("rating").to_numpy(), dtype=np.float32),
            (
                np.asarray(table.column("user").to_numpy(), dtype=np.int64),
                np.asarray(table.column("item").to_numpy(), dtype=np.int64),
            ),
        ),
        shape=(n_users, n_items),
    )


def _resolve_locally(seen: sp.csr_matrix, params: ALSParams) -> tuple[ALSParams, tuple[str, ...]]:
    """``alpha`` and ``regularization="auto"`` resolved from the collected triples, by the
    rule of a local fit (:func:`~alsrec.model.defaults.resolve_params`, spectrum included),
    the regularization times :func:`~alsrec.spark.engine.als_wr_share` for Spark's ALS-WR.

    The reference scale of Spark's count-scaled penalty is left to
    :func:`~alsrec.spark.engine.spark_penalty`, as on the cluster path.
    """
    if not (isinstance(params.alpha, str) or isinstance(params.regularization, str)):
        return params, ()
    asked = dataclasses.replace(params, regularization_exponent=0.0)
    resolved, names = resolve_params(asked, seen)
    value = resolved.regularization_value
    if "regularization" in names:  # sized for Spark's count-scaled penalty
        value *= matrix_wr_share(seen, _given_reference(params))
    params = dataclasses.replace(params, alpha=resolved.alpha, regularization=value)
    return params, tuple(name for name in names if name in ("alpha", "regularization"))


def _given_reference(params: ALSParams) -> float | None:
    """The ALS-WR reference count asked for (``regularization_reference``), if a number."""
    reference = params.regularization_reference
    return None if isinstance(reference, str) else float(reference)


def _resolve_auto(
    ratings: DataFrame, params: ALSParams, shape: tuple[int, int]
) -> tuple[ALSParams, tuple[str, ...]]:
    """``params`` with ``alpha`` and ``regularization="auto"`` resolved from sums on the cluster
    (``keep_seen=False``: the triples never reach the driver).

    The confidence of a pair is ``1 + alpha * w`` (Spark's). ``alpha="auto"`` needs the
    total weight (:func:`~alsrec.model.defaults.alpha_from_totals`); for
    ``regularization="auto"`` only the per-user and per-item sums (and, from the same
    per-user pass, each user's pair count and sum of squared confidences) come to the
    driver, and
    :func:`~alsrec.model.defaults.regularization_from_masses` applies the rule to them
    (the spectral multiple is :data:`~alsrec.model.defaults.AUTO_SCALE` there, or
    :data:`~alsrec.model.defaults.FLAT_SCALE` when the items' masses show flat popularity,
    :func:`~alsrec.model.defaults.popularity_scale`; times
    :func:`~alsrec.model.defaults.level_factor`), times
    :func:`~alsrec.spark.engine.als_wr_share` of the pair counts for Spark's ALS-WR.
    """
    if params.is_resolved:
        return params, ()
    from pyspark.sql import functions as F

    names: list[str] = []
    if isinstance(params.alpha, str):
        with spark_errors("summing the weights (alpha='auto')"):
            total = ratings.agg(
                F.sum(F.col("rating").cast("double")).alias("t"), F.count(F.lit(1)).alias("n")
            ).first()
        weight_total = float(total["t"]) if total is not None and total["t"] is not None else 0.0
        n_pairs = int(total["n"]) if total is not None and total["n"] else None
        alpha = alpha_from_totals(shape[0], shape[1], weight_total, n_pairs=n_pairs)
        params = dataclasses.replace(params, alpha=alpha)
        names.append("alpha")
    if not isinstance(params.regularization, str):
        return params, tuple(names)
    conf = F.lit(1.0) + F.lit(params.alpha_value) * F.col("rating").cast("double")
    masses = []
    with spark_errors("summing the confidence per user (regularization='auto')"):
        # The per-user pass also brings each user's pair count and sum of c**2 (the level).
        users = ratings.groupBy("user").agg(
            F.sum(conf).alias("d"), F.count(F.lit(1)).alias("n"), F.sum(conf * conf).alias("s")
        )
        table = users.select("d", "n", "s").toArrow()
    masses.append(np.asarray(table.column("d").to_numpy(), dtype=np.float64))
    user_counts = np.asarray(table.column("n").to_numpy(), dtype=np.int64)
    count = int(user_counts.sum())
    squares = float(np.asarray(table.column("s").to_numpy(), dtype=np.float64).sum())
    with spark_errors("summing the confidence per item (regularization='auto')"):
        table = (
            ratings.groupBy("item")
            .agg(F.sum(conf).alias("d"), F.count(F.lit(1)).alias("n"))
            .select("d", "n")
            .toArrow()
        )
    masses.append(np.asarray(table.column("d").to_numpy(), dtype=np.float64))
    item_counts = np.asarray(table.column("n").to_numpy(), dtype=np.int64)
    level = confidence_level(count, float(masses[0].sum()), squares)
    gini = popularity_gini(masses[1]) if min(shape) >= SPECTRAL_MIN_SIZE else None
    scale = popularity_scale(AUTO_SCALE, gini) * level_factor(level)
    value = regularization_from_masses(masses[0], masses[1], scale=scale)
    value *= als_wr_share(user_counts, item_counts, _given_reference(params))  # ALS-WR
    params = dataclasses.replace(params, regularization=value)
    return params, (*names, "regularization")


def _checked_params(
    params: ALSParams | None,
    user: str,
    item: str,
    num_blocks: int | None,
    weight: str | None = None,
) -> ALSParams:
    """The call's arguments checked before any work on the cluster."""
    if params is None:
        params = ALSParams()
    if not isinstance(params, ALSParams):
        raise ConfigError(f"params must be an ALSParams, got {type(params).__name__}.")
    if user == item:
        raise ConfigError(f"user and item must be different columns, both are {user!r}.")
    if weight is not None and weight in (user, item):
        role = "user" if weight == user else "item"
        raise ConfigError(
            f"{role}= and weight= both name the column {weight!r}; each role needs its own column."
        )
    check_spark_penalty(params)
    if num_blocks is not None:
        check_int("num_blocks", num_blocks)
    if params.weighting != "linear":
        raise ConfigError(
            f"fit_spark trains on the weight column as given (weighting='linear'), not "
            f"weighting={params.weighting!r}: the model would say {params.weighting!r} and "
            "fold in with it while its factors were trained without it. Transform the "
            "column on the cluster first (e.g. F.log1p for 'log'), or train through "
            "Recommender(backend=SparkBackend(spark)), which weighs the data before Spark "
            "sees it."
        )
    return params


def _selected(
    df: DataFrame, user: str, item: str, weight: str | None
) -> tuple[dict[str, Literal["int", "str"]], DataFrame]:
    """The ID kinds and the rows as columns ``u``, ``i``, ``w``."""
    try:
        kinds = {"u": _id_kind(df, user, "user"), "i": _id_kind(df, item, "item")}
        rows = df.select(
            _named(user).alias("u"), _named(item).alias("i"), _weight_column(df, weight).alias("w")
        )
    except AssertionError as exc:  # pyspark asserts a live Spark context
        raise ConfigError(
            "The Spark session of this DataFrame has been stopped (or never started): "
            "create a session and the DataFrame in it again, then call fit_spark."
        ) from exc
    return kinds, rows


def _warn_unread(df: DataFrame, user: str, item: str) -> None:
    """Warn about the numeric columns of ``df`` that no role reads, those named like a time
    or an ID aside."""
    numeric = ("int", "bigint", "smallint", "tinyint", "float", "double")
    unread = [
        name
        for name, kind in df.dtypes
        if name not in (user, item)
        and not is_unlikely_weight_name(name)  # a timestamp or an ID is not a weight
        and (kind in numeric or kind.startswith("decimal"))
    ]
    warn_unread(
        "fit_spark: no weight column was given",
        unread,
        "select the columns you mean (df.select(user, item))",
    )


def _check_spark_types(df: object, spark: object) -> None:
    """Refuse a ``df`` that is not a Spark DataFrame, or a ``spark`` that is not a session,
    with what to pass instead (pyspark is imported by the caller)."""
    from pyspark.sql import DataFrame as SparkFrame

    if not isinstance(df, SparkFrame):
        local = (
            ": train on a local frame with Recommender().fit(df, user=..., item=...), or "
            "make a Spark one with spark.createDataFrame(df)"
            if hasattr(df, "columns")
            else ""
        )
        raise ConfigError(
            f"fit_spark needs a pyspark.sql.DataFrame, got {type(df).__module__}."
            f"{type(df).__qualname__}{local}."
        )
    check_session(spark, "the DataFrame's own")


def fit_dataframe(
    df: DataFrame,
    *,
    user: str,
    item: str,
    weight: str | None = None,
    spark: SparkSession | None = None,
    params: ALSParams | None = None,
    policy: Policy = "safe",
    keep_seen: bool = True,
    num_blocks: int | None = None,
) -> FittedModel:
    """Train Spark's implicit ALS on a DataFrame; return an ordinary fitted model.

    Same as :meth:`alsrec.Recommender.fit_spark`, which documents the parameters and
    wraps the result in a :class:`~alsrec.Recommender`; ``policy`` decides whether a
    mismatch of factor rows and IDs is refused (``"strict"``) or warned about.
    """
    require_spark(need_java=False)
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    params = _checked_params(params, user, item, num_blocks, weight)
    _check_spark_types(df, spark)
    if weight is None:  # as fit(df) does: a numeric column left unread may be the weights
        _warn_unread(df, user, item)
    session = spark if spark is not None else df.sparkSession
    kinds, rows = _selected(df, user, item, weight)
    names = {"u": user, "i": item, "w": weight or "weight"}
    _validate_rows(rows, kinds, names)
    persisted: list[DataFrame] = []
    try:
        with spark_errors("summing duplicate (user, item) rows"):
            pairs = rows.groupBy("u", "i").agg(F.sum("w").alias("w"))
            pairs = pairs.persist(StorageLevel.MEMORY_AND_DISK)
            persisted.append(pairs)
            nnz = pairs.count()
        user_index, user_ids, tagged = _index_ids(pairs, "u", kinds["u"], "user")
        persisted.append(tagged)
        item_index, item_ids, tagged = _index_ids(pairs, "i", kinds["i"], "item")
        persisted.append(tagged)
        with spark_errors("joining the indices to the interactions"):
            ratings = (
                pairs.join(user_index.withColumnRenamed("idx", "user"), on="u")
                .join(item_index.withColumnRenamed("idx", "item"), on="i")
                .select("user", "item", F.col("w").cast("float").alias("rating"))
                .persist(StorageLevel.MEMORY_AND_DISK)
            )
            persisted.append(ratings)
        # With keep_seen the triples come to the driver anyway: collected first, they let
        # "auto" resolve as a local fit does (the spectrum needs the whole pattern).
        seen = _collect_seen(ratings, user_ids.size, item_ids.size) if keep_seen else None
        if seen is not None:
            params, auto = _resolve_locally(seen, params)
        else:
            params, auto = _resolve_auto(ratings, params, (int(user_ids.size), int(item_ids.size)))
        asked_reference = params.regularization_reference
        params, reg_param = spark_penalty(params, nnz, user_ids.size, item_ids.size)
        if isinstance(asked_reference, str):
            auto = (*auto, "regularization_reference")
        users, items = train_als(
            session,
            ratings,
            n_users=int(user_ids.size),
            n_items=int(item_ids.size),
            params=params,
            alpha=params.alpha_value,
            reg_param=reg_param,
            num_blocks=num_blocks,
        )
    finally:
        for frame in persisted:
            frame.unpersist()
    return build_model(
        as_factors("user factors", users),
        as_factors("item factors", items),
        IdMapper(user_ids),
        IdMapper(item_ids),
        seen,
        backend="spark",
        params=dataclasses.replace(params, factors=max(1, users.shape[1])),
        policy=policy,
        provenance=Provenance(auto_params=auto),
    )
