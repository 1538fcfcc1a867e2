"""Data for the encoder–decoder lab: dates to ISO 8601, and numbers spelled in words to digits.

Both tasks are pairs of strings generated with the standard library and a seeded
numpy generator, so every run sees the same data:

* :func:`date_pairs`: a date as people write it, in Italian or English
  ("6 dicembre 2026", "Dec 6th, 2026", "06/12/26", "sabato 6 dicembre 2026", ...),
  and the same date in ISO 8601 ("2026-12-06"). Characters are the tokens.
* :func:`number_pairs`: a number spelled digit by digit in words
  ("three seven nine", "tre sette nove") and its digits ("379"). Words are the
  source tokens, digits the target tokens: the output must carry the whole input.

A :class:`Vocab` maps tokens to ids with :data:`PAD`, :data:`BOS` and :data:`EOS`
first; :func:`pad_batch` turns lists of id sequences into the time-major padded
arrays the models read.

>>> import numpy as np
>>> from rnnbook.seq2seq_data import date_pairs, number_pairs
>>> rng = np.random.default_rng(0)
>>> date_pairs(2, rng)
[('Jan 24th, 2035', '2035-01-24'), ('12 settembre 2013', '2013-09-12')]
>>> number_pairs(1, rng, min_digits=4, max_digits=4, language="it")
[('zero zero uno otto', '0018')]
"""

from __future__ import annotations

import datetime
from collections import Counter

import numpy as np

from rnnbook._validate import as_rng, check_choice, check_int

__all__ = [
    "PAD",
    "BOS",
    "EOS",
    "Vocab",
    "format_date",
    "DATE_FORMATS",
    "date_pairs",
    "number_pairs",
    "NUMBER_WORDS",
    "pad_batch",
    "date_vocabs",
    "number_vocabs",
    "encode_pairs",
    "word_by_word_accuracy",
]

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<eos>")

MONTHS = {
    "it": (
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
WEEKDAYS = {  # Monday first, as datetime.date.weekday()
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
NUMBER_WORDS = {
    "it": ("zero", "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
}


def _ordinal(day):
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st, ..."""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


DATE_FORMATS = {
    "it": (
        lambda d: f"{d.day} {MONTHS['it'][d.month - 1]} {d.year}",  # 6 dicembre 2026
        lambda d: f"{d.day} {MONTHS['it'][d.month - 1][:3]} {d.year}",  # 6 dic 2026
        lambda d: f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}",  # 06/12/26
        lambda d: f"{d.day}.{d.month}.{d.year}",  # 6.12.2026
        lambda d: f"{WEEKDAYS['it'][d.weekday()]} {d.day} {MONTHS['it'][d.month - 1]} {d.year}",
    ),
    "en": (
        lambda d: f"{MONTHS['en'][d.month - 1]} {d.day}, {d.year}",  # December 6, 2026
        lambda d: f"{MONTHS['en'][d.month - 1][:3]} {_ordinal(d.day)}, {d.year}",  # Dec 6th, 2026
        lambda d: f"{d.day} {MONTHS['en'][d.month - 1]} {d.year}",  # 6 December 2026
        lambda d: f"{WEEKDAYS['en'][d.weekday()][:3]}, {d.day} {MONTHS['en'][d.month - 1][:3]} {d.year}",
        lambda d: f"{WEEKDAYS['en'][d.weekday()]}, {MONTHS['en'][d.month - 1]} {_ordinal(d.day)} {d.year}",
    ),
}


def format_date(date, language, style):
    """Write ``date`` (a ``datetime.date``) in one of the styles of :data:`DATE_FORMATS`.

    Two-digit years are read back as 1950–2049 (:func:`date_pairs` draws only those).

    >>> import datetime
    >>> from rnnbook.seq2seq_data import format_date
    >>> format_date(datetime.date(2026, 12, 6), "it", 4), format_date(datetime.date(2026, 12, 6), "en", 1)
    ('domenica 6 dicembre 2026', 'Dec 6th, 2026')
    """
    check_choice("language", language, tuple(DATE_FORMATS))
    check_int("style", style, minimum=0, maximum=len(DATE_FORMATS[language]) - 1)
    return DATE_FORMATS[language][style](date)


def date_pairs(n, rng=None, languages=("it", "en"), first_year=1950, last_year=2049):
    """``n`` pairs (date as written, ISO 8601), days drawn uniformly, language and style too.

    >>> from rnnbook.seq2seq_data import date_pairs
    >>> date_pairs(1, 1, languages=("en",))
    [('27 April 1997', '1997-04-27')]
    """
    n = check_int("n", n, minimum=0)
    rng = as_rng(rng)
    for language in languages:
        check_choice("languages", language, tuple(DATE_FORMATS))
    start = datetime.date(check_int("first_year", first_year, minimum=1950), 1, 1)
    end = datetime.date(check_int("last_year", last_year, minimum=first_year, maximum=2049), 12, 31)
    days = rng.integers(0, (end - start).days + 1, size=n)
    pairs = []
    for offset in days:
        date = start + datetime.timedelta(days=int(offset))
        language = languages[rng.integers(len(languages))]
        style = int(rng.integers(len(DATE_FORMATS[language])))
        pairs.append((format_date(date, language, style), date.isoformat()))
    return pairs


def number_pairs(n, rng=None, min_digits=4, max_digits=24, language="en"):
    """``n`` pairs (digits spelled in words, the digits), lengths uniform in [min_digits, max_digits].

    >>> from rnnbook.seq2seq_data import number_pairs
    >>> number_pairs(1, 0, 3, 3)
    [('eight six five', '865')]
    """
    n = check_int("n", n, minimum=0)
    rng = as_rng(rng)
    lo = check_int("min_digits", min_digits, minimum=1)
    hi = check_int("max_digits", max_digits, minimum=lo)
    words = NUMBER_WORDS[check_choice("language", language, tuple(NUMBER_WORDS))]
    pairs = []
    for length in rng.integers(lo, hi + 1, size=n):
        digits = rng.integers(0, 10, size=length)
        pairs.append((" ".join(words[d] for d in digits), "".join(map(str, digits))))
    return pairs


def word_by_word_accuracy(fit, test):
    """Exact match of a lookup table: each source word becomes the target character it most often gives.

    The table is read from ``fit``, whose pairs have one target character per source
    word (as :func:`number_pairs` has: the ``i``-th word spells the ``i``-th digit);
    a word never seen becomes ``"?"``. On spelled numbers the table is the task itself.

    Args:
        fit, test: lists of ``(source words separated by spaces, target)``.

    >>> from rnnbook.seq2seq_data import number_pairs, word_by_word_accuracy
    >>> word_by_word_accuracy(number_pairs(50, 0), number_pairs(20, 1))
    1.0
    """
    for name, pairs in (("fit", fit), ("test", test)):
        if isinstance(pairs, (str, bytes)) or not all(
            isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(text, str) for text in pair)
            for pair in pairs
        ):
            raise TypeError(f"{name}: expected a list of (source, target) string pairs, got {type(pairs).__name__}")
    seen = {}
    for source, target in fit:
        words = source.split()
        if len(words) != len(target):
            raise ValueError(f"fit: expected one target character per source word, got {source!r} -> {target!r}")
        for word, char in zip(words, target):
            seen.setdefault(word, Counter())[char] += 1
    if not test:
        raise ValueError("test: expected at least one pair, got none")
    table = {word: counts.most_common(1)[0][0] for word, counts in seen.items()}
    return float(np.mean(["".join(table.get(w, "?") for w in source.split()) == target for source, target in test]))


class Vocab:
    """Tokens to ids and back, with ids 0, 1, 2 for padding, start and end.

    >>> from rnnbook.seq2seq_data import Vocab, EOS
    >>> vocab = Vocab("0123456789-")
    >>> vocab.encode("2026-12-06")[:4], len(vocab)
    ([6, 4, 6, 10], 14)
    >>> vocab.decode([6, 4, 6, 10, EOS, 3])
    '2026'
    """

    def __init__(self, tokens):
        self.tokens = list(SPECIALS) + sorted(set(tokens) - set(SPECIALS))
        self.ids = {token: i for i, token in enumerate(self.tokens)}

    def __len__(self):
        return len(self.tokens)

    def encode(self, tokens):
        """A sequence of tokens (a string of characters, or a list of words) -> a list of ids."""
        unknown = [t for t in tokens if t not in self.ids]
        if unknown:
            raise ValueError(f"tokens: {unknown[0]!r} is not in the vocabulary")
        return [self.ids[t] for t in tokens]

    def decode(self, ids, sep=""):
        """Ids -> tokens joined by ``sep``, up to the first EOS; PAD and BOS are skipped."""
        out = []
        for i in ids:
            if i == EOS:
                break
            if i not in (PAD, BOS):
                out.append(self.tokens[i])
        return sep.join(out)


def pad_batch(sequences, eos=False):
    """Lists of ids -> a time-major array (T, B) padded with PAD, and the lengths (B,).

    With ``eos=True`` each sequence gets EOS appended first (targets end in EOS).

    >>> from rnnbook.seq2seq_data import pad_batch
    >>> ids, lengths = pad_batch([[5, 6, 7], [8]], eos=True)
    >>> ids.T, lengths
    (array([[5, 6, 7, 2],
           [8, 2, 0, 0]]), array([4, 2]))
    """
    sequences = [list(s) + [EOS] * eos for s in sequences]
    if not sequences or min(map(len, sequences)) == 0:
        raise ValueError("sequences: expected at least one sequence, each with at least one token")
    lengths = np.array([len(s) for s in sequences])
    ids = np.full((lengths.max(), len(sequences)), PAD)
    for b, s in enumerate(sequences):
        ids[: len(s), b] = s
    return ids, lengths


def date_vocabs():
    """The source vocabulary (every character a date of :data:`DATE_FORMATS` can hold) and the target one.

    >>> from rnnbook.seq2seq_data import date_vocabs
    >>> src, tgt = date_vocabs()
    >>> len(src) > len(tgt), tgt.decode(tgt.encode("2026-12-06"))
    (True, '2026-12-06')
    """
    names = [name for table in (MONTHS, WEEKDAYS) for language in table.values() for name in language]
    return Vocab(set("".join(names)) | set("0123456789 ,./")), Vocab("0123456789-")


def number_vocabs(language="en"):
    """Source vocabulary: the ten digit words of ``language``; target: the ten digits."""
    words = NUMBER_WORDS[check_choice("language", language, tuple(NUMBER_WORDS))]
    return Vocab(words), Vocab("0123456789")


def encode_pairs(pairs, src_vocab, tgt_vocab, words=False):
    """(source, target) strings -> ``(src (S, B), src_lengths, tgt (T, B), tgt_lengths)``, targets ending in EOS.

    Sources are split into words when ``words`` is True, into characters otherwise;
    targets are always characters.

    >>> from rnnbook.seq2seq_data import number_vocabs, encode_pairs
    >>> src_vocab, tgt_vocab = number_vocabs()
    >>> src, n, tgt, m = encode_pairs([("one two", "12")], src_vocab, tgt_vocab, words=True)
    >>> src[:, 0], tgt[:, 0]
    (array([ 7, 11]), array([4, 5, 2]))
    """
    src, src_lengths = pad_batch([src_vocab.encode(a.split() if words else a) for a, _ in pairs])
    tgt, tgt_lengths = pad_batch([tgt_vocab.encode(b) for _, b in pairs], eos=True)
    return src, src_lengths, tgt, tgt_lengths
