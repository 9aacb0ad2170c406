"""The README renders on PyPI (absolute links), and the docs hook turns Sphinx roles into links."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS_URL = "https://alsrec.readthedocs.io/en/latest/"


def _hook() -> Any:
    pytest.importorskip("mkdocs", reason="the docs hook needs mkdocs: pip install -e '.[docs]'")
    path = ROOT / "docs" / "hooks" / "sphinx_roles.py"
    spec = importlib.util.spec_from_file_location("alsrec_docs_sphinx_roles", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_links_are_absolute() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'src="([^"]+)"', text)
    assert targets, "the README links to the documentation"
    relative = [t for t in targets if not t.startswith(("https://", "http://", "#"))]
    assert relative == [], f"relative links do not resolve on PyPI: {relative}"
    assert any(t.startswith(DOCS_URL) for t in targets)


def test_readme_keeps_the_two_setup_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/alsrec demo" in text
    assert (
        'python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && '
        ".venv/bin/python -m pytest" in text
    )


def test_hook_links_roles_to_documented_objects() -> None:
    hook = _hook()
    documented = {
        "alsrec.Recommender",
        "alsrec.Recommender.fit",
        "alsrec.UnknownIdError",
        "alsrec.evaluation.holdout_split",
        "alsrec.artifacts.save",
    }
    html = (
        '<h2 id="alsrec.Recommender.recommend" class="doc doc-heading">recommend</h2>'
        "<p>See :meth:<code>fit</code>, :class:<code>~alsrec.UnknownIdError</code> and "
        ":func:<code>alsrec.artifacts.save</code>; :class:<code>pathlib.Path</code> is "
        "not documented here. An example::</p>"
        '<h2 id="alsrec.evaluation" class="doc doc-heading">evaluation</h2>'
        "<p>Use :func:<code>holdout_split</code> or "
        ":meth:<code>the model &lt;alsrec.Recommender&gt;</code>.</p>"
    )
    out = hook._rewrite(html, documented.__contains__)
    assert ":meth:" not in out and ":class:" not in out and ":func:" not in out
    assert '<autoref identifier="alsrec.Recommender.fit" optional><code>fit</code>' in out
    assert '<autoref identifier="alsrec.UnknownIdError" optional><code>UnknownIdError</code>' in out
    assert '<autoref identifier="alsrec.artifacts.save" optional><code>alsrec.artifacts.save' in out
    assert "<code>pathlib.Path</code> is" in out and 'identifier="pathlib.Path"' not in out
    assert 'identifier="alsrec.evaluation.holdout_split"' in out
    assert '<autoref identifier="alsrec.Recommender" optional><code>the model</code>' in out
    assert "An example:</p>" in out


def test_hook_never_links_a_bare_word_to_a_guide_heading() -> None:
    hook = _hook()
    # "evaluate" is also the anchor of a heading in the command-line guide.
    out = hook._rewrite("<p>:func:<code>evaluate</code></p>", {"evaluate"}.__contains__)
    assert out == "<p><code>evaluate</code></p>"


def test_guarantees_name_tests_that_exist() -> None:
    """Every test file and test function the Guarantees page names is really there."""
    page = (ROOT / "docs" / "guarantees.md").read_text(encoding="utf-8")
    rows = [line for line in page.splitlines() if line.startswith("|") and "tests/" in line]
    assert rows, "the Guarantees page names no test"
    missing = []
    for row in rows:
        files = sorted(set(re.findall(r"\[(tests/[\w/]+\.py)\]", row)))
        assert files, f"a promise without a test file: {row[:80]}"
        sources = {f: (ROOT / f).read_text(encoding="utf-8") for f in files if (ROOT / f).is_file()}
        missing += [f for f in files if f not in sources]
        for name in re.findall(r"`(test_\w+)`", row):
            if not any(re.search(rf"^def {name}\(", s, re.M) for s in sources.values()):
                missing.append(name)
    assert missing == []


@pytest.mark.parametrize("guide", ["artifacts.md", "serving.md"])
def test_guides_warn_against_modifying_a_loaded_artifact_in_place(guide: str) -> None:
    """Copying files over a memory-mapped artifact can crash the process (SIGBUS) or change
    its answers: where loading and deploying are described, the guides say so."""
    text = " ".join((ROOT / "docs" / "guides" / guide).read_text(encoding="utf-8").split())
    assert "modify a loaded artifact's files in place" in text
    assert "SIGBUS" in text and "mmap=False" in text and "new directory" in text
