"""Every built page runs as a reader copies it.

A reader copies code from the rendered page, not from its Markdown: what counts is the
text of each ``python`` and ``pycon`` block in ``site/`` (the text Material's copy button
copies), embedded code included. For every page of both languages, the API reference
and the printable book included, this test runs those blocks in page order, in a fresh
interpreter whose working folder is an empty temporary one and which imports
``rnnbook`` from this repository; ``python`` blocks are executed, ``pycon`` blocks run as
doctests, all in one namespace, as a reader pasting them into one Python session would.

Running a block that only defines functions proves little: a function fails when it is
called, and the page may never call it. So once a page has run, every function its
blocks defined is read (``symtable``) for the global names it uses, and each must be
defined by then in the page's namespace (or be a builtin): a page that shows a function
but not a helper it calls fails, naming both. An embedded block that is an excerpt from
inside a function (a loop body, recognised by matching its text indented in the
package's source) cannot run on its own; it is compiled, and each function it calls must
be shown on the page too.

Special pages:

- API reference: every object's docstring stands alone (a reader copies the example of
  the one function they look up), so each docstring's examples get a namespace of their
  own and must import what they use, as numpy's and scikit-learn's do.
- Printable book: not run again. Its blocks must be exactly the chapters' blocks, in
  the order of its ``print_book`` list (``test_printable_book_shows_the_chapters_blocks``),
  so running each chapter in a fresh interpreter runs every block it shows, with the
  stricter check (one chapter cannot lean on what another defined).
- Notebook pages (labs): not run here. The build executes every input cell of every lab
  in order, in a fresh kernel, and fails on any error (``allow_errors: false``), and the
  page shows those very cells; their outputs are not code.

Pages run two at a time, each in its own interpreter (the machine has two cores).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
LANGUAGES = ("python", "pycon")
WORKERS = 2
PAGE_TIMEOUT_S = 300

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SITE / "index.html").exists(), reason="no built site: run `make build` first"),
]


class CodeBlocks(HTMLParser):
    """The ``python`` and ``pycon`` blocks of a built page, as text, in page order.

    Each block is ``{"language", "text", "group"}``: ``group`` is the innermost
    mkdocstrings object (``div.doc-object``) the block is in, or None, so that the
    API reference can give each docstring its own namespace.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks = []
        self.notebook = False
        self._divs = []  # per open <div>: (language or None, doc-object number or None)
        self._objects = 0
        self._code = None  # the text of the block being read
        self._depth_in_code = 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "div":
            if "jupyter-wrapper" in classes or "highlight-ipynb" in classes:
                self.notebook = True
            language = next((c[len("language-") :] for c in classes if c.startswith("language-")), None)
            if "highlight" not in classes or "doc-signature" in classes:
                language = None  # a signature is highlighted as Python, but it is not code to run
            group = None
            if "doc-object" in classes:
                self._objects += 1
                group = self._objects
            self._divs.append((language, group))
        elif tag == "code" and self._divs and self._divs[-1][0] in LANGUAGES and self._code is None:
            self._code = []
        elif self._code is not None:
            self._depth_in_code += 1

    def handle_endtag(self, tag):
        if self._code is not None and tag == "code" and self._depth_in_code == 0:
            group = next((g for _, g in reversed(self._divs) if g is not None), None)
            self.blocks.append({"language": self._divs[-1][0], "text": "".join(self._code), "group": group})
            self._code = None
        elif self._code is not None:
            self._depth_in_code = max(0, self._depth_in_code - 1)
        elif tag == "div" and self._divs:
            self._divs.pop()

    def handle_data(self, data):
        if self._code is not None:
            self._code.append(data)


def read_page(path: Path) -> CodeBlocks:
    parser = CodeBlocks()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def site_pages():
    """``{url path: html file}`` of every page, e.g. ``'gru/'``, ``'en/api/'``."""
    pages = {}
    for html in sorted(SITE.rglob("index.html")):
        relative = html.parent.relative_to(SITE).as_posix()
        if relative.split("/")[0] in ("assets", "search") or relative.startswith("en/search"):
            continue
        pages["" if relative == "." else relative + "/"] = html
    return pages


# A section of the package (``# --8<-- [start:name]`` ... ``[end:name]``), and any marker line.
SECTION = re.compile(r"^[ \t]*# --8<-- \[start:(\w+)\]\n(.*?)^[ \t]*# --8<-- \[end:\1\]", re.M | re.S)
MARKER = re.compile(r"^[ \t]*# --8<-- \[(?:start|end):\w+\][ \t]*\n", re.M)


def package_sources():
    """The package's source files as a page shows them: without the section markers."""
    return {
        path.relative_to(ROOT).as_posix(): MARKER.sub("", path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "rnnbook").rglob("*.py"))
    }


def shown_helpers() -> dict:
    """``{function name: ['rnnbook/mod.py:section', ...]}`` for every top-level function
    that the package marks as a section a page can show: the helpers a reader must see."""
    helpers = {}
    for path in sorted((ROOT / "rnnbook").rglob("*.py")):
        for match in SECTION.finditer(path.read_text(encoding="utf-8")):
            try:
                tree = ast.parse(textwrap.dedent(MARKER.sub("", match[2])))
            except SyntaxError:  # an excerpt from inside a function
                continue
            for node in tree.body:
                if isinstance(node, ast.FunctionDef):
                    helpers.setdefault(node.name, []).append(f"{path.relative_to(ROOT).as_posix()}:{match[1]}")
    return helpers


def found_in(text: str, sources: dict):
    """``(file, indent)`` of the first package file holding ``text`` at some indentation."""
    for indent in range(0, 17, 4):
        indented = textwrap.indent(text, " " * indent)
        for name, source in sources.items():
            if ("\n" + indented + "\n") in ("\n" + source):
                return name, indent
    return None


def origin(text: str, sources: dict):
    """Where a block's code comes from: ``(file, excerpt, names)``, or None for code the page wrote.

    ``file`` holds the first of its top-level statements found in the package (a block
    may show two sections); ``names`` maps the definitions found there to their file (each
    is checked as the package's code, any other as the page's own); ``excerpt`` is true
    for a block from inside a function: indented in the source and not a whole definition
    (a method shown alone is a function a reader can copy)."""
    try:
        statements = ast.parse(text).body
    except SyntaxError:
        return None
    lines, found, names = text.splitlines(), [], {}
    for node in statements:
        start = node.lineno - 1 - len(getattr(node, "decorator_list", []))
        place = found_in("\n".join(lines[start : node.end_lineno]), sources)
        definition = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if place is not None:
            found.append((place, definition))
            if definition:
                names[node.name] = place[0]
    if not found:
        return None
    ((name, indent), definition) = found[0]
    return name, bool(indent) and not definition and len(found) == len(statements), names


def page_units(path: str, parser: CodeBlocks, sources: dict):
    """The namespaces of one page: a list of lists of blocks, each block with its number
    and, for code embedded from the package, where it comes from."""
    api = path.rstrip("/").split("/")[-1] == "api"
    units, current, key = [], None, object()
    for number, block in enumerate(parser.blocks, 1):
        found = origin(block["text"], sources) if block["language"] == "python" else None
        block = dict(
            block,
            number=number,
            embedded=found and found[0],
            excerpt=bool(found and found[1]),
            package_names=found[2] if found else {},
        )
        group = block["group"] if api else None
        if current is None or group != key:
            current, key = [], group
            units.append(current)
        current.append(block)
    return units


# --- The runner: executed in a fresh interpreter, one per page -------------------------

RUNNER = r'''
import builtins, doctest, json, symtable, sys, traceback, ast

request = json.load(sys.stdin)
page = request["page"]
failures = []
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def label(block):
    first = next((l for l in block["text"].splitlines() if l.strip()), "")
    return f"block {block['number']} ({block['language']}, starting {first.strip()[:70]!r})"


def functions(table, tree, top=None):
    """(name, top-level definition it is in, global names it uses, names it calls) of
    every function a block defines."""
    nodes = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for child in table.get_children():
        outer = top or child.get_name()
        if child.get_type() == "function":
            node = nodes.get(child.get_name())
            # A local name (a loop variable, a nested function) is not a helper of the same name.
            own = set(child.get_locals()) | set(child.get_frees())
            calls = called_names(node) - own if node is not None else set()
            yield child.get_name(), outer, child.get_globals(), calls
        yield from functions(child, tree, outer)


def called_names(tree):
    return {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


helpers = request["helpers"]
for unit in request["units"]:
    ns = {"__name__": "__main__", "__builtins__": builtins}
    defined = []  # (block, function name, the global names it needs, file it is embedded from)
    for block in unit:
        text, name = block["text"], f"{page} block {block['number']}"
        try:
            if block["language"] == "pycon" or text.lstrip().startswith(">>>"):
                test = doctest.DocTestParser().get_doctest(text, ns, name, name, 0)
                test.globs = ns  # the page's namespace, not a copy: what an example imports stays
                out = []
                runner = doctest.DocTestRunner(optionflags=FLAGS)
                runner.run(test, out=out.append, clear_globs=False)
                if runner.failures:
                    failures.append(f"{label(block)}: doctest failed\n" + "".join(out))
            elif block["excerpt"]:
                # An excerpt of a function cannot run alone: the helpers it calls must be shown.
                called = called_names(ast.parse(text, name))
                defined.append((block, "this excerpt", {n for n in called if n in helpers}, block["embedded"]))
            else:
                code = compile(text, name, "exec")
                table, tree = symtable.symtable(text, name, "exec"), ast.parse(text, name)
                for function, top, names, calls in functions(table, tree):
                    # Code the page writes must run whole; code embedded from the package
                    # must show the helpers it calls (its checks and plumbing are the package's).
                    embedded = block["package_names"].get(top)
                    needed = {n for n in calls if n in helpers} if embedded else set(names)
                    defined.append((block, function + "()", needed, embedded))
                exec(code, ns)
        except Exception:
            failures.append(f"{label(block)} raised:\n" + traceback.format_exc(limit=-3))
    known = set(ns) | set(dir(builtins))
    for block, function, names, embedded in defined:
        missing = sorted(set(names) - known)
        if missing:
            where = f", embedded from {embedded}," if embedded else ""
            shown = ", ".join(f"{n} (shown by {' or '.join(helpers[n])})" if n in helpers else n for n in missing)
            failures.append(f"{label(block)}{where} {function} uses {shown}: the page never defines it")
with open(request["result"], "w", encoding="utf-8") as result:
    json.dump(failures, result)
'''


def run_page(path: str, units, tmp_root: Path):
    """Run one page's blocks in a fresh interpreter in an empty folder; its failures and seconds."""
    folder = tmp_root / (path.strip("/").replace("/", "-") or "home")
    folder.mkdir()
    environment = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    report = tmp_root / (folder.name + ".json")
    start = time.perf_counter()
    try:
        result = subprocess.run(
            # RuntimeWarning is an error, as in the project's tests (pyproject.toml): an overflow
            # or a division by zero in a page's code is a bug, even if the page runs on.
            [sys.executable, "-W", "error::RuntimeWarning", "-c", RUNNER],
            input=json.dumps({"page": "/" + path, "units": units, "helpers": HELPERS, "result": str(report)}),
            capture_output=True,
            text=True,
            cwd=folder,
            env=environment,
            timeout=PAGE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return [f"its code ran for more than {PAGE_TIMEOUT_S} s"], PAGE_TIMEOUT_S
    seconds = time.perf_counter() - start
    if result.returncode != 0 or not report.exists():
        return [f"the interpreter ended with status {result.returncode}:\n{result.stderr[-2000:]}"], seconds
    return json.loads(report.read_text(encoding="utf-8")), seconds


HELPERS = shown_helpers()

PRINT_NAMES = re.compile(r"^print_book:\s*\[(.*)\]", re.M)


def printed_chapters() -> list[str]:
    """The URL names of the chapters the printable book appends, in order."""
    names = PRINT_NAMES.search((ROOT / "docs" / "print.md").read_text(encoding="utf-8"))[1]
    return ["" if n.strip() == "index" else n.strip() + "/" for n in names.split(",")]


@pytest.fixture(scope="module")
def copied_pages(tmp_path_factory):
    """``{page: (failures, seconds)}`` for every page with code, and the total seconds."""
    sources = package_sources()
    pages = {}
    for path, html in site_pages().items():
        parser = read_page(html)
        if parser.notebook or not parser.blocks or path.endswith("print/"):
            continue
        pages[path] = page_units(path, parser, sources)
    order = sorted(pages, key=lambda p: -sum(len(u) for u in pages[p]))  # the longest first
    tmp_root = tmp_path_factory.mktemp("copied")
    start = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        results = dict(zip(order, pool.map(lambda p: run_page(p, pages[p], tmp_root), order)))
    return results, time.perf_counter() - start


def test_every_page_runs_as_copied(copied_pages):
    results, seconds = copied_pages
    slowest = sorted(results.items(), key=lambda r: -r[1][1])[:4]
    print(
        f"\nRan the code of {len(results)} built pages in {seconds:.0f} s "
        f"(slowest: {', '.join(f'/{p} {s:.0f} s' for p, (_, s) in slowest)})."
    )
    failures = [f"/{path} {failure}" for path, (page_failures, _) in results.items() for failure in page_failures]
    assert not failures, f"{len(failures)} failure(s) in the built pages:\n\n" + "\n\n".join(failures)


def test_pages_with_code_were_found(copied_pages):
    results, _ = copied_pages
    for path in ("gru/", "en/gru/", "api/", "en/api/"):
        assert path in results, f"no python or pycon block found on /{path}: did the build's highlighting change?"


@pytest.mark.parametrize("language", ["", "en/"])
def test_printable_book_shows_the_chapters_blocks(language):
    pages = site_pages()
    printed = [b["text"] for b in read_page(pages[language + "print/"]).blocks]
    chapters = [b["text"] for name in printed_chapters() for b in read_page(pages[language + name]).blocks]
    assert printed == chapters, "the printable book's code is not its chapters': run /print/ in the copy test too"
