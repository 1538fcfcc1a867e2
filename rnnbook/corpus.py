"""A character corpus built from the book's own chapters, batched for truncated BPTT.

The book's pages live in the repository's ``docs/`` as Markdown, Italian in ``*.md``
and English in ``*.en.md``. Their prose (no code blocks, front matter, HTML or
snippet lines: :func:`markdown_prose`) ships with the package in
``rnnbook/data/corpus.json``, so the corpus is there wherever the package is
installed; ``python -m rnnbook.corpus --write`` regenerates that copy after a
chapter changes (a test fails until it is). :func:`load_book_text` reads it,
:class:`Vocab` maps characters to integers, and :func:`stream_layout` with
:func:`tbptt_chunks` cut the text into the chunks that truncated backpropagation
through time trains on (Williams & Peng 1990).

>>> from rnnbook.corpus import Vocab
>>> vocab = Vocab.from_text("ciao, mondo")
>>> vocab.decode(vocab.encode("mondo"))
'mondo'
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._validate import check_choice, check_int

PACKAGE_DIR = Path(__file__).resolve().parent
# The prose of every page, shipped with the package; written by `python -m rnnbook.corpus --write`.
SHIPPED = PACKAGE_DIR / "data" / "corpus.json"
# Where the chapters are in a clone of the repository (only the --write command reads them).
REPOSITORY_DOCS = PACKAGE_DIR.parent / "docs"

FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_TAG = re.compile(r"<[^>\n]+>")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# Lines of markup, not prose: snippets, admonitions, tabs, mkdocstrings directives.
_MARKUP_LINE = re.compile(r"^\s*(;?-{2,}8<-{2,}|!!!|\?\?\?|===|:::)")


def fenced_lines(lines):
    """Tell apart the lines of a Markdown page: prose, or part of a fenced code block.

    Yields ``(line, kind, info)``: ``kind`` is "text" outside code blocks, "open" and
    "close" for a block's fences and "code" inside it; ``info`` is the opening fence's
    info string ("python", ...), "" for text. As in CommonMark, a block closes at a
    fence of its own character, at least as long, with no info string, so a block
    opened with four backticks can show one of three.

    >>> from rnnbook.corpus import fenced_lines
    >>> page = ["a", "````markdown", "```python", "x = 1", "```", "````", "b"]
    >>> [kind for _, kind, _ in fenced_lines(page)]
    ['text', 'open', 'code', 'code', 'code', 'close', 'text']
    """
    fence, info = None, ""
    for line in lines:
        match = FENCE.match(line)
        if fence is None and match:
            fence, info = match["fence"], match["info"].strip()
            yield line, "open", info
        elif fence is None:
            yield line, "text", ""
        elif (
            match and match["fence"][0] == fence[0] and len(match["fence"]) >= len(fence) and not match["info"].strip()
        ):
            fence = None
            yield line, "close", info
        else:
            yield line, "code", info


def markdown_prose(markdown):
    """Keep the prose of a Markdown page.

    Drops the YAML front matter, fenced code blocks, HTML comments and tags,
    images, snippet-inclusion lines (``--8<--``) and the marker lines of
    admonitions, tabs and API directives (``!!!``, ``???``, ``===``, ``:::``); keeps
    the text of links.

    >>> from rnnbook.corpus import markdown_prose
    >>> page = "---\\ntitle: x\\n---\\nUna *rete*.\\n```python\\nx = 1\\n```\\n<br>Vedi [qui](a.md).\\n"
    >>> markdown_prose(page)
    'Una *rete*.\\nVedi qui.\\n'
    """
    text = _FRONT_MATTER.sub("", markdown)
    text = _HTML_COMMENT.sub("", text)
    kept = [
        line for line, kind, _ in fenced_lines(text.splitlines()) if kind == "text" and not _MARKUP_LINE.match(line)
    ]
    text = "\n".join(kept) + "\n"
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text)


def _in_language(name, language):
    """Whether the page file ``name`` is in ``language``: "it" (``*.md`` but not ``*.en.md``), "en" or "both"."""
    english = name.endswith(".en.md")
    return language == "both" or english == (language == "en")


def book_pages(docs_dir, language="both"):
    """The Markdown pages of a folder, sorted by path.

    Args:
        docs_dir: the folder to read, e.g. the repository's ``docs/``.
        language: "it" (``*.md`` but not ``*.en.md``), "en" (``*.en.md``) or "both".

    Raises:
        FileNotFoundError: the folder does not exist, or holds no page in that language.

    >>> from rnnbook.corpus import book_pages
    >>> book_pages("/nonexistent")
    Traceback (most recent call last):
    ...
    FileNotFoundError: docs_dir: expected a folder of Markdown pages, got '/nonexistent', which does not exist
    """
    check_choice("language", language, ("it", "en", "both"))
    root = Path(docs_dir)
    if not root.is_dir():
        what = "a file" if root.exists() else "which does not exist"
        raise FileNotFoundError(f"docs_dir: expected a folder of Markdown pages, got '{root}', {what}")
    pages = [p for p in sorted(root.rglob("*.md")) if _in_language(p.name, language)]
    if not pages:
        raise FileNotFoundError(f"docs_dir: expected Markdown pages ({language}) in '{root}', found none")
    return pages


def pages_prose(docs_dir):
    """The prose of every page of a folder: ``{path relative to the folder: prose}``, in path order."""
    root = Path(docs_dir)
    return {p.relative_to(root).as_posix(): markdown_prose(p.read_text(encoding="utf-8")) for p in book_pages(root)}


def shipped_prose():
    """The prose of the book's pages as shipped with the package (``rnnbook/data/corpus.json``).

    >>> from rnnbook.corpus import shipped_prose
    >>> prose = shipped_prose()
    >>> "rnn.md" in prose and "rnn.en.md" in prose
    True
    """
    if not SHIPPED.exists():
        raise FileNotFoundError(
            f"{SHIPPED} is missing: in the repository, `python -m rnnbook.corpus --write` writes it from the chapters"
        )
    return json.loads(SHIPPED.read_text(encoding="utf-8"))["pages"]


def write_shipped(docs_dir=REPOSITORY_DOCS, target=None):
    """Write the prose of the pages of ``docs_dir`` to ``target`` (default: :data:`SHIPPED`), one page per line."""
    prose = pages_prose(docs_dir)
    target = Path(SHIPPED if target is None else target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"pages": prose}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return target


def load_book_text(docs_dir=None, language="both"):
    """The prose of the book's pages, concatenated in path order.

    Args:
        docs_dir: a folder of Markdown pages to read instead of the book's text
            shipped with the package (:func:`shipped_prose`).
        language: "it", "en" or "both".

    Returns:
        One string; pages are separated by a blank line.
    """
    check_choice("language", language, ("it", "en", "both"))
    if docs_dir is not None:
        return "\n".join(markdown_prose(p.read_text(encoding="utf-8")) for p in book_pages(docs_dir, language))
    return "\n".join(text for name, text in shipped_prose().items() if _in_language(name, language))


class Vocab:
    """A character vocabulary: the sorted set of characters of a text.

    Sorting makes the mapping deterministic, so the same text always gives the
    same integer codes.

    >>> from rnnbook.corpus import Vocab
    >>> v = Vocab.from_text("abba")
    >>> v.chars, len(v)
    ('ab', 2)
    >>> v.encode("baa")
    array([1, 0, 0])
    >>> v.decode([0, 1])
    'ab'
    """

    def __init__(self, chars):
        chars = "".join(chars)
        if len(set(chars)) != len(chars) or list(chars) != sorted(chars):
            raise ValueError(f"chars: expected sorted distinct characters, got {chars!r}")
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text):
        """The vocabulary of all characters in ``text``."""
        if not text:
            raise ValueError("text: expected a non-empty string, got ''")
        return cls(sorted(set(text)))

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """Text -> (N,) int64 array of character codes."""
        unknown = sorted(set(text) - set(self.chars))
        if unknown:
            raise ValueError(f"text: expected characters of the vocabulary, got unknown {''.join(unknown)!r}")
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, codes):
        """A sequence of integer codes -> text.

        >>> from rnnbook.corpus import Vocab
        >>> Vocab("ab").decode([-1])
        Traceback (most recent call last):
        ...
        ValueError: codes: expected integers in [0, 2), got -1
        """
        codes = [int(i) for i in codes]
        wrong = [i for i in codes if not 0 <= i < len(self.chars)]
        if wrong:
            raise ValueError(f"codes: expected integers in [0, {len(self.chars)}), got {wrong[0]}")
        return "".join(self.chars[i] for i in codes)


def split(codes, valid_fraction=0.1):
    """Split a stream into a training head and a validation tail.

    >>> import numpy as np
    >>> from rnnbook.corpus import split
    >>> train, valid = split(np.arange(10), 0.2)
    >>> train.tolist(), valid.tolist()
    ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9])
    """
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction: expected a number in (0, 1), got {valid_fraction}")
    n_valid = max(1, int(round(len(codes) * valid_fraction)))
    return codes[:-n_valid], codes[-n_valid:]


def stream_layout(codes, batch_size):
    """Lay a long stream out as B parallel streams: (N,) -> (B, N // B).

    Row b holds the b-th slice of the text; the last N mod B characters are
    dropped. Each row is read left to right, so the state reached at the end of a
    chunk is the right starting state for the next chunk of the same row.

    >>> import numpy as np
    >>> from rnnbook.corpus import stream_layout
    >>> stream_layout(np.arange(10), 3)
    array([[0, 1, 2],
           [3, 4, 5],
           [6, 7, 8]])
    """
    B = check_int("batch_size", batch_size, minimum=1)
    codes = np.asarray(codes)
    if codes.ndim != 1 or len(codes) < 2 * B:
        raise ValueError(
            f"codes: expected a 1-D stream of at least 2 * batch_size = {2 * B} codes, got shape {codes.shape}"
        )
    n = len(codes) // B
    return codes[: n * B].reshape(B, n)


class Chunk(NamedTuple):
    """One chunk of truncated BPTT, time-major.

    xs: (k, B) int64 inputs; ys: (k, B) int64 targets, the inputs shifted by one;
    reset: True on the first chunk of a pass, where the state must start from zero.
    """

    xs: np.ndarray
    ys: np.ndarray
    reset: bool


def tbptt_chunks(streams, chunk_len):
    """Cut (B, N) streams into consecutive time-major chunks, one pass over the text.

    Chunk j covers columns j k .. j k + k - 1 as inputs and the next character of
    each as target; the last chunk may be shorter. Training carries the state from
    one chunk to the next and cuts the gradient at the border: truncated BPTT
    with k1 = k2 = k in the notation of Williams & Peng (1990).

    >>> import numpy as np
    >>> from rnnbook.corpus import tbptt_chunks
    >>> [c.xs.T.tolist() for c in tbptt_chunks(np.arange(8).reshape(2, 4), 2)]
    [[[0, 1], [4, 5]], [[2], [6]]]
    >>> [c.ys.T.tolist() for c in tbptt_chunks(np.arange(8).reshape(2, 4), 2)]
    [[[1, 2], [5, 6]], [[3], [7]]]
    """
    k = check_int("chunk_len", chunk_len, minimum=1)
    if not isinstance(streams, np.ndarray) or streams.ndim != 2 or streams.shape[1] < 2:
        got = streams.shape if isinstance(streams, np.ndarray) else type(streams).__name__
        raise ValueError(f"streams: expected a (B, N) array with N >= 2, got {got}")
    n = streams.shape[1]
    for start in range(0, n - 1, k):
        stop = min(start + k, n - 1)
        yield Chunk(streams[:, start:stop].T, streams[:, start + 1 : stop + 1].T, start == 0)


def endless_chunks(streams, chunk_len):
    """Repeat :func:`tbptt_chunks` forever, pass after pass (for a fixed number of steps).

    >>> import numpy as np
    >>> from rnnbook.corpus import endless_chunks
    >>> from itertools import islice
    >>> [c.reset for c in islice(endless_chunks(np.arange(8).reshape(2, 4), 2), 4)]
    [True, False, True, False]
    """
    while True:
        yield from tbptt_chunks(streams, chunk_len)


def unigram_entropy(codes, vocab_size):
    """Entropy of the character frequencies, in bits: the loss of a model with no context.

    >>> import numpy as np
    >>> from rnnbook.corpus import unigram_entropy
    >>> unigram_entropy(np.array([0, 1, 0, 1]), 2)
    1.0
    """
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size == 0:
        raise ValueError("codes: expected at least one character code, got none")
    counts = np.bincount(codes, minlength=check_int("vocab_size", vocab_size, minimum=1))
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def bigram_bits(train_codes, valid_codes, vocab_size):
    """Bits per character of a bigram model on ``valid_codes``: the simplest model with context.

    P(b | a) = (count(a, b) + 1) / (count(a) + V), counted on ``train_codes``
    (add-one smoothing, so an unseen pair costs bits instead of infinity); the
    result is the mean of -log2 P(c_{t+1} | c_t) over the validation text.

    >>> import numpy as np
    >>> from rnnbook.corpus import bigram_bits
    >>> round(bigram_bits(np.array([0, 1] * 50), np.array([0, 1, 0, 1]), 2), 3)   # 0 then 1, always
    0.028
    """
    V = check_int("vocab_size", vocab_size, minimum=1)
    train, valid = np.asarray(train_codes, dtype=np.int64), np.asarray(valid_codes, dtype=np.int64)
    if len(train) < 2 or len(valid) < 2:
        raise ValueError(f"codes: expected at least 2 characters of each text, got {len(train)} and {len(valid)}")
    counts = np.ones((V, V))  # add-one smoothing
    np.add.at(counts, (train[:-1], train[1:]), 1)
    p = counts / counts.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log2(p[valid[:-1], valid[1:]])))


def main(argv=None):
    """``python -m rnnbook.corpus``: check the shipped copy against the chapters, or ``--write`` it."""
    parser = argparse.ArgumentParser(
        prog="python -m rnnbook.corpus",
        description="Compare the book's text shipped with the package with the chapters, or rewrite it.",
    )
    parser.add_argument(
        "--docs",
        type=Path,
        default=REPOSITORY_DOCS,
        metavar="DIR",
        help="the chapters (default: docs/ of the repository that holds this package)",
    )
    parser.add_argument("--write", action="store_true", help="rewrite the copy, rnnbook/data/corpus.json")
    args = parser.parse_args(argv)
    if args.write:
        print(f"wrote {write_shipped(args.docs)}")
        return 0
    if shipped_prose() != pages_prose(args.docs):
        print(f"{SHIPPED} differs from the chapters in {args.docs}: run `python -m rnnbook.corpus --write`")
        return 1
    print(f"{SHIPPED} holds the chapters of {args.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
