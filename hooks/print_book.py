"""MkDocs hook: the whole book on one page, for reading on paper.

A page whose front matter names ``print_book:`` (a list of page names) gets
the Markdown of those pages, in that order and in the page's language,
appended to its own text. The result goes through the same pipeline as every
chapter (embedded code, figures, KaTeX), so the printed book matches the site.
Exercises' solutions are expanded (``???`` becomes ``???+``): on paper nothing
can be clicked open. The browser's "Print" (or "Save as PDF") does the rest;
Material's print stylesheet hides the navigation.
"""

from __future__ import annotations

import re
from pathlib import Path

from _book import language_of, page_in

FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
COLLAPSED = re.compile(r"^(\s*)\?\?\? ", re.M)


def _source(docs_dir: Path, name: str, language: str) -> str:
    path = page_in(docs_dir / f"{name}.md", language)
    text = FRONT_MATTER.sub("", path.read_text(encoding="utf-8"))
    return COLLAPSED.sub(r"\1???+ ", text)


def on_page_markdown(markdown, page, config, files):
    names = page.meta.get("print_book")
    if not names:
        return markdown
    language = language_of(page.file.src_uri)
    docs_dir = Path(config["docs_dir"])
    parts = [markdown]
    for name in names:
        parts.append('<div class="rnnbook-page-break"></div>\n\n' + _source(docs_dir, name, language))
    return "\n\n".join(parts)
