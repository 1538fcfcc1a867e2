"""MkDocs hook and test helper: the Italian and English pages are twins.

Every page ``docs/X.md`` (Italian, the default) has its English twin
``docs/X.en.md`` and the other way round. A pair must have the same skeleton:
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

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
HEADING = re.compile(r"^(#{1,6})\s")
SNIPPET = re.compile(r'--8<--\s+"([^"]+)"')
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")
BLOCK = re.compile(r"^\s*(!!!|\?\?\?\+?|===)\s*(\S*)")
NOTEBOOK = re.compile(r"\A---\s*\njupyter:", re.M)
WORDS = re.compile(r"\\text\{[^{}]*\}")  # words in a formula are in the page's language


def _formula(lines: list[str]) -> str:
    """A display equation as compared: one space between tokens, words and decimal commas aside."""
    return WORDS.sub(r"\\text{…}", " ".join(" ".join(lines).split())).replace("{,}", ".")


def skeleton(text: str) -> dict[str, list]:
    """What must be equal in both languages, read from a page's Markdown."""
    found = {"headings": [], "snippets": [], "images": [], "equations": [], "code blocks": [], "blocks": []}
    found["notebook"] = [bool(NOTEBOOK.match(text))]
    fence, equation = None, None
    for line in text.splitlines():
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group("fence")
            found["code blocks"].append(match.group("info").split()[0] if match.group("info").split() else "")
        elif fence is not None and match and match.group("fence").startswith(fence) and not match.group("info").strip():
            fence = None
        found["snippets"] += SNIPPET.findall(line)
        if fence is not None:
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
            kind, label = BLOCK.match(line).groups()
            found["blocks"].append(kind if kind == "===" else f"{kind} {label}")
    if equation is not None:
        found["equations"].append("unclosed $$: " + _formula(equation))
    return found


def _twin(path: Path) -> Path:
    name = path.name
    if name.endswith(".en.md"):
        return path.with_name(name[: -len(".en.md")] + ".md")
    return path.with_name(name[: -len(".md")] + ".en.md")


def differences(docs_dir: Path | str) -> list[str]:
    """List every way in which the two languages of ``docs_dir`` differ."""
    docs_dir = Path(docs_dir)
    problems = []
    for page in sorted(docs_dir.rglob("*.md")):
        if not _twin(page).exists():
            language = "Italian" if page.name.endswith(".en.md") else "English"
            problems.append(f"{page.relative_to(docs_dir)} has no {language} twin {_twin(page).name}")
    for italian in sorted(p for p in docs_dir.rglob("*.md") if not p.name.endswith(".en.md")):
        english = _twin(italian)
        if not english.exists():
            continue
        it, en = skeleton(italian.read_text(encoding="utf-8")), skeleton(english.read_text(encoding="utf-8"))
        for part in it:
            if it[part] != en[part]:
                problems.append(
                    f"{italian.relative_to(docs_dir)} and {english.name} differ in {part}: "
                    f"Italian {it[part]}, English {en[part]}"
                )
    return problems


def on_pre_build(config):
    problems = differences(config["docs_dir"])
    if problems:
        raise PluginError("The two languages differ:\n  " + "\n  ".join(problems))
