"""The one place that imports ``implicit``: probing it, and reading its trained models.

The implicit backends (:mod:`alsrec.backends`), :meth:`alsrec.Recommender.from_implicit`
and the legacy pickle import (:mod:`alsrec.io.legacy`) all go through this module.
``implicit`` is imported lazily, on first use, so ``import alsrec`` keeps working where it
cannot be imported.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import importlib
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from alsrec._threads import single_threaded_blas
from alsrec.exceptions import (
    AlsrecWarning,
    BackendUnavailableError,
    ConfigError,
    DataError,
    NotFittedError,
)
from alsrec.logs import logger
from alsrec.params import ALSParams

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

    from alsrec.types import FactorMatrix

__all__ = [
    "CUDA_LIBRARIES",
    "GPU_INSTALL_HINT",
    "ImplicitModel",
    "alpha_for",
    "as_numpy",
    "blas_single_threaded",
    "gpu_status",
    "implicit_status",
    "import_implicit",
    "params_with_seen",
    "read_implicit_model",
    "version",
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


def import_implicit() -> ModuleType:
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
            logger.warning("%s", note.message)
            warnings.warn_explicit(note.message, note.category, note.filename, note.lineno)
    return module


def version(module: ModuleType) -> str:
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
        module = import_implicit()
    except BackendUnavailableError as exc:
        return False, str(exc)
    return True, f"implicit {version(module)}, CPU (Cython) ALS"


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
        module = import_implicit()
    except BackendUnavailableError as exc:
        return False, str(exc)
    gpu = importlib.import_module("implicit.gpu")
    if getattr(gpu, "HAS_CUDA", False):
        count = gpu.get_device_count() if hasattr(gpu, "get_device_count") else "?"
        return True, f"implicit {version(module)}, CUDA ALS on {count} device(s)"
    problems = _gpu_problems(gpu)
    return False, (
        f"implicit {version(module)} cannot train on a GPU here "
        f"(implicit.gpu.HAS_CUDA is False): {'; '.join(problems)}. To train on CUDA, run "
        f"on a machine with an NVIDIA GPU and driver and {GPU_INSTALL_HINT}; or use "
        "backend='implicit' (CPU) or backend='auto'."
    )


@contextlib.contextmanager
def blas_single_threaded() -> Iterator[None]:
    """Limit BLAS libraries to one thread inside the block, then restore them.

    implicit asks for single-threaded BLAS while it trains. This is alsrec's one BLAS
    scope (process-wide, shared by overlapping calls, restored when the last leaves);
    ``ALSREC_BLAS_THREADS=keep`` leaves BLAS alone here too, and implicit then warns
    about threaded BLAS itself.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> with blas_single_threaded():
    ...     inside = {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
    >>> inside <= {1}
    True
    """
    with single_threaded_blas():
        yield


def as_numpy(factors: Any) -> FactorMatrix:
    """implicit's factors (numpy, or implicit.gpu.Matrix) as C-contiguous float32."""
    if hasattr(factors, "to_numpy"):
        factors = factors.to_numpy()
    return cast("FactorMatrix", np.ascontiguousarray(factors, dtype=np.float32))


@dataclass(frozen=True)
class ImplicitModel:
    """What :func:`read_implicit_model` reads from a trained implicit model.

    Attributes
    ----------
    user_factors, item_factors : numpy.ndarray of float32
        Copies of the factors (implicit updates its own in place).
    params : ALSParams
        The hyperparameters whose meaning is the same in alsrec.
    backend : {"implicit", "implicit-gpu"}
        Which implicit engine trained it.
    raw_params : dict
        The implicit attributes as read (JSON-compatible scalars), ``alpha`` included.
    """

    user_factors: FactorMatrix
    item_factors: FactorMatrix
    params: ALSParams
    backend: str
    raw_params: dict[str, Any] = field(default_factory=dict)


_PARAM_KEYS = (
    "factors",
    "regularization",
    "alpha",
    "iterations",
    "use_cg",
    "cg_steps",
    "num_threads",
    "random_state",
)


def _raw_params(model: object) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for key in _PARAM_KEYS:
        if not hasattr(model, key):
            continue
        value = getattr(model, key)
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            continue  # JSON (a manifest) has no NaN or infinity
        if isinstance(value, (bool, int, float, str)) or value is None:
            raw[key] = value
    return raw


def alpha_for(
    implicit_alpha: float, weights: npt.NDArray[Any] | None = None
) -> tuple[float, str | None]:
    """alsrec's ``alpha`` for a model implicit trained with ``implicit_alpha`` on
    ``weights`` (the stored values of its training matrix; ``None``: unit weights), and
    what is not exact, or ``None``.

    implicit's confidence of an observed pair is ``implicit_alpha * w`` (unobserved pairs
    1); alsrec's is ``1 + alpha * w``. They agree exactly when every weight is the same
    ``w0``, with ``alpha = (implicit_alpha * w0 - 1) / w0`` (``implicit_alpha - 1`` on
    binary data), as long as that is not negative. With varying weights no ``alpha``
    makes them agree: ``implicit_alpha`` is kept, and the confidences differ by 1 per pair.

    Examples
    --------
    >>> alpha_for(1.0), alpha_for(40.0)  # implicit's default on binary data: c = 1
    ((0.0, None), (39.0, None))
    >>> alpha_for(2.0, np.array([1.0, 3.0]))[0]
    2.0
    """
    values = np.ones(1) if weights is None or np.size(weights) == 0 else np.asarray(weights)
    low, high = float(values.min()), float(values.max())
    if low == high:
        alpha = (implicit_alpha * low - 1.0) / low
        if alpha >= 0:
            return alpha, None
        return 0.0, (
            f"implicit trained with confidence {implicit_alpha:g} x {low:g} < 1 per observed "
            "pair, below alsrec's smallest (1): fold-in and explain use alpha 0 (confidence 1)"
        )
    return implicit_alpha, (
        f"implicit trained with confidence alpha x w ({implicit_alpha:g} x w), alsrec's is "
        "1 + alpha x w: with weights that vary no alpha makes them equal, so fold-in and "
        "explain differ from training by a confidence of 1 per pair (pass alpha= to choose)"
    )


def _implicit_alpha(raw: dict[str, Any]) -> float:
    """implicit's ``alpha`` as read (1, implicit's default, where absent or invalid)."""
    value = raw.get("alpha", 1.0)
    return float(value) if isinstance(value, (int, float)) and value > 0 else 1.0


def params_with_seen(read: ImplicitModel, seen: object) -> ALSParams:
    """``read.params`` with ``alpha`` translated for the weights of ``seen`` (the training
    matrix, or ``None``: unit weights), and an :class:`~alsrec.AlsrecWarning` when no
    ``alpha`` reproduces implicit's confidences (:func:`alpha_for`)."""
    weights = None if seen is None else getattr(seen, "data", None)
    alpha, note = alpha_for(_implicit_alpha(read.raw_params), weights)
    if note:
        warnings.warn(f"from_implicit: {note}.", AlsrecWarning, stacklevel=3)
    return dataclasses.replace(read.params, alpha=alpha)


def _params(raw: dict[str, Any], factors: int) -> ALSParams:
    """The parameters whose meaning is the same in alsrec (invalid values are dropped),
    and ``alpha`` translated for unit weights (:func:`alpha_for`; a number, not
    ``"auto"``: the factors were trained with one, whatever the data would resolve to)."""
    base: dict[str, Any] = {"factors": max(1, factors), "alpha": alpha_for(_implicit_alpha(raw))[0]}
    candidates = {
        "regularization": raw.get("regularization"),
        "iterations": raw.get("iterations"),
        "cg_steps": raw.get("cg_steps"),
        "num_threads": raw.get("num_threads"),
        "random_state": raw.get("random_state"),
        "solver": None if "use_cg" not in raw else ("cg" if raw["use_cg"] else "cholesky"),
    }
    for key, value in candidates.items():
        if value is None:
            continue
        try:
            ALSParams.from_dict({**base, key: value})
        except (ConfigError, TypeError):
            continue
        base[key] = value
    return ALSParams.from_dict(base)


def _check_class(model: object) -> bool:
    """Whether ``model`` is implicit's GPU ALS; :class:`ConfigError` if it is no ALS."""
    try:
        import_implicit()
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
    return on_gpu


def _factor(model: object, name: str) -> FactorMatrix:
    value = getattr(model, name, None)
    if value is None:
        raise NotFittedError(
            f"the model has no {name}: it was never fitted (call model.fit(user_items) "
            f"first), or it is not an implicit matrix-factorization model "
            f"({type(model).__name__})."
        )
    to_numpy = getattr(value, "to_numpy", None)
    if not isinstance(value, np.ndarray) and callable(to_numpy):
        value = to_numpy()
    arr = np.asarray(value)
    if arr.ndim != 2 or arr.dtype.kind not in "fiu":
        raise DataError(
            f"model.{name} is not a numeric matrix (dtype {arr.dtype}, shape {arr.shape})."
        )
    # A copy: implicit updates its factors in place (partial_fit_*), and a fitted model
    # must not change under the user's feet.
    return cast("FactorMatrix", np.array(arr, dtype=np.float32, order="C"))


def read_implicit_model(model: object, *, check_class: bool = True) -> ImplicitModel:
    """Factors and hyperparameters of a trained implicit ALS model (CPU or GPU).

    Reads only implicit's public attributes: ``user_factors`` / ``item_factors`` (GPU
    factors are copied to the host with ``to_numpy()``; a model whose factors offer
    neither is converted with ``to_cpu()`` first), ``factors``, ``regularization``,
    ``iterations``, ``use_cg``, ``cg_steps``, ``num_threads`` and an int
    ``random_state``; invalid values are left at alsrec's defaults. implicit's ``alpha``
    is translated for unit weights (:func:`alpha_for`) and kept as read in ``raw_params``.

    Parameters
    ----------
    model : object
        The implicit model.
    check_class : bool, default True
        Require implicit's ``AlternatingLeastSquares`` class (CPU or GPU). The legacy
        import passes ``False``: what a pickle holds is checked by its attributes only.

    Raises
    ------
    ConfigError
        ``model`` is not an implicit ALS model (with ``check_class``).
    NotFittedError
        The model has no factors yet.
    DataError
        The factors are not numeric matrices, or ``to_cpu()`` failed.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from implicit.als import AlternatingLeastSquares
    >>> model = AlternatingLeastSquares(factors=3, iterations=2, use_gpu=False)
    >>> model.fit(sp.csr_matrix(np.eye(4, dtype=np.float32)), show_progress=False)
    >>> read = read_implicit_model(model)
    >>> read.user_factors.shape, read.item_factors.dtype, read.params.iterations, read.backend
    ((4, 3), dtype('float32'), 2, 'implicit')
    """
    on_gpu = _check_class(model) if check_class else False
    found: Any = model
    factors_found = [getattr(model, n, None) for n in ("user_factors", "item_factors")]
    usable = all(
        f is None or isinstance(f, np.ndarray) or callable(getattr(f, "to_numpy", None))
        for f in factors_found
    )
    to_cpu = getattr(model, "to_cpu", None)
    if not usable and callable(to_cpu) and None not in factors_found:
        try:
            found = to_cpu()
        except Exception as exc:  # translate whatever the GPU library raises
            raise DataError(f"model.to_cpu() failed: {type(exc).__name__}: {exc}") from exc
    users = _factor(found, "user_factors")
    items = _factor(found, "item_factors")
    raw = _raw_params(found)
    return ImplicitModel(
        users,
        items,
        _params(raw, int(users.shape[1])),
        "implicit-gpu" if on_gpu else "implicit",
        raw,
    )
