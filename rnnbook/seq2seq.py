"""An encoder–decoder with additive attention in numpy, trainable from scratch.

The encoder is a GRU (:mod:`rnnbook.gru`) that reads the one-hot source tokens
x_1 .. x_S into states h_1 .. h_S, the attention's keys. The decoder is another
GRU whose state s_i starts from the encoder's last real state and, at step i:

    c_i = attention(s_{i−1}, h_1 .. h_S)             the previous state queries (Bahdanau et al. 2015)
    s_i = GRU([onehot(y_{i−1}); c_i], s_{i−1})       the previous token and the context enter the cell
    logits_i = W_o [s_i; c_i] + b_o                  one affine layer (Bahdanau et al. use a maxout layer)

Training feeds the true previous token y_{i−1} (teacher forcing, Williams &
Zipser 1989) and averages the cross-entropy over the real target tokens only
(the masked loss). Token ids: the caller chooses them; :data:`PAD`, :data:`BOS`
and :data:`EOS` are those of :func:`reversal_batch`, the toy task used by the
chapter and the tests (output the source backwards).

Shapes: S source steps, T target steps, B examples, H hidden units (encoder and
decoder alike), A the attention's size, V_s and V_t the vocabularies.

>>> import numpy as np
>>> from rnnbook.seq2seq import init, reversal_batch, loss_and_grads
>>> rng = np.random.default_rng(0)
>>> params = init(6, 6, hidden=8, attention_size=8, rng=rng)
>>> src, src_len, tgt, tgt_len = reversal_batch(rng, batch_size=4, min_len=2, max_len=4, n_symbols=3)
>>> loss, grads = loss_and_grads(params, src, src_len, tgt, tgt_len)
>>> round(loss, 3), grads.decoder.W_ih.shape  # near log 6 = 1.79 before training
(1.785, (24, 14))
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnbook import attention, gru, layers
from rnnbook._validate import as_rng, check_int

__all__ = [
    "Params",
    "PAD",
    "BOS",
    "EOS",
    "init",
    "encode",
    "encode_backward",
    "decoder_step",
    "decoder_step_backward",
    "loss_and_grads",
    "reversal_batch",
    "next_log_probs_fn",
    "attention_matrix",
]

PAD, BOS, EOS = 0, 1, 2


@dataclasses.dataclass(eq=False)
class Params:
    """All the weights of the encoder–decoder (each part is also a gradient's shape).

    Attributes:
        encoder: :class:`rnnbook.gru.Params`, input size V_s.
        decoder: :class:`rnnbook.gru.Params`, input size V_t + H.
        attention: :class:`rnnbook.attention.AdditiveParams`, query and key size H.
        out: :class:`rnnbook.layers.LinearParams`, (V_t, 2H).
    """

    encoder: gru.Params
    decoder: gru.Params
    attention: attention.AdditiveParams
    out: layers.LinearParams


def init(src_vocab, tgt_vocab, hidden, attention_size, rng=None):
    """Random float64 weights (PyTorch's initialisation for each part)."""
    V_s = check_int("src_vocab", src_vocab, minimum=1)
    V_t = check_int("tgt_vocab", tgt_vocab, minimum=1)
    H = check_int("hidden", hidden, minimum=1)
    rng = as_rng(rng)
    return Params(
        encoder=gru.init(V_s, H, rng=rng),
        decoder=gru.init(V_t + H, H, rng=rng),
        attention=attention.additive_init(H, H, attention_size, rng=rng),
        out=layers.linear_init(2 * H, V_t, rng=rng),
    )


def _check_tokens(name, tokens, vocab, ndim):
    if not isinstance(tokens, np.ndarray) or not np.issubdtype(tokens.dtype, np.integer) or tokens.ndim != ndim:
        given = f"{tokens.dtype} {tokens.shape}" if isinstance(tokens, np.ndarray) else type(tokens).__name__
        raise TypeError(f"{name}: expected an integer numpy array with {ndim} dimensions, got {given}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab):
        raise ValueError(f"{name}: expected token ids in [0, {vocab - 1}], got [{tokens.min()}, {tokens.max()}]")


def _check_lengths(name, lengths, steps, batch):
    if not isinstance(lengths, np.ndarray) or lengths.shape != (batch,) or not np.issubdtype(lengths.dtype, np.integer):
        given = f"{lengths.dtype} {lengths.shape}" if isinstance(lengths, np.ndarray) else type(lengths).__name__
        raise ValueError(f"{name}: expected integer lengths of shape (B,) = ({batch},), got {given}")
    if lengths.min() < 1 or lengths.max() > steps:
        raise ValueError(f"{name}: expected lengths in [1, {steps}], got [{lengths.min()}, {lengths.max()}]")


def _one_hot(tokens, vocab):
    return np.eye(vocab)[tokens]


# --8<-- [start:encode]
def encode(src, src_lengths, params):
    """Run the encoder over right-padded sources.

    Args:
        src: source token ids (S, B), padded after each sequence's end.
        src_lengths: the real lengths (B,), each in [1, S].
        params: :class:`Params`.

    Returns:
        keys: the encoder's states h_1 .. h_S (S, B, H) (those past a sequence's end are masked);
        s0: each sequence's last real state h_{len} (B, H), the decoder's first state;
        mask: (S, B) boolean, True on real positions;
        cache: for :func:`encode_backward`.
    """
    V_s = params.encoder.input_size
    _check_tokens("src", src, V_s, 2)
    S, B = src.shape
    _check_lengths("src_lengths", src_lengths, S, B)
    keys, _, cache = gru.forward(_one_hot(src, V_s), None, params.encoder)
    last = (src_lengths - 1, np.arange(B))  # padding comes after: the state at len is exact
    mask = np.arange(S)[:, None] < src_lengths
    return keys, keys[last], mask, (cache, last)


# --8<-- [end:encode]


def encode_backward(d_keys, d_s0, cache):
    """Gradients of the encoder's weights from ∂L/∂keys (S, B, H) and ∂L/∂s0 (B, H)."""
    gru_cache, last = cache
    dhs = d_keys.copy()
    dhs[last] += d_s0
    grads, _, _ = gru.backward(dhs, gru_cache)
    return grads


# --8<-- [start:decoder_step]
def decoder_step(y_prev, state, keys, mask, params):
    """One decoder step with additive attention queried by the previous state.

    Args:
        y_prev: the previous target tokens y_{i−1} (B,).
        state: s_{i−1} (B, H).
        keys: the encoder's states (S, B, H).
        mask: (S, B) boolean, True on real source positions.
        params: :class:`Params`.

    Returns:
        logits: (B, V_t) for y_i;
        state: s_i (B, H);
        weights: the attention weights α_i (S, B);
        cache: for :func:`decoder_step_backward`.
    """
    V_t = params.out.W.shape[0]
    _check_tokens("y_prev", y_prev, V_t, 1)
    context, weights, att_cache = attention.additive_forward(state, keys, params.attention, mask)
    x = np.concatenate([_one_hot(y_prev, V_t), context], axis=1)  # (B, V_t + H)
    _, new_state, cell_cache = gru.forward(x[None], state, params.decoder)  # one step
    logits, out_cache = layers.linear_forward(np.concatenate([new_state, context], axis=1), params.out)
    return logits, new_state, weights, (att_cache, cell_cache, out_cache)


# --8<-- [end:decoder_step]


# --8<-- [start:decoder_step_backward]
def decoder_step_backward(d_logits, d_state, cache):
    """Backward pass of :func:`decoder_step`.

    Args:
        d_logits: ∂L/∂logits_i (B, V_t).
        d_state: ∂L/∂s_i from the later steps (B, H).
        cache: from :func:`decoder_step`.

    Returns:
        grads: ``(decoder, attention, out)`` gradients of this step;
        d_prev: ∂L/∂s_{i−1} (B, H), through the cell and through the query;
        d_keys: ∂L/∂keys (S, B, H).
    """
    att_cache, cell_cache, out_cache = cache
    H = d_state.shape[1]
    out_grads, d_out_in = layers.linear_backward(d_logits, out_cache)  # (B, 2H): [s_i; c_i]
    d_new_state = d_out_in[:, :H] + d_state
    cell_grads, dxs, d_prev = gru.backward(d_new_state[None], cell_cache)
    d_context = d_out_in[:, H:] + dxs[0, :, -H:]  # c_i feeds the output layer and the cell
    att_grads, d_query, d_keys = attention.additive_backward(d_context, att_cache)
    return (cell_grads, att_grads, out_grads), d_prev + d_query, d_keys


# --8<-- [end:decoder_step_backward]


def _add_into(total, grads):
    """total += grads, field by field, for dataclasses of arrays."""
    for field in dataclasses.fields(total):
        getattr(total, field.name)[...] += getattr(grads, field.name)


def _zeros_like(params):
    return type(params)(**{f.name: np.zeros_like(getattr(params, f.name)) for f in dataclasses.fields(params)})


# --8<-- [start:loss_and_grads]
def loss_and_grads(params, src, src_lengths, tgt, tgt_lengths, bos=BOS):
    """Teacher-forced masked cross-entropy and its gradients, by backpropagation through time.

    The decoder reads ``bos`` then the true targets y_1 .. y_{T−1} (teacher
    forcing) and predicts y_1 .. y_T. The loss averages −log p(y_i) over the
    real target positions only (i ≤ length): padding adds nothing, to the loss
    nor to the gradient.

    Args:
        params: :class:`Params`.
        src: (S, B) source ids, right-padded; src_lengths: (B,).
        tgt: (T, B) target ids, each ending in its ``eos``, right-padded; tgt_lengths: (B,).
        bos: the start token's id.

    Returns:
        ``(loss, grads)``: a float, and a :class:`Params` of gradients.
    """
    keys, state, mask, enc_cache = encode(src, src_lengths, params)
    V_t = params.out.W.shape[0]
    _check_tokens("tgt", tgt, V_t, 2)
    T, B = tgt.shape
    _check_lengths("tgt_lengths", tgt_lengths, T, B)
    real = np.arange(T)[:, None] < tgt_lengths  # (T, B) the target mask
    n_real = real.sum()
    y_prev = np.concatenate([np.full((1, B), bos), tgt[:-1]])  # teacher forcing
    loss, d_logits, caches = 0.0, [], []
    for i in range(T):
        logits, state, _, cache = decoder_step(y_prev[i], state, keys, mask, params)
        log_p = layers.log_softmax(logits)
        loss -= log_p[np.arange(B), tgt[i]][real[i]].sum() / n_real
        d = np.exp(log_p)
        d[np.arange(B), tgt[i]] -= 1
        d_logits.append(d * real[i][:, None] / n_real)  # masked: padding gets no gradient
        caches.append(cache)
    grads = Params(
        encoder=None,
        decoder=params.decoder.zeros_like(),
        attention=_zeros_like(params.attention),
        out=params.out.zeros_like(),
    )
    d_state, d_keys = np.zeros_like(state), np.zeros_like(keys)
    for i in reversed(range(T)):
        (cell, att, out), d_state, dk = decoder_step_backward(d_logits[i], d_state, caches[i])
        _add_into(grads.decoder, cell)
        _add_into(grads.attention, att)
        _add_into(grads.out, out)
        d_keys += dk
    grads.encoder = encode_backward(d_keys, d_state, enc_cache)
    return float(loss), grads


# --8<-- [end:loss_and_grads]


def reversal_batch(rng, batch_size, min_len, max_len, n_symbols):
    """A batch of the reversal task: the source backwards, then EOS.

    Symbols are ids 3 .. 3 + n_symbols − 1 (0, 1, 2 are PAD, BOS, EOS), lengths
    uniform in [min_len, max_len]; sources and targets are right-padded with PAD.

    Returns:
        ``(src (S, B), src_lengths (B,), tgt (S + 1, B), tgt_lengths (B,))``.

    >>> import numpy as np
    >>> from rnnbook.seq2seq import reversal_batch
    >>> src, n, tgt, m = reversal_batch(np.random.default_rng(0), 1, 3, 3, 4)
    >>> src[:, 0], tgt[:, 0]
    (array([6, 5, 5]), array([5, 5, 6, 2]))
    """
    rng = as_rng(rng)
    B = check_int("batch_size", batch_size, minimum=1)
    lo = check_int("min_len", min_len, minimum=1)
    hi = check_int("max_len", max_len, minimum=lo)
    n = check_int("n_symbols", n_symbols, minimum=1)
    lengths = rng.integers(lo, hi + 1, size=B)
    src = np.full((hi, B), PAD)
    tgt = np.full((hi + 1, B), PAD)
    for b, length in enumerate(lengths):
        seq = rng.integers(3, 3 + n, size=length)
        src[:length, b] = seq
        tgt[:length, b] = seq[::-1]
        tgt[length, b] = EOS
    return src, lengths, tgt, lengths + 1


def next_log_probs_fn(params, src):
    """The model as :mod:`rnnbook.decoding` sees it, for one source sequence ``src`` (S,).

    Returns ``next_log_probs(prefix)``: the decoder's log-probabilities (V_t,) of
    the token after ``prefix`` (a tuple of ids starting with BOS). The state after
    each prefix is remembered, so a search costs one decoder step per prefix.
    """
    keys, s0, mask, _ = encode(src[:, None], np.array([len(src)]), params)
    memo = {}  # prefix -> (log-probabilities of the next token, decoder state after the prefix)

    def run(prefix):
        if prefix not in memo:
            state = s0 if len(prefix) == 1 else run(prefix[:-1])[1]
            logits, state, _, _ = decoder_step(np.array(prefix[-1:]), state, keys, mask, params)
            memo[prefix] = (layers.log_softmax(logits[0]), state)
        return memo[prefix]

    def next_log_probs(prefix):
        return run(tuple(prefix))[0]

    return next_log_probs


def attention_matrix(params, src, tokens, bos=BOS):
    """The attention weights of the decoder producing ``tokens`` from ``src`` (S,): (len(tokens), S).

    Row i holds α_i, where the decoder looked while it emitted ``tokens[i]``
    (fed the previous tokens, as in teacher forcing).
    """
    keys, state, mask, _ = encode(src[:, None], np.array([len(src)]), params)
    rows = []
    for y_prev in (bos,) + tuple(tokens[:-1]):
        _, state, weights, _ = decoder_step(np.array([y_prev]), state, keys, mask, params)
        rows.append(weights[:, 0])
    return np.array(rows)
