"""Errors in the command line's words: the keyword -> flag table is complete and applied."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cli_runner import run

import alsrec
from alsrec import ALSParams, Interactions
from alsrec.cli import build_parser
from alsrec.cli.messages import FLAGS, NO_FLAG, cli_words

if TYPE_CHECKING:
    import argparse

SRC = Path(alsrec.__file__).parent
PYTHON_KEYWORD = re.compile(r"(?<![\w.-])[a-z][a-z0-9_]*=(?:'|\"|<|\.\.\.|True|False|\d)")


def reader_keywords() -> set[str]:
    names: set[str] = set()
    for method in (Interactions.from_csv, Interactions.from_sql):
        names |= set(inspect.signature(method).parameters) - {"cls"}
    return names | {f.name for f in dataclasses.fields(ALSParams)}


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if a.dest == "command")
    out: set[str] = set()
    for command in sub.choices.values():  # type: ignore[union-attr]
        for action in command._actions:
            out |= set(action.option_strings)
    return out


def test_every_reader_and_params_keyword_has_a_flag_or_none_by_design() -> None:
    missing = reader_keywords() - set(FLAGS) - NO_FLAG
    assert not missing, f"add these keywords to alsrec.cli.messages.FLAGS: {sorted(missing)}"


def test_every_flag_of_the_table_exists_on_the_command_line() -> None:
    flags = option_strings(build_parser())
    assert set(FLAGS.values()) <= flags, set(FLAGS.values()) - flags


@pytest.mark.parametrize("keyword", sorted(FLAGS))
def test_each_keyword_form_is_rewritten(keyword: str) -> None:
    flag = FLAGS[keyword]
    for text, value in (
        (f"pass {keyword}='x y'.", "'x y'"),
        (f"pass {keyword}=<one of them>.", "<column>"),
        (f"pass {keyword}=<a value>.", "<a value>"),
        (f"pass {keyword}=3.", "3"),
    ):
        got = cli_words(text)
        assert got == f"pass {flag} {value}.", (text, got)
        assert not PYTHON_KEYWORD.search(got)
    assert cli_words(f"{keyword} must be >= 1.") == f"{flag} must be >= 1."


def test_the_tab_delimiter_is_written_as_tab() -> None:
    assert cli_words("(delimiter='\\t')?") == "(--delimiter tab)?"
    assert (
        cli_words("header=False: give a 0-based position") == "--no-header: give a 0-based position"
    )


def _message_strings(path: Path) -> list[str]:
    """The text of every string in ``raise ...(...)`` calls of a module (f-string parts too)."""
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for inner in ast.walk(node.exc):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                    out.append(inner.value)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id.isupper() for t in node.targets
        ):  # message constants such as SKIP_HINT
            for inner in ast.walk(node.value):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                    out.append(inner.value)
    return out


def test_every_keyword_the_readers_messages_use_is_in_the_table() -> None:
    # A keyword written into a message (``pass on_bad_rows='skip'``) must be one the table
    # translates; f-strings that format the keyword (``{role}=``) are covered by the role
    # names being reader keywords.
    used: set[str] = set()
    for path in [*sorted((SRC / "data").glob("*.py")), SRC / "params.py"]:
        for text in _message_strings(path):
            used |= set(re.findall(r"(?<![\w.-])([a-z][a-z0-9_]*)=", text))
    assert used, "no keyword found: the scan is broken"
    assert used <= set(FLAGS) | NO_FLAG, used - set(FLAGS) - NO_FLAG


BAD_FILES = {
    "blank.csv": ("user,item\n1,a\n\n2,b\n", [], "--on-bad-rows skip"),
    "tabs.tsv": ("user\titem\n1\ta\n", ["--delimiter", ","], "--delimiter tab"),
    "semi.csv": ("user;item\n1;a\n", ["--delimiter", ","], "--delimiter ';'"),
    "cols.csv": ("uid,iid\n1,a\n", [], "--user-col <column>"),
    "mixed.csv": ("user,item\n1,a\nx,b\n", [], "--user-type str"),
    "latin.csv": ("user,item\n\xe9,a\n", [], "--encoding <encoding>"),
    "short.csv": ("user,item\n1\n", [], "--on-bad-rows skip"),
    "weight.csv": ("user,item,w\n1,a,-1\n", ["--weight-col", "w"], "--on-bad-rows skip"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_reader_errors_name_the_flags(tmp_path: Path, name: str) -> None:
    text, extra, needle = BAD_FILES[name]
    (tmp_path / name).write_bytes(text.encode("latin-1" if name == "latin.csv" else "utf-8"))
    proc = run("train", name, *extra, "-o", "m", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert needle in proc.stderr
    assert not PYTHON_KEYWORD.search(proc.stderr), proc.stderr


def test_the_flags_named_by_errors_fix_them(tmp_path: Path) -> None:
    (tmp_path / "blank.tsv").write_text("user\titem\n1\ta\n\n2\tb\n2\ta\n")
    proc = run(
        "train", "blank.tsv", "--delimiter", "\\t", "--on-bad-rows", "skip", "--factors", "2",
        "--iterations", "1", "-o", "m", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "blank_line: 1" in proc.stdout


@pytest.mark.parametrize("spelling", ["\t", "\\t", "tab", "TAB", "auto"])
def test_delimiter_spellings(tmp_path: Path, spelling: str) -> None:
    args = build_parser().parse_args(["train", "x.csv", "-o", "m", "--delimiter", spelling])
    assert args.delimiter == (None if spelling == "auto" else "\t")


def test_delimiter_is_sniffed_by_default(tmp_path: Path) -> None:
    assert build_parser().parse_args(["train", "x.csv", "-o", "m"]).delimiter is None
    (tmp_path / "pipes.csv").write_text("user|item\n1|a\n2|b\n2|a\n")
    proc = run("train", "pipes.csv", "--factors", "2", "--iterations", "1", "-o", "m", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    bad = run("train", "pipes.csv", "--delimiter", "x", "-o", "m", cwd=tmp_path)
    assert bad.returncode == 2 and "--delimiter" in bad.stderr


def test_library_warnings_are_shown_as_cli_notes(tmp_path: Path) -> None:
    # A model whose item factors have rows without IDs: loading warns. The CLI shows it as
    # its other notes, not with the library's file and source line.
    import subprocess
    import sys
    import warnings

    import numpy as np

    from alsrec import AlsrecWarning, IdMapper, Recommender

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlsrecWarning)
        rec = Recommender.from_factors(
            np.eye(2, 3), np.eye(5, 3), IdMapper(["u1", "u2"]), IdMapper(["a", "b", "c"])
        )
        path = rec.save(tmp_path / "model")
    done = subprocess.run(
        [sys.executable, "-m", "alsrec", "recommend", str(path), "u1", "-n", "2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "alsrec: note: The item factors have 5 rows but only 3 item IDs" in done.stderr
    assert ".py:" not in done.stderr


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (  # the end of alsrec.interop.implicit.gpu_status's reason
            "...the pip packages' lib folders); or use backend='implicit' (CPU) or backend='auto'.",
            "...the pip packages' lib folders); or use --backend implicit (CPU) or --backend auto.",
        ),
        (  # ImplicitBackend.fit with a frequency-scaled penalty
            "The 'implicit' backend trains a constant regularization only, but "
            "regularization_exponent=0.5 asks for frequency-scaled regularization. Use "
            "backend='numpy', which trains it, or regularization_exponent=0.",
            "The 'implicit' backend trains a constant regularization only, but "
            "--regularization-exponent 0.5 asks for frequency-scaled regularization. Use "
            "--backend numpy, which trains it, or --regularization-exponent 0.",
        ),
        (  # the Spark backend's penalty check
            "Use backend='numpy' (Recommender(backend='numpy')), which trains every exponent.",
            "Use --backend numpy, which trains every exponent.",
        ),
    ],
)
def test_backend_messages_name_the_flag(message: str, expected: str) -> None:
    assert cli_words(message) == expected
    assert not PYTHON_KEYWORD.search(expected)


def test_an_implicit_backend_that_cannot_run_is_refused_before_the_data_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    import alsrec.interop.implicit
    from alsrec.cli import main

    reason = "no CUDA device here; or use backend='implicit' (CPU) or backend='auto'."
    monkeypatch.setattr(alsrec.interop.implicit, "gpu_status", lambda: (False, reason))
    (tmp_path / "events.csv").write_text("user,item\n1,a\n1,b\n2,b\n")
    for command in ("train", "evaluate", "tune"):
        args = [command, str(tmp_path / "events.csv"), "--backend", "implicit-gpu"]
        args += ["-o", str(tmp_path / "m")] if command == "train" else []
        out, err = io.StringIO(), io.StringIO()
        assert main(args, out=out, err=err) == 2, err.getvalue()
        assert out.getvalue() == "", out.getvalue()  # no "Read 2 users x 2 items ..."
        assert err.getvalue() == (
            "alsrec: error: Backend 'implicit-gpu' cannot run: no CUDA device here; or use "
            "--backend implicit (CPU) or --backend auto.\n"
        )
        assert not (tmp_path / "m").exists()
