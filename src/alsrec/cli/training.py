"""Building and training a model from the hyperparameter flags, with a loss progress bar;
splitting the data as the split flags say."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from alsrec import BackendUnavailableError, ConfigError, Recommender, evaluation
from alsrec.backends import status as backend_status
from alsrec.cli.options import SPLIT_DEFAULTS, params_from
from alsrec.cli.sources import read_interactions
from alsrec.model import loss_monitor

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

    from alsrec import Interactions
    from alsrec.backends import ProgressCallback

__all__ = [
    "check_backend",
    "check_split_options",
    "fit",
    "make_recommender",
    "split_interactions",
]


def check_backend(name: str) -> None:
    """Refuse an ``implicit`` backend that cannot run here, before any data is read.

    Probing it imports ``implicit`` (which training would do anyway) and, for
    ``implicit-gpu``, looks for CUDA: far cheaper than reading the data only to fail when
    training starts. ``numpy`` and ``auto`` always run; ``spark`` is left to training, as
    probing it means importing pyspark and finding Java.
    """
    if name not in ("implicit", "implicit-gpu"):
        return
    probe = backend_status(name)
    if not probe.available:
        raise BackendUnavailableError(f"Backend {name!r} cannot run: {probe.reason}")


def make_recommender(args: argparse.Namespace) -> Recommender:
    """An unfitted model with every hyperparameter flag, the backend and the policy.

    The flags are validated here (by ``ALSParams``, the backend lookup and
    :func:`check_backend`), before any data is read.
    """
    params = params_from(args)
    rec = Recommender(backend=args.backend, policy=args.policy, params=params)
    check_backend(args.backend)
    return rec


def _loss_bar(rec: Recommender, data: Interactions, err: TextIO) -> ProgressCallback:
    """A callback drawing one bar step per sweep, with the training loss."""
    return loss_monitor(data, rec.params, progress=err)


def fit(rec: Recommender, data: Interactions, progress: bool, err: TextIO) -> float:
    """Train ``rec`` on ``data`` (a loss bar on ``err`` with ``progress``); return seconds."""
    callback = _loss_bar(rec, data, err) if progress else None
    start = time.perf_counter()
    rec.fit(data, callback=callback)
    return time.perf_counter() - start


_USED_BY = {
    "test_fraction": ("holdout", "time"),
    "leave_k": ("leave-k-out",),
    "time_col": ("time",),
    "time_mode": ("time",),
}
"""Each split setting and the methods that use it."""


def check_split_options(args: argparse.Namespace, method: str, flag: str) -> None:
    """Refuse a split setting that was given but that ``method`` does not use (usage error).

    ``flag`` is the command's method flag (``--method`` or ``--split``).
    """
    for name, methods in _USED_BY.items():
        if getattr(args, name) is not None and method not in methods:
            users = " or ".join(f"{flag} {m}" for m in methods)
            raise ConfigError(
                f"--{name.replace('_', '-')} is only used by {users}, not by {flag} {method}; "
                f"drop it or choose {users}."
            )
    if method == "time" and args.time_col is None:
        raise ConfigError("A time split needs --time-col (the timestamp column).")


def _setting(args: argparse.Namespace, name: str) -> Any:
    """A split setting as given, or its default."""
    value = getattr(args, name)
    return SPLIT_DEFAULTS[name] if value is None else value


def split_interactions(
    args: argparse.Namespace, method: str, flag: str
) -> tuple[Interactions, Interactions, dict[str, Any]]:
    """Read the data (with its timestamps for a time split) and split it by ``method``.

    ``method`` is ``holdout``, ``leave-k-out`` or ``time`` (chosen by ``flag``); the other
    settings come from ``--test-fraction``, ``--leave-k``, ``--time-col``, ``--time-mode``
    and ``--random-state``, and one that ``method`` does not use is refused before the data
    is read. Returns ``(train, test, description)``.
    """
    check_split_options(args, method, flag)
    seed = args.random_state
    fraction = _setting(args, "test_fraction")
    if method == "time":
        mode = _setting(args, "time_mode")
        data = read_interactions(args, timestamp=args.time_col)
        train, test = evaluation.time_split(data, test_fraction=fraction, mode=mode)
        return train, test, {"kind": "time", "mode": mode, "test_fraction": fraction}
    data = read_interactions(args)
    if method == "leave-k-out":
        k = _setting(args, "leave_k")
        train, test = evaluation.leave_k_out_split(data, k, random_state=seed)
        return train, test, {"kind": "leave-k-out", "k": k, "random_state": seed}
    train, test = evaluation.holdout_split(data, fraction, random_state=seed)
    split = {"kind": "holdout", "test_fraction": fraction, "random_state": seed}
    return train, test, split
