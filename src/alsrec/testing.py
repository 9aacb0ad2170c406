"""A conformance suite for training backends, importable by third-party backends.

Every backend alsrec ships passes it, and so should yours: write a class that satisfies
:class:`~alsrec.backends.Backend`, then call :func:`check_backend` on an instance (in a
test), or run the individual ``check_*`` functions listed in :data:`CHECKS` as separate
tests. A failed check raises :class:`ConformanceError` (an ``AssertionError``) saying
what was expected and what the backend did.

The checks train on small generated matrices (a few dozen rows), so the whole suite
runs in about a second for a compiled backend. What they establish:

- factor shapes and dtype: ``(rows, factors)`` C-contiguous ``float32`` on both sides,
  also with rows and columns that have no interactions, which get zero factors;
- finite factors, and a :class:`~alsrec.DataError` for NaN/inf confidences;
- the progress callback: once per sweep, 1-based, with arrays of the right shapes;
- determinism under an int seed, where the backend promises it (``deterministic``);
- hyperparameters mean what :class:`~alsrec.ALSParams` says: with
  ``solver="cholesky"`` the returned item factors solve the normal equations of
  alsrec's objective for the returned user factors (confidence as given, constant
  ``regularization`` and frequency-scaled penalties, unless refused with
  :class:`~alsrec.ConfigError`);
- the checkerboard property: on block-structured data, the one item a user has not
  seen in its own block is that user's first recommendation;
- answers through :class:`~alsrec.Recommender`: seen-item exclusion, candidate subsets,
  the ``"safe"``/``"strict"`` policies, and equal rankings from equal factors.

Examples
--------
>>> from alsrec.backends import NumpyBackend
>>> from alsrec.testing import check_backend
>>> check_backend(NumpyBackend())
>>> class Broken(NumpyBackend):
...     def fit(self, confidence, params, *, callback=None):
...         users, items = super().fit(confidence, params, callback=callback)
...         return users.astype("float64"), items
>>> check_backend(Broken())
Traceback (most recent call last):
...
alsrec.testing.ConformanceError: check_factor_shapes: user factors have dtype float64, ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from alsrec.backends import Backend, get_backend
from alsrec.exceptions import AlsrecError, ConfigError, DataError, UnknownIdError
from alsrec.params import ALSParams
from alsrec.recommender import Recommender

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

    from alsrec.types import FactorMatrix

__all__ = [
    "CHECKS",
    "ConformanceError",
    "check_backend",
    "check_callback",
    "check_candidates",
    "check_checkerboard",
    "check_determinism",
    "check_empty_rows",
    "check_equal_factors_equal_rankings",
    "check_factor_shapes",
    "check_finite_factors",
    "check_normal_equations",
    "check_policies",
    "check_protocol",
    "check_rejects_nonfinite",
    "check_seen_exclusion",
    "checkerboard",
]


class ConformanceError(AssertionError):
    """A backend broke the contract a conformance check tests."""


def _fail(check: str, message: str) -> ConformanceError:
    return ConformanceError(f"{check}: {message}")


def _random_confidence(
    n_users: int = 40, n_items: int = 25, density: float = 0.2, seed: int = 1
) -> sp.csr_matrix:
    """Confidences ``1 + 2 * w`` with integer weights 1..4 on a random pattern."""
    rng = np.random.default_rng(seed)
    dense = np.where(
        rng.random((n_users, n_items)) < density, rng.integers(1, 5, (n_users, n_items)), 0
    )
    weights = sp.csr_matrix(dense.astype(np.float32))
    weights.data = (1.0 + 2.0 * weights.data).astype(np.float32)
    weights.sort_indices()
    return weights


def _fit(
    backend: Backend, confidence: sp.csr_matrix, params: ALSParams, check: str
) -> tuple[FactorMatrix, FactorMatrix]:
    try:
        users, items = backend.fit(confidence, params)
    except AlsrecError as exc:
        raise _fail(check, f"fit raised {type(exc).__name__}: {exc}") from exc
    return users, items


_PARAMS = ALSParams(factors=6, regularization=0.1, iterations=5, random_state=0)


def check_protocol(backend: Backend) -> None:
    """The object satisfies :class:`~alsrec.backends.Backend` (name, deterministic, fit)."""
    check = "check_protocol"
    if not isinstance(backend, Backend):
        raise _fail(check, f"{type(backend).__name__} does not implement alsrec.backends.Backend")
    if not isinstance(backend.name, str) or not backend.name:
        raise _fail(check, f"name must be a non-empty str, got {backend.name!r}")
    if not isinstance(backend.deterministic, bool):
        raise _fail(check, f"deterministic must be a bool, got {backend.deterministic!r}")


def _matrix_with_gaps() -> sp.csr_matrix:
    """Random confidences whose first/middle/last user and item have no interactions."""
    conf = _random_confidence(30, 20, 0.3, seed=2).tolil()
    for row in (0, 13, 29):
        conf[row, :] = 0
    for col in (0, 7, 19):
        conf[:, col] = 0
    out = sp.csr_matrix(conf.tocsr(), dtype=np.float32)
    out.eliminate_zeros()
    out.sort_indices()
    return out


def check_factor_shapes(backend: Backend) -> None:
    """Factors are C-contiguous ``float32`` of shape ``(rows, factors)`` on both sides.

    The matrix has users and items without interactions, first, last and in between,
    which must still get a factor row each.
    """
    check = "check_factor_shapes"
    conf = _matrix_with_gaps()
    for factors in (1, 7):
        params = ALSParams(factors=factors, regularization=0.1, iterations=2, random_state=0)
        users, items = _fit(backend, conf, params, check)
        for side, arr, rows in (("user", users, conf.shape[0]), ("item", items, conf.shape[1])):
            if not isinstance(arr, np.ndarray):
                raise _fail(check, f"{side} factors are a {type(arr).__name__}, not numpy")
            if arr.dtype != np.float32:
                raise _fail(check, f"{side} factors have dtype {arr.dtype}, expected float32")
            if arr.shape != (rows, factors):
                raise _fail(
                    check, f"{side} factors have shape {arr.shape}, expected {(rows, factors)}"
                )
            if not arr.flags.c_contiguous:
                raise _fail(check, f"{side} factors are not C-contiguous")


def check_empty_rows(backend: Backend) -> None:
    """Users and items without interactions get zero factors (the exact minimiser)."""
    check = "check_empty_rows"
    conf = _matrix_with_gaps()
    users, items = _fit(backend, conf, _PARAMS, check)
    for side, arr, empty in (
        ("user", users, np.flatnonzero(np.diff(conf.indptr) == 0)),
        ("item", items, np.flatnonzero(np.bincount(conf.indices, minlength=conf.shape[1]) == 0)),
    ):
        nonzero = [int(r) for r in empty if np.any(arr[r] != 0)]
        if nonzero:
            raise _fail(check, f"{side} rows {nonzero} have no interactions but non-zero factors")


def check_finite_factors(backend: Backend) -> None:
    """Training on valid confidences (including large ones) gives finite factors."""
    check = "check_finite_factors"
    conf = _random_confidence()
    for scale in (1.0, 1000.0):
        scaled = conf.copy()
        scaled.data = (scaled.data * np.float32(scale)).astype(np.float32)
        users, items = _fit(backend, scaled, _PARAMS, check)
        for side, arr in (("user", users), ("item", items)):
            if not np.isfinite(arr).all():
                raise _fail(check, f"{side} factors contain NaN or inf (confidence x{scale:g})")


def check_rejects_nonfinite(backend: Backend) -> None:
    """A confidence matrix holding NaN or inf raises :class:`~alsrec.DataError`."""
    check = "check_rejects_nonfinite"
    for bad in (np.nan, np.inf):
        conf = _random_confidence()
        conf.data[3] = bad
        try:
            backend.fit(conf, _PARAMS)
        except DataError:
            continue
        except Exception as exc:
            raise _fail(
                check, f"a {bad} confidence raised {type(exc).__name__}, expected DataError"
            ) from exc
        raise _fail(check, f"a {bad} confidence was accepted; expected DataError")


def check_callback(backend: Backend) -> None:
    """The callback runs once per sweep with ``(iteration, users, items)``, 1-based."""
    check = "check_callback"
    conf = _random_confidence()
    calls: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = []

    def record(iteration: int, users: FactorMatrix, items: FactorMatrix) -> None:
        calls.append((iteration, users.shape, items.shape))

    params = ALSParams(factors=4, regularization=0.1, iterations=3, random_state=0)
    backend.fit(conf, params, callback=record)
    expected = [(i, (conf.shape[0], 4), (conf.shape[1], 4)) for i in (1, 2, 3)]
    if calls != expected:
        raise _fail(check, f"callback calls {calls}, expected {expected}")


def check_determinism(backend: Backend) -> None:
    """Where ``backend.deterministic``, equal input and int seed give identical factors.

    Does nothing for a backend that does not promise determinism.
    """
    check = "check_determinism"
    if not backend.deterministic:
        return
    conf = _random_confidence()
    first = _fit(backend, conf, _PARAMS, check)
    second = _fit(backend, conf.copy(), _PARAMS, check)
    for side, a, b in zip(("user", "item"), first, second, strict=True):
        if not np.array_equal(a, b):
            raise _fail(check, f"two fits with random_state=0 gave different {side} factors")


def _row_penalty(conf: npt.NDArray[np.float64], n_cols: int, params: ALSParams) -> float:
    """The penalty ``λ_u`` of a row whose observed columns have confidences ``conf``."""
    reg = params.regularization_value
    if params.regularization_exponent == 0:
        return reg
    if params.regularization_scale == "count":
        scale = float(conf.size)
    else:  # every column counts: observed ones with c, the others with 1
        scale = n_cols + float(np.sum(conf - 1.0))
    ratio = scale / params.regularization_reference_value
    return float(reg * ratio**params.regularization_exponent)


def _exact_rows(fixed: FactorMatrix, conf: sp.csr_matrix, params: ALSParams) -> np.ndarray:
    """Rows solving alsrec's normal equations for the fixed other side (float64).

    ``conf`` has one row per solved row and one column per row of ``fixed``.
    """
    x = fixed.astype(np.float64)
    f = x.shape[1]
    gram = x.T @ x
    conf = sp.csr_matrix(conf)
    out = np.zeros((conf.shape[0], f))
    for i in range(conf.shape[0]):
        lo, hi = conf.indptr[i], conf.indptr[i + 1]
        if lo == hi:
            continue
        xi = x[conf.indices[lo:hi]]
        c = conf.data[lo:hi].astype(np.float64)
        lam = _row_penalty(c, conf.shape[1], params)
        lhs = gram + lam * np.eye(f) + xi.T @ ((c - 1.0)[:, None] * xi)
        out[i] = np.linalg.solve(lhs, xi.T @ c)
    return out


def _exact_items(users: FactorMatrix, conf: sp.csr_matrix, params: ALSParams) -> np.ndarray:
    """Item factors solving alsrec's normal equations for fixed user factors (float64)."""
    return _exact_rows(users, conf.T.tocsr(), params)


def _relative_error(expected: np.ndarray, got: np.ndarray) -> float:
    return float(np.abs(expected - got).max() / max(np.abs(expected).max(), 1e-12))


_PENALTIES: tuple[dict[str, Any], ...] = (
    {"regularization": 0.5},
    {"regularization": 5.0},
    {"regularization": 2.0, "regularization_exponent": 0.5, "regularization_reference": 60.0},
    {
        "regularization": 2.0,
        "regularization_exponent": 1.0,
        "regularization_scale": "count",
        "regularization_reference": 5.0,
    },
)
"""The penalties :func:`check_normal_equations` trains: constant, and frequency-scaled."""


def check_normal_equations(backend: Backend) -> None:
    """Hyperparameters mean what :class:`~alsrec.ALSParams` says.

    With ``solver="cholesky"`` the last half-sweep solves one side exactly, so the
    returned item factors must equal ``(XᵀC_iX + λ_i I)⁻¹ XᵀC_i p_i`` computed here from
    the returned user factors ``X`` (or, for a backend that sweeps items first, the user
    factors the same formula from the item factors), with the confidence as given (no
    further ``alpha``) and the penalty ``λ_i``: ``regularization`` itself, and with
    ``regularization_exponent > 0`` its frequency-scaled value. A backend may refuse an
    exponent it cannot train with :class:`~alsrec.ConfigError`; one that defines
    ``trained_params(confidence, params)`` (see :class:`~alsrec.backends.Backend`) is
    checked against the hyperparameters it reports.
    """
    check = "check_normal_equations"
    conf = _random_confidence()
    for penalty in _PENALTIES:
        params = ALSParams(
            factors=6,
            iterations=2,
            random_state=0,
            solver="cholesky",
            alpha=3.0,  # must not be applied again by the backend
            **penalty,
        )
        try:
            users, items = backend.fit(conf, params)
        except ConfigError as exc:
            if params.scaled_regularization:
                continue  # refusing what it cannot train is allowed
            raise _fail(check, f"fit raised ConfigError: {exc}") from exc
        except AlsrecError as exc:
            raise _fail(check, f"fit raised {type(exc).__name__}: {exc}") from exc
        report = getattr(backend, "trained_params", None)
        trained = params if report is None else report(conf, params)
        # The last half-sweep solved one side exactly against the other: the items (users,
        # then items, in each sweep) or the users (items first, as Spark sweeps).
        error = min(
            _relative_error(_exact_items(users, conf, trained), items),
            _relative_error(_exact_rows(items, conf, trained), users),
        )
        if error > 1e-3:
            raise _fail(
                check,
                f"item factors are not the exact least-squares solution for confidence as "
                f"given and the penalty {penalty} (relative error {error:.3g}); "
                "the backend gives a hyperparameter another meaning",
            )


def checkerboard(
    blocks: int = 4, users_per_block: int = 6, items_per_block: int = 5
) -> tuple[list[str], list[str], dict[str, str]]:
    """Block data: user ``j`` of a block has every item of its block but one.

    Returns ``(user_ids, item_ids, withheld)``: one row per interaction, and each user's
    withheld item, which a working ALS model ranks first for that user.

    Examples
    --------
    >>> users, items, withheld = checkerboard(blocks=2, users_per_block=3, items_per_block=3)
    >>> len(users), withheld["u0-1"]
    (12, 'i0-1')
    """
    user_ids: list[str] = []
    item_ids: list[str] = []
    withheld: dict[str, str] = {}
    for b in range(blocks):
        for j in range(users_per_block):
            user = f"u{b}-{j}"
            skip = j % items_per_block
            withheld[user] = f"i{b}-{skip}"
            for k in range(items_per_block):
                if k != skip:
                    user_ids.append(user)
                    item_ids.append(f"i{b}-{k}")
    return user_ids, item_ids, withheld


def _checkerboard_model(backend: Backend, check: str) -> tuple[Recommender, dict[str, str]]:
    user_ids, item_ids, withheld = checkerboard()
    rec = Recommender(
        factors=8, regularization=1.0, alpha=5.0, iterations=10, random_state=0, backend=backend
    )
    try:
        rec.fit(user_ids, item_ids)
    except AlsrecError as exc:
        raise _fail(check, f"Recommender.fit raised {type(exc).__name__}: {exc}") from exc
    if rec.backend_ != backend.name:
        raise _fail(check, f"fitted backend_ is {rec.backend_!r}, expected {backend.name!r}")
    return rec, withheld


def _seen(rec: Recommender, check: str) -> sp.csr_matrix:
    seen = rec.seen_
    if seen is None:
        raise _fail(check, "the fitted Recommender kept no training matrix (seen_ is None)")
    return seen


def check_checkerboard(backend: Backend) -> None:
    """On block data, each user's one unseen item of its own block ranks first."""
    check = "check_checkerboard"
    rec, withheld = _checkerboard_model(backend, check)
    users = list(withheld)
    batch = rec.recommend_many(users, n=1)
    got = batch.ids[:, 0].tolist()
    wrong = [(u, g, withheld[u]) for u, g in zip(users, got, strict=True) if g != withheld[u]]
    if wrong:
        raise _fail(
            check,
            f"{len(wrong)} of {len(users)} users did not get their withheld block item "
            f"first; e.g. user {wrong[0][0]!r} got {wrong[0][1]!r}, expected {wrong[0][2]!r}",
        )


def check_seen_exclusion(backend: Backend) -> None:
    """``exclude_seen=True`` leaves out exactly the training items; ``False`` keeps all."""
    check = "check_seen_exclusion"
    rec, withheld = _checkerboard_model(backend, check)
    seen = _seen(rec, check)
    n_items = len(rec.items_)
    for user in list(withheld)[:: max(1, len(withheld) // 6)]:
        row = rec.users_.index_of(user)
        seen_ids = set(rec.items_.to_id(seen[row].indices).tolist())
        got = [item for item, _ in rec.recommend(user, n=n_items)]
        if seen_ids & set(got):
            raise _fail(check, f"user {user!r} was recommended seen items {seen_ids & set(got)}")
        if len(got) != n_items - len(seen_ids):
            raise _fail(
                check, f"user {user!r} got {len(got)} items, expected {n_items - len(seen_ids)}"
            )
        everything = [item for item, _ in rec.recommend(user, n=n_items, exclude_seen=False)]
        if sorted(everything) != sorted(rec.items_.ids.tolist()):
            raise _fail(check, f"exclude_seen=False did not rank every item for {user!r}")


def check_candidates(backend: Backend) -> None:
    """``items=`` restricts the ranking to the candidates, in the full ranking's order."""
    check = "check_candidates"
    rec, withheld = _checkerboard_model(backend, check)
    user = next(iter(withheld))
    everything = [item for item, _ in rec.recommend(user, n=len(rec.items_), exclude_seen=False)]
    candidates = everything[::3][::-1]  # in another order than the ranking
    got = [
        item
        for item, _ in rec.recommend(user, n=len(candidates), items=candidates, exclude_seen=False)
    ]
    expected = [item for item in everything if item in set(candidates)]
    if got != expected:
        raise _fail(
            check, f"candidate ranking {got} differs from the full ranking's order {expected}"
        )
    unseen = [item for item, _ in rec.recommend(user, n=len(candidates), items=candidates)]
    seen = _seen(rec, check)
    seen_ids = set(rec.items_.to_id(seen[rec.users_.index_of(user)].indices).tolist())
    if unseen != [item for item in expected if item not in seen_ids]:
        raise _fail(check, "candidates with exclude_seen=True did not drop exactly the seen ones")


def check_policies(backend: Backend) -> None:
    """``"safe"``: unknown users get the fallback, unknown candidates are skipped;
    ``"strict"``: both raise :class:`~alsrec.UnknownIdError`."""
    check = "check_policies"
    rec, withheld = _checkerboard_model(backend, check)
    user = next(iter(withheld))
    fallback = rec.recommend("no-such-user", n=3, policy="safe")
    if fallback.source != "fallback" or len(fallback) != 3:
        raise _fail(check, f"unknown user under 'safe' gave {fallback!r}")
    result = rec.recommend(user, n=3, items=["no-such-item", withheld[user]], policy="safe")
    if result.skipped != ("no-such-item",) or [i for i, _ in result] != [withheld[user]]:
        raise _fail(check, f"unknown candidate under 'safe' gave {result!r}")
    strict_calls: list[tuple[str, Callable[[], object]]] = [
        ("unknown user", lambda: rec.recommend("no-such-user", policy="strict")),
        ("unknown candidate", lambda: rec.recommend(user, items=["nope"], policy="strict")),
    ]
    for what, call in strict_calls:
        try:
            call()
        except UnknownIdError:
            continue
        raise _fail(check, f"an {what} under 'strict' did not raise UnknownIdError")


def check_equal_factors_equal_rankings(backend: Backend) -> None:
    """The trained factors, wrapped with :meth:`~alsrec.Recommender.from_factors`, give
    the same rankings and scores; scores are the user-item dot products."""
    check = "check_equal_factors_equal_rankings"
    rec, withheld = _checkerboard_model(backend, check)
    copy = Recommender.from_factors(
        rec.user_factors_.copy(),
        rec.item_factors_.copy(),
        rec.users_,
        rec.items_,
        seen=rec.seen_,
        backend_name="copy",
    )
    users = list(withheld)
    a = rec.recommend_many(users, n=5)
    b = copy.recommend_many(users, n=5)
    if not (np.array_equal(a.ids, b.ids) and np.array_equal(a.scores, b.scores)):
        raise _fail(check, "equal factors gave different rankings")
    rows = rec.users_.to_index(users)
    cols = rec.items_.to_index(a.ids.ravel()).reshape(a.ids.shape)
    dots = np.einsum("uf,ukf->uk", rec.user_factors_[rows], rec.item_factors_[cols])
    if not np.allclose(a.scores, dots, rtol=1e-4, atol=1e-5):
        raise _fail(check, "scores are not the dot products of user and item factors")


CHECKS: tuple[Callable[[Backend], None], ...] = (
    check_protocol,
    check_factor_shapes,
    check_empty_rows,
    check_finite_factors,
    check_rejects_nonfinite,
    check_callback,
    check_determinism,
    check_normal_equations,
    check_checkerboard,
    check_seen_exclusion,
    check_candidates,
    check_policies,
    check_equal_factors_equal_rankings,
)
"""Every check, in the order :func:`check_backend` runs them."""


def check_backend(backend: Backend | str) -> None:
    """Run every check in :data:`CHECKS` on ``backend`` (an instance or a registry name).

    Raises
    ------
    ConformanceError
        At the first check the backend fails, naming it.
    """
    resolved = get_backend(backend)
    for check in CHECKS:
        check(resolved)
