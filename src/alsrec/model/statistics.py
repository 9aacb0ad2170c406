"""Statistics of an interaction matrix that the data-aware defaults read.

:mod:`alsrec.model.defaults` turns them into ``alpha="auto"`` and ``regularization="auto"``;
this module only measures. How flat the spectrum of the observed pairs is
(:func:`spectral_ratio`), whether its 70th component stands above chance
(:func:`spectral_excess`), how much of the pattern's energy beyond popularity stands above
chance (:func:`signal_energy`), where ALS shrinks the planted components away
(:func:`component_scale`), how evenly the pairs share their weight
(:func:`weight_uniformity`), how unequal item popularity is (:func:`popularity_gini`) and
the typical confidence of the pairs (:func:`confidence_level`, :func:`matrix_level`).

Every statistic is deterministic: the randomized SVD and ARPACK are seeded and run with one
BLAS thread.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from alsrec._threads import single_threaded_blas
from alsrec.exceptions import DataError

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "SIGNAL_COMPONENTS",
    "SPECTRAL_MIN_SIZE",
    "SPECTRAL_RANK",
    "component_scale",
    "confidence_level",
    "matrix_level",
    "popularity_gini",
    "signal_energy",
    "spectral_excess",
    "spectral_ratio",
    "weight_uniformity",
]

SPECTRAL_RANK = 70
"""The singular value, counted from the largest, that :func:`spectral_ratio` compares with
the first (beyond the signal components of the datasets behind the rule)."""
SIGNAL_COMPONENTS = 20
"""The components after the first that :func:`signal_energy` sums (the 2nd to the 21st)."""
_SPECTRAL_BLOCK = SPECTRAL_RANK + 10
SPECTRAL_MIN_SIZE = 2 * _SPECTRAL_BLOCK
"""Users and items both at least this many (160), or the rule falls back to
:data:`~alsrec.model.defaults.AUTO_SCALE`."""


def _start_block(n_columns: int) -> npt.NDArray[np.float32]:
    """The seeded Gaussian block of :func:`_top_singular_values` for a pattern with
    ``n_columns`` items (drawn in double precision, then rounded, so that the numbers do
    not depend on the dtype)."""
    block = np.random.default_rng(0).standard_normal((n_columns, _SPECTRAL_BLOCK))
    return block.astype(np.float32)


def _top_singular_values(
    pattern: sp.csr_matrix, start: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64] | None:
    """The largest 80 singular values of a binary ``pattern``, largest first, by the seeded
    randomized SVD of :func:`spectral_ratio` from the block ``start`` (:func:`_start_block`);
    ``None`` when the pattern has fewer than 80 independent rows in the block's range."""
    import scipy.linalg  # here: 80 ms at import, which a process that only loads models skips

    # The products are in single precision (the pattern is exact in it, and the 80 values
    # move by about 1e-8 relative against double precision, at half the time); the Gram
    # matrices and the eigenvalues in double precision.
    ones = np.ones(pattern.indices.size, dtype=np.float32)
    single = sp.csr_matrix((ones, pattern.indices, pattern.indptr), shape=pattern.shape)
    with single_threaded_blas():  # 2 x 80 columns: threaded BLAS only oversubscribes
        # One power iteration, Y = P P^T P start, spans the range the block sees. The
        # singular values of Q^T P with Q = orth(Y) solve (Z^T Z) v = s^2 (Y^T Y) v with
        # Z = P^T Y: two Gram matrices instead of QR factorizations of the tall blocks.
        tall32 = single @ (single.T @ (single @ start))
        wide = np.asarray(single.T @ tall32, dtype=np.float64)
        tall = np.asarray(tall32, dtype=np.float64)
        try:
            squares = scipy.linalg.eigh(wide.T @ wide, tall.T @ tall, eigvals_only=True)
        except np.linalg.LinAlgError:  # rank below 80: no 70th component to measure
            return None
    values = np.sqrt(np.clip(squares, 0.0, None))[::-1]
    return values if values[0] > 0 else None


def _pattern(csr: sp.csr_matrix) -> sp.csr_matrix:
    """The binary pattern of a CSR matrix: 1.0 where an entry is stored."""
    return sp.csr_matrix((np.ones(csr.indices.size), csr.indices, csr.indptr), shape=csr.shape)


class PatternSpectrum:
    """What one randomized SVD of a pattern gives the statistics that read it; the
    shuffled pattern's values (for :func:`spectral_excess` and :func:`signal_energy`) are
    computed once, when first asked for."""

    def __init__(
        self,
        pattern: sp.csr_matrix,
        start: npt.NDArray[np.float32],
        values: npt.NDArray[np.float64],
    ) -> None:
        self.pattern = pattern
        self.start = start
        self.values = values
        self._chance: tuple[npt.NDArray[np.float64] | None] | None = None

    def measures(self, matrix: sp.csr_matrix) -> bool:
        """Whether this is the spectrum of ``matrix``'s pattern (same shape and entries;
        the confidences of one set of weights under another ``alpha`` keep the pattern)."""
        return bool(self.pattern.shape == matrix.shape and self.pattern.nnz == matrix.nnz)

    @property
    def ratio(self) -> float:
        """``s_70 / s_1``: :func:`spectral_ratio`."""
        return float(self.values[SPECTRAL_RANK - 1] / self.values[0])

    def chance(self) -> npt.NDArray[np.float64] | None:
        """The top singular values of the pattern with its items shuffled (seeded; the
        shuffled pattern has the same shape, so the same start block serves it): what the
        row and column counts give by chance alone. ``None`` if they cannot be measured."""
        if self._chance is None:
            # Each stored pair's item moves to another pair's item; every row keeps its
            # place (no COO copy: 8 bytes a pair at the peak instead of about 27).
            items = np.random.default_rng(0).permutation(self.pattern.indices)
            ones = np.ones(items.size, dtype=np.float32)
            shape = self.pattern.shape
            shuffled = sp.csr_matrix((ones, items, self.pattern.indptr.copy()), shape=shape)
            shuffled.sum_duplicates()
            shuffled.data[:] = 1.0  # pairs drawn twice count once, like any observed pair
            self._chance = (_top_singular_values(shuffled, self.start),)
        return self._chance[0]

    def excess(self) -> float | None:
        """:func:`spectral_excess`."""
        chance = self.chance()
        if chance is None or chance[SPECTRAL_RANK - 1] <= 0:
            return None
        return float(self.values[SPECTRAL_RANK - 1] / chance[SPECTRAL_RANK - 1])

    def signal_energy(self) -> float | None:
        """:func:`signal_energy`."""
        chance = self.chance()
        if chance is None:
            return None
        top = slice(1, 1 + SIGNAL_COMPONENTS)
        above = np.clip(self.values[top] ** 2 - chance[top] ** 2, 0.0, None)
        return float(above.sum() / self.values[0] ** 2)


def measure_spectrum(matrix: sp.spmatrix | sp.sparray) -> PatternSpectrum | None:
    """The binary pattern of ``matrix`` (CSR), its start block and its
    :func:`_top_singular_values`, or ``None`` when it is too small or empty for a spectral
    statistic (fewer than :data:`SPECTRAL_MIN_SIZE` users or items) or its values cannot be
    measured."""
    csr = sp.csr_matrix(matrix)
    if min(csr.shape) < SPECTRAL_MIN_SIZE or csr.nnz == 0:
        return None
    pattern = _pattern(csr)
    start = _start_block(pattern.shape[1])
    values = _top_singular_values(pattern, start)
    return None if values is None else PatternSpectrum(pattern, start, values)


def spectral_ratio(matrix: sp.spmatrix | sp.sparray) -> float | None:
    """``s_70 / s_1`` of the binary pattern of ``matrix``: how flat its spectrum is.

    The singular values come from a randomized SVD with a fixed seed (an 80-column
    Gaussian block, one power iteration), so the value is deterministic: the same
    matrix gives the same number on every call. The cost is four sparse products with
    80 columns and two 80 x 80 Gram matrices (0.03 s for MovieLens-100k, 0.12 s for
    50,000 x 10,000 with 400,000 pairs). The randomized values lie below the exact ones
    (``s_70 / s_1`` by about 15%); the rule's constants were fitted on these.

    Parameters
    ----------
    matrix : scipy sparse matrix, users x items
        The observed pairs; only where entries are stored counts, not their values.

    Returns
    -------
    float or None
        The ratio in [0, 1], or ``None`` when users or items number fewer than
        :data:`SPECTRAL_MIN_SIZE`, where the 70th singular value is no noise level, or
        the pattern has too few independent rows to measure it.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> pattern = sp.random(400, 300, density=0.05, random_state=1, format="csr")
    >>> round(spectral_ratio(pattern), 3)
    0.271
    >>> spectral_ratio(sp.csr_matrix((4, 3))) is None
    True
    """
    measured = measure_spectrum(matrix)
    return None if measured is None else measured.ratio


def spectral_excess(matrix: sp.spmatrix | sp.sparray) -> float | None:
    """How far the 70th component of ``matrix`` stands above chance: ``s_70`` of its binary
    pattern over ``s_70`` of the same pattern with its items shuffled.

    The shuffle (seeded, so the value is deterministic) moves every observed pair's item to
    the item of another pair drawn at random: every user keeps the number of items and
    every item the number of users, and nothing else is kept (pairs that land twice count
    once). Its spectrum is what these row and column counts give by chance alone. About 1
    means ``s_70`` is at that chance level, so the signal sits in fewer than 70 components;
    clearly above 1 (1.14-1.46 with 90-300 planted clusters in the checks of the "Default
    hyperparameters" guide) means ``s_70`` is still signal.
    The cost is that of a second :func:`spectral_ratio`.

    Parameters
    ----------
    matrix : scipy sparse matrix, users x items
        The observed pairs; only where entries are stored counts, not their values.

    Returns
    -------
    float or None
        The ratio (> 0), or ``None`` where :func:`spectral_ratio` has none, or the shuffled
        pattern has too few independent rows to measure it.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> noise = sp.random(400, 300, density=0.05, random_state=1, format="csr")
    >>> round(spectral_excess(noise), 2)  # a random pattern: chance level
    1.0
    >>> blocks = sp.block_diag([sp.random(4, 3, density=0.9, random_state=s) for s in range(100)])
    >>> spectral_excess(blocks) > 1.2  # a hundred planted blocks: s_70 is signal
    True
    """
    measured = measure_spectrum(matrix)
    return None if measured is None else measured.excess()


def signal_energy(matrix: sp.spmatrix | sp.sparray) -> float | None:
    """How much personal signal the pattern of ``matrix`` holds beyond item popularity:
    the energy of its 2nd to 21st components above chance, over the energy of the first.

    ``sum_k max(0, s_k**2 - z_k**2) / s_1**2`` for ``k = 2 .. 21``
    (:data:`SIGNAL_COMPONENTS`), with ``s`` the singular values of the binary pattern and
    ``z`` those of the same pattern with its items shuffled (as for
    :func:`spectral_excess`: every user keeps the number of items and every item the
    number of users). The first component of an interaction pattern is mostly popularity
    and activity; what the next twenty hold above what those counts give by chance is
    what ALS can personalize with. In the checks of the "Default hyperparameters" guide
    every dataset on which ALS regularized into a popularity ranker was within 91-100% of
    the best measured 0.14-0.22, and every other one 0.249 or more (MovieLens-100k and its
    variants 0.34-0.60, planted clusters up to 7.6).

    Parameters
    ----------
    matrix : scipy sparse matrix, users x items
        The observed pairs; only where entries are stored counts, not their values.

    Returns
    -------
    float or None
        The share (>= 0), or ``None`` where :func:`spectral_ratio` has none, or the
        shuffled pattern has too few independent rows to measure it.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> noise = sp.random(400, 300, density=0.05, random_state=1, format="csr")
    >>> signal_energy(noise) < 0.1  # a random pattern: only chance fluctuations
    True
    >>> blocks = sp.block_diag([sp.random(40, 30, density=0.5, random_state=s) for s in range(10)])
    >>> signal_energy(blocks) > 1  # ten planted blocks: nine components of signal
    True
    """
    measured = measure_spectrum(matrix)
    return None if measured is None else measured.signal_energy()


def component_scale(confidence_matrix: sp.spmatrix | sp.sparray) -> float | None:
    """Where ALS starts shrinking away the data's planted components: ``s_2`` of the binary
    pattern of ``confidence_matrix`` times the mean confidence of its stored entries.

    ALS with the penalty ``lambda`` keeps a component only while its singular value in the
    confidence-weighted data exceeds about ``lambda``. On data whose spectrum is flat at
    chance level (a dozen or a few dozen planted components of about equal strength over the
    noise floor, see :func:`~alsrec.model.defaults.flat_spectrum_scale`) those components
    die together, so NDCG@10 rises with the regularization up to a cliff and then falls to a
    popularity ranking. Their strength is about ``s_2`` of the pattern (the first component
    after the popularity one; with flat popularity the plateau starts at ``s_1``) times the
    mean confidence ``E[c]``: at ``alpha = 1`` the sweeps of the "Default hyperparameters"
    guide had their best regularization at 0.50-0.66 times this scale on the twelve such
    sets, and their cliff at about 1x.

    ``s_2`` comes from ARPACK (seeded, one BLAS thread: deterministic) to a relative
    ``1e-4``; the cost is about that of :func:`spectral_ratio` (0.02 s on 9,000 x 4,500
    with 34,000 pairs on an idle core, 0.8 s on 100,000 x 20,000 with 800,000 under
    load), and :func:`~alsrec.model.defaults.auto_regularization` only asks for it on data
    with such a spectrum.

    Parameters
    ----------
    confidence_matrix : scipy sparse matrix, users x items
        The confidences ``c = 1 + alpha * f(w)`` of the observed pairs.

    Returns
    -------
    float or None
        The scale (> 0), or ``None`` with fewer than :data:`SPECTRAL_MIN_SIZE` users or
        items (like :func:`spectral_ratio`), no stored entry, or when ARPACK does not
        converge (the rule then keeps its value without the plateau).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> blocks = sp.block_diag([np.ones((100, 100))] * 4, format="csr")  # 4 planted blocks
    >>> round(component_scale(blocks * 2.0), 6)  # s_2 of the pattern: 100; confidence: 2
    200.0
    >>> component_scale(sp.csr_matrix(np.ones((4, 3)))) is None  # small: no spectrum
    True
    """
    csr = sp.csr_matrix(confidence_matrix, dtype=np.float64)
    if min(csr.shape) < SPECTRAL_MIN_SIZE or csr.nnz == 0:
        return None
    return pattern_component_scale(_pattern(csr), float(csr.data.mean()))


def pattern_component_scale(pattern: sp.csr_matrix, mean_confidence: float) -> float | None:
    """:func:`component_scale` given the binary pattern and the mean confidence."""
    # here, like scipy.linalg in the SVD above
    from scipy.sparse.linalg import ArpackError, svds

    try:
        with single_threaded_blas():
            values = svds(pattern, k=2, tol=1e-4, random_state=0, return_singular_vectors=False)
    except ArpackError:  # no convergence (a subclass) included: keep the rule without it
        return None
    second = float(np.min(values))
    return second * mean_confidence if math.isfinite(second) and second > 0 else None


def weight_uniformity(confidence_matrix: sp.spmatrix | sp.sparray) -> float | None:
    """How evenly the observed pairs share their weight: ``E[f]**2 / E[f**2]`` over the
    stored entries, with ``f = c - 1`` (the weighted ``w`` times ``alpha``, whose scale
    cancels).

    1 when every observed pair has the same weight (binary data), 0.8-0.9 for 1-5 ratings,
    0.4-0.8 for Poisson counts, 0.1-0.2 for log-normal counts (``sigma = 1.5``) and below
    0.02 for Pareto counts (tail index 1.2), where a few pairs hold most of the weight.
    Below :data:`~alsrec.model.defaults.HEAVY_UNIFORMITY` the weights count as heavy-tailed.

    Returns
    -------
    float or None
        The uniformity in (0, 1], or ``None`` when no stored entry has a confidence above 1.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> weight_uniformity(sp.csr_matrix(np.array([[3.0, 0.0], [3.0, 3.0]])))  # all equal
    1.0
    >>> round(weight_uniformity(sp.csr_matrix(np.array([[2.0, 0.0], [2.0, 11.0]]))), 3)  # 1, 1, 10
    0.471
    """
    extra = np.asarray(sp.csr_matrix(confidence_matrix).data, dtype=np.float64) - 1.0
    return values_uniformity(extra)


def values_uniformity(extra: npt.NDArray[np.float64]) -> float | None:
    """:func:`weight_uniformity` of the values ``f`` themselves (the weighted ``w``, at
    any scale)."""
    squares = float(extra @ extra)
    if extra.size == 0 or not (squares > 0 and math.isfinite(squares)):
        return None
    return float(extra.sum()) ** 2 / (extra.size * squares)


def popularity_gini(column_masses: npt.ArrayLike) -> float | None:
    """The Gini coefficient of the items' confidence masses: how unequal popularity is.

    0 when every item holds the same mass ``d_i = sum_u c_ui``, towards 1 when a few items
    hold all of it. Items without any mass are left out (an item nobody has says nothing
    about popularity). The MovieLens-100k variants behind the rule lie at 0.32-0.68, the
    synthetic sets with flat popularity at 0.14-0.32.

    Parameters
    ----------
    column_masses : array_like of float
        ``d_i`` per item (the column sums of the confidence matrix).

    Returns
    -------
    float or None
        The coefficient in [0, 1), or ``None`` with fewer than :data:`SPECTRAL_MIN_SIZE`
        items that hold mass (too few to tell flat popularity from chance).

    Examples
    --------
    >>> popularity_gini(np.ones(200))  # every item equally popular
    0.0
    >>> round(popularity_gini(np.r_[np.ones(190), 100 * np.ones(10)]), 3)  # ten hits
    0.79
    >>> popularity_gini([1.0, 5.0]) is None
    True
    """
    masses = np.sort(np.asarray(column_masses, dtype=np.float64).ravel())
    masses = masses[masses > 0]
    if masses.size < SPECTRAL_MIN_SIZE:
        return None
    n = masses.size
    return float((2 * np.arange(1, n + 1) - n - 1) @ masses / (n * masses.sum()))


def confidence_level(count: int, total: float, squares: float) -> float:
    """The typical confidence of the observed pairs: ``E[c]**3 / E[c**2]``.

    The mean confidence ``E[c]`` times ``E[c]**2 / E[c**2]`` (1 when every observed pair
    has the same confidence, far below 1 under heavy-tailed counts, where a few pairs
    hold most of the mass). Binary data at ``alpha = 1`` has level 2; MovieLens-100k's
    1-5 ratings at ``alpha = 1`` about 4.3; Pareto counts (tail index 1.2) 0.08-0.3,
    below any single confidence, because a few pairs hold most of their mass.

    Parameters
    ----------
    count : int
        The number of observed pairs.
    total, squares : float
        ``sum c`` and ``sum c**2`` over them.

    Returns
    -------
    float
        ``total**3 / (count**2 * squares)``.

    Raises
    ------
    DataError
        The sums are not positive and finite.

    Examples
    --------
    >>> confidence_level(3, 6.0, 12.0)  # c = 2, 2, 2: the level is the confidence
    2.0
    >>> round(confidence_level(3, 12.0, 72.0), 3)  # c = 2, 2, 8: mean 4, level 64 / 24
    2.667
    """
    ok = count > 0 and math.isfinite(total) and math.isfinite(squares) and squares > 0
    level = float(total) ** 3 / (float(count) ** 2 * float(squares)) if ok else math.nan
    if not (math.isfinite(level) and level > 0):
        raise DataError(
            "regularization='auto' needs interactions with positive, finite confidence; "
            f"got {count} pairs with sum {total!r} and sum of squares {squares!r}. Pass a "
            "number for regularization."
        )
    return level


def matrix_level(confidence_matrix: sp.spmatrix | sp.sparray) -> float:
    """:func:`confidence_level` of the stored entries of a confidence matrix.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> round(matrix_level(sp.csr_matrix(np.array([[2.0, 0.0], [2.0, 8.0]]))), 3)
    2.667
    """
    values = np.asarray(sp.csr_matrix(confidence_matrix).data, dtype=np.float64)
    return confidence_level(values.size, float(values.sum()), float(values @ values))
