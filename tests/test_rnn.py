"""What is particular to rnnbook.rnn: the Elman step written out, and tanh only."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import rnn


def test_step_is_elman():
    rng = np.random.default_rng(0)
    params = rnn.init(3, 4, rng=rng)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    expected = np.tanh(x @ params.W_ih.T + params.b_ih + h @ params.W_hh.T + params.b_hh)
    np.testing.assert_allclose(rnn.step(x, h, params), expected, rtol=1e-15)


def test_linear_regime_passes_gradient_unchanged():
    """Tiny inputs and W_hh = identity: tanh is linear there, so ∂L/∂h_0 ≈ ∂L/∂h_T."""
    params = rnn.init(1, 3, rng=0)
    params.W_hh[:] = np.eye(3)
    params.W_ih[:] = 0
    params.b_ih[:] = 0
    params.b_hh[:] = 0
    hs, h, cache = rnn.forward(np.zeros((20, 1, 1)), np.full((1, 3), 1e-8), params)
    _, _, dh0 = rnn.backward(np.zeros_like(hs), cache, np.ones((1, 3)))
    np.testing.assert_allclose(dh0, 1.0, rtol=1e-12)


def test_relu_rnn_is_refused():
    with pytest.raises(ValueError, match="nonlinearity='tanh'"):
        rnn.Params.from_torch(torch.nn.RNN(2, 3, nonlinearity="relu"))


def test_lstm_module_is_refused():
    with pytest.raises(TypeError, match="module: expected a torch.nn.RNN, got LSTM"):
        rnn.Params.from_torch(torch.nn.LSTM(2, 3))


def test_batch_first_module_is_accepted():
    module = torch.nn.RNN(2, 3, batch_first=True, dtype=torch.float64)
    params = rnn.Params.from_torch(module)
    np.testing.assert_array_equal(params.W_hh, module.weight_hh_l0.detach().numpy())
