"""alsrec: typed, safe Alternating Least Squares recommendations for implicit feedback.

The public API is what ``__all__`` lists; everything else is private.

Examples
--------
>>> from alsrec import Recommender
>>> rec = Recommender(factors=8, iterations=5, random_state=0)
>>> rec = rec.fit(["u1", "u1", "u2"], ["a", "b", "a"])
>>> len(rec.recommend("u2", n=5))
1
"""

from alsrec._version import __version__
from alsrec.exceptions import (
    AlsrecError,
    AlsrecWarning,
    ArtifactError,
    BackendError,
    BackendUnavailableError,
    ConfigError,
    DataError,
    IdTypeError,
    MappingMismatchError,
    NotFittedError,
    UnknownIdError,
    UnmappedIndexError,
    UnreadColumnWarning,
    UsageError,
)
from alsrec.interactions import Interactions, InteractionsSummary
from alsrec.mapping import IdMapper
from alsrec.model import FittedModel
from alsrec.params import ALSParams
from alsrec.recommender import Recommender
from alsrec.results import BatchRecommendations, ItemScores, Recommendations

__all__ = [
    "ALSParams",
    "AlsrecError",
    "AlsrecWarning",
    "ArtifactError",
    "BackendError",
    "BackendUnavailableError",
    "BatchRecommendations",
    "ConfigError",
    "DataError",
    "FittedModel",
    "IdMapper",
    "IdTypeError",
    "Interactions",
    "InteractionsSummary",
    "ItemScores",
    "MappingMismatchError",
    "NotFittedError",
    "Recommendations",
    "Recommender",
    "UnknownIdError",
    "UnmappedIndexError",
    "UnreadColumnWarning",
    "UsageError",
    "__version__",
]
