"""MkDocs hook: reading times computed from the pages, never typed.

A page writes ``<!-- reading-time: NAME -->`` where it wants the reading time of the
chapter ``NAME`` (``docs/NAME.md``, or ``docs/NAME.en.md`` on an English page). The hook
counts the words of the chapter's prose (:func:`rnnbook.corpus.markdown_prose`: no code,
no maths blocks' markup, no images) and divides by :data:`WORDS_PER_MINUTE`, rounding
up to five minutes. The pace is our assumption, slower than for ordinary prose because
a textbook's reader stops at every equation; the page that uses it states it by writing
``<!-- reading-pace -->``, which the hook replaces with :data:`WORDS_PER_MINUTE`, so the
number on the page is the number the hook divides by.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from rnnbook.corpus import markdown_prose

from _book import language_of, page_in

WORDS_PER_MINUTE = 100
MARKER = re.compile(r"<!-- reading-time: ([\w-]+) -->")
PACE = "<!-- reading-pace -->"
DOCS = Path(__file__).resolve().parents[1] / "docs"


def reading_minutes(path: Path | str) -> int:
    """Minutes to read a page's prose at :data:`WORDS_PER_MINUTE`, rounded up to a multiple of 5."""
    words = len(markdown_prose(Path(path).read_text(encoding="utf-8")).split())
    return 5 * math.ceil(words / WORDS_PER_MINUTE / 5)


def fill(markdown: str, language: str, docs: Path = DOCS) -> str:
    """Replace every marker with the reading time of its chapter in ``language``, e.g. ``45 min``,
    and every :data:`PACE` with :data:`WORDS_PER_MINUTE`."""

    def minutes(match):
        chapter = page_in(docs / f"{match.group(1)}.md", language)
        if not chapter.exists():
            raise ValueError(f"reading-time: no page {chapter.name} for the marker {match.group(0)!r}")
        return f"{reading_minutes(chapter)} min"

    return MARKER.sub(minutes, markdown).replace(PACE, str(WORDS_PER_MINUTE))


def on_page_markdown(markdown, page, config, files):
    if "<!-- reading-time:" not in markdown and PACE not in markdown:
        return markdown
    return fill(markdown, language_of(page.file.src_path))
