"""Griffe extension for the API reference: docstrings written for ``help()`` read well on a page.

The package's docstrings are plain text with doctests and a few reStructuredText habits.
Rendered as Markdown by mkdocstrings (``docs/api.md``), a bare ``>>>`` example would run
together into one paragraph and ``:func:`name``` would show its role. Before a docstring is
parsed this extension

- puts every bare doctest (a run of lines starting with ``>>>`` and the output below it, up
  to a blank line) into a ```` ```pycon ```` block, so it is shown as code and highlighted;
- turns the roles ``:mod:``, ``:func:``, ``:class:``, ``:meth:``, ``:attr:``, ``:data:``,
  ``:exc:`` and ``:obj:`` into code spans;
- ends a paragraph that introduces a literal block with one colon, not reST's ``::``.

Indented blocks (Google-style sections such as ``Args:``, or literal blocks) are left as
they are: griffe parses the sections, and an indented block is code in Markdown too.
The package's own files are not changed; only what the API page shows.
"""

from __future__ import annotations

import re

from griffe import Extension

ROLE = re.compile(r":(?:mod|func|class|meth|attr|data|exc|obj):`~?([^`]+)`")
LITERAL_INTRO = re.compile(r"(?<=\S)::$")


def markdown_docstring(text: str) -> str:
    """Rewrite one docstring's text as described in the module docstring.

    >>> markdown_docstring("Use :func:`step`.\\n\\n>>> 1 + 1\\n2\\n\\nDone::\\n\\n    code").splitlines()
    ['Use `step`.', '', '```pycon', '>>> 1 + 1', '2', '```', '', 'Done:', '', '    code']
    """
    lines = text.splitlines()
    out = []
    in_fence = False
    in_doctest = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not in_doctest and line.startswith(("```", "~~~")):
            in_fence = not in_fence
        if in_fence or line.startswith((" ", "\t")) and not in_doctest:
            out.append(line)
            continue
        if in_doctest and not stripped:
            out.append("```")
            in_doctest = False
        elif not in_doctest and line.startswith(">>>"):
            out.append("```pycon")
            in_doctest = True
        if in_doctest:
            out.append(line)
            continue
        line = ROLE.sub(r"`\1`", line)
        following = lines[index + 1 : index + 3]
        if (
            LITERAL_INTRO.search(line)
            and len(following) == 2
            and not following[0].strip()
            and following[1][:1] in (" ", "\t")
        ):
            line = line[:-1]
        out.append(line)
    if in_doctest:
        out.append("```")
    return "\n".join(out)


class MarkdownDocstrings(Extension):
    """Apply :func:`markdown_docstring` to every docstring griffe reads."""

    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_docstring(obj.docstring.value)
