"""The staged search: its plan (with a made-up objective) and search(strategy="staged")."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from alsrec import ConfigError, Interactions
from alsrec.tuning import Choice, LogUniform, ScaledLogUniform, TuningReport, search
from alsrec.tuning.random_search import DEFAULT_BUDGET
from alsrec.tuning.staged import Budget, staged_draws

if TYPE_CHECKING:
    from collections.abc import Sequence

SPACE: dict[str, Any] = {
    "factors": Choice([16, 32, 64, 128, 256]),
    "regularization": ScaledLogUniform(0.1, 10),
    "alpha": LogUniform(0.1, 50),
    "iterations": Choice([10, 15, 20]),
    "weighting": Choice(["linear", "log", "bm25"]),
}


class Recorder:
    """A fake trainer: scores draws with ``objective`` and remembers every batch."""

    def __init__(self, objective: Any) -> None:
        self.objective = objective
        self.batches: list[tuple[str, list[dict[str, Any]], list[float]]] = []

    def __call__(self, draws: Sequence[dict[str, Any]], stage: str) -> list[float]:
        values = [float(self.objective(d)) for d in draws]
        self.batches.append((stage, [dict(d) for d in draws], values))
        return values

    def trials(self) -> list[tuple[str, dict[str, Any], float]]:
        return [(s, d, v) for s, ds, vs in self.batches for d, v in zip(ds, vs, strict=True)]


def peak(draw: dict[str, Any], factors_gain: float = 0.0) -> float:
    """Best at ratio 2, alpha 3, weighting log; ``factors_gain`` per doubling of factors."""
    value = -((math.log(draw["regularization"] / 2)) ** 2) - (math.log(draw["alpha"] / 3)) ** 2
    value -= 0.3 * (draw["weighting"] != "log")
    value -= 0.5 * (draw["iterations"] < 15)
    value += factors_gain * math.log2(draw["factors"] / 64)
    return float(10 + value)


def run(objective: Any, budget: int = 60, seed: int = 0) -> Recorder:
    recorder = Recorder(objective)
    staged_draws(dict(SPACE), budget, np.random.default_rng(seed), recorder)
    return recorder


# -- the plan -----------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", [1, 2, 3, 7, 20, 60, 100])
def test_the_budget_is_never_exceeded_and_no_draw_repeats(budget: int) -> None:
    trials = run(peak, budget).trials()
    assert 1 <= len(trials) <= budget
    keys = [tuple(sorted((k, repr(v)) for k, v in d.items())) for _, d, _ in trials]
    assert len(set(keys)) == len(keys)


def test_the_budget_is_split_between_the_stages() -> None:
    assert Budget.split(60) == Budget(total=60, explore=24, promote=6)
    assert Budget.split(1) == Budget(total=1, explore=1, promote=0)
    assert Budget.split(2) == Budget(total=2, explore=1, promote=1)


def test_exploring_is_cheap_and_the_rest_is_full() -> None:
    trials = run(peak).trials()
    assert trials[0][0] == "explore"
    for stage, draw, _ in trials:
        assert draw["iterations"] == (5 if stage == "explore" else 15)
        if stage in ("explore", "promote"):
            assert draw["factors"] == 64


def test_halving_promotes_the_best_explored_points() -> None:
    recorder = run(peak)
    explored = [
        (v, d)
        for s, ds, vs in recorder.batches
        if s == "explore"
        for d, v in zip(ds, vs, strict=True)
    ]
    promoted = next(ds for s, ds, _ in recorder.batches if s == "promote")
    top = sorted(explored, key=lambda r: -r[0])[: len(promoted)]
    assert [{**d, "iterations": 15} for _, d in top] == promoted


def test_the_local_stage_climbs_to_the_optimum() -> None:
    trials = run(peak).trials()
    explored_best = max(v for s, _, v in trials if s == "explore")
    best_stage, best, value = max(trials, key=lambda t: t[2])
    assert best_stage in ("local", "grow")
    assert value > explored_best
    assert best["weighting"] == "log"
    assert 1.5 < best["regularization"] < 2.7 and 2.2 < best["alpha"] < 4.0


def test_factors_grow_while_larger_is_better() -> None:
    trials = run(lambda d: peak(d, factors_gain=0.2)).trials()
    best = max(trials, key=lambda t: t[2])[1]
    assert best["factors"] == 256
    assert {d["factors"] for s, d, _ in trials if s == "grow"} == {128, 256}


def test_growing_stops_when_larger_is_clearly_worse() -> None:
    trials = run(lambda d: peak(d, factors_gain=-1.0)).trials()
    grown = [d for s, d, _ in trials if s == "grow"]
    assert {d["factors"] for d in grown} == {128}  # 256 never tried
    assert len(grown) == 3  # the size itself, regularization one step up and down
    assert max(trials, key=lambda t: t[2])[1]["factors"] == 64


def test_an_added_dimension_is_searched_locally() -> None:
    space = {**SPACE, "cg_steps": Choice([1, 2, 3, 4, 5, 6])}
    recorder = Recorder(lambda d: peak(d) - abs(d["cg_steps"] - 5))
    staged_draws(space, 60, np.random.default_rng(3), recorder)
    best = max(recorder.trials(), key=lambda t: t[2])[1]
    assert best["cg_steps"] == 5
    assert any(s == "local" and d["cg_steps"] != 5 for s, d, _ in recorder.trials())


def test_the_plan_depends_only_on_the_seed() -> None:
    assert run(peak, seed=4).trials() == run(peak, seed=4).trials()
    assert run(peak, seed=4).trials() != run(peak, seed=5).trials()


def test_unscorable_trials_do_not_stop_the_search() -> None:
    trials = run(lambda d: math.nan if d["weighting"] == "bm25" else peak(d)).trials()
    assert len(trials) > 30
    assert max(v for _, _, v in trials if not math.isnan(v)) > 9


# -- search(strategy=...) -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def staged(small_interactions: Interactions) -> TuningReport:
    return search(small_interactions, budget=10, random_state=3, refit=True)


def test_the_default_search_is_staged_and_records_every_trial(staged: TuningReport) -> None:
    assert staged.strategy == "staged"
    assert 1 <= len(staged.trials) <= 10
    assert [t.index for t in staged.trials] == list(range(len(staged.trials)))
    assert staged.trials[0].stage == "explore"
    assert {t.stage for t in staged.trials} <= {"explore", "promote", "local", "grow"}
    assert staged.best.value == max(t.value for t in staged.trials)
    assert staged.best_model is not None and staged.best_model.params == staged.best_params
    assert staged.to_dict()["strategy"] == "staged"
    assert staged.to_dict()["trials"][0]["stage"] == "explore"
    assert "stage" in staged.table() and "Search (staged)" in str(staged)


def test_the_staged_search_is_deterministic(
    small_interactions: Interactions, staged: TuningReport
) -> None:
    assert search(small_interactions, budget=10, random_state=3) == staged
    assert search(small_interactions, budget=10, random_state=4) != staged


def test_a_given_space_keeps_the_random_search(small_interactions: Interactions) -> None:
    space: dict[str, Any] = {"factors": [4], "iterations": [3], "alpha": LogUniform(0.5, 5)}
    found = search(small_interactions, space, random_state=0)
    assert found.strategy == "random"
    assert len(found.trials) == DEFAULT_BUDGET["random"]
    assert {t.stage for t in found.trials} == {"random"}
    staged = search(small_interactions, space, budget=6, strategy="staged", random_state=0)
    assert staged.strategy == "staged" and len(staged.trials) <= 6
    assert staged.trials[-1].stage == "local"


def test_two_jobs_give_the_same_staged_trials(small_interactions: Interactions) -> None:
    space: dict[str, Any] = {"factors": [4, 8], "iterations": [6], "alpha": LogUniform(0.5, 5)}
    one = search(small_interactions, space, budget=8, strategy="staged", random_state=1)
    two = search(small_interactions, space, budget=8, strategy="staged", n_jobs=2, random_state=1)
    assert one == two and two.n_jobs == 2


def test_a_bad_strategy_is_refused(small_interactions: Interactions) -> None:
    with pytest.raises(ConfigError, match="strategy must be 'auto', 'staged' or 'random'"):
        search(small_interactions, budget=2, strategy="grid")
