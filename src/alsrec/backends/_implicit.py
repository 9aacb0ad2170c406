"""The ``implicit`` backends: benfred/implicit's CPU (Cython) and CUDA ALS behind alsrec.

``implicit`` is imported lazily, on first use, so ``import alsrec`` and the numpy backend
keep working where implicit cannot be imported.

How alsrec's hyperparameters reach implicit
-------------------------------------------
implicit reads the matrix it is given as the confidence itself (multiplied by *its*
``alpha``), with preference 1 on every stored entry. alsrec hands a backend the
confidence ``c = 1 + alpha * w`` already computed, so the backend passes that matrix with
implicit's ``alpha=1.0``: both backends then minimise the same objective,

    sum_ui c_ui (p_ui - x_u . y_i)^2 + lambda (sum_u |x_u|^2 + sum_i |y_i|^2),

with the same ``factors``, the same constant ``lambda = regularization`` (neither scales
it by a row's number of interactions, unlike Spark's ALS-WR), the same ``iterations``
(one sweep = users, then items), the same ``cg_steps``, and the same initialization
(``uniform(0, 0.01)`` from ``numpy.random.default_rng(random_state)``, users first): an
equal seed gives the numpy and implicit backends the same factors up to float32
rounding. What differs: implicit reads negative matrix values as dislikes, which
alsrec does not support, so negative confidences are refused.

BLAS threads
------------
implicit runs its own threads, and becomes about 10x slower when OpenBLAS/MKL start
threads of their own inside them. While implicit trains, this backend limits every BLAS
library to one thread with threadpoolctl and restores the previous limits afterwards.
The limit is process-wide while it lasts (BLAS keeps one global setting), so BLAS calls
from other threads during training also run single-threaded. Because the limit is in
force when implicit's model is built, implicit's one-time ``check_blas_config`` warning
has nothing to warn about.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from alsrec.backends._protocol import diverged
from alsrec.exceptions import (
    AlsrecError,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    DataError,
)
from alsrec.interop import implicit as probe
from alsrec.interop.implicit import blas_single_threaded, gpu_status, implicit_status

if TYPE_CHECKING:
    from alsrec.backends._protocol import ProgressCallback
    from alsrec.params import ALSParams
    from alsrec.types import FactorMatrix

__all__ = [
    "ImplicitBackend",
    "blas_single_threaded",
    "gpu_status",
    "implicit_status",
    "unwrap_implicit_model",
]


def _confidence_csr(confidence: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """The confidence matrix as implicit wants it: csr_matrix, float32, canonical."""
    if not sp.issparse(confidence):
        raise DataError(
            f"The confidence matrix must be a scipy sparse matrix, got {type(confidence).__name__}."
        )
    matrix = sp.csr_matrix(confidence, dtype=np.float32)
    if not matrix.has_canonical_format:
        matrix = matrix.copy()
        matrix.sum_duplicates()
    if matrix.nnz:
        data = matrix.data
        bad = np.flatnonzero(~np.isfinite(data))
        if bad.size:
            raise DataError(
                f"The confidence matrix contains {bad.size} NaN or inf value(s); "
                "fix the interaction weights."
            )
        if float(data.min()) < 0:
            raise DataError(
                "The confidence matrix contains negative values; implicit would read them "
                "as dislikes, which alsrec does not support. Confidences must be >= 0."
            )
    return matrix


def _translate(exc: Exception, backend: str) -> BackendError:
    """Map an exception raised inside implicit to alsrec's error tree (caller chains it)."""
    if backend == "implicit-gpu" and isinstance(exc, ValueError) and "GPU" in str(exc):
        return BackendUnavailableError(
            f"Backend 'implicit-gpu': implicit refused to build a GPU model ({exc}). To "
            f"train on CUDA, {probe.GPU_INSTALL_HINT}; or use backend='implicit'."
        )
    if isinstance(exc, RuntimeError) and backend == "implicit-gpu":
        return BackendError(
            f"Backend 'implicit-gpu': CUDA failed while training ({exc}). If the GPU ran "
            "out of memory, lower factors or train with backend='implicit'."
        )
    name = type(exc).__name__
    return BackendError(f"Backend {backend!r}: implicit failed while training: {name}: {exc}")


class _CallbackError(Exception):
    """Carries an exception raised by the user's progress callback through implicit."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


class ImplicitBackend:
    """Train with the ``implicit`` library's ALS: CPU (Cython) or CUDA.

    Registered as ``"implicit"`` (``gpu=False``) and ``"implicit-gpu"`` (``gpu=True``).
    Hyperparameters mean what they mean for every alsrec backend (see
    :class:`~alsrec.ALSParams`): the confidence matrix alsrec built is passed to
    implicit with implicit's ``alpha=1.0``, so implicit's confidence equals alsrec's
    ``1 + alpha * w``. ``num_threads`` sets implicit's threads (``0`` = all cores);
    BLAS is limited to one thread while implicit trains (see
    :func:`blas_single_threaded`). Rows without interactions get zero factors.

    The CPU backend is deterministic for an int ``random_state``, whatever
    ``num_threads``. The GPU backend is not promised to be: it runs CUDA kernels
    alsrec cannot check on a machine without a GPU. On the GPU, ``solver="cholesky"``
    runs conjugate gradient to convergence (``factors`` steps per row) since implicit's
    CUDA ALS has no direct solver.

    ``gpu=True`` never falls back to the CPU: when ``implicit.gpu.HAS_CUDA`` is false,
    :meth:`fit` raises :class:`~alsrec.BackendUnavailableError` saying why.

    Parameters
    ----------
    gpu : bool, default False
        Train on CUDA instead of the CPU.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from alsrec import ALSParams
    >>> from alsrec.backends import ImplicitBackend
    >>> conf = sp.csr_matrix(np.array([[2, 0, 2], [0, 2, 0]], dtype=np.float32))
    >>> params = ALSParams(factors=4, regularization=0.1, random_state=0)
    >>> users, items = ImplicitBackend().fit(conf, params)
    >>> users.shape, items.shape, users.dtype
    ((2, 4), (3, 4), dtype('float32'))
    """

    def __init__(self, gpu: bool = False) -> None:
        if not isinstance(gpu, bool):
            raise ConfigError(f"gpu must be True or False, got {gpu!r}.")
        self._gpu = gpu

    @property
    def name(self) -> str:
        return "implicit-gpu" if self._gpu else "implicit"

    @property
    def deterministic(self) -> bool:
        return not self._gpu

    @property
    def gpu(self) -> bool:
        """Whether this backend trains on CUDA."""
        return self._gpu

    def __repr__(self) -> str:
        return f"ImplicitBackend(gpu={self._gpu})"

    def fit(
        self,
        confidence: sp.csr_matrix,
        params: ALSParams,
        *,
        callback: ProgressCallback | None = None,
    ) -> tuple[FactorMatrix, FactorMatrix]:
        """Train on a confidence matrix; see :class:`~alsrec.backends.Backend`.

        Raises
        ------
        BackendUnavailableError
            implicit cannot be imported, or (``gpu=True``) CUDA is not usable here.
        ConfigError
            ``params.regularization_exponent`` is not 0: implicit trains a constant
            ``regularization`` only.
        DataError
            The confidence matrix holds NaN, inf or negative values.
        BackendError
            implicit failed while training (its exception is chained).
        """
        if params.scaled_regularization:
            raise ConfigError(
                f"The {self.name!r} backend trains a constant regularization only, but "
                f"regularization_exponent={params.regularization_exponent:g} asks for "
                "frequency-scaled regularization. Use backend='numpy', which trains it, or "
                "regularization_exponent=0."
            )
        matrix = _confidence_csr(confidence)
        implicit = probe.import_implicit()
        if self._gpu:
            ok, reason = probe.gpu_status()
            if not ok:
                raise BackendUnavailableError(f"Backend 'implicit-gpu' cannot run: {reason}")
        if matrix.nnz < np.iinfo(np.int32).max:
            matrix.indices = matrix.indices.astype(np.int32, copy=False)
            matrix.indptr = matrix.indptr.astype(np.int32, copy=False)

        def on_iteration(iteration: int, elapsed: float, loss: float | None) -> None:
            if callback is None:
                return
            try:
                callback(
                    iteration + 1,
                    probe.as_numpy(model.user_factors),
                    probe.as_numpy(model.item_factors),
                )
            except Exception as exc:
                raise _CallbackError(exc) from exc

        steps = params.cg_steps
        if self._gpu and params.solver == "cholesky":
            steps = params.factors
        seed: int | np.random.Generator | None = params.random_state
        if self._gpu and seed is not None:
            # implicit's GPU seeding treats 0 as "no seed" (it uses the clock instead).
            seed = np.random.default_rng(seed)
        with probe.blas_single_threaded():
            try:
                model = implicit.als.AlternatingLeastSquares(
                    factors=params.factors,
                    regularization=params.regularization_value,
                    alpha=1.0,
                    dtype=np.float32,
                    use_cg=params.solver != "cholesky",
                    use_gpu=self._gpu,
                    iterations=params.iterations,
                    calculate_training_loss=False,
                    num_threads=params.num_threads,
                    random_state=seed,
                )
                model.cg_steps = steps
                model.fit(matrix, show_progress=False, callback=on_iteration)
                users = probe.as_numpy(model.user_factors)
                items = probe.as_numpy(model.item_factors)
            except _CallbackError as wrapped:
                raise wrapped.original from None
            except (AlsrecError, MemoryError):
                raise
            except Exception as exc:
                if type(exc).__name__ == "ModelFitError":  # implicit's own NaN check
                    raise self._diverged(matrix, params) from exc
                raise _translate(exc, self.name) from exc
        if not (np.isfinite(users).all() and np.isfinite(items).all()):
            raise self._diverged(matrix, params)
        return users, items

    def _diverged(self, matrix: sp.csr_matrix, params: ALSParams) -> BackendError:
        top = float(matrix.data.max()) if matrix.nnz else 1.0
        return diverged(self.name, top, params.regularization_value, 0.0)


def unwrap_implicit_model(model: object) -> tuple[FactorMatrix, FactorMatrix, ALSParams, str]:
    """Deprecated alias: factors, params and backend name of a trained implicit ALS model.

    Use :func:`alsrec.interop.implicit.read_implicit_model`.
    """
    read = probe.read_implicit_model(model)
    return read.user_factors, read.item_factors, read.params, read.backend
