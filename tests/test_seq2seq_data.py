"""The lab's data: dates read back by the standard library, numbers by int()."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from rnnbook import seq2seq_data as data

# English styles that datetime.strptime reads back (after removing ordinal suffixes).
STRPTIME = {("en", 0): "%B %d, %Y", ("en", 2): "%d %B %Y", ("it", 3): "%d.%m.%Y"}


def test_dates_match_their_iso_form():
    for source, iso in data.date_pairs(500, 0):
        date = datetime.date.fromisoformat(iso)
        assert 1950 <= date.year <= 2049
        assert any(
            source == data.format_date(date, lang, style)
            for lang in data.DATE_FORMATS
            for style in range(len(data.DATE_FORMATS[lang]))
        )
    for (lang, style), pattern in STRPTIME.items():
        for day in (datetime.date(1969, 1, 1), datetime.date(2026, 12, 6), datetime.date(2049, 2, 28)):
            text = data.format_date(day, lang, style)
            assert datetime.datetime.strptime(text, pattern).date() == day


def test_weekdays_and_ordinals():
    assert data.format_date(datetime.date(2026, 12, 6), "it", 4) == "domenica 6 dicembre 2026"
    assert data.format_date(datetime.date(2026, 12, 6), "en", 4) == "Sunday, December 6th 2026"
    assert [data._ordinal(d) for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "23rd",
        "31st",
    ]


@pytest.mark.parametrize("language", ["it", "en"])
def test_numbers_read_back(language):
    words = data.NUMBER_WORDS[language]
    for source, digits in data.number_pairs(200, 1, 4, 24, language):
        assert 4 <= len(digits) <= 24
        assert "".join(str(words.index(w)) for w in source.split()) == digits


def test_vocab_and_padding_round_trip():
    src_vocab, tgt_vocab = data.date_vocabs()
    pairs = data.date_pairs(50, 2)
    src, n, tgt, m = data.encode_pairs(pairs, src_vocab, tgt_vocab)
    assert src.shape == (n.max(), 50) and tgt.shape == (11, 50) and np.all(m == 11)
    for b, (source, iso) in enumerate(pairs):
        assert src_vocab.decode(src[:, b]) == source and tgt_vocab.decode(tgt[:, b]) == iso
        assert np.all(src[n[b] :, b] == data.PAD)


def test_clear_errors():
    src_vocab, _ = data.number_vocabs("it")
    with pytest.raises(ValueError, match="tokens: 'three' is not in the vocabulary"):
        src_vocab.encode(["tre", "three"])
    with pytest.raises(ValueError, match="language: expected one of 'it', 'en', got 'fr'"):
        data.number_pairs(1, 0, language="fr")
    with pytest.raises(ValueError, match="max_digits: expected an integer >= 5, got 4"):
        data.number_pairs(1, 0, min_digits=5, max_digits=4)
    with pytest.raises(ValueError, match="sequences: expected at least one sequence"):
        data.pad_batch([[3], []])
