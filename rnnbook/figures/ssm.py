"""Figures of Chapter 9, selective state spaces and exponential gating.

The kernels come from :func:`rnnbook.ssm.discretize` and :func:`rnnbook.ssm.lti_kernel`,
the step sizes from :func:`rnnbook.ssm.selective_forward`, the decay matrix from
:func:`rnnbook.xlstm.mlstm_parallel`.

>>> from rnnbook.figures.ssm import kernel_settings
>>> kernel_settings()["steps"]
(0.1, 1.0)
"""

import matplotlib.pyplot as plt
import numpy as np

from rnnbook import ssm, xlstm
from rnnbook.figures import STYLE, figure

A_DIAG = -np.array([[0.5, 1.0, 2.0]])  # one channel, three states
STEPS = (0.1, 1.0)  # Δ of the two panels
KERNEL_T = 20
DECAY_T = 24


def kernel_settings():
    """The settings of :func:`ssm_kernels`, for the text."""
    return {"A": A_DIAG[0].tolist(), "steps": STEPS, "T": KERNEL_T}


@figure
def ssm_kernels():
    """The kernel K_k = C Ā^k B̄ of one channel, zero-order hold (solid) and bilinear (dots), for two Δ."""
    B = np.ones_like(A_DIAG)
    C = np.ones_like(A_DIAG) / A_DIAG.shape[1]
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.2), sharey=True)
    for ax, delta in zip(axes, STEPS):
        for method, marker in (("zoh", "-"), ("bilinear", "o")):
            A_bar, B_bar = ssm.discretize(A_DIAG, B, np.array([delta]), method)
            K = ssm.lti_kernel(A_bar, B_bar, C, KERNEL_T)[:, 0]
            ax.plot(
                np.arange(KERNEL_T),
                K / delta,
                marker,
                color=STYLE["s6"]["color"] if method == "zoh" else "black",
                markersize=3,
            )
        ax.set(xlabel="$k$", title=rf"$\Delta = {delta:g}$")
    axes[0].set_ylabel(r"$K_k / \Delta$")
    fig.tight_layout()
    return fig


@figure
def mlstm_decay():
    """The stabilised decay matrix D' of the mLSTM's parallel form, s (columns) against t (rows)."""
    rng = np.random.default_rng(1)
    T = DECAY_T
    i_pre = rng.normal(0, 2, (T, 1))
    f_pre = np.where(np.arange(T) == T // 2, -6.0, 3.0)[:, None]  # one step that forgets
    q = k = np.ones((T, 1, 1))
    _, cache = xlstm.mlstm_parallel(q, k, np.ones((T, 1, 1)), i_pre, f_pre, forget="sigmoid")
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    image = ax.imshow(cache["D"][0], cmap="magma", vmin=0, vmax=1)
    ax.set(xlabel="$s$", ylabel="$t$")
    ax.grid(False)
    fig.colorbar(image, ax=ax)
    return fig
