"""Running ``python -m alsrec`` as a subprocess, for the command-line tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import alsrec

SRC = str(Path(alsrec.__file__).resolve().parents[1])


def run(
    *args: str, cwd: Path, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with this checkout's alsrec and one BLAS thread; never raises on exit code."""
    env = {**os.environ, "PYTHONPATH": SRC, "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "alsrec", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
