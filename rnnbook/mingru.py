"""minGRU and minLSTM (Feng et al. 2024) in numpy, trained through the parallel scan.

The gates of minGRU and minLSTM read the input x_t only, never h_{t-1}:

    minGRU:   z_t = σ(W_z x_t + b_z),  h̃_t = W_h x_t + b_h,
              h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t
    minLSTM:  f_t = σ(W_f x_t + b_f),  i_t = σ(W_i x_t + b_i),  h̃_t = W_h x_t + b_h,
              f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t),
              h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t

Both are h_t = a_t ⊙ h_{t-1} + b_t with a_t and b_t known for all t at once, so
:func:`rnnbook.scan.linear_recurrence` computes the whole sequence. The price is
expressivity: within a layer the state cannot decide how it is updated.

Weights are stored like PyTorch's ``nn.Linear``: W (H, D), so a gate is x W^T + b.

>>> import numpy as np
>>> from rnnbook.mingru import init, forward, backward
>>> params = init(3, 5, rng=0)
>>> hs, h, cache = forward(np.ones((4, 2, 3)), None, params)
>>> grads, dxs, dh0 = backward(np.ones_like(hs), cache)
>>> grads.W_z.shape, dxs.shape, dh0.shape
((5, 3), (4, 2, 3), (2, 5))
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnbook._validate import as_rng, check_array, check_dtype, check_int, check_same_dtype
from rnnbook.cell import sigmoid
from rnnbook.scan import linear_recurrence, linear_recurrence_backward, linear_recurrence_loop

__all__ = [
    "Params",
    "LSTMParams",
    "Cache",
    "MODES",
    "init",
    "init_lstm",
    "coefficients",
    "log_linear_recurrence",
    "forward",
    "backward",
]

MODES = ("scan", "loop", "log")


@dataclasses.dataclass(eq=False, repr=False)
class _Weights:
    """Arrays of one cell; the subclasses name them. W_h (H, D) is common to both cells."""

    @property
    def input_size(self):
        """D, the number of input features."""
        return self.W_h.shape[1]

    @property
    def hidden_size(self):
        """H, the number of hidden units."""
        return self.W_h.shape[0]

    @property
    def dtype(self):
        """The dtype of the weights (float32 or float64)."""
        return self.W_h.dtype

    def arrays(self):
        """The arrays as a dict, in field order (no copies)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def copy(self):
        """A deep copy: new arrays holding the same numbers."""
        return type(self)(**{name: a.copy() for name, a in self.arrays().items()})

    def __repr__(self):
        shapes = ", ".join(f"{name}={a.shape}" for name, a in self.arrays().items())
        return f"mingru.{type(self).__name__}({shapes}, dtype={self.dtype})"

    def check(self):
        """Check shapes and dtypes of the weights; return the bound sizes {"H": H, "D": D}."""
        dims = {}
        for name, a in self.arrays().items():
            shape = ("H", "D") if name.startswith("W") else ("H",)
            check_array(f"params.{name}", a, shape=shape, dims=dims)
        check_same_dtype(**{f"params.{n}": a for n, a in self.arrays().items()})
        return dims


# --8<-- [start:params]
@dataclasses.dataclass(eq=False, repr=False)
class Params(_Weights):
    """minGRU weights.

    Attributes:
        W_z: update-gate weights (H, D).
        b_z: update-gate bias (H,).
        W_h: candidate weights (H, D).
        b_h: candidate bias (H,).

    >>> from rnnbook.mingru import init
    >>> init(3, 5, rng=0)
    mingru.Params(W_z=(5, 3), b_z=(5,), W_h=(5, 3), b_h=(5,), dtype=float64)
    """

    W_z: np.ndarray
    b_z: np.ndarray
    W_h: np.ndarray
    b_h: np.ndarray


# --8<-- [end:params]


@dataclasses.dataclass(eq=False, repr=False)
class LSTMParams(_Weights):
    """minLSTM weights.

    Attributes:
        W_f, b_f: forget gate (H, D), (H,).
        W_i, b_i: input gate (H, D), (H,).
        W_h, b_h: candidate (H, D), (H,).

    >>> from rnnbook.mingru import init_lstm
    >>> init_lstm(3, 5, rng=0)
    mingru.LSTMParams(W_f=(5, 3), b_f=(5,), W_i=(5, 3), b_i=(5,), W_h=(5, 3), b_h=(5,), dtype=float64)
    """

    W_f: np.ndarray
    b_f: np.ndarray
    W_i: np.ndarray
    b_i: np.ndarray
    W_h: np.ndarray
    b_h: np.ndarray


@dataclasses.dataclass(eq=False)
class Cache:
    """What :func:`backward` needs from :func:`forward`.

    Attributes:
        params: the weights used (a :class:`Params` or :class:`LSTMParams`).
        xs: the inputs (T, B, D).
        h0: the initial state (B, H).
        hs: the states h_1 .. h_T (T, B, H).
        gates: minGRU: [z_t] (1, T, B, H); minLSTM: [f_t, i_t] (2, T, B, H).
        candidate: h̃_t (T, B, H).
        a: the coefficients a_t of the recurrence (T, B, H).
    """

    params: _Weights
    xs: np.ndarray
    h0: np.ndarray
    hs: np.ndarray
    gates: np.ndarray
    candidate: np.ndarray
    a: np.ndarray


def _init(cls, names, input_size, hidden_size, rng, dtype):
    """Every entry U(-1/√H, 1/√H), as PyTorch initialises its recurrent layers."""
    D = check_int("input_size", input_size, minimum=1)
    H = check_int("hidden_size", hidden_size, minimum=1)
    dtype = check_dtype("dtype", dtype)
    rng = as_rng(rng)
    k = 1 / np.sqrt(H)
    shapes = {name: (H, D) if name.startswith("W") else (H,) for name in names}
    return cls(**{name: rng.uniform(-k, k, size=shape).astype(dtype) for name, shape in shapes.items()})


def init(input_size, hidden_size, rng=None, dtype=np.float64):
    """Random minGRU weights, every entry U(-1/√H, 1/√H).

    >>> from rnnbook.mingru import init
    >>> init(3, 4, rng=0).W_z.shape
    (4, 3)
    """
    return _init(Params, ("W_z", "b_z", "W_h", "b_h"), input_size, hidden_size, rng, dtype)


def init_lstm(input_size, hidden_size, rng=None, dtype=np.float64):
    """Random minLSTM weights, every entry U(-1/√H, 1/√H).

    >>> from rnnbook.mingru import init_lstm
    >>> init_lstm(3, 4, rng=0).W_i.shape
    (4, 3)
    """
    return _init(LSTMParams, ("W_f", "b_f", "W_i", "b_i", "W_h", "b_h"), input_size, hidden_size, rng, dtype)


def _check_inputs(xs, h0, params):
    """Check xs (T, B, D), h0 (B, H) or None, and the weights; return h0 as an array."""
    if not isinstance(params, _Weights):
        raise TypeError(f"params: expected mingru.Params or mingru.LSTMParams, got {type(params).__name__}")
    dims = params.check()
    check_array("xs", xs, shape=("T", "B", "D"), dims=dims)
    if dims["T"] == 0:
        raise ValueError("xs: expected at least one time step, got T = 0")
    check_same_dtype(xs=xs, params=params.W_h)
    if h0 is None:
        return np.zeros((dims["B"], dims["H"]), dtype=xs.dtype)
    check_array("h0", h0, shape=("B", "H"), dims=dims)
    check_same_dtype(xs=xs, h0=h0)
    return h0


def _affine(xs, W, b):
    """x_t W^T + b for all t at once: (T, B, D) → (T, B, H)."""
    return xs @ W.T + b


# --8<-- [start:coefficients]
def coefficients(xs, params):
    """The gates, the candidate and the coefficients a_t, b_t of the recurrence.

    minGRU: a_t = 1 − z_t, b_t = z_t ⊙ h̃_t. minLSTM: a_t = f'_t, b_t = i'_t ⊙ h̃_t,
    with f'_t = f_t / (f_t + i_t) and i'_t = i_t / (f_t + i_t) (Feng et al. 2024).
    Nothing here depends on h: all T steps are computed at once.

    Returns:
        gates (1 or 2, T, B, H), candidate h̃ (T, B, H), a (T, B, H), b (T, B, H).
    """
    candidate = _affine(xs, params.W_h, params.b_h)
    if isinstance(params, Params):
        z = sigmoid(_affine(xs, params.W_z, params.b_z))
        return z[None], candidate, 1 - z, z * candidate
    f = sigmoid(_affine(xs, params.W_f, params.b_f))
    i = sigmoid(_affine(xs, params.W_i, params.b_i))
    total = f + i
    return np.stack([f, i]), candidate, f / total, i / total * candidate


# --8<-- [end:coefficients]


# --8<-- [start:log_scan]
def log_linear_recurrence(log_a, log_b, log_h0=None):
    """log h_t for h_t = a_t h_{t-1} + b_t with a, b, h0 > 0, given their logarithms.

    Unrolling, h_t = A_t (h0 + Σ_{s≤t} b_s / A_s) with A_t = a_0 a_1 ⋯ a_t, so

        log h_t = log A_t + logsumexp(log h0, log b_0 − log A_0, ..., log b_t − log A_t),

    a cumulative sum and a cumulative log-sum-exp over axis 0 (Heinsen 2023, the
    form Feng et al. 2024 use). No product of many a_t < 1 is formed, so nothing
    underflows where the plain scan would.

    >>> import numpy as np
    >>> from rnnbook.mingru import log_linear_recurrence
    >>> a, b = np.full((3, 1), 0.5), np.ones((3, 1))
    >>> np.exp(log_linear_recurrence(np.log(a), np.log(b)))[:, 0]
    array([1.  , 1.5 , 1.75])
    """
    log_A = np.cumsum(log_a, axis=0)
    terms = log_b - log_A
    if log_h0 is not None:
        terms[0] = np.logaddexp(terms[0], log_h0)
    return log_A + np.logaddexp.accumulate(terms, axis=0)


# --8<-- [end:log_scan]


# --8<-- [start:forward]
def forward(xs, h0, params, *, mode="scan"):
    """Run minGRU (``params`` a :class:`Params`) or minLSTM (an :class:`LSTMParams`).

    Args:
        xs: inputs (T, B, D), time-major.
        h0: the initial state (B, H), or None for zeros.
        params: the weights.
        mode: "scan" (parallel scan, the default), "loop" (the sequential
            reference) or "log" (in log space, which needs h̃_t > 0 and h0 > 0).

    Returns:
        hs: the states h_1 .. h_T (T, B, H); h: the final state h_T (B, H);
        cache: a :class:`Cache` for :func:`backward`.

    >>> import numpy as np
    >>> from rnnbook.mingru import init, forward
    >>> params = init(3, 4, rng=0)
    >>> xs = np.random.default_rng(1).standard_normal((6, 2, 3))
    >>> hs, _, _ = forward(xs, None, params)
    >>> hs_loop, _, _ = forward(xs, None, params, mode="loop")
    >>> bool(np.allclose(hs, hs_loop, rtol=1e-12, atol=1e-12))
    True
    """
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {', '.join(map(repr, MODES))}, got {mode!r}")
    h0 = _check_inputs(xs, h0, params)
    gates, candidate, a, b = coefficients(xs, params)
    if mode == "scan":
        hs = linear_recurrence(a, b, h0)
    elif mode == "loop":
        hs = linear_recurrence_loop(a, b, h0)
    else:
        hs = _log_mode(a, b, candidate, h0)
    return hs, hs[-1], Cache(params, xs, h0, hs, gates, candidate, a)


# --8<-- [end:forward]


def _log_mode(a, b, candidate, h0):
    """The log-space form, after checking that it is defined (h̃_t > 0 and h0 > 0)."""
    if np.any(candidate <= 0):
        raise ValueError(
            "mode='log': expected every candidate h̃_t = W_h x_t + b_h > 0, got a value <= 0 "
            "(Feng et al. 2024 keep h̃ positive with their activation g)"
        )
    if np.any(h0 <= 0):
        raise ValueError("mode='log': expected h0 > 0 everywhere, got a value <= 0 (None means zeros)")
    return np.exp(log_linear_recurrence(np.log(a), np.log(b), np.log(h0)))


# --8<-- [start:backward]
def backward(dhs, cache, d_h=None):
    """Gradients of a loss through :func:`forward`.

    The scan's own backward (:func:`rnnbook.scan.linear_recurrence_backward`, a
    reverse linear recurrence) gives ∂L/∂a_t, ∂L/∂b_t and ∂L/∂h0; the rest is
    elementwise, step by step and all steps at once. minGRU, with a = 1 − z and
    b = z ⊙ h̃:

        ∂L/∂z = −∂L/∂a + ∂L/∂b ⊙ h̃,   ∂L/∂h̃ = ∂L/∂b ⊙ z.

    minLSTM, with s = f + i, a = f/s, b = (i/s) ⊙ h̃:

        ∂L/∂f = (∂L/∂a − ∂L/∂b ⊙ h̃) ⊙ i/s²,   ∂L/∂i = −(∂L/∂a − ∂L/∂b ⊙ h̃) ⊙ f/s²,
        ∂L/∂h̃ = ∂L/∂b ⊙ i/s.

    Then each gate through its σ, and the weight gradients as sums over steps.

    Args:
        dhs: ∂L/∂h_t from the loss at each step (T, B, H).
        cache: from :func:`forward`.
        d_h: ∂L/∂h_T from beyond the sequence (B, H), or None for zero.

    Returns:
        grads: weights of the same class as ``cache.params``, holding gradients;
        dxs: ∂L/∂x_t (T, B, D); dh0: ∂L/∂h0 (B, H).
    """
    check_array("dhs", dhs, shape=cache.hs.shape, dtype=cache.hs.dtype)
    dh = dhs.copy()
    if d_h is not None:
        dh[-1] += check_array("d_h", d_h, shape=cache.h0.shape, dtype=cache.hs.dtype)
    da, db, dh0 = linear_recurrence_backward(dh, cache.a, cache.hs, cache.h0)
    params, xs = cache.params, cache.xs
    if isinstance(params, Params):
        (z,) = cache.gates
        d_pre = {"z": (db * cache.candidate - da) * z * (1 - z)}
        d_candidate = db * z
    else:
        f, i = cache.gates
        total = f + i
        d_ratio = (da - db * cache.candidate) / total**2
        d_pre = {"f": d_ratio * i * f * (1 - f), "i": -d_ratio * f * i * (1 - i)}
        d_candidate = db * i / total
    d_pre["h"] = d_candidate
    grads, dxs = _linear_backward(xs, d_pre, params)
    return grads, dxs, dh0


# --8<-- [end:backward]


def _linear_backward(xs, d_pre, params):
    """Weight gradients Σ_t d_pre_t^T x_t and Σ_t d_pre_t, and ∂L/∂xs, for each x W^T + b."""
    T, B, D = xs.shape
    x_flat = xs.reshape(T * B, D)
    grads, dxs = {}, np.zeros_like(xs)
    for name, d in d_pre.items():
        d_flat = d.reshape(T * B, -1)
        grads[f"W_{name}"] = d_flat.T @ x_flat
        grads[f"b_{name}"] = d_flat.sum(axis=0)
        dxs += d @ getattr(params, f"W_{name}")
    return type(params)(**{name: grads[name] for name in params.arrays()}), dxs
