"""The numpy training loop (rnnbook.train): it learns, compared with the trivial baseline of the task."""

import pytest

from rnnbook import gru, lstm, rnn, tasks
from rnnbook.train import train_adding


@pytest.mark.parametrize("model", [lstm, gru])
def test_the_gated_networks_learn_the_short_adding_problem(model):
    _, _, losses, test_mse = train_adding(model)
    baseline = tasks.adding_baseline("modern").mse  # 1/6: always answer 1
    assert test_mse < baseline / 10
    assert sum(losses[-20:]) < sum(losses[:20]) / 5


def test_the_loop_is_seeded_and_returns_the_trained_weights():
    first = train_adding(rnn, steps=5, test_size=10)
    second = train_adding(rnn, steps=5, test_size=10)
    assert first[2] == second[2] and first[3] == second[3]
    assert first[0].W_hh.shape == (16, 16) and first[1].W.shape == (1, 16)


def test_a_model_name_instead_of_the_module_is_refused():
    with pytest.raises(TypeError, match="model: expected the module rnnbook.rnn"):
        train_adding("lstm")
