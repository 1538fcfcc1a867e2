"""rnnbook.masking and rnnbook.deep against PyTorch in float64, with and without packed sequences.

The reference is torch.nn.RNN/LSTM/GRU with the same weights, run on a padded batch
or on the packed batch (pack_padded_sequence, enforce_sorted=False) and padded back
with pad_packed_sequence. The loss L = <G, outputs> + <G_state, final states> makes
the gradients exactly what ``backward`` computes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnbook import deep, gradcheck, gru, lstm, masking, rnn

CELLS = {"rnn": rnn, "lstm": lstm, "gru": gru}
RTOL = 1e-10
T, B, D, H = 6, 4, 3, 5
LENGTHS = np.array([4, 6, 1, 3])  # unsorted, one of length T, one of length 1


def assert_close(actual, expected, rtol=RTOL):
    scale = max(float(np.max(np.abs(expected))), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def parts(state):
    return list(state) if isinstance(state, tuple) else [state]


def torch_run(module, xs, state, lengths, g_out, g_state):
    """Outputs, final states and every gradient of the torch module (float64)."""
    xs_t = torch.tensor(xs, requires_grad=True)
    state_t = [torch.tensor(s, requires_grad=True) for s in parts(state)]
    inputs = xs_t if lengths is None else pack_padded_sequence(xs_t, torch.tensor(lengths), enforce_sorted=False)
    out, final = module(inputs, tuple(state_t) if len(state_t) == 2 else state_t[0])
    if lengths is not None:
        out, _ = pad_packed_sequence(out, total_length=xs.shape[0])
    final = list(final) if isinstance(final, tuple) else [final]
    loss = (out * torch.tensor(g_out)).sum()
    for f, g in zip(final, parts(g_state), strict=True):
        loss = loss + (f * torch.tensor(g)).sum()
    loss.backward()
    return {
        "out": out.detach().numpy(),
        "final": [f.detach().numpy() for f in final],
        "grads": {name: p.grad.numpy() for name, p in module.named_parameters()},
        "dxs": xs_t.grad.numpy(),
        "d_state0": [s.grad.numpy() for s in state_t],
    }


def random_state(cell, shape, rng):
    if cell == "lstm":
        return tuple(rng.standard_normal(shape) for _ in range(2))
    return rng.standard_normal(shape)


# --- one cell with lengths --------------------------------------------------------------


def cell_problem(cell, seed):
    """The cell's module, a generator, random weights and random inputs (T, B, D)."""
    rng = np.random.default_rng(seed)
    params = CELLS[cell].init(D, H, rng=rng)
    return CELLS[cell], rng, params, rng.standard_normal((T, B, D))


@pytest.mark.parametrize("cell", CELLS)
def test_cell_with_lengths_equals_packed_torch(cell):
    model, rng, params, xs = cell_problem(cell, 3)
    state, d_state = random_state(cell, (B, H), rng), random_state(cell, (B, H), rng)
    g_out = rng.standard_normal((T, B, H))
    hs, final, cache = model.forward(xs, state, params, lengths=LENGTHS)
    grads, dxs, d_state0 = model.backward(g_out, cache, d_state)
    ref = torch_run(params.to_torch(), xs, _batched(state), LENGTHS, g_out, _batched(d_state))
    assert_close(hs, ref["out"])
    for mine, theirs in zip(parts(final), ref["final"], strict=True):
        assert_close(mine, theirs[0])
    for field, grad in grads.arrays().items():
        assert_close(grad, ref["grads"][deep.torch_name(field, 0, 0)])
    assert_close(dxs, ref["dxs"])
    for mine, theirs in zip(parts(d_state0), ref["d_state0"], strict=True):
        assert_close(mine, theirs[0])


def _batched(state):
    """A (B, H) state as PyTorch's (1, B, H)."""
    return tuple(s[None] for s in state) if isinstance(state, tuple) else state[None]


@pytest.mark.parametrize("cell", CELLS)
def test_full_lengths_change_nothing(cell):
    model, rng, params, xs = cell_problem(cell, 4)
    hs, final, cache = model.forward(xs, None, params)
    hs_l, final_l, cache_l = model.forward(xs, None, params, lengths=np.full(B, T))
    assert_close(hs_l, hs, rtol=1e-13)
    g = rng.standard_normal((T, B, H))
    grads, dxs, _ = model.backward(g, cache)
    grads_l, dxs_l, _ = model.backward(g, cache_l)
    assert_close(dxs_l, dxs, rtol=1e-12)
    for field, a in grads.arrays().items():
        assert_close(getattr(grads_l, field), a, rtol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_padding_values_do_not_matter(cell):
    """Whatever the padding holds, outputs, final state and gradients are the same."""
    model, rng, params, xs = cell_problem(cell, 5)
    other = xs.copy()
    other[~masking.step_mask(LENGTHS, T)] = 1e3
    hs1, f1, c1 = model.forward(xs, None, params, lengths=LENGTHS)
    hs2, f2, c2 = model.forward(other, None, params, lengths=LENGTHS)
    assert np.array_equal(hs1, hs2)
    for a, b in zip(parts(f1), parts(f2)):
        assert np.array_equal(a, b)
    g = rng.standard_normal((T, B, H))
    assert np.array_equal(model.backward(g, c1)[1], model.backward(g, c2)[1])


def test_gru_cho_variant_accepts_lengths():
    """Cho's variant has no torch twin: checked by finite differences."""
    rng = np.random.default_rng(6)
    params = gru.init(2, 3, rng=rng)
    xs = rng.standard_normal((4, 3, 2))
    lengths = np.array([2, 4, 1])
    g = rng.standard_normal((4, 3, 3))

    def loss():
        hs, h, _ = gru.forward(xs, None, params, lengths, variant="cho")
        return float((g * hs).sum() + h.sum())

    _, h, cache = gru.forward(xs, None, params, lengths, variant="cho")
    grads, dxs, _ = gru.backward(g, cache, np.ones_like(h))
    inputs = {**params.arrays(), "xs": xs}
    assert gradcheck.check_gradient(loss, inputs, {**grads.arrays(), "xs": dxs}) < 1e-7


# --- the deep network against torch: cell × layers × directions × lengths -----------


@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_deep_equals_torch(cell, num_layers, bidirectional, packed):
    rng = np.random.default_rng(num_layers + 2 * bidirectional + 4 * packed)
    params = deep.init(cell, D, H, num_layers=num_layers, bidirectional=bidirectional, rng=rng)
    K = 2 if bidirectional else 1
    lengths = LENGTHS if packed else None
    xs = rng.standard_normal((T, B, D))
    state_shape = (num_layers * K, B, H)
    state, d_state = random_state(cell, state_shape, rng), random_state(cell, state_shape, rng)
    g_out = rng.standard_normal((T, B, K * H))
    ys, final, cache = deep.forward(xs, state, params, lengths)
    grads, dxs, d_state0 = deep.backward(g_out, cache, d_state)
    ref = torch_run(params.to_torch(), xs, state, lengths, g_out, d_state)
    if packed:  # torch's padding is zero, and so is ours
        assert np.all(ys[~masking.step_mask(lengths, T)] == 0)
    assert_close(ys, ref["out"])
    for mine, theirs in zip(parts(final), ref["final"], strict=True):
        assert_close(mine, theirs)
    mine = grads.arrays()
    assert set(mine) == set(ref["grads"])
    for name, theirs in ref["grads"].items():
        assert_close(mine[name], theirs)
    assert_close(dxs, ref["dxs"])
    for mine_0, theirs in zip(parts(d_state0), ref["d_state0"], strict=True):
        assert_close(mine_0, theirs)


def test_backward_direction_starts_at_each_sequence_end():
    """The trap of packed bidirectional h_n: the backward half is the state after position 1,
    and its output at the last real step has seen that step only."""
    rng = np.random.default_rng(7)
    params = deep.init("gru", D, H, bidirectional=True, rng=rng)
    xs = rng.standard_normal((T, B, D))
    ys, h_n, _ = deep.forward(xs, None, params, LENGTHS)
    for b, length in enumerate(LENGTHS):
        alone, h_alone, _ = deep.forward(xs[:length, b : b + 1], None, params)
        assert_close(ys[:length, b], alone[:, 0], rtol=1e-12)
        assert_close(h_n[:, b], h_alone[:, 0], rtol=1e-12)
        assert_close(h_n[1, b], ys[0, b, H:], rtol=1e-12)  # backward final = its output at position 1
        one_step = gru.forward(xs[length - 1 : length, b : b + 1], None, params.layers[0][1])[0]
        assert_close(ys[length - 1, b, H:], one_step[0, 0], rtol=1e-12)


def test_none_state_means_zeros():
    rng = np.random.default_rng(8)
    params = deep.init("lstm", D, H, num_layers=2, bidirectional=True, rng=rng)
    xs = rng.standard_normal((T, B, D))
    zeros = (np.zeros((4, B, H)), np.zeros((4, B, H)))
    assert np.array_equal(deep.forward(xs, None, params, LENGTHS)[0], deep.forward(xs, zeros, params, LENGTHS)[0])


@pytest.mark.parametrize("cell", CELLS)
def test_deep_gradcheck(cell):
    """Finite differences on a small 2-layer bidirectional net with lengths."""
    rng = np.random.default_rng(9)
    params = deep.init(cell, 2, 2, num_layers=2, bidirectional=True, rng=rng)
    xs = rng.standard_normal((3, 2, 2))
    lengths = np.array([3, 2])
    state = random_state(cell, (4, 2, 2), rng)
    g_out = rng.standard_normal((3, 2, 4))
    g_state = random_state(cell, (4, 2, 2), rng)

    def loss():
        ys, final, _ = deep.forward(xs, state, params, lengths)
        return float((g_out * ys).sum() + sum((g * f).sum() for g, f in zip(parts(g_state), parts(final))))

    _, _, cache = deep.forward(xs, state, params, lengths)
    grads, dxs, d_state0 = deep.backward(g_out, cache, g_state)
    inputs = {**params.arrays(), "xs": xs}
    analytic = {**grads.arrays(), "xs": dxs}
    for k, (s, d) in enumerate(zip(parts(state), parts(d_state0))):
        inputs[f"state{k}"], analytic[f"state{k}"] = s, d
    assert gradcheck.check_gradient(loss, inputs, analytic) < 1e-7


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (3, True)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_round_trip_is_exact(cell, num_layers, bidirectional, dtype):
    torch.manual_seed(0)
    module = getattr(torch.nn, cell.upper())(3, 4, num_layers=num_layers, bidirectional=bidirectional, dtype=dtype)
    params = deep.Params.from_torch(module)
    back = params.to_torch()
    assert (back.num_layers, back.bidirectional, back.batch_first) == (num_layers, bidirectional, False)
    for name, p in module.named_parameters():
        assert torch.equal(getattr(back, name), p)
    assert params.arrays().keys() == dict(module.named_parameters()).keys()


# --- masked loss and helpers ----------------------------------------------------------


@pytest.mark.parametrize("average", ["token", "sequence"])
def test_masked_cross_entropy_equals_torch(average):
    rng = np.random.default_rng(10)
    logits = rng.standard_normal((T, B, 7))
    targets = rng.integers(0, 7, size=(T, B))
    loss, dlogits = masked_cross_entropy = masking.masked_cross_entropy(logits, targets, LENGTHS, average)
    z = torch.tensor(logits, requires_grad=True)
    mask = torch.tensor(masking.step_mask(LENGTHS, T))
    per_token = torch.nn.functional.cross_entropy(
        z.reshape(-1, 7), torch.tensor(targets).reshape(-1), reduction="none"
    ).reshape(T, B)
    if average == "token":
        ignored = torch.tensor(np.where(masking.step_mask(LENGTHS, T), targets, -100))
        ref = torch.nn.functional.cross_entropy(z.reshape(-1, 7), ignored.reshape(-1), ignore_index=-100)
    else:
        ref = ((per_token * mask).sum(0) / torch.tensor(LENGTHS)).mean()
    ref.backward()
    assert abs(loss - ref.item()) < 1e-12
    assert_close(dlogits, z.grad.numpy())
    assert masked_cross_entropy[0] == loss


def test_reverse_padded_is_its_own_inverse():
    xs = np.random.default_rng(0).standard_normal((T, B, 2))
    once = masking.reverse_padded(xs, LENGTHS)
    assert np.array_equal(masking.reverse_padded(once, LENGTHS), xs)
    for b, length in enumerate(LENGTHS):
        assert np.array_equal(once[:length, b], xs[:length, b][::-1])
        assert np.array_equal(once[length:, b], xs[length:, b])


def test_last_valid_equals_final_state_of_unidirectional_net():
    rng = np.random.default_rng(11)
    params = rnn.init(D, H, rng=rng)
    hs, h, _ = rnn.forward(rng.standard_normal((T, B, D)), None, params, LENGTHS)
    assert np.array_equal(masking.last_valid(hs, LENGTHS), h)


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lengths,error,message",
    [
        (np.array([4, 6, 0, 3]), ValueError, r"lengths: expected integers in \[1, T\] = \[1, 6\], got 0 at index 2"),
        (np.array([4, 7, 1, 3]), ValueError, r"lengths: expected integers in \[1, T\] = \[1, 6\], got 7 at index 1"),
        (np.array([4, 6, 1]), ValueError, r"lengths: expected shape \(B,\) = \(4,\), got \(3,\)"),
        (np.array([4.0, 6, 1, 3]), TypeError, "lengths: expected integers"),
    ],
)
@pytest.mark.parametrize("where", ["cell", "deep"])
def test_bad_lengths(where, lengths, error, message):
    xs = np.zeros((T, B, D))
    with pytest.raises(error, match=message):
        if where == "cell":
            lstm.forward(xs, None, lstm.init(D, H, rng=0), lengths)
        else:
            deep.forward(xs, None, deep.init("lstm", D, H, rng=0), lengths)


def test_bad_deep_arguments():
    params = deep.init("lstm", D, H, num_layers=2, bidirectional=True, rng=0)
    xs = np.zeros((T, B, D))
    with pytest.raises(ValueError, match=r"xs: expected shape \(T, B, D\) = \(6, 4, 3\), got \(6, 4, 2\) \(D mismatch"):
        deep.forward(np.zeros((T, B, 2)), None, params)
    with pytest.raises(
        TypeError,
        match=r"state: expected None or a pair \(h, c\) of "
        r"\(num_layers·num_directions, B, H\) arrays, got a ndarray",
    ):
        deep.forward(xs, np.zeros((4, B, H)), params)
    with pytest.raises(
        ValueError,
        match=r"state\[0\]: expected shape \(num_layers·num_directions, B, H\) = "
        r"\(4, 4, 5\), got \(2, 4, 5\)",
    ):
        deep.forward(xs, (np.zeros((2, B, H)), np.zeros((2, B, H))), params)
    gru_params = deep.init("gru", D, H, rng=0)
    with pytest.raises(
        TypeError, match=r"state: expected None or one array \(num_layers·num_directions, B, H\), got a tuple"
    ):
        deep.forward(xs, (np.zeros((1, B, H)),), gru_params)
    ys, _, cache = deep.forward(xs, None, params)
    with pytest.raises(ValueError, match=r"d_outputs: expected shape \(T, B, K·H\) = \(6, 4, 10\), got \(6, 4, 5\)"):
        deep.backward(np.zeros((T, B, H)), cache)
    with pytest.raises(TypeError, match="cache: expected the deep.Cache"):
        deep.backward(ys, None)


def test_bad_modules_are_refused():
    with pytest.raises(ValueError, match="nonlinearity='tanh'"):
        deep.Params.from_torch(torch.nn.RNN(2, 3, nonlinearity="relu"))
    with pytest.raises(ValueError, match="proj_size=0"):
        deep.Params.from_torch(torch.nn.LSTM(2, 3, proj_size=2))
    with pytest.raises(TypeError, match="module: expected a torch.nn.RNN, LSTM or GRU, got Linear"):
        deep.Params.from_torch(torch.nn.Linear(2, 3))


def test_bad_masked_backward_arguments():
    params = lstm.init(D, H, rng=0)
    hs, final, cache = lstm.forward(np.zeros((T, B, D)), None, params, LENGTHS)
    with pytest.raises(TypeError, match=r"d_state: expected None or a pair \(h, c\) of \(B, H\) arrays, got a ndarray"):
        lstm.backward(hs, cache, np.zeros((B, H)))
    with pytest.raises(ValueError, match=r"d_state\[1\]: expected shape \(B, H\) = \(4, 5\), got \(4, 4\)"):
        lstm.backward(hs, cache, (np.zeros((B, H)), np.zeros((B, 4))))
    with pytest.raises(ValueError, match=r"dhs: expected shape \(T, B, H\) = \(6, 4, 5\), got \(5, 4, 5\)"):
        lstm.backward(hs[1:], cache)
