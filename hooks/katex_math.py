"""MkDocs hook: render every formula with KaTeX at build time.

The pages are written with pymdownx.arithmatex in generic mode, which wraps
inline maths in ``<span class="arithmatex">\\(...\\)</span>`` and display maths
in ``<div class="arithmatex">\\[...\\]</div>``. This hook replaces each one
with KaTeX's HTML (and MathML for screen readers), computed here by the KaTeX
JavaScript library running in an embedded V8 (mini-racer). The reader's browser
only needs ``assets/katex/katex.min.css`` and the fonts beside it: no CDN and
no JavaScript at view time, so the book works offline in a classroom.

A formula KaTeX cannot parse stops the build with the page and the formula.
Notebook pages (mkdocs-jupyter) get the same treatment: their MathJax loader,
which points to a CDN, is removed and ``$...$`` / ``$$...$$`` in Markdown
cells are rendered here.
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

KATEX_JS = Path(__file__).with_name("vendor") / "katex.min.js"

# Notation shared by all chapters and both languages.
MACROS = {
    r"\R": r"\mathbb{R}",
    r"\diag": r"\operatorname{diag}",
    r"\norm": r"\left\lVert #1 \right\rVert",
}

_INLINE = re.compile(r'<span class="arithmatex">\\\((.+?)\\\)</span>', re.S)
_DISPLAY = re.compile(r'<div class="arithmatex">\\\[(.+?)\\\]</div>', re.S)
_MATHJAX_BLOCK = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
# nbconvert's loader for Mermaid diagrams imports them from a CDN: the book has none.
_MERMAID_LOADER = re.compile(r'<script type="module">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*?</script>', re.S)
_NB_MARKDOWN_CELL = re.compile(r'<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^"]*"[^>]*>')
_DIV_TAG = re.compile(r"<(/?)div\b[^>]*>")
# Code in a Markdown cell is shown as written: a shell prompt's $ is not maths.
_NB_CODE = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>)", re.S)
_NB_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_NB_INLINE = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$")

_context = None


def _katex():
    global _context
    if _context is None:
        from py_mini_racer import MiniRacer

        _context = MiniRacer()
        _context.eval(KATEX_JS.read_text(encoding="utf-8"))
    return _context


@functools.lru_cache(maxsize=None)
def _render(tex: str, display: bool) -> str:
    """KaTeX's HTML for ``tex``; the same formula in both languages is rendered once.

    KaTeX writes each formula twice, as MathML for screen readers and as HTML for
    the eye. The search index should hold it once: Material's search skips an
    element marked ``data-search-exclude`` (and strips the mark from the page), so
    the MathML copy is marked and the index keeps the text a reader sees.
    """
    options = {"displayMode": display, "throwOnError": True, "macros": dict(MACROS)}
    rendered = _katex().call("katex.renderToString", tex, options)
    return rendered.replace("<math", '<math data-search-exclude="mathml"', 1)


def render(tex: str, display: bool, where: str = "") -> str:
    """Return KaTeX's HTML for ``tex``; raise PluginError if it cannot be parsed."""
    try:
        return _render(tex, display)
    except Exception as error:  # the JS exception carries KaTeX's message
        found = re.search(r"KaTeX parse error:[^\n]*", str(error))
        reason = found.group(0) if found else str(error).splitlines()[0][:300]
        raise PluginError(f"{where}: cannot render the formula {tex.strip()!r}: {reason}") from None


def _render_display(tex, where):
    return f'<div class="math-display">{render(tex, True, where)}</div>'


def render_arithmatex(content: str, where: str) -> str:
    """Replace arithmatex's generic output in ``content`` by rendered maths."""
    content = _DISPLAY.sub(lambda m: _render_display(html.unescape(m.group(1)), where), content)
    return _INLINE.sub(lambda m: render(html.unescape(m.group(1)), False, where), content)


def render_notebook(content: str, where: str) -> str:
    """Drop a notebook page's CDN loaders (MathJax, Mermaid) and render its Markdown cells' maths.

    A cell runs to the ``</div>`` that closes its own ``<div>`` (it may hold others,
    admonitions for one); ``$...$`` inside ``<pre>`` or ``<code>`` is left as written.
    """
    content = _MATHJAX_BLOCK.sub("", content)
    content = _MERMAID_LOADER.sub("", content)
    parts, position = [], 0
    for opening in _NB_MARKDOWN_CELL.finditer(content):
        if opening.start() < position:
            continue  # inside the previous cell
        end = _closing_div(content, opening.end(), where)
        parts += [content[position : opening.end()], _render_cell(content[opening.end() : end], where)]
        position = end
    return "".join(parts) + content[position:]


def _closing_div(content: str, start: int, where: str) -> int:
    """Where the ``</div>`` closing a ``<div>`` opened just before ``start`` begins."""
    depth = 1
    for tag in _DIV_TAG.finditer(content, start):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.start()
    raise PluginError(f"{where}: a notebook Markdown cell has no closing </div>")


def _render_cell(body: str, where: str) -> str:
    """Render ``$$...$$`` and ``$...$`` in a Markdown cell's HTML, outside its code."""
    pieces = _NB_CODE.split(body)  # text, code, text, code, ..., text
    for k in range(0, len(pieces), 2):
        text = _NB_DISPLAY.sub(lambda m: _render_display(html.unescape(m.group(1)), where), pieces[k])
        pieces[k] = _NB_INLINE.sub(lambda m: render(html.unescape(m.group(1)), False, where), text)
    return "".join(pieces)


def _close():
    """Free V8 while the interpreter is alive: left to exit-time garbage collection,
    mini-racer waits forever on its own thread and the process never ends."""
    global _context
    if _context is not None:
        _context.close()
        _context = None


def on_post_build(config):
    _close()


def on_build_error(error):
    _close()


def on_page_content(content, page, config, files):
    where = page.file.src_uri
    if "jp-Notebook" in content or "Load mathjax" in content:
        content = render_notebook(content, where)
    return render_arithmatex(content, where)
