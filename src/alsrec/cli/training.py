"""Building and training a model from the hyperparameter flags, with a loss progress bar;
splitting the data as the split flags say."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from alsrec import ConfigError, Recommender, evaluation
from alsrec.cli.options import params_from
from alsrec.cli.sources import read_interactions
from alsrec.model import loss_monitor

if TYPE_CHECKING:
    import argparse
    from typing import Any, TextIO

    from alsrec import Interactions
    from alsrec.backends import ProgressCallback

__all__ = ["fit", "make_recommender", "split_interactions"]


def make_recommender(args: argparse.Namespace) -> Recommender:
    """An unfitted model with every hyperparameter flag, the backend and the policy.

    The flags are validated here (by ``ALSParams`` and the backend lookup), before any
    data is read.
    """
    params = params_from(args)
    return Recommender(backend=args.backend, policy=args.policy, params=params)


def _loss_bar(rec: Recommender, data: Interactions, err: TextIO) -> ProgressCallback:
    """A callback drawing one bar step per sweep, with the training loss."""
    return loss_monitor(data, rec.params, progress=err)


def fit(rec: Recommender, data: Interactions, progress: bool, err: TextIO) -> float:
    """Train ``rec`` on ``data`` (a loss bar on ``err`` with ``progress``); return seconds."""
    callback = _loss_bar(rec, data, err) if progress else None
    start = time.perf_counter()
    rec.fit(data, callback=callback)
    return time.perf_counter() - start


def split_interactions(
    args: argparse.Namespace, method: str
) -> tuple[Interactions, Interactions, dict[str, Any]]:
    """Read the data (with its timestamps for a time split) and split it by ``method``.

    ``method`` is ``holdout``, ``leave-k-out`` or ``time``; the other settings come from
    ``--test-fraction``, ``--leave-k``, ``--time-col``, ``--time-mode`` and
    ``--random-state``. Returns ``(train, test, description)``.
    """
    seed = args.random_state
    if method == "time":
        if args.time_col is None:
            raise ConfigError("A time split needs --time-col (the timestamp column).")
        data = read_interactions(args, timestamp=args.time_col)
        train, test = evaluation.time_split(
            data, test_fraction=args.test_fraction, mode=args.time_mode
        )
        split = {"kind": "time", "mode": args.time_mode, "test_fraction": args.test_fraction}
        return train, test, split
    if args.time_col is not None:
        raise ConfigError("--time-col is only used by a time split.")
    data = read_interactions(args)
    if method == "leave-k-out":
        train, test = evaluation.leave_k_out_split(data, args.leave_k, random_state=seed)
        return train, test, {"kind": "leave-k-out", "k": args.leave_k, "random_state": seed}
    train, test = evaluation.holdout_split(data, args.test_fraction, random_state=seed)
    split = {"kind": "holdout", "test_fraction": args.test_fraction, "random_state": seed}
    return train, test, split
