"""The Linear Recurrent Unit (Orvieto et al. 2023) in numpy, in recurrent and parallel form.

One layer maps inputs u_k (H,) to outputs y_k (H,) through N complex states:

    x_k = Λ x_{k-1} + γ ⊙ (B u_k),     y_k = Re(C x_k) + D ⊙ u_k

with Λ = diag(λ) and, for each state j,

    λ_j = exp(−exp(ν_j) + i exp(θ_j)),   so |λ_j| = exp(−exp(ν_j)) < 1 for every ν_j,

which keeps the recurrence stable whatever gradient descent does to ν and θ. The
initialisation draws λ uniformly on a ring r_min ≤ |λ| ≤ r_max near the unit circle,
and γ_j = √(1 − |λ_j|²) normalises the state: for white noise of unit variance,
E|x_{k,j}|² = E|(B u_k)_j|² at every k. As in the code of the paper's appendix, γ is
stored as a parameter log γ, initialised at that value, and D is diagonal (a vector).

>>> import numpy as np
>>> from rnnbook.lru import init, forward
>>> params = init(3, 8, rng=0)
>>> ys, xs = forward(np.ones((20, 2, 3)), params)
>>> ys.shape, xs.shape, xs.dtype
((20, 2, 3), (20, 2, 8), dtype('complex128'))
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnbook._validate import as_rng, check_array, check_choice, check_float, check_int
from rnnbook.scan import linear_recurrence, linear_recurrence_loop

__all__ = ["Params", "init", "eigenvalues", "forward", "MODES"]

MODES = ("scan", "loop")


@dataclasses.dataclass(eq=False)
class Params:
    """LRU weights, N complex states for inputs and outputs of size H.

    Attributes:
        nu_log: ν (N,), with |λ| = exp(−exp(ν)).
        theta_log: θ (N,), with arg λ = exp(θ).
        gamma_log: log γ (N,).
        B: input matrix (N, H), complex.
        C: output matrix (H, N), complex.
        D: skip connection (H,), real.
    """

    nu_log: np.ndarray
    theta_log: np.ndarray
    gamma_log: np.ndarray
    B: np.ndarray
    C: np.ndarray
    D: np.ndarray


def eigenvalues(params):
    """λ_j = exp(−exp(ν_j) + i exp(θ_j)) (N,), complex; |λ_j| < 1 for every real ν_j.

    >>> import numpy as np
    >>> from rnnbook.lru import eigenvalues, init
    >>> lam = eigenvalues(init(3, 1000, rng=0, r_min=0.9, r_max=0.99))
    >>> bool(np.all((0.9 <= abs(lam)) & (abs(lam) <= 0.99)))
    True
    """
    return np.exp(-np.exp(params.nu_log) + 1j * np.exp(params.theta_log))


# --8<-- [start:init]
def init(hidden_size, state_size, rng=None, *, r_min=0.9, r_max=0.999, max_phase=2 * np.pi):
    """Ring initialisation (Orvieto et al. 2023, §3.2): λ uniform on the ring r_min ≤ |λ| ≤ r_max.

    A point uniform on the ring has |λ|² uniform on [r_min², r_max²] (the area grows
    as the square of the radius), so |λ|² = u₁ (r_max² − r_min²) + r_min², and
    ν = log(−½ log |λ|²); the phase is u₂ · max_phase, θ = log of it. The real and
    imaginary parts of B are N(0, 1/(2H)), those of C N(0, 1/N), and D is N(0, 1).

    Args:
        hidden_size: H, the size of inputs and outputs.
        state_size: N, the number of complex states.
        rng: None, an int seed or a ``numpy.random.Generator``.
        r_min, r_max: the ring, 0 ≤ r_min ≤ r_max < 1.
        max_phase: the largest phase arg λ.
    """
    H = check_int("hidden_size", hidden_size, minimum=1)
    N = check_int("state_size", state_size, minimum=1)
    r_min = check_float("r_min", r_min, minimum=0)
    r_max = check_float("r_max", r_max, minimum=r_min)
    if r_max >= 1:
        raise ValueError(f"r_max: expected a number < 1 (a stable recurrence), got {r_max}")
    max_phase = check_float("max_phase", max_phase, minimum=0, strict_minimum=True)
    rng = as_rng(rng)
    u1, u2 = rng.uniform(size=(2, N))
    nu_log = np.log(-0.5 * np.log(u1 * (r_max**2 - r_min**2) + r_min**2))
    theta_log = np.log(max_phase * u2)
    modulus = np.exp(-np.exp(nu_log))
    return Params(
        nu_log=nu_log,
        theta_log=theta_log,
        gamma_log=np.log(np.sqrt(1 - modulus**2)),
        B=(rng.standard_normal((N, H)) + 1j * rng.standard_normal((N, H))) / np.sqrt(2 * H),
        C=(rng.standard_normal((H, N)) + 1j * rng.standard_normal((H, N))) / np.sqrt(N),
        D=rng.standard_normal(H),
    )


# --8<-- [end:init]


def _check(us, params):
    """params of consistent sizes, then us (T, B, H), float64; return the bound sizes."""
    if not isinstance(params, Params):
        raise TypeError(f"params: expected lru.Params, got {type(params).__name__}")
    dims = {}
    for name in ("nu_log", "theta_log", "gamma_log"):
        check_array(f"params.{name}", getattr(params, name), shape=("N",), dims=dims, dtype=np.float64)
    check_array("params.B", params.B, shape=("N", "H"), dims=dims, dtype=np.complex128)
    check_array("params.C", params.C, shape=("H", "N"), dims=dims, dtype=np.complex128)
    check_array("params.D", params.D, shape=("H",), dims=dims, dtype=np.float64)
    check_array("us", us, shape=("T", "B", "H"), dims=dims, dtype=np.float64)
    return dims


# --8<-- [start:forward]
def forward(us, params, *, mode="scan"):
    """Run the LRU over whole sequences.

    The input terms γ ⊙ (B u_k) of all steps come from one matrix product; then the
    states x_k solve x_k = λ ⊙ x_{k-1} + γ ⊙ (B u_k) from x_0 = 0, by the parallel scan
    (``mode="scan"``) or by the loop (``mode="loop"``), with λ the same at every step.

    Args:
        us: inputs (T, B, H), float64.
        params: the weights.
        mode: "scan" or "loop".

    Returns:
        ys: outputs (T, B, H), real; xs: states (T, B, N), complex.
    """
    check_choice("mode", mode, MODES)
    _check(us, params)
    lam = eigenvalues(params)
    inputs = np.exp(params.gamma_log) * (us @ params.B.T)  # γ ⊙ (B u_k), (T, B, N)
    coefficients = np.broadcast_to(lam, inputs.shape)  # a read-only view: λ at every step
    recurrence = linear_recurrence if mode == "scan" else linear_recurrence_loop
    xs = recurrence(coefficients, inputs)
    ys = (xs @ params.C.T).real + params.D * us
    return ys, xs


# --8<-- [end:forward]
