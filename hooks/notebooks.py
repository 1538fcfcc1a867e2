"""MkDocs hook: every notebook page offers its ``.ipynb`` and an "Open in Colab" link.

Lab pages are jupytext Markdown (``docs/labs/NAME.md``), executed at build by
mkdocs-jupyter. This hook writes the same notebook as ``NAME.ipynb`` beside the
page in the built site (without outputs: the reader runs it) and puts links at
the top of the page: the download, and Colab opening that file.

What depends on where the book is published comes from ``repo_url`` and
``site_url`` in ``mkdocs.yml``, and is left out when they are not set:

* ``repo_url`` set: the notebook's first cell installs ``rnnbook`` from that
  repository when it runs on Colab (elsewhere it does nothing); if the repository
  is on GitHub, Colab opens the notebook from its ``gh-pages`` branch, where the
  publishing workflow keeps the built site (``.github/workflows/pages.yml``);
* ``site_url`` set: the notebook opens with a link to its page in the book.

Executing the notebooks, and caching what they show, is ``hooks/notebook_cache.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import _book

LABELS = {
    "it": ("Scarica il notebook (.ipynb)", "Apri in Colab"),
    "en": ("Download the notebook (.ipynb)", "Open in Colab"),
}

# The first cell of a downloaded notebook when site_url is set.
PAGE_LINK = {
    "it": "Questo notebook è una pagina del libro: [{url}]({url})",
    "en": "This notebook is a page of the book: [{url}]({url})",
}

INSTALL_CELL = """# On Colab, install the book's package first (elsewhere this cell does nothing).
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "rnnbook @ git+{repository}"
"""

GITHUB = re.compile(r"\Ahttps://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?\Z")


def repository(config):
    """The book's repository, ``repo_url`` of mkdocs.yml without a trailing slash, or None."""
    return (config.get("repo_url") or "").rstrip("/") or None


def colab_url(config, page):
    """Colab's address of the page's notebook on the repository's gh-pages branch, or None.

    None when ``repo_url`` is not set or is not a GitHub repository (Colab opens
    notebooks from GitHub).
    """
    match = GITHUB.match(repository(config) or "")
    if not match:
        return None
    owner, name = match.groups()
    # page.url starts with en/ in English
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/gh-pages/{page.url}{notebook_name(page)}"


def is_notebook(page) -> bool:
    return _book.is_notebook(Path(page.file.abs_src_path).read_text(encoding="utf-8"))


def notebook_name(page) -> str:
    return f"{_book.stem(page.file.src_uri)}.ipynb"


def _language(config) -> str:
    return config["theme"]["language"]


# nbconvert renders a Markdown cell's code block as <pre> without <code>; Material
# gives a copy button only to pre > code, so add the <code> element.
MARKDOWN_CODE = re.compile(r'(<div class="highlight"><pre>(?:<span></span>)?)(.*?)(</pre></div>)', re.S)


def on_page_content(content, page, config, files):
    if not is_notebook(page):
        return content
    content = MARKDOWN_CODE.sub(r"\1<code>\2</code>\3", content)
    # A code cell scrolls sideways on a narrow screen: keyboard users reach it with Tab.
    content = content.replace('<div class="highlight-ipynb', '<div tabindex="0" class="highlight-ipynb')
    download, open_in_colab = LABELS[_language(config)]
    links = f'<a class="md-button" href="{notebook_name(page)}" download>{download}</a>'
    colab = colab_url(config, page)
    if colab:
        links += f' <a class="md-button" href="{colab}">{open_in_colab}</a>'
    links = f'<p class="rnnbook-notebook-links">{links}</p>'
    title_end = content.find("</h1>")
    if title_end < 0:
        return links + content
    return content[: title_end + 5] + links + content[title_end + 5 :]


def on_post_page(output, page, config):
    if is_notebook(page):
        import jupytext
        import nbformat

        notebook = jupytext.read(page.file.abs_src_path)
        if repository(config):
            notebook.cells.insert(0, nbformat.v4.new_code_cell(INSTALL_CELL.format(repository=repository(config))))
        if page.canonical_url:  # site_url is set
            from_the_book = PAGE_LINK[_language(config)].format(url=page.canonical_url)
            notebook.cells.insert(0, nbformat.v4.new_markdown_cell(from_the_book))
        for number, cell in enumerate(notebook.cells):
            cell.id = f"cell-{number}"  # nbformat draws ids at random: the same download at every build
        target = Path(config["site_dir"]) / page.url / notebook_name(page)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
    return output
