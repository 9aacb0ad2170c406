"""Deprecated alias, moved to :mod:`alsrec.data.datasets` (kept for one release)."""

from alsrec.data.datasets import SyntheticData, demo_data, movielens_ratings, synthetic

__all__ = ["SyntheticData", "demo_data", "movielens_ratings", "synthetic"]
