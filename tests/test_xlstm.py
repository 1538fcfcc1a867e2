"""rnnbook.xlstm: sLSTM and mLSTM against the unstabilised equations of Beck et al. (2024), autograd and
finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import xlstm
from rnnbook.gradcheck import check_gradient

FORGETS = xlstm.FORGET_GATES


def torch_slstm(params, xs, forget):
    """The sLSTM without the stabiliser, as first written in the paper: i = exp(ĩ), f = exp(f̃) or σ(f̃)."""
    p = {n: torch.tensor(a, requires_grad=True) for n, a in params.arrays().items()}
    x = torch.tensor(xs, requires_grad=True)
    B, H = xs.shape[1], params.R.shape[1]
    h, c, n = (torch.zeros(B, H, dtype=torch.float64) for _ in range(3))
    hs = []
    for t in range(len(xs)):
        z_pre, i_pre, f_pre, o_pre = (x[t] @ p["W"].T + h @ p["R"].T + p["b"]).chunk(4, dim=1)
        f = torch.exp(f_pre) if forget == "exp" else torch.sigmoid(f_pre)
        i = torch.exp(i_pre)
        c = f * c + i * torch.tanh(z_pre)
        n = f * n + i
        h = torch.sigmoid(o_pre) * c / n
        hs.append(h)
    return torch.stack(hs), p, x


@pytest.mark.parametrize("forget", FORGETS)
def test_slstm_forward_and_backward_equal_autograd(forget):
    rng = np.random.default_rng(0)
    params, xs = xlstm.init_slstm(3, 4, rng=rng), rng.standard_normal((7, 2, 3))
    params.W *= 3
    hs, cache = xlstm.slstm_forward(xs, params, forget=forget)
    dhs = rng.standard_normal(hs.shape)
    grads, dxs = xlstm.slstm_backward(dhs, cache)
    ths, tp, tx = torch_slstm(params, xs, forget)
    np.testing.assert_allclose(hs, ths.detach().numpy(), rtol=1e-12, atol=1e-12)
    torch.sum(ths * torch.from_numpy(dhs)).backward()
    for name, g in grads.arrays().items():
        np.testing.assert_allclose(g, tp[name].grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
    np.testing.assert_allclose(dxs, tx.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_slstm_gradient_check():
    rng = np.random.default_rng(2)
    params, xs = xlstm.init_slstm(2, 3, rng=rng), rng.standard_normal((4, 1, 2))
    dhs = rng.standard_normal((4, 1, 3))
    grads, dxs = xlstm.slstm_backward(dhs, xlstm.slstm_forward(xs, params, forget="sigmoid")[1])

    def loss():
        return float(np.sum(xlstm.slstm_forward(xs, params, forget="sigmoid")[0] * dhs))

    assert check_gradient(loss, {**params.arrays(), "xs": xs}, {**grads.arrays(), "xs": dxs}) < 1e-7


@pytest.mark.parametrize("forget", FORGETS)
def test_slstm_is_finite_for_huge_preactivations(forget):
    """exp(1000) overflows float64; the stabilised cell stays finite, and so do its gradients."""
    rng = np.random.default_rng(0)
    params, xs = xlstm.init_slstm(3, 4, rng=rng), rng.standard_normal((20, 2, 3))
    params.b[:] = 1000.0 * rng.choice([-1, 1], params.b.shape)
    with np.errstate(over="raise", invalid="raise"):
        hs, cache = xlstm.slstm_forward(xs, params, forget=forget)
        grads, dxs = xlstm.slstm_backward(np.ones_like(hs), cache)
    assert np.all(np.isfinite(hs)) and np.all(np.isfinite(dxs)) and np.all(np.isfinite(grads.W))
    assert np.all(np.abs(hs) <= 1)  # |h| = σ(õ) |Σ weights · tanh| / Σ weights ≤ 1
    with np.errstate(over="ignore", invalid="ignore"):
        unstable = torch_slstm(params, xs, forget)[0].detach().numpy()
    assert not np.all(np.isfinite(unstable))  # the unstabilised form does overflow here


def mlstm_problem(seed=0, T=7, B=2, K=3, V=4, scale=1.0):
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal((2, T, B, K))
    return q, k, rng.standard_normal((T, B, V)), scale * rng.standard_normal((T, B)), rng.standard_normal((T, B)) + 1


def torch_mlstm(q, k, v, i_pre, f_pre, forget):
    """The unstabilised mLSTM of the paper: C_t = f C + i v kᵀ, n_t = f n + i k, h̃ = C q / max(|nᵀq|, 1)."""
    tq, tk, tv, ti, tf = (torch.tensor(a, requires_grad=True) for a in (q, k, v, i_pre, f_pre))
    B, K, V = q.shape[1], q.shape[2], v.shape[2]
    C, n = torch.zeros(B, V, K, dtype=torch.float64), torch.zeros(B, K, dtype=torch.float64)
    out = []
    for t in range(len(q)):
        f = (torch.exp(tf[t]) if forget == "exp" else torch.sigmoid(tf[t]))[:, None]
        i = torch.exp(ti[t])[:, None]
        C = f[:, :, None] * C + i[:, :, None] * tv[t][:, :, None] * tk[t][:, None, :]
        n = f * n + i * tk[t]
        den = torch.clamp(torch.abs((n * tq[t]).sum(1)), min=1.0)
        out.append(torch.einsum("bvk,bk->bv", C, tq[t]) / den[:, None])
    return torch.stack(out), (tq, tk, tv, ti, tf)


@pytest.mark.parametrize("forget", FORGETS)
@pytest.mark.parametrize("scale", [0.1, 3.0])
def test_mlstm_recurrent_parallel_and_autograd_agree(forget, scale):
    """scale 0.1 keeps |nᵀq| < 1 at some steps, so both branches of the max are exercised."""
    q, k, v, i_pre, f_pre = mlstm_problem(scale=scale)
    rec = xlstm.mlstm_recurrent(q, k, v, i_pre, f_pre, forget=forget)
    par, cache = xlstm.mlstm_parallel(q, k, v, i_pre, f_pre, forget=forget)
    ref, inputs = torch_mlstm(q, k, v, i_pre, f_pre, forget)
    np.testing.assert_allclose(rec, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(par, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    dh = np.random.default_rng(7).standard_normal(par.shape)
    torch.sum(ref * torch.from_numpy(dh)).backward()
    for name, g, t in zip("q k v i f".split(), xlstm.mlstm_parallel_backward(dh, cache), inputs):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


def test_mlstm_is_finite_for_huge_gates():
    q, k, v, i_pre, f_pre = mlstm_problem(T=30)
    i_pre = 1000.0 * np.sign(i_pre)
    with np.errstate(over="raise"):
        rec = xlstm.mlstm_recurrent(q, k, v, i_pre, 50 * f_pre)
        par, _ = xlstm.mlstm_parallel(q, k, v, i_pre, 50 * f_pre)
    assert np.all(np.isfinite(rec))
    np.testing.assert_allclose(rec, par, rtol=1e-9, atol=1e-12)


def test_mlstm_layer_gradient_check_and_modes():
    rng = np.random.default_rng(3)
    params, xs = xlstm.init_mlstm(3, 2, 4, rng=rng), rng.standard_normal((5, 2, 3))
    hs, cache = xlstm.mlstm_forward(xs, params)
    np.testing.assert_allclose(hs, xlstm.mlstm_forward(xs, params, mode="recurrent")[0], rtol=1e-10, atol=1e-12)
    dhs = rng.standard_normal(hs.shape)
    grads, dxs = xlstm.mlstm_backward(dhs, cache)

    def loss():
        return float(np.sum(xlstm.mlstm_forward(xs, params)[0] * dhs))

    assert check_gradient(loss, {**params.arrays(), "xs": xs}, {**grads.arrays(), "xs": dxs}) < 1e-7


def test_mlstm_key_is_scaled_by_one_over_sqrt_key_size():
    rng = np.random.default_rng(0)
    params, xs = xlstm.init_mlstm(3, 4, 2, rng=rng), rng.standard_normal((3, 1, 3))
    p = params
    k = xs @ p.W_k.T / 2.0  # √K = 2
    expected = xlstm.mlstm_recurrent(xs @ p.W_q.T, k, xs @ p.W_v.T, xs @ p.w_i + p.b_i, xs @ p.w_f + p.b_f)
    expected *= 1 / (1 + np.exp(-(xs @ p.W_o.T + p.b_o)))
    np.testing.assert_allclose(xlstm.mlstm_forward(xs, params)[0], expected, rtol=1e-12)


def test_errors_name_the_argument():
    rng = np.random.default_rng(0)
    params = xlstm.init_slstm(3, 4, rng=rng)
    with pytest.raises(ValueError, match="xs: expected shape"):
        xlstm.slstm_forward(np.zeros((2, 1, 5)), params)
    with pytest.raises(ValueError, match="forget: expected one of"):
        xlstm.slstm_forward(np.zeros((2, 1, 3)), params, forget="tanh")
    with pytest.raises(ValueError, match="xs: expected at least one time step"):
        xlstm.slstm_forward(np.zeros((0, 1, 3)), params)
    with pytest.raises(TypeError, match="params: expected xlstm.SLSTMParams"):
        xlstm.slstm_forward(np.zeros((2, 1, 3)), params.W)
    q, k, v, i_pre, f_pre = mlstm_problem()
    with pytest.raises(ValueError, match="k: expected shape"):
        xlstm.mlstm_parallel(q, k[:, :, :2], v, i_pre, f_pre)
    with pytest.raises(ValueError, match="i_pre: expected 2 dimensions"):
        xlstm.mlstm_recurrent(q, k, v, i_pre[..., None], f_pre)
    with pytest.raises(TypeError, match="dtype"):
        xlstm.mlstm_recurrent(q, k, v.astype(np.float32), i_pre, f_pre)
    with pytest.raises(ValueError, match="mode: expected one of"):
        xlstm.mlstm_forward(np.zeros((2, 1, 3)), xlstm.init_mlstm(3, 2, 2), mode="chunked")
