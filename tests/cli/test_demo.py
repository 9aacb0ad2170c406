"""`alsrec demo` (and `python -m alsrec demo`) runs end to end and shows what it promises."""

from __future__ import annotations

import io
import re
import subprocess
import sys

from alsrec.cli import main


def test_demo_output_in_process() -> None:
    out = io.StringIO()
    assert main(["demo", "--factors", "16", "--iterations", "8"], out=out) == 0
    text = out.getvalue()
    assert "mapping check: OK" in text
    assert "Top-10 for user U000042" in text
    assert "Items similar to" in text and "Users similar to" in text
    assert "source='fallback'" in text
    model, popular = (float(x) for x in re.findall(r"NDCG@10 \w+\s+([0-9.]+)", text))
    assert model > 1.5 * popular


def test_python_dash_m_demo_subprocess() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "alsrec", "demo", "--iterations", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Held-out evaluation" in proc.stdout


def test_no_command_prints_help_and_exits_2() -> None:
    out = io.StringIO()
    assert main([], out=out) == 2
    assert "demo" in out.getvalue()
