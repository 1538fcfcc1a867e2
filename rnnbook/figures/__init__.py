"""The book's figures, drawn from the package's own computations.

One module per chapter (``rnnbook.figures.vanishing`` for Chapter 3, ...)
registers its figures with the :func:`figure` decorator; this package imports
them all.

A chapter shows a figure by name with the Markdown image syntax and an
``rnnbook:`` address; the caption, in the page's language, is the image text::

    ![Sigmoid and tanh with their derivatives.](rnnbook:activations)

During the build a hook calls :func:`render_svg` with that name, so every
number in a figure comes from code run at build time. Figures contain no
words, only symbols, so one drawing serves both languages. They share one
visual legend, :data:`STYLE`: the same colour always means the same model.

>>> from rnnbook.figures import FIGURES, render_svg
>>> sorted(FIGURES)[:1]
['activations']
>>> render_svg("activations").startswith("<?xml")
True

:func:`plotted` gives the numbers a figure draws, so that the tests can check
them against an independent computation.
"""

from __future__ import annotations

import importlib
import io
import pkgutil

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rnnbook.cache import memoize  # noqa: E402

# One legend for the whole book: a colour and a line style per model or curve.
STYLE = {
    "rnn": {"color": "#d62728", "linestyle": "-"},
    "lstm": {"color": "#1f77b4", "linestyle": "-"},
    "gru": {"color": "#2ca02c", "linestyle": "-"},
    "tanh": {"color": "#9467bd", "linestyle": "-"},
    "sigmoid": {"color": "#ff7f0e", "linestyle": "-"},
    "baseline": {"color": "#7f7f7f", "linestyle": "--"},
    "loop": {"color": "#8c564b", "linestyle": "-"},
    "scan": {"color": "#e377c2", "linestyle": "-"},
    "hillis-steele": {"color": "#bcbd22", "linestyle": "-."},
    "mingru": {"color": "#17becf", "linestyle": "-"},
    "lru": {"color": "#ff7f0e", "linestyle": ":"},
    "lti": {"color": "#7f7f7f", "linestyle": "-."},
    "s6": {"color": "#e377c2", "linestyle": "-"},
    "mlstm": {"color": "#9467bd", "linestyle": "--"},
}

RC = {
    "figure.figsize": (6.4, 3.6),
    "font.size": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.hashsalt": "rnnbook",  # stable ids: the same figure gives the same bytes
    "svg.fonttype": "path",
    "mathtext.fontset": "cm",
}

FIGURES = {}


def figure(fn):
    """Register ``fn`` (no arguments, returns a matplotlib Figure) under its name."""
    FIGURES[fn.__name__] = fn
    return fn


def running_mean(values, window):
    """The mean of each ``window`` consecutive values, and the step (from 1) where each window ends.

    For a loss curve drawn beside its smoothed version: plot ``means`` against ``ends``.

    >>> from rnnbook.figures import running_mean
    >>> ends, means = running_mean([1.0, 3.0, 5.0, 7.0], 2)
    >>> ends.tolist(), means.tolist()
    ([2, 3, 4], [2.0, 4.0, 6.0])
    """
    values = np.asarray(values, dtype=float)
    means = np.convolve(values, np.ones(window) / window, mode="valid")
    return np.arange(window, len(values) + 1), means


def _registering_module(name):
    """The module that registers figure ``name``: :func:`render_svg` draws with its code."""
    return [FIGURES[name].__module__] if name in FIGURES else []


@memoize(uses=_registering_module)
def render_svg(name: str) -> str:
    """Draw the figure registered as ``name`` and return it as an SVG document."""
    if name not in FIGURES:
        raise KeyError(f"name: expected one of {', '.join(sorted(FIGURES))}, got {name!r}")
    with plt.rc_context(RC):
        fig = FIGURES[name]()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)
    return buffer.getvalue()


def plotted(name: str) -> list[list[dict]]:
    """The lines the figure ``name`` draws: for each of its axes, one dict per line,
    ``{"label", "color", "linestyle", "x", "y"}`` (x and y as float arrays; a
    horizontal or vertical reference line gives two points).

    >>> from rnnbook.figures import plotted
    >>> [len(lines) for lines in plotted("activations")]  # σ, tanh; σ', tanh' and the line at 1/4
    [2, 3]
    """
    if name not in FIGURES:
        raise KeyError(f"name: expected one of {', '.join(sorted(FIGURES))}, got {name!r}")
    with plt.rc_context(RC):
        fig = FIGURES[name]()
    axes = [
        [
            {
                "label": line.get_label(),
                "color": line.get_color(),
                "linestyle": line.get_linestyle(),
                "x": np.asarray(line.get_xdata(), dtype=float),
                "y": np.asarray(line.get_ydata(), dtype=float),
            }
            for line in ax.get_lines()
        ]
        for ax in fig.axes
    ]
    plt.close(fig)
    return axes


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
