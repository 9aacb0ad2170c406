"""The curated public namespace: sorted, complete, importable, and nothing else exported."""

from __future__ import annotations

import importlib

import alsrec

EXPECTED = {
    "ALSParams",
    "AlsrecError",
    "AlsrecWarning",
    "ArtifactError",
    "BackendError",
    "BackendUnavailableError",
    "BatchRecommendations",
    "ConfigError",
    "DataError",
    "IdMapper",
    "IdTypeError",
    "Interactions",
    "InteractionsSummary",
    "MappingMismatchError",
    "NotFittedError",
    "Recommendations",
    "Recommender",
    "UnknownIdError",
    "UnmappedIndexError",
    "__version__",
}


def test_all_is_sorted_and_as_designed() -> None:
    assert list(alsrec.__all__) == sorted(alsrec.__all__)
    assert set(alsrec.__all__) == EXPECTED


def test_every_name_in_all_resolves() -> None:
    for name in alsrec.__all__:
        assert getattr(alsrec, name) is not None


def test_public_submodules_have_sorted_all() -> None:
    for module in ("exceptions", "mapping", "params", "results", "types", "backends"):
        mod = importlib.import_module(f"alsrec.{module}")
        names = list(mod.__all__)
        assert names == sorted(names), module
        for name in names:
            assert hasattr(mod, name), f"alsrec.{module}.{name}"


def test_version_is_a_string() -> None:
    assert isinstance(alsrec.__version__, str)
    assert alsrec.__version__[0].isdigit()


def test_package_ships_py_typed() -> None:
    from importlib.resources import files

    assert files("alsrec").joinpath("py.typed").is_file()
