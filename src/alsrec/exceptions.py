"""The exceptions and warnings raised by alsrec.

Every error alsrec raises on purpose derives from :class:`AlsrecError`, so one
``except AlsrecError`` catches them all. Each leaf also inherits the built-in
exception that code written without alsrec in mind already catches (an unknown
ID is a ``KeyError``, bad data is a ``ValueError``, ...)::

    AlsrecError (Exception)
    ├── ConfigError (ValueError)             invalid hyperparameter or argument
    │   └── UsageError (TypeError)           an unknown keyword, a subscript of an IdMapper
    ├── DataError (ValueError)               bad interaction data
    │   └── IdTypeError (TypeError)          IDs that are neither all int nor all str
    ├── UnknownIdError (KeyError)            an ID the model has never seen (strict policy)
    ├── UnmappedIndexError (IndexError)      a matrix index with no external ID
    ├── MappingMismatchError (ValueError)    factor rows and ID mappings disagree
    ├── NotFittedError (ValueError, AttributeError)   query before ``fit``
    ├── ArtifactError (ValueError)           a saved model that cannot be trusted or read
    └── BackendError (RuntimeError)          a training backend failed
        └── BackendUnavailableError (ImportError)    the backend cannot run here

    AlsrecWarning (UserWarning)              something worked, but not as asked
    └── UnreadColumnWarning                  no weight read; numeric columns left unread

Messages say what happened, name the offending value, and say what to do next.
"""

from __future__ import annotations

__all__ = [
    "AlsrecError",
    "AlsrecWarning",
    "ArtifactError",
    "BackendError",
    "BackendUnavailableError",
    "ConfigError",
    "DataError",
    "IdTypeError",
    "MappingMismatchError",
    "NotFittedError",
    "UnknownIdError",
    "UnmappedIndexError",
    "UnreadColumnWarning",
    "UsageError",
]


class AlsrecError(Exception):
    """Root of every error raised by alsrec."""


class ConfigError(AlsrecError, ValueError):
    """A hyperparameter or call argument is out of its valid range."""


class UsageError(ConfigError, TypeError):
    """A call alsrec does not take: a keyword argument the method does not have (often
    another library's name for one alsrec has, e.g. implicit's ``N`` for ``n``), or
    ``mapper[key]`` on an :class:`~alsrec.IdMapper` (ambiguous between a position and an
    integer ID). The message says what to write instead."""


class DataError(AlsrecError, ValueError):
    """Interaction data is malformed: NaN weights, length mismatch, empty input, ..."""


class IdTypeError(DataError, TypeError):
    """IDs on one axis are not all ``int`` or all ``str`` (or are of another type)."""


class UnknownIdError(AlsrecError, KeyError):
    """An external ID is not known to the model (raised under the ``"strict"`` policy).

    Attributes
    ----------
    ids : tuple
        The unknown IDs, in the order they were given.
    """

    def __init__(self, message: str, ids: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.ids = ids

    def __str__(self) -> str:
        # KeyError quotes its argument; show the message as written.
        return str(self.args[0]) if self.args else ""


class UnmappedIndexError(AlsrecError, IndexError):
    """A matrix index has no external ID in an :class:`~alsrec.IdMapper`."""


class MappingMismatchError(AlsrecError, ValueError):
    """The number of factor rows and the number of mapped IDs disagree."""


class NotFittedError(AlsrecError, ValueError, AttributeError):
    """The model was queried before :meth:`~alsrec.Recommender.fit` was called."""


class ArtifactError(AlsrecError, ValueError):
    """A saved model is missing, corrupt, of an unknown format, or not trusted."""


class BackendError(AlsrecError, RuntimeError):
    """A training backend failed; the backend's own exception is chained."""


class BackendUnavailableError(BackendError, ImportError):
    """The requested backend cannot run on this machine (missing package, no GPU, ...)."""


class AlsrecWarning(UserWarning):
    """A call succeeded, but not exactly as asked (e.g. a model with unmapped factor rows)."""


class UnreadColumnWarning(AlsrecWarning):
    """A reader read no weight column, so every row weighs 1.0, while the data has numeric
    columns it did not read (a ``rating`` or ``plays`` column meant as the weight?).

    Pass the column as ``weight=`` to use it; to weigh rows 1.0 on purpose, ignore this
    category: ``warnings.simplefilter("ignore", alsrec.UnreadColumnWarning)``.
    """
