"""MkDocs hook: place figures computed by ``rnnbook`` into the pages, with captions.

``![caption](rnnbook:NAME)`` becomes a ``<figure>`` holding the SVG drawn by
``rnnbook.figures.render_svg(NAME)`` (inlined as a data URI, so it works in
both languages and offline) and the caption, in the page's language. The
Markdown holds a short placeholder address and the data URI, tens of kilobytes,
replaces it in the page's HTML: every Markdown block processor would otherwise
scan it. Results
are cached on disk by a key that includes the source of the modules that draw
the figure, so a rebuild
is fast and never stale. An unknown name or a figure that raises stops the
build with the page and the figure's name.

A hand-drawn diagram written on a line of its own,
``![caption](assets/diagrams/NAME.svg)``, gets the same ``<figure>`` with its
caption shown below it (Markdown alone would only put it in the alt text).
"""

from __future__ import annotations

import base64
import html
import re

from mkdocs.exceptions import PluginError

FIGURE = re.compile(r"!\[(?P<caption>[^\]]+)\]\(rnnbook:(?P<name>\w+)\)")
# A hand-drawn diagram on a line of its own: ![caption](assets/diagrams/x.svg){ attributes }
DIAGRAM = re.compile(r"^!\[(?P<caption>[^\]]+)\]\((?P<src>[^)\s]+\.svg)\)(?P<attrs>\{[^}\n]*\})?[ \t]*$", re.M)


PLACEHOLDER = "rnnbook-figure:"
_PLACED = re.compile(rf'src="{PLACEHOLDER}(\w+)"')
FIGURE_DATA: dict[str, str] = {}  # name -> base64 SVG, filled while the Markdown is read


def _alt(caption: str) -> str:
    """Plain text for the alt attribute: the caption without maths delimiters."""
    return html.escape(re.sub(r"\\[()\[\]]|\$", "", caption), quote=True)


def on_page_markdown(markdown, page, config, files):
    from rnnbook.figures import render_svg

    def place(match):
        name = match.group("name")
        try:
            svg = render_svg(name)
        except Exception as error:
            raise PluginError(f"{page.file.src_uri}: figure {name!r} failed: {error}") from error
        FIGURE_DATA[name] = base64.b64encode(svg.encode()).decode()
        caption = match.group("caption")
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
