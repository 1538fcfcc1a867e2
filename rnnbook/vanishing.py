"""The vanishing and exploding gradient, measured.

Chapter 3. Backpropagation through time multiplies the error by one Jacobian
per step. For the Elman network h_t = f(a_t), a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh:

    ∂h_T/∂h_t = Π_{k=t+1..T} ∂h_k/∂h_{k-1} = Π_{k=t+1..T} diag(f'(a_k)) W_hh,

so the gradient reaching lag τ = T - t is a product of τ matrices, and its
norm tends to shrink or grow geometrically with τ (Hochreiter 1991; Bengio,
Simard & Frasconi 1994; Pascanu, Mikolov & Bengio 2013).

Here the Jacobians are computed explicitly, one matrix per step, for one
sequence (batch B = 1): xs is (T, D) and the state is h (H,), or (h, c) for
the LSTM. Each example of a batch has its own Jacobians; one is enough to see
the effect. Models are the modules :mod:`rnnbook.rnn`, :mod:`rnnbook.lstm`
and :mod:`rnnbook.gru` with their ``Params`` (PyTorch layouts and gate orders).

>>> import numpy as np
>>> from rnnbook.vanishing import hidden_gradient_norms
>>> from rnnbook import rnn
>>> params = rnn.init(2, 8, rng=0)
>>> norms = hidden_gradient_norms(rnn, params, np.zeros((20, 2)))
>>> norms.shape, float(norms[0])  # lag 0: ∂h_T/∂h_T = I
((21,), 1.0)
"""

from __future__ import annotations

import numpy as np

from rnnbook import lstm, rnn
from rnnbook._validate import as_rng, check_array, check_choice, check_float, check_int
from rnnbook.cell import sigmoid

GAMMA = {"tanh": 1.0, "sigmoid": 0.25}
"""γ, the largest value of f' (Pascanu et al. 2013): tanh'(0) = 1, σ'(0) = 1/4."""


# --8<-- [start:rnn_jacobian]
def rnn_jacobian(x, h, params, activation="tanh"):
    """One Elman step and its Jacobian ∂h_t/∂h_{t-1} = diag(f'(a_t)) W_hh.

    h_t = f(a_t), a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh, with f = tanh
    (``rnnbook.rnn``, ``torch.nn.RNN``) or f = σ (the logistic sigmoid, for the
    chapter's comparison): tanh' = 1 - h², σ' = h (1 - h).

    Args:
        x: input (D,).
        h: previous hidden state h_{t-1} (H,).
        params: ``rnn.Params``, W_ih (H, D), W_hh (H, H), b_ih, b_hh (H,).
        activation: ``"tanh"`` or ``"sigmoid"``.

    Returns:
        h: the new state h_t (H,).
        J: the Jacobian (H, H), J[i, j] = ∂h_t[i]/∂h_{t-1}[j].
    """
    a = params.W_ih @ x + params.b_ih + params.W_hh @ h + params.b_hh
    if activation == "tanh":
        h = np.tanh(a)
        df = 1 - h**2
    else:
        h = sigmoid(a)
        df = h * (1 - h)
    J = df[:, None] * params.W_hh  # diag(f'(a)) @ W_hh
    return h, J


# --8<-- [end:rnn_jacobian]


def lstm_jacobian(x, state, params):
    """One LSTM step and the Jacobian of its state s_t = (h_t, c_t) on s_{t-1}.

    With gates i, f, o = σ(·), candidate g = tanh(·) (PyTorch order i, f, g, o),
    c_t = f ⊙ c_{t-1} + i ⊙ g and h_t = o ⊙ tanh(c_t), the blocks are

        ∂c_t/∂c_{t-1} = diag(f)                          (the cell path)
        ∂c_t/∂h_{t-1} = diag(c_{t-1}) F + diag(g) I + diag(i) G
        ∂h_t/∂c_{t-1} = diag(o ⊙ (1 - tanh²c_t)) diag(f)
        ∂h_t/∂h_{t-1} = diag(tanh c_t) O + diag(o ⊙ (1 - tanh²c_t)) ∂c_t/∂h_{t-1}

    where I = diag(i(1 - i)) W_hi, F = diag(f(1 - f)) W_hf, G = diag(1 - g²) W_hg,
    O = diag(o(1 - o)) W_ho are the gates' Jacobians on h_{t-1}, and W_hi, W_hf,
    W_hg, W_ho are the four (H, H) blocks of W_hh.

    Args:
        x: input (D,).
        state: (h, c), each (H,).
        params: ``lstm.Params``, W_ih (4H, D), W_hh (4H, H), b_ih, b_hh (4H,).

    Returns:
        state: the new (h, c).
        J: the Jacobian (2H, 2H) of (h_t, c_t) on (h_{t-1}, c_{t-1}), h first.
    """
    h, c = state
    H = h.shape[0]
    a = params.W_ih @ x + params.b_ih + params.W_hh @ h + params.b_hh
    i, f = sigmoid(a[:H]), sigmoid(a[H : 2 * H])
    g, o = np.tanh(a[2 * H : 3 * H]), sigmoid(a[3 * H :])
    c_new = f * c + i * g
    tanh_c = np.tanh(c_new)
    h_new = o * tanh_c

    W_hi, W_hf, W_hg, W_ho = np.split(params.W_hh, 4)
    I = (i * (1 - i))[:, None] * W_hi
    F = (f * (1 - f))[:, None] * W_hf
    G = (1 - g**2)[:, None] * W_hg
    O = (o * (1 - o))[:, None] * W_ho
    dc_dc = np.diag(f)
    dc_dh = c[:, None] * F + g[:, None] * I + i[:, None] * G
    dh_dc = (o * (1 - tanh_c**2))[:, None] * dc_dc
    dh_dh = tanh_c[:, None] * O + (o * (1 - tanh_c**2))[:, None] * dc_dh
    J = np.block([[dh_dh, dh_dc], [dc_dh, dc_dc]])
    return (h_new, c_new), J


# --8<-- [start:gru_jacobian]
def gru_jacobian(x, h, params):
    """One GRU step and its Jacobian ∂h_t/∂h_{t-1}, with PyTorch's equations.

    r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h_t = (1 - z) ⊙ n + z ⊙ h, so

        ∂h_t/∂h_{t-1} = diag(z) + diag(1 - z) N + diag(h_{t-1} - n) Z,

    with R = diag(r(1 - r)) W_hr, Z = diag(z(1 - z)) W_hz and
    N = diag(1 - n²) (diag(r) W_hn + diag(W_hn h + b_hn) R).

    Args:
        x: input (D,).
        h: previous hidden state (H,).
        params: ``gru.Params``, W_ih (3H, D), W_hh (3H, H), b_ih, b_hh (3H,).

    Returns:
        h: the new state (H,).
        J: the Jacobian (H, H).
    """
    H = h.shape[0]
    a_x = params.W_ih @ x + params.b_ih  # (3H,): the input's part of r, z, n
    a_h = params.W_hh @ h + params.b_hh  # (3H,): the state's part
    r = sigmoid(a_x[:H] + a_h[:H])
    z = sigmoid(a_x[H : 2 * H] + a_h[H : 2 * H])
    n = np.tanh(a_x[2 * H :] + r * a_h[2 * H :])
    h_new = (1 - z) * n + z * h

    W_hr, W_hz, W_hn = np.split(params.W_hh, 3)
    R = (r * (1 - r))[:, None] * W_hr
    Z = (z * (1 - z))[:, None] * W_hz
    N = (1 - n**2)[:, None] * (r[:, None] * W_hn + a_h[2 * H :, None] * R)
    J = np.diag(z) + (1 - z)[:, None] * N + (h - n)[:, None] * Z
    return h_new, J


# --8<-- [end:gru_jacobian]


def _model_name(model):
    """'rnn', 'lstm' or 'gru' for the module ``rnnbook.rnn``, ``.lstm`` or ``.gru``."""
    name = getattr(model, "__name__", repr(model)).rsplit(".", 1)[-1]
    return check_choice("model", name, ("rnn", "lstm", "gru"))


def state_jacobians(model, params, xs, state=None, activation="tanh"):
    """The state Jacobians J_t = ∂s_t/∂s_{t-1} along one trajectory, t = 1..T.

    The state s is h for the RNN and the GRU, and (h, c) stacked for the LSTM.

    Args:
        model: the module ``rnnbook.rnn``, ``rnnbook.lstm`` or ``rnnbook.gru``.
        params: its ``Params``.
        xs: one input sequence (T, D).
        state: the initial state, h0 (H,) or (h0, c0) for the LSTM; None for zeros.
        activation: for the RNN only, ``"tanh"`` or ``"sigmoid"``.

    Returns:
        Js: (T, S, S) with S = H (RNN, GRU) or 2H (LSTM); Js[t - 1] is J_t.
    """
    name = _model_name(model)
    check_choice("activation", activation, tuple(GAMMA))
    dims = {"H": params.W_hh.shape[1]}
    check_array("xs", xs, shape=("T", "D"), dims=dims)
    H = dims["H"]
    if state is None:
        state = (np.zeros(H, xs.dtype), np.zeros(H, xs.dtype)) if name == "lstm" else np.zeros(H, xs.dtype)
    Js = []
    for x in xs:
        if name == "rnn":
            state, J = rnn_jacobian(x, state, params, activation)
        elif name == "lstm":
            state, J = lstm_jacobian(x, state, params)
        else:
            state, J = gru_jacobian(x, state, params)
        Js.append(J)
    return np.stack(Js)


# --8<-- [start:hidden_gradient_norms]
def hidden_gradient_norms(model, params, xs, state=None, activation="tanh"):
    """‖∂h_T/∂h_{T-τ}‖₂ for every lag τ = 0, 1, ..., T.

    ∂s_T/∂s_{T-τ} = J_T J_{T-1} ... J_{T-τ+1} (the product of the state
    Jacobians, ``state_jacobians``); for the LSTM ∂h_T/∂h_{T-τ} is its (h, h)
    block, which counts every path from h_{T-τ} to h_T, also those through the
    cells. The norm is the spectral norm (largest singular value): the largest
    factor by which a perturbation of h_{T-τ} can grow by step T.

    Arguments as ``state_jacobians``. Returns norms (T + 1,), norms[0] = 1.
    """
    Js = state_jacobians(model, params, xs, state, activation)
    T, H = len(Js), params.W_hh.shape[1]
    P = np.eye(Js.shape[1])
    norms = [1.0]
    for lag in range(1, T + 1):
        P = P @ Js[T - lag]  # with τ = lag, ∂s_T/∂s_{T-τ} = ∂s_T/∂s_{T-τ+1} · J_{T-τ+1}
        norms.append(np.linalg.norm(P[:H, :H], 2))
    return np.array(norms)


# --8<-- [end:hidden_gradient_norms]


def loss_gradient_norms(model, params, xs, dh_last, state=None, activation="tanh"):
    """‖∂L/∂h_{T-τ}‖ for every lag τ = 0, ..., T, for a loss L on the last step.

    The row vector δ_T = ∂L/∂s_T (with ∂L/∂c_T = 0 for the LSTM: the loss sees
    h_T only) is carried back one Jacobian at a time,
    δ_{t-1} = δ_t J_t — exactly what BPTT does — and the norm of its h part is
    recorded at every lag.

    Args: as ``state_jacobians``, and
        dh_last: ∂L/∂h_T (H,), e.g. from the output layer's backward.

    Returns:
        norms: (T + 1,), norms[τ] = ‖∂L/∂h_{T-τ}‖.
    """
    Js = state_jacobians(model, params, xs, state, activation)
    T, H = len(Js), params.W_hh.shape[1]
    check_array("dh_last", dh_last, shape=(H,))
    delta = np.zeros(Js.shape[1])
    delta[:H] = dh_last
    norms = [np.linalg.norm(delta[:H])]
    for lag in range(1, T + 1):
        delta = delta @ Js[T - lag]
        norms.append(np.linalg.norm(delta[:H]))
    return np.array(norms)


# --8<-- [start:cell_path_norms]
def cell_path_norms(params, xs, state=None, path="carousel"):
    """‖∂c_T/∂c_{T-τ}‖₂ through the LSTM's cells, for τ = 0, ..., T.

    With ``path="carousel"`` only the direct cell-to-cell path is followed,
    c_{t-1} → c_t with the factor ∂c_t/∂c_{t-1} = diag(f_t) (the (c, c) block
    of ``lstm_jacobian``): the product is Π_k diag(f_k), and its norm is
    max_j Π_k f_k[j]. This is the constant error carousel of Hochreiter &
    Schmidhuber (1997), which had no forget gate (f = 1, the error carried
    unchanged); with the forget gate of Gers et al. (2000) it decays only as
    fast as the gates choose. Not included: every path that leaves the cells,
    c → h → gates → c, through W_hh.

    With ``path="full"`` the (c, c) block of the full product of the state
    Jacobians is used instead, which includes those paths too.

    Args:
        params: ``lstm.Params``.
        xs: one input sequence (T, D).
        state: (h0, c0), each (H,), or None for zeros.
        path: ``"carousel"`` or ``"full"``.

    Returns:
        norms: (T + 1,), norms[0] = 1.
    """
    check_choice("path", path, ("carousel", "full"))
    Js = state_jacobians(lstm, params, xs, state)
    T, H = len(Js), params.W_hh.shape[1]
    if path == "carousel":
        Js = Js[:, H:, H:]  # keep only ∂c_t/∂c_{t-1} = diag(f_t)
    P = np.eye(Js.shape[1])
    norms = [1.0]
    for lag in range(1, T + 1):
        P = P @ Js[T - lag]
        norms.append(np.linalg.norm(P[-H:, -H:], 2))
    return np.array(norms)


# --8<-- [end:cell_path_norms]


# --8<-- [start:spectral_norm]
def spectral_norm(W):
    """The spectral norm ‖W‖₂: the largest singular value of W.

    >>> import numpy as np
    >>> from rnnbook.vanishing import spectral_norm
    >>> spectral_norm(np.array([[0.0, 2.0], [0.0, 0.0]]))
    2.0
    """
    check_array("W", W, shape=("M", "N"))
    return float(np.linalg.norm(W, 2))


# --8<-- [end:spectral_norm]


def spectral_radius(W):
    """The spectral radius ρ(W): the largest absolute value of W's eigenvalues (W square).

    ρ(W) ≤ ‖W‖₂, with equality for a normal (e.g. symmetric or orthogonal) matrix.

    >>> import numpy as np
    >>> from rnnbook.vanishing import spectral_radius
    >>> spectral_radius(np.array([[0.0, 2.0], [0.0, 0.0]]))  # nilpotent: ρ = 0 < ‖W‖₂ = 2
    0.0
    """
    check_array("W", W, shape=("H", "H"))
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def scale_to_spectral_norm(W, s):
    """W rescaled so that its spectral norm is s: W · s / ‖W‖₂.

    >>> import numpy as np
    >>> from rnnbook.vanishing import scale_to_spectral_norm, spectral_norm
    >>> W = scale_to_spectral_norm(np.random.default_rng(0).standard_normal((5, 5)), 0.9)
    >>> round(spectral_norm(W), 12)
    0.9
    """
    s = check_float("s", s, minimum=0)
    return W * (s / spectral_norm(W))


# --8<-- [start:init]
def orthogonal(n, rng=None, gain=1.0, dtype=np.float64):
    """A random orthogonal matrix (n, n) times ``gain``: every singular value equals gain.

    The Q of the QR decomposition of a Gaussian matrix, with the signs of R's
    diagonal moved into Q so that Q is uniformly distributed (as
    ``torch.nn.init.orthogonal_`` does).

    >>> import numpy as np
    >>> from rnnbook.vanishing import orthogonal
    >>> Q = orthogonal(4, rng=0)
    >>> bool(np.allclose(Q.T @ Q, np.eye(4)))
    True
    """
    n = check_int("n", n, minimum=1)
    gain = check_float("gain", gain)
    Q, R = np.linalg.qr(as_rng(rng).standard_normal((n, n)))
    Q = Q * np.sign(np.diag(R))
    return (gain * Q).astype(dtype)


def identity(n, gain=1.0, dtype=np.float64):
    """gain · I (n, n): the recurrent matrix of the IRNN of Le, Jaitly & Hinton (2015),
    a ReLU RNN with W_hh = I (or a scaled I) and zero biases.

    >>> from rnnbook.vanishing import identity
    >>> identity(2, gain=0.5)
    array([[0.5, 0. ],
           [0. , 0.5]])
    """
    n = check_int("n", n, minimum=1)
    gain = check_float("gain", gain)
    return gain * np.eye(n, dtype=dtype)


# --8<-- [end:init]


# --8<-- [start:pascanu_bound]
def pascanu_bound(W_hh, lags, activation="tanh"):
    """The per-step bound η = γ ‖W_hh‖₂ and the geometric bound η^τ, Pascanu et al. (2013) §2.1.

    For the Elman step, ‖∂h_t/∂h_{t-1}‖ = ‖diag(f'(a_t)) W_hh‖ ≤ γ λ1 = η, where
    λ1 = ‖W_hh‖₂ is the largest singular value and γ bounds |f'| (1 for tanh,
    1/4 for the sigmoid). Hence ‖∂h_T/∂h_{T-τ}‖ ≤ η^τ, for every trajectory.

    * λ1 < 1/γ (η < 1) is *sufficient* for vanishing: the bound goes to 0
      geometrically in τ, whatever the inputs.
    * λ1 > 1/γ (η > 1) is *necessary* for exploding, not sufficient: the bound
      then grows, but the norms themselves may still vanish, e.g. when the
      units saturate and f' ≈ 0.

    The paper's final version says "largest singular value"; the first arXiv
    version said "largest eigenvalue", which does not bound the norm.

    Args:
        W_hh: the recurrent weights (H, H).
        lags: an array of lags τ.
        activation: ``"tanh"`` or ``"sigmoid"``.

    Returns:
        eta: γ ‖W_hh‖₂, a float.
        bound: η ** lags.

    >>> import numpy as np
    >>> from rnnbook.vanishing import pascanu_bound, identity
    >>> eta, bound = pascanu_bound(identity(3, gain=2.0), np.arange(4), "sigmoid")
    >>> eta, bound
    (0.5, array([1.   , 0.5  , 0.25 , 0.125]))
    """
    gamma = GAMMA[check_choice("activation", activation, tuple(GAMMA))]
    eta = gamma * spectral_norm(W_hh)
    return eta, eta ** np.asarray(lags, dtype=float)


# --8<-- [end:pascanu_bound]


DEFAULT_SPECTRAL_NORMS = {"tanh": (0.5, 0.9, 1.0, 1.5, 3.0), "sigmoid": (2.0, 3.6, 4.0, 6.0, 12.0)}


def norms_vs_lag(activation="tanh", spectral_norms=None, T=60, H=32, D=4, seed=0):
    """Data for the chapter's figure: ‖∂h_T/∂h_{T-τ}‖ against the lag τ for several ‖W_hh‖₂.

    One Elman network (tanh, or the sigmoid variant of ``rnn_jacobian``) with
    PyTorch's initialisation for W_ih and the biases, and W_hh a Gaussian matrix
    rescaled to each spectral norm in turn; one input sequence x_t ~ N(0, 1).
    Everything is drawn from ``seed``, so the figure is reproducible.

    Args:
        activation: ``"tanh"`` or ``"sigmoid"``.
        spectral_norms: the values of ‖W_hh‖₂, or None for the defaults of
            ``DEFAULT_SPECTRAL_NORMS`` (around 1/γ: 1 for tanh, 4 for the sigmoid).
        T, H, D: sequence length, hidden units, inputs.
        seed: the random seed.

    Returns:
        A dict with ``lags`` (T + 1,), ``spectral_norms`` (S,), ``norms`` (S, T + 1)
        measured and ``bounds`` (S, T + 1) = η^τ from ``pascanu_bound``.

    >>> import numpy as np
    >>> from rnnbook.vanishing import norms_vs_lag
    >>> data = norms_vs_lag("sigmoid", spectral_norms=(2.0,), T=10)
    >>> bool(np.all(data["norms"] <= data["bounds"] + 1e-12))
    True
    """
    check_choice("activation", activation, tuple(GAMMA))
    if spectral_norms is None:
        spectral_norms = DEFAULT_SPECTRAL_NORMS[activation]
    rng = as_rng(seed)
    params = rnn.init(D, H, rng=rng)
    W = rng.standard_normal((H, H))
    xs = rng.standard_normal((T, D))
    lags = np.arange(T + 1)
    norms, bounds = [], []
    for s in spectral_norms:
        params.W_hh = scale_to_spectral_norm(W, s)
        norms.append(hidden_gradient_norms(rnn, params, xs, activation=activation))
        bounds.append(pascanu_bound(params.W_hh, lags, activation)[1])
    return {
        "lags": lags,
        "spectral_norms": np.array(spectral_norms, dtype=float),
        "norms": np.array(norms),
        "bounds": np.array(bounds),
    }
