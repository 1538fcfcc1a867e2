"""State-space models: from x' = Ax + Bu to the selective scan of Mamba, in numpy.

A linear time-invariant (LTI) state space maps an input signal u(t) to an output
y(t) through a state x(t) of size N:

    x'(t) = A x(t) + B u(t),   y(t) = C x(t) + D u(t).

Sampled with a step Δ it becomes a linear recurrence (:func:`discretize`),

    x_t = Ā x_{t-1} + B̄ u_t,   y_t = C x_t + D u_t,

and, since Ā and B̄ do not change with t, also a convolution of u with the
kernel K_k = C Ā^k B̄ (:func:`lti_kernel`): S4 (Gu, Goel & Ré 2022) trains with
the convolution and generates with the recurrence. Here A is diagonal (one
decay rate per state entry, as in S4D and Mamba), and every one of the D
channels of the input has its own state of size N (single-input single-output).

The selective SSM of Mamba (Gu & Dao 2023), the S6 core, lets Δ_t, B_t and C_t
depend on the input u_t (:func:`selective_forward`). The kernel is gone, the
recurrence stays linear in the state, and the scan of the previous chapter
(:func:`rnnbook.scan.linear_recurrence`) computes it.

Shapes: inputs u (T, Bt, D) with Bt the batch; states (T, Bt, D, N); A, B, C of
the LTI model (D, N); Δ (D,).

>>> import numpy as np
>>> from rnnbook.ssm import discretize, lti_recurrent, lti_convolution
>>> A, B, C = -np.ones((1, 2)), np.ones((1, 2)), np.ones((1, 2))
>>> A_bar, B_bar = discretize(A, B, np.array([0.5]))
>>> u = np.random.default_rng(0).standard_normal((6, 1, 1))
>>> bool(np.allclose(lti_recurrent(u, A_bar, B_bar, C), lti_convolution(u, A_bar, B_bar, C)))
True
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnbook._validate import as_rng, check_array, check_choice, check_dtype, check_int, check_same_dtype
from rnnbook.cell import sigmoid
from rnnbook.scan import linear_recurrence, linear_recurrence_backward, linear_recurrence_loop

__all__ = [
    "METHODS",
    "MODES",
    "discretize",
    "lti_recurrent",
    "lti_kernel",
    "lti_convolution",
    "softplus",
    "SelectiveParams",
    "SelectiveCache",
    "init_selective",
    "selective_forward",
    "selective_backward",
]

METHODS = ("zoh", "bilinear")
MODES = ("scan", "loop")


def _check_lti(A, B, C=None):
    """A, B (and C) of one shape (D, N) and dtype, A < 0 (a stable system); return the dims."""
    dims = {}
    check_array("A", A, shape=("D", "N"), dims=dims)
    check_array("B", B, shape=("D", "N"), dims=dims)
    check_same_dtype(A=A, B=B)
    if C is not None:
        check_array("C", C, shape=("D", "N"), dims=dims)
        check_same_dtype(A=A, C=C)
    if np.any(A >= 0):
        raise ValueError("A: expected every entry < 0 (a stable, decaying state), got a value >= 0")
    return dims


# --8<-- [start:discretize]
def discretize(A, B, delta, method="zoh"):
    """Ā and B̄ of x_t = Ā x_{t-1} + B̄ u_t for the diagonal system x' = A x + B u, step Δ.

    Zero-order hold (u constant over each step, the exact solution of the ODE):
        Ā = exp(ΔA),   B̄ = (exp(ΔA) − 1) / A · B.
    Bilinear (the trapezoidal rule, used by S4):
        Ā = (1 + ΔA/2) / (1 − ΔA/2),   B̄ = Δ B / (1 − ΔA/2).
    With A diagonal every formula is entrywise.

    Args:
        A: the diagonal of the state matrix, entries < 0 (D, N).
        B: the input matrix (D, N).
        delta: the step Δ > 0 of each channel (D,), or of each step and channel (..., D).
        method: "zoh" or "bilinear".

    Returns:
        A_bar, B_bar: arrays of shape (..., D, N).

    >>> import numpy as np
    >>> from rnnbook.ssm import discretize
    >>> A_bar, B_bar = discretize(np.array([[-1.0]]), np.array([[1.0]]), np.array([0.1]))
    >>> float(A_bar[0, 0]), float(B_bar[0, 0])
    (0.9048374180359595, 0.09516258196404048)
    """
    _check_lti(A, B)
    check_choice("method", method, METHODS)
    check_array("delta", delta, dtype=A.dtype)
    if delta.ndim == 0 or delta.shape[-1] != A.shape[0]:
        raise ValueError(f"delta: expected shape (..., D) with D = {A.shape[0]}, got {tuple(delta.shape)}")
    if np.any(delta <= 0):
        raise ValueError("delta: expected every step > 0, got a value <= 0")
    dA = delta[..., None] * A
    if method == "zoh":
        A_bar = np.exp(dA)
        return A_bar, (A_bar - 1) / A * B
    return (1 + dA / 2) / (1 - dA / 2), delta[..., None] * B / (1 - dA / 2)


# --8<-- [end:discretize]


def _check_u(u, dims, dtype):
    check_array("u", u, shape=("T", "Bt", "D"), dims=dims, dtype=dtype)
    if len(u) == 0:
        raise ValueError("u: expected at least one time step, got T = 0")


# --8<-- [start:lti]
def lti_recurrent(u, A_bar, B_bar, C, D_skip=None):
    """y_t = C x_t + D u_t with x_t = Ā x_{t-1} + B̄ u_t, x_{-1} = 0: the recurrent view.

    Args:
        u: inputs (T, Bt, D); A_bar, B_bar, C: (D, N); D_skip: (D,) or None.

    Returns:
        y: outputs (T, Bt, D).
    """
    dims = {}
    for name, x in (("A_bar", A_bar), ("B_bar", B_bar), ("C", C)):
        check_array(name, x, shape=("D", "N"), dims=dims, dtype=u.dtype)
    _check_u(u, dims, A_bar.dtype)
    a = np.broadcast_to(A_bar, u.shape + A_bar.shape[1:]).copy()  # (T, Bt, D, N)
    xs = linear_recurrence_loop(a, u[..., None] * B_bar)
    y = np.einsum("tbdn,dn->tbd", xs, C)
    return y if D_skip is None else y + D_skip * u


def lti_kernel(A_bar, B_bar, C, T):
    """The convolution kernel K_k = Σ_n C_n Ā_n^k B̄_n for k = 0 .. T-1: (T, D)."""
    T = check_int("T", T, minimum=1)
    powers = A_bar[None] ** np.arange(T)[:, None, None]  # Ā^k (T, D, N)
    return np.einsum("kdn,dn->kd", powers, B_bar * C)


def lti_convolution(u, A_bar, B_bar, C, D_skip=None):
    """The same outputs as :func:`lti_recurrent`, as a causal convolution y_t = Σ_k K_k u_{t-k}.

    Unrolling x_t = Ā x_{t-1} + B̄ u_t gives x_t = Σ_{k≤t} Ā^k B̄ u_{t-k}, so
    y_t = Σ_k (C Ā^k B̄) u_{t-k}: every output at once, as S4 trains. Computed here
    directly in O(T²); S4 uses the FFT for O(T log T).
    """
    dims = {}
    for name, x in (("A_bar", A_bar), ("B_bar", B_bar), ("C", C)):
        check_array(name, x, shape=("D", "N"), dims=dims, dtype=u.dtype)
    _check_u(u, dims, A_bar.dtype)
    T = len(u)
    K = lti_kernel(A_bar, B_bar, C, T)  # (T, D)
    lags = np.arange(T)[:, None] - np.arange(T)[None, :]  # t - s
    Kts = np.where(lags[..., None] >= 0, K[np.clip(lags, 0, None)], 0)  # (T, T, D), K_{t-s} for s ≤ t
    y = np.einsum("tsd,sbd->tbd", Kts, u)
    return y if D_skip is None else y + D_skip * u


# --8<-- [end:lti]


def softplus(x):
    """log(1 + exp(x)), computed without overflow: Δ = softplus(·) > 0.

    >>> import numpy as np
    >>> from rnnbook.ssm import softplus
    >>> softplus(np.array([-1000.0, 0.0, 1000.0])).round(4).tolist()
    [0.0, 0.6931, 1000.0]
    """
    return np.logaddexp(0, x)


# --8<-- [start:params]
@dataclasses.dataclass(eq=False)
class SelectiveParams:
    """Weights of the selective SSM (S6) on D channels with N states each.

    Attributes:
        A_log: A = −exp(A_log) < 0, the diagonal state matrix (D, N).
        W_delta, b_delta: Δ_t = softplus(u_t W_deltaᵀ + b_delta) (D, D), (D,).
        W_B: B_t = u_t W_Bᵀ (N, D); W_C: C_t = u_t W_Cᵀ (N, D).
        D_skip: the direct term D u_t (D,).
    """

    A_log: np.ndarray
    W_delta: np.ndarray
    b_delta: np.ndarray
    W_B: np.ndarray
    W_C: np.ndarray
    D_skip: np.ndarray

    def arrays(self):
        """The arrays as a dict, in field order (no copies)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def check(self):
        """Check shapes and dtypes; return the bound sizes {"D": D, "N": N}."""
        shapes = {
            "A_log": ("D", "N"),
            "W_delta": ("D", "D"),
            "b_delta": ("D",),
            "W_B": ("N", "D"),
            "W_C": ("N", "D"),
            "D_skip": ("D",),
        }
        dims = {}
        for name, a in self.arrays().items():
            check_array(f"params.{name}", a, shape=shapes[name], dims=dims)
        check_same_dtype(**{f"params.{n}": a for n, a in self.arrays().items()})
        return dims


# --8<-- [end:params]


def init_selective(channels, states, rng=None, dtype=np.float64):
    """Random S6 weights, initialised as in Mamba (Gu & Dao 2023): A_n = −(n + 1), Δ in [0.001, 0.1].

    >>> import numpy as np
    >>> from rnnbook.ssm import init_selective
    >>> p = init_selective(3, 4, rng=0)
    >>> -np.exp(p.A_log[0])
    array([-1., -2., -3., -4.])
    """
    D = check_int("channels", channels, minimum=1)
    N = check_int("states", states, minimum=1)
    dtype = check_dtype("dtype", dtype)
    rng = as_rng(rng)
    k = 1 / np.sqrt(D)
    delta0 = np.exp(rng.uniform(np.log(1e-3), np.log(1e-1), D))
    return SelectiveParams(
        A_log=np.log(np.tile(np.arange(1, N + 1, dtype=np.float64), (D, 1))).astype(dtype),
        W_delta=rng.uniform(-k, k, (D, D)).astype(dtype),
        b_delta=np.log(np.expm1(delta0)).astype(dtype),  # softplus(b_delta) = delta0
        W_B=rng.uniform(-k, k, (N, D)).astype(dtype),
        W_C=rng.uniform(-k, k, (N, D)).astype(dtype),
        D_skip=np.ones(D, dtype=dtype),
    )


@dataclasses.dataclass(eq=False)
class SelectiveCache:
    """What :func:`selective_backward` needs from :func:`selective_forward`.

    Attributes:
        params: the weights; u: the inputs (T, Bt, D); pre: the pre-activation of Δ (T, Bt, D);
        delta: Δ_t (T, Bt, D); B, C: B_t and C_t (T, Bt, N); a: Ā_t (T, Bt, D, N);
        x: the states (T, Bt, D, N).
    """

    params: SelectiveParams
    u: np.ndarray
    pre: np.ndarray
    delta: np.ndarray
    B: np.ndarray
    C: np.ndarray
    a: np.ndarray
    x: np.ndarray


# --8<-- [start:selective_forward]
def selective_forward(u, params, *, mode="scan"):
    """The selective scan (S6): Δ_t, B_t, C_t are functions of u_t (Gu & Dao 2023, Algorithm 2).

        Δ_t = softplus(W_Δ u_t + b_Δ)          (Bt, D)   one step size per channel
        B_t = W_B u_t,  C_t = W_C u_t          (Bt, N)   shared by the channels
        Ā_t = exp(Δ_t A),  B̄_t = (Ā_t − 1)/A · B_t      zero-order hold, per channel
        x_t = Ā_t ⊙ x_{t-1} + B̄_t u_t          (Bt, D, N)
        y_t = C_t · x_t + D u_t                (Bt, D)

    The coefficients of the recurrence are known for every t before it starts, so
    the parallel scan computes all the states at once.

    Args:
        u: inputs (T, Bt, D).
        params: a :class:`SelectiveParams`.
        mode: "scan" (parallel) or "loop" (sequential reference).

    Returns:
        y: outputs (T, Bt, D); cache: a :class:`SelectiveCache`.
    """
    check_choice("mode", mode, MODES)
    if not isinstance(params, SelectiveParams):
        raise TypeError(f"params: expected ssm.SelectiveParams, got {type(params).__name__}")
    dims = params.check()
    _check_u(u, dims, params.A_log.dtype)
    A = -np.exp(params.A_log)  # (D, N)
    pre = u @ params.W_delta.T + params.b_delta
    delta = softplus(pre)
    B, C = u @ params.W_B.T, u @ params.W_C.T
    a = np.exp(delta[..., None] * A)  # Ā_t (T, Bt, D, N)
    b = (a - 1) / A * B[:, :, None, :] * u[..., None]  # B̄_t u_t
    x = (linear_recurrence if mode == "scan" else linear_recurrence_loop)(a, b)
    y = np.einsum("tbdn,tbn->tbd", x, C) + params.D_skip * u
    return y, SelectiveCache(params, u, pre, delta, B, C, a, x)


# --8<-- [end:selective_forward]


# --8<-- [start:selective_backward]
def selective_backward(dy, cache):
    """Gradients of a loss through :func:`selective_forward`.

    The recurrence's own backward (:func:`rnnbook.scan.linear_recurrence_backward`)
    gives ∂L/∂Ā_t and ∂L/∂(B̄_t u_t) from ∂L/∂x_t = ∂L/∂y_t C_t; the rest is the chain
    rule through the elementwise formulas of the forward pass, with q = (Ā − 1)/A:

        ∂L/∂Ā = da + (∂L/∂b ⊙ B u) / A,       ∂(Δ A) = ∂L/∂Ā ⊙ Ā,
        ∂L/∂Δ = Σ_n ∂(ΔA) A,   ∂L/∂A = Σ_{t,b} ∂(ΔA) Δ − Σ_{t,b} ∂L/∂b ⊙ q B u / A.

    Returns:
        grads: a :class:`SelectiveParams` holding gradients; du: ∂L/∂u (T, Bt, D).
    """
    p, u = cache.params, cache.u
    check_array("dy", dy, shape=u.shape, dtype=u.dtype)
    A = -np.exp(p.A_log)
    dx = dy[..., None] * cache.C[:, :, None, :]  # ∂L/∂x_t (T, Bt, D, N)
    da, db, _ = linear_recurrence_backward(dx, cache.a, cache.x)
    Bu = cache.B[:, :, None, :] * u[..., None]  # (T, Bt, D, N)
    q = (cache.a - 1) / A
    d_a = da + db * Bu / A
    d_dA = d_a * cache.a  # through Ā = exp(Δ A)
    d_delta = np.einsum("tbdn,dn->tbd", d_dA, A)
    dA = np.einsum("tbdn,tbd->dn", d_dA, cache.delta) - np.einsum("tbdn->dn", db * q * Bu) / A
    d_pre = d_delta * sigmoid(cache.pre)  # softplus' = σ
    dB = np.einsum("tbdn,tbdn,tbd->tbn", db, q, u)
    dC = np.einsum("tbd,tbdn->tbn", dy, cache.x)
    du = dy * p.D_skip + np.einsum("tbdn,tbdn,tbn->tbd", db, q, cache.B)
    du += d_pre @ p.W_delta + dB @ p.W_B + dC @ p.W_C
    flat = u.reshape(-1, u.shape[-1])
    grads = SelectiveParams(
        A_log=dA * A,  # A = −exp(A_log)
        W_delta=d_pre.reshape(len(flat), -1).T @ flat,
        b_delta=d_pre.reshape(len(flat), -1).sum(axis=0),
        W_B=dB.reshape(len(flat), -1).T @ flat,
        W_C=dC.reshape(len(flat), -1).T @ flat,
        D_skip=np.einsum("tbd,tbd->d", dy, u),
    )
    return grads, du


# --8<-- [end:selective_backward]
