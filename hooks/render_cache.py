"""MkDocs hook, under ``mkdocs serve`` only: a page whose inputs did not change is not converted again.

``mkdocs serve`` rebuilds every page of both languages at every save, and converting
the chapters' Markdown is most of a rebuild once the notebooks and the search come
from their caches. What ``Page.render`` produces is a function of the page's Markdown
(after the hooks that edit it: glossary, figures, objectives, reading time), its
address, the site's list of files (links are checked and rewritten against it), the
files its ``--8<--`` lines embed, the configuration, the hooks and the locked
environment. This hook keeps, in memory for the life of the server, the last
thing ``render`` produced for each page, with a key over all of these, and gives it
back while the key stays the same. What converting a page also tells autorefs (the
anchors of its headings, for cross-references) is told again from what was kept.

The API reference is converted at every build (mkdocstrings registers its objects
while it converts), but each of its ``:::`` blocks is kept the same way: the HTML
that mkdocstrings' Python handler renders for a module depends on the page's address,
the block's options and language, and the source of that module and of the package's
modules it imports (the objects it re-exports, the classes it extends), all in its
key. Editing one module renders again only the blocks that read it.

The Jinja templates (Material's pages, mkdocstrings' blocks) are compiled once for the
life of the server too, not at every build: Jinja reuses a compiled template only while
its source's checksum is the same, so an edited template is compiled again.

Never kept: a render that logged a warning (the next build says it again) and the
notebook pages (``hooks/notebook_cache.py``). ``make build`` and ``make test`` never
use this cache: they convert every page.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import re
from pathlib import Path

import _book
import jinja2
from mkdocs.plugins import event_priority

from rnnbook import cache

ROOT = Path(__file__).resolve().parents[1]
MKDOCSTRINGS = re.compile(r"^::: ", re.M)  # an autodoc block of mkdocstrings
SNIPPET = re.compile(r'--8<--\s+"([^":]+)')  # the file of an embed, --8<-- "rnnbook/rnn.py:step"

SERVING = False  # set by on_startup


class _Compiled(jinja2.BytecodeCache):
    """Compiled Jinja templates, in memory; Jinja checks each against its source's checksum."""

    def __init__(self):
        self.kept: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.kept:
            bucket.bytecode_from_string(self.kept[bucket.key])

    def dump_bytecode(self, bucket):
        self.kept[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = _Compiled()
KEPT: dict[str, tuple[str, dict]] = {}  # page -> (key, what render produced): the last version only
# (page address, object) -> (key, (HTML, headings, anchors)) for the API reference's blocks: the last version only
BLOCKS: dict[tuple[str, str], tuple[str, tuple]] = {}
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
        _keep_api_blocks(config.plugins["mkdocstrings"].handlers.get_handler("python"), config.plugins["autorefs"])
    return files


def on_env(env, config, files):
    if SERVING:
        env.bytecode_cache = TEMPLATES
    return env


class _Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.seen = False

    def emit(self, record):
        self.seen = True


@contextlib.contextmanager
def _recorded(autorefs):
    """Yield whether MkDocs logged a warning, and the anchors registered with ``autorefs``, meanwhile."""
    warnings, anchors = _Warnings(), []
    register = autorefs.register_anchor

    def register_and_record(page, identifier, anchor=None, *, title=None, primary=True):
        anchors.append((identifier, anchor, title, primary))
        register(page, identifier, anchor, title=title, primary=primary)

    autorefs.register_anchor = register_and_record
    logging.getLogger("mkdocs").addHandler(warnings)
    try:
        yield warnings, anchors
    finally:
        logging.getLogger("mkdocs").removeHandler(warnings)
        autorefs.register_anchor = register


def _register(autorefs, page, anchors) -> None:
    for identifier, anchor, title, primary in anchors:
        autorefs.register_anchor(page, identifier, anchor, title=title, primary=primary)


def _source_of(identifier: str) -> str:
    """A digest of the package source that the API docs of ``identifier`` are read from.

    Its module and the package's modules that module imports (``cache.modules_used``),
    and every module under it if it is a package.
    """
    parts = identifier.split(".")
    digest = cache.source_hash(*(".".join(parts[:k]) for k in range(1, len(parts) + 1)))
    path = cache.module_path(identifier)
    inside = sorted(path.parent.rglob("*.py")) if path.name == "__init__.py" else []
    return _digest(digest, *(str(module).encode() + module.read_bytes() for module in inside))


def _keep_api_blocks(handler, autorefs) -> None:
    """Make mkdocstrings' Python ``handler`` give back the HTML of a block whose key did not change.

    Besides the HTML, rendering leaves headings in ``handler._headings`` (mkdocstrings
    takes them for the page's table of contents, autorefs and the inventory) and may
    register anchors with ``autorefs``: both are kept and given back too.
    """
    handler.env.bytecode_cache = TEMPLATES
    render = handler.render

    def render_kept(data, options, locale=None):  # mkdocstrings passes locale only to a render that takes it
        page = autorefs.current_page
        key = _digest(BUILD_KEY, page.url, data.path, repr(options), str(locale), _source_of(data.path))
        kept_key, kept = BLOCKS.get((page.url, data.path), ("", None))
        if kept_key == key:
            html, headings, anchors = kept
            handler._headings.extend(copy.deepcopy(headings))
            _register(autorefs, page, anchors)
            return html
        before = len(handler._headings)
        with _recorded(autorefs) as (warnings, anchors):
            html = render(data, options, locale=locale)
        if not warnings.seen:
            BLOCKS[page.url, data.path] = (key, (html, copy.deepcopy(handler._headings[before:]), anchors))
        return html

    handler.render = render_kept


def _kept(page, anchors) -> dict:
    return {
        "anchors registered": anchors,
        "content": page.content,
        "toc": copy.deepcopy(page.toc),
        "title": page._title_from_render,
        "anchors": set(page.present_anchor_ids or ()),
        "links": None
        if page.links_to_anchors is None
        else {file.src_uri: dict(links) for file, links in page.links_to_anchors.items()},
    }


def _restore(page, kept: dict, config, files) -> None:
    _register(config.plugins["autorefs"], page, kept["anchors registered"])
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
            return _restore(page, KEPT[page.file.src_uri][1], config, files)
        with _recorded(config.plugins["autorefs"]) as (warnings, anchors):
            render(config, files)
        if not warnings.seen:
            KEPT[page.file.src_uri] = (key, _kept(page, anchors))

    page.render = render_once
    return page
