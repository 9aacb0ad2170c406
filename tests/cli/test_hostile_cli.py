"""Hostile and careless use of the ``alsrec`` command (issue 18, items 1, 3, 10, 14, 15 and 17).

Every test runs the command as a subprocess through the public entry point
(``python -m alsrec``), so it checks what a user sees: the exit code, one error line on
stderr, and what is left on disk.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pytest
from cli_runner import SRC, run

from alsrec import ConfigError, Recommender
from alsrec.cli import sources
from alsrec.datasets import synthetic

if TYPE_CHECKING:
    from pathlib import Path

#: The exit codes the CLI guide documents for failures (1 other, 2 usage, 3 data/file).
FAILURE_CODES = (1, 2, 3)


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one error line on stderr; never the 'internal error' of an unexpected exception."""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("alsrec: error:"), lines[0]
    assert "internal error" not in lines[0]
    return lines[0]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its content, to prove nothing was touched."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small interaction CSV (columns user,item) in its own directory."""
    root = tmp_path_factory.mktemp("hostile_cli")
    data = synthetic(n_users=40, n_items=20, n_clusters=2, mean_interactions=6, random_state=1)
    path = root / "events.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "item"])
        writer.writerows(zip(data.user_ids.tolist(), data.item_ids.tolist(), strict=True))
    return path


TRAIN = ("--factors", "2", "--iterations", "1")


def train(events: Path, output: str, *extra: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run("train", str(events), "-o", output, *TRAIN, *extra, cwd=cwd)


@pytest.fixture(scope="module")
def model(events: Path) -> Path:
    proc = train(events, "model", cwd=events.parent)
    assert proc.returncode == 0, proc.stderr
    return events.parent / "model"


# -- item 1: --force replaces only an alsrec artifact or an empty directory ---------------------


def test_force_does_not_delete_a_file(events: Path, tmp_path: Path) -> None:
    target = tmp_path / "precious.csv"
    target.write_text("a,b\n1,2\n")
    proc = train(events, str(target), "--force", cwd=tmp_path)
    assert proc.returncode in FAILURE_CODES
    assert "precious.csv" in error_line(proc)
    assert target.read_text() == "a,b\n1,2\n"


def test_force_does_not_delete_a_directory_of_other_files(events: Path, tmp_path: Path) -> None:
    target = tmp_path / "photos"
    (target / "2024").mkdir(parents=True)
    (target / "2024" / "beach.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (target / "notes.txt").write_text("keep me")
    before = snapshot(target)
    proc = train(events, str(target), "--force", cwd=tmp_path)
    assert proc.returncode in FAILURE_CODES
    assert "photos" in error_line(proc)
    assert snapshot(target) == before


def test_force_does_not_delete_the_directory_holding_the_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data = synthetic(n_users=20, n_items=10, n_clusters=2, mean_interactions=5, random_state=2)
    csv_path = data_dir / "events.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "item"])
        writer.writerows(zip(data.user_ids.tolist(), data.item_ids.tolist(), strict=True))
    before = snapshot(data_dir)
    proc = train(csv_path, str(data_dir), "--force", cwd=tmp_path)
    assert proc.returncode in FAILURE_CODES
    error_line(proc)
    assert snapshot(data_dir) == before


def test_force_still_replaces_an_artifact_and_an_empty_directory(
    events: Path, tmp_path: Path
) -> None:
    """What --force is for keeps working (this holds today)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    assert train(events, str(empty), "--force", cwd=tmp_path).returncode == 0
    again = train(events, str(empty), "--force", "--factors", "3", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    info = json.loads(run("inspect", str(empty), "--format", "json", cwd=tmp_path).stdout)
    assert info["params"]["factors"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


# -- item 14: training from a pipe -------------------------------------------------------------


@pytest.mark.parametrize("stdin_name", ["/dev/stdin", "-"])
def test_train_reads_a_pipe_on_dev_stdin(events: Path, tmp_path: Path, stdin_name: str) -> None:
    proc = run("train", stdin_name, "-o", "piped", *TRAIN, cwd=tmp_path, stdin=events.read_text())
    assert proc.returncode == 0, proc.stderr
    info = json.loads(run("inspect", "piped", "--format", "json", cwd=tmp_path).stdout)
    direct = train(events, "direct", cwd=tmp_path)
    assert direct.returncode == 0, direct.stderr
    expected = json.loads(run("inspect", "direct", "--format", "json", cwd=tmp_path).stdout)
    assert info["users"] == expected["users"]
    assert info["items"] == expected["items"]


# -- item 17: closed standard streams -------------------------------------------------------------


def run_closed(redirect: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI with a standard stream closed by the shell (``<&-`` or ``>&-``)."""
    env = {**os.environ, "PYTHONPATH": SRC, "OPENBLAS_NUM_THREADS": "1"}
    script = f'exec "$0" -m alsrec "$@" {redirect}'
    # stdin/stdout are given as pipes so the shell has something to close.
    return subprocess.run(
        ["/bin/sh", "-c", script, sys.executable, *args],
        cwd=cwd,
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_closed_stdout_is_one_error_line(model: Path) -> None:
    proc = run_closed(">&-", "recommend", str(model), "U000001", "-n", "3", cwd=model.parent)
    assert proc.returncode in FAILURE_CODES
    line = error_line(proc)
    assert "stdout" in line or "standard output" in line


def test_closed_stdout_with_json_output(model: Path) -> None:
    proc = run_closed(
        ">&-", "recommend", str(model), "U000001", "--format", "json", cwd=model.parent
    )
    assert proc.returncode in FAILURE_CODES
    line = error_line(proc)
    assert "stdout" in line or "standard output" in line


def test_closed_stdin_is_one_error_line(model: Path) -> None:
    proc = run_closed("<&-", "recommend", str(model), "--users-file", "-", cwd=model.parent)
    assert proc.returncode in FAILURE_CODES
    line = error_line(proc)
    assert "stdin" in line or "standard input" in line


# -- item 10: a huge -n is capped, not "internal error" --------------------------------------------


def _limit_memory() -> None:  # pragma: no cover - runs in the child process
    # 3 GiB of address space: a 7.45 GiB request fails at once instead of swapping.
    three_gib = 3 << 30
    resource.setrlimit(resource.RLIMIT_AS, (three_gib, three_gib))


def test_huge_n_is_capped_at_the_catalogue(model: Path) -> None:
    env = {**os.environ, "PYTHONPATH": SRC, "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "alsrec",
            "recommend",
            str(model),
            "U000001",
            "U000002",
            "-n",
            str(10**9),
            "--format",
            "json",
        ],
        cwd=model.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=_limit_memory,
    )
    assert proc.returncode == 0, proc.stderr
    answers = json.loads(proc.stdout)
    assert [a["user"] for a in answers] == ["U000001", "U000002"]
    assert all(0 < len(a["items"]) <= 20 for a in answers)


# -- item 3: a terminated save cleans up -------------------------------------------------------


def python(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a Python script with this checkout's alsrec; never raises on exit code."""
    env = {**os.environ, "PYTHONPATH": SRC, "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


CLI_SIGTERM_DURING_SAVE = """
import os, signal, sys
from alsrec.cli import main
real, calls = os.fsync, [0]
def terminated(fd):
    calls[0] += 1
    if calls[0] == 3:
        os.kill(os.getpid(), signal.SIGTERM)  # 'kill PID' while the model is written
    real(fd)
os.fsync = terminated
sys.exit(main(sys.argv[1:]))
"""


def test_cli_cleans_up_when_terminated_during_save(tmp_path: Path) -> None:
    data = tmp_path / "events.csv"
    data.write_text("user,item\n" + "".join(f"u{k % 9},i{k % 7}\n" for k in range(100)))
    args = ["train", str(data), "-o", str(tmp_path / "out"), "--factors", "2"]
    proc = python(CLI_SIGTERM_DURING_SAVE, *args, "--iterations", "1", cwd=tmp_path)
    assert proc.returncode != 0
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.csv"]


# -- item 15: a deeply nested manifest ---------------------------------------------------------


@pytest.fixture
def nested_manifest(tmp_path: Path) -> Path:
    rec = Recommender.from_factors(np.eye(2), np.eye(2), [1, 2], [3, 4])
    path = rec.save(tmp_path / "model")
    (path / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)
    return path


def test_a_deeply_nested_manifest_is_a_data_error_in_the_cli(nested_manifest: Path) -> None:
    for argv in (("inspect", str(nested_manifest)), ("recommend", str(nested_manifest), "1")):
        proc = run(*argv, cwd=nested_manifest.parent)
        assert proc.returncode == 3, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("alsrec: error:"), proc.stderr


def test_force_refuses_a_model_directory_that_holds_the_data(model: Path, tmp_path: Path) -> None:
    """Checked before any work, whatever else the directory holds."""
    data = model / "events.csv"
    with pytest.raises(ConfigError, match="holds the data"):
        sources.check_output(model, True, str(data))
    sources.check_output(model, True, str(tmp_path / "events.csv"))  # a model: replaceable
