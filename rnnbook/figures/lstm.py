"""Figures of Chapter 4, Long Short-Term Memory.

Both measure how much of the gradient survives a lag of k steps, on untrained
networks with PyTorch's initialisation, one input sequence x_t ~ N(0, 1) drawn
from a fixed seed (so every build draws the same figure). The LSTM curves differ
only in the effective forget-gate bias b_f = b_if + b_hf set by
``lstm.init(forget_bias=...)``; ``None`` is PyTorch's default.
"""

import matplotlib.pyplot as plt
import numpy as np

from rnnbook import lstm, rnn, vanishing
from rnnbook.figures import STYLE, figure

T, D, H = 100, 4, 32
FORGET_BIASES = (0.0, 1.0, 3.0)
# The LSTM's blue for every bias; the line style tells them apart: dotted (forgets fast) to solid.
LSTM_LINES = {0.0: ":", 1.0: "--", 3.0: "-"}


def _inputs(seed=0):
    """The one input sequence (T, D) shared by every curve."""
    return np.random.default_rng(seed).standard_normal((T, D))


def _lstm_params(forget_bias, seed=1):
    """PyTorch-like LSTM weights; the same draw for every bias, only b_f changes."""
    return lstm.init(D, H, rng=seed, forget_bias=forget_bias)


def _lstm_style(b):
    return {"color": STYLE["lstm"]["color"], "linestyle": LSTM_LINES[b]}


def _lag_axes(ax, ylabel):
    ax.set_yscale("log")
    ax.set_xlabel(r"$\tau$")
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, T)


@figure
def lstm_cell_path():
    """‖∂c_T/∂c_{T-τ}‖ along the carousel only, Π diag(f): f ≡ 1 (1997) and three forget biases."""
    xs = _inputs()
    lags = np.arange(T + 1)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.plot(lags, np.ones(T + 1), label=r"$f_t = 1$", **STYLE["baseline"])
    for b in FORGET_BIASES:
        norms = vanishing.cell_path_norms(_lstm_params(b), xs, path="carousel")
        ax.plot(lags, norms, label=rf"$b_f = {b:g}$", **_lstm_style(b))
    _lag_axes(ax, r"$\Vert \partial c_T / \partial c_{T-\tau} \Vert_2$")
    ax.set_ylim(1e-30, 10)
    ax.legend(frameon=False, loc="lower left")
    return fig


@figure
def lstm_vs_rnn_lag():
    """‖∂h_T/∂h_{T-τ}‖ for an Elman RNN (red) and the LSTM with three forget biases (blue)."""
    xs = _inputs()
    lags = np.arange(T + 1)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    rnn_params = rnn.init(D, H, rng=1)
    ax.plot(lags, vanishing.hidden_gradient_norms(rnn, rnn_params, xs), **STYLE["rnn"])
    for b in FORGET_BIASES:
        norms = vanishing.hidden_gradient_norms(lstm, _lstm_params(b), xs)
        ax.plot(lags, norms, label=rf"$b_f = {b:g}$", **_lstm_style(b))
    _lag_axes(ax, r"$\Vert \partial h_T / \partial h_{T-\tau} \Vert_2$")
    ax.set_ylim(1e-30, 10)
    ax.legend(frameon=False, loc="lower left")
    return fig
