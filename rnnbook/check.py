"""Checkers for coursework: compare a student's function with the package's, in words.

Each checker takes your function, calls it and the package's on the same random
inputs (float64, a few sizes and seeds) and either returns quietly or raises
``AssertionError`` describing the first difference: which output, which entry,
the value expected and the value given. Your function takes the same arguments
and returns the same structure as the package's:

* ``rnn_step(f)``, ``lstm_step(f)``, ``gru_step(f)``: ``f(x, state, params)``
  as :func:`rnnbook.rnn.step` (and ``lstm``, ``gru``);
* ``rnn_step_backward(f)``, ``lstm_step_backward(f)``, ``gru_step_backward(f)``:
  ``f(d_state, x, state, params)`` as :func:`rnnbook.rnn.step_backward`, returning
  ``(grads, dx, d_prev)``, where ``grads`` has the fields ``W_ih``, ``W_hh``,
  ``b_ih``, ``b_hh``.

>>> from rnnbook import check, lstm
>>> check.lstm_step_backward(lstm.step_backward)   # the package's own passes
>>> def forgot_the_tanh_slope(d_state, x, state, params):
...     grads, dx, d_prev = lstm.step_backward(d_state, x, state, params)
...     return grads, dx, (d_prev[0] * 2, d_prev[1])
>>> check.lstm_step_backward(forgot_the_tanh_slope)
Traceback (most recent call last):
...
AssertionError: lstm_step_backward: d_prev[0] (∂L/∂h_{t-1}) differs at entry (0, 0) with B = 1, ...
"""

from __future__ import annotations

import numpy as np

from rnnbook import gru, lstm, rnn

__all__ = ["rnn_step", "lstm_step", "gru_step", "rnn_step_backward", "lstm_step_backward", "gru_step_backward"]

SIZES = [(1, 1, 1), (2, 3, 4), (3, 2, 5)]  # (B, D, H): the smallest first, where a mismatch is easy to read
SEEDS = (0, 1)
MEANING = {
    "state": "the new state",
    "state[0]": "h_t",
    "state[1]": "c_t",
    "dx": "∂L/∂x_t",
    "d_prev": "∂L/∂h_{t-1}",
    "d_prev[0]": "∂L/∂h_{t-1}",
    "d_prev[1]": "∂L/∂c_{t-1}",
    "grads.W_ih": "∂L/∂W_ih",
    "grads.W_hh": "∂L/∂W_hh",
    "grads.b_ih": "∂L/∂b_ih",
    "grads.b_hh": "∂L/∂b_hh",
}


def _inputs(model, B, D, H, seed):
    """Random float64 weights, input, state and state gradient for one cell."""
    rng = np.random.default_rng(seed)
    params = model.init(D, H, rng=rng)
    params.b_ih += rng.uniform(-0.5, 0.5, params.b_ih.shape)  # biases away from zero: every term counts
    params.b_hh += rng.uniform(-0.5, 0.5, params.b_hh.shape)
    n_states = 2 if model is lstm else 1
    state = tuple(rng.standard_normal((B, H)) for _ in range(n_states))
    d_state = tuple(rng.standard_normal((B, H)) for _ in range(n_states))
    x = rng.standard_normal((B, D))
    if n_states == 1:
        return params, x, state[0], d_state[0]
    return params, x, state, d_state


def _named(name, value):
    """The arrays of an output as (name, array) pairs: a tuple by index, grads by field."""
    if isinstance(value, tuple | list):
        return [pair for k, item in enumerate(value) for pair in _named(f"{name}[{k}]", item)]
    if hasattr(value, "W_ih"):
        return [(f"{name}.{field}", getattr(value, field)) for field in ("W_ih", "W_hh", "b_ih", "b_hh")]
    return [(name, value)]


def _compare(check_name, names, expected, given, where):
    """Raise AssertionError, in words, at the first output of ``given`` that differs from ``expected``."""
    if not isinstance(given, tuple | list) or len(given) != len(expected):
        raise AssertionError(
            f"{check_name}: expected {len(expected)} outputs {names}, got {type(given).__name__} {given!r:.80}"
        )
    for name, value, want in zip(names, given, expected):
        theirs = _named(name, want)
        try:
            ours = _named(name, value)
        except AttributeError:
            ours = []
        if len(ours) != len(theirs):
            raise AssertionError(
                f"{check_name}: {name} should hold {[n for n, _ in theirs]}, got {type(value).__name__}"
            )
        for (key, got), (_, ref) in zip(ours, theirs):
            meaning = f"{key} ({MEANING[key]})" if key in MEANING else key
            if not isinstance(got, np.ndarray):
                raise AssertionError(f"{check_name}: {meaning} should be a numpy array, got {type(got).__name__}")
            if got.shape != ref.shape:
                raise AssertionError(
                    f"{check_name}: {meaning} has shape {got.shape}, expected {ref.shape} with {where}"
                )
            close = np.isclose(got, ref, rtol=1e-6, atol=1e-9)
            if not close.all():
                k = tuple(int(i) for i in np.argwhere(~close)[0])
                raise AssertionError(
                    f"{check_name}: {meaning} differs at entry {k} with {where}: "
                    f"expected {ref[k]:.6g}, got {got[k]:.6g}"
                )


def _check(check_name, model, f, reference, names, backward):
    """Call ``reference`` and ``f`` on the same random inputs, each on its own copy; compare."""
    for B, D, H in SIZES:
        for seed in SEEDS:

            def arguments():
                params, x, state, d_state = _inputs(model, B, D, H, seed)
                return (d_state, x, state, params) if backward else (x, state, params)

            expected, given = reference(*arguments()), f(*arguments())
            if not backward:
                expected, given = (expected,), (given,)
            _compare(check_name, names, expected, given, f"B = {B}, D = {D}, H = {H} (seed {seed})")


def rnn_step(f):
    """Check ``f(x, state, params)`` against :func:`rnnbook.rnn.step`."""
    _check("rnn_step", rnn, f, rnn.step, ["state"], backward=False)


def lstm_step(f):
    """Check ``f(x, state, params)`` against :func:`rnnbook.lstm.step`."""
    _check("lstm_step", lstm, f, lstm.step, ["state"], backward=False)


def gru_step(f):
    """Check ``f(x, state, params)`` against :func:`rnnbook.gru.step` (PyTorch's variant)."""
    _check("gru_step", gru, f, gru.step, ["state"], backward=False)


def rnn_step_backward(f):
    """Check ``f(d_state, x, state, params)`` against :func:`rnnbook.rnn.step_backward`."""
    _check("rnn_step_backward", rnn, f, rnn.step_backward, ["grads", "dx", "d_prev"], backward=True)


def lstm_step_backward(f):
    """Check ``f(d_state, x, state, params)`` against :func:`rnnbook.lstm.step_backward`."""
    _check("lstm_step_backward", lstm, f, lstm.step_backward, ["grads", "dx", "d_prev"], backward=True)


def gru_step_backward(f):
    """Check ``f(d_state, x, state, params)`` against :func:`rnnbook.gru.step_backward` (PyTorch's variant)."""
    _check("gru_step_backward", gru, f, gru.step_backward, ["grads", "dx", "d_prev"], backward=True)
