"""Stacked (deep) and bidirectional recurrent networks in numpy, as PyTorch's ``num_layers`` and ``bidirectional``.

A network of M layers (``num_layers``) and K directions (K = 1, or 2 when bidirectional) is a grid
of M·K cells of one kind (:mod:`rnnbook.rnn`, :mod:`rnnbook.lstm` or
:mod:`rnnbook.gru`). Layer 1 reads the inputs x_t; layer l > 1 reads the outputs
of layer l − 1, the K directions side by side (D_l = K·H). The forward direction
runs t = 1..T; the backward one (Schuster & Paliwal 1997) runs t = T..1 over the
same inputs, and its output at step t is written back at position t, so that

    y_t = [h→_t ; h←_t]      (T, B, K·H)

sees x_1..x_t through h→_t and x_t..x_T through h←_t. With ``lengths``, the
backward direction of sequence b starts at its own last step ℓ_b, as PyTorch does
with a packed batch. States follow PyTorch's layout: (M·K, B, H), row l·K + k for
layer l (from 0) and direction k (0 forward, 1 backward); for the LSTM a pair (h, c).

>>> import numpy as np
>>> from rnnbook.deep import init, forward, backward
>>> params = init("lstm", 3, 4, num_layers=2, bidirectional=True, rng=0)
>>> params
deep.Params(cell='lstm', input_size=3, hidden_size=4, num_layers=2, bidirectional=True, dtype=float64)
>>> ys, (h, c), cache = forward(np.ones((5, 2, 3)), None, params, lengths=np.array([5, 3]))
>>> ys.shape, h.shape
((5, 2, 8), (4, 2, 4))
>>> grads, dxs, (dh0, dc0) = backward(np.ones_like(ys), cache)
>>> dxs.shape, dc0.shape
((5, 2, 3), (4, 2, 4))
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnnbook import gru, lstm, masking, rnn
from rnnbook._validate import as_rng, check_array, check_choice, check_int, check_same_dtype

__all__ = ["CELLS", "Params", "Cache", "init", "forward", "backward"]

CELLS = {"rnn": rnn, "lstm": lstm, "gru": gru}
_TORCH = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
# Our names of a cell's arrays, and the stem of PyTorch's (weight_ih_l0, weight_ih_l0_reverse, ...).
_FIELDS = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}
_LAYOUT = "(num_layers·num_directions, B, H)"


def torch_name(field, layer, direction):
    """PyTorch's name of a cell array: ``torch_name("W_hh", 1, 1)`` is ``'weight_hh_l1_reverse'``.

    >>> from rnnbook.deep import torch_name
    >>> torch_name("b_ih", 0, 0)
    'bias_ih_l0'
    """
    return f"{_FIELDS[field]}_l{layer}" + ("_reverse" if direction else "")


# --8<-- [start:params]
@dataclasses.dataclass(eq=False, repr=False)
class Params:
    """The weights of a stacked, possibly bidirectional network: one cell's ``Params`` per layer and direction.

    Attributes:
        cell: "rnn", "lstm" or "gru".
        layers: ``layers[l][k]`` holds the weights of layer l, direction k (0 forward,
            1 backward), a :class:`rnnbook.rnn.Params` (or LSTM, GRU) with D = input_size
            for l = 0 and D = K·H above.
    """

    cell: str
    layers: list
    # --8<-- [end:params]

    @property
    def num_layers(self):
        """L."""
        return len(self.layers)

    @property
    def num_directions(self):
        """K: 1, or 2 when bidirectional."""
        return len(self.layers[0])

    @property
    def input_size(self):
        """D, the features of the network's input."""
        return self.layers[0][0].input_size

    @property
    def hidden_size(self):
        """H, the units of each cell."""
        return self.layers[0][0].hidden_size

    @property
    def dtype(self):
        """The weights' dtype."""
        return self.layers[0][0].dtype

    def arrays(self):
        """Every array by PyTorch's name, ``{"weight_ih_l0": ..., "weight_ih_l0_reverse": ...}`` (no copies).

        >>> from rnnbook.deep import init
        >>> list(init("rnn", 2, 3, bidirectional=True, rng=0).arrays())[:5]
        ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_ih_l0_reverse']
        """
        return {
            torch_name(field, l, k): getattr(p, field)
            for l, layer in enumerate(self.layers)
            for k, p in enumerate(layer)
            for field in _FIELDS
        }

    def __repr__(self):
        return (
            f"deep.Params(cell={self.cell!r}, input_size={self.input_size}, "
            f"hidden_size={self.hidden_size}, num_layers={self.num_layers}, "
            f"bidirectional={self.num_directions == 2}, dtype={self.dtype})"
        )

    @classmethod
    def check(cls, params, name="params"):
        """Check the structure of ``params`` and every cell's weights; return ``{"D": D, "H": H}``."""
        if not isinstance(params, cls):
            raise TypeError(f"{name}: expected a deep.Params, got {type(params).__name__}")
        check_choice(f"{name}.cell", params.cell, tuple(CELLS))
        if not params.layers or len(params.layers[0]) not in (1, 2):
            raise ValueError(f"{name}.layers: expected M ≥ 1 lists of 1 or 2 cells, got {params.layers!r}")
        K = len(params.layers[0])
        H = params.layers[0][0].hidden_size
        D = params.layers[0][0].input_size
        for l, layer in enumerate(params.layers):
            if len(layer) != K:
                raise ValueError(f"{name}.layers[{l}]: expected {K} directions, got {len(layer)}")
            for k, p in enumerate(layer):
                dims = CELLS[params.cell].Params.check(p, name=f"{name}.layers[{l}][{k}]")
                expected = {"H": H, "D": D if l == 0 else K * H}
                for letter, size in expected.items():
                    if dims[letter] != size:
                        raise ValueError(f"{name}.layers[{l}][{k}]: expected {letter} = {size}, got {dims[letter]}")
        check_same_dtype(**{k: a for k, a in params.arrays().items()})
        return {"D": D, "H": H}

    @classmethod
    def from_torch(cls, module):
        """Copy the weights of a ``torch.nn.RNN`` (tanh), ``LSTM`` or ``GRU``, any ``num_layers``, either direction.

        The module needs ``bias=True`` (and no projection, for the LSTM);
        ``batch_first`` does not matter. Arrays are copies, of the module's dtype.

        >>> from rnnbook.deep import Params
        >>> import torch
        >>> Params.from_torch(torch.nn.GRU(3, 5, num_layers=2, bidirectional=True))
        deep.Params(cell='gru', input_size=3, hidden_size=5, num_layers=2, bidirectional=True, dtype=float32)
        """
        import torch

        cell = next((c for c, t in _TORCH.items() if type(module) is getattr(torch.nn, t)), None)
        if cell is None:
            raise TypeError(f"module: expected a torch.nn.RNN, LSTM or GRU, got {type(module).__name__}")
        if module.mode == "RNN_RELU":
            raise ValueError("module: expected nonlinearity='tanh', got 'relu'")
        for attr, value in {"bias": True, "proj_size": 0}.items():
            if getattr(module, attr) != value:
                raise ValueError(f"module: expected {attr}={value!r}, got {getattr(module, attr)!r}")
        K = 2 if module.bidirectional else 1
        layers = [
            [
                CELLS[cell].Params(
                    **{
                        field: getattr(module, torch_name(field, l, k)).detach().cpu().numpy().copy()
                        for field in _FIELDS
                    }
                )
                for k in range(K)
            ]
            for l in range(module.num_layers)
        ]
        return cls(cell, layers)

    def to_torch(self):
        """A time-major ``torch.nn`` module of the same kind, layers and directions, holding these numbers.

        >>> from rnnbook.deep import init
        >>> init("lstm", 3, 4, num_layers=2, bidirectional=True, rng=0).to_torch()
        LSTM(3, 4, num_layers=2, bidirectional=True)
        """
        import torch

        type(self).check(self)
        module = getattr(torch.nn, _TORCH[self.cell])(
            self.input_size,
            self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.num_directions == 2,
            device="meta",  # no random initialisation
            dtype=getattr(torch, self.dtype.name),
        ).to_empty(device="cpu")
        with torch.no_grad():
            for name, array in self.arrays().items():
                getattr(module, name).copy_(torch.from_numpy(array))
        return module


# --8<-- [start:init]
def init(cell, input_size, hidden_size, num_layers=1, bidirectional=False, rng=None, dtype=np.float64):
    """Random weights, each cell initialised as PyTorch does (U(-1/√H, 1/√H)).

    Layer 0 reads D = input_size features; layer l > 0 reads the K·H outputs below.

    >>> from rnnbook.deep import init
    >>> params = init("gru", 3, 4, num_layers=2, bidirectional=True, rng=0)
    >>> params.layers[1][0].W_ih.shape  # 3 gates × H rows, K·H inputs
    (12, 8)
    """
    check_choice("cell", cell, tuple(CELLS))
    D = check_int("input_size", input_size, minimum=1)
    H = check_int("hidden_size", hidden_size, minimum=1)
    M = check_int("num_layers", num_layers, minimum=1)
    K = 2 if bidirectional else 1
    rng = as_rng(rng)
    return Params(
        cell,
        [[CELLS[cell].init(D if l == 0 else K * H, H, rng=rng, dtype=dtype) for _ in range(K)] for l in range(M)],
    )


# --8<-- [end:init]


@dataclasses.dataclass(eq=False)
class Cache:
    """What :func:`backward` needs from :func:`forward`.

    Attributes:
        params: the weights used.
        lengths: the lengths (B,), or None.
        caches: ``caches[l][k]``, the cache of layer l, direction k.
        shape: (T, B, D) of the inputs.
    """

    params: Params
    lengths: np.ndarray | None
    caches: list
    shape: tuple


def _split_state(name, state, params, B, dtype):
    """The state in PyTorch's layout, as a list of M·K cell states (None: zeros)."""
    LK, H = params.num_layers * params.num_directions, params.hidden_size
    is_lstm = params.cell == "lstm"
    if state is None:
        return [None] * LK
    if is_lstm:
        if not isinstance(state, tuple | list) or len(state) != 2:
            given = f"{len(state)} items" if isinstance(state, tuple | list) else f"a {type(state).__name__}"
            raise TypeError(f"{name}: expected None or a pair (h, c) of {_LAYOUT} arrays, got {given}")
        parts = [(f"{name}[0]", state[0]), (f"{name}[1]", state[1])]
    else:
        if isinstance(state, tuple | list):
            raise TypeError(f"{name}: expected None or one array {_LAYOUT}, got a {type(state).__name__}")
        parts = [(name, state)]
    dims = {"num_layers·num_directions": LK, "B": B, "H": H}
    for part_name, array in parts:
        check_array(part_name, array, shape=("num_layers·num_directions", "B", "H"), dims=dims)
        if array.dtype != dtype:
            raise TypeError(f"{part_name}: expected dtype {dtype}, got {array.dtype}")
    if is_lstm:
        return [(state[0][i], state[1][i]) for i in range(LK)]
    return [state[i] for i in range(LK)]


def _stack_state(states):
    """M·K cell states back into PyTorch's layout (M·K, B, H), or a pair of them."""
    if isinstance(states[0], tuple):
        return tuple(np.stack(parts) for parts in zip(*states))
    return np.stack(states)


# --8<-- [start:forward]
def forward(xs, state, params, lengths=None):
    """Run the network layer by layer, each layer in one or two directions.

    Args:
        xs: inputs (T, B, D), time-major, padded after each sequence's end if ``lengths``.
        state: the initial state (M·K, B, H), a pair of them for the LSTM, or None for zeros.
        params: a :class:`Params`.
        lengths: None (all sequences have T steps) or the lengths (B,).

    Returns:
        ys: the top layer's outputs [h→_t ; h←_t] (T, B, K·H), zero at padding;
        state: the final states (M·K, B, H) (a pair for the LSTM): the forward
            direction's after step ℓ_b, the backward direction's after position 1;
        cache: a :class:`Cache` for :func:`backward`.
    """
    dims = Params.check(params)
    check_array("xs", xs, shape=("T", "B", "D"), dims=dims)
    T, B, _ = xs.shape
    if lengths is not None:
        lengths = masking.check_lengths(lengths, T, B)
    check_same_dtype(params=params.layers[0][0].W_ih, xs=xs)
    states = _split_state("state", state, params, B, xs.dtype)
    cell = CELLS[params.cell]
    K = params.num_directions
    caches, finals = [], []
    for l, layer in enumerate(params.layers):
        outputs, layer_caches = [], []
        for k, p in enumerate(layer):
            inputs = xs if k == 0 else masking.reverse_padded(xs, lengths)
            hs, final, cache = cell.forward(inputs, states[l * K + k], p, lengths)
            outputs.append(hs if k == 0 else masking.reverse_padded(hs, lengths))
            layer_caches.append(cache)
            finals.append(final)
        caches.append(layer_caches)
        xs = np.concatenate(outputs, axis=-1)  # the next layer's input (T, B, K·H)
    return xs, _stack_state(finals), Cache(params, lengths, caches, (T, B, dims["D"]))


# --8<-- [end:forward]


# --8<-- [start:backward]
def backward(d_outputs, cache, d_state=None):
    """Backpropagation through the grid: layers from the top down, each direction through time.

    The gradient reaching layer l's outputs splits into the K directions'
    halves; each direction's backward pass returns ∂L/∂(its inputs), and the
    two sum into ∂L/∂(outputs of layer l − 1).

    Args:
        d_outputs: ∂L/∂ys (T, B, K·H); entries at padding are ignored.
        cache: from :func:`forward`.
        d_state: ∂L/∂(final states), PyTorch's layout (a pair for the LSTM), or None for zeros.

    Returns:
        grads: a :class:`Params` of gradients;
        dxs: ∂L/∂xs (T, B, D);
        d_state0: ∂L/∂(initial states), PyTorch's layout (a pair for the LSTM).
    """
    if not isinstance(cache, Cache):
        raise TypeError(f"cache: expected the deep.Cache returned by forward, got {type(cache).__name__}")
    params, lengths = cache.params, cache.lengths
    T, B, _ = cache.shape
    K, H = params.num_directions, params.hidden_size
    check_array("d_outputs", d_outputs, shape=("T", "B", "K·H"), dims={"T": T, "B": B, "K·H": K * H})
    d_states = _split_state("d_state", d_state, params, B, d_outputs.dtype)
    cell = CELLS[params.cell]
    grads = [[None] * K for _ in params.layers]
    d_state0 = [None] * len(d_states)
    for l in reversed(range(params.num_layers)):
        d_inputs = 0
        for k in range(K):
            dhs = d_outputs[..., k * H : (k + 1) * H]
            if k == 1:
                dhs = masking.reverse_padded(dhs, lengths)
            g, dx, d0 = cell.backward(np.ascontiguousarray(dhs), cache.caches[l][k], d_states[l * K + k])
            d_inputs = d_inputs + (dx if k == 0 else masking.reverse_padded(dx, lengths))
            grads[l][k], d_state0[l * K + k] = g, d0
        d_outputs = d_inputs  # ∂L/∂(outputs of layer l − 1), or ∂L/∂xs
    return Params(params.cell, grads), d_outputs, _stack_state(d_state0)


# --8<-- [end:backward]
