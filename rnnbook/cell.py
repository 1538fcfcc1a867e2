"""What every recurrent cell of the book shares: its weights, their checks, σ.

:mod:`rnnbook.rnn`, :mod:`rnnbook.lstm` and :mod:`rnnbook.gru` share one contract:
``Params``, ``init``, ``step``, ``forward`` and ``backward``. This module holds the part
of it that does not depend on the cell's equations: the :class:`Params` base class (the
four weight arrays with PyTorch's names and layouts, their copies, checks and conversion
to and from ``torch.nn``), the logistic function :func:`sigmoid`, and the checks of the
arguments of ``step``, ``forward`` and ``backward``, which differ between cells only in
the number of state arrays (one, h, for the RNN and the GRU; two, (h, c), for the LSTM).

Shapes use letters: T time steps, B sequences in a batch, D input features, H hidden
units, G gates stacked in each weight matrix (1 for the RNN, 4 for the LSTM, 3 for the
GRU). Sequences are time-major: ``xs`` is (T, B, D).

>>> from rnnbook import gru
>>> params = gru.init(3, 5, rng=0)
>>> params.G, params.hidden_size, gru.Params.check(params)
(3, 5, {'H': 5, 'D': 3})
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from rnnbook._validate import FLOAT_DTYPES, check_array, check_same_dtype

__all__ = [
    "TORCH_NAMES",
    "Params",
    "ReadOnlyCache",
    "sigmoid",
    "check_inputs",
    "check_state",
    "check_backward",
    "check_step_backward",
]

# Our names and PyTorch's, for a one-layer module.
TORCH_NAMES = {
    "W_ih": "weight_ih_l0",
    "W_hh": "weight_hh_l0",
    "b_ih": "bias_ih_l0",
    "b_hh": "bias_hh_l0",
}


@dataclasses.dataclass(eq=False, repr=False)
class Params:
    """Weights of a one-layer recurrent network, with PyTorch's names and layouts.

    A base class: each cell subclasses it, setting ``G`` and the matching ``torch.nn``
    module (:class:`rnnbook.rnn.Params`, :class:`rnnbook.lstm.Params`,
    :class:`rnnbook.gru.Params`). The G gates of a gated cell are stacked by rows: for
    the LSTM (G = 4) rows ``0:H`` of ``W_ih`` belong to the input gate, ``H:2H`` to the
    forget gate, and so on.

    Attributes:
        W_ih: input-to-hidden weights (G·H, D).
        W_hh: hidden-to-hidden weights (G·H, H).
        b_ih: input bias (G·H,).
        b_hh: hidden bias (G·H,).

    >>> from rnnbook import rnn
    >>> params = rnn.init(3, 5, rng=0)
    >>> params
    rnn.Params(W_ih=(5, 3), W_hh=(5, 5), b_ih=(5,), b_hh=(5,), dtype=float64)
    >>> params.input_size, params.hidden_size, params.dtype
    (3, 5, dtype('float64'))
    """

    G: ClassVar[int]  # gates stacked in each weight matrix
    TORCH: ClassVar[str]  # the matching torch.nn module
    TORCH_MODE: ClassVar[str]  # its ``mode`` attribute

    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray

    @property
    def input_size(self):
        """D, the number of input features."""
        return self.W_ih.shape[1]

    @property
    def hidden_size(self):
        """H, the number of hidden units."""
        return self.W_hh.shape[1]

    @property
    def dtype(self):
        """The dtype of the weights (float32 or float64)."""
        return self.W_ih.dtype

    def arrays(self):
        """The four arrays as a dict ``{"W_ih": W_ih, "W_hh": W_hh, ...}`` (no copies).

        >>> from rnnbook import rnn
        >>> list(rnn.init(3, 5, rng=0).arrays())
        ['W_ih', 'W_hh', 'b_ih', 'b_hh']
        """
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def zeros_like(self):
        """Parameters of the same shapes and dtype, all zero (e.g. to accumulate gradients).

        >>> from rnnbook import rnn
        >>> float(rnn.init(3, 5, rng=0).zeros_like().W_hh.sum())
        0.0
        """
        return type(self)(**{name: np.zeros_like(a) for name, a in self.arrays().items()})

    def copy(self):
        """A deep copy: new arrays holding the same numbers.

        >>> from rnnbook import rnn
        >>> params = rnn.init(3, 5, rng=0)
        >>> params.copy().W_ih is params.W_ih, bool((params.copy().W_ih == params.W_ih).all())
        (False, True)
        """
        return type(self)(**{name: a.copy() for name, a in self.arrays().items()})

    def __repr__(self):
        shapes = ", ".join(f"{name}={a.shape}" for name, a in self.arrays().items())
        module = type(self).__module__.rsplit(".", 1)[-1]
        return f"{module}.{type(self).__name__}({shapes}, dtype={self.dtype})"

    @classmethod
    def check(cls, params, name="params"):
        """Check the type, shapes, dtype and values of ``params``; return ``{"D": D, "H": H}``.

        Raises ``TypeError`` for another type (say LSTM weights given to the GRU) or
        mixed dtypes, ``ValueError`` for a wrong shape or a non-finite weight.

        >>> import numpy as np
        >>> from rnnbook import rnn
        >>> rnn.Params.check(rnn.init(3, 5, rng=0))
        {'H': 5, 'D': 3}
        >>> rnn.Params.check(rnn.Params(np.zeros((5, 3)), np.zeros((5, 4)), np.zeros(5), np.zeros(5)))
        Traceback (most recent call last):
        ...
        ValueError: params.W_hh: expected shape (H, H) = (5, 5), got (5, 4) (H mismatch: expected 5, got 4)
        """
        if type(params) is not cls:
            raise TypeError(f"{name}: expected {_qualname(cls)}, got {_qualname(type(params))}")
        GH = f"{cls.G}H" if cls.G > 1 else "H"
        dims = {}
        check_array(f"{name}.W_hh", params.W_hh, shape=(GH, "H"), dims=dims)
        if dims[GH] != cls.G * dims["H"]:
            raise ValueError(
                f"{name}.W_hh: expected shape ({GH}, H) with {cls.G} gates of H rows each, got {params.W_hh.shape}"
            )
        check_array(f"{name}.W_ih", params.W_ih, shape=(GH, "D"), dims=dims)
        check_array(f"{name}.b_ih", params.b_ih, shape=(GH,), dims=dims)
        check_array(f"{name}.b_hh", params.b_hh, shape=(GH,), dims=dims)
        check_same_dtype(**{f"{name}.{key}": a for key, a in params.arrays().items()})
        return {"H": dims["H"], "D": dims["D"]}

    @classmethod
    def from_torch(cls, module):
        """Copy the weights of a one-layer ``torch.nn`` module (RNN with tanh, LSTM or GRU).

        The module must have ``num_layers=1``, ``bias=True``, one direction (and no
        projection, for the LSTM); ``batch_first`` does not matter. Arrays are copies,
        of the module's dtype (float32 or float64).

        >>> import torch
        >>> from rnnbook import rnn
        >>> rnn.Params.from_torch(torch.nn.RNN(3, 5, dtype=torch.float64))
        rnn.Params(W_ih=(5, 3), W_hh=(5, 5), b_ih=(5,), b_hh=(5,), dtype=float64)
        >>> rnn.Params.from_torch(torch.nn.RNN(3, 5, num_layers=2))
        Traceback (most recent call last):
        ...
        ValueError: module: expected num_layers=1, got 2
        """
        import torch

        expected = getattr(torch.nn, cls.TORCH)
        if not isinstance(module, expected):
            raise TypeError(f"module: expected a torch.nn.{cls.TORCH}, got {type(module).__name__}")
        settings = {"num_layers": 1, "bias": True, "bidirectional": False, "proj_size": 0}
        for attr, value in settings.items():
            if getattr(module, attr) != value:
                raise ValueError(f"module: expected {attr}={value!r}, got {getattr(module, attr)!r}")
        if module.mode != cls.TORCH_MODE:
            raise ValueError(f"module: expected mode {cls.TORCH_MODE!r} (nonlinearity='tanh'), got {module.mode!r}")
        arrays = {
            name: getattr(module, torch_name).detach().cpu().numpy().copy() for name, torch_name in TORCH_NAMES.items()
        }
        if arrays["W_ih"].dtype not in FLOAT_DTYPES:
            raise TypeError(f"module: expected float32 or float64 weights, got {module.weight_ih_l0.dtype}")
        return cls(**arrays)

    # --8<-- [start:to_torch]
    def to_torch(self):
        """A one-layer, time-major (``batch_first=False``) ``torch.nn`` module holding these numbers.

        Its dtype is the params' (``torch.float64`` for float64), and the round trip
        through :meth:`from_torch` is exact. Torch's random generator is not touched.

        >>> from rnnbook import rnn
        >>> module = rnn.init(3, 5, rng=0).to_torch()
        >>> module
        RNN(3, 5)
        >>> module.weight_hh_l0.dtype
        torch.float64
        """
        import torch

        type(self).check(self)
        dtype = getattr(torch, self.dtype.name)
        module_class = getattr(torch.nn, self.TORCH)
        # Built on the "meta" device, so that no random initialisation runs.
        module = module_class(self.input_size, self.hidden_size, device="meta", dtype=dtype)
        module = module.to_empty(device="cpu")
        with torch.no_grad():
            for name, torch_name in TORCH_NAMES.items():
                getattr(module, torch_name).copy_(torch.from_numpy(getattr(self, name)))
        return module

    # --8<-- [end:to_torch]


@dataclasses.dataclass(eq=False)
class ReadOnlyCache:
    """The base of every model's ``Cache``: what it holds cannot change before ``backward``.

    ``xs`` is the caller's array, so the cache keeps a copy of it; every array it
    holds is then made read-only. ``forward`` returns views of the cache (``hs``,
    the final state), read-only too: writing into them raises ``ValueError``
    instead of silently changing the gradients ``backward`` returns. Copy them
    (``hs.copy()``) to get arrays you may change.

    >>> import numpy as np
    >>> from rnnbook import rnn
    >>> xs = np.ones((2, 1, 3))
    >>> hs, h, cache = rnn.forward(xs, None, rnn.init(3, 4, rng=0))
    >>> xs[:] = 0.0                                   # the caller's array: the cache has its own copy
    >>> float(cache.xs.sum())
    6.0
    >>> hs[0] = 0.0
    Traceback (most recent call last):
    ...
    ValueError: assignment destination is read-only
    """

    def __post_init__(self):
        self.xs = self.xs.copy()
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False


def _qualname(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


# --8<-- [start:sigmoid]
def sigmoid(x, out=None):
    """The logistic function σ(x) = 1 / (1 + e^{-x}), for any x.

    For x < -709 (float64) or x < -88 (float32), e^{-x} overflows to infinity;
    then 1 / (1 + ∞) = 0, which is σ(x) rounded to the dtype, so the overflow
    does no harm and its warning is silenced. No NaN can arise.

    Args:
        x: an array (or a number).
        out: where to write the result (may be ``x`` itself), or None for a new array.

    >>> import numpy as np
    >>> from rnnbook.cell import sigmoid
    >>> sigmoid(np.array([-1e4, 0.0, 1e4]))
    array([0. , 0.5, 1. ])
    """
    with np.errstate(over="ignore"):
        e = np.exp(-x)
    return np.divide(1, 1 + e, out=out)


# --8<-- [end:sigmoid]


def check_state(name, state, dims, n_states):
    """Check a state (or its gradient) of ``n_states`` arrays, each (B, H).

    A one-array state (the RNN's and the GRU's h) is the array itself; a larger one
    (the LSTM's (h, c)) is a tuple. Returns the state in the same form.

    >>> import numpy as np
    >>> from rnnbook.cell import check_state
    >>> dims = {"B": 2, "H": 3}
    >>> h, c = check_state("state", (np.zeros((2, 3)), np.ones((2, 3))), dims, 2)
    >>> check_state("state", (h, c), dims, 1)
    Traceback (most recent call last):
    ...
    TypeError: state: expected None or one (B, H) array, got a tuple
    """
    if n_states == 1:
        if isinstance(state, tuple | list):
            raise TypeError(f"{name}: expected None or one (B, H) array, got a {type(state).__name__}")
        return check_array(name, state, shape=("B", "H"), dims=dims)
    if not isinstance(state, tuple | list) or len(state) != n_states:
        is_sequence = isinstance(state, tuple | list)
        given = f"{len(state)} items" if is_sequence else f"a {type(state).__name__}"
        raise TypeError(f"{name}: expected None or a tuple of {n_states} (B, H) arrays, got {given}")
    arrays = {f"{name}[{k}]": a for k, a in enumerate(state)}
    for key, a in arrays.items():
        check_array(key, a, shape=("B", "H"), dims=dims)
    check_same_dtype(**arrays)
    return tuple(state)


def _zero_state(B, H, dtype, n_states):
    """The zero state: one (B, H) array, or a tuple of ``n_states`` of them."""
    zeros = tuple(np.zeros((B, H), dtype=dtype) for _ in range(n_states))
    return zeros[0] if n_states == 1 else zeros


def check_inputs(name, x, state, params, params_class, n_states=1):
    """Check the arguments of ``step`` (``name="x"``, x (B, D)) or ``forward`` (``"xs"``, (T, B, D)).

    ``params`` must be a ``params_class``; ``state`` None or ``n_states`` (B, H) arrays
    (see :func:`check_state`), all of one dtype with ``x`` and the weights.
    Returns the state, zeros for None.

    >>> import numpy as np
    >>> from rnnbook.cell import check_inputs
    >>> from rnnbook import rnn
    >>> check_inputs("xs", np.ones((4, 2, 3)), None, rnn.init(3, 5, rng=0), rnn.Params).shape
    (2, 5)
    """
    dims = params_class.check(params)
    check_array(name, x, shape=("T", "B", "D") if name == "xs" else ("B", "D"), dims=dims)
    if dims.get("T") == 0:
        raise ValueError(f"xs: expected at least one time step, got shape {x.shape}")
    if dims["B"] == 0:
        raise ValueError(f"{name}: expected at least one sequence (B >= 1), got shape {x.shape}")
    if state is None:
        state = _zero_state(dims["B"], dims["H"], x.dtype, n_states)
    else:
        state = check_state("state", state, dims, n_states)
    h = state if n_states == 1 else state[0]
    check_same_dtype(params=params.W_ih, **{name: x}, state=h)
    return state


def check_backward(dhs, cache, d_state, cache_class, n_states=1):
    """Check the arguments of ``backward`` against the cache ``forward`` returned.

    ``dhs`` is ∂L/∂h_t (T, B, H); ``d_state`` None or ``n_states`` (B, H) arrays, the
    gradient of the final state. Returns ``d_state`` as new arrays (zeros for None),
    which ``backward`` may update in place.

    >>> import numpy as np
    >>> from rnnbook.cell import check_backward
    >>> from rnnbook import lstm
    >>> hs, state, cache = lstm.forward(np.ones((4, 2, 3)), None, lstm.init(3, 5, rng=0))
    >>> dh, dc = check_backward(np.ones_like(hs), cache, None, lstm.Cache, 2)
    >>> dh.shape, float(dc.sum())
    ((2, 5), 0.0)
    """
    if not isinstance(cache, cache_class):
        raise TypeError(
            f"cache: expected the {_qualname(cache_class)} returned by forward, got {_qualname(type(cache))}"
        )
    T, B, _ = cache.xs.shape
    dims = {"T": T, "B": B, "H": cache.params.hidden_size}
    check_array("dhs", dhs, shape=("T", "B", "H"), dims=dims)
    check_same_dtype(cache=cache.xs, dhs=dhs)
    if d_state is None:
        return _zero_state(B, dims["H"], dhs.dtype, n_states)
    d_state = check_state("d_state", d_state, dims, n_states)
    if n_states == 1:
        check_same_dtype(dhs=dhs, d_state=d_state)
        return d_state.copy()
    check_same_dtype(dhs=dhs, d_state=d_state[0])
    return tuple(a.copy() for a in d_state)


def check_step_backward(d_state, x, state, params, params_class, n_states=1):
    """Check the arguments of ``step_backward``: those of ``step``, and ``d_state`` shaped as the state.

    Returns:
        ``(state, d_state)``: the previous state (zeros for None) and ``d_state``, checked.

    >>> import numpy as np
    >>> from rnnbook.cell import check_step_backward
    >>> from rnnbook import rnn
    >>> check_step_backward(np.ones((2, 4)), np.ones((2, 3)), None, rnn.init(3, 5, rng=0), rnn.Params)
    Traceback (most recent call last):
    ...
    ValueError: d_state: expected shape (B, H) = (2, 5), got (2, 4) (H mismatch: expected 5, got 4)
    """
    state = check_inputs("x", x, state, params, params_class, n_states)
    dims = {"B": x.shape[0], "H": params.hidden_size}
    d_state = check_state("d_state", d_state, dims, n_states)
    check_same_dtype(x=x, d_state=d_state if n_states == 1 else d_state[0])
    return state, d_state
