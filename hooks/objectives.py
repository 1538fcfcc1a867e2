"""MkDocs hook: each chapter's learning objectives, written once, at the chapter's top.

A chapter opens with an ``!!! abstract`` admonition whose body is a list, one objective
per item (an item may wrap onto lines indented under it); its title carries the
chapter's reading time (``<!-- reading-time: NAME -->``, hooks/reading_time.py). A page
that writes ``<!-- objectives: NAME -->`` (the lecturers' page, in its table) gets the
objectives of the chapter ``NAME`` (``docs/NAME.md``, or ``docs/NAME.en.md`` on an English
page) on one line, separated by semicolons. So the objectives are typed in one place, the
chapter, and a chapter named by a marker but without objectives stops the build.
"""

from __future__ import annotations

import re
from pathlib import Path

from _book import language_of, page_in

MARKER = re.compile(r"<!-- objectives: ([\w-]+) -->")
# The admonition and its indented body (blank lines included), up to the first unindented line.
ADMONITION = re.compile(r'^!!! abstract "[^"\n]*"\n((?:[ \t]*\n|    .*\n)*)', re.M)
DOCS = Path(__file__).resolve().parents[1] / "docs"


def objectives(markdown: str) -> list[str]:
    """The objectives of a chapter's Markdown, one string per list item; ``[]`` if it has none."""
    match = ADMONITION.search(markdown)
    if match is None:
        return []
    items = []
    for line in match.group(1).splitlines():
        if line.startswith("    - "):
            items.append(line[6:].strip())
        elif line.startswith("      ") and items:
            items[-1] += " " + line.strip()
        elif line.strip():
            raise ValueError(f"objectives: expected a list item ('    - ...') or its continuation, got {line!r}")
    return items


def fill(markdown: str, language: str, docs: Path = DOCS) -> str:
    """Replace every marker with its chapter's objectives in ``language``, joined by ``"; "``."""

    def listed(match):
        chapter = page_in(docs / f"{match.group(1)}.md", language)
        if not chapter.exists():
            raise ValueError(f"objectives: no page {chapter.name} for the marker {match.group(0)!r}")
        found = objectives(chapter.read_text(encoding="utf-8"))
        if not found:
            raise ValueError(
                f"objectives: {chapter.name} has no objectives (an admonition "
                f"'!!! abstract \"...\"' holding a list) for the marker {match.group(0)!r}"
            )
        return "; ".join(found)

    return MARKER.sub(listed, markdown)


def on_page_markdown(markdown, page, config, files):
    if "<!-- objectives:" not in markdown:
        return markdown
    return fill(markdown, language_of(page.file.src_path), Path(config["docs_dir"]))
