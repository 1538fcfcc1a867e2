"""Figures of Chapter 8, linear recurrences and the parallel scan.

The tree of the scan is drawn from the index sets of :func:`rnnbook.scan.linear_recurrence`
(:func:`scan_levels`), the work and depth from :func:`rnnbook.scan.scan_work_depth`,
and the eigenvalues from :func:`rnnbook.lru.init`.

>>> from rnnbook.figures.scan import scan_levels
>>> [len(pairs) for pairs in scan_levels(8)]
[4, 2, 1, 1, 3]
"""

import matplotlib.pyplot as plt
import numpy as np

from rnnbook import lru
from rnnbook.figures import STYLE, figure
from rnnbook.scan import scan_work_depth

TREE_T = 16  # steps in the drawing of the scan
LENGTHS = 2 ** np.arange(1, 21)  # T for the work and depth curves
RING = (0.9, 0.999)  # Orvieto et al.'s default ring r_min, r_max
STATES = 256  # eigenvalues drawn


def scan_levels(T):
    """The (left, right) pairs combined at each level of :func:`rnnbook.scan.linear_recurrence`.

    Up-sweep, d = 1, 2, 4, ...: right i = 2d−1, 4d−1, ...; down-sweep, d = ..., 2, 1:
    right i = 3d−1, 5d−1, ...; the left operand is i − d. Levels with no pair are left out.
    """
    ds = [2**k for k in range(int(T - 1).bit_length())]
    up = [[(i - d, i) for i in range(2 * d - 1, T, 2 * d)] for d in ds]
    down = [[(i - d, i) for i in range(3 * d - 1, T, 2 * d)] for d in reversed(ds)]
    return [pairs for pairs in up + down if pairs]


@figure
def scan_tree():
    """Each level of the scan over T = 16 steps: an arrow from i − d to i for every combine."""
    levels = scan_levels(TREE_T)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for depth, pairs in enumerate(levels, start=1):
        for left, right in pairs:
            ax.annotate(
                "",
                xy=(right, -depth),
                xytext=(left, -(depth - 1)),
                arrowprops={"arrowstyle": "->", "color": STYLE["scan"]["color"], "linewidth": 1.2},
            )
    for depth in range(len(levels) + 1):
        ax.plot(np.arange(TREE_T), np.full(TREE_T, -depth), "o", color="black", markersize=3)
    ax.set_xticks(range(TREE_T), [rf"${t}$" for t in range(TREE_T)])
    ax.set_yticks(-np.arange(len(levels) + 1), [rf"${k}$" for k in range(len(levels) + 1)])
    ax.set_xlabel(r"$t$")
    ax.set_ylabel(r"$\ell$")
    ax.grid(False)
    return fig


@figure
def scan_work_depth_curves():
    """Work (left) and depth (right) of the sequential, Hillis–Steele and Blelloch scans against T."""
    methods = {"sequential": "loop", "hillis-steele": "hillis-steele", "blelloch": "scan"}
    fig, (work_ax, depth_ax) = plt.subplots(1, 2, figsize=(7.2, 3.4))
    for method, style in methods.items():
        work, depth = np.array([scan_work_depth(int(T), method) for T in LENGTHS]).T
        work_ax.plot(LENGTHS, work, linewidth=2, **STYLE[style])
        depth_ax.plot(LENGTHS, depth, linewidth=2, **STYLE[style])
    for ax, label in ((work_ax, r"$W(T)$"), (depth_ax, r"$D(T)$")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        ax.set_xlabel(r"$T$")
        ax.set_ylabel(label)
    handles = [plt.Line2D([], [], linewidth=2, **STYLE[s]) for s in methods.values()]
    work_ax.legend(handles, [r"$T-1$", r"$\sum_k (T-2^k)$", r"$< 2T$"], frameon=False)
    depth_ax.legend(handles, [r"$T-1$", r"$\lceil\log_2 T\rceil$", r"$\approx 2\log_2 T$"], frameon=False)
    fig.tight_layout()
    return fig


@figure
def lru_eigenvalues():
    """Left: λ of the ring initialisation and the unit circle. Right: |λ|^τ against the lag τ for radii of the ring."""
    params = lru.init(1, STATES, rng=0, r_min=RING[0], r_max=RING[1])
    lam = lru.eigenvalues(params)
    fig, (plane, decay) = plt.subplots(1, 2, figsize=(7.2, 3.4))
    angle = np.linspace(0, 2 * np.pi, 400)
    plane.plot(np.cos(angle), np.sin(angle), **STYLE["baseline"])
    plane.plot(lam.real, lam.imag, ".", markersize=4, color=STYLE["lru"]["color"])
    plane.set_aspect("equal")
    plane.set_xlabel(r"$\mathrm{Re}\,\lambda$")
    plane.set_ylabel(r"$\mathrm{Im}\,\lambda$")
    lags = np.arange(0, 2001)
    for radius, style in ((RING[0], ":"), (0.99, "--"), (RING[1], "-")):
        decay.plot(
            lags,
            radius**lags,
            linestyle=style,
            linewidth=2,
            color=STYLE["lru"]["color"],
            label=rf"$|\lambda| = {radius}$",
        )
    decay.set_yscale("log")
    decay.set_ylim(1e-8, 2)
    decay.set_xlabel(r"$\tau$")
    decay.set_ylabel(r"$|\lambda|^\tau$")
    decay.legend(frameon=False)
    fig.tight_layout()
    return fig
