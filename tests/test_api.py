"""The API reference (docs/api.md) documents every public module, in both languages."""

from __future__ import annotations

import doctest
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
sys.path.insert(0, str(ROOT / "hooks"))
import griffe_doctests  # noqa: E402

DIRECTIVE = re.compile(r"^::: (rnnbook(?:\.\w+)*)\s*$", re.M)


def documented(name):
    return DIRECTIVE.findall((ROOT / "docs" / name).read_text(encoding="utf-8"))


def test_both_languages_document_the_same_modules_in_the_same_order():
    assert documented("api.md") == documented("api.en.md")


def test_every_public_module_is_documented():
    public = {f"rnnbook.{path.stem}" for path in (ROOT / "rnnbook").glob("*.py") if not path.stem.startswith("_")}
    public |= {f"rnnbook.{path.parent.name}" for path in (ROOT / "rnnbook").glob("*/__init__.py")}
    assert public == set(documented("api.md"))


def test_the_docstring_rewriter():
    failures, _ = doctest.testmod(griffe_doctests, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
    text = "Intro.\n\n    indented >>> stays\n\n>>> a = 1\n>>> a\n1\n"
    assert griffe_doctests.markdown_docstring(text).endswith("```pycon\n>>> a = 1\n>>> a\n1\n```")
    assert "    indented >>> stays" in griffe_doctests.markdown_docstring(text)


@pytest.mark.parametrize("prefix", ["", "en/"])
def test_the_built_api_page_has_every_module_and_links_within_its_language(prefix, require):
    require((SITE / "api" / "index.html").exists(), "no built site: run `make build` first")
    html = (SITE / prefix / "api" / "index.html").read_text(encoding="utf-8")
    for module in documented("api.md"):
        assert f'id="{module}"' in html, module
    # Cross-references stay on the page itself, in its language (autorefs' resolve_closest).
    targets = re.findall(r'href="([^"]*)#rnnbook', html)
    assert targets and set(targets) == {""}


PRIVATE_IMPORT = re.compile(r"^\s*from\s+(?:rnnbook)?\.?[\w.]*\s+import\s+\(?([^)\n]*)", re.M)


def private_uses(path):
    """The private names (leading underscore) of other rnnbook modules that the file at ``path`` uses."""
    text = path.read_text(encoding="utf-8")
    modules = {p.stem for p in (ROOT / "rnnbook").rglob("*.py") if not p.stem.startswith("_")}
    uses = [
        f"import {name.strip()}"
        for names in PRIVATE_IMPORT.findall(text)
        for name in names.split(",")
        if name.strip().startswith("_") and not name.strip().startswith("__")
    ]
    uses += [m.group(0) for m in re.finditer(r"\b(\w+)\._[a-z]\w*", text) if m.group(1) in modules]
    return uses


def test_no_module_uses_a_private_name_of_another():
    """``from rnnbook.x import _y`` or ``x._y``: what a module shares, it makes public."""
    found = {str(p.relative_to(ROOT)): private_uses(p) for p in sorted((ROOT / "rnnbook").rglob("*.py"))}
    assert not {path: uses for path, uses in found.items() if uses}


def test_the_private_name_check_bites(tmp_path):
    (tmp_path / "bad.py").write_text("from rnnbook.rnn import _check\nrnn._qualname(x)\n", encoding="utf-8")
    assert private_uses(tmp_path / "bad.py") == ["import _check", "rnn._qualname"]
