"""Linear recurrences h_t = a_t ⊙ h_{t-1} + b_t, by a loop and by a parallel scan.

A nonlinear recurrence such as the RNN's h_t = tanh(W h_{t-1} + U x_t) must be
computed one step after the other. A linear one need not: each step is the
affine map h ↦ a_t ⊙ h + b_t, and the composition of two affine maps is again
an affine map,

    (a₁, b₁) ∘ (a₂, b₂) = (a₁ ⊙ a₂, a₂ ⊙ b₁ + b₂)      (step 1, then step 2)

an associative operation, so the prefixes h_0, h_1, ... can be computed by a
parallel scan (Blelloch 1990) in O(log T) depth and O(T) work; Martin & Cundy
(2018) used this to train linear recurrent networks over the sequence length.

All functions work over axis 0 (time, T) of arrays of any shape (T, ...):
the other axes (B, H, or anything else) are elementwise. Coefficients may be
real (float32, float64) or complex (complex64, complex128, for the LRU).

>>> import numpy as np
>>> from rnnbook.scan import linear_recurrence, linear_recurrence_loop
>>> a = np.full((5, 1), 0.5)
>>> b = np.ones((5, 1))
>>> linear_recurrence(a, b)[:, 0]
array([1.    , 1.5   , 1.75  , 1.875 , 1.9375])
>>> bool(np.allclose(linear_recurrence(a, b), linear_recurrence_loop(a, b)))
True
"""

from __future__ import annotations

import numpy as np

from rnnbook._validate import check_array

__all__ = [
    "combine",
    "linear_recurrence_loop",
    "linear_recurrence",
    "linear_recurrence_backward",
    "scan_work_depth",
]

DTYPES = tuple(np.dtype(t) for t in (np.float32, np.float64, np.complex64, np.complex128))


def _check_coefficients(a, b, h0=None, *, names=("a", "b", "h0")):
    """Check a and b (T, ...) of one shape and dtype, finite, and h0 (...) or None.

    Returns h0 as an array of zeros when it is None.
    """
    name_a, name_b, name_h0 = names
    for name, x in ((name_a, a), (name_b, b)):
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{name}: expected a numpy array, got {type(x).__name__}")
        if x.dtype not in DTYPES:
            raise TypeError(f"{name}: expected dtype float32, float64, complex64 or complex128, got {x.dtype}")
    if a.ndim == 0 or len(a) == 0:
        raise ValueError(f"{name_a}: expected shape (T, ...) with T >= 1, got {tuple(a.shape)}")
    check_array(name_a, a, dtype=a.dtype)
    check_array(name_b, b, shape=a.shape, dtype=a.dtype)
    if h0 is None:
        return np.zeros(a.shape[1:], dtype=a.dtype)
    return check_array(name_h0, h0, shape=a.shape[1:], dtype=a.dtype)


# --8<-- [start:combine]
def combine(first, second):
    """The composition of two affine steps h ↦ a ⊙ h + b: first, then second.

    (a₁, b₁) ∘ (a₂, b₂) = (a₁ ⊙ a₂, a₂ ⊙ b₁ + b₂), because
    a₂ ⊙ (a₁ ⊙ h + b₁) + b₂ = (a₁ ⊙ a₂) ⊙ h + (a₂ ⊙ b₁ + b₂).

    >>> from rnnbook.scan import combine
    >>> combine((2.0, 1.0), (3.0, 5.0))
    (6.0, 8.0)
    """
    a1, b1 = first
    a2, b2 = second
    return a1 * a2, a2 * b1 + b2


# --8<-- [end:combine]


# --8<-- [start:loop]
def linear_recurrence_loop(a, b, h0=None):
    """h_t = a_t ⊙ h_{t-1} + b_t for t = 0 .. T-1, one step after the other.

    The sequential reference: T steps, each a vectorised product and sum over the
    other axes. Work O(T), depth O(T).

    Args:
        a: coefficients (T, ...).
        b: inputs (T, ...), same shape and dtype.
        h0: the state before the first step (...), or None for zeros.

    Returns:
        h: the states (T, ...).

    >>> import numpy as np
    >>> from rnnbook.scan import linear_recurrence_loop
    >>> linear_recurrence_loop(np.array([2.0, 2.0, 2.0]), np.ones(3), h0=np.array(1.0))
    array([ 3.,  7., 15.])
    """
    h_prev = _check_coefficients(a, b, h0)
    h = np.empty_like(b)
    for t in range(len(a)):
        h_t = h[t, ...]  # a view, also when h is (T,)
        np.multiply(a[t], h_prev, out=h_t)
        h_t += b[t]
        h_prev = h_t
    return h


# --8<-- [end:loop]


# --8<-- [start:scan]
def linear_recurrence(a, b, h0=None):
    """h_t = a_t ⊙ h_{t-1} + b_t for t = 0 .. T-1, by a parallel scan over axis 0.

    The work-efficient scan of Blelloch (1990), in the form that gives the
    inclusive prefixes. Up-sweep: for d = 1, 2, 4, ..., every position i with
    i + 1 a multiple of 2d takes in the block of d steps before it,
    (A_i, B_i) ← (A_{i-d}, B_{i-d}) ∘ (A_i, B_i); position i then holds the
    composition of the block of steps ending at i whose length is the largest
    power of two dividing i + 1. Down-sweep: for d = ..., 4, 2, 1, every position
    i = 3d-1, 5d-1, ... composes the complete prefix at i - d with its own block,
    B_i ← A_i ⊙ B_{i-d} + B_i. Each level is one vectorised operation on a strided
    view, so the depth is about 2 log₂ T levels and the work about 2T combines.

    h0 enters as a first step: b_0 becomes a_0 ⊙ h0 + b_0.

    Args:
        a: coefficients (T, ...).
        b: inputs (T, ...), same shape and dtype.
        h0: the state before the first step (...), or None for zeros.

    Returns:
        h: the states (T, ...), equal to :func:`linear_recurrence_loop` up to rounding.

    >>> import numpy as np
    >>> from rnnbook.scan import linear_recurrence, linear_recurrence_loop
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.uniform(0, 1, (100, 3)), rng.standard_normal((100, 3))
    >>> float(np.max(np.abs(linear_recurrence(a, b) - linear_recurrence_loop(a, b)))) < 1e-12
    True
    """
    h0 = _check_coefficients(a, b, h0)
    T = len(a)
    A = a.copy()  # the block products; a itself is left untouched
    h = b.copy()  # becomes the output, in place
    h[0] += a[0] * h0
    tmp = np.empty_like(h[: T // 2])  # room for the products of the widest level
    d = 1
    while d < T:  # up-sweep
        _compose(A, h, tmp, first=2 * d - 1, d=d, with_a=2 * d < T)
        d *= 2
    while d > 1:  # down-sweep
        d //= 2
        _compose(A, h, tmp, first=3 * d - 1, d=d, with_a=False)
    return h


def _compose(A, h, tmp, *, first, d, with_a):
    """(A_i, h_i) ← (A_{i-d}, h_{i-d}) ∘ (A_i, h_i) for i = first, first + 2d, ..., in place.

    The right operands are the strided view ``[first::2d]``, the left ones the view
    d positions earlier. ``with_a=False`` skips the product of the A's when no
    later level reads it.
    """
    T = len(h)
    right = slice(first, T, 2 * d)
    left = slice(first - d, T - d, 2 * d)
    n = len(range(first, T, 2 * d))
    if n == 0:
        return
    np.multiply(A[right], h[left], out=tmp[:n])
    h[right] += tmp[:n]
    if with_a:
        A[right] *= A[left]


# --8<-- [end:scan]


# --8<-- [start:backward]
def linear_recurrence_backward(dh, a, h, h0=None):
    """Gradients of a loss through h = linear_recurrence(a, b, h0).

    h_t depends on h_{t-1} through a_t, so the total gradient g_t = ∂L/∂h_t
    receives dh_t directly and a_{t+1} ⊙ g_{t+1} through the next step:

        g_{T-1} = dh_{T-1},   g_t = a_{t+1} ⊙ g_{t+1} + dh_t.

    This is again a linear recurrence, run backwards in time with the
    coefficients shifted by one step: the same scan computes it, on reversed
    views. Then, from h_t = a_t ⊙ h_{t-1} + b_t,

        ∂L/∂b_t = g_t,   ∂L/∂a_t = g_t ⊙ h_{t-1},   ∂L/∂h0 = a_0 ⊙ g_0.

    For complex coefficients these are the gradients of a holomorphic function
    (no conjugates), the convention of a product rule over complex numbers.

    Args:
        dh: ∂L/∂h_t from the loss (T, ...).
        a: the coefficients of the forward pass (T, ...).
        h: the states it returned (T, ...).
        h0: the initial state it used (...), or None for zeros.

    Returns:
        da: ∂L/∂a (T, ...); db: ∂L/∂b (T, ...); dh0: ∂L/∂h0 (...).

    >>> import numpy as np
    >>> from rnnbook.scan import linear_recurrence, linear_recurrence_backward
    >>> a, b = np.full((3, 1), 0.5), np.ones((3, 1))
    >>> h = linear_recurrence(a, b)
    >>> da, db, dh0 = linear_recurrence_backward(np.ones_like(h), a, h)
    >>> db[:, 0]
    array([1.75, 1.5 , 1.  ])
    """
    h0 = _check_coefficients(a, dh, h0, names=("a", "dh", "h0"))
    check_array("h", h, shape=a.shape, dtype=a.dtype)
    g = np.empty_like(dh)
    g[-1] = dh[-1]
    if len(a) > 1:  # g_t for t = T-2 .. 0, as a forward recurrence on reversed views
        g[-2::-1] = linear_recurrence(a[:0:-1], dh[-2::-1], h0=dh[-1])
    da = np.empty_like(g)
    da[0] = g[0] * h0
    np.multiply(g[1:], h[:-1], out=da[1:])
    return da, g, a[0] * g[0]


# --8<-- [end:backward]


def scan_work_depth(T, method):
    """Combines (work) and levels (depth) of a scan over T steps.

    - "sequential": T − 1 combines, one after the other.
    - "hillis-steele" (Hillis & Steele 1986): at level k every position i ≥ 2^k
      combines with i − 2^k, ⌈log₂ T⌉ levels, Σ_k (T − 2^k) combines.
    - "blelloch" (Blelloch 1990; the up- and down-sweep of :func:`linear_recurrence`):
      about 2 log₂ T levels and fewer than 2T combines.

    >>> from rnnbook.scan import scan_work_depth
    >>> [scan_work_depth(1024, m) for m in ("sequential", "hillis-steele", "blelloch")]
    [(1023, 1023), (9217, 10), (2036, 19)]
    """
    levels = int(T - 1).bit_length()  # ⌈log₂ T⌉
    if method == "sequential":
        return T - 1, T - 1
    if method == "hillis-steele":
        return sum(T - 2**k for k in range(levels)), levels
    if method == "blelloch":
        up = [len(range(2 * d - 1, T, 2 * d)) for d in (2**k for k in range(levels))]
        down = [len(range(3 * d - 1, T, 2 * d)) for d in (2**k for k in range(levels - 1))]
        return sum(up) + sum(down), sum(n > 0 for n in up + down)
    raise ValueError(f"method: expected one of 'sequential', 'hillis-steele', 'blelloch', got {method!r}")
