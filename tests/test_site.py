"""Checks on the built site in ``site/`` (``make test`` builds it before pytest).

They read the HTML as a browser would receive it: the maths is rendered, no
page loads anything from another host, both languages are there, the
language switcher leads to the same page in the other language, and every
internal link and anchor resolves (no browser needed). Without ``site/`` they
are skipped when pytest is run by hand and fail under ``make test`` and in CI.
"""

from __future__ import annotations

import functools
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

SITE = Path(__file__).resolve().parents[1] / "site"


@pytest.fixture(autouse=True, scope="module")
def built_site(require):
    require((SITE / "index.html").exists(), "no built site: run `make build` (make test does it first)")


def test_the_built_site_is_there():
    """Fails under make test and CI, and is skipped by hand, without ``site/`` (the
    parametrised tests below have no page to check then)."""


HIDDEN = {"code", "pre", "script", "style", "math", "svg"}


class Page(HTMLParser):
    """Collects what the checks need from one HTML page."""

    def __init__(self):
        super().__init__()
        self.loads = []  # URLs the browser fetches on load
        self.text = []  # visible text outside code, scripts and KaTeX
        self.languages = {}  # hreflang -> href of the language switcher
        self._hidden = None  # the tag whose content is being skipped
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and attrs.get("src"):
            self.loads.append(attrs["src"])
        if tag == "link" and attrs.get("rel") in ("stylesheet", "preload", "icon", "modulepreload"):
            self.loads.append(attrs.get("href", ""))
        if tag == "a" and attrs.get("hreflang"):
            self.languages[attrs["hreflang"]] = attrs.get("href")
        if self._hidden:
            self._depth += tag == self._hidden
        elif tag in HIDDEN or re.search(r"highlight|clipboard-copy-txt", attrs.get("class") or ""):
            self._hidden, self._depth = tag, 1

    def handle_endtag(self, tag):
        if self._hidden and tag == self._hidden:
            self._depth -= 1
            if not self._depth:
                self._hidden = None

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def pages():
    return sorted(p for p in SITE.rglob("*.html") if p.name != "404.html")


def parse(path):
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_both_languages_are_built():
    italian = {p.relative_to(SITE) for p in pages() if not p.relative_to(SITE).parts[0] == "en"}
    english = {p.relative_to(SITE / "en") for p in (SITE / "en").rglob("*.html") if p.name != "404.html"}
    assert Path("index.html") in italian
    assert italian == english


@pytest.mark.parametrize("path", pages(), ids=lambda p: str(p.relative_to(SITE)))
def test_page_loads_nothing_from_another_host(path):
    external = [url for url in parse(path).loads if re.match(r"^(https?:)?//", url)]
    assert not external, f"{path.relative_to(SITE)} loads {external}"


@pytest.mark.parametrize("path", pages(), ids=lambda p: str(p.relative_to(SITE)))
def test_no_raw_latex_is_left_in_the_text(path):
    text = " ".join(parse(path).text)
    leftovers = re.findall(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\frac|\\mathbf|\$[^$\s][^$]*\$", text)
    assert not leftovers, f"{path.relative_to(SITE)} shows raw LaTeX: {leftovers[:5]}"


@pytest.mark.parametrize("path", pages(), ids=lambda p: str(p.relative_to(SITE)))
def test_language_switcher_leads_to_the_same_page(path):
    relative = path.relative_to(SITE)
    is_english = relative.parts[0] == "en"
    other = relative.relative_to("en") if is_english else Path("en") / relative
    links = parse(path).languages
    target = links["it" if is_english else "en"]
    # Without site_url, mkdocs-static-i18n writes links from the site's root.
    resolved = (SITE / target.lstrip("/") if target.startswith("/") else path.parent / target).resolve()
    if resolved.is_dir():
        resolved = resolved / "index.html"
    assert resolved == (SITE / other).resolve(), f"switcher on {relative} leads to {target}"


# Each language's search index; its locations are relative to the folder above search/.
SEARCH_INDEXES = {"it": "search/search_index.json", "en": "en/search/search_index.json"}


def search_index(language):
    return json.loads((SITE / SEARCH_INDEXES[language]).read_text(encoding="utf-8"))


@pytest.mark.parametrize("language", SEARCH_INDEXES)
def test_search_index_holds_each_formula_once(language):
    """KaTeX writes a formula twice (MathML for screen readers, HTML for the eye); the
    MathML copy is kept out of the search index (hooks/katex_math.py), whose snippets
    would otherwise show the formula's TeX and its symbols two extra times. The labs'
    sampled text may hold TeX-like strings, so their pages are not checked."""
    tex = re.compile(r"\\(?:frac|partial|odot|sigma|tanh|mathbb|norm)\b")
    leaks = [
        doc["location"]
        for doc in search_index(language)["docs"]
        if not doc["location"].startswith("labs/") and tex.search(doc["text"])
    ]
    assert not leaks, leaks


@pytest.mark.parametrize("language", SEARCH_INDEXES)
def test_each_language_searches_its_own_pages(language):
    """hooks/search_languages.py: one index per language, in that language, holding
    every page of that language but the printable book, and nothing else."""
    index = search_index(language)
    assert index["config"]["lang"] == [language]
    root = SITE / Path(SEARCH_INDEXES[language]).parent.parent
    pages = {html.parent.relative_to(root).as_posix() for html in root.rglob("index.html")}
    pages = {
        "" if page == "." else page + "/"
        for page in pages
        if page.split("/")[0] not in ("assets", "search", "en", "print")
    }
    indexed = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert indexed == pages


def test_english_pages_read_the_english_search_index():
    """Material fetches ``search/search_index.json`` from the ``base`` in a page's
    ``__config``: the site's root for Italian pages, ``en/`` for English ones."""
    config = re.compile(r'<script id="__config" type="application/json">(.*?)</script>', re.S)
    for html, root in [
        (SITE / "lstm" / "index.html", SITE),
        (SITE / "en" / "lstm" / "index.html", SITE / "en"),
        (SITE / "en" / "index.html", SITE / "en"),
    ]:
        base = json.loads(config.search(html.read_text(encoding="utf-8")).group(1))["base"]
        assert (html.parent / base).resolve() == root.resolve(), f"{html.relative_to(SITE)}: base {base!r}"


# ---------------------------------------------------------------------------
# What depends on where the book is published (hooks/notebooks.py, hooks/version.py)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published():
    """``repo_url`` and ``site_url`` of mkdocs.yml, as the build read them (``!ENV`` included)."""
    from mkdocs.config import load_config

    config = load_config(str(SITE.parent / "mkdocs.yml"))
    return config.repo_url, config.site_url


def test_footer_shows_the_package_version():
    from rnnbook import __version__

    for path in (SITE / "index.html", SITE / "en" / "labs" / "charlm" / "index.html"):
        footer = re.search(r'<div class="md-copyright__highlight">\s*(.*?)\s*</div>', path.read_text(encoding="utf-8"))
        assert footer and f"rnnbook {__version__}" in footer[1], path.relative_to(SITE)


def lab_pages():
    return sorted(p for p in SITE.rglob("labs/*/index.html"))


def test_labs_link_to_colab_and_install_only_from_the_configured_repository(published):
    import nbformat

    repo_url, site_url = published
    assert lab_pages()
    for path in lab_pages():
        html = path.read_text(encoding="utf-8")
        colab = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', html)
        if repo_url and repo_url.startswith("https://github.com/"):
            assert colab and all(repo_url.removeprefix("https://").rstrip("/") + "/" in c for c in colab), path
        else:
            assert not colab, f"{path.relative_to(SITE)} links to Colab while repo_url is not a GitHub repository"
        (ipynb,) = path.parent.glob("*.ipynb")
        sources = "".join(cell.source for cell in nbformat.read(ipynb, as_version=4).cells)
        assert ("%pip install" in sources) == bool(repo_url), ipynb.relative_to(SITE)
        if repo_url:
            assert f'"rnnbook @ git+{repo_url.rstrip("/")}"' in sources
        page_link = ("Questo notebook è una pagina del libro", "This notebook is a page of the book")
        assert any(text in sources for text in page_link) == bool(site_url), ipynb.relative_to(SITE)


def test_the_repository_link_is_repo_url_or_none(published):
    """The header links to repo_url, and no page to the placeholder the book once had."""
    repo_url, _ = published
    for path in pages():
        html = path.read_text(encoding="utf-8")
        sources = re.findall(r'<a href="([^"]*)"[^>]*class="md-source"', html)
        assert sources == ([repo_url] if repo_url else []), path.relative_to(SITE)
        assert "github.com/rnnbook/rnnbook" not in html or repo_url == "https://github.com/rnnbook/rnnbook"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href") is not None:
            self.hrefs.append(attrs["href"])


@functools.cache
def parsed(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


@pytest.mark.parametrize(
    "source", [p for p in pages() if p.name == "index.html"], ids=lambda p: str(p.relative_to(SITE))
)
def test_internal_links_and_anchors_resolve_external_links_are_well_formed(source):
    broken = []
    for href in parsed(source).hrefs:
        parts = urlsplit(href)
        if parts.scheme in ("http", "https"):
            if not re.match(r"^[\w.-]+\.[a-z]{2,}(:\d+)?$", parts.netloc):
                broken.append(f"malformed external link {href}")
            continue
        if parts.scheme or href.startswith("//"):
            continue  # mailto:, data: and the like
        path = unquote(parts.path)
        target = (SITE / path.lstrip("/")) if href.startswith("/") else (source.parent / path)
        target = target.resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            broken.append(f"missing {href}")
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parsed(target).ids:
            broken.append(f"missing anchor {href}")
    assert not broken, "\n".join(broken)
