"""The peers section of the benchmark command (django-fsm-2, SpiffWorkflow) runs, end to
end, at a tiny size; skipped where the optional extra ``bench`` is not installed."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_the_peers_run_at_a_tiny_size(tmp_path: Path) -> None:
    pytest.importorskip("django")
    pytest.importorskip("django_fsm", reason="django-fsm-2 is not installed (extra 'bench')")
    command = [sys.executable, "-m", "benchmarks", "run", "--tiny", "--sections", "peers"]
    command += ["--no-postgres", "--workdir", str(tmp_path)]
    command += ["--output", str(tmp_path / "results.md")]
    completed = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    written = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert "e) Peers" in written
    version = importlib.metadata.version("django-fsm-2")
    assert f"| django-fsm-2 {version} (Django " in written
    try:
        spiff = importlib.metadata.version("SpiffWorkflow")
    except importlib.metadata.PackageNotFoundError:
        assert "skipped: SpiffWorkflow not installed" in written
    else:
        assert f"| SpiffWorkflow {spiff} " in written
    assert "skipped" not in written.split("| django-fsm-2", 1)[1].split("\n", 1)[0]
    # The peers' SQLite files are removed afterwards (no --keep).
    assert not list(tmp_path.glob("peers_*.sqlite3"))
