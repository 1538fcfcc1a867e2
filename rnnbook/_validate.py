"""Argument checks shared by the whole package.

Every public function checks its inputs with these helpers, so that a wrong
shape, dtype or value raises an error that names the argument, what was
expected and what was given. Shapes are written with letters, as in the
docstrings: ``check_array("xs", xs, shape=("T", "B", "D"))`` binds T, B and D
on first sight and checks them on every later use of the same ``dims`` dict.

>>> from rnnbook._validate import check_array
>>> import numpy as np
>>> dims = {}
>>> xs = check_array("xs", np.zeros((5, 2, 3)), shape=("T", "B", "D"), dims=dims)
>>> dims
{'T': 5, 'B': 2, 'D': 3}
>>> check_array("h0", np.zeros((2, 4)), shape=("B", "H"), dims={"B": 3})
Traceback (most recent call last):
...
ValueError: h0: expected shape (B, H) = (3, H), got (2, 4) (B mismatch: expected 3, got 2)
"""

from __future__ import annotations

import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _fmt_shape(shape, dims):
    """Format a symbolic shape, e.g. ``(B, H) = (3, H)`` when B is bound to 3."""

    def fmt(items):
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    letters = fmt([str(s) for s in shape])
    bound = fmt([str(dims.get(s, s)) if isinstance(s, str) else str(s) for s in shape])
    return letters if bound == letters else f"{letters} = {bound}"


def check_array(name, x, *, shape=None, dims=None, dtype=None, finite=True):
    """Check that ``x`` is a floating numpy array of the given symbolic shape.

    Args:
        name: the argument's name, used in the error message.
        x: the value to check.
        shape: a tuple of ints or letters (e.g. ``("T", "B", "D")``); letters are
            bound in ``dims`` on first use and must match afterwards.
        dims: a dict of already bound letters, updated in place.
        dtype: a required dtype, or None for any of float32 and float64.
        finite: if True, NaN or infinite entries raise ``ValueError``.

    Returns:
        ``x`` itself (no copy).

    Raises:
        TypeError: ``x`` is not a numpy array, or has the wrong dtype.
        ValueError: wrong number of dimensions, a mismatched size, or non-finite values.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(x).__name__}")
    if dtype is not None:
        if x.dtype != np.dtype(dtype):
            raise TypeError(f"{name}: expected dtype {np.dtype(dtype)}, got {x.dtype}")
    elif x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name}: expected dtype float32 or float64, got {x.dtype}")
    if shape is not None:
        dims = {} if dims is None else dims
        if x.ndim != len(shape):
            raise ValueError(
                f"{name}: expected {len(shape)} dimensions {_fmt_shape(shape, dims)}, "
                f"got {x.ndim} dimensions {tuple(x.shape)}"
            )
        for size, letter in zip(x.shape, shape):
            expected = dims.get(letter, letter) if isinstance(letter, str) else letter
            if isinstance(expected, int) and size != expected:
                label = letter if isinstance(letter, str) else "size"
                raise ValueError(
                    f"{name}: expected shape {_fmt_shape(shape, dims)}, got {tuple(x.shape)} "
                    f"({label} mismatch: expected {expected}, got {size})"
                )
            if isinstance(letter, str):
                dims[letter] = size
    if finite and not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: expected finite values, got NaN or infinity")
    return x


def check_same_dtype(**arrays):
    """Check that all the named arrays share one dtype and return it.

    >>> import numpy as np
    >>> from rnnbook._validate import check_same_dtype
    >>> check_same_dtype(xs=np.zeros(2), h0=np.zeros(2, np.float32))
    Traceback (most recent call last):
    ...
    TypeError: dtype mismatch: xs is float64, h0 is float32 (convert one, e.g. h0.astype(np.float64))
    """
    names = list(arrays)
    first = arrays[names[0]].dtype
    for n in names[1:]:
        if arrays[n].dtype != first:
            hint = f"convert one, e.g. {n}.astype(np.{first})" if "." not in n else "give them one dtype"
            raise TypeError(f"dtype mismatch: {names[0]} is {first}, {n} is {arrays[n].dtype} ({hint})")
    return first


def check_int(name, value, *, minimum=None, maximum=None):
    """Check that ``value`` is an integer within ``[minimum, maximum]``.

    >>> from rnnbook._validate import check_int
    >>> check_int("seq_len", 0, minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: seq_len: expected an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}: expected an integer <= {maximum}, got {value}")
    return int(value)


def check_float(name, value, *, minimum=None, maximum=None, strict_minimum=False):
    """Check that ``value`` is a finite real number within the given bounds.

    >>> from rnnbook._validate import check_float
    >>> check_float("lr", -0.1, minimum=0, strict_minimum=True)
    Traceback (most recent call last):
    ...
    ValueError: lr: expected a number > 0, got -0.1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    if minimum is not None:
        if strict_minimum and value <= minimum:
            raise ValueError(f"{name}: expected a number > {minimum}, got {value}")
        if not strict_minimum and value < minimum:
            raise ValueError(f"{name}: expected a number >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}: expected a number <= {maximum}, got {value}")
    return value


def check_choice(name, value, choices):
    """Check that ``value`` is one of ``choices``.

    >>> from rnnbook._validate import check_choice
    >>> check_choice("model", "transformer", ("rnn", "lstm", "gru"))
    Traceback (most recent call last):
    ...
    ValueError: model: expected one of 'rnn', 'lstm', 'gru', got 'transformer'
    """
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}: expected one of {options}, got {value!r}")
    return value


def as_rng(rng):
    """Return a ``numpy.random.Generator`` from None, an int seed or a Generator.

    >>> from rnnbook._validate import as_rng
    >>> int(as_rng(0).integers(10)) == int(as_rng(0).integers(10))
    True
    """
    if isinstance(rng, numbers.Integral) and rng < 0:
        raise ValueError(f"rng: expected None, an int seed >= 0 or a numpy Generator, got {rng}")
    if rng is None or isinstance(rng, numbers.Integral):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng: expected None, an int seed or a numpy Generator, got {type(rng).__name__}")


def check_dtype(name, dtype):
    """Check that ``dtype`` names float32 or float64 and return it as a ``numpy.dtype``.

    >>> import numpy as np
    >>> from rnnbook._validate import check_dtype
    >>> check_dtype("dtype", "float32")
    dtype('float32')
    >>> check_dtype("dtype", np.int64)
    Traceback (most recent call last):
    ...
    TypeError: dtype: expected float32 or float64, got int64
    """
    try:
        value = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: expected float32 or float64, got {dtype!r}") from None
    if value not in FLOAT_DTYPES:
        raise TypeError(f"{name}: expected float32 or float64, got {value}")
    return value
