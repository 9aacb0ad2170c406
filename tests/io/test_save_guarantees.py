"""What save promises about what it writes and what it replaces.

- save refuses, before it touches the path, anything load would refuse: a manifest over
  ``MAX_MANIFEST_BYTES`` (large ``metadata``), string IDs wider than ``MAX_ID_WIDTH``, and
  fallback arrays that do not agree;
- load refuses a ``popular_order`` that does not rank ``popularity`` (finite, >= 0);
- ``manifest.json`` carries the SHA-256 of its own content, checked by ``load(verify=True)``;
  a manifest without it (an earlier alsrec) loads as before;
- a directory of someone else's files that appears at the path while a save writes is never
  deleted: the save re-checks the path before and after the swap and refuses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import io
import json
import os
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pytest

from alsrec import ArtifactError, ConfigError, DataError, IdMapper, Recommender, cli
from alsrec.io import MAX_ID_WIDTH, MAX_MANIFEST_BYTES, inspect_artifact, load, save
from alsrec.io.format import MANIFEST_DIGEST, manifest_digest

if TYPE_CHECKING:
    from pathlib import Path

save_module = importlib.import_module("alsrec.io.save")  # the module, not the function


def _small() -> Recommender:
    rng = np.random.default_rng(3)
    return Recommender.from_factors(
        rng.standard_normal((4, 3)),
        rng.standard_normal((5, 3)),
        [f"u{i}" for i in range(4)],
        [f"i{i}" for i in range(5)],
    )


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def _manifest(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    return data


def _write_manifest(path: Path, manifest: dict[str, Any], *, resign: bool = True) -> None:
    if resign and MANIFEST_DIGEST in manifest:
        manifest = {**manifest, MANIFEST_DIGEST: manifest_digest(manifest)}
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _forge_array(path: Path, name: str, arr: npt.NDArray[Any]) -> None:
    """Replace an array file, with its checksum and the manifest's own updated (a forger)."""
    np.save(path / f"{name}.npy", arr, allow_pickle=False)
    manifest = _manifest(path)
    manifest["arrays"][name]["sha256"] = hashlib.sha256(
        (path / f"{name}.npy").read_bytes()
    ).hexdigest()
    _write_manifest(path, manifest)


# -- 1. save refuses what load would refuse, before touching the path ---------------------


def test_save_refuses_metadata_that_makes_the_manifest_too_large(tmp_path: Path) -> None:
    rec = _small()
    dest = rec.save(tmp_path / "model")
    before, siblings = _snapshot(dest), _siblings(dest)
    with pytest.raises(ConfigError, match=r"metadata is too large.*MAX_MANIFEST_BYTES"):
        rec.save(dest, metadata={"notes": "x" * (MAX_MANIFEST_BYTES + 1)})
    assert _snapshot(dest) == before  # the good artifact is untouched
    assert _siblings(dest) == siblings  # nothing was written next to it either
    with pytest.raises(ConfigError, match="metadata is too large"):
        rec.save(tmp_path / "new", metadata={"notes": "x" * (MAX_MANIFEST_BYTES + 1)})
    assert not (tmp_path / "new").exists()
    # alsrec's own artifact is never "not an alsrec artifact" to a later save
    assert rec.save(dest) == dest
    assert load(dest).items.ids.tolist() == [f"i{i}" for i in range(5)]


def test_metadata_just_under_the_limit_saves_and_loads(tmp_path: Path) -> None:
    rec = _small()
    base = rec.save(tmp_path / "base", metadata={"notes": ""})
    room = MAX_MANIFEST_BYTES - (base / "manifest.json").stat().st_size
    dest = rec.save(tmp_path / "model", metadata={"notes": "x" * (room - 1_000)})
    assert (dest / "manifest.json").stat().st_size >= MAX_MANIFEST_BYTES - 1_000
    assert load(dest).provenance.metadata == {"notes": "x" * (room - 1_000)}


def test_a_later_save_names_why_it_refuses_an_oversized_manifest(tmp_path: Path) -> None:
    # As an earlier alsrec could write: an artifact whose manifest no reader accepts.
    rec = _small()
    dest = rec.save(tmp_path / "model")
    manifest = _manifest(dest)
    manifest["metadata"] = {"notes": "x" * MAX_MANIFEST_BYTES}
    _write_manifest(dest, manifest)
    with pytest.raises(ArtifactError, match=r"not an alsrec artifact \(.*more than any alsrec"):
        rec.save(dest)


@pytest.mark.parametrize("axis", ["user", "item"])
def test_save_refuses_ids_wider_than_load_accepts(tmp_path: Path, axis: str) -> None:
    wide = "x" * (MAX_ID_WIDTH + 1)
    users, items = ["u1", "u2"], ["a", "b"]
    (users if axis == "user" else items)[1] = wide
    # from_factors refuses raw IDs over fit's 1,024 characters; mappers pass as they are
    rec = Recommender.from_factors(np.eye(2), np.eye(2), IdMapper(users), IdMapper(items))
    dest = _small().save(tmp_path / "model")
    before = _snapshot(dest)
    with pytest.raises(DataError, match=rf"{axis} IDs .*65,537 characters.*MAX_ID_WIDTH"):
        rec.save(dest)
    assert _snapshot(dest) == before
    assert _siblings(dest) == ["model"]


def test_ids_as_wide_as_load_accepts_round_trip(tmp_path: Path) -> None:
    widest = "y" * MAX_ID_WIDTH
    rec = Recommender.from_factors(np.eye(2), np.eye(2), IdMapper(["u1", widest]), ["a", "b"])
    assert load(rec.save(tmp_path / "model")).users.ids.tolist() == ["u1", widest]


def test_updated_and_from_factors_hold_ids_to_fits_limit(tmp_path: Path) -> None:
    # A 70,000-character ID added by updated() made a model whose save replaced the served
    # artifact with one load refused; updated() and from_factors refuse it as fit does.
    rec = Recommender(factors=2, iterations=2, random_state=0).fit(["u1", "u2"], ["a", "b"])
    dest = rec.save(tmp_path / "model")
    before = _snapshot(dest)
    with pytest.raises(DataError, match=r"user_ids\[0\]: a user ID of 70,000 characters"):
        rec.updated(["x" * 70_000], ["a"])
    with pytest.raises(DataError, match=r"item_ids\[1\]: an item ID of 1,025 characters"):
        Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b" * 1_025])
    assert _snapshot(dest) == before
    Recommender.load(dest)


# -- 2. popularity and popular_order agree ------------------------------------------------


def test_load_refuses_an_order_that_does_not_rank_popularity(tmp_path: Path) -> None:
    dest = _small().save(tmp_path / "model")
    popularity = np.load(dest / "popularity.npy")
    _forge_array(dest, "popularity", np.arange(5, dtype=np.float32) + popularity.max())
    _forge_array(dest, "popular_order", np.arange(5, dtype=np.int64))  # least popular first
    for verify in (True, False):
        with pytest.raises(ArtifactError, match=r"popular_order\.npy: does not rank"):
            load(dest, verify=verify)


@pytest.mark.parametrize("verify", [True, False])
def test_load_refuses_negative_popularity(tmp_path: Path, verify: bool) -> None:
    dest = _small().save(tmp_path / "model")
    order = np.load(dest / "popular_order.npy")
    popularity = np.load(dest / "popularity.npy")
    assert popularity.min() >= 0
    popularity[order[-1]] = -1.0  # still ranked last
    _forge_array(dest, "popularity", popularity)
    with pytest.raises(ArtifactError, match=r"popularity\.npy: holds 1 negative"):
        load(dest, verify=verify)


def test_a_flipped_sign_bit_in_popularity_is_refused_without_verification(
    tmp_path: Path,
) -> None:
    dest = _small().save(tmp_path / "model")
    raw = bytearray((dest / "popularity.npy").read_bytes())
    raw[-1] ^= 0x80  # the sign bit of the last float32
    (dest / "popularity.npy").write_bytes(bytes(raw))
    with pytest.raises(ArtifactError, match=r"popularity\.npy"):
        load(dest, verify=False)


def test_ties_in_popularity_may_be_ranked_either_way(tmp_path: Path) -> None:
    dest = _small().save(tmp_path / "model")
    _forge_array(dest, "popularity", np.ones(5, dtype=np.float32))
    _forge_array(dest, "popular_order", np.array([3, 1, 4, 0, 2], dtype=np.int64))
    assert load(dest).popular_order.tolist() == [3, 1, 4, 0, 2]


def test_save_refuses_fallback_arrays_that_disagree(tmp_path: Path) -> None:
    rec = _small()
    dest = rec.save(tmp_path / "model")
    before = _snapshot(dest)
    model = rec.model_
    reversed_order = np.ascontiguousarray(model.popular_order[::-1])
    negative = np.array(-model.popularity - 1.0, dtype=np.float32)
    for broken, name in (
        (dataclasses.replace(model, popular_order=reversed_order), "popular_order.npy"),
        (dataclasses.replace(model, popularity=negative), "popularity.npy"),
    ):
        with pytest.raises(ArtifactError, match=rf"Cannot save to .*model.*{name}"):
            save(broken, dest)
    assert _snapshot(dest) == before
    assert _siblings(dest) == ["model"]


# -- 3. the manifest's own checksum ---------------------------------------------------------


def _flip_regularization(dest: Path) -> None:
    raw = bytearray((dest / "manifest.json").read_bytes())
    pos = raw.index(b'"regularization": 5.0') + len(b'"regularization": ')
    raw[pos] ^= 0x01  # one flipped bit: '5' -> '4'
    (dest / "manifest.json").write_bytes(bytes(raw))


def test_a_flipped_bit_in_the_manifest_fails_verification(tmp_path: Path) -> None:
    rec = Recommender(factors=2, regularization=5.0, iterations=2, random_state=0)
    dest = rec.fit(["u1", "u2", "u2"], ["a", "b", "a"]).save(tmp_path / "model")
    manifest = _manifest(dest)
    assert manifest[MANIFEST_DIGEST] == manifest_digest(manifest)
    _flip_regularization(dest)
    with pytest.raises(ArtifactError, match=r"manifest\.json: checksum mismatch"):
        load(dest)
    assert load(dest, verify=False).params.regularization == 4.0  # only verification skips it
    # inspect checks it too, so that `alsrec inspect model/ && deploy` stops here
    with pytest.raises(ArtifactError, match=r"manifest\.json: checksum mismatch"):
        inspect_artifact(dest)
    assert inspect_artifact(dest, verify=False).ok
    err = io.StringIO()
    assert cli.main(["inspect", str(dest)], out=io.StringIO(), err=err) == 3
    assert "checksum mismatch" in err.getvalue()


def test_an_artifact_without_a_manifest_checksum_loads_as_before(tmp_path: Path) -> None:
    rec = Recommender(factors=2, regularization=5.0, iterations=2, random_state=0)
    dest = rec.fit(["u1", "u2", "u2"], ["a", "b", "a"]).save(tmp_path / "model")
    manifest = _manifest(dest)
    del manifest[MANIFEST_DIGEST]  # as written by an earlier alsrec
    _write_manifest(dest, manifest)
    assert load(dest).params.regularization == 5.0
    _flip_regularization(dest)
    assert load(dest).params.regularization == 4.0  # nothing to check it against


def test_the_manifest_checksum_covers_content_not_layout(tmp_path: Path) -> None:
    dest = _small().save(tmp_path / "model")
    manifest = _manifest(dest)
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=7), encoding="utf-8")
    load(dest)
    manifest[MANIFEST_DIGEST] = "0" * 64
    _write_manifest(dest, manifest, resign=False)
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        load(dest)


# -- 4. a directory that appears at the path while a save writes ----------------------------


def _refused_and_put_back(
    rec: Recommender,
    dest: Path,
    before: dict[str, bytes],
    name: str,
    content: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The save over ``dest`` fails naming ``name``, a file someone put there while it ran,
    and leaves ``dest`` as it was plus that file, with no sibling left behind."""
    with pytest.raises(ArtifactError, match=rf"also holds other files \({re.escape(name)}\)"):
        rec.save(dest)
    monkeypatch.undo()
    after = _snapshot(dest)
    assert after.pop(name) == content
    assert after == before
    assert _siblings(dest) == ["model"]


def _appearing_while_writing(monkeypatch: pytest.MonkeyPatch, dest: Path) -> None:
    """Make another "process" put its own file at ``dest`` after the save checked it."""
    real = save_module._write_array

    def write_array(directory: Path, name: str, arr: npt.NDArray[Any]) -> dict[str, Any]:
        dest.mkdir(exist_ok=True)
        if not (dest / "my_results.csv").exists():
            (dest / "my_results.csv").write_text("important,data\n")
        result: dict[str, Any] = real(directory, name, arr)
        return result

    monkeypatch.setattr(save_module, "_write_array", write_array)


@pytest.mark.parametrize("exchange", [True, False])
def test_a_directory_created_during_the_save_is_not_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    if not exchange:
        monkeypatch.setattr(save_module, "_exchange", lambda a, b: False)
    dest = tmp_path / "shared_output"
    _appearing_while_writing(monkeypatch, dest)
    with pytest.raises(ArtifactError, match="changed while the model was being written"):
        _small().save(dest)
    assert sorted(os.listdir(dest)) == ["my_results.csv"]
    assert (dest / "my_results.csv").read_text() == "important,data\n"
    assert _siblings(dest) == ["shared_output"]


@pytest.mark.parametrize("exchange", [True, False])
def test_a_file_added_to_the_artifact_during_the_save_is_not_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    if not exchange:
        monkeypatch.setattr(save_module, "_exchange", lambda a, b: False)
    rec = _small()
    dest = rec.save(tmp_path / "model")
    before = _snapshot(dest)
    _appearing_while_writing(monkeypatch, dest)
    _refused_and_put_back(rec, dest, before, "my_results.csv", b"important,data\n", monkeypatch)


def test_a_file_added_between_the_last_check_and_the_exchange_is_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if save_module._renameat2() is None:
        pytest.skip("no atomic directory exchange on this platform")
    rec = _small()
    dest = rec.save(tmp_path / "model")
    before = _snapshot(dest)
    real = save_module._exchange
    calls: list[Path] = []

    def exchange(a: Path, b: Path) -> bool:
        if not calls:
            (dest / "late.txt").write_text("mine")  # after the re-check, before the swap
        calls.append(a)
        result: bool = real(a, b)
        return result

    monkeypatch.setattr(save_module, "_exchange", exchange)
    _refused_and_put_back(rec, dest, before, "late.txt", b"mine", monkeypatch)
    assert len(calls) == 2  # the swap, and the swap back


def test_a_file_added_before_the_two_rename_swap_is_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(save_module, "_exchange", lambda a, b: False)
    rec = _small()
    dest = rec.save(tmp_path / "model")
    before = _snapshot(dest)
    real = save_module._open_directory

    def open_directory(path: Path) -> int | None:
        if path == dest and not (dest / "late.txt").exists():
            (dest / "late.txt").write_text("mine")  # after the re-check, before the renames
        result: int | None = real(path)
        return result

    monkeypatch.setattr(save_module, "_open_directory", open_directory)
    _refused_and_put_back(rec, dest, before, "late.txt", b"mine", monkeypatch)


def test_a_leftover_holding_foreign_files_is_not_removed(tmp_path: Path) -> None:
    rec = _small()
    leftover = tmp_path / ".model.old-0123456789ab"
    leftover.mkdir()
    (leftover / "mine.txt").write_text("mine")
    rec.save(tmp_path / "model")
    assert (leftover / "mine.txt").read_text() == "mine"
    stale = tmp_path / ".model.tmp-0123456789ab"
    stale.mkdir()
    (stale / "user_ids.npy").write_bytes(b"partial")
    rec.save(tmp_path / "model")
    assert not stale.exists()  # a died save's leftover is still cleaned up


@pytest.mark.parametrize("target", [".", "", "..", "sub/.."])
def test_a_save_needs_a_directory_of_its_own(
    target: str, tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    with pytest.raises(ArtifactError, match="needs a directory of its own"):
        rec.save(target)
    assert list(os.listdir(".")) == []  # nothing created, not even "sub"


def test_a_file_on_the_way_is_named(tmp_path: pytest.TempPathFactory) -> None:
    blocker = tmp_path / "afile"  # type: ignore[operator]
    blocker.write_text("mine")
    rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    with pytest.raises(ArtifactError, match="afile is a file, not a directory"):
        rec.save(blocker / "deeper" / "model")
    assert blocker.read_text() == "mine"
    with pytest.raises(ArtifactError, match="is a directory; pass the pickle file"):
        Recommender.from_legacy_pickle(tmp_path, trusted=True)  # type: ignore[arg-type]
