"""The exception tree: one root, and each leaf also a built-in users already catch."""

from __future__ import annotations

import builtins

import pytest

import alsrec
from alsrec import exceptions

LEAVES: dict[type[Exception], tuple[type[BaseException], ...]] = {
    exceptions.ConfigError: (ValueError,),
    exceptions.DataError: (ValueError,),
    exceptions.IdTypeError: (TypeError, ValueError),
    exceptions.UsageError: (TypeError, ValueError),
    exceptions.UnknownIdError: (KeyError,),
    exceptions.UnmappedIndexError: (IndexError,),
    exceptions.MappingMismatchError: (ValueError,),
    exceptions.NotFittedError: (ValueError, AttributeError),
    exceptions.ArtifactError: (ValueError,),
    exceptions.BackendError: (RuntimeError,),
    exceptions.BackendUnavailableError: (RuntimeError, ImportError),
}


@pytest.mark.parametrize(("cls", "builtins_"), list(LEAVES.items()))
def test_every_error_is_an_alsrec_error_and_its_builtin(
    cls: type[Exception], builtins_: tuple[type[BaseException], ...]
) -> None:
    err = cls("boom")
    assert isinstance(err, alsrec.AlsrecError)
    for base in builtins_:
        assert isinstance(err, base)


def test_every_public_exception_is_in_the_tree() -> None:
    public = [getattr(exceptions, name) for name in exceptions.__all__]
    errors = [c for c in public if issubclass(c, BaseException) and not issubclass(c, Warning)]
    assert set(errors) == {alsrec.AlsrecError, *LEAVES}


def test_unknown_id_error_message_is_not_quoted_like_a_keyerror() -> None:
    err = exceptions.UnknownIdError("Unknown user ID 'x'.", ids=("x",))
    assert str(err) == "Unknown user ID 'x'."
    assert err.ids == ("x",)


def test_the_docstring_draws_every_class() -> None:
    doc = exceptions.__doc__ or ""
    for name in exceptions.__all__:
        assert name in doc, name


def test_warning_is_a_user_warning() -> None:
    assert issubclass(alsrec.AlsrecWarning, builtins.UserWarning)
