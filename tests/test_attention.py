"""rnnbook.attention against PyTorch autograd (float64) and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import attention
from rnnbook.gradcheck import check_gradient

S, B, H_Q, H_K, A = 5, 3, 4, 6, 7


def problem(score, seed=0, masked=True):
    rng = np.random.default_rng(seed)
    h_q = H_K if score == "dot" else H_Q
    query, keys = rng.standard_normal((B, h_q)), rng.standard_normal((S, B, H_K))
    mask = np.ones((S, B), dtype=bool)
    if masked:
        mask[3:, 1] = False  # example 1 has 3 real positions
        mask[1:, 2] = False  # example 2 has one
    params = {
        "additive": attention.additive_init(H_Q, H_K, A, rng=rng),
        "general": attention.general_init(H_Q, H_K, rng=rng),
        "dot": None,
    }[score]
    return query, keys, mask, params


def torch_reference(score, query, keys, mask, params):
    """The scores written out in torch, softmax with masked_fill(−∞): context and weights."""
    if score == "additive":
        W_q, W_k, v = (torch.tensor(a, requires_grad=True) for a in (params.W_q, params.W_k, params.v))
        e = torch.tanh(query @ W_q.T + keys @ W_k.T) @ v
        weights_of = {"W_q": W_q, "W_k": W_k, "v": v}
    elif score == "general":
        W = torch.tensor(params.W, requires_grad=True)
        e = torch.einsum("bi,ij,sbj->sb", query, W, keys)
        weights_of = {"W": W}
    else:
        e = torch.einsum("bh,sbh->sb", query, keys)
        weights_of = {}
    alpha = torch.softmax(e.masked_fill(~torch.from_numpy(mask), float("-inf")), dim=0)
    return torch.einsum("sb,sbh->bh", alpha, keys), alpha, weights_of


@pytest.mark.parametrize("score", list(attention.SCORES))
def test_equal_to_torch_autograd(score):
    query, keys, mask, params = problem(score)
    forward, backward = attention.SCORES[score]
    context, weights, cache = forward(query, keys, params, mask)
    d_context = np.random.default_rng(1).standard_normal(context.shape)
    grads, d_query, d_keys = backward(d_context, cache)

    q, k = torch.tensor(query, requires_grad=True), torch.tensor(keys, requires_grad=True)
    c, alpha, torch_params = torch_reference(score, q, k, mask, params)
    (c * torch.from_numpy(d_context)).sum().backward()
    np.testing.assert_allclose(context, c.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(weights, alpha.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(d_query, q.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(d_keys, k.grad.numpy(), rtol=1e-10, atol=1e-13)
    for name, tensor in torch_params.items():
        np.testing.assert_allclose(getattr(grads, name), tensor.grad.numpy(), rtol=1e-10, atol=1e-13)
    assert (grads is None) == (score == "dot")


@pytest.mark.parametrize("score", list(attention.SCORES))
def test_finite_differences(score):
    query, keys, mask, params = problem(score, seed=2)
    forward, backward = attention.SCORES[score]
    context, _, cache = forward(query, keys, params, mask)
    d_context = np.random.default_rng(3).standard_normal(context.shape)
    grads, d_query, d_keys = backward(d_context, cache)

    def loss():
        return float(np.sum(forward(query, keys, params, mask)[0] * d_context))

    inputs, analytic = {"query": query, "keys": keys}, {"query": d_query, "keys": d_keys}
    if params is not None:
        for name in vars(params):
            inputs[name], analytic[name] = getattr(params, name), getattr(grads, name)
    assert check_gradient(loss, inputs, analytic) < 1e-7


@pytest.mark.parametrize("score", list(attention.SCORES))
def test_masked_positions_get_zero_weight_and_do_not_matter(score):
    query, keys, mask, params = problem(score, seed=4)
    forward, backward = attention.SCORES[score]
    context, weights, cache = forward(query, keys, params, mask)
    assert np.all(weights[~mask] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=0), 1.0, rtol=1e-14)
    assert np.all(weights[:, 2] == [1, 0, 0, 0, 0])  # one real position: all the weight
    changed = keys.copy()
    changed[~mask] = 1e3  # what padding holds does not matter
    np.testing.assert_array_equal(forward(query, changed, params, mask)[0], context)
    _, _, d_keys = backward(np.ones_like(context), cache)
    assert np.all(d_keys[~mask] == 0.0)


def test_no_mask_is_all_real():
    query, keys, _, params = problem("additive", masked=False)
    with_mask = attention.additive_forward(query, keys, params, np.ones((S, B), dtype=bool))[0]
    np.testing.assert_array_equal(attention.additive_forward(query, keys, params)[0], with_mask)


def test_masked_softmax_is_stable_with_large_scores():
    w = attention.masked_softmax(np.array([[1e4], [1e4 - 1], [-1e4]]), np.ones((3, 1), dtype=bool))
    np.testing.assert_allclose(w[:, 0], [1 / (1 + np.exp(-1)), 1 / (1 + np.e), 0.0], rtol=1e-14)


def test_clear_errors():
    query, keys, mask, params = problem("additive")
    with pytest.raises(ValueError, match=r"mask: column 1 hides every source position"):
        bad = mask.copy()
        bad[:, 1] = False
        attention.additive_forward(query, keys, params, bad)
    with pytest.raises(TypeError, match="mask: expected a boolean numpy array"):
        attention.additive_forward(query, keys, params, mask.astype(int))
    with pytest.raises(ValueError, match=r"mask: expected shape \(S, B\) = \(5, 3\), got \(3, 5\)"):
        attention.additive_forward(query, keys, params, mask.T.copy())
    with pytest.raises(ValueError, match=r"keys: expected shape \(S, B, H_k\) = \(5, 3, H_k\), got \(5, 2, 6\)"):
        attention.additive_forward(query, keys[:, :2], params, mask)
    with pytest.raises(ValueError, match=r"query: expected 2 dimensions"):
        attention.additive_forward(query[0], keys, params)
    with pytest.raises(ValueError, match=r"params.W_k: expected shape \(A, H_k\) = \(7, 6\)"):
        attention.additive_forward(query, keys, attention.additive_init(H_Q, 2, A, rng=0))
    with pytest.raises(TypeError, match="params: expected AdditiveParams, got GeneralParams"):
        attention.additive_forward(query, keys, attention.general_init(H_Q, H_K, rng=0))
    with pytest.raises(ValueError, match="the dot score needs H_q = H_k, got H_q = 4, H_k = 6"):
        attention.dot_forward(query, keys)
    with pytest.raises(TypeError, match="params: the dot score has no weights"):
        attention.dot_forward(keys[0], keys, params)
    with pytest.raises(TypeError, match="dtype mismatch: query is float64, keys is float32"):
        attention.additive_forward(query, keys.astype(np.float32), params)
    _, _, cache = attention.additive_forward(query, keys, params, mask)
    with pytest.raises(ValueError, match=r"d_context: expected shape \(3, 6\)"):
        attention.additive_backward(np.ones((3, 4)), cache)
