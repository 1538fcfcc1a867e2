"""rnnbook.decoding against brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnnbook import decoding

BOS, EOS, V = 0, 1, 4  # token 0 is BOS (never emitted in practice, but allowed), 1 is EOS


def random_model(seed, vocab=V):
    """A fixed random distribution for every prefix, drawn on first use."""
    rng = np.random.default_rng(seed)
    table = {}

    def next_log_probs(prefix):
        assert prefix[0] == BOS
        if prefix not in table:
            logits = 2.0 * rng.standard_normal(vocab)
            table[prefix] = logits - np.log(np.exp(logits).sum())
        return table[prefix]

    return next_log_probs


def enumerate_all(next_log_probs, max_len, vocab=V):
    """Every hypothesis: sequences ending in EOS of length ≤ max_len, and unfinished ones of max_len."""
    hypotheses = []
    for n in range(1, max_len + 1):
        for tokens in itertools.product(range(vocab), repeat=n):
            if EOS in tokens[:-1] or (tokens[-1] != EOS and n < max_len):
                continue
            score = sum(next_log_probs((BOS,) + tokens[:i])[t] for i, t in enumerate(tokens))
            hypotheses.append((tokens, float(score)))
    return hypotheses


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("alpha", [0.0, 0.6, 2.0])
def test_wide_beam_is_exhaustive(seed, alpha):
    model, max_len = random_model(seed), 3
    everything = enumerate_all(model, max_len)
    beams = decoding.beam_search(model, BOS, EOS, beam_size=len(everything), max_len=max_len, length_penalty=alpha)
    expected = sorted(everything, key=lambda h: -h[1] / ((5 + len(h[0])) / 6) ** alpha)
    assert [t for t, _ in beams] == [t for t, _ in expected]
    np.testing.assert_allclose([s for _, s in beams], [s for _, s in expected], rtol=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_beam_of_one_is_greedy(seed):
    model = random_model(seed, vocab=6)
    ((tokens, score),) = decoding.beam_search(model, BOS, EOS, beam_size=1, max_len=6)
    assert (tokens, score) == decoding.greedy(model, BOS, EOS, max_len=6)


@pytest.mark.parametrize("seed", range(5))
def test_scores_are_sums_of_log_probs_and_hypotheses_are_well_formed(seed):
    model = random_model(seed)
    for tokens, score in decoding.beam_search(model, BOS, EOS, beam_size=3, max_len=4, length_penalty=1.0):
        assert 1 <= len(tokens) <= 4 and EOS not in tokens[:-1]
        assert tokens[-1] == EOS or len(tokens) == 4
        expected = sum(model((BOS,) + tokens[:i])[t] for i, t in enumerate(tokens))
        assert score == pytest.approx(expected, rel=1e-12)


def table_model(table):
    """A model from a dict prefix -> probabilities (BOS, EOS, a, b); EOS surely after other prefixes."""
    return lambda prefix: np.log(np.array(table.get(prefix, [0, 1, 0, 0])) + 1e-300)


def test_greedy_and_narrow_beam_can_miss_the_most_probable_sequence():
    # p(a) = 0.5 but a is followed by a flat choice; p(b) = 0.4, then EOS surely.
    model = table_model({(0,): [0, 0.1, 0.5, 0.4], (0, 2): [0, 0.34, 0.33, 0.33]})
    tokens, score = decoding.greedy(model, BOS, EOS, max_len=3)
    assert tokens == (2, 1) and np.exp(score) == pytest.approx(0.17)
    best = decoding.beam_search(model, BOS, EOS, beam_size=2, max_len=3)[0]
    assert best[0] == (3, 1) and np.exp(best[1]) == pytest.approx(0.4)


def test_length_penalty_favours_longer_hypotheses():
    # EOS now (0.45) against one more token then EOS (0.55 · 0.7 = 0.385, but longer).
    model = table_model({(0,): [0, 0.45, 0.55, 0], (0, 2): [0, 0.7, 0.3, 0]})
    plain = decoding.beam_search(model, BOS, EOS, beam_size=3, max_len=3)
    assert plain[0][0] == (1,)  # 0.45 against 0.385
    ranked = decoding.beam_search(model, BOS, EOS, beam_size=3, max_len=3, length_penalty=2.0)
    assert ranked[0][0] == (2, 1)  # log 0.385 / (7/6)² > log 0.45 / 1
    assert ranked[0][1] == pytest.approx(np.log(0.385))  # the score stays the plain sum


def test_sampling_temperature():
    model = random_model(0, vocab=5)
    cold = decoding.sample(model, BOS, EOS, max_len=6, temperature=1e-4, rng=1)
    assert cold == decoding.greedy(model, BOS, EOS, max_len=6)
    rng = np.random.default_rng(0)
    draws = {decoding.sample(model, BOS, EOS, max_len=6, rng=rng)[0] for _ in range(50)}
    assert len(draws) > 5


def test_clear_errors():
    model = random_model(0)
    with pytest.raises(ValueError, match="beam_size: expected an integer >= 1, got 0"):
        decoding.beam_search(model, BOS, EOS, beam_size=0, max_len=3)
    with pytest.raises(ValueError, match="max_len: expected an integer >= 1, got 0"):
        decoding.greedy(model, BOS, EOS, max_len=0)
    with pytest.raises(ValueError, match="length_penalty: expected a number >= 0"):
        decoding.beam_search(model, BOS, EOS, beam_size=2, max_len=3, length_penalty=-1)
    with pytest.raises(ValueError, match="temperature: expected a number > 0"):
        decoding.sample(model, BOS, EOS, max_len=3, temperature=0)
    with pytest.raises(ValueError, match=r"next_log_probs\(prefix\): expected 1 dimensions"):
        decoding.greedy(lambda prefix: np.zeros((2, 2)), BOS, EOS, max_len=3)
    with pytest.raises(ValueError, match=r"expected log-probabilities"):
        decoding.greedy(lambda prefix: np.array([0.5, 0.5]), BOS, EOS, max_len=3)
    with pytest.raises(ValueError, match=r"next_log_probs\(prefix\): expected shape \(V,\) = \(4,\)"):
        decoding.greedy(lambda prefix: np.full(3 + len(prefix), -2.0), BOS, EOS, max_len=3)
