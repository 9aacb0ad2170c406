"""Fold-in: exact least-squares factor rows against fixed factors of the other side (private).

Implicit ALS (Hu, Koren and Volinsky, 2008) gives a user ``u`` whose observed items ``i`` have
confidence ``c_ui`` (preference 1; every other item has confidence 1, preference 0) the factor

    x_u = (YᵀY + λI + Σ_i (c_ui - 1) y_i y_iᵀ)⁻¹ Σ_i c_ui y_i

which is ``(YᵀY + Yᵀ(C_u - I)Y + λI)⁻¹ Yᵀ C_u p_u`` written over the observed items only. With
the item factors ``Y`` fixed this is one small ``f x f`` solve per user: "fold-in". It needs no
training and no backend, so it is computed here, in alsrec's own code, the same way for every
model. ``YᵀY + λI`` is the same for every user; :class:`FoldInSolver` computes it once per
factor matrix, lazily and thread-safely, in ``float64``. Solves run in ``float64`` too, in
padded blocks of histories of similar length (one batched ``numpy.linalg.solve`` per block).

The same formula with users and items swapped gives an item's row against fixed user factors.

With frequency-scaled regularization (``regularization_exponent > 0``) each history gets its
own ``λ_u`` (:mod:`alsrec._penalty`, from the history's confidences and the model's stored
``regularization_reference``), exactly as training gave it: the cached ``YᵀY + λI`` keeps
the base ``λ`` and each solve adds ``λ_u - λ`` to its diagonal.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from alsrec._penalty import row_penalties, row_scales
from alsrec._threads import single_threaded_blas
from alsrec.checks import check_memory, format_bytes
from alsrec.exceptions import ConfigError, DataError
from alsrec.weighting import confidence

if TYPE_CHECKING:
    from alsrec.params import ALSParams, RegularizationScale
    from alsrec.types import FactorMatrix

__all__ = ["FoldInSolver", "dual_similarity", "history_confidence"]

Float64Matrix = npt.NDArray[np.float64]

_BLOCK_ENTRIES = 1 << 14
"""Padded (row, interaction) entries solved at once: the gathered ``float64`` factors of a
block (entries x factors x 8 bytes) stay in the CPU cache."""

_BLOCK_ROWS = 256
"""Rows solved at once: a block holds one ``f x f`` ``float64`` matrix per row."""

_GRAM_CHUNK = 1 << 16
"""Factor rows converted to ``float64`` at once while accumulating ``YᵀY``."""

_STIFF_RATIO = 1e8
"""A history whose largest ``c - 1`` passes this multiple of its penalty is solved through
its dual system (:func:`_solve_dual`): the normal equations keep about ``16 - log10(ratio)``
digits of ``YᵀY + λI``, and at 1e20 none (the top items of a fold-in were noise)."""


def history_confidence(
    weights: sp.csr_matrix, params: ALSParams, reference: sp.csr_matrix | None = None
) -> sp.csr_matrix:
    """Confidence values of history rows, exactly as training computes them.

    ``weights`` holds raw interaction weights, one row per (complete) history. Going
    through :func:`alsrec.weighting.confidence` with the model's weighting scheme keeps
    fold-in and training on one definition of confidence; ``reference`` (the training
    matrix) gives ``"bm25"`` / ``"tfidf"`` their corpus statistics.
    """
    return confidence(
        weights,
        params.alpha_value,
        params.weighting,
        reference=reference,
        **params.weighting_options(),
    )


def _regularized_gram(fixed: FactorMatrix, regularization: float) -> Float64Matrix:
    """``YᵀY + λI`` in ``float64``, accumulated over row chunks to bound memory."""
    f = fixed.shape[1]
    check_memory(
        2 * 8 * f * f,
        f"Fold-in with {f} factors (the {f} x {f} matrix YᵀY + λI, "
        f"{format_bytes(8 * f * f)} in float64, and its update)",
        "This model has too many factors to fold in users or items on this machine.",
    )
    gram = np.zeros((f, f), dtype=np.float64)
    for start in range(0, fixed.shape[0], _GRAM_CHUNK):
        chunk = fixed[start : start + _GRAM_CHUNK].astype(np.float64)
        gram += chunk.T @ chunk
    gram[np.diag_indices_from(gram)] += regularization
    return gram


class FoldInSolver:
    """Exact fold-in solves against one fixed factor matrix.

    Parameters
    ----------
    fixed : numpy.ndarray of float32, shape (rows, factors)
        The fixed side (item factors to fold in users; user factors to fold in items). It
        must not be modified while the solver is in use.
    regularization : float or None
        The ``λ`` of the model; ``None`` for a model whose ``regularization="auto"`` could
        not be resolved (no training interactions): every solve then raises
        :class:`~alsrec.ConfigError`.
    exponent, scale, reference
        Frequency-scaled regularization (``regularization_exponent``,
        ``regularization_scale``, ``regularization_reference`` of
        :class:`~alsrec.ALSParams`): with ``exponent > 0`` a history ``u`` is solved with
        ``λ (s_u / reference) ** exponent``. ``reference=None`` (unresolved ``"auto"``)
        makes such a solve raise :class:`~alsrec.ConfigError`.

    Notes
    -----
    ``YᵀY + λI`` (:attr:`gram`) is computed on first use and cached; concurrent first uses
    compute it once (a lock guards it), later uses read it without locking.
    """

    def __init__(
        self,
        fixed: FactorMatrix,
        regularization: float | None,
        *,
        exponent: float = 0.0,
        scale: RegularizationScale = "confidence",
        reference: float | None = None,
    ) -> None:
        self._fixed = fixed
        self._regularization = None if regularization is None else float(regularization)
        self._exponent = float(exponent)
        self._scale: RegularizationScale = scale
        self._reference = None if reference is None else float(reference)
        self._gram: Float64Matrix | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_params(cls, fixed: FactorMatrix, params: ALSParams) -> FoldInSolver:
        """A solver with the model's penalty (``"auto"`` values not yet resolved: None)."""
        reg = params.regularization
        ref = params.regularization_reference
        return cls(
            fixed,
            None if isinstance(reg, str) else reg,
            exponent=params.regularization_exponent,
            scale=params.regularization_scale,
            reference=None if isinstance(ref, str) else ref,
        )

    def __getstate__(self) -> dict[str, object]:
        # A lock cannot be pickled or copied: drop it (the cached YᵀY + λI travels).
        return {
            "fixed": self._fixed,
            "regularization": self._regularization,
            "exponent": self._exponent,
            "scale": self._scale,
            "reference": self._reference,
            "gram": self._gram,
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        self._fixed = cast("FactorMatrix", state["fixed"])
        self._regularization = cast("float", state["regularization"])
        self._exponent = cast("float", state.get("exponent", 0.0))
        self._scale = cast("RegularizationScale", state.get("scale", "confidence"))
        self._reference = cast("float | None", state.get("reference"))
        self._gram = cast("Float64Matrix | None", state["gram"])
        if self._gram is not None:
            self._gram.flags.writeable = False
        self._lock = threading.Lock()

    @property
    def fixed(self) -> FactorMatrix:
        """The fixed factor matrix."""
        return self._fixed

    @property
    def gram(self) -> Float64Matrix:
        """``YᵀY + λI`` of the fixed factors, ``float64``, shape ``(factors, factors)``."""
        gram = self._gram
        if gram is None:
            with self._lock:
                gram = self._gram
                if gram is None:
                    if self._regularization is None:
                        raise ConfigError(
                            "This model's regularization is 'auto' and it has no training "
                            "interactions to resolve it from, so it cannot fold in a "
                            "history. Build it with params=ALSParams(regularization=<number>) "
                            "(the value it was trained with), or pass seen= (the training "
                            "matrix) to resolve 'auto' from."
                        )
                    gram = _regularized_gram(self._fixed, self._regularization)
                    gram.flags.writeable = False
                    self._gram = gram
        return gram

    def extra_penalties(self, conf: sp.csr_matrix) -> npt.NDArray[np.float64] | None:
        """``λ_u - λ`` of each row of ``conf`` (what its solve adds to :attr:`gram`'s
        diagonal), or ``None`` with a constant penalty (``exponent == 0``)."""
        if self._exponent == 0:
            return None
        if self._reference is None:
            raise ConfigError(
                "This model's regularization_reference is 'auto' and it has no training "
                "interactions to resolve it from, so it cannot fold in a history with "
                "regularization_exponent > 0. Build it with "
                "params=ALSParams(regularization_reference=<number>) (the value it was "
                "trained with), or pass seen= (the training matrix) to resolve 'auto' from."
            )
        self.gram  # noqa: B018 - raises the ConfigError of an unresolved regularization
        lam = cast("float", self._regularization)
        scales = row_scales(conf, self._scale)
        return row_penalties(scales, lam, self._exponent, self._reference) - lam

    def prime(self, gram: Float64Matrix) -> None:
        """Install an already-known ``YᵀY + λI`` (the caller vouches for it)."""
        gram = np.array(gram, dtype=np.float64)
        gram.flags.writeable = False
        with self._lock:
            if self._gram is None:
                self._gram = gram

    def solve(self, conf: sp.csr_matrix) -> FactorMatrix:
        """Solve one factor row per row of a confidence matrix.

        Parameters
        ----------
        conf : scipy.sparse.csr_matrix, shape (histories, columns)
            Confidence ``c`` of each observed entry (``columns <= len(fixed)``; column ``j``
            is row ``j`` of the fixed factors). Rows without entries get zero factors (the
            solution of ``(YᵀY + λI) x = 0``).

        Returns
        -------
        numpy.ndarray of float32, shape (histories, factors)
        """
        conf = sp.csr_matrix(conf)
        n_rows, n_cols = conf.shape
        f = self._fixed.shape[1]
        if n_cols > self._fixed.shape[0]:
            raise DataError(
                f"Histories refer to {n_cols} columns but only {self._fixed.shape[0]} fixed "
                "factor rows exist."
            )
        if conf.nnz and not np.all(np.isfinite(conf.data)):
            raise DataError(
                "The confidences to fold in are not finite: a weight (an item's weights summed "
                "where it repeats, times alpha) passed the float32 range of about 3.4e38. "
                "Rescale the weights."
            )
        out = np.zeros((n_rows, f), dtype=np.float32)
        conf.sum_duplicates()
        indptr = conf.indptr.astype(np.int64)
        lengths = np.diff(indptr)
        rows = np.flatnonzero(lengths > 0)
        if rows.size == 0:
            return out
        gram = self.gram
        extra_diag = self.extra_penalties(conf)
        rows = rows[np.argsort(lengths[rows], kind="stable")]
        indices = conf.indices.astype(np.int64)
        data = conf.data.astype(np.float64)
        stiff = self._stiff_rows(data, indptr, rows, extra_diag)
        for row in rows[stiff]:
            span = slice(int(indptr[row]), int(indptr[row + 1]))
            own = 0.0 if extra_diag is None else float(extra_diag[row])
            out[row] = _solve_dual(gram, self._fixed[indices[span]], data[span], own)
        rows = rows[~stiff]
        # A batch (many small solves) runs with single-threaded BLAS (alsrec._threads):
        # threaded OpenBLAS is much slower for them on busy cores. One history (a single
        # query) leaves BLAS as it is: entering the scope costs more than it saves there
        # (one history of 20 items, 5k items: 147-157 us against 189-206 us, measured).
        scope = single_threaded_blas() if rows.size > 1 else contextlib.nullcontext()
        with scope:
            start = 0
            while start < rows.size:
                # Rows are sorted by length, so the last row of a block is its widest.
                width = int(lengths[rows[min(start + _BLOCK_ROWS, rows.size) - 1]])
                take = max(1, min(_BLOCK_ROWS, _BLOCK_ENTRIES // width))
                width = int(lengths[rows[min(start + take, rows.size) - 1]])
                block = rows[start : start + take]
                extra = None if extra_diag is None else extra_diag[block]
                out[block] = self._solve_block(
                    gram, indptr, indices, data, lengths, block, width, extra
                )
                start += take
        return out

    def _stiff_rows(
        self,
        data: npt.NDArray[np.float64],
        indptr: npt.NDArray[np.int64],
        rows: npt.NDArray[np.int64],
        extra_diag: npt.NDArray[np.float64] | None,
    ) -> npt.NDArray[np.bool_]:
        """Which of ``rows`` hold a confidence so far above their penalty that the normal
        equations lose ``YᵀY + λI`` to rounding (:data:`_STIFF_RATIO`)."""
        # reduceat needs increasing starts: take every non-empty row's maximum in storage
        # order (``rows`` are sorted by length), then pick
        starts = indptr[:-1]
        filled = np.flatnonzero(np.diff(indptr) > 0)
        row_max = np.zeros(starts.size, dtype=np.float64)
        row_max[filled] = np.maximum.reduceat(data, starts[filled])
        top = row_max[rows] - 1.0
        penalty = self._penalty() + (0.0 if extra_diag is None else extra_diag[rows])
        # without a penalty G may be singular, and the dual needs G⁻¹: the normal path's
        # least-squares fallback takes those
        stiff: npt.NDArray[np.bool_] = (penalty > 0) & (top > _STIFF_RATIO * penalty)
        return stiff

    def _penalty(self) -> float:
        """The constant penalty ``λ`` (for a primed ``YᵀY + λI``, its smallest diagonal
        entry, which bounds ``λ`` from above)."""
        if self._regularization is not None:
            return self._regularization
        return float(np.min(np.diag(self.gram)))

    def needs_dual(self, conf: npt.NDArray[np.float64], extra: float = 0.0) -> bool:
        """Whether :meth:`solve` takes one history of confidences ``conf`` (with its own
        penalty ``extra`` on top of ``λ``) through its dual system: a confidence passes
        :data:`_STIFF_RATIO` times the penalty. :func:`alsrec.explain.contributions`
        follows the same choice, so that an explanation splits the score fold-in gives."""
        penalty = self._penalty() + extra
        return bool(conf.size) and penalty > 0 and float(conf.max()) - 1.0 > _STIFF_RATIO * penalty

    def _solve_block(
        self,
        gram: Float64Matrix,
        indptr: npt.NDArray[np.int64],
        indices: npt.NDArray[np.int64],
        data: npt.NDArray[np.float64],
        lengths: npt.NDArray[np.int64],
        block: npt.NDArray[np.int64],
        width: int,
        extra_diag: npt.NDArray[np.float64] | None,
    ) -> Float64Matrix:
        offsets = np.arange(width, dtype=np.int64)
        valid = offsets[None, :] < lengths[block][:, None]
        pos = np.where(valid, indptr[block][:, None] + offsets[None, :], 0)
        cols = np.where(valid, indices[pos], 0)
        conf = np.where(valid, data[pos], 0.0)  # padded entries: c = 0 and c - 1 = 0
        extra = np.where(valid, conf - 1.0, 0.0)
        gathered = self._fixed[cols].astype(np.float64)  # (B, L, f)
        lhs = np.matmul(gathered.transpose(0, 2, 1), gathered * extra[:, :, None])
        lhs += gram
        if extra_diag is not None:  # each row's own λ_u (frequency-scaled regularization)
            diagonal = np.arange(gram.shape[0])
            lhs[:, diagonal, diagonal] += extra_diag[:, None]
        rhs = np.matmul(conf[:, None, :], gathered)[:, 0, :]
        try:
            return cast("Float64Matrix", np.linalg.solve(lhs, rhs[:, :, None])[:, :, 0])
        except np.linalg.LinAlgError:
            # Only possible with regularization 0 and rank-deficient factors: take the
            # minimum-norm least-squares solution row by row.
            return np.stack(
                [np.linalg.lstsq(a, b, rcond=None)[0] for a, b in zip(lhs, rhs, strict=True)]
            )


def _solve_dual(
    gram: Float64Matrix, history: FactorMatrix, conf: npt.NDArray[np.float64], extra: float
) -> npt.NDArray[np.float64]:
    """One fold-in through its ``L x L`` dual system, for confidences far above the penalty.

    The normal equations ``(G + Yₕᵀ D Yₕ) x = Yₕᵀ c`` (``G = YᵀY + λI``, ``D = diag(c - 1)``)
    lose ``G`` to rounding once ``c`` passes about 1e16 times it. By the Woodbury identity
    the same ``x`` is ``Z (D⁻¹ + Yₕ Z)⁻¹ (c / (c - 1))`` with ``Z = G⁻¹ Yₕᵀ``, whose
    ``L x L`` matrix only gains a smaller diagonal as ``c`` grows.
    """
    lhs = gram + extra * np.eye(gram.shape[0]) if extra else gram
    factors = history.astype(np.float64)  # (L, f)
    z = np.linalg.solve(lhs, factors.T)  # (f, L)
    spread = np.maximum(conf - 1.0, 1e-300)  # c = 1 adds nothing to G: an infinite D⁻¹
    dual = factors @ z
    dual[np.diag_indices_from(dual)] += 1.0 / spread
    try:
        weights = np.linalg.solve(dual, conf / spread)
    except np.linalg.LinAlgError:
        weights = np.linalg.lstsq(dual, conf / spread, rcond=None)[0]
    return cast("npt.NDArray[np.float64]", z @ weights)


def dual_similarity(
    rows: Float64Matrix,
    gram: Float64Matrix,
    target: npt.NDArray[np.float64],
    conf: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """``s = Yₕ (G + Yₕᵀ D Yₕ)⁻¹ y_i`` through the dual system (Woodbury), exact where the
    normal equations lose ``G`` to rounding: with ``a = Yₕ G⁻¹ y_i``, ``M = Yₕ G⁻¹ Yₕᵀ``
    and ``w = (D⁻¹ + M)⁻¹ a`` over the rows with ``c > 1``, ``s = a - M w``, which is
    ``D⁻¹ w`` on those rows (computed so: no cancellation). Rows with ``c = 1`` add
    nothing to the system."""
    z = np.linalg.solve(gram, rows.T)  # G⁻¹ Yₕᵀ, (f, L)
    a: npt.NDArray[np.float64] = z.T @ target
    active = np.flatnonzero(conf > 1.0)
    if not active.size:
        return a
    spread = conf[active] - 1.0
    coupling = rows @ z[:, active]  # M restricted to the active columns, (L, S)
    system = coupling[active].copy()
    system[np.diag_indices_from(system)] += 1.0 / spread
    try:
        w = np.linalg.solve(system, a[active])
    except np.linalg.LinAlgError:
        w = np.linalg.lstsq(system, a[active], rcond=None)[0]
    out: npt.NDArray[np.float64] = a - coupling @ w
    out[active] = w / spread
    return out
