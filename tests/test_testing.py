"""The conformance suite itself: every check passes a good backend and catches a bad one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

import alsrec.testing as conformance
from alsrec.backends import NumpyBackend
from alsrec.exceptions import ConfigError
from alsrec.model import lookup, ranking
from alsrec.testing import CHECKS, ConformanceError, check_backend

if TYPE_CHECKING:
    import scipy.sparse as sp

    from alsrec.backends import ProgressCallback
    from alsrec.params import ALSParams
    from alsrec.types import FactorMatrix


class _Mutant(NumpyBackend):
    """The numpy backend with one deliberate defect, chosen by ``defect``."""

    def __init__(self, defect: str) -> None:
        self.defect = defect

    @property
    def name(self) -> str:
        return "" if self.defect == "empty-name" else f"mutant-{self.defect}"

    def fit(
        self,
        confidence: sp.csr_matrix,
        params: ALSParams,
        *,
        callback: ProgressCallback | None = None,
    ) -> tuple[FactorMatrix, FactorMatrix]:
        d = self.defect
        conf = confidence.copy()
        if d == "accepts-nan":
            conf.data = np.nan_to_num(conf.data, nan=1.0, posinf=1.0).astype(np.float32)
        if d == "alpha-twice":
            conf.data = (1 + params.alpha_value * conf.data).astype(np.float32)
        if d == "callback-zero-based":
            inner = callback
            callback = None if inner is None else (lambda i, u, v: inner(i - 1, u, v))
        users, items = super().fit(conf, params, callback=callback)
        rng = np.random.default_rng()
        if d == "float64":
            return users.astype(np.float64), items
        if d == "fortran":
            return np.asfortranarray(users), items
        if d == "drops-trailing-rows":
            last = int(np.flatnonzero(np.diff(confidence.indptr))[-1])
            return users[: last + 1], items
        if d == "noise-on-empty-rows":
            empty = np.diff(confidence.indptr) == 0
            users[empty] = rng.random((int(empty.sum()), users.shape[1]))
        if d == "nan-on-large" and confidence.data.max() > 100:
            users[0, 0] = np.nan
        if d == "nondeterministic":
            users = users + rng.random(users.shape).astype(np.float32) * 1e-3
        if d == "random-factors":
            users = rng.standard_normal(users.shape).astype(np.float32)
            items = rng.standard_normal(items.shape).astype(np.float32)
        return users, items


@pytest.mark.parametrize(
    ("defect", "check"),
    [
        ("empty-name", conformance.check_protocol),
        ("float64", conformance.check_factor_shapes),
        ("fortran", conformance.check_factor_shapes),
        ("drops-trailing-rows", conformance.check_factor_shapes),
        ("noise-on-empty-rows", conformance.check_empty_rows),
        ("nan-on-large", conformance.check_finite_factors),
        ("accepts-nan", conformance.check_rejects_nonfinite),
        ("callback-zero-based", conformance.check_callback),
        ("nondeterministic", conformance.check_determinism),
        ("alpha-twice", conformance.check_normal_equations),
        ("random-factors", conformance.check_checkerboard),
    ],
)
def test_each_check_catches_its_defect(defect: str, check: Any) -> None:
    mutant = _Mutant(defect)
    with pytest.raises(ConformanceError, match=check.__name__):
        check(mutant)
    with pytest.raises(ConformanceError):
        check_backend(mutant)


def test_a_non_backend_is_refused() -> None:
    with pytest.raises(ConformanceError, match="does not implement"):
        conformance.check_protocol(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        check_backend(object())  # type: ignore[arg-type]


def test_a_failing_fit_is_reported_as_a_conformance_error() -> None:
    broken = _Mutant("none")

    def fit(*args: Any, **kwargs: Any) -> Any:
        raise ConfigError("nope")

    broken.fit = fit  # type: ignore[method-assign]
    with pytest.raises(ConformanceError, match="fit raised ConfigError"):
        conformance.check_factor_shapes(broken)


def test_facade_checks_catch_a_broken_facade(monkeypatch: pytest.MonkeyPatch) -> None:
    # The answer-level checks test alsrec's own code paths a backend feeds; break each
    # path (a function of alsrec.model) and the matching check must notice.
    backend = NumpyBackend()
    rank = ranking.rank_users

    def ignore_seen(model: Any, rows: Any, n: int, exclude_seen: bool, *args: Any) -> Any:
        return rank(model, rows, n, False, *args)

    monkeypatch.setattr(ranking, "rank_users", ignore_seen)
    with pytest.raises(ConformanceError, match="check_seen_exclusion"):
        conformance.check_seen_exclusion(backend)
    monkeypatch.undo()

    candidates = lookup.candidates

    def ignore_candidates(model: Any, items: Any, policy: Any) -> Any:
        _, skipped = candidates(model, items, policy)
        return None, skipped

    monkeypatch.setattr(lookup, "candidates", ignore_candidates)
    with pytest.raises(ConformanceError, match="check_candidates"):
        conformance.check_candidates(backend)
    monkeypatch.undo()

    def no_fallback(model: Any, n: int, *args: Any) -> Any:
        return np.full(n, -1, dtype=np.int64), np.full(n, np.nan, dtype=np.float32)

    monkeypatch.setattr(ranking, "fallback", no_fallback)
    with pytest.raises(ConformanceError, match="check_policies"):
        conformance.check_policies(backend)
    monkeypatch.undo()

    def doubled(model: Any, *args: Any) -> Any:
        pos, vals = rank(model, *args)
        return pos, vals * 2

    monkeypatch.setattr(ranking, "rank_users", doubled)
    with pytest.raises(ConformanceError, match="dot products"):
        conformance.check_equal_factors_equal_rankings(backend)


def test_every_check_is_listed_and_exported() -> None:
    listed = {c.__name__ for c in CHECKS}
    exported = {n for n in conformance.__all__ if n.startswith("check_") and n != "check_backend"}
    assert listed == exported
    assert len(CHECKS) == len(listed)


def test_check_backend_accepts_a_registry_name() -> None:
    check_backend("numpy")
