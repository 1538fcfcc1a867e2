"""The machinery that keeps text and code in sync must bite.

Each test builds a small copy of the book in a temporary folder (the real
configuration, hooks and package, a few pages) with one deliberate breakage,
and checks that the build or the test run fails for that reason. A control
build of the same copy without breakage must pass, so the failures are not
caused by the copy itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hooks"))
import parity  # noqa: E402

# The jupytext header of a notebook page, as a real lab has it (tests/test_labs.py checks it).
HEADER = re.match(r"---\n.*?\n---\n", (ROOT / "docs" / "labs" / "first-steps.md").read_text(encoding="utf-8"), re.S)[0]

PAGE = """# {title}

Text with inline maths $h_t = \\tanh(a_t)$ and a display equation:

$$
\\norm{{\\frac{{\\partial h_T}}{{\\partial h_t}}}} \\le \\prod_{{k=t+1}}^{{T}} \\norm{{W_{{hh}}}}
$$

![{caption}](rnnbook:activations)

```python
--8<-- "rnnbook/cache.py:{section}"
```

```python
x = 2 + 2
```

```pycon
>>> x
4
```
"""

NOTEBOOK = HEADER + """
# {title}

```python
value = {cell}
value
```
"""

pytestmark = pytest.mark.slow


def make_book(tmp_path, section="key", cell="1 + 1", english=True):
    """A copy of the book with a home page, one notebook, and the real machinery."""
    book = tmp_path / "book"
    book.mkdir()
    for name in ("hooks", "overrides", "rnnbook"):
        shutil.copytree(ROOT / name, book / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "docs" / "assets", book / "docs" / "assets")
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, book / name)
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = config[: config.index("\nnav:\n")] + "\nnav:\n  - Home: index.md\n  - Lab: labs/lab.md\n"
    (book / "mkdocs.yml").write_text(config, encoding="utf-8")
    (book / "docs" / "labs").mkdir()
    pages = {
        "index.md": PAGE.format(title="Pagina", caption="Didascalia.", section=section),
        "index.en.md": PAGE.format(title="Page", caption="Caption.", section=section),
        "labs/lab.md": NOTEBOOK.format(title="Quaderno", cell=cell),
        "labs/lab.en.md": NOTEBOOK.format(title="Notebook", cell=cell),
    }
    if not english:
        del pages["index.en.md"]
    for name, text in pages.items():
        (book / "docs" / name).write_text(text, encoding="utf-8")
    return book


def build(book):
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(book / "mkdocs.yml"), "-d", str(book / "site")],
        capture_output=True,
        text=True,
        cwd=book,
    )


def add_section_markers():
    """The control build embeds the section ``key`` of rnnbook/cache.py."""
    source = (ROOT / "rnnbook" / "cache.py").read_text(encoding="utf-8")
    assert "# --8<-- [start:key]" in source, "rnnbook/cache.py lost its snippet section 'key'"


def test_control_book_builds_with_maths_figure_snippet_and_notebook(tmp_path):
    add_section_markers()
    book = make_book(tmp_path)
    result = build(book)
    assert result.returncode == 0, result.stderr[-3000:]
    for page in ("index.html", "en/index.html"):
        html = (book / "site" / page).read_text(encoding="utf-8")
        assert 'class="katex"' in html and "\\(" not in html and "$$" not in html
        assert '<img src="data:image/svg+xml;base64,' in html
        assert "def _key(fn, args, kwargs)" in re.sub(r"<[^>]+>", "", html)  # the embedded section
    lab = (book / "site" / "labs" / "lab" / "index.html").read_text(encoding="utf-8")
    assert "jp-OutputArea" in lab and "mathjax" not in lab.lower()


def test_wrong_snippet_section_fails_the_build(tmp_path):
    result = build(make_book(tmp_path, section="no_such_section"))
    assert result.returncode != 0
    assert "no_such_section" in result.stderr


def test_notebook_cell_that_raises_fails_the_build(tmp_path):
    result = build(make_book(tmp_path, cell="1 / 0"))
    assert result.returncode != 0
    assert "ZeroDivisionError" in result.stderr


def test_page_without_english_twin_fails_parity_and_build(tmp_path):
    book = make_book(tmp_path, english=False)
    assert parity.differences(book / "docs") == ["index.md has no English twin index.en.md"]
    result = build(book)
    assert result.returncode != 0
    assert "index.md has no English twin" in result.stderr


def replace_in_pages(book, old, new, names=("index.md", "index.en.md")):
    """Break the copy on purpose: replace ``old`` by ``new`` in the pages ``names``."""
    for name in names:
        page = book / "docs" / name
        text = page.read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in {name}"
        page.write_text(text.replace(old, new), encoding="utf-8")


def test_failing_code_block_fails_the_tests(tmp_path):
    book = make_book(tmp_path)
    replace_in_pages(book, "x = 2 + 2", "x = 2 + 3", names=["index.md"])
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "docs/index.md", "docs/index.en.md"],
        capture_output=True,
        text=True,
        cwd=book,
    )
    assert result.returncode != 0
    assert "1 failed" in result.stdout and "Expected:\n    4\nGot:\n    5" in result.stdout


def test_formula_katex_cannot_render_fails_the_build(tmp_path):
    book = make_book(tmp_path)
    replace_in_pages(book, "\\tanh(a_t)", "\\frac{a_t}")
    result = build(book)
    assert result.returncode != 0
    assert "cannot render the formula" in result.stderr


def test_unknown_figure_fails_the_build(tmp_path):
    book = make_book(tmp_path)
    replace_in_pages(book, "rnnbook:activations", "rnnbook:nope")
    result = build(book)
    assert result.returncode != 0
    assert "figure 'nope' failed" in result.stderr


def test_twins_with_different_formulas_fail_parity_and_build(tmp_path):
    """Both pages exist with the same number of equations, but the English one says ≥."""
    book = make_book(tmp_path)
    replace_in_pages(book, "\\le \\prod", "\\ge \\prod", names=["index.en.md"])
    assert [p.split(":")[0] for p in parity.differences(book / "docs")] == [
        "index.md and index.en.md differ in equations"]
    result = build(book)
    assert result.returncode != 0
    assert "index.md and index.en.md differ in equations" in result.stderr
