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

CHECKED = {"activations", "sine_states", "state_memory", "clipping_cliff", "gradient_norms_lag",
           "adding_gradient"}


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
        for name, torch_name in [("W_ih", "weight_ih_l0"), ("W_hh", "weight_hh_l0"), ("b_ih", "bias_ih_l0"),
                                 ("b_hh", "bias_hh_l0")]:
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


def test_plotted_names_the_figures():
    with pytest.raises(KeyError, match="name: expected one of"):
        plotted("nope")
