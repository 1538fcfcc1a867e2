"""MkDocs hook: place figures computed by ``rnnbook`` into the pages, with captions.

``![caption](rnnbook:NAME)`` becomes a ``<figure>`` holding the SVG drawn by
``rnnbook.figures.render_svg(NAME)`` (inlined as a data URI, so it works in
both languages and offline) and the caption, in the page's language. The
Markdown holds a short placeholder address and the data URI, tens of kilobytes,
replaces it in the page's HTML: every Markdown block processor would otherwise
scan it. Results are cached on disk by a key that includes the source of the
modules that draw the figure, so a rebuild is fast and never stale. An unknown
name or a figure that raises stops the build with the page and the figure's name.

Under ``mkdocs serve`` a figure that is not in the cache (its code was just
edited) does not hold the rebuild up: its caption stands with a notice, another
process draws it, and a write to a folder the server watches brings the page
back with the figure.

A hand-drawn diagram written on a line of its own,
``![caption](assets/diagrams/NAME.svg)``, gets the same ``<figure>`` with its
caption shown below it (Markdown alone would only put it in the alt text).
"""

from __future__ import annotations

import base64
import html
import logging
import re
from pathlib import Path

import _book
from mkdocs.exceptions import PluginError

from rnnbook import cache

FIGURE = re.compile(r"!\[(?P<caption>[^\]]+)\]\(rnnbook:(?P<name>\w+)\)")
# A hand-drawn diagram on a line of its own: ![caption](assets/diagrams/x.svg){ attributes }
DIAGRAM = re.compile(r"^!\[(?P<caption>[^\]]+)\]\((?P<src>[^)\s]+\.svg)\)(?P<attrs>\{[^}\n]*\})?[ \t]*$", re.M)


PLACEHOLDER = "rnnbook-figure:"
_PLACED = re.compile(rf'src="{PLACEHOLDER}(\w+)"')
FIGURE_DATA: dict[str, str] = {}  # name -> base64 SVG, filled while the Markdown is read

THREAD = "rnnbook-figures"
log = logging.getLogger("mkdocs.hooks.figures")
SERVING = False  # set by on_startup
MISSING: set[str] = set()  # figures shown as a notice, to draw in the background (mkdocs serve)
NOTICE = {
    "it": "La figura si sta disegnando: appare da sola appena è pronta.",
    "en": "The figure is being drawn: it appears by itself as soon as it is ready.",
}


def drawn_dir() -> Path:
    """The folder mkdocs serve watches for figures drawn in the background."""
    return cache.cache_dir() / "figures-drawn"


def _alt(caption: str) -> str:
    """Plain text for the alt attribute: the caption without maths delimiters."""
    return html.escape(re.sub(r"\\[()\[\]]|\$", "", caption), quote=True)


def on_page_markdown(markdown, page, config, files):
    from rnnbook.figures import FIGURES, render_svg

    def place(match):
        name = match.group("name")
        caption = match.group("caption")
        if SERVING and name in FIGURES and not render_svg.is_cached(name):
            MISSING.add(name)
            notice = NOTICE[_book.language_of(page.file.src_uri)]
            return (
                f'<figure class="rnnbook-figure" markdown>\n<p>{notice}</p>\n'
                f'<figcaption markdown="span">{caption}</figcaption>\n</figure>'
            )
        try:
            svg = render_svg(name)
        except Exception as error:
            raise PluginError(f"{page.file.src_uri}: figure {name!r} failed: {error}") from error
        FIGURE_DATA[name] = base64.b64encode(svg.encode()).decode()
        return (
            f'<figure class="rnnbook-figure" markdown>\n'
            f'<img src="{PLACEHOLDER}{name}" alt="{_alt(caption)}">\n'
            f'<figcaption markdown="span">{caption}</figcaption>\n</figure>'
        )

    def caption(match):
        text = match.group("caption")
        return (
            f'<figure class="rnnbook-figure" markdown="span">\n'
            f"![{_alt(text)}]({match.group('src')}){match.group('attrs') or ''}\n"
            f'<figcaption markdown="span">{text}</figcaption>\n</figure>'
        )

    return DIAGRAM.sub(caption, FIGURE.sub(place, markdown))


def on_page_content(content, page, config, files):
    return _PLACED.sub(lambda match: f'src="data:image/svg+xml;base64,{FIGURE_DATA[match.group(1)]}"', content)


def on_startup(command, dirty):
    global SERVING
    SERVING = command == "serve"


def on_serve(server, config, builder):
    drawn_dir().mkdir(parents=True, exist_ok=True)
    server.watch(str(drawn_dir()))
    return server


def on_post_build(config):
    """While serving, draw in another process the figures this build showed a notice for."""
    if MISSING and _book.in_background(THREAD, draw, sorted(MISSING)):
        MISSING.clear()


def draw(names: list[str]) -> None:
    """Draw ``names`` into the cache in a new process of lower priority, then write to the watched folder."""
    code = "import sys\nfrom rnnbook.figures import render_svg\nfor name in sys.argv[1:]:\n    render_svg(name)\n"
    if _book.run_behind(["-c", code, *names]).returncode:
        log.error(f"Drawing the figures {', '.join(names)} failed: the error is printed above.")
    drawn_dir().mkdir(parents=True, exist_ok=True)
    (drawn_dir() / "drawn").write_text(" ".join(names) + "\n", encoding="utf-8")
