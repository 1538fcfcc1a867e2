"""Reading times come from the chapters' word counts (hooks/reading_time.py); each chapter opens with
its objectives and its reading time, and the lecturers' page collects both (hooks/objectives.py)."""

import re
from pathlib import Path

import pytest
import yaml

import objectives  # hooks/ is on sys.path (conftest.py)
import reading_time
from _book import CONFIG_FILE, _IgnoreTags

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
    assert chapters == chapters_in_nav()
    assert reading_time.PACE in text
    filled = reading_time.fill(text, "en" if name.endswith(".en.md") else "it")
    assert "reading-time" not in filled and "reading-pace" not in filled
    assert len(re.findall(r"\| \d+ min \|", filled)) == len(chapters)


# Learning objectives: typed once, at the top of each chapter; the lecturers' page collects them.

CHAPTER = """# Titolo

!!! abstract "Obiettivi · <!-- reading-time: ch --> di lettura"

    - scrivere una ricorrenza
    - spiegare perché il gradiente
      svanisce

Testo del capitolo.
"""


def chapters_in_nav():
    """The chapters: the pages of the book's parts (Parte I-IV) in mkdocs.yml's nav, in order."""
    nav = yaml.load(CONFIG_FILE.read_text(encoding="utf-8"), Loader=_IgnoreTags)["nav"]
    parts = [entry for item in nav for title, entry in item.items() if title.startswith("Parte ")]
    return [page.removesuffix(".md") for part in parts for item in part for page in item.values()]


def test_the_objectives_are_the_list_at_the_top_of_the_chapter(tmp_path):
    (tmp_path / "ch.md").write_text(CHAPTER)
    assert objectives.objectives(CHAPTER) == ["scrivere una ricorrenza", "spiegare perché il gradiente svanisce"]
    row = "| Capitolo | <!-- objectives: ch --> |"
    assert objectives.fill(row, "it", tmp_path) == (
        "| Capitolo | scrivere una ricorrenza; spiegare perché il gradiente svanisce |"
    )


def test_a_chapter_without_objectives_fails(tmp_path):
    (tmp_path / "ch.md").write_text(CHAPTER.replace("!!! abstract", "!!! note"))
    with pytest.raises(ValueError, match="ch.md has no objectives"):
        objectives.fill("<!-- objectives: ch -->", "it", tmp_path)
    with pytest.raises(ValueError, match="no page ch.en.md"):
        objectives.fill("<!-- objectives: ch -->", "en", tmp_path)


def test_objectives_hold_only_a_list(tmp_path):
    with pytest.raises(ValueError, match="expected a list item"):
        objectives.objectives(CHAPTER.replace("    - scrivere", "    Alla fine saprai:\n\n    - scrivere"))


@pytest.mark.parametrize("suffix", ["", ".en"])
@pytest.mark.parametrize("name", chapters_in_nav())
def test_every_chapter_opens_with_its_objectives_and_its_own_computed_reading_time(name, suffix):
    page = ROOT / "docs" / f"{name}{suffix}.md"
    text = page.read_text(encoding="utf-8")
    top = objectives.ADMONITION.search(text)
    assert top and text[: top.start()].count("\n\n") <= 2, f"{page.name}: no objectives under the title"
    assert len(objectives.objectives(text)) >= 3
    title = text[top.start() : text.index("\n", top.start())]
    assert re.findall(r"<!-- reading-time: ([\w-]+) -->", title) == [name], f"{page.name}: {title}"
    shown = reading_time.fill(title, "en" if suffix else "it")
    assert f" {reading_time.reading_minutes(page)} min " in shown, shown


@pytest.mark.parametrize("suffix", ["", ".en"])
def test_the_lecturers_page_collects_every_chapters_objectives(suffix):
    text = (ROOT / "docs" / f"lecturers{suffix}.md").read_text(encoding="utf-8")
    assert re.findall(r"<!-- objectives: (\w+) -->", text) == chapters_in_nav()
    filled = objectives.fill(text, "en" if suffix else "it")
    assert "<!-- objectives" not in filled
    for name in chapters_in_nav():
        listed = objectives.objectives((ROOT / "docs" / f"{name}{suffix}.md").read_text(encoding="utf-8"))
        assert f"| {'; '.join(listed)} |" in filled
