"""How fast the book builds for an author: the figures of README "Building speed".

Measured on a fresh clone of this repository's HEAD (committed work only), in a
temporary folder, on this machine:

1. ``make serve`` on the fresh clone, after ``make install``: seconds until the
   home page answers (the labs are then computed in the background);
2. with the caches warm, under the same ``make serve``: seconds from saving an
   Italian chapter, its English twin, and a package function that chapter embeds,
   to the served page showing the change (what the browser reloads to);
3. a warm ``make build``;
4. with ``--full``: ``make test`` on a second fresh clone, cold (the whole of CI's
   work after the install step, browser tests included).

Usage: ``python tools/bench_build.py [--full]``. It prints a Markdown table. Not a
test: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTICE = ("Calcolo in corso", "Computing")  # hooks/notebook_cache.py, NOTICE
LABS = ["labs/adding/", "en/labs/adding/", "labs/ssm/", "en/labs/ssm/"]


def clone(folder: Path) -> Path:
    book = folder / "book"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(book)], check=True)
    return book


def timed(command: list[str], book: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=book, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def page(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except OSError:
        return None


def wait_for(condition, timeout: float, every: float = 0.2) -> float:
    """Seconds until ``condition()`` is true; an error after ``timeout`` seconds."""
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"not done after {timeout:.0f} s")
        time.sleep(every)
    return time.perf_counter() - start


def settled(log: Path, quiet: float = 8.0) -> None:
    """Wait until the server has written nothing to ``log`` for ``quiet`` seconds (no rebuild running)."""
    size = -1
    while size != log.stat().st_size:
        size = log.stat().st_size
        time.sleep(quiet)


def edit_and_wait(book: Path, path: str, old: str, new: str, url: str, marker: str) -> float:
    """Save ``path`` with ``old`` replaced by ``new``; seconds until ``url`` shows ``marker``."""
    settled(book / "serve.log")
    source = book / path
    text = source.read_text(encoding="utf-8")
    assert old in text, (path, old)
    source.write_text(text.replace(old, new, 1), encoding="utf-8")
    return wait_for(lambda: marker in (page(url) or ""), timeout=300)


def serve_figures(book: Path) -> dict[str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    start = time.perf_counter()
    log = book / "serve.log"
    server = subprocess.Popen(
        ["make", "serve", f"SERVE_ADDR=127.0.0.1:{port}"],
        cwd=book,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(lambda: page(base) is not None, timeout=600, every=0.5)
        first = time.perf_counter() - start
        labs = wait_for(
            lambda: all(
                text and not any(n in text for n in NOTICE) for text in map(page, (base + lab for lab in LABS))
            ),
            timeout=1800,
            every=5,
        )
        settled(log)
        figures = {
            "fresh clone: make serve to the home page (s)": first,
            "fresh clone: then the labs, computed in the background (s)": labs,
        }
        figures["edit an Italian chapter (s)"] = edit_and_wait(
            book, "docs/rnn.md", "\n## ", "\nbenchmark-it-marker\n\n## ", base + "rnn/", "benchmark-it-marker"
        )
        figures["edit its English twin (s)"] = edit_and_wait(
            book, "docs/rnn.en.md", "\n## ", "\nbenchmark-en-marker\n\n## ", base + "en/rnn/", "benchmark-en-marker"
        )
        figures["edit a function the chapter embeds (s)"] = edit_and_wait(
            book,
            "rnnbook/rnn.py",
            "def step(x, state, params):",
            "def step(x, state, params):  # benchmark-code",
            base + "rnn/",
            "benchmark-code",
        )
        return figures
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="also make test on a second fresh clone (minutes)")
    args = parser.parse_args(argv)
    figures = {}
    with tempfile.TemporaryDirectory(prefix="rnnbook-bench-") as folder:
        book = clone(Path(folder))
        print(f"make install: {timed(['make', 'install'], book):.0f} s (not counted)", file=sys.stderr)
        figures.update(serve_figures(book))
        subprocess.run(["git", "checkout", "--quiet", "."], cwd=book, check=True)  # undo the edits
        timed(["make", "build"], book)  # the edits' pages back in the cache
        figures["warm make build (s)"] = timed(["make", "build"], book)
    if args.full:
        with tempfile.TemporaryDirectory(prefix="rnnbook-bench-") as folder:
            book = clone(Path(folder))
            timed(["make", "install"], book)
            figures["cold make test on a fresh clone (s)"] = timed(["make", "test"], book)
    print("| measure | seconds |\n|---|---|")
    for name, seconds in figures.items():
        print(f"| {name.removesuffix(' (s)')} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
