"""The book's code outside the repository: a wheel built from its tracked files (what a
fresh clone holds), installed in a new virtual environment, runs the command line and
every lab's downloaded notebook.

The new environment is a virtual environment of its own in a temporary folder, with
the wheel installed in it; commands run from an empty folder with ``PYTHONPATH``
cleared, so nothing comes from the repository (checked: ``rnnbook`` is imported from
the wheel's installation). Its dependencies are the lock's versions (checked): rather
than installing them again (1.6 GB; 14 minutes here, on a busy machine), a ``.pth`` file puts
the site-packages of the environment running the tests (``make install``:
``requirements.lock``) after the new environment's own. A ``.pth`` line only adds the
folder, without running the ``.pth`` files inside it, so the repository's editable
``rnnbook`` stays out of sight.

The notebooks are the built site's downloads (``site/.../NAME.ipynb``), executed
with ``nbclient`` exactly as a reader downloads them, plus one last cell that checks
where ``rnnbook`` came from. They run with the lab settings of the pages; so that
this stays quick, the new environment's cache (``RNNBOOK_CACHE``) is pre-filled with
the results the site's build computed (``.cache/rnnbook``). The labs key those
results by the package's source, so the installed package reads them only if it holds
the same code as the repository (checked too); a notebook that had to train would
take minutes, and the test fails before that and asks for a build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from rnnbook import cache, corpus, labs

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
# Every lab function the cache memoizes (a new lab is included without editing this list).
LAB_CACHE_PREFIXES = tuple(f"{name}-" for name, fn in vars(labs).items() if hasattr(fn, "is_cached"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (SITE / "index.html").exists(), reason="no built site: run `make build` (make test does it first)"
    ),
]

# Run by the new environment's Python: what it imported, from where, and what it reads.
INSPECT = """
import hashlib, importlib, importlib.metadata as metadata, json, pkgutil, sys
import rnnbook
from rnnbook import cache, corpus, labs

modules = [m.name for m in pkgutil.walk_packages(rnnbook.__path__, "rnnbook.")]
for name in modules:
    importlib.import_module(name)
lock = [line.split("==") for line in open(sys.argv[1]) if "==" in line and not line.startswith("#")]
print(json.dumps({
    "prefix": sys.prefix,
    "rnnbook": rnnbook.__file__,
    "direct_url": json.loads(metadata.distribution("rnnbook").read_text("direct_url.json")),
    "modules": modules,
    "versions": {name: metadata.version(name) for name, _ in lock},
    "source_hash": cache.source_hash(),
    "text": {language: hashlib.sha256(corpus.load_book_text(language=language).encode()).hexdigest()
             for language in ("it", "en", "both")},
    "cached": {name: labs.is_cached(name) for name in labs.LABS},
}))
"""

# Run by the new environment's Python: execute the notebooks, each in its own empty folder,
# two at a time (two kernels, one BLAS thread each, like the build's labs).
EXECUTE = """
import asyncio, sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient

async def execute(path, slots):
    async with slots:
        start = time.perf_counter()
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        await client.async_execute()
        nbformat.write(notebook, path)
        print(f"{path.parent.as_posix().split('/notebooks/')[-1]}: {time.perf_counter() - start:.1f} s", flush=True)

async def main(paths):
    slots = asyncio.Semaphore(2)
    await asyncio.gather(*(execute(path, slots) for path in paths))

asyncio.run(main([Path(p) for p in sys.argv[1:]]))
"""

CHECK_CELL = """import sys
import rnnbook
assert sys.prefix == {prefix!r}, sys.prefix
assert rnnbook.__file__.startswith({prefix!r}), rnnbook.__file__
"""


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A new virtual environment with the wheel built from the repository installed in it."""
    tmp = tmp_path_factory.mktemp("fresh")
    # What a fresh clone holds (the tracked files, as edited): no build/ or egg-info left over.
    source = tmp / "source"
    tracked = run(["git", "-C", ROOT, "ls-files", "-z", "--", "pyproject.toml", "README.md", "LICENSE", "rnnbook"])
    for name in filter(None, tracked.split("\0")):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", tmp / "dist", source])
    (wheel,) = (tmp / "dist").glob("rnnbook-*.whl")
    env_dir = tmp / "env"
    run([sys.executable, "-m", "venv", "--without-pip", env_dir])
    python = env_dir / "bin" / "python"
    # Installed before the .pth exists: pip sees an empty environment and touches nothing else.
    run([*pip, "--python", python, "install", "--no-deps", "--no-index", wheel])
    site_packages = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    (site_packages / "lock-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "RNNBOOK_CACHE")}
    environ |= {
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{environ['PATH']}",
        "RNNBOOK_CACHE": str(tmp / "cache"),
        "MPLBACKEND": "Agg",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for entry in cache.cache_dir().glob("*.pkl"):  # the site build's lab results (see the module docstring)
        if entry.name.startswith(LAB_CACHE_PREFIXES):
            (tmp / "cache").mkdir(exist_ok=True)
            shutil.copy(entry, tmp / "cache" / entry.name)
    empty = tmp / "empty"
    empty.mkdir()
    return {"tmp": tmp, "python": str(python), "prefix": str(env_dir), "env": environ, "cwd": empty, "wheel": wheel}


def run(command, **kwargs):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def run_fresh(fresh, *command):
    return run(command, cwd=fresh["cwd"], env=fresh["env"])


@pytest.fixture(scope="module")
def inspected(fresh):
    return json.loads(run_fresh(fresh, fresh["python"], "-c", INSPECT, ROOT / "requirements.lock"))


def test_the_wheel_installs_the_package_with_its_data(fresh, inspected):
    assert inspected["prefix"] == fresh["prefix"]
    assert inspected["rnnbook"].startswith(fresh["prefix"]), "rnnbook must come from the wheel"
    assert inspected["direct_url"]["url"].endswith(fresh["wheel"].name), inspected["direct_url"]
    package = [p.relative_to(ROOT).with_suffix("").parts for p in (ROOT / "rnnbook").rglob("*.py")]
    modules = sorted(".".join(parts[:-1] if parts[-1] == "__init__" else parts) for parts in package)
    assert sorted(inspected["modules"]) == [m for m in modules if m != "rnnbook"], "every module imports"
    assert inspected["source_hash"] == cache.source_hash(), "the wheel holds the repository's code (untracked files?)"


def test_the_new_environment_has_the_locks_versions(inspected):
    lock = dict(
        line.strip().split("==")
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    installed = {name: version.split("+")[0] for name, version in inspected["versions"].items()}
    assert installed == lock


def test_the_installed_corpus_is_the_chapters(inspected):
    for language, digest in inspected["text"].items():
        chapters = corpus.load_book_text(ROOT / "docs", language)
        assert digest == hashlib.sha256(chapters.encode()).hexdigest(), language


def test_the_command_line_runs_from_an_empty_folder(fresh):
    listed = run_fresh(fresh, fresh["python"], "-m", "rnnbook", "list")
    assert re.search(r"^charlm\s+", listed, flags=re.M), listed
    out = fresh["tmp"] / "charlm-run"
    printed = run_fresh(
        fresh,
        "rnnbook",
        "run",
        "charlm",
        "--steps",
        "2",
        "--hidden",
        "8",
        "--batch-size",
        "2",
        "--chunk-len",
        "8",
        "--eval-every",
        "1",
        "--sample-len",
        "8",
        "--no-progress",
        "--out",
        out,
    )
    assert "validation bits per character" in printed
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert [e["step"] for e in result["history"]["eval"]] == [1, 2]
    assert not any(fresh["cwd"].iterdir()), "nothing is written into the working folder but --out"


def lab_notebooks():
    """Every notebook the built site offers for download, both languages."""
    return sorted(SITE.glob("labs/*/*.ipynb")) + sorted(SITE.glob("en/labs/*/*.ipynb"))


def test_every_downloaded_notebook_runs_in_the_new_environment(fresh, inspected):
    missing = [name for name, cached in inspected["cached"].items() if not cached]
    assert not missing, (
        f"the site build's results of the labs {missing} are not in {cache.cache_dir()} for "
        "this source: rebuild the site (mkdocs build) and run the test again"
    )
    paths = []
    assert len(lab_notebooks()) >= 10, lab_notebooks()
    for downloaded in lab_notebooks():
        folder = fresh["tmp"] / "notebooks" / downloaded.relative_to(SITE).parent
        folder.mkdir(parents=True)
        notebook = nbformat.read(downloaded, as_version=4)
        notebook.cells.append(nbformat.v4.new_code_cell(CHECK_CELL.format(prefix=fresh["prefix"])))
        nbformat.write(notebook, folder / downloaded.name)
        paths.append(folder / downloaded.name)
    print(run_fresh(fresh, fresh["python"], "-c", EXECUTE, *paths))
    for path in paths:
        executed = nbformat.read(path, as_version=4)
        errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, (path.name, errors)
