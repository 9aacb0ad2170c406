"""``alsrec demo``: train on the embedded synthetic data and show what the model does."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

import alsrec
from alsrec import Interactions, Recommender, UnknownIdError
from alsrec.cli.options import EXIT_OK, FORMATTER, add_hyperparameters, params_from
from alsrec.data import demo_data
from alsrec.evaluation import PopularityBaseline, holdout_split, ndcg_at_k

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from alsrec import ALSParams
    from alsrec.cli.options import Parents, Streams
    from alsrec.data import SyntheticData

__all__ = ["add_parser", "run"]

DEMO_DEFAULTS = {"factors": 32, "regularization": 10.0}
"""Hyperparameters that suit the demo data better than the library's defaults."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Register ``demo`` and its few hyperparameter flags."""
    parser = sub.add_parser(
        "demo",
        parents=[parents.common],
        help="train on the embedded synthetic data and show what the model does",
        description="Train on the embedded synthetic dataset (3,000 users, 600 items) and "
        "print recommendations, similar items and users, and a held-out comparison with "
        "popularity.",
        epilog="Example: alsrec demo --factors 32",
        formatter_class=FORMATTER,
    )
    add_hyperparameters(
        parser,
        only=("factors", "regularization", "alpha", "iterations"),
        defaults=DEMO_DEFAULTS,
    )
    parser.set_defaults(handler=run)


def _model(params: ALSParams, policy: str = "safe") -> Recommender:
    return Recommender(policy=policy, params=params)  # type: ignore[arg-type]


def _neighbours(rec: Recommender, data: SyntheticData, say: Callable[[str], None]) -> None:
    """Recommendations and neighbours of one user, with the planted clusters."""

    # Generated IDs are "U" / "I" plus the zero-padded index into the cluster arrays.
    def user_cluster(user_id: object) -> int:
        return int(data.user_clusters[int(str(user_id)[1:])])

    def item_cluster(item_id: object) -> int:
        return int(data.item_clusters[int(str(item_id)[1:])])

    user = "U000042"
    cluster = user_cluster(user)
    recs = rec.recommend(user, n=10)
    same = sum(item_cluster(i) == cluster for i, _ in recs)
    say(f"Top-10 for user {user} (taste cluster {cluster}; seen items excluded):")
    for rank, (item, score) in enumerate(recs, 1):
        mark = "same cluster" if item_cluster(item) == cluster else ""
        say(f"  {rank:2d}. {item}  score {score:7.4f}  {mark}".rstrip())
    say(f"  {same}/10 from the user's own cluster (chance: about 1/12)")
    say("")
    item = str(recs.ids[0])
    say(f"Items similar to {item} (cluster {item_cluster(item)}; cosine of item factors):")
    for other, score in rec.similar_items(item, n=5):
        say(f"  {other}  cosine {score:6.3f}  cluster {item_cluster(other)}")
    say("")
    say(f"Users similar to {user} (cluster {cluster}):")
    for other, score in rec.similar_users(user, n=5):
        say(f"  {other}  cosine {score:6.3f}  cluster {user_cluster(other)}")
    say("")


def _unknown_user(rec: Recommender, say: Callable[[str], None]) -> None:
    try:
        unknown = rec.recommend("NEW_USER", n=3)
    except UnknownIdError:  # its message names Python's history=, which demo does not take
        say("Unknown user 'NEW_USER' under --policy strict -> refused (exit code 4 in")
        say("  other commands); --policy safe answers with the most popular items instead.")
    else:
        say(f"Unknown user 'NEW_USER' under the safe policy -> source={unknown.source!r}:")
        say("  " + ", ".join(str(i) for i, _ in unknown) + "  (most popular items)")
    say("")


def _held_out(interactions: Interactions, params: ALSParams, say: Callable[[str], None]) -> None:
    train, test = holdout_split(interactions, 0.2, random_state=0)
    held_out = _model(params).fit(train)
    model_ndcg = ndcg_at_k(held_out, test, k=10)
    pop_ndcg = ndcg_at_k(PopularityBaseline(train), test, k=10)
    say("Held-out evaluation (20% of each user's items hidden during training):")
    say(f"  NDCG@10 model      {model_ndcg:.4f}")
    say(f"  NDCG@10 popularity {pop_ndcg:.4f}")
    say(f"  {_comparison(model_ndcg, pop_ndcg)}")


def _comparison(model_ndcg: float, pop_ndcg: float) -> str:
    """The model against popularity in words, as ``evaluate`` says it (a loss is a loss)."""
    if model_ndcg > pop_ndcg:
        if pop_ndcg > 0:
            return (
                f"the model is {model_ndcg / pop_ndcg:.2f}x better than recommending popular items"
            )
        return "the model beats recommending popular items (which score 0)"
    return (
        "the model LOSES to recommending popular items: the most popular items would serve "
        "these users at least as well (try more --iterations or other hyperparameters)"
    )


def run(args: argparse.Namespace, io: Streams) -> int:
    """Train on the demo data and print what the model does."""

    def say(line: str = "") -> None:
        print(line, file=io.out)

    data = demo_data()
    interactions = Interactions.from_arrays(data.user_ids, data.item_ids, data.weights)
    say(f"alsrec {alsrec.__version__} demo: embedded synthetic data with 12 planted taste clusters")
    say(f"  {interactions.summary()}")
    say()
    params = dataclasses.replace(params_from(args), random_state=0)
    rec = _model(params, args.policy)
    start = time.perf_counter()
    rec.fit(interactions)
    say(f"Trained in {time.perf_counter() - start:.2f} s")
    say(rec.summary())
    say()
    _neighbours(rec, data, say)
    _unknown_user(rec, say)
    _held_out(interactions, params, say)
    return EXIT_OK
