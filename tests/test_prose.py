"""The prose keeps two promises: its numbers come from code, its Italian terms are one per concept.

**Numbers.** The home page promises that every number in the text is computed by the
code that builds the site. A number typed into a sentence can silently go stale, so
:func:`typed_numbers` finds every number written into the *prose* of a page, where
prose is what is left of the Markdown source after removing

- the front matter, fenced code blocks (and so the embedded package code and the
  ``pycon`` doctests, whose numbers the tests check), inline code spans;
- display (``$$``) and inline (``$``) maths: a number in a formula is part of the
  mathematics (``$T = 100$``, ``$0{,}5$``), and is written as maths on purpose;
- HTML tags with their attributes, ``{ attribute lists }``, link targets and bare
  URLs, abbreviation lines, ``:::`` directives and snippet lines;
- the lists of works (the sections *Riferimenti*, *References*, *Letture di
  approfondimento*, *Further reading*) and the rows of tables on the notation
  pages, whose last column lists chapter numbers;
- the bibliography and glossary pages (lists of works, a generated table).

In what remains, a *typed number* is

1. a run of digits not glued to a letter, an identifier or a code token
   (``k1``, ``L2``, ``float64`` are names, not numbers), with its decimal
   separator and thousands groups (``1,5``, ``0.01``, ``300 000``); or
2. a number word (``one`` … ``twenty``, ``uno`` … ``venti``, and tens) followed by
   ``orders of magnitude`` / ``ordini di grandezza``: a measured ratio in words.

except

- a year, four digits from 1900 to 2099 not followed by a unit (``1997``, but not
  ``2000 passi``): the years of citations and of history;
- a reference: the number after ``§``, *capitolo/chapter*, *esercizio/exercise*,
  *tabella/table*, *figura/figure*, *esperimento/experiment*, *algoritmo/algorithm*,
  *sezione/section*, and the numbering of a course plan, *settimana/week* and
  *compito/assignment* (the lecturers' page numbers its weeks and assignments: they are
  labels, like a section number, not quantities) (and the numbers continuing that list with
  ``,``, ``e``/``and``, ``–``), a number that is a whole link text (``[3](vanishing.md)``), and the
  number of an exercise heading (``### 2. Title``);
- an entry of :data:`ALLOWED`, a short list of exact phrases, each with its reason.

Small counting words that are not measurements (*two languages*, *three gates*) are
not numbers of this kind and are not looked for. A number that is a measurement or a
result is printed by a code block, a doctest or a figure; a setting of an experiment
is printed by the lab (its ``settings``); a number that belongs to the mathematics is
written as maths.

**Italian terms.** ``docs/assets/glossary.yml`` records, for some concepts, the Italian
variants the book rejected in favour of its term (``rejected_it``). None may appear in an
Italian page's prose (code and maths aside; a variant is matched as whole words, case
insensitive), nor in the Italian definitions of the glossary, so a reader meets one term
per concept on every page.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "hooks"))
import glossary  # noqa: E402

SKIPPED_PAGES = {"bibliography", "glossary"}
LISTS_OF_WORKS = {"Riferimenti", "References", "Letture di approfondimento", "Further reading"}

# Exact phrases of prose in which a number is allowed, each with the reason.
ALLOWED = {
    "Python 3.11": "the minimum Python version, a requirement (pyproject.toml), not a result",
    "1406.1078": "an arXiv identifier, not a quantity",
    "ISO 8601": "the name of a standard (the date format of the seq2seq lab), not a quantity",
}

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
REFERENCE_WORDS = (
    r"§|capitol[oi]|chapters?|esercizi[o]?|exercises?|tabell[ae]|tables?|figur[ae]|figures?|"
    r"esperiment[oi]|experiments?|algoritmo|algorithm|sezion[ei]|sections?|"
    r"settiman[ae]|weeks?|compit[oi]|assignments?"
)
NUMBER = r"\d+(?:[.,]\d+)*(?:[ \u00a0\u202f]\d{3})*"
DIGITS = re.compile(rf"(?<![\w.,&\\/#-]){NUMBER}(?![\w])")
REFERENCE = re.compile(rf"(?:{REFERENCE_WORDS})\s*{NUMBER}(?:\s*(?:,|e|and|–|-|;)\s*(?:§\s*)?{NUMBER})*", re.I)
UNITS = r"\s+(?:passi|steps|sequenze|sequences|secondi|seconds|unità|units|caratteri|characters|parametri|parameters)\b"
YEAR = re.compile(rf"(?<!\d)(?:19|20)\d\d(?!\d)(?!{UNITS})")
NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
    r"uno|due|tre|quattro|cinque|sei|sette|otto|nove|dieci|undici|dodici|tredici|quattordici|"
    r"quindici|sedici|diciassette|diciotto|diciannove|venti|trenta|quaranta|cinquanta"
)
MAGNITUDE_WORDS = re.compile(
    rf"\b(?:{NUMBER_WORDS})\s+(?:(?:or|o|e|and|to|a)\s+(?:{NUMBER_WORDS})\s+)?"
    r"(?:orders?\s+of\s+magnitude|ordini\s+di\s+grandezza)",
    re.I,
)


def pages():
    return sorted(path for path in DOCS.rglob("*.md") if glossary.stem(path.name) not in SKIPPED_PAGES)


def prose(text: str, notation: bool = False) -> str:
    """The page with everything that is not prose blanked to spaces, so that offsets and line
    numbers are those of the source."""
    lines = text.split("\n")
    out = []
    start = 0
    if lines and lines[0].strip() == "---" and "---" in lines[1:]:
        start = lines.index("---", 1) + 1
        out = [" " * len(line) for line in lines[:start]]
    fence, display, works = None, False, None
    for line in lines[start:]:
        match = FENCE.match(line)
        stripped = line.strip()
        heading = HEADING.match(line)
        keep = True
        if fence:
            if (
                match
                and match.group(2)[0] == fence[0]
                and len(match.group(2)) >= len(fence)
                and stripped == match.group(2)
            ):
                fence = None
            keep = False
        elif match:
            fence, keep = match.group(2), False
        elif stripped.startswith("$$") and (stripped == "$$" or not stripped.endswith("$$")):
            display, keep = not display, False
        elif display:
            keep = False
        elif heading:
            level = len(heading.group(1))
            works = level if heading.group(2) in LISTS_OF_WORKS else (None if works and level <= works else works)
        if (
            works
            or stripped.startswith(("*[", ":::", "<!--"))
            or "--8<--" in line
            or (notation and stripped.startswith("|"))
        ):
            keep = False
        out.append(line if keep else " " * len(line))
    return _blank(INLINE, "\n".join(out))


# Inline non-prose, which may run over a line break inside a paragraph.
INLINE = re.compile(
    r"(`+)(?:(?!\n\s*\n).)*?\1"  # code spans
    r"|\$\$(?:(?!\n\s*\n).)*?\$\$"  # display maths written inline
    r"|(?<!\\)\$(?:(?!\n\s*\n)[^$])*?(?<!\\)\$"  # inline maths
    r"|<[^>]*>"  # HTML tags and their attributes
    r"|\{[:.#][^}]*\}|\{\s*\w+=[^}]*\}"  # attribute lists
    r"|(?<=\])\([^)]*\)"  # link targets
    r"|https?://\S+",  # bare URLs
    re.S,
)


def _blank(pattern, text):
    """Replace every match of ``pattern`` by spaces, keeping its newlines."""
    return pattern.sub(lambda match: re.sub(r"[^\n]", " ", match.group(0)), text)


def typed_numbers(text: str, notation: bool = False) -> list[tuple[int, str, str]]:
    """``(line number, number, line)`` of every typed number in a page's prose."""
    kept = prose(text, notation)
    allowed = [span for phrase in ALLOWED for span in _spans(re.escape(phrase), kept)]
    allowed += [m.span() for m in REFERENCE.finditer(kept)]
    allowed += [m.span() for m in YEAR.finditer(kept)]
    allowed += [m.span(1) for m in re.finditer(r"\[\s*(\d+)\s*\]", kept)]
    allowed += [m.span(1) for m in re.finditer(r"^#{2,6}\s+(\d+)\.\s", kept, re.M)]
    lines = kept.split("\n")
    found = []
    for match in sorted([*DIGITS.finditer(kept), *MAGNITUDE_WORDS.finditer(kept)], key=lambda m: m.start()):
        if not any(start <= match.start() and match.end() <= end for start, end in allowed):
            number = kept.count("\n", 0, match.start()) + 1
            found.append((number, " ".join(match.group(0).split()), lines[number - 1].strip()))
    return found


def _spans(pattern, line):
    return [m.span() for m in re.finditer(pattern, line)]


@pytest.mark.parametrize("path", pages(), ids=lambda path: str(path.relative_to(DOCS)))
def test_no_number_is_typed_into_the_prose(path):
    found = typed_numbers(path.read_text(encoding="utf-8"), notation=glossary.stem(path.name) == "notation")
    assert not found, (
        f"{path.name}: numbers typed into the prose (print them from code, write maths as $...$, or drop them):\n"
    ) + "\n".join(f"  line {line}: {number!r} in: {text}" for line, number, text in found)


def test_the_number_finder_sees_prose_and_only_prose():
    text = (
        "# Title\n\nIn 55 s the LSTM learns; dodici ordini di grandezza.\n\n"
        "Week 3: assignment 2; settimana 4, compiti 1 e 5. It lasts 6 weeks.\n\n"
        "Hochreiter (1997, §3.1), exercise 4 and chapters 4 and 5, [3](vanishing.md), $T = 100$, `k = 8`.\n\n"
        "```python\nx = 300\n```\n\n$$\na = 1\n$$\n\n## References\n\n- Nature 323:533-536.\n"
    )
    assert [number for _, number, _ in typed_numbers(text)] == ["55", "dodici ordini di grandezza", "6"]


REJECTED = glossary.rejected(glossary.load(DOCS / glossary.DATA), "it")


def rejected_variants(text: str) -> list[tuple[int, str, str]]:
    """``(line number, variant, term to use)`` of every rejected Italian variant in a page's prose."""
    kept = prose(text)
    found = []
    for variant, term in REJECTED.items():
        pattern = r"(?<![\w'’])" + r"\s+".join(map(re.escape, variant.split())) + r"(?![\w])"
        for match in re.finditer(pattern, kept, re.I):
            found.append((kept.count("\n", 0, match.start()) + 1, match.group(0), term))
    return sorted(found)


def italian_pages():
    return [path for path in pages() if not path.name.endswith(".en.md")]


def test_the_glossary_records_rejected_italian_variants():
    assert len(REJECTED) >= 10, "glossary.yml lost its rejected Italian variants"


@pytest.mark.parametrize("path", italian_pages(), ids=lambda path: str(path.relative_to(DOCS)))
def test_no_italian_page_uses_a_rejected_variant(path):
    found = rejected_variants(path.read_text(encoding="utf-8"))
    assert not found, f"{path.name}: variants the glossary rejects:\n" + "\n".join(
        f"  line {line}: {variant!r}, write {term!r}" for line, variant, term in found
    )


def test_the_italian_definitions_use_no_rejected_variant():
    entries = glossary.load(DOCS / glossary.DATA)
    text = "\n".join(f"{entry['it']['term']}: {entry['it']['def']}" for entry in entries)
    found = rejected_variants(text)
    assert not found, f"glossary.yml (it): {found}"


def test_the_variant_finder_skips_code_and_maths_and_sees_whole_words():
    variant = next(iter(REJECTED))
    text = f"# T\n\n`{variant}` $x$\n\n```python\n{variant}\n```\n\n{variant.upper()} here, {variant}x not.\n"
    assert [found for _, found, _ in rejected_variants(text)] == [variant.upper()]
