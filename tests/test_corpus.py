"""Tests of the character corpus: reading the pages, vocabulary, truncated-BPTT batching."""

from pathlib import Path

import numpy as np
import pytest

from rnnbook import corpus

ROOT = Path(__file__).resolve().parents[1]

PAGE_IT = """---
title: Reti ricorrenti
---
# Reti ricorrenti

Una rete *ricorrente* ricorda lo stato.
<!-- nota nascosta -->

```python
--8<-- "rnnbook/rnn.py:step"
x = 1
```

!!! note "Nota"
    Vedi il [capitolo](lstm.md) e <span class="x">questo</span>.

![figura](img.png)
--8<-- "docs/snippets/abbr.md"

::: rnnbook.rnn
"""

PAGE_EN = "# Recurrent networks\n\nA recurrent net keeps a state.\n"


@pytest.fixture
def docs(tmp_path):
    (tmp_path / "index.md").write_text(PAGE_IT, encoding="utf-8")
    (tmp_path / "index.en.md").write_text(PAGE_EN, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("Seconda pagina.\n", encoding="utf-8")
    return tmp_path


def test_markdown_prose_keeps_only_prose():
    text = corpus.markdown_prose(PAGE_IT)
    assert "Una rete *ricorrente* ricorda lo stato." in text
    assert "Vedi il capitolo e questo." in text
    for gone in ("title:", "x = 1", "--8<--", "nascosta", "<span", "img.png", "!!!", "lstm.md", ":::"):
        assert gone not in text


def test_pages_by_language(docs):
    def names(lang):
        return [p.relative_to(docs).as_posix() for p in corpus.book_pages(docs, lang)]

    assert names("it") == ["index.md", "sub/b.md"]
    assert names("en") == ["index.en.md"]
    assert names("both") == ["index.en.md", "index.md", "sub/b.md"]
    assert corpus.load_book_text(docs, "en") == corpus.markdown_prose(PAGE_EN)
    both = corpus.load_book_text(docs)
    assert "keeps a state" in both and "ricorda lo stato" in both and "Seconda" in both


def test_missing_or_empty_docs(tmp_path):
    with pytest.raises(FileNotFoundError, match="docs_dir: expected a folder.*does not exist"):
        corpus.book_pages(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match=r"docs_dir: expected Markdown pages \(en\).*found none"):
        corpus.book_pages(tmp_path, "en")
    with pytest.raises(ValueError, match="language"):
        corpus.book_pages(tmp_path, "fr")


def test_the_shipped_copy_holds_the_chapters_of_today():
    """The package reads the book's text from rnnbook/data/corpus.json, never from docs/."""
    chapters = {
        name: corpus.markdown_prose((ROOT / "docs" / name).read_text(encoding="utf-8"))
        for name in sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    }
    shipped = corpus.shipped_prose()
    stale = sorted(set(chapters) ^ set(shipped) | {n for n in chapters if shipped.get(n) != chapters[n]})
    assert not stale, (
        f"rnnbook/data/corpus.json is out of date for {stale[:5]}: run "
        "`.venv/bin/python -m rnnbook.corpus --write` and commit the file"
    )
    assert corpus.load_book_text(language="both") == corpus.load_book_text(ROOT / "docs", "both")


def test_write_then_read_a_shipped_copy(docs, tmp_path, monkeypatch):
    target = corpus.write_shipped(docs, tmp_path / "data" / "corpus.json")
    monkeypatch.setattr(corpus, "SHIPPED", target)
    assert list(corpus.shipped_prose()) == ["index.en.md", "index.md", "sub/b.md"]
    for language in ("it", "en", "both"):
        assert corpus.load_book_text(language=language) == corpus.load_book_text(docs, language)
    assert corpus.main(["--docs", str(docs)]) == 0
    (docs / "sub" / "b.md").write_text("Pagina cambiata.\n", encoding="utf-8")
    assert corpus.main(["--docs", str(docs)]) == 1, "an edited chapter makes the copy stale"
    assert corpus.main(["--docs", str(docs), "--write"]) == 0
    assert "Pagina cambiata." in corpus.load_book_text(language="it")
    target.unlink()
    with pytest.raises(FileNotFoundError, match="corpus.json is missing.*--write"):
        corpus.load_book_text()


def test_vocab_is_sorted_deterministic_and_round_trips(docs):
    text = corpus.load_book_text(docs)
    vocab = corpus.Vocab.from_text(text)
    assert vocab.chars == "".join(sorted(set(text)))
    assert corpus.Vocab.from_text(text[::-1]).chars == vocab.chars
    codes = vocab.encode(text)
    assert codes.dtype == np.int64 and vocab.decode(codes) == text
    with pytest.raises(ValueError, match="unknown 'Z'"):
        vocab.encode("Z")
    with pytest.raises(ValueError, match="chars"):
        corpus.Vocab("ba")
    with pytest.raises(ValueError, match="text"):
        corpus.Vocab.from_text("")


def test_chunks_cover_the_streams_shifted_by_one():
    codes = np.arange(103)
    streams = corpus.stream_layout(codes, 4)
    assert streams.shape == (4, 25) and np.array_equal(streams[1], np.arange(25, 50))
    chunks = list(corpus.tbptt_chunks(streams, 7))
    assert [c.xs.shape for c in chunks] == [(7, 4)] * 3 + [(3, 4)]
    assert [c.reset for c in chunks] == [True, False, False, False]
    assert np.array_equal(np.concatenate([c.xs for c in chunks]).T, streams[:, :-1])
    assert np.array_equal(np.concatenate([c.ys for c in chunks]).T, streams[:, 1:])


def test_batching_errors():
    with pytest.raises(ValueError, match="codes: expected a 1-D stream of at least"):
        corpus.stream_layout(np.arange(5), 3)
    with pytest.raises(ValueError, match="chunk_len"):
        next(corpus.tbptt_chunks(np.zeros((2, 5), dtype=np.int64), 0))
    with pytest.raises(ValueError, match="valid_fraction"):
        corpus.split(np.arange(10), 1.0)


def test_unigram_entropy():
    assert corpus.unigram_entropy(np.array([0, 0, 0, 0]), 3) == 0.0
    assert corpus.unigram_entropy(np.arange(8), 8) == pytest.approx(3.0)


def test_prose_skips_a_four_backtick_block_holding_a_three_backtick_one():
    page = "Prima.\n\n````markdown\n```python\nx = 1\n```\nnot prose\n````\n\nDopo.\n"
    assert corpus.markdown_prose(page) == "Prima.\n\nDopo.\n"
