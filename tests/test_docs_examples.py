"""Every ``python`` code block in the README and the docs runs, so the docs cannot drift.

The blocks of one page run in order in one namespace, as a reader would type them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


def test_the_docs_have_examples() -> None:
    assert sum(len(_blocks(page)) for page in PAGES) >= 8


@pytest.mark.parametrize(
    "page", [p for p in PAGES if _blocks(p)], ids=lambda p: str(p.relative_to(ROOT))
)
def test_page_examples_run(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = page.read_text(encoding="utf-8")
    if "<!-- requires: pyspark -->" in text:
        from alsrec.backends._spark import spark_availability

        ok, reason = spark_availability()
        if not ok:
            pytest.skip(f"{page.name} needs Spark, which cannot run here: {reason}")
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for number, block in enumerate(_blocks(page), 1):
        code = compile(block, f"{page.name} block {number}", "exec")
        exec(code, namespace)
    capsys.readouterr()


@pytest.mark.parametrize("name", ["README.md", "docs/index.md"])
def test_the_first_example_prints_what_it_says(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The first example a newcomer reads ends with a "# Prints:" comment of its output.
    block = _blocks(ROOT / name)[0]
    said = block.split("# Prints:\n", 1)[1]
    expected = [line.removeprefix("# ") for line in said.splitlines()]
    capsys.readouterr()
    exec(compile(block, f"{name} block 1", "exec"), {"__name__": "__docs__"})
    assert capsys.readouterr().out.splitlines() == expected
