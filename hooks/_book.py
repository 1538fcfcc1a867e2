"""What the hooks know about the book's pages: languages, names, twins, notebooks, code.

Not a hook itself (``mkdocs.yml`` does not list it): the hooks import it. MkDocs puts a
hook's folder on ``sys.path`` while it loads the hook, so ``import _book`` works there;
the tests put ``hooks/`` on ``sys.path`` themselves.

The languages are those of the i18n plugin in ``mkdocs.yml``, the default first. A page
``X.md`` is in the default language, ``X.LANG.md`` in another (``docs_structure: suffix``).

>>> languages()
('it', 'en')
>>> language_of("labs/adding.en.md"), stem("labs/adding.en.md"), page_in("docs/rnn.md", "en")
('en', 'adding', PosixPath('docs/rnn.en.md'))
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from rnnbook.corpus import fenced_lines  # noqa: F401 (the book's one code-fence scanner)

CONFIG_FILE = Path(__file__).resolve().parents[1] / "mkdocs.yml"
# A notebook page (jupytext Markdown) starts with its YAML header.
NOTEBOOK = re.compile(r"\A---\s*\njupyter:")


class _IgnoreTags(yaml.SafeLoader):
    """mkdocs.yml's own tags (``!relative``) mean nothing here: read them as None."""


_IgnoreTags.add_multi_constructor("!", lambda loader, suffix, node: None)


@functools.cache
def languages(config_file: Path | str = CONFIG_FILE) -> tuple[str, ...]:
    """The book's language codes, the default first, from the i18n plugin of ``config_file``."""
    config = yaml.load(Path(config_file).read_text(encoding="utf-8"), Loader=_IgnoreTags)
    i18n = next(plugin["i18n"] for plugin in config["plugins"] if isinstance(plugin, dict) and "i18n" in plugin)
    ordered = sorted(i18n["languages"], key=lambda language: not language.get("default", False))
    return tuple(language["locale"] for language in ordered)


def language_of(path: Path | str) -> str:
    """The language of a page, from its file name."""
    name = Path(path).name
    return next((code for code in languages()[1:] if name.endswith(f".{code}.md")), languages()[0])


def stem(path: Path | str) -> str:
    """A page's name without folder, language or ``.md``: the same in every language."""
    name = Path(path).name.removesuffix(".md")
    language = language_of(path)
    return name if language == languages()[0] else name.removesuffix(f".{language}")


def page_in(path: Path | str, language: str) -> Path:
    """The path of the same page in ``language`` (which may be its own)."""
    suffix = ".md" if language == languages()[0] else f".{language}.md"
    return Path(path).with_name(stem(path) + suffix)


def is_notebook(markdown: str) -> bool:
    """Whether a page's Markdown is a notebook (jupytext header)."""
    return bool(NOTEBOOK.match(markdown))
