"""Figures of the chapter on encoder–decoders and attention.

* :func:`attention_alignment`: the attention weights of the numpy encoder–decoder
  of :mod:`rnnbook.seq2seq`, trained from scratch on the reversal task;
* :func:`beam_search_error`: how often greedy decoding and beam search find the
  most probable sequence of small random models, against the beam's width;
* :func:`scheduled_sampling_schedules`: the three decays of Bengio et al. (2015).

>>> from rnnbook.figures.attention import beam_success_rates
>>> rates = beam_success_rates(beams=(1, 100), models=5)
>>> rates.shape, float(rates[-1])  # a beam wider than all the sequences is exhaustive
((2,), 1.0)
"""

import matplotlib.pyplot as plt
import numpy as np

from rnnbook import decoding, optim, seq2seq
from rnnbook.figures import figure

BEAMS = (1, 2, 3, 4, 6, 8)
TOY_VOCAB = 5  # BOS, EOS and three tokens
TOY_MAX_LEN = 5


def train_reversal(steps=300, hidden=32, seed=0):
    """The numpy encoder–decoder with additive attention trained on reversal (lengths 2–6, 5 symbols)."""
    rng = np.random.default_rng(seed)
    params = seq2seq.init(8, 8, hidden=hidden, attention_size=hidden, rng=rng)
    adam = optim.Adam(params, lr=1e-2)
    for _ in range(steps):
        _, grads = seq2seq.loss_and_grads(params, *seq2seq.reversal_batch(rng, 32, 2, 6, 5))
        adam.step(grads)
    return params


@figure
def attention_alignment():
    """α_{ij} for one source of length 6, as a grey-scale matrix: an anti-diagonal."""
    params = train_reversal()
    src = np.array([3, 4, 5, 6, 7, 4])
    tokens, _ = decoding.greedy(seq2seq.next_log_probs_fn(params, src), seq2seq.BOS, seq2seq.EOS, 10)
    weights = seq2seq.attention_matrix(params, src, tokens)
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.imshow(weights, cmap="Greys", vmin=0, vmax=1)
    ax.grid(False)
    ax.set_xticks(range(len(src)), [rf"$x_{{{j + 1}}}$" for j in range(len(src))])
    ax.set_yticks(range(len(tokens)), [rf"$y_{{{i + 1}}}$" for i in range(len(tokens))])
    ax.set_xlabel(r"$j$")
    ax.set_ylabel(r"$i$")
    return fig


def random_model(rng, vocab=TOY_VOCAB, spread=2.0):
    """A model whose next-token distribution is drawn at random for each prefix (softmax of N(0, spread²))."""
    table = {}

    def next_log_probs(prefix):
        if prefix not in table:
            logits = spread * rng.standard_normal(vocab)
            logits[0] = -np.inf  # never BOS
            table[prefix] = logits - np.log(np.exp(logits).sum())
        return table[prefix]

    return next_log_probs


def beam_success_rates(beams=BEAMS, models=200, seed=0):
    """For each beam width, the fraction of random models whose best hypothesis is the most probable one.

    The most probable sequence comes from a beam wider than the number of
    possible sequences, which prunes nothing (exhaustive search).
    """
    rng = np.random.default_rng(seed)
    hits = np.zeros(len(beams))
    widest = TOY_VOCAB**TOY_MAX_LEN
    for _ in range(models):
        model = random_model(rng)
        best = decoding.beam_search(model, 0, 1, beam_size=widest, max_len=TOY_MAX_LEN)[0][0]
        for k, beam in enumerate(beams):
            hits[k] += decoding.beam_search(model, 0, 1, beam_size=beam, max_len=TOY_MAX_LEN)[0][0] == best
    return hits / models


@figure
def beam_search_error():
    """Fraction of random models on which a beam of width k finds the most probable sequence."""
    rates = beam_success_rates()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot(BEAMS, rates, marker="o", color="#1f77b4", linewidth=2)
    ax.axhline(1.0, color="#7f7f7f", linestyle="--")
    ax.set_xscale("log", base=2)
    ax.set_xticks(BEAMS, [str(k) for k in BEAMS])
    ax.set_xlabel(r"$k$")
    ax.set_ylim(0, 1.05)
    return fig


@figure
def scheduled_sampling_schedules():
    """ε_i against the update i: linear, exponential and inverse sigmoid decay (Bengio et al. 2015, fig. 2)."""
    from rnnbook.torch_seq2seq import inverse_sigmoid_decay

    i = np.arange(1000)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot(i, np.maximum(0.0, 1 - i / 800), color="#ff7f0e", linewidth=2)  # linear
    ax.plot(i, 0.995**i, color="#9467bd", linewidth=2)  # exponential
    inverse_sigmoid = inverse_sigmoid_decay(100)
    ax.plot(i, [inverse_sigmoid(k) for k in i], color="#2ca02c", linewidth=2)
    ax.set_xlabel(r"$i$")
    ax.set_ylabel(r"$\epsilon_i$")
    ax.set_ylim(0, 1.05)
    return fig
