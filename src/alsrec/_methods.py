"""A classmethod that, called on an instance, takes that instance's settings.

``Recommender.fit_spark`` builds a new recommender, so it is a classmethod; but it reads
naturally next to ``Recommender(factors=128).fit(...)`` as ``Recommender(factors=128)
.fit_spark(...)``, and a plain classmethod would then train with the defaults and drop the
instance's hyperparameters without a word. :class:`settings_classmethod` passes the
instance's ``params`` and ``policy`` as defaults of the call instead (keywords given in
the call win).
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any

__all__ = ["settings_classmethod"]


class settings_classmethod:
    """Wrap a ``classmethod`` object; see the module docstring.

    Examples
    --------
    >>> class Model:
    ...     def __init__(self, params="mine", policy="safe"):
    ...         self.params, self.policy = params, policy
    ...     @classmethod
    ...     def build(cls, data, *, params="default", policy="safe"):
    ...         return params
    >>> Model.build = settings_classmethod(Model.__dict__["build"])
    >>> Model.build(1), Model().build(1), Model().build(1, params="given")
    ('default', 'mine', 'given')
    """

    def __init__(self, method: classmethod[Any, Any, Any]) -> None:
        self._func = method.__func__
        functools.update_wrapper(self, self._func)  # type: ignore[arg-type]

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        cls = type(obj) if owner is None else owner
        if obj is None:
            return types.MethodType(self._func, cls)

        @functools.wraps(self._func)
        def bound(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("params", getattr(obj, "params", None))
            kwargs.setdefault("policy", getattr(obj, "policy", "safe"))
            return self._func(cls, *args, **kwargs)

        bound.__signature__ = inspect.signature(types.MethodType(self._func, cls))  # type: ignore[attr-defined]
        return bound
