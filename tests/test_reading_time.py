"""The lecturers' page: reading times come from the chapters' word counts (hooks/reading_time.py)."""

import re
from pathlib import Path

import pytest

import reading_time  # hooks/ is on sys.path (conftest.py)

ROOT = Path(__file__).resolve().parents[1]


def test_the_reading_time_follows_the_word_count(tmp_path):
    (tmp_path / "short.md").write_text("# Breve\n\n" + "parola " * 99 + "\n\n```python\n" + "x = 1\n" * 500 + "```\n")
    (tmp_path / "short.en.md").write_text("# Short\n\n" + "word " * 1001 + "\n")
    page = "| a | <!-- reading-time: short --> |"
    assert reading_time.fill(page, "it", tmp_path) == "| a | 5 min |"  # 100 words, the code not counted
    assert reading_time.fill(page, "en", tmp_path) == "| a | 15 min |"  # 1002 words: 10.02 minutes, up to 15


def test_the_page_states_the_pace_the_hook_divides_by(tmp_path):
    assert reading_time.fill("at <!-- reading-pace --> words a minute", "en", tmp_path) == (
        f"at {reading_time.WORDS_PER_MINUTE} words a minute"
    )


def test_a_marker_for_a_missing_chapter_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no page nothing.en.md"):
        reading_time.fill("<!-- reading-time: nothing -->", "en", tmp_path)


@pytest.mark.parametrize("name", ["lecturers.md", "lecturers.en.md"])
def test_the_lecturers_page_gives_every_chapter_a_computed_time(name):
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    chapters = re.findall(r"<!-- reading-time: (\w+) -->", text)
    assert chapters == ["rnn", "bptt", "vanishing", "lstm", "gru", "deep", "attention", "scan", "ssm"]
    assert reading_time.PACE in text
    filled = reading_time.fill(text, "en" if name.endswith(".en.md") else "it")
    assert "reading-time" not in filled and "reading-pace" not in filled
    assert len(re.findall(r"\| \d+ min \|", filled)) == len(chapters)
