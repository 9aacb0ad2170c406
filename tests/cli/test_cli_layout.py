"""The command line as a package: one module per command, public API only, one reader."""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import alsrec
from alsrec.cli import app, main

CLI = Path(alsrec.__file__).parent / "cli"


def imported(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every import in a file; name is '' for ``import x``."""
    out: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out += [(node.module, alias.name) for alias in node.names]
    return out


def test_the_cli_imports_only_public_alsrec_names() -> None:
    for path in sorted(CLI.glob("*.py")):
        for module, name in imported(path):
            if module.split(".")[0] != "alsrec":
                continue
            assert not any(part.startswith("_") for part in module.split(".")), (path, module)
            assert not name.startswith("_"), (path, module, name)


def test_every_command_module_registers_its_own_parser() -> None:
    parser = app.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = set(sub.choices)  # type: ignore[arg-type]
    assert commands == {
        "train", "recommend", "similar-items", "similar-users", "inspect", "evaluate",
        "split", "tune", "explain", "demo",
    }  # fmt: skip
    for module in app.COMMANDS:
        assert callable(module.add_parser)


def test_hyperparameter_flags_are_the_fields_of_alsparams() -> None:
    import dataclasses

    parser = app.build_parser()
    args = parser.parse_args(["train", "x.csv", "-o", "m"])
    for field in dataclasses.fields(alsrec.ALSParams):
        assert hasattr(args, field.name), field.name
    args = parser.parse_args(
        ["train", "x.csv", "-o", "m", "--bm25-k1", "100", "--solver", "cholesky"]
    )
    assert args.bm25_k1 == 100.0 and args.solver == "cholesky"


def test_time_split_reads_like_from_csv(tmp_path: Path) -> None:
    # The command line's own reader is gone: a byte-order mark is read (utf-8-sig) and IDs
    # are not stripped, exactly as Interactions.from_csv does.
    rows = [f"u{u},i{(u * 7 + k) % 13},{u * 10 + k}" for u in range(12) for k in range(4)]
    rows.append(" u0,i1,999")  # " u0" is another user than "u0"
    path = tmp_path / "events.csv"
    path.write_text("\ufeffuser,item,ts\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = io.StringIO()
    code = main(
        ["evaluate", str(path), "--split", "time", "--time-col", "ts", "--factors", "2",
         "--iterations", "1", "--bootstrap", "0", "--format", "json"],
        out=out, err=io.StringIO(),
    )  # fmt: skip
    assert code == 0
    report = json.loads(out.getvalue())
    split = report["split"]
    assert split["train_interactions"] + split["test_interactions"] == len(rows)
