"""The curated public namespace: sorted, complete, importable, and nothing else exported."""

from __future__ import annotations

import importlib

import alsrec
import alsrec.io

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
}


def test_all_is_sorted_and_as_designed() -> None:
    assert list(alsrec.__all__) == sorted(alsrec.__all__)
    assert set(alsrec.__all__) == EXPECTED


def test_every_name_in_all_resolves() -> None:
    for name in alsrec.__all__:
        assert getattr(alsrec, name) is not None


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's order of ``__all__`` (RUF022): CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_public_submodules_have_sorted_all() -> None:
    for module in (
        "exceptions",
        "mapping",
        "params",
        "results",
        "types",
        "backends",
        "checks",
        "containers",
        "model",
        "model.fitted",
        "model.lookup",
        "model.ranking",
        "model.updates",
        "model.training",
        "model.defaults",
        "model.statistics",
        "io",
        "interop.implicit",
        "spark",
        "explain",
        "artifacts",
        "datasets",
    ):
        mod = importlib.import_module(f"alsrec.{module}")
        names = list(mod.__all__)
        assert names == sorted(names, key=_isort_key), module
        for name in names:
            assert hasattr(mod, name), f"alsrec.{module}.{name}"


def test_version_is_a_string() -> None:
    assert isinstance(alsrec.__version__, str)
    assert alsrec.__version__[0].isdigit()


def test_package_ships_py_typed() -> None:
    from importlib.resources import files

    assert files("alsrec").joinpath("py.typed").is_file()


def test_old_import_paths_still_work() -> None:
    # Deprecated aliases kept for one release (issue 15).
    from alsrec.artifacts import inspect_artifact, load, save
    from alsrec.backends import ImplicitBackend, NumpyBackend, gpu_status
    from alsrec.backends._implicit import unwrap_implicit_model
    from alsrec.backends._spark import SparkBackend, spark_reg_param
    from alsrec.explain import explain_history, explain_user
    from alsrec.recommender import Recommender
    from alsrec.spark import fit_dataframe, recommend_all

    assert callable(load) and callable(save) and callable(inspect_artifact)
    assert NumpyBackend().name == "numpy" and ImplicitBackend().name == "implicit"
    assert callable(gpu_status) and callable(unwrap_implicit_model)
    assert SparkBackend.__module__ == "alsrec.spark.backend" and callable(spark_reg_param)
    assert callable(explain_user) and callable(explain_history)
    assert Recommender is alsrec.Recommender
    assert callable(fit_dataframe) and callable(recommend_all)


def test_alsrec_datasets_is_a_supported_module_of_the_same_objects() -> None:
    # The guides and the tests import the data from alsrec.datasets: it is public, not a
    # deprecated alias, and holds the objects of alsrec.data.datasets.
    import warnings

    import alsrec.data.datasets

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        datasets = importlib.reload(importlib.import_module("alsrec.datasets"))
    assert datasets.__all__ == alsrec.data.datasets.__all__
    for name in datasets.__all__:
        assert getattr(datasets, name) is getattr(alsrec.data.datasets, name), name
    assert datasets.__doc__ is not None and "deprecated" not in datasets.__doc__.lower()
