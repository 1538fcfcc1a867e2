"""rnnbook.lru: recurrent and parallel forms agree, the initialisation and γ do what the paper says."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import lru, torch_scan


def problem(T=30, B=2, H=3, N=8, seed=0):
    rng = np.random.default_rng(seed)
    return lru.init(H, N, rng=rng), rng.standard_normal((T, B, H))


def test_scan_equals_loop_and_a_written_out_recurrence():
    params, us = problem()
    ys, xs = lru.forward(us, params)
    ys_loop, xs_loop = lru.forward(us, params, mode="loop")
    lam, gamma = lru.eigenvalues(params), np.exp(params.gamma_log)
    x, expected = np.zeros((2, 8), dtype=complex), []
    for u in us:
        x = lam * x + gamma * (u @ params.B.T)
        expected.append((x @ params.C.T).real + params.D * u)
    np.testing.assert_allclose(xs, xs_loop, atol=1e-12)
    np.testing.assert_allclose(ys, ys_loop, atol=1e-12)
    np.testing.assert_allclose(ys, np.array(expected), atol=1e-12)


def test_eigenvalues_on_the_ring_and_inside_the_unit_disc():
    params = lru.init(2, 5000, rng=1, r_min=0.4, r_max=0.9, max_phase=np.pi)
    modulus = np.abs(lru.eigenvalues(params))
    assert np.all((modulus >= 0.4 - 1e-12) & (modulus <= 0.9 + 1e-12))
    # uniform on the ring: the fraction inside radius r is (r² − r_min²)/(r_max² − r_min²)
    r = 0.7
    assert abs(np.mean(modulus < r) - (r**2 - 0.4**2) / (0.9**2 - 0.4**2)) < 0.03
    phases = np.angle(lru.eigenvalues(params))
    assert np.all((phases >= 0) & (phases <= np.pi))
    params.nu_log[:] = np.linspace(-30, 30, 5000)  # any real ν keeps |λ| < 1 ... or rounds to 1
    assert np.all(np.abs(lru.eigenvalues(params)) <= 1)


def test_gamma_normalises_the_state_variance():
    params = lru.init(1, 4, rng=0, r_min=0.95, r_max=0.99)
    us = np.random.default_rng(2).standard_normal((600, 2000, 1))
    _, xs = lru.forward(us, params)
    expected = np.abs(params.B[:, 0]) ** 2  # E|γ B u|² / (1 − |λ|²) = |B|² when γ² = 1 − |λ|²
    np.testing.assert_allclose(np.mean(np.abs(xs[-1]) ** 2, axis=0), expected, rtol=0.15)


def test_torch_layer_equals_numpy():
    params, us = problem()
    layer = torch_scan.LRU(3, 8).double()
    with torch.no_grad():
        for name in ("nu_log", "theta_log", "gamma_log", "D"):
            getattr(layer, name).copy_(torch.from_numpy(getattr(params, name)))
        layer.B.copy_(torch.view_as_real(torch.from_numpy(params.B)))
        layer.C.copy_(torch.view_as_real(torch.from_numpy(params.C)))
        ys = layer(torch.from_numpy(us)).numpy()
    np.testing.assert_allclose(ys, lru.forward(us, params)[0], atol=1e-12)


def test_clear_errors():
    params, us = problem()
    with pytest.raises(ValueError, match=r"us: expected shape \(T, B, H\) = \(30, 2, 3\)"):
        lru.forward(us[:, :, :2], params)
    with pytest.raises(TypeError, match=r"us: expected dtype float64, got float32"):
        lru.forward(us.astype(np.float32), params)
    with pytest.raises(ValueError, match=r"r_max: expected a number < 1"):
        lru.init(3, 4, r_max=1.0)
    with pytest.raises(ValueError, match=r"mode: expected one of 'scan', 'loop'"):
        lru.forward(us, params, mode="fft")
    params.B = params.B.real
    with pytest.raises(TypeError, match=r"params.B: expected dtype complex128, got float64"):
        lru.forward(us, params)
