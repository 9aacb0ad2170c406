"""Argument checks shared by the whole package: one implementation of each.

Every public entry point that takes a count (``n``, a block size, a number of blocks) or a
lookup policy validates it here, so the rule and its message are the same everywhere.

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

import numbers
from typing import TYPE_CHECKING, cast

from alsrec.exceptions import ConfigError

if TYPE_CHECKING:
    from alsrec.types import Policy

__all__ = ["POLICIES", "check_int", "check_policy"]

POLICIES: tuple[str, ...] = ("safe", "strict")
"""The lookup policies every query accepts."""


def _expected(minimum: int) -> str:
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    return f"an integer >= {minimum}"


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` if it is an integer (not a bool) ``>= minimum``.

    Raises
    ------
    ConfigError
        Naming ``name``, the value and what is expected.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(
            f"{name} must be {_expected(minimum)}, got {value!r} ({type(value).__name__})."
        )
    if int(value) < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value!r}.")
    return int(value)


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
