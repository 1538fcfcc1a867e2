"""The book in a real browser: headless Chromium over the built site on 127.0.0.1.

Every page of both languages is opened once, on a first (uncached) load, and
everything the checks need is recorded; the tests then read that record. They
need ``site/`` (``make test`` builds it first) and Debian's Chromium
(``apt-get install -y chromium``; ``.ci/run`` installs it). Without Chromium
they are skipped with that message.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import io
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MAX_PAGE_BYTES = 1_500_000

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (SITE / "index.html").exists(), reason="no built site: run `make build` first"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium not found: apt-get install -y chromium"),
]


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
    """A static host that compresses text with gzip, as GitHub Pages and most hosts do."""

    COMPRESS = (".html", ".css", ".js", ".json", ".svg", ".xml", ".ipynb")

    def log_message(self, *args):
        pass

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


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(Server, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


COPY_BUTTONS_ADDED = """() => document.querySelectorAll('article div.highlight pre :is(button.md-clipboard, button[data-md-type=copy])').length
    >= document.querySelectorAll('article div.highlight pre').length"""

COLLECT = """() => {
  const visible = (el) => !el.closest('pre, code, .katex, script, style, .jupyter-wrapper .jp-InputArea');
  const walker = document.createTreeWalker(document.querySelector('article') || document.body, NodeFilter.SHOW_TEXT);
  let text = '';
  while (walker.nextNode()) { if (visible(walker.currentNode.parentElement)) text += walker.currentNode.textContent + ' '; }
  const resources = performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'));
  return {
    text: text,
    katex: document.querySelectorAll('.katex').length,
    katexFont: document.fonts.check('16px KaTeX_Main'),
    brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 80)),
    codeBlocks: document.querySelectorAll('article div.highlight pre').length,
    copyButtons: document.querySelectorAll('article div.highlight pre :is(button.md-clipboard, button[data-md-type=copy])').length,
    notebookCells: document.querySelectorAll('.jp-InputArea .highlight-ipynb').length,
    notebookCopy: document.querySelectorAll('.jp-InputArea clipboard-copy').length,
    bytes: resources.reduce((sum, r) => sum + (r.encodedBodySize || 0), 0),
    overflow: document.documentElement.scrollWidth > window.innerWidth + 1,
  };
}"""


# Every rule on every page, but colour contrast (by far the slowest rule: the colours
# come from one stylesheet, the same on every page) on one page of each kind, in both
# languages: home, a chapter with every kind of code token, a lab, the glossary, coursework.
CONTRAST_PAGES = {"", "en/", "vanishing/", "en/vanishing/", "labs/adding/", "en/labs/adding/", "glossary/", "en/coursework/"}


def axe_options(path):
    """axe-core's context and options for one page."""
    # KaTeX's visual HTML is aria-hidden (its MathML is what assistive technology
    # reads) and holds thousands of spans: leaving it out keeps the suite fast.
    options = {"resultTypes": ["violations"], "runOnly": ["wcag2a", "wcag2aa"]}
    if path in CONTRAST_PAGES:
        return {"context": {"exclude": [[".katex-html"]]}, "options": options}
    # Elsewhere the page's own content: header, navigation and footer are the same
    # template on every page and are checked whole on the pages above.
    options["rules"] = {"color-contrast": {"enabled": False}}
    return {"context": {"include": [["article"]], "exclude": [[".katex-html"]]}, "options": options}


@pytest.fixture(scope="module")
def visits(server, browser):
    """Open every page once and record what the tests check."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    axe = Axe()
    record = {}
    for path in PAGES:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        errors, external = [], []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.on(
            "request",
            lambda r, external=external: external.append(r.url)
            if not r.url.startswith((server, "data:", "blob:", "about:"))
            else None,
        )
        response = page.goto(server + path, wait_until="load")
        try:  # Material adds the copy buttons after load
            page.wait_for_function(COPY_BUTTONS_ADDED, polling=100, timeout=3_000)
        except PlaywrightTimeout:
            pass  # the copy-button test reports it
        facts = page.evaluate(COLLECT)
        facts["status"] = response.status
        facts["errors"], facts["external"] = errors, external
        results = None if path.endswith("print/") else axe.run(page, **axe_options(path))
        facts["axe"] = [
            f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} element(s), e.g. {v['nodes'][0]['html'][:120]}"
            for v in (results.response["violations"] if results else [])
            if v["impact"] in ("serious", "critical")
        ]
        record[path] = facts
        context.close()
    return record


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
def test_page_weight_on_first_load(visits, path):
    assert visits[path]["bytes"] < MAX_PAGE_BYTES, f"{path} transfers {visits[path]['bytes']:,} bytes"


def test_report_page_weights(visits, capsys):
    with capsys.disabled():
        print("\nBytes transferred on first load (gzip, figures included):")
        for path, facts in visits.items():
            print(f"  /{path:<28} {facts['bytes']:>10,}")


@pytest.mark.parametrize("language, query, expected", [("", "dimenticanza", "/lstm/"), ("en/", "forget gate", "/en/lstm/")])
def test_search_works_offline_in_both_languages(server, browser, language, query, expected):
    page = browser.new_page()
    page.goto(server + language, wait_until="load")
    page.click("label.md-search__icon, .md-search__input", force=True)
    page.fill("input.md-search__input", query)
    page.wait_for_selector(".md-search-result__item", timeout=10_000)
    links = page.eval_on_selector_all(".md-search-result__item a", "els => els.map(a => a.href)")
    page.close()
    assert any(urlsplit(link).path == expected for link in links), links


def test_language_switcher_click_leads_to_the_same_page(server, browser):
    path = next((p for p in PAGES if p and not p.startswith("en/")), "")
    page = browser.new_page()
    page.goto(server + path, wait_until="load")
    href = page.get_attribute('a[hreflang="en"]', "href")
    page.goto(page.url if href is None else page.evaluate("h => new URL(h, location.href).href", href))
    assert page.url == server + "en/" + path
    page.close()


def test_notebook_pages_offer_ipynb_and_colab(server, browser):
    import nbformat

    notebooks = [p for p in PAGES if p.startswith(("labs/", "en/labs/")) and (SITE / p / "index.html").exists()]
    notebooks = [p for p in notebooks if "rnnbook-notebook-links" in (SITE / p / "index.html").read_text(encoding="utf-8")]
    assert notebooks, "no notebook page found"
    page = browser.new_page()
    for path in notebooks:
        page.goto(server + path, wait_until="load")
        download, colab = page.eval_on_selector_all(".rnnbook-notebook-links a", "els => els.map(a => a.href)")
        response = page.request.get(download)
        assert response.status == 200, download
        notebook = nbformat.reads(response.text(), as_version=4)
        nbformat.validate(notebook)
        assert urlsplit(colab).netloc == "colab.research.google.com"
        assert colab.endswith(path + Path(download).name)
    page.close()


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


@pytest.mark.parametrize("path", PAGES)
def test_internal_links_and_anchors_resolve_external_links_are_well_formed(path):
    source = SITE / path / "index.html"
    broken = []
    for href in parsed(source).hrefs:
        parts = urlsplit(href)
        if parts.scheme in ("http", "https"):
            if not re.match(r"^[\w.-]+\.[a-z]{2,}(:\d+)?$", parts.netloc):
                broken.append(f"malformed external link {href}")
            continue
        if parts.scheme or href.startswith("//"):
            continue  # mailto:, data: and the like
        target = (SITE / unquote(parts.path).lstrip("/")) if href.startswith("/") else (source.parent / unquote(parts.path))
        target = target.resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            broken.append(f"missing {href}")
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parsed(target).ids:
            broken.append(f"missing anchor {href}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("path", ["print/", "en/print/"])
def test_printable_book_holds_every_chapter_with_maths_figures_and_open_solutions(server, browser, visits, path):
    facts = visits[path]
    assert facts["katex"] > 100 and facts["katexFont"]
    assert not facts["brokenImages"]
    page = browser.new_page()
    page.goto(server + path, wait_until="load")
    page.emulate_media(media="print")
    titles = page.eval_on_selector_all("article h1", "els => els.map(e => e.textContent.trim())")
    figures = page.eval_on_selector_all("article figure img", "els => els.filter(i => i.naturalWidth > 0).length")
    closed = page.eval_on_selector_all("article details:not([open])", "els => els.length")
    nav_hidden = page.eval_on_selector(".md-sidebar--primary", "e => getComputedStyle(e).display === 'none'")
    page.close()
    assert len(titles) >= 7, titles
    assert figures >= 20
    assert closed == 0, "solutions must be open on paper"
    assert nav_hidden
