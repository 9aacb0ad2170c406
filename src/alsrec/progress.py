"""A tiny text progress bar on stderr (no dependency), for loads, training and searches.

One :class:`ProgressBar` draws every bar alsrec shows: the readers' load bar
(:meth:`ProgressBar.update` / :meth:`ProgressBar.close`: percent, rows, rate, ETA) and the
command line's bars for training sweeps and tuning trials (:meth:`ProgressBar.step`: a
counted bar with a caller's text, such as the training loss).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

from alsrec.exceptions import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ProgressBar", "ProgressOption"]

ProgressOption = bool | TextIO | None
"""``None``: a bar on stderr only if it is a terminal and the load takes a while;
``True``: always a bar on stderr; ``False``: never; a text stream: always, on that stream."""

_WIDTH = 24
_STEP_WIDTH = 20


def _human(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:.0f}"


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def check_progress(option: object) -> None:
    """Refuse a ``progress`` option that is not True, False, None or a text stream.

    Examples
    --------
    >>> check_progress(None)
    >>> check_progress("yes")
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: progress must be True, False, None or a text stream ...
    """
    if not (option is None or isinstance(option, bool) or hasattr(option, "write")):
        raise ConfigError(
            "progress must be True, False, None or a text stream (an object with a write "
            f"method, such as sys.stderr), got {option!r}."
        )


class ProgressBar:
    """A one-line ``\\r``-redrawn bar: percent (when the total is known), rows, rate, ETA.

    Parameters
    ----------
    label
        What is being loaded (a file name, ``"query"``); not shown by :meth:`step`.
    total
        Total units of work (bytes of a file, sweeps, trials), or ``None`` when unknown.
    option
        See :data:`ProgressOption`.
    delay
        With ``option=None``, nothing is drawn before this many seconds have passed,
        so quick loads stay silent.
    clock
        Time source (seconds); injectable for tests.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> ticks = iter([0.0, 1.0, 2.0])
    >>> bar = ProgressBar("data.csv", total=200, option=out, clock=lambda: next(ticks))
    >>> bar.update(100, rows=5000)
    >>> bar.close(200, rows=10000)
    >>> print(out.getvalue().replace(chr(13), chr(10)).strip())
    data.csv   50.0% |############............|  ETA 0:01  5.0k rows  5.0k rows/s  0:01
    data.csv  100.0% |########################|  10.0k rows  5.0k rows/s  0:02
    """

    def __init__(
        self,
        label: str,
        total: int | None,
        option: ProgressOption,
        *,
        delay: float = 1.0,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        check_progress(option)
        self._label = label
        self._total = total if total and total > 0 else None
        self._clock = clock
        self._start = clock()
        self._last_draw = -float("inf")
        self._interval = interval
        self._drawn = False
        stream: TextIO | None
        if option is None:
            stream = sys.stderr
            isatty = getattr(stream, "isatty", None)
            self._enabled = bool(isatty is not None and isatty())
            self._delay = delay
        elif option is True:
            stream, self._enabled, self._delay = sys.stderr, True, 0.0
        elif option is False:
            stream, self._enabled, self._delay = None, False, 0.0
        else:
            stream, self._enabled, self._delay = option, True, 0.0
        self._stream = stream

    @property
    def enabled(self) -> bool:
        """Whether this bar may draw at all."""
        return self._enabled

    def update(self, done: int, rows: int) -> None:
        """Record progress: ``done`` units of ``total``, ``rows`` rows so far."""
        if not self._enabled:
            return
        now = self._clock()
        if now - self._start < self._delay or now - self._last_draw < self._interval:
            return
        self._draw(done, rows, now, final=False)

    def close(self, done: int, rows: int) -> None:
        """Draw the final state (if anything was drawn, or drawing is forced) and end the line."""
        if not self._enabled:
            return
        now = self._clock()
        if self._drawn or now - self._start >= self._delay:
            self._draw(done, rows, now, final=True)

    def step(self, done: int, text: str = "") -> None:
        """Draw a counted bar, ``[####....] done/total  text``, after each unit of work.

        On a terminal the line is redrawn in place (ended at ``done == total``); on any
        other stream every step is a line of its own, so logs keep the history. Needs a
        known ``total`` (sweeps, trials); ``delay`` and ``interval`` do not apply.

        Examples
        --------
        >>> import io
        >>> out = io.StringIO()
        >>> bar = ProgressBar("train", total=4, option=out)
        >>> bar.step(1, "loss 0.5")
        >>> bar.step(4, "loss 0.1")
        >>> print(out.getvalue(), end="")
        [#####...............] 1/4  loss 0.5
        [####################] 4/4  loss 0.1
        """
        if not self._enabled:
            return
        assert self._stream is not None
        total = self._total or max(done, 1)
        filled = round(_STEP_WIDTH * done / total)
        line = f"[{'#' * filled}{'.' * (_STEP_WIDTH - filled)}] {done:>{len(str(total))}}/{total}"
        line += f"  {text}" if text else ""
        isatty = getattr(self._stream, "isatty", None)
        if isatty is not None and isatty():
            self._stream.write("\r" + line + ("\n" if done >= total else ""))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
        self._drawn = True

    def _draw(self, done: int, rows: int, now: float, *, final: bool) -> None:
        assert self._stream is not None
        elapsed = now - self._start
        rate = rows / elapsed if elapsed > 0 else 0.0
        parts = [self._label]
        if self._total is not None:
            frac = min(1.0, max(0.0, done / self._total))
            filled = int(frac * _WIDTH)
            parts.append(f"{100 * frac:5.1f}% |{'#' * filled}{'.' * (_WIDTH - filled)}|")
            if not final and 0 < frac < 1 and elapsed > 0:
                parts.append(f"ETA {_clock(elapsed * (1 - frac) / frac)}")
        parts.append(f"{_human(rows)} rows")
        if elapsed > 0:
            parts.append(f"{_human(rate)} rows/s")
        parts.append(_clock(elapsed))
        line = "  ".join(parts)
        self._stream.write("\r" + line + ("\n" if final else ""))
        self._stream.flush()
        self._drawn = True
        self._last_draw = now
