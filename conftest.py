"""pytest configuration: every Python example in the book's pages is a test.

Sybil collects the fenced ``python`` and ``pycon`` blocks of every page under
``docs/``, in both languages. A page's blocks share one namespace and run in
order, like a notebook, so a later block may use what an earlier one defined.
Blocks that only embed code from ``rnnbook`` (``--8<--`` lines) are skipped:
that code is the package's, tested by its own tests and doctests. Notebook
pages are skipped too: the site build executes them, and fails on any error.

Tests that need something outside Python (the built ``site/``, Chromium) ask for it
with the ``require`` fixture: run by hand, pytest skips them and says why; under
``make test`` (which sets ``RNNBOOK_STRICT=1``) or in CI (``CI`` set), a missing
requirement is a failure, so nothing is skipped silently.
"""

from __future__ import annotations

import os
import sys
from doctest import ELLIPSIS, NORMALIZE_WHITESPACE
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
# The tests' networks are tiny: one thread is fastest, and on a busy 2-core machine
# torch's second thread spins waiting for the first (measured: 20x slower).
torch.set_num_threads(1)

from sybil import Sybil  # noqa: E402
from sybil.evaluators.python import PythonEvaluator  # noqa: E402
from sybil.evaluators.doctest import DocTestEvaluator  # noqa: E402
from sybil.parsers.abstract.doctest import DocTestStringParser  # noqa: E402
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "hooks"))
from _book import is_notebook  # noqa: E402

STRICT = bool(os.environ.get("RNNBOOK_STRICT") or os.environ.get("CI"))


def require(available, reason):
    """Skip the test (by hand) or fail it (``make test``, CI) when ``available`` is false."""
    if not available:
        if STRICT:
            pytest.fail(f"{reason} (required under make test and CI)", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session", name="require")
def require_fixture():
    """:func:`require`, for test modules."""
    return require


class BookCodeBlocks:
    """Sybil parser for the ``python`` and ``pycon`` blocks of a page."""

    def __init__(self):
        self.lexer = FencedCodeBlockLexer(language=r".+", mapping={"language": "language", "source": "source"})
        self.python = PythonEvaluator()
        self.doctest = DocTestStringParser(DocTestEvaluator(ELLIPSIS | NORMALIZE_WHITESPACE))

    def __call__(self, document):
        if is_notebook(document.text):
            return
        for region in self.lexer(document):
            language, source = region.lexemes["language"].strip(), region.lexemes["source"]
            if "--8<--" in source:
                continue
            if language == "pycon" or (language == "python" and source.lstrip().startswith(">>>")):
                for example in self.doctest(source, document.path):
                    example.adjust(region, source)
                    yield example
            elif language == "python":
                region.parsed = source
                region.evaluator = self.python
                yield region


pytest_collect_file = Sybil(parsers=[BookCodeBlocks()], patterns=["*.md"], path="docs").pytest()
