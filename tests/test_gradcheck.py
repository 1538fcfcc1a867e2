"""rnnbook.gradcheck itself, and central finite-difference checks of every backward."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook import gru, lstm, rnn
from rnnbook.gradcheck import check_gradient, numerical_gradient, relative_error

TOLERANCE = 1e-7


def test_numerical_gradient_of_a_quadratic():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = np.array([0.5, -1.0])
    grad = numerical_gradient(lambda: float(x @ A @ x), x)
    assert relative_error(grad, 2 * A @ x) < 1e-9
    np.testing.assert_array_equal(x, [0.5, -1.0])  # restored


def test_numerical_gradient_of_a_matrix():
    W = np.arange(6.0).reshape(2, 3) / 10
    grad = numerical_gradient(lambda: float(np.sum(np.sin(W))), W)
    np.testing.assert_allclose(grad, np.cos(W), rtol=1e-9)


def test_wrong_gradient_is_caught():
    x = np.array([1.0, 2.0, 3.0])
    assert check_gradient(lambda: float(np.sum(x**2)), {"x": x}, {"x": 2 * x}) < 1e-9
    assert check_gradient(lambda: float(np.sum(x**2)), {"x": x}, {"x": 2 * x + [0, 0, 1e-3]}) > 1e-5


def test_relative_error():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([2.0, 0.0]), np.array([1.0, 0.0])) == 0.5


def test_gradcheck_errors():
    x = np.ones(2)
    with pytest.raises(ValueError, match=r"grads: expected the keys of inputs \['x'\], got \['y'\]"):
        check_gradient(lambda: 0.0, {"x": x}, {"y": x})
    with pytest.raises(ValueError, match=r"grads\['x'\]: expected shape \(2,\), got \(3,\)"):
        check_gradient(lambda: 0.0, {"x": x}, {"x": np.ones(3)})
    with pytest.raises(TypeError, match=r"inputs\['x'\]: expected dtype float64, got float32"):
        check_gradient(lambda: 0.0, {"x": x.astype(np.float32)}, {"x": x})
    with pytest.raises(ValueError, match="eps: expected a number > 0, got 0.0"):
        numerical_gradient(lambda: 0.0, x, eps=0)


CASES = {  # name: (module, forward keyword arguments)
    "rnn": (rnn, {}),
    "lstm": (lstm, {}),
    "gru": (gru, {}),
    "gru-cho": (gru, {"variant": "cho"}),
}


def gradient_error(name, T, B, D, H, seed):
    """Worst relative error of backward against central differences, every input included."""
    model, kwargs = CASES[name]
    rng = np.random.default_rng(seed)
    params = model.init(D, H, rng=rng)
    xs = rng.standard_normal((T, B, D))
    n_state = 2 if model is lstm else 1
    state = [rng.standard_normal((B, H)) for _ in range(n_state)]
    dhs = rng.standard_normal((T, B, H))
    d_state = [rng.standard_normal((B, H)) for _ in range(n_state)]

    def pack(arrays):
        return tuple(arrays) if model is lstm else arrays[0]

    def unpack(s):
        return list(s) if model is lstm else [s]

    def loss():
        hs, final, _ = model.forward(xs, pack(state), params, **kwargs)
        return float(np.sum(hs * dhs) + sum(np.sum(f * d) for f, d in zip(unpack(final), d_state)))

    _, _, cache = model.forward(xs, pack(state), params, **kwargs)
    grads, dxs, d_state0 = model.backward(dhs, cache, pack(d_state))
    inputs = {**params.arrays(), "xs": xs, **{f"state{k}": s for k, s in enumerate(state)}}
    analytic = {**grads.arrays(), "xs": dxs, **{f"state{k}": d for k, d in enumerate(unpack(d_state0))}}
    return check_gradient(loss, inputs, analytic)


@pytest.mark.parametrize("name", CASES)
def test_backward_against_finite_differences(name):
    assert gradient_error(name, T=4, B=2, D=3, H=4, seed=0) < TOLERANCE


@settings(max_examples=8, deadline=None)
@given(
    name=st.sampled_from(list(CASES)),
    T=st.integers(1, 4),
    B=st.integers(1, 3),
    D=st.integers(1, 3),
    H=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_backward_against_finite_differences_property(name, T, B, D, H, seed):
    assert gradient_error(name, T, B, D, H, seed) < TOLERANCE
