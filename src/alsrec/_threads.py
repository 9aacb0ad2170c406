"""alsrec's worker threads and the BLAS thread pool (private).

alsrec parallelizes training and batch queries with its own threads, each making many
moderate BLAS calls. Threaded BLAS under those workers oversubscribes the cores: with no
environment variable set, OpenBLAS starts one thread per core, and on a 2-core machine the
numpy backend's ``fit`` ran 3-9x slower than with single-threaded BLAS.

So alsrec's heavy calls (numpy-backend training, batch fold-in, batch scoring, and with
them evaluation and tuning, which are made of those) run inside
:func:`single_threaded_blas`: a process-wide, reference-counted scope. The first call to
enter sets every BLAS library that threadpoolctl sees to one thread; calls that overlap it
(from other threads) share the setting; the last to leave restores the previous thread
counts, also when the body raises. Meanwhile *every* BLAS call of the process runs
single-threaded, including those of the application's other threads: OpenBLAS has one
process-wide setting.

Opt-out: the environment variable ``ALSREC_BLAS_THREADS=keep`` (read at each call), or
:data:`KEEP_BLAS_THREADS` set to ``True``, leaves BLAS alone: alsrec then only reads the
setting and runs ``num_threads`` workers next to single-threaded BLAS and one worker
(BLAS's own threads doing the parallel work) next to threaded BLAS. Without threadpoolctl
(it comes with implicit but is not a dependency of alsrec) the scope does nothing either.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "KEEP_BLAS_THREADS",
    "blas_threads",
    "manages_blas",
    "single_threaded_blas",
    "worker_count",
]

KEEP_BLAS_THREADS = False
"""``True``: never change the BLAS thread count (as ``ALSREC_BLAS_THREADS=keep``)."""

ENV_VAR = "ALSREC_BLAS_THREADS"

_lock = threading.Lock()  # guards the controller, the depth and the saved counts
_controller: Any = None
_modules_seen = -1  # len(sys.modules) when the controller was made
_NO_CONTROLLER = object()
_depth = 0
_saved: list[tuple[Any, int]] = []  # (library controller, its thread count before)


def _get_controller() -> Any:
    """threadpoolctl's view of the loaded libraries, inspected again whenever modules were
    imported since the last look: a BLAS library loaded later (scipy's own OpenBLAS comes
    with ``scipy.linalg`` or ``scipy.sparse.linalg``, separate from numpy's) would
    otherwise keep its threads inside the scope."""
    global _controller, _modules_seen
    with _lock:
        if _controller is not _NO_CONTROLLER and _modules_seen != len(sys.modules):
            try:
                from threadpoolctl import ThreadpoolController

                _controller = ThreadpoolController()  # about 1 ms: inspects loaded libraries
            except Exception:  # pragma: no cover - threadpoolctl comes with implicit
                _controller = _NO_CONTROLLER
            _modules_seen = len(sys.modules)
        return None if _controller is _NO_CONTROLLER else _controller


def _blas_libraries() -> list[Any]:
    controller = _get_controller()
    if controller is None:
        return []
    return [lib for lib in controller.lib_controllers if lib.user_api == "blas"]


def _set_threads(lib: Any, count: int) -> None:
    """Set one library's thread count from whichever thread calls.

    threadpoolctl (>= 3.8) ignores ``set_num_threads`` of a pthreads OpenBLAS from any
    thread but the one that changed it first (its "controlling thread"), so a restore by
    the last alsrec call to leave, on another thread, would be lost. alsrec serializes its
    own changes (lock and counter), so it releases that control around each change with
    threadpoolctl's public ``clear_controlling_thread(force=True)``, leaving no thread in
    control afterwards; older threadpoolctl versions have no such rule.
    """
    release = getattr(type(lib), "clear_controlling_thread", None)
    if release is not None:
        release(force=True)
    lib.set_num_threads(count)
    if release is not None:
        release(force=True)


def blas_threads() -> int | None:
    """The largest thread count of the loaded BLAS libraries (``None``: unknown)."""
    counts = [int(lib.num_threads) for lib in _blas_libraries()]
    return max(counts) if counts else None


def manages_blas() -> bool:
    """Whether :func:`single_threaded_blas` changes BLAS (not opted out, threadpoolctl there)."""
    if KEEP_BLAS_THREADS or os.environ.get(ENV_VAR, "").strip().lower() == "keep":
        return False
    return bool(_blas_libraries())


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block with single-threaded BLAS, process-wide; restore it when the last
    overlapping block leaves (see the module docstring). Re-entrant and thread-safe.

    Examples
    --------
    >>> from alsrec._threads import blas_threads, manages_blas, single_threaded_blas
    >>> with single_threaded_blas():
    ...     inside = blas_threads()
    >>> inside == 1 or not manages_blas()
    True
    """
    global _depth, _saved
    if not manages_blas():
        yield
        return
    libraries = _blas_libraries()
    with _lock:
        if _depth == 0:
            _saved = []
        # At every entry, not only the first: a library loaded inside an outer block (an
        # import there) is set to one thread too, and restored with the others.
        for lib in libraries:
            before = int(lib.num_threads)
            if before != 1:
                _set_threads(lib, 1)
                _saved.append((lib, before))
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for lib, before in _saved:
                    _set_threads(lib, before)
                _saved = []


def worker_count(num_threads: int) -> int:
    """alsrec's own threads for ``num_threads`` (``0``: one per core).

    ``num_threads`` workers when alsrec's heavy calls run under
    :func:`single_threaded_blas` (the default) or BLAS is single-threaded anyway; one
    worker when BLAS is left threaded (opt-out, or no threadpoolctl) so that BLAS's own
    threads do the parallel work.
    """
    wanted = num_threads if num_threads > 0 else (os.cpu_count() or 1)
    if wanted == 1 or manages_blas():
        return wanted
    return wanted if blas_threads() == 1 else 1
