"""MovieLens-100k for the benchmark scripts: the one reader they share.

The data may not be redistributed, so it is never committed: download the ``recbole==1.2.1``
wheel (``pip download --no-deps recbole==1.2.1``), unzip
``recbole/dataset_example/ml-100k/ml-100k.inter`` and pass its path in the environment
variable ``ALSREC_ML100K``. Both that file (tab-separated, one header line such as
``user_id:token item_id:token rating:float timestamp:float``) and GroupLens' ``u.data``
(the same four columns, no header) are read.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["ml100k_columns"]

VARIABLE = "ALSREC_ML100K"


def ml100k_columns() -> dict[str, npt.NDArray[np.generic]]:
    """The file named by ``ALSREC_ML100K`` as ``user``, ``item`` (int64), ``rating``
    (float32) and ``time`` (int64) arrays, in file order; exits with a message saying
    what to set when the variable is missing or names no file."""
    path = os.environ.get(VARIABLE)
    if not path:
        raise SystemExit(
            f"Set {VARIABLE} to the path of MovieLens-100k's ml-100k.inter or u.data "
            "(see benchmarks/scripts/ml100k.py)."
        )
    file = Path(path)
    if not file.is_file():
        raise SystemExit(f"{VARIABLE}={path} is not a file: point it at ml-100k.inter or u.data.")
    with file.open(encoding="utf-8") as handle:
        first = handle.readline()
    header = 0 if first.split("\t", 1)[0].strip().isdigit() else 1
    table = np.atleast_2d(
        np.loadtxt(file, delimiter="\t", skiprows=header, usecols=(0, 1, 2, 3), dtype=np.float64)
    )
    return {
        "user": table[:, 0].astype(np.int64),
        "item": table[:, 1].astype(np.int64),
        "rating": table[:, 2].astype(np.float32),
        "time": table[:, 3].astype(np.int64),
    }
