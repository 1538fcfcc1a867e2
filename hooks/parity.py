"""MkDocs hook and test helper: the Italian and English pages are twins.

Every page ``docs/X.md`` (Italian, the default) has its English twin
``docs/X.en.md`` and the other way round (the languages are those of the i18n
plugin in ``mkdocs.yml``). A pair must have the same skeleton:
the same headings level by level, the same code embedded from ``rnnbook``,
the same images (figures and diagrams, by target), the same display equations
(their LaTeX, in order, aside from whitespace, the words inside ``\\text{...}`` and
the decimal comma ``0{,}5`` written ``0.5`` in English), the same code blocks (by language), the
same admonitions, collapsible blocks and tabs, and both or neither must be a
notebook. Only the words may differ.

The build stops on any difference (``on_pre_build``), and the test suite calls
:func:`differences` directly, which lists every difference it finds.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.exceptions import PluginError

from _book import fenced_lines, is_notebook, languages, page_in

HEADING = re.compile(r"^(#{1,6})\s")
SNIPPET = re.compile(r'--8<--\s+"([^"]+)"')
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")
BLOCK = re.compile(r"^\s*(!!!|\?\?\?\+?|===)\s*(\S*)")
WORDS = re.compile(r"\\text\{[^{}]*\}")  # words in a formula are in the page's language


def _formula(lines: list[str]) -> str:
    """A display equation as compared: one space between tokens, words and decimal commas aside."""
    return WORDS.sub(r"\\text{…}", " ".join(" ".join(lines).split())).replace("{,}", ".")


def skeleton(text: str) -> dict[str, list]:
    """What must be equal in both languages, read from a page's Markdown."""
    found = {"headings": [], "snippets": [], "images": [], "equations": [], "code blocks": [], "blocks": []}
    found["notebook"] = [is_notebook(text)]
    equation = None
    for line, kind, info in fenced_lines(text.splitlines()):
        if kind == "open":
            found["code blocks"].append(info.split()[0] if info.split() else "")
        found["snippets"] += SNIPPET.findall(line)
        if kind != "text":
            continue
        if equation is not None:  # inside a display equation, whose $$ lines are on their own
            if line.strip() == "$$":
                found["equations"].append(_formula(equation))
                equation = None
            else:
                equation.append(line)
            continue
        if line.strip() == "$$":
            equation = []
            continue
        if HEADING.match(line):
            found["headings"].append(len(HEADING.match(line).group(1)))
        found["images"] += IMAGE.findall(line)
        if BLOCK.match(line):
            block, label = BLOCK.match(line).groups()
            found["blocks"].append(block if block == "===" else f"{block} {label}")
    if equation is not None:
        found["equations"].append("unclosed $$: " + _formula(equation))
    return found


def differences(docs_dir: Path | str) -> list[str]:
    """List every way in which the two languages of ``docs_dir`` differ."""
    docs_dir = Path(docs_dir)
    default, *others = languages()
    problems = []
    for page in sorted(docs_dir.rglob("*.md")):
        for language in languages():
            if not page_in(page, language).exists():
                problems.append(f"{page.relative_to(docs_dir)} has no {language} twin {page_in(page, language).name}")
    for page in sorted(docs_dir.rglob("*.md")):
        if page != page_in(page, default):
            continue
        own = skeleton(page.read_text(encoding="utf-8"))
        for language in others:
            twin = page_in(page, language)
            if not twin.exists():
                continue
            theirs = skeleton(twin.read_text(encoding="utf-8"))
            problems += [
                f"{page.relative_to(docs_dir)} and {twin.name} differ in {part}: "
                f"{default} {own[part]}, {language} {theirs[part]}"
                for part in own
                if own[part] != theirs[part]
            ]
    return problems


def on_pre_build(config):
    problems = differences(config["docs_dir"])
    if problems:
        raise PluginError("The two languages differ:\n  " + "\n  ".join(problems))
