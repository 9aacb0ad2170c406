"""How many worker threads alsrec may use next to BLAS (private).

alsrec parallelizes training and batch queries with its own threads, each making many
moderate BLAS calls. Threaded BLAS under parallel workers oversubscribes the cores (on a
busy 2-core machine: 4x slower training, up to 7x slower batch scoring), and changing the
process-wide BLAS setting from library code is unsafe when several threads call alsrec at
once. So alsrec never changes it: it reads it. With single-threaded BLAS (the setting
implicit also asks for: ``OPENBLAS_NUM_THREADS=1`` or
``threadpoolctl.threadpool_limits(1, "blas")``) alsrec runs ``num_threads`` workers;
with threaded BLAS it runs one, and BLAS's threads do the parallel work.
"""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["blas_threads", "worker_count"]

_lock = threading.Lock()
_controller: Any = None
_NO_CONTROLLER = object()


def _get_controller() -> Any:
    global _controller
    with _lock:
        if _controller is None:
            try:
                from threadpoolctl import ThreadpoolController

                _controller = ThreadpoolController()  # inspecting the libraries: ~0.1 ms
            except Exception:  # pragma: no cover - threadpoolctl comes with implicit
                _controller = _NO_CONTROLLER
        return None if _controller is _NO_CONTROLLER else _controller


def blas_threads() -> int | None:
    """The largest thread count of the loaded BLAS libraries (``None``: unknown)."""
    controller = _get_controller()
    if controller is None:
        return None
    counts = [int(lib.num_threads) for lib in controller.lib_controllers if lib.user_api == "blas"]
    return max(counts) if counts else None


def worker_count(num_threads: int) -> int:
    """alsrec's own threads for ``num_threads`` (``0``: one per core), given BLAS's.

    ``num_threads`` workers when BLAS runs single-threaded, else one.
    """
    wanted = num_threads if num_threads > 0 else (os.cpu_count() or 1)
    return wanted if blas_threads() == 1 else 1
