"""What is particular to rnnbook.gru: the two variants (PyTorch's and Cho et al.'s)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook import gru
from rnnbook.gradcheck import check_gradient
from rnnbook.lstm import sigmoid


def problem(seed=0, T=4, B=2, D=3, H=5):
    rng = np.random.default_rng(seed)
    return gru.init(D, H, rng=rng), rng.standard_normal((T, B, D)), rng.standard_normal((B, H))


def test_cho_step_written_out():
    """Cho et al. (2014): the reset gate multiplies h_{t-1} before the product with W_hn."""
    params, xs, h = problem()
    x, H = xs[0], params.hidden_size
    W_ir, W_iz, W_in = np.split(params.W_ih, 3)
    W_hr, W_hz, W_hn = np.split(params.W_hh, 3)
    b_ir, b_iz, b_in = np.split(params.b_ih, 3)
    b_hr, b_hz, b_hn = np.split(params.b_hh, 3)
    r = sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    n_cho = np.tanh(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
    n_pytorch = np.tanh(x @ W_in.T + b_in + r * (h @ W_hn.T + b_hn))
    np.testing.assert_allclose(gru.step(x, h, params, variant="cho"), (1 - z) * n_cho + z * h, rtol=1e-14)
    np.testing.assert_allclose(gru.step(x, h, params), (1 - z) * n_pytorch + z * h, rtol=1e-14)
    assert H == 5


def test_variants_differ_but_agree_without_hidden_bias_and_reset():
    params, xs, h0 = problem()
    hs_pt, _, _ = gru.forward(xs, h0, params)
    hs_cho, _, _ = gru.forward(xs, h0, params, variant="cho")
    assert not np.allclose(hs_pt, hs_cho)
    # With r = 1 and b_hn = 0 the two candidates are the same.
    H = params.hidden_size
    params.b_hh[2 * H :] = 0
    params.b_ih[:H] = 1e4
    hs_pt, _, _ = gru.forward(xs, h0, params)
    hs_cho, _, _ = gru.forward(xs, h0, params, variant="cho")
    np.testing.assert_allclose(hs_pt, hs_cho, rtol=1e-13)


@pytest.mark.parametrize("variant", gru.VARIANTS)
def test_cache_records_variant(variant):
    params, xs, h0 = problem()
    _, _, cache = gru.forward(xs, h0, params, variant=variant)
    assert cache.variant == variant


def test_cho_gradients_float32():
    params, xs, h0 = problem()
    p32 = params.copy()
    for a in ("W_ih", "W_hh", "b_ih", "b_hh"):
        setattr(p32, a, getattr(params, a).astype(np.float32))
    hs, _, cache = gru.forward(xs.astype(np.float32), h0.astype(np.float32), p32, variant="cho")
    grads, dxs, dh0 = gru.backward(np.ones_like(hs), cache)
    hs64, _, cache64 = gru.forward(xs, h0, params, variant="cho")
    grads64, dxs64, _ = gru.backward(np.ones_like(hs64), cache64)
    assert grads.W_hh.dtype == dxs.dtype == dh0.dtype == np.float32
    np.testing.assert_allclose(grads.W_hh, grads64.W_hh, rtol=1e-4, atol=1e-5)


def test_cho_gradient_check_with_final_state():
    params, xs, h0 = problem(seed=3)
    rng = np.random.default_rng(1)
    hs, h, cache = gru.forward(xs, h0, params, variant="cho")
    dhs, dh = rng.standard_normal(hs.shape), rng.standard_normal(h.shape)
    grads, dxs, dh0 = gru.backward(dhs, cache, dh)

    def loss():
        hs, h, _ = gru.forward(xs, h0, params, variant="cho")
        return float(np.sum(hs * dhs) + np.sum(h * dh))

    inputs = {**params.arrays(), "xs": xs, "h0": h0}
    analytic = {**grads.arrays(), "xs": dxs, "h0": dh0}
    assert check_gradient(loss, inputs, analytic) < 1e-7
