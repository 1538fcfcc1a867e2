"""Snippet markers are a contract between the package and the pages.

A section between ``# --8<-- [start:X]`` and ``# --8<-- [end:X]`` in ``rnnbook/`` exists
to be shown in a chapter: every one is embedded by at least one page, and every embed
names a section that exists (pymdownx.snippets' ``check_paths`` fails the build on the
latter; this test says which marker when run alone).

The package is formatted by ``ruff format``, which ends a section that ends with a function
or class with two blank lines before its end marker (the page shows none at the end of a
block: Pygments strips them) and indents an end marker inside a class body.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^(?P<indent>[ \t]*)# --8<-- \[(?P<kind>start|end):(?P<name>[\w-]+)\][ \t]*$", re.M)
EMBED = re.compile(r'--8<-- "(?P<path>rnnbook/[\w/]+\.py):(?P<name>[\w-]+)"')


def sections():
    """{"rnnbook/x.py:name": (start indent, end indent)} for every marker pair of the package."""
    found = {}
    for path in sorted((ROOT / "rnnbook").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        open_ = {}
        for m in MARKER.finditer(path.read_text(encoding="utf-8")):
            key = f"{relative}:{m['name']}"
            if m["kind"] == "start":
                assert key not in found and key not in open_, f"{key}: started twice"
                open_[key] = m["indent"]
            else:
                assert key in open_, f"{key}: end marker without a start before it"
                found[key] = (open_.pop(key), m["indent"])
        assert not open_, f"start markers without an end: {sorted(open_)}"
    return found


def embeds():
    """{"rnnbook/x.py:name": [pages that embed it]}."""
    found = {}
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for m in EMBED.finditer(page.read_text(encoding="utf-8")):
            found.setdefault(f"{m['path']}:{m['name']}", []).append(page.relative_to(ROOT).as_posix())
    return found


def test_every_section_is_embedded_by_a_page():
    unused = sorted(set(sections()) - set(embeds()))
    assert not unused, f"sections no page embeds (remove the markers or embed them): {unused}"


def test_every_embed_names_an_existing_section():
    missing = {key: pages for key, pages in embeds().items() if key not in sections()}
    assert not missing, f"embeds of sections that do not exist: {missing}"


def section_text(key):
    """The lines between the markers of the section ``key``, "rnnbook/x.py:name"."""
    path, name = key.split(":")
    text = (ROOT / path).read_text(encoding="utf-8")
    start = re.search(rf"^[ \t]*# --8<-- \[start:{name}\][ \t]*\n", text, re.M)
    end = re.compile(rf"^[ \t]*# --8<-- \[end:{name}\]", re.M).search(text, start.end())
    return text[start.end() : end.start()]


def uneven_sections():
    """Sections whose end marker is not at the indentation of their start.

    One level deeper is right for a section that shows the head of a class (its decorators,
    docstring and fields): the formatter indents a comment inside the class body.
    """
    uneven = {}
    for key, (start, end) in sections().items():
        opens_a_class = re.match(r"([ \t]*@.*\n)*[ \t]*class ", section_text(key))
        if end != start and not (opens_a_class and end == start + "    "):
            uneven[key] = (start, end)
    return uneven


def test_a_section_ends_at_the_indentation_it_starts():
    """An end marker indented deeper than its start sits inside a class or function by mistake."""
    uneven = uneven_sections()
    assert not uneven, f"start and end markers at different indentation: {uneven}"


def test_sections_embedded_one_after_another_are_one_or_two_blank_lines_apart():
    """Like the package's own code: a section that ends with a function already ends with two
    blank lines (ruff format), so its embed and the next one go on consecutive lines."""
    wrong = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        for m in re.finditer(r'^([ \t]*)--8<-- "(rnnbook/[^"]+)"\n(\n*)\1--8<-- "rnnbook/', text, re.M):
            shown = section_text(m[2])
            blank = len(shown) - len(shown.rstrip("\n")) - 1 + len(m[3])
            if blank not in (1, 2):
                wrong.append(f"{page.relative_to(ROOT)}: {blank} blank lines after {m[2]}")
    assert not wrong, wrong


@pytest.mark.parametrize(
    "text, error",
    [
        ("# --8<-- [start:a]\nx = 1\n", "without an end"),
        ("x = 1\n# --8<-- [end:a]\n", "end marker without a start"),
    ],
)
def test_the_checks_bite(tmp_path, monkeypatch, text, error):
    (tmp_path / "rnnbook").mkdir()
    (tmp_path / "rnnbook" / "broken.py").write_text(text, encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    with pytest.raises(AssertionError, match=error):
        sections()


@pytest.mark.parametrize(
    "text, uneven",
    [
        ("# --8<-- [start:a]\ndef f():\n    x = 1\n    # --8<-- [end:a]\n    return x\n", True),
        ("# --8<-- [start:a]\n@dataclass\nclass A:\n    x: int\n    # --8<-- [end:a]\n\n    def f(self): ...\n", False),
    ],
)
def test_only_the_head_of_a_class_ends_one_level_in(tmp_path, monkeypatch, text, uneven):
    (tmp_path / "rnnbook").mkdir()
    (tmp_path / "rnnbook" / "x.py").write_text(text, encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert bool(uneven_sections()) is uneven
