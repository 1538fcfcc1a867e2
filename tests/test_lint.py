"""The code passes ruff's linter and is as ruff's formatter writes it (ruff pinned in
requirements.lock; rules and format settings in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ruff(*arguments):
    return subprocess.run(
        [sys.executable, "-m", "ruff", *arguments], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_finds_nothing():
    done = ruff("check", "--no-cache", "rnnbook", "hooks", "tests", "tools", "conftest.py")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_code_is_formatted():
    done = ruff("format", "--check", "--no-cache", ".")
    assert done.returncode == 0, (
        f"run `ruff format .` (.venv/bin/ruff format .) and commit:\n{done.stdout}{done.stderr}"
    )
