"""Running a search: draw the trials, train and score each (in worker processes if asked)."""

from __future__ import annotations

import contextlib
import math
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from alsrec._methods import function_keyword_hints
from alsrec._threads import single_threaded_blas
from alsrec.backends import get_backend
from alsrec.checks import check_bool
from alsrec.data.interactions import Interactions, require_interactions
from alsrec.evaluation import METRICS, evaluate, holdout_split
from alsrec.exceptions import AlsrecWarning, BackendError, ConfigError, DataError
from alsrec.logs import warn as warn_and_log
from alsrec.model.training import COLLAPSED_WARNING
from alsrec.params import ALSParams
from alsrec.recommender import Recommender
from alsrec.tuning.report import Trial, TuningReport, parameter_effects
from alsrec.tuning.space import (
    ScaledLogUniform,
    default_point,
    default_space,
    draw_parameters,
    home_multiple,
    normalize_space,
    resolve_draw,
)
from alsrec.tuning.staged import staged_draws

if TYPE_CHECKING:
    from collections.abc import Callable

    from alsrec.backends import Backend
    from alsrec.tuning.space import Dimension, SpaceArg

__all__ = ["DEFAULT_BUDGET", "DEFAULT_SPLITS", "FINAL_SPLITS", "search"]

DEFAULT_BUDGET = {"staged": 40, "random": 20}
"""Trials when ``budget`` is not given, per strategy."""
DEFAULT_SPLITS = {"staged": 2, "random": 1}
"""Validation splits when ``splits`` is not given, per strategy: the staged search picks
among close neighbours, where one split's noise (a few percent of NDCG@10 on
MovieLens-100k) decides more than the parameters do."""
FINAL_SPLITS = 2
"""Further validation splits the staged search scores its finalists on (when ``splits``
is a number), so that the winner is picked on the mean of ``splits + FINAL_SPLITS``."""

_TUNABLE_METRICS = tuple(m for m in METRICS if m != "popularity_rank")

_TRIALS = ("budget", "the number of parameter sets tried is budget=")
_SPACE = (
    "space",
    "the parameter ranges are space= (the second argument): a dict of parameter name -> "
    "LogUniform(low, high), Choice([...]), a list of values or one value",
)
_LIST_LENGTH = ("k", "the metric's list length is k=")
SEARCH_KEYWORDS: dict[str, tuple[str, str]] = {
    "n_iter": _TRIALS,
    "n_trials": _TRIALS,
    "max_evals": _TRIALS,
    "timeout": ("budget", "a search stops after budget= trials; it has no time limit"),
    "param_distributions": _SPACE,
    "param_grid": _SPACE,
    "search_space": _SPACE,
    "cv": ("splits", "the validation splits are splits= (a number, or (train, validation) pairs)"),
    "scoring": ("metric", "the metric to maximize is metric= (e.g. 'ndcg'), its list length k="),
    "verbose": ("progress", "progress= takes a function called as progress(done, total, trial)"),
    "N": _LIST_LENGTH,
    "K": _LIST_LENGTH,
    "top_k": _LIST_LENGTH,
    "topk": _LIST_LENGTH,
}
"""Keywords of scikit-learn's searches, Optuna and hyperopt that :func:`search` spells
differently (where they mean something else than in :data:`alsrec.checks.OTHER_KEYWORDS`:
``n_iter`` is a number of trials here, not of sweeps)."""


@dataclass(frozen=True)
class _Task:
    """What a worker needs besides the splits to run one trial."""

    index: int
    params: dict[str, Any]
    final: bool = False
    """Score on the further splits (:attr:`_Setup.final_splits`) instead."""


@dataclass(frozen=True)
class _Setup:
    """The fixed part of every trial: splits, metric, backend."""

    splits: tuple[tuple[Interactions, Interactions], ...]
    final_splits: tuple[tuple[Interactions, Interactions], ...]
    metric: str
    k: int
    backend: str | Backend
    single_threaded_backend: bool


def _recommender(params: ALSParams, backend: str | Backend) -> Recommender:
    """An unfitted recommender with every field of ``params``."""
    return Recommender(backend=backend, params=params)


def _fit_params(params: dict[str, Any], single_threaded_backend: bool) -> dict[str, Any]:
    if single_threaded_backend:
        return {**params, "num_threads": 1}
    return params


def _run(setup: _Setup, task: _Task) -> tuple[int, tuple[float, ...], float, float]:
    """Train and score one parameter set on every split."""
    start = time.perf_counter()
    fit_seconds = 0.0
    values = []
    params = ALSParams.from_dict(_fit_params(task.params, setup.single_threaded_backend))
    for pos, (train, valid) in enumerate(setup.final_splits if task.final else setup.splits):
        rec = _recommender(params, setup.backend)
        tick = time.perf_counter()
        with warnings.catch_warnings():  # a trial that collapsed just scores low
            warnings.filterwarnings("ignore", COLLAPSED_WARNING, AlsrecWarning)
            rec.fit(train)
        fit_seconds += time.perf_counter() - tick
        try:
            report = evaluate(rec, valid, setup.k, bootstrap=0, baseline=False)
        except DataError as exc:
            raise DataError(
                f"search could not score a trial on validation split {pos} ({train.shape[0]} "
                f"users, {train.nnz} training and {valid.nnz} validation interactions): {exc} "
                "The splits are carved from the data given to search: with so few "
                "interactions per user and item, give it more data, or pass "
                "splits=[(train, validation), ...] made yourself."
            ) from exc
        values.append(float(report.metrics[setup.metric].value))
    return task.index, tuple(values), fit_seconds, time.perf_counter() - start


_WORKER_SETUP: _Setup | None = None
_WORKER_LIMITS: object = None


def _init_worker(setup: _Setup) -> None:
    """Worker initializer: one BLAS thread for the worker's whole life, and the splits."""
    global _WORKER_SETUP, _WORKER_LIMITS
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with implicit
        pass
    else:
        _WORKER_LIMITS = threadpool_limits(limits=1, user_api="blas")
    _WORKER_SETUP = setup


def _run_in_worker(task: _Task) -> tuple[int, tuple[float, ...], float, float]:
    assert _WORKER_SETUP is not None, "worker not initialized"
    return _run(_WORKER_SETUP, task)


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _check_splits(
    interactions: Interactions,
    splits: int | Sequence[tuple[Interactions, Interactions]],
    test_fraction: float,
    seq: np.random.SeedSequence,
    extra: int = 0,
) -> tuple[tuple[tuple[Interactions, Interactions], ...], float | None]:
    """The validation splits: made from ``interactions`` (``extra`` more than asked for,
    for the finalists) when ``splits`` is a number, else checked."""
    if isinstance(splits, (int, np.integer)) and not isinstance(splits, bool):
        n = _check_int("splits", splits, 1)
        seeds = seq.generate_state(n + extra).tolist()  # the first n do not depend on extra
        made = tuple(holdout_split(interactions, test_fraction, random_state=int(s)) for s in seeds)
        return made, float(test_fraction)
    if not isinstance(splits, Sequence) or not splits:
        raise ConfigError(
            f"splits must be a number of holdout splits (>= 1) or a non-empty sequence of "
            f"(train, validation) Interactions pairs, got {splits!r}."
        )
    if len(splits) == 2 and all(isinstance(p, Interactions) for p in splits):
        raise ConfigError(  # splits=holdout_split(...): one pair, not a list of pairs
            "splits got one (train, validation) pair; pass a list of pairs: "
            "splits=[(train, validation)]."
        )
    out = []
    for pos, pair in enumerate(splits):
        if (
            not isinstance(pair, (tuple, list))
            or len(pair) != 2
            or not all(isinstance(p, Interactions) for p in pair)
        ):
            raise ConfigError(
                f"splits[{pos}] must be a (train, validation) pair of Interactions, got "
                f"{type(pair).__name__}."
            )
        out.append((pair[0], pair[1]))
    return tuple(out), None


def _jobs(n_jobs: object, n_trials: int) -> int:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)):
        raise ConfigError(f"n_jobs must be an integer (-1 for every core), got {n_jobs!r}.")
    if n_jobs == -1:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not on Linux
            cores = os.cpu_count() or 1
        n_jobs = cores
    if n_jobs < 1:
        raise ConfigError(f"n_jobs must be >= 1 or -1 (every core), got {n_jobs!r}.")
    return max(1, min(int(n_jobs), n_trials))


def _check_progress(progress: object) -> None:
    if progress is not None and not callable(progress):
        raise ConfigError(
            f"progress must be a function called as progress(done, total, trial) after each "
            f"trial, or None; got {progress!r}."
        )


@function_keyword_hints("search()", SEARCH_KEYWORDS)
def search(
    interactions: Interactions,
    space: SpaceArg | None = None,
    *,
    metric: str = "ndcg",
    k: int = 10,
    budget: int | None = None,
    splits: int | Sequence[tuple[Interactions, Interactions]] | None = None,
    test_fraction: float = 0.2,
    random_state: int = 0,
    n_jobs: int = 1,
    backend: str | Backend = "numpy",
    refit: bool = False,
    progress: Callable[[int, int, Trial], None] | None = None,
    strategy: str = "auto",
) -> TuningReport:
    """Search ALS hyperparameters on held-out data; see the module documentation.

    Parameters
    ----------
    interactions : Interactions
        All the data. Validation splits are drawn from it; keep a final test set out of it
        if you want an unbiased estimate of the tuned model.
    space : mapping, optional
        Parameter name -> :class:`LogUniform`, :class:`ScaledLogUniform` (regularization, alpha),
        :class:`Choice`, a list of values, or one fixed value. Names are fields of
        :class:`~alsrec.ALSParams` except ``random_state``; parameters left out keep their
        defaults. ``None`` means :func:`default_space` of ``interactions``.
    metric : str, default "ndcg"
        What to maximize: a name of :data:`alsrec.evaluation.METRICS` except
        ``"popularity_rank"``.
    k : int, default 10
        List length of the metric.
    budget : int, optional
        Number of trials at most: 40 for the staged search, 20 for the random search
        (:data:`DEFAULT_BUDGET`). A random search over a space of finite choices with
        fewer combinations runs each once; a staged search may stop early when its local
        steps have shrunk to nothing. A staged search's finalists scored on further
        splits (stage ``"final"``, 3 of 40) count as trials.
    splits : int or sequence of (train, validation) pairs, optional
        How many seeded per-user holdout splits to average each trial over (2 for the
        staged search, 1 for the random search: :data:`DEFAULT_SPLITS`), or the splits
        themselves (e.g. from :func:`alsrec.evaluation.time_split`). Given a number, the
        staged search makes :data:`FINAL_SPLITS` (2) more, on which only its finalists
        are scored; given the splits themselves, it has no final stage and picks the
        best trial.
    test_fraction : float, default 0.2
        Share of each user's items held out in generated splits.
    random_state : int, default 0
        Seed of the draws, the splits and every model's initialization.
    n_jobs : int, default 1
        Trials run at once, each in its own worker process (``-1``: one per core); ``1``
        runs them in this process. See the module documentation on BLAS threads.
    backend : str or Backend, default "numpy"
        Training backend; with ``n_jobs > 1`` it must be a name. A backend that is not
        deterministic (GPU) makes the search irreproducible (warned).
    refit : bool, default False
        Train the best parameters on all of ``interactions``
        (:attr:`TuningReport.best_model`).
    progress : callable, optional
        Called as ``progress(done, total, trial)`` after each trial (in completion order);
        ``total`` is the budget, which a staged search may not use up.
    strategy : {"auto", "staged", "random"}, default "auto"
        ``"auto"``: the staged search when ``space`` is ``None``, the random search when
        a space is given (the behaviour of earlier versions). See the module
        documentation of :mod:`alsrec.tuning`.

    Returns
    -------
    TuningReport
        Its ``best`` is the trial with the highest metric for a random search. For a
        staged search it is the winning finalist's ``"final"`` trial (its mean over more
        splits; without a final stage, the full-fidelity trial with the highest metric)
        or, when the growing stage found a larger ``factors`` within 0.5% of it, that
        ``"grow"`` trial. A staged search treats ``iterations`` as a fidelity (trained at
        the middle choice) and only grows ``factors`` from 64; ``strategy="random"``
        searches them as values. ``effects`` reads the full-fidelity trials only.

    Raises
    ------
    ConfigError
        A bad space, metric, ``k``, budget, split count, job count or strategy; a space that
        yields invalid parameters.
    DataError
        Too little data to split, or no trial could be scored.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> from alsrec.data import synthetic
    >>> from alsrec.tuning import LogUniform
    >>> data = synthetic(n_users=150, n_items=60, n_clusters=3, random_state=0)
    >>> full = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)
    >>> report = search(full, {"factors": [8], "iterations": [5],
    ...                        "regularization": LogUniform(0.1, 100), "alpha": [1.0, 10.0]},
    ...                 budget=4, random_state=0, refit=True)
    >>> len(report.trials), report.best.value == max(t.value for t in report.trials)
    (4, True)
    >>> report.best_model.params == report.best_params
    True
    >>> report == search(full, {"factors": [8], "iterations": [5],
    ...                         "regularization": LogUniform(0.1, 100), "alpha": [1.0, 10.0]},
    ...                  budget=4, random_state=0)
    True
    """
    started = time.perf_counter()
    k, budget, random_state, engine_name = _check_arguments(
        interactions, metric, k, budget, random_state, backend, n_jobs
    )
    chosen = _check_strategy(strategy, space)
    refit = check_bool("refit", refit)
    _check_progress(progress)
    if budget is None:
        budget = DEFAULT_BUDGET[chosen]
    if splits is None:
        splits = DEFAULT_SPLITS[chosen]
    resolved_space = normalize_space(
        default_space(interactions, backend=backend) if space is None else space
    )
    sample_seq, split_seq = np.random.SeedSequence(random_state).spawn(2)
    rng = np.random.default_rng(sample_seq)
    extra = FINAL_SPLITS if chosen == "staged" and not isinstance(splits, Sequence) else 0
    all_splits, fraction = _check_splits(interactions, splits, test_fraction, split_seq, extra)
    made_splits = all_splits[: len(all_splits) - extra]
    chosen_draw: dict[str, Any] | None = None
    with _Runner(
        made_splits, all_splits[len(made_splits) :], metric, k, backend, _jobs(n_jobs, budget)
    ) as runner:
        batches = _Batches(runner, resolved_space, interactions, random_state, budget, progress)
        if chosen == "random":
            batches(draw_parameters(resolved_space, budget, rng), "random")
        else:
            chosen_draw = staged_draws(
                resolved_space,
                budget,
                rng,
                batches,
                final_splits=extra > 0,
                start=default_point(resolved_space, interactions.matrix),
                split_values=batches.split_values,
            )
        jobs = runner.jobs
    trials = batches.trials
    best = _best(tuple(trials), metric, k, chosen_draw)
    wall = time.perf_counter() - started
    best_model = None
    if refit:
        with single_threaded_blas():  # as the trials ran: the same arithmetic, no oversubscription
            best_model = _recommender(best.params, backend).fit(interactions)
    return TuningReport(
        metric=metric,
        k=k,
        trials=tuple(trials),
        best=best,
        # the exploring trials (fewer iterations) and the finalists' re-scorings would
        # weigh some points twice and mix fidelities
        effects=parameter_effects(
            [t for t in trials if t.stage not in ("explore", "final")], resolved_space
        ),
        space=MappingProxyType({n: _describe(n, d) for n, d in resolved_space.items()}),
        n_splits=len(made_splits),
        test_fraction=fraction,
        random_state=random_state,
        backend=engine_name,
        wall_seconds=wall,
        n_jobs=jobs,
        best_model=best_model,
        strategy=chosen,
    )


def _describe(name: str, dim: Dimension) -> str:
    """``dim.describe()``, naming the parameter a :class:`ScaledLogUniform` scales."""
    return dim.describe(name) if isinstance(dim, ScaledLogUniform) else dim.describe()


def _draw_key(draw: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A hashable form of a draw, whatever the order of its keys."""
    return tuple(sorted((name, repr(value)) for name, value in draw.items()))


def _trial(
    outcome: tuple[int, tuple[float, ...], float, float],
    resolved: tuple[ALSParams, float | None],
    draw: dict[str, Any],
    stage: str,
) -> Trial:
    """The record of one trial: what ran (``resolved``, ``draw``) and how it scored."""
    index, values, fit_seconds, seconds = outcome
    scored = [v for v in values if not math.isnan(v)]
    return Trial(
        index=index,
        params=resolved[0],
        value=float(np.mean(scored)) if scored else math.nan,
        split_values=values,
        sampled=MappingProxyType(dict(draw)),
        scale=resolved[1],
        fit_seconds=fit_seconds,
        seconds=seconds,
        stage=stage,
    )


def _check_strategy(strategy: object, space: object) -> str:
    """``"staged"`` or ``"random"``: what ``strategy`` (``"auto"`` by default) means here."""
    if strategy == "auto":
        return "staged" if space is None else "random"
    if strategy not in ("staged", "random"):
        raise ConfigError(f"strategy must be 'auto', 'staged' or 'random', got {strategy!r}.")
    return str(strategy)


def _check_metric(metric: object) -> None:
    """Refuse a metric :func:`search` cannot maximize, saying how to write a near miss."""
    if metric in _TUNABLE_METRICS:
        return
    message = f"metric must be one of {list(_TUNABLE_METRICS)}, got {metric!r}"
    if metric == "popularity_rank":
        message += " (popularity_rank measures bias, not quality: it cannot be maximized)"
    elif isinstance(metric, str):
        name, _, cutoff = metric.strip().lower().partition("@")
        if name in _TUNABLE_METRICS:  # "NDCG", "ndcg@10": the list length is k=
            message += f"; write metric={name!r}" + (f", k={cutoff}" if cutoff.isdigit() else "")
    raise ConfigError(message + ".")


def _check_arguments(
    interactions: object,
    metric: str,
    k: int,
    budget: int | None,
    random_state: int,
    backend: str | Backend,
    n_jobs: int,
) -> tuple[int, int | None, int, str]:
    """Validate what :func:`search` was given; returns ``k``, ``budget``, seed, backend name."""
    require_interactions(interactions, "interactions", "search")
    _check_metric(metric)
    k = _check_int("k", k, 1)
    budget = None if budget is None else _check_int("budget", budget, 1)
    random_state = _check_int("random_state", random_state, 0)
    if not isinstance(backend, str) and n_jobs != 1:
        raise ConfigError(
            "With n_jobs > 1 the backend must be given by name (e.g. 'numpy' or 'implicit'), "
            "since worker processes build their own."
        )
    engine = get_backend(backend)  # fails early, with the valid names, for a bad name
    if not engine.deterministic:
        warn_and_log(
            f"Backend {engine.name!r} is not deterministic: the same seed can give different "
            "trials. Use a deterministic backend (e.g. 'numpy' or 'implicit') to reproduce "
            "a search.",
            AlsrecWarning,
            stacklevel=3,
        )
    return k, budget, random_state, engine.name


class _Runner:
    """Runs batches of trials here (one job) or in worker processes kept for the whole search."""

    def __init__(
        self,
        splits: tuple[tuple[Interactions, Interactions], ...],
        final_splits: tuple[tuple[Interactions, Interactions], ...],
        metric: str,
        k: int,
        backend: str | Backend,
        jobs: int,
    ) -> None:
        self.jobs = jobs
        self.setup = _Setup(
            splits, final_splits, metric, k, backend, single_threaded_backend=jobs > 1
        )
        self._stack = contextlib.ExitStack()
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Runner:
        if self.jobs == 1:
            self._stack.enter_context(single_threaded_blas())
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            context = multiprocessing.get_context("spawn")
            self._pool = self._stack.enter_context(
                ProcessPoolExecutor(
                    max_workers=self.jobs,
                    mp_context=context,
                    initializer=_init_worker,
                    initargs=(self.setup,),
                )
            )
        return self._pool

    def run(
        self,
        tasks: list[_Task],
        record: Callable[[tuple[int, tuple[float, ...], float, float]], None],
    ) -> None:
        """Run every task of a batch; ``record`` each outcome (in completion order)."""
        if self.jobs == 1:
            with single_threaded_blas():
                for task in tasks:
                    record(_run(self.setup, task))
            return
        pool = self._workers()
        futures = []
        try:
            futures = [pool.submit(_run_in_worker, task) for task in tasks]
            for future in as_completed(futures):
                record(future.result())
        except BrokenProcessPool as exc:
            raise BackendError(
                "A trial worker process died before finishing. If search() runs from a "
                "script, call it under 'if __name__ == \"__main__\":' (workers are started "
                "with 'spawn' and import the main module); if memory is short, lower "
                f"n_jobs (it was {self.jobs}) or use n_jobs=1."
            ) from exc
        except BaseException:
            for future in futures:
                future.cancel()
            raise


class _Batches:
    """Trains and scores batches of draws as new trials (the ``evaluate`` of the staged
    search); keeps every trial, in order."""

    def __init__(
        self,
        runner: _Runner,
        space: dict[str, Dimension],
        interactions: Interactions,
        random_state: int,
        budget: int,
        progress: Callable[[int, int, Trial], None] | None,
    ) -> None:
        self.runner, self.space, self.matrix = runner, space, interactions.matrix
        self.random_state, self.budget, self.progress = random_state, budget, progress
        scaled = isinstance(space.get("regularization"), ScaledLogUniform)
        # The rule's multiple, computed once: each trial's own would repeat the SVD.
        self.multiple = home_multiple(space, self.matrix) if scaled else None
        self.trials: list[Trial] = []

    def split_values(self, draw: dict[str, Any]) -> tuple[float, ...]:
        """The split values of the latest trial of ``draw`` (empty if it never ran)."""
        key = _draw_key(draw)
        found = [t.split_values for t in self.trials if _draw_key(t.sampled) == key]
        return found[-1] if found else ()

    def __call__(self, draws: Sequence[dict[str, Any]], stage: str) -> list[float]:
        """The metric values of ``draws``, each recorded as a trial of ``stage``."""
        first = len(self.trials)
        resolved = [
            resolve_draw(d, self.space, self.matrix, self.random_state, self.multiple)
            for d in draws
        ]
        final = stage == "final"
        tasks = [_Task(first + i, p.to_dict(), final) for i, (p, _) in enumerate(resolved)]
        earlier = {_draw_key(t.sampled): t.split_values for t in self.trials}
        batch: dict[int, Trial] = {}

        def record(outcome: tuple[int, tuple[float, ...], float, float]) -> None:
            index = outcome[0]
            draw = draws[index - first]
            if final:  # a finalist: its earlier splits' values, then the further ones
                outcome = (index, earlier[_draw_key(draw)] + outcome[1], *outcome[2:])
            batch[index] = _trial(outcome, resolved[index - first], draw, stage)
            if self.progress is not None:
                done = first + len(batch)
                self.progress(done, max(self.budget, done), batch[index])

        self.runner.run(tasks, record)
        self.trials.extend(batch[i] for i in range(first, first + len(tasks)))
        return [batch[i].value for i in range(first, first + len(tasks))]


def _best(
    trials: tuple[Trial, ...], metric: str, k: int, chosen: dict[str, Any] | None = None
) -> Trial:
    """The latest trial of the ``chosen`` draw (a staged search's pick: a finalist scored on
    more splits than the others, or a grown size), else the best scored trial (the earliest
    among equals)."""
    scored = [t for t in trials if not math.isnan(t.value)]
    if chosen is not None:
        picked = [t for t in scored if dict(t.sampled) == chosen]
        if picked:
            return picked[-1]
    if not scored:
        raise DataError(
            f"No trial could be scored: {metric}@{k} is undefined on every validation split "
            "(no user has a held-out item the model knows). Use more data or other splits."
        )
    return max(scored, key=lambda t: (t.value, -t.index))
