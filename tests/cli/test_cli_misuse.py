"""Wrong inputs and misuse of the ``alsrec`` command found by a newcomer's review.

Outputs that would replace the input or each other, a closed stdout that cancelled a save,
options the chosen split ignores, header-less output, unknown encodings, directory or
full-disk outputs, ``inspect`` of a broken model, Python words in messages, and the demo's
verdict. Most tests run :func:`alsrec.cli.main` in process (fast); the closed-pipe tests
run the command as a subprocess, as a shell pipe does.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pytest
from cli_runner import SRC

from alsrec import DataError, Interactions, Recommender, cli
from alsrec.cli import demo as demo_command
from alsrec.cli.messages import cli_words
from alsrec.cli.output import atomic_files
from alsrec.io.format import MANIFEST_DIGEST, manifest_digest

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def main(*argv: str | Path) -> Result:
    """Run the command in process; a usage error of argparse is exit code 2 as well."""
    out, err = io.StringIO(), io.StringIO()
    try:
        code = cli.main([str(a) for a in argv], out=out, err=err)
    except SystemExit as exc:  # argparse: usage errors (stderr captured by capsys)
        code = int(exc.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> str:
    """The one error line of a usage error (exit code 2), from argparse or a command."""
    capsys.readouterr()
    got = main(*argv)
    text = (got.err + capsys.readouterr().err).strip()
    assert got.code == 2, text
    (line,) = text.splitlines()
    assert "error:" in line and "internal error" not in line
    return line


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 users x 40 items, header user,item,weight,ts."""
    path = tmp_path_factory.mktemp("misuse") / "events.csv"
    rng = np.random.default_rng(1)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "item", "weight", "ts"])
        for u in range(60):
            for i in rng.choice(40, size=8, replace=False).tolist():
                writer.writerow([f"u{u}", f"i{i}", int(rng.integers(1, 6)), 1000 * u + i])
    return path


@pytest.fixture(scope="module")
def model(events: Path) -> Path:
    rec = Recommender.from_factors(np.eye(3), np.eye(3), ["u1", "u2", "u3"], ["i1", "i2", "i3"])
    return rec.save(events.parent / "model")


SMALL = ("--factors", "2", "--iterations", "1")


# -- #2: tune --params-out refuses an existing file and the data, before the search -----------


def test_tune_params_out_refuses_an_existing_file_without_force(
    events: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    best = tmp_path / "best.json"
    best.write_text("keep me")
    line = usage_error(capsys, "tune", events, "--budget", "2", "--params-out", best)
    assert "already exists" in line and "--params-out" in line and "--force" in line
    assert best.read_text() == "keep me"


def test_tune_params_out_never_replaces_the_data(
    events: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = events.read_bytes()
    for force in ([], ["--force"]):
        line = usage_error(capsys, "tune", events, "--budget", "2", "--params-out", events, *force)
        assert "is the input data" in line
    assert events.read_bytes() == before


def test_tune_output_checks_come_before_reading_the_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "best.json").write_text("{}")
    missing = tmp_path / "missing.csv"  # reading it first would be exit code 3
    line = usage_error(capsys, "tune", missing, "--params-out", tmp_path / "best.json")
    assert "already exists" in line
    (tmp_path / "m").mkdir()
    inside = tmp_path / "m" / "best.json"
    line = usage_error(capsys, "tune", missing, "-o", tmp_path / "m", "--params-out", inside)
    assert "inside the -o directory" in line
    assert "--jobs" in usage_error(capsys, "tune", missing, "--jobs", "0")


def test_tune_params_out_with_force_replaces_the_file(events: Path, tmp_path: Path) -> None:
    best = tmp_path / "best.json"
    best.write_text("old")
    got = main("tune", events, "--weight-col", "weight", "--budget", "2", "--no-progress",
               "--params-out", best, "--force")  # fmt: skip
    assert got.code == 0, got.err
    assert "factors" in json.loads(best.read_text())


# -- #3: split -o refuses the data and two spellings of one file ------------------------------


def test_split_refuses_to_write_over_its_input(
    events: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = events.read_bytes()
    link = tmp_path / "link.csv"
    link.symlink_to(events)
    for train in (events, link):
        line = usage_error(capsys, "split", events, "-o", train, tmp_path / "t.csv", "--force")
        assert "is the input data" in line and str(train) in line
    assert events.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv"]


def test_split_refuses_one_file_spelled_two_ways(
    events: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    line = usage_error(capsys, "split", events, "-o", "sub/../part.csv", "part.csv")
    assert "two different files" in line and "'sub/../part.csv'" in line
    (tmp_path / "a.csv").write_text("x")
    os.link(tmp_path / "a.csv", tmp_path / "b.csv")  # existing: the same inode
    line = usage_error(capsys, "split", events, "-o", "a.csv", "b.csv", "--force")
    assert "two different files" in line
    assert (tmp_path / "a.csv").read_text() == "x"


# -- #4: a closed stdout stops the report, not the save ---------------------------------------


def closed_stdout(*argv: str | Path, buffered: bool, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the command with stdout a pipe whose reader has gone (as after '| head -1')."""
    env = {**os.environ, "PYTHONPATH": SRC, "OPENBLAS_NUM_THREADS": "1"}
    if buffered:
        env.pop("PYTHONUNBUFFERED", None)
    else:
        env["PYTHONUNBUFFERED"] = "1"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "alsrec", *map(str, argv)],
            cwd=cwd,
            env=env,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize("buffered", [True, False])
def test_train_saves_the_model_when_stdout_is_closed(
    events: Path, tmp_path: Path, buffered: bool
) -> None:
    proc = closed_stdout(
        "train", events, "--weight-col", "weight", "-o", "m", *SMALL, buffered=buffered,
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert Recommender.load(tmp_path / "m").params.factors == 2


def test_tune_and_split_write_their_files_when_stdout_is_closed(
    events: Path, tmp_path: Path
) -> None:
    proc = closed_stdout(
        "tune", events, "--budget", "2", "--no-progress", "--params-out", "best.json",
        "-o", "m", buffered=True, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "factors" in json.loads((tmp_path / "best.json").read_text())
    assert (tmp_path / "m" / "manifest.json").is_file()
    proc = closed_stdout("split", events, "-o", "a.csv", "b.csv", buffered=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "a.csv").is_file() and (tmp_path / "b.csv").is_file()


def test_a_query_into_a_closed_pipe_still_stops_quietly(model: Path, tmp_path: Path) -> None:
    proc = closed_stdout("recommend", model, "u1", buffered=True, cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr == ""


# -- #7: options the split method does not use ------------------------------------------------

IGNORED = [
    (["split", "--leave-k", "3"], "--leave-k", "--method leave-k-out"),
    (["split", "--method", "leave-k-out", "--test-fraction", "0.5"], "--test-fraction", "holdout"),
    (["split", "--time-mode", "per-user"], "--time-mode", "--method time"),
    (["split", "--time-col", "ts"], "--time-col", "--method time"),
    (["evaluate", "--leave-k", "3"], "--leave-k", "--split leave-k-out"),
    (["evaluate", "--split", "leave-k-out", "--test-fraction", "0.3"], "--test-fraction", "time"),
    (["evaluate", "--time-mode", "global"], "--time-mode", "--split time"),
]


@pytest.mark.parametrize(("argv", "flag", "method"), IGNORED)
def test_a_split_option_the_method_does_not_use_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], flag: str, method: str
) -> None:
    command, *rest = argv
    outputs = ["-o", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")] if command == "split" else []
    missing = tmp_path / "missing.csv"  # refused before the data is read (else exit code 3)
    line = usage_error(capsys, command, missing, *rest, *outputs)
    assert flag in line and method in line


def test_split_options_the_method_uses_are_accepted_even_at_their_defaults(
    events: Path, tmp_path: Path
) -> None:
    for extra in (
        ["--method", "leave-k-out", "--leave-k", "1"],
        ["--method", "time", "--time-col", "ts", "--time-mode", "global", "--test-fraction", "0.2"],
        ["--test-fraction", "0.2"],
    ):
        got = main("split", events, "--weight-col", "weight", *extra, "-o", tmp_path / "a.csv",
                   tmp_path / "b.csv", "--force")  # fmt: skip
        assert got.code == 0, (extra, got.err)
    got = main("split", events, "--weight-col", "weight", "--method", "leave-k-out", "-o",
               tmp_path / "a.csv",
               tmp_path / "b.csv", "--force")  # fmt: skip
    assert "Split: leave-k-out (k 1" in got.out


def test_evaluate_with_test_refuses_split_options(
    model: Path, events: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = usage_error(capsys, "evaluate", model, "--test", events, "--leave-k", "2")
    assert "--leave-k" in line and "--test" in line


# -- #8: a header-less input gives header-less output -----------------------------------------


def test_split_of_a_headerless_file_reads_back_with_the_same_flags(tmp_path: Path) -> None:
    rows = [(f"i{k % 7}", f"u{k % 5}") for k in range(30)]  # item first, then user
    (tmp_path / "nohdr.csv").write_text("".join(f"{i},{u}\n" for i, u in rows))
    flags = ["--no-header", "--user-col", "1", "--item-col", "0"]
    got = main("split", tmp_path / "nohdr.csv", *flags, "-o", tmp_path / "tr.csv",
               tmp_path / "te.csv")  # fmt: skip
    assert got.code == 0, got.err
    pairs: set[tuple[object, object]] = set()
    for name in ("tr.csv", "te.csv"):
        assert not (tmp_path / name).read_text().startswith(("user", "item"))
        part = Interactions.from_csv(tmp_path / name, user=1, item=0, header=False)
        rows_, cols = part.matrix.nonzero()
        users, items = part.users.ids[rows_].tolist(), part.items.ids[cols].tolist()
        pairs |= set(zip(users, items, strict=True))
    assert pairs == {(u, i) for i, u in rows}


def test_split_with_a_header_keeps_the_input_names(events: Path, tmp_path: Path) -> None:
    got = main("split", events, "--user-col", "user", "--item-col", "item", "--weight-col",
               "weight", "-o", tmp_path / "a.csv", tmp_path / "b.csv")  # fmt: skip
    assert got.code == 0, got.err
    assert (tmp_path / "a.csv").read_text().startswith("user,item,weight\n")
    # Columns found by their names are written under the first common names, which the
    # same (absent) flags find again.
    got = main("split", events, "--weight-col", "weight", "-o", tmp_path / "c.csv",
               tmp_path / "d.csv")  # fmt: skip
    assert got.code == 0, got.err
    assert (tmp_path / "c.csv").read_text().startswith("user_id,item_id,weight\n")
    again = main("train", tmp_path / "c.csv", "--weight-col", "weight", "-o", tmp_path / "m")
    assert again.code == 0, again.err


# -- #9: an unknown --encoding is a usage error -----------------------------------------------


@pytest.mark.parametrize("name", ["latin9x", "utf8-bom", "rot13"])
def test_an_unknown_encoding_is_a_usage_error(
    events: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    line = usage_error(capsys, "train", events, "-o", tmp_path / "m", "--encoding", name)
    assert f"'{name}'" in line and "--encoding" in line and "utf-8" in line
    assert not (tmp_path / "m").exists()


def test_a_known_encoding_is_accepted(events: Path, tmp_path: Path) -> None:
    got = main("train", events, "--weight-col", "weight", "-o", tmp_path / "m", *SMALL,
               "--encoding", "latin-1")  # fmt: skip
    assert got.code == 0, got.err


# -- #11: directory outputs, and write errors that name the user's path -----------------------


def test_an_output_that_is_a_directory_is_refused_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "outdir").mkdir()
    missing = tmp_path / "missing.csv"
    line = usage_error(capsys, "tune", missing, "--params-out", tmp_path / "outdir")
    assert "is a directory" in line and str(tmp_path / "outdir") in line
    line = usage_error(capsys, "split", missing, "-o", tmp_path / "outdir", tmp_path / "t.csv",
                       "--force")  # fmt: skip
    assert "is a directory" in line and ".tmp" not in line


def test_a_full_disk_names_the_output(
    events: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    got = main("split", events, "--weight-col", "weight", "-o", tmp_path / "a.csv",
               tmp_path / "b.csv")  # fmt: skip
    assert got.code == 3
    assert f"Cannot write '{tmp_path / 'a.csv'}': No space left on device" in got.err
    assert list(tmp_path.iterdir()) == []


def test_the_writer_names_the_destination_not_its_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()  # replacing a directory with a file fails
    with (
        pytest.raises(DataError, match=r"Cannot write '.*taken'") as caught,
        atomic_files([target]) as (handle,),
    ):
        handle.write("x")
    assert ".tmp" not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


# -- #12: inspect fails on a model with problems ----------------------------------------------


def damaged_copy(model: Path, target: Path) -> Path:
    """A copy of ``model`` with NaN in an item factor row (the hashes updated to match: the
    files are intact, the model inside is not)."""
    target.mkdir()
    for f in model.iterdir():
        (target / f.name).write_bytes(f.read_bytes())
    factors = np.load(target / "item_factors.npy")
    factors[1, :] = np.nan
    np.save(target / "item_factors.npy", factors)
    manifest = json.loads((target / "manifest.json").read_text())
    digest = hashlib.sha256((target / "item_factors.npy").read_bytes()).hexdigest()
    manifest["arrays"]["item_factors"]["sha256"] = digest
    manifest[MANIFEST_DIGEST] = manifest_digest(manifest)
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def test_inspect_exits_3_when_the_report_has_problems(model: Path, tmp_path: Path) -> None:
    bad = damaged_copy(model, tmp_path / "bad")
    table = main("inspect", bad)
    assert table.code == 3
    assert "status: PROBLEMS" in table.out and "NaN" in table.out
    assert table.err.startswith("alsrec: error:") and str(bad) in table.err
    data = main("inspect", bad, "--format", "json")
    assert data.code == 3 and json.loads(data.out)["ok"] is False
    good = main("inspect", model)
    assert good.code == 0 and good.err == ""


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_model_without_a_readable_manifest_gets_advice_that_works(
    model: Path, events: Path, tmp_path: Path, damage: str
) -> None:
    # It said "Save a model there with alsrec train -o DIR", which train then refused.
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in model.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    if damage == "missing":
        (broken / "manifest.json").unlink()
    else:
        (broken / "manifest.json").write_bytes((model / "manifest.json").read_bytes()[:50])
    got = main("recommend", broken, "u1")
    assert got.code == 3 and "Save a model there" not in got.err
    assert "alsrec train -o DIR will not replace it" in got.err
    assert "Save the model to another path, or delete this directory first." in got.err
    refused = main("train", events, "-o", broken, "--force", *SMALL)
    assert refused.code == 2 and "not an alsrec artifact" in refused.err
    elsewhere = tmp_path / "elsewhere"
    assert main("train", events, "--weight-col", "weight", "-o", elsewhere, *SMALL).code == 0


_NO_USER = "~alsrec-no-such-user-7f3a"


@pytest.mark.skipif(sys.platform == "win32", reason="'~user' is a POSIX lookup")
@pytest.mark.parametrize("command", ["inspect", "recommend", "train"])
def test_a_home_directory_that_does_not_exist_is_an_artifact_error(
    events: Path, command: str
) -> None:
    # pathlib's expanduser() raised a bare RuntimeError: "internal error", exit code 1.
    argv = {
        "inspect": ("inspect", f"{_NO_USER}/m"),
        "recommend": ("recommend", f"{_NO_USER}/m", "u1"),
        "train": ("train", events, "--weight-col", "weight", "-o", f"{_NO_USER}/m", *SMALL),
    }[command]
    got = main(*argv)
    assert got.code == 3 and "internal error" not in got.err
    assert f"'{_NO_USER}/m': '{_NO_USER}' names no home directory" in got.err


@pytest.mark.skipif(sys.platform == "win32", reason="HOME is the home directory on POSIX")
def test_train_checks_the_output_directory_the_save_writes(
    events: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # -o '~/m' was checked as written (./~/m) while the save expanded '~'.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)  # no directory named '~' here
    got = main("train", events, "--weight-col", "weight", "-o", "~/m", *SMALL)
    assert got.code == 0, got.err
    assert Recommender.load(home / "m").items_.ids.size > 0
    again = main("train", events, "--weight-col", "weight", "-o", "~/m", *SMALL)
    assert again.code == 2 and f"{str(home / 'm')!r} already exists" in again.err


def test_inspect_help_documents_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["inspect", "--help"])
    assert "code 3" in capsys.readouterr().out


# -- #13: the command line's words, not Python's ----------------------------------------------

PYTHON_WORDS = ("rec.save", "history=", "alsrec.backends", "IdMapper", "codec", "from_ids")


def no_python(text: str) -> str:
    assert not any(word in text for word in PYTHON_WORDS), text
    return text


def test_messages_name_commands_and_flags(
    model: Path, events: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    got = main("recommend", tmp_path / "no_such_dir", "u1")
    assert got.code == 3 and "alsrec train -o DIR" in no_python(got.err)
    got = main("explain", model, "nobody", "i1", "--policy", "strict")
    assert got.code == 4 and "Pass --history to explain" in no_python(got.err)
    line = usage_error(capsys, "train", events, "-o", tmp_path / "m", "--backend", "cuda")
    assert "'cuda'" in no_python(line)


def test_an_integer_id_beyond_64_bits_is_called_out_of_range(tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    huge.write_text("user,item\n9223372036854775807,1\n9223372036854775808,2\n")
    got = main("train", huge, "-o", tmp_path / "m")
    assert got.code == 3
    assert "'9223372036854775808' is outside the 64-bit integer range" in got.err
    assert "written plainly" not in got.err and "--user-type str" in got.err


def test_the_plainly_written_rule_is_kept_for_ids_that_are_not_plain() -> None:
    message = (
        "f.csv, line 3, column 'user': user ID '007' is not an integer written plainly "
        "(digits, optional '-', no leading zeros), but the column was declared integer "
        "(user_type='int'). Mixed ID types in one column: pass user_type='str' to read every "
        "ID in it as text."
    )
    assert "written plainly" in cli_words(message) and "--user-type str" in cli_words(message)


def test_an_ids_file_that_is_not_utf8_names_the_line(model: Path, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_bytes(b"u1\nu2\xff\n")
    got = main("recommend", model, "--users-file", ids)
    assert got.code == 3
    assert "line 2" in no_python(got.err) and "not UTF-8" in got.err and "0xff" in got.err


def test_a_duplicate_id_in_an_artifact_is_reported_without_python_advice(
    model: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "dup"
    bad.mkdir()
    for f in model.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    ids = np.load(bad / "user_ids.npy")
    ids[2] = ids[0]
    np.save(bad / "user_ids.npy", ids)
    manifest = json.loads((bad / "manifest.json").read_text())
    digest = hashlib.sha256((bad / "user_ids.npy").read_bytes()).hexdigest()
    manifest["arrays"]["user_ids"]["sha256"] = digest
    (bad / "manifest.json").write_text(json.dumps(manifest))
    got = main("recommend", bad, "u1")
    assert got.code == 3
    assert "must be unique" in no_python(got.err) and "retrain" in got.err


def test_train_help_names_no_python_api(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for word in ("alsrec.", "_many", "regularization_scale", "regularization_reference"):
        assert word not in text, word
    assert "--regularization-scale" in text


# -- #14: the demo does not call a loss a gain ------------------------------------------------


def test_demo_says_when_the_model_loses_to_popularity() -> None:
    got = main("demo", "--iterations", "0")
    assert got.code == 0, got.err
    last = got.out.strip().splitlines()[-1]
    assert "LOSES" in last and "better" not in last
    assert demo_command._comparison(0.2, 0.1).startswith("the model is 2.00x better")
    assert "LOSES" in demo_command._comparison(0.1, 0.1)


# -- smaller observations ---------------------------------------------------------------------


def test_a_missing_column_suggests_no_header(tmp_path: Path) -> None:
    (tmp_path / "nohdr.csv").write_text("u1,i1,3\nu2,i1,2\n")
    got = main("train", tmp_path / "nohdr.csv", "-o", tmp_path / "m")
    assert got.code == 3 and "--no-header" in got.err and "--user-col" in got.err
    (tmp_path / "named.csv").write_text("who,what\nu1,i1\n")  # a header: no hint
    got = main("train", tmp_path / "named.csv", "-o", tmp_path / "m")
    assert got.code == 3 and "--user-col" in got.err and "--no-header" not in got.err
    assert "named like the user IDs (user_id, user, userId" in got.err


@pytest.mark.filterwarnings("default::alsrec.exceptions.AlsrecWarning")  # shown as a note
def test_no_header_on_a_file_with_a_header_is_noted(tmp_path: Path) -> None:
    (tmp_path / "named.csv").write_text("user_id,item_id\nu1,i1\nu2,i1\n")
    got = main("train", tmp_path / "named.csv", "-o", tmp_path / "m", "--no-header",
               "--user-col", "0", "--item-col", "1")  # fmt: skip
    assert got.code == 0
    assert "alsrec: note: " in got.err and "looks like a header" in got.err
    assert "leave --no-header out" in got.err and "header=False" not in got.err


def test_an_ambiguous_first_line_asks_for_the_delimiter(tmp_path: Path) -> None:
    (tmp_path / "tags.csv").write_text("u1,rock|indie|live\nu2,pop\n")
    flags = ["--no-header", "--user-col", "0", "--item-col", "1", "-o", str(tmp_path / "m")]
    got = main("train", tmp_path / "tags.csv", *flags)
    assert got.code == 3 and "--delimiter , or --delimiter '|'" in no_python(got.err)
    assert "delimiter=" not in got.err
    got = main("train", tmp_path / "tags.csv", *flags, "--delimiter", ",")
    assert got.code == 0, got.err


def test_a_parquet_file_is_named_and_converting_it_is_suggested(tmp_path: Path) -> None:
    (tmp_path / "plays.parquet").write_bytes(b"PAR1" + b"\x00" * 40 + b"PAR1")
    got = main("train", tmp_path / "plays.parquet", "-o", tmp_path / "m")
    assert got.code == 3 and "is a Parquet file" in got.err and "to_csv" in got.err
    assert "from_frame" not in got.err and "encoding" not in got.err


def test_evaluate_of_a_model_directory_points_at_test(
    model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = usage_error(capsys, "evaluate", model)
    assert "--test FILE" in line and str(model) in line


# -- a second newcomer's review (2026-12-04) ------------------------------------------------


def test_options_may_come_between_the_model_and_the_ids(model: Path) -> None:
    for argv in (
        ("recommend", model, "-n", "1", "u1", "u2"),
        ("recommend", model, "--policy", "strict", "u1", "-n", "1", "u2"),
    ):
        got = main(*argv)
        assert got.code == 0, got.err
        assert [line.split()[0] for line in got.out.splitlines()[1:]] == ["u1", "u2"]
    got = main("similar-items", model, "-n", "1", "i1", "--format", "json")
    assert got.code == 0 and json.loads(got.out)[0]["item"] == "i1"


def test_an_ids_file_with_a_byte_order_mark_keeps_its_first_id(model: Path, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_bytes(b"\xef\xbb\xbfu1\r\nu2\r\n")  # Notepad's UTF-8
    got = main("recommend", model, "--users-file", ids, "--policy", "strict", "-n", "1")
    assert got.code == 0, got.err
    assert "fallback" not in got.out and got.out.splitlines()[1].split()[0] == "u1"


def test_saved_model_evaluation_refuses_split_and_training_flags(
    model: Path, events: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for flag, value in (("--split", "time"), ("--backend", "implicit"), ("--progress", None)):
        extra = (flag,) if value is None else (flag, value)
        line = usage_error(capsys, "evaluate", model, "--test", events, *extra)
        assert flag in line and "--test" in line


def test_a_dash_is_not_an_output_file_and_utf16_is_named(
    events: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    line = usage_error(capsys, "split", events, "-o", "-", "test.csv")
    assert "-o -" in line and "standard output" in line
    assert not (tmp_path / "-").exists() and not (tmp_path / "test.csv").exists()
    wide = tmp_path / "wide.txt"
    wide.write_bytes(events.read_text().encode("utf-16"))  # with its byte-order mark
    got = main("train", wide, "--weight-col", "weight", "-o", tmp_path / "m")
    assert got.code == 3 and "--encoding utf-16" in no_python(got.err)
    got = main("train", wide, "--weight-col", "weight", "--encoding", "utf-16", "-o", "m")
    assert got.code == 0, got.err


def test_zero_iterations_get_a_note_and_a_budget_of_one_runs(events: Path, tmp_path: Path) -> None:
    got = main("train", events, "--weight-col", "weight", "--iterations", "0", "-o", tmp_path / "m")
    assert got.code == 0 and "--iterations 0 keeps the random initialization" in got.err
    got = main("tune", events, "--weight-col", "weight", "--budget", "1", "--no-progress")
    assert got.code == 0, got.err
    assert "1 trial," in got.out


# -- a fresh review (2026-12-05): abbreviations, flags in messages, the model directory -------


def test_options_are_never_abbreviated(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # argparse would read "--users U1" as "--users-file U1" and then fail to open "U1"
    line = usage_error(capsys, "recommend", model, "--users", "u1")
    assert "unrecognized arguments: --users u1" in line


def test_an_id_type_mismatch_is_told_in_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "ints.csv"
    data.write_text("user,item\n1,10\n1,11\n2,10\n3,11\n3,12\n")
    assert main("train", data, *SMALL, "-o", tmp_path / "m").code == 0
    got = main("evaluate", tmp_path / "m", "--test", data, "--user-type", "str")
    assert got.code != 0
    assert "pass --user-type int (or leave --user-type out)" in got.err
    assert "convert them" not in got.err


def test_the_current_directory_is_refused_before_training(
    events: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    got = main("train", events, *SMALL, "-o", ".", "--force")
    assert got.code != 0 and "needs a directory of its own" in got.err
    assert "Trained" not in got.out  # refused up front, not after the work
    assert list(empty.iterdir()) == []


def test_a_known_user_without_signal_is_not_called_unknown(tmp_path: Path) -> None:
    fitted = Recommender(factors=2, iterations=2, random_state=0).fit(
        ["u1", "u1", "u2", "u3"], ["a", "b", "a", "c"]
    )
    # a user whose only item is new: updated() leaves both factor rows zero
    fitted.updated(["LONER"], ["ITEMX"]).save(tmp_path / "m")
    got = main("recommend", tmp_path / "m", "LONER", "-n", "2")
    assert got.code == 0
    assert "1 known user ID(s) got the most popular items" in got.err
    assert "unknown user" not in got.err
    why = main("explain", tmp_path / "m", "LONER", "a")
    assert "has an all-zero factor row" in why.err


def test_train_says_the_policy_is_not_stored(events: Path, tmp_path: Path) -> None:
    got = main(
        "train",
        events,
        *SMALL,
        "--weight-col",
        "weight",
        "--policy",
        "strict",
        "-o",
        tmp_path / "m",
    )
    assert got.code == 0 and "a model does not store its policy" in got.err
    assert Recommender.load(tmp_path / "m").policy == "safe"


def test_the_demo_does_not_point_at_a_flag_it_lacks(capsys: pytest.CaptureFixture[str]) -> None:
    got = main("demo", "--policy", "strict")
    text = got.out + got.err + capsys.readouterr().out
    assert got.code == 0 and "--history" not in text
    assert "--policy safe answers with the most popular items" in text
