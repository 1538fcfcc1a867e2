"""One exercise format in every chapter: a numbered heading, so each exercise is linkable and in the contents."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
CHAPTERS = ["rnn", "bptt", "vanishing", "lstm", "gru"]
WORD = {"it": ("Esercizi", "Esercizio"), "en": ("Exercises", "Exercise")}


@pytest.mark.parametrize("name", CHAPTERS)
@pytest.mark.parametrize("language", ["it", "en"])
def test_every_exercise_is_a_numbered_heading(name, language):
    section, word = WORD[language]
    text = (DOCS / (f"{name}.md" if language == "it" else f"{name}.en.md")).read_text(encoding="utf-8")
    exercises = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    headings = re.findall(r"^### (.+)$", exercises, flags=re.M)
    numbers = [int(m.group(1)) for h in headings if (m := re.fullmatch(rf"{word} (\d+) \(.+\)", h))]
    assert len(numbers) == len(headings) >= 5, headings
    assert numbers == list(range(1, len(numbers) + 1))
    assert not re.search(rf"^\*\*{word} \d", exercises, flags=re.M), "an exercise as a bold paragraph"
