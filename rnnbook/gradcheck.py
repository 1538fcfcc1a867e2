"""Checking a backward pass against central finite differences.

An analytic gradient is right when it agrees with the numerical one,

    ∂f/∂x_k ≈ (f(x + ε e_k) − f(x − ε e_k)) / (2ε),

whose error has two parts: the truncation of the Taylor series, O(ε²), and the
rounding of f, about 10⁻¹⁶·|f|/ε in float64. They balance near ε = 10⁻⁵ (the cube
root of the machine epsilon), where the two gradients agree to eight digits or
more. Run checks in float64: float32 has only seven digits to begin with.

>>> import numpy as np
>>> from rnnbook.gradcheck import check_gradient
>>> x = np.array([1.0, 2.0, 3.0])
>>> f = lambda: float(np.sum(x**3))
>>> check_gradient(f, {"x": x}, {"x": 3 * x**2}) < 1e-8
True
"""

from __future__ import annotations

import numbers

import numpy as np

from rnnbook._validate import check_array, check_float

__all__ = ["numerical_gradient", "relative_error", "check_gradient"]


# --8<-- [start:numerical_gradient]
def numerical_gradient(f, x, eps=1e-5):
    """Central differences of a scalar function f() with respect to the array x.

    ``f`` takes no argument: it reads ``x``, which is changed in place, one entry at a
    time, then restored. Costs 2·x.size calls of f.

    >>> import numpy as np
    >>> from rnnbook.gradcheck import numerical_gradient
    >>> x = np.array([1.0, 2.0])
    >>> numerical_gradient(lambda: float(x[0] * x[1]), x)
    array([2., 1.])
    """
    check_array("x", x, dtype=np.float64)
    eps = check_float("eps", eps, minimum=0, strict_minimum=True)
    grad = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        old = x[k]
        x[k] = old + eps
        f_plus = f()
        x[k] = old - eps
        f_minus = f()
        x[k] = old
        grad[k] = (f_plus - f_minus) / (2 * eps)
    return grad


# --8<-- [end:numerical_gradient]


# --8<-- [start:relative_error]
def relative_error(analytic, numeric):
    """The largest difference, relative to the largest entry: max|a − n| / max(|a|, |n|).

    Dividing entry by entry would blow up the error of the entries that are close
    to zero, where finite differences have only absolute accuracy.

    >>> import numpy as np
    >>> from rnnbook.gradcheck import relative_error
    >>> relative_error(np.array([1.0, 1e-9]), np.array([1.0, 2e-9]))
    1e-09
    """
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    if analytic.shape != numeric.shape or analytic.size == 0:  # no broadcasting, nothing empty
        raise ValueError(
            f"numeric: expected a non-empty array of analytic's shape {analytic.shape}, got shape {numeric.shape}"
        )
    scale = max(np.max(np.abs(analytic)), np.max(np.abs(numeric)))
    if scale == 0:
        return 0.0
    return float(np.max(np.abs(analytic - numeric)) / scale)


# --8<-- [end:relative_error]


def check_gradient(f, inputs, grads, eps=1e-5):
    """Compare analytic gradients with central differences; return the worst relative error.

    Args:
        f: a function of no argument returning a scalar (a Python or numpy float);
            it must read the arrays of ``inputs``, which are perturbed in place.
        inputs: a dict of float64 arrays, e.g. ``{"W_hh": params.W_hh, "xs": xs}``.
        grads: a dict with the same keys: the analytic ∂f/∂input, same shapes.
        eps: the finite-difference step ε.

    Returns:
        The largest :func:`relative_error` over the inputs.

    >>> import numpy as np
    >>> from rnnbook.gradcheck import check_gradient
    >>> W = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> v = np.array([1.0, -1.0])
    >>> f = lambda: float(np.sum(np.tanh(W @ v)))
    >>> dW = np.outer(1 - np.tanh(W @ v) ** 2, v)
    >>> check_gradient(f, {"W": W}, {"W": dW}) < 1e-8
    True
    """
    if set(inputs) != set(grads):
        raise ValueError(f"grads: expected the keys of inputs {sorted(inputs)}, got {sorted(grads)}")
    value = f()
    scalar = isinstance(value, numbers.Real) or (isinstance(value, np.ndarray) and value.shape == ())
    if not scalar or isinstance(value, bool):
        hint = (
            f" of shape {value.shape}: sum or average it to one number"
            if isinstance(value, np.ndarray)
            else " (does f end with return?)"
            if value is None
            else ""
        )
        raise TypeError(f"f: expected a function returning a scalar (a float), got {type(value).__name__}{hint}")
    errors = []
    for name, x in inputs.items():
        check_array(f"inputs[{name!r}]", x, dtype=np.float64)
        check_array(f"grads[{name!r}]", grads[name], shape=x.shape)
        errors.append(relative_error(grads[name], numerical_gradient(f, x, eps)))
    return max(errors)
