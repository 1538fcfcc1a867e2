"""MkDocs hook, under ``mkdocs serve`` only: a page whose inputs did not change is not converted again.

``mkdocs serve`` rebuilds every page of both languages at every save, and converting
the chapters' Markdown is most of a rebuild once the notebooks and the search come
from their caches. What ``Page.render`` produces is a function of the page's Markdown
(after the hooks that edit it: glossary, figures, objectives, reading time), its
address, the site's list of files (links are checked and rewritten against it), the
files its ``--8<--`` lines embed, the configuration, the hooks and the locked
environment. This hook keeps, in memory for the life of the server, the last
thing ``render`` produced for each page, with a key over all of these, and gives it
back while the key stays the same.

Never kept: a render that logged a warning (the next build says it again), the API
reference (mkdocstrings registers its cross-reference anchors while it renders) and
the notebook pages (``hooks/notebook_cache.py``). ``make build`` and ``make test``
never use this cache: they convert every page.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
from pathlib import Path

import _book
from mkdocs.plugins import event_priority

ROOT = Path(__file__).resolve().parents[1]
MKDOCSTRINGS = re.compile(r"^::: ", re.M)  # an autodoc block of mkdocstrings
SNIPPET = re.compile(r'--8<--\s+"([^":]+)')  # the file of an embed, --8<-- "rnnbook/rnn.py:step"

SERVING = False  # set by on_startup
KEPT: dict[str, tuple[str, dict]] = {}  # page -> (key, what render produced): the last version only
BUILD_KEY = ""  # this build's configuration, hooks, environment and list of files


def on_startup(command, dirty):
    global SERVING
    SERVING = command == "serve"


def _digest(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


@event_priority(-100)  # after every other hook and plugin has seen the files
def on_files(files, config):
    global BUILD_KEY
    if SERVING:
        sources = [
            ROOT / "mkdocs.yml",
            ROOT / "requirements.lock",
            *sorted((ROOT / "hooks").glob("*.py")),
        ]
        BUILD_KEY = _digest(
            *(path.read_bytes() for path in sources if path.exists()),
            config["theme"]["language"],
            *sorted(file.src_uri for file in files),
        )
    return files


class _Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.seen = False

    def emit(self, record):
        self.seen = True


def _kept(page) -> dict:
    return {
        "content": page.content,
        "toc": copy.deepcopy(page.toc),
        "title": page._title_from_render,
        "anchors": set(page.present_anchor_ids or ()),
        "links": None
        if page.links_to_anchors is None
        else {file.src_uri: dict(links) for file, links in page.links_to_anchors.items()},
    }


def _restore(page, kept: dict, files) -> None:
    page.content = kept["content"]
    page.toc = copy.deepcopy(kept["toc"])
    page._title_from_render = kept["title"]
    page.present_anchor_ids = set(kept["anchors"])
    if kept["links"] is not None:
        page.links_to_anchors = {files.get_file_from_path(uri): dict(links) for uri, links in kept["links"].items()}


@event_priority(-100)  # after mkdocs-jupyter, which gives notebook pages their own render
def on_pre_page(page, config, files):
    if not SERVING or _book.is_notebook(page.file.content_string):
        return page
    render = page.render

    def render_once(config, files):
        if MKDOCSTRINGS.search(page.markdown):
            return render(config, files)
        embedded = sorted(set(SNIPPET.findall(page.markdown)))
        files_read = [path.encode() + (ROOT / path).read_bytes() for path in embedded if (ROOT / path).is_file()]
        key = _digest(BUILD_KEY, page.file.src_uri, page.url, page.markdown, *files_read)
        if KEPT.get(page.file.src_uri, ("",))[0] == key:
            return _restore(page, KEPT[page.file.src_uri][1], files)
        warnings = _Warnings()
        logging.getLogger("mkdocs").addHandler(warnings)
        try:
            render(config, files)
        finally:
            logging.getLogger("mkdocs").removeHandler(warnings)
        if not warnings.seen:
            KEPT[page.file.src_uri] = (key, _kept(page))

    page.render = render_once
    return page
