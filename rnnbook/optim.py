"""Optimisers in numpy: SGD with momentum, and Adam.

An optimiser holds the parameters it updates: a model's ``Params``, the output
layer's ``LinearParams``, a dict of arrays, or a list of these. ``step(grads)``
takes gradients of the same structure (what the ``backward`` functions
return) and updates the parameter arrays in place, like ``torch.optim``.

>>> from rnnbook.optim import SGD
>>> import numpy as np
>>> params = {"w": np.array([1.0, -2.0])}
>>> opt = SGD(params, lr=0.1)
>>> opt.step({"w": np.array([1.0, 1.0])})
>>> params["w"]
array([ 0.9, -2.1])
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnbook._validate import check_array, check_float


def parameters(tree, name="params"):
    """The arrays of a parameter structure, in a fixed order (``name``: the argument, for errors).

    ``tree`` is a numpy array, a dataclass (such as ``Params``) or a dict whose
    values are arrays, or a list or tuple of these. The arrays are returned
    themselves, not copies, so updating them in place updates ``tree``.

    >>> import numpy as np
    >>> from rnnbook.optim import parameters
    >>> parameters([{"a": np.zeros(2)}, np.ones(1)])
    [array([0., 0.]), array([1.])]
    """
    if isinstance(tree, np.ndarray):
        return [tree]
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        return [a for f in dataclasses.fields(tree) for a in parameters(getattr(tree, f.name), name)]
    if isinstance(tree, dict):
        return [a for value in tree.values() for a in parameters(value, name)]
    if isinstance(tree, (list, tuple)):
        return [a for item in tree for a in parameters(item, name)]
    raise TypeError(f"{name}: expected numpy arrays in a dataclass, dict, list or tuple, got {type(tree).__name__}")


def checked_grads(grads):
    """The arrays of ``grads`` (see ``parameters``), each checked to be float and finite.

    >>> import numpy as np
    >>> from rnnbook.optim import checked_grads
    >>> checked_grads({"W": np.array([1, 2])})
    Traceback (most recent call last):
    ...
    TypeError: grads[0]: expected dtype float32 or float64, got int64
    """
    return [check_array(f"grads[{i}]", g) for i, g in enumerate(parameters(grads, "grads"))]


def matching_grads(params, grads):
    """The arrays of ``grads``, checked to match ``params`` (a list of arrays) one to one.

    >>> import numpy as np
    >>> from rnnbook.optim import matching_grads
    >>> matching_grads([np.zeros((2, 3))], {"W": np.zeros((3, 3))})
    Traceback (most recent call last):
    ...
    ValueError: grads[0]: expected shape (2, 3), got (3, 3) (size mismatch: expected 2, got 3)
    """
    grads = parameters(grads, "grads")
    if len(grads) != len(params):
        raise ValueError(f"grads: expected {len(params)} arrays (one per parameter), got {len(grads)}")
    for i, (p, g) in enumerate(zip(params, grads)):
        check_array(f"grads[{i}]", g, shape=p.shape, dtype=p.dtype)
    return grads


class SGD:
    """Stochastic gradient descent with (heavy-ball) momentum.

    v ← μ v + g,   θ ← θ - lr v,

    with v = 0 at the start; μ = 0 is plain SGD. This is
    ``torch.optim.SGD(params, lr, momentum)`` with no dampening, no Nesterov
    and no weight decay.

    Args:
        params: the parameters to update in place (see ``parameters``).
        lr: the learning rate, > 0.
        momentum: μ in [0, 1].

    >>> import numpy as np
    >>> from rnnbook.optim import SGD
    >>> w = np.array([1.0])
    >>> opt = SGD([w], lr=0.5, momentum=0.9)
    >>> opt.step([np.array([1.0])]); opt.step([np.array([1.0])])
    >>> w  # 1 - 0.5·1 - 0.5·(0.9 + 1)
    array([-0.45])
    """

    def __init__(self, params, lr, momentum=0.0):
        self.params = [check_array("params", p) for p in parameters(params)]
        self.lr = check_float("lr", lr, minimum=0, strict_minimum=True)
        self.momentum = check_float("momentum", momentum, minimum=0, maximum=1)
        self.velocity = [np.zeros_like(p) for p in self.params]

    def step(self, grads):
        """Update the parameters in place with ``grads`` (same structure as the parameters)."""
        grads = matching_grads(self.params, grads)
        for p, g, v in zip(self.params, grads, self.velocity):
            v *= self.momentum
            v += g
            p -= self.lr * v


class Adam:
    """Adam, Kingma & Ba (2015), "Adam: a method for stochastic optimization", Algorithm 1.

    At step t = 1, 2, ...:

        m ← β1 m + (1 - β1) g,        v ← β2 v + (1 - β2) g²,
        m̂ = m / (1 - β1^t),           v̂ = v / (1 - β2^t),
        θ ← θ - lr m̂ / (sqrt(v̂) + ε).

    The defaults are the paper's and ``torch.optim.Adam``'s.

    Args:
        params: the parameters to update in place (see ``parameters``).
        lr: the step size, > 0.
        betas: (β1, β2), each in [0, 1).
        eps: ε > 0.

    >>> import numpy as np
    >>> from rnnbook.optim import Adam
    >>> w = np.array([1.0, 1.0])
    >>> opt = Adam([w], lr=0.1)
    >>> opt.step([np.array([3.0, -0.5])])
    >>> w  # the first step moves every entry by about lr, whatever the gradient's scale
    array([0.9, 1.1])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = [check_array("params", p) for p in parameters(params)]
        self.lr = check_float("lr", lr, minimum=0, strict_minimum=True)
        self.beta1, self.beta2 = (check_float("betas", beta, minimum=0) for beta in betas)
        if self.beta1 >= 1 or self.beta2 >= 1:
            raise ValueError(f"betas: expected two numbers in [0, 1), got {tuple(betas)}")
        self.eps = check_float("eps", eps, minimum=0, strict_minimum=True)
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, grads):
        """Update the parameters in place with ``grads`` (same structure as the parameters)."""
        grads = matching_grads(self.params, grads)
        self.t += 1
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
