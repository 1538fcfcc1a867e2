"""The simple baselines behind the pass lines, against computations written out by hand."""

import math
from collections import Counter

import numpy as np

from rnnbook import corpus, tasks


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
