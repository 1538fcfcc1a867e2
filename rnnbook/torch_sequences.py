"""PyTorch models that read padded batches of token ids through packing: classify (many-to-one) and tag (many-to-many).

Every model is called as ``model(ids, state=None, lengths=None)`` with ``ids``
(T, B) int64, time-major, padded after each sequence's end, and returns
``(outputs, state)`` like the models of :mod:`rnnbook.torch_models`, so that
:func:`rnnbook.torch_train.train` trains them. The recurrent models pack the batch
(``pack_padded_sequence(..., enforce_sorted=False)``), so that the network never
runs on padding, and read the final state, which for a packed batch is the state
after each sequence's own last step.

* :class:`RecurrentClassifier`: embedding, a (stacked, possibly bidirectional)
  RNN/LSTM/GRU, and a linear layer on the final states of the top layer.
* :class:`RecurrentTagger`: the same network, a linear layer at every step.
* :class:`BagOfEmbeddings`: the baseline that ignores order: the mean of the
  embeddings of the real tokens (for tagging: each token's own embedding).

>>> from rnnbook.torch_sequences import RecurrentClassifier
>>> import torch
>>> model = RecurrentClassifier(10, 2, cell="gru", bidirectional=True)
>>> logits, h_n = model(torch.tensor([[1, 2], [3, 0]]), lengths=torch.tensor([2, 1]))
>>> tuple(logits.shape), tuple(h_n.shape)
((2, 2), (2, 2, 32))
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnbook._validate import check_choice, check_float, check_int

__all__ = ["CELLS", "RecurrentClassifier", "RecurrentTagger", "BagOfEmbeddings", "final_outputs"]

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _check_ids(ids, lengths):
    """Check a padded batch: ids (T, B) integers, lengths (B,) in [1, T]; return lengths on the CPU."""
    if not isinstance(ids, torch.Tensor) or ids.dtype != torch.long or ids.dim() != 2:
        given = f"{ids.dtype} {tuple(ids.shape)}" if isinstance(ids, torch.Tensor) else type(ids).__name__
        raise ValueError(f"ids: expected an int64 tensor (T, B), got {given}")
    T, B = ids.shape
    if lengths is None:
        return torch.full((B,), T, dtype=torch.long)
    lengths = torch.as_tensor(lengths).cpu()
    if lengths.shape != (B,) or lengths.min() < 1 or lengths.max() > T:
        raise ValueError(f"lengths: expected (B,) = ({B},) integers in [1, T] = [1, {T}], got {lengths.tolist()}")
    return lengths


class _Recurrent(nn.Module):
    """Embedding, dropout, a recurrent network run on the packed batch."""

    def __init__(self, vocab_size, embed_size, hidden_size, num_layers, bidirectional, cell, dropout):
        super().__init__()
        check_choice("cell", cell, tuple(CELLS))
        dropout = check_float("dropout", dropout, minimum=0, maximum=1)
        self.embed = nn.Embedding(
            check_int("vocab_size", vocab_size, minimum=2),
            check_int("embed_size", embed_size, minimum=1),
            padding_idx=0,
        )
        self.rnn = CELLS[cell](
            embed_size,
            check_int("hidden_size", hidden_size, minimum=1),
            num_layers=check_int("num_layers", num_layers, minimum=1),
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)  # on the embeddings and before the head (Zaremba et al. 2014)
        self.directions = 2 if bidirectional else 1

    # --8<-- [start:packed_run]
    def run(self, ids, state, lengths):
        """The packed run: returns the outputs (T, B, K·H), zero at padding, and the final state."""
        lengths = _check_ids(ids, lengths)
        xs = self.drop(self.embed(ids))  # (T, B, E)
        packed = pack_padded_sequence(xs, lengths, enforce_sorted=False)  # sorts by length inside
        outputs, state = self.rnn(packed, state)  # state: in the batch's original order
        outputs, _ = pad_packed_sequence(outputs, total_length=ids.shape[0])  # zeros at padding
        return outputs, state

    # --8<-- [end:packed_run]


# --8<-- [start:final_outputs]
def final_outputs(h_n, directions):
    """The top layer's final states, directions side by side: h_n (L·K, B, H) -> (B, K·H).

    The forward direction's is after each sequence's own last step, the backward
    direction's after position 1 (where that direction ends).

    >>> import torch
    >>> from rnnbook.torch_sequences import final_outputs
    >>> final_outputs(torch.arange(8.0).reshape(4, 1, 2), 2)  # L = 2, K = 2: rows 2 and 3
    tensor([[4., 5., 6., 7.]])
    """
    return torch.cat(list(h_n[-directions:]), dim=-1)


# --8<-- [end:final_outputs]


# --8<-- [start:classifier]
class RecurrentClassifier(_Recurrent):
    """Many-to-one: one label per sequence, from the top layer's final states.

    Args:
        vocab_size: V, token ids in [0, V), 0 being padding.
        num_classes: C.
        embed_size, hidden_size: E and H.
        cell: "rnn", "lstm" or "gru"; num_layers: L; bidirectional: K = 2 if True.
        dropout: on the embeddings, between layers and before the head.
    """

    def __init__(
        self,
        vocab_size,
        num_classes,
        *,
        embed_size=16,
        hidden_size=32,
        num_layers=1,
        bidirectional=False,
        cell="lstm",
        dropout=0.0,
    ):
        super().__init__(vocab_size, embed_size, hidden_size, num_layers, bidirectional, cell, dropout)
        self.head = nn.Linear(self.directions * hidden_size, check_int("num_classes", num_classes, minimum=2))

    def forward(self, ids, state=None, lengths=None):
        """ids (T, B) -> ``(logits (B, C), state)``."""
        _, state = self.run(ids, state, lengths)
        h_n = state[0] if isinstance(state, tuple) else state  # the LSTM's state is (h, c)
        return self.head(self.drop(final_outputs(h_n, self.directions))), state


# --8<-- [end:classifier]


# --8<-- [start:tagger]
class RecurrentTagger(_Recurrent):
    """Many-to-many, aligned: one label per token, from the top layer's output at its step.

    Arguments as :class:`RecurrentClassifier`, with C tags.
    """

    def __init__(
        self,
        vocab_size,
        num_tags,
        *,
        embed_size=16,
        hidden_size=32,
        num_layers=1,
        bidirectional=False,
        cell="lstm",
        dropout=0.0,
    ):
        super().__init__(vocab_size, embed_size, hidden_size, num_layers, bidirectional, cell, dropout)
        self.head = nn.Linear(self.directions * hidden_size, check_int("num_tags", num_tags, minimum=2))

    def forward(self, ids, state=None, lengths=None):
        """ids (T, B) -> ``(logits (T, B, C), state)``; logits at padding are to be ignored."""
        outputs, state = self.run(ids, state, lengths)
        return self.head(self.drop(outputs)), state


# --8<-- [end:tagger]


# --8<-- [start:bag]
class BagOfEmbeddings(nn.Module):
    """The baseline without order: the mean embedding of the real tokens, then a linear layer.

    With ``per_token=True`` it tags each token from its own embedding alone.
    Returns ``(logits, None)``: there is no state.
    """

    def __init__(self, vocab_size, num_classes, *, embed_size=16, per_token=False):
        super().__init__()
        self.embed = nn.Embedding(
            check_int("vocab_size", vocab_size, minimum=2),
            check_int("embed_size", embed_size, minimum=1),
            padding_idx=0,
        )
        self.head = nn.Linear(embed_size, check_int("num_classes", num_classes, minimum=2))
        self.per_token = per_token

    def forward(self, ids, state=None, lengths=None):
        """ids (T, B) -> ``(logits (B, C) or (T, B, C), None)``."""
        lengths = _check_ids(ids, lengths)
        xs = self.embed(ids)  # (T, B, E)
        if self.per_token:
            return self.head(xs), None
        lengths = lengths.to(xs.device)
        real = torch.arange(ids.shape[0], device=xs.device)[:, None] < lengths  # the mask (T, B)
        mean = (xs * real[:, :, None]).sum(dim=0) / lengths[:, None]  # whatever the padding holds
        return self.head(mean), None


# --8<-- [end:bag]
