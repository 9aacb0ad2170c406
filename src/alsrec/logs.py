"""alsrec's logger, ``logging.getLogger("alsrec")``, and the one way alsrec warns.

Nothing is printed unless the application configures logging (the logger has a
:class:`logging.NullHandler`). What is logged:

- ``INFO``: the start and end of :meth:`alsrec.Recommender.fit` (users, items,
  interactions, backend, factors, iterations, threads, seconds);
- ``DEBUG``: resolved defaults (DataFrame columns found by name, the backend and the thread
  count a fit resolved to), queries answered by the popularity fallback and IDs skipped
  under the ``"safe"`` policy;
- ``WARNING``: every :class:`~alsrec.AlsrecWarning` alsrec issues, also logged here
  (:func:`warn`), so a service that collects logs sees them without a warnings filter.

Examples
--------
>>> import logging
>>> logging.getLogger("alsrec") is logger
True
>>> any(isinstance(h, logging.NullHandler) for h in logger.handlers)
True
"""

from __future__ import annotations

import inspect
import logging
import warnings

from alsrec.exceptions import AlsrecWarning

__all__ = ["logger", "warn"]

logger = logging.getLogger("alsrec")
"""The ``"alsrec"`` logger; configure it (or the root logger) to see alsrec's messages."""
if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
    logger.addHandler(logging.NullHandler())


def warn(
    message: str, category: type[Warning] = AlsrecWarning, *, stacklevel: int | None = 2
) -> None:
    """Issue ``message`` as a warning and log it at ``WARNING`` on the ``alsrec`` logger.

    ``stacklevel`` counts as in :func:`warnings.warn` from the caller's point of view;
    ``None`` points the warning at the first caller outside alsrec, however deep inside
    alsrec the call came from.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("something to know")
    >>> str(caught[0].message)
    'something to know'
    """
    logger.warning("%s", message)
    level = _outside_alsrec() if stacklevel is None else stacklevel + 1
    warnings.warn(message, category, stacklevel=level)


def _outside_alsrec() -> int:
    """The ``stacklevel`` of :func:`warn`'s ``warnings.warn`` call that names the first
    frame outside the ``alsrec`` package."""
    level, frame = 2, inspect.currentframe()
    frame = frame.f_back.f_back if frame is not None and frame.f_back is not None else None
    while frame is not None and str(frame.f_globals.get("__name__", "")).split(".")[0] == "alsrec":
        frame, level = frame.f_back, level + 1
    return level
