"""rnnbook.linear_attention: the parallel and recurrent forms compute the same outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import linear_attention as la


def problem(T=9, B=2, Dk=3, Dv=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((T, B, Dk)), rng.standard_normal((T, B, Dk)), rng.standard_normal((T, B, Dv))


def test_feature_map_is_elu_plus_one():
    x = np.linspace(-5, 5, 101)
    expected = torch.nn.functional.elu(torch.from_numpy(x)).numpy() + 1
    np.testing.assert_allclose(la.feature_map(x), expected, rtol=1e-14)
    assert np.all(la.feature_map(np.array([-800.0])) >= 0)


def test_parallel_equals_recurrent_and_the_definition():
    q, k, v = problem()
    phi_q, phi_k = la.feature_map(q), la.feature_map(k)
    expected = np.empty_like(v)
    for t in range(len(q)):
        for b in range(q.shape[1]):
            weights = phi_k[: t + 1, b] @ phi_q[t, b]  # φ(q_t)·φ(k_s), s ≤ t
            expected[t, b] = weights @ v[: t + 1, b] / weights.sum()
    np.testing.assert_allclose(la.parallel(q, k, v), expected, rtol=1e-12)
    np.testing.assert_allclose(la.recurrent(q, k, v), expected, rtol=1e-12)


def test_causal():
    q, k, v = problem()
    y = la.recurrent(q, k, v)
    v2 = v.copy()
    v2[5:] += 10.0
    np.testing.assert_allclose(la.parallel(q, k, v2)[:5], y[:5], rtol=1e-12)


@pytest.mark.parametrize("which", ["q", "k", "v"])
def test_clear_errors(which):
    q, k, v = problem()
    args = {"q": q, "k": k, "v": v}
    args[which] = args[which][:5] if which == "v" else args[which][:, :, :2]
    culprit = "k" if which == "q" else which  # q binds Dk first; then k disagrees
    with pytest.raises(ValueError, match=rf"{culprit}: expected shape"):
        la.parallel(**args)
    args = {"q": q, "k": k, "v": v}
    args[which] = args[which].astype(np.float32)
    with pytest.raises(TypeError, match="dtype mismatch"):
        la.recurrent(**args)
