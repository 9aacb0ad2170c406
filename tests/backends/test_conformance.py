"""Run the backend conformance suite (alsrec.testing) over every named backend.

A backend that cannot run on this machine is skipped with the reason
:func:`alsrec.backends.available` gives (on a machine without CUDA: "implicit-gpu").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from alsrec.backends import available, get_backend
from alsrec.testing import CHECKS, ConformanceError

if TYPE_CHECKING:
    from collections.abc import Callable

    from alsrec.backends import Backend

_STATUSES = available()


def _backend(name: str, require_backend: Callable[[str], None]) -> Backend:
    require_backend(name)  # skips, with the reason, where the backend cannot run
    return get_backend(name)


# A backend whose check is known to fail, with the reason; none today: Spark's ALS-WR is
# checked against the penalty its models report (SparkBackend.trained_params).
_DOCUMENTED_DEVIATIONS: dict[tuple[str, str], str] = {}


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
@pytest.mark.parametrize("name", [s.name for s in _STATUSES])
def test_backend_conforms(
    name: str, check: Callable[[Backend], None], require_backend: Callable[[str], None]
) -> None:
    backend = _backend(name, require_backend)
    if check.__name__ == "check_determinism" and not backend.deterministic:
        pytest.skip(f"backend {name!r} does not promise determinism (deterministic=False)")
    deviation = _DOCUMENTED_DEVIATIONS.get((name, check.__name__))
    if deviation is not None:
        with pytest.raises(ConformanceError, match=deviation):
            check(backend)
        return
    check(backend)
