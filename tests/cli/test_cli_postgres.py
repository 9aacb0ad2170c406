"""``alsrec train --sql ... --db postgresql://...``: PostgreSQL through psycopg.

The server comes from ALSREC_TEST_POSTGRES_DSN or a throwaway cluster started by
.ci/postgres.sh (as in tests/data/test_readers.py); without either the test skips, naming
why. The missing-driver hint is checked in process, with the import blocked.
"""

from __future__ import annotations

import builtins
import glob
import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cli_runner import run

from alsrec import Recommender, cli

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def postgres_dsn() -> Iterator[str]:
    """A PostgreSQL DSN: ALSREC_TEST_POSTGRES_DSN, or a throwaway cluster from .ci/postgres.sh."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'alsrec[test]')")
    dsn = os.environ.get("ALSREC_TEST_POSTGRES_DSN")
    if dsn:
        yield dsn
        return
    script = REPO / ".ci" / "postgres.sh"
    if shutil.which("initdb") is None and not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        pytest.skip(
            "no PostgreSQL server: ALSREC_TEST_POSTGRES_DSN is unset and no initdb binary "
            "is installed (apt-get install postgresql, or run .ci/run)"
        )
    started = subprocess.run(
        ["bash", str(script), "start"],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "ALSREC_PG_INSTALL": "0"},
        check=False,
    )
    exports = dict(
        line.removeprefix("export ").replace("'", "").split("=", 1)
        for line in started.stdout.splitlines()
        if line.startswith("export ")
    )
    if "ALSREC_TEST_POSTGRES_DSN" not in exports:
        pytest.fail(f"PostgreSQL is installed but did not start:\n{started.stderr}")
    try:
        yield exports["ALSREC_TEST_POSTGRES_DSN"]
    finally:
        subprocess.run(
            ["bash", str(script), "stop", exports["ALSREC_TEST_POSTGRES_DIR"]],
            capture_output=True,
            timeout=120,
            check=False,
        )


def test_train_from_postgresql(postgres_dsn: str, tmp_path: Path) -> None:
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS cli_events")
        conn.execute("CREATE TABLE cli_events (uid TEXT, iid INTEGER, w REAL)")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO cli_events VALUES (%s, %s, %s)",
                [(f"u{u}", (u * 3 + k) % 7, 1.0 + k) for u in range(10) for k in range(3)],
            )
    proc = run(
        "train", "--sql", "SELECT uid, iid, w FROM cli_events", "--db", postgres_dsn,
        "--user-col", "uid", "--item-col", "iid", "--weight-col", "w", "--factors", "2",
        "--iterations", "2", "-o", "pg_model", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    model = Recommender.load(tmp_path / "pg_model")
    assert len(model.users_) == 10 and model.items_.kind == "int"
    bad = run(
        "train", "--sql", "SELECT nope FROM cli_events", "--db", postgres_dsn, "-o", "m",
        cwd=tmp_path,
    )  # fmt: skip
    assert bad.returncode == 3 and "nope" in bad.stderr


def test_postgresql_without_the_driver_names_the_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = builtins.__import__

    def no_psycopg(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "psycopg" or name.startswith("psycopg."):
            raise ImportError("No module named 'psycopg'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    err = io.StringIO()
    code = cli.main(
        ["train", "--sql", "SELECT 1", "--db", "postgresql://nobody@localhost/none", "-o", "m"],
        out=io.StringIO(),
        err=err,
    )
    assert code == 2
    assert "pip install 'psycopg[binary]'" in err.getvalue()
