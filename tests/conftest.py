"""Shared fixtures: paths to presets and a tiny policy/data factory."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(ROOT / "tests"))


@pytest.fixture(scope="session")
def chengguan():
    from engine.policy import load_policy

    return load_policy(RULES / "chengguan.yaml").for_month("2026-10")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def notices_root(tmp_path_factory):
    """History with September and October 2026 of tests/fixtures/notices (scored by `wangge run`
    under rules/chengguan.yaml, outputs in <root>/2026-MM) and a small solved roster of the same people and grids (<root>/roster)."""
    from click.testing import CliRunner

    from engine.cli import main

    def run(*args):
        r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert r.exit_code == 0, r.output

    root = tmp_path_factory.mktemp("notices")
    fix = FIXTURES / "notices"
    for month in ("2026-09", "2026-10"):
        run("run", "--policy", RULES / "chengguan.yaml", "--month", month, "--workers", fix / "workers.csv",
            "--metrics", fix / "metrics.csv", "--events", fix / "events.csv", "--data", root / "data",
            "--out", root / month, "--no-print")
    run("roster", "--problem", fix / "roster", "--out", root / "roster", "--time-limit", "3", "--deterministic")
    return root
