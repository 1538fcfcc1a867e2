"""MkDocs hook: the footer of every page shows the package's version.

The version has one source, ``rnnbook.__version__``: ``pyproject.toml`` reads it
(``[tool.setuptools.dynamic]``), ``CITATION.cff`` and ``CHANGELOG.md`` state it
(tests/test_release.py checks that they agree), and this hook writes it into the
footer through Material's ``copyright`` line.
"""

from __future__ import annotations


def on_config(config):
    from rnnbook import __version__

    config["copyright"] = f"rnnbook {__version__} · MIT"
    return config
