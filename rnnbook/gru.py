"""The Gated Recurrent Unit in numpy, with backpropagation through time.

One time step, as in PyTorch's ``nn.GRU``:

    r_t = σ(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)            reset gate
    z_t = σ(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)            update gate
    n_t = tanh(x_t W_in^T + b_in + r_t ⊙ (h_{t-1} W_hn^T + b_hn))  candidate
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

The three gates are stacked by rows in PyTorch's order r, z, n: ``W_ih`` is (3H, D)
with W_ir in rows 0:H, W_iz in H:2H and W_in in 2H:3H.

Two variants. PyTorch (like cuDNN) applies the reset gate *after* the product
with W_hn, as above: then one product h_{t-1} W_hh^T serves the three gates.
Cho et al. (2014), who introduced the unit, apply it *before*:

    n_t = tanh(x_t W_in^T + b_in + (r_t ⊙ h_{t-1}) W_hn^T + b_hn)

which needs a second product per step, after r_t is known. ``step`` and
``forward`` take ``variant="pytorch"`` (the default) or ``variant="cho"``;
``backward`` follows the variant recorded in the cache. Both variants use the same
:class:`Params`; only the PyTorch one matches ``nn.GRU``.

>>> import numpy as np
>>> from rnnbook.gru import init, forward, backward
>>> params = init(3, 5, rng=0)
>>> hs, h, cache = forward(np.ones((4, 2, 3)), None, params)
>>> grads, dxs, dh0 = backward(np.ones_like(hs), cache)
>>> grads.W_hh.shape, dxs.shape, dh0.shape
((15, 5), (4, 2, 3), (2, 5))
>>> hs_cho, h_cho, _ = forward(np.ones((4, 2, 3)), None, params, variant="cho")
>>> bool(np.allclose(h, h_cho))
False
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from rnnbook import cell, masking
from rnnbook._validate import as_rng, check_choice, check_dtype, check_int
from rnnbook.cell import check_backward, check_inputs, check_step_backward, sigmoid

__all__ = ["Params", "Cache", "VARIANTS", "split_gates", "init", "step", "forward", "backward"]

VARIANTS = ("pytorch", "cho")


@dataclasses.dataclass(eq=False, repr=False)
class Params(cell.Params):
    """GRU weights: those of :class:`rnnbook.cell.Params` with G = 3 gates r, z, n.

    Attributes:
        W_ih: input-to-hidden weights (3H, D), rows [W_ir; W_iz; W_in].
        W_hh: hidden-to-hidden weights (3H, H), rows [W_hr; W_hz; W_hn].
        b_ih: input bias (3H,).
        b_hh: hidden bias (3H,).

    >>> from rnnbook.gru import init
    >>> init(3, 5, rng=0)
    gru.Params(W_ih=(15, 3), W_hh=(15, 5), b_ih=(15,), b_hh=(15,), dtype=float64)
    """

    G: ClassVar[int] = 3
    TORCH: ClassVar[str] = "GRU"
    TORCH_MODE: ClassVar[str] = "GRU"


@dataclasses.dataclass(eq=False)
class Cache(cell.ReadOnlyCache):
    """What :func:`backward` needs from :func:`forward`, read-only (:class:`~rnnbook.cell.ReadOnlyCache`).

    Attributes:
        params: the weights used.
        xs: the inputs (T, B, D).
        hs: the hidden states h_0 .. h_T (T+1, B, H).
        gates: the gate values [r_t, z_t, n_t] for t = 1..T (T, B, 3H).
        variant: "pytorch" or "cho".
        hn: "pytorch": h_{t-1} W_hn^T + b_hn; "cho": r_t ⊙ h_{t-1}; for t = 1..T (T, B, H).
    """

    params: Params
    xs: np.ndarray
    hs: np.ndarray
    gates: np.ndarray
    variant: str
    hn: np.ndarray


# --8<-- [start:split_gates]
def split_gates(a):
    """The three blocks r, z, n of a gate-stacked array (..., 3H), as views (..., H).

    >>> import numpy as np
    >>> from rnnbook.gru import split_gates
    >>> r, z, n = split_gates(np.arange(6.0))
    >>> z
    array([2., 3.])
    """
    H = a.shape[-1] // 3
    return a[..., :H], a[..., H : 2 * H], a[..., 2 * H :]


# --8<-- [end:split_gates]


def init(input_size, hidden_size, rng=None, dtype=np.float64):
    """Random weights as PyTorch initialises ``nn.GRU``: every entry U(-1/√H, 1/√H).

    Args:
        input_size: D.
        hidden_size: H.
        rng: None, an int seed or a ``numpy.random.Generator``.
        dtype: float64 (default) or float32.

    >>> from rnnbook.gru import init
    >>> init(3, 4, rng=0).W_ih.shape
    (12, 3)
    """
    D = check_int("input_size", input_size, minimum=1)
    H = check_int("hidden_size", hidden_size, minimum=1)
    dtype = check_dtype("dtype", dtype)
    rng = as_rng(rng)
    k = 1 / np.sqrt(H)

    def uniform(*shape):
        return rng.uniform(-k, k, size=shape).astype(dtype)

    return Params(W_ih=uniform(3 * H, D), W_hh=uniform(3 * H, H), b_ih=uniform(3 * H), b_hh=uniform(3 * H))


# --8<-- [start:step]
def step(x, state, params, *, variant="pytorch"):
    """One time step of the GRU (PyTorch ``nn.GRU`` docs; Cho et al. 2014 with ``variant="cho"``).

    Args:
        x: inputs at this step (B, D).
        state: the previous hidden state h_{t-1} (B, H), or None for zeros.
        params: the weights.
        variant: "pytorch" (reset gate after the product with W_hn) or "cho" (before).

    Returns:
        The new hidden state h_t (B, H).

    >>> import numpy as np
    >>> from rnnbook.gru import init, step
    >>> params = init(3, 4, rng=0)
    >>> step(np.ones((2, 3)), None, params).shape
    (2, 4)
    """
    check_choice("variant", variant, VARIANTS)
    h = check_inputs("x", x, state, params, Params)
    ax_r, ax_z, ax_n = split_gates(x @ params.W_ih.T + params.b_ih)
    W_hr, W_hz, W_hn = np.split(params.W_hh, 3)
    b_hr, b_hz, b_hn = np.split(params.b_hh, 3)
    r = sigmoid(ax_r + h @ W_hr.T + b_hr)
    z = sigmoid(ax_z + h @ W_hz.T + b_hz)
    if variant == "pytorch":
        n = np.tanh(ax_n + r * (h @ W_hn.T + b_hn))
    else:
        n = np.tanh(ax_n + (r * h) @ W_hn.T + b_hn)
    return (1 - z) * n + z * h


# --8<-- [end:step]


def forward(xs, state, params, lengths=None, *, variant="pytorch"):
    """Run the GRU over whole sequences, keeping what :func:`backward` needs.

    The input terms x_t W_ih^T + b_ih of all steps and gates come from one matrix
    product before the loop. Each step then needs one product with W_hh for the three
    gates ("pytorch") or two ("cho": the product with W_hn waits for r_t).

    Args:
        xs: inputs (T, B, D), time-major.
        state: the initial state h_0 (B, H), or None for zeros.
        params: the weights.
        lengths: None, or the lengths (B,) of a padded batch (:func:`rnnbook.masking.forward`).
        variant: "pytorch" (default, as ``nn.GRU``) or "cho" (Cho et al. 2014).

    Returns:
        hs: the hidden states h_1 .. h_T (T, B, H);
        h: the final state h_T (B, H);
        cache: a :class:`Cache` for :func:`backward`.
        ``hs`` and ``h`` are read-only views into the cache (copy them to change them).

    >>> import numpy as np
    >>> from rnnbook.gru import init, VARIANTS, forward, step
    >>> params = init(3, 4, rng=0)
    >>> xs = np.ones((5, 2, 3))
    >>> for variant in VARIANTS:
    ...     hs, h, cache = forward(xs, None, params, variant=variant)
    ...     h_by_step = None
    ...     for x in xs:
    ...         h_by_step = step(x, h_by_step, params, variant=variant)
    ...     print(variant, bool(np.allclose(h_by_step, h)))
    pytorch True
    cho True
    """
    check_choice("variant", variant, VARIANTS)
    if lengths is not None:  # a padded batch: see rnnbook.masking
        return masking.forward(lambda x, s, p: forward(x, s, p, variant=variant), xs, state, params, lengths)
    h0 = check_inputs("xs", xs, state, params, Params)
    T, B, D = xs.shape
    H = params.hidden_size
    hs = np.empty((T + 1, B, H), dtype=xs.dtype)
    hs[0] = h0
    hn = np.empty((T, B, H), dtype=xs.dtype)
    ax = (xs.reshape(T * B, D) @ params.W_ih.T).reshape(T, B, 3 * H)
    ax += params.b_ih
    if variant == "pytorch":
        gates = _forward_pytorch(ax, hs, hn, params)
    else:
        gates = _forward_cho(ax, hs, hn, params)
    cache = Cache(params, xs, hs, gates, variant, hn)  # read-only from here on
    return hs[1:], hs[T], cache


# --8<-- [start:forward_pytorch]
def _forward_pytorch(ax, hs, hn, params):
    """The loop of :func:`forward`, PyTorch's variant. Fills hs[1:] and hn; returns the gates.

    ax (T, B, 3H) holds x_t W_ih^T + b_ih; it is overwritten with the gates [r_t, z_t, n_t].
    """
    for t in range(len(ax)):
        r, z, n = split_gates(ax[t])  # views, holding x_t W_i·^T + b_i· until overwritten
        ah = hs[t] @ params.W_hh.T + params.b_hh  # one product for the three gates
        ah_r, ah_z, ah_n = split_gates(ah)
        sigmoid(r + ah_r, out=r)
        sigmoid(z + ah_z, out=z)
        np.tanh(n + r * ah_n, out=n)
        hs[t + 1] = (1 - z) * n + z * hs[t]
        hn[t] = ah_n
    return ax


# --8<-- [end:forward_pytorch]


# --8<-- [start:forward_cho]
def _forward_cho(ax, hs, rh, params):
    """The loop of :func:`forward`, Cho et al.'s variant. Fills hs[1:] and rh; returns the gates.

    ax (T, B, 3H) holds x_t W_ih^T + b_ih; it is overwritten with the gates [r_t, z_t, n_t].
    """
    H = params.hidden_size
    W_hrz, W_hn = params.W_hh[: 2 * H], params.W_hh[2 * H :]  # rows of r and z; rows of n
    b_hrz, b_hn = params.b_hh[: 2 * H], params.b_hh[2 * H :]
    for t in range(len(ax)):
        r, z, n = split_gates(ax[t])
        ah_rz = hs[t] @ W_hrz.T + b_hrz  # (B, 2H): r and z first
        sigmoid(r + ah_rz[:, :H], out=r)
        sigmoid(z + ah_rz[:, H:], out=z)
        rh[t] = r * hs[t]
        np.tanh(n + rh[t] @ W_hn.T + b_hn, out=n)  # then n, which needs r
        hs[t + 1] = (1 - z) * n + z * hs[t]
    return ax


# --8<-- [end:forward_cho]


def backward(dhs, cache, d_state=None):
    """Backpropagation through time (Werbos 1990) for :func:`forward`, either variant.

    Write a_x = x_t W_ih^T + b_ih = [ax_r, ax_z, ax_n] and, for PyTorch's variant,
    a_h = h_{t-1} W_hh^T + b_hh = [ah_r, ah_z, ah_n]. Going from t = T down to 1:

        ∂L/∂h_t  = dhs[t] + (the part coming back from step t+1)
        ∂L/∂ax_n = ∂L/∂h_t ⊙ (1 − z_t) ⊙ (1 − n_t²)
        ∂L/∂ax_z = ∂L/∂h_t ⊙ (h_{t-1} − n_t) ⊙ z_t (1 − z_t)
        ∂L/∂ax_r = ∂L/∂ax_n ⊙ ah_n ⊙ r_t (1 − r_t)
        ∂L/∂ah_n = ∂L/∂ax_n ⊙ r_t;  ∂L/∂ah_r = ∂L/∂ax_r;  ∂L/∂ah_z = ∂L/∂ax_z
        ∂L/∂h_{t-1} = ∂L/∂h_t ⊙ z_t + ∂L/∂a_h W_hh

    In Cho's variant the reset gate acts on h_{t-1} itself: with
    ∂L/∂(r_t ⊙ h_{t-1}) = ∂L/∂ax_n W_hn, we get
    ∂L/∂ax_r = ∂L/∂(r_t ⊙ h_{t-1}) ⊙ h_{t-1} ⊙ r_t (1 − r_t),
    and h_{t-1} receives ∂L/∂(r_t ⊙ h_{t-1}) ⊙ r_t as well.
    The weight gradients sum over steps, so they are computed after the loop, one
    matrix product each.

    Args:
        dhs: ∂L/∂h_t from the loss at each step (T, B, H).
        cache: from :func:`forward`.
        d_state: ∂L/∂h_T from beyond the sequence (B, H), or None for zero.

    Returns:
        grads: a :class:`Params` of gradients;
        dxs: ∂L/∂x_t (T, B, D);
        dh0: ∂L/∂h_0 (B, H).

    >>> import numpy as np
    >>> from rnnbook.gru import init, forward, backward
    >>> params = init(3, 4, rng=0)
    >>> hs, h, cache = forward(np.ones((5, 2, 3)), None, params, variant="cho")
    >>> grads, dxs, dh0 = backward(np.zeros_like(hs), cache, d_state=np.ones_like(h))
    >>> grads.W_hh.shape, dxs.shape, dh0.shape
    ((12, 4), (5, 2, 3), (2, 4))
    """
    if isinstance(cache, masking.Cache):  # from forward with lengths
        return masking.backward(backward, dhs, cache, d_state)
    dh = check_backward(dhs, cache, d_state, Cache)
    if cache.variant == "pytorch":
        return _backward_pytorch(dhs, cache, dh)
    return _backward_cho(dhs, cache, dh)


def _backward_pytorch(dhs, cache, dh):
    """The loop of :func:`backward` and the weight gradients, PyTorch's variant."""
    params, xs, hs, hn = cache.params, cache.xs, cache.hs, cache.hn
    T, B, D = xs.shape
    H = params.hidden_size
    dax = np.empty_like(cache.gates)  # ∂L/∂a_x (T, B, 3H)
    dah = np.empty_like(cache.gates)  # ∂L/∂a_h (T, B, 3H)
    for t in reversed(range(T)):
        # --8<-- [start:backward_step]
        r, z, n = split_gates(cache.gates[t])
        dax_r, dax_z, dax_n = split_gates(dax[t])
        dh += dhs[t]  # ∂L/∂h, all of it now
        dax_n[:] = dh * (1 - z) * (1 - n**2)  # through h = (1 − z) ⊙ n + z ⊙ h_prev, tanh
        dax_z[:] = dh * (hs[t] - n) * z * (1 - z)  # ∂h/∂z = h_prev − n, then σ
        dax_r[:] = dax_n * hn[t] * r * (1 - r)  # r multiplies ah_n = h_prev W_hn^T + b_hn
        dah[t, :, : 2 * H] = dax[t, :, : 2 * H]  # ah_r and ah_z enter like ax_r and ax_z
        dah[t, :, 2 * H :] = dax_n * r  # ah_n enters through r ⊙ ah_n
        dh = dh * z + dah[t] @ params.W_hh  # ∂L/∂h_prev: directly, and through a_h
        # --8<-- [end:backward_step]
    dax_flat, dah_flat = dax.reshape(T * B, 3 * H), dah.reshape(T * B, 3 * H)
    grads = Params(
        W_ih=dax_flat.T @ xs.reshape(T * B, D),  # Σ_t ∂L/∂a_x^T x_t
        W_hh=dah_flat.T @ hs[:-1].reshape(T * B, H),  # Σ_t ∂L/∂a_h^T h_{t-1}
        b_ih=dax_flat.sum(axis=0),
        b_hh=dah_flat.sum(axis=0),
    )
    dxs = (dax_flat @ params.W_ih).reshape(T, B, D)
    return grads, dxs, dh


def _backward_cho(dhs, cache, dh):
    """The loop of :func:`backward` and the weight gradients, Cho et al.'s variant."""
    params, xs, hs, rh = cache.params, cache.xs, cache.hs, cache.hn
    T, B, D = xs.shape
    H = params.hidden_size
    W_hrz, W_hn = params.W_hh[: 2 * H], params.W_hh[2 * H :]
    dax = np.empty_like(cache.gates)  # ∂L/∂a_x (T, B, 3H)
    for t in reversed(range(T)):
        r, z, n = split_gates(cache.gates[t])
        dax_r, dax_z, dax_n = split_gates(dax[t])
        dh += dhs[t]  # ∂L/∂h, all of it now
        dax_n[:] = dh * (1 - z) * (1 - n**2)
        dax_z[:] = dh * (hs[t] - n) * z * (1 - z)
        drh = dax_n @ W_hn  # ∂L/∂(r ⊙ h_prev)
        dax_r[:] = drh * hs[t] * r * (1 - r)
        dh = dh * z + drh * r + dax[t, :, : 2 * H] @ W_hrz  # ∂L/∂h_prev: three paths
    dax_flat = dax.reshape(T * B, 3 * H)
    db = dax_flat.sum(axis=0)  # b_ih and b_hh enter a_x + a_h alike (b_hn is outside r_t here)
    W_hh = np.concatenate(
        [
            dax_flat[:, : 2 * H].T @ hs[:-1].reshape(T * B, H),  # Σ_t ∂L/∂[a_r, a_z]^T h_{t-1}
            dax_flat[:, 2 * H :].T @ rh.reshape(T * B, H),  # Σ_t ∂L/∂a_n^T (r_t ⊙ h_{t-1})
        ]
    )
    grads = Params(
        W_ih=dax_flat.T @ xs.reshape(T * B, D),
        W_hh=W_hh,
        b_ih=db,
        b_hh=db.copy(),
    )
    dxs = (dax_flat @ params.W_ih).reshape(T, B, D)
    return grads, dxs, dh


def step_backward(d_state, x, state, params, *, variant="pytorch"):
    """The backward pass of one :func:`step`, for comparing a step-by-step implementation.

    The step is recomputed from its inputs. With the gates of the module docstring,
    from ∂L/∂h_t:

        ∂L/∂n = ∂L/∂h_t ⊙ (1 − z),  ∂L/∂z = ∂L/∂h_t ⊙ (h_{t-1} − n),  and h_{t-1} directly: ∂L/∂h_t ⊙ z
        ∂L/∂a_n = ∂L/∂n ⊙ (1 − n²),  ∂L/∂a_z = ∂L/∂z ⊙ z(1 − z)
        "pytorch": ∂L/∂r = ∂L/∂a_n ⊙ (h_{t-1} W_hn^T + b_hn); the hidden-side term of n is r ⊙ ∂L/∂a_n
        "cho": ∂L/∂(r ⊙ h_{t-1}) = ∂L/∂a_n W_hn, so ∂L/∂r = that ⊙ h_{t-1}
        ∂L/∂a_r = ∂L/∂r ⊙ r(1 − r)

    It equals :func:`backward` on a sequence of one step.

    Args:
        d_state: ∂L/∂h_t (B, H).
        x, state, params, variant: as :func:`step`.

    Returns:
        grads: a :class:`Params` of gradients; dx: ∂L/∂x_t (B, D); d_prev: ∂L/∂h_{t-1} (B, H).

    >>> import numpy as np
    >>> from rnnbook.gru import init, step_backward
    >>> params = init(3, 4, rng=0)
    >>> grads, dx, dh_prev = step_backward(np.ones((2, 4)), np.ones((2, 3)), None, params)
    >>> grads.W_hh.shape, dx.shape, dh_prev.shape
    ((12, 4), (2, 3), (2, 4))
    """
    check_choice("variant", variant, VARIANTS)
    h, dh = check_step_backward(d_state, x, state, params, Params)
    ax_r, ax_z, ax_n = split_gates(x @ params.W_ih.T + params.b_ih)
    W_hr, W_hz, W_hn = np.split(params.W_hh, 3)
    b_hr, b_hz, b_hn = np.split(params.b_hh, 3)
    r = sigmoid(ax_r + h @ W_hr.T + b_hr)
    z = sigmoid(ax_z + h @ W_hz.T + b_hz)
    hn = h @ W_hn.T + b_hn if variant == "pytorch" else (r * h) @ W_hn.T + b_hn
    n = np.tanh(ax_n + r * hn) if variant == "pytorch" else np.tanh(ax_n + hn)
    da_n = dh * (1 - z) * (1 - n**2)
    da_z = dh * (h - n) * z * (1 - z)
    dh_prev = dh * z
    if variant == "pytorch":
        dr, da_hn = da_n * hn, da_n * r  # ∂L/∂r and ∂L/∂(h_{t-1} W_hn^T + b_hn)
        dh_prev = dh_prev + da_hn @ W_hn
        dW_hn = da_hn.T @ h
    else:
        d_rh = da_n @ W_hn  # ∂L/∂(r ⊙ h_{t-1})
        dr, da_hn = d_rh * h, da_n
        dh_prev = dh_prev + d_rh * r
        dW_hn = da_n.T @ (r * h)
    da_r = dr * r * (1 - r)
    da_x = np.concatenate([da_r, da_z, da_n], axis=1)  # the input side: a = x W_ih^T + b_ih
    grads = Params(
        W_ih=da_x.T @ x,
        W_hh=np.concatenate([da_r.T @ h, da_z.T @ h, dW_hn]),
        b_ih=da_x.sum(axis=0),
        b_hh=np.concatenate([da_r.sum(axis=0), da_z.sum(axis=0), da_hn.sum(axis=0)]),
    )
    dh_prev = dh_prev + da_r @ W_hr + da_z @ W_hz
    return grads, da_x @ params.W_ih, dh_prev
