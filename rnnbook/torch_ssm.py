"""State-space and xLSTM layers in PyTorch for the labs: S6 (selective), its time-invariant twin, mLSTM.

The same equations as :mod:`rnnbook.ssm` and :mod:`rnnbook.xlstm`, differentiated
by autograd. :class:`SelectiveSSM` computes x_t = exp(Δ_t A) ⊙ x_{t-1} + B̄_t u_t with
the scan of :mod:`rnnbook.torch_scan`; with ``selective=False`` Δ, B and C are
parameters that do not depend on the input (an LTI system, S4D-like).
:class:`MLSTM` is the parallel form of the mLSTM with exponential input gate and
sigmoid forget gate. :class:`SequenceModel` stacks two of them (or an LSTM) between
an embedding and a per-step classifier, for selective copying.

>>> import torch
>>> from rnnbook.torch_ssm import SequenceModel
>>> net = SequenceModel(10, 16, 10, cell="s6")
>>> net(torch.zeros(7, 2, 10))[0].shape
torch.Size([7, 2, 10])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._validate import check_choice, check_int
from .torch_scan import linear_recurrence

__all__ = ["CELLS", "SelectiveSSM", "MLSTM", "SequenceModel"]

CELLS = ("lstm", "lti", "s6", "mlstm")


# --8<-- [start:selective]
class SelectiveSSM(nn.Module):
    """The S6 core on D channels with N states each (Gu & Dao 2023): (T, B, D) -> (T, B, D).

    Δ_t = softplus(W_Δ u_t + b_Δ), B_t = W_B u_t, C_t = W_C u_t when ``selective``;
    otherwise Δ, B (D, N) and C (D, N) are parameters. A = −exp(A_log), A_n = −(n + 1) at
    the start; Ā_t = exp(Δ_t A), B̄_t = (Ā_t − 1)/A · B_t (zero-order hold).
    """

    def __init__(self, channels, states=8, *, selective=True):
        super().__init__()
        D = check_int("channels", channels, minimum=1)
        N = check_int("states", states, minimum=1)
        self.selective = selective
        self.A_log = nn.Parameter(torch.log(torch.arange(1, N + 1, dtype=torch.float32)).repeat(D, 1))
        delta0 = torch.exp(torch.empty(D).uniform_(math.log(1e-3), math.log(1e-1)))
        bias = torch.log(torch.expm1(delta0))  # softplus(bias) = delta0
        if selective:
            self.delta = nn.Linear(D, D)
            with torch.no_grad():
                self.delta.bias.copy_(bias)
            self.BC = nn.Linear(D, 2 * N, bias=False)
        else:
            self.delta_bias = nn.Parameter(bias)
            self.B = nn.Parameter(torch.randn(D, N) / math.sqrt(N))
            self.C = nn.Parameter(torch.randn(D, N) / math.sqrt(N))
        self.D = nn.Parameter(torch.ones(D))

    def forward(self, u):
        A = -torch.exp(self.A_log)  # (D, N)
        if self.selective:
            delta = nn.functional.softplus(self.delta(u))  # (T, B, D)
            B, C = self.BC(u).chunk(2, dim=-1)  # (T, B, N) each
            B, C = B[:, :, None, :], C[:, :, None, :]
        else:
            delta = nn.functional.softplus(self.delta_bias).expand_as(u)
            B, C = self.B, self.C
        a = torch.exp(delta[..., None] * A)  # (T, B, D, N)
        x = linear_recurrence(a, (a - 1) / A * B * u[..., None])
        return (x * C).sum(-1) + self.D * u


# --8<-- [end:selective]


class MLSTM(nn.Module):
    """An mLSTM layer, one head, parallel form (Beck et al. 2024): (T, B, D) -> (T, B, D).

    q = W_q x, k = W_k x / √K, v = W_v x; ĩ, f̃ scalars per step; i = exp(ĩ), f = σ(f̃);
    h̃_t = Σ_s C̃_ts v_s / max(|Σ_s C̃_ts|, exp(−m_t)) with the stabilised decay matrix.
    """

    def __init__(self, channels, key_size=None):
        super().__init__()
        D = check_int("channels", channels, minimum=1)
        self.K = check_int("key_size", key_size or D, minimum=1)
        self.qk = nn.Linear(D, 2 * self.K, bias=False)
        self.v = nn.Linear(D, D, bias=False)
        self.gates = nn.Linear(D, 2)
        self.out_gate = nn.Linear(D, D)
        with torch.no_grad():
            self.gates.bias.copy_(torch.tensor([0.0, 3.0]))  # forget gate open at the start

    def forward(self, x):
        T = x.shape[0]
        q, k = self.qk(x).chunk(2, dim=-1)
        k = k / math.sqrt(self.K)
        i_pre, f_pre = self.gates(x).unbind(-1)  # (T, B)
        log_F = torch.cumsum(nn.functional.logsigmoid(f_pre), dim=0).T  # (B, T)
        D_log = log_F[:, :, None] - log_F[:, None, :] + i_pre.T[:, None, :]
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        D_log = D_log.masked_fill(~causal, -math.inf)
        m = D_log.max(dim=2, keepdim=True).values.detach()  # h̃ does not depend on m
        Ct = torch.einsum("tbk,sbk->bts", q, k) * torch.exp(D_log - m)
        n = torch.maximum(Ct.sum(2).abs(), torch.exp(-m[..., 0]))
        h = torch.einsum("bts,sbv->btv", Ct, self.v(x)) / n[..., None]
        return torch.sigmoid(self.out_gate(x)) * h.transpose(0, 1)


class SequenceModel(nn.Module):
    """Per-step classifier: a linear encoder to H, ``num_layers`` residual blocks, a linear head.

    Each block is h ← h + GELU(layer(LayerNorm(h))), the layer an LSTM, a time-invariant
    SSM ("lti"), a selective SSM ("s6") or an mLSTM. Called as ``model(xs, state=None) ->
    (logits (T, B, O), None)``, like the taggers of :mod:`rnnbook.torch_sequences`.
    """

    def __init__(self, input_size, hidden_size, output_size, *, cell="s6", num_layers=2, states=4):
        super().__init__()
        self.cell = check_choice("cell", cell, CELLS)
        H = check_int("hidden_size", hidden_size, minimum=1)
        L = check_int("num_layers", num_layers, minimum=1)
        self.encoder = nn.Linear(check_int("input_size", input_size, minimum=1), H)
        self.norms = nn.ModuleList(nn.LayerNorm(H) for _ in range(L))
        self.layers = nn.ModuleList(self._layer(cell, H, states) for _ in range(L))
        self.head = nn.Linear(H, check_int("output_size", output_size, minimum=1))

    @staticmethod
    def _layer(cell, H, states):
        if cell == "lstm":
            return nn.LSTM(H, H)
        if cell == "mlstm":
            return MLSTM(H)
        return SelectiveSSM(H, states, selective=cell == "s6")

    def forward(self, xs, state=None):
        if state is not None:
            raise ValueError("state: this model starts every sequence from zero, got a state")
        h = self.encoder(xs)
        for norm, layer in zip(self.norms, self.layers):
            out = layer(norm(h))
            h = h + nn.functional.gelu(out[0] if self.cell == "lstm" else out)
        return self.head(h), None
