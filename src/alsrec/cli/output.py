"""How commands print results: a table for people, JSON or CSV for programs."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from alsrec.types import ExternalId

__all__ = ["Answer", "Writer", "score", "similar_output"]


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


def similar_output(
    fmt: str, out: TextIO, axis: str, query: ExternalId, results: list[tuple[ExternalId, float]]
) -> None:
    """Print the users or items most similar to ``query`` in format ``fmt``."""
    if fmt == "json":
        entry = {
            axis: query,
            "similar": [{axis: rid, "score": score(s)} for rid, s in results],
        }
        out.write(json.dumps(entry, indent=2) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([axis, "rank", f"similar_{axis}", "score"])
        for rank, (rid, s) in enumerate(results, 1):
            writer.writerow([query, rank, rid, f"{s:.6g}"])
    else:
        out.write(f"{axis.capitalize()}s most similar to {query!r} (cosine of factors):\n")
        out.write(f"{'rank':>4}  {axis:<12} {'cosine':>8}\n")
        for rank, (rid, s) in enumerate(results, 1):
            out.write(f"{rank:>4}  {rid!s:<12} {s:>8.4f}\n")
