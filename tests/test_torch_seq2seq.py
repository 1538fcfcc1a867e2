"""PyTorch encoder-decoders: equal to the numpy attention, padding-blind, decoding consistent, trainable."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import attention, decoding, seq2seq, torch_seq2seq
from rnnbook.seq2seq_data import BOS, EOS, PAD


@pytest.mark.parametrize("score", torch_seq2seq.SCORES)
def test_attention_module_equals_numpy(score):
    rng = np.random.default_rng(0)
    H_q = 6 if score == "dot" else 4
    query, keys = rng.standard_normal((3, H_q)), rng.standard_normal((5, 3, 6))
    mask = np.ones((5, 3), dtype=bool)
    mask[2:, 0] = False
    module = torch_seq2seq.Attention(score, H_q, 6, 7).double()
    params = {
        "additive": lambda: attention.AdditiveParams(
            *(p.detach().numpy().copy() for p in (module.W_q, module.W_k, module.v))
        ),
        "general": lambda: attention.GeneralParams(module.W.detach().numpy().copy()),
        "dot": lambda: None,
    }[score]()
    forward, backward = attention.SCORES[score]
    context, weights, cache = forward(query, keys, params, mask)
    d_context = rng.standard_normal(context.shape)
    grads, d_query, d_keys = backward(d_context, cache)
    q, k = torch.tensor(query, requires_grad=True), torch.tensor(keys, requires_grad=True)
    c, w = module(q, k, torch.from_numpy(mask))
    (c * torch.from_numpy(d_context)).sum().backward()
    np.testing.assert_allclose(c.detach().numpy(), context, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w.detach().numpy(), weights, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(q.grad.numpy(), d_query, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(k.grad.numpy(), d_keys, rtol=1e-10, atol=1e-13)
    for name, p in module.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), getattr(grads, name), rtol=1e-10, atol=1e-13)


def reversal(rng, B=8):
    src, n, tgt, m = seq2seq.reversal_batch(rng, B, 2, 5, 4)
    return torch.from_numpy(src), torch.from_numpy(n), torch.from_numpy(tgt), torch.from_numpy(m)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("score", [None, *torch_seq2seq.SCORES])
def test_padding_does_not_change_an_example(cell, score):
    torch.manual_seed(0)
    model = torch_seq2seq.Seq2Seq(7, 7, hidden=8, cell=cell, attention=score, embedding_dim=5).double().eval()
    src, n, tgt, m = reversal(np.random.default_rng(1))
    with torch.no_grad():
        batch = model(src, n, tgt)
        for b in range(len(n)):
            alone = model(src[: n[b], b : b + 1], n[b : b + 1], tgt[: m[b], b : b + 1])
            torch.testing.assert_close(batch[: m[b], b], alone[:, 0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("score", [None, "additive"])
def test_greedy_batch_and_beam_of_one_agree_with_greedy(score):
    torch.manual_seed(0)
    model = torch_seq2seq.Seq2Seq(7, 7, hidden=8, attention=score, embedding_dim=5)
    src, n, _, _ = reversal(np.random.default_rng(2))
    ids, weights = torch_seq2seq.greedy_batch(model, src, n, max_len=6)
    assert (weights is None) == (score is None)
    for b in range(len(n)):
        f = torch_seq2seq.next_log_probs_fn(model, src[: n[b], b].numpy())
        tokens, score_b = decoding.greedy(f, BOS, EOS, max_len=6)
        assert tuple(ids[: len(tokens), b]) == tokens
        assert decoding.beam_search(f, BOS, EOS, beam_size=1, max_len=6) == [(tokens, score_b)]
        if weights is not None:
            assert np.all(weights[:, n[b] :, b] == 0)


def test_scheduled_sampling_feeds_own_tokens():
    torch.manual_seed(0)
    model = torch_seq2seq.Seq2Seq(7, 7, hidden=8, embedding_dim=5).eval()
    src, n, tgt, _ = reversal(np.random.default_rng(3))
    with torch.no_grad():
        forced = model(src, n, tgt)
        same = model(src, n, tgt, teacher_forcing=1.0, generator=torch.Generator().manual_seed(0))
        free = model(src, n, tgt, teacher_forcing=0.0, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(forced, same, rtol=0, atol=0)
    torch.testing.assert_close(free[0], forced[0], rtol=0, atol=0)  # step 1 reads BOS either way
    assert not torch.allclose(free[1:], forced[1:])
    decay = torch_seq2seq.inverse_sigmoid_decay(10)
    assert decay(0) == pytest.approx(10 / 11) and decay(10**6) < 1e-300


def test_masked_cross_entropy_ignores_padding():
    logits = torch.randn(3, 2, 5, generator=torch.Generator().manual_seed(0))
    tgt = torch.tensor([[3, 4], [EOS, 3], [PAD, EOS]])
    expected = -torch.log_softmax(logits, -1).gather(2, tgt.clamp(min=0)[..., None])[..., 0]
    real = tgt != PAD
    assert torch_seq2seq.masked_cross_entropy(logits, tgt).item() == pytest.approx(expected[real].mean().item())


def test_learns_to_reverse_with_attention():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = torch_seq2seq.Seq2Seq(8, 8, hidden=32, attention="additive", embedding_dim=8)

    def batches():
        while True:
            yield seq2seq.reversal_batch(rng, 32, 2, 5, 5)

    src, n, tgt, m = seq2seq.reversal_batch(np.random.default_rng(9), 200, 2, 5, 5)

    def evaluate(net):
        ids, _ = torch_seq2seq.greedy_batch(net, src, n, max_len=6)
        return {"exact": float(torch_seq2seq.exact_match(ids, tgt, m).mean())}

    history = torch_seq2seq.train_seq2seq(
        model, batches(), steps=250, lr=1e-2, evaluate=evaluate, eval_every=250, progress=False
    )
    assert history["eval"][-1]["exact"] > 0.9


def test_clear_errors():
    with pytest.raises(ValueError, match="cell: expected one of 'gru', 'lstm', got 'rnn'"):
        torch_seq2seq.Seq2Seq(5, 5, cell="rnn")
    with pytest.raises(ValueError, match="attention: expected one of 'additive', 'dot', 'general', got 'luong'"):
        torch_seq2seq.Seq2Seq(5, 5, attention="luong")
    with pytest.raises(ValueError, match="the dot score needs query_size = key_size, got 4 and 6"):
        torch_seq2seq.Attention("dot", 4, 6)
    model = torch_seq2seq.Seq2Seq(5, 5, hidden=4)
    src = torch.full((3, 2), 3)
    with pytest.raises(ValueError, match=r"src_lengths: expected \(B,\) = \(2,\) lengths in \[1, 3\], got \[0, 3\]"):
        model(src, torch.tensor([0, 3]), src)
    with pytest.raises(ValueError, match="teacher_forcing: expected a number <= 1"):
        model(src, torch.tensor([3, 3]), src, teacher_forcing=2.0)
