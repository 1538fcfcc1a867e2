"""MkDocs hook: every notebook page offers its ``.ipynb`` and an "Open in Colab" link.

Lab pages are jupytext Markdown (``docs/labs/NAME.md``), executed at build by
mkdocs-jupyter. This hook writes the same notebook as ``NAME.ipynb`` beside the
page in the built site (without outputs: the reader runs it) and puts two links
at the top of the page: the download, and Colab opening that file from the
published site's branch on GitHub (``extra.colab`` in ``mkdocs.yml``).

The notebook's first cell installs ``rnnbook`` when it runs on Colab, where the
package is not present; elsewhere it does nothing.

Before any page is read, the labs of this build's lab pages are computed, two at
a time in two processes, into the package's cache (``rnnbook.labs.precompute``):
the notebooks, executed one after another, then read their results from it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import _book

LABELS = {
    "it": ("Scarica il quaderno (.ipynb)", "Apri in Colab"),
    "en": ("Download the notebook (.ipynb)", "Open in Colab"),
}

INSTALL_CELL = """# On Colab, install the book's package first (elsewhere this cell does nothing).
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "rnnbook @ git+{repository}"
"""


def is_notebook(page) -> bool:
    return _book.is_notebook(Path(page.file.abs_src_path).read_text(encoding="utf-8"))


def notebook_name(page) -> str:
    return f"{_book.stem(page.file.src_uri)}.ipynb"


def _language(config) -> str:
    return config["theme"]["language"]


# nbconvert renders a Markdown cell's code block as <pre> without <code>; Material
# gives a copy button only to pre > code, so add the <code> element.
MARKDOWN_CODE = re.compile(r'(<div class="highlight"><pre>(?:<span></span>)?)(.*?)(</pre></div>)', re.S)


def on_startup(command, dirty):
    """Notebook kernels talk over local sockets (ipc), not TCP, where the platform has them.

    mkdocs-jupyter executes each notebook in a kernel started by ``jupyter_client``, over
    TCP by default, and the kernel then warns, once per notebook, that TCP is not
    encrypted: noise a newcomer takes for an error. On one machine, Unix sockets in the
    Jupyter runtime folder need no encryption, and the kernel does not warn.
    """
    if os.name == "posix":
        from jupyter_client.connect import ConnectionFileMixin

        ConnectionFileMixin.transport.default_value = "ipc"


def on_files(files, config):
    from rnnbook import labs

    pages = {_book.stem(file.src_uri) for file in files
             if file.src_uri.startswith("labs/") and file.src_uri.endswith(".md")}
    labs.precompute(sorted(pages & set(labs.LABS)))
    return files


def on_page_content(content, page, config, files):
    if not is_notebook(page):
        return content
    content = MARKDOWN_CODE.sub(r"\1<code>\2</code>\3", content)
    # A code cell scrolls sideways on a narrow screen: keyboard users reach it with Tab.
    content = content.replace('<div class="highlight-ipynb', '<div tabindex="0" class="highlight-ipynb')
    colab = config["extra"]["colab"]
    language = _language(config)
    ipynb = notebook_name(page)
    colab_url = f"{colab['base']}/{page.url}{ipynb}"  # page.url starts with en/ in English
    download, open_in_colab = LABELS[language]
    links = (
        f'<p class="rnnbook-notebook-links">'
        f'<a class="md-button" href="{ipynb}" download>{download}</a> '
        f'<a class="md-button" href="{colab_url}">{open_in_colab}</a></p>'
    )
    title_end = content.find("</h1>")
    if title_end < 0:
        return links + content
    return content[: title_end + 5] + links + content[title_end + 5 :]


def on_post_page(output, page, config):
    if is_notebook(page):
        import jupytext
        import nbformat

        notebook = jupytext.read(page.file.abs_src_path)
        repository = config["extra"]["colab"]["repository"]
        install = nbformat.v4.new_code_cell(INSTALL_CELL.format(repository=repository))
        notebook.cells.insert(0, install)
        target = Path(config["site_dir"]) / page.url / notebook_name(page)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
    return output
