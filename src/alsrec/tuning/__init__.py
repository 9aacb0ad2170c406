"""Hyperparameter search: seeded random search over ALS parameters, scored on held-out data.

:func:`search` draws ``budget`` parameter sets from a search space, trains a model on the
training part of each validation split, measures a ranking metric on the held-out part
(:func:`alsrec.evaluation.evaluate`), and returns a :class:`TuningReport`: every trial, the
best parameters, how far apart the best, median and worst trials are, and how much each
parameter seems to matter. With ``refit=True`` the best parameters are trained once more on
all the data (:attr:`TuningReport.best_model`).

Why random search
-----------------
With five parameters of which two or three matter on a given dataset, random search finds
good values of the important ones in far fewer trials than a grid of the same size, which
spends most of its points varying parameters that do not matter (Bergstra and Bengio,
2012). When every dimension is a finite :class:`Choice` and the budget covers all
combinations, the full grid is evaluated instead, each point once. Random draws never
repeat a parameter set. Successive halving over iterations is not done: a trial always
runs its full ``iterations``.

The default space (:func:`default_space`)
-----------------------------------------
``regularization``
    :class:`ScaledLogUniform` ``(0.1, 10)``: a log-uniform *ratio* times what
    ``regularization="auto"`` gives the data for the trial's ``alpha`` and weighting
    (:func:`alsrec.model.defaults.auto_regularization`). The best ``λ`` moves with
    ``alpha`` and with the confidence mass of the rows and columns; the automatic value
    follows both, and on the eleven datasets of the "Default hyperparameters" guide the
    best ``λ`` at alpha 1 was 0.5 to 2.7 times it. Drawing ``λ`` independently of
    ``alpha`` wastes most trials on hopeless pairs (``alpha = 30`` with ``λ = 0.01``), and
    a range centred on the automatic value spends the budget where the optimum is.
    Trials record the absolute ``λ``. A space without ``regularization`` trains every
    trial with ``"auto"``.
``alpha``
    :class:`LogUniform` ``(0.1, 50)``: from "observed barely above unobserved" to the
    strong confidence of Hu, Koren and Volinsky's original setting (alpha 40 on counts).
``factors``
    :class:`Choice` of 16, 32, 64, 128, keeping only sizes up to half the smaller side of
    the matrix (more factors than that can only memorize); at least one size remains.
``iterations``
    :class:`Choice` of 10, 15, 20: ALS converges in a handful of sweeps; more mostly
    costs time.
``weighting``
    When :class:`~alsrec.ALSParams` has a ``weighting`` field, a :class:`Choice` of every
    scheme it accepts.

Values drawn from log-uniform dimensions are rounded to three significant digits. The
names a space may hold are the fields of :class:`~alsrec.ALSParams` (read with
``dataclasses.fields``), and the weighting schemes those of
:data:`alsrec.data.weighting.Weighting`: no list of hyperparameters is typed out here.

Modules: :mod:`~alsrec.tuning.space` (dimensions, the default space, drawing),
:mod:`~alsrec.tuning.random_search` (:func:`search`, worker processes) and
:mod:`~alsrec.tuning.report` (:class:`TuningReport`). Trials are scored with
:func:`alsrec.evaluation.evaluate`, so the metrics (and the one NDCG) are those of
:mod:`alsrec.evaluation`.

Reproducibility and parallel trials
-----------------------------------
The draws, the splits and every model's initialization derive from ``random_state``, so
the same call gives an identical report (timings aside: they are excluded from ``==``)
with a deterministic backend. Every trial (and the refit) trains with BLAS limited to one
thread, in this process as in worker processes: multi-threaded BLAS sums in another order
and changes the last bits of the factors, and trial-level parallelism (``n_jobs``) is the
better use of the cores for the many small fits of a search anyway. Worker processes are
started with ``spawn`` and get the splits once (so a script that calls :func:`search` with
``n_jobs > 1`` needs the usual ``if __name__ == "__main__":`` guard); a worker also caps
the ``implicit`` backend at one thread (its results do not depend on the thread count).
Starting the workers takes a few seconds, so ``n_jobs > 1`` pays off when the trials
take longer than that.
"""

from alsrec.tuning.random_search import search
from alsrec.tuning.report import ParameterEffect, Trial, TuningReport
from alsrec.tuning.space import Choice, Dimension, LogUniform, ScaledLogUniform, default_space

__all__ = [
    "Choice",
    "Dimension",
    "LogUniform",
    "ParameterEffect",
    "ScaledLogUniform",
    "Trial",
    "TuningReport",
    "default_space",
    "search",
]
