"""The fitted model and the functions over it.

- :mod:`alsrec.model.fitted`: :class:`FittedModel` (frozen) and :func:`build_model`;
- :mod:`alsrec.model.lookup`: ID resolution under a lookup policy;
- :mod:`alsrec.model.ranking`: top-n ranking, the popularity fallback, similarity;
- :mod:`alsrec.model.updates`: fold-in of fresh histories and :func:`updated`;
- :mod:`alsrec.model.loss`: the training objective, :func:`~alsrec.model.loss.als_loss`, and
  :func:`~alsrec.model.loss.loss_monitor`, a training callback reporting it.
"""

from alsrec.model.fitted import (
    FittedModel,
    Provenance,
    as_factors,
    build_model,
    mapping_check,
    model_of,
)
from alsrec.model.loss import als_loss, loss_monitor
from alsrec.model.updates import fold_in, updated

__all__ = [
    "FittedModel",
    "Provenance",
    "als_loss",
    "as_factors",
    "build_model",
    "fold_in",
    "loss_monitor",
    "mapping_check",
    "model_of",
    "updated",
]
