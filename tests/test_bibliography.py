"""The bibliography: every work the book cites, under a key that chapters can link to.

Each entry of ``docs/bibliography.md`` (and of its English twin, with the same keys in the
same order) starts with ``<span id="KEY"></span>`` and ends with the key in code. These
tests check the keys, that every ``bibliography.md#KEY`` link anywhere in ``docs/``
resolves, and that every work listed in a chapter's references or further reading (by its
DOI, its arXiv identifier, or its first author and year) has an entry.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = {"it": DOCS / "bibliography.md", "en": DOCS / "bibliography.en.md"}
ENTRY = re.compile(r'^- <span id="(?P<key>[\w-]+)"></span>(?P<text>.*) · `(?P=key)`$', re.M)
LINK = re.compile(r"\]\((?:[./\w-]*/)?bibliography(?:\.en)?\.md#([^)\s]+)\)")
DOI = re.compile(r"doi\.org/(10\.[^)\s>]+)")
ARXIV = re.compile(r"arxiv\.org/abs/(\d{4}\.\d{4,5})")
LIST_SECTIONS = {"Riferimenti", "References", "Letture di approfondimento", "Further reading"}
# "Surname, I." (the first author, as the reference lists write it) ... "(YYYY)"
AUTHOR_YEAR = re.compile(r"([A-ZÀ-Ý][a-zà-ÿ'’-]+), (?:[A-Z]\.[ -]?)+.*?\((\d{4})\)")


def entries(language):
    return [(m["key"], m["text"]) for m in ENTRY.finditer(PAGES[language].read_text(encoding="utf-8"))]


def keys(language):
    return [key for key, _ in entries(language)]


def book_pages():
    return sorted(p for p in DOCS.rglob("*.md") if p.name not in ("bibliography.md", "bibliography.en.md"))


def reference_items(path):
    """The items of a page's reference and further-reading lists, each joined on one line."""
    items, section = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif section in LIST_SECTIONS and line.startswith("- "):
            items.append(line[2:])
        elif section in LIST_SECTIONS and line.startswith("  ") and items:
            items[-1] += " " + line.strip()
    return items


def plain(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def test_every_entry_has_a_key_and_both_languages_have_the_same_keys_in_the_same_order():
    italian, english = keys("it"), keys("en")
    assert len(italian) >= 30
    assert italian == english
    assert len(set(italian)) == len(italian)
    for key in italian:
        assert re.fullmatch(r"[a-z]+\d{4}[a-z]?|[a-z]+-[a-z]+", key), key
    # Every list item of the page is an entry with its anchor.
    for language, path in PAGES.items():
        items = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("- ")]
        assert len(items) == len(keys(language))


def test_keys_are_first_author_and_year():
    for key, text in entries("en"):
        match = re.fullmatch(r"([a-z]+)(\d{4})[a-z]?", key)
        if match:
            surname, year = match.groups()
            assert plain(text).startswith(surname) and f"({year})" in text, key


def test_works_are_in_alphabetical_order():
    works = [key for key in keys("en") if re.fullmatch(r"[a-z]+\d{4}[a-z]?", key)]
    assert works == sorted(works)


@pytest.mark.parametrize("language", ["it", "en"])
def test_every_entry_gives_a_doi_an_arxiv_id_or_an_address_where_one_exists(language):
    # Works that have none of them: three technical reports, a diploma and a PhD thesis, two book chapters.
    without = {
        "jordan1986",
        "hochreiter1991",
        "hochreiter2001",
        "williams1995",
        "robinson1987",
        "mikolov2012",
        "blelloch1990",
    }
    for key, text in entries(language):
        has_link = re.search(r"\]\(https?://", text) is not None
        assert has_link != (key in without), key


def test_every_bibliography_link_in_the_book_resolves():
    known = set(keys("it"))
    broken = []
    for path in sorted(DOCS.rglob("*.md")):
        for key in LINK.findall(path.read_text(encoding="utf-8")):
            if key not in known:
                broken.append(f"{path.relative_to(DOCS)}: bibliography.md#{key}")
    assert not broken, "links to keys that are not in the bibliography: " + ", ".join(broken)


def test_the_link_checker_finds_links():
    text = "As shown by [Hochreiter (1991)](bibliography.md#hochreiter1991) and [x](../bibliography.en.md#nokey)."
    assert LINK.findall(text) == ["hochreiter1991", "nokey"]


def test_every_doi_and_arxiv_id_cited_in_the_book_is_in_the_bibliography():
    for language, path in PAGES.items():
        bibliography = path.read_text(encoding="utf-8")
        missing = set()
        for page in book_pages():
            text = page.read_text(encoding="utf-8")
            missing |= {doi for doi in DOI.findall(text) if doi not in bibliography}
            missing |= {arxiv for arxiv in ARXIV.findall(text) if arxiv not in bibliography}
        assert not missing, f"{path.name} lacks {sorted(missing)}"


def test_every_work_in_the_chapters_reference_lists_has_an_entry():
    known = set(keys("it"))
    missing = set()
    for page in book_pages():
        for item in reference_items(page):
            match = AUTHOR_YEAR.search(item)
            if match:
                stem = plain(match.group(1)) + match.group(2)
                if not ({stem, stem + "a", stem + "b"} & known):
                    missing.add(f"{stem} ({page.name})")
    assert not missing, f"cited in the chapters but not in the bibliography: {sorted(missing)}"
