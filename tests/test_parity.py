"""Every page exists in both languages with the same skeleton (hooks/parity.py)."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hooks"))
import parity  # noqa: E402


def test_every_page_has_its_twin_with_the_same_skeleton():
    problems = parity.differences(ROOT / "docs")
    assert not problems, "The two languages differ:\n" + "\n".join(problems)


def test_skeleton_ignores_hashes_inside_code_and_counts_what_matters():
    text = (
        '# Title\n\n## A\n\n```python\n# not a heading\n--8<-- "rnnbook/rnn.py:step"\n```\n\n'
        '$$\nx =  \\text{se } 0{,}5\n  + y\n$$\n\n![c](rnnbook:activations)\n\n??? success "Soluzione"\n    text\n'
    )
    found = parity.skeleton(text)
    assert found["headings"] == [1, 2]
    assert found["snippets"] == ["rnnbook/rnn.py:step"]
    assert found["code blocks"] == ["python"]
    assert found["equations"] == ["x = \\text{…} 0.5 + y"]  # words and the decimal comma aside
    assert found["images"] == ["rnnbook:activations"]
    assert found["blocks"] == ["??? success"]


def test_differences_are_listed_by_part(tmp_path):
    (tmp_path / "a.md").write_text("# T\n\n## S\n", encoding="utf-8")
    (tmp_path / "a.en.md").write_text("# T\n\n### S\n", encoding="utf-8")
    (tmp_path / "b.en.md").write_text("# T\n", encoding="utf-8")
    assert parity.differences(tmp_path) == [
        "b.en.md has no it twin b.md",
        "a.md and a.en.md differ in headings: it [1, 2], en [1, 3]",
    ]


def test_the_hooks_book_helper():
    """hooks/_book.py: languages from mkdocs.yml, page names, twins, one fence scanner."""
    import doctest

    import _book

    assert doctest.testmod(_book).failed == 0
    assert _book.languages() == ("it", "en")
    assert [_book.stem(p) for p in ("rnn.md", "labs/sine.en.md")] == ["rnn", "sine"]
    assert _book.page_in("docs/labs/sine.en.md", "it") == Path("docs/labs/sine.md")
    assert _book.is_notebook("---\njupyter:\n") and not _book.is_notebook("# Title\n---\njupyter:\n")


@pytest.mark.skipif(not hasattr(os, "nice") or shutil.which("nice") is None, reason="no nice on this platform")
def test_background_work_runs_at_a_lower_priority_with_the_book_first_on_its_path():
    """hooks/_book.py run_behind: what mkdocs serve computes behind an author's edits yields the cores."""
    import _book

    code = "import os, rnnbook; print(os.nice(0)); print(rnnbook.__file__); print(os.getsid(0))"
    done = _book.run_behind(["-c", code], capture_output=True, text=True)
    niceness, package, session = done.stdout.split()
    assert int(niceness) == min(os.nice(0) + 10, 19)
    assert Path(package) == ROOT / "rnnbook" / "__init__.py"
    # Linux schedules each session as a group (autogroup): in a session of its own the
    # background would get as much CPU as the server, whatever its niceness.
    assert int(session) == os.getsid(0)


def test_a_four_backtick_block_may_show_a_three_backtick_one():
    text = "# T\n\n````markdown\n```python\n# not a heading\n```\n````\n\n## S\n"
    found = parity.skeleton(text)
    assert found["headings"] == [1, 2] and found["code blocks"] == ["markdown"]


ITALIAN = """# Titolo

## Sezione

Testo con $x$ in linea.

$$
h_t = \\tanh(a_t) \\quad \\text{per ogni } t
$$

![Didascalia.](rnnbook:activations)

![Schema.](assets/diagrams/rnn-unrolled.svg)

```python
--8<-- "rnnbook/rnn.py:step"
```

!!! note "Nota"
    Testo.

=== "numpy"

    ```pycon
    >>> 1 + 1
    2
    ```
"""

ENGLISH = (
    ITALIAN.replace("Titolo", "Title")
    .replace("Sezione", "Section")
    .replace("Testo con", "Text with")
    .replace("per ogni", "for every")
    .replace("Didascalia", "Caption")
    .replace("Schema", "Diagram")
    .replace('"Nota"', '"Note"')
    .replace("Testo.", "Text.")
)

# One change per compared part: the English twin differs from the Italian page only there.
BREAKS = {
    "headings": ("## Section", "### Section"),
    "snippets": ("rnnbook/rnn.py:step", "rnnbook/rnn.py:forward"),
    "images": ("assets/diagrams/rnn-unrolled.svg", "assets/diagrams/rnn-folded.svg"),
    "equations": ("\\tanh(a_t)", "\\sigma(a_t)"),
    "code blocks": ("```pycon", "```python"),
    "blocks": ('!!! note "Note"', '!!! warning "Note"'),
    "notebook": ("# Title", "---\njupyter:\n  kernelspec: {}\n---\n\n# Title"),
}


def test_the_twins_of_the_example_agree(tmp_path):
    (tmp_path / "a.md").write_text(ITALIAN, encoding="utf-8")
    (tmp_path / "a.en.md").write_text(ENGLISH, encoding="utf-8")
    assert parity.differences(tmp_path) == []
    assert parity.skeleton(ENGLISH)["equations"] == ["h_t = \\tanh(a_t) \\quad \\text{…} t"]


@pytest.mark.parametrize("part", sorted(BREAKS))
def test_each_compared_part_is_compared(tmp_path, part):
    old, new = BREAKS[part]
    assert old in ENGLISH
    (tmp_path / "a.md").write_text(ITALIAN, encoding="utf-8")
    (tmp_path / "a.en.md").write_text(ENGLISH.replace(old, new, 1), encoding="utf-8")
    problems = parity.differences(tmp_path)
    assert [p.split(":")[0] for p in problems] == [f"a.md and a.en.md differ in {part}"], problems


def test_every_part_of_the_skeleton_has_a_negative_test():
    assert set(parity.skeleton(ITALIAN)) == set(BREAKS)


def test_equations_are_compared_in_order(tmp_path):
    two = "$$\na\n$$\n\n$$\nb\n$$\n"
    (tmp_path / "a.md").write_text(two, encoding="utf-8")
    (tmp_path / "a.en.md").write_text("$$\nb\n$$\n\n$$\na\n$$\n", encoding="utf-8")
    assert parity.differences(tmp_path) == ["a.md and a.en.md differ in equations: it ['a', 'b'], en ['b', 'a']"]


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (Linux's /proc)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from Linux's /proc")
def test_background_work_stops_when_the_server_is_killed():
    """hooks/_book.py stop_with_parent: a process started by run_behind, and what it started, end with the server."""
    hooks = str(ROOT / "hooks")
    child = (
        f"import os, subprocess, sys, time\nsys.path.insert(0, {hooks!r})\nimport _book\n"
        "_book.stop_with_parent(every=0.1)\n"
        "grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(os.getpid(), grandchild.pid, flush=True)\ntime.sleep(60)\n"
    )
    server = f"import sys\nsys.path.insert(0, {hooks!r})\nimport _book\n_book.run_behind(['-c', {child!r}])\n"
    started = subprocess.Popen([sys.executable, "-c", server], stdout=subprocess.PIPE, text=True)
    pids = [int(pid) for pid in started.stdout.readline().split()]
    assert len(pids) == 2 and all(map(_running, pids))
    started.kill()  # SIGKILL: the server cannot stop anything itself
    started.wait()
    deadline = time.monotonic() + 10
    while any(map(_running, pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(_running, pids))
