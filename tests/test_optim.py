"""The numpy optimisers against torch.optim on the same gradients."""

import numpy as np
import pytest
import torch

from rnnbook.layers import linear_init
from rnnbook.optim import SGD, Adam, parameters


def run_both(make_numpy, make_torch, steps=4):
    """Apply the same random gradients with both optimisers; return numpy and torch params."""
    rng = np.random.default_rng(0)
    params = [linear_init(3, 2, rng=rng), {"w": rng.standard_normal(5)}]
    tensors = [torch.tensor(p, requires_grad=True) for p in parameters(params)]
    opt, opt_t = make_numpy(params), make_torch(tensors)
    for _ in range(steps):
        grads = [linear_init(3, 2, rng=rng), {"w": rng.standard_normal(5)}]
        opt.step(grads)
        for p, g in zip(tensors, parameters(grads)):
            p.grad = torch.tensor(g)
        opt_t.step()
    return parameters(params), tensors


def test_sgd_momentum_matches_torch():
    ours, ref = run_both(lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9))
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-12)


def test_adam_matches_torch():
    ours, ref = run_both(
        lambda p: Adam(p, lr=0.01, betas=(0.8, 0.99)), lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99))
    )
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-12)


def test_updates_in_place_and_keeps_float32():
    p = linear_init(2, 2, rng=0, dtype=np.float32)
    W = p.W
    Adam(p).step(p.zeros_like())
    assert p.W is W and p.W.dtype == np.float32


def test_errors_name_the_argument():
    p = linear_init(3, 2, rng=0)
    with pytest.raises(ValueError, match="grads: expected 2 arrays"):
        SGD(p, lr=0.1).step([p.W])
    with pytest.raises(TypeError, match=r"grads\[0\]: expected dtype float64, got float32"):
        SGD(p, lr=0.1).step([p.W.astype(np.float32), p.b])
    with pytest.raises(ValueError, match="lr: expected a number > 0, got 0.0"):
        SGD(p, lr=0)
    with pytest.raises(ValueError, match=r"betas: expected two numbers in \[0, 1\), got \(0.9, 1.0\)"):
        Adam(p, betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="params: expected numpy arrays"):
        parameters([1.0])
