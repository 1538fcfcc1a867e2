"""Tests of the PyTorch models: shapes, state in/out, lengths, forget-gate bias, errors."""

import pytest
import torch
from torch import nn

from rnnbook.torch_models import CharLM, SequenceRegressor, SequenceTagger, make_rnn, set_forget_bias


CELLS = ("rnn", "lstm", "gru")


@pytest.mark.parametrize("cell", CELLS)
def test_make_rnn_picks_the_cell(cell):
    rnn = make_rnn(cell, 3, 5, num_layers=2)
    assert isinstance(rnn, {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell])
    assert (rnn.input_size, rnn.hidden_size, rnn.num_layers, rnn.batch_first) == (3, 5, 2, False)


@pytest.mark.parametrize("cell", CELLS)
def test_state_carried_across_chunks_equals_one_pass(cell):
    torch.manual_seed(0)
    model = SequenceTagger(3, 6, 2, cell=cell, num_layers=2)
    xs = torch.randn(9, 4, 3)
    whole, state_whole = model(xs)
    first, state = model(xs[:4])
    second, state = model(xs[4:], state)
    torch.testing.assert_close(torch.cat([first, second]), whole)
    for a, b in zip(state if cell == "lstm" else (state,), state_whole if cell == "lstm" else (state_whole,)):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("cell", CELLS)
def test_regressor_with_lengths_reads_each_sequence_at_its_end(cell):
    torch.manual_seed(1)
    model = SequenceRegressor(2, 5, cell=cell)
    xs = torch.randn(7, 3, 2)
    lengths = torch.tensor([7, 4, 5])
    y, _ = model(xs, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        alone, _ = model(xs[:n, b : b + 1])
        torch.testing.assert_close(y[b : b + 1], alone)
    padded = xs.clone()
    padded[4:, 1] = 123.0  # what lies after the end does not matter
    torch.testing.assert_close(model(padded, lengths=lengths)[0], y)


def test_tagger_zeroes_the_padding_steps():
    model = SequenceTagger(2, 4, 3, cell="gru")
    xs = torch.randn(5, 2, 2)
    out, _ = model(xs, lengths=torch.tensor([5, 2]))
    assert torch.all(out[2:, 1] == 0)
    torch.testing.assert_close(out[:, 0], model(xs)[0][:, 0])


def test_forget_bias():
    lstm = make_rnn("lstm", 2, 4, num_layers=2, forget_bias=1.0)
    for layer in range(2):
        bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        assert torch.all(bias[4:8] == 1.0)  # gate order i, f, g, o
    default = nn.LSTM(2, 4)
    assert set_forget_bias(default, 2.5) is default and torch.all(default.bias_hh_l0[4:8] == 0)
    with pytest.raises(ValueError, match="forget_bias: only the LSTM has a forget gate, got cell='gru'"):
        make_rnn("gru", 2, 4, forget_bias=1.0)
    with pytest.raises(TypeError, match="lstm: expected an nn.LSTM, got GRU"):
        set_forget_bias(nn.GRU(2, 4))


@pytest.mark.parametrize("embedding_dim", [None, 8])
def test_charlm_shapes_and_state(embedding_dim):
    lm = CharLM(11, 16, cell="lstm", embedding_dim=embedding_dim)
    codes = torch.randint(0, 11, (6, 3))
    logits, (h, c) = lm(codes)
    assert logits.shape == (6, 3, 11) and h.shape == c.shape == (1, 3, 16)
    step, _ = lm(codes[-1:], tuple(s for s in lm(codes[:-1])[1]))
    torch.testing.assert_close(step[0], logits[-1])


def test_model_errors():
    with pytest.raises(ValueError, match="cell: expected one of 'rnn', 'lstm', 'gru', got 'elman'"):
        SequenceRegressor(2, 4, cell="elman")
    with pytest.raises(ValueError, match="hidden_size: expected an integer >= 1, got 0"):
        SequenceTagger(2, 0, 1)
    with pytest.raises(ValueError, match=r"xs: expected int64 codes of shape \(T, B\)"):
        CharLM(5, 4)(torch.zeros(3, 2, 5))
    with pytest.raises(ValueError, match=r"xs: expected float inputs of shape \(T, B, D\)"):
        SequenceRegressor(2, 4)(torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"xs: expected float inputs"):
        SequenceTagger(2, 4, 1)(torch.zeros(3, 2, 2, dtype=torch.long))
