"""Method wrappers of the facade: settings from the instance, hints for foreign keywords.

:func:`keyword_hints` wraps every public method of a class so that a keyword the method
does not take (implicit's ``N``, scikit-learn's ``n_jobs``, ...) raises
:class:`~alsrec.UsageError` saying what alsrec calls it, instead of Python's bare
``TypeError``.

:class:`settings_classmethod`: ``Recommender.fit_spark`` builds a new recommender, so it
is a classmethod; but it reads naturally next to ``Recommender(factors=128).fit(...)`` as
``Recommender(factors=128).fit_spark(...)``, and a plain classmethod would then train with
the defaults and drop the instance's hyperparameters without a word.
:class:`settings_classmethod` passes the instance's ``params`` and ``policy`` as defaults
of the call instead (keywords given in the call win).
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import TYPE_CHECKING, Any, TypeVar, cast

from alsrec.checks import check_keywords

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["function_keyword_hints", "keyword_hints", "settings_classmethod"]

_C = TypeVar("_C", bound=type)
_F = TypeVar("_F", bound="Callable[..., Any]")


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

    def hint_keywords(self, where: str) -> None:
        """Check the keywords of each call (see :func:`keyword_hints`)."""
        self._func = _hinted(self._func, where)

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


def _hinted(func: Any, where: str, others: Mapping[str, tuple[str, str]] | None = None) -> Any:
    """``func``, checking the names of its keyword arguments first (see the module;
    ``others``: as for :func:`~alsrec.checks.check_keywords`)."""
    kinds = inspect.Parameter
    parameters = list(inspect.signature(func).parameters.values())
    if any(p.kind is kinds.VAR_KEYWORD for p in parameters):
        return func  # takes any keyword; it checks them itself
    bound = parameters[1:] if parameters and parameters[0].name in ("self", "cls") else parameters
    valid = frozenset(p.name for p in bound if p.kind in (kinds.POSITIONAL_OR_KEYWORD,
                                                          kinds.KEYWORD_ONLY))  # fmt: skip
    positional = frozenset(p.name for p in bound if p.kind is kinds.POSITIONAL_ONLY)

    @functools.wraps(func)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not valid.issuperset(kwargs):
            check_keywords(where, kwargs, valid, positional, others)
        return func(*args, **kwargs)

    return checked


def function_keyword_hints(
    where: str, others: Mapping[str, tuple[str, str]] | None = None
) -> Callable[[_F], _F]:
    """Function decorator: an unknown keyword raises :class:`~alsrec.UsageError` with a
    hint, as :func:`keyword_hints` does for methods; ``others`` as for
    :func:`~alsrec.checks.check_keywords`.

    Examples
    --------
    >>> @function_keyword_hints("search()", {"n_iter": ("budget", "it is budget=")})
    ... def search(data, budget=3):
    ...     return budget
    >>> search(1, n_iter=5)
    Traceback (most recent call last):
    ...
    alsrec.exceptions.UsageError: search() got an unexpected keyword argument 'n_iter'; \
in alsrec it is budget=.
    """

    def decorate(func: _F) -> _F:
        return cast("_F", _hinted(func, where, others))

    return decorate


def keyword_hints(cls: _C) -> _C:
    """Class decorator: every public method, classmethod and ``__init__`` of ``cls`` raises
    :class:`~alsrec.UsageError` with a hint for an unknown keyword.

    Examples
    --------
    >>> @keyword_hints
    ... class Model:
    ...     def recommend(self, user, n=10):
    ...         return n
    >>> Model().recommend("ann", n=3)
    3
    >>> Model().recommend("ann", N=3)
    Traceback (most recent call last):
    ...
    alsrec.exceptions.UsageError: Model.recommend() got an unexpected keyword argument \
'N'; in alsrec the list length is n=.
    """
    for name, attr in list(vars(cls).items()):
        if name.startswith("_") and name != "__init__":
            continue
        where = f"{cls.__name__}.{name}()" if name != "__init__" else f"{cls.__name__}()"
        if isinstance(attr, classmethod):
            setattr(cls, name, classmethod(_hinted(attr.__func__, where)))
        elif inspect.isfunction(attr):
            setattr(cls, name, _hinted(attr, where))
        elif isinstance(attr, settings_classmethod):
            attr.hint_keywords(where)
    return cls
