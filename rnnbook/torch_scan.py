"""Linear recurrences in PyTorch: the parallel scan, minGRU and the LRU as layers for the labs.

:func:`linear_recurrence` computes h_t = a_t ⊙ h_{t-1} + b_t over axis 0 with
O(log T) depth and O(T) work, out of place, so that autograd differentiates it;
it accepts real and complex tensors. :class:`MinGRU` and :class:`LRU` are layers
built on it, and :class:`LinearRecurrentRegressor` stacks them for the adding
problem, with the same call as :class:`rnnbook.torch_models.SequenceRegressor`.

>>> import torch
>>> from rnnbook.torch_scan import linear_recurrence
>>> a, b = torch.full((5, 1), 0.5), torch.ones(5, 1)
>>> linear_recurrence(a, b)[:, 0]
tensor([1.0000, 1.5000, 1.7500, 1.8750, 1.9375])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._validate import check_choice, check_float, check_int

__all__ = ["linear_recurrence", "linear_recurrence_loop", "MinGRU", "LRU", "LinearRecurrentRegressor", "CELLS"]

CELLS = ("mingru", "lru")


def _check(a, b, h0):
    """a and b tensors of one shape (T, ...) and dtype, finite; h0 (...) or None."""
    for name, x in (("a", a), ("b", b)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name}: expected a torch tensor, got {type(x).__name__}")
        if not (x.is_floating_point() or x.is_complex()):
            raise TypeError(f"{name}: expected a floating or complex dtype, got {x.dtype}")
    if a.ndim == 0 or a.shape[0] == 0:
        raise ValueError(f"a: expected shape (T, ...) with T >= 1, got {tuple(a.shape)}")
    if b.shape != a.shape or b.dtype != a.dtype:
        raise ValueError(f"b: expected {a.dtype} {tuple(a.shape)} like a, got {b.dtype} {tuple(b.shape)}")
    if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        raise ValueError("a, b: expected finite values, got NaN or infinity")
    if h0 is not None and (h0.shape != a.shape[1:] or h0.dtype != a.dtype):
        raise ValueError(f"h0: expected {a.dtype} {tuple(a.shape[1:])}, got {h0.dtype} {tuple(h0.shape)}")


# --8<-- [start:scan]
def linear_recurrence(a, b, h0=None):
    """h_t = a_t ⊙ h_{t-1} + b_t over axis 0, by odd–even reduction (differentiable).

    Combine the steps in pairs, (a_{2k}, b_{2k}) ∘ (a_{2k+1}, b_{2k+1}): half as
    many steps, whose states are h_1, h_3, h_5, ...; solve that recurrence the same
    way; then h_{2k} = a_{2k} ⊙ h_{2k-1} + b_{2k} fills in the even positions, all at
    once. Depth 2 log₂ T, work O(T), no tensor written in place.

    Args:
        a, b: tensors (T, ...) of one dtype (real or complex).
        h0: the state before the first step (...), or None for zeros.

    Returns:
        h (T, ...).
    """
    _check(a, b, h0)
    if h0 is not None:
        b = torch.cat([(a[0] * h0 + b[0])[None], b[1:]])
    return _odd_even(a, b)


def _odd_even(a, b):
    """The recursion of :func:`linear_recurrence` (h0 already folded into b_0)."""
    T = a.shape[0]
    if T == 1:
        return b
    m = T // 2  # pairs (0, 1), (2, 3), ...
    a_even, a_odd = a[0 : 2 * m : 2], a[1 : 2 * m : 2]
    b_even, b_odd = b[0 : 2 * m : 2], b[1 : 2 * m : 2]
    h_odd = _odd_even(a_even * a_odd, a_odd * b_even + b_odd)  # h_1, h_3, ... (m,)
    h_even = a[2::2] * h_odd[: (T - 1) // 2] + b[2::2]  # h_2, h_4, ... ((T-1)//2,)
    h_even = torch.cat([b[:1], h_even])  # h_0 = b_0
    h = torch.stack([h_even[:m], h_odd], dim=1).flatten(0, 1)  # interleave: h_0, h_1, h_2, ...
    return torch.cat([h, h_even[m:]]) if T % 2 else h


# --8<-- [end:scan]


def linear_recurrence_loop(a, b, h0=None):
    """The sequential reference for :func:`linear_recurrence`: T steps, one after the other."""
    _check(a, b, h0)
    h = torch.zeros_like(b[0]) if h0 is None else h0
    out = []
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
        out.append(h)
    return torch.stack(out)


class MinGRU(nn.Module):
    """A minGRU layer (Feng et al. 2024): z_t = σ(W_z x_t + b_z), h̃_t = W_h x_t + b_h,
    h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t, computed by the scan. (T, B, D) -> (T, B, H)."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        D = check_int("input_size", input_size, minimum=1)
        H = check_int("hidden_size", hidden_size, minimum=1)
        self.gates = nn.Linear(D, 2 * H)  # rows [z; h̃]

    def forward(self, xs, h0=None):
        z, candidate = self.gates(xs).chunk(2, dim=-1)
        z = torch.sigmoid(z)
        return linear_recurrence(1 - z, z * candidate, h0)


class LRU(nn.Module):
    """A Linear Recurrent Unit (Orvieto et al. 2023): (T, B, H) -> (T, B, H).

    x_k = λ ⊙ x_{k-1} + γ ⊙ (B u_k),  y_k = Re(C x_k) + D u_k, with N complex states,
    λ_j = exp(−exp(ν_j) + i exp(θ_j)), λ initialised uniformly on the ring
    r_min ≤ |λ| ≤ r_max with phases in [0, max_phase], and γ a parameter initialised
    at √(1 − |λ_j|²). The same parameters and forward pass as :mod:`rnnbook.lru`.
    """

    def __init__(self, hidden_size, state_size, *, r_min=0.9, r_max=0.999, max_phase=2 * math.pi, generator=None):
        super().__init__()
        H = check_int("hidden_size", hidden_size, minimum=1)
        N = check_int("state_size", state_size, minimum=1)
        r_min = check_float("r_min", r_min, minimum=0)
        r_max = check_float("r_max", r_max, minimum=r_min, maximum=1)
        u1, u2 = torch.rand(2, N, generator=generator, dtype=torch.float64)
        modulus_sq = u1 * (r_max**2 - r_min**2) + r_min**2  # |λ|² uniform: λ uniform on the ring
        self.nu_log = nn.Parameter(torch.log(-0.5 * torch.log(modulus_sq)).float())
        self.theta_log = nn.Parameter(torch.log(max_phase * u2).float())
        self.gamma_log = nn.Parameter(torch.log(torch.sqrt(1 - modulus_sq)).float())
        self.B = nn.Parameter(torch.randn(N, H, 2, generator=generator) / math.sqrt(2 * H))
        self.C = nn.Parameter(torch.randn(H, N, 2, generator=generator) / math.sqrt(N))
        self.D = nn.Parameter(torch.randn(H, generator=generator))

    def eigenvalues(self):
        """λ (N,), complex."""
        return torch.exp(torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log)))

    def forward(self, us):
        B = torch.view_as_complex(self.B)
        Bu = us.to(B.dtype) @ B.T  # (T, B, N)
        xs = linear_recurrence(self.eigenvalues().expand_as(Bu), torch.exp(self.gamma_log) * Bu)
        return (xs @ torch.view_as_complex(self.C).T).real + self.D * us


class LinearRecurrentRegressor(nn.Module):
    """Many-to-one like :class:`rnnbook.torch_models.SequenceRegressor`, with linear recurrent layers.

    An input projection to H, then ``num_layers`` blocks h ← h + GELU(layer(LayerNorm(h)))
    with ``cell`` "mingru" or "lru" (N = H complex states), then a linear head on the last
    step. The nonlinearity between layers is what the single linear layer lacks.
    Called as ``model(xs, state=None, lengths=None) -> (predictions (B, O), None)``.
    """

    def __init__(self, input_size, hidden_size, output_size=1, *, cell="mingru", num_layers=2):
        super().__init__()
        check_choice("cell", cell, CELLS)
        H = check_int("hidden_size", hidden_size, minimum=1)
        L = check_int("num_layers", num_layers, minimum=1)
        self.encoder = nn.Linear(check_int("input_size", input_size, minimum=1), H)
        self.norms = nn.ModuleList(nn.LayerNorm(H) for _ in range(L))
        self.layers = nn.ModuleList(MinGRU(H, H) if cell == "mingru" else LRU(H, H) for _ in range(L))
        self.head = nn.Linear(H, check_int("output_size", output_size, minimum=1))

    def forward(self, xs, state=None, lengths=None):
        if state is not None:
            raise ValueError("state: this model starts every sequence from zero, got a state")
        h = self.encoder(xs)
        for norm, layer in zip(self.norms, self.layers):
            h = h + nn.functional.gelu(layer(norm(h)))
        if lengths is None:
            last = h[-1]
        else:
            last = h[lengths.to(h.device) - 1, torch.arange(xs.shape[1], device=h.device)]
        return self.head(last), None
