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
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
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


def book_environment() -> dict[str, str]:
    """This process's environment with the book's folder first on ``PYTHONPATH``.

    A process the hooks start (a notebook, a figure) then imports this book's
    ``rnnbook``, also in a copy of the book (``tests/test_machinery.py``).
    """
    path = os.pathsep.join(filter(None, [str(CONFIG_FILE.parent), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def in_background(name: str, target, *args) -> bool:
    """Run ``target(*args)`` in a daemon thread called ``name``, unless one by that name still runs.

    ``mkdocs serve`` computes what a page waits for (labs, figures) this way, one job of
    each kind at a time. Returns whether a thread was started.
    """
    if any(thread.name == name for thread in threading.enumerate()):
        return False
    threading.Thread(target=target, args=args, name=name, daemon=True).start()
    return True


def run_behind(args: list[str], **options) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` with :func:`book_environment`, at a lower priority where ``nice`` exists.

    ``mkdocs serve`` computes labs and figures this way while an author edits: the
    rebuild that shows an edit gets the cores first, and the background work takes
    what is left (its own processes inherit the priority). The process leads a
    process group of its own, so that :func:`stop_with_parent` can stop all it started;
    it stays in the server's session, whose scheduling group the priority is relative to
    (Linux's autogroup: in a session of its own, ``nice`` would count for nothing).
    """
    nice = ["nice", "-n", "10"] if shutil.which("nice") else []
    group = {"process_group": 0} if hasattr(os, "killpg") else {}
    return subprocess.run([*nice, sys.executable, *args], env=book_environment(), check=False, **group, **options)


def stop_with_parent(every: float = 1.0) -> None:
    """In a process started by :func:`run_behind`: stop it, and what it started, once its parent is gone.

    A server stopped by a signal other than Ctrl-C (an editor's stop button, ``kill``)
    would otherwise leave its background labs running for minutes.
    """
    if not hasattr(os, "killpg"):
        return
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(every)
        os.killpg(os.getpgrp(), signal.SIGTERM)

    threading.Thread(target=watch, name="rnnbook-parent-watch", daemon=True).start()
