"""What is particular to rnnbook.lstm: the sigmoid, the gates, the forget bias, long sequences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import lstm


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_and_accurate(dtype):
    x = np.array([-1e4, -100.0, -5.0, 0.0, 5.0, 100.0, 1e4], dtype=dtype)
    y = lstm.sigmoid(x)  # an overflow would warn, and warnings are errors here
    assert y.dtype == dtype
    assert y[0] == 0 and y[-1] == 1 and y[3] == 0.5
    expected = torch.sigmoid(torch.tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(y, expected, rtol=0, atol=4 * np.finfo(dtype).eps)
    assert np.all(np.diff(lstm.sigmoid(np.linspace(-30, 30, 1001).astype(dtype))) >= 0)


def test_sigmoid_out_and_in_place():
    x = np.array([-1.0, 0.0, 2.0])
    expected = 1 / (1 + np.exp(-x))
    out = np.empty(3)
    assert lstm.sigmoid(x, out=out) is out
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    lstm.sigmoid(x, out=x)
    np.testing.assert_allclose(x, expected, rtol=1e-15)


def test_gates_order_is_i_f_g_o():
    H = 2
    a = np.concatenate([np.full((1, H), v) for v in (1.0, 2.0, 3.0, 4.0)], axis=1)
    i, f, g, o = lstm.gates(a)
    expected = [lstm.sigmoid(1.0), lstm.sigmoid(2.0), np.tanh(3.0), lstm.sigmoid(4.0)]
    np.testing.assert_allclose([i[0, 0], f[0, 0], g[0, 0], o[0, 0]], expected)
    assert a[0, 0] == 1.0  # not in place unless asked
    i, f, g, o = lstm.gates(a, out=a)
    assert np.shares_memory(i, a) and a[0, 0] == i[0, 0]


def test_forget_bias():
    params = lstm.init(3, 5, rng=0, forget_bias=1)
    H = 5
    np.testing.assert_array_equal(params.b_ih[H : 2 * H], 1.0)
    np.testing.assert_array_equal(params.b_hh[H : 2 * H], 0.0)
    default = lstm.init(3, 5, rng=0)
    np.testing.assert_array_equal(params.b_ih[:H], default.b_ih[:H])  # the other gates untouched
    np.testing.assert_array_equal(params.W_hh, default.W_hh)
    module = params.to_torch()
    effective = (module.bias_ih_l0 + module.bias_hh_l0)[H : 2 * H]
    assert torch.all(effective == 1.0)
    assert lstm.init(3, 5, rng=0, dtype=np.float32, forget_bias=1.0).b_ih.dtype == np.float32


def test_ten_thousand_steps_stay_finite():
    rng = np.random.default_rng(0)
    params = lstm.init(4, 8, rng=0, forget_bias=1.0)
    xs = 10 * rng.standard_normal((10_000, 2, 4))
    hs, (h, c), cache = lstm.forward(xs, None, params)
    grads, dxs, (dh0, dc0) = lstm.backward(np.ones_like(hs), cache)
    for a in [hs, h, c, dxs, dh0, dc0, *grads.arrays().values()]:
        assert np.all(np.isfinite(a))
    assert np.all(np.abs(hs) <= 1)


def test_cell_state_is_the_constant_error_carousel():
    """With f = 1 and i = 0 the cell keeps c_0 and passes ∂L/∂c_T back unchanged."""
    H = 3
    params = lstm.init(2, H, rng=0)
    params.W_ih[:] = 0
    params.W_hh[:] = 0
    params.b_hh[:] = 0
    params.b_ih[:] = 0
    params.b_ih[:H] = -1e4  # i = 0
    params.b_ih[H : 2 * H] = 1e4  # f = 1
    c0 = np.array([[0.5, -2.0, 3.0]])
    hs, (h, c), cache = lstm.forward(np.zeros((50, 1, 2)), (np.zeros((1, H)), c0), params)
    np.testing.assert_array_equal(c, c0)
    dcT = np.array([[1.0, 2.0, 3.0]])
    _, _, (dh0, dc0) = lstm.backward(np.zeros_like(hs), cache, (np.zeros((1, H)), dcT))
    np.testing.assert_array_equal(dc0, dcT)
