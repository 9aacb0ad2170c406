"""The frozen FittedModel, Recommender.model_ / from_model, and Recommender(params=...)."""

from __future__ import annotations

import dataclasses
import inspect
from typing import TYPE_CHECKING

import numpy as np
import pytest

from alsrec import (
    ALSParams,
    ConfigError,
    FittedModel,
    IdMapper,
    MappingMismatchError,
    NotFittedError,
    Recommender,
)
from alsrec.checks import check_int, check_policy
from alsrec.io import inspect_model, load, save
from alsrec.model import build_model, model_of, updated
from alsrec.model.ranking import rank_users

if TYPE_CHECKING:
    from pathlib import Path

USERS = ["ann", "ann", "bob", "bob", "cid", "cid"]
ITEMS = ["tea", "cup", "tea", "pot", "cup", "pot"]


@pytest.fixture
def rec() -> Recommender:
    return Recommender(factors=4, iterations=5, random_state=0).fit(USERS, ITEMS)


def test_model_is_frozen_and_exposed(rec: Recommender) -> None:
    model = rec.model_
    assert isinstance(model, FittedModel)
    assert model.users is rec.users_ and model.user_factors is rec.user_factors_
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.backend = "other"  # type: ignore[misc]
    with pytest.raises(NotFittedError, match="not fitted"):
        _ = Recommender().model_


def test_from_model_serves_the_same_answers(rec: Recommender) -> None:
    served = Recommender.from_model(rec.model_, policy="strict")
    assert served.model_ is rec.model_ and served.policy == "strict"
    assert served.params == rec.params
    assert served.recommend("ann", n=2).ids.tolist() == rec.recommend("ann", n=2).ids.tolist()
    with pytest.raises(ConfigError, match="FittedModel"):
        Recommender.from_model(rec)  # type: ignore[arg-type]


def test_updated_returns_a_new_model_and_leaves_the_old_one(rec: Recommender) -> None:
    before = rec.model_
    after = updated(before, ["dan"], ["tea"])
    assert after is not before and "dan" in after.users and "dan" not in before.users
    assert rec.updated(["dan"], ["tea"]).model_ is not before
    assert rec.model_ is before


def test_io_works_on_the_model_with_provenance(rec: Recommender, tmp_path: Path) -> None:
    path = save(rec.model_, tmp_path / "m")
    loaded = load(path)
    assert isinstance(loaded, FittedModel)
    assert loaded.provenance.format_version == 1 and rec.model_.provenance.format_version is None
    np.testing.assert_array_equal(loaded.popular_order, rec.model_.popular_order)
    assert inspect_model(loaded).ok and inspect_model(rec.model_).format_version == 1
    assert model_of(rec) is rec.model_ and model_of(loaded) is loaded
    with pytest.raises(ConfigError, match="FittedModel or a fitted Recommender"):
        model_of(42)


def test_build_model_checks_rows_against_ids() -> None:
    f = np.ones((3, 2), dtype=np.float32)
    with pytest.raises(MappingMismatchError):
        build_model(f, f, IdMapper(["a", "b"]), IdMapper(["x", "y", "z"]))
    model = build_model(f, f, IdMapper(["a", "b", "c"]), IdMapper(["x", "y", "z"]))
    assert model.params.factors == 2 and not model.mismatched
    pos, _ = rank_users(model, np.array([0]), 2, False, None)
    assert pos.shape == (1, 2)


def test_every_param_is_a_keyword() -> None:
    keywords = inspect.signature(Recommender).parameters
    for field in dataclasses.fields(ALSParams):
        assert field.name in keywords, field.name
        default = keywords[field.name].default
        assert default == field.default, field.name
    rec = Recommender(bm25_k1=2.0, weighting_eps=3.0, bm25_b=0.5, weighting="bm25")
    assert (rec.params.bm25_k1, rec.params.weighting_eps, rec.params.bm25_b) == (2.0, 3.0, 0.5)


def test_params_argument_and_conflicts() -> None:
    params = ALSParams(factors=8, regularization=0.5, bm25_k1=2.0)
    assert Recommender(params=params).params == params
    assert Recommender(params=params, factors=8).params == params  # agrees: fine
    with pytest.raises(ConfigError, match=r"params= and the keyword\(s\) \['factors'\]"):
        Recommender(params=params, factors=16)
    with pytest.raises(ConfigError, match="params must be an ALSParams"):
        Recommender(params={"factors": 8})  # type: ignore[arg-type]


def test_one_count_check() -> None:
    assert check_int("n", 3) == 3
    with pytest.raises(ConfigError, match=r"n must be >= 1, got 0\."):
        check_int("n", 0)
    with pytest.raises(ConfigError, match=r"n must be a positive integer, got True \(bool\)"):
        check_int("n", True)
    with pytest.raises(ConfigError, match="policy must be 'safe' or 'strict'"):
        check_policy("lenient")
