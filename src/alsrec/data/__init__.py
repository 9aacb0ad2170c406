"""Interaction data: reading it, cleaning it, weighting it, and synthetic data to try things on.

Modules, each one job (imports point down the list):

- :mod:`~alsrec.data.timestamps`: the one timestamp parser (epoch seconds);
- :mod:`~alsrec.data.rows`: what every reader shares (screening bad rows, encoding IDs);
- :mod:`~alsrec.data.frames`, :mod:`~alsrec.data.csv_reader`,
  :mod:`~alsrec.data.sql_reader`: the sources (arrays and data frames, CSV files, SQL);
- :mod:`~alsrec.data.matrices`: the sources already in matrix form (a sparse matrix,
  mapped indices), which keep every given ID;
- :mod:`~alsrec.data.assemble`: merging duplicates, filters, the CSR matrix;
- :mod:`~alsrec.data.summary` and :mod:`~alsrec.data.interactions`: :class:`Interactions`,
  the validated dataset, and its :class:`InteractionsSummary`;
- :mod:`~alsrec.data.weighting`: raw weights to ALS confidence;
- :mod:`~alsrec.data.datasets`: synthetic data with planted clusters, and the MovieLens
  ratings loader.
"""

from alsrec.data.datasets import SyntheticData, demo_data, movielens_ratings, synthetic
from alsrec.data.interactions import DROP_REASONS, Aggregate, Interactions, InteractionsSummary
from alsrec.data.timestamps import parse_timestamps
from alsrec.data.weighting import SCHEME_OPTIONS, Weighting, confidence, weigh

__all__ = [
    "DROP_REASONS",
    "SCHEME_OPTIONS",
    "Aggregate",
    "Interactions",
    "InteractionsSummary",
    "SyntheticData",
    "Weighting",
    "confidence",
    "demo_data",
    "movielens_ratings",
    "parse_timestamps",
    "synthetic",
    "weigh",
]
