"""rnnbook.torch_ssm: the PyTorch layers compute what the numpy ones compute."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import ssm, torch_ssm, xlstm


def test_selective_layer_equals_numpy():
    torch.manual_seed(0)
    layer = torch_ssm.SelectiveSSM(3, 4).double()
    u = np.random.default_rng(0).standard_normal((9, 2, 3))
    W_B, W_C = layer.BC.weight.detach().numpy().reshape(2, 4, 3)
    params = ssm.SelectiveParams(
        A_log=layer.A_log.detach().numpy(),
        W_delta=layer.delta.weight.detach().numpy(),
        b_delta=layer.delta.bias.detach().numpy(),
        W_B=W_B,
        W_C=W_C,
        D_skip=layer.D.detach().numpy(),
    )
    expected, _ = ssm.selective_forward(u, params)
    np.testing.assert_allclose(layer(torch.from_numpy(u)).detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def test_time_invariant_layer_equals_the_convolution():
    torch.manual_seed(0)
    layer = torch_ssm.SelectiveSSM(3, 4, selective=False).double()
    u = np.random.default_rng(0).standard_normal((9, 2, 3))
    A = -np.exp(layer.A_log.detach().numpy())
    delta = np.log1p(np.exp(layer.delta_bias.detach().numpy()))
    A_bar, B_bar = ssm.discretize(A, layer.B.detach().numpy(), delta)
    expected = ssm.lti_convolution(u, A_bar, B_bar, layer.C.detach().numpy(), layer.D.detach().numpy())
    np.testing.assert_allclose(layer(torch.from_numpy(u)).detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def test_mlstm_layer_equals_numpy():
    torch.manual_seed(0)
    layer = torch_ssm.MLSTM(3, 2).double()
    xs = np.random.default_rng(0).standard_normal((8, 2, 3))
    W_q, W_k = layer.qk.weight.detach().numpy().reshape(2, 2, 3)
    (w_i, w_f), (b_i, b_f) = layer.gates.weight.detach().numpy(), layer.gates.bias.detach().numpy()
    params = xlstm.MLSTMParams(
        W_q=W_q,
        W_k=W_k,
        W_v=layer.v.weight.detach().numpy(),
        w_i=w_i,
        b_i=np.array([b_i]),
        w_f=w_f,
        b_f=np.array([b_f]),
        W_o=layer.out_gate.weight.detach().numpy(),
        b_o=layer.out_gate.bias.detach().numpy(),
    )
    expected, _ = xlstm.mlstm_forward(xs, params, forget="sigmoid", mode="recurrent")
    np.testing.assert_allclose(layer(torch.from_numpy(xs)).detach().numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", torch_ssm.CELLS)
def test_sequence_model_shapes_and_errors(cell):
    net = torch_ssm.SequenceModel(5, 8, 4, cell=cell)
    logits, state = net(torch.zeros(6, 3, 5))
    assert logits.shape == (6, 3, 4) and state is None
    with pytest.raises(ValueError, match="state: this model starts"):
        net(torch.zeros(6, 3, 5), state=torch.zeros(1))


def test_bad_cell_is_named():
    with pytest.raises(ValueError, match="cell: expected one of"):
        torch_ssm.SequenceModel(5, 8, 4, cell="gru")
