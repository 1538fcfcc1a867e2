"""Each chapter is a real chapter: enough prose, enough exercises, references.

Prose is counted as a reader would: code blocks, display and inline maths,
HTML tags, embeds and image captions are not words of prose.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
CHAPTERS = ["rnn", "bptt", "vanishing", "lstm", "gru", "deep", "attention", "scan", "ssm"]
LANGUAGES = {"it": ("", "Riferimenti"), "en": (".en", "References")}
MIN_WORDS = 2000
MIN_EXERCISES = 5


def prose_words(text: str) -> int:
    text = re.sub(r"^(\s*)(`{3,}|~{3,}).*?^\1\2\s*$", " ", text, flags=re.S | re.M)  # code blocks
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)  # display maths
    text = re.sub(r"\$[^$\n]+\$", " ", text)  # inline maths
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)  # figures and their captions
    text = re.sub(r"<[^>]+>", " ", text)  # HTML
    text = re.sub(r"`[^`]*`", " ", text)  # inline code
    return len(re.findall(r"[^\W\d_]{2,}", text))


def chapter(name, language):
    path = DOCS / f"{name}{LANGUAGES[language][0]}.md"
    if "being written" in path.read_text(encoding="utf-8") or "in scrittura" in path.read_text(encoding="utf-8"):
        pytest.skip(f"{path.name} is a placeholder")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_has_enough_prose(name, language):
    words = prose_words(chapter(name, language))
    assert words >= MIN_WORDS, f"{name} ({language}) has {words} words of prose, expected at least {MIN_WORDS}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_has_exercises_with_solutions_and_references(name, language):
    text = chapter(name, language)
    solutions = len(re.findall(r"^\?\?\?\+? success", text, flags=re.M))
    assert solutions >= MIN_EXERCISES, f"{name} ({language}) has {solutions} solutions, expected {MIN_EXERCISES}"
    assert f"## {LANGUAGES[language][1]}" in text
    assert "--8<--" in text, "a chapter embeds code from rnnbook"
    assert re.search(r"^```python\n(?!--8<--)", text, flags=re.M), "a chapter has a runnable block"


def test_prose_counter_ignores_code_and_maths():
    text = "Due parole.\n\n```python\nx = many words here\n```\n\n$$\na + b\n$$\n\n![a caption](x.svg)\n"
    assert prose_words(text) == 2
