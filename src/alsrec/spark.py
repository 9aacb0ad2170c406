"""Train and score on Apache Spark, serve with alsrec (optional: ``pip install "alsrec[spark]"``).

When the interactions no longer fit one machine, train where they live:

* :func:`fit_dataframe` (also :meth:`alsrec.Recommender.fit_spark`) trains Spark MLlib's
  implicit ALS straight from a Spark DataFrame with string or integer ID columns and
  returns an ordinary :class:`~alsrec.Recommender` (same artifact, serving code and
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
interactions than average are still penalized more than alsrec would; measured on the
synthetic data, the best ``lambda`` is the same for both and the best NDCG@10 within 2%,
while away from the optimum the two regularizers rank differently. Spark solves rows
exactly (``solver``/``cg_steps`` do not apply) and is not bit-for-bit deterministic.

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
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp

from alsrec._scoring import NEG_INF, SCORE_BLOCK_ENTRIES, csr_row_entries, top_n
from alsrec.backends._spark import (
    SparkBackend,
    local_session,
    require_spark,
    spark_errors,
    spark_reg_param,
    spark_status,
    train_als,
)
from alsrec.exceptions import ConfigError, DataError, IdTypeError
from alsrec.mapping import IdMapper
from alsrec.params import ALSParams

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    import pyarrow as pa
    from pyspark.sql import Column, DataFrame, SparkSession

    from alsrec.recommender import Recommender
    from alsrec.types import IdArray, Policy

__all__ = [
    "SparkBackend",
    "fit_dataframe",
    "local_session",
    "recommend_all",
    "spark_reg_param",
    "spark_status",
]

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
    return F.col(weight).cast("double")


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
    ]
    for key, what in (("u", "user"), ("i", "item")):
        if kinds[key] == "str":
            checks.append((f"an empty-string {what} ID", F.col(key) == ""))
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
) -> Recommender:
    """Train Spark's implicit ALS on a DataFrame; return an ordinary alsrec model.

    Same as :meth:`alsrec.Recommender.fit_spark`, which documents the parameters.
    """
    require_spark(need_java=False)
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from alsrec.recommender import Recommender

    if params is None:
        params = ALSParams()
    if not isinstance(params, ALSParams):
        raise ConfigError(f"params must be an ALSParams, got {type(params).__name__}.")
    if user == item:
        raise ConfigError(f"user and item must be different columns, both are {user!r}.")
    session = spark if spark is not None else df.sparkSession
    kinds = {"u": _id_kind(df, user, "user"), "i": _id_kind(df, item, "item")}
    names = {"u": user, "i": item, "w": weight or "weight"}
    rows = df.select(
        F.col(user).alias("u"), F.col(item).alias("i"), _weight_column(df, weight).alias("w")
    )
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
        reg_param = spark_reg_param(params.regularization, nnz, user_ids.size, item_ids.size)
        users, items = train_als(
            session,
            ratings,
            n_users=int(user_ids.size),
            n_items=int(item_ids.size),
            params=params,
            alpha=params.alpha,
            reg_param=reg_param,
            num_blocks=num_blocks,
        )
        seen: sp.csr_matrix | None = None
        if keep_seen:
            with spark_errors("collecting the seen (user, item) index pairs"):
                table = ratings.toArrow()
            seen = sp.csr_matrix(
                (
                    np.asarray(table.column("rating").to_numpy(), dtype=np.float32),
                    (
                        np.asarray(table.column("user").to_numpy(), dtype=np.int64),
                        np.asarray(table.column("item").to_numpy(), dtype=np.int64),
                    ),
                ),
                shape=(user_ids.size, item_ids.size),
            )
    finally:
        for frame in persisted:
            frame.unpersist()
    return Recommender.from_factors(
        users,
        items,
        IdMapper(user_ids),
        IdMapper(item_ids),
        seen=seen,
        params=params,
        policy=policy,
        backend_name="spark",
    )


# -- recommend_all -----------------------------------------------------------------------------


def _resolve_model(model: object) -> Recommender:
    from alsrec.recommender import Recommender

    if isinstance(model, Recommender):
        return model
    if isinstance(model, (str, os.PathLike)):
        return Recommender.load(model)
    raise ConfigError(
        f"recommend_all needs a fitted Recommender or an artifact path, got {type(model).__name__}."
    )


def _id_list(ids: IdArray, offsets: np.ndarray) -> pa.Array:
    import pyarrow as pa

    values = pa.array(ids.tolist(), type=pa.string() if ids.dtype.kind == "U" else pa.int64())
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)


def _user_blocks(rec: Recommender, block_rows: int, exclude_seen: bool) -> tuple[pa.Table, int]:
    import pyarrow as pa

    ids = rec.users_.ids
    factors = rec.user_factors_[: ids.size]
    seen = rec.seen_ if exclude_seen else None
    starts = np.arange(0, ids.size, block_rows, dtype=np.int64)
    ends = np.minimum(starts + block_rows, ids.size)
    indptr: list[bytes] = []
    indices: list[bytes] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if seen is None:
            indptr.append(np.zeros(e - s + 1, dtype=np.int64).tobytes())
            indices.append(b"")
        else:
            ptr = seen.indptr[s : e + 1].astype(np.int64)
            indptr.append((ptr - ptr[0]).tobytes())
            indices.append(seen.indices[ptr[0] : ptr[-1]].astype(np.int32).tobytes())
    offsets = np.append(starts, ids.size)
    table = pa.table(
        {
            "ublock": pa.array(np.arange(starts.size, dtype=np.int32)),
            "user_ids": _id_list(ids, offsets),
            "user_factors": pa.array(
                [
                    factors[s:e].tobytes()
                    for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
                ],
                type=pa.large_binary(),
            ),
            "seen_indptr": pa.array(indptr, type=pa.large_binary()),
            "seen_items": pa.array(indices, type=pa.large_binary()),
        }
    )
    return table, int(starts.size)


def _item_blocks(rec: Recommender, block_rows: int) -> tuple[pa.Table, int]:
    import pyarrow as pa

    ids = rec.items_.ids
    factors = rec.item_factors_[: ids.size]
    starts = np.arange(0, ids.size, block_rows, dtype=np.int64)
    ends = np.minimum(starts + block_rows, ids.size)
    table = pa.table(
        {
            "iblock": pa.array(np.arange(starts.size, dtype=np.int32)),
            "item_start": pa.array(starts),
            "item_ids": _id_list(ids, np.append(starts, ids.size)),
            "item_factors": pa.array(
                [
                    factors[s:e].tobytes()
                    for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
                ],
                type=pa.large_binary(),
            ),
        }
    )
    return table, int(starts.size)


def _score_pair(row: dict[str, Any], n: int, factors: int) -> pa.RecordBatch | None:
    """Top-n of one (user block, item block) pair; runs on the executors."""
    import pyarrow as pa

    users = np.frombuffer(row["user_factors"], dtype=np.float32).reshape(-1, factors)
    items = np.frombuffer(row["item_factors"], dtype=np.float32).reshape(-1, factors)
    indptr = np.frombuffer(row["seen_indptr"], dtype=np.int64)
    seen_items = np.frombuffer(row["seen_items"], dtype=np.int32).astype(np.int64)
    start = int(row["item_start"])
    n_users, n_items = users.shape[0], items.shape[0]
    step = max(1, SCORE_BLOCK_ENTRIES // max(n_items, 1))
    user_pos: list[np.ndarray] = []
    item_pos: list[np.ndarray] = []
    scores_out: list[np.ndarray] = []
    ranks: list[np.ndarray] = []
    for lo in range(0, n_users, step):
        block = np.arange(lo, min(lo + step, n_users), dtype=np.int64)
        scores = users[block] @ items.T
        r, c = csr_row_entries(indptr, seen_items, block)
        c = c - start
        inside = (c >= 0) & (c < n_items)
        scores[r[inside], c[inside]] = NEG_INF
        pos, val = top_n(scores, n)
        keep = pos >= 0
        rows_idx, cols_idx = np.nonzero(keep)
        user_pos.append(block[rows_idx])
        item_pos.append(pos[keep])
        scores_out.append(val[keep])
        ranks.append(cols_idx.astype(np.int32) + 1)
    if not user_pos:
        return None
    u = np.concatenate(user_pos)
    i = np.concatenate(item_pos)
    user_ids = pa.array(row["user_ids"])
    item_ids = pa.array(row["item_ids"])
    return pa.RecordBatch.from_arrays(
        [
            user_ids.take(pa.array(u)),
            item_ids.take(pa.array(i)),
            pa.array(np.concatenate(scores_out).astype(np.float32)),
            pa.array(np.concatenate(ranks).astype(np.int32)),
            pa.array(i + start),
        ],
        names=["user_id", "item_id", "score", "rank", "item_index"],
    )


def _score_batches(
    batches: Iterator[pa.RecordBatch], *, n: int, factors: int
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        for row in batch.to_pylist():
            out = _score_pair(row, n, factors)
            if out is not None and out.num_rows:
                yield out


def recommend_all(
    model: Recommender | str | os.PathLike[str],
    spark: SparkSession,
    n: int = 10,
    *,
    output: str | os.PathLike[str],
    exclude_seen: bool = True,
    mode: Literal["error", "overwrite"] = "error",
    user_block_rows: int = 4096,
    item_block_rows: int | None = None,
) -> str:
    """Write the top-``n`` items of every user as Parquet, scoring on the cluster.

    Each output row is ``(user_id, item_id, score, rank)`` with the model's external IDs,
    ``score`` the float32 dot product and ``rank`` 1 for the best item. Each user's
    training items are excluded (Spark's ``recommendForAllUsers`` does not), so a user
    gets fewer than ``n`` rows only when fewer items are left. The ranking is the same as
    :meth:`alsrec.Recommender.recommend_many` (ties go to the lower item index).

    The driver cuts the factors into user blocks (with their seen items) and item
    blocks; Spark pairs every user block with every item block and numpy on the executors
    scores each pair in bounded chunks. With one item block it is broadcast and no
    shuffle is needed; with several, each pair's top-``n`` candidates are merged per user
    by a window. The executors need numpy, pyarrow and alsrec installed.

    Parameters
    ----------
    model : Recommender or path
        A fitted model, or the path of an artifact saved with
        :meth:`~alsrec.Recommender.save` (loaded with :meth:`~alsrec.Recommender.load`).
    spark : SparkSession
        The session to score on (never stopped).
    n : int, default 10
        Items per user.
    output : str or path
        Where to write the Parquet dataset (a directory, as Spark writes it).
    exclude_seen : bool, default True
        Leave out each user's training items; needs a model that knows them
        (``keep_seen=True`` when fitted with Spark).
    mode : {"error", "overwrite"}, default "error"
        What to do when ``output`` exists.
    user_block_rows : int, default 4096
        Users per block (one task scores one user block against one item block).
    item_block_rows : int, optional
        Items per block; default: 32 MiB of item factors per block.

    Returns
    -------
    str
        The output path.

    Raises
    ------
    ConfigError
        Bad arguments, ``output`` exists under ``mode="error"``, or ``exclude_seen`` with
        a model that has no seen items.
    BackendError
        Spark failed (out of memory, lost executors, ...); Spark's error is chained.
    """
    rec = _resolve_model(model)
    for name, value in (("n", n), ("user_block_rows", user_block_rows)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
    if mode not in ("error", "overwrite"):
        raise ConfigError(f"mode must be 'error' or 'overwrite', got {mode!r}.")
    factors = int(rec.user_factors_.shape[1])
    if item_block_rows is None:
        item_block_rows = max(1, (32 << 20) // (4 * factors))
    if (
        isinstance(item_block_rows, bool)
        or not isinstance(item_block_rows, (int, np.integer))
        or item_block_rows < 1
    ):
        raise ConfigError(f"item_block_rows must be a positive integer, got {item_block_rows!r}.")
    if exclude_seen and rec.seen_ is None:
        raise ConfigError(
            "This model does not know its users' training items (it was built without a "
            "seen matrix, e.g. fit_spark(keep_seen=False)), so they cannot be excluded; "
            "pass exclude_seen=False or refit with keep_seen=True."
        )
    require_spark(need_java=False)
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    users_table, n_ublocks = _user_blocks(rec, int(user_block_rows), exclude_seen)
    items_table, n_iblocks = _item_blocks(rec, int(item_block_rows))
    id_type = {
        "str": T.StringType(),
        "int": T.LongType(),
    }
    schema = T.StructType(
        [
            T.StructField("user_id", id_type[rec.users_.kind], False),
            T.StructField("item_id", id_type[rec.items_.kind], False),
            T.StructField("score", T.FloatType(), False),
            T.StructField("rank", T.IntegerType(), False),
            T.StructField("item_index", T.LongType(), False),
        ]
    )
    with spark_errors(f"scoring every user and writing {os.fspath(output)!r}"):
        parallelism = max(1, int(spark.sparkContext.defaultParallelism))
        users_df = spark.createDataFrame(users_table).repartition(
            min(n_ublocks, 4 * parallelism), "ublock"
        )
        items_df = spark.createDataFrame(items_table)
        if n_iblocks == 1:
            items_df = F.broadcast(items_df)
        scored = users_df.crossJoin(items_df).mapInArrow(
            functools.partial(_score_batches, n=int(n), factors=factors), schema
        )
        if n_iblocks > 1:
            order = Window.partitionBy("user_id").orderBy(
                F.col("score").desc(), F.col("item_index").asc()
            )
            scored = scored.withColumn("rank", F.row_number().over(order).cast("int")).filter(
                F.col("rank") <= int(n)
            )
        scored.select("user_id", "item_id", "score", "rank").write.mode(mode).parquet(
            os.fspath(output)
        )
    return os.fspath(output)
