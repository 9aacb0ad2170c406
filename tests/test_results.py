"""Result objects: read-only sequences of (id, score) pairs and fixed-shape batches."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

from alsrec import (
    BackendUnavailableError,
    BatchRecommendations,
    ConfigError,
    Recommendations,
    Recommender,
)

if TYPE_CHECKING:
    from alsrec.tables import FrameBackend


def _recs() -> Recommendations:
    return Recommendations(
        "u",
        np.array(["a", "b", "c", "d"]),
        np.array([4, 3, 2, 1], dtype=np.float32),
        "fallback",
        ("zz",),
    )


def test_sequence_protocol() -> None:
    recs = _recs()
    assert len(recs) == 4
    assert recs[0] == ("a", 4.0)
    assert recs[-1] == ("d", 1.0)
    assert list(recs[1:3]) == [("b", 3.0), ("c", 2.0)]
    assert [i for i, _ in recs] == ["a", "b", "c", "d"]
    assert ("b", 3.0) in recs
    assert type(recs[0][0]) is str and type(recs[0][1]) is float
    assert "skipped=('zz',)" in repr(recs)
    assert recs == _recs()


def test_arrays_are_read_only_and_shapes_checked() -> None:
    recs = _recs()
    with pytest.raises(ValueError, match="read-only"):
        recs.ids[0] = "x"
    with pytest.raises(ValueError, match="equal length"):
        Recommendations("u", np.array(["a"]), np.array([1.0, 2.0], dtype=np.float32))


def test_batch_rows_drop_padding() -> None:
    batch = BatchRecommendations(
        queries=np.array([1, 2]),
        ids=np.array([[7, 8], [9, np.iinfo(np.int64).min]]),
        scores=np.array([[0.5, 0.4], [0.3, np.nan]], dtype=np.float32),
        mask=np.array([[True, True], [True, False]]),
        sources=np.array(["model", "fallback"]),
    )
    assert len(batch) == 2
    ((item, score),) = batch[1].to_list()
    assert item == 9
    assert score == pytest.approx(0.3)
    assert batch[1].source == "fallback"
    assert batch[-1].query == 2
    with pytest.raises(IndexError):
        batch[2]
    as_dict = batch.to_dict()
    assert list(as_dict) == [1, 2]
    assert [i for i, _ in as_dict[1]] == [7, 8]
    assert "2 queries x n=2" in repr(batch)
    with pytest.raises(ValueError, match="one entry per row"):
        BatchRecommendations(
            np.array([1]), batch.ids, batch.scores, batch.mask, np.array(["model"])
        )


# -- to_frame ----------------------------------------------------------------------------------


def _fitted_for_frames() -> Recommender:
    return Recommender.from_factors(
        np.eye(2), [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]], ["u1", "u2"], ["a", "b", "c"]
    )


def test_recommendations_to_frame_pandas_long_format() -> None:
    recs = _fitted_for_frames().recommend("u1", n=2)
    df = recs.to_frame()
    assert list(df.columns) == ["query", "rank", "id", "score", "source"]
    assert df["id"].tolist() == recs.ids.tolist()
    assert df["rank"].tolist() == [1, 2]
    assert df["query"].tolist() == ["u1", "u1"]
    np.testing.assert_allclose(df["score"].to_numpy(), recs.scores)


def test_batch_to_frame_drops_padding_and_matches_rows() -> None:
    rec = _fitted_for_frames()
    batch = rec.recommend_many(["u1", "nobody", "u2"], n=3)
    df = batch.to_frame()
    expected = [
        (str(r.query), rank, item, r.source) for r in batch for rank, (item, _) in enumerate(r, 1)
    ]
    got = list(zip(df["query"], df["rank"], df["id"], df["source"], strict=True))
    assert got == expected
    assert "fallback" in set(df["source"])


def test_to_frame_polars_same_content() -> None:
    batch = _fitted_for_frames().similar_items_many(["a", "c"], n=2)
    pl_df = batch.to_frame(backend="polars")
    pd_df = batch.to_frame()
    assert pl_df.columns == list(pd_df.columns)
    assert pl_df["id"].to_list() == pd_df["id"].tolist()
    assert pl_df["rank"].to_list() == pd_df["rank"].tolist()


def test_to_frame_missing_library_and_bad_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _fitted_for_frames().recommend("u1")
    monkeypatch.setitem(sys.modules, "polars", None)  # import polars now raises ImportError
    with pytest.raises(BackendUnavailableError, match="pip install polars"):
        recs.to_frame(backend="polars")
    with pytest.raises(ConfigError, match="choose one of"):
        recs.to_frame(backend="arrow")  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["pandas", "polars"])
def test_empty_results_have_the_column_types_of_full_ones(backend: FrameBackend) -> None:
    rec = Recommender(factors=2, iterations=2).fit([1, 1, 2, 3], [10, 11, 10, 11])
    full, empty = rec.recommend(2).to_frame(backend), rec.recommend(1).to_frame(backend)
    assert len(empty) == 0 and len(full) > 0  # user 1 has seen every item

    def types(frame: Any) -> dict[str, object]:
        return dict(frame.dtypes if backend == "pandas" else frame.schema)

    assert types(empty) == types(full)
    batch = rec.recommend_many([1]).to_frame(backend)
    assert types(batch) == types(full)
    if backend == "pandas":
        joined = pd.concat([full, empty])
        assert joined["query"].dtype == np.int64  # not float64 from an empty object column
