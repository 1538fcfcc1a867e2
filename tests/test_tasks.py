"""Tests of the synthetic tasks: structure, targets, baselines computed from data, errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook import tasks
from rnnbook.tasks import REBER_GRAPH, REBER_SYMBOLS


# --- adding problem, modern form ------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(T=st.integers(2, 40), B=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_adding_modern_structure(T, B, seed):
    d = tasks.adding_problem(T, B, rng=seed)
    assert d.xs.shape == (T, B, 2) and d.ys.shape == (B, 1) and d.xs.dtype == np.float64  # as rnn.init
    markers = d.xs[:, :, 1]
    assert np.all(markers[: T // 2].sum(0) == 1) and np.all(markers[T // 2 :].sum(0) == 1)
    assert np.all((d.xs[:, :, 0] >= 0) & (d.xs[:, :, 0] < 1))
    np.testing.assert_allclose(d.ys[:, 0], (d.xs[:, :, 0] * markers).sum(0), rtol=1e-6)
    assert d.lengths.tolist() == [T] * B


def test_adding_is_seeded():
    a, b = tasks.adding_problem(20, 3, rng=7), tasks.adding_problem(20, 3, rng=7)
    assert np.array_equal(a.xs, b.xs)
    assert not np.array_equal(a.xs, tasks.adding_problem(20, 3, rng=8).xs)
    assert tasks.adding_problem(5, 2, rng=0, dtype=np.float64).xs.dtype == np.float64


def test_adding_modern_baseline_matches_data():
    d = tasks.adding_problem(10, 40_000, rng=0, dtype=np.float64)
    base = tasks.adding_baseline("modern")
    assert base.mse == pytest.approx(1 / 6)
    assert np.mean((base.prediction - d.ys) ** 2) == pytest.approx(base.mse, abs=3e-3)


# --- adding problem, Hochreiter & Schmidhuber's form ---------------------------


def test_adding_hs_follows_the_paper():
    T, B = 40, 300
    d = tasks.adding_problem_hs(T, B, rng=1, dtype=np.float64)
    assert d.lengths.min() >= T and d.lengths.max() <= T + T // 10
    assert d.xs.shape == (d.lengths.max(), B, 2)
    for b, n in enumerate(d.lengths):
        values, markers = d.xs[:n, b, 0], d.xs[:n, b, 1]
        marked = np.flatnonzero(markers == 1.0)
        assert len(marked) == 2 and marked[0] < 10 and marked[1] < T // 2
        assert n - 1 - marked.max() >= T // 2  # minimal time lag T/2
        assert markers[n - 1] == -1.0 and (markers[0] == -1.0 or marked[0] == 0)
        assert np.count_nonzero(markers) == 2 + (markers[0] == -1.0) + 1
        if marked[0] == 0:  # the marked value on the first pair counts as zero
            assert values[0] == 0.0
        assert d.ys[b, 0] == pytest.approx(0.5 + values[marked].sum() / 4)
        assert np.all(d.xs[n:, b] == 0)  # padding
    assert np.all(np.abs(d.xs[:, :, 0]) <= 1)


def test_adding_hs_fixed_length_and_baseline():
    d = tasks.adding_problem_hs(20, 30_000, rng=2, variable_length=False, dtype=np.float64)
    assert d.xs.shape[0] == 20 and set(d.lengths.tolist()) == {20}
    base = tasks.adding_baseline("hs", seq_len=20)
    assert base.mse == pytest.approx((2 - 0.2) / 48)  # p0 = 1/10 + 9/10 * 1/9
    assert np.mean((base.prediction - d.ys) ** 2) == pytest.approx(base.mse, rel=0.03)


def test_adding_accuracy():
    y = np.array([[0.5], [0.5], [0.5]])
    assert tasks.adding_accuracy(y + np.array([[0.0], [0.039], [0.041]]), y) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="targets"):
        tasks.adding_accuracy(y, y[:2])


# --- copy task ----------------------------------------------------------------


def test_copy_task_layout():
    T, B = 30, 5
    d = tasks.copy_task(T, B, rng=0)
    tokens = d.xs.argmax(-1)
    assert d.xs.shape == (T + 20, B, 10) and d.ys.shape == (T + 20, B)
    assert np.all((tokens[:10] >= 1) & (tokens[:10] <= 8))
    assert np.all(tokens[10 : T + 9] == 0) and np.all(tokens[T + 9] == 9) and np.all(tokens[T + 10 :] == 0)
    assert np.all(d.ys[: T + 10] == 0) and np.array_equal(d.ys[T + 10 :], tokens[:10])


def test_copy_baseline_is_the_memoryless_cross_entropy():
    T = 100
    d = tasks.copy_task(T, 4, rng=0)
    probs = np.zeros((T + 20, 10))
    probs[: T + 10, 0] = 1.0  # blank for sure
    probs[T + 10 :, 1:9] = 1 / 8  # then any data symbol
    ce = -np.mean(np.log(np.take_along_axis(probs[:, None, :], d.ys[..., None], -1)))
    assert ce == pytest.approx(tasks.copy_baseline(T))
    assert tasks.copy_baseline(T) == pytest.approx(10 * math.log(8) / 120)


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"tokens: expected values in \[0, 2\]"):
        tasks.one_hot(np.array([3]), 3)
    with pytest.raises(TypeError, match="tokens"):
        tasks.one_hot(np.array([0.5]), 3)


# --- embedded Reber grammar ---------------------------------------------------


def _accepted_by_reber(string):
    """Walk Reber's graph: True if the string is in the grammar."""
    if string[0] != "B" or string[-1] != "E":
        return False
    node = 1
    for symbol in string[1:-1]:
        moves = dict(REBER_GRAPH.get(node, ()))
        if symbol not in moves:
            return False
        node = moves[symbol]
    return node == 6


def test_embedded_reber_strings_are_grammatical():
    rng = np.random.default_rng(0)
    for _ in range(300):
        string, legal = tasks.embedded_reber_string(rng)
        assert string[0] == "B" and string[-1] == "E" and string[1] == string[-2] in "TP"
        assert _accepted_by_reber(string[2:-2])
        assert len(string) >= 9 and len(legal) == len(string) - 1
        assert all(nxt in allowed for nxt, allowed in zip(string[1:], legal))


def test_reber_batch_and_padding():
    samples = [tasks.embedded_reber_string(s) for s in range(5)]
    d = tasks.reber_batch(samples)
    T = max(len(s) for s, _ in samples) - 1
    assert d.xs.shape == (T, 5, 7) and d.legal.shape == (T, 5, 7)
    for b, (string, _) in enumerate(samples):
        n = len(string) - 1
        assert d.lengths[b] == n
        assert "".join(REBER_SYMBOLS[i] for i in d.xs[:n, b].argmax(-1)) == string[:-1]
        assert np.all(d.xs[n:, b] == 0) and np.all(d.ys[n:, b] == -100)
        assert d.legal[np.arange(n), b, d.ys[:n, b]].all()  # the true next symbol is legal
    with pytest.raises(ValueError, match="samples"):
        tasks.reber_batch([])


def test_reber_correct_oracle_and_mistakes():
    d = tasks.reber_batch([tasks.embedded_reber_string(s) for s in range(8)])
    oracle = d.legal.astype(np.float64)
    assert tasks.reber_correct(oracle, d.legal, d.lengths).all()
    wrong = oracle.copy()
    wrong[d.lengths[3] - 2, 3] = 1 - wrong[d.lengths[3] - 2, 3]  # the T/P before the final E
    result = tasks.reber_correct(wrong, d.legal, d.lengths)
    assert not result[3] and result[np.arange(8) != 3].all()
    with pytest.raises(ValueError, match="lengths"):
        tasks.reber_correct(oracle, d.legal, d.lengths[:2])


def _correct_by_hand(scores, legal, lengths):
    """H&S's criterion string by string, step by step, over the valid steps only."""
    return [
        all(
            min(scores[t, b][legal[t, b]], default=np.inf) > max(scores[t, b][~legal[t, b]], default=-np.inf)
            for t in range(n)
        )
        for b, n in enumerate(lengths)
    ]


def test_reber_correct_reads_only_the_valid_steps():
    """Beyond a string's length, legal sets and scores are arbitrary (a caller's padding need
    not be all false): the answer must depend on the valid steps alone."""
    rng = np.random.default_rng(0)
    d = tasks.reber_batch([tasks.embedded_reber_string(s) for s in range(16)])
    valid = np.arange(len(d.xs))[:, None] < d.lengths[None, :]
    for trial in range(20):
        scores = d.legal + rng.normal(0, 0.3 * (trial % 3), d.legal.shape)  # some strings right, some wrong
        legal = np.where(valid[..., None], d.legal, rng.random(d.legal.shape) < 0.5)
        scores = np.where(valid[..., None], scores, rng.normal(0, 5, scores.shape))
        assert tasks.reber_correct(scores, legal, d.lengths).tolist() == _correct_by_hand(scores, legal, d.lengths)
    # without the mask the padding would decide: this input makes the difference
    assert not all(_correct_by_hand(scores, legal, np.full(16, len(d.xs))))


# --- noisy sine ---------------------------------------------------------------


def test_noisy_sine_targets():
    d = tasks.noisy_sine(60, 4, rng=0, horizon=5, noise_std=0.2, dtype=np.float64)
    assert d.xs.shape == (60, 4, 1) and d.ys.shape == d.clean.shape == (60, 4, 5)
    for k in range(5):
        assert np.array_equal(d.ys[: 60 - 1 - k, :, k], d.xs[1 + k :, :, 0])
    assert np.all(np.abs(d.clean) <= 1)
    assert np.std(d.ys - d.clean) == pytest.approx(0.2, rel=0.1)
    clean = tasks.noisy_sine(30, 2, rng=0, noise_std=0.0)
    assert np.array_equal(clean.ys, clean.clean)


# --- errors name the argument -------------------------------------------------


# --- associative recall -------------------------------------------------------


def recall_by_definition(tokens, n_pairs, n_keys):
    """The targets of one sequence, read off its tokens with a dictionary, step by step."""
    pairs = {}
    for t in range(0, 2 * n_pairs, 2):
        key, value = int(tokens[t]), int(tokens[t + 1])
        assert 1 <= key <= n_keys < value and key not in pairs and value not in pairs.values()
        pairs[key] = value
    targets = [tasks.IGNORE] * (2 * n_pairs)
    for token in tokens[2 * n_pairs :]:
        targets.append(pairs[int(token)] if token != 0 else tasks.IGNORE)
    return targets


def test_associative_recall_matches_its_definition():
    P, K, V, L, B = 3, 5, 4, 7, 200
    d = tasks.associative_recall(L, B, rng=0, n_pairs=P, n_keys=K, n_values=V)
    assert d.xs.shape == (2 * P + L, B, 1 + K + V) and d.ys.shape == (2 * P + L, B)
    assert np.all(d.xs.sum(-1) == 1)
    tokens = d.xs.argmax(-1)
    assert tokens.max() <= K + V
    asked = set()
    for b in range(B):
        assert d.ys[:, b].tolist() == recall_by_definition(tokens[:, b], P, K)
        queries = [int(k) for k in tokens[2 * P :, b] if k != 0]
        assert sorted(queries) == sorted(int(k) for k in tokens[0 : 2 * P : 2, b])  # each key asked once
        asked.update((t, int(tokens[t, b])) for t in range(2 * P, 2 * P + L) if tokens[t, b] != 0)
    assert {t for t, _ in asked} == set(range(2 * P, 2 * P + L))  # every step can hold a query
    assert {k for _, k in asked} == set(range(1, K + 1))  # and every key can be asked


def test_associative_recall_is_seeded_and_checks_its_sizes():
    a, b = (tasks.associative_recall(6, 2, rng=1) for _ in range(2))
    assert np.array_equal(a.xs, b.xs) and np.array_equal(a.ys, b.ys)
    with pytest.raises(ValueError, match=r"n_pairs: expected at most n_keys, n_values and seq_len \(3, 8, 6\), got 4"):
        tasks.associative_recall(6, 2, n_pairs=4, n_keys=3)
    with pytest.raises(ValueError, match="n_values: expected an integer >= 1, got 0"):
        tasks.associative_recall(6, 2, n_values=0)
    with pytest.raises(TypeError, match="seq_len: expected an integer, got float"):
        tasks.associative_recall(6.0, 2)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: tasks.adding_problem(1, 2), "seq_len: expected an integer >= 2, got 1"),
        (lambda: tasks.adding_problem(10, 0), "batch_size: expected an integer >= 1, got 0"),
        (lambda: tasks.adding_problem_hs(10, 2), "seq_len: expected an integer >= 20, got 10"),
        (lambda: tasks.adding_baseline("other"), "form: expected one of 'modern', 'hs', got 'other'"),
        (lambda: tasks.adding_baseline("hs", seq_len=10), "seq_len: expected an integer >= 20, got 10"),
        (lambda: tasks.copy_task(0, 2), "delay: expected an integer >= 1, got 0"),
        (lambda: tasks.noisy_sine(10, 2, noise_std=-1), "noise_std: expected a number >= 0"),
        (lambda: tasks.noisy_sine(10, 2, periods=(5, 2)), r"periods: expected low <= high"),
        (lambda: tasks.noisy_sine(10, 2, horizon=0), "horizon: expected an integer >= 1"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_types():
    with pytest.raises(TypeError, match="seq_len: expected an integer, got float"):
        tasks.adding_problem(10.0, 2)
    with pytest.raises(TypeError, match="rng"):
        tasks.adding_problem(10, 2, rng="seed")
