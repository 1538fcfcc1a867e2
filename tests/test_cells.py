"""The contract shared by rnnbook.rnn, rnnbook.lstm and rnnbook.gru, tested against PyTorch.

Every test runs on the three models. The reference is torch.nn.RNN/LSTM/GRU in
float64 with the same weights; the loss is L = Σ_t <dhs_t, h_t> + <d_state, state_T>,
so that its gradients are exactly what ``backward`` computes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook import cell, gru, lstm, rnn

MODELS = {"rnn": rnn, "lstm": lstm, "gru": gru}
RTOL = 1e-10


def is_lstm(model):
    return model is lstm


def random_state(model, B, H, rng, dtype=np.float64):
    """A random state of the model's structure: h, or (h, c) for the LSTM."""
    if is_lstm(model):
        return tuple(rng.standard_normal((B, H)).astype(dtype) for _ in range(2))
    return rng.standard_normal((B, H)).astype(dtype)


def state_arrays(state):
    return list(state) if isinstance(state, tuple) else [state]


def random_problem(model, T, B, D, H, seed, dtype=np.float64):
    """Params, inputs, initial state, dhs and d_state, all random."""
    rng = np.random.default_rng(seed)
    params = model.init(D, H, rng=rng, dtype=dtype)
    xs = rng.standard_normal((T, B, D)).astype(dtype)
    return (
        params,
        xs,
        random_state(model, B, H, rng, dtype),
        rng.standard_normal((T, B, H)).astype(dtype),
        random_state(model, B, H, rng, dtype),
    )


def torch_reference(params, xs, state, dhs, d_state):
    """Outputs and gradients of the torch module built from ``params``."""
    module = params.to_torch()
    xs_t = torch.tensor(xs, requires_grad=True)
    state_t = [torch.tensor(s, requires_grad=True) for s in state_arrays(state)]
    batched = tuple(s[None] for s in state_t)
    out, final = module(xs_t, batched if len(batched) == 2 else batched[0])
    final = final if isinstance(final, tuple) else (final,)
    loss = (out * torch.tensor(dhs)).sum()
    for f, d in zip(final, state_arrays(d_state)):
        loss = loss + (f[0] * torch.tensor(d)).sum()
    loss.backward()
    return {
        "hs": out.detach().numpy(),
        "final": [f[0].detach().numpy() for f in final],
        "grads": {name: getattr(module, torch_name).grad.numpy() for name, torch_name in cell.TORCH_NAMES.items()},
        "dxs": xs_t.grad.numpy(),
        "d_state0": [s.grad.numpy() for s in state_t],
    }


def assert_close(actual, expected, rtol=RTOL):
    """Entry by entry within rtol, with an absolute floor of rtol times the largest entry."""
    scale = max(float(np.max(np.abs(expected))), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def check_against_torch(model, T, B, D, H, seed):
    params, xs, state, dhs, d_state = random_problem(model, T, B, D, H, seed)
    hs, final, cache = model.forward(xs, state, params)
    grads, dxs, d_state0 = model.backward(dhs, cache, d_state)
    ref = torch_reference(params, xs, state, dhs, d_state)
    assert_close(hs, ref["hs"])
    for mine, theirs in zip(state_arrays(final), ref["final"], strict=True):
        assert_close(mine, theirs)
    for name, theirs in ref["grads"].items():
        assert_close(getattr(grads, name), theirs)
    assert_close(dxs, ref["dxs"])
    for mine, theirs in zip(state_arrays(d_state0), ref["d_state0"], strict=True):
        assert_close(mine, theirs)


SHAPES = [  # (T, B, D, H): B = 1, T = 1, D ≠ H, D = H, D > H
    (1, 1, 1, 1),
    (1, 3, 4, 2),
    (6, 1, 3, 5),
    (5, 4, 7, 3),
    (8, 2, 4, 4),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}-B{}-D{}-H{}".format(*s))
@pytest.mark.parametrize("name", MODELS)
def test_equals_torch(name, shape):
    check_against_torch(MODELS[name], *shape, seed=sum(shape))


@settings(max_examples=12, deadline=None)
@given(
    name=st.sampled_from(list(MODELS)),
    T=st.integers(1, 6),
    B=st.integers(1, 4),
    D=st.integers(1, 5),
    H=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_equals_torch_property(name, T, B, D, H, seed):
    check_against_torch(MODELS[name], T, B, D, H, seed)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_round_trip_is_exact(name, dtype):
    model = MODELS[name]
    torch.manual_seed(0)
    module = getattr(torch.nn, model.Params.TORCH)(3, 5, dtype=dtype)
    params = model.Params.from_torch(module)
    assert params.dtype == np.dtype(str(dtype).removeprefix("torch."))
    back = params.to_torch()
    assert back.batch_first is False and back.num_layers == 1
    for torch_name in cell.TORCH_NAMES.values():
        assert getattr(back, torch_name).dtype == dtype
        assert torch.equal(getattr(back, torch_name), getattr(module, torch_name))
    again = model.Params.from_torch(back)
    for name_, a in params.arrays().items():
        assert np.array_equal(a, getattr(again, name_))


@pytest.mark.parametrize("name", MODELS)
def test_from_torch_copies(name):
    model = MODELS[name]
    module = getattr(torch.nn, model.Params.TORCH)(2, 3, dtype=torch.float64)
    params = model.Params.from_torch(module)
    params.W_hh[:] = 0
    assert module.weight_hh_l0.abs().sum() > 0


@pytest.mark.parametrize("name", MODELS)
def test_to_torch_leaves_torch_rng_alone(name):
    params = MODELS[name].init(3, 4, rng=0)
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    params.to_torch()
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("name", MODELS)
def test_init_as_pytorch(name):
    model = MODELS[name]
    D, H = 7, 16
    params = model.init(D, H, rng=0)
    G = model.Params.G
    assert (params.W_ih.shape, params.W_hh.shape, params.b_ih.shape, params.b_hh.shape) == (
        (G * H, D),
        (G * H, H),
        (G * H,),
        (G * H,),
    )
    assert (params.input_size, params.hidden_size, params.dtype) == (D, H, np.float64)
    bound = 1 / np.sqrt(H)
    for a in params.arrays().values():
        assert np.all(np.abs(a) <= bound)
        assert np.abs(a).max() > 0.8 * bound  # uses the whole range
    again = model.init(D, H, rng=0)
    assert all(np.array_equal(a, getattr(again, k)) for k, a in params.arrays().items())
    assert model.init(D, H, rng=np.random.default_rng(5), dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("name", MODELS)
def test_params_helpers(name):
    params = MODELS[name].init(2, 3, rng=0)
    zeros, copy = params.zeros_like(), params.copy()
    assert type(zeros) is type(params) and type(copy) is type(params)
    for key, a in params.arrays().items():
        assert not np.any(getattr(zeros, key)) and getattr(zeros, key).dtype == a.dtype
        assert np.array_equal(getattr(copy, key), a) and getattr(copy, key) is not a
    assert repr(params).startswith(f"{name}.Params(W_ih=")


@pytest.mark.parametrize("name", MODELS)
def test_forward_equals_steps(name):
    model = MODELS[name]
    params, xs, state, _, _ = random_problem(model, 6, 3, 4, 5, seed=1)
    hs, final, _ = model.forward(xs, state, params)
    for t, x in enumerate(xs):
        state = model.step(x, state, params)
        assert_close(state_arrays(state)[0], hs[t], rtol=1e-12)
    for mine, theirs in zip(state_arrays(final), state_arrays(state)):
        assert_close(mine, theirs, rtol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_none_means_zeros(name):
    model = MODELS[name]
    params, xs, _, dhs, _ = random_problem(model, 4, 2, 3, 5, seed=2)
    zeros = random_state(model, 2, 5, np.random.default_rng(0))
    zeros = tuple(np.zeros_like(z) for z in zeros) if isinstance(zeros, tuple) else np.zeros_like(zeros)
    hs_none, _, cache_none = model.forward(xs, None, params)
    hs_zero, _, cache_zero = model.forward(xs, zeros, params)
    assert np.array_equal(hs_none, hs_zero)
    g_none, dxs_none, d0_none = model.backward(dhs, cache_none)
    g_zero, dxs_zero, d0_zero = model.backward(dhs, cache_zero, zeros)
    assert np.array_equal(dxs_none, dxs_zero)
    for a, b in zip(state_arrays(d0_none), state_arrays(d0_zero)):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("name", MODELS)
def test_arguments_are_not_modified(name):
    model = MODELS[name]
    params, xs, state, dhs, d_state = random_problem(model, 4, 2, 3, 5, seed=3)
    before = [a.copy() for a in [xs, dhs, *state_arrays(state), *state_arrays(d_state), *params.arrays().values()]]
    _, _, cache = model.forward(xs, state, params)
    grads, _, _ = model.backward(dhs, cache, d_state)
    after = [xs, dhs, *state_arrays(state), *state_arrays(d_state), *params.arrays().values()]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert grads.b_ih is not grads.b_hh


@pytest.mark.parametrize("name", MODELS)
def test_float32_stays_float32(name):
    model = MODELS[name]
    p64, xs64, s64, dhs64, ds64 = random_problem(model, 5, 2, 3, 4, seed=4)
    p32, xs32, s32, dhs32, ds32 = random_problem(model, 5, 2, 3, 4, seed=4, dtype=np.float32)
    hs32, final32, cache32 = model.forward(xs32, s32, p32)
    grads32, dxs32, d032 = model.backward(dhs32, cache32, ds32)
    stepped = model.step(xs32[0], s32, p32)
    for a in [
        hs32,
        dxs32,
        *state_arrays(final32),
        *state_arrays(d032),
        *state_arrays(stepped),
        *grads32.arrays().values(),
    ]:
        assert a.dtype == np.float32
    hs64, _, cache64 = model.forward(xs64, s64, p64)
    grads64, dxs64, _ = model.backward(dhs64, cache64, ds64)
    assert_close(hs32, hs64, rtol=1e-5)
    assert_close(dxs32, dxs64, rtol=1e-5)
    assert_close(grads32.W_hh, grads64.W_hh, rtol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_saturated_inputs_stay_finite(name):
    """Inputs of ±1e4 saturate every gate without an overflow warning (warnings are errors)."""
    model = MODELS[name]
    for dtype in (np.float32, np.float64):
        params, _, _, dhs, _ = random_problem(model, 3, 2, 4, 3, seed=5, dtype=dtype)
        xs = np.where(np.random.default_rng(0).random((3, 2, 4)) < 0.5, -1e4, 1e4).astype(dtype)
        hs, _, cache = model.forward(xs, None, params)
        grads, dxs, _ = model.backward(dhs, cache)
        assert np.all(np.isfinite(hs)) and np.all(np.isfinite(dxs)) and np.all(np.abs(hs) <= 1)


# ---------------------------------------------------------------- errors


def error_cases(model):
    """(call, exception, message fragment) for the argument errors shared by the models."""
    D, H, B, T = 3, 4, 2, 5
    params = model.init(D, H, rng=0)
    xs = np.zeros((T, B, D))
    state = random_state(model, B, H, np.random.default_rng(0))
    hs, _, cache = model.forward(xs, None, params)
    dhs = np.zeros_like(hs)
    other = rnn.init(D, H, rng=0) if model is not rnn else lstm.init(D, H, rng=0)
    bad_params = params.copy()
    bad_params.W_hh[0, 0] = np.nan
    wrong_state = (state, state) if not is_lstm(model) else state[0]
    # fmt: off
    # One case per line: the table reads as a list of wrong calls and what each one says.
    cases = [
        (lambda: model.forward(xs[0], None, params), ValueError, "xs: expected 3 dimensions (T, B, D)"),
        (lambda: model.forward(np.zeros((T, B, D + 1)), None, params), ValueError, "D mismatch: expected 3, got 4"),
        (lambda: model.forward(np.zeros((0, B, D)), None, params), ValueError, "xs: expected at least one time step"),
        (lambda: model.forward(xs.astype(np.float32), None, params), TypeError, "params is float64, xs is float32"),
        (lambda: model.forward(xs.astype(int), None, params), TypeError, "xs: expected dtype float32 or float64, got int64"),
        (lambda: model.forward(xs.tolist(), None, params), TypeError, "xs: expected a numpy array, got list"),
        (lambda: model.forward(np.full((T, B, D), np.inf), None, params), ValueError, "xs: expected finite values"),
        (lambda: model.forward(xs, None, bad_params), ValueError, "params.W_hh: expected finite values"),
        (lambda: model.forward(xs, None, other), TypeError, f"params: expected rnnbook.{model.__name__.split('.')[-1]}.Params"),
        (lambda: model.forward(xs, wrong_state, params), TypeError, "state: expected None or"),
        (lambda: model.step(xs, None, params), ValueError, "x: expected 2 dimensions (B, D)"),
        (lambda: model.step(xs[0], wrong_state, params), TypeError, "state: expected None or"),
        (lambda: model.backward(dhs[:-1], cache), ValueError, "dhs: expected shape (T, B, H) = (5, 2, 4), got (4, 2, 4)"),
        (lambda: model.backward(dhs.astype(np.float32), cache), TypeError, "dtype mismatch: cache is float64, dhs is float32"),
        (lambda: model.backward(np.full_like(dhs, np.nan), cache), ValueError, "dhs: expected finite values"),
        (lambda: model.backward(dhs, (hs, xs)), TypeError, "cache: expected the rnnbook"),
        (lambda: model.backward(dhs, cache, wrong_state), TypeError, "d_state: expected None or"),
        (lambda: model.init(0, H), ValueError, "input_size: expected an integer >= 1, got 0"),
        (lambda: model.init(D, 2.5), TypeError, "hidden_size: expected an integer, got float 2.5"),
        (lambda: model.init(D, H, dtype=np.int32), TypeError, "dtype: expected float32 or float64, got int32"),
        (lambda: model.init(D, H, rng="seed"), TypeError, "rng: expected None, an int seed or a numpy Generator"),
        (lambda: model.Params.from_torch(torch.nn.Linear(3, 4)), TypeError, f"module: expected a torch.nn.{model.Params.TORCH}, got Linear"),
        (lambda: model.Params.from_torch(getattr(torch.nn, model.Params.TORCH)(3, 4, num_layers=2)), ValueError, "expected num_layers=1, got 2"),
        (lambda: model.Params.from_torch(getattr(torch.nn, model.Params.TORCH)(3, 4, bias=False)), ValueError, "expected bias=True, got False"),
        (lambda: model.Params.from_torch(getattr(torch.nn, model.Params.TORCH)(3, 4, bidirectional=True)), ValueError, "expected bidirectional=False, got True"),
    ]
    if is_lstm(model):
        cases += [
            (lambda: model.forward(xs, (state[0],), params), TypeError, "state: expected None or a tuple of 2 (B, H) arrays, got 1 items"),
            (lambda: model.forward(xs, (state[0], state[1][:1]), params), ValueError, "state[1]: expected shape (B, H) = (2, 4), got (1, 4)"),
            (lambda: model.forward(xs, (state[0], state[1].astype(np.float32)), params), TypeError, "state[0] is float64, state[1] is float32"),
            (lambda: model.Params.from_torch(torch.nn.LSTM(3, 4, proj_size=2)), ValueError, "expected proj_size=0, got 2"),
            (lambda: model.init(D, H, forget_bias=np.nan), ValueError, "forget_bias: expected a finite number"),
        ]
    else:
        cases += [
            (lambda: model.forward(xs, state[:1], params), ValueError, "state: expected shape (B, H) = (2, 4), got (1, 4)"),
            (lambda: model.forward(xs, state.astype(np.float32), params), TypeError, "params is float64, state is float32"),
        ]
    if model is rnn:
        cases.append((lambda: model.Params.from_torch(torch.nn.RNN(3, 4, nonlinearity="relu")), ValueError, "expected mode 'RNN_TANH'"))
    if model is gru:
        cases += [
            (lambda: model.forward(xs, None, params, variant="keras"), ValueError, "variant: expected one of 'pytorch', 'cho', got 'keras'"),
            (lambda: model.Params.from_torch(torch.nn.LSTM(3, 4)), TypeError, "module: expected a torch.nn.GRU, got LSTM"),
        ]
    # fmt: on
    return cases


@pytest.mark.parametrize("name", MODELS)
def test_errors_name_argument_expected_and_given(name):
    for call, error, fragment in error_cases(MODELS[name]):
        with pytest.raises(error) as info:
            call()
        assert fragment in str(info.value), (fragment, str(info.value))


@pytest.mark.parametrize("name", MODELS)
def test_params_shape_errors(name):
    model = MODELS[name]
    params = model.init(3, 4, rng=0)
    GH = f"{model.Params.G}H" if model.Params.G > 1 else "H"
    bad = model.Params(params.W_ih[:, :2], params.W_hh, params.b_ih, params.b_hh)
    bad.W_ih = params.W_ih[:-1]
    with pytest.raises(ValueError, match=rf"params.W_ih: expected shape \({GH}, D\)"):
        model.forward(np.zeros((2, 1, 3)), None, bad)
    bad = model.Params(params.W_ih, params.W_hh, params.b_ih, params.b_hh.astype(np.float32))
    with pytest.raises(TypeError, match="dtype mismatch: params.W_ih is float64, params.b_hh is float32"):
        model.forward(np.zeros((2, 1, 3)), None, bad)
    if model.Params.G > 1:
        bad = model.Params(params.W_ih, params.W_hh[:-1], params.b_ih, params.b_hh)
        with pytest.raises(ValueError, match=rf"params.W_hh: expected shape \({GH}, H\) with {model.Params.G} gates"):
            bad.to_torch()
