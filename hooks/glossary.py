"""MkDocs hook: the glossary, and its definitions as tooltips in the chapters.

One data file, ``docs/assets/glossary.yml``, holds every term in Italian and English with
a one-line definition in each language and the chapter section that introduces it. From
it this hook

- writes the glossary table into ``glossary.md`` and ``glossary.en.md``, in place of the
  line ``<!-- glossary -->``: one row per term, sorted in the page's language, with the
  term in the other language, the definition and a link to the section (whose title is
  read from the chapter, so the link text follows the chapter); each row has the anchor
  ``glossary.md#ID``, the same in both languages;
- lets ``tests/test_prose.py`` find the variants the book rejected (``rejected``: other
  words for the same concept, which a page must not use, so that each concept has one
  term everywhere);
- appends to every other page, as Markdown abbreviations (the ``abbr`` extension), the
  definitions in the page's language (Italian for ``X.md``, English for ``X.en.md``):
  ``*[stato nascosto]: definition``. Python-Markdown then wraps each occurrence of a term
  in ``<abbr title="definition">``, and Material's ``content.tooltips`` shows the title as
  a tooltip on hover.

Abbreviations never reach code (spans and blocks are atomic for Python-Markdown) or maths
(arithmatex's output is atomic too). A small tree processor, added to Markdown by
:func:`on_config`, removes the tooltips that would be noise: in headings (and so in the
table of contents), in the References and Further reading sections, and every repetition
of a term after its first occurrence in a section (from one ``##`` heading to the next).
Pages that get no tooltips: the glossary, the bibliography and the API reference, and
notebooks.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from xml.etree import ElementTree as etree

import yaml
from markdown import Markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from mkdocs.exceptions import PluginError

from _book import fenced_lines, is_notebook, language_of, languages, page_in, stem

DATA = Path("assets") / "glossary.yml"  # inside docs_dir
MARKER = "<!-- glossary -->"
# Pages without tooltips (stems, for both languages).
NO_TOOLTIPS = {"glossary", "bibliography", "api"}
# Sections without tooltips: the lists of works at the end of a chapter.
NO_TOOLTIP_SECTIONS = {"Riferimenti", "References", "Letture di approfondimento", "Further reading"}
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# Characters a definition cannot hold: it is a tooltip (plain text) and a table cell.
NOT_IN_DEFINITION = re.compile(r"[$`*|\[\]<>\\]")

LABELS = {
    "it": {"columns": ("Termine", "Inglese", "Definizione", "Introdotto in"), "other": "inglese"},
    "en": {"columns": ("Term", "Italian", "Definition", "Introduced in"), "other": "Italian"},
}


# ---------------------------------------------------------------------------- the data


def load(path: Path | str) -> list[dict]:
    """Read and check the glossary; raise ValueError naming the entry that is wrong."""
    entries = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: expected a list of entries")
    ids, forms = set(), {language: {} for language in languages()}
    for entry in entries:
        key = entry.get("id") if isinstance(entry, dict) else None
        if not key or not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", str(key)):
            raise ValueError(f"{path}: every entry needs an id of lowercase words and hyphens, got {entry!r}")
        if key in ids:
            raise ValueError(f"{path}: id {key!r} appears twice")
        ids.add(key)
        for language in languages():
            side = entry.get(language)
            if not isinstance(side, dict):
                raise ValueError(f"{path}: entry {key!r} has no {language!r} part")
            unknown = set(side) - {"term", "also", "see", "def", "hover", "rejected"}
            missing = {"term", "see", "def"} - set(side)
            if unknown or missing:
                raise ValueError(
                    f"{path}: entry {key!r} ({language}): unknown keys {sorted(unknown)}, missing {sorted(missing)}"
                )
            if NOT_IN_DEFINITION.search(side["def"]):
                raise ValueError(
                    f"{path}: entry {key!r} ({language}): the definition is plain text, without $ ` * | [ ] < > \\"
                )
            if not re.fullmatch(r"[\w.-]+\.md(#[\w-]+)?", side["see"]):
                raise ValueError(
                    f"{path}: entry {key!r} ({language}): 'see' is page.md or page.md#anchor, got {side['see']!r}"
                )
            rejected = side.get("rejected", [])
            if not isinstance(rejected, list) or not all(isinstance(form, str) and form for form in rejected):
                raise ValueError(f"{path}: entry {key!r} ({language}): 'rejected' is a list of words, got {rejected!r}")
            clash = {form.casefold() for form in rejected} & {form.casefold() for form in surface_forms(side)}
            if clash:
                raise ValueError(f"{path}: entry {key!r} ({language}): {sorted(clash)} both used and rejected")
            for form in surface_forms(side):
                if form in forms[language]:
                    raise ValueError(
                        f"{path}: {form!r} ({language}) belongs to both {forms[language][form]!r} and {key!r}"
                    )
                forms[language][form] = key
    return entries


def rejected(entries: list[dict], language: str) -> dict[str, str]:
    """Every variant the book rejected in ``language``, with the term it uses instead."""
    return {form: entry[language]["term"] for entry in entries for form in entry[language].get("rejected", [])}


def surface_forms(side: dict) -> list[str]:
    """The term and its other forms, each also with a capital initial (sentence start)."""
    found = []
    for form in [side["term"], *side.get("also", [])]:
        for variant in (form, form[:1].upper() + form[1:]):
            if variant not in found:
                found.append(variant)
    return found


def tooltip(entry: dict, language: str) -> str:
    """The tooltip of a term: its definition, then the term in the other language."""
    side, other = entry[language], entry[_other(language)]
    text = side["def"]
    if other["term"] != side["term"]:
        text += f" ({LABELS[language]['other']}: {other['term']})"
    return text


def abbreviations(entries: list[dict], language: str) -> dict[str, str]:
    """Every form that gets a tooltip in ``language``, with its tooltip."""
    return {
        form: tooltip(entry, language)
        for entry in entries
        if entry[language].get("hover", True)
        for form in surface_forms(entry[language])
    }


def _other(language: str) -> str:
    """The book's other language: the glossary pairs each term with its translation."""
    return next(code for code in languages() if code != language)


def sort_key(term: str) -> str:
    return unicodedata.normalize("NFKD", term).encode("ascii", "ignore").decode().casefold()


# ------------------------------------------------------------------- headings and anchors


def headings(path: Path | str) -> list[tuple[str, str, int]]:
    """``(anchor, Markdown text, level)`` of every heading of a page, as the site's permalinks.

    The anchors come from Python-Markdown's own ``toc`` extension (as in the build), run on
    the page's headings alone, outside code blocks.
    """
    return _headings_in(Path(path).read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=256)  # the glossary links each chapter many times: convert its headings once
def _headings_in(page: str) -> list[tuple[str, str, int]]:
    text = page.splitlines()
    lines = [
        HEADING.match(line).groups() for line, kind, _ in fenced_lines(text) if kind == "text" and HEADING.match(line)
    ]
    md = Markdown(
        extensions=["toc", "attr_list", "pymdownx.arithmatex"],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )
    md.convert("\n\n".join(f"{marks} {text}" for marks, text in lines))
    flat = []

    def walk(tokens):
        for token in tokens:
            flat.append(token["id"])
            walk(token["children"])

    walk(md.toc_tokens)
    return [(anchor, text, len(marks)) for anchor, (marks, text) in zip(flat, lines)]


def section_link(see: str, page_path: Path, docs_dir: Path) -> str:
    """A Markdown link to a chapter section, its text the chapter's and the section's titles."""
    target, _, anchor = see.partition("#")
    source = page_in(docs_dir / target, language_of(page_path))
    if not source.exists():
        raise PluginError(f"{DATA}: 'see: {see}' names a page that does not exist ({source.name})")
    found = headings(source)
    title = next((text for _, text, level in found if level == 1), target)
    if not anchor:
        return f"[{title}]({see})"
    section = next((text for slug, text, _ in found if slug == anchor), None)
    if section is None:
        raise PluginError(
            f"{DATA}: 'see: {see}': {source.name} has no heading with anchor #{anchor}; "
            f"update the glossary to the chapter's headings"
        )
    return f"[{title} › {section}]({see})"


def table(entries: list[dict], language: str, page_path: Path, docs_dir: Path) -> str:
    """The glossary table of one language, as Markdown."""
    other = _other(language)
    columns = LABELS[language]["columns"]
    rows = [f"| {' | '.join(columns)} |", "|" + "---|" * len(columns)]
    for entry in sorted(entries, key=lambda entry: sort_key(entry[language]["term"])):
        side = entry[language]
        rows.append(
            f'| <strong id="{entry["id"]}">{side["term"]}</strong> | *{entry[other]["term"]}* '
            f"| {side['def']} | {section_link(side['see'], page_path, docs_dir)} |"
        )
    return "\n".join(rows)


# ------------------------------------------------------------------------------- the hook


def on_config(config):
    if not any(isinstance(extension, TooltipsExtension) for extension in config.markdown_extensions):
        config.markdown_extensions.append(TooltipsExtension())
    return config


def on_page_markdown(markdown, page, config, files):
    src = page.file.src_uri
    if is_notebook(markdown):
        return markdown
    docs_dir = Path(config["docs_dir"])
    language = language_of(src)
    name = stem(src)
    if name not in NO_TOOLTIPS and MARKER not in markdown:
        entries = _entries(docs_dir)
        # One block each: in one block of hundreds of lines, every block processor would test
        # what is left of it once per definition (quadratic; seconds per page).
        definitions = "\n\n".join(f"*[{form}]: {title}" for form, title in abbreviations(entries, language).items())
        return f"{markdown.rstrip()}\n\n{definitions}\n"
    if MARKER in markdown:
        entries = _entries(docs_dir)
        return markdown.replace(MARKER, table(entries, language, Path(page.file.abs_src_path), docs_dir))
    return markdown


def _entries(docs_dir: Path) -> list[dict]:
    path = docs_dir / DATA
    try:
        return _load_once(path, path.stat().st_mtime_ns)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise PluginError(f"glossary: {error}") from None


@functools.lru_cache(maxsize=2)
def _load_once(path: Path, mtime_ns: int) -> list[dict]:
    """:func:`load`, read once per version of the file (every page needs it; do not modify)."""
    return load(path)


# ------------------------------------------------------ which <abbr> elements are kept


class TooltipsTreeprocessor(Treeprocessor):
    """Keep a term's tooltip once per section, never in headings or in the lists of works."""

    def run(self, root):
        parents = {child: parent for parent in root.iter() for child in parent}
        drop, seen, quiet = [], set(), False
        for element in root.iter():
            if element.tag in ("h1", "h2"):
                seen = set()
                quiet = "".join(element.itertext()).strip() in NO_TOOLTIP_SECTIONS
            if element.tag != "abbr":
                continue
            ancestors = []
            node = element
            while node in parents:
                node = parents[node]
                ancestors.append(node.tag)
            title = element.get("title")
            if quiet or title in seen or any(re.fullmatch(r"h[1-6]", tag) for tag in ancestors):
                drop.append(element)
            else:
                seen.add(title)
        for element in reversed(drop):
            _unwrap(element, parents[element])


def _unwrap(element: etree.Element, parent: etree.Element) -> None:
    """Replace ``element`` by its text, keeping its tail."""
    text = (element.text or "") + (element.tail or "")
    index = list(parent).index(element)
    if index == 0:
        parent.text = (parent.text or "") + text
    else:
        previous = parent[index - 1]
        previous.tail = (previous.tail or "") + text
    parent.remove(element)


class TooltipsExtension(Extension):
    def extendMarkdown(self, md):
        # After abbr (priority 7) has wrapped the terms, before toc (5) reads the headings.
        md.treeprocessors.register(TooltipsTreeprocessor(md), "glossary_tooltips", 6)
