"""Data to try alsrec on: seeded synthetic interactions with planted taste clusters
(:func:`synthetic`, :class:`SyntheticData`), the dataset of ``alsrec demo``
(:func:`demo_data`), and the MovieLens ratings loader (:func:`movielens_ratings`).

This is the public place to import them from (``from alsrec.datasets import synthetic``,
as the guides and tests do). They are implemented in :mod:`alsrec.data.datasets`, which
holds the same objects; both import paths are supported.
"""

from alsrec.data.datasets import SyntheticData, demo_data, movielens_ratings, synthetic

__all__ = ["SyntheticData", "demo_data", "movielens_ratings", "synthetic"]
