"""Training: interactions in, a :class:`~alsrec.model.FittedModel` out, through a backend."""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import TYPE_CHECKING

from alsrec._threads import single_threaded_blas, worker_count
from alsrec.checks import check_memory, format_bytes
from alsrec.exceptions import (
    AlsrecError,
    AlsrecWarning,
    BackendError,
    ConfigError,
    DataError,
    MappingMismatchError,
)
from alsrec.model.defaults import resolved_confidence
from alsrec.model.fitted import FittedModel, Provenance, as_factors, build_model
from alsrec.model.provenance import data_provenance
from alsrec.params import AUTO, ALSParams

if TYPE_CHECKING:
    import scipy.sparse as sp

    from alsrec.backends import Backend, ProgressCallback
    from alsrec.interactions import Interactions

__all__ = ["fit_memory", "train"]


def fit_memory(n_users: int, n_items: int, params: ALSParams) -> int:
    """Approximate bytes a fit needs beyond its input: a documented lower estimate.

    The factor matrices (``4 (users + items) f`` bytes, ``float32``, twice: the backend's
    and the model's copy) plus one ``f x f`` ``float64`` matrix per worker thread and
    two shared ones (``8 f² (workers + 2)``: the Gram matrix ``YᵀY`` and the per-row
    systems of the solvers). The confidence matrix is the input's size and not counted.

    Examples
    --------
    >>> from alsrec import ALSParams
    >>> fit_memory(1000, 100, ALSParams(factors=64, num_threads=1))
    661504
    """
    f = params.factors
    workers = worker_count(params.num_threads)
    return 2 * 4 * (n_users + n_items) * f + 8 * f * f * (workers + 2)


def _reported_params(
    backend: Backend, conf: sp.csr_matrix, params: ALSParams, auto: tuple[str, ...]
) -> tuple[ALSParams, tuple[str, ...]]:
    """The hyperparameters the backend says it trained (see ``Backend``), and the auto names.

    A backend whose objective differs from what it was asked (Spark trains ALS-WR, whatever
    ``regularization_exponent`` says) defines ``trained_params(confidence, params)``; the
    model then records those, so that fold-in solves the objective the factors came from.
    A value resolved from ``"auto"`` there counts as resolved from ``"auto"``.
    """
    report = getattr(backend, "trained_params", None)
    if report is None:
        return params, auto
    reported = report(conf, params)
    if not isinstance(reported, ALSParams):
        raise BackendError(
            f"Backend {backend.name!r}: trained_params returned {type(reported).__name__}, "
            "expected ALSParams."
        )
    before, after = params.to_dict(), reported.to_dict()
    more = tuple(
        name
        for name, value in before.items()
        if value == AUTO and after[name] != AUTO and name not in auto
    )
    return reported, auto + more


def _backend_share(
    backend: Backend, conf: sp.csr_matrix, params: ALSParams, auto: tuple[str, ...]
) -> ALSParams:
    """``params`` with a ``regularization`` resolved from ``"auto"`` scaled for a backend
    whose penalty differs from the constant one the rule sizes: such a backend defines
    ``auto_regularization_share(confidence)`` (Spark's ALS-WR; see ``Backend``)."""
    share = getattr(backend, "auto_regularization_share", None)
    if share is None or "regularization" not in auto or params.scaled_regularization:
        return params  # a scaled penalty asked for was sized by the rule itself
    factor = float(share(conf))
    if not (math.isfinite(factor) and factor > 0):
        raise BackendError(
            f"Backend {backend.name!r}: auto_regularization_share returned {factor!r}, "
            "expected a positive number."
        )
    return dataclasses.replace(params, regularization=params.regularization_value * factor)


def train(
    data: Interactions,
    params: ALSParams,
    backend: Backend,
    callback: ProgressCallback | None = None,
) -> FittedModel:
    """Train ``backend`` on ``data`` with ``params``; see :meth:`alsrec.Recommender.fit`.

    A ``regularization="auto"`` is resolved from ``data`` first
    (:func:`alsrec.model.defaults.resolve_params`); the backend and the returned model get
    the concrete value.

    Raises
    ------
    BackendError
        The backend failed (its exception is chained).
    MappingMismatchError
        The backend returned factors of the wrong shape.
    """
    n_users, n_items = data.shape
    if data.nnz == 0:
        dropped = sum(data.dropped.values())
        raise DataError(
            f"No interactions to train on: the data ({n_users} users x {n_items} items) has "
            "no positive weight"
            + (
                f" ({dropped} rows or entries were dropped: {dict(data.dropped)})"
                if dropped
                else ""
            )
            + ". Pass interactions with weights > 0."
        )
    need = fit_memory(n_users, n_items, params)
    check_memory(
        need,
        f"A fit with factors={params.factors} ({n_users} users x {n_items} items: the "
        f"factor matrices {format_bytes(8 * (n_users + n_items) * params.factors)}, the "
        f"factors x factors matrices {format_bytes(8 * params.factors**2)} each)",
        "Use fewer factors.",
    )
    # "auto" hyperparameters become concrete here, once, so every backend trains on numbers.
    # One BLAS scope for the resolution and the training: a threaded BLAS call between the
    # two (a dot product over the stored entries is enough) left OpenBLAS's other threads
    # spinning into the training, against its workers (about 0.08 s on a 0.45 s fit).
    with single_threaded_blas():
        params, auto, conf = resolved_confidence(params, data.matrix)
        params = _backend_share(backend, conf, params, auto)
        _check_solvable(params, data.shape)
        try:
            users, items = backend.fit(conf, params, callback=callback)
        except (AlsrecError, MemoryError):
            raise
        except Exception as exc:
            raise BackendError(f"Backend {backend.name!r} failed while training: {exc}") from exc
    params, auto = _reported_params(backend, conf, params, auto)
    expected = {"user": (data.shape[0], users), "item": (data.shape[1], items)}
    for axis, (rows, arr) in expected.items():
        if arr.shape != (rows, params.factors):
            raise MappingMismatchError(
                f"Backend {backend.name!r} returned {axis} factors of shape {arr.shape}; "
                f"expected ({rows}, {params.factors})."
            )
    model = build_model(
        as_factors("user factors", users),
        as_factors("item factors", items),
        data.users,
        data.items,
        data.matrix,
        backend=backend.name,
        params=params,
        provenance=Provenance(auto_params=auto, training=data_provenance(data)),
    )
    _warn_if_collapsed(model)
    return model


def _check_solvable(params: ALSParams, shape: tuple[int, int]) -> None:
    """Refuse exact solves of systems that are singular whatever the data: with no
    regularization, ``YᵀY`` has rank at most the other side's row count."""
    rows = min(shape)
    if params.solver == "cholesky" and params.regularization_value == 0 and params.factors > rows:
        raise ConfigError(
            f"solver='cholesky' with regularization=0 and factors={params.factors} on "
            f"{shape[0]} users x {shape[1]} items: with more factors than {rows} the "
            "least-squares systems are singular and have no unique solution. Give "
            f"regularization > 0 (or 'auto'), or use at most {rows} factors."
        )


COLLAPSED_WARNING = "The model shrank to nothing"
"""The start of the warning :func:`train` gives for a collapsed model (a search's trials,
which only score it, filter it by this)."""

_COLLAPSED = 1e-10
"""Below this largest possible score (the largest user norm times the largest item norm)
a model has shrunk to nothing: its scores are float32 rounding, not preferences."""


def _warn_if_collapsed(model: FittedModel) -> None:
    """One :class:`~alsrec.AlsrecWarning` when the regularization shrank every factor to
    (nearly) zero: fit returned, but every query would fall back or rank by noise."""
    users, items = model.user_norms, model.item_norms
    top = float(users.max()) * float(items.max()) if users.size and items.size else 1.0
    if top < _COLLAPSED:
        lam = model.params.regularization_value
        warnings.warn(
            f"{COLLAPSED_WARNING}: its largest possible score is {top:.1e}, so it "
            f"cannot rank (queries fall back to popularity or rank by rounding noise). "
            f"regularization={lam:.4g} is too strong for this data: lower it (or leave "
            "regularization='auto', which derives it from the data).",
            AlsrecWarning,
            stacklevel=4,
        )
