"""MkDocs hook: each language searches its own pages.

mkdocs-static-i18n writes one search index for all languages
(``search/search_index.json``), and Material reads it from the site's root on every
page: an English reader who searched "gradient" got the Italian chapter first, and
every page load built a lunr index, with two stemmers, over both books.

After the build (once both languages are written) the index is split in two: the
Italian pages stay in ``search/search_index.json``, the English ones go to
``en/search/search_index.json``, each with its own language and with locations
relative to its own root. English pages tell Material that their site starts at
``en/`` (``base`` in the page's ``__config``), so their search box reads the English
index and links its results from there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from mkdocs.plugins import event_priority

from _book import languages

INDEX = Path("search") / "search_index.json"
CONFIG = re.compile(r'(<script id="__config" type="application/json">)(.*?)(</script>)', re.S)


def on_post_page(output, page, config):
    language = config["theme"]["language"]  # the language of the build this page is in
    if language == languages()[0]:
        return output

    def rebase(match):
        settings = json.loads(match.group(2))
        settings["base"] = settings["base"].rstrip("/") + f"/{language}/"
        return match.group(1) + json.dumps(settings, ensure_ascii=False) + match.group(3)

    rebased, count = CONFIG.subn(rebase, output)
    if count != 1:
        raise ValueError(f"{page.file.src_uri}: expected one Material __config script, found {count}")
    return rebased


def split(index: dict) -> dict[str, dict]:
    """Each language's index, from the combined one: ``{"it": {...}, "en": {...}}``.

    A page of a language other than the default lives under ``LANGUAGE/``.
    """
    default, *others = languages()
    docs = {language: [] for language in languages()}
    for doc in index["docs"]:
        language = next((code for code in others if doc["location"].startswith(f"{code}/")), default)
        prefix = "" if language == default else f"{language}/"
        docs[language].append({**doc, "location": doc["location"][len(prefix) :]})
    return {
        language: {"config": {**index["config"], "lang": [language]}, "docs": entries}
        for language, entries in docs.items()
    }


# After mkdocs-static-i18n's own post-build (priority -100), which builds the other
# language and then writes the combined index.
@event_priority(-110)
def on_post_build(config):
    if config.plugins["i18n"].building:
        return  # the other language's build, inside the default one's: the index is not final
    site = Path(config["site_dir"])  # the whole site's: the default language's build is the outer one
    combined = json.loads((site / INDEX).read_text(encoding="utf-8"))
    for language, index in split(combined).items():
        path = site / INDEX if language == languages()[0] else site / language / INDEX
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
