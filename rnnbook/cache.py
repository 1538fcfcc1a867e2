"""A disk cache for the book's build, keyed by the source the result is computed with.

Figures, tables and lab results are computed by ``rnnbook`` while the site is
built. Both languages show the same run, and a rebuild after editing a chapter
should not retrain anything, so results are stored on disk. The key of an entry
is made of the function, its arguments (with the defaults filled in, so ``f()``
and ``f(x=default)`` are one entry) and the source of every module the result
is computed with: the function's own module and every ``rnnbook`` module it
imports, directly or through others (:func:`modules_used`, read from the source
with :mod:`ast`, imports inside functions included). Edit one of them and the
result is computed again, so the book is never stale; edit another module and
the cached result is reused. A function that picks its code at run time names
the extra modules with ``memoize(uses=...)`` (:func:`rnnbook.figures.render_svg`
draws the figure registered under its argument).

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

import ast
import functools
import hashlib
import inspect
import os
import pickle
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE = PACKAGE_DIR.name


def module_path(name: str) -> Path:
    """The source file of the package's module ``name`` ("rnnbook.figures.rnn" -> figures/rnn.py)."""
    parts = name.split(".")[1:]
    folder = PACKAGE_DIR.joinpath(*parts)
    return folder / "__init__.py" if folder.is_dir() else folder.with_suffix(".py")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
    return ".".join((PACKAGE, *parts[: -1 if parts[-1] == "__init__" else None]))


def _imports(name: str) -> frozenset[str]:
    """The modules named by the import statements of module ``name``, anywhere in its source."""
    path = module_path(name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return _imports_in(path.read_text(encoding="utf-8"), package)


@functools.lru_cache(maxsize=None)
def _imports_in(source: str, package: str) -> frozenset[str]:
    """The modules that ``source``, a module of ``package``, imports (read once per text: a build asks often)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x, from .x import y
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{node.module}" if node.module else parent
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}  # from rnnbook import rnn
    return frozenset(found)


def modules_used(*names: str) -> list[str]:
    """The package's modules that ``names`` import, directly or through others, themselves included.

    Importing ``rnnbook.x.y`` also runs the packages ``rnnbook`` and ``rnnbook.x``,
    so they count too.

    >>> from rnnbook.cache import modules_used
    >>> used = modules_used("rnnbook.rnn")
    >>> used
    ['rnnbook', 'rnnbook._validate', 'rnnbook.cell', 'rnnbook.layers', 'rnnbook.masking', 'rnnbook.rnn']
    >>> "rnnbook.vanishing" in modules_used("rnnbook.labs")
    False
    """
    modules = {_module_name(path) for path in PACKAGE_DIR.rglob("*.py")}
    seen, todo = set(), [n for n in names if n in modules]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parents = [name.rsplit(".", k)[0] for k in range(1, name.count(".") + 1)]
        todo += [m for m in (_imports(name) | set(parents)) if m in modules and m not in seen]
    return sorted(seen)


def source_hash(*names: str) -> str:
    """SHA-256 over the path and bytes of the source of :func:`modules_used` by ``names``."""
    digest = hashlib.sha256()
    for name in modules_used(*names):
        path = module_path(name)
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


def key(fn, args, kwargs, uses=None) -> str:
    """An entry's key: the source ``fn`` computes with, the function, and its arguments.

    ``uses``, if given, maps the arguments to more module names to hash.
    """
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    modules = [fn.__module__, *(uses(*args, **kwargs) if uses else ())]
    text = repr((source_hash(*modules), fn.__module__, fn.__qualname__, sorted(bound.arguments.items())))
    return hashlib.sha256(text.encode()).hexdigest()


def memoize(fn=None, *, uses=None):
    """Decorate a function of plain arguments so that its results persist on disk.

    Arguments must have a stable ``repr`` (numbers, strings, tuples); results
    must be picklable. A failed call stores nothing and raises as usual. The
    decorated function gains ``is_cached(*args, **kwargs)``: whether that call
    would be read from disk. ``uses``: see :func:`key`; as in ``@memoize(uses=f)``.
    """
    if fn is None:
        return functools.partial(memoize, uses=uses)

    def entry(args, kwargs) -> Path:
        return cache_dir() / f"{fn.__name__}-{key(fn, args, kwargs, uses)}.pkl"

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
