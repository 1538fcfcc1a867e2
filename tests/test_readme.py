"""The README tells the truth: its commands exist and run (small settings), its Python
snippet runs, and what it says about checking holds (make test, CI, no silent skip)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import conftest
from rnnbook.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def blocks(language):
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.M | re.S)


def commands():
    """The README's ``rnnbook ...`` commands (after ``source .venv/bin/activate``), comments removed,
    as argument lists."""
    found = []
    for block in blocks("bash"):
        for line in block.splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("rnnbook "):
                found.append(shlex.split(line)[1:])
    return found


def test_the_python_snippet_runs():
    (snippet,) = blocks("python")
    namespace = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    assert namespace["hs"].shape == (5, 2, 4) and namespace["h_T"].shape == (2, 4)
    np.testing.assert_allclose(namespace["hs"][-1], namespace["h_T"])


def test_the_example_commands_are_the_ones_tested_here():
    assert commands() == [["list"], ["run", "adding", "--model", "lstm", "--seq-len", "100"]]


def test_rnnbook_list_runs_as_written():
    done = subprocess.run([sys.executable, "-m", "rnnbook", *commands()[0]], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "adding" in done.stdout


def test_rnnbook_run_adding_runs_with_tiny_settings(tmp_path, capsys):
    """The README's command, with the later options making it tiny (argparse keeps the last)."""
    argv = commands()[1] + [
        "--seq-len",
        "10",
        "--steps",
        "2",
        "--eval-every",
        "1",
        "--batch-size",
        "4",
        "--test-size",
        "8",
        "--no-progress",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    assert "Adding problem (modern form), LSTM, T = 10" in capsys.readouterr().out
    assert (tmp_path / "result.json").exists()


def test_every_make_target_the_readme_names_exists():
    named = set(re.findall(r"`make (\w+)`", README)) | set(re.findall(r"^make (\w+)", README, flags=re.M))
    targets = set(re.findall(r"^(\w+):", MAKEFILE, flags=re.M))
    assert named and named <= targets, named - targets


def test_make_test_builds_strictly_then_runs_every_test_strictly():
    recipe = MAKEFILE.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    build, tests = recipe.index("mkdocs build --strict"), recipe.index("RNNBOOK_STRICT=1 $(PY) -m pytest")
    assert build < tests


def test_ci_installs_chromium_and_runs_make_test():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "apt-get install -y -qq chromium" in ci and ci.rstrip().splitlines()[-2:] == ["make test", 'stage "done"']


def test_a_missing_requirement_skips_by_hand_and_fails_under_make_test_or_ci(monkeypatch):
    monkeypatch.setattr(conftest, "STRICT", False)
    conftest.require(True, "there")
    with pytest.raises(pytest.skip.Exception, match="no built site"):
        conftest.require(False, "no built site")
    monkeypatch.setattr(conftest, "STRICT", True)
    with pytest.raises(pytest.fail.Exception, match="no built site"):
        conftest.require(False, "no built site")


@pytest.mark.parametrize("variable", ["RNNBOOK_STRICT", "CI"])
def test_strict_mode_follows_the_environment(variable):
    env = {"PATH": "/usr/bin:/bin", variable: "1"}
    code = "import conftest; print(conftest.STRICT)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert done.stdout.strip() == "True", done.stderr
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin"}
    )
    assert done.stdout.strip() == "False", done.stderr
