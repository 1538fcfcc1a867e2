"""rnnbook.ssm: discretisation against closed forms, recurrent = convolution, the selective scan against autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import ssm
from rnnbook.gradcheck import check_gradient


def lti_problem(seed=0, T=9, B=2, D=3, N=4):
    rng = np.random.default_rng(seed)
    A = -rng.uniform(0.1, 2.0, (D, N))
    return (
        A,
        rng.standard_normal((D, N)),
        rng.standard_normal((D, N)),
        rng.uniform(0.05, 0.5, D),
        rng.standard_normal((T, B, D)),
    )


def test_zoh_is_the_exact_solution_of_the_ode():
    """With u constant over a step, x(Δ) = e^{AΔ} x(0) + (e^{AΔ} − 1)/A B u: integrate the ODE finely."""
    A, B, delta, x0, u = -1.3, 0.7, 0.4, 0.5, 2.0
    steps = 200000
    x = x0
    for _ in range(steps):  # explicit Euler with a tiny step
        x += delta / steps * (A * x + B * u)
    A_bar, B_bar = ssm.discretize(np.array([[A]]), np.array([[B]]), np.array([delta]))
    assert abs(A_bar[0, 0] * x0 + B_bar[0, 0] * u - x) < 1e-5


def test_bilinear_matches_its_formula_and_approaches_zoh():
    A, B, C, delta, _ = lti_problem()
    A_bar, B_bar = ssm.discretize(A, B, delta, "bilinear")
    dA = delta[:, None] * A
    np.testing.assert_allclose(A_bar, (2 + dA) / (2 - dA))
    np.testing.assert_allclose(B_bar, 2 * delta[:, None] * B / (2 - dA))
    small = ssm.discretize(A, B, delta / 1000, "bilinear")
    zoh = ssm.discretize(A, B, delta / 1000, "zoh")
    np.testing.assert_allclose(small[0], zoh[0], rtol=1e-8)
    np.testing.assert_allclose(small[1], zoh[1], rtol=1e-6)


@pytest.mark.parametrize("method", ssm.METHODS)
def test_recurrent_and_convolutional_views_are_equal(method):
    A, B, C, delta, u = lti_problem()
    A_bar, B_bar = ssm.discretize(A, B, delta, method)
    D_skip = np.arange(3.0)
    y_rec = ssm.lti_recurrent(u, A_bar, B_bar, C, D_skip)
    y_conv = ssm.lti_convolution(u, A_bar, B_bar, C, D_skip)
    np.testing.assert_allclose(y_rec, y_conv, rtol=0, atol=1e-12)
    # brute force from the definition, one channel and state entry at a time
    x = np.zeros((2, 3, 4))
    for t in range(len(u)):
        x = A_bar * x + B_bar * u[t][:, :, None]
        np.testing.assert_allclose(y_rec[t], (x * C).sum(axis=2) + D_skip * u[t], atol=1e-12)


def test_kernel_is_impulse_response():
    A, B, C, delta, _ = lti_problem()
    A_bar, B_bar = ssm.discretize(A, B, delta)
    u = np.zeros((6, 1, 3))
    u[0] = 1
    np.testing.assert_allclose(ssm.lti_recurrent(u, A_bar, B_bar, C)[:, 0], ssm.lti_kernel(A_bar, B_bar, C, 6))


def selective_problem(seed=0, T=8, B=2, D=3, N=4):
    rng = np.random.default_rng(seed)
    params = ssm.init_selective(D, N, rng=rng)
    params.W_delta *= 3  # make Δ really depend on the input
    params.b_delta += 1
    params.D_skip = rng.standard_normal(D)
    return params, rng.standard_normal((T, B, D))


def torch_selective(params, u):
    """The selective SSM step by step in PyTorch, from the equations of Gu & Dao (2023)."""
    p = {n: torch.tensor(a, requires_grad=True) for n, a in params.arrays().items()}
    x = torch.tensor(u, requires_grad=True)
    A = -torch.exp(p["A_log"])
    state = torch.zeros(u.shape[1], u.shape[2], A.shape[1], dtype=torch.float64)
    ys = []
    for t in range(len(u)):
        delta = torch.nn.functional.softplus(x[t] @ p["W_delta"].T + p["b_delta"])  # (B, D)
        Bt, Ct = x[t] @ p["W_B"].T, x[t] @ p["W_C"].T  # (B, N)
        A_bar = torch.exp(delta[:, :, None] * A)
        B_bar = (A_bar - 1) / A * Bt[:, None, :]
        state = A_bar * state + B_bar * x[t][:, :, None]
        ys.append((state * Ct[:, None, :]).sum(-1) + p["D_skip"] * x[t])
    return torch.stack(ys), p, x


@pytest.mark.parametrize("mode", ssm.MODES)
def test_selective_forward_and_backward_equal_autograd(mode):
    params, u = selective_problem()
    y, cache = ssm.selective_forward(u, params, mode=mode)
    dy = np.random.default_rng(3).standard_normal(y.shape)
    grads, du = ssm.selective_backward(dy, cache)
    ty, tp, tu = torch_selective(params, u)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=0, atol=1e-12)
    torch.sum(ty * torch.from_numpy(dy)).backward()
    for name, g in grads.arrays().items():
        np.testing.assert_allclose(g, tp[name].grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
    np.testing.assert_allclose(du, tu.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_selective_gradient_check():
    params, u = selective_problem(seed=4, T=5, B=1, D=2, N=3)
    dy = np.random.default_rng(1).standard_normal((5, 1, 2))

    def loss():
        return float(np.sum(ssm.selective_forward(u, params)[0] * dy))

    grads, du = ssm.selective_backward(dy, ssm.selective_forward(u, params)[1])
    arrays = {**params.arrays(), "u": u}
    analytic = {**grads.arrays(), "u": du}
    assert check_gradient(loss, arrays, analytic) < 1e-7


def test_selective_scan_equals_loop_on_long_sequences():
    params, u = selective_problem(T=300)
    np.testing.assert_allclose(
        ssm.selective_forward(u, params)[0], ssm.selective_forward(u, params, mode="loop")[0], rtol=0, atol=1e-10
    )


def test_errors_name_the_argument():
    A, B, C, delta, u = lti_problem()
    with pytest.raises(ValueError, match="A: expected every entry < 0"):
        ssm.discretize(-A, B, delta)
    with pytest.raises(ValueError, match="delta: expected every step > 0"):
        ssm.discretize(A, B, -delta)
    with pytest.raises(ValueError, match="delta: expected shape"):
        ssm.discretize(A, B, delta[:2])
    with pytest.raises(ValueError, match="method: expected one of"):
        ssm.discretize(A, B, delta, "euler")
    with pytest.raises(ValueError, match="u: expected 3 dimensions"):
        ssm.lti_recurrent(u[0], A, B, C)
    params, u = selective_problem()
    with pytest.raises(ValueError, match="u: expected shape"):
        ssm.selective_forward(u[:, :, :2], params)
    with pytest.raises(TypeError, match="params: expected ssm.SelectiveParams"):
        ssm.selective_forward(u, {"A_log": params.A_log})
    with pytest.raises(ValueError, match="mode: expected one of"):
        ssm.selective_forward(u, params, mode="fft")
    with pytest.raises(ValueError, match="dy: expected shape"):
        ssm.selective_backward(np.zeros((1, 2, 3)), ssm.selective_forward(u, params)[1])
