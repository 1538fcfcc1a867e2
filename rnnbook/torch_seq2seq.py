"""Encoder–decoder models in PyTorch: GRU or LSTM, with or without attention.

:class:`Seq2Seq` reads a right-padded source (S, B) of token ids with an
embedding and an ``nn.GRU`` or ``nn.LSTM`` (packed, so that each sequence's final
state is taken at its own last token), then decodes one token at a time with a
``nn.GRUCell`` or ``nn.LSTMCell`` started from that state:

* without attention, the encoder's final state is all the decoder knows of the
  source (Sutskever, Vinyals & Le 2014): the fixed-size bottleneck;
* with attention, the previous decoder state s_{i−1} queries the encoder's states
  (:class:`Attention`: additive as Bahdanau et al. 2015, or Luong et al.'s dot and
  general scores); the context c_i enters the cell with the previous token and the
  output layer with s_i, as in :mod:`rnnbook.seq2seq`, the numpy version.

Training (:func:`train_seq2seq`) feeds the true previous token (teacher forcing,
Williams & Zipser 1989) or, with probability 1 − ε_k at update k, the model's own
sample (scheduled sampling, Bengio et al. 2015), and averages the cross-entropy
over the real target tokens (:func:`masked_cross_entropy`). Token ids 0, 1, 2 are
PAD, BOS and EOS (:mod:`rnnbook.seq2seq_data`).

>>> import torch
>>> from rnnbook.torch_seq2seq import Seq2Seq
>>> model = Seq2Seq(10, 8, hidden=16, cell="lstm", attention="dot")
>>> src, tgt = torch.randint(3, 10, (5, 2)), torch.randint(3, 8, (4, 2))
>>> logits = model(src, torch.tensor([5, 3]), tgt)
>>> tuple(logits.shape)
(4, 2, 8)
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from rnnbook._validate import check_choice, check_float, check_int
from rnnbook.seq2seq_data import BOS, PAD

__all__ = [
    "Attention",
    "Seq2Seq",
    "masked_cross_entropy",
    "inverse_sigmoid_decay",
    "train_seq2seq",
    "greedy_batch",
    "next_log_probs_fn",
    "exact_match",
    "CELLS",
    "SCORES",
]

CELLS = {"gru": (nn.GRU, nn.GRUCell), "lstm": (nn.LSTM, nn.LSTMCell)}
SCORES = ("additive", "dot", "general")


class Attention(nn.Module):
    """Attention over the encoder's states, with the scores of :mod:`rnnbook.attention`.

    ``forward(query (B, H_q), keys (S, B, H_k), mask (S, B) bool)`` returns the
    context (B, H_k) and the weights (S, B); masked positions get weight 0.
    No biases, as the numpy version: additive ``W_q`` (A, H_q), ``W_k`` (A, H_k),
    ``v`` (A,); general ``W`` (H_q, H_k); dot nothing (H_q = H_k).

    >>> import torch
    >>> from rnnbook.torch_seq2seq import Attention
    >>> att = Attention("additive", 4, 6, 5)
    >>> context, weights = att(torch.zeros(2, 4), torch.zeros(3, 2, 6), torch.ones(3, 2, dtype=torch.bool))
    >>> tuple(context.shape), weights[:, 0].tolist()
    ((2, 6), [0.333..., 0.333..., 0.333...])
    """

    def __init__(self, score, query_size, key_size, attention_size=None):
        super().__init__()
        self.score = check_choice("score", score, SCORES)
        H_q, H_k = check_int("query_size", query_size, minimum=1), check_int("key_size", key_size, minimum=1)
        if score == "additive":
            A = check_int("attention_size", attention_size, minimum=1)
            self.W_q = nn.Parameter(torch.empty(A, H_q).uniform_(-(H_q**-0.5), H_q**-0.5))
            self.W_k = nn.Parameter(torch.empty(A, H_k).uniform_(-(H_k**-0.5), H_k**-0.5))
            self.v = nn.Parameter(torch.empty(A).uniform_(-(A**-0.5), A**-0.5))
        elif score == "general":
            self.W = nn.Parameter(torch.empty(H_q, H_k).uniform_(-(H_k**-0.5), H_k**-0.5))
        elif H_q != H_k:
            raise ValueError(f"query_size: the dot score needs query_size = key_size, got {H_q} and {H_k}")

    def forward(self, query, keys, mask):
        if self.score == "additive":
            e = torch.tanh(query @ self.W_q.T + keys @ self.W_k.T) @ self.v  # (S, B)
        elif self.score == "general":
            e = torch.einsum("bh,sbh->sb", query @ self.W, keys)
        else:
            e = torch.einsum("bh,sbh->sb", query, keys)
        weights = torch.softmax(e.masked_fill(~mask, float("-inf")), dim=0)
        return torch.einsum("sb,sbh->bh", weights, keys), weights


# --8<-- [start:seq2seq]
class Seq2Seq(nn.Module):
    """An encoder–decoder over token ids, GRU or LSTM, with or without attention.

    Args:
        src_vocab, tgt_vocab: V_s and V_t.
        hidden: H, the size of the encoder's and decoder's states.
        cell: "gru" or "lstm".
        attention: None, "additive", "dot" or "general".
        embedding_dim: E, for both embeddings.
        attention_size: A, for the additive score (default H).
    """

    def __init__(
        self,
        src_vocab,
        tgt_vocab,
        hidden=96,
        *,
        cell="gru",
        attention="additive",
        embedding_dim=32,
        attention_size=None,
    ):
        super().__init__()
        self.cell_name = check_choice("cell", cell, tuple(CELLS))
        if attention is not None:
            check_choice("attention", attention, SCORES)
        H = check_int("hidden", hidden, minimum=1)
        E = check_int("embedding_dim", embedding_dim, minimum=1)
        self.tgt_vocab = check_int("tgt_vocab", tgt_vocab, minimum=3)
        self.src_embed = nn.Embedding(check_int("src_vocab", src_vocab, minimum=3), E)
        self.tgt_embed = nn.Embedding(tgt_vocab, E)
        layer, cell_class = CELLS[cell]
        self.encoder = layer(E, H)
        self.attention = None if attention is None else Attention(attention, H, H, attention_size or H)
        context = 0 if attention is None else H
        self.decoder = cell_class(E + context, H)
        self.out = nn.Linear(H + context, tgt_vocab)

    def encode(self, src, src_lengths):
        """Source ids (S, B) and lengths (B,) -> keys (S, B, H), the decoder's first state, mask (S, B)."""
        if src.ndim != 2 or src.dtype != torch.long:
            raise ValueError(f"src: expected int64 token ids of shape (S, B), got {src.dtype} {tuple(src.shape)}")
        S, B = src.shape
        lengths = torch.as_tensor(src_lengths).cpu()
        if lengths.shape != (B,) or lengths.min() < 1 or lengths.max() > S:
            raise ValueError(f"src_lengths: expected (B,) = ({B},) lengths in [1, {S}], got {lengths.tolist()}")
        packed = nn.utils.rnn.pack_padded_sequence(self.src_embed(src), lengths, enforce_sorted=False)
        keys, state = self.encoder(packed)
        keys, _ = nn.utils.rnn.pad_packed_sequence(keys, total_length=S)
        mask = torch.arange(S, device=src.device)[:, None] < lengths.to(src.device)
        state = tuple(s[0] for s in state) if isinstance(state, tuple) else state[0]  # drop the layer axis
        return keys, state, mask

    def step(self, y_prev, state, keys, mask):
        """One decoder step: previous ids (B,) and state -> logits (B, V_t), new state, weights (S, B) or None."""
        x = self.tgt_embed(y_prev)
        weights = None
        if self.attention is not None:
            query = state[0] if isinstance(state, tuple) else state  # s_{i−1} (the LSTM's h)
            context, weights = self.attention(query, keys, mask)
            x = torch.cat([x, context], dim=1)
        state = self.decoder(x, state)
        h = state[0] if isinstance(state, tuple) else state
        features = h if self.attention is None else torch.cat([h, context], dim=1)
        return self.out(features), state, weights

    def forward(self, src, src_lengths, tgt, teacher_forcing=1.0, generator=None):
        """Logits (T, B, V_t) for the targets ``tgt`` (T, B).

        The decoder reads BOS, then at step i the true token y_{i−1} with
        probability ``teacher_forcing`` (drawn per token and example), otherwise a
        token sampled from its own prediction at step i − 1 (scheduled sampling).
        """
        p = check_float("teacher_forcing", teacher_forcing, minimum=0, maximum=1)
        keys, state, mask = self.encode(src, src_lengths)
        y_prev = torch.full_like(tgt[0], BOS)
        logits = []
        for i in range(len(tgt)):
            step_logits, state, _ = self.step(y_prev, state, keys, mask)
            logits.append(step_logits)
            y_prev = tgt[i]
            if p < 1:
                own = torch.multinomial(torch.softmax(step_logits.detach(), dim=1), 1, generator=generator)[:, 0]
                use_true = torch.rand(y_prev.shape, generator=generator, device=y_prev.device) < p
                y_prev = torch.where(use_true, y_prev, own)
        return torch.stack(logits)


# --8<-- [end:seq2seq]


# --8<-- [start:masked_cross_entropy]
def masked_cross_entropy(logits, tgt):
    """Mean cross-entropy (nats) over the real target tokens: logits (T, B, V), tgt (T, B), PAD ignored.

    >>> import torch
    >>> from rnnbook.torch_seq2seq import masked_cross_entropy, PAD
    >>> masked_cross_entropy(torch.zeros(2, 1, 4), torch.tensor([[3], [PAD]])).item()  # log 4, one token
    1.386...
    """
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=PAD)


# --8<-- [end:masked_cross_entropy]


# --8<-- [start:inverse_sigmoid_decay]
def inverse_sigmoid_decay(k):
    """Bengio et al. (2015)'s inverse sigmoid schedule ε_i = k / (k + exp(i / k)), k ≥ 1.

    ε_i is the probability of feeding the true token at update i: near 1 at first,
    it decays to 0, so the model reads more and more of its own predictions.

    >>> from rnnbook.torch_seq2seq import inverse_sigmoid_decay
    >>> schedule = inverse_sigmoid_decay(100)
    >>> round(schedule(0), 3), round(schedule(500), 3), round(schedule(1000), 3)
    (0.99, 0.403, 0.005)
    """
    k = check_float("k", k, minimum=1)
    return lambda i: k / (k + math.exp(min(i / k, 700.0)))


# --8<-- [end:inverse_sigmoid_decay]


def _tensors(batch):
    return tuple(torch.as_tensor(a, dtype=torch.long) for a in batch)


# --8<-- [start:train_seq2seq]
def train_seq2seq(
    model,
    batches,
    *,
    steps,
    lr=3e-3,
    clip=1.0,
    teacher_forcing=1.0,
    evaluate=None,
    eval_every=100,
    progress=True,
    seed=0,
):
    """Adam with gradient-norm clipping (Pascanu et al. 2013) on the masked cross-entropy.

    Args:
        model: a :class:`Seq2Seq`.
        batches: an iterator of ``(src (S, B), src_lengths (B,), tgt (T, B), tgt_lengths (B,))``
            numpy arrays or tensors, targets ending in EOS and padded with PAD.
        steps: the number of updates.
        lr, clip: Adam's step size and the largest gradient norm.
        teacher_forcing: ε, the probability of feeding the true token, a number or
            a function of the update's index (a schedule such as :func:`inverse_sigmoid_decay`).
        evaluate: None or a function ``model -> dict of floats``, called every ``eval_every``
            updates and at the end (in eval mode, without gradients).
        progress: show a progress bar.
        seed: seeds the scheduled-sampling draws.

    Returns:
        ``{"loss": [...], "eval": [{"step", ...}, ...], "seconds"}``.
    """
    steps = check_int("steps", steps, minimum=1)
    schedule = teacher_forcing if callable(teacher_forcing) else (lambda i: teacher_forcing)
    generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history, start = {"loss": [], "eval": []}, time.perf_counter()
    bar = tqdm(range(1, steps + 1), disable=not progress, desc="seq2seq", leave=False)
    for step in bar:
        src, src_lengths, tgt, _ = _tensors(next(batches))
        model.train()
        logits = model(src, src_lengths, tgt, teacher_forcing=schedule(step - 1), generator=generator)
        loss = masked_cross_entropy(logits, tgt)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        history["loss"].append(loss.item())
        if evaluate is not None and (step % eval_every == 0 or step == steps):
            model.eval()
            with torch.no_grad():
                history["eval"].append({"step": step, **evaluate(model)})
            bar.set_postfix(history["eval"][-1])
    history["seconds"] = time.perf_counter() - start
    return history


# --8<-- [end:train_seq2seq]


@torch.no_grad()
def greedy_batch(model, src, src_lengths, max_len):
    """Greedy decoding of a whole batch at once: ids (max_len, B), weights (max_len, S, B) or None.

    Each column is read up to its first EOS; what follows is junk. Equal, column by
    column, to :func:`rnnbook.decoding.greedy` on :func:`next_log_probs_fn`.
    """
    model.eval()
    src, src_lengths = torch.as_tensor(src, dtype=torch.long), torch.as_tensor(src_lengths)
    keys, state, mask = model.encode(src, src_lengths)
    y = torch.full((src.shape[1],), BOS, dtype=torch.long)
    ids, weights = [], []
    for _ in range(check_int("max_len", max_len, minimum=1)):
        logits, state, w = model.step(y, state, keys, mask)
        y = logits.argmax(dim=1)
        ids.append(y)
        weights.append(w)
    return torch.stack(ids).numpy(), None if model.attention is None else torch.stack(weights).numpy()


# --8<-- [start:next_log_probs_fn]
def next_log_probs_fn(model, src):
    """The model as :mod:`rnnbook.decoding` sees it, for one source ``src`` (S,) of ids.

    Returns ``next_log_probs(prefix)`` -> log-probabilities (V_t,) as a numpy
    array. The decoder state after each prefix is remembered, so a search costs
    one decoder step per prefix it extends.
    """
    model.eval()
    src = torch.as_tensor(np.asarray(src), dtype=torch.long)[:, None]
    with torch.no_grad():
        keys, s0, mask = model.encode(src, torch.tensor([len(src)]))
    memo = {}  # prefix -> (log-probabilities of the next token, state after the prefix)

    @torch.no_grad()
    def run(prefix):
        if prefix not in memo:
            state = s0 if len(prefix) == 1 else run(prefix[:-1])[1]
            logits, state, _ = model.step(torch.tensor(prefix[-1:]), state, keys, mask)
            memo[prefix] = (torch.log_softmax(logits[0].double(), dim=0).numpy(), state)
        return memo[prefix]

    return lambda prefix: run(tuple(prefix))[0]


# --8<-- [end:next_log_probs_fn]


def exact_match(predicted, tgt, tgt_lengths):
    """Per example, whether the predicted ids (T', B) equal the target (T, B) up to and with its EOS.

    >>> import numpy as np
    >>> from rnnbook.torch_seq2seq import exact_match
    >>> exact_match(np.array([[5], [2], [7]]), np.array([[5], [2]]), np.array([2])).tolist()
    [True]
    """
    T = int(tgt_lengths.max())
    if len(predicted) < T:
        predicted = np.concatenate([predicted, np.full((T - len(predicted), predicted.shape[1]), PAD)])
    real = np.arange(T)[:, None] < tgt_lengths
    return np.all((predicted[:T] == tgt[:T]) | ~real, axis=0)
