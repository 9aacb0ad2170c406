"""alsrec.tuning: the search space, seeded draws, trial scoring, the report, parallel trials."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import alsrec
from alsrec import ALSParams, ConfigError, Interactions, Recommender, UsageError
from alsrec.backends import get_backend
from alsrec.datasets import SyntheticData, synthetic
from alsrec.evaluation import evaluate, holdout_split
from alsrec.interop.implicit import blas_single_threaded
from alsrec.model.defaults import auto_alpha, auto_regularization, params_confidence
from alsrec.tuning import (
    Choice,
    LogUniform,
    ScaledLogUniform,
    Trial,
    TuningReport,
    default_space,
    search,
)

SRC = str(Path(alsrec.__file__).resolve().parents[1])

# A small space that trains in milliseconds per trial.
SMALL: dict[str, Any] = {
    "factors": [4, 8],
    "iterations": [4],
    "regularization": ScaledLogUniform(0.01, 100),
    "alpha": LogUniform(0.1, 50),
}


@pytest.fixture(scope="module")
def report(small_interactions: Interactions) -> TuningReport:
    return search(small_interactions, SMALL, budget=6, random_state=5, refit=True)


# -- the space ----------------------------------------------------------------------------------


def test_default_space_caps_factors_by_the_data(small_interactions: Interactions) -> None:
    space = default_space(small_interactions)  # 300 users x 120 items: half the side is 60
    assert isinstance(space["factors"], Choice)
    assert space["factors"].values == (16, 32)
    big = synthetic(n_users=400, n_items=300, random_state=0)
    wide = Interactions.from_arrays(big.user_ids, big.item_ids)
    assert default_space(wide)["factors"].values == (16, 32, 64, 128)  # type: ignore[attr-defined]
    tiny = Interactions.from_arrays(["a", "a", "b"], ["x", "y", "x"])
    assert default_space(tiny)["factors"].values == (1,)  # type: ignore[attr-defined]
    assert isinstance(space["regularization"], ScaledLogUniform)
    assert space["alpha"] == ScaledLogUniform(0.1, 50.0)
    assert space["iterations"] == Choice([10, 15, 20])


def test_weighting_dimension_follows_the_params(small_interactions: Interactions) -> None:
    has_field = "weighting" in {f.name for f in dataclasses.fields(ALSParams)}
    space = default_space(small_interactions)
    assert ("weighting" in space) == has_field
    if has_field:
        values = space["weighting"].values  # type: ignore[attr-defined]
        assert len(values) >= 2
        for value in values:  # every scheme offered is one the params accept
            ALSParams(**{"weighting": value})  # noqa: PIE804 (a field mypy may not know)
        found = search(small_interactions, {**SMALL, "weighting": list(values)}, budget=4)
        assert {t.params.to_dict()["weighting"] for t in found.trials} <= set(values)


def test_dimensions_draw_inside_their_bounds() -> None:
    rng = np.random.default_rng(0)
    draws = [LogUniform(0.5, 20).sample(rng) for _ in range(200)]
    assert all(0.5 <= d <= 20 for d in draws)
    assert all(float(f"{d:.3g}") == d for d in draws)  # three significant digits
    logs = np.log(draws)  # log-uniform: about as many draws below the geometric middle
    assert 70 < int((logs < np.log(np.sqrt(0.5 * 20))).sum()) < 130
    ints = {LogUniform(2, 9, integer=True).sample(rng) for _ in range(200)}
    assert ints <= set(range(2, 10)) and all(isinstance(i, int) for i in ints)
    assert {Choice(["a", "b"]).sample(rng) for _ in range(50)} == {"a", "b"}


@pytest.mark.parametrize(
    ("space", "needle"),
    [
        ({"factorz": [8]}, "factorz"),
        ({"random_state": [1]}, "random_state cannot be searched"),
        ({"iterations": ScaledLogUniform()}, "only applies to 'regularization' and 'alpha'"),
        ({"factors": [0, 8]}, "invalid parameters"),
        ({"factors": object()}, "must be a LogUniform"),
    ],
)
def test_bad_spaces_are_refused(
    small_interactions: Interactions, space: dict[str, Any], needle: str
) -> None:
    with pytest.raises(ConfigError, match=needle):
        search(small_interactions, space, budget=4)


def test_bad_dimensions_are_refused() -> None:
    with pytest.raises(ConfigError, match="low must be finite and > 0"):
        LogUniform(0, 1)
    with pytest.raises(ConfigError, match="low <= high"):
        LogUniform(3, 2)
    with pytest.raises(ConfigError, match="contains no integer"):
        LogUniform(2.2, 2.8, integer=True)
    with pytest.raises(ConfigError, match="distinct"):
        Choice([1, 1])
    with pytest.raises(ConfigError, match="sequence"):
        Choice("abc")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"metric": "popularity_rank"}, "cannot be maximized"),
        ({"metric": "ndgc"}, "metric must be one of"),
        ({"metric": "ndcg@10"}, r"got 'ndcg@10'; write metric='ndcg', k=10\.$"),
        ({"metric": "NDCG"}, r"got 'NDCG'; write metric='ndcg'\.$"),
        ({"budget": 0}, "budget must be an integer >= 1"),
        ({"k": 0}, "k must be an integer >= 1"),
        ({"n_jobs": 0}, "n_jobs must be >= 1"),
        ({"splits": 0}, "splits must be an integer >= 1"),
        ({"splits": [("a", "b")]}, r"splits\[0\] must be a \(train, validation\) pair"),
        ({"random_state": -1}, "random_state must be an integer >= 0"),
        ({"backend": "nope"}, "nope"),
    ],
)
def test_bad_arguments_are_refused(
    small_interactions: Interactions, kwargs: dict[str, Any], needle: str
) -> None:
    with pytest.raises(ConfigError, match=needle):
        search(small_interactions, SMALL, budget=kwargs.pop("budget", 3), **kwargs)


def test_a_backend_instance_needs_one_job(small_interactions: Interactions) -> None:
    with pytest.raises(ConfigError, match="by name"):
        search(small_interactions, SMALL, budget=2, n_jobs=2, backend=get_backend("numpy"))


def test_not_interactions_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"Interactions\.from_arrays"):
        search([1, 2, 3], budget=2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("keyword", "needle"),
    [
        ("n_iter", "budget="),  # scikit-learn's trials, not the model's sweeps (iterations=)
        ("n_trials", "budget="),
        ("timeout", "budget="),
        ("param_distributions", "space="),
        ("cv", "splits="),
        ("scoring", "metric="),
        ("seed", "random_state="),
    ],
)
def test_other_libraries_keywords_say_what_search_calls_them(
    small_interactions: Interactions, keyword: str, needle: str
) -> None:
    # Python's bare TypeError names the keyword, not what to write instead.
    foreign: dict[str, Any] = {keyword: 5}
    with pytest.raises(UsageError, match=rf"search\(\) got an unexpected keyword argument "
                       rf"'{keyword}'; in alsrec .*{re.escape(needle)}"):  # fmt: skip
        search(small_interactions, SMALL, budget=1, **foreign)


# -- draws ----------------------------------------------------------------------------------------


def test_a_small_finite_space_is_run_as_a_grid(small_interactions: Interactions) -> None:
    space: dict[str, Any] = {"factors": [4, 8], "iterations": [3], "alpha": [1.0, 5.0, 20.0]}
    found = search(small_interactions, space, budget=50)
    combos = {(t.params.factors, t.params.alpha) for t in found.trials}
    assert len(found.trials) == 6 and len(combos) == 6
    assert all(t.params.iterations == 3 for t in found.trials)


def test_a_trial_that_shrinks_to_nothing_scores_low_without_a_warning(
    small_interactions: Interactions,
) -> None:
    # Wide regularization ranges reach values that shrink a model to nothing; such a trial
    # is a low score, not a warning per trial (fit alone warns about it).
    space: dict[str, Any] = {"factors": [4], "iterations": [3], "regularization": [1e9, 1.0]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = search(small_interactions, space, budget=2, random_state=0)
    by_reg = {t.params.regularization: t.value for t in found.trials}
    assert by_reg[1e9] < by_reg[1.0]
    assert found.best.params.regularization == 1.0


def test_the_level_factor_is_the_datas_at_the_default_point() -> None:
    # Sparse binary data: alpha="auto" is above 1, so the level (1 + alpha) is too.
    raw = synthetic(n_users=600, n_items=400, mean_interactions=3, random_state=2)
    data = Interactions.from_arrays(raw.user_ids, raw.item_ids, None, aggregate="max")
    weights = sp.csr_matrix(data.matrix, dtype=np.float64)
    alpha = auto_alpha(weights)
    assert alpha > 2
    space: dict[str, Any] = {"factors": [4], "iterations": [2], "alpha": [1.0, alpha]}
    space["regularization"] = ScaledLogUniform(1.0, 1.0)  # ratio 1: the scale itself
    found = search(data, space, budget=2, random_state=0)
    home = params_confidence(weights, ALSParams(alpha=alpha))
    for trial in found.trials:
        conf = params_confidence(weights, ALSParams(alpha=trial.params.alpha))
        assert trial.scale == pytest.approx(auto_regularization(conf, level=1.0 + alpha))
        assert trial.scale == pytest.approx(
            auto_regularization(conf) * ((1.0 + alpha) / (1.0 + trial.params.alpha_value)) ** 0.2
        )
    at_default = next(t for t in found.trials if t.params.alpha == alpha)
    assert at_default.scale == pytest.approx(auto_regularization(home))  # what fit uses
    assert Recommender(factors=4, iterations=2).fit(data).params_.regularization == (
        pytest.approx(auto_regularization(home))
    )


def test_the_search_measures_the_spectrum_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every trial's confidence matrix has the data's pattern: one randomized SVD serves
    # them all, and each trial's scale is still what its own matrix would give.
    from alsrec.model import defaults, statistics
    from alsrec.tuning.space import home_level

    raw = synthetic(n_users=600, n_items=400, mean_interactions=6, random_state=3)
    data = Interactions.from_arrays(raw.user_ids, raw.item_ids, raw.weights)
    weights = sp.csr_matrix(data.matrix, dtype=np.float64)
    assert statistics.spectral_ratio(weights) is not None  # large enough to be measured
    calls: list[int] = []
    measure = defaults.auto_multiple  # the search reads the spectrum only through it

    def counted(matrix: Any, *, level: float | None = None) -> float:
        calls.append(1)
        return measure(matrix, level=level)

    monkeypatch.setattr("alsrec.tuning.space.auto_multiple", counted)
    space: dict[str, Any] = {
        "factors": Choice((4,)),
        "iterations": Choice((2,)),
        "alpha": Choice((1.0, 4.0, 9.0)),
        "regularization": ScaledLogUniform(1.0, 1.0),
    }
    found = search(data, space, budget=3, random_state=0)
    assert len(found.trials) == 3 and len(calls) == 1
    level = home_level(space, data.matrix)  # as before the SVD was shared
    for trial in found.trials:
        conf = params_confidence(weights, ALSParams(alpha=trial.params.alpha))
        assert trial.scale == pytest.approx(auto_regularization(conf, level=level), rel=1e-12)


def test_random_draws_never_repeat(small_interactions: Interactions) -> None:
    # 3 x 3 = 9 combinations, budget 8 < 9: random draws, all distinct.
    space: dict[str, Any] = {"factors": [2, 4, 8], "iterations": [2], "alpha": [1.0, 5.0, 20.0]}
    found = search(small_interactions, space, budget=8, random_state=1)
    combos = [(t.params.factors, t.params.alpha) for t in found.trials]
    assert len(combos) == 8 == len(set(combos))


def test_scaled_regularization_multiplies_the_auto_value(
    small_interactions: Interactions, report: TuningReport
) -> None:
    weights = sp.csr_matrix(small_interactions.matrix, dtype=np.float64)
    # The level factor is the data's at the default point: alpha="auto", linear weights.
    home = 1.0 + float(f"{auto_alpha(weights):.3g}") * weights.data  # as drawn: 3 digits
    level = (home.mean() ** 3 / (home**2).mean() / 2.0) ** 0.2
    for trial in report.trials:
        # The rule of regularization="auto", from its definition, for this trial's alpha.
        conf = weights.copy()
        conf.data = 1.0 + trial.params.alpha * conf.data
        d_u = np.asarray(conf.sum(axis=1)).ravel()
        d_i = np.asarray(conf.sum(axis=0)).ravel()
        total = conf.data.sum()
        edge = np.sqrt(d_u @ d_u / total) + np.sqrt(d_i @ d_i / total)
        expected_scale = 0.8 * level * edge
        assert trial.scale == pytest.approx(expected_scale, rel=1e-5)
        ratio = trial.sampled["regularization"]
        assert 0.01 <= ratio <= 100
        assert trial.params.regularization == pytest.approx(ratio * expected_scale, rel=5e-3)


def test_default_space_is_centred_on_the_auto_value(small_interactions: Interactions) -> None:
    dim = default_space(small_interactions)["regularization"]
    assert dim == ScaledLogUniform(0.1, 10.0)
    assert math.isclose(math.sqrt(dim.low * dim.high), 1.0)


def test_a_space_without_alpha_trains_with_the_auto_alpha() -> None:
    # 0.5% of the pairs observed: alpha="auto" is well above 1, and a trial without an
    # alpha dimension trains with it, as a default fit would.
    raw = synthetic(n_users=600, n_items=400, mean_interactions=2, random_state=2)
    data = Interactions.from_arrays(raw.user_ids, raw.item_ids, raw.weights)
    expected = auto_alpha(data.matrix)
    assert expected > 1.5
    space: dict[str, Any] = {
        "factors": [4],
        "iterations": [2],
        "regularization": ScaledLogUniform(0.5, 2.0),
    }
    found = search(data, space, budget=2)
    assert [t.params.alpha for t in found.trials] == [pytest.approx(expected)] * 2


def test_scaled_alpha_multiplies_the_auto_alpha_of_the_trials_weighting() -> None:
    # Sparse counts: alpha="auto" differs by weighting scheme, so a trial that changes
    # only the scheme keeps its ratio to the scheme's own automatic alpha, not the number.
    raw = synthetic(n_users=600, n_items=400, mean_interactions=2, random_state=2)
    data = Interactions.from_arrays(raw.user_ids, raw.item_ids, raw.weights)
    autos = {w: auto_alpha(data.matrix, ALSParams(weighting=w)) for w in ("linear", "log")}
    assert abs(math.log(autos["log"] / autos["linear"])) > 0.1  # the schemes differ here
    space: dict[str, Any] = {
        "factors": [4],
        "iterations": [2],
        "alpha": ScaledLogUniform(2.0, 2.0),
        "weighting": ["linear", "log"],
    }
    found = search(data, space, budget=2)
    assert {t.params.weighting for t in found.trials} == {"linear", "log"}
    for trial in found.trials:
        assert trial.sampled["alpha"] == 2.0
        assert trial.params.alpha == pytest.approx(2.0 * autos[trial.params.weighting], rel=5e-3)
    assert found.space["alpha"] == "log-uniform [2, 2] x auto alpha"
    # The default space draws alpha this way; its centre is alpha="auto" (ratio 1).
    assert default_space(data)["alpha"] == ScaledLogUniform(0.1, 50.0)


# -- reproducibility ------------------------------------------------------------------------------


def test_same_seed_same_report(small_interactions: Interactions, report: TuningReport) -> None:
    again = search(small_interactions, SMALL, budget=6, random_state=5)
    assert again == report
    assert [t.value for t in again.trials] == [t.value for t in report.trials]
    other = search(small_interactions, SMALL, budget=6, random_state=6)
    assert [t.params for t in other.trials] != [t.params for t in report.trials]


def test_two_jobs_give_the_same_trials(small_interactions: Interactions) -> None:
    one = search(small_interactions, SMALL, budget=4, random_state=2)
    two = search(small_interactions, SMALL, budget=4, random_state=2, n_jobs=2)
    assert two.n_jobs == 2 and one.n_jobs == 1
    assert two == one
    assert [t.split_values for t in two.trials] == [t.split_values for t in one.trials]


def test_a_script_without_a_main_guard_gets_a_clear_error(tmp_path: Path) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from alsrec import Interactions\n"
        "from alsrec.tuning import search\n"
        "data = Interactions.from_arrays([1, 1, 2, 2, 3, 3], [1, 2, 1, 3, 2, 3])\n"
        "search(data, {'factors': [2], 'iterations': [1], 'alpha': [1.0, 2.0]}, n_jobs=2)\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC, "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    # The interpreter may print its own shutdown notices (the resource tracker's leaked
    # semaphores of the dead workers) after the traceback, so look for the error line.
    errors = [
        line
        for line in proc.stderr.splitlines()
        if line.startswith("alsrec.exceptions.BackendError")
    ]
    assert len(errors) == 1, proc.stderr[-2000:]
    assert "if __name__" in errors[0]


# -- what a trial measures ------------------------------------------------------------------------


def test_trial_values_are_the_evaluation_metric_on_the_given_split(
    small_interactions: Interactions,
) -> None:
    train, valid = holdout_split(small_interactions, 0.25, random_state=11)
    found = search(small_interactions, SMALL, budget=3, splits=[(train, valid)], metric="map", k=5)
    assert found.n_splits == 1 and found.test_fraction is None
    for trial in found.trials:
        rec = Recommender(params=trial.params)
        with blas_single_threaded():
            rec.fit(train)
        expected = evaluate(rec, valid, 5, bootstrap=0, baseline=False).metrics["map"].value
        assert trial.value == expected
        assert trial.split_values == (expected,)


def test_one_split_pair_is_told_to_be_wrapped_and_a_list_pair_works(
    small_interactions: Interactions,
) -> None:
    train, valid = holdout_split(small_interactions, 0.25, random_state=11)
    with pytest.raises(ConfigError, match=r"one \(train, validation\) pair; pass a list"):
        search(small_interactions, SMALL, budget=2, splits=(train, valid))  # type: ignore[arg-type]
    pairs: Any = [[train, valid]]
    as_lists = search(small_interactions, SMALL, budget=2, splits=pairs)
    as_tuples = search(small_interactions, SMALL, budget=2, splits=[(train, valid)])
    assert [t.value for t in as_lists.trials] == [t.value for t in as_tuples.trials]


def test_several_splits_are_averaged(small_interactions: Interactions) -> None:
    found = search(small_interactions, SMALL, budget=2, splits=3, random_state=4)
    assert found.n_splits == 3 and found.test_fraction == 0.2
    for trial in found.trials:
        assert len(trial.split_values) == 3
        assert len(set(trial.split_values)) > 1  # different splits, different values
        assert trial.value == pytest.approx(float(np.mean(trial.split_values)))


def test_progress_is_reported_after_every_trial(small_interactions: Interactions) -> None:
    calls: list[tuple[int, int, int]] = []

    def progress(done: int, total: int, trial: Trial) -> None:
        calls.append((done, total, trial.index))

    search(small_interactions, SMALL, budget=4, progress=progress)
    assert [c[:2] for c in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert sorted(c[2] for c in calls) == [0, 1, 2, 3]


# -- the report -----------------------------------------------------------------------------------


def test_report_best_spread_and_effects(report: TuningReport) -> None:
    values = [t.value for t in report.trials]
    assert len(report.trials) == 6
    assert [t.index for t in report.trials] == list(range(6))
    assert report.best.value == max(values) == report.best_value
    assert report.best_params == report.best.params
    assert report.worst_value == min(values)
    assert report.median_value == pytest.approx(float(np.median(values)))
    assert report.ranked()[0] is report.best
    names = {e.name for e in report.effects}
    assert names <= {"factors", "regularization", "alpha"}  # iterations is fixed
    for effect in report.effects:
        assert sum(effect.counts) == 6
        assert effect.effect == pytest.approx(max(effect.means) - min(effect.means))
        assert effect.best_level == effect.levels[int(np.argmax(effect.means))]
    factors = next(e for e in report.effects if e.name == "factors")
    for level, mean in zip(factors.levels, factors.means, strict=True):
        group = [t.value for t in report.trials if str(t.params.factors) == level]
        assert mean == pytest.approx(float(np.mean(group)))
    assert [e.effect for e in report.effects] == sorted(
        (e.effect for e in report.effects), reverse=True
    )


def test_report_as_text_and_json(report: TuningReport) -> None:
    text = str(report)
    assert f"Best (trial {report.best.index})" in text
    assert "Spread of ndcg@10" in text and "Sensitivity" in text
    assert len(report.table().splitlines()) == 7  # header + one row per trial
    assert len(report.table(2).splitlines()) == 3
    data = json.loads(json.dumps(report.to_dict()))
    assert data["n_trials"] == 6 and len(data["trials"]) == 6
    assert data["best"]["params"] == report.best_params.to_dict()
    assert data["spread"]["worst"] == report.worst_value
    assert ALSParams.from_dict(data["trials"][3]["params"]) == report.trials[3].params


def test_the_table_shows_every_searched_dimension_that_varies(
    small_interactions: Interactions,
) -> None:
    # Trials that differ only in regularization_exponent (and a weighting searched but fixed
    # by its one value): the exponent is a column, so no two rows look alike; the constant
    # weighting, which the Space line states, is not.
    space: dict[str, Any] = {
        "factors": [4],
        "iterations": [3],
        "regularization": [0.5],
        "alpha": [1.0],
        "weighting": ["log"],
        "regularization_exponent": [0.0, 0.5, 1.0],
    }
    found = search(small_interactions, space, budget=3, random_state=0)
    header, *rows = found.table().splitlines()
    assert header.split()[3:9] == [
        "factors", "regularization", "alpha", "iterations", "regularization_exponent", "fit",
    ]  # fmt: skip
    exponents = {row.split()[7] for row in rows}
    assert exponents == {"0", "0.5", "1"}
    best = f"regularization_exponent={found.best_params.regularization_exponent:.3g}"
    assert best in str(found)


@pytest.mark.parametrize("n", [-1, 0, 2.0, "3"])
def test_a_table_length_that_is_not_a_count_is_refused(report: TuningReport, n: Any) -> None:
    # -1 dropped the last trial silently; a float or str raised a bare TypeError
    with pytest.raises(ConfigError, match=r"^n must be"):
        report.table(n)


def test_refit_trains_the_best_params_on_all_data(
    small_interactions: Interactions, report: TuningReport
) -> None:
    model = report.best_model
    assert model is not None and model.is_fitted
    assert model.params == report.best_params
    assert len(model.users_) == len(small_interactions.users)
    assert model.seen_ is not None and model.seen_.nnz == small_interactions.nnz


def test_tuning_beats_the_former_fixed_defaults(small_data: SyntheticData) -> None:
    # regularization=0.01 was the default before "auto"; the gain of the auto default over
    # it is tested in tests/model/test_defaults.py.
    full = Interactions.from_arrays(small_data.user_ids, small_data.item_ids, small_data.weights)
    former = ALSParams(regularization=0.01, alpha=1.0)
    defaults: dict[str, Any] = {k: [v] for k, v in former.to_dict().items() if k != "random_state"}
    baseline = search(full, defaults, budget=1).best_value
    space: dict[str, Any] = {**default_space(full), "factors": [16], "iterations": [10]}
    tuned = search(full, space, budget=6)
    assert tuned.best_value > baseline + 0.02
    assert math.isfinite(tuned.worst_value)


def test_a_non_deterministic_backend_is_warned_about(
    small_interactions: Interactions, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alsrec.backends import NumpyBackend

    class Shaky(NumpyBackend):
        @property
        def deterministic(self) -> bool:
            return False

    with pytest.warns(alsrec.AlsrecWarning, match="not deterministic"):
        search(small_interactions, SMALL, budget=1, backend=Shaky())


def test_public_names_are_sorted_and_resolve() -> None:
    import alsrec.explain
    import alsrec.tuning

    for module in (alsrec.tuning, alsrec.explain):
        assert list(module.__all__) == sorted(module.__all__)
        assert all(hasattr(module, name) for name in module.__all__)


def test_effect_levels_never_split_equal_values() -> None:
    """A continuous dimension is shown in up to three bins by rank; trials with the same
    value stay in one level (two levels labelled "1" made an effect out of nothing)."""
    from alsrec import ALSParams
    from alsrec.tuning import LogUniform
    from alsrec.tuning.report import parameter_effects

    alphas = [1.0, 1.0, 1.0, 1.0, 2.0, 5.0]
    trials = [
        Trial(k, ALSParams(alpha=a), 0.1 * k, (0.1 * k,), {"alpha": a}, None, 0.0, 0.0)
        for k, a in enumerate(alphas)
    ]
    (effect,) = parameter_effects(trials, {"alpha": LogUniform(0.5, 10.0)})
    assert len(effect.levels) == len(set(effect.levels))
    assert effect.levels[0] == "1" and effect.counts[0] == 4
    assert sum(effect.counts) == 6
    same = [
        Trial(k, ALSParams(), 0.1 * k, (0.1,), {"alpha": 1.0}, None, 0.0, 0.0) for k in range(4)
    ]
    assert parameter_effects(same, {"alpha": LogUniform(0.5, 10.0)}) == ()


def test_progress_that_is_not_a_function_is_refused_before_any_trial(
    small_interactions: Interactions,
) -> None:
    with pytest.raises(ConfigError, match=r"progress must be a function .* got 5"):
        search(small_interactions, SMALL, budget=2, progress=5)  # type: ignore[arg-type]


def test_effects_read_the_full_fidelity_trials_only(small_interactions: Interactions) -> None:
    # Exploring trials train a third of the iterations and finalists are scored twice:
    # mixed in, they ranked a weighting by its cheap trials.
    found = search(small_interactions, budget=20, random_state=0)
    stages = {t.stage for t in found.trials}
    assert "explore" in stages
    counted = [t for t in found.trials if t.stage not in ("explore", "final")]
    for effect in found.effects:
        assert sum(effect.counts) == len(counted)
