"""Hyperparameter search: a staged search over ALS parameters, scored on held-out data.

:func:`search` tries up to ``budget`` parameter sets, trains a model on the training part
of each validation split, measures a ranking metric on the held-out part
(:func:`alsrec.evaluation.evaluate`), and returns a :class:`TuningReport`: every trial, the
best parameters, how far apart the best, median and worst trials are, and how much each
parameter seems to matter. With ``refit=True`` the best parameters are trained once more on
all the data (:attr:`TuningReport.best_model`).

Two strategies
--------------
``"staged"`` (the default when no space is given; :mod:`alsrec.tuning.staged`)
    The space's data-aware centre (what a default fit uses: ``regularization="auto"``,
    ``alpha="auto"``, linear weighting, where the space holds them) and random trials, at 64
    factors and a third of the iterations, explore the space cheaply;
    the best of them are trained with the full iterations (successive halving with one
    cut); a batched pattern search refines the best one along every dimension, each
    dimension with its own step (the regularization's optimum is often a narrow peak);
    the best few points are then scored on two further validation splits and the best
    mean wins; then the factors grow (128, 256, as far as the data allows) while the
    metric does not drop. Default budget 40 trials (the finalists' scoring included),
    averaged over 2 validation splits (one split's noise moves NDCG@10 by a few percent
    on MovieLens-100k, more than the differences between the good trials). How close it
    gets to the best test NDCG@10 of a fine grid is measured in the "Tuning" guide.
``"random"`` (the default when a space is given, the behaviour before the staged search)
    ``budget`` independent draws from the space (20 by default, one split), or the whole
    grid when every dimension is a finite :class:`Choice` and the budget covers all
    combinations, each point once. Random draws never repeat a parameter set. With five
    parameters of which two or three matter on a given dataset, random search finds good
    values of the important ones in far fewer trials than a grid of the same size
    (Bergstra and Bengio, 2012).

``strategy="staged"`` runs the staged search on a given space too: its ``factors`` choices
are the sizes to grow through, the middle value of its ``iterations`` choices the full
number of sweeps, and every other dimension is refined locally, whatever its kind.

The default space (:func:`default_space`)
-----------------------------------------
``regularization``
    :class:`ScaledLogUniform` ``(0.1, 10)``: a log-uniform *ratio* times what
    ``regularization="auto"`` gives the data for the trial's ``alpha`` and weighting
    (:func:`alsrec.model.defaults.auto_regularization`; its confidence-level factor is
    the data's at the default point of the space, the same for every trial). The best
    ``λ`` moves with ``alpha`` and with the confidence mass of the rows and columns; the
    automatic value
    follows both, and on the eleven datasets of the "Default hyperparameters" guide the
    best ``λ`` at alpha 1 was 0.5 to 2.7 times it. Drawing ``λ`` independently of
    ``alpha`` wastes most trials on hopeless pairs (``alpha = 30`` with ``λ = 0.01``), and
    a range centred on the automatic value spends the budget where the optimum is.
    Trials record the absolute ``λ``. A space without ``regularization`` trains every
    trial with ``"auto"``.
``alpha``
    :class:`ScaledLogUniform` ``(0.1, 50)``: a log-uniform *ratio* times what
    ``alpha="auto"`` gives the data under the trial's weighting scheme
    (:func:`alsrec.model.defaults.auto_alpha`), from "observed barely above unobserved" to
    the strong confidence of Hu, Koren and Volinsky's original setting (alpha 40 on counts).
    On data where ``"auto"`` is 1 (3% or more of the pairs observed, weights about 1) that
    is alpha 0.1 to 50. The schemes put the weights on different scales, so a trial that
    changes only the scheme keeps a comparable confidence rather than the same number: on
    one sparse set of counts ``"auto"`` gave 5.6 for linear weights, 14.7 for ``"log"`` and
    3.1 for ``"bm25"``. Trials record the absolute alpha.
``factors``
    :class:`Choice` of 16, 32, 64, 128, 256, keeping only sizes up to half the smaller
    side of the matrix (more factors than that can only memorize); at least one size
    remains. Tuned iALS optima sit at large sizes (Rendle et al., 2022), hence 256.
``iterations``
    :class:`Choice` of 10, 15, 20: ALS converges in a handful of sweeps; more mostly
    costs time. The staged search trains with 15 (5 while exploring).
``weighting``
    When :class:`~alsrec.ALSParams` has a ``weighting`` field, a :class:`Choice` of every
    scheme it accepts.
``regularization_exponent``
    On the numpy backend only (the one that trains it), a :class:`Choice` of 0, 0.5 and 1:
    frequency-scaled regularization (Rendle et al., 2022). Its penalty is normalized by
    the mean row scale, so the best ``regularization`` stays in the same range for every
    exponent and the two dimensions can be searched independently.

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
with a deterministic backend; the staged search decides each batch from the values of the
batches before, which are the same on every run. Every trial (and the refit) trains with
BLAS limited to one thread, in this process as in worker processes: multi-threaded BLAS
sums in another order and changes the last bits of the factors, and trial-level
parallelism (``n_jobs``) is the better use of the cores for the many small fits of a
search anyway. Worker processes are started with ``spawn`` and get the splits once (so a
script that calls :func:`search` with ``n_jobs > 1`` needs the usual ``if __name__ ==
"__main__":`` guard); a worker also caps the ``implicit`` backend at one thread (its
results do not depend on the thread count). Starting the workers takes a few seconds, so
``n_jobs > 1`` pays off when the trials take longer than that.
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
