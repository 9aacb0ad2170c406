"""Draw the benchmark figure of the README from a results file of the suite.

Usage::

    ALSREC_BENCH_SIZE=medium ALSREC_BENCH_JSON=results.json pytest benchmarks/ --benchmark-only
    python benchmarks/scripts/plot.py results.json docs/img/benchmarks.png

It also prints the results as a Markdown table. Each bar is alsrec's speed relative to
the reference (reference time / alsrec time, or budget / alsrec for the memory and load
rows): right of 1 means alsrec is faster. The tick on each bar is the target; green bars
meet it. Needs matplotlib (``pip install
alsrec[bench]``), which alsrec itself never imports.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _relative(row: dict[str, Any]) -> tuple[float, float] | None:
    """``(achieved, target)`` as "times faster (or leaner) than the reference"."""
    values = row["values"]
    a = values.get("alsrec")
    r = values.get(row["reference"])
    if not a or not r:
        return None
    kind, target = row["kind"], row["target"]
    if kind == "speedup":
        return r / a, target
    if kind == "delta_us":  # p50 within implicit + target microseconds
        return r / a, r / (r + target * 1e-6)
    return r / a, 1.0 / target  # "time" and "budget": a <= target * r


def markdown(data: dict[str, Any]) -> str:
    """The results as a Markdown table (what benchmarks/README.md shows)."""
    lines = [
        "| benchmark | alsrec | reference | ratio | target | met | notes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in data["table"]:
        cells = [row[c] for c in ("benchmark", "alsrec", "reference", "ratio", "target")]
        cells.append(row["met"])
        cells.append(row["notes"].replace("|", "/"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(source: str, target: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    data = json.loads(Path(source).read_text(encoding="utf-8"))
    rows = [(row, _relative(row)) for row in data["rows"]]
    rows = [(row, rel) for row, rel in rows if rel is not None]
    labels = [f"{row['title']}\n(vs {row['reference']})" for row, _ in rows]
    achieved = [rel[0] for _, rel in rows]
    goals = [rel[1] for _, rel in rows]
    colors = ["#2e7d32" if row["met"] else "#c62828" for row, _ in rows]

    fig, ax = plt.subplots(figsize=(8.5, 0.55 * len(rows) + 1.6), dpi=90)
    ypos = list(range(len(rows)))[::-1]
    ax.barh(ypos, achieved, color=colors, height=0.6)
    ax.scatter(goals, ypos, marker="|", s=400, color="black", zorder=3, label="target")
    ax.axvline(1.0, color="grey", lw=0.8, ls="--")
    for y, value in zip(ypos, achieved, strict=True):
        ax.text(value, y, f" {value:.2f}x", va="center", fontsize=8)
    ax.set_yticks(ypos)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xscale("log")
    low, high = min(achieved + goals), max(achieved + goals)
    ax.set_xticks([t for t in (0.125, 0.25, 0.5, 1, 2, 4, 8) if low / 2 <= t <= high * 2])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_xlabel("alsrec relative to the reference (>1: faster / leaner)")
    machine = data["machine"]
    ax.set_title(
        f"alsrec benchmarks: {data['data']}, {machine['threads']} threads, "
        f"{machine['cores']} cores ({machine['cpu']})",
        fontsize=9,
    )
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=90)
    print(f"wrote {target} ({Path(target).stat().st_size // 1024} KiB)")
    print(markdown(data))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python benchmarks/scripts/plot.py RESULTS.json OUT.png")
    main(sys.argv[1], sys.argv[2])
