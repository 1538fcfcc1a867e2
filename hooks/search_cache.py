"""MkDocs hook: a page's search entries are computed once per version of the page.

Material's search plugin reads every page's HTML at every build to split it into
sections (``SearchIndex.add_entry_from_context``), KaTeX's markup included: about a
third of a build whose notebooks are cached. This hook keeps the entries of each
page in ``.cache/rnnbook/search/KEY.json`` (beside the package's other caches,
:func:`rnnbook.cache.cache_dir`), under a key over everything the plugin reads
from the page: its HTML, address, title, metadata and table of contents. A page
that changes in any of them is read again; the others are copied from disk.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os

from material.plugins.search.plugin import SearchIndex

from rnnbook import cache


def _links(toc) -> list:
    return [[link.title, link.url, _links(link.children)] for link in toc]


def page_key(page) -> str:
    """SHA-256 over what Material's search reads from ``page``."""
    meta = {name: page.meta.get(name) for name in ("title", "tags", "search")}
    read = [page.content, page.url, str(page.title), repr(meta), _links(page.toc)]
    return hashlib.sha256(json.dumps(read, ensure_ascii=False).encode()).hexdigest()


def cached(add_entry_from_context):
    """Material's indexer of one page, reading and filling the cache."""

    @functools.wraps(add_entry_from_context)
    def add_page(index, page):
        path = cache.cache_dir() / "search" / f"{page_key(page)}.json"
        if path.exists():
            index.entries.extend(json.loads(path.read_text(encoding="utf-8")))
            return
        first = len(index.entries)
        add_entry_from_context(index, page)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(index.entries[first:], ensure_ascii=False), encoding="utf-8")
        partial.replace(path)

    add_page.uncached = add_entry_from_context
    return add_page


# Wrap the original once, should MkDocs load this hook again.
SearchIndex.add_entry_from_context = cached(
    getattr(SearchIndex.add_entry_from_context, "uncached", SearchIndex.add_entry_from_context)
)
