"""``alsrec train --sql ... --db postgresql://...``: PostgreSQL through psycopg.

The server comes from ALSREC_TEST_POSTGRES_DSN or a throwaway cluster started by
.ci/postgres.sh (as in tests/data/test_readers.py); without either the test skips, naming
why. The missing-driver hint is checked in process, with the import blocked.
"""

from __future__ import annotations

import builtins
import io
from typing import TYPE_CHECKING, Any

from cli_runner import run

from alsrec import Recommender, cli

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


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
