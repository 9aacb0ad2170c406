"""Artifacts: the safe on-disk format, every kind of damage, atomic saves, legacy pickles."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import warnings
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alsrec import (
    AlsrecWarning,
    ArtifactError,
    ConfigError,
    MappingMismatchError,
    NotFittedError,
    Recommender,
)
from alsrec.artifacts import (
    FORMAT_VERSION,
    InspectionReport,
    import_legacy_pickle,
    inspect_artifact,
    inspect_model,
    load,
    read_manifest,
    save,
)
from alsrec.io.format import MANIFEST_DIGEST, manifest_digest

if TYPE_CHECKING:
    from collections.abc import Callable

Floats = npt.NDArray[np.float32]
SRC = Path(__file__).resolve().parents[2] / "src"


# -- helpers ----------------------------------------------------------------------------------


def _unstamped(report: InspectionReport) -> InspectionReport:
    """``report`` without the created time and version that only saved models carry."""
    return dataclasses.replace(report, created=None, alsrec_version=None)


def _small(seen: bool = True, str_ids: bool = True) -> Recommender:
    rng = np.random.default_rng(3)
    users = [f"u{i}" for i in range(6)] if str_ids else [10 * i + 1 for i in range(6)]
    items = [f"i{i}" for i in range(9)] if str_ids else [7 * i + 2 for i in range(9)]
    matrix = None
    if seen:
        matrix = sp.random(6, 9, density=0.3, random_state=4, format="csr", dtype=np.float32)
    return Recommender.from_factors(
        rng.standard_normal((6, 3)), rng.standard_normal((9, 3)), users, items, seen=matrix
    )


def _same_answers(a: Recommender, b: Recommender) -> None:
    users = [*a.users_.ids.tolist(), "nobody" if a.users_.kind == "str" else -5]
    items = a.items_.ids.tolist()
    for ra, rb in (
        (a.recommend_many(users, n=4), b.recommend_many(users, n=4)),
        (a.similar_items_many(items, n=3), b.similar_items_many(items, n=3)),
        (a.similar_users_many(users, n=3), b.similar_users_many(users, n=3)),
    ):
        np.testing.assert_array_equal(ra.ids, rb.ids)
        np.testing.assert_array_equal(ra.scores, rb.scores)
        np.testing.assert_array_equal(ra.sources, rb.sources)


def _manifest(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    return data


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Write an edited manifest with its own checksum updated, as a careful forger would."""
    if MANIFEST_DIGEST in manifest:
        manifest = {**manifest, MANIFEST_DIGEST: manifest_digest(manifest)}
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _replace_array(path: Path, name: str, arr: npt.NDArray[Any]) -> None:
    """Swap one array file and update its manifest entry, so only the content is wrong."""
    np.save(path / f"{name}.npy", arr, allow_pickle=False)
    raw = (path / f"{name}.npy").read_bytes()
    manifest = _manifest(path)
    manifest["arrays"][name] = {
        "dtype": np.lib.format.dtype_to_descr(arr.dtype),
        "shape": list(arr.shape),
        "bytes": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    _write_manifest(path, manifest)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return _small().save(tmp_path / "model")


# -- the format -------------------------------------------------------------------------------


def test_round_trip_gives_identical_answers(fitted: Recommender, tmp_path: Path) -> None:
    path = fitted.save(tmp_path / "model")
    assert isinstance(path, Path)
    for mmap in (True, False):
        again = Recommender.load(path, mmap=mmap)
        _same_answers(fitted, again)
        assert again.params == fitted.params
        assert again.backend_ == fitted.backend_ == "numpy"
        # a loaded model also knows when and by which version it was written
        assert _unstamped(again.inspect()) == (fitted.inspect())
        seen_a, seen_b = fitted.seen_, again.seen_
        assert seen_a is not None and seen_b is not None
        assert (seen_a != seen_b).nnz == 0


def test_manifest_records_versions_params_shapes_and_checksums(saved: Path) -> None:
    m = read_manifest(saved)
    assert m["format"] == "alsrec-model"
    assert m["format_version"] == FORMAT_VERSION == 1
    assert isinstance(m["alsrec_version"], str)
    assert m["created"].endswith("Z")
    assert m["backend"] == "external"
    assert m["params"]["factors"] == 3
    assert m["dtype"] == "float32"
    assert m["users"] == {"kind": "str", "count": 6, "factor_rows": 6, "unmapped_ranges": []}
    assert m["items"]["kind"] == "str"
    assert m["seen"]["shape"] == [6, 9]
    expected = {
        "user_factors",
        "item_factors",
        "user_ids",
        "item_ids",
        "popularity",
        "popular_order",
        "seen_indptr",
        "seen_indices",
        "seen_data",
    }
    assert set(m["arrays"]) == expected
    assert {p.name for p in saved.iterdir()} == {f"{n}.npy" for n in expected} | {"manifest.json"}
    for name, entry in m["arrays"].items():
        raw = (saved / f"{name}.npy").read_bytes()
        assert entry["sha256"] == hashlib.sha256(raw).hexdigest()
        assert entry["bytes"] == len(raw)
    assert m["arrays"]["user_factors"]["shape"] == [6, 3]


def test_arrays_are_plain_data_loadable_without_pickle(saved: Path) -> None:
    ids = np.load(saved / "user_ids.npy", allow_pickle=False)
    assert ids.dtype.kind == "U"
    int_path = _small(str_ids=False).save(saved.parent / "ints")
    assert np.load(int_path / "item_ids.npy", allow_pickle=False).dtype == np.int64
    for file in (*saved.glob("*.npy"), *int_path.glob("*.npy")):
        assert not np.load(file, allow_pickle=False).dtype.hasobject


def test_load_memory_maps_the_factors_read_only(saved: Path) -> None:
    mapped = Recommender.load(saved)
    assert not mapped.user_factors_.flags.writeable
    assert not mapped.item_factors_.flags.owndata
    in_memory = Recommender.load(saved, mmap=False)
    assert in_memory.user_factors_.base is None or in_memory.user_factors_.flags.owndata
    assert not isinstance(in_memory.user_factors_, np.memmap)
    assert not in_memory.user_factors_.flags.writeable  # like every fitted model's
    np.testing.assert_array_equal(mapped.user_factors_, in_memory.user_factors_)


def test_model_without_seen_items_round_trips(tmp_path: Path) -> None:
    rec = _small(seen=False, str_ids=False)
    again = load(save(rec, tmp_path / "m"))
    assert again.seen_ is None
    assert read_manifest(tmp_path / "m")["seen"] is None
    _same_answers(rec, again)


def test_stored_popularity_is_what_the_fallback_uses(tmp_path: Path) -> None:
    path = _small().save(tmp_path / "m")
    order = np.arange(9, dtype=np.int64)[::-1].copy()
    _replace_array(path, "popular_order", order)
    _replace_array(path, "popularity", np.arange(9, dtype=np.float32))
    fallback = Recommender.load(path).recommend("nobody", n=3)
    assert fallback.source == "fallback"
    assert fallback.ids.tolist() == ["i8", "i7", "i6"]
    assert fallback.scores.tolist() == [8.0, 7.0, 6.0]


def test_save_requires_a_fitted_model(tmp_path: Path) -> None:
    with pytest.raises(NotFittedError):
        Recommender().save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_save_creates_missing_parents(tmp_path: Path) -> None:
    path = _small().save(tmp_path / "a" / "b" / "model")
    assert (path / "manifest.json").is_file()


def test_loading_needs_no_training_backend(saved: Path) -> None:
    code = (
        "import sys; sys.modules['implicit'] = None\n"
        "from alsrec import Recommender\n"
        f"rec = Recommender.load({str(saved)!r})\n"
        "print(rec.recommend('u1', n=2).ids.tolist())\n"
        "assert 'implicit' not in {m.split('.')[0] for m in sys.modules if sys.modules[m]}\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(_small().recommend("u1", n=2).ids.tolist())


# -- damage: every corrupt artifact is an ArtifactError naming the file -------------------------


save_module = importlib.import_module("alsrec.io.save")  # the module, not alsrec.io.save()


def _raises(match: str) -> AbstractContextManager[Any]:
    return pytest.raises(ArtifactError, match=match)


def test_missing_array_file(saved: Path) -> None:
    (saved / "seen_data.npy").unlink()
    with _raises(r"seen_data\.npy: missing array file"):
        Recommender.load(saved)


def test_truncated_array(saved: Path) -> None:
    file = saved / "user_factors.npy"
    file.write_bytes(file.read_bytes()[:-10])
    with _raises(r"user_factors\.npy: truncated"):
        Recommender.load(saved, verify=False)


def test_trailing_bytes(saved: Path) -> None:
    file = saved / "item_ids.npy"
    file.write_bytes(file.read_bytes() + b"\0\0\0\0")
    with _raises(r"item_ids\.npy: 4 unexpected bytes"):
        Recommender.load(saved)


def test_flipped_byte_fails_the_checksum_unless_verify_is_off(saved: Path) -> None:
    file = saved / "item_factors.npy"
    data = bytearray(file.read_bytes())
    data[len(data) - 9 * 3 * 4] ^= 0x01  # lowest mantissa bit of the first factor
    file.write_bytes(bytes(data))
    with _raises(r"item_factors\.npy: checksum mismatch"):
        Recommender.load(saved)
    with _raises(r"item_factors\.npy: checksum mismatch"):
        inspect_artifact(saved)
    tampered = Recommender.load(saved, verify=False)  # skipping is explicit, never the default
    assert tampered.item_factors_[0, 0] != _small().item_factors_[0, 0]


def test_checksum_error_wins_over_the_damage_it_causes(saved: Path) -> None:
    file = saved / "popular_order.npy"
    data = bytearray(file.read_bytes())
    data[-8:] = np.int64(-1).tobytes()  # also makes the order invalid
    file.write_bytes(bytes(data))
    with _raises(r"popular_order\.npy: checksum mismatch"):
        Recommender.load(saved)
    with _raises(r"popular_order\.npy: is not a permutation"):
        Recommender.load(saved, verify=False)


def test_future_format_version_asks_to_upgrade(saved: Path) -> None:
    manifest = _manifest(saved)
    manifest["format_version"] = FORMAT_VERSION + 1
    manifest["alsrec_version"] = "9.0.0"
    _write_manifest(saved, manifest)
    with _raises(r"manifest\.json: format version 2 \(written by alsrec 9\.0\.0\).*Upgrade alsrec"):
        Recommender.load(saved)


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, True, None])
def test_invalid_format_version(saved: Path, version: object) -> None:
    manifest = _manifest(saved)
    manifest["format_version"] = version
    _write_manifest(saved, manifest)
    with _raises(r"manifest\.json: invalid format_version"):
        Recommender.load(saved)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(float("nan"), "NaN"), (float("inf"), "Infinity"), (-float("inf"), "-Infinity")],
)
def test_non_finite_numbers_in_the_manifest_are_refused(
    saved: Path, tmp_path: Path, value: float, shown: str
) -> None:
    # Python's json reads NaN and Infinity; a model loaded with them could not be saved
    # again (the writer is strict), and 'alsrec inspect --format json' would print them.
    manifest = _manifest(saved)
    manifest["metadata"] = {"x": [value]}
    _write_manifest(saved, manifest)
    match = rf"manifest\.json: holds the number {shown}, which JSON does not allow"
    with _raises(match):
        Recommender.load(saved)
    with _raises(match):
        inspect_artifact(saved)
    with _raises(match):
        read_manifest(saved)


def test_manifest_shape_disagreeing_with_the_file(saved: Path) -> None:
    manifest = _manifest(saved)
    manifest["arrays"]["user_factors"]["shape"] = [7, 3]
    _write_manifest(saved, manifest)
    with _raises(r"user_factors\.npy: holds a <f4 array of shape \(6, 3\).*the files disagree"):
        Recommender.load(saved)


def test_factor_widths_that_disagree(saved: Path) -> None:
    _replace_array(saved, "item_factors", np.ones((9, 4), dtype=np.float32))
    with _raises(r"item_factors\.npy: has 4 factor columns but user_factors\.npy has 3"):
        Recommender.load(saved)


def test_more_ids_than_factor_rows(saved: Path) -> None:
    ids = np.array([f"u{i}" for i in range(8)])
    _replace_array(saved, "user_ids", ids)
    manifest = _manifest(saved)
    manifest["users"]["count"] = 8
    manifest["seen"] = None  # a model without seen items lists no seen arrays
    for name in ("seen_indptr", "seen_indices", "seen_data"):
        del manifest["arrays"][name]
    _write_manifest(saved, manifest)
    with _raises(r"user_factors\.npy: has 6 rows for 8 mapped user IDs"):
        Recommender.load(saved)
    report = inspect_artifact(saved)
    assert report.users.ids_without_rows == 2
    assert not report.ok


def test_id_count_disagreeing_with_the_manifest(saved: Path) -> None:
    _replace_array(saved, "item_ids", np.array([f"i{i}" for i in range(8)]))
    with _raises(r"item_ids\.npy: holds 8 str IDs but the manifest's 'items' entry"):
        Recommender.load(saved)


def test_wrong_dtype_is_refused(saved: Path) -> None:
    _replace_array(saved, "user_factors", np.ones((6, 3), dtype=np.float64))
    with _raises(r"user_factors\.npy: expected a 2-d array of f4, found <f8"):
        Recommender.load(saved)


def test_object_arrays_are_refused_without_unpickling(saved: Path, tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    payload = np.empty(6, dtype=object)
    payload[:] = [_Touch(marker)] * 6
    np.save(saved / "user_ids.npy", payload, allow_pickle=True)
    manifest = _manifest(saved)
    manifest["arrays"]["user_ids"]["dtype"] = "|O"
    _write_manifest(saved, manifest)
    with _raises(r"user_ids\.npy: holds an object array"):
        Recommender.load(saved, verify=False)
    with _raises(r"user_ids\.npy: holds an object array"):
        inspect_artifact(saved)
    assert not marker.exists()


def test_duplicate_ids_are_refused_and_reported(saved: Path) -> None:
    _replace_array(saved, "user_ids", np.array(["u0", "u1", "u2", "u1", "u4", "u5"]))
    with _raises(r"user_ids\.npy: invalid IDs: .*'u1'"):
        Recommender.load(saved)
    report = inspect_artifact(saved)
    assert report.users.duplicate_ids == ("u1",)
    assert report.users.duplicate_count == 1
    assert "duplicate user IDs" in str(report)


def test_non_finite_factors_are_refused_and_reported(saved: Path) -> None:
    factors = np.ones((9, 3), dtype=np.float32)
    factors[4, 1] = np.nan
    factors[6] = 0.0
    _replace_array(saved, "item_factors", factors)
    with _raises(r"model: the stored model is invalid: item factors contain NaN"):
        Recommender.load(saved)
    report = inspect_artifact(saved)
    assert (report.items.nan_rows, report.items.zero_rows) == (1, 1)
    assert report.problems == ("1 item factor rows contain NaN or infinity",)


def test_invalid_seen_matrix(saved: Path) -> None:
    indices = np.load(saved / "seen_indices.npy")
    indices[-1] = 9
    _replace_array(saved, "seen_indices", indices)
    with _raises(r"seen_indices\.npy: holds item indices outside 0\.\.8"):
        Recommender.load(saved)


def test_invalid_seen_row_pointer(saved: Path) -> None:
    indptr = np.load(saved / "seen_indptr.npy")
    _replace_array(saved, "seen_indptr", indptr[::-1].copy())
    with _raises(r"seen_indptr\.npy: is not a valid CSR row pointer"):
        Recommender.load(saved)


def test_manifest_without_an_array_entry(saved: Path) -> None:
    manifest = _manifest(saved)
    del manifest["arrays"]["popularity"]
    _write_manifest(saved, manifest)
    with _raises(r"manifest\.json: lists no entry for popularity"):
        Recommender.load(saved)


def test_malformed_unmapped_ranges(saved: Path) -> None:
    manifest = _manifest(saved)
    manifest["items"]["unmapped_ranges"] = [[3, 4]]
    _write_manifest(saved, manifest)
    with _raises(r"items\.unmapped_ranges"):
        Recommender.load(saved)


def test_fortran_ordered_array(saved: Path) -> None:
    _replace_array(saved, "user_factors", np.asfortranarray(np.ones((6, 3), dtype=np.float32)))
    with _raises(r"user_factors\.npy: holds a Fortran-ordered array"):
        Recommender.load(saved)


def test_array_file_that_is_not_npy(saved: Path) -> None:
    (saved / "popularity.npy").write_bytes(b"not an array at all")
    with _raises(r"popularity\.npy: not a readable \.npy array file"):
        Recommender.load(saved)


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (lambda p: p.mkdir(), r"not an alsrec artifact: it has no manifest\.json"),
        (lambda p: None, r"no such artifact directory"),
        (lambda p: p.write_bytes(b"x"), r"an artifact is a directory, this is a file"),
        (
            lambda p: (p.mkdir(), (p / "manifest.json").write_text("{not json")),
            r"manifest\.json: unreadable manifest",
        ),
        (
            lambda p: (p.mkdir(), (p / "manifest.json").write_text('{"format": "other"}')),
            r"manifest\.json: not an alsrec artifact manifest",
        ),
        (
            lambda p: (p.mkdir(), (p / "manifest.json").write_text("[1, 2]")),
            r"manifest\.json: not an alsrec artifact manifest",
        ),
    ],
    ids=["empty-dir", "missing", "file", "bad-json", "other-format", "json-list"],
)
def test_paths_that_are_not_artifacts(
    tmp_path: Path, setup: Callable[[Path], object], match: str
) -> None:
    path = tmp_path / "thing"
    setup(path)
    with _raises(match):
        Recommender.load(path)
    with _raises(match):
        read_manifest(path)


@pytest.mark.parametrize("damage", ["missing", "truncated", "empty"])
def test_the_advice_for_a_missing_or_damaged_manifest_works(
    saved: Path, tmp_path: Path, damage: str
) -> None:
    # The advice used to be "Save a model there with Recommender.save(path)", which save()
    # refuses for a directory of files without a readable manifest.
    manifest = saved / "manifest.json"
    if damage == "missing":
        manifest.unlink()
    else:
        manifest.write_bytes(manifest.read_bytes()[:100] if damage == "truncated" else b"")
    with _raises("not an alsrec artifact|the artifact is damaged") as info:
        Recommender.load(saved)
    message = str(info.value)
    assert "Save a model there" not in message
    assert "Save the model to another path, or delete this directory first." in message
    with _raises("not an alsrec artifact") as refused:
        _small().save(saved)
    assert "delete this directory" not in str(refused.value)  # a save advises itself
    _small().save(tmp_path / "elsewhere")
    shutil.rmtree(saved)
    _small().save(saved)


@pytest.mark.skipif(sys.platform == "win32", reason="'~user' is a POSIX lookup")
def test_a_home_directory_that_does_not_exist_is_an_artifact_error(tmp_path: Path) -> None:
    # pathlib's expanduser() raises a bare RuntimeError for an unknown user.
    path = "~alsrec-no-such-user-7f3a/m"
    match = r"'~alsrec-no-such-user-7f3a/m(\.pkl)?': '~alsrec-no-such-user-7f3a' names no home"
    for call in (
        lambda: Recommender.load(path),
        lambda: _small().save(path),
        lambda: inspect_artifact(path),
        lambda: read_manifest(path),
        lambda: Recommender.from_legacy_pickle(path + ".pkl", trusted=True),
    ):
        with _raises(match):
            call()


def test_a_pickle_path_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "recommender_artifacts.pkl"
    path.write_bytes(b"\x80\x04N.")
    with _raises(r"from_legacy_pickle"):
        Recommender.load(path)


# -- atomic saves -------------------------------------------------------------------------------


def _failing_after(monkeypatch: pytest.MonkeyPatch, calls: int, exc: Exception) -> None:
    real_save = np.save
    count = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> None:
        count["n"] += 1
        if count["n"] > calls:
            raise exc
        real_save(*args, **kwargs)

    monkeypatch.setattr(np, "save", flaky)


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_failed_save_keeps_the_previous_artifact(
    saved: Path, monkeypatch: pytest.MonkeyPatch, fitted: Recommender
) -> None:
    before = (saved / "manifest.json").read_bytes()
    _failing_after(monkeypatch, 1, RuntimeError("disk on fire"))
    with pytest.raises(RuntimeError, match="disk on fire"):
        fitted.save(saved)
    monkeypatch.undo()
    assert (saved / "manifest.json").read_bytes() == before
    _same_answers(_small(), Recommender.load(saved))
    assert _leftovers(saved.parent) == []


def test_failed_first_save_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_after(monkeypatch, 2, OSError(28, "No space left on device"))
    with _raises(r"Cannot save to .*model: .*No space left"):
        _small().save(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_failed_final_rename_restores_the_previous_artifact(
    saved: Path, monkeypatch: pytest.MonkeyPatch, fitted: Recommender
) -> None:
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        if ".tmp-" in str(src):
            raise OSError("rename failed")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    # the two-rename fallback of systems without an atomic directory exchange
    monkeypatch.setattr(save_module, "_exchange", lambda a, b: False)
    with _raises("rename failed"):
        fitted.save(saved)
    monkeypatch.undo()
    _same_answers(_small(), Recommender.load(saved))
    assert _leftovers(saved.parent) == []


def test_a_failed_exchange_keeps_the_previous_artifact(
    saved: Path, monkeypatch: pytest.MonkeyPatch, fitted: Recommender
) -> None:
    def exchange(a: Path, b: Path) -> bool:
        raise OSError(5, "I/O error", str(b))

    monkeypatch.setattr(save_module, "_exchange", exchange)
    with _raises("I/O error"):
        fitted.save(saved)
    monkeypatch.undo()
    _same_answers(_small(), Recommender.load(saved))
    assert _leftovers(saved.parent) == []


def test_successful_overwrite_replaces_the_artifact(saved: Path, fitted: Recommender) -> None:
    loaded = Recommender.load(saved)  # memory-mapped files that the save replaces
    fitted.save(saved)
    _same_answers(fitted, Recommender.load(saved))
    _same_answers(_small(), loaded)
    assert _leftovers(saved.parent) == []


def test_overwrite_false_refuses_an_existing_path(saved: Path, fitted: Recommender) -> None:
    with _raises(r"already exists and overwrite=False"):
        fitted.save(saved, overwrite=False)
    _same_answers(_small(), Recommender.load(saved))


def test_save_never_replaces_something_that_is_not_an_artifact(
    tmp_path: Path, fitted: Recommender
) -> None:
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    with _raises(r"non-empty directory that is not an alsrec artifact"):
        fitted.save(precious)
    assert (precious / "thesis.txt").read_text() == "years of work"
    file = tmp_path / "file"
    file.write_text("x")
    with _raises(r"exists and is not a directory"):
        fitted.save(file)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert fitted.save(empty) == empty


def test_interrupted_swap_loads_the_kept_copy(saved: Path) -> None:
    kept = saved.parent / f".{saved.name}.old-123"
    os.replace(saved, kept)
    with pytest.warns(AlsrecWarning, match=r"save was interrupted.*kept at .*old-123"):
        rec = Recommender.load(saved)
    assert rec.items_.ids.tolist() == Recommender.load(kept).items_.ids.tolist()
    assert not saved.exists(), "loading repairs nothing behind the caller's back"
    with _raises(r"no such artifact directory.* A previous version of it is kept at .*old-123"):
        read_manifest(saved)


# -- policies on load ----------------------------------------------------------------------------


def _with_unmapped_rows() -> Recommender:
    with pytest.warns(AlsrecWarning):
        return Recommender.from_factors(
            np.eye(3, 2), np.arange(10, dtype=np.float32).reshape(5, 2), ["a", "b"], [1, 2, 3]
        )


def test_unmapped_rows_survive_a_round_trip(tmp_path: Path) -> None:
    rec = _with_unmapped_rows()
    path = rec.save(tmp_path / "m")
    assert read_manifest(path)["items"]["unmapped_ranges"] == [[3, 4]]
    with pytest.warns(AlsrecWarning) as caught:
        again = Recommender.load(path)
    assert any("rows 3..4 have no ID" in str(w.message) for w in caught)
    assert _unstamped(again.inspect()) == (rec.inspect())
    assert again.inspect().items.unmapped_ranges == ((3, 4),)
    with pytest.raises(MappingMismatchError, match="m: The user factors have 3 rows"):
        Recommender.load(path, policy="strict")


# -- inspection ----------------------------------------------------------------------------------


def test_inspect_reports_rows_ids_coverage_and_zero_rows() -> None:
    seen = sp.csr_matrix(np.array([[1, 0, 0], [0, 0, 0], [0, 1, 1], [0, 0, 0]], np.float32))
    factors = np.array([[1, 0], [0, 0], [1, 1]], dtype=np.float32)
    rec = Recommender.from_factors(
        np.ones((4, 2)), factors, [1, 2, 3, 4], ["x", "y", "z"], seen=seen
    )
    report = rec.inspect()
    assert isinstance(report, InspectionReport)
    assert report == inspect_model(rec)
    assert (report.users.factor_rows, report.users.mapped_ids, report.users.id_kind) == (
        4,
        4,
        "int",
    )
    assert (report.items.zero_rows, report.items.nan_rows, report.items.id_kind) == (1, 0, "str")
    assert report.seen_interactions == 3
    assert report.seen_coverage == pytest.approx(0.5)
    assert report.ok
    assert report.format_version == FORMAT_VERSION
    text = str(report)
    assert "items: 3 factor rows, 3 mapped str IDs" in text
    assert "50.0% of mapped users have seen items" in text
    assert "status: OK" in text
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["items"]["zero_rows"] == 1
    assert data["ok"] is True


def test_inspect_flags_unmapped_rows() -> None:
    report = _with_unmapped_rows().inspect()
    assert not report.ok
    assert report.users.unmapped_rows == 1
    assert report.items.unmapped_ranges == ((3, 4),)
    assert "status: PROBLEMS" in str(report)
    assert "2 item factor rows have no ID (indices 3..4)" in str(report)


def test_inspect_artifact_matches_inspecting_the_loaded_model(saved: Path) -> None:
    assert inspect_artifact(saved) == Recommender.load(saved).inspect()
    assert _unstamped(inspect_artifact(saved)) == _small().inspect()


# -- legacy pickles ------------------------------------------------------------------------------


class _Touch:
    """Unpickling this creates a file: proof of whether a pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


class _GpuMatrix:
    """Stands in for implicit.gpu.Matrix: factors live elsewhere, ``to_numpy`` copies them."""

    def __init__(self, data: Floats) -> None:
        self._data = data

    def to_numpy(self) -> Floats:
        return np.array(self._data, dtype=np.float32)


class _CpuModel:
    def __init__(self, users: Floats, items: Floats) -> None:
        self.user_factors = users
        self.item_factors = items
        self.regularization = 0.5


class _GpuModel:
    """Like implicit's GPU ALS: factors are device matrices, ``to_cpu()`` converts."""

    def __init__(self, users: Floats, items: Floats) -> None:
        self.user_factors = _GpuMatrix(users)
        self.item_factors = _GpuMatrix(items)
        self.factors = users.shape[1]

    def to_cpu(self) -> _CpuModel:
        return _CpuModel(self.user_factors.to_numpy(), self.item_factors.to_numpy())


def _implicit_model(users: Floats, items: Floats) -> object:
    from implicit.cpu.als import AlternatingLeastSquares

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # implicit's BLAS-threads advice
        model = AlternatingLeastSquares(factors=users.shape[1], regularization=0.1, iterations=7)
    model.user_factors = users
    model.item_factors = items
    return model


def _legacy(
    path: Path,
    model: object,
    users: dict[Any, int],
    items: dict[Any, int],
    **overrides: object,
) -> Path:
    payload: dict[str, object] = {
        "model": model,
        "user_id_to_idx": users,
        "idx_to_user_id": {v: k for k, v in users.items()},
        "item_id_to_idx": items,
        "idx_to_item_id": {v: k for k, v in items.items()},
    }
    payload.update(overrides)
    with path.open("wb") as fh:
        pickle.dump(payload, fh)
    return path


@pytest.fixture
def factors() -> tuple[Floats, Floats]:
    rng = np.random.default_rng(11)
    return (
        rng.standard_normal((5, 4)).astype(np.float32),
        rng.standard_normal((12, 4)).astype(np.float32),
    )


def test_untrusted_pickles_are_never_opened(tmp_path: Path) -> None:
    marker = tmp_path / "owned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(_Touch(marker)))
    for trusted in (False, "yes", 1):
        with _raises(r"Refusing to unpickle .*evil\.pkl: loading a pickle runs .*trusted=True"):
            Recommender.from_legacy_pickle(path, trusted=trusted)  # type: ignore[arg-type]
    assert not marker.exists()


_NO_SEEN = "ignore:.*the pickle holds no interactions:alsrec.AlsrecWarning"
"""Every legacy import says it excludes nothing as seen; the tests below check other things."""


def test_a_legacy_import_says_it_excludes_nothing_as_seen(
    tmp_path: Path, factors: tuple[Floats, Floats]
) -> None:
    users, items = factors
    user_map = {f"u{i}": i for i in range(len(users))}
    item_map = {f"i{i}": i for i in range(len(items))}
    path = _legacy(tmp_path / "a.pkl", _implicit_model(users, items), user_map, item_map)
    with pytest.warns(AlsrecWarning, match=r"holds no interactions.*excludes no seen") as got:
        rec = Recommender.from_legacy_pickle(path, trusted=True)
    assert rec.seen_ is None
    assert [w.filename for w in got if "holds no" in str(w.message)] == [__file__]


@pytest.mark.filterwarnings(_NO_SEEN)
def test_implicit_pickle_with_str_ids_matches_implicit(
    tmp_path: Path, factors: tuple[Floats, Floats]
) -> None:
    users, items = factors
    model = _implicit_model(users, items)
    user_map = {f"USR_{i}": i for i in range(5)}
    item_map = {f"PROD_{i}": i for i in range(12)}
    rec = Recommender.from_legacy_pickle(
        _legacy(tmp_path / "a.pkl", model, user_map, item_map), trusted=True
    )
    assert rec.inspect().ok
    assert rec.backend_ == "implicit"
    assert rec.params.factors == 4
    assert rec.params.regularization == pytest.approx(0.1)
    assert rec.params.iterations == 7
    # implicit's default alpha 1 on unit weights is alsrec's 0 (confidence 1); a number,
    # never resolved as "auto"
    assert rec.params.alpha == 0.0
    assert "alpha" not in rec.model_.provenance.auto_params
    for u in range(5):
        want, _ = model.recommend(u, None, N=5, filter_already_liked_items=False)  # type: ignore[attr-defined]
        got = rec.recommend(f"USR_{u}", n=5, exclude_seen=False)
        assert got.ids.tolist() == [f"PROD_{i}" for i in want.tolist()]
    want_sim, _ = model.similar_items(3, N=4)  # type: ignore[attr-defined]
    expected = [f"PROD_{i}" for i in want_sim.tolist() if i != 3][:3]
    assert rec.similar_items("PROD_3", n=3).ids.tolist() == expected


@pytest.mark.filterwarnings(_NO_SEEN)
def test_mapping_with_holes_is_permuted_and_reported(
    tmp_path: Path, factors: tuple[Floats, Floats]
) -> None:
    users, items = factors
    model = _implicit_model(users, items)
    # 12 item rows, 8 mapped, with holes at 2, 5..6 and 11; int IDs unrelated to indices.
    mapped = [0, 1, 3, 4, 7, 8, 9, 10]
    item_map = {1000 + 7 * k: k for k in reversed(mapped)}
    user_map = {i * 3: i for i in range(5)}
    path = _legacy(tmp_path / "holes.pkl", model, user_map, item_map)
    with pytest.warns(
        AlsrecWarning,
        match=r"4 of the 12 item factor rows have no ID \(the pickle's indices 2, 5\.\.6, 11\)",
    ):
        rec = Recommender.from_legacy_pickle(path, trusted=True)
    assert rec.items_.ids.tolist() == [1000 + 7 * k for k in mapped]
    np.testing.assert_array_equal(rec.item_factors_[:8], items[mapped])
    np.testing.assert_array_equal(rec.item_factors_[8:], items[[2, 5, 6, 11]])
    report = rec.inspect()
    assert report.items.unmapped_ranges == ((2, 2), (5, 6), (11, 11))
    assert report.items.unmapped_rows == 4
    assert report.origin is not None and "holes.pkl" in report.origin
    assert "unmapped rows: 2, 5..6, 11 (source indices; rows 8..11 in this model)" in str(report)
    for u in range(5):
        scores = items @ users[u]
        order = [k for k in np.argsort(-scores, kind="stable").tolist() if k in mapped][:6]
        got = rec.recommend(u * 3, n=6)
        assert got.ids.tolist() == [1000 + 7 * k for k in order]
        assert len(got) == 6  # the seed's script got fewer than N; alsrec fills up
    saved = rec.save(tmp_path / "safe")
    assert read_manifest(saved)["items"]["unmapped_ranges"] == [[2, 2], [5, 6], [11, 11]]
    assert read_manifest(saved)["origin"]["kind"] == "legacy-pickle"
    with pytest.warns(AlsrecWarning):
        again = Recommender.load(saved)
    assert _unstamped(again.inspect()) == report
    _same_answers(rec, again)
    with pytest.raises(
        MappingMismatchError, match=r"holes\.pkl: 4 of the 12 item factor rows have no ID"
    ):
        Recommender.from_legacy_pickle(path, trusted=True, policy="strict")


@pytest.mark.filterwarnings(_NO_SEEN)
def test_ids_pointing_past_the_factor_rows(tmp_path: Path, factors: tuple[Floats, Floats]) -> None:
    users, items = factors
    user_map = {f"u{i}": i for i in range(5)} | {"ghost": 9}
    item_map = {f"i{i}": i for i in range(12)}
    path = _legacy(tmp_path / "g.pkl", _CpuModel(users, items), user_map, item_map)
    with pytest.warns(AlsrecWarning, match=r"1 user IDs point past the 5 user factor rows"):
        rec = import_legacy_pickle(path, trusted=True)
    assert "ghost" not in rec.users_
    assert rec.recommend("ghost", n=2).source == "fallback"
    with pytest.raises(MappingMismatchError, match="'ghost' -> index 9"):
        import_legacy_pickle(path, trusted=True, policy="strict")


@pytest.mark.filterwarnings(_NO_SEEN)
def test_gpu_models_are_converted_with_to_cpu(
    tmp_path: Path, factors: tuple[Floats, Floats]
) -> None:
    users, items = factors
    user_map = {i: i for i in range(5)}
    item_map = {f"i{i}": i for i in range(12)}
    gpu = import_legacy_pickle(
        _legacy(tmp_path / "gpu.pkl", _GpuModel(users, items), user_map, item_map), trusted=True
    )
    np.testing.assert_array_equal(gpu.item_factors_, items)
    assert gpu.inspect().origin == "legacy pickle 'gpu.pkl' (test_artifacts._GpuModel)"
    bare = _CpuModel(users, items)
    bare.user_factors = _GpuMatrix(users)  # type: ignore[assignment]
    got = import_legacy_pickle(
        _legacy(tmp_path / "bare.pkl", bare, user_map, item_map), trusted=True
    )
    np.testing.assert_array_equal(got.user_factors_, users)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            {"idx_to_item_id": {0: "i0", 1: "i2", 2: "i1"}},
            r"item_id_to_idx and idx_to_item_id are not inverse of each other: 2 "
            r"disagreement\(s\), e\.g\. idx_to_item_id\[1\] = 'i2' but item_id_to_idx gives "
            r"index 1 to 'i1'",
        ),
        (
            {"idx_to_item_id": {0: "i0", 1: "i1"}},
            r"item_id_to_idx\['i2'\] = 2 but idx_to_item_id has no entry 2",
        ),
        (
            {"item_id_to_idx": {"i0": 0, "i1": 1, "i2": 1}},
            r"item_id_to_idx maps both 'i1' and 'i2' to index 1",
        ),
        ({"user_id_to_idx": {"a": -1}}, r"user_id_to_idx\['a'\] is -1"),
        ({"user_id_to_idx": {"a": 0.0}}, r"user_id_to_idx\['a'\] is 0\.0 \(float\)"),
        ({"idx_to_user_id": []}, r"'idx_to_user_id' is a list, expected a dict"),
        (
            {"user_id_to_idx": {"a": 0, "b": 2**70}, "idx_to_user_id": {0: "a", 2**70: "b"}},
            r"user_id_to_idx\['b'\] is 1180591620717411303424; indices must be below 2\*\*63",
        ),
        (
            {"user_id_to_idx": {"a": np.uint64(2**63)}},
            r"user_id_to_idx\['a'\] is (np\.uint64\()?9223372036854775808\)?; indices must be",
        ),
        (
            {
                "item_id_to_idx": {"i0": 0, 1: 1, "i2": 2},
                "idx_to_item_id": {0: "i0", 1: 1, 2: "i2"},
            },
            r"item IDs in item_id_to_idx mix int and str",
        ),
    ],
    ids=[
        "swapped",
        "missing-back",
        "shared-index",
        "negative",
        "float",
        "not-dict",
        "above-int64",
        "uint64-above-int64",
        "mixed",
    ],
)
def test_inconsistent_mappings(tmp_path: Path, change: dict[str, object], match: str) -> None:
    model = _CpuModel(np.ones((1, 2), np.float32), np.ones((3, 2), np.float32))
    path = _legacy(tmp_path / "bad.pkl", model, {"a": 0}, {"i0": 0, "i1": 1, "i2": 2}, **change)
    with _raises(r"bad\.pkl: (.*)?" + match):
        import_legacy_pickle(path, trusted=True)


def test_pickles_that_are_not_legacy_artifacts(tmp_path: Path) -> None:
    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps([1, 2]))
    with _raises(r"x\.pkl: holds a list, expected the dict"):
        import_legacy_pickle(path, trusted=True)
    path.write_bytes(pickle.dumps({"model": None}))
    with _raises(r"the pickled dict lacks \['user_id_to_idx'"):
        import_legacy_pickle(path, trusted=True)
    path.write_bytes(b"garbage, not a pickle")
    with _raises(r"x\.pkl: cannot be unpickled"):
        import_legacy_pickle(path, trusted=True)
    with _raises(r"nope\.pkl: no such file"):
        import_legacy_pickle(tmp_path / "nope.pkl", trusted=True)


@pytest.mark.filterwarnings(_NO_SEEN)
def test_unfitted_or_broken_models(tmp_path: Path) -> None:
    unfitted = _implicit_model(np.ones((1, 2), np.float32), np.ones((1, 2), np.float32))
    unfitted.user_factors = None  # type: ignore[attr-defined]
    path = _legacy(tmp_path / "u.pkl", unfitted, {"a": 0}, {"b": 0})
    with _raises(r"u\.pkl: the model has no user_factors: it was never fitted"):
        import_legacy_pickle(path, trusted=True)
    nan = _CpuModel(np.full((1, 2), np.nan, np.float32), np.ones((1, 2), np.float32))
    path = _legacy(tmp_path / "n.pkl", nan, {"a": 0}, {"b": 0})
    with _raises(r"n\.pkl: the pickled model is unusable: user factors contain NaN"):
        import_legacy_pickle(path, trusted=True)


# -- property: save -> load changes nothing -----------------------------------------------------


@st.composite
def _models(draw: st.DrawFn) -> tuple[Recommender, bool]:
    n_users = draw(st.integers(1, 6))
    n_items = draw(st.integers(1, 7))
    k = draw(st.integers(1, 3))
    extra_users = draw(st.integers(0, 2))
    extra_items = draw(st.integers(0, 2))
    str_ids = draw(st.booleans())
    if str_ids:
        ids = st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=6)
    else:
        ids = st.integers(-(2**63), 2**63 - 1)  # type: ignore[assignment]
    users = draw(st.lists(ids, min_size=n_users, max_size=n_users, unique=True))
    items = draw(st.lists(ids, min_size=n_items, max_size=n_items, unique=True))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    seen = None
    if draw(st.booleans()):
        dense = (rng.random((n_users, n_items)) < 0.4) * rng.integers(1, 5, (n_users, n_items))
        seen = sp.csr_matrix(dense.astype(np.float32))
    mismatch = bool(extra_users or extra_items)
    ctx: AbstractContextManager[Any] = pytest.warns(AlsrecWarning) if mismatch else nullcontext()
    with ctx:
        rec = Recommender.from_factors(
            rng.standard_normal((n_users + extra_users, k)),
            rng.standard_normal((n_items + extra_items, k)),
            users,
            items,
            seen=seen,
        )
    return rec, mismatch


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(model=_models(), mmap=st.booleans())
def test_round_trip_property(
    tmp_path_factory: pytest.TempPathFactory, model: tuple[Recommender, bool], mmap: bool
) -> None:
    rec, mismatch = model
    path = rec.save(tmp_path_factory.mktemp("prop") / "m")
    ctx: AbstractContextManager[Any] = pytest.warns(AlsrecWarning) if mismatch else nullcontext()
    with ctx:
        again = Recommender.load(path, mmap=mmap)
    np.testing.assert_array_equal(again.users_.ids, rec.users_.ids)
    np.testing.assert_array_equal(again.items_.ids, rec.items_.ids)
    _same_answers(rec, again)
    assert _unstamped(again.inspect()) == (rec.inspect())
    assert _unstamped(inspect_artifact(path)) == rec.inspect()


class _GpuPickle:
    """Pickles exactly as implicit's GPU ALS does: its class, then ``__setstate__(state)``."""

    def __init__(self, state: dict[str, object]) -> None:
        self.state = state

    def __reduce__(self) -> tuple[Any, ...]:
        import implicit.gpu.als

        return (object.__new__, (implicit.gpu.als.AlternatingLeastSquares,), self.state)


def test_gpu_pickle_without_cuda_explains_what_to_do(tmp_path: Path) -> None:
    import implicit.gpu

    if implicit.gpu.HAS_CUDA:  # pragma: no cover - only on a machine with CUDA
        pytest.skip("implicit's CUDA extension is available here, so GPU pickles load")
    state: dict[str, object] = {"user_factors": np.ones((1, 2), np.float32), "item_factors": None}
    path = _legacy(tmp_path / "gpu.pkl", _GpuPickle(state), {"a": 0}, {"b": 0})
    with _raises(r"gpu\.pkl: cannot be unpickled .*implicit GPU model.*model\.to_cpu\(\)"):
        import_legacy_pickle(path, trusted=True)


def test_invalid_policy_is_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="policy must be 'safe' or 'strict'"):
        Recommender.load(tmp_path / "missing", policy="lenient")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="policy must be 'safe' or 'strict'"):
        import_legacy_pickle(tmp_path / "x.pkl", trusted=True, policy="lenient")  # type: ignore[arg-type]


def test_save_refuses_a_symlink(tmp_path: Path, fitted: Recommender) -> None:
    target = fitted.save(tmp_path / "real")
    link = tmp_path / "link"
    link.symlink_to(target)
    with _raises(r"link: it exists and is a symbolic link"):
        fitted.save(link)


def test_non_finite_popularity(saved: Path) -> None:
    _replace_array(saved, "popularity", np.full(9, np.inf, dtype=np.float32))
    with _raises(r"popularity\.npy: contains NaN or infinity"):
        Recommender.load(saved)


@pytest.mark.filterwarnings(_NO_SEEN)
def test_legacy_params_are_carried_over_only_when_valid(
    tmp_path: Path, factors: tuple[Floats, Floats]
) -> None:
    users, items = factors
    model = _CpuModel(users, items)
    model.regularization = float("nan")
    model.iterations = -3  # type: ignore[attr-defined]
    model.alpha = 40.0  # type: ignore[attr-defined]
    path = _legacy(tmp_path / "p.pkl", model, {i: i for i in range(5)}, {i: i for i in range(12)})
    rec = import_legacy_pickle(path, trusted=True)
    # NaN is not a regularization: the default, "auto" (no seen matrix to resolve it from).
    assert rec.params.regularization == "auto"
    assert rec.params.iterations == 15
    saved = rec.save(tmp_path / "safe")
    origin = read_manifest(saved)["origin"]
    assert origin["implicit_params"] == {"alpha": 40.0, "iterations": -3}
    assert origin["model_class"] == "test_artifacts._CpuModel"


@pytest.mark.parametrize("mmap", [True, False])
def test_a_loaded_models_seen_matrix_is_read_only(saved: Path, mmap: bool) -> None:
    # The served state is immutable, the seen items it excludes included.
    seen = Recommender.load(saved, mmap=mmap).seen_
    assert seen is not None
    for part in (seen.data, seen.indices, seen.indptr):
        with pytest.raises(ValueError, match="read-only"):
            part[:1] = 0


def test_a_file_suffix_on_the_artifact_path_is_warned_about(tmp_path: Path) -> None:
    # implicit's habit: model.save("model.npz"). The artifact is a directory all the same.
    with pytest.warns(AlsrecWarning, match=r"ends in '\.npz', but an alsrec artifact is a dir"):
        path = _small().save(tmp_path / "model.npz")
    assert path.is_dir()
    assert Recommender.load(path).is_fitted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _small().save(tmp_path / "model")  # no suffix: no warning
