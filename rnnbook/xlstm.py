"""xLSTM (Beck et al. 2024) in numpy: the sLSTM and the mLSTM with exponential gating.

Both cells keep the LSTM's additive memory c_t = f_t c_{t-1} + i_t z_t and change
the gates. The input gate becomes i_t = exp(ĩ_t), which can grow past 1 and so
overwrite an older memory; the forget gate is σ(f̃_t) or exp(f̃_t). A normaliser
state n_t = f_t n_{t-1} + i_t sums the gate values, and the output divides by it.
Exponentials overflow: a stabiliser state

    m_t = max(log f_t + m_{t-1}, log i_t),
    i'_t = exp(log i_t − m_t),   f'_t = exp(log f_t + m_{t-1} − m_t)

replaces i_t and f_t by gates ≤ 1. It scales c_t and n_t by the same factor
exp(−m_t), so h_t = o_t ⊙ c_t / n_t does not change, and no gradient flows through
m_t (the loss does not depend on it).

- sLSTM (:func:`slstm_forward`): vector memory, with recurrent weights R h_{t-1} in
  every gate (memory mixing), so it runs one step after the other.
- mLSTM (:func:`mlstm_recurrent`, :func:`mlstm_parallel`): a matrix memory
  C_t = f_t C_{t-1} + i_t v_t k_tᵀ read by a query q_t, gates that read x_t only,
  so all steps can be computed at once, like (linear) attention.

Shapes: inputs xs (T, B, D); sLSTM states (T, B, H); mLSTM queries and keys
(T, B, K), values (T, B, V), gate pre-activations (T, B). Heads are left out:
one head of the full width (the paper splits the state into several).

>>> import numpy as np
>>> from rnnbook.xlstm import init_slstm, slstm_forward
>>> p = init_slstm(3, 4, rng=0)
>>> hs, cache = slstm_forward(np.ones((5, 2, 3)), p)
>>> hs.shape
(5, 2, 4)
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnbook._validate import as_rng, check_array, check_choice, check_dtype, check_int, check_same_dtype
from rnnbook.cell import sigmoid

__all__ = [
    "FORGET_GATES",
    "log_forget",
    "SLSTMParams",
    "init_slstm",
    "slstm_forward",
    "slstm_backward",
    "mlstm_recurrent",
    "mlstm_parallel",
    "mlstm_parallel_backward",
    "MLSTMParams",
    "init_mlstm",
    "mlstm_forward",
    "mlstm_backward",
]

FORGET_GATES = ("sigmoid", "exp")


# --8<-- [start:log_forget]
def log_forget(f_pre, forget):
    """log f_t and its derivative d log f_t / d f̃_t, for f = σ(f̃) or f = exp(f̃).

    log σ(f̃) = −softplus(−f̃) is computed without forming σ(f̃), which would
    round to 0 for f̃ below about −745.

    >>> import numpy as np
    >>> from rnnbook.xlstm import log_forget
    >>> log_forget(np.array([0.0]), "sigmoid")
    (array([-0.69314718]), array([0.5]))
    """
    check_choice("forget", forget, FORGET_GATES)
    if forget == "exp":
        return f_pre, np.ones_like(f_pre)
    return -np.logaddexp(0, -f_pre), sigmoid(-f_pre)


# --8<-- [end:log_forget]


@dataclasses.dataclass(eq=False)
class _Arrays:
    def arrays(self):
        """The arrays as a dict, in field order (no copies)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclasses.dataclass(eq=False)
class SLSTMParams(_Arrays):
    """sLSTM weights, the four pre-activations stacked in the order z, i, f, o.

    Attributes:
        W: input weights (4H, D); R: recurrent weights (4H, H); b: biases (4H,).
    """

    W: np.ndarray
    R: np.ndarray
    b: np.ndarray


def init_slstm(input_size, hidden_size, rng=None, dtype=np.float64):
    """Random sLSTM weights, U(-1/√H, 1/√H) like PyTorch's LSTM.

    >>> from rnnbook.xlstm import init_slstm
    >>> init_slstm(3, 4, rng=0).R.shape
    (16, 4)
    """
    D = check_int("input_size", input_size, minimum=1)
    H = check_int("hidden_size", hidden_size, minimum=1)
    rng, dtype, k = as_rng(rng), check_dtype("dtype", dtype), 1 / np.sqrt(H)
    return SLSTMParams(*(rng.uniform(-k, k, s).astype(dtype) for s in ((4 * H, D), (4 * H, H), (4 * H,))))


def _check_xs(xs, dtype, dims):
    check_array("xs", xs, shape=("T", "B", "D"), dims=dims, dtype=dtype)
    if len(xs) == 0:
        raise ValueError("xs: expected at least one time step, got T = 0")


# --8<-- [start:slstm_forward]
def slstm_forward(xs, params, *, forget="exp"):
    """The sLSTM (Beck et al. 2024), stabilised, from zero states.

        z̃, ĩ, f̃, õ = W x_t + R h_{t-1} + b       (the four pre-activations)
        m_t = max(log f_t + m_{t-1}, ĩ_t)
        i'_t = exp(ĩ_t − m_t),  f'_t = exp(log f_t + m_{t-1} − m_t)
        c_t = f'_t c_{t-1} + i'_t tanh(z̃_t),   n_t = f'_t n_{t-1} + i'_t
        h_t = σ(õ_t) ⊙ c_t / n_t

    Args:
        xs: inputs (T, B, D).
        params: an :class:`SLSTMParams`.
        forget: "exp" (f = exp(f̃)) or "sigmoid" (f = σ(f̃)).

    Returns:
        hs: the outputs h_1 .. h_T (T, B, H); cache: a dict for :func:`slstm_backward`.
    """
    if not isinstance(params, SLSTMParams):
        raise TypeError(f"params: expected xlstm.SLSTMParams, got {type(params).__name__}")
    dims = {}
    check_array("params.W", params.W, shape=("G", "D"), dims=dims)
    check_array("params.R", params.R, shape=("G", "H"), dims=dims, dtype=params.W.dtype)
    check_array("params.b", params.b, shape=("G",), dims=dims, dtype=params.W.dtype)
    if dims["G"] != 4 * dims["H"]:
        raise ValueError(f"params.R: expected shape (4H, H), got {tuple(params.R.shape)}")
    _check_xs(xs, params.W.dtype, dims)
    check_choice("forget", forget, FORGET_GATES)
    T, B, _ = xs.shape
    H = dims["H"]
    h, c, n = (np.zeros((B, H), dtype=xs.dtype) for _ in range(3))
    m = np.full((B, H), -np.inf, dtype=xs.dtype)  # so that m_1 = ĩ_1, i'_1 = 1 and n_t ≥ 1
    keep = {k: np.empty((T, B, H), dtype=xs.dtype) for k in ("z", "o", "i_", "f_", "dlogf", "c", "n", "h")}
    x_proj = xs @ params.W.T + params.b  # (T, B, 4H), everything that does not need h
    for t in range(T):
        z_pre, i_pre, f_pre, o_pre = np.split(x_proj[t] + h @ params.R.T, 4, axis=1)
        log_f, keep["dlogf"][t] = log_forget(f_pre, forget)
        m_new = np.maximum(log_f + m, i_pre)
        i_, f_ = np.exp(i_pre - m_new), np.exp(log_f + m - m_new)  # both ≤ 1
        z, o = np.tanh(z_pre), sigmoid(o_pre)
        c = f_ * c + i_ * z
        n = f_ * n + i_
        h = o * c / n
        m = m_new
        for k, v in (("z", z), ("o", o), ("i_", i_), ("f_", f_), ("c", c), ("n", n), ("h", h)):
            keep[k][t] = v
    return keep["h"].copy(), {"params": params, "xs": xs, **keep}


# --8<-- [end:slstm_forward]


# --8<-- [start:slstm_backward]
def slstm_backward(dhs, cache):
    """Gradients of a loss through :func:`slstm_forward`, by backpropagation through time.

    The stabiliser m_t is held constant: h does not depend on it. Step t, from
    h = o c / n, c = f' c_prev + i' z, n = f' n_prev + i', i' = exp(ĩ − m),
    f' = exp(log f + m_prev − m):

        ∂c += ∂h o / n,   ∂n += −∂h o c / n²,   ∂o = ∂h c / n,
        ∂i' = ∂c z + ∂n,  ∂f' = ∂c c_prev + ∂n n_prev,  ∂z = ∂c i',
        ∂ĩ = ∂i' i',      ∂f̃ = ∂f' f' d(log f)/df̃,
        ∂c_prev = ∂c f',  ∂n_prev = ∂n f',  ∂h_prev = Rᵀ ∂(pre-activations).

    Returns:
        grads: an :class:`SLSTMParams` holding gradients; dxs: ∂L/∂x_t (T, B, D).
    """
    p, xs = cache["params"], cache["xs"]
    check_array("dhs", dhs, shape=cache["h"].shape, dtype=xs.dtype)
    T, B, H = dhs.shape
    d_pre = np.empty((T, B, 4 * H), dtype=xs.dtype)
    dh_next, dc, dn = (np.zeros((B, H), dtype=xs.dtype) for _ in range(3))
    zeros = np.zeros((B, H), dtype=xs.dtype)
    for t in reversed(range(T)):
        z, o, i_, f_, c, n = (cache[k][t] for k in ("z", "o", "i_", "f_", "c", "n"))
        c_prev = cache["c"][t - 1] if t else zeros
        n_prev = cache["n"][t - 1] if t else zeros
        dh = dhs[t] + dh_next
        do = dh * c / n
        dc = dc + dh * o / n
        dn = dn - dh * o * c / n**2
        di_, df_ = dc * z + dn, dc * c_prev + dn * n_prev
        d_pre[t] = np.concatenate(
            [dc * i_ * (1 - z**2), di_ * i_, df_ * f_ * cache["dlogf"][t], do * o * (1 - o)], axis=1
        )
        dc, dn = dc * f_, dn * f_
        dh_next = d_pre[t] @ p.R
    h_prev = np.concatenate([np.zeros((1, B, H), dtype=xs.dtype), cache["h"][:-1]])
    grads = SLSTMParams(
        W=np.einsum("tbg,tbd->gd", d_pre, xs),
        R=np.einsum("tbg,tbh->gh", d_pre, h_prev),
        b=d_pre.sum(axis=(0, 1)),
    )
    return grads, d_pre @ p.W


# --8<-- [end:slstm_backward]


def _check_mlstm(q, k, v, i_pre, f_pre, forget):
    dims = {}
    check_array("q", q, shape=("T", "B", "K"), dims=dims)
    for name, x, shape in (
        ("k", k, ("T", "B", "K")),
        ("v", v, ("T", "B", "V")),
        ("i_pre", i_pre, ("T", "B")),
        ("f_pre", f_pre, ("T", "B")),
    ):
        check_array(name, x, shape=shape, dims=dims, dtype=q.dtype)
    if dims["T"] == 0:
        raise ValueError("q: expected at least one time step, got T = 0")
    check_choice("forget", forget, FORGET_GATES)


# --8<-- [start:mlstm_recurrent]
def _exp_neg(m):
    """exp(−m_t), the bound 1 of the paper's max(|nᵀq|, 1) in units scaled by exp(−m_t).

    It is infinite when every gate so far is below exp(−709); the quotient is then
    0, the float64 value of the true output, and the overflow is not an error.
    """
    with np.errstate(over="ignore"):
        return np.exp(-m)


def mlstm_recurrent(q, k, v, i_pre, f_pre, *, forget="exp"):
    """The mLSTM memory read out step by step (Beck et al. 2024), stabilised.

        C_t = f'_t C_{t-1} + i'_t v_t k_tᵀ     (V, K) per sequence
        n_t = f'_t n_{t-1} + i'_t k_t          (K,)
        h̃_t = C_t q_t / max(|n_tᵀ q_t|, exp(−m_t))

    with i'_t, f'_t and m_t as in the sLSTM; exp(−m_t) is the paper's bound 1 in
    the scaled units. The gates are one number per step (and per head).

    Returns:
        h̃: (T, B, V).
    """
    _check_mlstm(q, k, v, i_pre, f_pre, forget)
    T, B, K = q.shape
    C = np.zeros((B, v.shape[2], K), dtype=q.dtype)
    n = np.zeros((B, K), dtype=q.dtype)
    m = np.full(B, -np.inf, dtype=q.dtype)  # m_1 = ĩ_1, as in the parallel form
    log_f, _ = log_forget(f_pre, forget)
    out = np.empty_like(v)
    for t in range(T):
        m_new = np.maximum(log_f[t] + m, i_pre[t])
        i_, f_ = np.exp(i_pre[t] - m_new), np.exp(log_f[t] + m - m_new)
        C = f_[:, None, None] * C + i_[:, None, None] * v[t][:, :, None] * k[t][:, None, :]
        n = f_[:, None] * n + i_[:, None] * k[t]
        m = m_new
        denominator = np.maximum(np.abs(np.sum(n * q[t], axis=1)), _exp_neg(m))
        out[t] = np.einsum("bvk,bk->bv", C, q[t]) / denominator[:, None]
    return out


# --8<-- [end:mlstm_recurrent]


# --8<-- [start:mlstm_parallel]
def mlstm_parallel(q, k, v, i_pre, f_pre, *, forget="exp"):
    """The same h̃ as :func:`mlstm_recurrent`, every step at once (Beck et al. 2024, appendix).

    Unrolling C_t gives C_t q_t = Σ_{s≤t} (F_t / F_s) i_s v_s (k_sᵀ q_t), with
    F_t = f_1 ⋯ f_t: attention with weights q_tᵀ k_s times a decay matrix

        D̃_ts = log F_t − log F_s + ĩ_s  (s ≤ t),   m_t = max_s D̃_ts,   D'_ts = exp(D̃_ts − m_t)
        C̃ = (Q Kᵀ) ⊙ D',   n_t = max(|Σ_s C̃_ts|, exp(−m_t)),   h̃_t = Σ_s C̃_ts v_s / n_t.

    Work O(T²) per sequence, depth O(1) in T.

    Returns:
        h̃: (T, B, V); cache: a dict for :func:`mlstm_parallel_backward`.
    """
    _check_mlstm(q, k, v, i_pre, f_pre, forget)
    T = len(q)
    log_f, dlogf = log_forget(f_pre, forget)
    log_F = np.cumsum(log_f, axis=0).T  # (B, T)
    causal = np.tril(np.ones((T, T), dtype=bool))
    D_log = log_F[:, :, None] - log_F[:, None, :] + i_pre.T[:, None, :]  # (B, T, S)
    D_log = np.where(causal, D_log, -np.inf)
    m = D_log.max(axis=2)  # (B, T)
    D = np.exp(D_log - m[:, :, None])  # 0 above the diagonal
    S = np.einsum("tbk,sbk->bts", q, k)
    Ct = S * D
    total = Ct.sum(axis=2)
    bound = _exp_neg(m)
    n = np.maximum(np.abs(total), bound)
    num = np.einsum("bts,sbv->btv", Ct, v)
    h = (num / n[:, :, None]).transpose(1, 0, 2)
    cache = {
        "q": q,
        "k": k,
        "v": v,
        "D": D,
        "S": S,
        "Ct": Ct,
        "total": total,
        "n": n,
        "bound": bound,
        "num": num,
        "dlogf": dlogf,
    }
    return h, cache


# --8<-- [end:mlstm_parallel]


# --8<-- [start:mlstm_backward]
def mlstm_parallel_backward(dh, cache):
    """Gradients through :func:`mlstm_parallel`, with m_t held constant (h̃ does not depend on it).

        ∂num_t = ∂h̃_t / n_t,   ∂n_t = −∂h̃_t · num_t / n_t²   (to Σ_s C̃_ts when |Σ_s C̃_ts| wins)
        ∂C̃_ts = ∂num_t · v_s + ∂(Σ C̃)_t,   ∂S = ∂C̃ ⊙ D',   ∂D̃ = ∂C̃ ⊙ S ⊙ D'
        ∂ĩ_s = Σ_t ∂D̃_ts,   ∂ log F_t = Σ_s ∂D̃_ts − Σ_t' ∂D̃_t't,   ∂ log f_j = Σ_{t≥j} ∂ log F_t.

    Returns:
        dq, dk, dv, di_pre, df_pre.
    """
    q, k, v = cache["q"], cache["k"], cache["v"]
    check_array("dh", dh, shape=v.shape, dtype=v.dtype)
    g = dh.transpose(1, 0, 2)  # (B, T, V)
    n = cache["n"]
    d_num = g / n[:, :, None]
    d_n = -np.sum(g * cache["num"], axis=2) / n**2
    d_total = np.where(np.abs(cache["total"]) >= cache["bound"], d_n * np.sign(cache["total"]), 0)
    dCt = np.einsum("btv,sbv->bts", d_num, v) + d_total[:, :, None]
    dv = np.einsum("bts,btv->sbv", cache["Ct"], d_num)
    dS = dCt * cache["D"]
    dD_log = dCt * cache["S"] * cache["D"]
    dq = np.einsum("bts,sbk->tbk", dS, k)
    dk = np.einsum("bts,tbk->sbk", dS, q)
    di = dD_log.sum(axis=1).T  # (T, B)
    d_log_F = dD_log.sum(axis=2) - dD_log.sum(axis=1)  # (B, T)
    d_log_f = np.cumsum(d_log_F[:, ::-1], axis=1)[:, ::-1].T
    return dq, dk, dv, di, d_log_f * cache["dlogf"]


# --8<-- [end:mlstm_backward]


@dataclasses.dataclass(eq=False)
class MLSTMParams(_Arrays):
    """mLSTM layer weights (one head): projections of x_t to the query, key, value and gates.

    Attributes:
        W_q, W_k, W_v: (K, D), (K, D), (V, D); w_i, w_f: gate weights (D,);
        b_i, b_f: gate biases (shape (1,)); W_o, b_o: output gate (V, D), (V,).
    """

    W_q: np.ndarray
    W_k: np.ndarray
    W_v: np.ndarray
    w_i: np.ndarray
    b_i: np.ndarray
    w_f: np.ndarray
    b_f: np.ndarray
    W_o: np.ndarray
    b_o: np.ndarray


def init_mlstm(input_size, key_size, value_size, rng=None, dtype=np.float64):
    """Random mLSTM weights, U(-1/√D, 1/√D); the forget bias starts at 3 (remember by default).

    >>> from rnnbook.xlstm import init_mlstm
    >>> init_mlstm(3, 4, 5, rng=0).W_v.shape
    (5, 3)
    """
    D = check_int("input_size", input_size, minimum=1)
    K = check_int("key_size", key_size, minimum=1)
    V = check_int("value_size", value_size, minimum=1)
    rng, dtype, s = as_rng(rng), check_dtype("dtype", dtype), 1 / np.sqrt(D)
    shapes = {
        "W_q": (K, D),
        "W_k": (K, D),
        "W_v": (V, D),
        "w_i": (D,),
        "b_i": (1,),
        "w_f": (D,),
        "b_f": (1,),
        "W_o": (V, D),
        "b_o": (V,),
    }
    arrays = {name: rng.uniform(-s, s, shape).astype(dtype) for name, shape in shapes.items()}
    arrays["b_f"] += 3
    return MLSTMParams(**arrays)


# --8<-- [start:mlstm_forward]
def mlstm_forward(xs, params, *, forget="exp", mode="parallel"):
    """An mLSTM layer: projections, then the memory (Beck et al. 2024, eqs. for the mLSTM).

        q_t = W_q x_t,  k_t = W_k x_t / √K,  v_t = W_v x_t,
        ĩ_t = w_iᵀ x_t + b_i,  f̃_t = w_fᵀ x_t + b_f,  o_t = σ(W_o x_t + b_o),
        h_t = o_t ⊙ h̃_t.

    The key is scaled by 1/√K, K its size (the d of the paper's equations), as in
    the authors' reference code (NX-AI/xlstm, ``xlstm/blocks/mlstm/backends.py``,
    ``k / sqrt(DH)``); secondary sources place it in the paper's key input, §2.3,
    which we could not check in the paper itself. Biases of the query, key and
    value are left out.

    Returns:
        hs: (T, B, V); cache for :func:`mlstm_backward`.
    """
    if not isinstance(params, MLSTMParams):
        raise TypeError(f"params: expected xlstm.MLSTMParams, got {type(params).__name__}")
    check_choice("mode", mode, ("parallel", "recurrent"))
    dims = {}
    for name, a in params.arrays().items():
        shape = {
            "W_q": ("K", "D"),
            "W_k": ("K", "D"),
            "W_v": ("V", "D"),
            "W_o": ("V", "D"),
            "b_o": ("V",),
            "b_i": (1,),
            "b_f": (1,),
        }.get(name, ("D",))
        check_array(f"params.{name}", a, shape=shape, dims=dims)
    check_same_dtype(**{f"params.{n}": a for n, a in params.arrays().items()})
    _check_xs(xs, params.W_q.dtype, dims)
    p = params
    q, k, v = xs @ p.W_q.T, xs @ p.W_k.T / np.sqrt(dims["K"]), xs @ p.W_v.T
    i_pre, f_pre = xs @ p.w_i + p.b_i, xs @ p.w_f + p.b_f
    o = sigmoid(xs @ p.W_o.T + p.b_o)
    if mode == "recurrent":
        return o * mlstm_recurrent(q, k, v, i_pre, f_pre, forget=forget), None
    h_tilde, core = mlstm_parallel(q, k, v, i_pre, f_pre, forget=forget)
    return o * h_tilde, {"params": p, "xs": xs, "o": o, "h_tilde": h_tilde, "core": core}


# --8<-- [end:mlstm_forward]


def mlstm_backward(dhs, cache):
    """Gradients of a loss through :func:`mlstm_forward` (mode="parallel").

    Returns:
        grads: an :class:`MLSTMParams` holding gradients; dxs: ∂L/∂x_t (T, B, D).
    """
    if cache is None:
        raise ValueError("cache: expected the cache of mlstm_forward(..., mode='parallel'), got None")
    p, xs, o = cache["params"], cache["xs"], cache["o"]
    check_array("dhs", dhs, shape=o.shape, dtype=o.dtype)
    d_o_pre = dhs * cache["h_tilde"] * o * (1 - o)
    dq, dk, dv, di, df = mlstm_parallel_backward(dhs * o, cache["core"])
    dk = dk / np.sqrt(p.W_k.shape[0])
    grads = MLSTMParams(
        W_q=np.einsum("tbk,tbd->kd", dq, xs),
        W_k=np.einsum("tbk,tbd->kd", dk, xs),
        W_v=np.einsum("tbv,tbd->vd", dv, xs),
        w_i=np.einsum("tb,tbd->d", di, xs),
        b_i=di.sum(keepdims=True).reshape(1),
        w_f=np.einsum("tb,tbd->d", df, xs),
        b_f=df.sum(keepdims=True).reshape(1),
        W_o=np.einsum("tbv,tbd->vd", d_o_pre, xs),
        b_o=d_o_pre.sum(axis=(0, 1)),
    )
    dxs = dq @ p.W_q + dk @ p.W_k + dv @ p.W_v + di[..., None] * p.w_i + df[..., None] * p.w_f
    return grads, dxs + d_o_pre @ p.W_o
