"""Hostile artifacts and unlucky timing (issue 18, items 2, 3, 6, 15 and 16).

The command-line side of items 3 and 15 is in ``tests/cli/test_hostile_cli.py``.

Only the public API is used: ``Recommender.save``/``load``, the files of the documented
artifact format (a directory of ``.npy`` files and ``manifest.json``), and the CLI. Crashes
are real: a child process dies in the middle of ``save``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import scipy.sparse as sp

import alsrec
from alsrec import AlsrecWarning, ArtifactError, DataError, Interactions, Recommender
from alsrec.io.format import MANIFEST_DIGEST, manifest_digest

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextmanager
def peak_bytes() -> Iterator[list[int]]:
    """A one-element list holding the traced peak allocation once the block ends."""
    out = [0]
    tracemalloc.start()
    try:
        yield out
    finally:
        out[0] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


SRC = str(Path(alsrec.__file__).resolve().parents[1])
"""The ``src`` directory of this checkout, for the child processes."""


def make_model(seed: int, n_users: int = 50, n_items: int = 30, factors: int = 4) -> Recommender:
    """A model with seen items; models of one size differ only in their values."""
    rng = np.random.default_rng(seed)
    seen = sp.random(n_users, n_items, density=0.2, random_state=seed, format="csr") * 5 + 0
    seen.data += 1.0
    return Recommender.from_factors(
        rng.standard_normal((n_users, factors)).astype(np.float32),
        rng.standard_normal((n_items, factors)).astype(np.float32),
        [seed * 1_000_000 + k for k in range(n_users)],
        [seed * 1_000_000 + k for k in range(n_items)],
        seen=seen,
    )


def identical(a: Recommender, b: Recommender) -> bool:
    seen_a, seen_b = a.seen_, b.seen_
    assert seen_a is not None and seen_b is not None
    return bool(
        np.array_equal(a.user_factors_, b.user_factors_)
        and np.array_equal(a.item_factors_, b.item_factors_)
        and np.array_equal(a.users_.ids, b.users_.ids)
        and np.array_equal(a.items_.ids, b.items_.ids)
        and (seen_a != seen_b).nnz == 0
        and a.recommend(-1, n=5) == b.recommend(-1, n=5)
    )


def rewrite_array(artifact: Path, name: str, arr: np.ndarray[Any, Any]) -> None:
    """Replace one array file and fix its manifest entry and checksum, as a forger would."""
    np.save(artifact / f"{name}.npy", arr, allow_pickle=False)
    raw = (artifact / f"{name}.npy").read_bytes()
    manifest = json.loads((artifact / "manifest.json").read_text())
    manifest["arrays"][name].update(
        dtype=np.lib.format.dtype_to_descr(arr.dtype),
        shape=list(arr.shape),
        bytes=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
    )
    manifest[MANIFEST_DIGEST] = manifest_digest(manifest)
    (artifact / "manifest.json").write_text(json.dumps(manifest))


def python(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
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


def hidden_siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}"))


@pytest.mark.parametrize("mmap", [True, False])
def test_a_loaded_model_keeps_its_answers_when_a_save_replaces_its_directory(
    tmp_path: Path, mmap: bool
) -> None:
    # What the guides advise instead of copying files over a served artifact: a save never
    # changes a file in place, so a model memory-mapped from the old files is unaffected.
    path = make_model(1).save(tmp_path / "model")
    served = Recommender.load(path, mmap=mmap)
    reference = Recommender.load(path, mmap=False)
    make_model(2).save(path)
    assert identical(served, reference)
    assert Recommender.load(path).users_.ids[0] == 2_000_000


# -- item 2: loading while another process saves over the same path ---------------------------

WRITER = """
import sys, time
from pathlib import Path
from alsrec import Recommender
a, b = Recommender.load(sys.argv[1], mmap=False), Recommender.load(sys.argv[2], mmap=False)
target, stop, ready = Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5])
deadline = time.monotonic() + 60
saves = 0
while not stop.exists() and time.monotonic() < deadline:
    (a if saves % 2 == 0 else b).save(target)
    saves += 1
    ready.touch()
print(saves)
"""


@pytest.mark.parametrize("verify", [True, False], ids=["verify", "no-verify"])
def test_load_during_concurrent_saves_sees_one_whole_artifact(tmp_path: Path, verify: bool) -> None:
    a, b = make_model(1, 2000, 300, 16), make_model(2, 2000, 300, 16)
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    target, stop, ready = tmp_path / "shared" / "model", tmp_path / "stop", tmp_path / "ready"
    a.save(target)
    env = {**os.environ, "PYTHONPATH": SRC, "OPENBLAS_NUM_THREADS": "1"}
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRITER,
            str(tmp_path / "a"),
            str(tmp_path / "b"),
            str(target),
            str(stop),
            str(ready),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    failures: list[str] = []
    seen_models = {"a": 0, "b": 0}
    loads = 0
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and writer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        deadline = time.monotonic() + 15
        while loads < 150 and time.monotonic() < deadline:
            loads += 1
            try:
                got = Recommender.load(target, mmap=False, verify=verify)
            except ArtifactError as exc:
                failures.append(str(exc))
                continue
            if identical(got, a):
                seen_models["a"] += 1
            elif identical(got, b):
                seen_models["b"] += 1
            else:
                failures.append("a load mixed the files of the two models")
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert int(out) > 2, "the writer never got going"
    assert not [f for f in failures if "checksum mismatch" in f], failures[:3]
    assert not failures, f"{len(failures)} of {loads} loads failed, e.g. {failures[:3]}"
    assert seen_models["a"] + seen_models["b"] == loads


# -- item 3: a crash in the middle of save ----------------------------------------------------

CRASH_AFTER_FIRST_RENAME = """
import os, sys
import numpy as np
from alsrec import Recommender
new = Recommender.from_factors(np.eye(3), np.eye(3), [7, 8, 9], [1, 2, 3])
real = os.replace
def crashing(src, dst, *a, **k):
    real(src, dst, *a, **k)
    os._exit(9)  # the machine dies right after the first rename
os.replace = crashing
new.save(sys.argv[1])
"""

CRASH_WHILE_WRITING = """
import os, sys
import numpy as np
from alsrec import Recommender
new = Recommender.from_factors(np.eye(3), np.eye(3), [7, 8, 9], [1, 2, 3])
real, calls = os.fsync, [0]
def crashing(fd):
    calls[0] += 1
    if calls[0] == 3:
        os._exit(9)  # killed with some array files written
    real(fd)
os.fsync = crashing
new.save(sys.argv[1])
"""


NO_EXCHANGE = """
import importlib
importlib.import_module("alsrec.io.save")._exchange = lambda a, b: False
"""


@pytest.mark.parametrize("exchange", [True, False], ids=["native", "two-renames"])
def test_a_crash_between_the_renames_leaves_a_loadable_artifact(
    tmp_path: Path, exchange: bool
) -> None:
    """Natively (Linux) there is no "between"; with the two-rename fallback of other
    systems the process dies between them, and load finds the kept copy, with a warning."""
    old = make_model(3)
    path = old.save(tmp_path / "model")
    script = CRASH_AFTER_FIRST_RENAME
    if not exchange:
        script = script.replace("new.save(", NO_EXCHANGE + "new.save(")
    proc = python(script, str(path), cwd=tmp_path)
    # 9: died after the first rename; 0: the save swaps without os.replace (an atomic
    # exchange), so there was no "between" to die in
    assert proc.returncode in ((0, 9) if exchange else (9,)), proc.stderr
    if proc.returncode == 9:
        with pytest.warns(AlsrecWarning, match="interrupted"):
            loaded = Recommender.load(path)
    else:
        loaded = Recommender.load(path)
    new = Recommender.from_factors(np.eye(3), np.eye(3), [7, 8, 9], [1, 2, 3])
    if loaded.users_.kind == "int" and loaded.users_.ids.tolist() == [7, 8, 9]:
        np.testing.assert_array_equal(loaded.user_factors_, new.user_factors_)
    else:
        assert identical(loaded, old)


def test_leftovers_of_crashed_saves_are_cleaned_up(tmp_path: Path) -> None:
    path = make_model(4).save(tmp_path / "model")
    assert python(CRASH_WHILE_WRITING, str(path), cwd=tmp_path).returncode == 9
    # checked here: a save that swaps atomically (exit code 0 below) cleans up after the
    # first crash, as the next one should
    assert hidden_siblings(path), "the crash left nothing behind: the test is void"
    assert python(CRASH_AFTER_FIRST_RENAME, str(path), cwd=tmp_path).returncode in (0, 9)
    fresh = make_model(5)
    fresh.save(path)
    assert hidden_siblings(path) == []
    assert identical(Recommender.load(path), fresh)


def test_a_running_save_is_not_taken_for_a_leftover(tmp_path: Path) -> None:
    """Only directories whose save died are removed: a live save holds a lock on its own."""
    path = make_model(14).save(tmp_path / "model")
    live = tmp_path / ".model.tmp-0123456789ab"
    live.mkdir()
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        make_model(15).save(path)
        assert live.exists()
    finally:
        os.close(fd)
    make_model(15).save(path)
    assert hidden_siblings(path) == []


def test_save_refuses_an_artifact_holding_other_files(tmp_path: Path) -> None:
    path = make_model(16).save(tmp_path / "model")
    (path / "events.csv").write_text("user,item\n1,2\n")
    with pytest.raises(ArtifactError, match=r"also holds other files \(events\.csv\)"):
        make_model(17).save(path)
    assert (path / "events.csv").read_text() == "user,item\n1,2\n"


# -- item 6: seen_data is validated at load ------------------------------------------------------


@pytest.mark.parametrize(
    "bad", [np.nan, -1e30, np.inf, -1.0], ids=["nan", "huge-neg", "inf", "neg"]
)
def test_invalid_seen_data_is_refused_at_load(tmp_path: Path, bad: float) -> None:
    rec = make_model(6)
    path = rec.save(tmp_path / "model")
    seen = rec.seen_
    assert seen is not None
    data = np.asarray(seen.data, dtype=np.float32).copy()
    data[len(data) // 2] = bad
    rewrite_array(path, "seen_data", data)
    with pytest.raises(ArtifactError, match="seen_data"):
        Recommender.load(path)


def test_save_refuses_invalid_seen_weights(tmp_path: Path) -> None:
    """What load refuses, save does not write (building the model refuses it first; a
    seen matrix edited in place afterwards is still caught)."""
    seen = sp.csr_matrix(np.array([[1.0, -2.0], [0.0, 3.0]], dtype=np.float32))
    with pytest.raises(DataError, match=r"seen holds non-positive weights.*row 0, column 1"):
        Recommender.from_factors(np.eye(2), np.eye(2), [1, 2], [3, 4], seen=seen)
    rec = Recommender.from_factors(np.eye(2), np.eye(2), [1, 2], [3, 4], seen=abs(seen))
    assert rec.seen_ is not None
    with pytest.raises(ValueError, match="read-only"):  # not through the model
        rec.seen_.data[1] = -2.0
    # A fitted model shares its seen matrix with the caller's Interactions, which stay
    # writeable: an edit there after the fit is still caught when saving.
    data = Interactions.from_arrays([1, 1, 2], [3, 4, 4], [1.0, 2.0, 3.0])
    fitted = Recommender(factors=2, iterations=1, random_state=0).fit(data)
    data.matrix.data[1] = -2.0
    with pytest.raises(ArtifactError, match="non-positive weights"):
        fitted.save(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


# -- item 15: forged sizes, huge and deeply nested manifests ------------------------------------

FORGED_BYTES = 96 << 20  # a 96 MiB claim; the file is sparse, a few kB on disk


def forge_sparse_array(artifact: Path, name: str, shape: tuple[int, ...], dtype: str) -> None:
    """Replace ``name`` by a sparse .npy file whose header (and manifest entry) claim
    ``shape``, as a few-kB download would (checksum left stale)."""
    fpath = artifact / f"{name}.npy"
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    with fpath.open("wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        offset = fh.tell()
    size = offset + int(np.prod(shape)) * np.dtype(dtype).itemsize
    os.truncate(fpath, size)
    manifest = json.loads((artifact / "manifest.json").read_text())
    manifest["arrays"][name].update(dtype=dtype, shape=list(shape), bytes=size)
    (artifact / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("name", "shape", "dtype"),
    [
        ("item_ids", (FORGED_BYTES // 8,), "<i8"),
        ("popular_order", (FORGED_BYTES // 8,), "<i8"),
        ("seen_indices", (FORGED_BYTES // 8,), "<i8"),
        ("user_factors", (FORGED_BYTES // 16, 4), "<f4"),
    ],
)
@pytest.mark.parametrize("verify", [True, False], ids=["verify", "no-verify"])
def test_a_forged_array_shape_is_refused_before_reading(
    tmp_path: Path, name: str, shape: tuple[int, ...], dtype: str, verify: bool
) -> None:
    path = make_model(7).save(tmp_path / "model")
    forge_sparse_array(path, name, shape, dtype)
    with peak_bytes() as peak, pytest.raises(ArtifactError, match=r"\.npy|manifest"):
        Recommender.load(path, mmap=False, verify=verify)
    assert peak[0] < 8 << 20, f"peak {peak[0] / 2**20:.0f} MiB before refusing"


def test_a_huge_manifest_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = make_model(8).save(tmp_path / "model")
    manifest = path / "manifest.json"
    os.truncate(manifest, 48 << 20)  # the JSON, then 48 MiB of sparse NUL bytes
    with peak_bytes() as peak, pytest.raises(ArtifactError, match="manifest"):
        Recommender.load(path)
    assert peak[0] < 8 << 20, f"peak {peak[0] / 2**20:.0f} MiB reading the manifest"


@pytest.fixture
def nested_manifest(tmp_path: Path) -> Path:
    path = make_model(9).save(tmp_path / "model")
    (path / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)
    return path


def test_a_deeply_nested_manifest_is_an_artifact_error_on_load(nested_manifest: Path) -> None:
    with pytest.raises(ArtifactError, match="manifest"):
        Recommender.load(nested_manifest)


def test_a_deeply_nested_manifest_is_refused_by_save(nested_manifest: Path) -> None:
    with pytest.raises(ArtifactError):
        make_model(10).save(nested_manifest)
    assert (nested_manifest / "manifest.json").stat().st_size == 400_000


# -- item 16: array files that are symbolic links -------------------------------------------------


@pytest.mark.parametrize("name", ["user_factors", "item_ids", "seen_data"])
def test_a_symlinked_array_file_is_refused(tmp_path: Path, name: str) -> None:
    path = make_model(11).save(tmp_path / "model")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = outside / f"{name}.npy"
    (path / f"{name}.npy").rename(target)  # the same bytes: every checksum still matches
    (path / f"{name}.npy").symlink_to(target)
    with pytest.raises(ArtifactError, match=name):
        Recommender.load(path)


def test_a_symlinked_manifest_is_refused(tmp_path: Path) -> None:
    path = make_model(12).save(tmp_path / "model")
    target = tmp_path / "manifest-elsewhere.json"
    (path / "manifest.json").rename(target)
    (path / "manifest.json").symlink_to(target)
    with pytest.raises(ArtifactError, match="manifest"):
        Recommender.load(path)


def test_an_artifact_reached_through_a_symlinked_directory_loads(tmp_path: Path) -> None:
    """The artifact itself may be behind a link (a 'current' pointer); this holds today."""
    rec = make_model(13)
    path = rec.save(tmp_path / "v1")
    (tmp_path / "current").symlink_to(path, target_is_directory=True)
    assert identical(Recommender.load(tmp_path / "current"), rec)


def test_a_save_that_loses_the_race_to_a_new_path_replaces_the_winner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two saves to one new path: both see it absent, the first rename wins, and the
    second, finding an artifact there, replaces it as it would an existing one (it used
    to fail with the rename's "[Errno 39] Directory not empty")."""
    first = Recommender.from_factors(np.eye(2), np.eye(2), ["u", "v"], ["a", "b"])
    second = Recommender.from_factors(2 * np.eye(2), np.eye(2), ["u", "v"], ["a", "b"])
    dest = tmp_path / "m"
    real_replace = os.replace
    raced: list[bool] = []

    def racing(src: Any, dst: Any) -> None:
        if Path(dst) == dest and not raced:
            raced.append(True)
            first.save(dest)  # the other save lands first
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", racing)
    second.save(dest)
    monkeypatch.undo()
    assert raced
    np.testing.assert_array_equal(Recommender.load(dest).user_factors_, 2 * np.eye(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_a_save_inside_an_artifact_is_refused(tmp_path: Path) -> None:
    rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u", "v"], ["a", "b"])
    outer = rec.save(tmp_path / "model")
    with pytest.raises(ArtifactError, match=r"model is an alsrec artifact.*Save next to it"):
        rec.save(outer / "backup")
    with pytest.raises(ArtifactError, match="is an alsrec artifact"):
        rec.save(outer / "deeper" / "backup")
    assert sorted(p.name for p in outer.iterdir()) == sorted(
        p.name for p in rec.save(tmp_path / "again").iterdir()
    )
    rec.save(outer)  # the re-save of the artifact itself still works
