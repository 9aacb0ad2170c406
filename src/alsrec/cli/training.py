"""Building and training a model from the hyperparameter flags, with a loss progress bar."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from alsrec import Recommender
from alsrec.cli.options import params_from
from alsrec.model import loss_monitor

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

    from alsrec import Interactions
    from alsrec.backends import ProgressCallback

__all__ = ["fit", "make_recommender"]


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
