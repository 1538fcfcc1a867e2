"""rnnbook.mingru: minGRU and minLSTM against the equations of Feng et al. (2024), autograd and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import mingru
from rnnbook.gradcheck import check_gradient

INITS = {"mingru": mingru.init, "minlstm": mingru.init_lstm}


def problem(cell, seed=0, T=7, B=2, D=3, H=4):
    rng = np.random.default_rng(seed)
    return INITS[cell](D, H, rng=rng), rng.standard_normal((T, B, D)), rng.standard_normal((B, H))


def torch_reference(params, xs, h0):
    """The cells step by step in PyTorch, straight from the paper's equations."""
    p = {name: torch.tensor(a, requires_grad=True) for name, a in params.arrays().items()}
    x = torch.tensor(xs, requires_grad=True)
    h = torch.tensor(h0, requires_grad=True)
    inputs, hs, state = (p, x, h), [], h
    for t in range(len(xs)):
        candidate = x[t] @ p["W_h"].T + p["b_h"]
        if "W_z" in p:
            z = torch.sigmoid(x[t] @ p["W_z"].T + p["b_z"])
            state = (1 - z) * state + z * candidate
        else:
            f = torch.sigmoid(x[t] @ p["W_f"].T + p["b_f"])
            i = torch.sigmoid(x[t] @ p["W_i"].T + p["b_i"])
            state = f / (f + i) * state + i / (f + i) * candidate
        hs.append(state)
    return torch.stack(hs), inputs


@pytest.mark.parametrize("cell", INITS)
@pytest.mark.parametrize("mode", ["scan", "loop"])
def test_forward_and_backward_equal_autograd(cell, mode):
    params, xs, h0 = problem(cell)
    rng = np.random.default_rng(5)
    hs, h, cache = mingru.forward(xs, h0, params, mode=mode)
    dhs, dh = rng.standard_normal(hs.shape), rng.standard_normal(h.shape)
    grads, dxs, dh0 = mingru.backward(dhs, cache, dh)
    ths, (tp, tx, th0) = torch_reference(params, xs, h0)
    np.testing.assert_allclose(hs, ths.detach().numpy(), rtol=0, atol=1e-12)
    (torch.sum(ths * torch.from_numpy(dhs)) + torch.sum(ths[-1] * torch.from_numpy(dh))).backward()
    for name, g in grads.arrays().items():
        np.testing.assert_allclose(g, tp[name].grad.numpy(), rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(dxs, tx.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dh0, th0.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell", INITS)
def test_gradient_check(cell):
    params, xs, h0 = problem(cell, seed=2, T=5)
    rng = np.random.default_rng(1)
    hs, h, cache = mingru.forward(xs, h0, params)
    dhs = rng.standard_normal(hs.shape)
    grads, dxs, dh0 = mingru.backward(dhs, cache)

    def loss():
        return float(np.sum(mingru.forward(xs, h0, params)[0] * dhs))

    inputs = {**params.arrays(), "xs": xs, "h0": h0}
    analytic = {**grads.arrays(), "xs": dxs, "h0": dh0}
    assert check_gradient(loss, inputs, analytic) < 1e-7


@pytest.mark.parametrize("cell", INITS)
def test_log_space_equals_scan_where_defined(cell):
    params, xs, _ = problem(cell, T=50)
    params.b_h += 5.0  # candidates h̃ = W_h x + b_h > 0, where the log-space form is defined
    xs *= 0.1
    h0 = np.full((2, 4), 0.5)
    hs_scan, _, _ = mingru.forward(xs, h0, params)
    hs_log, _, _ = mingru.forward(xs, h0, params, mode="log")
    np.testing.assert_allclose(hs_log, hs_scan, rtol=1e-12)


def test_log_space_refuses_where_undefined():
    params, xs, h0 = problem("mingru")
    with pytest.raises(ValueError, match=r"mode='log': expected every candidate"):
        mingru.forward(xs, h0, params, mode="log")
    params.b_h += 100.0
    with pytest.raises(ValueError, match=r"mode='log': expected h0 > 0"):
        mingru.forward(xs, None, params, mode="log")


def test_log_linear_recurrence_does_not_underflow():
    log_a = np.full((2000, 1), -1.0)  # a = e^-1: the product of all of them is e^-2000, below float64
    log_b = np.zeros((2000, 1))
    log_h = mingru.log_linear_recurrence(log_a, log_b)
    np.testing.assert_allclose(log_h[-1], -np.log1p(-np.exp(-1.0)), rtol=1e-12)  # the fixed point 1/(1 − a)


def test_minlstm_coefficients_sum_to_one():
    params, xs, _ = problem("minlstm")
    gates, candidate, a, b = mingru.coefficients(xs, params)
    f, i = gates
    np.testing.assert_allclose(a + i / (f + i), 1.0, rtol=1e-14)


def test_state_is_a_convex_combination():
    """a_t + b_t/h̃_t = 1 in both cells: h_t stays between h_{t-1} and h̃_t."""
    params, xs, h0 = problem("mingru")
    hs, _, cache = mingru.forward(xs, h0, params)
    previous = np.concatenate([h0[None], hs[:-1]])
    low = np.minimum(previous, cache.candidate) - 1e-12
    high = np.maximum(previous, cache.candidate) + 1e-12
    assert np.all((low <= hs) & (hs <= high))


def test_float32():
    params, xs, h0 = problem("mingru")
    p32 = mingru.Params(**{n: a.astype(np.float32) for n, a in params.arrays().items()})
    hs, _, cache = mingru.forward(xs.astype(np.float32), h0.astype(np.float32), p32)
    grads, dxs, dh0 = mingru.backward(np.ones_like(hs), cache)
    assert hs.dtype == grads.W_z.dtype == dxs.dtype == dh0.dtype == np.float32


@pytest.mark.parametrize(
    "change, error, message",
    [
        (
            lambda p, xs, h0: (xs[:, :, :2], h0, p),
            ValueError,
            r"xs: expected shape \(T, B, D\) = \(7, 2, 3\), got \(7, 2, 2\)",
        ),
        (lambda p, xs, h0: (xs, h0[:, :3], p), ValueError, r"h0: expected shape \(B, H\) = \(2, 4\)"),
        (lambda p, xs, h0: (xs.astype(np.float32), h0, p), TypeError, r"dtype mismatch"),
        (lambda p, xs, h0: (xs * np.nan, h0, p), ValueError, r"xs: expected finite values"),
        (lambda p, xs, h0: (xs[:0], h0, p), ValueError, r"xs: expected at least one time step"),
        (lambda p, xs, h0: (xs, h0, p.arrays()), TypeError, r"params: expected mingru.Params"),
    ],
)
def test_clear_errors(change, error, message):
    params, xs, h0 = problem("mingru")
    with pytest.raises(error, match=message):
        mingru.forward(*change(params, xs, h0))


def test_bad_weights_and_mode():
    params, xs, h0 = problem("minlstm")
    params.W_i = params.W_i[:, :2]
    with pytest.raises(ValueError, match=r"params.W_i: expected shape \(H, D\) = \(4, 3\)"):
        mingru.forward(xs, h0, params)
    with pytest.raises(ValueError, match=r"mode: expected one of 'scan', 'loop', 'log', got 'fast'"):
        mingru.forward(xs, h0, mingru.init(3, 4), mode="fast")


def test_backward_checks_gradients():
    params, xs, h0 = problem("mingru")
    hs, h, cache = mingru.forward(xs, h0, params)
    with pytest.raises(ValueError, match=r"dhs: expected shape"):
        mingru.backward(hs[1:], cache)
    with pytest.raises(ValueError, match=r"d_h: expected shape"):
        mingru.backward(hs, cache, h[:1])
