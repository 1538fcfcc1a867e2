"""rnnbook: the code behind the textbook on recurrent neural networks.

Modules mirror the chapters: :mod:`rnnbook.rnn` (sequences and recurrent
networks), :mod:`rnnbook.bptt` (backpropagation through time),
:mod:`rnnbook.vanishing` (the vanishing and exploding gradient),
:mod:`rnnbook.lstm` and :mod:`rnnbook.gru`. Every numpy model has the same
contract: ``Params``, ``init``, ``step``, ``forward`` and ``backward``.
"""

__version__ = "0.1.0"
