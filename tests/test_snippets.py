"""Snippet markers are a contract between the package and the pages.

A section between ``# --8<-- [start:X]`` and ``# --8<-- [end:X]`` in ``rnnbook/`` exists
to be shown in a chapter: every one is embedded by at least one page, and every embed
names a section that exists (pymdownx.snippets' ``check_paths`` fails the build on the
latter; this test says which marker when run alone).
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


def test_a_section_ends_at_the_indentation_it_starts():
    """An end marker indented deeper than its start sits inside a class or function by mistake."""
    uneven = {key: indents for key, indents in sections().items() if indents[0] != indents[1]}
    assert not uneven, f"start and end markers at different indentation: {uneven}"


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
