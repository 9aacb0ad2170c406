"""What :meth:`alsrec.Recommender.fit` accepts, turned into :class:`Interactions` in one place.

- an :class:`~alsrec.Interactions` (used as it is);
- three columns: ``fit(user_ids, item_ids, weights)``;
- a pandas or polars DataFrame with column names: ``fit(df, user=..., item=..., weight=...)``
  (read with :meth:`Interactions.from_frame`); without ``user=``/``item=``, a column with a
  common name (``user_id``, ``user``, ``userId``, ...) is used when exactly one is present
  (without a ``weight`` column every row weighs 1.0, and numeric columns left unread are
  named in an :class:`~alsrec.AlsrecWarning`);
- a scipy sparse matrix, rows users and columns items (read with
  :meth:`Interactions.from_scipy`); the IDs are the row and column indices unless
  ``user_ids=``/``item_ids=`` name them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import scipy.sparse as sp

from alsrec.data.frames import check_eager
from alsrec.data.interactions import Interactions
from alsrec.data.rows import check_bad_rows
from alsrec.exceptions import ConfigError

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterable

    import numpy.typing as npt

    from alsrec.data.rows import BadRows
    from alsrec.types import ExternalId, IdLike

__all__ = ["as_interactions", "is_frame"]

_log = logging.getLogger("alsrec")

_FORMS = (
    "fit(user_ids, item_ids, weights), fit(Interactions), "
    "fit(df, user='...', item='...', weight='...') for a pandas/polars DataFrame, or "
    "fit(matrix) for a scipy sparse users x items matrix"
)


def is_frame(value: object) -> bool:
    """Whether ``value`` looks like a pandas or polars DataFrame (``columns`` + columns by name).

    Examples
    --------
    >>> import pandas as pd
    >>> is_frame(pd.DataFrame({"a": [1]})), is_frame([1, 2])
    (True, False)
    """
    if type(value).__name__ == "LazyFrame":  # reading .columns would resolve its schema
        return True
    return (
        hasattr(value, "columns")
        and hasattr(value, "__getitem__")
        and not isinstance(value, (str, bytes))
        and not sp.issparse(value)
    )


def _without_item_ids(data: object) -> str:
    """The message for one positional argument that is neither a frame nor a matrix."""
    levels = getattr(getattr(data, "index", None), "nlevels", 1)
    pairs = (  # df.groupby(["user", "item"]).size(): the pairs are the index's levels
        " Its index has the (user, item) levels: pass fit(series.reset_index(name='weight'))."
        if levels == 2
        else ""
    )
    matrix = (  # np.ndarray of 2-d, np.matrix
        " It is 2-dimensional: a dense users x items matrix goes in as "
        "fit(scipy.sparse.csr_matrix(matrix))."
        if getattr(data, "ndim", 1) == 2
        else ""
    )
    return (
        f"fit() got a {type(data).__name__} without item_ids; the accepted forms are "
        f"{_FORMS}.{pairs}{matrix}"
    )


def _positional_names(item_ids: object, weights: object, user_ids: object) -> str:
    """The message for ``fit(df, ...)`` with more than the frame given by position."""
    given = [value for value in (item_ids, weights) if value is not None]
    if user_ids is None and given and all(isinstance(value, str) for value in given):
        # fit(df, "customer", "product"): column names, in the order user, item.
        keywords = ", ".join(
            f"{role}={name!r}" for role, name in zip(("user", "item"), given, strict=False)
        )
        return (
            "fit(df, ...) takes its column names as keywords, not by position: pass "
            f"fit(df, {keywords}) (and weight='...' for a weight column)."
        )
    return (
        "fit(df) takes column names, not columns: pass "
        "fit(df, user='user column', item='item column', weight='weight column')."
    )


def as_interactions(
    data: object,
    item_ids: IdLike | Iterable[ExternalId] | None = None,
    weights: npt.ArrayLike | None = None,
    *,
    user_ids: IdLike | Iterable[ExternalId] | None = None,
    user: Hashable | None = None,
    item: Hashable | None = None,
    weight: Hashable | None = None,
    timestamp: Hashable | None = None,
    on_bad_rows: BadRows = "raise",
) -> Interactions:
    """Turn any input :meth:`alsrec.Recommender.fit` accepts into :class:`Interactions`.

    Parameters
    ----------
    data
        An :class:`Interactions`, one user ID per interaction, a DataFrame or a scipy
        sparse matrix; ``None`` when the user IDs come as ``user_ids=``.
    item_ids, weights
        The other two columns (three-column form); ``item_ids`` also names the matrix
        columns of a scipy matrix.
    user_ids
        The user IDs: the first column (keyword form) or the matrix rows.
    user, item, weight, timestamp
        Column names of a DataFrame.
    on_bad_rows : {"raise", "skip"}, default "raise"
        What to do with a bad row (a missing or empty ID, a weight that is not a positive
        finite number): name it in a :class:`~alsrec.DataError`, or drop it (counted in
        ``summary().dropped``); see :meth:`Interactions.from_arrays`. Not for an
        :class:`Interactions`, whose rows were screened when it was built.

    Raises
    ------
    ConfigError
        A combination that does not fit any form; the message lists the forms.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, pandas as pd
    >>> as_interactions(sp.csr_matrix(np.eye(2))).users.ids.tolist()
    [0, 1]
    >>> df = pd.DataFrame({"user_id": [1, 2], "item_id": ["a", "b"], "plays": [3, 1]})
    >>> as_interactions(df, weight="plays").matrix.toarray().tolist()
    [[3.0, 0.0], [0.0, 1.0]]
    """
    names = {"user": user, "item": item, "weight": weight, "timestamp": timestamp}
    named = [f"{key}=" for key, value in names.items() if value is not None]
    if data is None:
        data, user_ids = user_ids, None
        if data is None:
            raise ConfigError(f"fit() needs interactions: {_FORMS}.")
    policy = check_bad_rows(on_bad_rows)
    if isinstance(data, Interactions):
        given = {"item_ids": item_ids, "weights": weights, "user_ids": user_ids}
        extra = [label for label, value in given.items() if value is not None]
        if policy != "raise":
            extra.append(f"on_bad_rows={policy!r}")
        if extra or named:
            raise ConfigError(
                "Pass either an Interactions object or the three columns, not both "
                f"(got Interactions with {extra + named})."
            )
        return data
    if sp.issparse(data):
        if weights is not None or named:
            raise ConfigError(
                "fit(matrix) takes the weights from the matrix and no column names "
                f"(got {['weights'] if weights is not None else named}); pass "
                "fit(matrix, user_ids=..., item_ids=...) to name rows and columns."
            )
        _log.debug("fit: reading a scipy sparse matrix of shape %s", getattr(data, "shape", None))
        return Interactions.from_scipy(data, user_ids, item_ids, on_bad_rows=policy)
    if type(data).__module__.startswith("pyspark."):  # its columns are not arrays
        raise ConfigError(
            f"fit() got a Spark {type(data).__name__}, which stays on the cluster: train on "
            "it with Recommender.fit_spark(df, user, item, weight), or collect a small one "
            "with df.toPandas() first."
        )
    if is_frame(data):
        check_eager(data)
        if item_ids is not None or weights is not None or user_ids is not None:
            raise ConfigError(_positional_names(item_ids, weights, user_ids))
        return Interactions.from_frame(  # which finds unnamed columns, names unread ones
            data,
            user=user,
            item=item,
            weight=weight,
            timestamp=timestamp,
            on_bad_rows=policy,
        )
    if named:
        raise ConfigError(
            f"{named} name DataFrame columns, but fit() got a {type(data).__name__}; "
            f"the accepted forms are {_FORMS}."
        )
    if user_ids is not None:
        raise ConfigError(f"fit() got the user IDs twice (positional and user_ids=); {_FORMS}.")
    if item_ids is None:
        raise ConfigError(_without_item_ids(data))
    return Interactions.from_arrays(
        data,  # type: ignore[arg-type]
        item_ids,
        weights,
        on_bad_rows=policy,
    )
