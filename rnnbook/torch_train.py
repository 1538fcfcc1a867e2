"""One training loop for the PyTorch models, and text sampling.

:func:`train` runs Adam with gradient-norm clipping (Pascanu et al. 2013) for a
fixed number of steps, with a progress bar, periodic evaluation and, for long
streams, truncated BPTT: the state is carried from one chunk to the next and
``detach()``-ed at the border, so the gradient stops there (Williams & Peng 1990).
It returns its history as plain data (lists of floats), ready for a plot or JSON.

Runs are deterministic on the CPU: :func:`seed_everything` seeds torch, numpy and
Python's ``random`` before the model is built, and the data come from seeded numpy
generators. (The same seed gives the same numbers with the same number of torch
threads; another thread count sums in another order, and training, a chaotic
process, then drifts apart. On CUDA, some kernels are not deterministic.)
"""

from __future__ import annotations

import random
import time
from itertools import islice

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ._validate import check_float, check_int


def seed_everything(seed):
    """Seed torch (CPU and CUDA), numpy's global generator and Python's ``random``.

    >>> import torch
    >>> from rnnbook.torch_train import seed_everything
    >>> seed_everything(0); a = torch.rand(2)
    >>> seed_everything(0); torch.equal(a, torch.rand(2))
    True
    """
    seed = check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_device(device="cpu"):
    """Turn "cpu", "cuda" or "cuda:N" into a ``torch.device``, checking that it exists.

    >>> from rnnbook.torch_train import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("tpu")
    Traceback (most recent call last):
    ...
    ValueError: device: expected 'cpu', 'cuda' or 'cuda:N', got 'tpu'
    """
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device: got {device!r}, but no CUDA device is available (use 'cpu')")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            count = torch.cuda.device_count()
            raise ValueError(f"device: got {device!r}, but only {count} CUDA device(s) exist")
    return dev


def to_tensor(array, device):
    """A numpy array (or tensor) as a tensor on ``device``: floats become PyTorch's default
    dtype (float32, the models' weights; the tasks make float64 like the numpy models),
    integers become int64.

    >>> import numpy as np
    >>> from rnnbook.torch_train import to_tensor
    >>> to_tensor(np.array([1, 2], dtype=np.int32), "cpu")
    tensor([1, 2])
    >>> to_tensor(np.array([0.5]), "cpu").dtype
    torch.float32
    """
    tensor = torch.as_tensor(array)
    if tensor.is_floating_point():
        return tensor.to(device, torch.get_default_dtype())
    return tensor.long().to(device)


def detach_state(state):
    """Cut the gradient at a chunk border, keeping the value: ``h`` or ``(h, c)``.

    >>> import torch
    >>> from rnnbook.torch_train import detach_state
    >>> h = torch.ones(1, requires_grad=True) * 2
    >>> detach_state((h, h))[0].requires_grad
    False
    """
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def sequence_cross_entropy(logits, targets, ignore_index=-100):
    """Mean cross-entropy (nats) over all steps: logits (T, B, V), targets (T, B).

    >>> import torch
    >>> from rnnbook.torch_train import sequence_cross_entropy
    >>> sequence_cross_entropy(torch.zeros(3, 2, 4), torch.zeros(3, 2, dtype=torch.long)).item()
    1.386...
    """
    V = logits.shape[-1]
    return nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=ignore_index)


def _forward(model, batch, state, device):
    """Run the model on one batch; pass ``lengths`` when the batch has them."""
    xs = to_tensor(batch.xs, device)
    lengths = getattr(batch, "lengths", None)
    if lengths is None:
        return model(xs, state)
    return model(xs, state, lengths=torch.as_tensor(lengths))


def train_step(model, optimizer, batch, loss_fn, state=None, max_norm=1.0, device="cpu"):
    """One update: forward, loss, backward, clip the gradient norm, optimizer step.

    Clipping rescales the whole gradient when its norm exceeds ``max_norm``
    (Pascanu et al. 2013, Algorithm 1); ``float("inf")`` turns it off.

    Returns:
        ``(loss, grad_norm, state)``: the loss and the gradient norm before
        clipping as floats, and the model's final state.

    >>> import torch
    >>> from torch import nn
    >>> from rnnbook.torch_train import train_step
    >>> from rnnbook.torch_models import SequenceRegressor
    >>> from rnnbook.tasks import adding_problem
    >>> model = SequenceRegressor(2, 4)
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> loss, norm, state = train_step(model, opt, adding_problem(10, 3, rng=0), nn.functional.mse_loss)
    >>> loss > 0 and norm > 0
    True
    """
    outputs, state = _forward(model, batch, state, device)
    loss = loss_fn(outputs, to_tensor(batch.ys, device))
    optimizer.zero_grad()
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item(), norm.item(), state


def train(
    model,
    batches,
    loss_fn,
    *,
    steps,
    lr=3e-3,
    clip=1.0,
    carry_state=False,
    evaluate=None,
    eval_every=100,
    device="cpu",
    progress=True,
    desc="training",
):
    """Train ``model`` with Adam and gradient-norm clipping for ``steps`` batches.

    Args:
        model: a module called as ``model(xs, state)`` (or with ``lengths=``) that
            returns ``(outputs, state)``, like those of :mod:`rnnbook.torch_models`.
        batches: an iterable of batches with fields ``xs`` and ``ys`` (numpy or
            torch), optionally ``lengths`` (B,) and, for streams, ``reset``.
        loss_fn: ``loss_fn(outputs, ys) -> scalar tensor``.
        steps: number of parameter updates.
        lr: Adam's learning rate.
        clip: the largest gradient norm (rescaled above it); None or 0 for no clipping.
        carry_state: truncated BPTT over a stream: start each batch from the previous
            batch's final state, detached; a batch with ``reset`` True starts from zero.
        evaluate: optional ``evaluate(model) -> dict[str, float]``, run without
            gradients every ``eval_every`` steps and after the last one.
        eval_every: steps between evaluations.
        device: "cpu" (default) or "cuda".
        progress: show a tqdm progress bar.
        desc: the progress bar's label.

    Returns:
        A dict of plain data: ``loss`` and ``grad_norm`` (one float per step, the
        norm before clipping), ``eval`` (a list of ``{"step": s, **metrics}``) and
        ``seconds``. Interrupted by Ctrl-C (``KeyboardInterrupt``) during the
        steps, it stops there, evaluates the model as it is and returns the
        history so far with ``interrupted`` True (before the first step it
        lets the interruption through).
    """
    steps = check_int("steps", steps, minimum=1)
    eval_every = check_int("eval_every", eval_every, minimum=1)
    lr = check_float("lr", lr, minimum=0, strict_minimum=True)
    max_norm = check_float("clip", clip, minimum=0, strict_minimum=True) if clip else float("inf")
    device = resolve_device(device)
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = {"loss": [], "grad_norm": [], "eval": [], "seconds": 0.0}
    state, start = None, time.perf_counter()
    with tqdm(total=steps, desc=desc, disable=not progress, leave=False) as bar:
        try:
            for step, batch in enumerate(islice(batches, steps), start=1):
                if not carry_state or getattr(batch, "reset", False):
                    state = None
                elif state is not None:
                    state = detach_state(state)  # truncated BPTT: keep the value, cut the gradient
                loss, norm, state = train_step(model, optimizer, batch, loss_fn, state, max_norm, device)
                history["loss"].append(loss)
                history["grad_norm"].append(norm)
                if evaluate is not None and (step % eval_every == 0 or step == steps):
                    metrics = run_eval(model, evaluate)
                    history["eval"].append({"step": step, **metrics})
                    bar.set_postfix(metrics)
                bar.update()
        except KeyboardInterrupt:  # Ctrl-C: keep the steps done, evaluated once more below
            if not history["loss"]:
                raise  # nothing computed yet
            history["interrupted"] = True
    done = len(history["loss"])
    if done < steps and not history.get("interrupted"):
        raise ValueError(f"batches: expected at least steps = {steps} batches, got {done}")
    if evaluate is not None and done and (not history["eval"] or history["eval"][-1]["step"] < done):
        history["eval"].append({"step": done, **run_eval(model, evaluate)})
    history["seconds"] = time.perf_counter() - start
    return history


def run_eval(model, evaluate):
    """Call ``evaluate(model)`` in eval mode without gradients; back to train mode after.

    >>> from torch import nn
    >>> from rnnbook.torch_train import run_eval
    >>> run_eval(nn.Linear(1, 1), lambda m: {"ok": 1.0})
    {'ok': 1.0}
    """
    model.eval()
    with torch.no_grad():
        metrics = {name: float(value) for name, value in evaluate(model).items()}
    model.train()
    return metrics


def predict(model, batch, device="cpu"):
    """The model's outputs on one batch, as a numpy array (no gradients).

    >>> from rnnbook.torch_train import predict
    >>> from rnnbook.torch_models import SequenceRegressor
    >>> from rnnbook.tasks import adding_problem
    >>> predict(SequenceRegressor(2, 4), adding_problem(10, 3, rng=0)).shape
    (3, 1)
    """
    device = resolve_device(device)
    model.to(device).eval()
    with torch.no_grad():
        outputs, _ = _forward(model, batch, None, device)
    return outputs.cpu().numpy()


def stream_loss(model, chunks, loss_fn, device="cpu"):
    """Mean loss over a stream cut in chunks, carrying the state across them.

    Each chunk's loss is weighted by its number of targets, so the result is the
    mean over every character of the stream (for ``sequence_cross_entropy``).

    >>> import numpy as np
    >>> from rnnbook.torch_train import stream_loss, sequence_cross_entropy
    >>> from rnnbook.torch_models import CharLM
    >>> from rnnbook.corpus import tbptt_chunks
    >>> chunks = list(tbptt_chunks(np.zeros((2, 9), dtype=np.int64), 4))
    >>> loss = stream_loss(CharLM(3, 8), chunks, sequence_cross_entropy)
    >>> 0 < loss < 2
    True
    """
    device = resolve_device(device)
    model.to(device).eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for chunk in chunks:
            state = None if chunk.reset else state
            outputs, state = _forward(model, chunk, state, device)
            n = chunk.ys.size
            total += loss_fn(outputs, to_tensor(chunk.ys, device)).item() * n
            count += n
    return total / count


def sample_next(logits, temperature=1.0, generator=None):
    """Draw one code per row from softmax(logits / temperature): (B, V) -> (B,).

    Low temperatures sharpen the distribution and high ones flatten it. As the
    temperature goes to 0 the draw becomes the argmax; ask for that limit with
    ``temperature=None`` (greedy decoding). A temperature <= 0 is an error:
    softmax(logits / 0) is undefined.

    >>> import torch
    >>> from rnnbook.torch_train import sample_next
    >>> sample_next(torch.tensor([[0.0, 3.0, 1.0]]), temperature=None)
    tensor([1])
    >>> sample_next(torch.tensor([[0.0, 3.0]]), temperature=0)
    Traceback (most recent call last):
    ...
    ValueError: temperature: expected a number > 0 (None for the argmax, the limit as it goes to 0), got 0.0
    """
    if temperature is None:
        return logits.argmax(dim=-1)
    temperature = check_float("temperature", temperature)
    if temperature <= 0:
        raise ValueError(
            f"temperature: expected a number > 0 (None for the argmax, the limit as it goes to 0), got {temperature}"
        )
    probs = torch.softmax(logits / temperature, dim=-1)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


def sample_text(model, vocab, prime, length, *, temperature=1.0, seed=0, device="cpu"):
    """Generate ``length`` characters from a :class:`~rnnbook.torch_models.CharLM` after ``prime``.

    The model reads the prime, then feeds each sampled character back in,
    carrying its state from step to step.

    >>> from rnnbook.torch_train import sample_text
    >>> from rnnbook.corpus import Vocab
    >>> from rnnbook.torch_models import CharLM
    >>> vocab = Vocab.from_text("ab")
    >>> text = sample_text(CharLM(2, 8), vocab, "a", 5, temperature=None)
    >>> len(text), set(text) <= {"a", "b"}
    (5, True)
    """
    length = check_int("length", length, minimum=0)
    if not prime:
        raise ValueError("prime: expected at least one character to start from, got ''")
    device = resolve_device(device)
    generator = torch.Generator(device=device).manual_seed(check_int("seed", seed, minimum=0))
    model.to(device).eval()
    codes = to_tensor(vocab.encode(prime)[:, None], device)  # (T, 1)
    out = []
    with torch.no_grad():
        logits, state = model(codes)
        for _ in range(length):
            code = sample_next(logits[-1], temperature, generator)  # (1,)
            out.append(code.item())
            logits, state = model(code[None, :], state)
    return vocab.decode(out)


def rollout(model, xs, n_steps, device="cpu"):
    """Closed-loop forecast: read ``xs``, then feed each one-step prediction back in.

    For a :class:`~rnnbook.torch_models.SequenceTagger` trained on one-step targets
    (output size = input size = D). Errors compound, unlike in a direct
    multi-step forecast, which predicts all horizons at once.

    Args:
        xs: (T, B, D) the observed past.
        n_steps: how many future steps to generate.

    Returns:
        (n_steps, B, D) numpy array.

    >>> import numpy as np
    >>> from rnnbook.torch_train import rollout
    >>> from rnnbook.torch_models import SequenceTagger
    >>> rollout(SequenceTagger(1, 4, 1), np.zeros((5, 2, 1), np.float32), 3).shape
    (3, 2, 1)
    """
    n_steps = check_int("n_steps", n_steps, minimum=1)
    device = resolve_device(device)
    model.to(device).eval()
    preds = []
    with torch.no_grad():
        out, state = model(to_tensor(xs, device))
        for _ in range(n_steps):
            preds.append(out[-1:])
            out, state = model(out[-1:], state)
    return torch.cat(preds).cpu().numpy()
