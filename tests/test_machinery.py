"""The machinery that keeps text and code in sync must bite.

Each test builds a small copy of the book in a temporary folder (the real
configuration, hooks and package, a few pages) with one deliberate breakage,
and checks that the build or the test run fails for that reason. A control
build of the same copy without breakage must pass, so the failures are not
caused by the copy itself. The accessibility check needs a browser: it is tried on one
small page instead, with and without the fault.
"""

from __future__ import annotations

import json
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
--8<-- "rnnbook/rnn.py:{section}"
```

```python
x = 2 + 2
```

```pycon
>>> x
4
```
"""

NOTEBOOK = (
    HEADER
    + """
# {title}

```python
value = {cell}
value
```
"""
)

pytestmark = pytest.mark.slow


def make_book(tmp_path, section="step", cell="1 + 1", english=True):
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
        "labs/lab.md": NOTEBOOK.format(title="Notebook", cell=cell),
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
    """The control build embeds the section ``step`` of rnnbook/rnn.py."""
    source = (ROOT / "rnnbook" / "rnn.py").read_text(encoding="utf-8")
    assert "# --8<-- [start:step]" in source, "rnnbook/rnn.py lost its snippet section 'step'"


def test_control_book_builds_with_maths_figure_snippet_and_notebook(tmp_path):
    add_section_markers()
    book = make_book(tmp_path)
    result = build(book)
    assert result.returncode == 0, result.stderr[-3000:]
    for page in ("index.html", "en/index.html"):
        html = (book / "site" / page).read_text(encoding="utf-8")
        assert 'class="katex"' in html and "\\(" not in html and "$$" not in html
        assert '<img src="data:image/svg+xml;base64,' in html
        assert "def step(x, state, params)" in re.sub(r"<[^>]+>", "", html)  # the embedded section
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
    assert parity.differences(book / "docs") == ["index.md has no en twin index.en.md"]
    result = build(book)
    assert result.returncode != 0
    assert "index.md has no en twin" in result.stderr


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


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("\\tanh(a_t)", "\\frac{a_t}", "cannot render the formula"),  # a formula KaTeX cannot render
        ("rnnbook:activations", "rnnbook:nope", "figure 'nope' failed"),  # an unknown figure
    ],
)
def test_a_broken_formula_or_figure_fails_the_build(tmp_path, old, new, message):
    book = make_book(tmp_path)
    replace_in_pages(book, old, new)
    result = build(book)
    assert result.returncode != 0
    assert message in result.stderr


def prose_check(book):
    """Run the prose checks (tests/test_prose.py) on the copy's pages."""
    (book / "tests").mkdir(exist_ok=True)
    shutil.copy(ROOT / "tests" / "test_prose.py", book / "tests" / "test_prose.py")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_prose.py"],
        capture_output=True,
        text=True,
        cwd=book,
    )


def test_control_book_passes_the_prose_checks(tmp_path):
    result = prose_check(make_book(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:]


def test_number_typed_into_prose_fails_the_prose_check(tmp_path):
    book = make_book(tmp_path)
    replace_in_pages(book, "and a display equation:", "and, in about 55 seconds, a display equation:")
    result = prose_check(book)
    assert result.returncode != 0
    assert "2 failed" in result.stdout and "line 3: '55'" in result.stdout


def test_rejected_italian_variant_fails_the_prose_check(tmp_path):
    book = make_book(tmp_path)
    replace_in_pages(book, "Text with inline maths", "Text with a lotto of inline maths", names=["index.md"])
    result = prose_check(book)
    assert result.returncode != 0
    assert "1 failed" in result.stdout and "'lotto', write 'batch'" in result.stdout


def copy_test(book):
    """tests/test_copied_pages.py run on the copy's built site."""
    (book / "tests").mkdir(exist_ok=True)
    shutil.copy(ROOT / "tests" / "test_copied_pages.py", book / "tests")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_copied_pages.py",
            "-k",
            "runs_as_copied",
        ],
        capture_output=True,
        text=True,
        cwd=book,
    )


def test_page_showing_a_function_but_not_its_helper_fails_the_copy_test(tmp_path):
    """The GRU step calls split_gates and sigmoid: a page that embeds the step must show both."""
    book = make_book(tmp_path)
    shown = '--8<-- "rnnbook/cell.py:sigmoid"\n\n--8<-- "rnnbook/gru.py:split_gates"\n\n--8<-- "rnnbook/gru.py:step"'
    replace_in_pages(book, '--8<-- "rnnbook/rnn.py:step"', shown)
    assert build(book).returncode == 0
    control = copy_test(book)
    assert control.returncode == 0, control.stdout[-3000:]
    # The same rendered pages, where the function shown is no longer split_gates: a reader
    # who copies them has a step that calls a split_gates nobody defined.
    for page in ("index.html", "en/index.html"):
        html = book / "site" / page
        definition = '<span class="nf">split_gates</span>'
        text = html.read_text(encoding="utf-8")
        assert text.count(definition) == 1, page
        html.write_text(text.replace(definition, '<span class="nf">split_gates_elsewhere</span>'), encoding="utf-8")
    result = copy_test(book)
    assert result.returncode != 0
    assert "step() uses split_gates (shown by rnnbook/gru.py:split_gates" in result.stdout, result.stdout[-3000:]


def test_dialog_without_a_name_fails_the_accessibility_check():
    """axe-core, with the browser suite's rules, finds a dialog without an accessible name
    (Material's search box before overrides/partials/search.html named it)."""
    browser_suite = pytest.importorskip("test_browser")
    if not Path(browser_suite.CHROMIUM).exists():
        pytest.skip("Chromium not found: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    page = (
        '<!doctype html><html lang="en"><title>t</title><main><h1>t</h1>'
        '<div role="dialog"{}><input aria-label="q"></div></main></html>'
    )
    _, options = browser_suite.axe_arguments("")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_suite.CHROMIUM, args=browser_suite.CHROMIUM_FLAGS)
        tab = browser.new_page()
        found = {}
        for name, label in (("unnamed", ""), ("named", ' aria-label="Search"')):
            tab.set_content(page.format(label))
            tab.add_script_tag(path=str(browser_suite.axe_script_file()))
            found[name] = browser_suite.serious(tab.evaluate("options => axe.run(document, options)", options))
        browser.close()
    assert any(line.startswith("aria-dialog-name") for line in found["unnamed"]), found
    assert not found["named"], found["named"]


def test_twins_with_different_formulas_fail_parity_and_build(tmp_path):
    """Both pages exist with the same number of equations, but the English one says ≥."""
    book = make_book(tmp_path)
    replace_in_pages(book, "\\le \\prod", "\\ge \\prod", names=["index.en.md"])
    assert [p.split(":")[0] for p in parity.differences(book / "docs")] == [
        "index.md and index.en.md differ in equations"
    ]
    result = build(book)
    assert result.returncode != 0
    assert "index.md and index.en.md differ in equations" in result.stderr


# A cell whose output differs at every run: the page shows whether the notebook ran again.
CLOCK_NOTEBOOK = (
    HEADER
    + """
# Notebook

```python
import time

import rnnbook.masking

time.time_ns()
```
"""
)
CLOCK = re.compile(r"\b\d{19}\b")


def test_cached_pages_change_with_what_they_depend_on(tmp_path):
    """Notebook pages and search entries are cached (hooks/notebook_cache.py, hooks/search_cache.py):
    a second build reads them back, and an edit to anything they depend on shows on the page."""
    book = make_book(tmp_path)
    for name in ("labs/lab.md", "labs/lab.en.md"):
        (book / "docs" / name).write_text(CLOCK_NOTEBOOK, encoding="utf-8")

    def built():
        result = build(book)
        assert result.returncode == 0, result.stderr[-3000:]
        pages = {
            page: (book / "site" / page / "index.html").read_text(encoding="utf-8")
            for page in ("", "labs/lab/", "en/labs/lab/")
        }
        index = (book / "site" / "search" / "search_index.json").read_text(encoding="utf-8")
        return CLOCK.findall(pages["labs/lab/"]), CLOCK.findall(pages["en/labs/lab/"]), pages[""], index

    def edit(path, old, new):
        text = path.read_text(encoding="utf-8")
        assert old in text, (path, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    italian, english, _, _ = built()
    assert len(italian) == len(english) == 1
    # A module the notebook does not import: nothing runs again.
    (book / "rnnbook" / "xlstm.py").write_text((book / "rnnbook" / "xlstm.py").read_text() + "\n# edited\n")
    assert built()[:2] == (italian, english)
    # A module the notebook imports, and the function a page embeds: both pages change.
    edit(book / "rnnbook" / "masking.py", '"""', '"""Edited. ')
    edit(book / "rnnbook" / "rnn.py", "def step(x, state, params):", "def step(x, state, params):  # edited_marker")
    italian2, english2, home, index = built()
    assert italian2 != italian and english2 != english
    assert "edited_marker" in home and "edited_marker" in index
    # A notebook's own cell, in one language: that page runs again, its twin is read back.
    edit(book / "docs" / "labs" / "lab.md", "time.time_ns()", "time.time_ns() + 0")
    italian3, english3, _, _ = built()
    assert italian3 != italian2 and english3 == english2


def test_collecting_the_objectives_of_a_page_without_them_fails_the_build(tmp_path):
    """The lecturers' page collects each chapter's objectives: a chapter without them stops the build."""
    book = make_book(tmp_path)
    replace_in_pages(book, "Text with inline maths", "<!-- objectives: index -->\n\nText with inline maths")
    result = build(book)
    assert result.returncode != 0
    assert re.search(r"index(\.en)?\.md has no objectives", result.stderr), result.stderr[-3000:]


SERVE = """
import json
import shutil
import sys
import threading
from pathlib import Path
from mkdocs.commands.build import build
from mkdocs.config import load_config

def edit(path, old, new):
    text = Path(path).read_text(encoding="utf-8")
    assert old in text, (path, old)
    Path(path).write_text(text.replace(old, new, 1), encoding="utf-8")

# Rounds of [path, old, new] edits; after each, a rebuild as mkdocs serve does it, kept in served-N.
for number, edits in enumerate(json.loads(sys.argv[1])):
    for path, old, new in edits:
        edit(path, old, new)
    config = load_config("mkdocs.yml", site_dir="served")
    if number == 0:
        config.plugins.on_startup(command="serve", dirty=False)
    build(config)
    shutil.copytree("served", f"served-{number}")
    for thread in threading.enumerate():  # what the build left to compute in the background
        if thread.name.startswith("rnnbook-"):
            thread.join()
"""

API_PAGE = """# API

The home page's heading: [there][served-anchor].

::: rnnbook.cell

::: rnnbook.rnn

::: rnnbook.gru
"""


def _between(html, start, end):
    """The part of ``html`` from the element with id ``start`` to the one with id ``end``."""
    return html[html.index(f'id="{start}"') : html.index(f'id="{end}"')]


def test_a_served_rebuild_shows_every_edit(tmp_path):
    """Under mkdocs serve unchanged pages and API blocks are not converted again (hooks/render_cache.py):
    each rebuild shows every edit, and what is given back is what converting would give."""
    book = make_book(tmp_path)
    replace_in_pages(book, "Text with inline maths", "## A heading {#served-anchor}\n\nText with inline maths")
    for name in ("api.md", "api.en.md"):
        (book / "docs" / name).write_text(API_PAGE, encoding="utf-8")
    rounds = [
        [],
        # 1: both twins and the function they embed.
        [
            ["docs/index.md", "Text with inline maths", "Testo cambiato, with inline maths"],
            ["docs/index.en.md", "Text with inline maths", "Changed text, with inline maths"],
            ["rnnbook/rnn.py", "def step(x, state, params):", "def step(x, state, params):  # edited_marker"],
        ],
        # 2: a docstring of rnnbook.rnn, and the page template (its compiled form is kept).
        [
            ["rnnbook/rnn.py", "Random weights as PyTorch", "Docstring_marker random weights as PyTorch"],
            ["overrides/main.html", '<meta charset="utf-8">', '<meta charset="utf-8"><meta name="template-marker">'],
        ],
        # 3: only the base class in rnnbook.cell, whose fields rnn.Params's signature shows.
        [["rnnbook/cell.py", "    W_ih: np.ndarray\n", "    W_ih: np.ndarray | MarkerType\n"]],
        # 4: nothing: every page and block given back.
        [],
    ]
    result = subprocess.run([sys.executable, "-c", SERVE, json.dumps(rounds)], cwd=book, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]

    def page(number, path):
        return (book / f"served-{number}" / path / "index.html").read_text(encoding="utf-8")

    # The figure and the notebook, not computed yet, show notices; computed in the background, they show.
    assert "La figura si sta disegnando" in page(0, ".") and "Calcolo in corso" in page(0, "labs/lab")
    assert "data:image/svg+xml;base64," in page(4, ".") and "jp-OutputArea" in page(4, "labs/lab")
    assert "Testo cambiato" in page(1, ".") and "Changed text" in page(1, "en")
    assert "edited_marker" in page(1, ".") and "edited_marker" in page(1, "en")
    assert "template-marker" not in page(1, ".") and "template-marker" in page(2, "en")
    for api in ("api", "en/api"):
        assert "Docstring_marker" not in page(1, api) and "Docstring_marker" in page(2, api)
        assert "MarkerType" not in _between(page(2, api), "rnnbook.rnn.Params", "rnnbook.rnn.Cache")
        # The block of rnnbook.rnn, through the module it imports.
        assert "MarkerType" in _between(page(3, api), "rnnbook.rnn.Params", "rnnbook.rnn.Cache")
        # Kept blocks, their headings (the table of contents) and the home page's anchor, given back.
        assert page(4, api) == page(3, api)
        assert 'href="#rnnbook.gru.Params"' in page(4, api)
        assert 'href="../#served-anchor"' in page(4, api)
