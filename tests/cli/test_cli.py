"""The ``alsrec`` command, run as a subprocess on temporary files: outputs and exit codes."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pytest
from cli_runner import run

from alsrec import Recommender, cli
from alsrec.cli import inspect as inspect_command
from alsrec.cli import sources
from alsrec.data import synthetic

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("alsrec"), lines[0]
    assert "error:" in lines[0]
    return lines[0]


@dataclass(frozen=True)
class Workspace:
    root: Path
    csv_path: Path  # str IDs, columns user_id,item_id,plays,ts
    db_path: Path  # table ev(uid INTEGER, iid INTEGER, w REAL)
    str_model: Path  # trained from the CSV
    int_model: Path  # trained from the SQL query
    seen: dict[str, set[str]]  # the CSV's items per user


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("cli")
    data = synthetic(n_users=60, n_items=30, n_clusters=3, mean_interactions=8, random_state=4)
    csv_path = root / "events.csv"
    seen: dict[str, set[str]] = {}
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "plays", "ts"])
        for u, i, w, t in zip(
            data.user_ids.tolist(),
            data.item_ids.tolist(),
            data.weights.tolist(),
            data.timestamps.tolist(),
            strict=True,
        ):
            writer.writerow([u, i, w, t])
            seen.setdefault(u, set()).add(i)
    db_path = root / "app.db"
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE ev (uid INTEGER, iid INTEGER, w REAL)")
        conn.executemany(
            "INSERT INTO ev VALUES (?, ?, ?)",
            [
                (int(u[1:]), int(i[1:]), float(w))
                for u, i, w in zip(data.user_ids, data.item_ids, data.weights, strict=True)
            ],
        )
    conn.close()
    common = ["--factors", "4", "--iterations", "3", "--regularization", "0.5"]
    trained = run(
        "train", "events.csv", "--user-col", "user_id", "--item-col", "item_id",
        "--weight-col", "plays", "-o", "str_model", *common, cwd=root,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert "Saved to str_model" in trained.stdout
    trained = run(
        "train", "--sql", "SELECT uid, iid, w FROM ev", "--db", f"sqlite:///{db_path}",
        "--user-col", "uid", "--item-col", "iid", "--weight-col", "w", "-o", "int_model",
        *common, cwd=root,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    return Workspace(root, csv_path, db_path, root / "str_model", root / "int_model", seen)


# -- help -------------------------------------------------------------------------------------

COMMANDS = [
    "train",
    "recommend",
    "similar-items",
    "similar-users",
    "inspect",
    "evaluate",
    "demo",
]


def test_help_of_every_command(tmp_path: Path) -> None:
    calls = [["--help"]] + [[command, "--help"] for command in COMMANDS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        procs = list(pool.map(lambda argv: run(*argv, cwd=tmp_path), calls))
    for argv, proc in zip(calls, procs, strict=True):
        assert proc.returncode == 0, (argv, proc.stderr)
        assert "Example" in proc.stdout, argv
        assert f"alsrec {argv[0]}" in proc.stdout or argv == ["--help"], argv
        if argv != ["--help"]:
            assert "--policy" in proc.stdout, argv
        assert "%%" not in proc.stdout, argv  # argparse formats help, never descriptions
    top = procs[0].stdout
    assert all(command in top for command in COMMANDS)
    assert "4 unknown ID" in top  # the exit codes are documented


# -- train / inspect ----------------------------------------------------------------------------


def test_train_wrote_a_model_that_inspect_describes(ws: Workspace) -> None:
    proc = run("inspect", "str_model", "--format", "json", cwd=ws.root)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["users"]["mapped_ids"] == len(ws.seen)
    assert info["users"]["factor_rows"] == len(ws.seen)
    assert info["users"]["id_kind"] == "str"
    assert info["items"]["id_kind"] == "str"
    assert info["params"]["factors"] == 4
    assert info["ok"] is True
    table = run("inspect", "int_model", cwd=ws.root)
    assert table.returncode == 0, table.stderr
    assert "OK" in table.stdout
    assert "int" in table.stdout


def test_train_progress_reports_the_loss_each_iteration(ws: Workspace) -> None:
    proc = run(
        "train", "events.csv", "--user-col", "user_id", "--item-col", "item_id",
        "--factors", "4", "--iterations", "4", "--progress", "-o", "progress_model",
        cwd=ws.root,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "loss" in line]
    assert [line.split("]")[1].split()[0] for line in lines] == ["1/4", "2/4", "3/4", "4/4"]
    losses = [float(line.split("loss")[1].split()[0]) for line in lines]
    assert losses[-1] < losses[0]


def test_existing_output_needs_force_and_force_replaces(ws: Workspace) -> None:
    base = ["events.csv", "--user-col", "user_id", "--item-col", "item_id", "--iterations", "1"]
    first = run("train", *base, "--factors", "2", "-o", "replace_me", cwd=ws.root)
    assert first.returncode == 0, first.stderr
    again = run("train", *base, "--factors", "3", "-o", "replace_me", cwd=ws.root)
    assert again.returncode == 2
    assert "--force" in one_error_line(again)
    forced = run("train", *base, "--factors", "3", "-o", "replace_me", "--force", cwd=ws.root)
    assert forced.returncode == 0, forced.stderr
    info = json.loads(run("inspect", "replace_me", "--format", "json", cwd=ws.root).stdout)
    assert info["params"]["factors"] == 3
    assert not [p for p in ws.root.iterdir() if p.name.startswith(".replace_me")]


def test_failed_training_leaves_no_model_behind(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("user,item,w\na,x,1\nb,y,oops\n")
    proc = run("train", "bad.csv", "--weight-col", "w", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 3
    assert "line 3" in one_error_line(proc) and "'oops'" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


# -- recommend ----------------------------------------------------------------------------------


def test_recommend_json_matches_the_library_and_excludes_seen(ws: Workspace) -> None:
    users = sorted(ws.seen)[:3]
    proc = run("recommend", "str_model", *users, "-n", "4", "--format", "json", cwd=ws.root)
    assert proc.returncode == 0, proc.stderr
    answers = json.loads(proc.stdout)
    rec = sources.load_model(str(ws.str_model), "safe")
    assert [a["user"] for a in answers] == users
    for answer in answers:
        expected = rec.recommend(answer["user"], n=4)
        assert [x["item"] for x in answer["items"]] == expected.ids.tolist()
        assert [x["score"] for x in answer["items"]] == pytest.approx(expected.scores.tolist())
        assert answer["source"] == "model"
        assert not {x["item"] for x in answer["items"]} & ws.seen[answer["user"]]


def test_recommend_many_from_file_and_stdin_as_csv(ws: Workspace) -> None:
    users = sorted(ws.seen)[5:9]
    (ws.root / "users.txt").write_text("\n".join(users[:2]) + "\n\n")
    proc = run(
        "recommend", "str_model", users[2], "--users-file", "users.txt", "-n", "3",
        "--format", "csv", cwd=ws.root,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["user"] for r in rows] == [users[2]] * 3 + [users[0]] * 3 + [users[1]] * 3
    assert [r["rank"] for r in rows[:3]] == ["1", "2", "3"]
    stdin = run(
        "recommend", "str_model", "--users-file", "-", "-n", "2", cwd=ws.root,
        stdin="\n".join(users) + "\n",
    )  # fmt: skip
    assert stdin.returncode == 0, stdin.stderr
    table = stdin.stdout.splitlines()
    assert table[0].split() == ["user", "rank", "item", "score", "source"]
    assert len(table) == 1 + 2 * len(users)


def test_unknown_user_safe_gets_popular_items_strict_exits_4(ws: Workspace) -> None:
    safe = run("recommend", "str_model", "nobody", "-n", "3", "--format", "json", cwd=ws.root)
    assert safe.returncode == 0, safe.stderr
    (answer,) = json.loads(safe.stdout)
    assert answer["source"] == "fallback" and len(answer["items"]) == 3
    assert "fallback" in safe.stderr  # a note, not an error
    strict = run(
        "recommend", "str_model", sorted(ws.seen)[0], "nobody", "--policy", "strict", cwd=ws.root
    )
    assert strict.returncode == 4
    assert strict.stdout == ""  # nothing half-written
    assert "'nobody'" in one_error_line(strict)


def test_int_model_converts_command_line_ids(ws: Workspace) -> None:
    proc = run("recommend", "int_model", "1", "7", "-n", "2", "--format", "json", cwd=ws.root)
    assert proc.returncode == 0, proc.stderr
    answers = json.loads(proc.stdout)
    assert [a["user"] for a in answers] == [1, 7]
    assert [a["source"] for a in answers] == ["model", "model"]
    # Only integers written plainly convert, as the CSV reader reads integer columns.
    padded = run("recommend", "int_model", "007", " 7", "--format", "json", cwd=ws.root)
    assert [a["user"] for a in json.loads(padded.stdout)] == ["007", " 7"]
    assert {a["source"] for a in json.loads(padded.stdout)} == {"fallback"}
    assert all(isinstance(x["item"], int) for a in answers for x in a["items"])
    mixed = run("recommend", "int_model", "abc", "2", "--format", "json", cwd=ws.root)
    assert mixed.returncode == 0, mixed.stderr
    assert [a["source"] for a in json.loads(mixed.stdout)] == ["fallback", "model"]
    strict = run("recommend", "int_model", "abc", "--policy", "strict", cwd=ws.root)
    assert strict.returncode == 4
    one_error_line(strict)


# -- similar ------------------------------------------------------------------------------------


def test_similar_items_and_users(ws: Workspace) -> None:
    rec = sources.load_model(str(ws.str_model), "safe")
    item = str(rec.items_.ids[0])
    proc = run("similar-items", "str_model", item, "-n", "3", "--format", "json", cwd=ws.root)
    assert proc.returncode == 0, proc.stderr
    (payload,) = json.loads(proc.stdout)
    assert payload["item"] == item
    assert [s["item"] for s in payload["similar"]] == rec.similar_items(item, n=3).ids.tolist()
    user = str(rec.users_.ids[1])
    proc = run("similar-users", "str_model", user, "-n", "2", "--format", "csv", cwd=ws.root)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["similar_user"] for r in rows] == rec.similar_users(user, n=2).ids.tolist()
    table = run("similar-users", "int_model", "3", "-n", "2", cwd=ws.root)
    assert table.returncode == 0, table.stderr
    assert len(table.stdout.strip().splitlines()) == 2 + 2


def test_similar_unknown_id_safe_is_empty_strict_exits_4(ws: Workspace) -> None:
    safe = run("similar-items", "str_model", "NOPE", "--format", "json", cwd=ws.root)
    assert safe.returncode == 0, safe.stderr
    assert json.loads(safe.stdout) == [{"item": "NOPE", "similar": []}]
    assert "unknown item ID(s) 'NOPE'" in safe.stderr
    strict = run("similar-users", "int_model", "999999", "--policy", "strict", cwd=ws.root)
    assert strict.returncode == 4
    assert "999999" in one_error_line(strict)


# -- evaluate -----------------------------------------------------------------------------------


def test_evaluate_holdout_table_and_json(ws: Workspace) -> None:
    args = ["evaluate", "events.csv", "--user-col", "user_id", "--item-col", "item_id",
            "--factors", "4", "--iterations", "3", "-k", "5", "--bootstrap", "50"]  # fmt: skip
    table = run(*args, cwd=ws.root)
    assert table.returncode == 0, table.stderr
    assert "NDCG@5" in table.stdout and "popularity" in table.stdout
    assert "Split: holdout" in table.stdout
    proc = run(*args, "--format", "json", "--test-fraction", "0.3", cwd=ws.root)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["k"] == 5 and report["split"]["test_fraction"] == 0.3
    assert set(report["metrics"]) == set(report["baseline"]) >= {"precision", "auc", "coverage"}
    ndcg = report["metrics"]["ndcg"]
    assert ndcg["low"] <= ndcg["value"] <= ndcg["high"]


def test_evaluate_leave_k_out_from_sql_and_time_split_from_csv(ws: Workspace) -> None:
    sql = run(
        "evaluate", "--sql", "SELECT * FROM ev", "--db", str(ws.db_path), "--user-col", "uid",
        "--item-col", "iid", "--split", "leave-k-out", "--leave-k", "2", "--factors", "4",
        "--iterations", "2", "--bootstrap", "0", "--format", "json", cwd=ws.root,
    )  # fmt: skip
    assert sql.returncode == 0, sql.stderr
    report = json.loads(sql.stdout)
    assert report["split"] == {
        "kind": "leave-k-out", "k": 2, "random_state": 0,
        "train_interactions": report["split"]["train_interactions"],
        "test_interactions": report["split"]["test_interactions"],
    }  # fmt: skip
    assert report["metrics"]["recall"]["low"] is None  # --bootstrap 0
    timed = run(
        "evaluate", "events.csv", "--user-col", "user_id", "--item-col", "item_id",
        "--split", "time", "--time-col", "ts", "--time-mode", "per-user", "--factors", "4",
        "--iterations", "2", "--bootstrap", "0", "--format", "json", cwd=ws.root,
    )  # fmt: skip
    assert timed.returncode == 0, timed.stderr
    assert json.loads(timed.stdout)["split"]["kind"] == "time"


# -- exit codes ---------------------------------------------------------------------------------

USAGE_ERRORS = [
    (["frobnicate"], "invalid choice"),
    (["recommend", "str_model", "x", "-n", "0"], "-n"),
    (["train", "events.csv"], "-o/--output"),
    (["train", "--sql", "SELECT 1", "-o", "m"], "--db"),
    (["train", "--sql", "SELECT 1", "--db", "mysql://h/db", "-o", "m"], "postgresql://"),
    (["train", "events.csv", "--factors", "0", "-o", "m"], "factors"),
    (["train", "events.csv", "--backend", "nonesuch", "-o", "m"], "nonesuch"),
    (["recommend", "str_model"], "No IDs given"),
    (["evaluate", "events.csv", "--split", "time"], "--time-col"),
    (["evaluate", "events.csv", "--test-fraction", "1.5"], "between 0 and 1"),
]


@pytest.mark.parametrize(("argv", "needle"), USAGE_ERRORS)
def test_usage_errors_exit_2(ws: Workspace, argv: list[str], needle: str) -> None:
    proc = run(*argv, cwd=ws.root)
    assert proc.returncode == 2
    assert needle in one_error_line(proc)


@pytest.fixture(scope="module")
def broken(ws: Workspace) -> Path:
    root = ws.root / "broken"
    root.mkdir()
    (root / "no_manifest").mkdir()
    (root / "bad_json").mkdir()
    (root / "bad_json" / "manifest.json").write_text('{"format": ')
    for name in ("not_npz", "wrong_shape"):
        target = root / name
        target.mkdir()
        for f in ws.str_model.iterdir():
            (target / f.name).write_bytes(f.read_bytes())
    (root / "not_npz" / "user_factors.npy").write_text("not an array file")
    manifest = json.loads((root / "wrong_shape" / "manifest.json").read_text())
    manifest["arrays"]["user_factors"]["shape"][0] += 1
    (root / "wrong_shape" / "manifest.json").write_text(json.dumps(manifest))
    (root / "bad.csv").write_text("user,item\na,\n")
    return root


DATA_ERRORS = [
    (["train", "missing.csv", "-o", "m"], "No such file"),
    (["train", "events.csv", "--user-col", "who", "-o", "m"], "no column 'who'"),
    (["train", "broken/bad.csv", "-o", "m"], "item ID is empty"),
    (["train", "--sql", "SELECT nope FROM ev", "--db", "app.db", "-o", "m"], "no such column"),
    (["train", "--sql", "SELECT 1", "--db", "missing.db", "-o", "m"], "No SQLite database"),
    (["recommend", "no_such_model", "u"], "no such artifact directory"),
    (["recommend", "broken/no_manifest", "u"], "manifest.json"),
    (["inspect", "broken/bad_json"], "manifest.json"),
    (["recommend", "broken/not_npz", "u"], "user_factors.npy"),
    (["similar-items", "broken/wrong_shape", "x"], "user_factors"),
    (["recommend", "str_model", "--users-file", "missing.txt"], "No such file"),
]


@pytest.mark.parametrize(("argv", "needle"), DATA_ERRORS)
def test_data_and_artifact_errors_exit_3(
    ws: Workspace, broken: Path, argv: list[str], needle: str
) -> None:
    proc = run(*argv, cwd=ws.root)
    assert proc.returncode == 3
    assert needle in one_error_line(proc)
    assert proc.stdout == ""


def test_debug_shows_the_traceback(ws: Workspace) -> None:
    for argv in (
        ["--debug", "recommend", "missing", "u"],
        ["recommend", "missing", "u", "--debug"],
    ):
        proc = run(*argv, cwd=ws.root)
        assert proc.returncode == 3
        assert "Traceback (most recent call last)" in proc.stderr
        assert "ArtifactError" in proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith("alsrec: error:")


def test_no_command_exits_2_with_help(tmp_path: Path) -> None:
    proc = run(cwd=tmp_path)
    assert proc.returncode == 2
    assert "COMMAND" in proc.stdout


# -- in-process checks of paths a subprocess cannot reach ------------------------------------


def test_internal_errors_exit_1_with_one_line(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(path: str) -> tuple[str, dict[str, object]]:
        raise RuntimeError("simulated bug\nover two lines")

    monkeypatch.setattr(inspect_command, "inspect_model", boom)
    err = io.StringIO()
    code = cli.main(["inspect", str(ws.str_model)], out=io.StringIO(), err=err)
    assert code == 1
    (line,) = err.getvalue().strip().splitlines()
    assert "internal error: RuntimeError: simulated bug over two lines" in line


def test_demo_under_strict_policy_shows_the_refusal() -> None:
    out = io.StringIO()
    code = cli.main(["demo", "--policy", "strict", "--factors", "8", "--iterations", "2"], out=out)
    assert code == 0
    text = out.getvalue()
    assert "Unknown user 'NEW_USER' under --policy strict -> refused" in text
    assert "policy='safe'" not in text and "--policy safe" in text  # in flags
    assert "Held-out evaluation" in text


def test_model_round_trip_keeps_everything(ws: Workspace, tmp_path: Path) -> None:
    rec = sources.load_model(str(ws.int_model), "safe")
    sources.save_model(rec, tmp_path / "copy", force=False)
    back = sources.load_model(str(tmp_path / "copy"), "strict")
    np.testing.assert_array_equal(back.user_factors_, rec.user_factors_)
    np.testing.assert_array_equal(back.items_.ids, rec.items_.ids)
    assert back.users_.kind == "int" and back.policy == "strict"
    assert back.params == rec.params
    assert rec.seen_ is not None and back.seen_ is not None
    assert (back.seen_ != rec.seen_).nnz == 0


def test_adapters_hand_the_right_arguments_to_the_library(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fakes check that the adapters hand over the right arguments.
    from alsrec import Interactions

    calls: list[tuple[str, tuple[object, ...], dict[str, object]]] = []
    tiny = Interactions.from_arrays(["a", "b"], ["x", "y"])

    def from_csv(*args: object, **kwargs: object) -> Interactions:
        calls.append(("from_csv", args, kwargs))
        return tiny

    def from_sql(*args: object, **kwargs: object) -> Interactions:
        calls.append(("from_sql", args[1:], kwargs))
        return tiny

    real = Recommender.load(ws.str_model)

    def load(*args: object, **kwargs: object) -> Recommender:
        calls.append(("load", args, kwargs))
        return real

    monkeypatch.setattr(Interactions, "from_csv", from_csv, raising=False)
    monkeypatch.setattr(Interactions, "from_sql", from_sql, raising=False)
    monkeypatch.setattr(Recommender, "load", load, raising=False)
    parse = cli.build_parser().parse_args
    args = parse(["train", "f.csv", "--user-col", "u", "--item-col", "i", "--delimiter", ";",
                  "-o", "m", "--on-bad-rows", "skip", "--min-item-interactions", "2"])  # fmt: skip
    got = sources.read_interactions(args)
    assert got is tiny
    assert calls[-1] == (
        "from_csv",
        ("f.csv",),
        {
            "user": "u",
            "item": "i",
            "weight": None,
            "timestamp": None,
            "delimiter": ";",
            "header": True,
            "encoding": "utf-8-sig",
            "user_type": "auto",
            "item_type": "auto",
            "aggregate": "sum",
            "min_user_interactions": 1,
            "min_item_interactions": 2,
            "on_bad_rows": "skip",
        },
    )
    args = parse(["train", "f.csv", "--user-col", "0", "--item-col", "2", "--weight-col", "1",
                  "--no-header", "-o", "m", "--delimiter", "tab"])  # fmt: skip
    sources.read_interactions(args)
    assert calls[-1][2]["user"] == 0 and calls[-1][2]["weight"] == 1
    assert calls[-1][2]["delimiter"] == "\t"
    args = parse(["train", "--sql", "SELECT * FROM ev", "--db", str(ws.db_path), "--user-col",
                  "uid", "--item-col", "iid", "-o", "m", "--aggregate", "max"])  # fmt: skip
    sources.read_interactions(args)
    assert calls[-1][1] == ("SELECT * FROM ev",)
    assert calls[-1][2] == {
        "user": "uid", "item": "iid", "weight": None, "timestamp": None, "aggregate": "max",
        "min_user_interactions": 1, "min_item_interactions": 1, "on_bad_rows": "raise",
    }  # fmt: skip
    rec = sources.load_model("somewhere", "strict")
    assert calls[-1] == ("load", ("somewhere",), {"mmap": True, "policy": "strict", "verify": True})

    saved: list[Path] = []

    def save(self: Recommender, path: Path, **kwargs: object) -> None:
        saved.append(path)
        path.mkdir()
        (path / "real.json").write_text("{}")

    monkeypatch.setattr(Recommender, "save", save, raising=False)
    sources.save_model(rec, tmp_path / "out", force=False)
    assert saved and (tmp_path / "out" / "real.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_train_weighting_option_reaches_the_model(ws: Workspace) -> None:
    proc = run(
        "train", "events.csv", "--user-col", "user_id", "--item-col", "item_id",
        "--factors", "4", "--iterations", "2", "--weighting", "bm25", "-o", "bm25_model",
        cwd=ws.root,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert Recommender.load(ws.root / "bm25_model").params.weighting == "bm25"
    bad = run("train", "events.csv", "--weighting", "cubic", "-o", "x", cwd=ws.root)
    assert bad.returncode == 2
