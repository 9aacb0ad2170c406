"""Training backends: the :class:`Backend` protocol, the registry, and the implementations.

A backend is chosen by name (``Recommender(backend="numpy")``) or passed as an instance
of any class that satisfies :class:`Backend`. The names:

``"numpy"``
    Pure numpy/scipy ALS (:class:`NumpyBackend`); always available.
``"implicit"``
    The ``implicit`` library's CPU ALS (:class:`ImplicitBackend`).
``"implicit-gpu"``
    The ``implicit`` library's CUDA ALS; raises
    :class:`~alsrec.BackendUnavailableError` saying why when CUDA is not usable.
``"spark"``
    Apache Spark MLlib's ALS (:class:`alsrec.spark.SparkBackend`; ``pip install
    "alsrec[spark]"`` and Java 17+); see :mod:`alsrec.spark`.
``"auto"``
    The first of ``"implicit-gpu"``, ``"implicit"``, ``"numpy"`` that can run here;
    the fitted model's ``backend_`` names the one used.

:func:`available` says which of them can run on this machine, and why not.

The registry imports an implementation module only when it is first asked for (by
:func:`get_backend`, :func:`available`, or the ``NumpyBackend`` / ``ImplicitBackend``
attributes of this package), so code that only loads and serves a model never imports a
training backend.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alsrec.backends._protocol import Backend, ProgressCallback
from alsrec.exceptions import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from alsrec.backends._implicit import ImplicitBackend
    from alsrec.backends._numpy import NumpyBackend
    from alsrec.params import ALSParams

__all__ = [
    "Backend",
    "BackendStatus",
    "ImplicitBackend",
    "NumpyBackend",
    "ProgressCallback",
    "available",
    "get_backend",
    "names",
    "status",
]


@dataclass(frozen=True)
class BackendStatus:
    """Whether a named backend can run on this machine, and why not if it cannot."""

    name: str
    available: bool
    reason: str


_LAZY_CLASSES = {
    "NumpyBackend": ("alsrec.backends._numpy", "NumpyBackend"),
    "ImplicitBackend": ("alsrec.backends._implicit", "ImplicitBackend"),
    # Deprecated aliases (moved to alsrec.interop.implicit), kept for one release.
    "gpu_status": ("alsrec.interop.implicit", "gpu_status"),
    "implicit_status": ("alsrec.interop.implicit", "implicit_status"),
}


def __getattr__(name: str) -> Any:
    """``NumpyBackend``, ``ImplicitBackend`` (and deprecated aliases), imported on first use."""
    try:
        module, attr = _LAZY_CLASSES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), attr)


def _lazy(module: str, attr: str) -> Callable[..., Any]:
    """A callable that imports ``module`` on its first call and calls ``module.attr``."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), attr)(*args, **kwargs)

    return call


def _numpy_status() -> tuple[bool, str]:
    return True, "pure numpy; always available"


_AUTO_ORDER = ("implicit-gpu", "implicit", "numpy")

_STATUS: dict[str, Callable[[], tuple[bool, str]]] = {
    "numpy": _numpy_status,
    "implicit": _lazy("alsrec.interop.implicit", "implicit_status"),
    "implicit-gpu": _lazy("alsrec.interop.implicit", "gpu_status"),
}


def _auto(params: ALSParams | None = None) -> Backend:
    """The first backend of ``_AUTO_ORDER`` that can run here and train ``params``: only
    numpy trains a frequency-scaled regularization (``regularization_exponent != 0``)."""
    if params is not None and params.scaled_regularization:
        return _FACTORIES["numpy"]()
    for name in _AUTO_ORDER:
        if _STATUS[name]()[0]:
            return _FACTORIES[name]()
    return _FACTORIES["numpy"]()


def _auto_status() -> tuple[bool, str]:
    skipped: list[str] = []
    for name in _AUTO_ORDER:
        if _STATUS[name]()[0]:
            note = f" ({'; '.join(skipped)})" if skipped else ""
            return True, f"resolves to {name!r} on this machine{note}"
        skipped.append(f"{name!r} cannot run")
    return True, "resolves to 'numpy'"


_STATUS["auto"] = _auto_status
_STATUS["spark"] = _lazy("alsrec.spark.engine", "spark_availability")

_FACTORIES: dict[str, Callable[[], Backend]] = {
    "auto": _auto,
    "implicit": _lazy("alsrec.backends._implicit", "ImplicitBackend"),
    "implicit-gpu": lambda: _lazy("alsrec.backends._implicit", "ImplicitBackend")(gpu=True),
    "numpy": _lazy("alsrec.backends._numpy", "NumpyBackend"),
    "spark": _lazy("alsrec.spark.backend", "SparkBackend"),
}


def names() -> tuple[str, ...]:
    """Return the backend names :func:`get_backend` accepts.

    Examples
    --------
    >>> names()
    ('auto', 'implicit', 'implicit-gpu', 'numpy', 'spark')
    """
    return tuple(sorted(_FACTORIES))


def get_backend(backend: str | Backend, params: ALSParams | None = None) -> Backend:
    """Return a backend instance for a registry name, or ``backend`` itself.

    ``params``, when given, lets ``"auto"`` pass over a backend that cannot train them.

    Raises
    ------
    ConfigError
        If ``backend`` is an unknown name or an object that is not a :class:`Backend`.

    Examples
    --------
    >>> get_backend("numpy").name
    'numpy'
    """
    if isinstance(backend, str):
        try:
            factory = _FACTORIES[backend]
        except KeyError:
            raise ConfigError(
                f"Unknown backend {backend!r}; choose one of {list(names())} "
                "or pass an object implementing alsrec.backends.Backend."
            ) from None
        return _auto(params) if backend == "auto" else factory()
    if isinstance(backend, Backend) and not isinstance(backend, type):
        return backend  # (a class passes the protocol's check too: its methods are there)
    raise ConfigError(_not_a_backend(backend))


def _not_a_backend(value: object) -> str:
    if isinstance(value, type):  # NumpyBackend for NumpyBackend(): the class, not one
        return (
            f"backend must be a name or a backend instance, got the class "
            f"{value.__name__}; did you mean {value.__name__}()?"
        )
    return f"backend must be a name or an alsrec.backends.Backend, got {type(value).__name__}."


def available() -> list[BackendStatus]:
    """List every named backend with whether it can run here, and why not.

    ``"auto"`` is always available; its reason names the backend it resolves to.

    Examples
    --------
    >>> "numpy" in [s.name for s in available() if s.available]
    True
    >>> [s.name for s in available()] == list(names())
    True
    """
    return [status(name) for name in names()]


def status(name: str) -> BackendStatus:
    """Whether the named backend can run on this machine, and why not if it cannot
    (probing ``implicit`` imports it; a name without a probe counts as runnable).

    Examples
    --------
    >>> status("numpy").available
    True
    """
    probe = _STATUS.get(name)
    ok, reason = probe() if probe is not None else (True, "registered")
    return BackendStatus(name, ok, reason)
