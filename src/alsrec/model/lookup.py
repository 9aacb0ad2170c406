"""ID resolution under a lookup policy: candidates, histories, the policy check.

Every function maps external IDs to indices of a :class:`~alsrec.model.FittedModel`;
unknown IDs are skipped and reported (``"safe"``) or raise
:class:`~alsrec.UnknownIdError` (``"strict"``).

An ID of the wrong type (``"196"`` for a model whose IDs are ints, or ``196`` for one
whose IDs are strings) is never known. That is almost always a caller's slip, so it is
said: under ``"safe"`` one :class:`~alsrec.AlsrecWarning` per lookup names up to five
such IDs, the model's ID type and the fix (``int('196')``); under ``"strict"`` the
:class:`~alsrec.UnknownIdError` says the same.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeAlias, TypeVar, cast

import numpy as np
import numpy.typing as npt

from alsrec.checks import check_aligned, check_policy
from alsrec.exceptions import (
    AlsrecWarning,
    ConfigError,
    DataError,
    MappingMismatchError,
    UnknownIdError,
)
from alsrec.ids import as_id_array
from alsrec.interactions import as_weights

if TYPE_CHECKING:
    from collections.abc import Iterable, Sized

    from alsrec.mapping import IdMapper
    from alsrec.model.fitted import FittedModel
    from alsrec.types import ExternalId, FloatArray, IdArray, IdLike, IndexArray, Policy

__all__ = [
    "History",
    "candidates",
    "empty_history",
    "indices_of",
    "refuse_unknown_users",
    "resolve_histories",
    "resolve_history",
    "rows_of",
    "serving_policy",
    "type_note",
    "warn_wrong_type",
]

Key = TypeVar("Key", int, str)
"""The user-ID type of a ``histories`` mapping."""

History: TypeAlias = "tuple[IndexArray, FloatArray]"
"""A resolved history: mapped item indices and their weights (may repeat)."""


def empty_history() -> History:
    """A history without items."""
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)


def _wrong_type(mapper: IdMapper, ids: Sequence[ExternalId]) -> list[ExternalId]:
    """The IDs of ``ids`` whose type (int or str) is not the mapper's."""
    if not len(mapper):
        return []
    want_str = mapper.kind == "str"
    return [v for v in ids if isinstance(v, (str, np.str_)) != want_str]


def _note(mapper: IdMapper, axis: str, head: Sequence[ExternalId], count: int) -> str:
    given = "a str" if mapper.kind == "int" else "an int"
    shown = ", ".join(map(repr, head[:5]))
    more = f" (and {count - 5} more)" if count > 5 else ""
    plural = "str" if mapper.kind == "int" else "int"
    subject = f"{shown} is {given} ID" if count == 1 else f"{shown}{more} are {plural} IDs"
    first = head[0]
    if mapper.kind == "str":
        fix = f"convert first, e.g. str({first!r})"
    elif str(first).strip().lstrip("+-").isdigit():
        fix = f"convert first, e.g. int({first!r})"
    else:
        fix = "pass the model's int IDs"
    return f"{subject} but this model's {axis} IDs are {mapper.kind}: {fix}."


def type_note(mapper: IdMapper, axis: str, ids: Sequence[ExternalId]) -> str:
    """A sentence naming the IDs of ``ids`` of the wrong type and the fix; ``""`` if none.

    Examples
    --------
    >>> from alsrec import IdMapper
    >>> type_note(IdMapper([196, 186]), "user", ["196", 7])
    "'196' is a str ID but this model's user IDs are int: convert first, e.g. int('196')."
    """
    wrong = _wrong_type(mapper, ids)
    return _note(mapper, axis, wrong[:5], len(wrong)) if wrong else ""


def warn_wrong_type(
    mapper: IdMapper,
    axis: str,
    given: IdArray | Sequence[ExternalId],
    policy: Policy,
    stacklevel: int = 4,
) -> None:
    """Under ``"safe"``, one :class:`~alsrec.AlsrecWarning` if ``given`` holds IDs of the
    wrong type (they are treated as unknown); under ``"strict"`` the error says it.
    ``stacklevel`` counts from the caller of this function, as in :func:`warnings.warn`."""
    if policy != "safe" or not len(mapper) or not len(given):
        return
    if isinstance(given, np.ndarray):
        if (given.dtype.kind == "U") == (mapper.kind == "str"):
            return  # one array has one type: the common case costs one comparison
        note = _note(mapper, axis, cast("list[ExternalId]", given[:5].tolist()), given.size)
    else:
        note = type_note(mapper, axis, given)
    if note:
        warnings.warn(f"Treated as unknown: {note}", AlsrecWarning, stacklevel=stacklevel + 1)


def rows_of(
    mapper: IdMapper,
    axis: str,
    ids: IdArray | list[ExternalId],
    policy: Policy,
    stacklevel: int = 3,
) -> IndexArray:
    """Indices of ``ids`` in ``mapper`` (``-1`` where unknown); under ``"safe"`` warns
    once when some IDs have the wrong type (see :func:`warn_wrong_type`)."""
    rows = mapper.to_index(ids, missing="negative")
    # One query (the common case) pays an index, not a reduction.
    if (rows[0] < 0) if rows.size == 1 else (rows.size > 1 and rows.min() < 0):
        warn_wrong_type(mapper, axis, ids, policy, stacklevel)
    return rows


def serving_policy(model: FittedModel, default: Policy, policy: Policy | None) -> Policy:
    """The policy of one call (``policy`` or ``default``), refusing a mismatched model
    under ``"strict"`` with :class:`~alsrec.MappingMismatchError`."""
    resolved = default if policy is None else check_policy(policy)
    if resolved == "strict" and model.mismatched:
        raise MappingMismatchError(
            f"This model has {model.unmapped_user_rows} user and "
            f"{model.unmapped_item_rows} item factor rows without an ID "
            f"({model.user_factors.shape[0]} user rows for {len(model.users)} IDs, "
            f"{model.item_factors.shape[0]} item rows for {len(model.items)} IDs); "
            "the 'strict' policy refuses to serve it. Use policy='safe' or fix the mapping."
        )
    return resolved


def refuse_unknown_users(
    model: FittedModel, unknown: Sequence[ExternalId], policy: Policy, *, single: bool
) -> None:
    """Under ``"strict"``, raise :class:`UnknownIdError` for users the model does not know
    and who bring no history (``single``: the wording of a one-user query)."""
    if policy != "strict" or not unknown:
        return
    note = type_note(model.users, "user", unknown)
    note = f" {note}" if note else ""
    if single:
        raise UnknownIdError(
            f"Unknown user ID {unknown[0]!r}: the model knows {len(model.users)} users.{note} "
            "Pass history= to fold the user in, or use policy='safe' to get the "
            "popularity fallback instead.",
            ids=(unknown[0],),
        )
    bad = tuple(unknown)
    raise UnknownIdError(
        f"{len(bad)} unknown user ID(s) without history: "
        f"{', '.join(map(repr, bad[:5]))}.{note} Pass their histories to fold them in, or "
        "use policy='safe' to get the popularity fallback for them.",
        ids=bad,
    )


def indices_of(
    mapper: IdMapper,
    axis: str,
    given: IdArray,
    policy: Policy,
    what: str,
    *,
    warn: bool = True,
    stacklevel: int = 4,
) -> tuple[IndexArray, npt.NDArray[np.bool_], tuple[ExternalId, ...]]:
    """Indices of ``given`` in ``mapper`` (``-1`` where unknown), the known mask, and the
    unknown IDs; under ``"strict"``, unknown IDs raise :class:`UnknownIdError` naming them
    (and their type, when it is not the model's). ``warn``: warn about IDs of the wrong type
    under ``"safe"`` (a caller resolving many lists warns once itself), ``stacklevel``
    counted as in :func:`warn_wrong_type`."""
    idx = mapper.to_index(given, missing="negative")
    known = idx >= 0
    skipped: tuple[ExternalId, ...] = ()
    if not known.all():
        skipped = tuple(cast("list[ExternalId]", given[~known].tolist()))
        if policy == "strict":
            note = type_note(mapper, axis, skipped)
            raise UnknownIdError(
                f"{len(skipped)} {what} unknown to the model: "
                f"{', '.join(map(repr, skipped[:5]))}.{' ' + note if note else ''} Remove "
                "them, or use policy='safe' to skip them.",
                ids=skipped,
            )
        if warn:
            warn_wrong_type(mapper, axis, given[~known], policy, stacklevel=stacklevel)
    return idx, known, skipped


def candidates(
    model: FittedModel,
    items: IdLike | Iterable[ExternalId] | None,
    policy: Policy,
    stacklevel: int = 4,
) -> tuple[IndexArray | None, tuple[ExternalId, ...]]:
    """Unique indices of the known candidate items (first occurrence order) and the
    unknown ones; ``None`` when ``items`` is ``None`` (every item is a candidate).
    ``stacklevel``: as in :func:`warn_wrong_type`, for the warning about wrong types."""
    if items is None:
        return None, ()
    given = as_id_array(items, "candidate item IDs")
    idx, known, skipped = indices_of(
        model.items, "item", given, policy, "candidate item ID(s)", stacklevel=stacklevel
    )
    idx = idx[known]
    _, first = np.unique(idx, return_index=True)
    return idx[np.sort(first)], skipped


def resolve_history(
    model: FittedModel,
    item_ids: IdLike | Iterable[ExternalId],
    weights: npt.ArrayLike | None,
    policy: Policy,
    what: str = "history item IDs",
    *,
    warn: bool = True,
    names: tuple[str, str] = ("item_ids", "weights"),
) -> tuple[History, tuple[ExternalId, ...]]:
    """Map a history to item indices and weights; unknown items follow the policy.
    ``names``: the caller's names of the items and their weights, for messages."""
    check_aligned({what: item_ids, "their weights": weights})
    given = as_id_array(item_ids, what)
    one_d = weights is not None and hasattr(weights, "__len__") and np.ndim(weights) == 1
    if one_d and (size := len(cast("Sized", weights))) != given.size:
        raise DataError(
            f"{names[1]} has {size} weight(s) but {names[0]} has {given.size} item(s); "
            "give one weight per item, in the same order."
        )
    w = as_weights(
        weights,
        given.size,
        names[1],
        " (If it was meant as the number of items: recommend_for_history(item_ids, n=...).)",
    )
    idx, known, skipped = indices_of(model.items, "item", given, policy, what, warn=warn)
    if skipped:
        idx, w = idx[known], w[known]
    return (idx, w), skipped


def _check_history_keys(
    queries: IdArray,
    histories: Mapping[Key, object],
    history_weights: Mapping[Key, object],
) -> None:
    wanted = set(cast("list[ExternalId]", queries.tolist()))
    stray = [key for key in histories if key not in wanted]
    if stray:
        raise ConfigError(
            f"histories has entries for {len(stray)} user(s) not in user_ids: "
            f"{', '.join(map(repr, stray[:5]))}. Check the ID type (int vs str) of its keys."
        )
    stray = [key for key in history_weights if key not in histories]
    if stray:
        raise ConfigError(
            f"history_weights has entries for {len(stray)} user(s) without a history: "
            f"{', '.join(map(repr, stray[:5]))}."
        )


def resolve_histories(
    model: FittedModel,
    queries: IdArray,
    histories: Mapping[Key, IdLike | Iterable[ExternalId]] | None,
    history_weights: Mapping[Key, npt.ArrayLike] | None,
    policy: Policy,
) -> tuple[list[History], tuple[ExternalId, ...]]:
    """One resolved (possibly empty) history per query, and the unknown items skipped."""
    for name, what in (("histories", "item IDs"), ("history_weights", "weights")):
        value = histories if name == "histories" else history_weights
        if value is not None and not isinstance(value, Mapping):
            raise ConfigError(
                f"{name} must be a mapping from user ID to {what} (e.g. a dict), got "
                f"{type(value).__name__}."
            )
    histories = histories or {}
    history_weights = history_weights or {}
    _check_history_keys(queries, histories, history_weights)
    resolved: dict[ExternalId, History] = {}
    skipped: dict[ExternalId, None] = {}
    for key, hist in histories.items():
        resolved[key], unknown = resolve_history(
            model,
            hist,
            history_weights.get(key),
            policy,
            f"history item IDs of user {key!r}",
            warn=False,
            names=(f"histories[{key!r}]", f"history_weights[{key!r}]"),
        )
        skipped.update(dict.fromkeys(unknown))
    if skipped:  # one warning for all histories
        warn_wrong_type(model.items, "item", list(skipped), policy, stacklevel=3)
    empty = empty_history()
    out = [resolved.get(q, empty) for q in cast("list[ExternalId]", queries.tolist())]
    return out, tuple(skipped)
