"""Every page exists in both languages with the same skeleton (hooks/parity.py)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hooks"))
import parity  # noqa: E402


def test_every_page_has_its_twin_with_the_same_skeleton():
    problems = parity.differences(ROOT / "docs")
    assert not problems, "The two languages differ:\n" + "\n".join(problems)


def test_skeleton_ignores_hashes_inside_code_and_counts_what_matters():
    text = (
        "# Title\n\n## A\n\n```python\n# not a heading\n--8<-- \"rnnbook/rnn.py:step\"\n```\n\n"
        "$$\nx\n$$\n\n![c](rnnbook:activations)\n\n??? success \"Soluzione\"\n    text\n"
    )
    found = parity.skeleton(text)
    assert found["headings"] == [1, 2]
    assert found["snippets"] == ["rnnbook/rnn.py:step"]
    assert found["code blocks"] == ["python"]
    assert found["equations"] == ["$$"]
    assert found["images"] == ["rnnbook:activations"]
    assert found["blocks"] == ["??? success"]


def test_differences_are_listed_by_part(tmp_path):
    (tmp_path / "a.md").write_text("# T\n\n## S\n", encoding="utf-8")
    (tmp_path / "a.en.md").write_text("# T\n\n### S\n", encoding="utf-8")
    (tmp_path / "b.en.md").write_text("# T\n", encoding="utf-8")
    assert parity.differences(tmp_path) == [
        "b.en.md has no it twin b.md",
        "a.md and a.en.md differ in headings: it [1, 2], en [1, 3]",
    ]


def test_the_hooks_book_helper():
    """hooks/_book.py: languages from mkdocs.yml, page names, twins, one fence scanner."""
    import doctest

    import _book

    assert doctest.testmod(_book).failed == 0
    assert _book.languages() == ("it", "en")
    assert [_book.stem(p) for p in ("rnn.md", "labs/sine.en.md")] == ["rnn", "sine"]
    assert _book.page_in("docs/labs/sine.en.md", "it") == Path("docs/labs/sine.md")
    assert _book.is_notebook("---\njupyter:\n") and not _book.is_notebook("# Title\n---\njupyter:\n")


def test_a_four_backtick_block_may_show_a_three_backtick_one():
    text = "# T\n\n````markdown\n```python\n# not a heading\n```\n````\n\n## S\n"
    found = parity.skeleton(text)
    assert found["headings"] == [1, 2] and found["code blocks"] == ["markdown"]
