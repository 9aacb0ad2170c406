"""How commands print results: a table for people, JSON or CSV for programs."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from alsrec import DataError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from alsrec.evaluation import EvaluationReport
    from alsrec.types import ExternalId

__all__ = [
    "Answer",
    "Report",
    "SimilarWriter",
    "Writer",
    "atomic_files",
    "score",
    "silence_stdout",
    "verdict",
    "write_json",
]

METRIC_LABELS = {"ndcg": "NDCG", "map": "MAP", "mrr": "MRR", "auc": "AUC"}


def verdict(report: EvaluationReport, metric: str = "ndcg") -> dict[str, object]:
    """Whether the model beats the popularity baseline on ``metric``, in one plain sentence.

    ``beats_popularity`` is ``None`` when there is no baseline or the values are NaN;
    ``clear`` says whether the bootstrap intervals (when computed) do not overlap.
    """
    label = f"{METRIC_LABELS.get(metric, metric.replace('_', ' '))}@{report.k}"
    model = report.metrics[metric]
    base = None if report.baseline is None else report.baseline[metric]
    out: dict[str, object] = {"metric": metric, "model": score(model.value)}
    if base is None or math.isnan(model.value) or math.isnan(base.value):
        return {**out, "popularity": None, "beats_popularity": None, "clear": None, "text": ""}
    beats = model.value > base.value
    clear = None
    if None not in (model.low, model.high, base.low, base.high):
        assert model.low is not None and model.high is not None
        assert base.low is not None and base.high is not None
        clear = model.low > base.high if beats else model.high < base.low
    values = f"{model.value:.4f} vs {base.value:.4f}"
    if beats:
        text = f"The model beats the popularity baseline on {label} ({values})"
        if base.value > 0:
            text += f", {model.value / base.value:.2f}x"
        text += "."
    else:
        text = (
            f"The model LOSES to the popularity baseline on {label} ({values}): recommending "
            "the most popular items would serve these users at least as well. Try other "
            "hyperparameters (alsrec tune), more data per user, or a different split."
        )
    if clear is False:
        text += " The 95% intervals overlap: the difference may be noise."
    return {
        **out,
        "popularity": score(base.value),
        "beats_popularity": beats,
        "clear": clear,
        "text": text,
    }


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _cannot_write(paths: Sequence[Path], exc: OSError) -> DataError:
    """An error writing a command's output, naming the paths the user gave (not a temporary
    file, and also when the system names no file, as for a full disk)."""
    names = " and ".join(repr(str(p)) for p in paths)
    why = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    return DataError(f"Cannot write {names}: {why}.")


@contextlib.contextmanager
def atomic_files(paths: Sequence[Path]) -> Iterator[list[TextIO]]:
    """Text files written next to their destinations, moved into place only on success.

    The command line's one file writer: if anything fails (or is interrupted) before the
    end, the temporary files are removed and no destination is touched, so a reader never
    sees a half-written file. An OS error writing them (a full disk, a missing permission)
    is raised as a ``DataError`` naming the destinations.
    """
    handles: list[TextIO] = []
    temps: list[Path] = []
    current: Sequence[Path] = paths  # what is being written, for the error message
    in_body = False
    try:
        for path in paths:
            current = [path]
            fd, name = tempfile.mkstemp(
                prefix=f".{path.name}.", suffix=".tmp", dir=path.absolute().parent
            )
            temps.append(Path(name))
            handles.append(os.fdopen(fd, "w", encoding="utf-8", newline=""))
        current, in_body = paths, True
        yield handles
        in_body = False
        for handle, path in zip(handles, paths, strict=True):
            current = [path]
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        mode = 0o666 & ~_umask()
        for tmp, path in zip(temps, paths, strict=True):
            current = [path]
            tmp.chmod(mode)
            tmp.replace(path)
    except BaseException as exc:
        for handle in handles:
            with contextlib.suppress(OSError):
                handle.close()
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        # In the caller's block, only errors on the temporary files are the writer's.
        if isinstance(exc, OSError) and (
            not in_body or exc.filename is None or str(exc.filename) in map(str, temps)
        ):
            raise _cannot_write(current, exc) from exc
        raise


def silence_stdout(stream: TextIO) -> None:
    """After a broken pipe on standard output, point it at the null device, so that later
    writes and the interpreter's final flush do not fail again."""
    if stream is sys.stdout:
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class Report:
    """The report of a command whose work is a file (``train``, ``tune``, ``split``).

    Written line by line to ``out``; when the reader goes away (``alsrec train ... |
    head -1``), the rest of the report is dropped quietly and the work goes on: the report
    is incidental, the saved file is not.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.broken = False

    def write(self, text: str) -> int:
        """Write ``text`` (flushed at each line end), unless the reader went away."""
        if not self.broken:
            try:
                self.out.write(text)
                if text.endswith("\n"):
                    self.out.flush()
            except BrokenPipeError:
                self._stop()
        return len(text)

    def flush(self) -> None:
        """Flush ``out``, unless the reader went away."""
        if not self.broken:
            try:
                self.out.flush()
            except BrokenPipeError:
                self._stop()

    def _stop(self) -> None:
        self.broken = True
        silence_stdout(self.out)


def write_json(path: Path, data: object) -> None:
    """Write ``data`` as indented JSON to ``path``, atomically."""
    with atomic_files([path]) as (handle,):
        handle.write(json.dumps(data, indent=2) + "\n")


def score(value: float) -> float | None:
    """A score for JSON: ``None`` for NaN."""
    return None if math.isnan(value) else float(value)


@dataclass(frozen=True)
class Answer:
    """One query's results and where they came from (``model``, ``fallback``, ...)."""

    query: ExternalId
    source: str
    results: list[tuple[ExternalId, float]]


class Writer:
    """Streams answers as a table, a JSON array, or CSV rows."""

    def __init__(self, fmt: str, out: TextIO, query_name: str, result_name: str) -> None:
        self.fmt, self.out = fmt, out
        self.query_name, self.result_name = query_name, result_name
        self.count = 0
        self.csv = csv.writer(out, lineterminator="\n")

    def start(self) -> None:
        if self.fmt == "json":
            self.out.write("[")
        elif self.fmt == "csv":
            self.csv.writerow([self.query_name, "rank", self.result_name, "score", "source"])
        else:
            self.out.write(
                f"{self.query_name:<12} {'rank':>4}  {self.result_name:<12} {'score':>10}  source\n"
            )

    def write(self, answer: Answer) -> None:
        if self.fmt == "json":
            entry = {
                self.query_name: answer.query,
                "source": answer.source,
                "items": [{self.result_name: rid, "score": score(s)} for rid, s in answer.results],
            }
            self.out.write(("," if self.count else "") + "\n  " + json.dumps(entry))
        elif self.fmt == "csv":
            for rank, (rid, s) in enumerate(answer.results, 1):
                self.csv.writerow([answer.query, rank, rid, f"{s:.6g}", answer.source])
        else:
            for rank, (rid, s) in enumerate(answer.results, 1):
                self.out.write(
                    f"{answer.query!s:<12} {rank:>4}  {rid!s:<12} {s:>10.4f}  {answer.source}\n"
                )
            if not answer.results:
                self.out.write(f"{answer.query!s:<12} {'-':>4}  (no result)\n")
        self.count += 1

    def finish(self) -> None:
        if self.fmt == "json":
            self.out.write("\n]\n" if self.count else "]\n")


class SimilarWriter:
    """Streams nearest neighbours of many queries as a table, a JSON array, or CSV rows."""

    def __init__(self, fmt: str, out: TextIO, axis: str) -> None:
        self.fmt, self.out, self.axis = fmt, out, axis
        self.count = 0
        self.csv = csv.writer(out, lineterminator="\n")

    def start(self) -> None:
        if self.fmt == "json":
            self.out.write("[")
        elif self.fmt == "csv":
            self.csv.writerow([self.axis, "rank", f"similar_{self.axis}", "score"])

    def write(self, query: ExternalId, results: list[tuple[ExternalId, float]]) -> None:
        axis = self.axis
        if self.fmt == "json":
            entry = {axis: query, "similar": [{axis: rid, "score": score(s)} for rid, s in results]}
            self.out.write(("," if self.count else "") + "\n  " + json.dumps(entry))
        elif self.fmt == "csv":
            for rank, (rid, s) in enumerate(results, 1):
                self.csv.writerow([query, rank, rid, f"{s:.6g}"])
        else:
            if self.count:
                self.out.write("\n")
            self.out.write(f"{axis.capitalize()}s most similar to {query!r} (cosine of factors):\n")
            self.out.write(f"{'rank':>4}  {axis:<12} {'cosine':>8}\n")
            for rank, (rid, s) in enumerate(results, 1):
                self.out.write(f"{rank:>4}  {rid!s:<12} {s:>8.4f}\n")
            if not results:
                self.out.write(f"{'-':>4}  (no result)\n")
        self.count += 1

    def finish(self) -> None:
        if self.fmt == "json":
            self.out.write("\n]\n" if self.count else "]\n")
