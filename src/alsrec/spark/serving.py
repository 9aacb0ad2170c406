"""Scoring every user on Spark: :func:`recommend_all` writes the top-n of a fitted model.

The model is a :class:`~alsrec.model.FittedModel`, a fitted :class:`~alsrec.Recommender`,
or a saved artifact path (loaded with :func:`alsrec.io.load`).
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from alsrec._scoring import NEG_INF, SCORE_BLOCK_ENTRIES, csr_row_entries, top_n
from alsrec.checks import check_int
from alsrec.exceptions import ConfigError
from alsrec.io import load
from alsrec.model.fitted import FittedModel, HasModel, model_of
from alsrec.spark.engine import require_spark, spark_errors

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pyarrow as pa
    from pyspark.sql import SparkSession

    from alsrec.types import IdArray

__all__ = ["recommend_all"]


# -- scoring blocks -----------------------------------------------------------------------------


def _resolve_model(model: object) -> FittedModel:
    if isinstance(model, (str, os.PathLike)):
        return load(model)
    if isinstance(model, FittedModel) or hasattr(model, "model_"):
        return model_of(model)
    raise ConfigError(
        f"recommend_all needs a fitted Recommender, a FittedModel or an artifact path, got "
        f"{type(model).__name__}."
    )


def _id_list(ids: IdArray, offsets: np.ndarray) -> pa.Array:
    import pyarrow as pa

    values = pa.array(ids.tolist(), type=pa.string() if ids.dtype.kind == "U" else pa.int64())
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)


def _user_blocks(model: FittedModel, block_rows: int, exclude_seen: bool) -> tuple[pa.Table, int]:
    import pyarrow as pa

    ids = model.users.ids
    factors = model.user_factors[: ids.size]
    seen = model.seen if exclude_seen else None
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


def _item_blocks(model: FittedModel, block_rows: int) -> tuple[pa.Table, int]:
    import pyarrow as pa

    ids = model.items.ids
    factors = model.item_factors[: ids.size]
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
    model: FittedModel | HasModel | str | os.PathLike[str],
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
    model : FittedModel, Recommender or path
        A fitted model, or the path of an artifact saved with
        :meth:`~alsrec.Recommender.save` (loaded with :meth:`~alsrec.Recommender.load`).
    spark : SparkSession
        The session to score on (never stopped).
    n : int, default 10
        Items per user; capped at the number of items.
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
    fitted = _resolve_model(model)
    n = min(check_int("n", n), max(1, len(fitted.items)))  # capped before allocating
    user_block_rows = check_int("user_block_rows", user_block_rows)
    if mode not in ("error", "overwrite"):
        raise ConfigError(f"mode must be 'error' or 'overwrite', got {mode!r}.")
    if not isinstance(output, (str, os.PathLike)) or not os.fspath(output):
        raise ConfigError(
            f"output must be a path (str or os.PathLike) to write the Parquet files to, got "
            f"{output!r}."
        )
    factors = int(fitted.user_factors.shape[1])
    if item_block_rows is None:
        item_block_rows = max(1, (32 << 20) // (4 * factors))
    item_block_rows = check_int("item_block_rows", item_block_rows)
    if exclude_seen and fitted.seen is None:
        raise ConfigError(
            "This model does not know its users' training items (it was built without a "
            "seen matrix, e.g. fit_spark(keep_seen=False)), so they cannot be excluded; "
            "pass exclude_seen=False or refit with keep_seen=True."
        )
    require_spark(need_java=False)
    if spark is None:
        raise ConfigError("recommend_all needs the SparkSession to write with as spark=.")
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    users_table, n_ublocks = _user_blocks(fitted, int(user_block_rows), exclude_seen)
    items_table, n_iblocks = _item_blocks(fitted, int(item_block_rows))
    id_type = {
        "str": T.StringType(),
        "int": T.LongType(),
    }
    schema = T.StructType(
        [
            T.StructField("user_id", id_type[fitted.users.kind], False),
            T.StructField("item_id", id_type[fitted.items.kind], False),
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
