"""Long Short-Term Memory in numpy, with backpropagation through time.

One time step, as in PyTorch's ``nn.LSTM`` (Hochreiter & Schmidhuber 1997, with the
forget gate of Gers, Schmidhuber & Cummins 2000):

    i_t = σ(x_t W_ii^T + b_ii + h_{t-1} W_hi^T + b_hi)     input gate
    f_t = σ(x_t W_if^T + b_if + h_{t-1} W_hf^T + b_hf)     forget gate
    g_t = tanh(x_t W_ig^T + b_ig + h_{t-1} W_hg^T + b_hg)  candidate
    o_t = σ(x_t W_io^T + b_io + h_{t-1} W_ho^T + b_ho)     output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)

The four gates are stacked by rows, in PyTorch's order i, f, g, o: ``W_ih`` is
(4H, D) with W_ii in rows 0:H, W_if in H:2H, W_ig in 2H:3H and W_io in 3H:4H.
The state is the pair (h, c). Shapes as in :mod:`rnnbook.cell`.

>>> import numpy as np
>>> from rnnbook.lstm import init, forward, backward
>>> params = init(3, 5, rng=0)
>>> hs, (h, c), cache = forward(np.ones((4, 2, 3)), None, params)
>>> hs.shape, h.shape, c.shape
((4, 2, 5), (2, 5), (2, 5))
>>> grads, dxs, (dh0, dc0) = backward(np.ones_like(hs), cache)
>>> grads.W_hh.shape, dxs.shape, dc0.shape
((20, 5), (4, 2, 3), (2, 5))
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from rnnbook import cell, masking
from rnnbook._validate import as_rng, check_dtype, check_float, check_int
from rnnbook.cell import check_backward, check_inputs, check_step_backward, sigmoid

__all__ = [
    "Params",
    "Cache",
    "split_gates",
    "gates",
    "init",
    "step",
    "forward",
    "backward",
]


@dataclasses.dataclass(eq=False, repr=False)
class Params(cell.Params):
    """LSTM weights: those of :class:`rnnbook.cell.Params` with G = 4 gates i, f, g, o.

    Attributes:
        W_ih: input-to-hidden weights (4H, D), rows [W_ii; W_if; W_ig; W_io].
        W_hh: hidden-to-hidden weights (4H, H), rows [W_hi; W_hf; W_hg; W_ho].
        b_ih: input bias (4H,).
        b_hh: hidden bias (4H,).

    >>> from rnnbook.lstm import init
    >>> init(3, 5, rng=0)
    lstm.Params(W_ih=(20, 3), W_hh=(20, 5), b_ih=(20,), b_hh=(20,), dtype=float64)
    """

    G: ClassVar[int] = 4
    TORCH: ClassVar[str] = "LSTM"
    TORCH_MODE: ClassVar[str] = "LSTM"


@dataclasses.dataclass(eq=False)
class Cache(cell.ReadOnlyCache):
    """What :func:`backward` needs from :func:`forward`, read-only (:class:`~rnnbook.cell.ReadOnlyCache`).

    Attributes:
        params: the weights used.
        xs: the inputs (T, B, D).
        hs: the hidden states h_0 .. h_T (T+1, B, H).
        cs: the cell states c_0 .. c_T (T+1, B, H).
        tanh_cs: tanh(c_1) .. tanh(c_T) (T, B, H).
        gates: the gate values [i_t, f_t, g_t, o_t] for t = 1..T (T, B, 4H).
    """

    params: Params
    xs: np.ndarray
    hs: np.ndarray
    cs: np.ndarray
    tanh_cs: np.ndarray
    gates: np.ndarray


# --8<-- [start:split_gates]
def split_gates(a):
    """The four blocks i, f, g, o of a gate-stacked array (..., 4H), as views (..., H).

    >>> import numpy as np
    >>> from rnnbook.lstm import split_gates
    >>> i, f, g, o = split_gates(np.arange(8.0))
    >>> f, o
    (array([2., 3.]), array([6., 7.]))
    """
    H = a.shape[-1] // 4
    return a[..., :H], a[..., H : 2 * H], a[..., 2 * H : 3 * H], a[..., 3 * H :]


# --8<-- [end:split_gates]


# --8<-- [start:gates]
def gates(a, out=None):
    """The gates i, f, g, o from their stacked pre-activations a = [a_i, a_f, a_g, a_o] (B, 4H).

    i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o) (PyTorch ``nn.LSTM`` docs).

    Args:
        a: pre-activations (B, 4H), gates stacked in the order i, f, g, o.
        out: where to write the gates (B, 4H), may be ``a`` itself; None for a new array.

    Returns:
        i, f, g, o: four (B, H) views into ``out``.

    >>> import numpy as np
    >>> from rnnbook.lstm import gates
    >>> i, f, g, o = gates(np.zeros((2, 4 * 3)))
    >>> float(i[0, 0]), float(g[0, 0])
    (0.5, 0.0)
    """
    out = np.empty_like(a) if out is None else out
    H = a.shape[-1] // 4
    sigmoid(a[..., : 2 * H], out=out[..., : 2 * H])  # i and f, side by side
    np.tanh(a[..., 2 * H : 3 * H], out=out[..., 2 * H : 3 * H])  # g
    sigmoid(a[..., 3 * H :], out=out[..., 3 * H :])  # o
    return split_gates(out)


# --8<-- [end:gates]


# --8<-- [start:init]
def init(input_size, hidden_size, rng=None, dtype=np.float64, *, forget_bias=None):
    """Random weights as PyTorch initialises ``nn.LSTM``: every entry U(-1/√H, 1/√H).

    Args:
        input_size: D.
        hidden_size: H.
        rng: None, an int seed or a ``numpy.random.Generator``.
        dtype: float64 (default) or float32.
        forget_bias: None (PyTorch's default), or a number: the forget-gate slice of
            ``b_ih`` is set to it and that of ``b_hh`` to 0, so the effective forget
            bias b_if + b_hf equals it. Jozefowicz, Zaremba & Sutskever (2015) use 1.

    >>> from rnnbook.lstm import init
    >>> params = init(3, 2, rng=0, forget_bias=1.0)
    >>> params.b_ih[2:4] + params.b_hh[2:4]
    array([1., 1.])
    """
    D = check_int("input_size", input_size, minimum=1)
    H = check_int("hidden_size", hidden_size, minimum=1)
    dtype = check_dtype("dtype", dtype)
    rng = as_rng(rng)
    k = 1 / np.sqrt(H)

    def uniform(*shape):
        return rng.uniform(-k, k, size=shape).astype(dtype)

    params = Params(W_ih=uniform(4 * H, D), W_hh=uniform(4 * H, H), b_ih=uniform(4 * H), b_hh=uniform(4 * H))
    if forget_bias is not None:
        params.b_ih[H : 2 * H] = check_float("forget_bias", forget_bias)
        params.b_hh[H : 2 * H] = 0
    return params


# --8<-- [end:init]


# --8<-- [start:step]
def step(x, state, params):
    """One time step of the LSTM (PyTorch ``nn.LSTM`` docs; equations in the module docstring).

    Args:
        x: inputs at this step (B, D).
        state: the previous state (h_{t-1}, c_{t-1}), each (B, H), or None for zeros.
        params: the weights.

    Returns:
        The new state (h_t, c_t).

    >>> import numpy as np
    >>> from rnnbook.lstm import step, init
    >>> h, c = step(np.ones((2, 3)), None, init(3, 4, rng=0))
    >>> h.shape, c.shape
    ((2, 4), (2, 4))
    """
    h, c = check_inputs("x", x, state, params, Params, n_states=2)
    a = x @ params.W_ih.T + params.b_ih + h @ params.W_hh.T + params.b_hh  # (B, 4H)
    i, f, g, o = gates(a)
    c = f * c + i * g
    h = o * np.tanh(c)
    return h, c


# --8<-- [end:step]


# --8<-- [start:forward]
def forward(xs, state, params, lengths=None):
    """Run the LSTM over whole sequences, keeping what :func:`backward` needs.

    The input terms x_t W_ih^T + b_ih + b_hh of all steps and all gates come from one
    matrix product before the loop; each step adds h_{t-1} W_hh^T, one product for
    the four gates, then applies the step's equations.

    Args:
        xs: inputs (T, B, D), time-major.
        state: the initial state (h_0, c_0), each (B, H), or None for zeros.
        params: the weights.
        lengths: None, or the lengths (B,) of a padded batch (:func:`rnnbook.masking.forward`).

    Returns:
        hs: the hidden states h_1 .. h_T (T, B, H);
        (h, c): the final state (h_T, c_T);
        cache: a :class:`Cache` for :func:`backward`.
        ``hs``, ``h`` and ``c`` are read-only views into the cache (copy them to change them).

    >>> import numpy as np
    >>> from rnnbook.lstm import init, forward, step
    >>> params = init(3, 4, rng=0)
    >>> xs = np.ones((5, 2, 3))
    >>> hs, (h, c), cache = forward(xs, None, params)
    >>> state = None
    >>> for x in xs:
    ...     state = step(x, state, params)
    >>> bool(np.allclose(state[0], h) and np.allclose(state[1], c))
    True
    """
    if lengths is not None:  # a padded batch: see rnnbook.masking
        return masking.forward(forward, xs, state, params, lengths)
    h0, c0 = check_inputs("xs", xs, state, params, Params, n_states=2)
    T, B, D = xs.shape
    H = params.hidden_size
    hs = np.empty((T + 1, B, H), dtype=xs.dtype)
    cs = np.empty((T + 1, B, H), dtype=xs.dtype)
    tanh_cs = np.empty((T, B, H), dtype=xs.dtype)
    hs[0], cs[0] = h0, c0
    # a[t]: the pre-activations of the step from h_t to h_{t+1}, then (in place) its gates.
    a = (xs.reshape(T * B, D) @ params.W_ih.T).reshape(T, B, 4 * H)
    a += params.b_ih + params.b_hh
    for t in range(T):
        a[t] += hs[t] @ params.W_hh.T  # + h_prev W_hh^T
        i, f, g, o = gates(a[t], out=a[t])
        cs[t + 1] = f * cs[t] + i * g  # c = f ⊙ c_prev + i ⊙ g
        np.tanh(cs[t + 1], out=tanh_cs[t])
        hs[t + 1] = o * tanh_cs[t]  # h = o ⊙ tanh(c)
    cache = Cache(params, xs, hs, cs, tanh_cs, gates=a)  # read-only from here on
    return hs[1:], (hs[T], cs[T]), cache


# --8<-- [end:forward]


# --8<-- [start:backward]
def backward(dhs, cache, d_state=None):
    """Backpropagation through time (Werbos 1990) for :func:`forward`.

    Going from t = T down to 1, with a_t the stacked pre-activations of the gates:

        ∂L/∂h_t      = dhs[t] + (the part coming back from step t+1)
        ∂L/∂c_t     += ∂L/∂h_t ⊙ o_t ⊙ (1 − tanh²(c_t))    from h_t = o_t ⊙ tanh(c_t)
        ∂L/∂i_t = ∂L/∂c_t ⊙ g_t,   ∂L/∂f_t = ∂L/∂c_t ⊙ c_{t-1},
        ∂L/∂g_t = ∂L/∂c_t ⊙ i_t,   ∂L/∂o_t = ∂L/∂h_t ⊙ tanh(c_t)
        ∂L/∂a_t      = [∂L/∂i_t, ∂L/∂f_t, ∂L/∂g_t, ∂L/∂o_t]
                       ⊙ [σ'(a_i), σ'(a_f), tanh'(a_g), σ'(a_o)]
                       with σ' = σ (1 − σ), tanh' = 1 − tanh², read off the gates
        ∂L/∂c_{t-1}  = ∂L/∂c_t ⊙ f_t                      the constant error carousel
        ∂L/∂h_{t-1}  = ∂L/∂a_t W_hh

    The weight gradients sum over steps, so they are computed after the loop,
    one matrix product each.

    Args:
        dhs: ∂L/∂h_t from the loss at each step (T, B, H).
        cache: from :func:`forward`.
        d_state: (∂L/∂h_T, ∂L/∂c_T) from beyond the sequence, each (B, H); None for zeros.

    Returns:
        grads: a :class:`Params` of gradients;
        dxs: ∂L/∂x_t (T, B, D);
        (dh0, dc0): ∂L/∂h_0 and ∂L/∂c_0, each (B, H).

    >>> import numpy as np
    >>> from rnnbook.lstm import init, forward, backward
    >>> params = init(3, 4, rng=0)
    >>> hs, (h, c), cache = forward(np.ones((5, 2, 3)), None, params)
    >>> d_state = (np.zeros_like(h), np.ones_like(c))
    >>> grads, dxs, (dh0, dc0) = backward(np.zeros_like(hs), cache, d_state)
    >>> grads.W_ih.shape, dxs.shape, dh0.shape, dc0.shape
    ((16, 3), (5, 2, 3), (2, 4), (2, 4))
    """
    if isinstance(cache, masking.Cache):  # from forward with lengths
        return masking.backward(backward, dhs, cache, d_state)
    dh, dc = check_backward(dhs, cache, d_state, Cache, n_states=2)
    params, xs, hs, cs, tanh_cs = cache.params, cache.xs, cache.hs, cache.cs, cache.tanh_cs
    T, B, D = xs.shape
    H = params.hidden_size
    das = np.empty_like(cache.gates)  # ∂L/∂a_t (T, B, 4H), stacked like the gates
    for t in reversed(range(T)):
        i, f, g, o = split_gates(cache.gates[t])
        da_i, da_f, da_g, da_o = split_gates(das[t])
        dh += dhs[t]  # ∂L/∂h, all of it now
        dc += dh * o * (1 - tanh_cs[t] ** 2)  # ∂L/∂c, all of it now
        np.multiply(dc, g, out=da_i)  # ∂L/∂i, ∂L/∂f, ∂L/∂g, ∂L/∂o first ...
        np.multiply(dc, cs[t], out=da_f)
        np.multiply(dc, i, out=da_g)
        np.multiply(dh, tanh_cs[t], out=da_o)
        slopes = cache.gates[t] * (1 - cache.gates[t])  # ... then times σ' = σ (1 − σ) ...
        slopes[:, 2 * H : 3 * H] = 1 - g**2  # ... and tanh' = 1 − tanh² for g
        das[t] *= slopes
        dc *= f  # ∂L/∂c_prev
        dh = das[t] @ params.W_hh  # ∂L/∂h_prev
    da = das.reshape(T * B, 4 * H)
    db = da.sum(axis=0)  # Σ_t ∂L/∂a_t: b_ih and b_hh enter a_t alike
    grads = Params(
        W_ih=da.T @ xs.reshape(T * B, D),  # Σ_t ∂L/∂a_t^T x_t
        W_hh=da.T @ hs[:-1].reshape(T * B, H),  # Σ_t ∂L/∂a_t^T h_{t-1}
        b_ih=db,
        b_hh=db.copy(),
    )
    dxs = (da @ params.W_ih).reshape(T, B, D)
    return grads, dxs, (dh, dc)


# --8<-- [end:backward]


def step_backward(d_state, x, state, params):
    """The backward pass of one :func:`step`, for comparing a step-by-step implementation.

    The step is recomputed from its inputs; then, from ∂L/∂h_t and ∂L/∂c_t:

        ∂L/∂c_t ← ∂L/∂c_t + ∂L/∂h_t ⊙ o_t ⊙ (1 − tanh²(c_t))
        ∂L/∂a = [∂L/∂c_t ⊙ g_t ⊙ i_t(1 − i_t),  ∂L/∂c_t ⊙ c_{t-1} ⊙ f_t(1 − f_t),
                 ∂L/∂c_t ⊙ i_t ⊙ (1 − g_t²),    ∂L/∂h_t ⊙ tanh(c_t) ⊙ o_t(1 − o_t)]
        ∂L/∂W_ih = ∂L/∂a^T x_t,  ∂L/∂W_hh = ∂L/∂a^T h_{t-1},  ∂L/∂b = Σ_b ∂L/∂a
        ∂L/∂x_t = ∂L/∂a W_ih,   ∂L/∂h_{t-1} = ∂L/∂a W_hh,   ∂L/∂c_{t-1} = ∂L/∂c_t ⊙ f_t

    It equals :func:`backward` on a sequence of one step.

    Args:
        d_state: (∂L/∂h_t, ∂L/∂c_t), each (B, H).
        x, state, params: as :func:`step`.

    Returns:
        grads: a :class:`Params` of gradients; dx: ∂L/∂x_t (B, D);
        d_prev: (∂L/∂h_{t-1}, ∂L/∂c_{t-1}).

    >>> import numpy as np
    >>> from rnnbook.lstm import init, step_backward
    >>> params = init(3, 4, rng=0)
    >>> d_state = (np.ones((2, 4)), np.zeros((2, 4)))
    >>> grads, dx, (dh_prev, dc_prev) = step_backward(d_state, np.ones((2, 3)), None, params)
    >>> grads.W_hh.shape, dx.shape, dc_prev.shape
    ((16, 4), (2, 3), (2, 4))
    """
    (h_prev, c_prev), (dh, dc) = check_step_backward(d_state, x, state, params, Params, n_states=2)
    i, f, g, o = gates(x @ params.W_ih.T + params.b_ih + h_prev @ params.W_hh.T + params.b_hh)
    tanh_c = np.tanh(f * c_prev + i * g)
    dc = dc + dh * o * (1 - tanh_c**2)
    da = np.concatenate(
        [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2), dh * tanh_c * o * (1 - o)], axis=1
    )
    db = da.sum(axis=0)
    grads = Params(W_ih=da.T @ x, W_hh=da.T @ h_prev, b_ih=db, b_hh=db.copy())
    return grads, da @ params.W_ih, (da @ params.W_hh, dc * f)
