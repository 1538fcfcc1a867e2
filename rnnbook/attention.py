"""Attention in numpy: a context vector as a weighted average of the encoder's states.

A decoder state (the *query*, B vectors of size H_q) looks at S encoder states (the
*keys*, which are also the values here). Each key gets a score e_j, the scores
become weights by a softmax over the source positions, and the *context* is the
average of the keys under those weights (Bahdanau, Cho & Bengio 2015, eq. 5–6):

    α_j = exp(e_j) / Σ_k exp(e_k),        c = Σ_j α_j k_j

Three scores, each with its ``*_forward`` and ``*_backward``:

    additive  e_j = vᵀ tanh(W_q q + W_k k_j)     Bahdanau et al. (2015), appendix A (no biases)
    dot       e_j = qᵀ k_j                      Luong, Pham & Manning (2015), eq. 8
    general   e_j = qᵀ W k_j                    Luong et al. (2015), eq. 8

Shapes: B examples, S source positions, H_q query size, H_k key size, A the size
of the additive score's hidden layer. Keys are time-major, as the encoder's
states: ``keys`` (S, B, H_k). A boolean ``mask`` (S, B) marks the real positions
(True) of a padded batch; masked positions get weight exactly 0, and a column
(an example) whose mask hides every position is an error, since a softmax over
nothing is undefined.

>>> import numpy as np
>>> from rnnbook.attention import additive_init, additive_forward, additive_backward
>>> rng = np.random.default_rng(0)
>>> params = additive_init(4, 3, 5, rng=rng)
>>> query, keys = rng.standard_normal((2, 4)), rng.standard_normal((6, 2, 3))
>>> mask = np.ones((6, 2), dtype=bool); mask[4:, 1] = False  # example 1 has 4 positions
>>> context, weights, cache = additive_forward(query, keys, params, mask)
>>> context.shape, weights.shape, weights.sum(axis=0).round(12), weights[4:, 1]
((2, 3), (6, 2), array([1., 1.]), array([0., 0.]))
>>> grads, d_query, d_keys = additive_backward(np.ones_like(context), cache)
>>> grads.W_q.shape, d_query.shape, d_keys.shape
((5, 4), (2, 4), (6, 2, 3))
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnbook._validate import as_rng, check_array, check_dtype, check_int, check_same_dtype

__all__ = [
    "AdditiveParams",
    "GeneralParams",
    "Cache",
    "additive_init",
    "general_init",
    "masked_softmax",
    "additive_forward",
    "additive_backward",
    "dot_forward",
    "dot_backward",
    "general_forward",
    "general_backward",
    "SCORES",
]


@dataclasses.dataclass
class AdditiveParams:
    """Weights of the additive score e_j = vᵀ tanh(W_q q + W_k k_j).

    Attributes:
        W_q: query projection (A, H_q).
        W_k: key projection (A, H_k).
        v: scoring vector (A,).
    """

    W_q: np.ndarray
    W_k: np.ndarray
    v: np.ndarray


@dataclasses.dataclass
class GeneralParams:
    """Weights of the "general" score e_j = qᵀ W k_j (Luong et al. 2015).

    Attributes:
        W: (H_q, H_k).
    """

    W: np.ndarray


@dataclasses.dataclass(eq=False)
class Cache:
    """What a ``*_backward`` needs from its ``*_forward``.

    Attributes:
        query: (B, H_q).
        keys: (S, B, H_k).
        weights: the attention weights α (S, B).
        params: the score's weights (None for the dot score).
        score: what the score needs: tanh(W_q q + W_k k_j) (S, B, A) for
            "additive", q W (B, H_k) for "general", None for "dot".
    """

    query: np.ndarray
    keys: np.ndarray
    weights: np.ndarray
    params: object
    score: object


def _uniform(rng, bound, shape, dtype):
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def additive_init(query_size, key_size, attention_size, rng=None, dtype=np.float64):
    """Random additive-score weights, each entry U(-1/√fan_in, 1/√fan_in) as ``torch.nn.Linear``.

    >>> from rnnbook.attention import additive_init
    >>> p = additive_init(4, 3, 5, rng=0)
    >>> p.W_q.shape, p.W_k.shape, p.v.shape
    ((5, 4), (5, 3), (5,))
    """
    H_q = check_int("query_size", query_size, minimum=1)
    H_k = check_int("key_size", key_size, minimum=1)
    A = check_int("attention_size", attention_size, minimum=1)
    dtype, rng = check_dtype("dtype", dtype), as_rng(rng)
    return AdditiveParams(
        W_q=_uniform(rng, H_q**-0.5, (A, H_q), dtype),
        W_k=_uniform(rng, H_k**-0.5, (A, H_k), dtype),
        v=_uniform(rng, A**-0.5, (A,), dtype),
    )


def general_init(query_size, key_size, rng=None, dtype=np.float64):
    """Random "general" weights W (H_q, H_k), each entry U(-1/√H_k, 1/√H_k).

    >>> from rnnbook.attention import general_init
    >>> general_init(4, 3, rng=0).W.shape
    (4, 3)
    """
    H_q = check_int("query_size", query_size, minimum=1)
    H_k = check_int("key_size", key_size, minimum=1)
    dtype, rng = check_dtype("dtype", dtype), as_rng(rng)
    return GeneralParams(W=_uniform(rng, H_k**-0.5, (H_q, H_k), dtype))


def _check(query, keys, mask, dims):
    """Check query (B, H_q), keys (S, B, H_k) and mask (S, B); return the mask (all True if None)."""
    check_array("query", query, shape=("B", "H_q"), dims=dims)
    check_array("keys", keys, shape=("S", "B", "H_k"), dims=dims)
    check_same_dtype(query=query, keys=keys)
    if mask is None:
        return np.ones(keys.shape[:2], dtype=bool)
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        given = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__name__
        raise TypeError(f"mask: expected a boolean numpy array (True = a real position), got {given}")
    if mask.shape != keys.shape[:2]:
        raise ValueError(f"mask: expected shape (S, B) = {keys.shape[:2]}, got {mask.shape}")
    empty = np.flatnonzero(~mask.any(axis=0))
    if empty.size:
        raise ValueError(
            f"mask: column {int(empty[0])} hides every source position (each example needs at least one real position)"
        )
    return mask


def _check_params(params, cls, shapes, dims):
    if not isinstance(params, cls):
        raise TypeError(f"params: expected {cls.__name__}, got {type(params).__name__}")
    for name, shape in shapes.items():
        check_array(f"params.{name}", getattr(params, name), shape=shape, dims=dims)


# --8<-- [start:masked_softmax]
def masked_softmax(scores, mask):
    """Softmax over the source positions (axis 0) of the real positions only.

    Masked scores are replaced by −∞ before the softmax, so their weights are
    exactly 0 and the others sum to 1. The maximum subtracted for stability is
    that of the real positions.

    Args:
        scores: e (S, B).
        mask: (S, B) boolean, True = a real position; every column has one.

    Returns:
        α (S, B).

    >>> import numpy as np
    >>> from rnnbook.attention import masked_softmax
    >>> masked_softmax(np.zeros((3, 1)), np.array([[True], [True], [False]]))
    array([[0.5],
           [0.5],
           [0. ]])
    """
    scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=0))  # exp(−∞) = 0 on masked positions
    return e / e.sum(axis=0)


# --8<-- [end:masked_softmax]


# --8<-- [start:weighted_sum]
def _context(weights, keys):
    """c = Σ_j α_j k_j: weights (S, B), keys (S, B, H_k) -> (B, H_k)."""
    return np.einsum("sb,sbh->bh", weights, keys)


def _context_backward(d_context, cache):
    """Through c = Σ_j α_j k_j, then through the softmax: ∂L/∂e (S, B) and ∂L/∂keys (S, B, H_k).

    ∂L/∂α_j = ∂L/∂c · k_j;  ∂L/∂e_j = α_j (∂L/∂α_j − Σ_k α_k ∂L/∂α_k)  (softmax Jacobian).
    A masked position has α_j = 0, hence ∂L/∂e_j = 0.
    """
    d_weights = np.einsum("bh,sbh->sb", d_context, cache.keys)
    w = cache.weights
    d_scores = w * (d_weights - (w * d_weights).sum(axis=0))
    d_keys = w[:, :, None] * d_context  # the keys as values
    return d_scores, d_keys


# --8<-- [end:weighted_sum]


# --8<-- [start:additive_forward]
def additive_forward(query, keys, params, mask=None):
    """Additive attention (Bahdanau et al. 2015, eq. 6 and appendix A): e_j = vᵀ tanh(W_q q + W_k k_j).

    Args:
        query: (B, H_q), e.g. the decoder's previous state s_{i−1}.
        keys: (S, B, H_k), the encoder's states h_1 .. h_S.
        params: :class:`AdditiveParams`.
        mask: None (all positions real) or (S, B) boolean, True = a real position.

    Returns:
        context: c (B, H_k);
        weights: α (S, B), summing to 1 over the real positions, 0 on masked ones;
        cache: for :func:`additive_backward`.
    """
    dims = {}
    mask = _check(query, keys, mask, dims)
    _check_params(params, AdditiveParams, {"W_q": ("A", "H_q"), "W_k": ("A", "H_k"), "v": ("A",)}, dims)
    hidden = np.tanh(query @ params.W_q.T + keys @ params.W_k.T)  # (S, B, A): q broadcast over S
    weights = masked_softmax(hidden @ params.v, mask)
    return _context(weights, keys), weights, Cache(query, keys, weights, params, hidden)


# --8<-- [end:additive_forward]


# --8<-- [start:additive_backward]
def additive_backward(d_context, cache):
    """Backward pass of :func:`additive_forward`.

    With u_j = W_q q + W_k k_j and t_j = tanh(u_j):
    ∂L/∂t_j = ∂L/∂e_j v,  ∂L/∂u_j = ∂L/∂t_j ⊙ (1 − t_j²);
    W_q and q receive Σ_j ∂L/∂u_j (q is the same at every j), W_k and k_j each ∂L/∂u_j.

    Args:
        d_context: ∂L/∂c (B, H_k).
        cache: from :func:`additive_forward`.

    Returns:
        grads: :class:`AdditiveParams` of gradients;
        d_query: ∂L/∂q (B, H_q);
        d_keys: ∂L/∂keys (S, B, H_k), through the scores and through the average.
    """
    check_array("d_context", d_context, shape=cache.query.shape[:1] + cache.keys.shape[2:])
    params, t = cache.params, cache.score
    d_scores, d_keys = _context_backward(d_context, cache)
    d_u = d_scores[:, :, None] * params.v * (1 - t**2)  # (S, B, A)
    d_u_sum = d_u.sum(axis=0)  # (B, A): the query's share
    A, H_k = params.W_k.shape
    grads = AdditiveParams(
        W_q=d_u_sum.T @ cache.query,
        W_k=d_u.reshape(-1, A).T @ cache.keys.reshape(-1, H_k),
        v=np.einsum("sb,sba->a", d_scores, t),
    )
    d_keys += d_u @ params.W_k
    return grads, d_u_sum @ params.W_q, d_keys


# --8<-- [end:additive_backward]


# --8<-- [start:dot_forward]
def dot_forward(query, keys, params=None, mask=None):
    """Dot-product attention (Luong et al. 2015, eq. 8): e_j = qᵀ k_j, no weights (H_q = H_k).

    Same arguments and results as :func:`additive_forward`; ``params`` must be None.
    """
    if params is not None:
        raise TypeError(f"params: the dot score has no weights, expected None, got {type(params).__name__}")
    dims = {}
    mask = _check(query, keys, mask, dims)
    if dims["H_q"] != dims["H_k"]:
        raise ValueError(f"query: the dot score needs H_q = H_k, got H_q = {dims['H_q']}, H_k = {dims['H_k']}")
    weights = masked_softmax(np.einsum("bh,sbh->sb", query, keys), mask)
    return _context(weights, keys), weights, Cache(query, keys, weights, None, None)


# --8<-- [end:dot_forward]


def dot_backward(d_context, cache):
    """Backward pass of :func:`dot_forward`: returns ``(None, d_query, d_keys)``.

    e_j = qᵀ k_j, so ∂L/∂q = Σ_j ∂L/∂e_j k_j and k_j receives ∂L/∂e_j q.
    """
    check_array("d_context", d_context, shape=cache.query.shape[:1] + cache.keys.shape[2:])
    d_scores, d_keys = _context_backward(d_context, cache)
    d_query = np.einsum("sb,sbh->bh", d_scores, cache.keys)
    d_keys += d_scores[:, :, None] * cache.query
    return None, d_query, d_keys


# --8<-- [start:general_forward]
def general_forward(query, keys, params, mask=None):
    """ "General" attention (Luong et al. 2015, eq. 8): e_j = qᵀ W k_j.

    The dot score of the projected query q W (B, H_k). Same arguments and results
    as :func:`additive_forward`, with :class:`GeneralParams`.
    """
    dims = {}
    mask = _check(query, keys, mask, dims)
    _check_params(params, GeneralParams, {"W": ("H_q", "H_k")}, dims)
    projected = query @ params.W  # (B, H_k)
    weights = masked_softmax(np.einsum("bh,sbh->sb", projected, keys), mask)
    return _context(weights, keys), weights, Cache(query, keys, weights, params, projected)


# --8<-- [end:general_forward]


def general_backward(d_context, cache):
    """Backward pass of :func:`general_forward`: returns ``(grads, d_query, d_keys)``."""
    check_array("d_context", d_context, shape=cache.query.shape[:1] + cache.keys.shape[2:])
    d_scores, d_keys = _context_backward(d_context, cache)
    d_projected = np.einsum("sb,sbh->bh", d_scores, cache.keys)  # ∂L/∂(q W)
    d_keys += d_scores[:, :, None] * cache.score
    grads = GeneralParams(W=cache.query.T @ d_projected)
    return grads, d_projected @ cache.params.W.T, d_keys


SCORES = {
    "additive": (additive_forward, additive_backward),
    "dot": (dot_forward, dot_backward),
    "general": (general_forward, general_backward),
}
