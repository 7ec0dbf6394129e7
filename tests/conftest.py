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
