"""The output layer and the losses against torch.nn.Linear, F.cross_entropy and F.mse_loss."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnbook.gradcheck import check_gradient
from rnnbook.layers import (
    LinearParams,
    linear_backward,
    linear_forward,
    linear_init,
    log_softmax,
    mse,
    softmax,
    softmax_cross_entropy,
)


def t(a):
    return torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 3), (1, 1, 3)])
def test_linear_matches_torch(shape):
    rng = np.random.default_rng(0)
    params = linear_init(3, 2, rng=rng)
    hs = rng.standard_normal(shape)
    dys = rng.standard_normal(shape[:-1] + (2,))
    ys, cache = linear_forward(hs, params)
    grads, dhs = linear_backward(dys, cache)

    linear = params.to_torch()
    hs_t = t(hs)
    ys_t = linear(hs_t)
    ys_t.backward(torch.tensor(dys))
    np.testing.assert_allclose(ys, ys_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dhs, hs_t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(grads.W, linear.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(grads.b, linear.bias.grad.numpy(), rtol=1e-12)


def test_linear_torch_round_trip_is_exact_and_keeps_float32():
    params = linear_init(4, 3, rng=1, dtype=np.float32)
    back = LinearParams.from_torch(params.to_torch())
    assert back.W.dtype == np.float32
    np.testing.assert_array_equal(back.W, params.W)
    np.testing.assert_array_equal(back.b, params.b)
    ys, _ = linear_forward(np.ones((2, 4), np.float32), params)
    assert ys.dtype == np.float32


def test_linear_init_bounds():
    p = linear_init(100, 7, rng=0)
    assert np.abs(p.W).max() <= 0.1 and np.abs(p.b).max() <= 0.1
    assert p.W.std() == pytest.approx(0.1 / np.sqrt(3), rel=0.05)


@pytest.mark.parametrize("shape", [(3, 4), (5, 3, 4)])
def test_cross_entropy_matches_torch(shape):
    rng = np.random.default_rng(2)
    logits = 3 * rng.standard_normal(shape)
    targets = rng.integers(0, shape[-1], size=shape[:-1])
    loss, dlogits = softmax_cross_entropy(logits, targets)
    z = t(logits)
    ref = F.cross_entropy(z.reshape(-1, shape[-1]), torch.tensor(targets).reshape(-1))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(dlogits, z.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_cross_entropy_many_to_one_uses_the_last_step():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((6, 2, 5))
    targets = np.array([1, 4])
    loss, dlast = softmax_cross_entropy(logits[-1], targets)
    assert loss == pytest.approx(F.cross_entropy(torch.tensor(logits[-1]), torch.tensor(targets)).item())
    assert dlast.shape == (2, 5)


def test_mse_matches_torch():
    rng = np.random.default_rng(4)
    ys, targets = rng.standard_normal((2, 4, 3, 2))
    loss, dys = mse(ys, targets)
    y = t(ys)
    ref = F.mse_loss(y, torch.tensor(targets))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(dys, y.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_stable_at_1e4(dtype):
    # RuntimeWarnings are errors in the test configuration: overflow would fail here.
    z = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    p, logp = softmax(z), log_softmax(z)
    assert p.dtype == dtype and np.all(np.isfinite(p)) and np.all(np.isfinite(logp))
    np.testing.assert_allclose(p.sum(axis=-1), 1, rtol=1e-6)
    np.testing.assert_allclose(logp, torch.log_softmax(torch.tensor(z), -1).numpy(), rtol=1e-6)
    loss, dz = softmax_cross_entropy(z, np.array([0, 2]))
    assert np.isfinite(loss) and np.all(np.isfinite(dz))
    assert loss == pytest.approx(1e4 + np.log(2) / 2 + 1e4, rel=1e-6)


def test_errors_name_the_argument():
    params = linear_init(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"hs: expected shape \(T, B, H\)"):
        linear_forward(np.zeros((2, 2, 4)), params)
    with pytest.raises(TypeError, match="dtype mismatch: hs is float32, W is float64"):
        linear_forward(np.zeros((2, 3), np.float32), params)
    with pytest.raises(ValueError, match="hs: expected finite values"):
        linear_forward(np.full((2, 3), np.nan), params)
    with pytest.raises(ValueError, match=r"targets: expected class indices in \[0, 3\], got values in \[0, 4\]"):
        softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 4]))
    with pytest.raises(TypeError, match="targets: expected an integer numpy array, got float64"):
        softmax_cross_entropy(np.zeros((2, 4)), np.zeros(2))
    with pytest.raises(ValueError, match=r"targets: expected shape \(3, 2\)"):
        softmax_cross_entropy(np.zeros((3, 2, 4)), np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match="targets: expected shape"):
        mse(np.zeros((2, 3)), np.zeros((3, 2)))


def test_backward_passes_pass_a_finite_difference_check():
    rng = np.random.default_rng(5)
    params = linear_init(3, 4, rng=rng)
    hs = rng.standard_normal((2, 2, 3))
    targets = rng.integers(0, 4, size=(2, 2))
    values = rng.standard_normal((2, 2, 4))

    for loss, target in [(softmax_cross_entropy, targets), (mse, values)]:

        def f():
            return loss(linear_forward(hs, params)[0], target)[0]

        ys, cache = linear_forward(hs, params)
        grads, dhs = linear_backward(loss(ys, target)[1], cache)
        error = check_gradient(f, {"W": params.W, "b": params.b, "hs": hs}, {"W": grads.W, "b": grads.b, "hs": dhs})
        assert error < 1e-7
