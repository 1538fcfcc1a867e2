"""Causal linear attention (Katharopoulos et al. 2020): a Transformer layer that is an RNN.

Softmax attention weighs the values v_s by exp(q_t · k_s). Replace the exponential
by a product of features, sim(q, k) = φ(q) · φ(k) with φ(x) = elu(x) + 1 > 0, and
the output at step t becomes

    y_t = Σ_{s≤t} (φ(q_t) · φ(k_s)) v_s / Σ_{s≤t} φ(q_t) · φ(k_s)
        = S_t^T φ(q_t) / (z_t · φ(q_t)),   S_t = Σ_{s≤t} φ(k_s) v_s^T,  z_t = Σ_{s≤t} φ(k_s).

Computed as written on the first line (:func:`parallel`) it costs O(T²) and needs the
whole sequence; computed with the running sums (:func:`recurrent`) it is an RNN with
a matrix state S_t (Dk, Dv) and a vector z_t (Dk,): S_t = S_{t-1} + φ(k_t) v_t^T,
z_t = z_{t-1} + φ(k_t), O(1) per generated token.

Shapes: queries and keys (T, B, Dk), values (T, B, Dv), outputs (T, B, Dv).

>>> import numpy as np
>>> from rnnbook.linear_attention import parallel, recurrent
>>> rng = np.random.default_rng(0)
>>> q, k, v = rng.standard_normal((3, 6, 2, 4))
>>> bool(np.allclose(parallel(q, k, v), recurrent(q, k, v)))
True
"""

from __future__ import annotations

import numpy as np

from rnnbook._validate import check_array, check_same_dtype

__all__ = ["feature_map", "parallel", "recurrent"]


# --8<-- [start:feature_map]
def feature_map(x):
    """φ(x) = elu(x) + 1: x + 1 for x > 0, exp(x) otherwise; always > 0.

    >>> import numpy as np
    >>> from rnnbook.linear_attention import feature_map
    >>> feature_map(np.array([-1.0, 0.0, 2.0]))
    array([0.36787944, 1.        , 3.        ])
    """
    return np.where(x > 0, x + 1, np.exp(np.minimum(x, 0)))


# --8<-- [end:feature_map]


def _check(q, k, v):
    dims = {}
    check_array("q", q, shape=("T", "B", "Dk"), dims=dims)
    check_array("k", k, shape=("T", "B", "Dk"), dims=dims)
    check_array("v", v, shape=("T", "B", "Dv"), dims=dims)
    check_same_dtype(q=q, k=k, v=v)


# --8<-- [start:parallel]
def parallel(q, k, v):
    """The quadratic form: all T × T similarities at once, masked to s ≤ t.

    A[b, t, s] = φ(q_t) · φ(k_s) for s ≤ t, 0 after; y_t = Σ_s A[t, s] v_s / Σ_s A[t, s].
    Work O(T² (Dk + Dv)) per sequence, depth O(1) in T: what a GPU trains with.
    """
    _check(q, k, v)
    T = len(q)
    A = np.einsum("tbd,sbd->bts", feature_map(q), feature_map(k))  # (B, T, T)
    A *= np.tril(np.ones((T, T), dtype=q.dtype))  # causal: step t sees s ≤ t
    y = np.einsum("bts,sbd->tbd", A, v)  # (T, B, Dv)
    return y / A.sum(axis=2).T[:, :, None]


# --8<-- [end:parallel]


# --8<-- [start:recurrent]
def recurrent(q, k, v):
    """The RNN form: a matrix state S_t = S_{t-1} + φ(k_t) v_t^T and z_t = z_{t-1} + φ(k_t).

    y_t = S_t^T φ(q_t) / (z_t · φ(q_t)). Work O(T Dk Dv), memory O(Dk Dv) whatever T.
    """
    _check(q, k, v)
    T, B, Dk = q.shape
    S = np.zeros((B, Dk, v.shape[2]), dtype=q.dtype)
    z = np.zeros((B, Dk), dtype=q.dtype)
    ys = np.empty_like(v)
    for t in range(T):
        phi_q, phi_k = feature_map(q[t]), feature_map(k[t])
        S += phi_k[:, :, None] * v[t][:, None, :]  # outer product φ(k_t) v_t^T per sequence
        z += phi_k
        ys[t] = np.einsum("bkv,bk->bv", S, phi_q) / np.sum(z * phi_q, axis=1, keepdims=True)
    return ys


# --8<-- [end:recurrent]
