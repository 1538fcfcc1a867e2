"""The Elman network (a simple RNN with tanh) in numpy, with backpropagation through time.

One time step (Elman 1990; PyTorch ``nn.RNN`` docs):

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

Shapes use letters: T time steps, B sequences in a batch, D input features,
H hidden units, G gates stacked in each weight matrix (G = 1 here; 4 in
:mod:`rnnbook.lstm`, 3 in :mod:`rnnbook.gru`). Sequences are time-major, as in
PyTorch's default: ``xs`` is (T, B, D).

:mod:`rnnbook.rnn`, :mod:`rnnbook.lstm` and :mod:`rnnbook.gru` share one
contract: ``Params``, ``init``, ``step``, ``forward`` and ``backward``; what does not
depend on a cell's equations is in :mod:`rnnbook.cell`.

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

from rnnbook import cell, masking
from rnnbook._validate import as_rng, check_dtype, check_int
from rnnbook.cell import TORCH_NAMES, check_backward, check_inputs, check_step_backward  # noqa: F401 (rnn.TORCH_NAMES, as chapters use it)

__all__ = ["Params", "Cache", "init", "step", "forward", "backward"]


@dataclasses.dataclass(eq=False, repr=False)
class Params(cell.Params):
    """Elman weights: those of :class:`rnnbook.cell.Params` with G = 1 (no gates).

    Attributes:
        W_ih: input-to-hidden weights (H, D).
        W_hh: hidden-to-hidden weights (H, H).
        b_ih: input bias (H,).
        b_hh: hidden bias (H,).

    >>> from rnnbook.rnn import init
    >>> params = init(3, 5, rng=0)
    >>> params
    rnn.Params(W_ih=(5, 3), W_hh=(5, 5), b_ih=(5,), b_hh=(5,), dtype=float64)
    """

    G: ClassVar[int] = 1
    TORCH: ClassVar[str] = "RNN"
    TORCH_MODE: ClassVar[str] = "RNN_TANH"


@dataclasses.dataclass(eq=False)
class Cache(cell.ReadOnlyCache):
    """What :func:`backward` needs from :func:`forward`, read-only (:class:`~rnnbook.cell.ReadOnlyCache`).

    Attributes:
        params: the weights used.
        xs: the inputs (T, B, D).
        hs: the hidden states h_0 .. h_T (T+1, B, H), the initial state included.
    """

    params: Params
    xs: np.ndarray
    hs: np.ndarray


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
    h = check_inputs("x", x, state, params, Params)
    return np.tanh(x @ params.W_ih.T + params.b_ih + h @ params.W_hh.T + params.b_hh)


# --8<-- [end:step]


# --8<-- [start:forward]
def forward(xs, state, params, lengths=None):
    """Run the network over whole sequences, keeping what :func:`backward` needs.

    Applies h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) for t = 1..T.
    The input terms of all steps do not depend on h, so they are computed first,
    in one matrix product; the loop adds the recurrent term, which must wait for h_{t-1}.

    Args:
        xs: inputs (T, B, D), time-major.
        state: the initial state h_0 (B, H), or None for zeros.
        params: the weights.
        lengths: None, or the lengths (B,) of a padded batch (:func:`rnnbook.masking.forward`).

    Returns:
        hs: the hidden states h_1 .. h_T (T, B, H);
        h: the final state h_T (B, H);
        cache: a :class:`Cache` for :func:`backward`.
        ``hs`` and ``h`` are read-only views into the cache (copy them to change them).

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
    if lengths is not None:  # a padded batch: see rnnbook.masking
        return masking.forward(forward, xs, state, params, lengths)
    h0 = check_inputs("xs", xs, state, params, Params)
    T, B, D = xs.shape
    H = params.hidden_size
    ax = (xs.reshape(T * B, D) @ params.W_ih.T).reshape(T, B, H)
    ax += params.b_ih + params.b_hh
    hs = np.empty((T + 1, B, H), dtype=xs.dtype)
    hs[0] = h0
    for t in range(T):
        hs[t + 1] = np.tanh(ax[t] + hs[t] @ params.W_hh.T)
    cache = Cache(params, xs, hs)  # read-only from here on
    return hs[1:], hs[T], cache


# --8<-- [end:forward]


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
    if isinstance(cache, masking.Cache):  # from forward with lengths
        return masking.backward(backward, dhs, cache, d_state)
    dh = check_backward(dhs, cache, d_state, Cache)
    params, xs, hs = cache.params, cache.xs, cache.hs
    T, B, D = xs.shape
    H = params.hidden_size
    das = np.empty((T, B, H), dtype=dhs.dtype)  # ∂L/∂a_t
    for t in reversed(range(T)):
        dh += dhs[t]  # ∂L/∂h, all of it now: from the loss here and from the step after
        das[t] = dh * (1 - hs[t + 1] ** 2)  # tanh'(a) = 1 − tanh(a)²
        dh = das[t] @ params.W_hh  # ∂L/∂h_prev
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


def step_backward(d_state, x, state, params):
    """The backward pass of one :func:`step`, for comparing a step-by-step implementation.

    The step is recomputed from its inputs. With a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
    and h_t = tanh(a_t):

        ∂L/∂a_t = ∂L/∂h_t ⊙ (1 − h_t²)
        ∂L/∂W_ih = ∂L/∂a_t^T x_t,   ∂L/∂W_hh = ∂L/∂a_t^T h_{t-1},   ∂L/∂b = Σ_b ∂L/∂a_t
        ∂L/∂x_t = ∂L/∂a_t W_ih,     ∂L/∂h_{t-1} = ∂L/∂a_t W_hh

    It equals :func:`backward` on a sequence of one step.

    Args:
        d_state: ∂L/∂h_t (B, H).
        x, state, params: as :func:`step`.

    Returns:
        grads: a :class:`Params` of gradients; dx: ∂L/∂x_t (B, D); d_prev: ∂L/∂h_{t-1} (B, H).

    >>> import numpy as np
    >>> from rnnbook.rnn import init, step_backward
    >>> params = init(3, 4, rng=0)
    >>> grads, dx, dh_prev = step_backward(np.ones((2, 4)), np.ones((2, 3)), None, params)
    >>> grads.W_hh.shape, dx.shape, dh_prev.shape
    ((4, 4), (2, 3), (2, 4))
    """
    h_prev, dh = check_step_backward(d_state, x, state, params, Params)
    h = np.tanh(x @ params.W_ih.T + params.b_ih + h_prev @ params.W_hh.T + params.b_hh)
    da = dh * (1 - h**2)
    db = da.sum(axis=0)
    grads = Params(W_ih=da.T @ x, W_hh=da.T @ h_prev, b_ih=db, b_hh=db.copy())
    return grads, da @ params.W_ih, da @ params.W_hh
