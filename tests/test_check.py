"""The coursework checkers: a correct student function passes, a wrong one is explained in words."""

import re

import numpy as np
import pytest

from rnnbook import check, gru, lstm, rnn


def my_rnn_step(x, h, params):
    """A student's Elman step, written without the package's helpers."""
    h = np.zeros((x.shape[0], params.W_hh.shape[0])) if h is None else h
    return np.tanh(x @ params.W_ih.T + params.b_ih + h @ params.W_hh.T + params.b_hh)


def my_rnn_step_backward(dh, x, h_prev, params):
    """A student's step backward, cs231n style, returning the package's structure."""
    h = my_rnn_step(x, h_prev, params)
    da = dh * (1 - h * h)
    grads = rnn.Params(W_ih=da.T @ x, W_hh=da.T @ h_prev, b_ih=da.sum(0), b_hh=da.sum(0))
    return grads, da @ params.W_ih, da @ params.W_hh


def test_correct_functions_pass():
    check.rnn_step(my_rnn_step)
    check.rnn_step_backward(my_rnn_step_backward)
    check.lstm_step(lstm.step)
    check.gru_step(gru.step)
    check.lstm_step_backward(lstm.step_backward)
    check.gru_step_backward(gru.step_backward)


def sigmoid_instead_of_tanh(x, h, params):
    return 1 / (1 + np.exp(-(x @ params.W_ih.T + params.b_ih + h @ params.W_hh.T + params.b_hh)))


def bias_not_summed(dh, x, h_prev, params):
    grads, dx, d_prev = my_rnn_step_backward(dh, x, h_prev, params)
    h = my_rnn_step(x, h_prev, params)
    grads.b_ih = dh * (1 - h * h)  # (B, H): forgot to sum over the batch
    return grads, dx, d_prev


def no_tanh_slope(dh, x, h_prev, params):
    grads = rnn.Params(W_ih=dh.T @ x, W_hh=dh.T @ h_prev, b_ih=dh.sum(0), b_hh=dh.sum(0))
    return grads, dh @ params.W_ih, dh @ params.W_hh


def lstm_forgets_the_path_through_c(d_state, x, state, params):
    grads, dx, (dh_prev, dc_prev) = lstm.step_backward(d_state, x, state, params)
    return grads, dx, (dh_prev, np.zeros_like(dc_prev))


def two_outputs(d_state, x, state, params):
    grads, dx, _ = gru.step_backward(d_state, x, state, params)
    return grads, dx


@pytest.mark.parametrize(
    "checker, f, message",
    [
        (
            check.rnn_step,
            sigmoid_instead_of_tanh,
            r"rnn_step: state \(the new state\) differs at entry \(0, 0\) with B = 1, D = 1, H = 1 \(seed 0\): "
            r"expected -?\d.*, got \d",
        ),
        (
            check.rnn_step_backward,
            bias_not_summed,
            r"rnn_step_backward: grads.b_ih \(∂L/∂b_ih\) has shape \(1, 1\), expected \(1,\) with B = 1",
        ),
        (
            check.rnn_step_backward,
            no_tanh_slope,
            r"rnn_step_backward: grads.W_ih \(∂L/∂W_ih\) differs at entry \(0, 0\)",
        ),
        (
            check.lstm_step_backward,
            lstm_forgets_the_path_through_c,
            r"lstm_step_backward: d_prev\[1\] \(∂L/∂c_\{t-1\}\) differs at entry \(0, 0\)",
        ),
        (
            check.gru_step_backward,
            two_outputs,
            r"gru_step_backward: expected 3 outputs \['grads', 'dx', 'd_prev'\], got tuple",
        ),
        (
            check.lstm_step,
            lambda x, state, params: lstm.step(x, state, params)[0],
            r"lstm_step: state should hold \['state\[0\]', 'state\[1\]'\], got ndarray",
        ),
    ],
)
def test_a_wrong_function_is_explained(checker, f, message):
    with pytest.raises(AssertionError) as raised:
        checker(f)
    assert re.match(message, str(raised.value)), str(raised.value)


def test_the_student_function_gets_its_own_inputs():
    """A function that writes into its inputs cannot change what the reference is compared with."""

    def scribbles(dh, x, h_prev, params):
        out = my_rnn_step_backward(dh, x, h_prev, params)
        params.W_hh[:] = 0.0
        x[:] = 0.0
        return out

    check.rnn_step_backward(scribbles)
