"""Decoding: turning a model's next-token distributions into an output sequence.

A decoder defines p(y_i | y_1 .. y_{i−1}, x) one token at a time. Every function
here sees the model only through ``next_log_probs(prefix)``: it takes a tuple of
token ids that starts with ``bos`` and returns the log-probabilities (V,) of the
next token. A *hypothesis* is a pair ``(tokens, score)``: ``tokens`` a tuple that
excludes ``bos``, ends in ``eos`` when it is finished, and has at most ``max_len``
tokens in all; ``score`` the sum of the log-probabilities of its tokens, that is
log p(tokens | x), before any length penalty.

* :func:`greedy` takes the most probable token at every step;
* :func:`beam_search` keeps the ``beam_size`` best prefixes at every step
  (a heuristic: it may miss the most probable sequence);
* :func:`sample` draws each token from the distribution, sharpened or flattened
  by a temperature.

A toy model whose next token does not depend on the prefix shows the contract:

>>> import numpy as np
>>> from rnnbook.decoding import greedy
>>> log_p = np.log([0.1, 0.6, 0.3])  # tokens 0 (bos), 1, 2 (eos)
>>> tokens, score = greedy(lambda prefix: log_p, bos=0, eos=2, max_len=3)
>>> tokens, round(float(np.exp(score)), 3)  # 0.6 · 0.6 · 0.6, cut at max_len
((1, 1, 1), 0.216)
"""

from __future__ import annotations

import numpy as np

from rnnbook._validate import as_rng, check_array, check_float, check_int

__all__ = ["greedy", "beam_search", "sample", "gnmt_penalty"]


def _check_common(bos, eos, max_len):
    check_int("bos", bos, minimum=0)
    check_int("eos", eos, minimum=0)
    return check_int("max_len", max_len, minimum=1)


def _log_probs(next_log_probs, prefix, dims):
    """Call the model on ``prefix`` and check what it returns: (V,) floats, no NaN, no +∞."""
    log_p = np.asarray(next_log_probs(prefix), dtype=np.float64)
    check_array("next_log_probs(prefix)", log_p, shape=("V",), dims=dims, finite=False)
    if np.isnan(log_p).any() or (log_p > 1e-9).any():
        raise ValueError(f"next_log_probs(prefix): expected log-probabilities (≤ 0, no NaN), got {log_p}")
    return log_p


# --8<-- [start:greedy]
def greedy(next_log_probs, bos, eos, max_len):
    """The most probable token at each step, until ``eos`` or ``max_len`` tokens.

    Args:
        next_log_probs: prefix (tuple of ids starting with ``bos``) -> log-probabilities (V,).
        bos, eos: the ids of the start and end tokens.
        max_len: the most tokens in the output, ``eos`` included.

    Returns:
        ``(tokens, score)``: a tuple of ids without ``bos``, and the sum of their log-probabilities.
    """
    max_len = _check_common(bos, eos, max_len)
    tokens, score, dims = (), 0.0, {}
    while len(tokens) < max_len and (not tokens or tokens[-1] != eos):
        log_p = _log_probs(next_log_probs, (bos,) + tokens, dims)
        best = int(np.argmax(log_p))
        tokens, score = tokens + (best,), score + float(log_p[best])
    return tokens, score


# --8<-- [end:greedy]


# --8<-- [start:gnmt_penalty]
def gnmt_penalty(length, alpha):
    """GNMT's length penalty lp(Y) = ((5 + |Y|) / 6)^α (Wu et al. 2016, §7).

    Beam search ranks finished hypotheses by score / lp(Y): with α = 0 nothing
    changes; with α > 0 long hypotheses, whose log-probability sums are more
    negative, are penalised less.

    >>> from rnnbook.decoding import gnmt_penalty
    >>> gnmt_penalty(1, 0.6), round(gnmt_penalty(7, 0.6), 4)
    (1.0, 1.5157)
    """
    return ((5 + length) / 6) ** alpha


# --8<-- [end:gnmt_penalty]


# --8<-- [start:beam_search]
def beam_search(next_log_probs, bos, eos, beam_size, max_len, length_penalty=0.0):
    """Beam search: keep the ``beam_size`` best prefixes at every step.

    At each step every live prefix is extended by every token; of all these
    candidates the ``beam_size`` with the highest score are kept. A kept
    candidate ending in ``eos`` is finished and leaves the beam, which then
    carries fewer live prefixes; the search ends when none is left or they
    reach ``max_len`` tokens (they are then returned unfinished). Finished
    hypotheses are ranked by score / lp(|Y|), |Y| counting ``eos``
    (:func:`gnmt_penalty`, α = ``length_penalty``).

    With a beam as wide as the number of sequences nothing is pruned and the
    search is exhaustive; with ``beam_size=1`` it is :func:`greedy`.

    Args:
        next_log_probs: prefix (tuple of ids starting with ``bos``) -> log-probabilities (V,).
        bos, eos: the ids of the start and end tokens.
        beam_size: how many prefixes are kept at each step.
        max_len: the most tokens in a hypothesis, ``eos`` included.
        length_penalty: α ≥ 0.

    Returns:
        Up to ``beam_size`` hypotheses ``(tokens, score)``, best first, score
        being the sum of log-probabilities (before the penalty).
    """
    max_len = _check_common(bos, eos, max_len)
    beam_size = check_int("beam_size", beam_size, minimum=1)
    alpha = check_float("length_penalty", length_penalty, minimum=0)
    alive, finished, dims = [((), 0.0)], [], {}
    for _ in range(max_len):
        candidates = []
        for tokens, score in alive:
            log_p = _log_probs(next_log_probs, (bos,) + tokens, dims)
            candidates += [(tokens + (v,), score + float(log_p[v])) for v in range(len(log_p))]
        candidates.sort(key=lambda c: -c[1])  # stable: ties keep the lower token id first
        alive = []
        for tokens, score in candidates[:beam_size]:
            (finished if tokens[-1] == eos else alive).append((tokens, score))
        if not alive:
            break
    finished += alive  # prefixes that reached max_len without eos
    finished.sort(key=lambda h: -h[1] / gnmt_penalty(len(h[0]), alpha))
    return finished[:beam_size]


# --8<-- [end:beam_search]


# --8<-- [start:sample]
def sample(next_log_probs, bos, eos, max_len, temperature=1.0, rng=None):
    """Draw each token from softmax(log p / τ) until ``eos`` or ``max_len`` tokens.

    τ = 1 samples from the model itself; τ < 1 sharpens the distribution (towards
    greedy as τ → 0), τ > 1 flattens it. The score is the sum of the model's own
    log-probabilities (τ = 1) of the tokens drawn.

    >>> import numpy as np
    >>> from rnnbook.decoding import sample
    >>> log_p = np.log([0.1, 0.6, 0.3])
    >>> sample(lambda prefix: log_p, 0, 2, max_len=5, temperature=1e-3, rng=0)[0]
    (1, 1, 1, 1, 1)
    """
    max_len = _check_common(bos, eos, max_len)
    temperature = check_float("temperature", temperature, minimum=0, strict_minimum=True)
    rng = as_rng(rng)
    tokens, score, dims = (), 0.0, {}
    while len(tokens) < max_len and (not tokens or tokens[-1] != eos):
        log_p = _log_probs(next_log_probs, (bos,) + tokens, dims)
        z = log_p / temperature
        p = np.exp(z - z.max())
        token = int(rng.choice(len(p), p=p / p.sum()))
        tokens, score = tokens + (token,), score + float(log_p[token])
    return tokens, score


# --8<-- [end:sample]
