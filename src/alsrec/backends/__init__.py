"""Training backends: the :class:`Backend` protocol, the registry, and the implementations.

A backend is chosen by name (``Recommender(backend="numpy")``) or passed as an instance
of any class that satisfies :class:`Backend`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from alsrec.backends._numpy import NumpyBackend
from alsrec.backends._protocol import Backend, ProgressCallback
from alsrec.exceptions import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "Backend",
    "BackendStatus",
    "NumpyBackend",
    "ProgressCallback",
    "available",
    "get_backend",
    "names",
]


@dataclass(frozen=True)
class BackendStatus:
    """Whether a named backend can run on this machine, and why not if it cannot."""

    name: str
    available: bool
    reason: str


_FACTORIES: dict[str, Callable[[], Backend]] = {
    "numpy": NumpyBackend,
}


def names() -> tuple[str, ...]:
    """Return the backend names :func:`get_backend` accepts.

    Examples
    --------
    >>> "numpy" in names()
    True
    """
    return tuple(sorted(_FACTORIES))


def get_backend(backend: str | Backend) -> Backend:
    """Return a backend instance for a registry name, or ``backend`` itself.

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
        return factory()
    if isinstance(backend, Backend):
        return backend
    raise ConfigError(
        f"backend must be a name or an alsrec.backends.Backend, got {type(backend).__name__}."
    )


def available() -> list[BackendStatus]:
    """List every named backend with whether it can run here, and why not.

    Examples
    --------
    >>> "numpy" in [s.name for s in available() if s.available]
    True
    """
    return [BackendStatus(name, True, "pure numpy; always available") for name in names()]
