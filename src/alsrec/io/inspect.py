"""Health reports of a fitted model or a saved artifact: :func:`inspect_model`,
:func:`inspect_artifact`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from alsrec._scoring import row_norms
from alsrec.exceptions import (
    ArtifactError,
    ConfigError,
)
from alsrec.io._files import as_path
from alsrec.params import ALSParams

if TYPE_CHECKING:
    from collections.abc import Mapping

    from alsrec.types import ExternalId, FactorMatrix, IdArray
from alsrec.io.arrays import RawArtifact, open_artifact
from alsrec.io.format import (
    FORMAT_VERSION,
    MANIFEST,
    MAX_LISTED,
    PathArg,
    check_manifest_digest,
    format_ranges,
    manifest_auto_params,
    manifest_provenance,
    python_id,
)
from alsrec.model.fitted import FittedModel, default_ranges, model_of

__all__ = ["AxisReport", "InspectionReport", "inspect_artifact", "inspect_model"]


@dataclass(frozen=True)
class AxisReport:
    """Health of one side (users or items) of a model; part of :class:`InspectionReport`.

    Attributes
    ----------
    factor_rows : int
        Rows of the factor matrix.
    mapped_ids : int
        IDs that name a factor row (at most ``factor_rows`` in a loadable model).
    id_kind : {"int", "str"}
        The type of the IDs.
    unmapped_rows : int
        Factor rows without an ID; they are never returned.
    unmapped_ranges : tuple of (int, int)
        Inclusive index ranges of those rows, numbered as in the model's source: the
        pickle's indices for a model imported with :func:`import_legacy_pickle`, the factor
        rows otherwise.
    duplicate_ids : tuple
        Up to five IDs that occur more than once (only a damaged artifact has any).
    duplicate_count : int
        How many ID positions repeat an earlier ID.
    nan_rows : int
        Factor rows holding NaN or infinity (only a damaged artifact has any).
    zero_rows : int
        Factor rows of norm 0 in ``float32``: all zero, or so small that the norm rounds to
        0 (such a user or item scores 0 against everything).
    """

    factor_rows: int
    mapped_ids: int
    id_kind: str
    unmapped_rows: int
    unmapped_ranges: tuple[tuple[int, int], ...]
    duplicate_ids: tuple[ExternalId, ...]
    duplicate_count: int
    nan_rows: int
    zero_rows: int

    @property
    def ids_without_rows(self) -> int:
        """IDs beyond the last factor row (only a damaged artifact has any)."""
        return max(0, self.mapped_ids - self.factor_rows)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-compatible data."""
        return {
            "factor_rows": self.factor_rows,
            "mapped_ids": self.mapped_ids,
            "id_kind": self.id_kind,
            "unmapped_rows": self.unmapped_rows,
            "unmapped_ranges": [list(r) for r in self.unmapped_ranges],
            "ids_without_rows": self.ids_without_rows,
            "duplicate_ids": list(self.duplicate_ids),
            "duplicate_count": self.duplicate_count,
            "nan_rows": self.nan_rows,
            "zero_rows": self.zero_rows,
        }


@dataclass(frozen=True)
class InspectionReport:
    """What :meth:`Recommender.inspect <alsrec.Recommender.inspect>` and ``alsrec inspect`` say.

    ``str(report)`` is a short text for people; :meth:`to_dict` gives the same facts as
    JSON-compatible data for machines.

    Attributes
    ----------
    users, items : AxisReport
        Factor rows against mapped IDs, unmapped ranges, duplicate IDs, NaN and zero rows.
    factors : int
        Length of each factor vector.
    seen_interactions : int or None
        Stored training interactions, ``None`` when the model has no interaction data
        (then nothing is excluded as seen and the fallback ranks items by factor norm).
    seen_coverage : float or None
        Share of mapped users with at least one seen item.
    format_version : int
        The artifact format the model was loaded from (or would be saved in).
    backend : str
        The backend that trained the factors.
    params : ALSParams
        The recorded hyperparameters.
    origin : str or None
        Where the model came from when it was imported (e.g. a legacy pickle).
    auto_params : tuple of str
        The hyperparameters whose values in ``params`` were resolved from ``"auto"`` at
        fit (e.g. ``("regularization",)``).
    created, alsrec_version : str or None
        When and by which alsrec version the artifact was written (``None`` for a model
        built in memory and not saved yet).
    training : dict or None
        The training data's provenance: source, rows read and dropped, duplicates merged,
        sizes, time range when known.
    metadata : dict or None
        The metadata saved with ``save(path, metadata=...)``.

    Examples
    --------
    >>> import numpy as np
    >>> from alsrec import Recommender
    >>> rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    >>> report = rec.inspect()
    >>> report.ok, report.items.factor_rows, report.items.mapped_ids
    (True, 2, 2)
    >>> report.to_dict()["users"]["unmapped_ranges"]
    []
    """

    users: AxisReport
    items: AxisReport
    factors: int
    seen_interactions: int | None
    seen_coverage: float | None
    format_version: int
    backend: str
    params: ALSParams
    origin: str | None = None
    auto_params: tuple[str, ...] = ()
    created: str | None = None
    alsrec_version: str | None = None
    training: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None

    @property
    def problems(self) -> tuple[str, ...]:
        """One sentence per problem found; empty when the model is healthy."""
        out: list[str] = []
        for name, axis in (("user", self.users), ("item", self.items)):
            if axis.unmapped_rows:
                out.append(
                    f"{axis.unmapped_rows} {name} factor rows have no ID "
                    f"(indices {format_ranges(axis.unmapped_ranges)}); they are never returned"
                )
            if axis.ids_without_rows:
                out.append(f"{axis.ids_without_rows} {name} IDs have no factor row")
            if axis.duplicate_count:
                shown = ", ".join(map(repr, axis.duplicate_ids))
                out.append(f"{axis.duplicate_count} duplicate {name} IDs (e.g. {shown})")
            if axis.nan_rows:
                out.append(f"{axis.nan_rows} {name} factor rows contain NaN or infinity")
            if axis.factor_rows and axis.zero_rows == axis.factor_rows:
                out.append(
                    f"every {name} factor row is zero (or so small that its norm rounds to 0): "
                    "the model cannot rank; retrain with a smaller regularization"
                )
        return tuple(out)

    @property
    def ok(self) -> bool:
        """``True`` when every factor row has exactly one ID and all factors are finite."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-compatible data (``json.dumps`` accepts it)."""
        return {
            "format_version": self.format_version,
            "backend": self.backend,
            "params": self.params.to_dict(),
            "factors": self.factors,
            "users": self.users.to_dict(),
            "items": self.items.to_dict(),
            "seen_interactions": self.seen_interactions,
            "seen_coverage": self.seen_coverage,
            "origin": self.origin,
            "auto_params": list(self.auto_params),
            "created": self.created,
            "alsrec_version": self.alsrec_version,
            "training": self.training,
            "metadata": self.metadata,
            "ok": self.ok,
            "problems": list(self.problems),
        }

    def __str__(self) -> str:
        p = self.params
        reg = _value(p.regularization, "regularization" in self.auto_params)
        lines = [
            f"alsrec model (format version {self.format_version}), backend {self.backend!r}, "
            f"{self.factors} factors",
            f"  params: regularization {reg}, "
            f"alpha {_value(p.alpha, 'alpha' in self.auto_params)}, "
            f"iterations {p.iterations}, solver {p.solver}",
        ]
        if p.scaled_regularization:
            ref = _value(p.regularization_reference, "regularization_reference" in self.auto_params)
            lines.append(
                f"  frequency-scaled regularization: exponent {p.regularization_exponent:g}, "
                f"scale {p.regularization_scale}, reference {ref}"
            )
        if self.origin:
            lines.append(f"  origin: {self.origin}")
        lines.extend(_provenance_lines(self))
        for name, axis in (("users", self.users), ("items", self.items)):
            line = (
                f"  {name}: {axis.factor_rows} factor rows, {axis.mapped_ids} mapped "
                f"{axis.id_kind} IDs"
            )
            if axis.unmapped_rows:
                line += f"; unmapped rows: {format_ranges(axis.unmapped_ranges)}"
                here = default_ranges(axis.factor_rows, axis.mapped_ids)
                if axis.unmapped_ranges != here:
                    line += f" (source indices; rows {format_ranges(here)} in this model)"
            line += f"; NaN rows {axis.nan_rows}, zero rows {axis.zero_rows}"
            if axis.duplicate_count:
                line += f"; {axis.duplicate_count} duplicate IDs"
            lines.append(line)
        if self.seen_interactions is None:
            lines.append("  seen items: none stored (nothing is excluded as seen)")
        else:
            coverage = 100.0 * (self.seen_coverage or 0.0)
            lines.append(
                f"  seen items: {self.seen_interactions} interactions; "
                f"{coverage:.1f}% of mapped users have seen items"
            )
        problems = self.problems
        lines.append("  status: OK" if not problems else "  status: PROBLEMS")
        lines.extend(f"    - {problem}" for problem in problems)
        return "\n".join(lines)


def _provenance_lines(report: InspectionReport) -> list[str]:
    """The created/version, training-data and metadata lines of the text report."""
    lines = []
    if report.created or report.alsrec_version:
        lines.append(f"  created: {report.created or '?'} by alsrec {report.alsrec_version or '?'}")
    t = report.training
    if t:
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(t.get("dropped", {}).items()))
        line = (
            f"  training data: {t.get('source')}, {t.get('rows_read')} rows read, "
            f"{t.get('interactions')} interactions; dropped: {dropped or 'none'}"
        )
        if t.get("time_range"):
            line += f"; time range {t['time_range'][0]} .. {t['time_range'][1]}"
        lines.append(line)
    if report.metadata:
        lines.append(f"  metadata: {json.dumps(report.metadata, sort_keys=True)}")
    return lines


def _axis_report(
    factors: FactorMatrix, ids: IdArray, ranges: tuple[tuple[int, int], ...]
) -> AxisReport:
    rows = int(factors.shape[0])
    finite = np.isfinite(factors).all(axis=1)
    zero = finite & ~(row_norms(factors) > 0)  # as the scorer sees them (float32)
    duplicates: tuple[ExternalId, ...] = ()
    dup_count = 0
    if ids.size > 1:
        ordered = np.sort(ids, kind="stable")
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        dup_count = int(repeated.size)
        duplicates = tuple(python_id(v) for v in np.unique(repeated)[:MAX_LISTED])
    return AxisReport(
        factor_rows=rows,
        mapped_ids=int(ids.size),
        id_kind="str" if ids.dtype.kind == "U" else "int",
        unmapped_rows=max(0, rows - int(ids.size)),
        unmapped_ranges=ranges,
        duplicate_ids=duplicates,
        duplicate_count=dup_count,
        nan_rows=int(rows - np.count_nonzero(finite)),
        zero_rows=int(np.count_nonzero(zero)),
    )


def _value(value: float | str, auto: bool) -> str:
    """A hyperparameter for people: ``auto``, ``0.01``, or ``41.9 (auto)`` when resolved."""
    if isinstance(value, str):
        return value
    return f"{value:g}" + (" (auto)" * auto)


def _origin_text(origin: Mapping[str, Any] | None) -> str | None:
    if not origin:
        return None
    if origin.get("kind") == "legacy-pickle":
        return f"legacy pickle {origin.get('file')!r} ({origin.get('model_class')})"
    return str(origin.get("kind"))


def _seen_numbers(indptr: npt.NDArray[np.integer] | None, n_users: int) -> tuple[Any, Any]:
    if indptr is None:
        return None, None
    nnz = int(indptr[-1]) if indptr.size else 0
    with_seen = int(np.count_nonzero(np.diff(indptr))) if indptr.size else 0
    return nnz, (with_seen / n_users if n_users else 0.0)


def inspect_model(model: FittedModel) -> InspectionReport:
    """Report the health of a fitted model (also :meth:`Recommender.inspect`).

    ``model`` is a :class:`~alsrec.model.FittedModel` (or, for compatibility, a fitted
    :class:`~alsrec.Recommender`).

    Raises
    ------
    NotFittedError
        If the model has no factors yet.

    Examples
    --------
    >>> import numpy as np
    >>> from alsrec import AlsrecWarning, Recommender
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", AlsrecWarning)
    ...     rec = Recommender.from_factors(np.ones((2, 2)), np.ones((4, 2)), ["u", "v"], ["a", "b"])
    >>> report = inspect_model(rec.model_)
    >>> report.items.unmapped_ranges, report.ok
    (((2, 3),), False)
    """
    state = model_of(model)
    seen = state.seen
    interactions, coverage = _seen_numbers(
        None if seen is None else seen.indptr[: len(state.users) + 1], len(state.users)
    )
    return InspectionReport(
        users=_axis_report(state.user_factors, state.users.ids, state.user_ranges),
        items=_axis_report(state.item_factors, state.items.ids, state.item_ranges),
        factors=int(state.user_factors.shape[1]),
        seen_interactions=interactions,
        seen_coverage=coverage,
        format_version=state.provenance.format_version or FORMAT_VERSION,
        backend=state.backend,
        params=state.params,
        origin=_origin_text(state.provenance.origin),
        auto_params=state.provenance.auto_params,
        created=state.provenance.created,
        alsrec_version=state.provenance.alsrec_version,
        training=state.provenance.training,
        metadata=state.provenance.metadata,
    )


def inspect_artifact(path: PathArg, *, verify: bool = True) -> InspectionReport:
    """Report the health of a saved artifact without building a model from it.

    Damage to the files themselves (missing or truncated files, checksum mismatch, unknown
    format) raises :class:`~alsrec.ArtifactError`, as in :func:`load`. Problems of the model
    inside an intact artifact (duplicate IDs, NaN factor rows, unmapped rows), which
    :func:`load` refuses or warns about, are reported instead.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from alsrec import Recommender
    >>> rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     report = inspect_artifact(rec.save(Path(tmp) / "model"))
    >>> report.ok, report.format_version
    (True, 1)
    """
    raw = open_artifact(as_path(path), mmap=True, verify=verify)
    try:
        report = _report_from(raw)
    except BaseException:
        raw.finish()
        raise
    raw.finish()
    if verify:  # as load does: an edited manifest is damage, not a healthy model
        check_manifest_digest(raw.path / MANIFEST, raw.manifest)
    return report


def _report_from(raw: RawArtifact) -> InspectionReport:
    m = raw.manifest
    arrays = raw.arrays
    user_ids = cast("IdArray", arrays["user_ids"])
    item_ids = cast("IdArray", arrays["item_ids"])
    interactions, coverage = _seen_numbers(arrays.get("seen_indptr"), int(user_ids.size))
    try:
        params = ALSParams.from_dict(m["params"])
    except (ConfigError, TypeError) as exc:
        raise ArtifactError(f"{raw.path / MANIFEST}: invalid 'params': {exc}") from exc
    facts = manifest_provenance(raw.path, m)
    return InspectionReport(
        users=_axis_report(cast("FactorMatrix", arrays["user_factors"]), user_ids, raw.user_ranges),
        items=_axis_report(cast("FactorMatrix", arrays["item_factors"]), item_ids, raw.item_ranges),
        factors=int(arrays["user_factors"].shape[1]),
        seen_interactions=interactions,
        seen_coverage=coverage,
        format_version=int(m["format_version"]),
        backend=str(m["backend"]),
        params=params,
        origin=_origin_text(facts["origin"]),
        auto_params=manifest_auto_params(raw.path, m),
        created=_text(m.get("created")),
        alsrec_version=_text(m.get("alsrec_version")),
        training=facts["training"],
        metadata=facts["metadata"],
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
