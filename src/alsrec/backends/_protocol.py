"""The contract between alsrec and a training backend."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from alsrec.exceptions import BackendError

if TYPE_CHECKING:
    import scipy.sparse as sp

    from alsrec.params import ALSParams
    from alsrec.types import FactorMatrix

__all__ = ["Backend", "ProgressCallback", "diverged"]

ProgressCallback = Callable[[int, "FactorMatrix", "FactorMatrix"], None]
"""Called after each sweep with ``(iteration, user_factors, item_factors)``; iteration is
1-based. The factor arrays are the backend's working copies: read them, never keep or
modify them."""


_HUGE = 1e15
"""A confidence or a penalty above this makes float32 sums of squares overflow or lose
everything else (the normal equations square them)."""


def diverged(
    backend: str, top_confidence: float, top_penalty: float, exponent: float
) -> BackendError:
    """The error for training that produced NaN or inf factors, naming what was too large.

    ``top_confidence``: the largest ``1 + alpha * f(w)``; ``top_penalty``: the largest
    regularization of a row (``regularization`` itself, or the largest frequency-scaled one);
    ``exponent``: ``regularization_exponent``.
    """
    causes = []
    if not math.isfinite(top_confidence) or top_confidence > _HUGE:
        causes.append(
            f"the largest confidence (1 + alpha * f(w)) is {top_confidence:.3g}: rescale the "
            "weights or lower alpha (alpha='auto' rescales them for you)"
        )
    # a penalty is named only when the confidences are not the cause ("auto" follows them)
    if not causes and (not math.isfinite(top_penalty) or top_penalty > _HUGE):
        causes.append(
            f"regularization_exponent={exponent:g} makes a row's regularization "
            f"{top_penalty:.3g}: lower the exponent or raise regularization_reference"
            if exponent
            else f"regularization={top_penalty:.3g} is too large: lower it "
            "(regularization='auto' derives one from the data)"
        )
    if not causes:
        causes.append("lower alpha or rescale the weights, or change regularization")
    return BackendError(
        f"Backend {backend!r}: training diverged to NaN or inf factors (float32 overflowed): "
        + "; ".join(causes)
        + "."
    )


@runtime_checkable
class Backend(Protocol):
    """What alsrec asks of a training backend.

    A backend turns a confidence matrix into two factor matrices; it never sees external
    IDs, never filters, never ranks. Everything a user queries is answered by alsrec's own
    code from the factors the backend returned, so every backend answers the same way.

    The confidence matrix ``C`` is a ``scipy.sparse.csr_matrix`` of shape
    ``(n_users, n_items)``, ``float32``, with sorted indices and no duplicates: a stored
    entry ``c_ui`` (>= 1 for the default weighting) is the confidence of an *observed*
    pair, whose preference is 1; every other pair has confidence 1 and preference 0.
    ``alpha`` and the weighting scheme have already been applied by alsrec: a backend
    must not apply ``params.alpha`` again. ``params`` are concrete: alsrec resolves
    ``regularization="auto"`` before calling ``fit`` (read it as
    ``params.regularization_value``, which raises :class:`~alsrec.ConfigError` for an
    unresolved ``"auto"`` passed in directly).

    A backend returns ``(user_factors, item_factors)``: C-contiguous ``float32`` numpy
    arrays of shapes ``(n_users, params.factors)`` and ``(n_items, params.factors)``.

    Frequency-scaled regularization (``params.regularization_exponent > 0``): a backend
    that cannot train it raises :class:`~alsrec.ConfigError` before training. A backend
    that trains another objective than the one ``params`` describe (Spark's ALS-WR) may
    define the optional method ``trained_params(confidence, params) -> ALSParams``,
    returning hyperparameters that describe exactly what it trained; alsrec then
    records those in the fitted model (fold-in, ``explain`` and ``updated`` solve with
    them). Such a backend may also define ``auto_regularization_share(confidence) ->
    float``: a ``regularization`` resolved from ``"auto"`` (sized for the constant
    penalty) is multiplied by it before training (Spark: ALS-WR's count-scaled penalty).
    """

    @property
    def name(self) -> str:
        """Registry name of the backend (``"numpy"``, ``"implicit"``, ...)."""
        ...

    @property
    def deterministic(self) -> bool:
        """Whether equal inputs and an int ``random_state`` give bit-identical factors."""
        ...

    def fit(
        self,
        confidence: sp.csr_matrix,
        params: ALSParams,
        *,
        callback: ProgressCallback | None = None,
    ) -> tuple[FactorMatrix, FactorMatrix]:
        """Train and return ``(user_factors, item_factors)``."""
        ...
