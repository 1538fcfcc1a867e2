"""The labs: rnnbook.labs computes each lab's results (tiny settings here), and every lab
page exists in both languages as a jupytext notebook that calls it the same way."""

from __future__ import annotations

import math
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from rnnbook import corpus, labs, tasks, threads
from rnnbook.__main__ import build_parser
from rnnbook.experiments import EXPERIMENTS

ROOT = Path(__file__).resolve().parents[1]
LABS_DIR = ROOT / "docs" / "labs"
LABS = ["adding", "charlm", "reber", "sine", "langid", "negation", "seq2seq", "scan", "ssm"]
# The experiments (rnnbook run NAME) behind each lab, when they are not the lab's own name.
EXPERIMENTS_OF = {"seq2seq": ["dates", "numbers"]}


def experiments_of(name):
    return EXPERIMENTS_OF.get(name, [name])
HEADER = """---
jupyter:
  jupytext:
    text_representation:
      extension: .md
      format_name: markdown
  kernelspec:
    display_name: Python 3
    language: python
    name: python3
---
"""


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Every test computes into its own cache folder."""
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def cached(cache, prefix):
    return sorted(cache.glob(f"{prefix}-*.pkl"))


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def test_markdown_table():
    assert labs.markdown_table(["a", "b"], [[1, "x"]]).splitlines() == ["| a | b |", "|---|---|", "| 1 | x |"]


def test_torch_threads_restores_the_setting():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), threads.torch_threads(1):
        assert torch.get_num_threads() == 1
        raise RuntimeError
    assert torch.get_num_threads() == before


# ---------------------------------------------------------------------------
# The lab functions, with tiny settings
# ---------------------------------------------------------------------------


def test_adding_lab_returns_plain_data_and_is_computed_once(own_cache):
    kwargs = dict(seq_len=20, steps=(("rnn", 3), ("lstm", 4)), hidden=4, batch_size=4, eval_every=2,
                  test_size=8, hs_steps=2)
    result = labs.adding_lab(**kwargs)
    assert result["baseline"] == pytest.approx(1 / 6)
    assert result["hs_baseline"] == pytest.approx(tasks.adding_baseline("hs", 20).mse)
    assert list(result["runs"]) == ["rnn", "lstm"]
    assert [e["step"] for e in result["runs"]["lstm"]["history"]["eval"]] == [2, 4]
    assert result["runs"]["rnn"]["final"]["step"] == 3
    assert result["settings"]["steps"] == {"rnn": 3, "lstm": 4} and "progress" not in result["settings"]
    assert 0.0 <= result["hs"]["accuracy"] <= 1.0
    assert len(cached(own_cache, "adding_lab")) == 1
    again = labs.adding_lab(**kwargs)  # read back from disk: the same numbers
    assert again["runs"]["lstm"]["final"] == result["runs"]["lstm"]["final"]
    assert len(cached(own_cache, "adding_lab")) == 1


def test_scan_lab_times_both_libraries_and_trains_each_model(own_cache):
    kwargs = dict(lengths=(8, 16), widths=(1, 2), repeat=1, seq_len=10, steps=(("mingru", 3), ("lstm", 2)),
                  hidden=4, batch_size=4, eval_every=2, test_size=8)
    result = labs.scan_lab(**kwargs)
    assert [(r["backend"], r["T"], r["N"]) for r in result["timing"]][:4] == [
        ("numpy", 8, 1), ("numpy", 8, 2), ("numpy", 16, 1), ("numpy", 16, 2)]
    assert len(result["timing"]) == 8 and all(r["difference"] < 1e-5 for r in result["timing"])
    assert list(result["runs"]) == ["mingru", "lstm"] and result["baseline"] == pytest.approx(1 / 6)
    assert result["runs"]["mingru"]["final"]["step"] == 3 and result["runs"]["lstm"]["seconds"] > 0
    assert len(cached(own_cache, "scan_lab")) == 1


def test_ssm_lab_trains_each_model_on_selective_copying(own_cache):
    kwargs = dict(seq_len=6, n_copy=2, steps=(("s6", 3), ("lti", 2), ("mlstm", 2), ("lstm", 2)), hidden=4,
                  batch_size=4, eval_every=2, test_size=8)
    result = labs.ssm_lab(**kwargs)
    assert list(result["runs"]) == ["s6", "lti", "mlstm", "lstm"] and result["chance"] == pytest.approx(1 / 8)
    assert result["runs"]["s6"]["final"]["step"] == 3
    assert all(0 <= r["final"]["token_accuracy"] <= 1 for r in result["runs"].values())
    assert len(cached(own_cache, "ssm_lab")) == 1


def _tiny_docs(folder, words):
    folder.mkdir()
    (folder / "a.md").write_text(("la rete legge " + words + ". ") * 40, encoding="utf-8")
    (folder / "a.en.md").write_text(("the network reads " + words + ". ") * 40, encoding="utf-8")
    return folder


TINY_CHARLM = dict(numpy_steps=4, numpy_hidden=8, numpy_chunk=8, lstm_steps=3, lstm_hidden=8, lstm_chunk=8,
                   batch_size=2, eval_every=2, primes=(("it", "la "), ("en", "the ")), temperatures=(0.5, 1.0),
                   sample_len=12)


def test_charlm_lab_trains_both_models_and_depends_on_the_text(tmp_path, own_cache):
    docs = _tiny_docs(tmp_path / "docs", "un carattere alla volta")
    result = labs.charlm_lab(docs=docs, **TINY_CHARLM)
    assert set(result["data"]) == {"it", "en"} and set(result["lstm"]) == {"it", "en"}
    assert result["numpy"]["language"] == "it"
    assert [e["step"] for e in result["numpy"]["history"]["eval"]] == [2, 4]
    for run in (result["numpy"], *result["lstm"].values()):
        assert set(run["samples"]) == {"0.5", "1.0"}
        assert all(len(text) == 12 for text in run["samples"].values())
        assert all(math.isfinite(e["valid_bpc"]) for e in run["history"]["eval"])
    for language, data in result["data"].items():
        codes = corpus.Vocab.from_text(corpus.load_book_text(docs, language))
        assert data["vocabulary"] == len(codes)
    labs.charlm_lab(docs=docs, **TINY_CHARLM)
    assert len(cached(own_cache, "charlm_lab_for_text")) == 1
    (docs / "a.md").write_text("la rete cambia. " * 60, encoding="utf-8")  # an edited chapter
    labs.charlm_lab(docs=docs, **TINY_CHARLM)
    assert len(cached(own_cache, "charlm_lab_for_text")) == 2, "a new text must train again"


def test_numpy_char_rnn_learns_a_repeating_text():
    codes = np.tile(np.arange(3), 400)  # "abcabc...": the next character is certain
    train, valid = corpus.split(codes, 0.1)
    _, _, history = labs.numpy_char_rnn(train, valid, 3, hidden=8, steps=60, batch_size=4, chunk_len=10,
                                        lr=3e-2, eval_every=30)
    assert history["eval"][-1]["valid_bpc"] < 0.5 * math.log2(3)
    assert len(history["loss_bits"]) == 60


def test_reber_lab_counts_successes_per_model():
    result = labs.reber_lab(seeds=(0, 1), steps=2, hidden=4, train_size=4, test_size=4, eval_every=1)
    assert set(result["trials"]) == {"rnn", "lstm"}
    assert [t["seed"] for t in result["trials"]["lstm"]] == [0, 1]
    for model, trials in result["trials"].items():
        solved = [t["solved_at_sequences"] for t in trials]
        assert all(n is None or n % result["settings"]["batch_size"] == 0 for n in solved)
        assert result["success"][model] == sum(n is not None for n in solved) / 2


def test_seq2seq_lab_has_dates_and_numbers_with_and_without_attention(own_cache):
    result = labs.seq2seq_lab(date_steps=2, date_hidden=4, number_steps=2, number_hidden=4, batch_size=4,
                              max_digits=6, test_size=3, beam_size=2, examples=2, eval_every=1)
    assert set(result["numbers"]) == {"additive", "none"}
    assert result["numbers"]["none"]["settings"]["attention"] == "none"
    by_length = result["numbers"]["additive"]["by_length"]
    assert set(by_length["digits"]) <= set(range(4, 7)) and len(by_length["exact_match"]) == len(by_length["digits"])
    examples = result["dates"]["examples"]
    assert len(examples) == 2 and all(len(e["weights"]) == min(len(e["output"]) + 1, 11) for e in examples)
    assert 0 <= result["dates"]["metrics"]["beam"] <= 1 and result["settings"]["beam_size"] == 2


def test_sine_lab_has_one_and_multi_step_forecasts():
    result = labs.sine_lab(models=("rnn", "gru"), horizon=3, seq_len=12, steps=2, hidden=4, batch_size=4,
                           eval_every=1, test_size=4)
    assert set(result["one_step"]) == set(result["multi_step"]) == {"rnn", "gru"}
    example = result["one_step"]["gru"]["example"]
    assert len(example["observed"]) == 12 and len(example["rollout"]) == 12 - example["warmup"]
    assert result["noise_floor"] == pytest.approx(0.01)
    assert result["multi_step"]["rnn"]["settings"]["horizon"] == 3


# ---------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------


def page(name, language):
    return (LABS_DIR / (f"{name}.md" if language == "it" else f"{name}.en.md")).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", LABS)
@pytest.mark.parametrize("language", ["it", "en"])
def test_every_lab_is_a_notebook_page_in_both_languages(name, language):
    text = page(name, language)
    assert text.startswith(HEADER), f"{name} ({language}) lacks the jupytext kernelspec header"
    assert re.search(r"^# \S", text, flags=re.M), "a notebook page needs its title"
    assert f"labs.{name}_lab(" in text, f"{name} ({language}) does not call labs.{name}_lab"


@pytest.mark.parametrize("name", LABS)
def test_both_languages_share_one_computation(name):
    """Same calls of rnnbook.labs in both languages: the second build reads the first's cache."""
    calls = {language: re.findall(r"labs\.\w+_lab\([^)]*\)", page(name, language)) for language in ("it", "en")}
    assert calls["it"] == calls["en"] and calls["it"]


@pytest.mark.parametrize("name", LABS)
@pytest.mark.parametrize("language", ["it", "en"])
def test_notebook_pages_hold_no_fenced_block_but_python_cells(name, language):
    """Commands go in inline code: in a notebook page jupytext turns a ```bash block into an
    executed %%bash cell."""
    languages = re.findall(r"^```(\S*)", page(name, language), flags=re.M)
    assert set(languages[::2]) == {"python"}, languages


def commands(text):
    """Each `rnnbook run ...` command in the text, as an argument list (loops unrolled once)."""
    found = re.findall(r"rnnbook run [a-z][^`;\n]*", text)  # not the placeholder NAME
    return [shlex.split(c.replace("$seed", "0"))[1:] for c in found]


@pytest.mark.parametrize("name", LABS + ["index"])
@pytest.mark.parametrize("language", ["it", "en"])
def test_every_full_run_command_parses(name, language):
    found = commands(page(name, language))
    assert found, f"{name} ({language}) gives no rnnbook run command"
    parser = build_parser()
    for argv in (a for a in found if "--help" not in a):
        args = parser.parse_args(argv)
        assert args.command == "run" and args.name in EXPERIMENTS


def test_the_index_lists_every_lab_with_its_command():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = yaml.safe_load("nav:\n" + config.split("\nnav:\n", 1)[1])  # nav is the last section
    section = next(item["Laboratori"] for item in nav["nav"] if isinstance(item, dict) and "Laboratori" in item)
    listed = [next(iter(entry.values())) if isinstance(entry, dict) else entry for entry in section]
    assert listed[0] == "labs/index.md"
    index = page("index", "en")
    assert HEADER not in index, "the index is a normal page, not a notebook"
    for name in LABS:
        assert f"labs/{name}.md" in listed
        assert f"]({name}.md)" in index and f"]({name}.md)" in page("index", "it")
        row = next(line for line in index.splitlines() if f"]({name}.md)" in line)
        assert any(f"rnnbook run {e}" in row for e in experiments_of(name)), row


@pytest.mark.parametrize("name", LABS)
@pytest.mark.parametrize("language", ["it", "en"])
def test_the_table_of_contents_holds_the_headings_only(name, language):
    """mkdocs-jupyter builds a notebook's table of contents from its Markdown with inline code
    removed: a list of bare `commands` turns into a heading "-"."""
    from mkdocs_jupyter.plugin import get_nb_toc

    path = LABS_DIR / (f"{name}.md" if language == "it" else f"{name}.en.md")
    toc, _ = get_nb_toc(str(path), 3)
    titles = [item.title for item in toc] + [child.title for item in toc for child in item.children]
    text = page(name, language)
    python_cells = "".join(re.findall(r"^```python\n.*?^```", text, flags=re.M | re.S))
    headings = re.findall(r"^#{1,3} (.+)$", text.replace(python_cells, ""), flags=re.M)
    assert titles == headings


# ---------------------------------------------------------------------------
# Precomputing before the build
# ---------------------------------------------------------------------------


def test_precompute_computes_only_what_is_missing(monkeypatch):
    computed = []
    monkeypatch.setattr(labs, "is_cached", lambda name: name != "sine")
    monkeypatch.setattr(labs, "_compute", computed.append)
    assert labs.precompute(processes=1) == ["sine"]
    assert computed == ["sine"]
    assert labs.precompute(["adding"], processes=2) == []


def test_precompute_checks_its_arguments():
    with pytest.raises(ValueError, match="processes"):
        labs.precompute([], processes=0)
    with pytest.raises(ValueError, match="name: expected one of adding, charlm, reber, sine, langid, negation, seq2seq"):
        labs.is_cached("copy")


def test_is_cached_follows_the_cache(own_cache, monkeypatch):
    assert not labs.is_cached("adding")
    calls = []
    monkeypatch.setattr(labs.LABS["adding"], "is_cached", lambda: calls.append(1) or True)
    assert labs.is_cached("adding") and calls
