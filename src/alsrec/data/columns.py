"""Which columns hold the user IDs, the item IDs and the weights when the caller names none.

One rule for every reader (``fit(df)``, :meth:`~alsrec.Interactions.from_frame`,
:meth:`~alsrec.Interactions.from_csv`, :meth:`~alsrec.Interactions.from_sql` and the
command line): a role's first common name (``user_id``, ``item_id``, ``weight``) if a
column has it, else the one column with another of its common names (``user``,
``userId``, ``movieId``, ...). None, or several of the others, and the caller must name
the column (a weight column is optional: none is read).

:func:`resolve_roles` applies it to a header (CSV) or a query's result columns (SQL) and
finds each role's position; :func:`alsrec.data.frames.frame_roles` applies it to a frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alsrec.data.headers import check_header_names
from alsrec.exceptions import ConfigError, DataError

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Hashable

    from alsrec.data.rows import Column

__all__ = [
    "COMMON_COLUMNS",
    "FOUND_WEIGHT",
    "candidates",
    "common_names",
    "resolve_column",
    "resolve_roles",
    "role_labels",
]

COMMON_COLUMNS: dict[str, tuple[str, ...]] = {
    "user": ("user_id", "user", "userId", "userID", "user_idx"),
    "item": ("item_id", "item", "itemId", "itemID", "item_idx", "movieId"),
    "weight": ("weight",),
}
"""The column names tried for each role when its keyword (or flag) is not given, the
preferred one first."""


def candidates(columns: Collection[Hashable], role: str) -> list[Hashable]:
    """The columns that may hold ``role`` when none is named (see the module docstring):
    one column is the answer, none or several mean the caller must name it.

    Examples
    --------
    >>> candidates(["user_id", "user", "item"], "user")
    ['user_id']
    >>> candidates(["userId", "user", "movieId"], "user"), candidates(["a", "b"], "item")
    (['user', 'userId'], [])
    """
    names = COMMON_COLUMNS[role]
    present: list[Hashable] = [name for name in names if name in columns]
    return present[:1] if present[:1] == [names[0]] else present


def common_names(role: str) -> str:
    """The common names of ``role`` for a message: ``user_id, user, userId, ...``."""
    return ", ".join(COMMON_COLUMNS[role])


def resolve_column(
    spec: Column,
    role: str,
    names: list[str] | None,
    n_fields: int,
    describe_header: Callable[[], tuple[str, str]],
) -> int:
    """Column position of ``spec`` (a header name, or a 0-based position)."""
    if isinstance(spec, bool) or not isinstance(spec, (str, int)):
        raise ConfigError(f"{role} must be a column name (str) or position (int), got {spec!r}.")
    if isinstance(spec, int):
        if not 0 <= spec < n_fields:
            text, hint = describe_header()
            raise DataError(
                f"{role} column position {spec} is out of range ({n_fields} field(s); positions "
                f"start at 0): {text}.{hint}"
            )
        return spec
    if names is None:
        raise ConfigError(
            f"{role}={spec!r} names a column, but header=False: give a 0-based position instead."
        )
    hits = [pos for pos, name in enumerate(names) if name == spec]
    if len(hits) > 1:
        text, _ = describe_header()
        raise DataError(f"The {role} column {spec!r} occurs {len(hits)} times: {text}.")
    if not hits:
        text, hint = describe_header()
        raise DataError(
            f"There is no column {spec!r} (the {role} column): {text}."
            f"{hint or f' Pass {role}=<one of the columns>.'}"
        )
    return hits[0]


def resolve_roles(
    specs: dict[str, Column | None],
    names: list[str] | None,
    n_fields: int,
    describe_header: Callable[[], tuple[str, str]],
    *,
    header_row: bool = False,
) -> dict[str, int]:
    """The 0-based position of each role's column (role -> position): the column given, or,
    for ``user``, ``item`` and ``weight`` given as None, the column named like it
    (:mod:`alsrec.data.columns`); a weight column of no such name is not read.

    ``header_row``: ``names`` are a CSV file's first line, which, when every column is
    given by position, nothing vouches for as a header: one that looks like a data row
    is refused (:func:`~alsrec.data.headers.check_header_names`)."""
    positions: dict[str, int] = {}
    for role, spec in specs.items():
        if role == "weight" and spec is False:  # weight=False: none, whatever the names
            continue
        if spec is None and role != "timestamp":
            spec = _named_like(role, names, describe_header)
        if spec is not None:
            positions[role] = resolve_column(spec, role, names, n_fields, describe_header)
    if header_row and names is not None and all(isinstance(specs[r], int) for r in positions):
        check_header_names(names, describe_header)
    if positions["user"] == positions["item"]:
        raise ConfigError("user and item must be different columns.")
    return positions


FOUND_WEIGHT = " (read as the weights for its name; weight=False leaves it unread)"
"""Added to the label of a weight column found by its name, so that an error about its
values says how not to read it."""


def role_labels(
    specs: dict[str, Column | None], positions: dict[str, int], names: list[str] | None
) -> dict[str, str]:
    """How messages name each role's column (``column 'plays'``, ``column 2 (0-based)``;
    ``""`` for a role not read); a weight found by its name says how to leave it unread."""
    labels = {
        role: f"column {names[pos]!r}" if names is not None else f"column {pos} (0-based)"
        for role, pos in positions.items()
    }
    if "weight" in positions and specs.get("weight") is None:
        labels["weight"] += FOUND_WEIGHT
    labels.setdefault("weight", "")
    labels.setdefault("timestamp", "")
    return labels


def _named_like(
    role: str, names: list[str] | None, describe_header: Callable[[], tuple[str, str]]
) -> str | None:
    """The one column named like ``role``'s (see :func:`resolve_roles`)."""
    if names is None:
        if role == "weight":
            return None
        raise ConfigError(
            f"header=False reads the columns by position: pass {role}= as a 0-based position "
            "too (e.g. user=0, item=1)."
        )
    found = candidates(names, role)
    if len(found) == 1:
        return str(found[0])
    if role == "weight" and not found:
        return None
    text, hint = describe_header()
    if found:
        raise DataError(
            f"Several columns could hold the {role} IDs ({found!r}): {text}. Pass {role}="
            "<one of them>."
        )
    raise DataError(
        f"There is no column named like the {role} IDs ({common_names(role)}): {text}."
        f"{hint or f' Pass {role}=<one of the columns>.'}"
    )
