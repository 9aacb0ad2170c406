"""Facts recorded with a model: its training data's provenance and user metadata.

- :func:`data_provenance`: what :func:`alsrec.model.training.train` records about the
  interactions (source, rows read, dropped rows by reason, duplicates merged, sizes and,
  when timestamps are known, the time range);
- :func:`check_metadata`: validates the ``metadata=`` of :meth:`alsrec.Recommender.save`
  (a JSON-serialisable mapping with string keys).

Both end up in the artifact manifest and are shown by ``inspect()`` and ``alsrec inspect``.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from alsrec.exceptions import ConfigError

if TYPE_CHECKING:
    from alsrec.interactions import Interactions

__all__ = ["check_metadata", "data_provenance"]


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def data_provenance(data: Interactions) -> dict[str, Any]:
    """JSON-compatible facts about the training interactions.

    Examples
    --------
    >>> from alsrec import Interactions
    >>> facts = data_provenance(Interactions.from_arrays(["a", "a", "b"], ["x", "x", "y"]))
    >>> facts["source"], facts["rows_read"], facts["interactions"], facts["time_range"]
    ('arrays', 3, 2, None)
    """
    time_range = None
    stamps = data.timestamps
    if stamps is not None and stamps.size:
        finite = stamps[~(stamps != stamps)]  # drop NaN
        if finite.size:
            time_range = [_iso(float(finite.min())), _iso(float(finite.max()))]
    return {
        "source": str(data.source),
        "rows_read": int(data.rows_read),
        "dropped": {str(k): int(v) for k, v in data.dropped.items()},
        "duplicates_merged": int(data.duplicates_merged),
        "users": int(data.shape[0]),
        "items": int(data.shape[1]),
        "interactions": int(data.nnz),
        "time_range": time_range,
    }


_MAX_DEPTH = 64
"""How deep metadata may nest (a structure that contains itself never ends)."""
_INT_DIGITS = 4300
"""The most decimal digits of an integer Python converts to and from text by default
(``sys.get_int_max_str_digits()``); a longer one could neither be written nor read."""
_INT_LIMIT = 10**_INT_DIGITS


def _plain(value: object, where: str, depth: int = 0) -> object:
    """``value`` as JSON-ready Python values (numpy scalars become Python ones), or a
    :class:`ConfigError` naming where it cannot be."""
    if depth > _MAX_DEPTH:
        shown = where if len(where) <= 60 else where[:60] + "..."
        raise ConfigError(
            f"metadata{shown} nests more than {_MAX_DEPTH} levels deep; does it contain itself?"
        )
    if isinstance(value, np.generic) and not isinstance(value, (np.datetime64, np.timedelta64)):
        value = value.item()  # np.float32(0.31), np.int64(3), np.bool_(True): numbers
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _INT_LIMIT:
        raise ConfigError(
            f"metadata{where} is an integer of more than {_INT_DIGITS:,} digits, more than "
            "Python's json writes or reads by default; store it as a string (e.g. hex(value))."
        )
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"metadata{where} is {value!r}; JSON allows only finite numbers.")
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigError(f"metadata{where} has the key {key!r}; keys must be strings.")
            out[key] = _plain(item, f"{where}[{key!r}]", depth + 1)
        return out
    raise ConfigError(
        f"metadata{where} is a {type(value).__name__}, which JSON cannot hold; use strings, "
        "numbers, booleans, None, lists and dicts (e.g. str() or .isoformat() a date)."
    )


def check_metadata(metadata: object) -> dict[str, Any] | None:
    """``metadata`` as a JSON-compatible dict (a copy), or ``None``.

    Raises
    ------
    ConfigError
        Not a mapping with string keys, or a value JSON cannot hold; the message names
        where.

    Examples
    --------
    >>> check_metadata({"run": "2026-12-01", "ndcg": 0.31})
    {'run': '2026-12-01', 'ndcg': 0.31}
    >>> check_metadata({"when": object()})
    Traceback (most recent call last):
    ...
    alsrec.exceptions.ConfigError: metadata['when'] is a object, which JSON cannot hold; ...
    """
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise ConfigError(
            f"metadata must be a dict of JSON-serialisable values, got {type(metadata).__name__}."
        )
    copied: dict[str, Any] = json.loads(json.dumps(_plain(metadata, ""), allow_nan=False))
    return copied
