"""Figures of Chapter 3, the vanishing and exploding gradient."""

import matplotlib.pyplot as plt
import numpy as np

from rnnbook.figures import STYLE, figure


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
