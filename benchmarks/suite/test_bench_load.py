"""Loading a saved model and answering the first query, from a cold object.

alsrec saves data (a JSON manifest plus arrays); implicit saves an ``.npz``. Both are
timed from "path on disk" to "first top-10 list in hand".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from alsrec import Recommender

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from bench_support import Collector, Timed

    from conftest import Fitted

IMPLS = ["alsrec", "implicit"]


@pytest.mark.parametrize("impl", IMPLS)
def test_load_and_first_query(
    impl: str,
    benchmark: Any,
    fitted: Fitted,
    collector: Collector,
    timed: Callable[..., Timed],
    tmp_path: Path,
    alsrec_threads: Callable[[], Any],
    implicit_threads: Callable[[], Any],
) -> None:
    benchmark.group = "load + first query"
    row = collector.define(
        "load_first", "load saved model + first recommend", "budget", 1.0, reference="limit"
    )
    row.values["limit"] = 0.5
    save = getattr(fitted.rec, "save", None)
    load = getattr(Recommender, "load", None)
    if impl == "alsrec" and (save is None or load is None):
        why = "Recommender.save/load are not in this build yet (the artifacts work adds them)"
        collector.skipped["load + first query (alsrec)"] = why
        pytest.skip(why)
    user = fitted.user_ids[0]
    if impl == "alsrec":
        assert save is not None and load is not None
        path = tmp_path / "model"
        save(path)

        def run() -> Any:
            return load(path).recommend(user, n=10)

        ctx = alsrec_threads
    else:
        from implicit.cpu.als import AlternatingLeastSquares

        path = tmp_path / "model.npz"
        fitted.model.save(str(path))
        user_items = fitted.user_items

        def run() -> Any:
            model = AlternatingLeastSquares.load(str(path))
            return model.recommend(0, user_items[0], N=10)

        ctx = implicit_threads
    fn = timed(run)
    with ctx():
        benchmark.pedantic(fn, rounds=3, iterations=1)
    if impl == "alsrec":
        collector.add("load_first", "alsrec", fn.median)
    else:
        row.notes["implicit"] = f"{fn.median * 1e3:.0f} ms"
