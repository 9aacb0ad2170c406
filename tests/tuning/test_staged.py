"""The staged search: its plan (with a made-up objective) and search(strategy="staged")."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import scipy.sparse as sp

from alsrec import ConfigError, Interactions
from alsrec.evaluation import holdout_split
from alsrec.tuning import Choice, Dimension, LogUniform, ScaledLogUniform, TuningReport, search
from alsrec.tuning.random_search import DEFAULT_BUDGET, FINAL_SPLITS
from alsrec.tuning.space import default_point
from alsrec.tuning.staged import Budget, staged_draws, within_noise

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
        self.chosen: dict[str, Any] | None = None

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


def run(objective: Any, budget: int = 60, seed: int = 0, final_splits: bool = False) -> Recorder:
    recorder = Recorder(objective)
    recorder.chosen = staged_draws(
        dict(SPACE), budget, np.random.default_rng(seed), recorder, final_splits=final_splits
    )
    return recorder


# -- the plan -----------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", [1, 2, 3, 7, 20, 60, 100])
def test_the_budget_is_never_exceeded_and_no_draw_repeats(budget: int) -> None:
    trials = run(peak, budget).trials()
    assert 1 <= len(trials) <= budget
    keys = [tuple(sorted((k, repr(v)) for k, v in d.items())) for _, d, _ in trials]
    assert len(set(keys)) == len(keys)


def test_the_budget_is_split_between_the_stages() -> None:
    assert Budget.split(60) == Budget(total=60, explore=18, promote=6, final=4)
    assert Budget.split(40) == Budget(total=40, explore=12, promote=4, final=3)
    assert Budget.split(40, final_splits=False).final == 0
    assert Budget.split(10).final == 0  # one finalist would have nothing to beat
    assert Budget.split(1) == Budget(total=1, explore=1, promote=0, final=0)
    assert Budget.split(2) == Budget(total=2, explore=1, promote=1, final=0)


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
    assert len(grown) == 1  # the winner at that size, nothing else
    assert max(trials, key=lambda t: t[2])[1]["factors"] == 64


def test_the_chosen_draw_is_the_best_grown_size() -> None:
    recorder = run(lambda d: peak(d, factors_gain=0.2), final_splits=True)
    best = max(recorder.trials(), key=lambda t: t[2])[1]
    assert recorder.chosen == best and best["factors"] == 256
    # Without a final stage the choice is the best trial trained with every iteration.
    plain = run(lambda d: peak(d, factors_gain=0.2))
    full = [t for t in plain.trials() if t[1]["iterations"] == 15]
    assert plain.chosen == max(full, key=lambda t: t[2])[1]


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


def test_a_budget_of_one_trial_reports_it_without_effects(
    small_interactions: Interactions,
) -> None:
    # The one trial explores; nothing is left to compare levels on, and that is no error.
    space: dict[str, Any] = {"factors": [4, 8], "iterations": [6], "alpha": LogUniform(0.5, 5)}
    found = search(small_interactions, space, budget=1, random_state=0)
    assert len(found.trials) == 1 and found.effects == ()
    assert found.best is found.trials[0]
    assert "1 trial," in str(found)


def test_a_bad_strategy_is_refused(small_interactions: Interactions) -> None:
    with pytest.raises(ConfigError, match="strategy must be 'auto', 'staged' or 'random'"):
        search(small_interactions, budget=2, strategy="grid")


# -- per-dimension steps and the finalists ------------------------------------------------------


def _local_steps(recorder: Recorder) -> list[dict[str, set[float]]]:
    """Per local round, the steps each dimension moved by from the centre (the best so far)."""
    rounds: list[dict[str, set[float]]] = []
    best: tuple[float, dict[str, Any]] | None = None
    for stage, draws, values in recorder.batches:
        if stage == "local" and best is not None:
            centre = best[1]
            steps: dict[str, set[float]] = {"regularization": set(), "alpha": set()}
            for d in draws:
                for name, other in (("regularization", "alpha"), ("alpha", "regularization")):
                    if d[other] == centre[other] and d[name] != centre[name]:
                        ratio = d[name] / centre[name]
                        steps[name].add(round(max(ratio, 1 / ratio), 1))
            rounds.append(steps)
        for d, v in zip(draws, values, strict=True):
            if best is None or v > best[0]:
                best = (v, d)
    return rounds


_TWO_DIMENSIONS: dict[str, Any] = {
    "regularization": LogUniform(0.1, 10),
    "alpha": LogUniform(0.1, 50),
    "iterations": Choice([10, 15, 20]),
}


def _sharp(d: dict[str, Any]) -> float:
    """A narrow peak in the regularization (at 1.3), a long slope in alpha (down to 0.1)."""
    return -30 * math.log(d["regularization"] / 1.3) ** 2 - 0.5 * math.log(d["alpha"])


def test_a_step_shrinks_only_along_a_dimension_that_did_not_improve() -> None:
    recorder = Recorder(_sharp)
    staged_draws(dict(_TWO_DIMENSIONS), 40, np.random.default_rng(0), recorder)
    rounds = _local_steps(recorder)
    # First steps: a sixth of each log range, 100 ** (1 / 6) and 500 ** (1 / 6) (or a bound).
    assert rounds[0]["regularization"] == {2.2} and 2.8 in rounds[0]["alpha"]
    # The regularization's moves fail at once; its step shrinks while alpha's stays long.
    assert rounds[1]["regularization"] == {1.5} and rounds[1]["alpha"] == {2.8}
    best = max(recorder.trials(), key=lambda t: t[2])[1]
    assert 1.2 < best["regularization"] < 1.4 and best["alpha"] < 0.2


def test_finalists_are_rescored_and_the_best_mean_wins() -> None:
    def objective(d: dict[str, Any]) -> float:
        return peak(d, factors_gain=-1.0)  # growing never wins: the choice stays at 64

    recorder = Recorder(objective)

    def evaluate(draws: Sequence[dict[str, Any]], stage: str) -> list[float]:
        if stage != "final":
            return recorder(draws, stage)
        # On the further splits the ranking turns round: the last finalist is the best.
        values = [float(-i) for i in range(len(draws))][::-1]
        recorder.batches.append((stage, [dict(d) for d in draws], values))
        return values

    chosen = staged_draws(dict(SPACE), 40, np.random.default_rng(0), evaluate, final_splits=True)
    finals = [(ds, vs) for s, ds, vs in recorder.batches if s == "final"]
    assert len(finals) == 1
    finalists, _ = finals[0]
    assert len(finalists) == Budget.split(40).final == 3
    full = [
        (v, d) for s, d, v in recorder.trials() if s in ("promote", "local") and d["factors"] == 64
    ]
    top = [d for _, d in sorted(full, key=lambda r: -r[0])[:3]]
    assert finalists == top  # the best distinct points, best first
    assert chosen == finalists[-1] != top[0]  # picked on the further splits, not the first
    assert len(recorder.trials()) <= 40
    # Only full trials at the exploring size are finalists; the final stage comes before grow.
    stages = [s for s, _, _ in recorder.batches]
    assert stages.index("final") < stages.index("grow")


def test_no_final_stage_without_further_splits() -> None:
    recorder = run(peak, 40)
    assert "final" not in {s for s, _, _ in recorder.batches}


def test_the_default_search_picks_among_finalists_on_more_splits(
    small_interactions: Interactions,
) -> None:
    space: dict[str, Any] = {
        "factors": [4, 8],
        "iterations": [6],
        "regularization": ScaledLogUniform(),
        "alpha": LogUniform(0.5, 20),
    }
    found = search(small_interactions, space, budget=20, strategy="staged", random_state=2)
    finals = [t for t in found.trials if t.stage == "final"]
    assert len(finals) == Budget.split(20).final == 2
    assert len(found.trials) <= 20 and found.n_splits == 2
    for final in finals:
        assert len(final.split_values) == 2 + FINAL_SPLITS
        earlier = next(t for t in found.trials if t.sampled == final.sampled)
        assert final.split_values[:2] == earlier.split_values  # the same first two splits
        assert final.value == pytest.approx(float(np.mean(final.split_values)))
    winner = max(finals, key=lambda t: t.value)
    # The choice: a finalist not significantly below the best mean (the one closest to
    # the start among those), or that point at a larger size (growing).
    chosen = {k: v for k, v in found.best.sampled.items() if k != "factors"}
    picked = [t for t in finals if {k: v for k, v in t.sampled.items() if k != "factors"} == chosen]
    assert len(picked) == 1
    assert within_noise(winner.split_values, picked[0].split_values)
    start = found.trials[0].sampled  # the first explored point: the data-aware defaults

    def distance(t: Any) -> float:  # shares of each log range between t and the start
        reg = abs(math.log(t.sampled["regularization"] / start["regularization"])) / math.log(100)
        return reg + abs(math.log(t.sampled["alpha"] / start["alpha"])) / math.log(40)

    close = [t for t in finals if within_noise(winner.split_values, t.split_values)]
    assert distance(picked[0]) == min(distance(t) for t in close)
    # Explicit splits have no further ones: no final stage, the best trial wins.
    pairs = [holdout_split(small_interactions, 0.2, random_state=0)]
    plain = search(small_interactions, space, budget=20, strategy="staged", splits=pairs)
    assert {t.stage for t in plain.trials} <= {"explore", "promote", "local", "grow"}
    assert plain.best.value == max(t.value for t in plain.trials)


def test_moves_that_improve_along_two_dimensions_are_combined() -> None:
    recorder = Recorder(_sharp)
    staged_draws(dict(_TWO_DIMENSIONS), 40, np.random.default_rng(0), recorder)
    local = [ds for s, ds, _ in recorder.batches if s == "local"]

    def moved(draw: dict[str, Any], batch: list[dict[str, Any]], name: str, other: str) -> bool:
        return any(p[name] == draw[name] and p[other] != draw[other] for p in batch)

    # A trial of its own right after a round takes that round's regularization and alpha
    # moves at once.
    assert any(
        moved(d, before, "regularization", "alpha") and moved(d, before, "alpha", "regularization")
        for before, batch in itertools.pairwise(local)
        if len(batch) == 1
        for d in batch
    )


# -- the data-aware centre, explored first ------------------------------------------------------

CENTRE: dict[str, Any] = {"regularization": 1.0, "alpha": 1.0, "weighting": "linear"}


def needle(draw: dict[str, Any]) -> float:
    """``peak`` everywhere, except a narrow spike at the centre that random draws miss."""
    at_centre = (
        draw["weighting"] == "linear"
        and abs(math.log(draw["regularization"])) < 0.01
        and abs(math.log(draw["alpha"])) < 0.01
    )
    return peak(draw) + 20.0 * at_centre


def run_from(start: dict[str, Any] | None, objective: Any = peak, seed: int = 0) -> Recorder:
    recorder = Recorder(objective)
    recorder.chosen = staged_draws(
        dict(SPACE), 40, np.random.default_rng(seed), recorder, final_splits=True, start=start
    )
    return recorder


def test_the_start_is_the_first_explored_draw_and_the_others_stay_random() -> None:
    with_start = [d for s, d, _ in run_from({**CENTRE, "factors": 16}).trials() if s == "explore"]
    without = [d for s, d, _ in run_from(None).trials() if s == "explore"]
    assert with_start[0] == {**CENTRE, "factors": 64, "iterations": 5}  # at exploring fidelity
    assert with_start[1:] == without[:-1]  # the same random draws, one fewer


def test_the_start_is_always_promoted() -> None:
    # At the exploring fidelity the start scores worst of all; with every iteration it is
    # the best point. Halving on the exploring values alone would never train it fully.
    def slow_start(draw: dict[str, Any]) -> float:
        at_centre = all(draw[k] == v for k, v in CENTRE.items() if k != "factors")
        if at_centre:
            return 100.0 if draw["iterations"] >= 15 else -100.0
        return peak(draw)

    recorder = run_from(CENTRE, slow_start)
    explored = [(v, d) for s, d, v in recorder.trials() if s == "explore"]
    promoted = next(ds for s, ds, _ in recorder.batches if s == "promote")
    others = sorted(explored[1:], key=lambda r: -r[0])[: len(promoted) - 1]
    assert promoted == [
        *({**d, "iterations": 15} for _, d in others),
        {**CENTRE, "factors": 64, "iterations": 15},
    ]
    assert recorder.chosen is not None and slow_start(recorder.chosen) == 100.0
    # Without a start, halving keeps the best explored points, as before.
    plain = run_from(None, slow_start)
    plain_explored = sorted(
        ((v, d) for s, d, v in plain.trials() if s == "explore"), key=lambda r: -r[0]
    )
    plain_promoted = next(ds for s, ds, _ in plain.batches if s == "promote")
    assert plain_promoted == [
        {**d, "iterations": 15} for _, d in plain_explored[: len(plain_promoted)]
    ]


@pytest.mark.parametrize("budget", [10, 40])
def test_an_unscorable_start_takes_no_promotion_slot(budget: int) -> None:
    # The start's exploring trial is NaN: halving promotes the best scored points, as
    # without a start, and the search goes on (it used to promote only the NaN start at
    # budget 10, then stop with nothing promoted).
    def nan_start(draw: dict[str, Any]) -> float:
        at_centre = all(draw[k] == v for k, v in CENTRE.items() if k != "factors")
        return math.nan if at_centre else peak(draw)

    recorder = Recorder(nan_start)
    recorder.chosen = staged_draws(
        dict(SPACE), budget, np.random.default_rng(0), recorder, final_splits=True, start=CENTRE
    )
    explored = [(v, d) for s, d, v in recorder.trials() if s == "explore"]
    assert math.isnan(explored[0][0])
    promoted = next(ds for s, ds, _ in recorder.batches if s == "promote")
    best = sorted(explored[1:], key=lambda r: -r[0])[: len(promoted)]
    assert promoted == [{**d, "iterations": 15} for _, d in best]
    assert recorder.chosen is not None
    assert len(recorder.trials()) > budget // 2


def test_a_budget_that_promotes_one_point_promotes_the_start_beside_it() -> None:
    # Budget 14 promotes one point: the best explored one is still trained in full, and
    # the start is trained beside it rather than instead of it.
    assert Budget.split(14, final_splits=True).promote == 1
    recorder = Recorder(peak)
    staged_draws(
        dict(SPACE), 14, np.random.default_rng(0), recorder, final_splits=True, start=CENTRE
    )
    explored = [(v, d) for s, d, v in recorder.trials() if s == "explore"]
    promoted = next(ds for s, ds, _ in recorder.batches if s == "promote")
    best = max(explored[1:], key=lambda r: r[0])[1]
    assert best != {**CENTRE, "factors": 64, "iterations": 5}
    assert promoted == [{**best, "iterations": 15}, {**CENTRE, "factors": 64, "iterations": 15}]
    assert len(recorder.trials()) <= 14


def test_a_start_missing_a_dimension_is_ignored() -> None:
    explored = [d for s, d, _ in run_from({"alpha": 1.0}).trials() if s == "explore"]
    assert explored == [d for s, d, _ in run_from(None).trials() if s == "explore"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_narrow_optimum_at_the_start_is_found(seed: int) -> None:
    found = run_from(CENTRE, needle, seed)
    assert found.chosen is not None and needle(found.chosen) > 20
    missed = run_from(None, needle, seed)  # the random draws alone do not hit the spike
    assert missed.chosen is not None and needle(missed.chosen) < 20


def test_the_default_point_is_what_alsparams_defaults_to() -> None:
    space: dict[str, Dimension] = {
        "factors": Choice([32, 64, 128]),
        "regularization": ScaledLogUniform(0.1, 10),
        "alpha": LogUniform(0.1, 50),
        "iterations": Choice([10, 15, 20]),
        "weighting": Choice(["log", "linear", "bm25"]),
        "regularization_exponent": Choice([0.5, 0.0, 1.0]),
    }
    dense = sp.csr_matrix(np.ones((40, 30)))  # every pair observed: alpha="auto" is 1
    sparse = sp.random(2000, 1000, density=0.003, random_state=0, format="csr")
    sparse.data[:] = 1.0  # 0.3% observed, binary: alpha="auto" is 0.03 / 0.003 = 10
    assert default_point(space, sparse)["alpha"] == pytest.approx(10.0)  # type: ignore[index]
    assert default_point(space, dense) == {
        "factors": 64,
        "regularization": 1.0,
        "alpha": 1.0,
        "iterations": 15,
        "weighting": "linear",
        "regularization_exponent": 0.0,
    }


def test_a_dimension_without_the_default_gives_its_middle() -> None:
    space: dict[str, Dimension] = {
        "regularization": ScaledLogUniform(2, 8),
        "alpha": LogUniform(2, 8),
        "factors": LogUniform(3, 30, integer=True),
        "weighting": Choice(["bm25", "log", "tfidf"]),
    }
    assert default_point(space) == {
        "regularization": 2.0,
        "alpha": 4.0,
        "factors": 9,
        "weighting": "log",
    }


def test_a_dimension_of_an_unknown_kind_gives_no_default_point() -> None:
    class Coin:
        discrete = True

        def sample(self, rng: np.random.Generator) -> bool:
            return bool(rng.integers(2))

        def describe(self) -> str:
            return "a coin"

    assert default_point({"alpha": LogUniform(1, 2), "x": Coin()}) is None


def test_the_default_search_explores_the_defaults_first(staged: TuningReport) -> None:
    first = staged.trials[0]
    assert first.stage == "explore"
    assert first.sampled["regularization"] == 1.0 and first.sampled["alpha"] == 1.0
    assert first.sampled["weighting"] == "linear"
    assert first.sampled["regularization_exponent"] == 0.0
    assert first.scale is not None
    assert first.params.regularization == pytest.approx(first.scale, rel=1e-2)


def test_a_larger_size_within_the_tolerance_wins() -> None:
    # 256 factors score a hair below 64 (within noise): the refit gains from the factors.
    recorder = run(lambda d: peak(d, factors_gain=-0.001), final_splits=True)
    assert recorder.chosen is not None and recorder.chosen["factors"] == 256
    grown = [v for s, _, v in recorder.trials() if s == "grow"]
    assert max(grown) < max(v for s, _, v in recorder.trials() if s == "final")


# -- the finalists: the one closest to the centre among those within the splits' noise ----------


def test_a_gap_smaller_than_the_splits_noise_iswithin_noise() -> None:
    best = [0.30, 0.32, 0.29, 0.31]
    assert within_noise(best, [0.31, 0.30, 0.30, 0.30])  # below on average, not consistently
    assert within_noise(best, best)
    assert not within_noise(best, [v - 0.01 for v in best])  # consistently below
    assert not within_noise(best, [0.29, 0.31, 0.28, 0.30])
    assert not within_noise([0.3], [0.3])  # one split: nothing to judge noise by


class SplitRecorder(Recorder):
    """Scores a draw on 4 splits: ``objective`` plus ``noise`` times a fixed pattern that
    differs between draws; ordinary stages see the first 2 splits, the final stage all 4."""

    def __init__(self, objective: Any, noise: float) -> None:
        super().__init__(objective)
        self.noise = noise
        self.splits: dict[tuple[tuple[str, str], ...], tuple[float, ...]] = {}

    def split_values(self, draw: dict[str, Any]) -> tuple[float, ...]:
        return self.splits[tuple(sorted((k, repr(v)) for k, v in draw.items()))]

    def __call__(self, draws: Sequence[dict[str, Any]], stage: str) -> list[float]:
        out = []
        for draw in draws:
            key = tuple(sorted((k, repr(v)) for k, v in draw.items()))
            phase = sum(map(ord, repr(key))) % 7
            values = tuple(
                float(self.objective(draw)) + self.noise * math.sin(phase + 2.0 * i)
                for i in range(4)
            )
            self.splits[key] = values if stage == "final" else values[:2]
            out.append(float(np.mean(self.splits[key])))
        self.batches.append((stage, [dict(d) for d in draws], out))
        return out


def smooth(draw: dict[str, Any]) -> float:
    """Best at ratio 2, alpha 3: far from the start (ratio 1, alpha 1)."""
    return 10 - (math.log(draw["regularization"] / 2)) ** 2 - (math.log(draw["alpha"] / 3)) ** 2


def final_pick(noise: float) -> tuple[dict[str, Any], list[tuple[float, dict[str, Any]]]]:
    space: dict[str, Dimension] = {
        "regularization": ScaledLogUniform(0.1, 10),
        "alpha": LogUniform(0.1, 50),
        "iterations": Choice([12]),
    }
    recorder = SplitRecorder(smooth, noise)
    chosen = staged_draws(
        space,
        40,
        np.random.default_rng(0),
        recorder,
        final_splits=True,
        start={"regularization": 1.0, "alpha": 1.0, "iterations": 12},
        split_values=recorder.split_values,
    )
    assert chosen is not None
    finals = [(v, d) for s, d, v in recorder.trials() if s == "final"]
    return chosen, finals


def test_among_finalistswithin_noise_the_one_closest_to_the_start_wins() -> None:
    chosen, finals = final_pick(noise=0.05)

    def distance(d: dict[str, Any]) -> float:
        return abs(math.log(d["regularization"])) / math.log(100) + abs(
            math.log(d["alpha"])
        ) / math.log(500)

    assert len(finals) == 3
    assert chosen == min((d for _, d in finals), key=distance)
    assert chosen != max(finals, key=lambda r: r[0])[1]  # not the best mean


def test_a_finalist_clearly_below_the_best_is_not_chosen() -> None:
    chosen, finals = final_pick(noise=0.0)  # no noise: every gap is significant
    assert chosen == max(finals, key=lambda r: r[0])[1]


@pytest.mark.parametrize("budget", [6, 9, 14])
def test_without_a_final_stage_the_pick_is_a_full_fidelity_point(budget: int) -> None:
    """A small budget leaves no final stage: the pick is still the best point trained
    with every iteration, never an exploring trial at a third of them, even when the
    cheap trials score higher (as a noisy or differently converged metric may)."""
    stages: list[str] = []

    def evaluate(draws: Sequence[dict[str, Any]], stage: str) -> list[float]:
        stages.append(stage)
        # the exploring (short) trials look better than any full one
        return [
            (2.0 if d["iterations"] < 15 else 1.0) - abs(math.log(d["alpha"] / 3)) for d in draws
        ]

    space: dict[str, Dimension] = {"alpha": LogUniform(0.1, 100), "iterations": Choice([15])}
    chosen = staged_draws(space, budget, np.random.default_rng(0), evaluate)
    assert "promote" in stages and "final" not in stages
    assert chosen is not None and chosen["iterations"] == 15


def _local_centre(recorder: Recorder) -> dict[str, Any]:
    """The point the first local batch moves from: its draws differ from it in one value."""
    promoted = next(ds for s, ds, _ in recorder.batches if s == "promote")
    moves = next(ds for s, ds, _ in recorder.batches if s == "local")
    centres = [p for p in promoted if all(sum(p[k] != m[k] for k in p) == 1 for m in moves)]
    assert len(centres) == 1
    return centres[0]


@pytest.mark.parametrize(("noise", "from_start"), [(0.3, True), (0.0, False)])
def test_the_local_stage_starts_from_the_start_unless_a_promoted_point_is_clearly_better(
    noise: float, from_start: bool
) -> None:
    space: dict[str, Dimension] = {
        "regularization": ScaledLogUniform(0.1, 10),
        "alpha": LogUniform(0.1, 50),
        "iterations": Choice([12]),
    }
    start = {"regularization": 1.0, "alpha": 1.0, "iterations": 12}
    recorder = SplitRecorder(smooth, noise)
    staged_draws(
        space,
        40,
        np.random.default_rng(0),
        recorder,
        final_splits=True,
        start=start,
        split_values=recorder.split_values,
    )
    promoted = next(
        list(zip(ds, vs, strict=True)) for s, ds, vs in recorder.batches if s == "promote"
    )
    assert start in [d for d, _ in promoted]  # the start was promoted, but not the best
    best = max(promoted, key=lambda r: r[1])[0]
    assert best != start
    assert _local_centre(recorder) == (start if from_start else best)
