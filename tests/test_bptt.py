"""Full and truncated BPTT, numpy against PyTorch, and gradient-norm clipping."""

import numpy as np
import pytest
import torch

from rnnbook import bptt, gru, lstm, rnn
from rnnbook.gradcheck import check_gradient
from rnnbook.layers import linear_init
from rnnbook.optim import parameters

MODELS = [rnn, lstm, gru]
TORCH_NAMES = {"W_ih": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}
T, B, D, H, V = 7, 2, 3, 4, 5


def setup(model, loss="cross_entropy", seed=0):
    rng = np.random.default_rng(seed)
    params = model.init(D, H, rng=rng)
    out = linear_init(H, V, rng=rng)
    xs = rng.standard_normal((T, B, D))
    if loss == "cross_entropy":
        targets = rng.integers(0, V, size=(T, B))
    else:
        targets = rng.standard_normal((T, B, V))
    return params, out, xs, targets


def torch_twins(params, out, xs, targets):
    return params.to_torch(), out.to_torch(), torch.tensor(xs), torch.tensor(targets)


def torch_grads(params, module, linear):
    """The .grad of the torch modules as numpy Params and LinearParams."""
    grads = type(params)(**{n: getattr(module, t).grad.numpy() for n, t in TORCH_NAMES.items()})
    return grads, type(linear_init(1, 1))(W=linear.weight.grad.numpy(), b=linear.bias.grad.numpy())


def assert_same(a, b, rtol=1e-10, atol=1e-13):
    for x, y in zip(parameters(a), parameters(b)):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_full_bptt_matches_torch(model, loss):
    params, out, xs, targets = setup(model, loss)
    value, grads, out_grads, _ = bptt.loss_and_grads(model, params, out, xs, targets, loss=loss)
    module, linear, xs_t, targets_t = torch_twins(params, out, xs, targets)
    hs, _ = module(xs_t)
    ref = bptt._torch_loss(loss, linear(hs), targets_t)
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    assert_same((grads, out_grads), torch_grads(params, module, linear))


def test_many_to_one_matches_torch():
    params, out, xs, _ = setup(rnn)
    target = np.array([1, 3])
    value, grads, out_grads, _ = bptt.loss_and_grads(rnn, params, out, xs, target, many_to_one=True)
    module, linear, xs_t, _ = torch_twins(params, out, xs, target)
    hs, _ = module(xs_t)
    ref = torch.nn.functional.cross_entropy(linear(hs[-1]), torch.tensor(target))
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    assert_same((grads, out_grads), torch_grads(params, module, linear))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_truncation_at_least_T_is_full_bptt(model):
    params, out, xs, targets = setup(model)
    full = bptt.loss_and_grads(model, params, out, xs, targets)
    for result in [
        bptt.chunked_bptt(model, params, out, xs, targets, k=T),
        bptt.chunked_bptt(model, params, out, xs, targets, k=T + 3),
        bptt.truncated_bptt(model, params, out, xs, targets, k1=T, k2=T),
        bptt.truncated_bptt(model, params, out, xs, targets, k1=2, k2=T),  # every window reaches step 1
    ]:
        assert result[0] == pytest.approx(full[0], rel=1e-12)
        assert_same(result[1:3], full[1:3], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(parameters(result[3]), parameters(full[3]), rtol=1e-12)


def test_chunked_is_bptt_k_k_and_differs_from_full():
    params, out, xs, targets = setup(lstm)
    xs, targets = xs[:6], targets[:6]  # k = 3 divides T = 6
    chunked = bptt.chunked_bptt(lstm, params, out, xs, targets, k=3)
    k_k = bptt.truncated_bptt(lstm, params, out, xs, targets, k1=3, k2=3)
    assert_same(chunked[1:3], k_k[1:3], rtol=1e-12, atol=1e-14)
    full = bptt.loss_and_grads(lstm, params, out, xs, targets)
    assert chunked[0] == pytest.approx(full[0], rel=1e-12)  # same loss, truncated gradient
    assert not np.allclose(chunked[1].W_hh, full[1].W_hh)
    np.testing.assert_allclose(chunked[2].W, full[2].W, rtol=1e-12)  # the output layer is not cut


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("k1, k2", [(3, 3), (2, 5), (3, 4)])
def test_numpy_and_torch_truncation_agree(model, k1, k2):
    params, out, xs, targets = setup(model, seed=1)
    module, linear, xs_t, targets_t = torch_twins(params, out, xs, targets)
    value, grads, out_grads, state = bptt.truncated_bptt(model, params, out, xs, targets, k1, k2)
    ref, ref_state = bptt.torch_truncated_bptt(module, linear, xs_t, targets_t, k1, k2)
    assert value == pytest.approx(ref, rel=1e-12)
    assert_same((grads, out_grads), torch_grads(params, module, linear))
    if k1 == k2:
        module.zero_grad(), linear.zero_grad()
        value, grads, out_grads, state = bptt.chunked_bptt(model, params, out, xs, targets, k1)
        ref, ref_state = bptt.torch_chunked_bptt(module, linear, xs_t, targets_t, k1)
        assert value == pytest.approx(ref, rel=1e-12)
        assert_same((grads, out_grads), torch_grads(params, module, linear))
    ref_state = ref_state if isinstance(ref_state, tuple) else (ref_state,)
    for ours, theirs in zip(parameters(state), ref_state):
        np.testing.assert_allclose(ours, theirs[0].numpy(), rtol=1e-12)


def test_mse_truncation_agrees_with_torch():
    params, out, xs, targets = setup(gru, "mse")
    module, linear, xs_t, targets_t = torch_twins(params, out, xs, targets)
    value, grads, out_grads, _ = bptt.chunked_bptt(gru, params, out, xs, targets, 2, loss="mse")
    ref, _ = bptt.torch_chunked_bptt(module, linear, xs_t, targets_t, 2, loss="mse")
    assert value == pytest.approx(ref, rel=1e-12)
    assert_same((grads, out_grads), torch_grads(params, module, linear))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_gradient_beyond_the_window_is_exactly_zero(model):
    params, out, xs, _ = setup(model)
    target = np.array([0, 1])
    full = bptt.input_gradient_by_lag(model, params, out, xs, target)
    cut = bptt.input_gradient_by_lag(model, params, out, xs, target, truncation=3)
    assert np.all(full > 0)
    assert np.all(cut[3:] == 0)
    np.testing.assert_allclose(cut[:3], full[:3], rtol=1e-12)


def test_clip_grad_norm_matches_torch():
    params, out, _, _ = setup(rnn)
    grads = [params, out]  # any Params-like structure will do as "gradients"
    tensors = [torch.tensor(a) for a in parameters(grads)]
    for max_norm in [0.5, 100.0]:
        ours = [g.copy() for g in grads]
        theirs = [t.clone().requires_grad_() for t in tensors]
        for t in theirs:
            t.grad = t.detach().clone()
        norm = bptt.clip_grad_norm(ours, max_norm)
        ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
        assert norm == pytest.approx(ref.item(), rel=1e-12)
        for a, t in zip(parameters(ours), theirs):
            np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-6)  # torch divides by norm + 1e-6
        assert bptt.global_norm(ours) == pytest.approx(min(norm, max_norm), rel=1e-12)


def test_errors_name_the_argument():
    params, out, xs, targets = setup(rnn)
    with pytest.raises(ValueError, match="k2: expected an integer >= 3, got 2"):
        bptt.truncated_bptt(rnn, params, out, xs, targets, k1=3, k2=2)
    with pytest.raises(ValueError, match="k: expected an integer >= 1, got 0"):
        bptt.chunked_bptt(rnn, params, out, xs, targets, k=0)
    with pytest.raises(ValueError, match="targets: expected 7 time steps"):
        bptt.chunked_bptt(rnn, params, out, xs, targets[:-1], k=2)
    with pytest.raises(ValueError, match="loss: expected one of 'cross_entropy', 'mse', got 'l1'"):
        bptt.loss_and_grads(rnn, params, out, xs, targets, loss="l1")
    with pytest.raises(ValueError, match="max_norm: expected a number > 0"):
        bptt.clip_grad_norm([params], 0.0)


def test_loss_and_grads_passes_a_finite_difference_check():
    rng = np.random.default_rng(6)
    params, out = lstm.init(2, 3, rng=rng), linear_init(3, 3, rng=rng)
    xs, targets = rng.standard_normal((3, 2, 2)), rng.integers(0, 3, size=(3, 2))
    _, grads, out_grads, _ = bptt.loss_and_grads(lstm, params, out, xs, targets)
    inputs = {**params.arrays(), "W": out.W, "b": out.b}
    analytic = {**grads.arrays(), "W": out_grads.W, "b": out_grads.b}
    error = check_gradient(lambda: bptt.loss_and_grads(lstm, params, out, xs, targets)[0], inputs, analytic)
    assert error < 1e-7


def truncated_by_definition(module, linear, xs, targets, k1, k2, chunks=False):
    """BPTT(k2; k1) of Williams & Peng (1990), written from its definition, loss by loss.

    Backpropagation happens at steps k1, 2 k1, ... and at T; the loss at step τ is
    used at the first of these times t ≥ τ and flows back through steps t - k2 < s ≤ t
    only: the state entering step t - k2 + 1 is detached. Each loss gets its own graph
    (torch autograd), so nothing is shared with the package's schedule. With
    ``chunks`` (k1 = k2 = k), the cuts are at the chunk borders k, 2 k, ... instead,
    also in a last chunk shorter than k.
    """
    T = len(xs)
    params = list(module.parameters()) + list(linear.parameters())
    grads, total = [torch.zeros_like(p) for p in params], 0.0
    for tau in range(1, T + 1):
        t = -(-tau // k1) * k1  # the first multiple of k1 at or after tau
        start = max(0, (t if chunks else min(t, T)) - k2)
        state = None
        for s in range(tau):  # step s + 1
            if s == start and state is not None:
                state = tuple(x.detach() for x in state) if isinstance(state, tuple) else state.detach()
            hs, state = module(xs[s : s + 1], state)
        loss = torch.nn.functional.cross_entropy(linear(hs[0]), targets[tau - 1]) / T
        total += loss.item()
        for g, d in zip(grads, torch.autograd.grad(loss, params)):
            g += d
    return total, grads


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("k1, k2", [(1, 1), (2, 2), (3, 3), (2, 5), (3, 4), (1, 3)])
def test_truncated_bptt_matches_its_definition_loss_by_loss(model, k1, k2):
    """numpy's truncated_bptt and torch_truncated_bptt (which share backprop_times) against
    the definition computed separately with autograd and detach."""
    params, out, xs, targets = setup(model, seed=2)
    module, linear, xs_t, targets_t = torch_twins(params, out, xs, targets)
    value, expected = truncated_by_definition(module, linear, xs_t, targets_t, k1, k2)
    expected = [g.numpy() for g in expected]
    _, grads, out_grads, _ = bptt.truncated_bptt(model, params, out, xs, targets, k1, k2)
    ours = [getattr(grads, name) for name in TORCH_NAMES] + [out_grads.W, out_grads.b]
    for a, b in zip(ours, expected):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    ref, _ = bptt.torch_truncated_bptt(module, linear, xs_t, targets_t, k1, k2)
    assert ref == pytest.approx(value, rel=1e-12)
    for p, b in zip(list(module.parameters()) + list(linear.parameters()), expected):
        np.testing.assert_allclose(p.grad.numpy(), b, rtol=1e-10, atol=1e-13)
    if k1 == k2:  # chunked BPTT: cut at every k-th step
        _, expected = truncated_by_definition(module, linear, xs_t, targets_t, k1, k2, chunks=True)
        expected = [g.numpy() for g in expected]
        _, grads, out_grads, _ = bptt.chunked_bptt(model, params, out, xs, targets, k1)
        ours = [getattr(grads, name) for name in TORCH_NAMES] + [out_grads.W, out_grads.b]
        for a, b in zip(ours, expected):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
