"""The simple baselines behind the pass lines, against computations written out by hand."""

import math
from collections import Counter

import numpy as np
import pytest

from rnnbook import corpus, experiments, seq2seq_data, sequence_tasks, tasks


def test_bigram_bits_by_counting_pairs():
    rng = np.random.default_rng(0)
    train, valid, V = rng.integers(0, 4, size=300), rng.integers(0, 4, size=50), 5
    pairs, firsts = Counter(zip(train[:-1], train[1:])), Counter(train[:-1])
    bits = [-math.log2((pairs[(a, b)] + 1) / (firsts[a] + V)) for a, b in zip(valid[:-1], valid[1:])]
    assert math.isclose(corpus.bigram_bits(train, valid, V), sum(bits) / len(bits), rel_tol=1e-12)


def test_lagged_rows_hold_the_last_values():
    xs = np.random.default_rng(1).standard_normal((6, 2, 1))
    rows = tasks.lagged(xs, 3)
    for t in range(6):
        for b in range(2):
            expected = [xs[t - k, b, 0] if t - k >= 0 else 0.0 for k in range(3)] + [1.0]
            np.testing.assert_array_equal(rows[t, b], expected)


def test_linear_ar_is_the_least_squares_fit():
    fit = tasks.noisy_sine(30, 8, rng=2, horizon=2)
    data = tasks.noisy_sine(30, 4, rng=3, horizon=2)
    X = tasks.lagged(fit.xs, 5).reshape(-1, 6)
    W = np.linalg.solve(X.T @ X, X.T @ fit.ys.reshape(-1, 2))  # the normal equations
    expected = np.mean((tasks.lagged(data.xs, 5) @ W - data.ys) ** 2)
    assert math.isclose(tasks.linear_ar_mse(fit, data, order=5), expected, rel_tol=1e-8)


def test_a_clean_sine_of_one_period_is_linear():
    """sin satisfies x_{t+1} = 2 cos(w) x_t - x_{t-1}: an AR(2) forecast is exact."""
    fit = tasks.noisy_sine(40, 4, rng=4, noise_std=0.0, periods=(16.0, 16.0))
    data = tasks.noisy_sine(40, 4, rng=5, noise_std=0.0, periods=(16.0, 16.0))
    assert tasks.linear_ar_mse(fit, data, order=2) < 0.01  # only the first steps, before two values are seen


# The baselines of the accuracy experiments (negation, langid, selective copying, dates, numbers).


def test_the_bag_of_tokens_is_naive_bayes_with_add_one_smoothing():
    rng = np.random.default_rng(6)
    V = 6
    data = [(list(rng.integers(0, V, size=rng.integers(1, 8))), int(rng.integers(0, 3))) for _ in range(80)]
    train, test = data[:60], data[60:]
    labels = sorted({label for _, label in train})
    docs = Counter(label for _, label in train)
    counts = {c: Counter(t for ids, label in train if label == c for t in ids) for c in labels}
    right = 0
    for ids, label in test:
        score = {
            c: math.log(docs[c] / len(train))
            + sum(math.log((counts[c][t] + 1) / (sum(counts[c].values()) + V)) for t in ids)
            for c in labels
        }
        right += max(score, key=score.get) == label
    assert math.isclose(sequence_tasks.bag_of_tokens_accuracy(train, test, V), right / len(test))


def test_each_token_alone_gets_its_most_frequent_tag():
    train = [([1, 2, 1], [0, 1, 1]), ([1, 3], [1, 0]), ([2], [1])]  # 1: tag 1 twice, 0 once; 2: 1; 3: 0
    test = [([1, 2, 3, 4], [1, 0, 0, 1])]  # 4 is unseen: the most frequent tag overall, 1
    assert sequence_tasks.token_tag_accuracy(train, test) == 3 / 4


def test_the_best_constant_answer_is_the_most_frequent_label():
    assert sequence_tasks.most_frequent_share(["2001-01-01", "1999-12-31", "2001-01-01"]) == 2 / 3
    with pytest.raises(ValueError, match="labels: expected at least one label"):
        sequence_tasks.most_frequent_share([])


def test_the_best_guess_blind_to_order_is_right_at_the_largest_count():
    """Whatever symbol it answers, an order-blind guess is right at count / n_copy of the markers:
    the best is the largest count, by sequence, counted here from the targets."""
    data = tasks.selective_copying(12, 200, rng=7, n_symbols=3, n_copy=5)
    answers = data.ys[data.ys != tasks.IGNORE].reshape(5, 200)
    expected = np.mean([max(Counter(answers[:, b]).values()) / 5 for b in range(200)])
    assert math.isclose(tasks.selective_copying_bag_accuracy(data), expected)


def test_a_word_by_word_table_solves_spelled_numbers_and_fails_an_unseen_word():
    fit = seq2seq_data.number_pairs(30, 8, language="it")
    test = seq2seq_data.number_pairs(10, 9, language="it")
    assert seq2seq_data.word_by_word_accuracy(fit, test) == 1.0
    assert seq2seq_data.word_by_word_accuracy([("uno due", "12")], [("uno due", "12"), ("tre", "3")]) == 0.5
    with pytest.raises(ValueError, match="fit: expected one target character per source word"):
        seq2seq_data.word_by_word_accuracy([("uno due", "1")], test)


def test_the_margin_is_cleared_by_chance_about_once_in_fifty_runs():
    """An accuracy at p = 1/2 on n examples exceeds 1/2 + 1/sqrt(n) in about 2.3 % of runs (two standard errors)."""
    n = 400
    accuracies = np.random.default_rng(10).binomial(n, 0.5, size=20_000) / n
    share = np.mean(accuracies > 0.5 + experiments.accuracy_margin(n))
    assert 0.01 < share < 0.03
