"""Data for the chapter on real sequences: padded batches, a negation grammar, the book's sentences.

* :func:`pad_batch` turns sequences of different lengths into a padded (T, B)
  array and their lengths, the input of ``lengths=`` everywhere in the package.
* :func:`negation_sentence` draws a sentence from a small grammar of reviews with
  negation and "but", in Italian or English. The data are **synthetic**: the
  grammar decides the labels, so a model that learns them has learnt the grammar,
  not sentiment in real text.
* :func:`book_sentences` cuts the book's own pages into sentences labelled with
  their language (real text, shipped with the book, available offline).
* :func:`most_frequent_share`, :func:`bag_of_tokens_accuracy` and
  :func:`token_tag_accuracy` are the simple baselines a network must beat on them:
  the best constant answer, and two that ignore the order of the symbols.

>>> import numpy as np
>>> from rnnbook.sequence_tasks import negation_sentence
>>> rng = np.random.default_rng(0)
>>> s = negation_sentence("en", rng)
>>> len(s.tokens) == len(s.tags), s.label in (0, 1)
(True, True)
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import NamedTuple

import numpy as np

from rnnbook import corpus
from rnnbook._validate import as_rng, check_choice, check_int

__all__ = [
    "PAD",
    "Batch",
    "pad_batch",
    "LEXICON",
    "Sentence",
    "negation_sentence",
    "negation_vocab",
    "book_sentences",
    "most_frequent_share",
    "bag_of_tokens_accuracy",
    "token_tag_accuracy",
]

PAD = 0  # the id of padding, in every vocabulary of this module


class Batch(NamedTuple):
    """A padded batch, time-major: ``xs`` (T, B) token ids, ``ys`` the targets, ``lengths`` (B,)."""

    xs: np.ndarray
    ys: np.ndarray
    lengths: np.ndarray


# --8<-- [start:pad_batch]
def pad_batch(sequences, pad=PAD):
    """Sequences of different lengths as one time-major array (T, B), padded after each end.

    Args:
        sequences: B sequences of integers, each of length ≥ 1.
        pad: the value written at padding.

    Returns:
        ids: (T, B) int64 with T the longest length; lengths: (B,) int64.

    >>> from rnnbook.sequence_tasks import pad_batch
    >>> ids, lengths = pad_batch([[5, 6, 7], [8]])
    >>> ids.T, lengths
    (array([[5, 6, 7],
           [8, 0, 0]]), array([3, 1]))
    """
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    if lengths.size == 0 or lengths.min() < 1:
        raise ValueError(
            f"sequences: expected at least one sequence, each of length >= 1, got lengths {lengths.tolist()}"
        )
    ids = np.full((lengths.max(), len(sequences)), pad, dtype=np.int64)
    for b, s in enumerate(sequences):
        ids[: len(s), b] = s
    return ids, lengths


# --8<-- [end:pad_batch]


# A clause is: subject, [negation before the verb], verb, [negation after it],
# [intensifier], adjective. Its polarity is the adjective's, flipped by a negation.
# Negations are pairs (before the verb, after it): Italian wraps the verb ("non è affatto").
LEXICON = {
    "en": {
        "subjects": ["the film", "the book", "the music", "the ending", "the plot", "the cast"],
        "verbs": ["is", "was"],
        "positive": ["good", "great", "funny", "brilliant", "moving"],
        "negative": ["bad", "boring", "dull", "awful", "weak"],
        "negations": [("", "not"), ("", "not at all"), ("", "never"), ("", "far from")],
        "intensifiers": ["very", "really", "quite"],
        "but": "but",
    },
    "it": {
        "subjects": ["il film", "il libro", "il finale", "il cast", "lo spettacolo", "il racconto"],
        "verbs": ["è", "era"],
        "positive": ["bello", "ottimo", "divertente", "brillante", "commovente"],
        "negative": ["brutto", "noioso", "pessimo", "banale", "debole"],
        "negations": [("non", ""), ("non", "affatto"), ("non", "per niente"), ("", "tutt'altro che")],
        "intensifiers": ["molto", "davvero", "proprio"],
        "but": "ma",
    },
}


class Sentence(NamedTuple):
    """A sentence of the grammar: its tokens, the sentence's label and one tag per token.

    ``label`` is the polarity (1 positive, 0 negative) of the last clause, which
    "but" makes the one that counts; ``tags[i]`` is the polarity of the clause
    token i belongs to ("but" belongs to the clause after it).
    """

    tokens: list
    label: int
    tags: list


def _clause(lexicon, rng, negation_rate):
    """One clause's tokens and polarity."""
    words = lexicon["subjects"][rng.integers(len(lexicon["subjects"]))].split()
    before, after = "", ""
    negated = rng.random() < negation_rate
    if negated:
        before, after = lexicon["negations"][rng.integers(len(lexicon["negations"]))]
    positive = rng.random() < 0.5
    adjectives = lexicon["positive" if positive else "negative"]
    words += before.split() + [lexicon["verbs"][rng.integers(2)]] + after.split()
    if not negated and rng.random() < 0.3:
        words.append(lexicon["intensifiers"][rng.integers(len(lexicon["intensifiers"]))])
    words.append(adjectives[rng.integers(len(adjectives))])
    return words, int(positive != negated)


def negation_sentence(language, rng=None, *, two_clauses=0.5, negation_rate=0.5):
    """A random review from the grammar: one clause, or two joined by "but" / "ma".

    Args:
        language: "it" or "en".
        rng: None, a seed or a ``numpy.random.Generator``.
        two_clauses: the probability of a second clause.
        negation_rate: the probability that a clause is negated.

    >>> import numpy as np
    >>> from rnnbook.sequence_tasks import negation_sentence
    >>> s = negation_sentence("it", np.random.default_rng(3))
    >>> " ".join(s.tokens), s.label
    ('lo spettacolo non era pessimo ma il libro non era affatto brillante', 0)
    >>> s.tags
    [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    """
    check_choice("language", language, tuple(LEXICON))
    lexicon, rng = LEXICON[language], as_rng(rng)
    tokens, polarity = _clause(lexicon, rng, negation_rate)
    tags = [polarity] * len(tokens)
    if rng.random() < two_clauses:
        second, polarity = _clause(lexicon, rng, negation_rate)
        tokens += [lexicon["but"]] + second
        tags += [polarity] * (len(second) + 1)
    return Sentence(tokens, polarity, tags)


def negation_vocab(language):
    """Every word of the grammar, sorted, after the padding symbol: ``["<pad>", ...]``.

    >>> from rnnbook.sequence_tasks import negation_vocab
    >>> negation_vocab("en")[:3]
    ['<pad>', 'all', 'at']
    """
    lexicon = LEXICON[check_choice("language", language, tuple(LEXICON))]
    words = set(lexicon["verbs"] + lexicon["positive"] + lexicon["negative"] + lexicon["intensifiers"])
    words |= {lexicon["but"]} | {w for s in lexicon["subjects"] for w in s.split()}
    words |= {w for pair in lexicon["negations"] for part in pair for w in part.split()}
    return ["<pad>"] + sorted(words)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NOT_PROSE = re.compile(r"[$`#|*\[\]<>{}=_\\]|doi:|arxiv:")  # maths, code, tables, links, references


def book_sentences(docs_dir=None, *, min_chars=20, max_chars=60):
    """The sentences of the book's prose, lower-cased, each with its language (0 Italian, 1 English).

    A sentence longer than ``max_chars`` is cut there; one shorter than
    ``min_chars`` is dropped, and so is one with maths, code or a reference in it;
    a sentence found in both languages (a name, a title) is dropped too, so that
    no text has two labels.

    Returns:
        A list of ``(text, label)``, Italian pages first, in page order.
    """
    min_chars = check_int("min_chars", min_chars, minimum=1)
    max_chars = check_int("max_chars", max_chars, minimum=min_chars)
    found = {}
    for label, language in enumerate(("it", "en")):
        text = corpus.load_book_text(docs_dir, language)
        found[label] = []
        for sentence in _SENTENCE_END.split(text):
            sentence = " ".join(sentence.lower().split())[:max_chars]
            if len(sentence) >= min_chars and not _NOT_PROSE.search(sentence):
                found[label].append(sentence)
    common = set(found[0]) & set(found[1])
    return [(s, label) for label in (0, 1) for s in found[label] if s not in common]


# ---------------------------------------------------------------------------
# Simple baselines: what a classifier reaches without reading the order
# ---------------------------------------------------------------------------


def _check_pairs(name, pairs):
    """``pairs`` as a list of ``(token ids, label or tags)``; a TypeError naming ``name`` otherwise."""
    if isinstance(pairs, (str, bytes)) or not hasattr(pairs, "__iter__"):
        raise TypeError(f"{name}: expected a list of (token ids, label) pairs, got {type(pairs).__name__}")
    pairs = list(pairs)
    for pair in pairs:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(f"{name}: expected a list of (token ids, label) pairs, got an item {pair!r:.40}")
    return pairs


def most_frequent_share(labels):
    """The accuracy of the best constant answer on ``labels``: the share of the most frequent one.

    Computed on the test labels themselves, it bounds every constant answer from
    above, including that of a network that always says the same thing.

    >>> from rnnbook.sequence_tasks import most_frequent_share
    >>> most_frequent_share([1, 0, 1, 1])
    0.75
    """
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__iter__"):
        raise TypeError(f"labels: expected a sequence of labels, got {type(labels).__name__}")
    counts = Counter(labels)
    if not counts:
        raise ValueError("labels: expected at least one label, got none")
    return counts.most_common(1)[0][1] / sum(counts.values())


def bag_of_tokens_accuracy(train, test, vocab_size):
    """Test accuracy of a bag of tokens: multinomial naive Bayes on the counts of the token ids.

    Each class c gets the prior P(c) and, for every token w, P(w | c) with add-one
    smoothing (Manning, Raghavan & Schütze 2008, §13.2); a sequence goes to the class
    of largest log P(c) + sum over its tokens of log P(w | c). The order of the tokens
    plays no part.

    Args:
        train, test: lists of ``(token ids, label)``.
        vocab_size: ids are in ``[0, vocab_size)``.

    >>> from rnnbook.sequence_tasks import bag_of_tokens_accuracy
    >>> train = [([1, 1, 2], "a"), ([3, 3], "b"), ([1], "a")]
    >>> bag_of_tokens_accuracy(train, [([1, 3, 1], "a"), ([3], "b"), ([2, 3, 3], "a")], 4)
    0.6666666666666666
    """
    train, test = _check_pairs("train", train), _check_pairs("test", test)
    vocab_size = check_int("vocab_size", vocab_size, minimum=1)
    if not train or not test:
        raise ValueError(f"train, test: expected at least one example each, got {len(train)} and {len(test)}")
    for name, pairs in (("train", train), ("test", test)):
        outside = [i for ids, _ in pairs for i in ids if not 0 <= i < vocab_size]
        if outside:
            raise ValueError(f"{name}: expected token ids in [0, {vocab_size}), got {outside[0]}")
    labels = sorted({label for _, label in train}, key=str)
    row = {label: i for i, label in enumerate(labels)}
    counts = np.ones((len(labels), vocab_size))
    prior = np.zeros(len(labels))
    for ids, label in train:
        prior[row[label]] += 1
        np.add.at(counts[row[label]], np.asarray(ids, dtype=np.int64), 1)
    log_token = np.log(counts / counts.sum(axis=1, keepdims=True))
    log_prior = np.log(prior / prior.sum())
    right = [
        labels[int(np.argmax(log_prior + log_token[:, np.asarray(ids, dtype=np.int64)].sum(axis=1)))] == label
        for ids, label in test
    ]
    return float(np.mean(right))


def token_tag_accuracy(train, test):
    """Test accuracy of tagging each token with its most frequent tag in ``train``, alone.

    No context at all: a token never seen in training gets the most frequent tag.
    Ties go to the tag seen first.

    Args:
        train, test: lists of ``(token ids, tags)``, one tag per token.

    >>> from rnnbook.sequence_tasks import token_tag_accuracy
    >>> train = [([1, 2], [0, 1]), ([1, 3], [0, 0])]
    >>> token_tag_accuracy(train, [([1, 2, 4], [0, 0, 0])])
    0.6666666666666666
    """
    train, test = _check_pairs("train", train), _check_pairs("test", test)
    for name, pairs in (("train", train), ("test", test)):
        for ids, tags in pairs:
            if len(ids) != len(tags):
                raise ValueError(f"{name}: expected one tag per token, got {len(ids)} tokens and {len(tags)} tags")
    seen = defaultdict(Counter)
    for ids, tags in train:
        for token, tag in zip(ids, tags, strict=True):
            seen[token][tag] += 1
    every = Counter(tag for _, tags in train for tag in tags)
    tokens = [(token, tag) for ids, tags in test for token, tag in zip(ids, tags, strict=True)]
    if not every or not tokens:
        raise ValueError("train, test: expected at least one tagged token each, got none")
    fallback = every.most_common(1)[0][0]
    best = {token: counts.most_common(1)[0][0] for token, counts in seen.items()}
    return float(np.mean([best.get(token, fallback) == tag for token, tag in tokens]))
