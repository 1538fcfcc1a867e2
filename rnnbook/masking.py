"""Batches of sequences of different lengths: lengths, masks, a cell run under a mask, masked losses.

A batch holds B sequences padded to the longest, T steps. ``lengths`` (B,) gives
each one's own length ℓ_b, and the *mask* m_{t,b} = 1 if t < ℓ_b (a real step)
else 0 (padding). Steps are counted from 0 in code: step t reads ``xs[t]``.

Under the mask a cell's step becomes, for every sequence b,

    h_t = m_t ⊙ f(x_t, h_{t-1}) + (1 − m_t) ⊙ h_{t-1}      (the state waits)
    y_t = m_t ⊙ h_t                                          (the output is 0)

so the final state is the state after each sequence's own last step, and the
outputs are zero at padding, as ``torch.nn.utils.rnn.pad_packed_sequence`` pads
them. Shapes as in :mod:`rnnbook.rnn`.

>>> import numpy as np
>>> from rnnbook import rnn
>>> params = rnn.init(3, 4, rng=0)
>>> xs = np.ones((5, 2, 3))
>>> hs, h, cache = rnn.forward(xs, None, params, lengths=np.array([5, 2]))
>>> bool(np.all(hs[2:, 1] == 0)), bool(np.allclose(h[1], hs[1, 1]))
(True, True)
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnbook._validate import check_array, check_choice, check_same_dtype
from rnnbook.layers import check_targets, log_softmax

__all__ = [
    "check_lengths",
    "step_mask",
    "Cache",
    "forward",
    "backward",
    "last_valid",
    "reverse_padded",
    "masked_cross_entropy",
]


def check_lengths(lengths, T, B):
    """Check that ``lengths`` holds B integers in [1, T]; return it as an int64 array.

    A length of 0 is refused, as ``pack_padded_sequence`` refuses it: a sequence
    with no step has no last state.

    >>> import numpy as np
    >>> from rnnbook.masking import check_lengths
    >>> check_lengths([3, 1], T=3, B=2)
    array([3, 1])
    >>> check_lengths(np.array([4, 1]), T=3, B=2)
    Traceback (most recent call last):
    ...
    ValueError: lengths: expected integers in [1, T] = [1, 3], got 4 at index 0
    """
    array = np.asarray(lengths)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"lengths: expected integers (B,), got dtype {array.dtype}")
    if array.shape != (B,):
        raise ValueError(f"lengths: expected shape (B,) = ({B},), got {array.shape}")
    bad = np.flatnonzero((array < 1) | (array > T))
    if bad.size:
        raise ValueError(f"lengths: expected integers in [1, T] = [1, {T}], got {array[bad[0]]} at index {bad[0]}")
    return array.astype(np.int64)


# --8<-- [start:step_mask]
def step_mask(lengths, T):
    """The mask m (T, B): True where step t is a real step of sequence b, i.e. t < ℓ_b.

    >>> import numpy as np
    >>> from rnnbook.masking import step_mask
    >>> step_mask(np.array([3, 1]), 4).astype(int)
    array([[1, 1],
           [1, 0],
           [1, 0],
           [0, 0]])
    """
    return np.arange(T)[:, None] < lengths[None, :]


# --8<-- [end:step_mask]


def _map(f, *states):
    """Apply f to a state's arrays: one array h, or each of a pair (h, c)."""
    if isinstance(states[0], tuple):
        return tuple(f(*arrays) for arrays in zip(*states))
    return f(*states)


def _check_like(name, value, like):
    """Check that ``value`` has the structure, shapes and dtype of the state ``like``."""
    if isinstance(like, tuple):
        if not isinstance(value, tuple | list) or len(value) != len(like):
            given = f"{len(value)} items" if isinstance(value, tuple | list) else f"a {type(value).__name__}"
            raise TypeError(f"{name}: expected None or a pair (h, c) of (B, H) arrays, got {given}")
        return tuple(_check_like(f"{name}[{k}]", v, a) for k, (v, a) in enumerate(zip(value, like)))
    if isinstance(value, tuple | list):
        raise TypeError(f"{name}: expected None or one array (B, H), got a {type(value).__name__}")
    B, H = like.shape
    check_array(name, value, shape=("B", "H"), dims={"B": B, "H": H})
    check_same_dtype(state=like, **{name: value})
    return value


@dataclasses.dataclass(eq=False)
class Cache:
    """What :func:`backward` needs from :func:`forward`.

    Attributes:
        mask: the step mask (T, B).
        caches: the cell's cache of each step, a list of T.
        final: the final state, whose structure and shapes ``d_state`` must have.
    """

    mask: np.ndarray
    caches: list
    final: object


# --8<-- [start:forward]
def forward(cell_forward, xs, state, params, lengths):
    """Run a cell over a padded batch: at steps t ≥ ℓ_b sequence b's state waits.

    One step at a time, the cell's own ``forward`` computes the new state of the
    whole batch; where m_t = 0 the old state is kept instead, and the output is 0.

    Args:
        cell_forward: ``forward`` of :mod:`rnnbook.rnn`, :mod:`rnnbook.lstm` or :mod:`rnnbook.gru`.
        xs: inputs (T, B, D), padded after each sequence's end (any finite values).
        state: the initial state (the cell's structure), or None for zeros.
        params: the cell's weights.
        lengths: the lengths ℓ_b (B,), integers in [1, T].

    Returns:
        hs: the outputs (T, B, H), zero at padding;
        state: the state after each sequence's own last step;
        cache: a :class:`Cache` for :func:`backward`.
    """
    check_array("xs", xs, shape=("T", "B", "D"))
    T, B, _ = xs.shape
    mask = step_mask(check_lengths(lengths, T, B), T)
    caches, hs = [], None
    for t in range(T):
        h, new, cache = cell_forward(xs[t : t + 1], state, params)  # one step, whole batch
        m = mask[t][:, None]  # (B, 1)
        if t == 0:  # every length is ≥ 1: all sequences take step 0
            state = new
        else:
            state = _map(lambda new_a, old_a: np.where(m, new_a, old_a), new, state)
        if hs is None:
            hs = np.zeros((T,) + h.shape[1:], dtype=h.dtype)
        hs[t] = np.where(m, h[0], 0)
        caches.append(cache)
    return hs, state, Cache(mask, caches, state)


# --8<-- [end:forward]


# --8<-- [start:backward]
def backward(cell_backward, dhs, cache, d_state=None):
    """Backpropagation through time for :func:`forward`.

    Where m_t = 0 the step copied the state, so the gradient passes it unchanged:

        ∂L/∂h_{t-1} = (1 − m_t) ⊙ ∂L/∂h_t + (the cell's backward of m_t ⊙ ∂L/∂h_t)

    and the gradient of a padded output (a constant 0) is dropped.

    Args:
        cell_backward: ``backward`` of the cell that ran :func:`forward`.
        dhs: ∂L/∂y_t (T, B, H); entries at padding are ignored.
        cache: from :func:`forward`.
        d_state: ∂L/∂(final state), the state's structure; None for zeros.

    Returns:
        grads: the cell's ``Params`` of gradients;
        dxs: ∂L/∂x_t (T, B, D), zero at padding;
        d_state0: ∂L/∂(initial state).
    """
    if not isinstance(cache, Cache):
        raise TypeError(f"cache: expected the masking.Cache returned by forward, got {type(cache).__name__}")
    T, B = cache.mask.shape
    H = (cache.final[0] if isinstance(cache.final, tuple) else cache.final).shape[1]
    check_array("dhs", dhs, shape=("T", "B", "H"), dims={"T": T, "B": B, "H": H})
    if d_state is None:
        d = _map(np.zeros_like, cache.final)
    else:
        d = _check_like("d_state", d_state, cache.final)
    grads, dxs = None, []
    for t in reversed(range(T)):
        m = cache.mask[t][:, None]
        d_step = _map(lambda a: np.where(m, a, 0), d)  # what enters the step's computation
        d_skip = _map(lambda a: np.where(m, 0, a), d)  # what the copy carries past it
        dh_out = np.where(m, dhs[t], 0)[None]  # (1, B, H)
        g, dx, d_prev = cell_backward(dh_out, cache.caches[t], d_step)
        d = _map(np.add, d_prev, d_skip)
        dxs.append(dx[0])
        grads = g if grads is None else _add(grads, g)
    return grads, np.stack(dxs[::-1]), d


# --8<-- [end:backward]


def _add(a, b):
    """The sum of two cell ``Params`` of gradients."""
    return type(a)(**{name: x + getattr(b, name) for name, x in a.arrays().items()})


# --8<-- [start:last_valid]
def last_valid(hs, lengths):
    """The output at each sequence's own last step, hs[ℓ_b − 1, b] (B, H).

    ``hs[-1]`` would read padding for every sequence shorter than T.

    >>> import numpy as np
    >>> from rnnbook.masking import last_valid
    >>> hs = np.arange(6.0).reshape(3, 2, 1)  # T = 3, B = 2, H = 1
    >>> last_valid(hs, np.array([3, 1]))[:, 0]
    array([4., 1.])
    """
    check_array("hs", hs, shape=("T", "B", "H"))
    T, B, _ = hs.shape
    lengths = check_lengths(lengths, T, B)
    return hs[lengths - 1, np.arange(B)]


# --8<-- [end:last_valid]


# --8<-- [start:reverse_padded]
def reverse_padded(xs, lengths=None):
    """Each sequence reversed within its own length; padding stays where it is.

    Step t of sequence b goes to step ℓ_b − 1 − t. The map is its own inverse, so
    it also reverses gradients back. With ``lengths=None`` all sequences have T steps.

    >>> import numpy as np
    >>> from rnnbook.masking import reverse_padded
    >>> xs = np.array([[1, 10], [2, 20], [3, 0]])[:, :, None]  # lengths 3 and 2
    >>> reverse_padded(xs, np.array([3, 2]))[:, :, 0]
    array([[ 3, 20],
           [ 2, 10],
           [ 1,  0]])
    """
    T, B = xs.shape[:2]
    if lengths is None:
        return xs[::-1]
    t = np.arange(T)[:, None]
    source = np.where(t < lengths, lengths - 1 - t, t)  # (T, B)
    return xs[source, np.arange(B)]


# --8<-- [end:reverse_padded]


# --8<-- [start:masked_cross_entropy]
def masked_cross_entropy(logits, targets, lengths, average="token"):
    """Softmax cross-entropy over the real steps only, and its gradient.

    With ℓ_t,b = -log softmax(z_t,b)[y_t,b] and the mask m:

        average="token":    L = Σ_b Σ_t m_t,b ℓ_t,b / Σ_b ℓ_b       every token weighs the same
        average="sequence": L = (1/B) Σ_b (1/ℓ_b) Σ_t m_t,b ℓ_t,b    every sequence weighs the same

    "token" equals ``torch.nn.functional.cross_entropy`` with the padding's targets
    set to ``ignore_index``. Padding never enters: its targets may be anything in [0, V).

    Args:
        logits: scores (T, B, V).
        targets: integer classes (T, B).
        lengths: the lengths ℓ_b (B,).
        average: "token" or "sequence".

    Returns:
        loss: a Python float.
        dlogits: ∂L/∂logits (T, B, V), zero at padding.

    >>> import numpy as np
    >>> from rnnbook.masking import masked_cross_entropy
    >>> logits = np.zeros((3, 2, 4))  # uniform: every real token costs log 4
    >>> loss, dz = masked_cross_entropy(logits, np.zeros((3, 2), dtype=int), np.array([3, 1]))
    >>> round(loss, 4), bool(np.all(dz[1:, 1] == 0))
    (1.3863, True)
    """
    check_array("logits", logits, shape=("T", "B", "V"))
    T, B, V = logits.shape
    check_targets(targets, (T, B), V)
    lengths = check_lengths(lengths, T, B)
    check_choice("average", average, ("token", "sequence"))
    mask = step_mask(lengths, T)
    if average == "token":
        weights = mask / lengths.sum()  # (T, B)
    else:
        weights = mask / (B * lengths)
    log_probs = log_softmax(logits)
    picked = np.take_along_axis(log_probs, targets[:, :, None], axis=2)[:, :, 0]
    loss = -(weights * picked).sum()
    dlogits = np.exp(log_probs)  # softmax
    np.put_along_axis(dlogits, targets[:, :, None], np.take_along_axis(dlogits, targets[:, :, None], 2) - 1, 2)
    dlogits *= weights[:, :, None]
    return float(loss), dlogits.astype(logits.dtype, copy=False)


# --8<-- [end:masked_cross_entropy]
