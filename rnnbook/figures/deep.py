"""Figures of Chapter 6, real sequences: padding, stacked and bidirectional networks, dropout.

Every number comes from :mod:`rnnbook.masking` and :mod:`rnnbook.deep` run on
small random networks. What each output sees is measured, not drawn: the norm of
the Jacobian ∂h̄_t/∂x_s, one backward pass per output step.

>>> from rnnbook.figures.deep import sensitivity
>>> sensitivity("rnn", bidirectional=False, T=4, lengths=None).shape
(4, 4)
"""

import matplotlib.pyplot as plt
import numpy as np

from rnnbook import deep, masking
from rnnbook.figures import STYLE, figure

T_SEE = 12  # steps of the sequences in the sensitivity maps
LENGTHS_SEE = np.array([12, 8])  # one full sequence, one padded


def sensitivity(cell, bidirectional, T=T_SEE, lengths=LENGTHS_SEE, seed=0, b=-1):
    """‖∂h̄_t/∂x_s‖ (T, T) for sequence b of a random 1-layer network: row t, column s.

    One backward pass per output step t, with ∂L/∂y_t = the ones vector; the
    Frobenius norm of the gradient on x_s is a proxy for how much y_t depends on x_s.
    """
    rng = np.random.default_rng(seed)
    params = deep.init(cell, 3, 8, bidirectional=bidirectional, rng=rng)
    B = 1 if lengths is None else len(lengths)
    xs = rng.standard_normal((T, B, 3))
    ys, _, cache = deep.forward(xs, None, params, lengths)
    out = np.zeros((T, T))
    for t in range(T):
        d = np.zeros_like(ys)
        d[t, b] = 1.0
        _, dxs, _ = deep.backward(d, cache)
        out[t] = np.linalg.norm(dxs[:, b], axis=-1)
    return out


@figure
def deep_what_each_output_sees():
    """Two maps of log10 ‖∂h̄_t/∂x_s‖ (h̄_t the output) for a padded sequence of length 8 in a batch of
    T = 12: one direction, two."""
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.4), sharey=True)
    for ax, bidirectional in zip(axes, (False, True)):
        s = sensitivity("lstm", bidirectional)
        with np.errstate(divide="ignore"):
            image = np.log10(s)
        image[~np.isfinite(image)] = np.nan  # exactly zero: no path from x_s to y_t
        shown = ax.imshow(image, cmap="Blues", vmin=-6, vmax=0, origin="upper")
        ax.set(xlabel="$s$", xticks=range(0, T_SEE, 2), xticklabels=range(1, T_SEE + 1, 2))
        ax.axvline(LENGTHS_SEE[-1] - 0.5, **STYLE["baseline"])
        ax.axhline(LENGTHS_SEE[-1] - 0.5, **STYLE["baseline"])
        ax.grid(False)
    axes[0].set(ylabel="$t$", yticks=range(0, T_SEE, 2), yticklabels=range(1, T_SEE + 1, 2))
    axes[0].set_title(r"$\rightarrow$")
    axes[1].set_title(r"$\rightarrow \; \leftarrow$")
    fig.colorbar(shown, ax=axes, label=r"$\log_{10} \Vert \partial \bar h_t / \partial x_s \Vert$", shrink=0.85)
    return fig


@figure
def deep_padding_bias():
    """The loss of a model that is right with probability p on every real token, as the padding grows.

    Masked mean over the real tokens (blue) against the mean over all T·B slots with
    the padding's loss set to zero (grey dashed): the second shrinks as padding grows.
    """
    rng = np.random.default_rng(0)
    T, B, V = 40, 64, 10
    logits = rng.standard_normal((T, B, V))
    targets = rng.integers(0, V, size=(T, B))
    fractions, masked, naive = [], [], []
    for mean_length in range(4, T + 1, 2):
        lengths = np.clip(rng.integers(mean_length // 2, mean_length + 1, size=B), 1, T)
        loss, _ = masking.masked_cross_entropy(logits, targets, lengths, "token")
        real = masking.step_mask(lengths, T)
        fractions.append(1 - real.mean())
        masked.append(loss)
        naive.append(loss * real.mean())  # Σ over real tokens / (T·B): the padding counted as zero loss
    fig, ax = plt.subplots()
    ax.plot(fractions, masked, marker="o", **STYLE["lstm"])
    ax.plot(fractions, naive, marker="s", **STYLE["baseline"])
    ax.set(xlabel=r"$1 - \sum_b \ell_b / (T B)$", ylabel="$L$", ylim=(0, None))
    return fig


@figure
def deep_dropout_masks():
    """Dropout masks on a state of H = 16 units over T = 24 steps: a new mask at every step, the same mask
    at every step."""
    rng = np.random.default_rng(0)
    T, H, p = 24, 16, 0.3
    fresh = rng.random((H, T)) >= p  # Zaremba et al. 2014, on the connections between layers
    tied = np.repeat(rng.random((H, 1)) >= p, T, axis=1)  # Gal & Ghahramani 2016
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 2.8), sharey=True)
    for ax, mask in zip(axes, (fresh, tied)):
        ax.imshow(mask, cmap="Greys_r", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
        ax.set(xlabel="$t$", xticks=[], yticks=[])
        ax.grid(False)
    axes[0].set_ylabel("$j$")
    return fig


@figure
def deep_grid_gradient():
    """log10 ‖∂L/∂h^(l)_t‖ in a 3-layer LSTM with the loss on the last output only, for l = 2, 1, 0 (h^(0) = x)."""
    rng = np.random.default_rng(1)
    T, L = 30, 3
    params = deep.init("lstm", 4, 16, num_layers=L, rng=rng)
    ys, _, cache = deep.forward(rng.standard_normal((T, 1, 4)), None, params)
    grad = np.zeros_like(ys)
    grad[-1] = 1.0  # ∂L/∂y_T
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    for l in reversed(range(L)):  # down the grid: each layer's backward returns ∂L/∂(its inputs)
        _, grad, _ = deep.CELLS["lstm"].backward(grad, cache.caches[l][0])
        ax.plot(
            np.arange(1, T + 1),
            np.log10(np.linalg.norm(grad[:, 0], axis=-1)),
            marker="o",
            color=STYLE["lstm"]["color"],
            alpha=0.4 + 0.3 * l,
            markersize=3,
            label=f"$h^{{({l})}}_t$",
        )
    ax.set(xlabel="$t$", ylabel=r"$\log_{10} \Vert \partial L / \partial h^{(l)}_t \Vert$")
    ax.legend()
    return fig
