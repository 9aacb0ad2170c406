"""Property tests of the artifact reader under damage and forgery (issue 18, "Also").

A small saved model is damaged at random: truncated files, flipped bytes, edited ``.npy``
headers (with the manifest forged to agree, and files grown sparsely to the size the header
claims), edited manifest values. ``Recommender.load`` must then either raise
:class:`~alsrec.ArtifactError` or return a model identical to the saved one (the manifest's
``params`` may differ where the edit is a valid hyperparameter), and never allocate much
more than the artifact's real size.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alsrec import ArtifactError, Recommender
from alsrec.io.format import MANIFEST_DIGEST, manifest_digest

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

ARRAYS = [
    "user_factors",
    "item_factors",
    "user_ids",
    "item_ids",
    "popularity",
    "popular_order",
    "seen_indptr",
    "seen_indices",
    "seen_data",
]
FILES = [*(f"{name}.npy" for name in ARRAYS), "manifest.json"]

#: Memory a load may use beyond the artifact's real size: imports, hashing buffers, ...
SLACK = 6 << 20


def build_model(str_ids: bool) -> Recommender:
    rng = np.random.default_rng(0)
    users: list[Any] = [f"u{k}" for k in range(40)] if str_ids else list(range(100, 140))
    items: list[Any] = [f"item-{k}" for k in range(25)] if str_ids else list(range(500, 525))
    seen = sp.random(40, 25, density=0.2, random_state=1, format="csr")
    seen.data = seen.data * 4 + 1
    return Recommender.from_factors(
        rng.standard_normal((40, 6)).astype(np.float32),
        rng.standard_normal((25, 6)).astype(np.float32),
        users,
        items,
        seen=seen,
    )


MODELS = {kind: build_model(kind == "str") for kind in ("str", "int")}
TEMPLATES: dict[str, Path] = {}


@pytest.fixture(scope="module", autouse=True)
def templates(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("templates")
    for kind, model in MODELS.items():
        TEMPLATES[kind] = model.save(root / kind)


def same_model(got: Recommender, want: Recommender) -> bool:
    seen_got, seen_want = got.seen_, want.seen_
    if seen_got is None or seen_want is None:
        return seen_got is seen_want
    users = want.users_.ids[:5].tolist()
    nobody: Any = "NOBODY" if want.users_.kind == "str" else -1  # unknown, of the right type
    return bool(
        np.array_equal(got.user_factors_, want.user_factors_)
        and np.array_equal(got.item_factors_, want.item_factors_)
        and got.users_.ids.tolist() == want.users_.ids.tolist()
        and got.items_.ids.tolist() == want.items_.ids.tolist()
        and (seen_got != seen_want).nnz == 0
        and got.recommend(nobody, n=25) == want.recommend(nobody, n=25)
        and all(got.recommend(u, n=10) == want.recommend(u, n=10) for u in users)
    )


def real_size(root: Path) -> int:
    """Bytes the artifact occupies on disk (sparse holes do not count)."""
    return sum(p.stat().st_blocks * 512 for p in root.iterdir())


def load_checked(root: Path, want: Recommender, verify: bool) -> None:
    budget = real_size(root) + SLACK
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                got = Recommender.load(root, mmap=False, verify=verify)
            except ArtifactError:
                got = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak <= budget, f"peak {peak / 2**20:.1f} MiB for {real_size(root)} bytes on disk"
    if got is not None and verify:
        assert same_model(got, want), "a damaged artifact loaded as a different model"


def refresh_manifest_entry(root: Path, name: str, *, checksum: bool) -> None:
    """Make the manifest agree with the (edited) file, as a careful forger would."""
    fpath = root / f"{name}.npy"
    manifest = json.loads((root / "manifest.json").read_text())
    with fpath.open("rb") as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    entry = manifest["arrays"][name]
    entry.update(
        dtype=np.lib.format.dtype_to_descr(dtype),
        shape=list(shape),
        bytes=fpath.stat().st_size,
    )
    if checksum:
        digest = hashlib.sha256()
        with fpath.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        entry["sha256"] = digest.hexdigest()
        manifest[MANIFEST_DIGEST] = manifest_digest(manifest)
    (root / "manifest.json").write_text(json.dumps(manifest))


def scratch_copy(kind: str) -> Path:
    root = Path(tempfile.mkdtemp(prefix="alsrec-prop-")) / "model"
    shutil.copytree(TEMPLATES[kind], root)
    return root


KINDS = st.sampled_from(["str", "int"])


@SETTINGS
@given(
    kind=KINDS,
    file=st.sampled_from(FILES),
    where=st.floats(0, 1),
    verify=st.booleans(),
)
def test_truncated_files(kind: str, file: str, where: float, verify: bool) -> None:
    root = scratch_copy(kind)
    try:
        fpath = root / file
        os.truncate(fpath, int(fpath.stat().st_size * where))
        load_checked(root, MODELS[kind], verify)
    finally:
        shutil.rmtree(root.parent)


@SETTINGS
@given(
    kind=KINDS,
    file=st.sampled_from(FILES),
    where=st.floats(0, 1, exclude_max=True),
    xor=st.integers(1, 255),
    verify=st.booleans(),
)
# a flipped byte in the header's text: numpy's header parser raises tokenize.TokenError
@example(kind="str", file="popularity.npy", where=0.28125, xor=1, verify=False)
def test_flipped_bytes(kind: str, file: str, where: float, xor: int, verify: bool) -> None:
    root = scratch_copy(kind)
    try:
        fpath = root / file
        raw = bytearray(fpath.read_bytes())
        pos = int(len(raw) * where)
        raw[pos] ^= xor
        fpath.write_bytes(bytes(raw))
        load_checked(root, MODELS[kind], verify)
    finally:
        shutil.rmtree(root.parent)


DESCRS = ["<f4", "<f8", "<i8", "<i4", ">i8", ">f4", "<U8", ">U8", "|b1", "|u1", "<c8"]
DIMS = st.one_of(
    st.integers(0, 64),
    st.sampled_from([2**20, 3 * 2**20, 12 * 2**20, 2**31, 2**40]),
)


@SETTINGS
@given(
    kind=KINDS,
    name=st.sampled_from(ARRAYS),
    descr=st.one_of(st.none(), st.sampled_from(DESCRS)),
    dims=st.lists(DIMS, min_size=0, max_size=3),
    same_ndim=st.booleans(),
    fortran=st.booleans(),
    grow=st.booleans(),
    forge_manifest=st.booleans(),
    forge_checksum=st.booleans(),
    verify=st.booleans(),
)
# a sparse item_ids.npy whose header and manifest entry claim 96 MiB of IDs
@example(
    kind="int",
    name="item_ids",
    descr=None,
    dims=[12 * 2**20],
    same_ndim=True,
    fortran=False,
    grow=True,
    forge_manifest=True,
    forge_checksum=False,
    verify=True,
)
def test_edited_npy_headers(
    kind: str,
    name: str,
    descr: str | None,
    dims: list[int],
    same_ndim: bool,
    fortran: bool,
    grow: bool,
    forge_manifest: bool,
    forge_checksum: bool,
    verify: bool,
) -> None:
    """``descr=None`` keeps the dtype and ``same_ndim`` the number of dimensions, so that
    forgeries the reader cannot dismiss by their kind alone come up often."""
    root = scratch_copy(kind)
    try:
        fpath = root / f"{name}.npy"
        raw = fpath.read_bytes()
        with fpath.open("rb") as fh:
            np.lib.format.read_magic(fh)
            old_shape, _, old_dtype = np.lib.format.read_array_header_1_0(fh)
            data = raw[fh.tell() :]
        if same_ndim:
            dims = ([*dims, 4, 4, 4])[: len(old_shape)]
        descr = descr or str(np.lib.format.dtype_to_descr(old_dtype))
        header = {"descr": descr, "fortran_order": fortran, "shape": tuple(dims)}
        with fpath.open("wb") as fh:
            np.lib.format.write_array_header_1_0(fh, header)
            fh.write(data)
            offset = fh.tell() - len(data)
        if grow:  # a sparse file as large as the header claims (capped at 128 MiB)
            claimed = offset + int(np.prod(dims, dtype=np.float64)) * np.dtype(descr).itemsize
            os.truncate(fpath, max(offset, min(claimed, 128 << 20)))
        if forge_manifest:
            refresh_manifest_entry(root, name, checksum=forge_checksum)
        load_checked(root, MODELS[kind], verify)
    finally:
        shutil.rmtree(root.parent)


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63),
        st.sampled_from([0, 1, -1, 2**31, 2**40, 10**30]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, sub in value.items():
            out.extend(paths_of(sub, (*prefix, key)))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            out.extend(paths_of(sub, (*prefix, index)))
    return out


@SETTINGS
@given(
    kind=KINDS,
    pick=st.floats(0, 1, exclude_max=True),
    action=st.sampled_from(["replace", "delete"]),
    value=JSON_VALUES,
    verify=st.booleans(),
)
# "seen": null while the arrays table lists the seen files: the seen items are dropped
@example(kind="str", pick=0.8984375, action="replace", value=None, verify=True)
def test_edited_manifest_values(
    kind: str, pick: float, action: str, value: Any, verify: bool
) -> None:
    root = scratch_copy(kind)
    try:
        mpath = root / "manifest.json"
        manifest = json.loads(mpath.read_text())
        paths = paths_of(manifest)
        path = paths[int(len(paths) * pick)]
        parent: Any = manifest
        for key in path[:-1]:
            parent = parent[key]
        if action == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        mpath.write_text(json.dumps(manifest))
        load_checked(root, MODELS[kind], verify)
    finally:
        shutil.rmtree(root.parent)


@SETTINGS
@given(kind=KINDS, depth=st.integers(1, 100_000), verify=st.booleans())
@example(kind="int", depth=100_000, verify=True)
def test_nested_manifests(kind: str, depth: int, verify: bool) -> None:
    root = scratch_copy(kind)
    try:
        (root / "manifest.json").write_text("[" * depth + "]" * depth)
        load_checked(root, MODELS[kind], verify)
    finally:
        shutil.rmtree(root.parent)
