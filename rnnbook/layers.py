"""Output layer and losses: what turns hidden states into a loss and back.

A recurrent network produces hidden states ``hs`` (T, B, H). To train it we put
an affine layer on top of every step (a *time-distributed* layer, the same
weights at every t), turn its outputs into a loss, and backpropagate the loss
into ``dhs`` (T, B, H), which the model's ``backward`` takes.

Shapes use letters: T time steps, B batch, H hidden units, O outputs, V
classes (the vocabulary, for a language model). Layouts follow PyTorch:
``W`` (O, H) and ``b`` (O,) as in ``torch.nn.Linear``.

Each layer has a ``forward`` that returns its output and a ``cache``, and a
``backward`` that takes the upstream gradient and the cache, in the style of
Stanford's CS231n coursework. Each loss returns ``(loss, gradient)``.

>>> import numpy as np
>>> from rnnbook.layers import linear_init, linear_forward, softmax_cross_entropy, linear_backward
>>> rng = np.random.default_rng(0)
>>> out = linear_init(4, 3, rng=rng)
>>> hs = rng.standard_normal((5, 2, 4))
>>> logits, cache = linear_forward(hs, out)
>>> loss, dlogits = softmax_cross_entropy(logits, np.zeros((5, 2), dtype=int))
>>> grads, dhs = linear_backward(dlogits, cache)
>>> logits.shape, dhs.shape, grads.W.shape
((5, 2, 3), (5, 2, 4), (3, 4))
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnbook._validate import as_rng, check_array, check_int, check_same_dtype


@dataclasses.dataclass
class LinearParams:
    """Parameters of the output layer ``y = h W^T + b``, laid out as ``torch.nn.Linear``.

    Attributes:
        W: weights (O, H).
        b: bias (O,).
    """

    W: np.ndarray
    b: np.ndarray

    @classmethod
    def from_torch(cls, linear):
        """Copy the weights of a ``torch.nn.Linear`` into numpy arrays.

        >>> from rnnbook.layers import LinearParams
        >>> import torch
        >>> LinearParams.from_torch(torch.nn.Linear(4, 3)).W.shape
        (3, 4)
        """
        return cls(
            W=linear.weight.detach().cpu().numpy().copy(),
            b=linear.bias.detach().cpu().numpy().copy(),
        )

    def to_torch(self):
        """Return a ``torch.nn.Linear`` with a copy of these weights (same dtype).

        >>> from rnnbook.layers import linear_init
        >>> linear = linear_init(4, 3, rng=0).to_torch()
        >>> linear.in_features, linear.out_features, linear.weight.dtype
        (4, 3, torch.float64)
        """
        import torch

        W, b = torch.from_numpy(self.W), torch.from_numpy(self.b)
        output_size, hidden_size = W.shape
        linear = torch.nn.Linear(hidden_size, output_size, dtype=W.dtype)
        with torch.no_grad():
            linear.weight.copy_(W)
            linear.bias.copy_(b)
        return linear

    def zeros_like(self):
        """Parameters of the same shapes and dtype, all zero (a gradient accumulator)."""
        return LinearParams(W=np.zeros_like(self.W), b=np.zeros_like(self.b))

    def copy(self):
        """A deep copy.

        >>> import numpy as np
        >>> from rnnbook.layers import linear_init
        >>> p = linear_init(2, 1, rng=0)
        >>> q = p.copy(); q.W[:] = 0
        >>> bool(np.all(p.W == 0)), p.zeros_like().b
        (False, array([0.]))
        """
        return LinearParams(W=self.W.copy(), b=self.b.copy())


def _step_or_sequence(x, last):
    """The symbolic shape of ``x``: (B, last) for one step, (T, B, last) for a sequence."""
    return ("B", last) if x.ndim == 2 else ("T", "B", last)


def linear_init(hidden_size, output_size, rng=None, dtype=np.float64):
    """Initialise the output layer as ``torch.nn.Linear`` does: W, b ~ U(-1/sqrt(H), 1/sqrt(H)).

    Args:
        hidden_size: H, the size of the hidden state (the layer's input).
        output_size: O, the number of outputs (V for a classifier over V classes).
        rng: None, an int seed or a numpy Generator.
        dtype: float32 or float64.

    Returns:
        LinearParams with W (O, H) and b (O,).

    >>> import numpy as np
    >>> from rnnbook.layers import linear_init
    >>> p = linear_init(16, 3, rng=0)
    >>> p.W.shape, p.b.shape, bool(np.abs(p.W).max() <= 1 / 4)
    ((3, 16), (3,), True)
    """
    hidden_size = check_int("hidden_size", hidden_size, minimum=1)
    output_size = check_int("output_size", output_size, minimum=1)
    rng = as_rng(rng)
    bound = 1.0 / np.sqrt(hidden_size)
    W = rng.uniform(-bound, bound, size=(output_size, hidden_size)).astype(dtype)
    b = rng.uniform(-bound, bound, size=output_size).astype(dtype)
    return LinearParams(W=W, b=b)


def linear_forward(hs, params):
    """Affine layer applied at every time step: y_t = h_t W^T + b.

    Args:
        hs: hidden states (T, B, H), or one step (B, H).
        params: LinearParams with W (O, H), b (O,).

    Returns:
        ys: outputs (T, B, O), or (B, O).
        cache: what ``linear_backward`` needs.
    """
    dims = {}
    check_array("W", params.W, shape=("O", "H"), dims=dims)
    check_array("b", params.b, shape=("O",), dims=dims)
    check_array("hs", hs, shape=_step_or_sequence(hs, "H"), dims=dims)
    check_same_dtype(hs=hs, W=params.W, b=params.b)
    ys = hs @ params.W.T + params.b
    cache = (hs, params)
    return ys, cache


def linear_backward(dys, cache):
    """Backward pass of ``linear_forward``: the same W and b at every step, so their
    gradients are summed over time and batch.

    dW = Σ_t dy_t^T h_t,  db = Σ_t Σ_b dy_t,  dh_t = dy_t W.

    Args:
        dys: upstream gradient (T, B, O), or (B, O), as the forward's output.
        cache: from ``linear_forward``.

    Returns:
        grads: LinearParams with dW (O, H), db (O,).
        dhs: gradient on the hidden states (T, B, H), or (B, H).
    """
    hs, params = cache
    O, H = params.W.shape
    check_array("dys", dys, shape=hs.shape[:-1] + (O,))
    dys_2d = dys.reshape(-1, O)  # all steps and examples as rows: (T·B, O)
    dW = dys_2d.T @ hs.reshape(-1, H)
    db = dys_2d.sum(axis=0)
    dhs = dys @ params.W
    return LinearParams(W=dW, b=db), dhs


def log_softmax(z, axis=-1):
    """log softmax(z) = z - max(z) - log Σ exp(z - max(z)), along ``axis``.

    Subtracting the maximum leaves the result unchanged and keeps every
    exponent ≤ 0, so nothing overflows; very negative exponents underflow to 0,
    which is harmless because the sum contains exp(0) = 1.

    >>> import numpy as np
    >>> from rnnbook.layers import log_softmax
    >>> log_softmax(np.array([0.0, 1e4]))
    array([-10000.,      0.])
    """
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z, axis=-1):
    """softmax(z)_i = exp(z_i - max z) / Σ_j exp(z_j - max z), along ``axis``.

    >>> import numpy as np
    >>> from rnnbook.layers import softmax
    >>> softmax(np.array([-1e4, 0.0, 1e4]))
    array([0., 0., 1.])
    """
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def check_targets(targets, shape, num_classes):
    """Check integer class targets of the given shape with values in [0, num_classes)."""
    if not isinstance(targets, np.ndarray) or not np.issubdtype(targets.dtype, np.integer):
        given = targets.dtype if isinstance(targets, np.ndarray) else type(targets).__name__
        raise TypeError(f"targets: expected an integer numpy array, got {given}")
    if targets.shape != shape:
        raise ValueError(f"targets: expected shape {shape} (the logits' shape without V), got {targets.shape}")
    if targets.size and (targets.min() < 0 or targets.max() >= num_classes):
        raise ValueError(
            f"targets: expected class indices in [0, {num_classes - 1}], "
            f"got values in [{targets.min()}, {targets.max()}]"
        )


def softmax_cross_entropy(logits, targets):
    """Softmax cross-entropy averaged over all N positions, and its gradient.

    L = -(1/N) Σ_n log softmax(z_n)[y_n],   dL/dz_n = (softmax(z_n) - onehot(y_n)) / N.

    With logits (T, B, V) and targets (T, B) this is a loss at every step
    (many-to-many, N = T·B), as ``torch.nn.functional.cross_entropy`` on the
    flattened arrays. For a loss at the last step only (many-to-one), pass the
    last step's logits (B, V) and targets (B,).

    Args:
        logits: unnormalised scores (T, B, V) or (B, V).
        targets: integer classes (T, B) or (B,), values in [0, V).

    Returns:
        loss: a Python float.
        dlogits: gradient on the logits, the logits' shape and dtype.

    >>> import numpy as np
    >>> from rnnbook.layers import softmax_cross_entropy
    >>> loss, dz = softmax_cross_entropy(np.zeros((1, 2, 4)), np.array([[0, 3]]))
    >>> round(loss, 4), dz[0, 0]  # uniform over 4 classes: log 4
    (1.3863, array([-0.375,  0.125,  0.125,  0.125]))
    """
    check_array("logits", logits, shape=_step_or_sequence(logits, "V"))
    V = logits.shape[-1]
    check_targets(targets, logits.shape[:-1], V)
    log_probs = log_softmax(logits).reshape(-1, V)  # (N, V)
    y = targets.reshape(-1)  # (N,)
    N = y.size
    rows = np.arange(N)
    loss = -log_probs[rows, y].sum() / N
    dlogits = np.exp(log_probs)  # softmax
    dlogits[rows, y] -= 1
    dlogits /= N
    return float(loss), dlogits.reshape(logits.shape)


def mse(ys, targets):
    """Mean squared error over all N entries, and its gradient.

    L = (1/N) Σ (y - t)^2,   dL/dy = 2 (y - t) / N,

    as ``torch.nn.functional.mse_loss`` with its default ``reduction="mean"``.

    Args:
        ys: predictions, any shape, e.g. (T, B, O) or (B, O) for the last step.
        targets: the same shape and dtype.

    Returns:
        loss: a Python float.
        dys: gradient on the predictions, the predictions' shape and dtype.

    >>> import numpy as np
    >>> from rnnbook.layers import mse
    >>> mse(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))
    (2.5, array([[1., 2.]]))
    """
    check_array("ys", ys)
    check_array("targets", targets, shape=ys.shape)
    check_same_dtype(ys=ys, targets=targets)
    diff = ys - targets
    loss = np.mean(diff**2)
    dys = 2 * diff / diff.size
    return float(loss), dys


# --8<-- [start:embedding]
def embedding_init(vocab_size, embed_size, rng=None, dtype=np.float64):
    """An embedding table W (V, E), every entry N(0, 1) as ``torch.nn.Embedding`` initialises it.

    >>> from rnnbook.layers import embedding_init
    >>> embedding_init(10, 4, rng=0).shape
    (10, 4)
    """
    V = check_int("vocab_size", vocab_size, minimum=1)
    E = check_int("embed_size", embed_size, minimum=1)
    return as_rng(rng).standard_normal((V, E)).astype(dtype)


def embedding_forward(ids, W):
    """Look up each token's row: x_t,b = W[ids_t,b], the same as one_hot(ids) @ W.

    Args:
        ids: integer token ids of any shape, e.g. (T, B), values in [0, V).
        W: the table (V, E).

    Returns:
        xs: ``ids.shape + (E,)``; cache: for :func:`embedding_backward`.

    >>> import numpy as np
    >>> from rnnbook.layers import embedding_forward
    >>> W = np.arange(6.0).reshape(3, 2)
    >>> embedding_forward(np.array([[2, 0]]), W)[0]
    array([[[4., 5.],
            [0., 1.]]])
    """
    check_array("W", W, shape=("V", "E"))
    V = W.shape[0]
    if not isinstance(ids, np.ndarray) or not np.issubdtype(ids.dtype, np.integer):
        given = ids.dtype if isinstance(ids, np.ndarray) else type(ids).__name__
        raise TypeError(f"ids: expected an integer numpy array, got {given}")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(
            f"ids: expected token ids in [0, V - 1] = [0, {V - 1}], got values in [{ids.min()}, {ids.max()}]"
        )
    return W[ids], (ids, W.shape)


def embedding_backward(dxs, cache):
    """∂L/∂W: row v collects the gradients of every position holding token v.

    A token seen twice adds both gradients (``np.add.at``; ``dW[ids] += dxs``
    would keep only one of them).

    >>> import numpy as np
    >>> from rnnbook.layers import embedding_backward
    >>> dW = embedding_backward(np.ones((1, 2, 2)), (np.array([[1, 1]]), (3, 2)))
    >>> dW[1]
    array([2., 2.])
    """
    ids, shape = cache
    check_array("dxs", dxs, shape=ids.shape + (shape[1],))
    dW = np.zeros(shape, dtype=dxs.dtype)
    np.add.at(dW, ids, dxs)
    return dW


# --8<-- [end:embedding]
