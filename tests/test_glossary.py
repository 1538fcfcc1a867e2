"""The glossary: one data file, two pages, and tooltips in the chapters.

``docs/assets/glossary.yml`` is the single source of the glossary pages and of the
tooltips (``hooks/glossary.py``). These tests check the data (well formed, at least 40
terms, each linked to a section that exists, each term used by the chapters), that the hook
gives each language its own definitions, that the tooltips never land in headings, code or
maths, and, on the built site, that both glossary pages list every term.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import SimpleNamespace

import markdown
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SITE = ROOT / "site"
sys.path.insert(0, str(ROOT / "hooks"))
import glossary  # noqa: E402

ENTRIES = glossary.load(DOCS / glossary.DATA)
CHAPTERS = ["index", "rnn", "bptt", "vanishing", "lstm", "gru", "deep", "attention", "scan", "ssm", "notation"]


def page(name, language):
    return DOCS / (f"{name}.en.md" if language == "en" else f"{name}.md")


def render(text, language="it"):
    """Markdown as the site renders it (the extensions that matter here), tooltips appended."""
    md = markdown.Markdown(
        extensions=[
            "abbr",
            "admonition",
            "attr_list",
            "md_in_html",
            "tables",
            "toc",
            "pymdownx.arithmatex",
            "pymdownx.superfences",
            "pymdownx.details",
            glossary.TooltipsExtension(),
        ],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )
    fake = SimpleNamespace(file=SimpleNamespace(src_uri="x.en.md" if language == "en" else "x.md"))
    source = glossary.on_page_markdown(text, fake, {"docs_dir": str(DOCS)}, None)
    return md.convert(source), md


def test_the_glossary_has_at_least_forty_terms_in_both_languages():
    assert len(ENTRIES) >= 40
    for entry in ENTRIES:
        assert entry["it"]["term"] and entry["en"]["term"]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry["id"])
def test_each_term_links_to_a_section_that_exists_in_both_languages(entry):
    it, en = entry["it"]["see"], entry["en"]["see"]
    assert it.partition("#")[0] == en.partition("#")[0], "the two languages point to different chapters"
    for language, see, source in (("it", it, DOCS / "glossary.md"), ("en", en, DOCS / "glossary.en.md")):
        link = glossary.section_link(see, source, DOCS)  # raises if the page or the anchor is missing
        assert link.endswith(f"({see})")


@pytest.mark.parametrize("language", ["it", "en"])
def test_each_tooltip_term_is_used_by_the_chapters(language):
    text = "\n".join(page(name, language).read_text(encoding="utf-8") for name in CHAPTERS)
    unused = [
        entry["id"]
        for entry in ENTRIES
        if entry[language].get("hover", True)
        and not any(re.search(rf"\b{re.escape(form)}\b", text) for form in glossary.surface_forms(entry[language]))
    ]
    assert not unused, f"terms no {language} chapter uses (update their forms in glossary.yml): {unused}"


def test_glossary_pages_are_generated_from_the_data():
    for name in ("glossary.md", "glossary.en.md"):
        assert glossary.MARKER in (DOCS / name).read_text(encoding="utf-8"), f"{name} lost its {glossary.MARKER} line"


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_table_lists_every_term_once_sorted_with_its_anchor(language):
    source = DOCS / ("glossary.en.md" if language == "en" else "glossary.md")
    table = glossary.table(ENTRIES, language, source, DOCS)
    ids = re.findall(r'<strong id="([\w-]+)">', table)
    assert sorted(ids) == sorted(entry["id"] for entry in ENTRIES) and len(set(ids)) == len(ids)
    terms = re.findall(r'<strong id="[\w-]+">([^<]+)</strong>', table)
    assert terms == sorted(terms, key=glossary.sort_key)


def test_each_language_gets_its_own_definitions():
    html_it, _ = render("La porta di dimenticanza decide.", "it")
    html_en, _ = render("The forget gate decides.", "en")
    assert "porta di dimenticanza</abbr>" in html_it and "(inglese: forget gate)" in html_it
    assert "forget gate</abbr>" in html_en and "(Italian: porta di dimenticanza)" in html_en
    assert "Gers" in html_it and "Gers" in html_en


def test_pages_without_tooltips_get_no_definitions():
    for src in ("glossary.md", "bibliography.en.md", "api.md"):
        fake = SimpleNamespace(file=SimpleNamespace(src_uri=src, abs_src_path=str(DOCS / src)))
        text = "# Title\n\nThe forget gate and the porta di dimenticanza.\n"
        assert glossary.on_page_markdown(text, fake, {"docs_dir": str(DOCS)}, None) == text


SAMPLE = r"""# Lo stato nascosto

Lo stato nascosto $h_t$ porta la memoria; lo stato nascosto torna. Ancora: `stato nascosto`.

$$
\text{stato nascosto} = \tanh(a_t)
$$

Con la maths inline $\text{stato nascosto}$ e un blocco:

```python
stato_nascosto = "stato nascosto"
```

!!! note "Una nota"

    Nella nota lo stato nascosto non è il primo della sezione.

## Una nuova sezione con lo stato nascosto

Qui lo stato nascosto torna a essere sottolineato, e la porta di dimenticanza pure.

## Riferimenti

- Un articolo sullo stato nascosto e sulla porta di dimenticanza.
"""


def test_tooltips_skip_headings_code_maths_repeats_and_references():
    html, md = render(SAMPLE, "it")
    # Once in the first section (the paragraph), once in the second; never in headings.
    assert html.count(">stato nascosto</abbr>") + html.count(">Stato nascosto</abbr>") == 2
    for heading in re.findall(r"<h[1-6][^>]*>.*?</h[1-6]>", html, re.S):
        assert "<abbr" not in heading
    assert all("abbr" not in token["name"] for token in md.toc_tokens)
    maths = re.findall(r'<(?:span|div) class="arithmatex">(.*?)</(?:span|div)>', html, re.S)
    assert len(maths) == 3 and sum("stato nascosto" in formula for formula in maths) == 2
    assert not any("<abbr" in formula for formula in maths)
    for code in re.findall(r"<code[^>]*>(.*?)</code>", html, re.S):
        assert "<abbr" not in code
    references = html.split('id="riferimenti"')[1]
    assert "<abbr" not in references
    assert html.count("porta di dimenticanza</abbr>") == 1


def test_bad_data_is_refused_with_the_entry_named(tmp_path):
    bad = tmp_path / "glossary.yml"
    bad.write_text(
        "- id: x\n  it: {term: a, see: rnn.md, def: Uno $h_t$.}\n  en: {term: b, see: rnn.md, def: One.}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="'x'"):
        glossary.load(bad)


@pytest.mark.parametrize("prefix", ["", "en/"])
def test_built_glossary_lists_every_term_and_chapters_have_tooltips(prefix, require):
    require((SITE / "glossary" / "index.html").exists(), "no built site: run `make build` first")
    html = (SITE / prefix / "glossary" / "index.html").read_text(encoding="utf-8")
    for entry in ENTRIES:
        assert f'id="{entry["id"]}"' in html
    lstm = (SITE / prefix / "lstm" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<abbr title="[^"]+">(forget gate|porta di dimenticanza)</abbr>', lstm)
    for heading in re.findall(r"<h[1-6][^>]*>.*?</h[1-6]>", lstm, re.S):
        assert "<abbr" not in heading
