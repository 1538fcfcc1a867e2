"""The numpy encoder-decoder: gradients by finite differences, masking, and learning the reversal task."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rnnbook import decoding, optim, seq2seq
from rnnbook.gradcheck import numerical_gradient, relative_error


def small_problem(seed=0):
    rng = np.random.default_rng(seed)
    params = seq2seq.init(6, 6, hidden=4, attention_size=3, rng=rng)
    batch = seq2seq.reversal_batch(rng, batch_size=3, min_len=1, max_len=3, n_symbols=3)
    return params, batch


def flat(params):
    """Every array of the nested parameters, named."""
    out = {}
    for part in dataclasses.fields(params):
        sub = getattr(params, part.name)
        for f in dataclasses.fields(sub):
            out[f"{part.name}.{f.name}"] = getattr(sub, f.name)
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_gradients_by_finite_differences(seed):
    params, batch = small_problem(seed)
    assert batch[1].min() < batch[1].max()  # padding in the batch
    _, grads = seq2seq.loss_and_grads(params, *batch)
    analytic, numeric = [], []
    for name, array in flat(params).items():
        analytic.append(flat(grads)[name].ravel())
        numeric.append(numerical_gradient(lambda: seq2seq.loss_and_grads(params, *batch)[0], array).ravel())
    # Relative to the largest entry over all parameters: the attention's W_q gets
    # gradients of 1e-5 here, where central differences have only absolute accuracy.
    assert relative_error(np.concatenate(analytic), np.concatenate(numeric)) < 1e-8


def test_padding_changes_nothing():
    params, (src, n, tgt, m) = small_problem(3)
    loss, grads = seq2seq.loss_and_grads(params, src, n, tgt, m)
    src2, tgt2 = src.copy(), tgt.copy()
    src2[np.arange(len(src))[:, None] >= n] = 5
    tgt2[np.arange(len(tgt))[:, None] >= m] = 4
    loss2, grads2 = seq2seq.loss_and_grads(params, src2, n, tgt2, m)
    assert loss2 == pytest.approx(loss, rel=1e-13)
    for name, g in flat(grads).items():
        np.testing.assert_allclose(flat(grads2)[name], g, rtol=1e-11, atol=1e-15)


def test_masked_loss_is_the_mean_over_real_tokens():
    """The batch loss is the token-weighted mean of each example's own loss."""
    params, (src, n, tgt, m) = small_problem(4)
    loss, _ = seq2seq.loss_and_grads(params, src, n, tgt, m)
    per_example = [
        seq2seq.loss_and_grads(params, src[: n[b], b : b + 1], n[b : b + 1], tgt[: m[b], b : b + 1], m[b : b + 1])[0]
        for b in range(len(n))
    ]
    assert loss == pytest.approx(np.dot(per_example, m) / m.sum(), rel=1e-12)


def test_decoding_function_matches_the_teacher_forced_loss():
    params, (src, n, tgt, m) = small_problem(5)
    seq = tuple(tgt[: m[0], 0])
    f = seq2seq.next_log_probs_fn(params, src[: n[0], 0])
    score = sum(f((seq2seq.BOS,) + seq[:i])[t] for i, t in enumerate(seq))
    loss, _ = seq2seq.loss_and_grads(params, src[: n[0], :1], n[:1], tgt[: m[0], :1], m[:1])
    assert -score / m[0] == pytest.approx(loss, rel=1e-12)
    weights = seq2seq.attention_matrix(params, src[: n[0], 0], seq)
    assert weights.shape == (m[0], n[0])
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-13)


def test_learns_to_reverse():
    rng = np.random.default_rng(0)
    params = seq2seq.init(8, 8, hidden=32, attention_size=32, rng=rng)
    opt = optim.Adam(params, lr=1e-2)
    for _ in range(300):
        _, grads = seq2seq.loss_and_grads(params, *seq2seq.reversal_batch(rng, 32, 2, 6, 5))
        opt.step(grads)
    src, n, tgt, m = seq2seq.reversal_batch(rng, 50, 2, 6, 5)
    correct = 0
    for b in range(50):
        f = seq2seq.next_log_probs_fn(params, src[: n[b], b])
        correct += decoding.greedy(f, seq2seq.BOS, seq2seq.EOS, 10)[0] == tuple(tgt[: m[b], b])
    assert correct >= 45


def test_clear_errors():
    params, (src, n, tgt, m) = small_problem()
    with pytest.raises(ValueError, match=r"src_lengths: expected lengths in \[1, 3\], got \[0, "):
        seq2seq.loss_and_grads(params, src, n * 0, tgt, m)
    with pytest.raises(ValueError, match=r"src: expected token ids in \[0, 5\]"):
        seq2seq.loss_and_grads(params, src + 10, n, tgt, m)
    with pytest.raises(TypeError, match="tgt: expected an integer numpy array with 2 dimensions"):
        seq2seq.loss_and_grads(params, src, n, tgt.astype(float), m)
    with pytest.raises(ValueError, match=r"tgt_lengths: expected integer lengths of shape \(B,\) = \(3,\)"):
        seq2seq.loss_and_grads(params, src, n, tgt, m[:2])
