"""Figures of Chapter 3, the vanishing and exploding gradient.

Besides the figures, two small helpers for the chapter's "cliff": a recurrent
network with one unit, h_t = w σ(h_{t-1}) + b, whose loss after many steps has a
wall where a gradient step can be thrown far away, and gradient descent on it
with or without gradient-norm clipping (Pascanu, Mikolov & Bengio 2013).
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patheffects import withStroke

from rnnbook import bptt, gru, layers, lstm, rnn, tasks, vanishing
from rnnbook.figures import STYLE, figure

CLIFF = {"T": 50, "h0": 0.5, "target": 0.7}
"""The one-unit network of the cliff: T steps from h0, loss (h_T - target)²."""


# --8<-- [start:cliff]
def cliff_loss(w, b, T=50, h0=0.5, target=0.7):
    """Loss and gradient of a one-unit RNN, h_t = w σ(h_{t-1}) + b, L = (h_T - target)².

    The derivatives are carried forward with the state (forward mode, as in
    RTRL): ∂h_t/∂w = σ(h_{t-1}) + w σ'(h_{t-1}) ∂h_{t-1}/∂w, and
    ∂h_t/∂b = 1 + w σ'(h_{t-1}) ∂h_{t-1}/∂b. Works elementwise on arrays of
    (w, b), so one call evaluates a whole grid.

    Returns:
        loss, dL/dw, dL/db (arrays shaped like np.broadcast(w, b)).

    >>> from rnnbook.figures.vanishing import cliff_loss
    >>> loss, dw, db = cliff_loss(0.0, 0.7)  # h_t = b = 0.7 at once
    >>> float(loss), float(dw), float(db)
    (0.0, 0.0, 0.0)
    """
    w, b = np.broadcast_arrays(np.asarray(w, float), np.asarray(b, float))
    h = np.full(w.shape, float(h0))
    dh_dw, dh_db = np.zeros(w.shape), np.zeros(w.shape)
    for _ in range(T):
        s = 1 / (1 + np.exp(-h))
        ds = s * (1 - s)  # σ'(h_{t-1})
        dh_dw = s + w * ds * dh_dw
        dh_db = 1 + w * ds * dh_db
        h = w * s + b
    error = h - target
    return error**2, 2 * error * dh_dw, 2 * error * dh_db


def cliff_descent(start, lr=0.02, steps=40, max_norm=None):
    """Gradient descent on ``cliff_loss`` from ``start`` = (w, b), optionally clipped.

    With ``max_norm`` the gradient is clipped by ``rnnbook.bptt.clip_grad_norm``
    (Pascanu et al. 2013, Algorithm 1) before each step.

    Returns:
        path (steps + 1, 2), the points (w, b); losses (steps,) and norms (steps,),
        the loss and the gradient norm (before clipping) at each point.
    """
    point = np.array(start, dtype=float)
    path, losses, norms = [point.copy()], [], []
    for _ in range(steps):
        loss, dw, db = cliff_loss(point[0], point[1])
        grad = np.array([dw, db])
        norm = bptt.clip_grad_norm([grad], max_norm) if max_norm else float(np.linalg.norm(grad))
        point = point - lr * grad
        path.append(point.copy())
        losses.append(float(loss))
        norms.append(norm)
    return np.array(path), np.array(losses), np.array(norms)


# --8<-- [end:cliff]


CLIFF_RUN = {"start": (4.5, -3.0), "lr": 0.02, "steps": 40, "max_norm": 12.0}
"""The two runs of the figure: the same start and step size, without and with clipping."""


@figure
def activations():
    """Sigmoid and tanh (left) and their derivatives (right): max σ' = 1/4, max tanh' = 1."""
    a = np.linspace(-6, 6, 601)
    sigma = 1 / (1 + np.exp(-a))
    tanh = np.tanh(a)
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.2, 3.0))
    left.plot(a, sigma, label=r"$\sigma(a)$", **STYLE["sigmoid"])
    left.plot(a, tanh, label=r"$\tanh(a)$", **STYLE["tanh"])
    right.plot(a, sigma * (1 - sigma), label=r"$\sigma'(a)$", **STYLE["sigmoid"])
    right.plot(a, 1 - tanh**2, label=r"$\tanh'(a)$", **STYLE["tanh"])
    right.axhline(0.25, **STYLE["baseline"], linewidth=1)
    for ax in (left, right):
        ax.set_xlabel(r"$a$")
        ax.legend(frameon=False)
    return fig


def _shades(name, n):
    """n colours from light to dark around the STYLE colour of ``name``."""
    base = np.array(plt.matplotlib.colors.to_rgb(STYLE[name]["color"]))
    weights = np.linspace(0.55, -0.35, n)  # > 0 towards white, < 0 towards black
    return [tuple(np.where(k > 0, base + k * (1 - base), base * (1 + k))) for k in weights]


@figure
def gradient_norms_lag():
    """‖∂h_T/∂h_t‖ against the lag T - t for several λ1 = ‖W_hh‖₂; tanh left, sigmoid right.

    Solid: measured on one trajectory (``rnnbook.vanishing.norms_vs_lag``);
    dotted: Pascanu's bound (γ λ1)^(T - t), drawn only where it lies in the plot.
    """
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.6), sharey=True)
    for ax, activation in zip(axes, ("tanh", "sigmoid")):
        data = vanishing.norms_vs_lag(activation)
        colours = _shades(activation, len(data["spectral_norms"]))
        for s, norms, bound, colour in zip(data["spectral_norms"], data["norms"], data["bounds"], colours):
            ax.semilogy(data["lags"], norms, color=colour, label=rf"$\lambda_1 = {s:g}$")
            ax.semilogy(data["lags"], bound, color=colour, linestyle=":", linewidth=1)
        ax.set_ylim(1e-30, 1e6)
        ax.set_xlim(0, data["lags"][-1])
        ax.set_xlabel(r"$T - t$")
        gamma = vanishing.GAMMA[activation]
        ax.set_title(
            rf"$f = \{activation if activation == 'tanh' else 'sigma'}$, $1/\gamma = {1 / gamma:g}$", fontsize=11
        )
        ax.legend(frameon=False, fontsize=9, loc="lower left")
    axes[0].set_ylabel(r"$\Vert \partial h_T / \partial h_t \Vert_2$")
    return fig


@figure
def clipping_cliff():
    """The cliff of a one-unit RNN: gradient descent without clipping (grey dashed) and with it (red).

    Left: log10 of the loss over (w, b), with the two paths from the same start.
    Right: the loss along the two runs, step by step.
    """
    w, b = np.meshgrid(np.linspace(3.0, 6.5, 351), np.linspace(-3.5, -0.5, 301))
    loss, _, _ = cliff_loss(w, b, **CLIFF)
    run = dict(CLIFF_RUN)
    free = cliff_descent(run["start"], run["lr"], run["steps"])
    clipped = cliff_descent(run["start"], run["lr"], run["steps"], run["max_norm"])

    fig, (left, right) = plt.subplots(1, 2, figsize=(8.8, 3.6), gridspec_kw={"width_ratios": [1.3, 1], "wspace": 0.35})
    # Rasterised: as vector paths the filled contours would weigh over half a megabyte.
    shading = left.contourf(
        w, b, np.log10(loss + 1e-8), levels=np.linspace(-3, 1.5, 19), cmap="viridis", extend="both", rasterized=True
    )
    fig.colorbar(shading, ax=left, ticks=[-3, -2, -1, 0, 1]).ax.set_title(r"$\log_{10} L$", fontsize=10)
    labels = (r"$\theta = \infty$", rf"$\theta = {run['max_norm']:g}$")
    for (path, losses, _), style, label in zip((free, clipped), (STYLE["baseline"], STYLE["rnn"]), labels):
        left.plot(
            path[:, 0],
            path[:, 1],
            linewidth=1.6,
            color=style["color"],
            linestyle=style["linestyle"],
            path_effects=[withStroke(linewidth=3.2, foreground="white")],
        )
        right.semilogy(
            np.arange(len(losses)),
            losses,
            color=style["color"],
            linestyle=style["linestyle"],
            linewidth=1.6,
            label=label,
        )
    left.plot(*run["start"], marker="s", color="black", markersize=5)
    left.set_xlim(w.min(), w.max())
    left.set_ylim(b.min(), b.max())
    left.set_xlabel(r"$w$")
    left.set_ylabel(r"$b$")
    left.grid(False)
    right.set_xlabel(r"$n$")
    right.set_ylabel(r"$L$")
    right.legend(frameon=False, fontsize=9)
    return fig


def adding_gradient_data(T=100, B=8, H=64, seed=0):
    """‖∂ℓ_T/∂x_{T-τ}‖ for every lag τ on the adding problem at initialisation: RNN, GRU, LSTM.

    The LSTM twice: with PyTorch's initialisation and with the forget-gate bias
    set to 1 (Jozefowicz et al. 2015). One batch of B sequences of length T, one
    output layer on the last state, squared error (``rnnbook.bptt.input_gradient_by_lag``).

    Returns:
        dict name -> norms (T,), entry τ the norm at lag τ, divided by the norm at lag 0.
    """
    data = tasks.adding_problem(T, B, rng=seed, dtype=np.float64)
    models = {
        "rnn": (rnn, rnn.init(2, H, rng=seed + 1)),
        "gru": (gru, gru.init(2, H, rng=seed + 1)),
        "lstm": (lstm, lstm.init(2, H, rng=seed + 1)),
        "lstm_forget_bias": (lstm, lstm.init(2, H, rng=seed + 1, forget_bias=1.0)),
    }
    out = layers.linear_init(H, 1, rng=seed + 2)
    result = {}
    for name, (model, params) in models.items():
        norms = bptt.input_gradient_by_lag(model, params, out, data.xs, data.ys, loss="mse")
        result[name] = norms / norms[0]
    return result


@figure
def adding_gradient():
    """How much of the adding problem's error reaches the input T - t steps back, at initialisation.

    RNN red, GRU green, LSTM blue dashed (PyTorch's initialisation) and solid
    (forget-gate bias 1); the norm at each lag relative to lag 0, log scale.
    """
    result = adding_gradient_data()
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    lags = np.arange(len(result["rnn"]))
    ax.semilogy(lags, result["rnn"], **STYLE["rnn"], label=r"$\mathrm{RNN}$")
    ax.semilogy(lags, result["gru"], **STYLE["gru"], label=r"$\mathrm{GRU}$")
    ax.semilogy(
        lags, result["lstm"], color=STYLE["lstm"]["color"], linestyle="--", label=r"$\mathrm{LSTM},\ b_f \approx 0$"
    )
    ax.semilogy(lags, result["lstm_forget_bias"], **STYLE["lstm"], label=r"$\mathrm{LSTM},\ b_f = 1$")
    ax.axvline(len(lags) // 2, **STYLE["baseline"], linewidth=1)
    ax.set_xlabel(r"$T - t$")
    ratio = r"\Vert \partial \ell_T / \partial x_t \Vert \,/\, \Vert \partial \ell_T / \partial x_T \Vert"
    ax.set_ylabel(f"${ratio}$")
    ax.set_xlim(0, lags[-1])
    ax.legend(frameon=False, fontsize=9)
    return fig
