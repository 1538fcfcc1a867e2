"""The figures draw what the chapters say they draw.

``rnnbook.figures.plotted`` returns the lines a figure draws; each test recomputes
them independently (PyTorch autograd, closed forms) and compares. A figure that
only renders is not enough: a wrong curve with the right shape must fail here.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import gru, layers, lstm, rnn, tasks
from rnnbook.figures import FIGURES, STYLE, plotted

CHECKED = {
    "activations",
    "sine_states",
    "state_memory",
    "clipping_cliff",
    "gradient_norms_lag",
    "adding_gradient",
    "truncated_gradient_by_lag",
    "lstm_cell_path",
    "lstm_vs_rnn_lag",
    "gru_gradient_lag",
}


def curves(axes, **match):
    """The lines of one axes whose fields equal ``match`` (e.g. color=...)."""
    return [line for line in axes if all(line[k] == v for k, v in match.items())]


def autograd_derivative(f, x):
    a = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(f(a).sum(), a)
    return grad.numpy()


def test_the_checked_figures_exist():
    assert CHECKED <= set(FIGURES)


def test_activations_are_sigmoid_and_tanh_with_their_derivatives():
    left, right = plotted("activations")
    (sigma,) = curves(left, color=STYLE["sigmoid"]["color"])
    (tanh,) = curves(left, color=STYLE["tanh"]["color"])
    a = sigma["x"]
    np.testing.assert_allclose(sigma["y"], torch.sigmoid(torch.tensor(a)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(tanh["y"], np.tanh(tanh["x"]), rtol=1e-12)
    (dsigma,) = curves(right, color=STYLE["sigmoid"]["color"])
    (dtanh,) = curves(right, color=STYLE["tanh"]["color"])
    np.testing.assert_allclose(dsigma["y"], autograd_derivative(torch.sigmoid, dsigma["x"]), rtol=1e-12)
    np.testing.assert_allclose(dtanh["y"], autograd_derivative(torch.tanh, dtanh["x"]), rtol=1e-10, atol=1e-15)
    (quarter,) = curves(right, color=STYLE["baseline"]["color"])
    assert quarter["y"].tolist() == [0.25, 0.25] == [dsigma["y"].max()] * 2  # max σ' = σ'(0) = 1/4
    assert dtanh["y"].max() == 1.0 and a.min() <= -6 and a.max() >= 6


def torch_elman(params):
    """A torch.nn.RNN (float64) holding the numpy Elman network's numbers."""
    module = torch.nn.RNN(params.W_ih.shape[1], params.hidden_size, dtype=torch.float64)
    with torch.no_grad():
        for name, torch_name in [
            ("W_ih", "weight_ih_l0"),
            ("W_hh", "weight_hh_l0"),
            ("b_ih", "bias_ih_l0"),
            ("b_hh", "bias_hh_l0"),
        ]:
            getattr(module, torch_name).copy_(torch.as_tensor(getattr(params, name)))
    return module


def test_sine_states_are_an_untrained_elman_network_reading_a_sine():
    top, bottom = plotted("sine_states")
    (x,) = top
    t = x["x"]
    np.testing.assert_allclose(x["y"], np.sin(2 * np.pi * t / 30), atol=1e-12)
    units = curves(bottom, color=STYLE["rnn"]["color"])
    assert len(units) == 5
    with torch.no_grad():
        hs, _ = torch_elman(rnn.init(1, 16, rng=3))(torch.tensor(x["y"]).reshape(-1, 1, 1))
    for j, unit in enumerate(units):
        np.testing.assert_allclose(unit["y"], hs[:, 0, j].numpy(), rtol=1e-10, atol=1e-12)


def test_state_memory_is_the_distance_between_two_runs_from_two_initial_states():
    (ax,) = plotted("state_memory")
    assert len(ax) == 4
    params = rnn.init(1, 16, rng=3)
    xs = torch.tensor(np.sin(2 * np.pi * np.arange(1, 121) / 30)).reshape(-1, 1, 1)
    h0s = torch.tensor(np.random.default_rng(0).uniform(-1, 1, size=(2, 1, 16)))
    for line, radius in zip(ax, (0.5, 0.9, 1.5, 3.0)):
        module = torch_elman(params)
        with torch.no_grad():
            module.weight_hh_l0 *= radius / torch.linalg.matrix_norm(module.weight_hh_l0, ord=2)
            hs, _ = module(xs, h0s[:1])
            hs_other, _ = module(xs, h0s[1:])
        distance = torch.linalg.vector_norm(hs - hs_other, dim=-1)[:, 0].numpy()
        shown = ~np.isnan(line["y"])
        assert shown[:5].all()
        np.testing.assert_allclose(line["y"][shown], distance[shown], rtol=1e-6, atol=1e-15)


def cliff_descent_by_autograd(start, lr, steps, max_norm=None, T=50, h0=0.5, target=0.7):
    """Gradient descent on the one-unit RNN's loss, gradient by autograd, clipped as Pascanu et al."""
    point, path, losses = torch.tensor(start, dtype=torch.float64), [list(start)], []
    for _ in range(steps):
        w, b = point.clone().requires_grad_(True)
        h = torch.tensor(h0, dtype=torch.float64)
        for _ in range(T):
            h = w * torch.sigmoid(h) + b
        loss = (h - target) ** 2
        grad = torch.stack(torch.autograd.grad(loss, (w, b)))
        if max_norm is not None and grad.norm() > max_norm:
            grad = grad * max_norm / grad.norm()
        point = point - lr * grad
        path.append(point.tolist())
        losses.append(loss.item())
    return np.array(path), np.array(losses)


def test_clipping_cliff_paths_and_losses_are_gradient_descent_with_and_without_clipping():
    left, right, _colorbar = plotted("clipping_cliff")
    paths = [line for line in left if len(line["x"]) > 1]
    assert len(paths) == 2 and len(right) == 2
    for max_norm, path, losses in zip((None, 12.0), paths, right):
        expected_path, expected_losses = cliff_descent_by_autograd((4.5, -3.0), 0.02, 40, max_norm)
        np.testing.assert_allclose(np.stack([path["x"], path["y"]], 1), expected_path, rtol=1e-9)
        np.testing.assert_allclose(losses["y"], expected_losses, rtol=1e-9)
    assert right[1]["y"][-1] < right[0]["y"][-1]  # the clipped run ends lower


def jacobian_norms(params, xs, f):
    """‖∂h_T/∂h_{T-L}‖₂ for L = 0..T on the trajectory from h_0 = 0, as a product of autograd Jacobians."""
    W_ih, W_hh, b_ih, b_hh = (torch.tensor(getattr(params, n)) for n in ("W_ih", "W_hh", "b_ih", "b_hh"))
    h, jacobians = torch.zeros(W_hh.shape[0], dtype=torch.float64), []
    for x in torch.tensor(xs):

        def step(h_prev, x=x):
            return f(W_ih @ x + b_ih + W_hh @ h_prev + b_hh)

        jacobians.append(torch.autograd.functional.jacobian(step, h))
        h = step(h)
    product, norms = torch.eye(len(h), dtype=torch.float64), [1.0]
    for J in reversed(jacobians):
        product = product @ J
        norms.append(torch.linalg.matrix_norm(product, ord=2).item())
    return np.array(norms)


def test_gradient_norms_lag_measures_the_jacobian_and_draws_pascanus_bound():
    tanh_axes, sigmoid_axes = plotted("gradient_norms_lag")
    for ax, gamma, f in ((tanh_axes, 1.0, torch.tanh), (sigmoid_axes, 0.25, torch.sigmoid)):
        measured = [line for line in ax if line["linestyle"] == "-"]
        bounds = [line for line in ax if line["linestyle"] == ":"]
        assert len(measured) == len(bounds) >= 3
        rng = np.random.default_rng(0)  # the figure's draws: init, W, then the inputs
        params = rnn.init(4, 32, rng=rng)
        W = rng.standard_normal((32, 32))
        xs = rng.standard_normal((60, 4))
        for line, bound in zip(measured, bounds):
            spectral_norm = float(line["label"].split("=")[1].strip(" $"))
            params.W_hh = W * spectral_norm / np.linalg.norm(W, 2)
            np.testing.assert_allclose(line["y"], jacobian_norms(params, xs, f), rtol=1e-8, atol=1e-300)
            lags = bound["x"]
            np.testing.assert_allclose(bound["y"], (gamma * spectral_norm) ** lags, rtol=1e-10)


def test_adding_gradient_is_the_input_gradient_of_the_last_loss_by_autograd():
    (ax,) = plotted("adding_gradient")
    data = tasks.adding_problem(100, 8, rng=0, dtype=np.float64)
    out = layers.linear_init(64, 1, rng=2)
    modules = {
        (STYLE["rnn"]["color"], "-"): torch_elman(rnn.init(2, 64, rng=1)),
        (STYLE["gru"]["color"], "-"): gru.init(2, 64, rng=1).to_torch(),
        (STYLE["lstm"]["color"], "--"): lstm.init(2, 64, rng=1).to_torch(),
        (STYLE["lstm"]["color"], "-"): lstm.init(2, 64, rng=1, forget_bias=1.0).to_torch(),
    }
    for (colour, style), module in modules.items():
        (line,) = curves(ax, color=colour, linestyle=style)
        xs = torch.tensor(data.xs, requires_grad=True)
        hs, _ = module(xs)
        y = hs[-1] @ torch.tensor(out.W).T + torch.tensor(out.b)
        loss = torch.nn.functional.mse_loss(y, torch.tensor(data.ys))
        (dxs,) = torch.autograd.grad(loss, xs)
        norms = torch.linalg.vector_norm(dxs.flip(0).reshape(100, -1), dim=1).numpy()
        np.testing.assert_allclose(line["y"], norms / norms[0], rtol=1e-8, atol=1e-300)


def test_truncated_gradient_by_lag_is_autograd_with_the_state_detached_k_steps_back():
    (ax,) = plotted("truncated_gradient_by_lag")
    rng = np.random.default_rng(0)  # the figure's network and data (bptt.lag_setup), drawn again
    params, out = rnn.init(4, 32, rng=rng), layers.linear_init(32, 3, rng=rng)
    q, r = np.linalg.qr(rng.normal(size=(32, 32)))
    params.W_hh[:] = q * np.sign(np.diag(r))
    xs = 0.5 * rng.normal(size=(60, 16, 4))
    target = torch.tensor(rng.integers(0, 3, size=16))
    module = torch_elman(params)
    for k in (10, 25, 60):
        (line,) = [ln for ln in ax if ln["label"] == (f"$k = {k}$" if k < 60 else "$k = T$")]
        x = torch.tensor(xs, requires_grad=True)
        state = None
        if k < 60:
            with torch.no_grad():  # the cut: no graph before the window
                _, state = module(x[: 60 - k])
        hs, _ = module(x[60 - k :], state)
        logits = hs[-1] @ torch.tensor(out.W).T + torch.tensor(out.b)
        (dxs,) = torch.autograd.grad(torch.nn.functional.cross_entropy(logits, target), x)
        norms = torch.linalg.vector_norm(dxs.flip(0).reshape(60, -1), dim=1).numpy()
        np.testing.assert_allclose(line["y"], norms, rtol=1e-9, atol=1e-300)
        assert not line["y"][k:].any()  # nothing beyond the cut


def lstm_forget_gates(params, xs):
    """f_t along the trajectory of torch.nn.LSTM, from the closed form σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)."""
    module = params.to_torch()
    x = torch.tensor(xs)[:, None, :]
    with torch.no_grad():
        hs, _ = module(x)
        h_prev = torch.cat([torch.zeros_like(hs[:1]), hs[:-1]])[:, 0]
        H = params.hidden_size
        W_if, W_hf = module.weight_ih_l0[H : 2 * H], module.weight_hh_l0[H : 2 * H]
        b_f = module.bias_ih_l0[H : 2 * H] + module.bias_hh_l0[H : 2 * H]
        return torch.sigmoid(x[:, 0] @ W_if.T + h_prev @ W_hf.T + b_f).numpy()


def test_lstm_cell_path_is_the_product_of_the_forget_gates():
    (ax,) = plotted("lstm_cell_path")
    (ones,) = curves(ax, label="$f_t = 1$")
    assert np.all(ones["y"] == 1)
    xs = np.random.default_rng(0).standard_normal((100, 4))
    for bias in (0.0, 1.0, 3.0):
        (line,) = curves(ax, label=f"$b_f = {bias:g}$")
        f = lstm_forget_gates(lstm.init(4, 32, rng=1, forget_bias=bias), xs)
        products = np.vstack([np.ones(32), np.cumprod(f[::-1], axis=0)])  # Π f over the last L steps
        np.testing.assert_allclose(line["y"], products.max(axis=1), rtol=1e-9, atol=1e-300)


def state_jacobian_norms(module, xs, lstm_state=False):
    """‖∂h_T/∂h_{T-L}‖₂ for L = 0..T by autograd: the state Jacobians of a torch module, multiplied.
    For the LSTM the state is (h, c) and the norm is that of the (h, h) block."""
    x = torch.tensor(xs)[:, None, :]
    H = module.hidden_size
    state = torch.zeros(2 * H if lstm_state else H, dtype=torch.float64)

    def step(s, x_t):
        if lstm_state:
            _, (h, c) = module(x_t[None], (s[None, None, :H], s[None, None, H:]))
            return torch.cat([h[0, 0], c[0, 0]])
        return module(x_t[None], s[None, None])[1][0, 0]

    jacobians = []
    for x_t in x:
        jacobians.append(torch.autograd.functional.jacobian(lambda s, x_t=x_t: step(s, x_t), state, vectorize=True))
        with torch.no_grad():
            state = step(state, x_t)
    product, norms = torch.eye(len(state), dtype=torch.float64), [1.0]
    for J in reversed(jacobians):
        product = product @ J
        norms.append(torch.linalg.matrix_norm(product[:H, :H], ord=2).item())
    return np.array(norms)


def test_lstm_vs_rnn_lag_is_the_state_jacobian_by_autograd():
    (ax,) = plotted("lstm_vs_rnn_lag")
    xs = np.random.default_rng(0).standard_normal((100, 4))
    (rnn_line,) = curves(ax, color=STYLE["rnn"]["color"])
    np.testing.assert_allclose(
        rnn_line["y"], state_jacobian_norms(torch_elman(rnn.init(4, 32, rng=1)), xs), rtol=1e-7, atol=1e-300
    )
    (line,) = curves(ax, label="$b_f = 1$")
    expected = state_jacobian_norms(lstm.init(4, 32, rng=1, forget_bias=1.0).to_torch(), xs, lstm_state=True)
    np.testing.assert_allclose(line["y"], expected, rtol=1e-7, atol=1e-300)


def test_gru_gradient_lag_is_the_geometric_mean_over_seeds_of_autograd_norms():
    (ax,) = plotted("gru_gradient_lag")
    (line,) = curves(ax, color=STYLE["gru"]["color"])
    logs = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        module = gru.init(4, 32, rng=rng).to_torch()
        logs.append(np.log10(state_jacobian_norms(module, rng.standard_normal((100, 4)))))
    np.testing.assert_allclose(line["y"], 10 ** np.mean(logs, axis=0), rtol=1e-7)


def test_plotted_names_the_figures():
    with pytest.raises(KeyError, match="name: expected one of"):
        plotted("nope")
