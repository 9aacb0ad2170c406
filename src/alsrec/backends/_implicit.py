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

import contextlib
import ctypes
import importlib
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import scipy.sparse as sp

from alsrec.exceptions import (
    AlsrecError,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    DataError,
    NotFittedError,
)
from alsrec.params import ALSParams

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

    from alsrec.backends._protocol import ProgressCallback
    from alsrec.types import FactorMatrix

__all__ = [
    "ImplicitBackend",
    "blas_single_threaded",
    "gpu_status",
    "implicit_status",
    "unwrap_implicit_model",
]

CUDA_LIBRARIES = (
    "libcudart.so.13",
    "libcublas.so.13",
    "libcublasLt.so.13",
    "libcurand.so.10",
    "librmm.so",
    "librapids_logger.so",
)
"""Shared libraries implicit's CUDA extension (Linux wheel, CUDA 13 build) loads."""

GPU_INSTALL_HINT = (
    "pip install rmm-cu13 nvidia-cuda-runtime nvidia-cublas nvidia-curand, and make the "
    "CUDA 13 libraries findable by the dynamic loader (a CUDA 13 toolkit, or "
    "LD_LIBRARY_PATH pointing at the pip packages' lib folders)"
)

_import_warnings: list[str] = []
"""Warnings implicit emitted while alsrec imported it (its GPU probe), kept for reports."""


def _is_gpu_note(message: str) -> bool:
    return "GPU" in message or "CUDA" in message


def _import_implicit() -> ModuleType:
    """Import ``implicit`` (with ``implicit.als`` and ``implicit.gpu``) or explain why not.

    implicit probes its CUDA extension on import and warns when that fails; if alsrec is
    the first to import it, those warnings are kept for :func:`gpu_status` instead of
    being printed at a user who did not ask for the GPU. Other warnings pass through.
    """
    loaded = [sys.modules.get(name) for name in ("implicit", "implicit.als", "implicit.gpu")]
    if all(module is not None for module in loaded):
        return cast("ModuleType", loaded[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            module = importlib.import_module("implicit")
            importlib.import_module("implicit.als")
            importlib.import_module("implicit.gpu")
        except ImportError as exc:
            raise BackendUnavailableError(
                f"The implicit backends need the 'implicit' package, which cannot be "
                f"imported here ({exc}). Install it with 'pip install implicit', or use "
                f"backend='numpy'."
            ) from exc
    for note in caught:
        if _is_gpu_note(str(note.message)):
            _import_warnings.append(str(note.message))
        else:
            warnings.warn_explicit(note.message, note.category, note.filename, note.lineno)
    return module


def _version(module: ModuleType) -> str:
    return str(getattr(module, "__version__", "unknown version"))


def implicit_status() -> tuple[bool, str]:
    """Whether the CPU ``"implicit"`` backend can run here, and why (not).

    Examples
    --------
    >>> ok, reason = implicit_status()
    >>> ok, reason.startswith("implicit ")
    (True, True)
    """
    try:
        module = _import_implicit()
    except BackendUnavailableError as exc:
        return False, str(exc)
    return True, f"implicit {_version(module)}, CPU (Cython) ALS"


def _loadable(library: str) -> bool:
    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True


def _device_nodes() -> list[str]:
    """NVIDIA GPU device nodes (``/dev/nvidia0``, ...) visible to this process."""
    return sorted(p.name for p in Path("/dev").glob("nvidia[0-9]*"))


def _gpu_problems(gpu: Any) -> list[str]:
    """Why implicit's CUDA build is disabled: device, libraries, or the extension."""
    problems: list[str] = []
    device_nodes = _device_nodes()
    driver = _loadable("libcuda.so.1")
    if not device_nodes or not driver:
        found = []
        if not device_nodes:
            found.append("no /dev/nvidia* device")
        if not driver:
            found.append("the NVIDIA driver library libcuda.so.1 cannot be loaded")
        problems.append(f"no CUDA device: {' and '.join(found)}")
    missing = [lib for lib in CUDA_LIBRARIES if not _loadable(lib)]
    if not getattr(gpu, "HAS_RMM", False):
        missing_rmm = "the RAPIDS 'rmm' Python package is not installed"
        problems.append(
            "CUDA libraries missing: "
            + missing_rmm
            + (f", and {', '.join(missing)} cannot be loaded" if missing else "")
        )
    elif missing:
        problems.append(f"CUDA libraries missing: {', '.join(missing)} cannot be loaded")
    gpu_notes = [m for m in _import_warnings if _is_gpu_note(m)]
    if gpu_notes:
        problems.append(f"implicit reported: {gpu_notes[-1]}")
    if not problems:
        problems.append(
            "implicit's CUDA extension did not load although a device and the libraries "
            "were found; see the warning implicit emits when imported"
        )
    return problems


def gpu_status() -> tuple[bool, str]:
    """Whether the ``"implicit-gpu"`` backend can run here, and why (not).

    It can when ``implicit.gpu.HAS_CUDA`` is true. Otherwise the reason says whether a
    CUDA device is missing, CUDA libraries are missing (which ones), or both, and what
    to install.

    Examples
    --------
    >>> ok, reason = gpu_status()
    >>> ok or "implicit.gpu.HAS_CUDA is False" in reason
    True
    """
    try:
        module = _import_implicit()
    except BackendUnavailableError as exc:
        return False, str(exc)
    gpu = importlib.import_module("implicit.gpu")
    if getattr(gpu, "HAS_CUDA", False):
        count = gpu.get_device_count() if hasattr(gpu, "get_device_count") else "?"
        return True, f"implicit {_version(module)}, CUDA ALS on {count} device(s)"
    problems = _gpu_problems(gpu)
    return False, (
        f"implicit {_version(module)} cannot train on a GPU here "
        f"(implicit.gpu.HAS_CUDA is False): {'; '.join(problems)}. To train on CUDA, run "
        f"on a machine with an NVIDIA GPU and driver and {GPU_INSTALL_HINT}; or use "
        "backend='implicit' (CPU) or backend='auto'."
    )


@contextlib.contextmanager
def blas_single_threaded() -> Iterator[None]:
    """Limit BLAS libraries to one thread inside the block, then restore them.

    Uses threadpoolctl; where it cannot be imported, the block runs unchanged.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> with blas_single_threaded():
    ...     inside = {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
    >>> inside <= {1}
    True
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


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
    name = type(exc).__name__
    if name == "ModelFitError":
        return BackendError(
            f"Backend {backend!r}: implicit's training diverged ({exc}). The confidence "
            "values are probably too large for float32: lower alpha or rescale the "
            "weights, or raise regularization."
        )
    if backend == "implicit-gpu" and isinstance(exc, ValueError) and "GPU" in str(exc):
        return BackendUnavailableError(
            f"Backend 'implicit-gpu': implicit refused to build a GPU model ({exc}). To "
            f"train on CUDA, {GPU_INSTALL_HINT}; or use backend='implicit'."
        )
    if isinstance(exc, RuntimeError) and backend == "implicit-gpu":
        return BackendError(
            f"Backend 'implicit-gpu': CUDA failed while training ({exc}). If the GPU ran "
            "out of memory, lower factors or train with backend='implicit'."
        )
    return BackendError(f"Backend {backend!r}: implicit failed while training: {name}: {exc}")


class _CallbackError(Exception):
    """Carries an exception raised by the user's progress callback through implicit."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


def _as_numpy(factors: Any) -> FactorMatrix:
    """implicit's factors (numpy, or implicit.gpu.Matrix) as C-contiguous float32."""
    if hasattr(factors, "to_numpy"):
        factors = factors.to_numpy()
    return cast("FactorMatrix", np.ascontiguousarray(factors, dtype=np.float32))


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
    >>> users, items = ImplicitBackend().fit(conf, ALSParams(factors=4, random_state=0))
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
        DataError
            The confidence matrix holds NaN, inf or negative values.
        BackendError
            implicit failed while training (its exception is chained).
        """
        matrix = _confidence_csr(confidence)
        implicit = _import_implicit()
        if self._gpu:
            ok, reason = gpu_status()
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
                    _as_numpy(model.user_factors),
                    _as_numpy(model.item_factors),
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
        with blas_single_threaded():
            try:
                model = implicit.als.AlternatingLeastSquares(
                    factors=params.factors,
                    regularization=params.regularization,
                    alpha=1.0,
                    dtype=np.float32,
                    use_cg=params.solver == "cg",
                    use_gpu=self._gpu,
                    iterations=params.iterations,
                    calculate_training_loss=False,
                    num_threads=params.num_threads,
                    random_state=seed,
                )
                model.cg_steps = steps
                model.fit(matrix, show_progress=False, callback=on_iteration)
                users = _as_numpy(model.user_factors)
                items = _as_numpy(model.item_factors)
            except _CallbackError as wrapped:
                raise wrapped.original from None
            except (AlsrecError, MemoryError):
                raise
            except Exception as exc:
                raise _translate(exc, self.name) from exc
        if not (np.isfinite(users).all() and np.isfinite(items).all()):
            raise BackendError(
                f"Backend {self.name!r}: training produced NaN or inf factors. Lower alpha "
                "or rescale the weights, or raise regularization."
            )
        return users, items


def unwrap_implicit_model(model: object) -> tuple[FactorMatrix, FactorMatrix, ALSParams, str]:
    """Factors, recorded hyperparameters and backend name of a trained implicit ALS model.

    Reads only implicit's public attributes: ``user_factors`` / ``item_factors`` (GPU
    factors are copied to the host with ``to_numpy()``), ``factors``,
    ``regularization``, ``iterations``, ``use_cg``, ``cg_steps``, ``num_threads`` and an
    int ``random_state``. implicit's ``alpha`` is *not* recorded: it scales the matrix
    implicit was given (``c = alpha * value``), which has no counterpart in alsrec's
    ``c = 1 + alpha * w``; the recorded ``alpha`` keeps its default.

    Raises
    ------
    ConfigError
        ``model`` is not an implicit ALS model.
    NotFittedError
        The model has no factors yet.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from implicit.als import AlternatingLeastSquares
    >>> model = AlternatingLeastSquares(factors=3, iterations=2, use_gpu=False)
    >>> model.fit(sp.csr_matrix(np.eye(4, dtype=np.float32)), show_progress=False)
    >>> users, items, params, name = unwrap_implicit_model(model)
    >>> users.shape, items.dtype, params.iterations, name
    ((4, 3), dtype('float32'), 2, 'implicit')
    """
    try:
        _import_implicit()
    except BackendUnavailableError as exc:
        raise ConfigError(
            f"Expected a trained implicit ALS model, got {type(model).__qualname__}; "
            f"implicit itself cannot be imported here."
        ) from exc
    cpu_class = importlib.import_module("implicit.cpu.als").AlternatingLeastSquares
    gpu_class = importlib.import_module("implicit.gpu.als").AlternatingLeastSquares
    on_gpu = isinstance(model, gpu_class)
    if not (on_gpu or isinstance(model, cpu_class)):
        raise ConfigError(
            f"Expected a trained implicit ALS model (implicit.cpu.als or implicit.gpu.als "
            f"AlternatingLeastSquares), got {type(model).__module__}."
            f"{type(model).__qualname__}. For factors from anything else, use "
            "Recommender.from_factors."
        )
    found: Any = model
    if found.user_factors is None or found.item_factors is None:
        raise NotFittedError(
            "This implicit model has no factors yet: call model.fit(user_items) first."
        )
    # Copies: implicit updates its factors in place (partial_fit_*), and a fitted
    # Recommender must not change under the user's feet.
    users = _as_numpy(found.user_factors).copy()
    items = _as_numpy(found.item_factors).copy()
    for side, arr in (("user", users), ("item", items)):
        if arr.ndim != 2:
            raise DataError(f"The implicit model's {side} factors have shape {arr.shape}.")
    seed = found.random_state
    random_state = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
    if random_state is not None and random_state < 0:
        random_state = None
    params = ALSParams(
        factors=max(1, users.shape[1]),
        regularization=found.regularization,
        iterations=int(found.iterations),
        random_state=random_state,
        solver="cg" if bool(getattr(found, "use_cg", True)) else "cholesky",
        cg_steps=max(1, int(getattr(found, "cg_steps", 3))),
        num_threads=max(0, int(getattr(found, "num_threads", 0))),
    )
    return users, items, params, "implicit-gpu" if on_gpu else "implicit"
