"""Backpropagation through time: full, truncated, and gradient-norm clipping.

Chapter 2. A model here is one of the numpy modules :mod:`rnnbook.rnn`,
:mod:`rnnbook.lstm` or :mod:`rnnbook.gru` (the module itself), with its
``forward(xs, state, params)`` and ``backward(dhs, cache)``; on top of the
hidden states sits the output layer of :mod:`rnnbook.layers`.

* Full BPTT (Werbos 1990) unrolls the network over the whole sequence and
  backpropagates every loss term to the first step: ``loss_and_grads``.
* Truncated BPTT cuts the backward pass after a fixed number of steps.
  Williams & Peng (1990) call it BPTT(h; h'): every h' steps, backpropagate
  through the last h steps. We write it BPTT(k1, k2) with k1 = h' and k2 = h:
  ``truncated_bptt``. The common "chunked" form, ``chunked_bptt``, splits the
  sequence into chunks of k steps, carries the state forward from chunk to
  chunk and cuts the gradient at every border; it is BPTT(k, k) (exactly so
  when k divides T).

Reach is counted in lags τ from a loss's own step: the input at the step of
the loss has lag 0, the one before lag 1. A backward pass through k steps
reaches lags τ = 0, ..., k - 1 and no further, so a task whose target depends
on an input τ steps back needs k ≥ τ + 1.
* Gradient-norm clipping, Pascanu, Mikolov & Bengio (2013), Algorithm 1:
  ``clip_grad_norm``.

Each truncated form has a PyTorch twin (``torch_chunked_bptt``,
``torch_truncated_bptt``) where the cut is a ``detach()`` of the carried
state. All of them return the gradient of the same loss, the mean over all
T·B steps and examples, so that with truncation ≥ T they equal full BPTT.

Shapes: T time steps, B batch, D inputs, H hidden units, O outputs, V classes.
"""

from __future__ import annotations

import inspect

import numpy as np

from rnnbook import layers
from rnnbook._validate import check_array, check_choice, check_float, check_int
from rnnbook.optim import checked_grads, parameters

LOSSES = {"cross_entropy": layers.softmax_cross_entropy, "mse": layers.mse}


# --8<-- [start:clip_grad_norm]
def global_norm(grads):
    """The Euclidean norm of all gradients together, ‖g‖ = sqrt(Σ_i Σ g_i²).

    >>> import numpy as np
    >>> from rnnbook.bptt import global_norm
    >>> global_norm([np.array([3.0]), {"b": np.array([4.0])}])
    5.0
    """
    return float(np.sqrt(sum(np.sum(g * g) for g in parameters(grads))))


def clip_grad_norm(grads, max_norm):
    """Gradient-norm clipping, Pascanu, Mikolov & Bengio (2013), Algorithm 1.

    If ‖g‖ > max_norm, rescale every gradient in place: g ← (max_norm / ‖g‖) g,
    so the direction is kept and the norm becomes max_norm; otherwise leave the
    gradients unchanged. ‖g‖ is the norm of all gradients together
    (``global_norm``).

    ``torch.nn.utils.clip_grad_norm_`` does the same with the factor
    max_norm / (‖g‖ + 1e-6), so the two differ by a relative 1e-6 / ‖g‖.

    Args:
        grads: gradients (a ``Params``, ``LinearParams``, dict, or a list of these).
        max_norm: the threshold, > 0.

    Returns:
        The norm before clipping, a Python float.

    >>> import numpy as np
    >>> from rnnbook.bptt import clip_grad_norm
    >>> g = {"W": np.array([3.0, 4.0])}
    >>> clip_grad_norm(g, 1.0), g["W"]
    (5.0, array([0.6, 0.8]))
    """
    max_norm = check_float("max_norm", max_norm, minimum=0, strict_minimum=True)
    grads = checked_grads(grads)  # float and finite: a NaN or inf norm would scale everything to NaN
    norm = global_norm(grads)
    if norm > max_norm:
        for g in grads:
            g *= max_norm / norm
    return norm


# --8<-- [end:clip_grad_norm]


def check_model(model):
    """Check that ``model`` is one of the numpy model modules (``rnnbook.rnn``, ``lstm``, ``gru``).

    >>> from rnnbook.bptt import check_model
    >>> check_model("rnn")
    Traceback (most recent call last):
    ...
    TypeError: model: expected the module rnnbook.rnn, rnnbook.lstm or rnnbook.gru (...), got str 'rnn'
    """
    if not (
        inspect.ismodule(model)
        and callable(getattr(model, "forward", None))
        and callable(getattr(model, "backward", None))
    ):
        raise TypeError(
            "model: expected the module rnnbook.rnn, rnnbook.lstm or rnnbook.gru "
            f"(from rnnbook import rnn), got {type(model).__name__} {model!r}"
        )
    return model


def _check_sequence(xs, targets):
    """Check xs (T, B, D) and that targets has the same T; return T."""
    dims = {}
    check_array("xs", xs, shape=("T", "B", "D"), dims=dims)
    if not hasattr(targets, "shape") or len(targets) != dims["T"]:
        given = len(targets) if hasattr(targets, "shape") else type(targets).__name__
        raise ValueError(f"targets: expected {dims['T']} time steps (as xs), got {given}")
    return dims["T"]


def _add_scaled(total, grads, weight):
    """total += weight · grads, array by array, in place."""
    for a, g in zip(parameters(total), parameters(grads)):
        a += weight * g


# --8<-- [start:loss_and_grads]
def loss_and_grads(model, params, out_params, xs, targets, *, loss="cross_entropy", state=None, many_to_one=False):
    """Loss and full-BPTT gradients (Werbos 1990) of a model with an output layer.

    Forward: hs = model(xs), y_t = h_t W^T + b, L = loss(y, targets).
    Backward: dL/dy → dL/dh_t (output layer) → model.backward (BPTT over all T steps).

    Args:
        model: the module ``rnnbook.rnn``, ``rnnbook.lstm`` or ``rnnbook.gru``.
        params: the model's ``Params``.
        out_params: the output layer's ``LinearParams``, W (O, H).
        xs: inputs (T, B, D).
        targets: for ``"cross_entropy"`` integer classes (T, B), for ``"mse"``
            values (T, B, O); with ``many_to_one`` only the last step's, (B,) or (B, O).
        loss: ``"cross_entropy"`` (softmax cross-entropy) or ``"mse"``, averaged
            over all steps and examples.
        state: the initial state (None for zeros), as the model's ``forward`` takes.
        many_to_one: if True, the loss is on the last step only.

    Returns:
        loss: a Python float.
        grads: the model's ``Params`` of gradients.
        out_grads: ``LinearParams`` of gradients.
        state: the final state, to carry into the next sequence.
    """
    check_choice("loss", loss, tuple(LOSSES))
    check_model(model)
    hs, state, cache = model.forward(xs, state, params)
    if many_to_one:
        ys, out_cache = layers.linear_forward(hs[-1], out_params)
    else:
        _check_sequence(xs, targets)
        ys, out_cache = layers.linear_forward(hs, out_params)
    value, dys = LOSSES[loss](ys, targets)
    out_grads, dh = layers.linear_backward(dys, out_cache)
    if many_to_one:
        dhs = np.zeros_like(hs)
        dhs[-1] = dh
    else:
        dhs = dh
    grads, _, _ = model.backward(dhs, cache)
    return value, grads, out_grads, state


# --8<-- [end:loss_and_grads]


# --8<-- [start:chunked_bptt]
def chunked_bptt(model, params, out_params, xs, targets, k, *, loss="cross_entropy", state=None):
    """Truncated BPTT in chunks: the gradient with the chain cut every k steps.

    Split the T steps into chunks [0, k), [k, 2k), ...; run each chunk from the
    state the previous one ended in, and backpropagate each chunk's losses only
    back to the chunk's first step. In numpy the cut needs no code: the carried
    state is a plain array, and the backward of one chunk never reaches the
    previous one. This is BPTT(k, k) of Williams & Peng (1990) when k divides T:
    the loss at the p-th step of its chunk (p = 1, ..., k) reaches the lags
    τ = 0, ..., p - 1, never a lag of k or more.

    The returned gradient is that of L = (1/(T·B)) Σ_t Σ_b ℓ_t,b (the same loss as
    ``loss_and_grads``) with every ∂h_s/∂h_{s-1} at a chunk border s set to zero:
    each chunk's mean loss weighted by its share of the T steps. With k ≥ T it is
    full BPTT. To train online, one update per chunk, call ``loss_and_grads`` on
    each chunk as the loop below does, and step the optimiser in between.

    Args: as ``loss_and_grads`` (loss at every step), and
        k: the chunk length, ≥ 1.

    Returns:
        (loss, grads, out_grads, state) as ``loss_and_grads``.
    """
    T = _check_sequence(xs, targets)
    k = check_int("k", k, minimum=1)
    grads, out_grads, total = params.zeros_like(), out_params.zeros_like(), 0.0
    for start in range(0, T, k):
        end = min(start + k, T)
        value, chunk_grads, chunk_out_grads, state = loss_and_grads(
            model, params, out_params, xs[start:end], targets[start:end], loss=loss, state=state
        )
        weight = (end - start) / T
        total += weight * value
        _add_scaled(grads, chunk_grads, weight)
        _add_scaled(out_grads, chunk_out_grads, weight)
    return total, grads, out_grads, state


# --8<-- [end:chunked_bptt]


def backprop_times(T, k1):
    """The steps t = k1, 2·k1, ... (and T) after which BPTT(k1, k2) backpropagates.

    >>> from rnnbook.bptt import backprop_times
    >>> backprop_times(10, 4)
    [4, 8, 10]
    """
    T = check_int("T", T, minimum=1)
    k1 = check_int("k1", k1, minimum=1)
    return list(range(k1, T, k1)) + [T]


def _states(model, params, xs, state):
    """The states along the trajectory: states[t] is the state after t steps (states[0] = state)."""
    states = [state]
    for t in range(len(xs)):
        _, state, _ = model.forward(xs[t : t + 1], state, params)
        states.append(state)
    return states


# --8<-- [start:truncated_bptt]
def truncated_bptt(model, params, out_params, xs, targets, k1, k2, *, loss="cross_entropy", state=None):
    """Truncated BPTT(k1, k2): every k1 steps, backpropagate through the last k2 steps.

    This is BPTT(h; h') of Williams & Peng (1990), with h' = k1 and h = k2 ≥ k1.
    At each backpropagation time t (k1, 2·k1, ..., and T), the losses of the
    steps since the previous backpropagation time, t' < s ≤ t, are
    backpropagated through the window of steps t - k2 < r ≤ t, and no further:
    the loss at step s reaches the lags τ = 0, ..., k2 - (t - s) - 1, that is
    between k2 - k1 + 1 and k2 lags counting its own step. Each loss
    term is used exactly once. We recompute the forward pass over each window
    from the stored state at its start, which gives the same numbers as keeping
    the whole trajectory's cache.

    The returned gradient is that of the same loss as ``loss_and_grads``, the
    mean over T·B, with the paths longer than the window cut. With k2 ≥ T it is
    full BPTT, whatever k1. With k1 = k2 = k and T a multiple of k it is
    ``chunked_bptt`` with k; otherwise the last window still reaches back k
    steps, where the last chunk is shorter.

    Args: as ``loss_and_grads`` (loss at every step), and
        k1: how often to backpropagate, ≥ 1.
        k2: how far back, ≥ k1.

    Returns:
        (loss, grads, out_grads, state) as ``loss_and_grads``.
    """
    T = _check_sequence(xs, targets)
    k1 = check_int("k1", k1, minimum=1)
    k2 = check_int("k2", k2, minimum=k1)
    check_model(model)
    states = _states(model, params, xs, state)
    grads, out_grads, total = params.zeros_like(), out_params.zeros_like(), 0.0
    previous = 0
    for t in backprop_times(T, k1):
        start = max(0, t - k2)  # the window: steps start+1 .. t
        hs, _, cache = model.forward(xs[start:t], states[start], params)
        new = previous - start  # the window's steps whose losses are not yet used
        ys, out_cache = layers.linear_forward(hs[new:], out_params)
        value, dys = LOSSES[loss](ys, targets[previous:t])
        window_out_grads, dh = layers.linear_backward(dys, out_cache)
        dhs = np.zeros_like(hs)
        dhs[new:] = dh
        window_grads, _, _ = model.backward(dhs, cache)
        weight = (t - previous) / T
        total += weight * value
        _add_scaled(grads, window_grads, weight)
        _add_scaled(out_grads, window_out_grads, weight)
        previous = t
    return total, grads, out_grads, states[-1]


# --8<-- [end:truncated_bptt]


def _torch_loss(loss, ys, targets):
    """The PyTorch loss matching ``LOSSES[loss]``, averaged over all steps and examples."""
    import torch.nn.functional as F

    if loss == "cross_entropy":
        return F.cross_entropy(ys.reshape(-1, ys.shape[-1]), targets.reshape(-1))
    return F.mse_loss(ys, targets)


def check_torch_inputs(rnn, xs, targets):
    """Check the arguments of the PyTorch twins: a time-major recurrent module, tensors, T, B ≥ 1.

    Returns:
        T, the number of steps.
    """
    import torch

    if not isinstance(rnn, torch.nn.RNNBase):
        raise TypeError(f"rnn: expected a torch.nn.RNN, LSTM or GRU, got {type(rnn).__name__}")
    if rnn.batch_first:
        raise ValueError("rnn: expected a time-major module (batch_first=False), got batch_first=True")
    for name, value in (("xs", xs), ("targets", targets)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f"{name}: expected a torch tensor, got {type(value).__name__} "
                "(convert a numpy array with torch.from_numpy)"
            )
    if xs.ndim != 3 or 0 in xs.shape[:2]:
        raise ValueError(f"xs: expected a (T, B, D) tensor with T, B >= 1, got shape {tuple(xs.shape)}")
    if len(targets) != len(xs):
        raise ValueError(f"targets: expected {len(xs)} time steps (as xs), got {len(targets)}")
    return len(xs)


# --8<-- [start:torch_chunked_bptt]
def torch_chunked_bptt(rnn, linear, xs, targets, k, *, loss="cross_entropy", state=None):
    """PyTorch twin of ``chunked_bptt``: ``detach()`` the carried state at each border.

    Adds the gradients to the ``.grad`` of ``rnn`` and ``linear``, as
    ``loss.backward()`` does (zero them first if needed).

    Args:
        rnn: a one-layer ``torch.nn.RNN``, ``LSTM`` or ``GRU`` (time-major).
        linear: a ``torch.nn.Linear`` output layer.
        xs: input tensor (T, B, D).
        targets: long tensor (T, B) for ``"cross_entropy"``, tensor (T, B, O) for ``"mse"``.
        k: the chunk length, ≥ 1.
        loss: ``"cross_entropy"`` or ``"mse"``.
        state: initial state, h0 (1, B, H) or (h0, c0) for the LSTM; None for zeros.

    Returns:
        loss: a Python float, the mean over all T·B steps and examples.
        state: the final state, detached.
    """
    from rnnbook.torch_train import detach_state

    check_choice("loss", loss, tuple(LOSSES))
    k = check_int("k", k, minimum=1)
    T = check_torch_inputs(rnn, xs, targets)
    total = 0.0
    for start in range(0, T, k):
        end = min(start + k, T)
        hs, state = rnn(xs[start:end], state)
        value = _torch_loss(loss, linear(hs), targets[start:end]) * (end - start) / T
        value.backward()
        total += value.item()
        state = detach_state(state)  # the cut: no gradient flows into the previous chunk
    return total, state


# --8<-- [end:torch_chunked_bptt]


# --8<-- [start:torch_truncated_bptt]
def torch_truncated_bptt(rnn, linear, xs, targets, k1, k2, *, loss="cross_entropy", state=None):
    """PyTorch twin of ``truncated_bptt``: BPTT(k1, k2) of Williams & Peng (1990).

    The states along the trajectory are computed once without a graph
    (``torch.no_grad()``, the same cut as ``detach()``); each window of k2 steps is
    then rerun from its stored state with the graph, and backpropagated.
    Arguments and returns as ``torch_chunked_bptt``, with k1 and k2 as in
    ``truncated_bptt``.
    """
    import torch

    check_choice("loss", loss, tuple(LOSSES))
    k1 = check_int("k1", k1, minimum=1)
    k2 = check_int("k2", k2, minimum=k1)
    T = check_torch_inputs(rnn, xs, targets)
    states = [state]
    with torch.no_grad():
        for t in range(T):
            _, state = rnn(xs[t : t + 1], state)
            states.append(state)
    total, previous = 0.0, 0
    for t in backprop_times(T, k1):
        start = max(0, t - k2)
        hs, _ = rnn(xs[start:t], states[start])
        ys = linear(hs[previous - start :])
        value = _torch_loss(loss, ys, targets[previous:t]) * (t - previous) / T
        value.backward()
        total += value.item()
        previous = t
    return total, states[-1]


# --8<-- [end:torch_truncated_bptt]


def input_gradient_by_lag(model, params, out_params, xs, target, *, truncation=None, loss="cross_entropy", state=None):
    """How much of a last-step loss reaches the input τ steps back, with truncation.

    Computes ‖∂ℓ_T/∂x_{T-τ}‖ for the lags τ = 0, ..., T-1, where ℓ_T is the loss
    on the last step's output (many-to-one). With truncation k the backward pass
    runs through the last k steps only (the state at step T - k is carried in as
    a plain array, the cut), so the entries for τ ≥ k are exactly zero: no
    gradient, hence no learning signal, links the target to an input at lag k or
    more. The entries for τ < k equal those of full BPTT, since every path from
    x_{T-τ} to ℓ_T lies inside the window. A recall delay of τ needs k ≥ τ + 1:

    >>> import numpy as np
    >>> from rnnbook.bptt import input_gradient_by_lag
    >>> from rnnbook import layers, rnn
    >>> params, out = rnn.init(1, 4, rng=0), layers.linear_init(4, 2, rng=1)
    >>> xs = np.random.default_rng(2).normal(size=(8, 1, 1))
    >>> norms = input_gradient_by_lag(rnn, params, out, xs, np.array([1]), truncation=4)
    >>> [int(tau) for tau in np.flatnonzero(norms)]  # k = 4 reaches τ = 3, not τ = 4
    [0, 1, 2, 3]

    Args:
        model, params, out_params, loss, state: as ``loss_and_grads``.
        xs: inputs (T, B, D).
        target: the last step's target, (B,) classes or (B, O) values.
        truncation: k ≥ 1, or None for full BPTT.

    Returns:
        norms: (T,) array, entry τ the Frobenius norm over the batch of ∂ℓ_T/∂x_{T-τ}.
    """
    check_choice("loss", loss, tuple(LOSSES))
    check_model(model)
    T = check_array("xs", xs, shape=("T", "B", "D")).shape[0]
    k = T if truncation is None else min(check_int("truncation", truncation, minimum=1), T)
    if k < T:  # run up to the window without keeping anything for the backward pass
        _, state, _ = model.forward(xs[: T - k], state, params)
    hs, _, cache = model.forward(xs[T - k :], state, params)
    ys, out_cache = layers.linear_forward(hs[-1], out_params)
    _, dys = LOSSES[loss](ys, target)
    _, dh = layers.linear_backward(dys, out_cache)
    dhs = np.zeros_like(hs)
    dhs[-1] = dh
    _, dxs, _ = model.backward(dhs, cache)
    norms = np.zeros(T)
    norms[:k] = np.linalg.norm(dxs[::-1].reshape(k, -1), axis=1)  # dxs[-1] is lag τ = 0
    return norms
