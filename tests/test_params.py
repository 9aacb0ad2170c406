"""Hyperparameters are validated at construction and frozen."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from alsrec import ALSParams, ConfigError, Recommender


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"factors": 0}, "factors must be >= 1, got 0"),
        ({"factors": 2.5}, "factors must be a positive integer"),
        ({"factors": True}, "factors must be a positive integer"),
        ({"iterations": -1}, "iterations must be >= 0"),
        ({"regularization": -0.1}, "regularization must be >= 0"),
        ({"regularization": float("nan")}, "regularization must be finite"),
        ({"alpha": -1.0}, "alpha must be >= 0"),
        ({"alpha": "1"}, "alpha must be a number >= 0 or 'auto'"),
        ({"cg_steps": 0}, "cg_steps must be >= 1"),
        ({"num_threads": -2}, "num_threads must be >= 0"),
        ({"random_state": -5}, "random_state must be >= 0"),
        ({"solver": "lu"}, "solver must be 'auto', 'cg' or 'cholesky'"),
    ],
)
def test_invalid_hyperparameters_raise_config_error(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        ALSParams(**kwargs)
    with pytest.raises(ConfigError, match=fragment):
        Recommender(**kwargs)


def test_params_are_frozen() -> None:
    params = ALSParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.factors = 3  # type: ignore[misc]


def test_round_trip_through_dict() -> None:
    params = ALSParams(factors=8, regularization=0.5, alpha=2.0, iterations=3, random_state=1)
    assert ALSParams.from_dict(params.to_dict()) == params


def test_from_dict_rejects_unknown_keys() -> None:
    with pytest.raises(ConfigError, match="bogus"):
        ALSParams.from_dict({"bogus": 1})


def test_numpy_integers_are_accepted() -> None:
    import numpy as np

    assert ALSParams(factors=np.int64(5)).factors == 5
    assert type(ALSParams(factors=np.int64(5)).factors) is int
