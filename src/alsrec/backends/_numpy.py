"""Pure numpy/scipy implicit ALS: the reference backend.

Each sweep solves, for every row ``u`` of the side being updated (users, then items),

    (Yᵀ Y + Yᵀ (C_u - I) Y + λ_u I) x_u = Yᵀ C_u p_u

where ``Y`` is the fixed other side and ``λ_u`` the row's penalty: ``regularization``
itself, or with ``regularization_exponent > 0`` its frequency-scaled value
(:mod:`alsrec._penalty`). Rows are grouped by their number of interactions
into padded blocks of at most ``_BLOCK_ENTRIES`` entries, so the fixed factors of a block
are gathered once per sweep and then stay in cache for all conjugate-gradient steps;
every step is a pair of batched matrix products over the block. This is what makes a
pure-numpy ALS a small constant factor from a compiled one: the naive version (gather
the factors of every nonzero for every step) is memory-bound and about 10x slower.
"""

from __future__ import annotations

import contextlib
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt
import scipy.linalg

from alsrec._penalty import side_penalties
from alsrec._threads import single_threaded_blas, worker_count
from alsrec.backends._products import Workspace, lower_gram, lower_products, product_chunks
from alsrec.backends._protocol import diverged
from alsrec.exceptions import DataError

if TYPE_CHECKING:
    from collections.abc import Callable

    import scipy.sparse as sp

    from alsrec.backends._protocol import ProgressCallback
    from alsrec.params import ALSParams
    from alsrec.types import FactorMatrix

__all__ = ["NumpyBackend"]

_BLOCK_ENTRIES = 16384
"""Padded (row, interaction) entries per block up to 64 factors: small enough that a
block's gathered factors (entries x factors x 4 bytes) stay in the CPU cache across CG
steps. Above 64 factors a block holds ``_BLOCK_FLOATS // factors`` entries instead."""

_BLOCK_FLOATS = _BLOCK_ENTRIES * 64
"""Gathered floats per block (4 MiB): blocks are sized by bytes, not entries, so that
at 256 or 512 factors a block's factors still fit the cache (measured: 16384 entries
at 256 factors, 16 MiB, made the CG sweeps about 1.5x slower). Smaller blocks (1 MiB,
within a core's L2 cache) were 10-30% faster on one thread but 10-40% slower on two:
the worker threads then spend more of their time in numpy call overhead, which holds
the GIL (measured on long-row data at 256 and 512 factors, idle 2-core machine)."""

_DUAL_MIN_FACTORS = 128
"""``solver="auto"`` uses :func:`_solve_dual` from this many factors on, ``"cg"`` below
(measured crossover, see :func:`_solve_dual`), except on long rows (``_DUAL_LONG_FACTORS``)."""

_DUAL_LONG_FACTORS = 64
"""From this many factors ``solver="auto"`` also uses :func:`_solve_dual` for a side whose
rows are long enough that it costs no extra copies (:func:`_dual_pays`): there it took
0.76-0.88x plain CG's time at 64 factors (MovieLens-100k and long-row synthetic data)."""

_PRECONDITIONED_STEPS_SAVED = 1
"""``solver="auto"`` from ``_DUAL_MIN_FACTORS`` on runs ``cg_steps - 1`` (at least one)
preconditioned CG steps on long rows. Preconditioned by ``YᵀY + λI``, two steps from a
cold start land closer to the exact solution than three plain ones (the backend's tests
check this), and over a fit two reach the NDCG@10 of implicit's three plain steps within
0.33% (MovieLens-100k and long-row synthetic data, 256 and 512 factors, alpha 1-30),
while saving 10-15% of the fit (``benchmarks/scripts/large_factors.py``, idle 2 cores)."""

_CHOLESKY_BLOCK_ROWS = 512
"""Rows per block for the exact solver, which holds one f x f matrix per row."""

_SMALL_WIDTH = 4
"""Blocks this narrow use einsum, which beats per-row BLAS calls there (measured)."""

_PACK_RATIO = 1.25
_PACK_SLACK = 2
"""A block's rows are at most ``_PACK_RATIO`` times (plus ``_PACK_SLACK``) as long as its
shortest row (see :func:`_blocks`)."""


@dataclass(frozen=True)
class _Block:
    rows: npt.NDArray[np.int64]  # (B,) rows of the side being solved
    cols: npt.NDArray[np.int32]  # (B, L) rows of the fixed side; padding -> its zero row
    conf: npt.NDArray[np.float32]  # (B, L) confidence c, 0 where padded


def _block_entries(factors: int) -> int:
    """Padded entries per block at ``factors`` (see ``_BLOCK_FLOATS``)."""
    return max(256, min(_BLOCK_ENTRIES, _BLOCK_FLOATS // factors))


def _blocks(
    matrix: sp.csr_matrix,
    max_rows: int | None = None,
    entries: int = _BLOCK_ENTRIES,
    splits: tuple[int, ...] = (),
) -> list[_Block]:
    """Group the non-empty rows of ``matrix`` into padded blocks of at most ``entries``
    slots (one row per block when a row alone is wider).

    Rows are taken in order of length and a block is filled with the next rows for as long
    as they fit at the padded width of its longest row, which is at most ``_PACK_RATIO``
    times (plus ``_PACK_SLACK``) that of its shortest: at most a fifth of a block's slots
    are padding, and blocks are full. A block never mixes rows of at most and of more than
    a length in ``splits`` (rows a solver treats differently).

    Padded slots point at row ``matrix.shape[1]`` of the fixed side, an all-zero row the
    solver appends, so they add nothing to any product whatever their confidence: a
    block needs no mask and no stored ``c - 1`` (8 bytes per slot, not 12).
    """
    pad_col = matrix.shape[1]
    indptr = np.asarray(matrix.indptr, dtype=np.int64)
    indices = np.asarray(matrix.indices, dtype=np.int32)
    data = np.asarray(matrix.data, dtype=np.float32)
    lengths = np.diff(indptr)
    order = np.argsort(lengths, kind="stable")
    order = order[lengths[order] > 0]
    sorted_lengths = lengths[order]
    out: list[_Block] = []
    start = 0
    while start < order.size:
        shortest = int(sorted_lengths[start])
        longest = int(_PACK_RATIO * shortest) + _PACK_SLACK
        for split in splits:
            if shortest <= split < longest:
                longest = split
        end = int(np.searchsorted(sorted_lengths, longest, side="right"))
        end = min(end, start + max(1, entries // shortest))
        if max_rows is not None:
            end = min(end, start + max_rows)
        # at most ``entries`` slots: the first k rows at the length of the k-th
        fits = np.arange(1, end - start + 1) * sorted_lengths[start:end] <= entries
        end = start + (fits.size if fits.all() else max(1, int(np.argmin(fits))))
        r = order[start:end].astype(np.int64)
        width = int(sorted_lengths[end - 1])
        offsets = np.arange(width, dtype=np.int64)
        pos = indptr[r][:, None] + offsets[None, :]
        valid = offsets[None, :] < lengths[r][:, None]
        pos = np.where(valid, pos, 0)
        cols = np.where(valid, indices[pos], pad_col).astype(np.int32)
        conf = np.where(valid, data[pos], 0).astype(np.float32)
        out.append(_Block(r, cols, conf))
        start = end
    return out


def _forward(gathered: FactorMatrix, vectors: FactorMatrix) -> FactorMatrix:
    """``q[b, l] = gathered[b, l, :] . vectors[b, :]``."""
    if gathered.shape[1] <= _SMALL_WIDTH:
        return cast("FactorMatrix", np.einsum("blf,bf->bl", gathered, vectors))
    return cast("FactorMatrix", np.matmul(gathered, vectors[:, :, None])[:, :, 0])


def _backward(weights: FactorMatrix, gathered: FactorMatrix) -> FactorMatrix:
    """``out[b, :] = sum_l weights[b, l] * gathered[b, l, :]``."""
    if gathered.shape[1] <= _SMALL_WIDTH:
        return cast("FactorMatrix", np.einsum("bl,blf->bf", weights, gathered))
    return cast("FactorMatrix", np.matmul(weights[:, None, :], gathered)[:, 0, :])


def _safe_divide(num: FactorMatrix, den: FactorMatrix) -> FactorMatrix:
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _wide_system(
    fixed: FactorMatrix,
    cols: npt.NDArray[np.int32],
    conf: npt.NDArray[np.float32],
    gram: npt.NDArray[np.floating],
) -> tuple[npt.NDArray[np.floating], npt.NDArray[np.floating]]:
    """``A = G + Yᵀ (C - I) Y`` and ``b = Yᵀ c`` of one row, gathered chunk by chunk.

    For rows wider than a block (the most popular items): gathering all their factors
    at once would need ``width x f`` floats, tens of MiB for one row.
    """
    a = gram.copy()
    b = np.zeros(gram.shape[0], dtype=gram.dtype)
    for start in range(0, cols.size, _BLOCK_ENTRIES):
        g = fixed[cols[start : start + _BLOCK_ENTRIES]].astype(gram.dtype, copy=False)
        c = conf[start : start + _BLOCK_ENTRIES].astype(gram.dtype, copy=False)
        a += g.T @ (g * (c - 1)[:, None])
        b += c @ g
    return a, b


def _quiet_overflow() -> None:
    """Worker initializer: the training thread's ``np.errstate`` (numpy keeps it per thread)."""
    np.seterr(over="ignore", invalid="ignore", divide="ignore")


def _each(
    solve: Callable[[_Block], None], blocks: list[_Block], pool: ThreadPoolExecutor | None
) -> None:
    """Run ``solve`` on every block; blocks write disjoint rows, so any order gives the
    same result (the backend stays deterministic with any number of threads)."""
    if pool is None:
        for block in blocks:
            solve(block)
    else:
        for _ in pool.map(solve, blocks):  # re-raises the first failure
            pass


def _cg(
    x: FactorMatrix,
    r: FactorMatrix,
    matvec: Callable[[FactorMatrix], FactorMatrix],
    steps: int,
    curvature: Callable[[FactorMatrix], npt.NDArray[np.floating]] | None = None,
) -> None:
    """``steps`` conjugate-gradient steps on rows of ``x`` (residual ``r``), in place.

    ``matvec`` may return the same buffer at every call (it is read before the next
    call). ``curvature(p)``, when given, returns ``pᵀ A p`` per row more cheaply than
    through ``matvec``; the last step uses it, because after it nothing reads ``A p``:
    the residual and direction are not updated there.
    """
    p = r.copy()
    rs = np.einsum("bf,bf->b", r, r)
    step = np.empty_like(rs)
    for k in range(steps):
        last = k + 1 == steps
        ap = None
        if last and curvature is not None:
            pap = curvature(p)
        else:
            ap = matvec(p)
            pap = np.einsum("bf,bf->b", p, ap)
        step.fill(0)
        np.divide(rs, pap, out=step, where=pap > 0)
        x += step[:, None] * p
        if last or ap is None:
            break
        r -= step[:, None] * ap
        rs_new = np.einsum("bf,bf->b", r, r)
        p *= _safe_divide(rs_new, rs)[:, None]
        p += r
        rs = rs_new


def _solve_cg(
    target: FactorMatrix,
    fixed: FactorMatrix,
    blocks: list[_Block],
    regularization: float | npt.NDArray[np.float64],
    steps: int,
    pool: ThreadPoolExecutor | None,
    workspace: Workspace | None = None,
) -> None:
    """Update ``target`` in place by ``steps`` CG steps per row, warm-started.

    ``fixed`` ends with an all-zero row (the padding target of the blocks).
    ``regularization`` is one ``λ`` for every row (on the diagonal of the shared Gram
    matrix) or one per row of ``target`` (added to each row's products).
    """
    work = Workspace() if workspace is None else workspace
    gram = fixed.T @ fixed
    per_row = isinstance(regularization, np.ndarray)
    lams = np.asarray(regularization, dtype=np.float32) if per_row else None
    if not per_row:
        gram[np.diag_indices_from(gram)] += np.float32(regularization)

    def solve(block: _Block) -> None:
        x = target[block.rows]
        lam = None if lams is None else lams[block.rows][:, None]
        _cg_block(x, fixed, block, gram, steps, lam, work)
        target[block.rows] = x

    _each(solve, blocks, pool)


def _cg_block(
    x: FactorMatrix,
    fixed: FactorMatrix,
    block: _Block,
    gram: FactorMatrix | None,
    steps: int,
    lam: FactorMatrix | None = None,
    work: Workspace | None = None,
) -> None:
    """``steps`` CG steps on the rows ``x`` of one block, in place; ``gram`` is
    ``YᵀY + λI``, or ``None`` for the identity (the preconditioned system of
    :func:`_solve_dual`). ``lam`` (shape ``(B, 1)``) adds a per-row penalty on top of
    ``gram`` (frequency-scaled regularization; ``gram`` then holds ``YᵀY`` alone)."""
    if block.cols.shape[1] > _BLOCK_ENTRIES:  # one very wide row: explicit f x f system
        eye = np.eye(fixed.shape[1], dtype=fixed.dtype)
        a, b = _wide_system(fixed, block.cols[0], block.conf[0], eye if gram is None else gram)
        if lam is not None:
            a[np.diag_indices_from(a)] += lam[0, 0]

        def dense(v: FactorMatrix) -> FactorMatrix:
            return cast("FactorMatrix", v @ a)

        _cg(x, cast("FactorMatrix", b[None, :] - x @ a), dense, steps)
        return
    # (B, L, f); padded slots gather zeros
    gathered = fixed[block.cols] if work is None else work.gather(fixed, block.cols)
    extra = block.conf - np.float32(1.0)  # c - 1 (its padded slots meet zero rows)
    # r = b - A x with b = Yᵀ c and A x = x G + Yᵀ ((c - 1) * (Y x))
    q = _forward(gathered, x)
    q *= extra
    np.subtract(block.conf, q, out=q)
    r = _backward(q, gathered)
    r -= x if gram is None else x @ gram
    if lam is not None:
        r -= lam * x

    def matvec(v: FactorMatrix) -> FactorMatrix:
        q = _forward(gathered, v)
        q *= extra
        out = _backward(q, gathered)
        out += v if gram is None else v @ gram
        if lam is not None:
            out += lam * v
        return out

    def curvature(v: FactorMatrix) -> npt.NDArray[np.floating]:
        # vᵀ A v = vᵀ G v + Σ (c - 1) (y·v)² (+ λ_u |v|²): one product with the block,
        # where matvec takes two (the last CG step needs no A v).
        q = _forward(gathered, v)
        out = np.einsum("bl,bl,bl->b", q, q, extra)
        out += np.einsum("bf,bf->b", v, v if gram is None else v @ gram)
        if lam is not None:
            out += lam[:, 0] * np.einsum("bf,bf->b", v, v)
        return cast("npt.NDArray[np.floating]", out)

    _cg(x, r, matvec, steps, curvature)


def _solve_dual(
    target: FactorMatrix,
    fixed: FactorMatrix,
    blocks: list[_Block],
    regularization: float,
    steps: int,
    pool: ThreadPoolExecutor | None,
    workspace: Workspace | None = None,
) -> None:
    """The ``solver="auto"`` sweep at large factors: every row's system preconditioned
    by the shared ``G = YᵀY + λI``; short rows solved exactly through their dual system,
    long rows by CG.

    With the Cholesky factor ``G = K Kᵀ``, ``Ŷ = Y K⁻ᵀ`` (computed once per sweep for the
    whole fixed side) and ``z = Kᵀ x``, the system ``(G + Y_uᵀ D Y_u) x = Y_uᵀ c`` of a row
    (``D = diag(c - 1)``, ``L`` interactions) becomes ``(I + Ŷ_uᵀ D Ŷ_u) z = Ŷ_uᵀ c``:

    - rows of width ``L <= 4 + sqrt(16 + f)`` (:func:`_dual_width`) are solved exactly by
      the Woodbury identity, ``x = W_uᵀ (I + D M)⁻¹ c`` with the ``L x L`` matrix
      ``M = Ŷ_u Ŷ_uᵀ = Y_u G⁻¹ Y_uᵀ`` and ``W = Y G⁻¹`` (also once per sweep):
      ``2 L² f + L³`` flops;
    - wider rows take ``steps - 1`` (at least one; ``_PRECONDITIONED_STEPS_SAVED``)
      warm-started CG steps on the preconditioned system,
      ``16 L f`` flops: CG preconditioned by ``G`` converges at least as fast as plain
      CG here (the system is the identity plus a rank-``L`` term), and it needs no
      product with ``G``.

    Plain CG (``solver="cg"``) costs ``16 L f + 8 f²`` per row: four products with the
    ``f x f`` matrix ``G`` dominate at large ``f``. Here the ``f²`` work is two products
    with ``K`` per long row of the side being solved (into and out of ``z``), none per
    short row, and two per row of the fixed side (``Ŷ`` and ``W``), all as triangular
    products (``trmm``, half the flops) over chunks of thousands of rows, so they run at
    the speed of large matrix products. Padded slots (``c = 0``, zero factor rows) add
    nothing to either path. Memory: ``Ŷ`` (a copy of the fixed side), and when short rows
    outnumber the fixed side's rows ``W`` and a copy of the long rows in z-space; otherwise
    ``target`` itself is converted to z-space and back in place.

    ``K`` is shared by all rows because ``λ`` is; a per-row ``λ_u`` would need the
    eigenbasis of ``YᵀY`` instead (``(YᵀY + λ_u I)⁻¹ = Q diag(1 / (e + λ_u)) Qᵀ``).

    Measured (``benchmarks/scripts/large_factors.py``, see ``docs/benchmarks.md``):
    faster than ``"cg"`` from 128 factors on (``_DUAL_MIN_FACTORS``), and from 64 on a
    side with long rows (``_DUAL_LONG_FACTORS``, :func:`_dual_pays`).
    """
    factors = fixed.shape[1]
    cg_steps = steps
    steps = max(1, cg_steps - _PRECONDITIONED_STEPS_SAVED)  # see the constant
    chunks = product_chunks(fixed.shape[0])
    work = Workspace() if workspace is None else workspace
    gram = lower_gram(fixed, pool, work)
    gram[np.diag_indices_from(gram)] += regularization
    # K by LAPACK directly, in place: np.linalg.cholesky's batched wrapper took about
    # twice as long at 512 factors (9 ms against 5, once per sweep), and fresh f x f
    # arrays every sweep cost page faults. Only the lower triangle is read.
    lower, info = scipy.linalg.lapack.dpotrf(gram, lower=1, clean=1, overwrite_a=1)
    if info != 0:  # only with λ = 0 and rank-deficient factors
        _solve_cg(target, fixed, blocks, regularization, cg_steps, pool, work)
        return
    # Rows as row vectors: z = x K (zᵀ = Kᵀ xᵀ), x = z K⁻¹, Ŷ = Y (K⁻¹)ᵀ.
    # Both triangular factors in float32 and Fortran order, for times_lower_in_place.
    chol = work.array("chol", (factors, factors), np.float32, fortran=True)
    chol[...] = lower
    k_inv = work.array("k_inv", (factors, factors), np.float32, fortran=True)
    k_inv[...] = scipy.linalg.lapack.dtrtri(lower, lower=1, overwrite_c=1)[0]
    hat = work.array("hat", fixed.shape, np.float32)
    lower_products(hat, k_inv, chunks, source=lambda rows: fixed[rows], transpose=True)
    limit = _dual_width(factors)
    # W = Y G⁻¹ = Ŷ K⁻¹ lets a short row take x = Wᵀ t without the f x f product back
    # from z; worth computing when short rows outnumber the rows of the fixed side.
    short_rows = sum(b.rows.size for b in blocks if b.cols.shape[1] <= limit)
    solved: FactorMatrix | None = None
    if short_rows > fixed.shape[0]:
        solved = work.array("solved", fixed.shape, np.float32)
        lower_products(solved, k_inv, chunks, source=lambda rows: hat[rows])

    # Rows solved in z-space are converted in and out in large chunks: one trmm per block
    # would reread the f x f factor for a handful of rows (measured: a quarter of a
    # 512-factor sweep). Without W every row is, and the whole of ``target`` is converted
    # in place (rows without interactions are zero in both spaces); with W only the long
    # rows are, in a separate array, because the short ones are written as x directly.
    if solved is None:
        zspace = target
        position = None
        zchunks = product_chunks(target.shape[0])
        # Rows in no block keep their values exactly (the round trip would round them).
        covered = np.zeros(target.shape[0], dtype=bool)
        for block in blocks:
            covered[block.rows] = True
        others = np.flatnonzero(~covered)
        kept = target[others]
        lower_products(target, chol, zchunks)
    else:
        zrows = np.concatenate(
            [b.rows for b in blocks if b.cols.shape[1] > limit] or [np.zeros(0, dtype=np.int64)]
        )
        position = np.full(target.shape[0], -1, dtype=np.int64)
        position[zrows] = np.arange(zrows.size)
        zchunks = product_chunks(zrows.size)
        zspace = work.array("zspace", (zrows.size, factors), np.float32)
        lower_products(zspace, chol, zchunks, source=lambda rows: target[zrows[rows]])

    def solve(block: _Block) -> None:
        width = block.cols.shape[1]
        at = block.rows if position is None else position[block.rows]
        if width > limit:
            z = zspace[at]
            _cg_block(z, hat, block, None, steps, work=work)
            zspace[at] = z
            return
        y = work.gather(hat, block.cols)  # (B, L, f)
        m = np.matmul(y, y.transpose(0, 2, 1)).astype(np.float64)  # M, (B, L, L)
        m *= (block.conf - 1.0)[:, :, None]  # D M
        m[:, np.arange(width), np.arange(width)] += 1.0
        t = np.linalg.solve(m, block.conf[:, :, None].astype(np.float64))
        t32 = t.astype(np.float32).transpose(0, 2, 1)
        if solved is None:
            zspace[at] = np.matmul(t32, y)[:, 0, :]  # z = Ŷ_uᵀ t
        else:
            target[block.rows] = np.matmul(t32, solved[block.cols])[:, 0, :]

    _each(solve, blocks, pool)
    lower_products(zspace, k_inv, zchunks)
    if solved is None:
        target[others] = kept
    else:
        target[zrows] = zspace


def _dual_width(factors: int) -> int:
    """The widest row :func:`_solve_dual` solves exactly: where ``2 L² f`` (the dual)
    meets ``16 L f + 2 f²`` (three preconditioned CG steps), ``L = 4 + sqrt(16 + f)``."""
    return 4 + math.isqrt(16 + factors)


def _dual_pays(blocks: list[_Block], fixed_rows: int, factors: int) -> bool:
    """Whether :func:`_solve_dual` is worth it for a side below ``_DUAL_MIN_FACTORS``.

    Only when it needs no copy beyond ``Ŷ``: the rows short enough for the exact dual
    solve must not outnumber the fixed side's rows (else it also builds ``W`` and a z-space
    copy of the long rows), and ``Ŷ`` (``fixed_rows x factors`` floats) must be no larger
    than the side's blocks (8 bytes per interaction), so that peak memory stays
    proportional to the input. On short-row data (the other case) the dual sweep was no
    faster than plain CG at 64 factors, and with those copies it took the suite's
    peak-memory benchmark from 164 to 265 MiB (``benchmarks/README.md``).
    """
    limit = _dual_width(factors)
    short = sum(b.rows.size for b in blocks if b.cols.shape[1] <= limit)
    entries = sum(int(np.count_nonzero(b.cols != fixed_rows)) for b in blocks)  # not padding
    return short <= fixed_rows and fixed_rows * factors * 4 <= 8 * entries


def _solve_exact(
    target: FactorMatrix,
    fixed: FactorMatrix,
    blocks: list[_Block],
    regularization: float | npt.NDArray[np.float64],
    pool: ThreadPoolExecutor | None,
) -> None:
    """Overwrite ``target`` rows with the exact least-squares solution.

    ``regularization``: one ``λ`` for every row, or one per row of ``target``.
    """
    gram = (fixed.T @ fixed).astype(np.float64)
    per_row = isinstance(regularization, np.ndarray)
    lams = np.asarray(regularization, dtype=np.float64) if per_row else None
    if not per_row:
        gram[np.diag_indices_from(gram)] += regularization
    diagonal = np.arange(gram.shape[0])

    def solve(block: _Block) -> None:
        if block.cols.shape[1] > _BLOCK_ENTRIES:  # one very wide row, chunked
            a, b = _wide_system(fixed, block.cols[0], block.conf[0], gram)
            if lams is not None:
                a[diagonal, diagonal] += lams[block.rows[0]]
            target[block.rows] = np.linalg.solve(a, b)[None, :]
            return
        gathered = fixed[block.cols].astype(np.float64)  # (B, L, f); zeros where padded
        weighted = gathered * (block.conf - 1.0)[:, :, None]
        lhs = np.matmul(gathered.transpose(0, 2, 1), weighted) + gram
        if lams is not None:
            lhs[:, diagonal, diagonal] += lams[block.rows][:, None]
        rhs = np.matmul(block.conf[:, None, :].astype(np.float64), gathered)[:, 0, :]
        target[block.rows] = np.linalg.solve(lhs, rhs[:, :, None])[:, :, 0]

    _each(solve, blocks, pool)


def _init_factors(rng: np.random.Generator, rows: int, factors: int) -> FactorMatrix:
    """``uniform(0, 0.01)``, drawn users first, then items: the initialization implicit
    uses, so an equal seed starts both backends from the same factors. One trailing
    all-zero row follows (the target of padded block slots, see :func:`_blocks`)."""
    out = np.empty((rows + 1, factors), dtype=np.float32)
    rng.random(dtype=np.float32, out=out[:rows])  # in place: no temporary copy
    out[:rows] *= np.float32(0.01)
    out[rows] = 0
    return out


class NumpyBackend:
    """Implicit ALS in pure numpy/scipy: the reference every other backend is tested against.

    Deterministic for an int ``random_state``. Uses conjugate gradient (``solver="cg"``,
    ``cg_steps`` steps per row and sweep, warm-started) or an exact solve per row
    (``solver="cholesky"``); ``solver="auto"`` (the default) is ``"cg"`` below 64
    factors, and from 128 on (from 64 on for a side whose rows are long, see
    :func:`_dual_pays`) solves rows with few interactions exactly through their
    ``L x L`` dual system and the others by preconditioned CG (:func:`_solve_dual`),
    ``cg_steps - 1`` steps of it (at least one; ``_PRECONDITIONED_STEPS_SAVED``). Rows without
    interactions get zero factors.

    Threads: blocks of rows are solved by ``num_threads`` worker threads (``0``: one per
    core), each making many moderate BLAS calls, for which threaded BLAS only gets in the
    way (3-9x slower ``fit`` with OpenBLAS's default of one thread per core). So ``fit``
    runs with single-threaded BLAS: it sets every BLAS library threadpoolctl sees to one
    thread when it starts and restores the previous thread counts when it returns or
    raises. The setting is process-wide: while any alsrec call that does this is running
    (training here, batch scoring, batch fold-in), BLAS calls of the process's *other*
    threads run single-threaded too; overlapping alsrec calls share the setting and the
    last to finish restores it. ``ALSREC_BLAS_THREADS=keep`` in the environment (read at
    each call) opts out: BLAS is then left alone, and ``fit`` runs ``num_threads``
    workers only next to single-threaded BLAS, else one worker on top of BLAS's threads.
    Without threadpoolctl (installed with implicit, not required by alsrec) the same
    happens. The result does not depend on the number of threads or on the BLAS setting
    beyond float rounding (bitwise equal for the same BLAS thread count).

    Memory: besides the two factor matrices, the padded blocks of both sides (8 bytes per
    interaction and side, plus a little padding), the transpose of the matrix while
    its blocks are built, and one block's gathered factors per worker thread (4 MiB; a
    block of one long row holds up to 16,384 interactions, 16,384 x ``factors`` x 4
    bytes), kept for the whole fit; where ``solver="auto"`` uses :func:`_solve_dual` also a
    copy of the fixed side's factors (below 128 factors only where that copy is no larger
    than the side's blocks).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from alsrec import ALSParams
    >>> from alsrec.backends import NumpyBackend
    >>> conf = sp.csr_matrix(np.array([[2, 0, 2], [0, 2, 0]], dtype=np.float32))
    >>> params = ALSParams(factors=4, regularization=0.1, random_state=0)
    >>> users, items = NumpyBackend().fit(conf, params)
    >>> users.shape, items.shape, users.dtype
    ((2, 4), (3, 4), dtype('float32'))
    """

    @property
    def name(self) -> str:
        return "numpy"

    @property
    def deterministic(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "NumpyBackend()"

    def fit(
        self,
        confidence: sp.csr_matrix,
        params: ALSParams,
        *,
        callback: ProgressCallback | None = None,
    ) -> tuple[FactorMatrix, FactorMatrix]:
        """Train on a confidence matrix; see :class:`~alsrec.backends.Backend`."""
        matrix = confidence.tocsr()
        if matrix.nnz and not np.all(np.isfinite(matrix.data)):
            raise DataError("The confidence matrix contains NaN or inf values.")
        n_users, n_items = matrix.shape
        rng = np.random.default_rng(params.random_state)
        # Each has one extra all-zero row at the end: the target of padded block slots.
        users = _init_factors(rng, n_users, params.factors)
        items = _init_factors(rng, n_items, params.factors)
        exact = params.solver == "cholesky"
        dual = params.solver == "auto" and params.factors >= _DUAL_LONG_FACTORS
        cap = _CHOLESKY_BLOCK_ROWS if exact else None
        # The transpose lives only while its blocks are built (peak memory).
        transposed = matrix.T.tocsr()
        items_empty = np.diff(transposed.indptr) == 0
        entries = _block_entries(params.factors)
        # The dual solver solves rows up to _dual_width exactly: keep them apart.
        splits = (_dual_width(params.factors),) if dual else ()
        item_blocks = _blocks(transposed, cap, entries, splits)
        del transposed
        user_blocks = _blocks(matrix, cap, entries, splits)
        # Rows with no interactions solve (YᵀY + λI) x = 0, i.e. x = 0.
        users[:n_users][np.diff(matrix.indptr) == 0] = 0
        items[:n_items][items_empty] = 0
        # num_threads workers next to single-threaded BLAS (scoped here unless opted out;
        # see alsrec._threads), else one worker on top of BLAS's own threads.
        threads = worker_count(params.num_threads)
        with contextlib.ExitStack() as stack:
            stack.enter_context(single_threaded_blas())
            # An overflow is reported once, after training, naming its cause (diverged);
            # numpy's per-operation warnings would come first, from every thread.
            stack.enter_context(np.errstate(over="ignore", invalid="ignore", divide="ignore"))
            pool = (
                stack.enter_context(
                    ThreadPoolExecutor(threads, "alsrec-als", initializer=_quiet_overflow)
                )
                if threads > 1
                else None
            )
            # One float (the constant-lambda fast path) or one penalty per row and side.
            user_reg, item_reg = side_penalties(matrix, params)
            # The dual solver preconditions with one shared YᵀY + λI: per-row penalties
            # (regularization_exponent > 0) train with plain CG instead.
            dual = dual and not isinstance(user_reg, np.ndarray)
            # Each side on its own: from _DUAL_MIN_FACTORS always, below only on long rows.
            large = params.factors >= _DUAL_MIN_FACTORS
            user_dual = dual and (large or _dual_pays(user_blocks, n_items, params.factors))
            item_dual = dual and (large or _dual_pays(item_blocks, n_users, params.factors))
            steps = params.cg_steps
            work = Workspace()
            for iteration in range(1, params.iterations + 1):
                if exact:
                    _solve_exact(users, items, user_blocks, user_reg, pool)
                    _solve_exact(items, users, item_blocks, item_reg, pool)
                else:
                    for target, fixed, blocks, reg, side_dual in (
                        (users, items, user_blocks, user_reg, user_dual),
                        (items, users, item_blocks, item_reg, item_dual),
                    ):
                        if side_dual:
                            _solve_dual(target, fixed, blocks, float(reg), steps, pool, work)
                        else:
                            _solve_cg(target, fixed, blocks, reg, steps, pool, work)
                if callback is not None:
                    callback(iteration, users[:n_users], items[:n_items])
        if not (np.isfinite(users).all() and np.isfinite(items).all()):
            top = float(matrix.data.max()) if matrix.nnz else 1.0
            penalty = max(float(np.max(user_reg)), float(np.max(item_reg)))
            raise diverged(self.name, top, penalty, params.regularization_exponent)
        return users[:n_users], items[:n_items]
