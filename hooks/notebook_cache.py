"""MkDocs hook: a lab's notebook runs once for what it depends on, not at every build.

mkdocs-jupyter executes a notebook page (``docs/labs/NAME.md``) whenever the page is
rendered, and its own cache is keyed by the notebook's text only (``cache: false``
in ``mkdocs.yml``): with it a page would show the outputs of old code. This hook
keeps the executed page in ``.cache/rnnbook/notebooks/KEY.html`` (beside the labs'
results, :func:`rnnbook.cache.cache_dir`), under a key over everything the outputs
depend on (:func:`notebook_key`): the notebook's text, the conversion options, the
locked environment, the source of every ``rnnbook`` module the notebook imports,
directly or through others (:func:`rnnbook.cache.modules_used`), and the package's
data. Edit one of them and the page runs again; edit anything else (a chapter, a
module the lab does not use) and the page is read back from disk.

``mkdocs build`` (``make build``, ``make test``) fills what is missing before any
page is rendered: the labs' results (:func:`rnnbook.labs.precompute`, two
processes), then the notebooks of every language, two at a time. A notebook that
fails stops the build, as ``allow_errors: false`` wants, and nothing is cached.

``mkdocs serve`` never waits for a notebook: a page whose notebook is not cached
shows a notice, the server answers as soon as the rest is built, and a process of
lower priority computes the missing labs and notebooks in the background. Each
page it finishes is written to a folder the server watches, so the site is rebuilt
and the open page reloads by itself, now with its outputs.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import _book
import jupytext
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs_jupyter import convert

from rnnbook import cache

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("mkdocs.hooks.notebook_cache")
LOCK = ROOT / "requirements.lock"
THREAD = "rnnbook-notebooks"

# mkdocs-jupyter's options that reach its converter (plugin.py, on_pre_page).
CONVERSION_OPTIONS = (
    "execute",
    "kernel_name",
    "theme",
    "allow_errors",
    "show_input",
    "no_input",
    "no_prompt",
    "remove_tag_config",
    "highlight_extra_classes",
    "include_requirejs",
    "custom_mathjax_url",
)

NOTICE = {
    "it": (
        "Calcolo in corso",
        "Questo laboratorio si sta calcolando sul tuo computer, la prima volta che lo apri: la pagina si "
        "aggiorna da sola appena i risultati sono pronti. Le altre pagine si leggono già.",
    ),
    "en": (
        "Computing",
        "This lab is being computed on your computer, the first time you open it: the page updates by "
        "itself as soon as its results are ready. The other pages can be read already.",
    ),
}


def notebooks_dir() -> Path:
    return cache.cache_dir() / "notebooks"


def rnnbook_imports(path: Path | str) -> list[str]:
    """The ``rnnbook`` modules that the code cells of the notebook at ``path`` import.

    A cell that is not valid Python (a syntax error) is skipped: running it fails
    the build, so its page is never cached.
    """
    names = set()
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return sorted(name for name in names if name.split(".")[0] == cache.PACKAGE)


def notebook_key(path: Path | str, options: dict) -> str:
    """SHA-256 over what the executed notebook at ``path`` depends on.

    Its text, the converter's ``options``, the environment (``requirements.lock``
    and the Python version), the source of the package's modules it uses and the
    package's data files (the corpus the language labs read).
    """
    digest = hashlib.sha256()
    digest.update(Path(path).read_bytes())
    digest.update(repr(sorted(options.items())).encode())
    digest.update(sys.version.encode())
    digest.update(LOCK.read_bytes() if LOCK.exists() else b"")
    digest.update(cache.source_hash(*rnnbook_imports(path)).encode())
    for data in sorted((cache.PACKAGE_DIR / "data").rglob("*")):
        if data.is_file():
            digest.update(str(data.relative_to(cache.PACKAGE_DIR)).encode())
            digest.update(data.read_bytes())
    return digest.hexdigest()


def entry(path: Path | str, options: dict) -> Path:
    key = KEYS.get((str(path), repr(options))) or notebook_key(path, options)
    KEYS[str(path), repr(options)] = key
    return notebooks_dir() / f"{key}.html"


def execute(path: Path | str, options: dict, nb2html) -> str:
    """Run the notebook at ``path`` through mkdocs-jupyter's ``nb2html`` and cache its page."""
    target = entry(path, options)
    body = nb2html(str(path), **options)
    _write(target, body)
    return body


def _write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)  # whole files only: mkdocs serve watches the folder


def notice(path: Path | str) -> str:
    title, text = NOTICE[_book.language_of(path)]
    return f'<div class="admonition info"><p class="admonition-title">{title}</p><p>{text}</p></div>'


def cached(nb2html):
    """mkdocs-jupyter's converter, reading and filling the cache (a notice while serving)."""

    @functools.wraps(nb2html)
    def convert_notebook(nb_path, **options):
        target = entry(nb_path, options)
        if target.exists():
            return target.read_text(encoding="utf-8")
        if SERVING:
            MISSING.update(str(_book.page_in(nb_path, language)) for language in _book.languages())
            return notice(nb_path)
        return execute(nb_path, options, nb2html)

    convert_notebook.uncached = nb2html
    return convert_notebook


def cached_markdown(nb2md):
    """mkdocs-jupyter's Markdown export of a notebook, cached by the notebook's text.

    The plugin reads each notebook page's table of contents from it at every
    build; unexecuted, it depends on nothing else (and the environment).
    """

    @functools.wraps(nb2md)
    def to_markdown(nb_path, **options):
        if options.get("execute"):
            return nb2md(nb_path, **options)
        digest = hashlib.sha256(Path(nb_path).read_bytes())
        digest.update(repr(sorted(options.items())).encode())
        digest.update(LOCK.read_bytes() if LOCK.exists() else b"")
        target = cache.cache_dir() / "notebook-markdown" / f"{digest.hexdigest()}.md"  # not watched
        if target.exists():
            return target.read_text(encoding="utf-8")
        text = nb2md(nb_path, **options)
        _write(target, text)
        return text

    to_markdown.uncached = nb2md
    return to_markdown


# Wrap the originals once, should MkDocs load this hook again.
convert.nb2html = cached(getattr(convert.nb2html, "uncached", convert.nb2html))
convert.nb2md = cached_markdown(getattr(convert.nb2md, "uncached", convert.nb2md))
SERVING = False  # set by on_startup
KEYS: dict[tuple[str, str], str] = {}  # this build's keys: a build asks for each several times
MISSING: set[str] = set()  # the notebooks shown as a notice, to compute in the background (mkdocs serve)


def fill(paths, options: dict, processes: int = 2) -> None:
    """Compute the labs of the notebooks at ``paths``, then run those not cached, ``processes`` at a time.

    Each process runs its share of the notebooks one after another (this file
    as a script): mkdocs-jupyter's converter keeps global state, so two
    notebooks never share a process.
    """
    todo = [str(path) for path in paths if not entry(path, options).exists()]
    if not todo:
        return
    from rnnbook import labs  # imports PyTorch: only when there is work

    labs.precompute(sorted({_book.stem(path) for path in todo} & set(labs.LABS)))
    shares = [todo[k::processes] for k in range(processes) if todo[k::processes]]
    with ThreadPoolExecutor(max(len(shares), 1)) as pool:
        list(pool.map(lambda share: _run(share, options), shares))


def _run(paths: list[str], options: dict) -> None:
    """Run the notebooks at ``paths`` in a new process, in an empty folder of its own.

    The folder keeps two kernels' local sockets apart (``kernel-ipc-N``), and a
    notebook sees what a reader's copy sees: no files beside it.
    """
    with tempfile.TemporaryDirectory(prefix="rnnbook-notebooks-") as folder:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), json.dumps(options), *paths],
            cwd=folder,
            env=_book.book_environment(),
            check=False,
        )
    if done.returncode:
        raise PluginError(f"A notebook of {', '.join(paths)} failed: its error is printed above.")


def conversion_options(config) -> dict:
    plugin = config.plugins["mkdocs-jupyter"].config
    return {name: plugin[name] for name in CONVERSION_OPTIONS}


def notebook_pages(files, config) -> list[str]:
    """The notebook pages of this build and their twins in every language."""
    plugin = config.plugins["mkdocs-jupyter"]
    notebooks = [
        file
        for file in files.documentation_pages()
        if _book.is_notebook(file.content_string) and plugin.should_include(file)
    ]
    return sorted(
        {str(_book.page_in(file.abs_src_path, language)) for file in notebooks for language in _book.languages()}
    )


def local_kernels() -> None:
    """Notebook kernels talk over local sockets (ipc), not TCP, where the platform has them.

    A kernel started by ``jupyter_client`` listens on TCP by default and then warns,
    once per notebook, that TCP is not encrypted: noise a newcomer takes for an
    error. On one machine, Unix sockets in the Jupyter runtime folder need no
    encryption, and the kernel does not warn.
    """
    if os.name == "posix":
        from jupyter_client.connect import ConnectionFileMixin

        ConnectionFileMixin.transport.default_value = "ipc"


def on_startup(command, dirty):
    global SERVING
    SERVING = command == "serve"
    local_kernels()


def on_pre_build(config):
    KEYS.clear()  # a file may have changed since the last build (mkdocs serve)


@event_priority(100)  # before mkdocs-jupyter wraps the pages
def on_files(files, config):
    if not SERVING:
        fill(notebook_pages(files, config), conversion_options(config))
    return files


def on_serve(server, config, builder):
    notebooks_dir().mkdir(parents=True, exist_ok=True)
    server.watch(str(notebooks_dir()))
    return server


def on_post_build(config):
    """While serving, compute in the background what this build showed a notice for."""
    if MISSING and _book.in_background(THREAD, fill_in_background, sorted(MISSING), conversion_options(config)):
        MISSING.clear()


def fill_in_background(paths, options: dict) -> None:
    """:func:`fill` in a process of lower priority, then one more write to the watched folder.

    The server goes on meanwhile (the author reads in its log why a lab failed), and
    the last write brings a rebuild that reads every entry.
    """
    try:
        if _book.run_behind([str(Path(__file__).resolve()), "fill", json.dumps(options), *paths]).returncode:
            log.error("The labs could not be computed: the error is printed above.")
    finally:
        _write(notebooks_dir() / "filled", f"{len(paths)} notebooks\n")


if __name__ == "__main__":
    # python notebook_cache.py fill OPTIONS_JSON NOTEBOOK...: fill_in_background's process
    # python notebook_cache.py OPTIONS_JSON NOTEBOOK...: one of fill's workers
    local_kernels()
    if sys.argv[1] == "fill":
        _book.stop_with_parent()
        fill(sys.argv[3:], json.loads(sys.argv[2]))
    else:
        for notebook in sys.argv[2:]:
            execute(notebook, json.loads(sys.argv[1]), convert.nb2html.uncached)
