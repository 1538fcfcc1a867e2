"""rnnbook: the code behind the textbook on recurrent neural networks.

Modules mirror the chapters: :mod:`rnnbook.rnn` (sequences and recurrent
networks), :mod:`rnnbook.bptt` (backpropagation through time),
:mod:`rnnbook.vanishing` (the vanishing and exploding gradient),
:mod:`rnnbook.lstm` and :mod:`rnnbook.gru`; Part IV opens with :mod:`rnnbook.scan`
(linear recurrences and the parallel scan), :mod:`rnnbook.mingru`, :mod:`rnnbook.lru` and
:mod:`rnnbook.linear_attention`, and continues with :mod:`rnnbook.ssm` (state spaces, Mamba's
selective scan) and :mod:`rnnbook.xlstm` (sLSTM and mLSTM). Every numpy model of Parts I and II has the same
contract: ``Params``, ``init``, ``step``, ``forward`` and ``backward``.
"""

__version__ = "0.1.0"
