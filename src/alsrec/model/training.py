"""Training: interactions in, a :class:`~alsrec.model.FittedModel` out, through a backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alsrec.exceptions import AlsrecError, BackendError, MappingMismatchError
from alsrec.model.fitted import FittedModel, Provenance, as_factors, build_model
from alsrec.model.provenance import data_provenance
from alsrec.weighting import confidence

if TYPE_CHECKING:
    from alsrec.backends import Backend, ProgressCallback
    from alsrec.interactions import Interactions
    from alsrec.params import ALSParams

__all__ = ["train"]


def train(
    data: Interactions,
    params: ALSParams,
    backend: Backend,
    callback: ProgressCallback | None = None,
) -> FittedModel:
    """Train ``backend`` on ``data`` with ``params``; see :meth:`alsrec.Recommender.fit`.

    Raises
    ------
    BackendError
        The backend failed (its exception is chained).
    MappingMismatchError
        The backend returned factors of the wrong shape.
    """
    conf = confidence(data.matrix, params.alpha, params.weighting, **params.weighting_options())
    try:
        users, items = backend.fit(conf, params, callback=callback)
    except (AlsrecError, MemoryError):
        raise
    except Exception as exc:
        raise BackendError(f"Backend {backend.name!r} failed while training: {exc}") from exc
    expected = {"user": (data.shape[0], users), "item": (data.shape[1], items)}
    for axis, (rows, arr) in expected.items():
        if arr.shape != (rows, params.factors):
            raise MappingMismatchError(
                f"Backend {backend.name!r} returned {axis} factors of shape {arr.shape}; "
                f"expected ({rows}, {params.factors})."
            )
    return build_model(
        as_factors("user factors", users),
        as_factors("item factors", items),
        data.users,
        data.items,
        data.matrix,
        backend=backend.name,
        params=params,
        provenance=Provenance(training=data_provenance(data)),
    )
