"""A disk cache for the book's build, keyed by the package's own source.

Figures, tables and lab results are computed by ``rnnbook`` while the site is
built. Both languages show the same run, and a rebuild after editing a chapter
should not retrain anything, so results are stored on disk. The key of every
entry includes a hash of all of ``rnnbook``'s source files: change one line of
the package and every result is computed again, so the book is never stale.

The cache lives in ``.cache/rnnbook`` beside the repository's ``pyproject.toml``
(or ``~/.cache/rnnbook`` for an installed package); the environment variable
``RNNBOOK_CACHE`` overrides the folder.

>>> from rnnbook.cache import memoize
>>> @memoize
... def square(x):
...     return x * x
>>> square(3)
9
>>> square(3)  # read back from disk this time
9
>>> square.is_cached(3), square.is_cached(4)
(True, False)
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


@functools.cache
def source_hash() -> str:
    """SHA-256 over the path and bytes of every ``.py`` file of the package."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_dir() -> Path:
    """The cache folder: ``$RNNBOOK_CACHE``, else ``.cache/rnnbook`` in the repository."""
    if os.environ.get("RNNBOOK_CACHE"):
        return Path(os.environ["RNNBOOK_CACHE"])
    repo = PACKAGE_DIR.parent
    if (repo / "pyproject.toml").exists():
        return repo / ".cache" / "rnnbook"
    return Path.home() / ".cache" / "rnnbook"


# --8<-- [start:key]
def _key(fn, args, kwargs) -> str:
    """The entry's key: the package's source, the function and its arguments."""
    text = repr((source_hash(), fn.__module__, fn.__qualname__, args, sorted(kwargs.items())))
    return hashlib.sha256(text.encode()).hexdigest()
# --8<-- [end:key]


def memoize(fn):
    """Decorate a function of plain arguments so that its results persist on disk.

    Arguments must have a stable ``repr`` (numbers, strings, tuples); results
    must be picklable. A failed call stores nothing and raises as usual. The
    decorated function gains ``is_cached(*args, **kwargs)``: whether that call
    would be read from disk.
    """

    def entry(args, kwargs) -> Path:
        return cache_dir() / f"{fn.__name__}-{_key(fn, args, kwargs)}.pkl"

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        path = entry(args, kwargs)
        if path.exists():
            with path.open("rb") as f:
                return pickle.load(f)
        result = fn(*args, **kwargs)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(result, f)
        tmp.replace(path)
        return result

    def is_cached(*args, **kwargs) -> bool:
        """Whether the call with these arguments would be read from disk."""
        return entry(args, kwargs).exists()

    wrapper.is_cached = is_cached
    return wrapper
