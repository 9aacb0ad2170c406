"""The workflow on the command line: split, train, evaluate a saved model; similar for many
IDs; output checks before work; IDs taken as given."""

from __future__ import annotations

import csv
import io
import json
import os
from typing import TYPE_CHECKING

import pytest
from cli_runner import run

from alsrec import Interactions, Recommender, cli
from alsrec.data import synthetic

if TYPE_CHECKING:
    from pathlib import Path

COLS = ("--user-col", "user_id", "--item-col", "item_id")
SMALL = ("--factors", "4", "--iterations", "3", "--regularization", "0.5")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workflow")
    data = synthetic(n_users=80, n_items=30, n_clusters=3, mean_interactions=8, random_state=2)
    with (root / "events.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "plays", "ts"])
        rows = zip(data.user_ids, data.item_ids, data.weights, data.timestamps, strict=True)
        writer.writerows(rows)
    return root


def test_split_train_evaluate_saved_model(root: Path) -> None:
    split = run("split", "events.csv", *COLS, "--weight-col", "plays", "--test-fraction",
                "0.25", "--seed", "5", "-o", "train.csv", "test.csv", cwd=root)  # fmt: skip
    assert split.returncode == 0, split.stderr
    assert "Wrote" in split.stdout
    full = Interactions.from_csv(root / "events.csv", "user_id", "item_id", "plays")
    train = Interactions.from_csv(root / "train.csv", "user_id", "item_id", "plays")
    test = Interactions.from_csv(root / "test.csv", "user_id", "item_id", "plays")
    assert train.nnz + test.nnz == full.nnz
    assert train.matrix.sum() + test.matrix.sum() == pytest.approx(full.matrix.sum())
    again = run("split", "events.csv", *COLS, "--weight-col", "plays", "--test-fraction",
                "0.25", "--seed", "5", "-o", "t2.csv", "s2.csv", cwd=root)  # fmt: skip
    assert again.returncode == 0
    assert (root / "t2.csv").read_text() == (root / "train.csv").read_text()  # seeded

    trained = run("train", "train.csv", *COLS, "--weight-col", "plays", *SMALL, "-o", "model",
                  cwd=root)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    with (root / "test.csv").open("a") as handle:
        handle.write("NEWUSER,I000001,1\nU000001,NEWITEM,1\n")
    proc = run("evaluate", "model", "--test", "test.csv", *COLS, "--bootstrap", "100",
               "--format", "json", cwd=root)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["test"]["unknown_users"] == 1 and report["test"]["unknown_items"] == 1
    assert report["skipped_unknown_users"] == 1
    assert report["bootstrap"] == 100 and report["metrics"]["ndcg"]["low"] is not None
    assert report["baseline"]["ndcg"]["value"] is not None
    assert report["verdict"]["metric"] == "ndcg"
    table = run("evaluate", "model", "--test", "test.csv", *COLS, "--bootstrap", "0",
                cwd=root)  # fmt: skip
    assert table.returncode == 0, table.stderr
    assert "1 of" in table.stdout and "test users and 1 of" in table.stdout
    assert "CI" not in table.stdout  # no empty interval columns
    assert "popularity baseline on NDCG@10" in table.stdout


def test_evaluate_says_plainly_when_the_model_loses(root: Path) -> None:
    # An overfitted model (many factors, no regularization) loses to popularity.
    proc = run("evaluate", "events.csv", *COLS, "--factors", "200", "--regularization",
               "0.0001", "--iterations", "3", "--bootstrap", "0", "-k", "5", cwd=root)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "The model LOSES to the popularity baseline on NDCG@5" in proc.stdout
    assert "LOSES" in proc.stderr  # also a note, visible next to --format json


def test_evaluate_test_mode_refuses_what_does_not_apply(root: Path) -> None:
    proc = run("evaluate", "model", "--test", "test.csv", *COLS, "--factors", "3", cwd=root)
    assert proc.returncode == 2 and "--factors" in proc.stderr


def test_split_time_and_errors(root: Path) -> None:
    proc = run("split", "events.csv", *COLS, "--method", "time", "--time-col", "ts",
               "-o", "tt.csv", "te.csv", cwd=root)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    train = Interactions.from_csv(root / "tt.csv", "user_id", "item_id", "weight", timestamp="ts")
    test = Interactions.from_csv(root / "te.csv", "user_id", "item_id", "weight", timestamp="ts")
    assert train.timestamps is not None and test.timestamps is not None
    assert train.timestamps.max() <= test.timestamps.min()
    exists = run("split", "events.csv", *COLS, "-o", "tt.csv", "new.csv", cwd=root)
    assert exists.returncode == 2 and "--force" in exists.stderr
    assert not (root / "new.csv").exists()
    same = run("split", "events.csv", *COLS, "-o", "a.csv", "a.csv", cwd=root)
    assert same.returncode == 2


def test_split_leaves_no_partial_file_on_error(root: Path) -> None:
    (root / "bad.csv").write_text("user_id,item_id\nu1,a\nu2,\n")
    before = set(os.listdir(root))
    proc = run("split", "bad.csv", *COLS, "-o", "p.csv", "q.csv", cwd=root)
    assert proc.returncode == 3
    assert set(os.listdir(root)) == before


def test_split_writer_removes_temporaries_when_writing_fails(
    root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from alsrec.cli import split as split_command

    def boom(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(split_command, "write_csv", boom)
    err = io.StringIO()
    code = cli.main(
        ["split", str(root / "events.csv"), *COLS, "--weight-col", "plays", "-o",
         str(tmp_path / "a.csv"),
         str(tmp_path / "b.csv")], out=io.StringIO(), err=err,
    )  # fmt: skip
    assert code == 3 and "No space left" in err.getvalue()
    assert list(tmp_path.iterdir()) == []


def test_train_output_is_checked_before_training(root: Path) -> None:
    proc = run("train", "events.csv", *COLS, "-o", "no/such/parent/model", cwd=root)
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    assert "Read" not in proc.stdout  # refused before reading the data
    if os.geteuid() != 0:  # root writes anywhere
        locked = root / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            proc = run("train", "events.csv", *COLS, "-o", "locked/model", cwd=root)
            assert proc.returncode == 2 and "not writable" in proc.stderr
        finally:
            locked.chmod(0o700)


def test_similar_many_ids_and_ids_file(root: Path) -> None:
    trained = run("train", "events.csv", *COLS, *SMALL, "-o", "sim_model", cwd=root)
    assert trained.returncode == 0, trained.stderr
    rec = Recommender.load(root / "sim_model")
    items = [str(i) for i in rec.items_.ids[:3]]
    (root / "items.txt").write_text(f"{items[2]}\nNOPE\n")
    proc = run("similar-items", "sim_model", items[0], items[1], "--items-file", "items.txt",
               "-n", "2", "--format", "json", cwd=root)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert [p["item"] for p in payload] == [*items, "NOPE"]
    for entry in payload[:3]:
        want = rec.similar_items(entry["item"], n=2).ids.tolist()
        assert [s["item"] for s in entry["similar"]] == want
    assert payload[3]["similar"] == [] and "NOPE" in proc.stderr
    users = [str(u) for u in rec.users_.ids[:2]]
    proc = run("similar-users", "sim_model", "--users-file", "-", "--format", "csv", "-n", "1",
               stdin="\n".join(users) + "\n", cwd=root)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["user"] for r in rows] == users
    strict = run("similar-items", "sim_model", items[0], "NOPE", "--policy", "strict", cwd=root)
    assert strict.returncode == 4 and strict.stdout == ""
    none = run("similar-items", "sim_model", cwd=root)
    assert none.returncode == 2 and "--items-file" in none.stderr


def test_query_ids_are_not_stripped(root: Path) -> None:
    (root / "spaced.csv").write_text("user,item\n u1,a\n u1,b\nu2,a\nu2,c\nu3,b\n")
    trained = run("train", "spaced.csv", "--factors", "2", "--iterations", "2", "-o", "spaced",
                  cwd=root)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    proc = run("recommend", "spaced", " u1", "--format", "json", cwd=root)
    assert proc.returncode == 0, proc.stderr
    (answer,) = json.loads(proc.stdout)
    assert answer["user"] == " u1" and answer["source"] == "model"
    stripped = run("recommend", "spaced", "u1", "--policy", "strict", cwd=root)
    assert stripped.returncode == 4  # "u1" is another user than " u1", as in the data
