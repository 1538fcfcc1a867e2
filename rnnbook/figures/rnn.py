"""Figures of Chapter 1, sequences and recurrent networks.

Both figures run the numpy Elman network of :mod:`rnnbook.rnn` on a sine wave:
nothing is trained, so what they show is what the recurrence itself does with
randomly initialised weights, as PyTorch initialises ``nn.RNN``.

>>> from rnnbook.figures.rnn import sine_states
>>> fig = sine_states()
>>> len(fig.axes)
2
>>> import matplotlib.pyplot as plt
>>> plt.close(fig)
"""

import matplotlib.pyplot as plt
import numpy as np

from rnnbook import rnn
from rnnbook.figures import STYLE, figure

T_SINE = 120  # steps shown
PERIOD = 30  # steps per period of the input sine
HIDDEN = 16  # H, hidden units


def sine_input(T=T_SINE, period=PERIOD):
    """x_t = sin(2π t / period) for t = 1..T, as one sequence of scalars: shape (T, 1, 1).

    >>> from rnnbook.figures.rnn import sine_input
    >>> sine_input(4, 4)[:, 0, 0].round(6).tolist()
    [1.0, 0.0, -1.0, -0.0]
    """
    t = np.arange(1, T + 1)
    return np.sin(2 * np.pi * t / period).reshape(T, 1, 1)


def scaled(params, radius):
    """The same weights with W_hh rescaled to spectral norm (largest singular value) ``radius``.

    >>> import numpy as np
    >>> from rnnbook.figures.rnn import scaled, rnn
    >>> p = scaled(rnn.init(1, 8, rng=0), 2.0)
    >>> round(float(np.linalg.norm(p.W_hh, 2)), 6)
    2.0
    """
    W_hh = params.W_hh * (radius / np.linalg.norm(params.W_hh, 2))
    return rnn.Params(W_ih=params.W_ih, W_hh=W_hh, b_ih=params.b_ih, b_hh=params.b_hh)


def state_distance(params, xs, rng=0):
    """‖h_t − h'_t‖ for two runs on the same inputs ``xs`` from two random initial states.

    Returns an array of T distances: how fast the state forgets where it started.

    >>> from rnnbook.figures.rnn import state_distance, scaled, sine_input, rnn
    >>> d = state_distance(scaled(rnn.init(1, 8, rng=0), 0.5), sine_input(40))
    >>> bool(d[-1] < 1e-6 * d[0])
    True
    """
    rng = np.random.default_rng(rng)
    H = params.hidden_size
    h0, h0_other = rng.uniform(-1, 1, size=(2, 1, H))
    hs, _, _ = rnn.forward(xs, h0, params)
    hs_other, _, _ = rnn.forward(xs, h0_other, params)
    return np.linalg.norm(hs[:, 0] - hs_other[:, 0], axis=-1)


@figure
def sine_states():
    """Top: the input x_t, a sine. Bottom: five hidden units h_t of an untrained Elman net reading it."""
    xs = sine_input()
    params = rnn.init(1, HIDDEN, rng=3)
    hs, _, _ = rnn.forward(xs, None, params)
    t = np.arange(1, len(xs) + 1)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 4.2), sharex=True, height_ratios=(1, 2))
    top.plot(t, xs[:, 0, 0], color="#333333", linewidth=1.5)
    top.set_ylabel(r"$x_t$")
    for j, alpha in zip(range(5), (1.0, 0.8, 0.6, 0.45, 0.3)):
        bottom.plot(t, hs[:, 0, j], alpha=alpha, linewidth=1.6, **STYLE["rnn"])
    bottom.axhline(0, **STYLE["baseline"], linewidth=1)
    bottom.set_ylabel(r"$h_{t,j}$")
    bottom.set_xlabel(r"$t$")
    bottom.set_ylim(-1.05, 1.05)
    return fig


RADII = (0.5, 0.9, 1.5, 3.0)  # spectral norms of W_hh in the second figure
FLOOR = 1e-14  # distances below this are float64 rounding, not signal


def forget_time(radius, tol=1e-6):
    """First step t at which the two runs of :func:`state_memory` are closer than ``tol`` (None if never).

    The same network, input and initial states as the figure, so the numbers match its curves.

    >>> from rnnbook.figures.rnn import forget_time
    >>> forget_time(0.5) < forget_time(0.9)
    True
    """
    distance = state_distance(scaled(rnn.init(1, HIDDEN, rng=3), radius), sine_input())
    below = np.flatnonzero(distance < tol)
    return int(below[0]) + 1 if below.size else None


@figure
def state_memory():
    """‖h_t − h'_t‖ against t for two initial states, one curve per spectral norm of W_hh."""
    xs = sine_input()
    base = rnn.init(1, HIDDEN, rng=3)  # the same net as sine_states and forget_time
    t = np.arange(1, len(xs) + 1)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    shades = plt.get_cmap("Reds")(np.linspace(0.4, 1.0, len(RADII)))
    for radius, colour in zip(RADII, shades):
        distance = state_distance(scaled(base, radius), xs)
        shown = np.where(distance > FLOOR, distance, np.nan)  # below FLOOR: rounding noise
        ax.semilogy(t, shown, color=colour, linewidth=1.8, label=rf"$\Vert W_{{hh}} \Vert_2 = {radius:g}$")
    ax.set_xlabel(r"$t$")
    ax.set_ylabel(r"$\Vert h_t - h'_t \Vert$")
    ax.set_ylim(FLOOR, 30)
    ax.legend(frameon=False, fontsize=10, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
