"""The build prints no alarming noise: notebook kernels do not warn about unencrypted TCP."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import sys
sys.path.insert(0, "hooks")
import notebook_cache
notebook_cache.local_kernels()
import nbformat
from nbclient import NotebookClient
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
NotebookClient(nb, kernel_name="python3").execute()
print(nb.cells[0].outputs[0]["text"], end="")
"""


@pytest.mark.skipif(os.name != "posix", reason="local sockets (ipc) exist on POSIX systems")
def test_a_notebook_kernel_runs_without_the_tcp_warning():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0 and done.stdout == "42\n", done.stderr
    assert "without encryption" not in done.stderr, done.stderr
