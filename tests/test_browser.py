"""The book in a real browser: headless Chromium over the built site on 127.0.0.1.

Every page of both languages is opened once, in one of two tabs that go from page
to page as a reader does (the browser's cache keeps what every page shares), and
everything the checks need is recorded; the tests then read that record. They
need ``site/`` (``make test`` builds it first) and Debian's Chromium
(``apt-get install -y chromium``; ``.ci/run`` installs it). Without Chromium
they are skipped with that message when pytest is run by hand, and fail under
``make test`` and in CI (see ``require`` in the root conftest). The links and
anchors are checked without a browser, in ``tests/test_site.py``.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import http.server
import io
import re
import shutil
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MAX_PAGE_BYTES = 1_500_000

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True, scope="module")
def site_and_chromium(require):
    """Before any browser starts: the built site and Chromium must be there."""
    require((SITE / "index.html").exists(), "no built site: run `make build` first")
    require(Path(CHROMIUM).exists(), "Chromium not found: apt-get install -y chromium")


def test_the_built_site_and_chromium_are_there():
    """Fails under make test and CI, and is skipped by hand, when either is missing (the
    parametrised tests below have no page to check then)."""


def site_pages():
    """URL paths of every page, e.g. '', 'rnn/', 'en/rnn/'."""
    paths = []
    for html in sorted(SITE.rglob("index.html")):
        relative = html.parent.relative_to(SITE).as_posix()
        if relative.startswith(("assets", "search")):
            continue
        paths.append("" if relative == "." else relative + "/")
    return paths


PAGES = site_pages() if SITE.exists() else []


class Server(http.server.SimpleHTTPRequestHandler):
    """A static host as GitHub Pages is: text compressed with gzip, cacheable for ten
    minutes. It also serves axe-core, outside the site, at ``AXE_PATH``.

    Fonts alone are not cached: a font Chromium holds in memory shows in the resource
    timing of every later page that declares it, used or not, and page weight would
    count it (see ``COLLECT``)."""

    COMPRESS = (".html", ".css", ".js", ".json", ".svg", ".xml", ".ipynb")

    def log_message(self, *args):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store" if self.path.endswith(".woff2") else "max-age=600")
        super().end_headers()

    def translate_path(self, path):
        if urlsplit(path).path == "/" + AXE_PATH:
            return str(axe_script_file())
        return super().translate_path(path)

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if "gzip" not in self.headers.get("Accept-Encoding", "") or path.suffix not in self.COMPRESS:
            return super().send_head()
        if not path.is_file():
            return super().send_head()
        body = gzip.compress(path.read_bytes())
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def axe_script_file():
    """axe-core as shipped by axe-playwright-python."""
    import axe_playwright_python

    return Path(axe_playwright_python.__file__).with_name("axe.min.js")


# Where the test server serves axe-core: a script loaded by URL is compiled once and
# kept in Chromium's code cache, instead of parsed again on every page.
AXE_PATH = "__axe__/axe.min.js"


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(Server, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


# After load, Material adds the copy buttons and fetches the search index (counted in
# the page's weight).
MATERIAL_READY = """() => document.querySelectorAll('article div.highlight pre :is(button.md-clipboard, button[data-md-type=copy])').length
    >= document.querySelectorAll('article div.highlight pre').length
  && performance.getEntriesByType('resource').some(r => r.name.endsWith('/search/search_index.json'))"""

# ``bytes``: the compressed size of everything the page loaded, from the network or from
# the cache alike, which is what a first visit transfers.
COLLECT = """() => {
  const visible = (el) => !el.closest('pre, code, .katex, script, style, .jupyter-wrapper .jp-InputArea');
  const walker = document.createTreeWalker(document.querySelector('article') || document.body, NodeFilter.SHOW_TEXT);
  let text = '';
  while (walker.nextNode()) { if (visible(walker.currentNode.parentElement)) text += walker.currentNode.textContent + ' '; }
  const resources = performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'));
  const other = location.pathname.startsWith('/en/') ? 'it' : 'en';
  const switcher = document.querySelector(`a[hreflang="${other}"]`);
  return {
    text: text,
    katex: document.querySelectorAll('.katex').length,
    katexFont: document.fonts.check('16px KaTeX_Main'),
    brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 80)),
    codeBlocks: document.querySelectorAll('article div.highlight pre').length,
    copyButtons: document.querySelectorAll('article div.highlight pre :is(button.md-clipboard, button[data-md-type=copy])').length,
    notebookCells: document.querySelectorAll('.jp-InputArea .highlight-ipynb').length,
    notebookCopy: document.querySelectorAll('.jp-InputArea clipboard-copy').length,
    notebookLinks: [...document.querySelectorAll('.rnnbook-notebook-links a')].map(a => a.href),
    switcher: switcher && new URL(switcher.getAttribute('href'), location.href).href,
    bytes: resources.reduce((sum, r) => sum + (r.encodedBodySize || 0), 0),
  };
}"""

# Read with print media emulated, on the printable book.
PRINTED = """() => ({
  titles: [...document.querySelectorAll('article h1')].map(e => e.textContent.trim()),
  figures: [...document.querySelectorAll('article figure img')].filter(i => i.naturalWidth > 0).length,
  closed: document.querySelectorAll('article details:not([open])').length,
  navHidden: getComputedStyle(document.querySelector('.md-sidebar--primary')).display === 'none',
})"""

# A phone held upright: the page must not scroll sideways (code, tables and wide
# formulas scroll inside their own boxes).
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
OVERFLOW = "() => document.documentElement.scrollWidth > window.innerWidth + 1"
# Resized, the header's search box fades to its new colours: axe reads them once every
# finite animation and transition has finished.
SETTLED = """() => Promise.all(document.getAnimations()
  .filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
  .map(a => a.finished.catch(() => null))).then(() => null)"""

# KaTeX's visual HTML is aria-hidden (assistive technology reads its MathML) and holds
# most of a chapter's elements; axe-core's time grows with the page's element count, so
# it is removed, after the checks above have read the page, before axe runs.
REMOVE_KATEX_HTML = "() => document.querySelectorAll('.katex-html').forEach(e => e.remove())"

# Highlighted code is one <span> per token, most of the elements of a page with code,
# and axe-core's time grows with the element count. Only colour contrast tells two spans
# of the same kind in the same kind of box apart (no role, no ARIA, no id), so one of
# each is kept and the others give way to their text.
ONE_TOKEN_OF_EACH_KIND = """() => {
  const seen = new Set();
  for (const span of document.querySelectorAll('article pre span[class]')) {
    const box = span.closest('.admonition, details, .highlight-ipynb, .highlight');
    const kind = span.className + ' in ' + (box ? box.className : '');
    if (seen.has(kind)) span.replaceWith(span.textContent);
    else seen.add(kind);
  }
}"""

# Every rule on every page, except the two that depend only on the stylesheet (colour
# contrast, and links told apart from text): those, by far the slowest, run on one page
# of each kind, in both languages: home, the chapter with the most kinds of code token, a lab,
# the glossary, coursework, and there on the whole page.
CONTRAST_PAGES = {
    "",
    "en/",
    "vanishing/",
    "en/vanishing/",
    "labs/adding/",
    "en/labs/adding/",
    "glossary/",
    "en/coursework/",
}
STYLE_RULES = ("color-contrast", "link-in-text-block")

SEARCHES = [("", "dimenticanza", "/lstm/"), ("en/", "forget gate", "/en/lstm/")]

# Tabs at work at once: Chromium renders each in its own process, so a second one
# uses the second core of a two-core laptop.
CONCURRENT_PAGES = 2


# WCAG 2 A and AA, and axe-core's best practices (landmarks, headings, names of dialogs...).
AXE_TAGS = ["wcag2a", "wcag2aa", "best-practice"]
# Best practices about the document as a whole (its landmarks, its first heading, a skip
# link): they mean nothing inside one page's article, and run on the whole-page checks.
DOCUMENT_RULES = (
    "region",
    "landmark-banner-is-top-level",
    "landmark-complementary-is-top-level",
    "landmark-contentinfo-is-top-level",
    "landmark-main-is-top-level",
    "landmark-no-duplicate-banner",
    "landmark-no-duplicate-contentinfo",
    "landmark-no-duplicate-main",
    "landmark-one-main",
    "landmark-unique",
    "page-has-heading-one",
    "skip-link",
    "meta-viewport-large",
)


def axe_arguments(path):
    """axe-core's context and options for one page."""
    options = {"resultTypes": ["violations"], "runOnly": AXE_TAGS}
    if path in CONTRAST_PAGES:
        return None, options  # the whole document
    # Elsewhere the page's own content: header, navigation and footer are the same
    # template on every page and are checked whole on the pages above, with the rules
    # about the whole document.
    options["rules"] = {rule: {"enabled": False} for rule in STYLE_RULES + DOCUMENT_RULES}
    return {"include": [["article"]]}, options


def serious(results):
    """axe-core's serious and critical violations in ``results``, one line each."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} element(s), e.g. {v['nodes'][0]['html'][:120]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


class Tab:
    """One browser tab, reused page after page, that records what each visit saw."""

    def __init__(self, page, server):
        self.page, self.server = page, server
        self.errors, self.external = [], []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", self.record_request)

    def record_request(self, request):
        if not request.url.startswith((self.server, "data:", "blob:", "about:")):
            self.external.append(request.url)

    async def open(self, path, viewport, media="screen"):
        """Load ``path`` at ``viewport`` size for ``media``; forget what the previous page did."""
        await self.page.emulate_media(media=media)
        await self.page.set_viewport_size(viewport)
        self.errors, self.external = [], []
        return await self.page.goto(self.server + path, wait_until="load")

    async def visit(self, path):
        """Open one page and record what the tests check."""
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        page = self.page
        printed = path.endswith("print/")
        # A page is laid out at the size and for the medium it is checked at: the printable
        # book on paper, every other page on a phone first.
        response = await self.open(path, DESKTOP, "print") if printed else await self.open(path, PHONE)
        try:
            await page.wait_for_function(MATERIAL_READY, polling="raf", timeout=10_000)
        except PlaywrightTimeout:
            pass  # the copy-button and page-weight tests report it
        facts = await page.evaluate(COLLECT)
        facts.update(status=response.status, errors=self.errors, external=self.external, axe=[])
        if printed:  # the chapters again, each already checked by axe
            facts["printed"] = await page.evaluate(PRINTED)
            return facts
        facts["phoneOverflow"] = await page.evaluate(OVERFLOW)
        # axe checks a page's content on the phone, where code and tables scroll; the
        # pages that check the whole template, on a desktop.
        if path in CONTRAST_PAGES:
            await page.set_viewport_size(DESKTOP)
            await page.evaluate(SETTLED)
        facts["axe"] = await self.run_axe(path)
        return facts

    async def run_axe(self, path):
        """axe-core's serious and critical violations on the page as it is now, one line each."""
        page = self.page
        await page.evaluate(REMOVE_KATEX_HTML)
        await page.evaluate(ONE_TOKEN_OF_EACH_KIND)
        await page.add_script_tag(url=self.server + AXE_PATH)
        context, options = axe_arguments(path)
        results = await page.evaluate(
            "([context, options]) => axe.run(context || document, options)", [context, options]
        )
        return serious(results)

    async def search(self, language, query):
        """Type ``query`` in the search box of the ``language`` home page; return the result links."""
        page = self.page
        await self.open(language, DESKTOP)
        await page.click("label.md-search__icon, .md-search__input", force=True)
        await page.fill("input.md-search__input", query)
        await page.wait_for_selector(".md-search-result__item", timeout=10_000)
        return await page.eval_on_selector_all(".md-search-result__item a", "els => els.map(a => a.href)")


async def visit_all(server):
    """Every page and every search, in CONCURRENT_PAGES tabs of one Chromium."""
    from playwright.async_api import async_playwright

    # The longest visits (the printable book) and the searches first, so that no long
    # one is left running alone at the end.
    heavy = [("page", path) for path in PAGES if path.endswith("print/")]
    jobs = list(heavy)
    jobs += [("search", language, query) for language, query, _ in SEARCHES]
    jobs += [("page", path) for path in PAGES if ("page", path) not in heavy]
    done = {}

    async def work():
        tab = Tab(await context.new_page(), server)
        while jobs:
            job = jobs.pop(0)
            done[job] = await (tab.visit(*job[1:]) if job[0] == "page" else tab.search(*job[1:]))
            if job in heavy:  # a fresh tab costs less than unloading the printable book
                await tab.page.close()
                tab = Tab(await context.new_page(), server)
        await tab.page.close()

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        # One context: its HTTP cache serves the stylesheets and scripts every page shares,
        # as a reader's browser does after the first page. Page weight does not depend on
        # it: see COLLECT's ``bytes``.
        context = await browser.new_context(viewport=DESKTOP)
        await asyncio.gather(*(work() for _ in range(CONCURRENT_PAGES)))
        await browser.close()
    pages = {path: done[("page", path)] for path in PAGES}
    searches = {(language, query): done[("search", language, query)] for language, query, _ in SEARCHES}
    return pages, searches


@pytest.fixture(scope="module")
def browsed(server):
    """What the browser saw: ``(pages, searches, seconds it took)``."""
    start = time.perf_counter()
    pages, searches = asyncio.run(visit_all(server))
    return pages, searches, time.perf_counter() - start


@pytest.fixture(scope="module")
def visits(browsed):
    return browsed[0]


@pytest.mark.parametrize("path", PAGES)
def test_page_answers_200_without_console_errors_or_other_hosts(visits, path):
    facts = visits[path]
    assert facts["status"] == 200
    assert not facts["errors"], facts["errors"]
    assert not facts["external"], f"requests to other hosts: {facts['external']}"


@pytest.mark.parametrize("path", PAGES)
def test_maths_is_rendered_and_images_load(visits, path):
    facts = visits[path]
    leftovers = re.findall(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\frac|\\sum", facts["text"])
    assert not leftovers, f"raw LaTeX visible: {leftovers[:5]}"
    if facts["katex"]:
        assert facts["katexFont"], "KaTeX's fonts did not load"
    assert not facts["brokenImages"], facts["brokenImages"]


@pytest.mark.parametrize("path", PAGES)
def test_every_code_block_has_a_copy_button(visits, path):
    facts = visits[path]
    assert facts["copyButtons"] == facts["codeBlocks"]
    assert facts["notebookCopy"] >= facts["notebookCells"]


@pytest.mark.parametrize("path", [p for p in PAGES if not p.endswith("print/")])
def test_no_serious_accessibility_violation(visits, path):
    """The print page repeats the chapters, already checked one by one."""
    assert not visits[path]["axe"], "\n".join(visits[path]["axe"])


@pytest.mark.parametrize("path", [p for p in PAGES if not p.endswith("print/")])
def test_no_sideways_scrolling_on_a_phone(visits, path):
    assert not visits[path]["phoneOverflow"], f"/{path} is wider than a {PHONE['width']} px phone screen"


@pytest.mark.parametrize("path", [p for p in PAGES if not p.endswith("print/")])
def test_page_weight_on_first_load(visits, path):
    assert visits[path]["bytes"] < MAX_PAGE_BYTES, f"{path} transfers {visits[path]['bytes']:,} bytes"


def test_report_page_weights(browsed, capsys):
    pages, searches, seconds = browsed
    with capsys.disabled():
        print(f"\nChromium opened {len(pages)} pages and ran {len(searches)} searches in {seconds:.0f} s.")
        print("Bytes transferred on first load (gzip, figures included):")
        for path, facts in pages.items():
            print(f"  /{path:<28} {facts['bytes']:>10,}")


@pytest.mark.parametrize("language, query, expected", SEARCHES)
def test_search_works_offline_in_both_languages(browsed, language, query, expected):
    """The term finds its chapter, and every result is a page in the reader's language."""
    paths = [urlsplit(link).path for link in browsed[1][(language, query)]]
    assert expected in paths, paths
    english = [path.startswith("/en/") for path in paths]
    assert all(english) if language == "en/" else not any(english), paths


@pytest.mark.parametrize("path", PAGES)
def test_language_switcher_leads_to_the_same_page(server, visits, path):
    twin = path[len("en/") :] if path.startswith("en/") else "en/" + path
    assert twin in visits, f"{path} has no twin page {twin}"
    assert visits[path]["switcher"] == server + twin


def test_notebook_pages_offer_ipynb_and_colab(server, visits):
    """The download, and Colab where repo_url is set (tests/test_site.py checks which)."""
    import nbformat

    notebooks = {path: facts["notebookLinks"] for path, facts in visits.items() if facts["notebookLinks"]}
    labs = [p for p in PAGES if p.startswith(("labs/", "en/labs/")) and not p.endswith("labs/")]
    assert sorted(notebooks) == labs, "every lab, and only the labs, offers its notebook"
    for path, (download, *colab) in notebooks.items():
        with urllib.request.urlopen(download) as response:
            assert response.status == 200, download
            notebook = nbformat.reads(response.read().decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
        for link in colab:
            assert urlsplit(link).netloc == "colab.research.google.com"
            assert link.endswith(path + Path(download).name)


@pytest.mark.parametrize("path", ["print/", "en/print/"])
def test_printable_book_holds_every_chapter_with_maths_figures_and_open_solutions(visits, path):
    facts = visits[path]
    assert facts["katex"] > 100 and facts["katexFont"]
    assert not facts["brokenImages"]
    printed = facts["printed"]
    assert len(printed["titles"]) >= 7, printed["titles"]
    assert printed["figures"] >= 20
    assert printed["closed"] == 0, "solutions must be open on paper"
    assert printed["navHidden"]
