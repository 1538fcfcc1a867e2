"""step_backward of each cell: equal to backward on a sequence of one step, and to finite differences."""

import numpy as np
import pytest

from rnnbook import gru, lstm, optim, rnn
from rnnbook.gradcheck import check_gradient

B, D, H = 3, 4, 5
CELLS = [(rnn, {}), (lstm, {}), (gru, {"variant": "pytorch"}), (gru, {"variant": "cho"})]
IDS = ["rnn", "lstm", "gru-pytorch", "gru-cho"]


def setup(model, seed=0):
    rng = np.random.default_rng(seed)
    params = model.init(D, H, rng=seed)
    for a in optim.parameters(params):
        a += 0.1 * rng.standard_normal(a.shape)  # biases away from zero: every term matters
    x = rng.standard_normal((B, D))
    n_states = 2 if model is lstm else 1
    state = tuple(rng.standard_normal((B, H)) for _ in range(n_states))
    d_state = tuple(rng.standard_normal((B, H)) for _ in range(n_states))
    if n_states == 1:
        state, d_state = state[0], d_state[0]
    return params, x, state, d_state


@pytest.mark.parametrize("model, kw", CELLS, ids=IDS)
def test_step_backward_equals_backward_on_one_step(model, kw):
    params, x, state, d_state = setup(model)
    grads, dx, d_prev = model.step_backward(d_state, x, state, params, **kw)
    hs, _, cache = model.forward(x[None], state, params, **kw)
    # the whole gradient of the step arrives through d_state: none from a loss on hs
    ref_grads, ref_dxs, ref_d_prev = model.backward(np.zeros_like(hs), cache, d_state)
    expected = optim.parameters([ref_grads, ref_dxs[0], ref_d_prev])
    for ours, theirs in zip(optim.parameters([grads, dx, d_prev]), expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("model, kw", CELLS, ids=IDS)
def test_step_backward_matches_finite_differences(model, kw):
    params, x, state, d_state = setup(model, seed=1)
    states = state if model is lstm else (state,)
    d_states = d_state if model is lstm else (d_state,)

    def loss():  # L = Σ ⟨∂L/∂state_t, state_t⟩, so that ∂L/∂state_t = d_state
        new = model.step(x, state, params, **kw)
        new = new if model is lstm else (new,)
        return float(sum(np.sum(d * s) for d, s in zip(d_states, new)))

    grads, dx, d_prev = model.step_backward(d_state, x, state, params, **kw)
    d_prev = d_prev if model is lstm else (d_prev,)
    inputs = {
        "W_ih": params.W_ih,
        "W_hh": params.W_hh,
        "b_ih": params.b_ih,
        "b_hh": params.b_hh,
        "x": x,
        **{f"state{k}": s for k, s in enumerate(states)},
    }
    analytic = {
        "W_ih": grads.W_ih,
        "W_hh": grads.W_hh,
        "b_ih": grads.b_ih,
        "b_hh": grads.b_hh,
        "x": dx,
        **{f"state{k}": d for k, d in enumerate(d_prev)},
    }
    assert check_gradient(loss, inputs, analytic) < 1e-7


def test_d_state_of_the_wrong_shape_is_named():
    params, x, state, _ = setup(rnn)
    with pytest.raises(ValueError, match=r"d_state: expected shape \(B, H\) = \(3, 5\), got \(3, 4\)"):
        rnn.step_backward(np.ones((3, 4)), x, state, params)
