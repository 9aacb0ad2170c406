"""The built wheel installs into a fresh virtual environment and runs the quickstart there."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

QUICKSTART = """
import alsrec, sys
from alsrec import Recommender
users = ["USR_1", "USR_1", "USR_2", "USR_2", "USR_3"]
items = ["PROD_A", "PROD_B", "PROD_A", "PROD_C", "PROD_B"]
rec = Recommender(factors=4, iterations=5, random_state=0).fit(users, items)
assert len(rec.recommend("USR_1", n=2)) == 1
assert rec.recommend("NEW", n=2).source == "fallback"
print(alsrec.__file__)
"""


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    hint = "is in the release extra: pip install -e '.[release]'"
    pytest.importorskip("build", reason=f"the 'build' package {hint}")
    pytest.importorskip("hatchling", reason=f"hatchling (the build backend) {hint}")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def test_wheel_contents(dist: Path) -> None:
    (wheel,) = dist.glob("alsrec-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "alsrec/py.typed" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert "alsrec/__init__.py" in names
    assert not any(n.startswith("tests/") for n in names)
    metadata = next(n for n in names if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Classifier: Typing :: Typed" in text
    assert "Requires-Dist: implicit" in text
    assert "Provides-Extra: test" in text
    assert "# alsrec" in text  # the README is the long description


def test_twine_check_strict(dist: Path) -> None:
    pytest.importorskip("twine", reason="twine is in the release extra: pip install '.[release]'")
    files = [str(p) for p in dist.iterdir()]
    assert any(f.endswith(".tar.gz") for f in files)
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_quickstart_runs_from_the_installed_wheel(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("alsrec-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # Dependencies come from this environment (no network); alsrec itself only from the wheel.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = sysconfig.get_paths()["purelib"]
    Path(site, "_parent_deps.pth").write_text(deps + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=120,
    )
    run = subprocess.run(
        [str(python), "-c", QUICKSTART],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().startswith(str(venv))
    demo = subprocess.run(
        [str(venv / "bin" / "alsrec"), "--version"], capture_output=True, text=True, check=False
    )
    assert demo.returncode == 0
    assert demo.stdout.startswith("alsrec ")


def _extra(text: str, name: str) -> list[str]:
    """The requirement strings of one optional-dependencies table entry."""
    match = re.search(rf"^{name} = \[\n(.*?)^\]", text, re.MULTILINE | re.DOTALL)
    assert match is not None, name
    return re.findall(r'"([^"]+)"', match.group(1))


def test_the_test_extra_holds_only_what_the_tests_need() -> None:
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    names = {re.split(r"[\[<>=]", req)[0] for req in _extra(text, "test")}
    assert not names & {"build", "twine", "hatchling", "psycopg"}
    release = {re.split(r"[<>=]", r)[0] for r in _extra(text, "release")}
    assert {"build", "twine", "hatchling"} <= release
    assert any(r.startswith("psycopg") for r in _extra(text, "postgres"))
    assert "alsrec[test,release,postgres]" in _extra(text, "dev")
