"""Per-lag gradient norms and state Jacobians, checked against torch.autograd."""

import numpy as np
import pytest
import torch
from torch.autograd.functional import jacobian

from rnnbook import gru, lstm, rnn, vanishing

MODELS = [rnn, lstm, gru]
T, D, H = 12, 3, 5


def setup(model, seed=0):
    rng = np.random.default_rng(seed)
    params = model.init(D, H, rng=rng)
    params.W_hh *= 3  # larger weights: away from the linear regime
    return params, rng.standard_normal((T, D))


def torch_run(module, xs, s):
    """Run the torch module over xs (t, D) from the flat state s, (H,) or (2H,) for the LSTM."""
    if isinstance(module, torch.nn.LSTM):
        _, (h, c) = module(xs[:, None], (s[None, None, :H], s[None, None, H:]))
        return torch.cat([h.reshape(H), c.reshape(H)])
    _, h = module(xs[:, None], s[None, None])
    return h.reshape(H)


def torch_states(module, xs, size):
    """The flat states s_0 .. s_T along the trajectory from zeros."""
    states = [torch.zeros(size, dtype=torch.float64)]
    with torch.no_grad():
        for t in range(len(xs)):
            states.append(torch_run(module, xs[t : t + 1], states[-1]))
    return states


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_state_jacobians_and_norms_match_autograd(model):
    params, xs = setup(model)
    Js = vanishing.state_jacobians(model, params, xs)
    norms = vanishing.hidden_gradient_norms(model, params, xs)
    module, xs_t = params.to_torch(), torch.tensor(xs)
    states = torch_states(module, xs_t, Js.shape[1])
    for t in [0, 5, T - 1]:  # J_{t+1} = ∂s_{t+1}/∂s_t
        ref = jacobian(lambda s: torch_run(module, xs_t[t : t + 1], s), states[t])
        np.testing.assert_allclose(Js[t], ref.numpy(), rtol=1e-10, atol=1e-14)
    for L in [1, 4, T]:
        ref = jacobian(lambda s: torch_run(module, xs_t[T - L :], s)[:H], states[T - L])
        assert norms[L] == pytest.approx(torch.linalg.matrix_norm(ref[:, :H], ord=2).item(), rel=1e-10)
    assert norms[0] == 1.0


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_loss_gradient_norms_match_bptt(model):
    params, xs = setup(model, seed=1)
    dh_last = np.random.default_rng(2).standard_normal(H)
    norms = vanishing.loss_gradient_norms(model, params, xs, dh_last)
    # the model's own backward gives ∂L/∂h_0 for L = dh_last · h_T
    hs, state, cache = model.forward(xs[:, None], None, params)
    dhs = np.zeros_like(hs)
    dhs[-1] = dh_last
    _, _, d_state0 = model.backward(dhs, cache)
    dh0 = d_state0[0] if isinstance(d_state0, tuple) else d_state0
    assert norms[T] == pytest.approx(np.linalg.norm(dh0), rel=1e-10)
    # and torch at an intermediate lag
    module, xs_t = params.to_torch(), torch.tensor(xs)
    s = torch_states(module, xs_t, 2 * H if model is lstm else H)[T - 4].requires_grad_()
    (torch_run(module, xs_t[T - 4 :], s)[:H] @ torch.tensor(dh_last)).backward()
    assert norms[4] == pytest.approx(s.grad[:H].norm().item(), rel=1e-10)
    assert norms[0] == pytest.approx(np.linalg.norm(dh_last))


def test_sigmoid_rnn_jacobian_matches_autograd():
    params, xs = setup(rnn)
    W_ih, W_hh, b_ih, b_hh = (torch.tensor(a) for a in params.arrays().values())

    def h_T(h):
        for x in torch.tensor(xs[T - 3 :]):
            h = torch.sigmoid(W_ih @ x + b_ih + W_hh @ h + b_hh)
        return h

    h = torch.zeros(H, dtype=torch.float64)
    with torch.no_grad():
        for x in torch.tensor(xs[: T - 3]):
            h = torch.sigmoid(W_ih @ x + b_ih + W_hh @ h + b_hh)
    ref = torch.linalg.matrix_norm(jacobian(h_T, h), ord=2).item()
    norms = vanishing.hidden_gradient_norms(rnn, params, xs, activation="sigmoid")
    assert norms[3] == pytest.approx(ref, rel=1e-10)


def test_cell_path_norms():
    params, xs = setup(lstm)
    _, _, cache = lstm.forward(xs[:, None], None, params)
    f = cache.gates[:, 0, H : 2 * H]  # the forget gates, (T, H)
    carousel = vanishing.cell_path_norms(params, xs)
    np.testing.assert_allclose(carousel[3], np.prod(f[-3:], axis=0).max(), rtol=1e-12)
    assert np.all(np.diff(carousel) <= 0)  # a product of gates in (0, 1) only decays
    full = vanishing.cell_path_norms(params, xs, path="full")
    module, xs_t = params.to_torch(), torch.tensor(xs)
    s = torch_states(module, xs_t, 2 * H)[T - 6]
    ref = jacobian(lambda s: torch_run(module, xs_t[T - 6 :], s)[H:], s)[:, H:]
    assert full[6] == pytest.approx(torch.linalg.matrix_norm(ref, ord=2).item(), rel=1e-10)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_norms_never_exceed_the_pascanu_bound(activation):
    data = vanishing.norms_vs_lag(activation, T=30)
    assert np.all(data["norms"] <= data["bounds"] * (1 + 1e-12))
    gamma = vanishing.GAMMA[activation]
    np.testing.assert_allclose(data["bounds"][:, 1], gamma * data["spectral_norms"], rtol=1e-12)
    # below 1/γ the norms vanish; reproducible from the seed
    small = data["spectral_norms"] < 1 / gamma
    assert np.all(data["norms"][small, -1] < 1e-3)
    np.testing.assert_array_equal(data["norms"], vanishing.norms_vs_lag(activation, T=30)["norms"])


def test_spectral_helpers_and_inits():
    W = np.random.default_rng(0).standard_normal((6, 6))
    assert vanishing.spectral_norm(vanishing.scale_to_spectral_norm(W, 2.0)) == pytest.approx(2.0)
    assert vanishing.spectral_radius(W) <= vanishing.spectral_norm(W)
    Q = vanishing.orthogonal(6, rng=1, gain=1.5)
    np.testing.assert_allclose(np.linalg.svd(Q, compute_uv=False), 1.5, rtol=1e-12)
    # an orthogonal W_hh in the linear regime keeps the gradient's norm: nothing vanishes
    params = rnn.init(D, 6, rng=2)
    params.W_hh = vanishing.orthogonal(6, rng=3)
    params.b_ih[:], params.b_hh[:] = 0, 0
    norms = vanishing.hidden_gradient_norms(rnn, params, np.zeros((50, D)))
    np.testing.assert_allclose(norms, 1.0, rtol=1e-12)
    np.testing.assert_array_equal(vanishing.identity(3, gain=2.0), 2 * np.eye(3))


def test_errors_name_the_argument():
    params, xs = setup(rnn)
    with pytest.raises(ValueError, match="model: expected one of 'rnn', 'lstm', 'gru', got 'numpy'"):
        vanishing.hidden_gradient_norms(np, params, xs)
    with pytest.raises(ValueError, match=r"xs: expected 2 dimensions \(T, D\)"):
        vanishing.hidden_gradient_norms(rnn, params, xs[:, None])
    with pytest.raises(ValueError, match=r"dh_last: expected shape \(5,\)"):
        vanishing.loss_gradient_norms(rnn, params, xs, np.zeros(4))
    with pytest.raises(ValueError, match="activation: expected one of 'tanh', 'sigmoid', got 'relu'"):
        vanishing.pascanu_bound(params.W_hh, [1], "relu")
    with pytest.raises(ValueError, match="path: expected one of 'carousel', 'full'"):
        vanishing.cell_path_norms(lstm.init(D, H, rng=0), xs, path="cell")


def test_orthogonal_is_the_q_of_a_qr_whose_r_has_a_positive_diagonal():
    """The QR decomposition with R's diagonal positive is unique; its Q is Haar-distributed
    (Mezzadri 2007), which is what torch.nn.init.orthogonal_ draws. Recomputed from the same
    Gaussian matrix: R = Qᵀ G must be upper triangular with a positive diagonal."""
    for n, seed in ((1, 0), (5, 0), (8, 3)):
        G = np.random.default_rng(seed).standard_normal((n, n))
        Q = vanishing.orthogonal(n, rng=seed)
        np.testing.assert_allclose(Q.T @ Q, np.eye(n), atol=1e-12)
        R = Q.T @ G
        np.testing.assert_allclose(np.tril(R, -1), 0, atol=1e-12)
        assert np.all(np.diag(R) > 0)
    np.testing.assert_allclose(vanishing.orthogonal(4, rng=1, gain=0.5), 0.5 * vanishing.orthogonal(4, rng=1))
