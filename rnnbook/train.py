"""A complete training loop in numpy, for the from-scratch models.

Every step of training written out, with nothing hidden in a framework:
initialise, forward, loss, backward, clip, optimiser step, and at the end
evaluate on sequences never seen in training. :func:`train_adding` trains one
of the numpy models (:mod:`rnnbook.rnn`, :mod:`rnnbook.lstm`,
:mod:`rnnbook.gru`) with a linear output layer on the adding problem
(:func:`rnnbook.tasks.adding_problem`), reading the last hidden state
(many-to-one). The PyTorch version of the same loop is
:func:`rnnbook.torch_train.train`.

Shapes: T steps, B sequences, D = 2 inputs (value, marker), H hidden units, one output.
"""

from __future__ import annotations

__all__ = ["train_adding"]

# --8<-- [start:train_adding]
import numpy as np

from rnnbook import bptt, layers, optim, tasks


def train_adding(
    model, *, seq_len=10, hidden_size=16, steps=300, batch_size=32, lr=1e-2, max_norm=1.0, test_size=500, seed=0
):
    """Train ``model`` (the module ``rnn``, ``lstm`` or ``gru``) on the adding problem.

    Returns:
        ``(params, out_params, losses, test_mse)``: the trained weights, the
        training loss at each step and the MSE on ``test_size`` new sequences
        (the trivial baseline, always answering 1, scores 1/6).
    """
    bptt.check_model(model)
    rng = np.random.default_rng(seed)
    # 1. initialise: the recurrent cell, the output layer, the optimiser
    params = model.init(2, hidden_size, rng=rng)
    out_params = layers.linear_init(hidden_size, 1, rng=rng)
    optimizer = optim.Adam([params, out_params], lr=lr)
    losses = []
    for _ in range(steps):
        batch = tasks.adding_problem(seq_len, batch_size, rng)  # xs (T, B, 2), ys (B, 1)
        # 2. forward: the cell over the whole sequence, the output layer on its last state
        hs, _, cache = model.forward(batch.xs, None, params)
        ys, out_cache = layers.linear_forward(hs[-1], out_params)
        # 3. loss, and its gradient with respect to the outputs
        loss, dys = layers.mse(ys, batch.ys)
        # 4. backward: through the output layer, then through time (only h_T gets a gradient)
        out_grads, dh = layers.linear_backward(dys, out_cache)
        dhs = np.zeros_like(hs)
        dhs[-1] = dh
        grads, _, _ = model.backward(dhs, cache)
        # 5. clip the norm of all the gradients together
        bptt.clip_grad_norm([grads, out_grads], max_norm)
        # 6. optimiser step: the parameters change in place
        optimizer.step([grads, out_grads])
        losses.append(loss)
    # 7. evaluate on new sequences: the forward pass only
    test = tasks.adding_problem(seq_len, test_size, rng)
    hs, _, _ = model.forward(test.xs, None, params)
    predictions, _ = layers.linear_forward(hs[-1], out_params)
    test_mse, _ = layers.mse(predictions, test.ys)
    return params, out_params, losses, test_mse


# --8<-- [end:train_adding]
