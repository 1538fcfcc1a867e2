"""rnnbook.scan: the parallel scan equals the loop, its backward equals finite differences and autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook import scan
from rnnbook.gradcheck import check_gradient

LENGTHS = [1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 33, 100, 257]


def problem(T, tail=(3, 2), seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1.1, 1.1, (T, *tail)).astype(dtype)
    b = rng.standard_normal((T, *tail)).astype(dtype)
    h0 = rng.standard_normal(tail).astype(dtype)
    return a, b, h0


def reference(a, b, h0):
    """The recurrence written out in plain Python, one number at a time."""
    h = np.empty_like(b)
    for index in np.ndindex(a.shape[1:]):
        state = h0[index]
        for t in range(len(a)):
            state = a[(t, *index)] * state + b[(t, *index)]
            h[(t, *index)] = state
    return h


@pytest.mark.parametrize("T", LENGTHS)
def test_scan_and_loop_equal_plain_python(T):
    a, b, h0 = problem(T)
    expected = reference(a, b, h0)
    np.testing.assert_allclose(scan.linear_recurrence_loop(a, b, h0), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(scan.linear_recurrence(a, b, h0), expected, rtol=0, atol=1e-12)


def test_without_h0_starts_from_zero():
    a, b, _ = problem(13)
    np.testing.assert_allclose(scan.linear_recurrence(a, b), reference(a, b, np.zeros((3, 2))), atol=1e-12)


@pytest.mark.parametrize("tail", [(), (5,), (2, 3, 4)])
def test_any_number_of_trailing_axes(tail):
    a, b, h0 = problem(21, tail)
    np.testing.assert_allclose(scan.linear_recurrence(a, b, h0), reference(a, b, h0), atol=1e-12)


def test_complex_coefficients():
    rng = np.random.default_rng(1)
    a = 0.9 * np.exp(1j * rng.uniform(0, 2 * np.pi, (40, 3)))
    b = rng.standard_normal((40, 3)) + 1j * rng.standard_normal((40, 3))
    h0 = np.ones(3, dtype=complex)
    np.testing.assert_allclose(scan.linear_recurrence(a, b, h0), reference(a, b, h0), atol=1e-12)


def test_inputs_are_not_modified():
    a, b, h0 = problem(17)
    copies = a.copy(), b.copy(), h0.copy()
    scan.linear_recurrence(a, b, h0)
    for before, after in zip(copies, (a, b, h0)):
        np.testing.assert_array_equal(before, after)


def test_float32_stays_float32():
    a, b, h0 = problem(50, dtype=np.float32)
    h = scan.linear_recurrence(a, b, h0)
    assert h.dtype == np.float32
    np.testing.assert_allclose(h, reference(a, b, h0), rtol=1e-4, atol=1e-4)


def test_combine_is_associative():
    rng = np.random.default_rng(2)
    x, y, z = (tuple(rng.standard_normal((2, 4))) for _ in range(3))
    left = scan.combine(scan.combine(x, y), z)
    right = scan.combine(x, scan.combine(y, z))
    np.testing.assert_allclose(left, right, rtol=1e-14)


@pytest.mark.parametrize("T", [1, 2, 5, 8, 13])
def test_backward_equals_finite_differences(T):
    a, b, h0 = problem(T, (2,), seed=T)
    dh = np.random.default_rng(9).standard_normal(a.shape)

    def loss():
        return float(np.sum(scan.linear_recurrence_loop(a, b, h0) * dh))

    h = scan.linear_recurrence(a, b, h0)
    da, db, dh0 = scan.linear_recurrence_backward(dh, a, h, h0)
    assert check_gradient(loss, {"a": a, "b": b, "h0": h0}, {"a": da, "b": db, "h0": dh0}) < 1e-8


@pytest.mark.parametrize("T", LENGTHS)
def test_backward_equals_autograd(T):
    a, b, h0 = problem(T, seed=T)
    dh = np.random.default_rng(3).standard_normal(a.shape)
    ta, tb, th0 = (torch.tensor(x, requires_grad=True) for x in (a, b, h0))
    h, state = [], th0
    for t in range(T):
        state = ta[t] * state + tb[t]
        h.append(state)
    torch.sum(torch.stack(h) * torch.from_numpy(dh)).backward()
    da, db, dh0 = scan.linear_recurrence_backward(dh, a, scan.linear_recurrence(a, b, h0), h0)
    for ours, theirs in ((da, ta), (db, tb), (dh0, th0)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=0, atol=1e-12)


def test_backward_without_h0():
    a, b, _ = problem(6)
    dh = np.ones_like(a)
    da, db, dh0 = scan.linear_recurrence_backward(dh, a, scan.linear_recurrence(a, b))
    np.testing.assert_array_equal(da[0], 0)  # h_{-1} = 0
    assert dh0.shape == a.shape[1:]


def test_work_and_depth_against_counting_combines():
    for T in (1, 2, 3, 7, 8, 100, 1024):
        levels = int(np.ceil(np.log2(T))) if T > 1 else 0
        assert scan.scan_work_depth(T, "sequential") == (T - 1, T - 1)
        work, depth = scan.scan_work_depth(T, "hillis-steele")
        assert depth == levels and work == sum(max(T - 2**k, 0) for k in range(levels))
        work, depth = scan.scan_work_depth(T, "blelloch")
        assert T - 1 <= work < 2 * T and depth <= 2 * levels


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((np.ones((3, 2)), np.ones((3, 3))), ValueError, r"b: expected shape"),
        ((np.ones((3, 2)), np.ones((3, 2)), np.ones(3)), ValueError, r"h0: expected shape"),
        ((np.array([1.0, np.nan]), np.ones(2)), ValueError, r"a: expected finite values"),
        ((np.ones(2), np.array([np.inf, 1.0])), ValueError, r"b: expected finite values"),
        ((np.ones(2, dtype=int), np.ones(2, dtype=int)), TypeError, r"a: expected dtype float32"),
        ((np.ones(2), np.ones(2, dtype=np.float32)), TypeError, r"b: expected dtype float64, got float32"),
        (([1.0, 2.0], np.ones(2)), TypeError, r"a: expected a numpy array, got list"),
        ((np.ones((0, 2)), np.ones((0, 2))), ValueError, r"a: expected shape \(T, \.\.\.\) with T >= 1"),
    ],
)
def test_clear_errors(args, error, message):
    for function in (scan.linear_recurrence, scan.linear_recurrence_loop):
        with pytest.raises(error, match=message):
            function(*args)


def test_backward_checks_h():
    a = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"h: expected shape"):
        scan.linear_recurrence_backward(a, a, np.ones((2, 2)))


def test_work_depth_unknown_method():
    with pytest.raises(ValueError, match="method: expected one of"):
        scan.scan_work_depth(8, "magic")
