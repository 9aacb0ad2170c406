"""``alsrec tune`` and ``alsrec explain``, run as subprocesses on a tiny CSV file."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from cli_runner import run

from alsrec import ALSParams, Recommender
from alsrec.data import synthetic

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("alsrec"), lines[0]
    assert "error" in lines[0]
    return lines[0]


@dataclass(frozen=True)
class Workspace:
    root: Path
    csv_path: Path
    model: Path  # saved by 'tune -o'
    tuned: dict[str, object]  # the JSON report of that run


COLS = ("--user-col", "user_id", "--item-col", "item_id", "--weight-col", "plays")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("tune")
    data = synthetic(n_users=60, n_items=30, n_clusters=3, mean_interactions=8, random_state=4)
    csv_path = root / "events.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "plays"])
        for row in zip(
            data.user_ids.tolist(), data.item_ids.tolist(), data.weights.tolist(), strict=True
        ):
            writer.writerow(row)
    model = root / "model"
    proc = run(
        "tune", str(csv_path), *COLS, "--budget", "5", "--format", "json", "-o", str(model),
        cwd=root,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return Workspace(root, csv_path, model, json.loads(proc.stdout))


def test_tune_json_saves_the_refit_best_model(ws: Workspace) -> None:
    report = ws.tuned
    trials = report["trials"]
    assert isinstance(trials, list) and len(trials) == 5 and report["n_trials"] == 5
    best = report["best"]
    assert isinstance(best, dict)
    assert best["value"] == max(t["value"] for t in trials)
    assert report["saved_to"] == str(ws.model)
    model = Recommender.load(ws.model)
    assert model.params == ALSParams.from_dict(best["params"])
    assert len(model.users_) == 60  # refit on all the data, not a training split


def test_tune_table_draws_a_progress_bar_on_stderr(ws: Workspace) -> None:
    proc = run("tune", str(ws.csv_path), *COLS, "--budget", "3", cwd=ws.root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Read 60 users x 30 items")
    assert "Best (trial" in proc.stdout and "Spread of ndcg@10" in proc.stdout
    table = proc.stdout[proc.stdout.index("rank  trial") :].splitlines()
    assert len(table) == 4  # header + 3 trials
    bars = proc.stderr.strip().splitlines()
    assert len(bars) == 3 and bars[-1].startswith("[####################] 3/3")
    assert all("ndcg@10" in line and "best" in line for line in bars)
    quiet = run("tune", str(ws.csv_path), *COLS, "--budget", "3", "--no-progress", cwd=ws.root)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_tune_is_reproducible_and_the_options_reach_the_search(ws: Workspace) -> None:
    argv = [
        "tune", str(ws.csv_path), *COLS, "--budget", "3", "--metric", "map", "-k", "5",
        "--validation-fraction", "0.3", "--splits", "2", "--random-state", "9", "--format", "json",
        "--no-progress",
    ]  # fmt: skip
    first, second = run(*argv, cwd=ws.root), run(*argv, cwd=ws.root)
    assert first.returncode == 0, first.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert (a["metric"], a["k"], a["n_splits"], a["test_fraction"], a["random_state"]) == (
        "map", 5, 2, 0.3, 9
    )  # fmt: skip
    assert a["saved_to"] is None
    strip = ("fit_seconds", "seconds")
    assert [{k: v for k, v in t.items() if k not in strip} for t in a["trials"]] == [
        {k: v for k, v in t.items() if k not in strip} for t in b["trials"]
    ]
    assert all(len(t["split_values"]) == 2 for t in a["trials"])


def test_tune_usage_and_data_errors(ws: Workspace) -> None:
    proc = run("tune", str(ws.csv_path), *COLS, "--budget", "0", cwd=ws.root)
    assert proc.returncode == 2 and "--budget" in proc.stderr
    proc = run("tune", str(ws.csv_path), *COLS, "--jobs", "0", cwd=ws.root)
    line = one_error_line(proc)
    assert proc.returncode == 2 and "--jobs" in line and ">= 1, or -1" in line
    assert proc.stdout == ""  # refused before the data is read
    for flags, needle in ((("--backend", "foo"), "'foo'"), (("--random-state", "-1"), "-1")):
        proc = run("tune", str(ws.csv_path), *COLS, *flags, cwd=ws.root)
        line = one_error_line(proc)
        assert proc.returncode == 2 and needle in line, line
        assert proc.stdout == ""  # refused before the data is read (no "Read ..." line)
    proc = run("tune", str(ws.root / "missing.csv"), *COLS, cwd=ws.root)
    assert proc.returncode == 3 and "missing.csv" in one_error_line(proc)
    proc = run("tune", str(ws.csv_path), *COLS, "-o", str(ws.model), cwd=ws.root)
    assert proc.returncode == 2 and "--force" in one_error_line(proc)


def test_explain_table_and_json(ws: Workspace) -> None:
    model = Recommender.load(ws.model)
    item = str(model.recommend("U000001", n=1).ids[0])
    proc = run("explain", str(ws.model), "U000001", item, "--format", "json", cwd=ws.root)
    assert proc.returncode == 0, proc.stderr
    why = json.loads(proc.stdout)
    assert why["source"] == "model" and why["item"] == item
    total = math.fsum([c["contribution"] for c in why["contributions"]])
    assert total + why["rest"] + why["residual"] == pytest.approx(why["score"], abs=1e-9)
    assert why["score"] == pytest.approx(model.recommend("U000001", n=1).scores[0], rel=1e-5)
    top = run("explain", str(ws.model), "U000001", item, "-n", "2", cwd=ws.root)
    assert top.returncode == 0, top.stderr
    assert f"Item {item!r} for user 'U000001'" in top.stdout
    rows = [line for line in top.stdout.splitlines() if line.strip().startswith(("1 ", "2 "))]
    assert [r.split()[1] for r in rows] == [c["item"] for c in why["contributions"][:2]]
    folded = run(
        "explain", str(ws.model), "U000001", item, "--history", "I000002",
        "--history", "nope", "--format", "json", cwd=ws.root,
    )  # fmt: skip
    assert folded.returncode == 0, folded.stderr
    assert json.loads(folded.stdout)["source"] == "fold-in"
    assert "unknown history item" in folded.stderr


def test_explain_unknown_ids(ws: Workspace) -> None:
    proc = run("explain", str(ws.model), "stranger", "I000001", cwd=ws.root)
    assert proc.returncode == 0, proc.stderr
    assert "fallback" in proc.stdout and "popularity" in proc.stderr
    proc = run("explain", str(ws.model), "stranger", "I000001", "--policy", "strict", cwd=ws.root)
    assert proc.returncode == 4 and "stranger" in one_error_line(proc)
    # Under the default safe policy an unknown item is an empty answer with a note (exit 0).
    proc = run("explain", str(ws.model), "U000001", "no-such-item", cwd=ws.root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "unknown item ID 'no-such-item'" in proc.stderr
    proc = run("explain", str(ws.model), "U000001", "no-such-item", "--format", "json", cwd=ws.root)
    assert proc.returncode == 0 and json.loads(proc.stdout) is None
    proc = run(
        "explain", str(ws.model), "U000001", "no-such-item", "--policy", "strict", cwd=ws.root
    )
    assert proc.returncode == 4 and "no-such-item" in one_error_line(proc)
    proc = run("explain", str(ws.root / "no-model"), "U000001", "I000001", cwd=ws.root)
    assert proc.returncode == 3


def test_help_of_tune_and_explain(tmp_path: Path) -> None:
    for command in ("tune", "explain"):
        proc = run(command, "--help", cwd=tmp_path)
        assert proc.returncode == 0 and "Example" in proc.stdout
        assert f"alsrec {command}" in proc.stdout and "--policy" in proc.stdout
    top = run("--help", cwd=tmp_path).stdout
    assert "tune" in top and "explain" in top


def test_tune_final_test_split_params_out_and_train_params(ws: Workspace) -> None:
    best = ws.root / "best.json"
    proc = run(
        "tune", str(ws.csv_path), *COLS, "--budget", "3", "--test-fraction", "0.25",
        "--bootstrap", "50", "--params-out", str(best), "--no-progress", cwd=ws.root,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Final test split:" in out and "never seen by the search" in out
    assert "popularity" in out and "the popularity baseline on NDCG@10" in out
    assert f"Wrote the chosen hyperparameters to {best}" in out
    chosen = ALSParams.from_dict(json.loads(best.read_text()))
    as_json = run(
        "tune", str(ws.csv_path), *COLS, "--budget", "3", "--test-fraction", "0.25",
        "--bootstrap", "0", "--format", "json", "--no-progress", cwd=ws.root,
    )  # fmt: skip
    report = json.loads(as_json.stdout)
    final = report["final_test"]
    assert final["test_fraction"] == 0.25 and final["metrics"]["ndcg"]["value"] is not None
    assert final["baseline"]["ndcg"]["value"] is not None
    assert ALSParams.from_dict(report["best"]["params"]) == chosen  # same seed, same choice
    # The search saw fewer pairs than the file holds: the final test split is held back.
    assert final["verdict"]["beats_popularity"] in (True, False)

    model = ws.root / "from_params"
    trained = run(
        "train", str(ws.csv_path), *COLS, "--params", str(best), "--iterations", "2",
        "-o", str(model), cwd=ws.root,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    params = Recommender.load(model).params
    assert params.iterations == 2  # the explicit flag wins
    assert (params.factors, params.regularization, params.alpha) == (
        chosen.factors, chosen.regularization, chosen.alpha
    )  # fmt: skip


def test_train_params_file_errors(ws: Workspace) -> None:
    (ws.root / "list.json").write_text("[1, 2]")
    (ws.root / "typo.json").write_text('{"factor": 3}')
    (ws.root / "bad.json").write_text("{")
    for name, code, needle in (
        ("missing.json", 3, "Cannot read the --params file"),
        ("list.json", 3, "one JSON object"),
        ("typo.json", 2, "factor"),
        ("bad.json", 3, "not JSON"),
    ):
        proc = run("train", str(ws.csv_path), *COLS, "--params", name, "-o", "m", cwd=ws.root)
        assert proc.returncode == code, (name, proc.stderr)
        assert needle in one_error_line(proc)


def test_tune_refuses_an_unwritable_params_out_before_searching(ws: Workspace) -> None:
    proc = run(
        "tune", str(ws.csv_path), *COLS, "--params-out", "no/such/dir/best.json", cwd=ws.root
    )
    assert proc.returncode == 2 and "--params-out" in one_error_line(proc)
    assert "Read" not in proc.stdout  # refused before reading or searching
