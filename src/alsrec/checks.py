"""Argument checks shared by the whole package: one implementation of each.

Every public entry point that takes a count (``n``, a block size, a number of blocks) or a
lookup policy validates it here, so the rule and its message are the same everywhere; so is
the memory check before a large allocation (:func:`check_memory`).

Examples
--------
>>> from alsrec.checks import check_int, check_policy
>>> check_int("n", 5, minimum=1)
5
>>> check_int("n", 0, minimum=1)
Traceback (most recent call last):
...
alsrec.exceptions.ConfigError: n must be >= 1, got 0.
>>> check_policy("strict")
'strict'
"""

from __future__ import annotations

import difflib
import numbers
import os
import reprlib
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from alsrec.exceptions import ConfigError, DataError, UsageError

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

    from alsrec.types import Policy

__all__ = [
    "N_AFTER_ID",
    "N_AFTER_IDS",
    "OTHER_KEYWORDS",
    "OTHER_NAMES",
    "POLICIES",
    "check_aligned",
    "check_bool",
    "check_int",
    "check_keywords",
    "check_memory",
    "check_policy",
    "check_seed",
    "format_bytes",
    "memory_limits",
]

POLICIES: tuple[str, ...] = ("safe", "strict")
"""The lookup policies every query accepts."""


def _expected(minimum: int) -> str:
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    return f"an integer >= {minimum}"


N_AFTER_ID = (
    " recommend(user_id, n) takes the list length second; the model keeps each user's "
    "training items itself, so implicit's recommend(userid, user_items[userid]) is "
    "recommend(user_id) here (history= is for interactions since training)."
)
"""The hint :meth:`alsrec.Recommender.recommend` adds when ``n`` is a matrix or a list."""

N_AFTER_IDS = (
    " recommend_many(user_ids, n) takes the list length second; the model keeps each user's "
    "training items itself, so implicit's recommend(userids, user_items[userids]) is "
    "recommend_many(user_ids) here (histories= is for interactions since training)."
)
"""The same hint for :meth:`alsrec.Recommender.recommend_many`."""

OTHER_NAMES = {
    "user_factors": "the fitted factors are rec.user_factors_ (with a trailing underscore)",
    "item_factors": "the fitted factors are rec.item_factors_ (with a trailing underscore)",
    "recalculate_user": "fold in fresh interactions with recommend(user_id, history=[...]) or "
    "recommend_for_history([...])",
    "partial_fit_users": "add or replace users' interactions with updated(user_ids, item_ids)",
    "partial_fit_items": "add interactions with updated(user_ids, item_ids); new items need a "
    "refit",
    "rank_items": "score given items for a user with score(user_id, item_ids)",
    "similar_items_batch": "batch queries are similar_items_many(item_ids, n)",
    "predict": "scores come from recommend(user_id, n) or score(user_id, item_ids)",
    "transform": "the factors are user_factors_ and item_factors_",
}
"""implicit's and scikit-learn's names a newcomer tries first, with what alsrec calls them
(:class:`alsrec.Recommender`'s ``AttributeError`` adds the hint)."""

_QUERIES = "recommend() and the other queries"
_CONSTRUCTOR = "Recommender(...)"
_OWNERS: dict[str, str] = {
    "n": _QUERIES,
    "exclude_seen": "recommend() and recommend_many()",
    "exclude": _QUERIES,
    "history": "recommend() and explain() (histories=: recommend_many())",
    "factors": _CONSTRUCTOR,
    "regularization": _CONSTRUCTOR,
    "iterations": _CONSTRUCTOR,
    "random_state": _CONSTRUCTOR,
    "num_threads": f"{_CONSTRUCTOR} and recommend_many()",
    "backend": _CONSTRUCTOR,
    "solver": _CONSTRUCTOR,
    "progress": "fit()",
}
"""Where each alsrec keyword of :data:`OTHER_KEYWORDS` is taken, for a hint given to a
method that does not take it."""

_LENGTH = ("n", "the list length is n=")
_FACTORS = ("factors", "the number of factors is factors=")
_REGULARIZATION = ("regularization", "the penalty is regularization=")
_ITERATIONS = ("iterations", "the number of sweeps is iterations=")
_SEED = ("random_state", "the seed is random_state=")
_THREADS = ("num_threads", "the thread count is num_threads=")
_HISTORY = (
    "history",
    "the model keeps each user's training items itself, and interactions since training "
    "are history= (one user) or histories= (many)",
)
OTHER_KEYWORDS: dict[str, tuple[str, str]] = {
    "N": _LENGTH,
    "k": _LENGTH,
    "K": _LENGTH,
    "top_k": _LENGTH,
    "topk": _LENGTH,
    "top_n": _LENGTH,
    "num_items": _LENGTH,
    "filter_already_liked_items": (
        "exclude_seen",
        "exclude_seen= (True by default) leaves out the items a user already has",
    ),
    "filter_items": ("exclude", "exclude= leaves items out and items= restricts the ranking"),
    "user_items": _HISTORY,
    "recalculate_user": _HISTORY,
    "n_factors": _FACTORS,
    "n_components": _FACTORS,
    "rank": _FACTORS,
    "embedding_dim": _FACTORS,
    "regularisation": _REGULARIZATION,
    "reg": _REGULARIZATION,
    "reg_param": _REGULARIZATION,
    "regParam": _REGULARIZATION,
    "lambda_": _REGULARIZATION,
    "n_iter": _ITERATIONS,
    "n_iters": _ITERATIONS,
    "max_iter": _ITERATIONS,
    "maxIter": _ITERATIONS,
    "n_iterations": _ITERATIONS,
    "epochs": _ITERATIONS,
    "n_epochs": _ITERATIONS,
    "seed": _SEED,
    "random_seed": _SEED,
    "n_jobs": _THREADS,
    "num_workers": _THREADS,
    "use_gpu": ("backend", "the GPU is backend='implicit-gpu' (or backend='auto')"),
    "use_cg": ("solver", "the solver is solver='cg', 'cholesky' or 'auto'"),
    "calculate_training_loss": (
        "progress",
        "fit(..., progress=True) shows the loss and fit(..., "
        "callback=alsrec.model.loss_monitor(...)) records it",
    ),
    "show_progress": ("progress", "the progress bar is fit(..., progress=True)"),
}
"""Keywords of implicit, scikit-learn, Spark and PyTorch that alsrec spells differently:
``name -> (alsrec's keyword, what to say)`` (:func:`check_keywords` adds the hint)."""


def check_keywords(
    where: str,
    given: Iterable[str],
    valid: Collection[str],
    positional: Collection[str] = (),
    others: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """Raise :class:`~alsrec.UsageError` for the first name of ``given`` not in ``valid``
    (the keywords ``where`` takes; ``positional``: its positional-only parameters;
    ``others``: foreign keywords that mean something else to ``where`` than in
    :data:`OTHER_KEYWORDS`, such as scikit-learn's ``n_iter`` to a search).

    The message is Python's own, plus what alsrec calls the thing when the name is
    another library's (:data:`OTHER_KEYWORDS`; and where that keyword goes when ``where``
    does not take it), or the closest valid names.

    Examples
    --------
    >>> check_keywords("recommend()", ["n"], ["user_id", "n"])
    >>> check_keywords("recommend()", ["N"], ["user_id", "n"])
    Traceback (most recent call last):
    ...
    alsrec.exceptions.UsageError: recommend() got an unexpected keyword argument 'N'; \
in alsrec the list length is n=.
    >>> check_keywords("fit()", ["epochs"], ["data", "progress"])
    Traceback (most recent call last):
    ...
    alsrec.exceptions.UsageError: fit() got an unexpected keyword argument 'epochs'; \
in alsrec the number of sweeps is iterations=, a keyword of Recommender(...).
    """
    for name in given:
        if name in valid:
            continue
        if name in positional:
            raise UsageError(
                f"{where} takes {name} by position, not as a keyword: pass it without {name}=."
            )
        names = sorted(valid)
        close = difflib.get_close_matches(name, names, n=2)
        foreign = {**OTHER_KEYWORDS, **(others or {})}
        if name in foreign:
            target, phrase = foreign[name]
            owner = "" if target in valid else f", a keyword of {_OWNERS[target]}"
            hint = f"in alsrec {phrase}{owner}."
        elif close:
            hint = f"did you mean {' or '.join(f'{c}=' for c in close)}?"
        else:
            hint = "it takes " + ", ".join(f"{c}=" for c in names) + "."
        raise UsageError(f"{where} got an unexpected keyword argument {name!r}; {hint}")


def _shown(value: object) -> str:
    """``value`` for a message: its type and shape for an array or matrix, else a
    bounded repr (a long list does not make a long message)."""
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and len(shape) > 0:
        return f"a {type(value).__name__} of shape {shape}"
    return f"{reprlib.repr(value)} ({type(value).__name__})"


def check_int(name: str, value: object, minimum: int = 1, hint: str = "") -> int:
    """Return ``value`` as an ``int`` if it is an integer (not a bool) ``>= minimum``.

    ``hint`` is added to the message when ``value`` is a collection (a list, an array, a
    sparse matrix): such a value usually means the arguments came in another order.

    Raises
    ------
    ConfigError
        Naming ``name``, the value and what is expected.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> check_int("n", sp.csr_matrix((1, 3)))
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: n must be a positive integer, got a csr_matrix of shape (1, 3).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        many = hasattr(value, "shape") or (hasattr(value, "__len__") and not isinstance(value, str))
        raise ConfigError(
            f"{name} must be {_expected(minimum)}, got {_shown(value)}." + (hint if many else "")
        )
    if int(value) < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value!r}.")
    return int(value)


def check_bool(name: str, value: object) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (a numpy bool too).

    A flag read from a config file or an environment variable arrives as a string, and
    ``"false"`` is truthy: taken as it is, ``replace="false"`` would replace and
    ``overwrite="no"`` would overwrite. So only real booleans are accepted.

    Raises
    ------
    ConfigError
        Naming ``name`` and the value.

    Examples
    --------
    >>> check_bool("overwrite", False)
    False
    >>> check_bool("overwrite", "no")
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: overwrite must be True or False, got 'no' (str).
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ConfigError(f"{name} must be True or False, got {_shown(value)}.")


def check_aligned(columns: Mapping[str, object], hint: str = "") -> None:
    """Refuse pandas Series with different indexes: the columns are paired by position.

    pandas pairs two Series by index label; alsrec, like numpy, by position. When the
    columns of one interaction table arrive as Series whose indexes differ (one of them
    sorted or filtered), the two readings disagree, and the rows would be paired silently
    wrong, so :class:`~alsrec.DataError` asks for aligned columns instead. ``columns``
    maps each argument name to its value; columns without an index (lists, numpy arrays,
    polars Series) are not compared. ``hint`` ends the message (another way to pass the
    data, in the caller's words).

    A ``set`` (or ``frozenset``) among two or more columns is refused too: it has no
    order, so its entries would be paired with the other columns' in an order that
    changes from one Python process to the next (string hashing is randomized).

    Examples
    --------
    >>> check_aligned({"user_ids": {"ann", "bob"}, "item_ids": ["x", "y"]})
    Traceback (most recent call last):
    ...
    alsrec.exceptions.DataError: user_ids is a set, which has no order: ...
    >>> import pandas as pd
    >>> users, items = pd.Series(["a", "b"]), pd.Series(["x", "y"])
    >>> check_aligned({"user_ids": users, "item_ids": items})  # the same index: fine
    >>> check_aligned({"user_ids": users, "item_ids": items.sort_values(ascending=False)})
    Traceback (most recent call last):
    ...
    alsrec.exceptions.DataError: user_ids and item_ids are pandas Series with different indexes; ...
    """
    given = [label for label, value in columns.items() if value is not None]
    for label, value in columns.items():
        if isinstance(value, (set, frozenset)) and len(given) > 1:
            rest = " and ".join(other for other in given if other != label)
            raise DataError(
                f"{label} is a {type(value).__name__}, which has no order: its entries "
                f"cannot be paired by position with {rest}, and the pairs would change "
                "from one run to the next. Pass a list (or array) in the order of the "
                f"other column{'s' if len(given) > 2 else ''}{hint}."
            )
    indexes: dict[str, Any] = {
        name: getattr(column, "index", None)
        for name, column in columns.items()
        if hasattr(getattr(column, "index", None), "equals")
    }
    if len(indexes) < 2:
        return
    (first, reference), *others = indexes.items()
    for name, index in others:
        if not reference.equals(index):
            raise DataError(
                f"{first} and {name} are pandas Series with different indexes; alsrec pairs "
                "the columns by position, not by index label, so the rows would not match. "
                "Align them first (reorder them alike, or reset each index if their order "
                f"is already right){hint}."
            )


def check_seed(name: str, value: object) -> int | None:
    """Return a seed: ``None`` (fresh randomness) or an integer ``>= 0`` (not a bool).

    Examples
    --------
    >>> check_seed("random_state", 7), check_seed("random_state", None)
    (7, None)
    >>> check_seed("random_state", "42")
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: random_state must be a non-negative integer, got '42' (str).
    """
    return None if value is None else check_int(name, value, 0)


def check_policy(policy: object) -> Policy:
    """Return ``policy`` if it is ``"safe"`` or ``"strict"``.

    Raises
    ------
    ConfigError
        For any other value.
    """
    if policy not in POLICIES:
        raise ConfigError(f"policy must be 'safe' or 'strict', got {policy!r}.")
    return cast("Policy", policy)


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units.

    Examples
    --------
    >>> format_bytes(3 * 2**40), format_bytes(1536), format_bytes(12)
    ('3.0 TiB', '1.5 KiB', '12 B')
    """
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def _meminfo() -> dict[str, int]:
    """``/proc/meminfo`` in bytes (Linux); empty elsewhere or when unreadable."""
    out: dict[str, int] = {}
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                parts = rest.split()
                if parts and parts[0].isdigit():
                    out[key] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    except (OSError, ValueError):
        return {}
    return out


def memory_limits() -> tuple[int | None, int | None]:
    """``(limit, available)``, best effort: the most memory this process could ever get
    (physical memory plus swap, or the address-space limit if lower) and the memory
    available right now; ``None`` where the platform does not say."""
    info = _meminfo()
    total: int | None = None
    if "MemTotal" in info:
        total = info["MemTotal"] + info.get("SwapTotal", 0)
    else:
        try:
            total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            total = None
    try:
        import resource  # POSIX only

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY and soft > 0:
            total = soft if total is None else min(total, soft)
    except (ImportError, AttributeError, ValueError, OSError):
        pass
    available = info.get("MemAvailable")
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            available = None
    return (total if total and total > 0 else None), available


def check_memory(need: int, what: str, advice: str) -> None:
    """Raise :class:`ConfigError` if ``need`` bytes clearly cannot fit in this machine's
    memory (more than physical memory plus swap, or the process's address-space limit);
    the message states ``what`` needs it, the estimate, the memory there is, and
    ``advice``. Never refuses where the limit is unknown.

    Examples
    --------
    >>> check_memory(1024, "a small array", "Ask for less.")
    >>> check_memory(2**80, "a huge array", "Ask for less.")
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: a huge array needs about 1099511627776.0 TiB of memory, ...
    """
    limit, available = memory_limits()
    if limit is None or need <= limit:
        return
    now = f", {format_bytes(available)} available now" if available is not None else ""
    raise ConfigError(
        f"{what} needs about {format_bytes(need)} of memory, more than this machine has "
        f"({format_bytes(limit)} including swap{now}). {advice}"
    )
