"""Synthetic sequence tasks for the labs: adding, copying, selective copying, recall, Reber, noisy sine.

Every generator takes a seeded ``rng`` (None, an int seed or a numpy Generator) and
returns numpy arrays laid out **time-major**, like PyTorch's recurrent layers:
inputs are (T, B, D) for T time steps, B sequences and D input features. Each task
also computes the loss of its trivial, memoryless baseline from the task's
distribution, so a learning curve can be read against it.

>>> from rnnbook.tasks import adding_problem, adding_baseline
>>> data = adding_problem(100, 4, rng=0)
>>> data.xs.shape, data.ys.shape
((100, 4, 2), (4, 1))
>>> round(adding_baseline().mse, 4)
0.1667
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._validate import as_rng, check_array, check_choice, check_dtype, check_float, check_int


def _var_uniform(low, high):
    """Variance of the uniform distribution U(low, high): (high - low)^2 / 12."""
    return (high - low) ** 2 / 12


# ---------------------------------------------------------------------------
# The adding problem
# ---------------------------------------------------------------------------


class AddingData(NamedTuple):
    """A batch of the adding problem.

    xs: (T, B, 2) float; channel 0 holds the values, channel 1 the markers.
    ys: (B, 1) float; the target, read by the model after the last step.
    lengths: (B,) int64; the number of valid steps of each sequence (all T in
        the modern form; the steps after ``lengths[b]`` are zero padding).
    """

    xs: np.ndarray
    ys: np.ndarray
    lengths: np.ndarray


class Baseline(NamedTuple):
    """The best constant prediction and its mean squared error."""

    prediction: float
    mse: float


# --8<-- [start:adding_modern]
def adding_problem(seq_len, batch_size, rng=None, *, dtype=np.float64):
    """The adding problem in its modern form (as in Le et al. 2015, Arjovsky et al. 2016).

    Each step carries a pair (value, marker): values are drawn from U(0, 1) and
    exactly two markers are 1, one at a random step of the first half and one in
    the second half. The target is the sum of the two marked values, so the
    network must remember one number across up to T - 1 steps.

    Args:
        seq_len: T, the number of steps (at least 2).
        batch_size: B, the number of sequences.
        rng: None, an int seed or a numpy Generator.
        dtype: float64 (default, as :func:`rnnbook.rnn.init`) or float32.

    Returns:
        ``AddingData(xs (T, B, 2), ys (B, 1), lengths (B,))``.

    >>> import numpy as np
    >>> from rnnbook.tasks import adding_problem
    >>> d = adding_problem(6, 3, rng=1)
    >>> d.xs[:, :, 1].sum(axis=0)           # two markers in every sequence
    array([2., 2., 2.])
    >>> bool(np.allclose(d.ys[:, 0], (d.xs[:, :, 0] * d.xs[:, :, 1]).sum(axis=0)))
    True
    """
    T = check_int("seq_len", seq_len, minimum=2)
    B = check_int("batch_size", batch_size, minimum=1)
    dtype = check_dtype("dtype", dtype)
    rng = as_rng(rng)
    values = rng.uniform(0.0, 1.0, size=(T, B))
    markers = np.zeros((T, B))
    first = rng.integers(0, T // 2, size=B)  # a step in the first half
    second = rng.integers(T // 2, T, size=B)  # a step in the second half
    markers[first, np.arange(B)] = 1.0
    markers[second, np.arange(B)] = 1.0
    xs = np.stack([values, markers], axis=-1).astype(dtype)
    ys = (xs[:, :, 0] * xs[:, :, 1]).sum(axis=0, keepdims=True).T
    return AddingData(xs, ys, np.full(B, T, dtype=np.int64))


# --8<-- [end:adding_modern]


def adding_problem_hs(seq_len, batch_size, rng=None, *, variable_length=True, dtype=np.float64):
    """The adding problem as Hochreiter & Schmidhuber (1997, §5.4, experiment 4) describe it.

    Following the paper: each step carries a pair (value, marker). Values are
    drawn from U(-1, 1). One of the first ten pairs is marked (its value is X1),
    then one of the first T/2 - 1 still unmarked pairs (value X2): both markers
    lie in the first half, so the minimal time lag is T/2. Markers are 1.0 for
    the two marked pairs, -1.0 for the first and the final pair when unmarked,
    0.0 elsewhere. "In the rare case where the first pair of the sequence gets
    marked, we set X1 to zero." The sequence length is drawn between T and
    T + T/10, and the target, given at the sequence end, is 0.5 + (X1 + X2) / 4,
    the sum scaled to [0, 1]; a sequence counts as processed correctly when the
    absolute error is below 0.04.

    Our reading where the paper is not explicit (we are not certain of these):
    the length is drawn uniformly among the integers T, ..., T + floor(T/10);
    "the first T/2 - 1 still unmarked pairs" are the first floor(T/2) pairs
    without X1's pair, so X2 too can fall on the first pair; whichever marked
    value sits on the first pair is set to zero, in the input as well, so the
    marked values still add up to the target. Batches are padded with zeros
    after each sequence's end; ``lengths`` tells where each one ends.

    Args:
        seq_len: T, the minimal length (at least 20, so that the first ten pairs
            lie in the first half).
        batch_size: B.
        rng: None, an int seed or a numpy Generator.
        variable_length: if False, every sequence has exactly T steps.
        dtype: float64 (default, as :func:`rnnbook.rnn.init`) or float32.

    Returns:
        ``AddingData(xs (T_max, B, 2), ys (B, 1), lengths (B,))`` with
        T <= T_max <= T + T // 10.

    >>> import numpy as np
    >>> from rnnbook.tasks import adding_problem_hs
    >>> d = adding_problem_hs(100, 4, rng=0)
    >>> bool(d.lengths.min() >= 100 and d.lengths.max() <= 110)
    True
    >>> bool(np.all((d.ys >= 0) & (d.ys <= 1)))
    True
    """
    T = check_int("seq_len", seq_len, minimum=20)
    B = check_int("batch_size", batch_size, minimum=1)
    dtype = check_dtype("dtype", dtype)
    rng = as_rng(rng)
    lengths = rng.integers(T, T + T // 10 + 1, size=B) if variable_length else np.full(B, T)
    steps, seqs = np.arange(lengths.max())[:, None], np.arange(B)
    values = rng.uniform(-1.0, 1.0, size=(len(steps), B))
    values[steps >= lengths] = 0.0  # padding after each sequence's end
    markers = np.zeros_like(values)
    markers[0], markers[lengths - 1, seqs] = -1.0, -1.0  # first and final pair, unless marked
    p1 = rng.integers(0, 10, size=B)  # X1: one of the first ten pairs
    r = rng.integers(0, T // 2 - 1, size=B)
    p2 = r + (r >= p1)  # X2: one of the first T/2 pairs, skipping X1's
    markers[p1, seqs], markers[p2, seqs] = 1.0, 1.0
    values[0, markers[0] == 1.0] = 0.0  # "where the first pair gets marked, we set X1 to zero"
    ys = 0.5 + (values[p1, seqs] + values[p2, seqs]) / 4.0
    xs = np.stack([values, markers], axis=-1)
    return AddingData(xs.astype(dtype), ys[:, None].astype(dtype), lengths.astype(np.int64))


def adding_baseline(form="modern", seq_len=None):
    """The trivial baseline of the adding problem: the best constant prediction.

    The best constant is the target's mean and its MSE is the target's variance,
    computed here from the generating distribution. Modern form: the sum of two
    independent U(0, 1) values has mean 1 and variance 2/12 = 1/6, so
    "always predict 1" scores MSE 1/6. Hochreiter & Schmidhuber's form: the
    target 0.5 + (X1 + X2)/4 has mean 0.5; X1, X2 ~ U(-1, 1) have variance 1/3
    each, but the marked value on the first pair, if any, is zero. The first pair
    is marked with probability p0 = 1/10 + (9/10) / (T/2 - 1), so the variance
    is (2 - p0) / 3 / 16, about 1/25 for T = 100.

    Args:
        form: "modern" (``adding_problem``) or "hs" (``adding_problem_hs``).
        seq_len: T, needed for the "hs" form only.

    Returns:
        ``Baseline(prediction, mse)``.

    >>> from rnnbook.tasks import adding_baseline
    >>> adding_baseline("modern")
    Baseline(prediction=1.0, mse=0.16666666666666666)
    >>> round(adding_baseline("hs", seq_len=100).mse, 5)
    0.0392
    """
    check_choice("form", form, ("modern", "hs"))
    if form == "modern":
        return Baseline(2 * 0.5, 2 * _var_uniform(0.0, 1.0))
    T = check_int("seq_len", seq_len, minimum=20)
    p_first = 1 / 10 + (9 / 10) / (T // 2 - 1)  # X1 on the first pair, or else X2
    var_sum = (2 - p_first) * _var_uniform(-1.0, 1.0)
    return Baseline(0.5, var_sum / 4.0**2)


def adding_accuracy(predictions, targets, tolerance=0.04):
    """Fraction of sequences with absolute error below ``tolerance`` (H&S 1997's criterion).

    Args:
        predictions, targets: (B, 1) float arrays.
        tolerance: the largest accepted absolute error (0.04 in H&S 1997).

    >>> import numpy as np
    >>> from rnnbook.tasks import adding_accuracy
    >>> adding_accuracy(np.array([[0.5], [0.9]]), np.array([[0.51], [0.5]]))
    0.5
    """
    dims = {}
    check_array("predictions", predictions, shape=("B", 1), dims=dims)
    check_array("targets", targets, shape=("B", 1), dims=dims)
    tolerance = check_float("tolerance", tolerance, minimum=0, strict_minimum=True)
    return float(np.mean(np.abs(predictions - targets) < tolerance))


# ---------------------------------------------------------------------------
# The copy task
# ---------------------------------------------------------------------------


class CopyData(NamedTuple):
    """A batch of the copy task: ``xs`` (T + 20, B, 10) one-hot float, ``ys`` (T + 20, B) int64."""

    xs: np.ndarray
    ys: np.ndarray


BLANK = 0  # symbol a_0 of Arjovsky et al. (2016)


def copy_task(delay, batch_size, rng=None, *, n_symbols=8, n_copy=10, dtype=np.float64):
    """The copy task of Arjovsky, Shah & Bengio (2016, §4.1).

    Symbols are 0 (blank), 1..8 (data) and 9 (delimiter). The input is 10 random
    data symbols, T - 1 blanks, the delimiter, then 10 blanks; the target is
    T + 10 blanks followed by the 10 data symbols. Total length T + 20.

    Args:
        delay: T, the delay (at least 1): T - 1 blanks and the delimiter separate
            the data from the recall, so each symbol is recalled T + n_copy steps later.
        batch_size: B.
        rng: None, an int seed or a numpy Generator.
        n_symbols: the number of data symbols (8 in the paper).
        n_copy: the number of symbols to copy (10 in the paper).
        dtype: dtype of the one-hot inputs.

    Returns:
        ``CopyData(xs (T + 2 n_copy, B, n_symbols + 2), ys (T + 2 n_copy, B))``.

    >>> from rnnbook.tasks import copy_task
    >>> d = copy_task(5, 2, rng=0, n_copy=3)
    >>> d.xs.argmax(-1)[:, 0].tolist()     # 3 symbols, 4 blanks, delimiter, 3 blanks
    [7, 5, 3, 0, 0, 0, 0, 9, 0, 0, 0]
    >>> d.ys[:, 0].tolist()                # 8 blanks, then the 3 symbols again
    [0, 0, 0, 0, 0, 0, 0, 0, 7, 5, 3]
    """
    T = check_int("delay", delay, minimum=1)
    B = check_int("batch_size", batch_size, minimum=1)
    S = check_int("n_symbols", n_symbols, minimum=1)
    K = check_int("n_copy", n_copy, minimum=1)
    rng = as_rng(rng)
    data = rng.integers(1, S + 1, size=(K, B))
    delimiter = S + 1
    tokens = np.full((T + 2 * K, B), BLANK, dtype=np.int64)
    tokens[:K] = data
    tokens[K + T - 1] = delimiter
    ys = np.full_like(tokens, BLANK)
    ys[T + K :] = data
    return CopyData(one_hot(tokens, S + 2, dtype=dtype), ys)


def copy_baseline(delay, *, n_symbols=8, n_copy=10):
    """Cross-entropy per step of the memoryless strategy (Arjovsky et al. 2016).

    Predict blank for the first T + n_copy steps (no loss, as the model may learn
    that with certainty), then the uniform distribution over the data symbols for the
    last n_copy steps: n_copy ln(n_symbols) / (T + 2 n_copy) nats per step.

    >>> from rnnbook.tasks import copy_baseline
    >>> round(copy_baseline(100), 3)
    0.173
    """
    T = check_int("delay", delay, minimum=1)
    S = check_int("n_symbols", n_symbols, minimum=1)
    K = check_int("n_copy", n_copy, minimum=1)
    return K * math.log(S) / (T + 2 * K)


# ---------------------------------------------------------------------------
# Selective copying
# ---------------------------------------------------------------------------


IGNORE = -100  # the target of a step without loss (PyTorch's ignore_index)


def selective_copying(seq_len, batch_size, rng=None, *, n_symbols=8, n_copy=4, dtype=np.float32):
    """Selective copying (Gu & Dao 2023, §3.1): copy the symbols scattered among noise, in order.

    Symbols are 0 (noise), 1..n_symbols (data) and n_symbols + 1 (the marker that
    asks for an answer). The input is ``seq_len`` steps of noise with ``n_copy``
    random data symbols at random positions, then ``n_copy`` markers; the targets
    are the data symbols, in order, at the markers and ``IGNORE`` before them.
    Unlike the copy task, where the symbols are always in the same places, a model
    must decide from the content of each step whether to keep it.

    Returns:
        ``CopyData(xs (seq_len + n_copy, B, n_symbols + 2), ys (seq_len + n_copy, B))``.

    >>> from rnnbook.tasks import selective_copying
    >>> d = selective_copying(6, 1, rng=0, n_copy=2)
    >>> d.xs.argmax(-1)[:, 0].tolist()
    [0, 7, 6, 0, 0, 0, 9, 9]
    >>> d.ys[:, 0].tolist()
    [-100, -100, -100, -100, -100, -100, 7, 6]
    """
    L = check_int("seq_len", seq_len, minimum=1)
    B = check_int("batch_size", batch_size, minimum=1)
    S = check_int("n_symbols", n_symbols, minimum=1)
    K = check_int("n_copy", n_copy, minimum=1, maximum=L)
    rng = as_rng(rng)
    data = rng.integers(1, S + 1, size=(K, B))
    positions = np.sort(np.argsort(rng.random((L, B)), axis=0)[:K], axis=0)  # K distinct steps per sequence
    tokens = np.full((L + K, B), BLANK, dtype=np.int64)
    np.put_along_axis(tokens, positions, data, axis=0)
    tokens[L:] = S + 1
    ys = np.full_like(tokens, IGNORE)
    ys[L:] = data
    return CopyData(one_hot(tokens, S + 2, dtype=dtype), ys)


class RecallData(NamedTuple):
    """A batch of associative recall: ``xs`` (2P + L, B, 1 + K + V) one-hot float, ``ys`` (2P + L, B) int64."""

    xs: np.ndarray
    ys: np.ndarray


def associative_recall(seq_len, batch_size, rng=None, *, n_pairs=4, n_keys=8, n_values=8, dtype=np.float32):
    """Multi-query associative recall (MQAR, Arora et al. 2023, "Zoology"): the value of each key, when asked.

    Symbols are 0 (noise), 1..K (keys) and K + 1..K + V (values). The input opens
    with P key-value pairs ``k_1 v_1 ... k_P v_P`` (P distinct keys, P distinct
    values, drawn without replacement), then ``seq_len`` steps of noise in which
    each of the P keys comes back once, at random distinct steps in random order.
    The target at a returning key is its value; everywhere else ``IGNORE``. A model
    must bind each key to the value that followed it and keep all P bindings until
    asked. The authors' generator (``multiquery_ar`` in HazyResearch/zoology) lays
    out the sequence the same way, keys and values from disjoint symbols, but draws
    the positions of the queries from a power law that favours short gaps and by
    default fills the other steps with random symbols; here the positions are
    uniform and the other steps are the noise symbol.

    Args:
        seq_len: L, the steps after the pairs (at least ``n_pairs``).
        batch_size: B.
        rng: None, an int seed or a numpy Generator.
        n_pairs: P, the key-value pairs of each sequence (at most K and V).
        n_keys: K, the key symbols.
        n_values: V, the value symbols.
        dtype: dtype of the one-hot inputs.

    Returns:
        ``RecallData(xs (2P + L, B, 1 + K + V), ys (2P + L, B))``.

    >>> from rnnbook.tasks import associative_recall
    >>> d = associative_recall(5, 1, rng=0, n_pairs=2, n_keys=3, n_values=3)
    >>> d.xs.argmax(-1)[:, 0].tolist()      # keys 1..3, values 4..6, noise 0
    [3, 4, 2, 5, 3, 0, 2, 0, 0]
    >>> d.ys[:, 0].tolist()                 # 3 was followed by 4, 2 by 5
    [-100, -100, -100, -100, 4, -100, 5, -100, -100]
    """
    L = check_int("seq_len", seq_len, minimum=1)
    B = check_int("batch_size", batch_size, minimum=1)
    K = check_int("n_keys", n_keys, minimum=1)
    V = check_int("n_values", n_values, minimum=1)
    P = check_int("n_pairs", n_pairs, minimum=1)
    if P > min(K, V, L):
        raise ValueError(f"n_pairs: expected at most n_keys, n_values and seq_len ({K}, {V}, {L}), got {P}")
    rng = as_rng(rng)
    keys = np.argsort(rng.random((K, B)), axis=0)[:P] + 1  # (P, B): P distinct keys per sequence
    values = np.argsort(rng.random((V, B)), axis=0)[:P] + K + 1
    tokens = np.full((2 * P + L, B), BLANK, dtype=np.int64)
    tokens[0 : 2 * P : 2], tokens[1 : 2 * P : 2] = keys, values
    asked_at = 2 * P + np.sort(np.argsort(rng.random((L, B)), axis=0)[:P], axis=0)  # P distinct steps
    order = np.argsort(rng.random((P, B)), axis=0)  # which pair is asked at each of those steps
    np.put_along_axis(tokens, asked_at, np.take_along_axis(keys, order, axis=0), axis=0)
    ys = np.full_like(tokens, IGNORE)
    np.put_along_axis(ys, asked_at, np.take_along_axis(values, order, axis=0), axis=0)
    return RecallData(one_hot(tokens, 1 + K + V, dtype=dtype), ys)


def selective_copying_bag_accuracy(data):
    """Share of answer tokens right for the best guess that ignores order: the most frequent data symbol.

    Knowing which data symbols a sequence holds but not in which order, every order
    is as likely, so the best answer at each marker is the symbol that occurs most
    often in the input (ties: the smallest); it is right at (its count) / n_copy of
    the markers. This is what a model blind to order can reach at best.

    Args:
        data: a :func:`selective_copying` batch.

    >>> from rnnbook.tasks import selective_copying, selective_copying_bag_accuracy
    >>> d = selective_copying(6, 1, rng=0, n_copy=2)  # data 7 then 6: the guess 6 is right once
    >>> selective_copying_bag_accuracy(d)
    0.5
    """
    if not isinstance(data, CopyData):
        raise TypeError(f"data: expected a selective_copying batch (CopyData), got {type(data).__name__}")
    counts = data.xs[..., 1:-1].sum(axis=0)  # (B, n_symbols): how often each data symbol occurs
    guess = counts.argmax(axis=-1) + 1  # symbols are numbered from 1
    answer = data.ys != IGNORE
    return float((data.ys == guess)[answer].mean())


def one_hot(tokens, n_classes, *, dtype=np.float64):
    """One-hot encode an integer array: (...) -> (..., n_classes).

    >>> import numpy as np
    >>> from rnnbook.tasks import one_hot
    >>> one_hot(np.array([2, 0]), 3)
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    if not isinstance(tokens, np.ndarray) or not np.issubdtype(tokens.dtype, np.integer):
        raise TypeError(f"tokens: expected an integer numpy array, got {type(tokens).__name__}")
    n = check_int("n_classes", n_classes, minimum=1)
    dtype = check_dtype("dtype", dtype)
    if tokens.size and (tokens.min() < 0 or tokens.max() >= n):
        raise ValueError(f"tokens: expected values in [0, {n - 1}], got [{tokens.min()}, {tokens.max()}]")
    return np.eye(n, dtype=dtype)[tokens]


# ---------------------------------------------------------------------------
# The embedded Reber grammar
# ---------------------------------------------------------------------------

REBER_SYMBOLS = "BTSXPVE"

# Reber's grammar as drawn in H&S 1997, §5.1: node -> ((symbol, next node), ...).
# A string starts with B at node 1; reaching node 6 emits E and ends it.
REBER_GRAPH = {
    1: (("T", 2), ("P", 3)),
    2: (("S", 2), ("X", 4)),
    3: (("T", 3), ("V", 5)),
    4: (("X", 3), ("S", 6)),
    5: (("P", 4), ("V", 6)),
}


def reber_string(rng=None):
    """A random string of Reber's grammar and the legal next symbols after each prefix.

    At each node both outgoing edges are taken with probability 1/2.

    Returns:
        ``(string, legal)`` where ``legal[i]`` holds the symbols that may follow
        ``string[: i + 1]``; ``len(legal) == len(string) - 1``.

    >>> from rnnbook.tasks import reber_string
    >>> reber_string(rng=0)
    ('BPVVE', ['TP', 'TV', 'PV', 'E'])
    """
    rng = as_rng(rng)
    string, legal, node = "B", [], 1
    while node != 6:
        edges = REBER_GRAPH[node]
        legal.append("".join(symbol for symbol, _ in edges))
        symbol, node = edges[rng.integers(len(edges))]
        string += symbol
    legal.append("E")
    return string + "E", legal


def embedded_reber_string(rng=None):
    """A string of the embedded Reber grammar (H&S 1997, §5.1).

    B, then T or P, then a Reber string, then the *same* T or P, then E. Predicting
    the second-to-last symbol needs the second symbol, remembered across the whole
    inner string.

    Returns:
        ``(string, legal)`` as in :func:`reber_string`.

    >>> from rnnbook.tasks import embedded_reber_string
    >>> embedded_reber_string(rng=1)
    ('BTBPVVETE', ['TP', 'B', 'TP', 'TV', 'PV', 'E', 'T', 'E'])

    The shortest strings have 9 symbols; in them the two T/P that must match are
    6 steps apart:

    >>> shortest = min((embedded_reber_string(rng=seed)[0] for seed in range(500)), key=len)
    >>> len(shortest), shortest.rindex(shortest[1]) - 1
    (9, 6)
    """
    rng = as_rng(rng)
    branch = "TP"[rng.integers(2)]
    inner, inner_legal = reber_string(rng)
    return "B" + branch + inner + branch + "E", ["TP", "B", *inner_legal, branch, "E"]


class ReberData(NamedTuple):
    """A batch of next-symbol prediction on Reber strings (7 symbols, "BTSXPVE").

    xs: (T, B, 7) one-hot float, the symbols of each string but the last.
    ys: (T, B) int64, the next symbol (``ignore_index`` on padding steps).
    legal: (T, B, 7) bool, the symbols that may legally come next.
    lengths: (B,) int64, the number of valid steps (string length - 1).
    """

    xs: np.ndarray
    ys: np.ndarray
    legal: np.ndarray
    lengths: np.ndarray


def reber_batch(samples, *, ignore_index=-100, dtype=np.float64):
    """Encode (string, legal) pairs for next-symbol prediction, padded to the longest.

    Step t reads symbol t and must predict symbol t + 1; H&S 1997 use the same
    local (one-hot) code with 7 input and 7 output units.

    Args:
        samples: a list of ``(string, legal)`` pairs from :func:`embedded_reber_string`.
        ignore_index: the target written on padding steps (PyTorch's default for
            ``cross_entropy``).
        dtype: dtype of the one-hot inputs.

    >>> from rnnbook.tasks import reber_batch, embedded_reber_string, REBER_SYMBOLS
    >>> d = reber_batch([embedded_reber_string(rng=1)])
    >>> d.xs.shape, d.lengths.tolist()
    ((8, 1, 7), [8])
    >>> "".join(REBER_SYMBOLS[i] for i in d.ys[:, 0])
    'TBPVVETE'
    """
    if not samples:
        raise ValueError("samples: expected at least one (string, legal) pair, got an empty list")
    index = {s: i for i, s in enumerate(REBER_SYMBOLS)}
    lengths = np.array([len(string) - 1 for string, _ in samples], dtype=np.int64)
    T, B, V = int(lengths.max()), len(samples), len(REBER_SYMBOLS)
    tokens = np.zeros((T, B), dtype=np.int64)
    ys = np.full((T, B), ignore_index, dtype=np.int64)
    legal = np.zeros((T, B, V), dtype=bool)
    for b, (string, allowed) in enumerate(samples):
        codes = [index[s] for s in string]
        tokens[: lengths[b], b] = codes[:-1]
        ys[: lengths[b], b] = codes[1:]
        for t, symbols in enumerate(allowed):
            legal[t, b, [index[s] for s in symbols]] = True
    xs = one_hot(tokens, V, dtype=dtype)
    xs[np.arange(T)[:, None] >= lengths[None, :]] = 0.0  # zero input on padding steps
    return ReberData(xs, ys, legal, lengths)


def reber_correct(scores, legal, lengths):
    """H&S 1997's success criterion, string by string.

    A string is processed correctly if, at every step, the output units of the
    legal next symbols are the most active ones: every legal score beats every
    illegal score.

    Args:
        scores: (T, B, 7) float, the network's outputs (logits or probabilities).
        legal: (T, B, 7) bool, from :func:`reber_batch`.
        lengths: (B,) int, the valid steps of each string.

    Returns:
        (B,) bool array.

    >>> import numpy as np
    >>> from rnnbook.tasks import reber_correct
    >>> legal = np.array([[[True, True, False]]])
    >>> reber_correct(np.array([[[0.4, 0.5, 0.1]]]), legal, np.array([1])).tolist()
    [True]
    >>> reber_correct(np.array([[[0.4, 0.1, 0.5]]]), legal, np.array([1])).tolist()
    [False]
    """
    dims = {}
    check_array("scores", scores, shape=("T", "B", "V"), dims=dims)
    if not isinstance(legal, np.ndarray) or legal.dtype != bool or legal.shape != scores.shape:
        got = f"{legal.dtype} {legal.shape}" if isinstance(legal, np.ndarray) else type(legal).__name__
        raise ValueError(f"legal: expected a bool array of shape {scores.shape}, got {got}")
    lengths = np.asarray(lengths)
    if lengths.shape != (dims["B"],):
        raise ValueError(f"lengths: expected shape (B,) = ({dims['B']},), got {lengths.shape}")
    worst_legal = np.where(legal, scores, np.inf).min(axis=-1)
    best_illegal = np.where(legal, -np.inf, scores).max(axis=-1)
    valid = np.arange(dims["T"])[:, None] < lengths[None, :]
    return np.all((worst_legal > best_illegal) | ~valid, axis=0)


# ---------------------------------------------------------------------------
# Noisy sine: time-series prediction
# ---------------------------------------------------------------------------


class SineData(NamedTuple):
    """A batch of noisy-sine forecasting.

    xs: (T, B, 1) the noisy observations x_0 .. x_{T-1}.
    ys: (T, B, K) the next K noisy observations: ys[t, b, k] = x_{t+1+k}.
    clean: (T, B, K) the same targets without noise (the signal to recover).
    """

    xs: np.ndarray
    ys: np.ndarray
    clean: np.ndarray


def noisy_sine(seq_len, batch_size, rng=None, *, horizon=1, noise_std=0.1, periods=(10.0, 40.0), dtype=np.float64):
    """Sine waves with random period and phase plus Gaussian noise, for forecasting.

    Sequence b is s_b(t) = sin(2 pi t / P_b + phi_b) with P_b ~ U(periods) and
    phi_b ~ U(0, 2 pi); we observe x_b(t) = s_b(t) + noise_std * N(0, 1). At each
    step the model reads x(t) and predicts the next ``horizon`` values: horizon 1
    is one-step prediction, horizon K > 1 a direct multi-step forecast.

    Args:
        seq_len: T, the number of input steps.
        batch_size: B.
        rng: None, an int seed or a numpy Generator.
        horizon: K, how many future values each step predicts.
        noise_std: standard deviation of the observation noise (0 for a clean sine).
        periods: (low, high) range of the period, in steps.
        dtype: float64 (default, as :func:`rnnbook.rnn.init`) or float32.

    Returns:
        ``SineData(xs (T, B, 1), ys (T, B, K), clean (T, B, K))``.

    >>> import numpy as np
    >>> from rnnbook.tasks import noisy_sine
    >>> d = noisy_sine(50, 2, rng=0, horizon=3)
    >>> d.xs.shape, d.ys.shape
    ((50, 2, 1), (50, 2, 3))
    >>> bool(np.array_equal(d.ys[:-1, :, 0], d.xs[1:, :, 0]))   # y_t = x_{t+1}
    True
    """
    T = check_int("seq_len", seq_len, minimum=1)
    B = check_int("batch_size", batch_size, minimum=1)
    K = check_int("horizon", horizon, minimum=1)
    noise_std = check_float("noise_std", noise_std, minimum=0)
    dtype = check_dtype("dtype", dtype)
    low, high = (check_float("periods", p, minimum=0, strict_minimum=True) for p in periods)
    if low > high:
        raise ValueError(f"periods: expected low <= high, got ({low}, {high})")
    rng = as_rng(rng)
    period = rng.uniform(low, high, size=B)
    phase = rng.uniform(0.0, 2 * np.pi, size=B)
    t = np.arange(T + K)[:, None]
    signal = np.sin(2 * np.pi * t / period + phase)  # (T + K, B)
    observed = signal + noise_std * rng.standard_normal(signal.shape)
    window = np.arange(1, K + 1)[None, :] + np.arange(T)[:, None]  # (T, K): t + 1 + k
    xs = observed[:T, :, None]
    ys = observed[window].transpose(0, 2, 1)  # (T, K, B) -> (T, B, K)
    clean = signal[window].transpose(0, 2, 1)
    return SineData(xs.astype(dtype), ys.astype(dtype), clean.astype(dtype))


def persistence_mse(data):
    """MSE of the naive forecast "the future equals the last observation".

    The memoryless baseline for :func:`noisy_sine`: predict x_t for every x_{t+1+k}.

    >>> from rnnbook.tasks import noisy_sine, persistence_mse
    >>> d = noisy_sine(200, 8, rng=0, noise_std=0.0, periods=(1e6, 1e6))
    >>> persistence_mse(d) < 1e-8                      # a flat signal is easy
    True
    """
    return float(np.mean((data.ys - data.xs) ** 2))


def mean_forecast_mse(fit, data):
    """MSE of the constant forecast: the mean of the targets of ``fit``, for every target of ``data``.

    >>> from rnnbook.tasks import noisy_sine, mean_forecast_mse
    >>> d = noisy_sine(200, 8, rng=0)
    >>> 0.4 < mean_forecast_mse(noisy_sine(200, 8, rng=1), d) < 0.6   # about the variance 1/2 + 0.1^2
    True
    """
    return float(np.mean((data.ys - np.mean(fit.ys)) ** 2))


def lagged(xs, order):
    """The last ``order`` observations at every step, zeros before the start, and a column of ones.

    Args:
        xs: (T, B, 1) observations.
        order: p, how many recent values each row holds.

    Returns:
        (T, B, p + 1): row (t, b) is x_t, x_{t-1}, ..., x_{t-p+1}, 1.

    >>> import numpy as np
    >>> from rnnbook.tasks import lagged
    >>> lagged(np.arange(1.0, 4.0).reshape(3, 1, 1), 2)[:, 0]
    array([[1., 0., 1.],
           [2., 1., 1.],
           [3., 2., 1.]])
    """
    p = check_int("order", order, minimum=1)
    T, B, _ = xs.shape
    padded = np.concatenate([np.zeros((p - 1, B), xs.dtype), xs[:, :, 0]])
    columns = [padded[p - 1 - k : p - 1 - k + T] for k in range(p)]
    return np.stack(columns + [np.ones((T, B), xs.dtype)], axis=-1)


def linear_ar_mse(fit, data, order=20):
    """MSE of a linear autoregressive forecast, fitted by least squares on ``fit``.

    Each of the K future values is a linear function of the last ``order``
    observations (:func:`lagged`), the same at every step and for every sequence;
    the weights minimise the squared error on ``fit`` and are scored on ``data``.

    >>> from rnnbook.tasks import noisy_sine, linear_ar_mse
    >>> clean = noisy_sine(100, 16, rng=1, noise_std=0.0, periods=(20.0, 20.0))
    >>> linear_ar_mse(clean, noisy_sine(100, 4, rng=2, noise_std=0.0, periods=(20.0, 20.0))) < 1e-3
    True
    """
    X = lagged(fit.xs.astype(np.float64), order).reshape(-1, order + 1)
    Y = fit.ys.astype(np.float64).reshape(len(X), -1)
    weights, *_ = np.linalg.lstsq(X, Y, rcond=None)
    forecast = lagged(data.xs.astype(np.float64), order) @ weights
    return float(np.mean((forecast - data.ys) ** 2))
