"""Tests of the training loop: determinism, learning, truncated BPTT, clipping, device, sampling."""

import copy
import math
from itertools import count
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from rnnbook import corpus, tasks, torch_train
from rnnbook.torch_models import CharLM, SequenceRegressor, SequenceTagger


def _adding_run(seed, steps=5):
    torch_train.seed_everything(seed)
    model = SequenceRegressor(2, 8, cell="lstm")
    rng = np.random.default_rng(seed)
    batches = (tasks.adding_problem(10, 8, rng) for _ in count())
    history = torch_train.train(
        model,
        batches,
        torch.nn.functional.mse_loss,
        steps=steps,
        eval_every=2,
        evaluate=lambda m: {"w": m.head.weight.sum()},
        progress=False,
    )
    return model, history


def test_training_is_deterministic_and_plain_data():
    m1, h1 = _adding_run(3)
    m2, h2 = _adding_run(3)
    assert h1["loss"] == h2["loss"] and h1["grad_norm"] == h2["grad_norm"] and h1["eval"] == h2["eval"]
    assert all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values()))
    assert [e["step"] for e in h1["eval"]] == [2, 4, 5]
    assert all(type(x) is float for x in h1["loss"] + h1["grad_norm"] + [h1["seconds"]])
    assert h1["loss"] != _adding_run(4)[1]["loss"]


def test_training_reduces_the_loss():
    torch_train.seed_everything(0)
    model = SequenceRegressor(1, 8, cell="gru")
    xs = torch.randn(5, 16, 1)
    batch = SimpleNamespace(xs=xs, ys=xs.sum(0))  # learn to sum five numbers
    history = torch_train.train(
        model, iter(lambda: batch, None), torch.nn.functional.mse_loss, steps=60, lr=3e-2, progress=False
    )
    assert history["loss"][-1] < 0.1 * history["loss"][0]


class _Recorder(torch.nn.Module):
    """A CharLM that records the state it is given at every call."""

    def __init__(self):
        super().__init__()
        self.lm, self.seen = CharLM(4, 3, cell="gru"), []

    def forward(self, xs, state=None):
        self.seen.append(state)
        return self.lm(xs, state)


def test_truncated_bptt_carries_detached_state_and_resets():
    streams = corpus.stream_layout(np.arange(40) % 4, 2)  # (2, 20)
    model = _Recorder()
    torch_train.train(
        model,
        corpus.endless_chunks(streams, 5),
        torch_train.sequence_cross_entropy,
        steps=6,
        carry_state=True,
        progress=False,
    )
    # 19 input columns -> chunks of 5, 5, 5, 4; then a new pass starts from zero
    assert model.seen[0] is None and model.seen[4] is None
    for state in model.seen[1:4] + model.seen[5:]:
        assert state.shape == (1, 2, 3) and not state.requires_grad
    model = _Recorder()
    torch_train.train(
        model, corpus.endless_chunks(streams, 5), torch_train.sequence_cross_entropy, steps=3, progress=False
    )
    assert model.seen == [None, None, None]  # carry_state=False: every batch from zero


def test_truncated_bptt_with_one_chunk_equals_full_bptt():
    """With k >= T the chunked gradient is the full BPTT gradient."""
    torch.manual_seed(0)
    lm = CharLM(5, 6, cell="lstm")
    codes = torch.randint(0, 5, (12, 2))
    logits, _ = lm(codes[:-1])
    torch_train.sequence_cross_entropy(logits, codes[1:]).backward()
    full = [p.grad.clone() for p in lm.parameters()]
    lm.zero_grad()
    (chunk,) = corpus.tbptt_chunks(codes.numpy().T, 20)
    logits, _ = lm(torch.as_tensor(chunk.xs))
    torch_train.sequence_cross_entropy(logits, torch.as_tensor(chunk.ys)).backward()
    for g, p in zip(full, lm.parameters()):
        torch.testing.assert_close(p.grad, g)


def _gradient(model, batch):
    """The loss's gradient for every parameter, computed on a copy of ``model`` by autograd."""
    twin = copy.deepcopy(model)
    xs, ys = (torch.as_tensor(a, dtype=torch.float32) for a in (batch.xs, batch.ys))  # the model's dtype
    loss = torch.nn.functional.mse_loss(twin(xs)[0], ys)
    return [g.detach() for g in torch.autograd.grad(loss, list(twin.parameters()))]


def _clipped(grads, max_norm):
    """Pascanu et al. (2013), Algorithm 1: rescale to norm ``max_norm`` when the norm is larger."""
    norm = math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads))
    return [g * min(1.0, max_norm / norm) for g in grads], norm


@pytest.mark.parametrize("max_norm", [0.05, float("inf")])
def test_train_step_clips_then_steps(max_norm):
    """With SGD at lr = 1 one step changes the parameters by exactly -clip(g)."""
    torch.manual_seed(0)
    model = SequenceRegressor(2, 4)
    batch = tasks.adding_problem(6, 3, rng=0)
    expected, norm = _clipped(_gradient(model, batch), max_norm)
    assert norm > 0.05, "the test needs a gradient that clipping shortens"
    before = [p.detach().clone() for p in model.parameters()]
    _, returned_norm, _ = torch_train.train_step(
        model, torch.optim.SGD(model.parameters(), lr=1.0), batch, torch.nn.functional.mse_loss, max_norm=max_norm
    )
    assert returned_norm == pytest.approx(norm, rel=1e-5)  # the norm before clipping
    for p, p0, g in zip(model.parameters(), before, expected):
        torch.testing.assert_close(p.detach() - p0, -g, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("clip, max_norm", [(0.05, 0.05), (None, float("inf"))])
def test_train_passes_its_clip_to_the_step(monkeypatch, clip, max_norm):
    """``train(clip=...)``: its first update, with Adam swapped for SGD at lr = 1, is -clip(g)."""
    monkeypatch.setattr(torch.optim, "Adam", torch.optim.SGD)
    torch.manual_seed(0)
    model = SequenceRegressor(2, 4)
    batch = tasks.adding_problem(6, 3, rng=0)
    expected, _ = _clipped(_gradient(model, batch), max_norm)
    before = [p.detach().clone() for p in model.parameters()]
    torch_train.train(model, iter([batch]), torch.nn.functional.mse_loss, steps=1, lr=1.0, clip=clip, progress=False)
    for p, p0, g in zip(model.parameters(), before, expected):
        torch.testing.assert_close(p.detach() - p0, -g, rtol=1e-4, atol=1e-7)


def test_stream_loss_is_the_mean_over_characters():
    torch.manual_seed(0)
    lm = CharLM(4, 5)
    streams = np.random.default_rng(0).integers(0, 4, (3, 11))
    chunked = torch_train.stream_loss(lm, list(corpus.tbptt_chunks(streams, 3)), torch_train.sequence_cross_entropy)
    (whole,) = corpus.tbptt_chunks(streams, 100)
    one = torch_train.stream_loss(lm, [whole], torch_train.sequence_cross_entropy)
    assert chunked == pytest.approx(one, rel=1e-6)


def test_errors():
    model = SequenceRegressor(2, 4)
    batches = [tasks.adding_problem(5, 2, rng=0)]
    with pytest.raises(ValueError, match="batches: expected at least steps = 3 batches, got 1"):
        torch_train.train(model, iter(batches), torch.nn.functional.mse_loss, steps=3, progress=False)
    with pytest.raises(ValueError, match="steps: expected an integer >= 1, got 0"):
        torch_train.train(model, iter(batches), torch.nn.functional.mse_loss, steps=0)
    with pytest.raises(ValueError, match="lr: expected a number > 0"):
        torch_train.train(model, iter(batches), torch.nn.functional.mse_loss, steps=1, lr=0)
    with pytest.raises(ValueError, match="clip: expected a number > 0, got -1.0"):
        torch_train.train(model, iter(batches), torch.nn.functional.mse_loss, steps=1, clip=-1)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_cuda_asked_but_absent():
    with pytest.raises(ValueError, match="device: got 'cuda', but no CUDA device is available"):
        torch_train.resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (run this file on a GPU machine)")
def test_training_on_cuda_matches_the_cpu():
    """The same model and batches on the GPU and on the CPU: the same losses and parameters,
    to float32 rounding (cuDNN's kernels sum in another order)."""
    torch.manual_seed(0)
    models = {"cpu": SequenceRegressor(2, 8, cell="lstm")}
    models["cuda"] = copy.deepcopy(models["cpu"])
    batches = [tasks.adding_problem(20, 16, rng=i) for i in range(5)]
    histories = {
        device: torch_train.train(
            model, iter(batches), torch.nn.functional.mse_loss, steps=5, clip=0.5, device=device, progress=False
        )
        for device, model in models.items()
    }
    assert next(models["cuda"].parameters()).is_cuda
    np.testing.assert_allclose(histories["cuda"]["loss"], histories["cpu"]["loss"], rtol=1e-4)
    np.testing.assert_allclose(histories["cuda"]["grad_norm"], histories["cpu"]["grad_norm"], rtol=1e-4)
    for p_gpu, p_cpu in zip(models["cuda"].parameters(), models["cpu"].parameters()):
        torch.testing.assert_close(p_gpu.cpu(), p_cpu, rtol=1e-4, atol=1e-5)


def test_sampling_temperature():
    logits = torch.tensor([[1.0, 2.0, 0.5]]).repeat(4000, 1)
    g = torch.Generator().manual_seed(0)
    cold = torch_train.sample_next(logits, 1e-3, g)
    assert torch.all(cold == 1)  # temperature -> 0: the argmax
    assert torch.equal(torch_train.sample_next(logits, None), cold)
    warm = torch.bincount(torch_train.sample_next(logits, 1.0, g), minlength=3) / 4000
    torch.testing.assert_close(warm, torch.softmax(logits[0], 0), atol=0.03, rtol=0)
    hot = torch.bincount(torch_train.sample_next(logits, 1e3, g), minlength=3) / 4000
    torch.testing.assert_close(hot, torch.full((3,), 1 / 3), atol=0.03, rtol=0)
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="temperature: expected a number > 0"):
            torch_train.sample_next(logits, bad)


def test_sample_text_is_seeded():
    vocab = corpus.Vocab.from_text("abc \n")
    torch.manual_seed(0)
    lm = CharLM(len(vocab), 8)
    a = torch_train.sample_text(lm, vocab, "ab", 40, temperature=1.0, seed=1)
    assert a == torch_train.sample_text(lm, vocab, "ab", 40, temperature=1.0, seed=1)
    assert len(a) == 40 and set(a) <= set(vocab.chars)
    with pytest.raises(ValueError, match="prime"):
        torch_train.sample_text(lm, vocab, "", 5)
    with pytest.raises(ValueError, match="unknown 'z'"):
        torch_train.sample_text(lm, vocab, "z", 5)


def test_rollout_feeds_predictions_back():
    torch.manual_seed(0)
    model = SequenceTagger(1, 4, 1, cell="rnn")
    xs = np.random.default_rng(0).standard_normal((6, 2, 1)).astype(np.float32)
    future = torch_train.rollout(model, xs, 3)
    with torch.no_grad():
        out, _ = model(torch.as_tensor(xs))
        for k in range(3):
            np.testing.assert_allclose(future[k], out[-1].numpy(), rtol=1e-5, atol=1e-6)
            out, _ = model(torch.cat([torch.as_tensor(xs), torch.as_tensor(future[: k + 1])]))


def test_predict_and_run_eval_restore_modes():
    model = SequenceRegressor(2, 4)
    batch = tasks.adding_problem(5, 3, rng=0)
    assert torch_train.predict(model, batch).shape == (3, 1)
    model.train()
    assert torch_train.run_eval(model, lambda m: {"training": float(m.training)}) == {"training": 0.0}
    assert model.training
