"""PyTorch models for the labs, built on ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``.

All models are time-major like PyTorch's recurrent layers (inputs (T, B, ...)),
pick their cell by name ("rnn", "lstm" or "gru") and take and return the
recurrent state, so that truncated BPTT can carry it from one chunk to the next.
The state is ``h`` (L, B, H) for RNN and GRU, ``(h, c)`` for the LSTM, with L layers.

>>> from rnnbook.torch_models import SequenceRegressor
>>> import torch
>>> model = SequenceRegressor(2, 16, cell="lstm")
>>> y, (h, c) = model(torch.zeros(100, 4, 2))
>>> tuple(y.shape), tuple(h.shape)
((4, 1), (1, 4, 16))
"""

from __future__ import annotations

import torch
from torch import nn

from ._validate import check_choice, check_float, check_int

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def make_rnn(cell, input_size, hidden_size, *, num_layers=1, forget_bias=None):
    """A time-major recurrent layer chosen by name.

    Args:
        cell: "rnn" (Elman, tanh), "lstm" or "gru".
        input_size: D.
        hidden_size: H.
        num_layers: L stacked layers.
        forget_bias: for the LSTM only, an initial forget-gate bias (1.0 is the
            usual choice, Jozefowicz et al. 2015); None keeps PyTorch's initialisation.

    >>> from rnnbook.torch_models import make_rnn
    >>> make_rnn("gru", 3, 8)
    GRU(3, 8)
    """
    check_choice("cell", cell, tuple(CELLS))
    D = check_int("input_size", input_size, minimum=1)
    H = check_int("hidden_size", hidden_size, minimum=1)
    L = check_int("num_layers", num_layers, minimum=1)
    rnn = CELLS[cell](D, H, num_layers=L)
    if forget_bias is not None:
        if cell != "lstm":
            raise ValueError(f"forget_bias: only the LSTM has a forget gate, got cell={cell!r}")
        set_forget_bias(rnn, forget_bias)
    return rnn


# --8<-- [start:forget_bias]
def set_forget_bias(lstm, value=1.0):
    """Set the LSTM's effective forget-gate bias to ``value`` in every layer.

    PyTorch stacks the gates as i, f, g, o, so the forget gate is rows H..2H of
    each bias, and the effective bias is ``bias_ih + bias_hh``: we write ``value``
    into the first and zero into the second (Gers et al. 2000; Jozefowicz et al. 2015).

    >>> from torch import nn
    >>> from rnnbook.torch_models import set_forget_bias
    >>> lstm = set_forget_bias(nn.LSTM(2, 3))
    >>> (lstm.bias_ih_l0 + lstm.bias_hh_l0)[3:6].tolist()
    [1.0, 1.0, 1.0]
    """
    if not isinstance(lstm, nn.LSTM):
        raise TypeError(f"lstm: expected an nn.LSTM, got {type(lstm).__name__}")
    value = check_float("value", value)
    H = lstm.hidden_size
    with torch.no_grad():
        for layer in range(lstm.num_layers):
            getattr(lstm, f"bias_ih_l{layer}")[H : 2 * H] = value
            getattr(lstm, f"bias_hh_l{layer}")[H : 2 * H] = 0.0
    return lstm


# --8<-- [end:forget_bias]


def _check_inputs(xs):
    """Recurrent layers here read float inputs of shape (T, B, D)."""
    if xs.ndim != 3 or not xs.is_floating_point():
        raise ValueError(f"xs: expected float inputs of shape (T, B, D), got {xs.dtype} {tuple(xs.shape)}")


class CharLM(nn.Module):
    """Character language model: embedding (or one-hot) -> recurrent layer -> linear.

    Reads character codes (T, B) and returns logits (T, B, V) for the next
    character at every step, with the recurrent state.

    Args:
        vocab_size: V.
        hidden_size: H.
        cell: "rnn", "lstm" or "gru".
        embedding_dim: E for a learned embedding, or None to feed one-hot vectors
            (as in Karpathy's min-char-rnn).
        num_layers: L.
        forget_bias: see :func:`make_rnn`.

    >>> import torch
    >>> from rnnbook.torch_models import CharLM
    >>> lm = CharLM(10, 32, cell="gru")
    >>> logits, h = lm(torch.zeros(5, 2, dtype=torch.long))
    >>> tuple(logits.shape), tuple(h.shape)
    ((5, 2, 10), (1, 2, 32))
    """

    def __init__(self, vocab_size, hidden_size=128, *, cell="lstm", embedding_dim=None, num_layers=1, forget_bias=None):
        super().__init__()
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=1)
        if embedding_dim is None:
            self.embed = None
            input_size = vocab_size
        else:
            self.embed = nn.Embedding(vocab_size, check_int("embedding_dim", embedding_dim, minimum=1))
            input_size = embedding_dim
        self.rnn = make_rnn(cell, input_size, hidden_size, num_layers=num_layers, forget_bias=forget_bias)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, xs, state=None):
        """(T, B) int64 codes -> ``(logits (T, B, V), state)``."""
        if xs.ndim != 2 or xs.dtype != torch.long:
            raise ValueError(f"xs: expected int64 codes of shape (T, B), got {xs.dtype} {tuple(xs.shape)}")
        if self.embed is None:
            inputs = nn.functional.one_hot(xs, self.vocab_size).to(self.head.weight.dtype)
        else:
            inputs = self.embed(xs)
        hs, state = self.rnn(inputs, state)
        return self.head(hs), state


class RecurrentWithHead(nn.Module):
    """A recurrent network (:func:`make_rnn`) and a linear head: what the regressor and the tagger share.

    Args:
        input_size: D.
        hidden_size: H.
        output_size: O, the outputs of the head.
        cell: "rnn", "lstm" or "gru".
        num_layers: stacked recurrent layers.
        forget_bias: for the LSTM, see :func:`make_rnn`.
    """

    def __init__(self, input_size, hidden_size, output_size=1, *, cell="lstm", num_layers=1, forget_bias=None):
        super().__init__()
        self.rnn = make_rnn(cell, input_size, hidden_size, num_layers=num_layers, forget_bias=forget_bias)
        self.head = nn.Linear(hidden_size, check_int("output_size", output_size, minimum=1))


class SequenceRegressor(RecurrentWithHead):
    """Many-to-one: read a whole sequence, then predict from the last hidden state.

    Used for the adding problem: inputs (T, B, D) -> outputs (B, O). With
    ``lengths`` (B,) each prediction is read at its sequence's own last step,
    t = lengths[b] - 1; the padding after it cannot change that output, because
    the network only looks back. (The returned state is the one after the last,
    padded step.)

    >>> import torch
    >>> from rnnbook.torch_models import SequenceRegressor
    >>> model = SequenceRegressor(2, 8, cell="rnn")
    >>> y, h = model(torch.zeros(7, 3, 2), lengths=torch.tensor([7, 5, 6]))
    >>> tuple(y.shape)
    (3, 1)
    """

    def forward(self, xs, state=None, lengths=None):
        """(T, B, D) -> ``(predictions (B, O), state)``."""
        _check_inputs(xs)
        hs, state = self.rnn(xs, state)  # hs: (T, B, H), the last layer at every step
        if lengths is None:
            last = hs[-1]
        else:
            last = hs[lengths.to(hs.device) - 1, torch.arange(xs.shape[1], device=hs.device)]
        return self.head(last), state


class SequenceTagger(RecurrentWithHead):
    """Many-to-many: an output at every step, (T, B, D) -> (T, B, O).

    Used for next-symbol prediction on the Reber grammar and the copy task
    (O logits per step) and for forecasting a time series (O predicted values).
    With ``lengths`` (B,), the outputs on padding steps (t >= lengths[b]) are zero.

    >>> import torch
    >>> from rnnbook.torch_models import SequenceTagger
    >>> model = SequenceTagger(7, 16, 7, cell="lstm", forget_bias=1.0)
    >>> out, (h, c) = model(torch.zeros(12, 4, 7))
    >>> tuple(out.shape)
    (12, 4, 7)
    """

    def forward(self, xs, state=None, lengths=None):
        """(T, B, D) -> ``(outputs (T, B, O), state)``."""
        _check_inputs(xs)
        hs, state = self.rnn(xs, state)
        out = self.head(hs)
        if lengths is not None:
            valid = torch.arange(xs.shape[0], device=xs.device)[:, None] < lengths.to(xs.device)
            out = out * valid[:, :, None]
        return out, state
