"""The Elman network (a simple RNN with tanh) in numpy, with backpropagation through time.

One time step (Elman 1990; PyTorch ``nn.RNN`` docs):

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

Shapes use letters: T time steps, B sequences in a batch, D input features,
H hidden units, G gates stacked in each weight matrix (G = 1 here; 4 in
:mod:`rnnbook.lstm`, 3 in :mod:`rnnbook.gru`). Sequences are time-major, as in
PyTorch's default: ``xs`` is (T, B, D).

:mod:`rnnbook.rnn`, :mod:`rnnbook.lstm` and :mod:`rnnbook.gru` share one
contract: ``Params``, ``init``, ``step``, ``forward`` and ``backward``.

>>> import numpy as np
>>> from rnnbook.rnn import init, forward, backward
>>> params = init(3, 5, rng=0)
>>> xs = np.ones((4, 2, 3))
>>> hs, h, cache = forward(xs, None, params)
>>> hs.shape, h.shape
((4, 2, 5), (2, 5))
>>> grads, dxs, dh0 = backward(np.ones_like(hs), cache)
>>> grads.W_hh.shape, dxs.shape, dh0.shape
((5, 5), (4, 2, 3), (2, 5))
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from rnnbook._validate import (
    FLOAT_DTYPES,
    as_rng,
    check_array,
    check_dtype,
    check_int,
    check_same_dtype,
)

__all__ = ["Params", "Cache", "init", "step", "forward", "backward"]

# Our names and PyTorch's, for a one-layer module.
TORCH_NAMES = {
    "W_ih": "weight_ih_l0",
    "W_hh": "weight_hh_l0",
    "b_ih": "bias_ih_l0",
    "b_hh": "bias_hh_l0",
}


# --8<-- [start:params]
@dataclasses.dataclass(eq=False, repr=False)
class Params:
    """Weights of a one-layer recurrent network, with PyTorch's names and layouts.

    The G gates of a gated cell are stacked by rows: for the LSTM (G = 4) rows
    ``0:H`` of ``W_ih`` belong to the input gate, ``H:2H`` to the forget gate, and so on.

    Attributes:
        W_ih: input-to-hidden weights (G·H, D).
        W_hh: hidden-to-hidden weights (G·H, H).
        b_ih: input bias (G·H,).
        b_hh: hidden bias (G·H,).

    >>> from rnnbook.rnn import init
    >>> params = init(3, 5, rng=0)
    >>> params
    rnn.Params(W_ih=(5, 3), W_hh=(5, 5), b_ih=(5,), b_hh=(5,), dtype=float64)
    >>> params.input_size, params.hidden_size, params.dtype
    (3, 5, dtype('float64'))
    """

    G: ClassVar[int] = 1  # gates stacked in each weight matrix
    TORCH: ClassVar[str] = "RNN"  # the matching torch.nn module
    TORCH_MODE: ClassVar[str] = "RNN_TANH"  # its ``mode`` attribute

    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray
    # --8<-- [end:params]

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

        >>> from rnnbook.rnn import init
        >>> list(init(3, 5, rng=0).arrays())
        ['W_ih', 'W_hh', 'b_ih', 'b_hh']
        """
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def zeros_like(self):
        """Parameters of the same shapes and dtype, all zero (e.g. to accumulate gradients).

        >>> from rnnbook.rnn import init
        >>> float(init(3, 5, rng=0).zeros_like().W_hh.sum())
        0.0
        """
        return type(self)(**{name: np.zeros_like(a) for name, a in self.arrays().items()})

    def copy(self):
        """A deep copy: new arrays holding the same numbers.

        >>> from rnnbook.rnn import init
        >>> params = init(3, 5, rng=0)
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
        >>> from rnnbook.rnn import Params, init
        >>> Params.check(init(3, 5, rng=0))
        {'H': 5, 'D': 3}
        >>> Params.check(Params(np.zeros((5, 3)), np.zeros((5, 4)), np.zeros(5), np.zeros(5)))
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
                f"{name}.W_hh: expected shape ({GH}, H) with {cls.G} gates of H rows each, "
                f"got {params.W_hh.shape}"
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

        >>> from rnnbook.rnn import Params
        >>> import torch
        >>> Params.from_torch(torch.nn.RNN(3, 5, dtype=torch.float64))
        rnn.Params(W_ih=(5, 3), W_hh=(5, 5), b_ih=(5,), b_hh=(5,), dtype=float64)
        >>> Params.from_torch(torch.nn.RNN(3, 5, num_layers=2))
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
            raise ValueError(
                f"module: expected mode {cls.TORCH_MODE!r} (nonlinearity='tanh'), got {module.mode!r}"
            )
        arrays = {
            name: getattr(module, torch_name).detach().cpu().numpy().copy()
            for name, torch_name in TORCH_NAMES.items()
        }
        if arrays["W_ih"].dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"module: expected float32 or float64 weights, got {module.weight_ih_l0.dtype}"
            )
        return cls(**arrays)

    # --8<-- [start:to_torch]
    def to_torch(self):
        """A one-layer, time-major (``batch_first=False``) ``torch.nn`` module holding these numbers.

        Its dtype is the params' (``torch.float64`` for float64), and the round trip
        through :meth:`from_torch` is exact. Torch's random generator is not touched.

        >>> from rnnbook.rnn import init
        >>> module = init(3, 5, rng=0).to_torch()
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


def _qualname(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


@dataclasses.dataclass(eq=False)
class Cache:
    """What :func:`backward` needs from :func:`forward`.

    Attributes:
        params: the weights used.
        xs: the inputs (T, B, D).
        hs: the hidden states h_0 .. h_T (T+1, B, H), the initial state included.
    """

    params: Params
    xs: np.ndarray
    hs: np.ndarray


# --8<-- [start:init]
def init(input_size, hidden_size, rng=None, dtype=np.float64):
    """Random weights as PyTorch initialises ``nn.RNN``: every entry U(-1/√H, 1/√H).

    Args:
        input_size: D.
        hidden_size: H.
        rng: None, an int seed or a ``numpy.random.Generator``.
        dtype: float64 (default) or float32.

    >>> import numpy as np
    >>> from rnnbook.rnn import init
    >>> params = init(3, 4, rng=0)
    >>> bool(np.abs(params.W_hh).max() <= 1 / np.sqrt(4))
    True
    """
    D = check_int("input_size", input_size, minimum=1)
    H = check_int("hidden_size", hidden_size, minimum=1)
    dtype = check_dtype("dtype", dtype)
    rng = as_rng(rng)
    k = 1 / np.sqrt(H)

    def uniform(*shape):
        return rng.uniform(-k, k, size=shape).astype(dtype)

    return Params(W_ih=uniform(H, D), W_hh=uniform(H, H), b_ih=uniform(H), b_hh=uniform(H))
# --8<-- [end:init]


def _check_inputs(name, x, h, params, params_class=Params):
    """Check params, the input ``x`` (B, D) or ``xs`` (T, B, D) and the state h.

    Returns h, or zeros for None.
    """
    dims = params_class.check(params)
    check_array(name, x, shape=("T", "B", "D") if name == "xs" else ("B", "D"), dims=dims)
    if dims.get("T") == 0:
        raise ValueError(f"xs: expected at least one time step, got shape {x.shape}")
    if h is None:
        h = np.zeros((dims["B"], dims["H"]), dtype=x.dtype)
    elif isinstance(h, tuple | list):
        raise TypeError(f"state: expected None or one array h (B, H), got a {type(h).__name__}")
    else:
        check_array("state", h, shape=("B", "H"), dims=dims)
    check_same_dtype(params=params.W_ih, **{name: x}, state=h)
    return h


# --8<-- [start:step]
def step(x, state, params):
    """One time step: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (Elman 1990).

    Args:
        x: inputs at this step (B, D).
        state: the previous hidden state h_{t-1} (B, H), or None for zeros.
        params: the weights.

    Returns:
        The new hidden state h_t (B, H).

    >>> import numpy as np
    >>> from rnnbook.rnn import init, step
    >>> params = init(3, 4, rng=0)
    >>> step(np.ones((2, 3)), None, params).shape
    (2, 4)
    """
    h = _check_inputs("x", x, state, params)
    return np.tanh(x @ params.W_ih.T + params.b_ih + h @ params.W_hh.T + params.b_hh)
# --8<-- [end:step]


# --8<-- [start:forward]
def forward(xs, state, params):
    """Run the network over whole sequences, keeping what :func:`backward` needs.

    Applies h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) for t = 1..T.
    The input terms of all steps do not depend on h, so they are computed first,
    in one matrix product; the loop adds the recurrent term, which must wait for h_{t-1}.

    Args:
        xs: inputs (T, B, D), time-major.
        state: the initial state h_0 (B, H), or None for zeros.
        params: the weights.

    Returns:
        hs: the hidden states h_1 .. h_T (T, B, H);
        h: the final state h_T (B, H);
        cache: a :class:`Cache` for :func:`backward`.
        ``hs`` and ``h`` are views into the cache: read them, do not write into them.

    >>> import numpy as np
    >>> from rnnbook.rnn import init, forward, step
    >>> params = init(3, 4, rng=0)
    >>> xs = np.ones((5, 2, 3))
    >>> hs, h, cache = forward(xs, None, params)
    >>> h_by_step = None
    >>> for x in xs:
    ...     h_by_step = step(x, h_by_step, params)
    >>> bool(np.allclose(h_by_step, h))
    True
    """
    h0 = _check_inputs("xs", xs, state, params)
    T, B, D = xs.shape
    H = params.hidden_size
    ax = (xs.reshape(T * B, D) @ params.W_ih.T).reshape(T, B, H)
    ax += params.b_ih + params.b_hh
    hs = np.empty((T + 1, B, H), dtype=xs.dtype)
    hs[0] = h0
    for t in range(T):
        hs[t + 1] = np.tanh(ax[t] + hs[t] @ params.W_hh.T)
    return hs[1:], hs[T], Cache(params, xs, hs)
# --8<-- [end:forward]


def _check_backward(dhs, cache, d_state, cache_class=Cache):
    """Check backward's arguments against the cache; return ∂L/∂h_T (a copy; zeros for None)."""
    if not isinstance(cache, cache_class):
        raise TypeError(
            f"cache: expected the {_qualname(cache_class)} returned by forward, "
            f"got {_qualname(type(cache))}"
        )
    T, B, _ = cache.xs.shape
    dims = {"T": T, "B": B, "H": cache.params.hidden_size}
    check_array("dhs", dhs, shape=("T", "B", "H"), dims=dims)
    if d_state is None:
        d_state = np.zeros((B, dims["H"]), dtype=dhs.dtype)
    elif isinstance(d_state, tuple | list):
        raise TypeError(
            f"d_state: expected None or one array dh (B, H), got a {type(d_state).__name__}"
        )
    else:
        check_array("d_state", d_state, shape=("B", "H"), dims=dims)
    check_same_dtype(cache=cache.xs, dhs=dhs, d_state=d_state)
    return d_state.copy()


# --8<-- [start:backward]
def backward(dhs, cache, d_state=None):
    """Backpropagation through time (Werbos 1990) for :func:`forward`.

    With a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh and h_t = tanh(a_t), going
    from t = T down to 1:

        ∂L/∂h_t     = dhs[t] + ∂L/∂h_{t+1} · ∂h_{t+1}/∂h_t
        ∂L/∂a_t     = ∂L/∂h_t ⊙ (1 − h_t²)
        ∂L/∂h_{t-1} = ∂L/∂a_t W_hh   (its part through a_t)

    The weight gradients sum over steps, so they are computed after the loop,
    one matrix product each.

    Args:
        dhs: ∂L/∂h_t from the loss at each step (T, B, H).
        cache: from :func:`forward`.
        d_state: ∂L/∂h_T from beyond the sequence (B, H), or None for zero.

    Returns:
        grads: a :class:`Params` of gradients;
        dxs: ∂L/∂x_t (T, B, D);
        dh0: ∂L/∂h_0 (B, H).

    >>> import numpy as np
    >>> from rnnbook.rnn import init, forward, backward
    >>> params = init(3, 4, rng=0)
    >>> hs, h, cache = forward(np.ones((5, 2, 3)), None, params)
    >>> grads, dxs, dh0 = backward(np.zeros_like(hs), cache, d_state=np.ones_like(h))
    >>> grads.W_ih.shape, dxs.shape, dh0.shape
    ((4, 3), (5, 2, 3), (2, 4))
    """
    dh = _check_backward(dhs, cache, d_state)
    params, xs, hs = cache.params, cache.xs, cache.hs
    T, B, D = xs.shape
    H = params.hidden_size
    das = np.empty((T, B, H), dtype=dhs.dtype)  # ∂L/∂a_t
    for t in reversed(range(T)):
        # --8<-- [start:backward_step]
        dh += dhs[t]  # ∂L/∂h, all of it now: from the loss here and from the step after
        das[t] = dh * (1 - hs[t + 1] ** 2)  # tanh'(a) = 1 − tanh(a)²
        dh = das[t] @ params.W_hh  # ∂L/∂h_prev
        # --8<-- [end:backward_step]
    da = das.reshape(T * B, H)
    db = da.sum(axis=0)  # Σ_t ∂L/∂a_t: b_ih and b_hh enter a_t alike
    grads = Params(
        W_ih=da.T @ xs.reshape(T * B, D),  # Σ_t ∂L/∂a_t^T x_t
        W_hh=da.T @ hs[:-1].reshape(T * B, H),  # Σ_t ∂L/∂a_t^T h_{t-1}
        b_ih=db,
        b_hh=db.copy(),
    )
    dxs = (da @ params.W_ih).reshape(T, B, D)
    return grads, dxs, dh
# --8<-- [end:backward]
