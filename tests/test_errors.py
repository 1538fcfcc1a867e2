"""Wrong calls of the public API: each raises at once, naming the argument, what was expected and what was given.

The calls a new user makes by mistake (issue #20). Each row is a call, the exception and words
its message must hold.
"""

import numpy as np
import pytest
import torch

from rnnbook import (
    bptt,
    corpus,
    experiments,
    gradcheck,
    gru,
    labs,
    layers,
    lstm,
    optim,
    rnn,
    seq2seq_data,
    sequence_tasks,
    tasks,
)


def rnn_params():
    return rnn.init(2, 3, rng=0)


def batch_first_lstm():
    return torch.nn.LSTM(2, 3, batch_first=True)


CASES = {
    "a string where a list of labels is expected": (
        lambda: sequence_tasks.most_frequent_share("abc"),
        TypeError,
        "labels: expected a sequence of labels, got str",
    ),
    "a bag of tokens with an id outside the vocabulary": (
        lambda: sequence_tasks.bag_of_tokens_accuracy([([1, 5], "a")], [([1], "a")], 4),
        ValueError,
        "train: expected token ids in [0, 4), got 5",
    ),
    "a bag of tokens given labels without their tokens": (
        lambda: sequence_tasks.bag_of_tokens_accuracy(["a", "b"], [([1], "a")], 4),
        TypeError,
        "train: expected a list of (token ids, label) pairs, got an item 'a'",
    ),
    "tagging with fewer tags than tokens": (
        lambda: sequence_tasks.token_tag_accuracy([([1, 2], [0])], [([1], [0])]),
        ValueError,
        "train: expected one tag per token, got 2 tokens and 1 tags",
    ),
    "the order-blind guess given a recall batch": (
        lambda: tasks.selective_copying_bag_accuracy(tasks.associative_recall(8, 2, 0)),
        TypeError,
        "data: expected a selective_copying batch (CopyData), got RecallData",
    ),
    "a word-by-word table given bare strings": (
        lambda: seq2seq_data.word_by_word_accuracy(["one two"], [("one", "1")]),
        TypeError,
        "fit: expected a list of (source, target) string pairs, got list",
    ),
    "the published table given no lab result": (
        lambda: labs.selective_copying_rows({}),
        TypeError,
        "result: expected the dict ssm_lab returns, with settings and runs, got {}",
    ),
    "a float32 batch into float64 weights says how to convert": (
        lambda: rnn.forward(np.ones((4, 2, 2), np.float32), None, rnn_params()),
        TypeError,
        "dtype mismatch: params is float64, xs is float32 (convert one, e.g. xs.astype(np.float64))",
    ),
    "check_gradient with f returning an array": (
        lambda: gradcheck.check_gradient(lambda: np.ones(2), {"a": np.ones(2)}, {"a": np.ones(2)}),
        TypeError,
        "f: expected a function returning a scalar (a float), got ndarray of shape (2,)",
    ),
    "check_gradient with f returning None": (
        lambda: gradcheck.check_gradient(lambda: None, {"a": np.ones(2)}, {"a": np.ones(2)}),
        TypeError,
        "f: expected a function returning a scalar (a float), got NoneType (does f end with return?)",
    ),
    "relative_error with shapes that would broadcast": (
        lambda: gradcheck.relative_error(np.ones((3, 1)), np.ones(3)),
        ValueError,
        "numeric: expected a non-empty array of analytic's shape (3, 1), got shape (3,)",
    ),
    "relative_error with shapes that do not broadcast": (
        lambda: gradcheck.relative_error(np.ones(3), np.ones(4)),
        ValueError,
        "analytic's shape (3,), got shape (4,)",
    ),
    "relative_error of empty arrays": (
        lambda: gradcheck.relative_error(np.ones(0), np.ones(0)),
        ValueError,
        "numeric: expected a non-empty array",
    ),
    "torch_chunked_bptt with a batch_first module": (
        lambda: bptt.torch_chunked_bptt(
            batch_first_lstm(), torch.nn.Linear(3, 2), torch.zeros(5, 2, 2), torch.zeros(5, 2, dtype=torch.long), 2
        ),
        ValueError,
        "rnn: expected a time-major module (batch_first=False), got batch_first=True",
    ),
    "torch_truncated_bptt with a batch_first module": (
        lambda: bptt.torch_truncated_bptt(
            batch_first_lstm(), torch.nn.Linear(3, 2), torch.zeros(5, 2, 2), torch.zeros(5, 2, dtype=torch.long), 2, 2
        ),
        ValueError,
        "rnn: expected a time-major module",
    ),
    "torch_chunked_bptt with numpy arrays": (
        lambda: bptt.torch_chunked_bptt(
            torch.nn.RNN(2, 3), torch.nn.Linear(3, 2), np.zeros((5, 2, 2)), np.zeros((5, 2), np.int64), 2
        ),
        TypeError,
        "xs: expected a torch tensor, got ndarray (convert a numpy array with torch.from_numpy)",
    ),
    "torch_chunked_bptt with T = 0": (
        lambda: bptt.torch_chunked_bptt(
            torch.nn.RNN(2, 3), torch.nn.Linear(3, 2), torch.zeros(0, 2, 2), torch.zeros(0, 2, dtype=torch.long), 2
        ),
        ValueError,
        "xs: expected a (T, B, D) tensor with T, B >= 1, got shape (0, 2, 2)",
    ),
    "torch_chunked_bptt with B = 0": (
        lambda: bptt.torch_chunked_bptt(
            torch.nn.RNN(2, 3), torch.nn.Linear(3, 2), torch.zeros(4, 0, 2), torch.zeros(4, 0, dtype=torch.long), 2
        ),
        ValueError,
        "got shape (4, 0, 2)",
    ),
    "rnn.forward with B = 0": (
        lambda: rnn.forward(np.ones((4, 0, 2)), None, rnn_params()),
        ValueError,
        "xs: expected at least one sequence (B >= 1), got shape (4, 0, 2)",
    ),
    "rnn.step with B = 0": (
        lambda: rnn.step(np.ones((0, 2)), None, rnn_params()),
        ValueError,
        "x: expected at least one sequence (B >= 1), got shape (0, 2)",
    ),
    "lstm.forward with B = 0": (
        lambda: lstm.forward(np.ones((4, 0, 2)), None, lstm.init(2, 3, rng=0)),
        ValueError,
        "xs: expected at least one sequence (B >= 1)",
    ),
    "gru.forward with B = 0": (
        lambda: gru.forward(np.ones((4, 0, 2)), None, gru.init(2, 3, rng=0)),
        ValueError,
        "xs: expected at least one sequence (B >= 1)",
    ),
    "loss_and_grads with B = 0": (
        lambda: bptt.loss_and_grads(
            rnn, rnn_params(), layers.linear_init(3, 2, rng=0), np.ones((4, 0, 2)), np.zeros((4, 0), np.int64)
        ),
        ValueError,
        "xs: expected at least one sequence (B >= 1)",
    ),
    "backprop_times(10, 0)": (lambda: bptt.backprop_times(10, 0), ValueError, "k1: expected an integer >= 1, got 0"),
    "init with rng=-1": (
        lambda: rnn.init(2, 3, rng=-1),
        ValueError,
        "rng: expected None, an int seed >= 0 or a numpy Generator, got -1",
    ),
    "clip_grad_norm(None, 1.0) blames grads": (
        lambda: bptt.clip_grad_norm(None, 1.0),
        TypeError,
        "grads: expected numpy arrays in a dataclass",
    ),
    "clip_grad_norm on NaN": (
        lambda: bptt.clip_grad_norm({"W": np.array([np.nan, 1.0])}, 1.0),
        ValueError,
        "grads[0]: expected finite values, got NaN or infinity",
    ),
    "clip_grad_norm on inf": (
        lambda: bptt.clip_grad_norm([np.ones(2), np.array([np.inf])], 1.0),
        ValueError,
        "grads[1]: expected finite values, got NaN or infinity",
    ),
    "clip_grad_norm on integers": (
        lambda: bptt.clip_grad_norm({"W": np.array([3, 4])}, 1.0),
        TypeError,
        "grads[0]: expected dtype float32 or float64, got int64",
    ),
    "SGD.step(None) blames grads": (
        lambda: optim.SGD([np.ones(2)], lr=0.1).step(None),
        TypeError,
        "grads: expected numpy arrays",
    ),
    "Adam.step with a string blames grads": (
        lambda: optim.Adam([np.ones(2)]).step("dW"),
        TypeError,
        "grads: expected numpy arrays",
    ),
    "loss_and_grads('rnn', ...)": (
        lambda: bptt.loss_and_grads(
            "rnn", rnn_params(), layers.linear_init(3, 2, rng=0), np.ones((4, 1, 2)), np.zeros((4, 1), np.int64)
        ),
        TypeError,
        "model: expected the module rnnbook.rnn, rnnbook.lstm or rnnbook.gru (from rnnbook import rnn), got str 'rnn'",
    ),
    "truncated_bptt('lstm', ...)": (
        lambda: bptt.truncated_bptt(
            "lstm", rnn_params(), layers.linear_init(3, 2, rng=0), np.ones((4, 1, 2)), np.zeros((4, 1), np.int64), 2, 2
        ),
        TypeError,
        "model: expected the module",
    ),
    "adding_problem(dtype=int)": (
        lambda: tasks.adding_problem(5, 2, rng=0, dtype=int),
        TypeError,
        "dtype: expected float32 or float64, got int64",
    ),
    "noisy_sine(dtype=int)": (
        lambda: tasks.noisy_sine(5, 2, rng=0, dtype=int),
        TypeError,
        "dtype: expected float32 or float64",
    ),
    "book_pages given a file": (
        lambda: corpus.book_pages(__file__),
        FileNotFoundError,
        "docs_dir: expected a folder of Markdown pages, got",
    ),
    "unigram_entropy of nothing": (
        lambda: corpus.unigram_entropy([], 3),
        ValueError,
        "codes: expected at least one character code, got none",
    ),
    "Vocab.decode([-1])": (
        lambda: corpus.Vocab("abc").decode([-1]),
        ValueError,
        "codes: expected integers in [0, 3), got -1",
    ),
    "Vocab.decode([3])": (
        lambda: corpus.Vocab("abc").decode([0, 3]),
        ValueError,
        "codes: expected integers in [0, 3), got 3",
    ),
    "run_adding(model='GRU') blames model": (
        lambda: experiments.run_adding(model="GRU", steps=1, progress=False),
        ValueError,
        "model: expected one of 'rnn', 'lstm', 'gru', 'mingru', 'lru', got 'GRU'",
    ),
    "run_sine(model='transformer')": (
        lambda: experiments.run_sine(model="transformer", steps=1, progress=False),
        ValueError,
        "model: expected one of 'rnn', 'lstm', 'gru', got 'transformer'",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_wrong_call_raises_a_clear_error(case):
    call, error, words = CASES[case]
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)


def test_the_tasks_and_the_numpy_models_agree_on_the_dtype():
    """The first script a student writes: data from tasks into a numpy network, with the defaults."""
    data = tasks.adding_problem(6, 3, rng=0)
    hs, _, _ = rnn.forward(data.xs, None, rnn.init(2, 4, rng=0))
    assert data.xs.dtype == data.ys.dtype == hs.dtype == np.float64
    assert tasks.noisy_sine(5, 2, rng=0).xs.dtype == tasks.one_hot(np.array([1]), 2).dtype == np.float64


def test_book_pages_given_a_file_says_it_is_a_file():
    with pytest.raises(FileNotFoundError, match=r"got '.*test_errors\.py', a file$"):
        corpus.book_pages(__file__)


@pytest.mark.parametrize("model", [rnn, lstm, gru])
def test_writing_into_what_forward_returns_cannot_change_backward(model):
    """The cache holds a copy of xs and read-only arrays: the gradients stay those of the forward pass."""
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((4, 2, 3))
    params = model.init(3, 5, rng=1)
    hs, _, cache = model.forward(xs, None, params)
    dhs = rng.standard_normal(hs.shape)
    before = [a.copy() for a in optim.parameters(model.backward(dhs, cache))]
    xs[:] = 0.0  # the caller's array: the cache has its own copy
    with pytest.raises(ValueError, match="read-only"):
        hs[0] = 0.0
    after = optim.parameters(model.backward(dhs, cache))
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
