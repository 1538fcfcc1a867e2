"""rnnbook.torch_scan: the PyTorch scan equals the loop and rnnbook.scan, and autograd goes through it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import bench_scan, mingru, scan, torch_scan


@pytest.mark.parametrize("T", [1, 2, 3, 4, 5, 6, 7, 8, 9, 31, 64, 100])
def test_scan_equals_loop_and_numpy_with_gradients(T):
    rng = np.random.default_rng(T)
    a_np, b_np, h0_np = rng.uniform(-1, 1, (T, 3)), rng.standard_normal((T, 3)), rng.standard_normal(3)
    a, b, h0 = (torch.tensor(x, requires_grad=True) for x in (a_np, b_np, h0_np))
    h = torch_scan.linear_recurrence(a, b, h0)
    np.testing.assert_allclose(
        h.detach().numpy(), torch_scan.linear_recurrence_loop(a, b, h0).detach().numpy(), atol=1e-12
    )
    np.testing.assert_allclose(h.detach().numpy(), scan.linear_recurrence(a_np, b_np, h0_np), atol=1e-12)
    dh = rng.standard_normal((T, 3))
    torch.sum(h * torch.from_numpy(dh)).backward()
    da, db, dh0 = scan.linear_recurrence_backward(dh, a_np, scan.linear_recurrence(a_np, b_np, h0_np), h0_np)
    for ours, theirs in ((da, a), (db, b), (dh0, h0)):
        np.testing.assert_allclose(theirs.grad.numpy(), ours, atol=1e-12)


def test_complex_scan_with_autograd():
    torch.manual_seed(0)
    a = (0.9 * torch.exp(1j * torch.rand(20, 2, dtype=torch.float64))).requires_grad_()
    b = torch.randn(20, 2, dtype=torch.complex128)
    h = torch_scan.linear_recurrence(a, b)
    torch.testing.assert_close(h, torch_scan.linear_recurrence_loop(a, b), rtol=0, atol=1e-12)
    h.abs().sum().backward()
    assert torch.isfinite(a.grad).all()


def test_mingru_layer_equals_numpy():
    layer = torch_scan.MinGRU(3, 4).double()
    xs = np.random.default_rng(0).standard_normal((10, 2, 3))
    W, bias = layer.gates.weight.detach().numpy(), layer.gates.bias.detach().numpy()
    params = mingru.Params(W_z=W[:4], b_z=bias[:4], W_h=W[4:], b_h=bias[4:])
    with torch.no_grad():
        hs = layer(torch.from_numpy(xs)).numpy()
    np.testing.assert_allclose(hs, mingru.forward(xs, None, params)[0], atol=1e-12)


@pytest.mark.parametrize("cell", torch_scan.CELLS)
def test_regressor_trains(cell):
    torch.manual_seed(0)
    model = torch_scan.LinearRecurrentRegressor(2, 8, cell=cell)
    xs, ys = torch.randn(20, 16, 2), torch.randn(16, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = torch.nn.functional.mse_loss(model(xs)[0], ys)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    y, state = model(xs, lengths=torch.full((16,), 12))
    assert y.shape == (16, 1) and state is None


def test_clear_errors():
    with pytest.raises(ValueError, match=r"b: expected torch.float32 \(3, 2\) like a"):
        torch_scan.linear_recurrence(torch.ones(3, 2), torch.ones(3, 3))
    with pytest.raises(ValueError, match="expected finite values"):
        torch_scan.linear_recurrence(torch.tensor([1.0, float("nan")]), torch.ones(2))
    with pytest.raises(TypeError, match="a: expected a floating or complex dtype"):
        torch_scan.linear_recurrence(torch.ones(2, dtype=torch.long), torch.ones(2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"h0: expected torch.float32 \(2,\)"):
        torch_scan.linear_recurrence(torch.ones(3, 2), torch.ones(3, 2), torch.ones(3))
    with pytest.raises(ValueError, match="cell: expected one of 'mingru', 'lru'"):
        torch_scan.LinearRecurrentRegressor(2, 4, cell="lstm")


def test_benchmark_quick(capsys):
    rows = bench_scan.main(["--quick", "--repeat", "1"])
    out = capsys.readouterr().out
    assert "loop/scan" in out and len(rows) == 8
    assert all(row["difference"] < 1e-4 and row["scan_s"] > 0 for row in rows)
