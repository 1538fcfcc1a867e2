"""Figures of Chapter 2, backpropagation through time.

* ``bptt_cost``: time and memory of one forward and backward pass as the
  sequence grows, for full BPTT and for the chunked form (measured).
* ``truncated_gradient_by_lag``: the gradient that reaches an input τ steps
  back, with and without truncation (exactly zero beyond the window).
* ``truncation_learning``: a delayed-recall task with delay τ, learnt when the
  truncation lets the gradient reach back τ steps, not learnt when it does not.

The functions that compute the numbers are plain functions (tested by the
doctests below); the figures only draw them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc

import matplotlib.pyplot as plt
import numpy as np

from rnnbook import bptt, layers, rnn
from rnnbook.figures import STYLE, figure, running_mean
from rnnbook.optim import Adam
from rnnbook.threads import ONE_BLAS_THREAD

# Shades of the RNN's red, from the shortest truncation (light) to full BPTT (the legend's red).
REDS = ["#f4a3a3", "#e8605f", STYLE["rnn"]["color"]]


# --8<-- [start:measure_cost]
def measure_cost(lengths=(50, 100, 200, 400, 800), k=25, batch=16, D=8, H=64, O=8, repeats=3, seed=0):
    """CPU time and peak memory of one forward and backward pass, full BPTT and chunked(k).

    For each T in ``lengths``: the smallest CPU time over ``repeats`` runs of
    ``bptt.loss_and_grads`` (full BPTT) and of ``bptt.chunked_bptt`` with chunk
    length k, and the peak memory that each allocates (``tracemalloc``: the
    cache of states kept for the backward pass, the gradients, the temporaries).

    Returns:
        dict of lists: ``T``, ``time_full``, ``time_chunked`` (seconds per
        sequence of ``batch`` examples) and ``memory_full``, ``memory_chunked`` (bytes).

    >>> from rnnbook.figures.bptt import measure_cost
    >>> cost = measure_cost(lengths=(20, 40), k=10, repeats=1)
    >>> cost["memory_full"][1] > 1.5 * cost["memory_full"][0]   # grows with T
    True
    >>> cost["memory_chunked"][1] < 1.2 * cost["memory_chunked"][0]  # bounded by k
    True
    """
    rng = np.random.default_rng(seed)
    params, out = rnn.init(D, H, rng=rng), layers.linear_init(H, O, rng=rng)
    runs = {
        "full": lambda xs, ys: bptt.loss_and_grads(rnn, params, out, xs, ys),
        "chunked": lambda xs, ys: bptt.chunked_bptt(rnn, params, out, xs, ys, k),
    }
    result = {"T": list(lengths), "k": k}
    for name, run in runs.items():
        result[f"time_{name}"], result[f"memory_{name}"] = [], []
        for T in lengths:
            xs, ys = rng.normal(size=(T, batch, D)), rng.integers(0, O, size=(T, batch))
            times = []
            for _ in range(repeats):
                start = time.process_time()
                run(xs, ys)
                times.append(time.process_time() - start)
            tracemalloc.start()
            run(xs, ys)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            result[f"time_{name}"].append(min(times))
            result[f"memory_{name}"].append(peak)
    return result


# --8<-- [end:measure_cost]


def _measure_cost_single_thread():
    """``measure_cost`` in a fresh process with one BLAS thread, so CPU times are comparable."""
    env = dict(os.environ) | ONE_BLAS_THREAD
    code = "import json; from rnnbook.figures.bptt import measure_cost; print(json.dumps(measure_cost()))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


@figure
def bptt_cost():
    """Left: CPU time per sequence against T. Right: peak memory against T. Full BPTT and chunked."""
    cost = _measure_cost_single_thread()
    T = np.array(cost["T"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.2, 3.0))
    for name, label, style in [
        ("full", r"$k = T$", {**STYLE["rnn"], "marker": "o"}),
        ("chunked", rf"$k = {cost['k']}$", {"color": REDS[0], "linestyle": "--", "marker": "s"}),
    ]:
        left.plot(T, 1e3 * np.array(cost[f"time_{name}"]), label=label, **style)
        right.plot(T, np.array(cost[f"memory_{name}"]) / 2**20, label=label, **style)
    left.set_ylabel("ms")
    right.set_ylabel("MiB")
    for ax in (left, right):
        ax.set_xlabel(r"$T$")
        ax.set_ylim(bottom=0)
        ax.set_xlim(left=0)
        ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def lag_setup(T=60, B=16, D=4, H=32, O=3, seed=0):
    """A network and a sequence whose gradient fades slowly with the lag.

    The recurrent matrix is orthogonal (all singular values 1) and the inputs
    small, so the tanh stays near its linear regime: the cut made by the
    truncation is then easy to see against the full gradient.
    Returns (params, out_params, xs, target), target the last step's classes (B,).
    """
    rng = np.random.default_rng(seed)
    params, out = rnn.init(D, H, rng=rng), layers.linear_init(H, O, rng=rng)
    q, r = np.linalg.qr(rng.normal(size=(H, H)))
    params.W_hh[:] = q * np.sign(np.diag(r))
    xs = 0.5 * rng.normal(size=(T, B, D))
    return params, out, xs, rng.integers(0, O, size=B)


@figure
def truncated_gradient_by_lag():
    """‖∂L_T/∂x_{T-τ}‖ against the lag τ: full BPTT and truncation k = 10, 25."""
    params, out, xs, target = lag_setup()
    lags = np.arange(len(xs))
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for k, color in [(10, REDS[0]), (25, REDS[1])]:
        norms = bptt.input_gradient_by_lag(rnn, params, out, xs, target, truncation=k)
        ax.plot(lags, norms, color=color, linestyle="-", marker="o", markersize=3, label=rf"$k = {k}$")
        ax.axvline(k, color=color, linestyle=":", linewidth=1)
    full = bptt.input_gradient_by_lag(rnn, params, out, xs, target)
    ax.plot(lags, full, label=r"$k = T$", linewidth=1.5, **STYLE["rnn"])
    ax.set_xlabel(r"$\tau$")
    ax.set_ylabel(r"$\Vert \partial L_T / \partial x_{T-\tau} \Vert$")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    return fig


# --8<-- [start:delayed_recall]
def delayed_recall(T, B, delay, rng):
    """Random bits in, the bit seen ``delay`` steps earlier out.

    xs (T, B, 2) one-hot bits; targets (T, B) with targets[t] = the bit at
    step t - delay. For the first ``delay`` steps the target is a bit never
    shown, so no model can beat ln 2 there either: the memoryless loss is
    exactly ln 2 at every step.
    """
    bits = rng.integers(0, 2, size=(T + delay, B))
    xs = np.eye(2)[bits[delay:]]
    return xs, bits[:T]


# --8<-- [end:delayed_recall]


def train_delayed_recall(k, delay=8, T=48, B=32, H=16, steps=200, lr=1e-2, seed=0):
    """Train an Elman RNN on ``delayed_recall`` with chunked BPTT(k); return the loss per update.

    >>> from rnnbook.figures.bptt import train_delayed_recall
    >>> losses = train_delayed_recall(k=5, steps=3)
    >>> len(losses)
    3
    """
    rng = np.random.default_rng(seed)
    params, out = rnn.init(2, H, rng=rng), layers.linear_init(H, 2, rng=rng)
    optimiser = Adam([params, out], lr=lr)
    losses = []
    for _ in range(steps):
        xs, targets = delayed_recall(T, B, delay, rng)
        loss, grads, out_grads, _ = bptt.chunked_bptt(rnn, params, out, xs, targets, k)
        optimiser.step([grads, out_grads])
        losses.append(loss)
    return losses


@figure
def truncation_learning():
    """Loss per update on delayed recall with delay 8: chunks k = 8 (no path), k = 16, full.

    Grey dashed: ln 2, the memoryless loss, and (delay/T) ln 2, the least loss
    any model can reach (the first ``delay`` targets are never shown).
    """
    delay, T = 8, 48
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for k, color, label in [
        (delay, REDS[0], rf"$k = {delay}$"),
        (2 * delay, REDS[1], rf"$k = {2 * delay}$"),
        (T, REDS[2], r"$k = T$"),
    ]:
        losses = np.array(train_delayed_recall(k, delay=delay, T=T))
        ax.plot(*running_mean(losses, 10), color=color, label=label)
    ax.axhline(np.log(2), label=r"$\ln 2$", **STYLE["baseline"])
    ax.axhline(delay / T * np.log(2), label=r"$\tau \ln 2 \, / \, T$", **{**STYLE["baseline"], "linestyle": ":"})
    ax.set_xlabel(r"$n$")
    ax.set_ylabel(r"$L$")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    return fig
