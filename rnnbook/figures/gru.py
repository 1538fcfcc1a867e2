"""Figures of Chapter 5, the Gated Recurrent Unit.

Both figures measure ‖∂h_T/∂h_{T-τ}‖₂ against the lag τ with
:func:`rnnbook.vanishing.hidden_gradient_norms`, on untrained networks with
PyTorch's initialisation and random inputs x_t ~ N(0, 1). Each curve is the
geometric mean over a few seeds (the mean of log10 of the norms), so that one
lucky or unlucky draw does not decide its shape.

>>> from rnnbook.figures.gru import lag_norms
>>> data = lag_norms("gru", T=10, seeds=2)
>>> data.shape, float(data[0])  # lag 0: ∂h_T/∂h_T = I, norm 1, log10 = 0
((11,), 0.0)
"""

import matplotlib.pyplot as plt
import numpy as np

from rnnbook import gru, lstm, rnn
from rnnbook.figures import STYLE, figure
from rnnbook.vanishing import hidden_gradient_norms

MODELS = {"rnn": rnn, "lstm": lstm, "gru": gru}
T_LAG = 100  # steps of the input sequence, hence the largest lag
HIDDEN = 32  # H
INPUTS = 4  # D
SEEDS = 5  # networks averaged per curve
UPDATE_BIASES = (0.0, 1.0, 2.0, 3.0, 4.0)  # effective update-gate biases b_iz + b_hz


def set_update_bias(params, value):
    """Set the GRU's effective update-gate bias b_iz + b_hz to ``value`` (in place); return params.

    PyTorch stacks the gates as r, z, n, so the update gate is rows H..2H: ``value``
    goes into ``b_ih`` and zero into ``b_hh``, as the LSTM's forget bias does.

    >>> from rnnbook.figures.gru import set_update_bias, gru
    >>> p = set_update_bias(gru.init(2, 3, rng=0), 2.0)
    >>> (p.b_ih + p.b_hh)[3:6].tolist()
    [2.0, 2.0, 2.0]
    """
    H = params.hidden_size
    params.b_ih[H : 2 * H] = value
    params.b_hh[H : 2 * H] = 0.0
    return params


def lag_norms(model, update_bias=None, T=T_LAG, H=HIDDEN, D=INPUTS, seeds=SEEDS):
    """log10 ‖∂h_T/∂h_{T-τ}‖₂ for τ = 0..T, averaged over ``seeds`` networks and sequences.

    Args:
        model: "rnn", "lstm" or "gru".
        update_bias: for the GRU, None (PyTorch's initialisation) or the effective
            update-gate bias given to every unit.
        T, H, D: sequence length, hidden units, inputs.
        seeds: how many random networks (seeds 0, 1, ...).

    Returns:
        (T + 1,) the mean of log10 of the norms at each lag.
    """
    module = MODELS[model]
    logs = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        params = module.init(D, H, rng=rng)
        if update_bias is not None:
            set_update_bias(params, update_bias)
        xs = rng.standard_normal((T, D))
        logs.append(np.log10(hidden_gradient_norms(module, params, xs)))
    return np.mean(logs, axis=0)


@figure
def gru_gradient_lag():
    """log ‖∂h_T/∂h_{T-τ}‖ against the lag τ for the RNN, the LSTM and the GRU, at PyTorch's initialisation."""
    lags = np.arange(T_LAG + 1)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for model in ("rnn", "lstm", "gru"):
        ax.plot(lags, 10 ** lag_norms(model), linewidth=2, **STYLE[model])
    ax.set_yscale("log")
    ax.set_xlabel(r"$\tau$")
    ax.set_ylabel(r"$\Vert \partial h_T / \partial h_{T-\tau} \Vert_2$")
    ax.set_xlim(0, T_LAG)
    return fig


@figure
def gru_update_bias():
    """The same norms for the GRU alone, one curve per effective update-gate bias b_z."""
    lags = np.arange(T_LAG + 1)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    shades = plt.get_cmap("Greens")(np.linspace(0.35, 1.0, len(UPDATE_BIASES)))
    for bias, colour in zip(UPDATE_BIASES, shades):
        ax.plot(lags, 10 ** lag_norms("gru", update_bias=bias), color=colour, linewidth=2, label=rf"$b_z = {bias:g}$")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\tau$")
    ax.set_ylabel(r"$\Vert \partial h_T / \partial h_{T-\tau} \Vert_2$")
    ax.set_xlim(0, T_LAG)
    ax.legend(frameon=False, fontsize=10, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
