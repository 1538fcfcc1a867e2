"""The KaTeX hook's handling of notebook pages (the chapters are covered by the site tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hooks"))
import katex_math  # noqa: E402

CELL = '<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput" data-mime-type="text/markdown">'


def test_maths_in_a_markdown_cell_is_rendered_with_nested_divs_and_code_left_alone():
    page = (
        f"{CELL}<p>Loss $L = x^2$</p>"
        '<div class="admonition"><p>inside $a$</p></div>'
        "<p>after the admonition $b$, and <code>echo $HOME $PATH</code></p>"
        "<pre><code>$ rnnbook run adding  # $seed</code></pre>"
        "$$c = 1$$</div>"
        '<div class="jp-Cell"><pre>print("$5 and $6")</pre></div>'
    )
    out = katex_math.render_notebook(page, "lab.md")
    assert out.count('class="katex"') == 4  # L, a, b and c
    assert "<code>echo $HOME $PATH</code>" in out
    assert "<pre><code>$ rnnbook run adding  # $seed</code></pre>" in out
    assert '<pre>print("$5 and $6")</pre>' in out  # a code cell is not a Markdown cell
    assert 'class="math-display"' in out


def test_cdn_loaders_are_dropped():
    page = "<!-- Load mathjax --><script src='https://cdn'></script><!-- End of mathjax configuration -->ok"
    assert katex_math.render_notebook(page, "lab.md") == "ok"


def test_an_unclosed_cell_and_bad_maths_stop_the_build():
    with pytest.raises(PluginError, match="no closing"):
        katex_math.render_notebook(f"{CELL}<p>$a$</p>", "lab.md")
    with pytest.raises(PluginError, match=r"lab.md: cannot render the formula '\\\\frac\{'"):
        katex_math.render_notebook(f"{CELL}<p>$\\frac{{$</p></div>", "lab.md")


@pytest.fixture(autouse=True, scope="module")
def close_v8():
    yield
    katex_math._close()
