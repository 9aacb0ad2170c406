"""Tests of :mod:`alsrec.logs`: the ``alsrec`` logger and warnings that are also logged."""

from __future__ import annotations

import logging
import subprocess
import sys
import warnings

import numpy as np
import pytest

from alsrec import AlsrecWarning, Recommender
from alsrec.logs import logger, warn


def test_silent_unless_configured() -> None:
    code = (
        "import warnings; warnings.simplefilter('ignore');"
        "from alsrec import Recommender;"
        "Recommender(factors=2, iterations=2).fit(['a','b'],['x','y']).recommend('zz')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr == "" and done.stdout == ""
    assert logging.getLogger("alsrec") is logger
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)


def test_fit_start_and_end_at_info(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="alsrec"):
        Recommender(factors=2, iterations=2, num_threads=1).fit(["a", "b", "b"], ["x", "y", "x"])
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    start = next(m for level, m in messages if m.startswith("fit start"))
    assert "2 users x 2 items, 3 interactions, backend 'numpy'" in start
    assert "num_threads 1" in start
    assert any(level == "INFO" and m.startswith("fit end: ") for level, m in messages)
    assert any(level == "DEBUG" and "worker threads" in m for level, m in messages)


def test_fallbacks_and_skipped_ids_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    with caplog.at_level(logging.DEBUG, logger="alsrec"):
        rec.recommend("nobody")
        rec.similar_items("zzz")
        rec.recommend_many(["u1", "ghost"], n=1, items=["a", "nope"])
    text = "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    assert "'nobody': answered by the popularity fallback" in text
    assert "skipped unknown IDs ['zzz']" in text
    assert "batch of 2: 1 by the popularity fallback" in text
    assert "skipped unknown IDs ['nope']" in text


def test_warnings_are_also_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="alsrec"), warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        Recommender.from_factors(np.ones((3, 2)), np.eye(2), ["u1", "u2"], ["a", "b"])
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    with pytest.warns(AlsrecWarning, match="hello"):
        warn("hello")
