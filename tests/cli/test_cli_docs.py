"""The command-line guide and the README against the real parser and the real messages.

The guide's command table, the README's command list and every option of every command are
checked against :func:`alsrec.cli.build_parser`; the error examples in the guide are run
and their messages compared with what the code prints.
"""

from __future__ import annotations

import argparse
import csv
import re
import shlex
from pathlib import Path

import pytest
from cli_runner import run

from alsrec.cli import build_parser
from alsrec.cli.options import Parents
from alsrec.data import synthetic

REPO = Path(__file__).resolve().parents[2]
GUIDE = (REPO / "docs" / "guides" / "cli.md").read_text(encoding="utf-8")
README = (REPO / "README.md").read_text(encoding="utf-8")


def commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def options_of(parser: argparse.ArgumentParser) -> set[tuple[str, ...]]:
    """Each optional argument as the tuple of its spellings (``("-o", "--output")``)."""
    return {
        tuple(action.option_strings)
        for action in parser._actions
        if action.option_strings and "--help" not in action.option_strings
    }


def documented(option: tuple[str, ...], text: str) -> bool:
    """Whether the text names one of the option's spellings in code (`--flag`, examples)."""
    code = " ".join(re.findall(r"```\w*\n(.*?)```", text, re.S))
    code += " " + " ".join(re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S)))
    return any(re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", code) for o in option)


def section(name: str) -> str:
    """The guide's text under ``## name`` (up to the next ``## ``)."""
    match = re.search(rf"^## {re.escape(name)}\n(.*?)(?=^## |\Z)", GUIDE, re.M | re.S)
    assert match, f"the guide has no section '## {name}'"
    return match.group(1)


def test_the_guide_table_lists_every_command() -> None:
    table = set(re.findall(r"^\| \[`alsrec ([\w-]+)`\]\(#[\w-]+\)", GUIDE, re.M))
    assert table == set(commands())


def test_the_readme_lists_every_command() -> None:
    bullet = next(line for line in README.split("\n- ") if line.startswith("**Command line**"))
    listed = {name.removeprefix("alsrec ") for name in re.findall(r"`([^`]+)`", bullet)}
    assert set(commands()) <= listed, set(commands()) - listed
    assert listed - set(commands()) <= set(), listed - set(commands())


def _section_of(command: str) -> str:
    if command.startswith("similar-"):
        return section("similar-items and similar-users")
    return section(command)


def test_every_option_is_documented_and_every_documented_option_exists() -> None:
    parents = Parents.build()
    shared = options_of(parents.common) | options_of(parents.source) | options_of(parents.model)
    everywhere: set[str] = set()
    for name, parser in commands().items():
        options = options_of(parser)
        everywhere |= {spelling for option in options for spelling in option}
        text = _section_of(name)
        missing = [o for o in options - shared if not documented(o, text)]
        assert not missing, f"'## {name}' does not document {sorted(missing)}"
        undocumented = [o for o in options & shared if not documented(o, GUIDE)]
        assert not undocumented, f"the guide does not document {undocumented} ({name})"
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", GUIDE))
    assert named <= everywhere | {"--help", "--version", "--debug"}, (
        f"the guide names options that do not exist: {named - everywhere}"
    )


def _examples() -> list[tuple[str, str]]:
    block = section("Exit codes and errors")
    lines = [line for line in block.splitlines() if line.startswith(("$ alsrec ", "alsrec: "))]
    pairs = list(zip(lines[::2], lines[1::2], strict=True))
    assert pairs and all(c.startswith("$ ") and e.startswith("alsrec: ") for c, e in pairs)
    return pairs


@pytest.fixture(scope="module")
def docs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    data = synthetic(n_users=40, n_items=20, n_clusters=2, mean_interactions=6, random_state=1)
    with (root / "events.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "plays", "ts"])
        writer.writerows(
            zip(data.user_ids, data.item_ids, data.weights, data.timestamps, strict=True)
        )
    (root / "blank.csv").write_text("user_id,item_id\nU1,I1\n\nU2,I1\n")
    (root / "notmodel").mkdir()
    proc = run(
        "train", "events.csv", "--user-col", "user_id", "--item-col", "item_id",
        "--factors", "2", "--iterations", "1", "-o", "model", cwd=root,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.mark.parametrize(("command", "message"), _examples())
def test_documented_error_messages_are_the_real_ones(
    docs_root: Path, command: str, message: str
) -> None:
    proc = run(*shlex.split(command)[2:], cwd=docs_root)
    assert proc.returncode != 0
    assert proc.stderr.strip() == message.strip()
