"""Threads, set in one place: PyTorch's, and those of numpy's BLAS library.

The book's networks are small. On them one thread is the fastest, above all when
other programs share the CPU: more threads spin and wait. PyTorch's threads can be
changed at any time (:func:`torch_threads`); the BLAS library reads its variables
(:data:`BLAS_THREAD_VARIABLES`) once, when a process starts, so they are set in the
environment of a new process (:data:`ONE_BLAS_THREAD`, :func:`environment`).

>>> from rnnbook.threads import torch_threads
>>> with torch_threads(1):
...     import torch
...     torch.get_num_threads()
1
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["BLAS_THREAD_VARIABLES", "ONE_BLAS_THREAD", "torch_threads", "environment"]

# Read by OpenMP, OpenBLAS and MKL when a process starts.
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
ONE_BLAS_THREAD = dict.fromkeys(BLAS_THREAD_VARIABLES, "1")


@contextlib.contextmanager
def torch_threads(n):
    """Run PyTorch on ``n`` CPU threads inside the block, then restore the previous setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def environment(values):
    """Set the environment variables ``values`` inside the block, then restore them.

    Processes started inside the block inherit them.

    >>> import os
    >>> from rnnbook.threads import environment
    >>> with environment({"RNNBOOK_DEMO": "1"}):
    ...     os.environ["RNNBOOK_DEMO"]
    '1'
    >>> "RNNBOOK_DEMO" in os.environ
    False
    """
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value
