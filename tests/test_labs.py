"""The labs: rnnbook.labs computes each lab's results (tiny settings here), and every lab
page exists in both languages as a jupytext notebook that calls it the same way."""

from __future__ import annotations

import inspect
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
    kwargs = dict(
        seq_len=20, steps=(("rnn", 3), ("lstm", 4)), hidden=4, batch_size=4, eval_every=2, test_size=8, hs_steps=2
    )
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
    kwargs = dict(
        lengths=(8, 16),
        widths=(1, 2),
        repeat=1,
        seq_len=10,
        steps=(("mingru", 3), ("lstm", 2)),
        hidden=4,
        batch_size=4,
        eval_every=2,
        test_size=8,
    )
    result = labs.scan_lab(**kwargs)
    assert [(r["backend"], r["T"], r["N"]) for r in result["timing"]][:4] == [
        ("numpy", 8, 1),
        ("numpy", 8, 2),
        ("numpy", 16, 1),
        ("numpy", 16, 2),
    ]
    assert len(result["timing"]) == 8 and all(r["difference"] < 1e-5 for r in result["timing"])
    assert list(result["runs"]) == ["mingru", "lstm"] and result["baseline"] == pytest.approx(1 / 6)
    assert result["runs"]["mingru"]["final"]["step"] == 3 and result["runs"]["lstm"]["seconds"] > 0
    assert len(cached(own_cache, "scan_lab")) == 1


def test_ssm_lab_trains_each_model_on_copying_and_recall(own_cache):
    tiny = (("s6", 3), ("lti", 2), ("mlstm", 2), ("lstm", 2))
    kwargs = dict(
        seq_len=6,
        n_copy=2,
        steps=tiny,
        recall_len=4,
        recall_steps=tiny,
        lengths=(6, 9),
        recall_lengths=(4, 5, 7),
        hidden=4,
        batch_size=4,
        eval_every=2,
        test_size=8,
    )
    result = labs.ssm_lab(**kwargs)
    assert list(result["runs"]) == ["s6", "lti", "mlstm", "lstm"] and result["chance"] == pytest.approx(1 / 8)
    assert list(result["recall"]["runs"]) == ["s6", "lti", "mlstm", "lstm"]
    assert result["recall"]["chance"] == pytest.approx(1 / 4) and result["recall"]["seen"] == pytest.approx(1 / 2)
    assert result["runs"]["s6"]["final"]["step"] == 3 and result["recall"]["runs"]["s6"]["final"]["step"] == 3
    for runs, lengths in ((result["runs"], [6, 9]), (result["recall"]["runs"], [4, 5, 7])):
        assert all(0 <= r["final"]["token_accuracy"] <= 1 for r in runs.values())
        assert all(
            r["by_length"]["seq_len"] == lengths and len(r["by_length"]["token_accuracy"]) == len(lengths)
            for r in runs.values()
        )
    assert len(cached(own_cache, "ssm_lab")) == 1


def test_the_published_selective_copying_table_renders_beside_ours():
    run = {"final": {"step": 300, "token_accuracy": 0.625}}
    rows = labs.selective_copying_rows({"settings": {"seq_len": 32, "n_copy": 4}, "runs": {"s6": run, "lti": run}})
    assert len(rows) == len(labs.MAMBA_SELECTIVE_COPYING) + 2
    table = labs.markdown_table(
        ["source", "model", "arch.", "layer", "T", "copied", "steps", "accuracy"],
        [[*row[:-1], f"{row[-1]:.1%}"] for row in rows],
    )
    lines = table.splitlines()
    assert len(lines) == 2 + len(rows) and all(line.count("|") == 9 for line in lines)
    published = [line for line in lines if line.startswith("| Gu & Dao (2023) |")]
    assert [line.rsplit("|", 2)[1].strip() for line in published] == [
        f"{accuracy:.1f}%" for *_, accuracy in labs.MAMBA_SELECTIVE_COPYING
    ]
    assert lines[-1] == "| lab | lti | None | LTI | 32 | 4 | 300 | 62.5% |"


def _tiny_docs(folder, words):
    folder.mkdir()
    (folder / "a.md").write_text(("la rete legge " + words + ". ") * 40, encoding="utf-8")
    (folder / "a.en.md").write_text(("the network reads " + words + ". ") * 40, encoding="utf-8")
    return folder


TINY_CHARLM = dict(
    numpy_steps=4,
    numpy_hidden=8,
    numpy_chunk=8,
    lstm_steps=3,
    lstm_hidden=8,
    lstm_chunk=8,
    batch_size=2,
    eval_every=2,
    primes=(("it", "la "), ("en", "the ")),
    temperatures=(0.5, 1.0),
    sample_len=12,
)


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


def _bigram_bits(codes, vocab_size):
    """The entropy (bits) of the next symbol given only the current one: the best a model
    without memory can do."""
    counts = np.zeros((vocab_size, vocab_size))
    np.add.at(counts, (codes[:-1], codes[1:]), 1)
    p = counts / counts.sum()
    rows = p.sum(1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-np.nansum(p * np.log2(p / rows)))


def test_numpy_char_rnn_learns_a_dependence_across_chunks():
    """ "a" and "b" alternate, each followed by four "-": what comes after "----" depends on
    the marker five symbols back, further than a chunk of 3 reaches. Without its state
    carried from chunk to chunk the model cannot beat the memoryless (bigram) limit."""
    codes = np.tile([0, 2, 2, 2, 2, 1, 2, 2, 2, 2], 200)
    train, valid = corpus.split(codes, 0.1)
    _, _, history = labs.numpy_char_rnn(
        train, valid, 3, hidden=16, steps=300, batch_size=4, chunk_len=3, lr=3e-2, eval_every=300
    )
    limit = _bigram_bits(codes, 3)
    assert limit == pytest.approx(0.85, abs=0.01)
    assert history["eval"][-1]["valid_bpc"] < 0.5 * limit
    assert len(history["loss_bits"]) == 300


def test_reber_lab_counts_successes_per_model():
    result = labs.reber_lab(seeds=(0, 1), steps=2, hidden=4, train_size=4, test_size=4, eval_every=1)
    assert set(result["trials"]) == {"rnn", "lstm"}
    assert [t["seed"] for t in result["trials"]["lstm"]] == [0, 1]
    for model, trials in result["trials"].items():
        solved = [t["solved_at_sequences"] for t in trials]
        assert all(n is None or n % result["settings"]["batch_size"] == 0 for n in solved)
        assert result["success"][model] == sum(n is not None for n in solved) / 2


def test_seq2seq_lab_has_dates_and_numbers_with_and_without_attention(own_cache):
    result = labs.seq2seq_lab(
        date_steps=2,
        date_hidden=4,
        number_steps=2,
        number_hidden=4,
        batch_size=4,
        max_digits=6,
        test_size=3,
        beam_size=2,
        examples=2,
        eval_every=1,
    )
    assert set(result["numbers"]) == {"additive", "none"}
    assert result["numbers"]["none"]["settings"]["attention"] == "none"
    by_length = result["numbers"]["additive"]["by_length"]
    assert set(by_length["digits"]) <= set(range(4, 7)) and len(by_length["exact_match"]) == len(by_length["digits"])
    examples = result["dates"]["examples"]
    assert len(examples) == 2 and all(len(e["weights"]) == min(len(e["output"]) + 1, 11) for e in examples)
    assert 0 <= result["dates"]["metrics"]["beam"] <= 1 and result["settings"]["beam_size"] == 2


def test_the_labs_train_fewer_steps_than_the_full_commands_they_name():
    # What the seq2seq and ssm pages say; the commands' defaults are kept to about a minute.
    def default(fn, name):
        return inspect.signature(fn).parameters[name].default

    run = {name: experiment.run for name, experiment in EXPERIMENTS.items()}
    assert default(labs.seq2seq_lab, "date_steps") < default(run["dates"], "steps")
    assert default(labs.seq2seq_lab, "number_steps") < default(run["numbers"], "steps")
    assert max(dict(default(labs.ssm_lab, "steps")).values()) < default(run["ssm"], "steps")
    assert max(dict(default(labs.ssm_lab, "recall_steps")).values()) < default(run["recall"], "steps")


def test_sine_lab_has_one_and_multi_step_forecasts():
    result = labs.sine_lab(
        models=("rnn", "gru"), horizon=3, seq_len=12, steps=2, hidden=4, batch_size=4, eval_every=1, test_size=4
    )
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


@pytest.mark.parametrize("name", LABS + ["index"])
@pytest.mark.parametrize("language", ["it", "en"])
def test_no_page_advertises_a_guessed_time_for_the_full_run(name, language):
    """The command prints the seconds it took; a page does not guess them."""
    text = " ".join(page(name, language).split())
    assert not re.search(r"\b(takes|richiede|expected time|tempo previsto)\b", text, flags=re.I)
    assert not re.search(r"\bin (about|circa) \d+ ?(s|seconds|secondi)\b", text)


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
    with pytest.raises(
        ValueError, match="name: expected one of adding, charlm, reber, sine, langid, negation, seq2seq"
    ):
        labs.is_cached("copy")


FAKE_RUN = {
    "settings": {},
    "history": {"loss": [0.1], "eval": [{"step": 1, "test_mse": 0.1}]},
    "metric": "",
    "lines": {},
    "summary": {"test MSE": "0.1"},
    "passed": False,
    "example": {},
    "metrics": {"accuracy": 0.5, "solved_at_step": None},
}


@pytest.mark.parametrize("name", ["adding", "reber", "sine"])
def test_is_cached_after_the_page_computes_the_lab(monkeypatch, name):
    """``is_cached(name)`` is false, then true once ``LABS[name]()`` (the page's call) ran.
    The training runs are replaced by a stub; the cache key depends on the call only."""
    for run in ("run_adding", "run_reber", "run_sine"):
        monkeypatch.setattr(labs, run, lambda **settings: FAKE_RUN)
    assert not labs.is_cached(name)
    labs.LABS[name]()
    assert labs.is_cached(name)


def test_is_cached_knows_the_charlm_lab_once_a_notebook_computed_it(monkeypatch):
    """The key of is_cached("charlm") is the key of the call labs.charlm_lab() makes."""
    from rnnbook.cache import memoize

    @memoize
    def charlm_lab_for_text(digest, *, docs=None):
        return digest

    monkeypatch.setattr(labs, "charlm_lab_for_text", charlm_lab_for_text)
    assert not labs.is_cached("charlm")
    labs.charlm_lab()  # what the lab's notebook calls
    assert labs.is_cached("charlm")


# ---------------------------------------------------------------------------
# What the pages say, checked on their results (each page calls its check)
# ---------------------------------------------------------------------------


def _adding_result(rnn=0.149, lstm=0.002, gru=0.002, hs=0.038):
    runs = {"rnn": rnn, "lstm": lstm, "gru": gru}
    return {
        "baseline": 1 / 6,
        "runs": {m: {"final": {"test_mse": v}} for m, v in runs.items()},
        "hs": {"final": {"test_mse": hs}},
        "hs_baseline": 0.0392,
        "hs_stop": 0.01,
    }


@pytest.mark.parametrize(
    "contradiction, claim",
    [
        (dict(rnn=0.05), "Elman network stays near"),
        (dict(rnn=0.2), "Elman network stays near"),
        (dict(lstm=0.011), "gated networks go below 0.01"),
        (dict(gru=0.05), "gated networks go below 0.01"),
        (dict(hs=0.005), "LSTM stays at the trivial error"),
    ],
)
def test_adding_conclusions_are_checked(contradiction, claim):
    labs.check_adding(_adding_result())
    with pytest.raises(labs.ClaimError, match=claim):
        labs.check_adding(_adding_result(**contradiction))


def _charlm_result(numpy=3.1, lstm_it=2.6, lstm_en=2.5, unigram=4.9):
    def run(language, bpc):
        return {"language": language, "history": {"eval": [{"valid_bpc": bpc}]}}

    return {
        "numpy": run("it", numpy),
        "lstm": {"it": run("it", lstm_it), "en": run("en", lstm_en)},
        "data": {"it": {"unigram_bits": unigram}, "en": {"unigram_bits": unigram}},
    }


@pytest.mark.parametrize(
    "contradiction, claim",
    [
        (dict(numpy=5.0, lstm_it=4.0), "numpy beats the unigram"),
        (dict(lstm_en=5.0), "lstm en beats the unigram"),
        (dict(lstm_it=3.2), "LSTM goes further down"),
    ],
)
def test_charlm_conclusions_are_checked(contradiction, claim):
    labs.check_charlm(_charlm_result())
    with pytest.raises(labs.ClaimError, match=claim):
        labs.check_charlm(_charlm_result(**contradiction))


def _reber_result(rnn=(None, 10000, 12000, 9200, 10000), lstm=(6400, 10400, 6400, 5600, 9200)):
    trials = {m: [{"solved_at_sequences": n} for n in solved] for m, solved in (("rnn", rnn), ("lstm", lstm))}
    success = {m: sum(t["solved_at_sequences"] is not None for t in ts) / len(ts) for m, ts in trials.items()}
    return {"trials": trials, "success": success}


@pytest.mark.parametrize(
    "contradiction, claim",
    [
        (dict(lstm=(6400, None, 6400, 5600, 9200)), "LSTM always succeeds"),
        (dict(lstm=(16400, 20400, 16400, 15600, 19200), rnn=(30000,) * 5), "close to 8,440"),
        (dict(rnn=(None, None, 12000, None, 10000)), "nearly always"),
        (dict(rnn=(None, 5000, 6000, 5000, 5000)), "later than the LSTM"),
    ],
)
def test_reber_conclusions_are_checked(contradiction, claim):
    labs.check_reber(_reber_result())
    with pytest.raises(labs.ClaimError, match=claim):
        labs.check_reber(_reber_result(**contradiction))


def _sine_result(one=(0.024, 0.017, 0.017), multi=(0.062, 0.051, 0.054)):
    def curves(values, persistence):
        return {
            m: {"final": {"test_mse": v}, "lines": {"persistence": persistence}}
            for m, v in zip(("rnn", "lstm", "gru"), values)
        }

    return {"one_step": curves(one, 0.067), "multi_step": curves(multi, 0.86), "noise_floor": 0.01}


@pytest.mark.parametrize(
    "contradiction, claim",
    [
        (dict(one=(0.04, 0.017, 0.017)), "beats persistence"),
        (dict(multi=(0.062, 0.009, 0.054)), "noise floor"),
        (dict(multi=(0.3, 0.051, 0.054)), "Elman network stays close"),
    ],
)
def test_sine_conclusions_are_checked(contradiction, claim):
    labs.check_sine(_sine_result())
    with pytest.raises(labs.ClaimError, match=claim):
        labs.check_sine(_sine_result(**contradiction))


@pytest.mark.parametrize("name", LABS)
def test_every_lab_page_checks_its_conclusions(name):
    for language in ("it", "en"):
        assert f"labs.check_{name}(result)" in page(name, language)


def _langid_result(bag=0.93, uni=0.96, early=(0.8, 0.85)):
    def run(final, early_accuracy):
        evals = [
            {"step": 25, "test_accuracy": 0.6},
            {"step": 50, "test_accuracy": early_accuracy},
            {"step": 300, "test_accuracy": final},
        ]
        return {"history": {"eval": evals}, "final": evals[-1]}

    return {"runs": {"bag": run(bag, early[0]), "uni": run(uni, early[1])}}


@pytest.mark.parametrize(
    "contradiction, claim",
    [
        (dict(early=(0.6, 0.85)), "bag is far above chance"),
        (dict(early=(0.8, 0.55)), "uni is far above chance"),
        (dict(uni=0.99, bag=0.9), "differ by little"),
        (dict(uni=0.86, bag=0.95), "differ by little"),
    ],
)
def test_langid_conclusions_are_checked(contradiction, claim):
    labs.check_langid(_langid_result())
    with pytest.raises(labs.ClaimError, match=claim):
        labs.check_langid(_langid_result(**contradiction))


def _negation_result(classify=(0.55, 0.99, 0.99), tag=(0.58, 0.8, 0.99), first=(0.52, 0.99)):
    def runs(values, first_word=(None, None)):
        first_word = dict(zip(("uni", "bi"), first_word))
        return {
            d: {"final": {"test_accuracy": v}, "accuracy_by_position": [first_word.get(d), 0.9]}
            for d, v in zip(("bag", "uni", "bi"), values)
        }

    return {"runs": {"classify": runs(classify), "tag": runs(tag, first)}}


@pytest.mark.parametrize(
    "contradiction, claim",
    [
        (dict(classify=(0.8, 0.99, 0.99)), "bag of words stays near chance, classify"),
        (dict(tag=(0.75, 0.8, 0.99)), "bag of words stays near chance, tag"),
        (dict(classify=(0.55, 0.7, 0.99)), "one direction is enough"),
        (dict(classify=(0.55, 0.99, 0.8)), "two do the same"),
        (dict(tag=(0.58, 0.99, 0.98)), "two directions beat one"),
        (dict(first=(0.9, 0.99)), "first word one direction can only guess"),
        (dict(first=(0.52, 0.6)), "two label it well"),
    ],
)
def test_negation_conclusions_are_checked(contradiction, claim):
    labs.check_negation(_negation_result())
    with pytest.raises(labs.ClaimError, match=claim):
        labs.check_negation(_negation_result(**contradiction))


def _seq2seq_result(greedy=0.98, disagreements=3, additive=(0.95, 0.9), none=(0.8, 0.05)):
    digits = list(range(4, 25))

    def numbers(short, long):
        by_length = [short if d <= 9 else long if d >= 20 else (short + long) / 2 for d in digits]
        return {
            "metrics": {"exact_match": float(np.mean(by_length))},
            "by_length": {"digits": digits, "exact_match": by_length},
        }

    return {
        "settings": {"test_size": 300},
        "dates": {"metrics": {"greedy": greedy, "beam": greedy}, "disagreements": [{}] * disagreements},
        "numbers": {"additive": numbers(*additive), "none": numbers(*none)},
    }


@pytest.mark.parametrize(
    "contradiction, claim",
    [
        (dict(greedy=0.6), "learns to rewrite the dates"),
        (dict(disagreements=40), "almost always agree"),
        (dict(additive=(0.4, 0.3), none=(0.9, 0.4)), "attention beats no attention"),
        (dict(additive=(1.0, 0.04)), "attention beats no attention on the longest"),
        (dict(none=(0.2, 0.15)), "collapses with length"),
        (dict(additive=(1.0, 0.2), none=(0.3, 0.05)), "length matters much less"),
    ],
)
def test_seq2seq_conclusions_are_checked(contradiction, claim):
    labs.check_seq2seq(_seq2seq_result())
    with pytest.raises(labs.ClaimError, match=claim):
        labs.check_seq2seq(_seq2seq_result(**contradiction))


def _scan_result(single=20.0, wide=0.7, mingru=0.002, lstm=0.16, seconds=(20.0, 8.0)):
    timing = [
        {"backend": backend, "T": T, "N": N, "loop_s": 1.0, "scan_s": 1.0}
        for backend in ("numpy", "torch")
        for T in (128, 2048, 8192)
        for N in (1, 64, 1024)
    ]
    for row in timing:
        if row["backend"] == "numpy" and (row["T"], row["N"]) in ((8192, 1), (2048, 1024)):
            row["scan_s"] = 1.0 / (single if row["N"] == 1 else wide)
    runs = {
        m: {"final": {"step": 250, "test_mse": v}, "seconds": s}
        for m, v, s in (("mingru", mingru, seconds[0]), ("lstm", lstm, seconds[1]))
    }
    return {
        "settings": {"lengths": [128, 2048, 8192], "widths": [1, 64, 1024]},
        "timing": timing,
        "baseline": 1 / 6,
        "runs": runs,
    }


@pytest.mark.parametrize(
    "contradiction, claim",
    [
        (dict(single=1.5), "numpy scan wins by far"),
        (dict(wide=1.2), "numpy scan falls behind"),
        (dict(mingru=0.02), "minGRU goes below 0.01"),
        (dict(lstm=0.05), "LSTM stays near the trivial error"),
        (dict(seconds=(5.0, 8.0)), "each step of the minGRU costs more"),
    ],
)
def test_scan_conclusions_are_checked(contradiction, claim):
    labs.check_scan(_scan_result())
    with pytest.raises(labs.ClaimError, match=claim):
        labs.check_scan(_scan_result(**contradiction))


def _ssm_result(
    s6=0.72,
    lti=0.42,
    mlstm=0.82,
    lstm=0.13,
    blind=0.41,
    line=0.48,
    lti_longest=0.16,
    s6_longest=0.59,
    recall=(0.97, 0.49, 0.89, 0.5),
    recall_longest=(0.88, 0.54, 0.9, 0.48),
):
    names = ("s6", "lti", "mlstm", "lstm")
    lines = {"best guess blind to order": blind, "pass line": line}  # what run_ssm draws, the same for every model
    runs = {
        m: {"final": {"step": 300, "token_accuracy": v}, "lines": lines, "by_length": {"token_accuracy": [v, longest]}}
        for m, v, longest in zip(names, (s6, lti, mlstm, lstm), (s6_longest, lti_longest, 0.77, 0.12))
    }
    recall_runs = {
        m: {"final": {"step": 500, "token_accuracy": v}, "by_length": {"token_accuracy": [v, longest]}}
        for m, v, longest in zip(names, recall, recall_longest)
    }
    return {"chance": 1 / 8, "runs": runs, "recall": {"chance": 1 / 4, "seen": 1 / 2, "runs": recall_runs}}


@pytest.mark.parametrize(
    "contradiction, claim",
    [
        (dict(lti=0.2, s6=0.9, mlstm=0.9, lti_longest=0.1), "time-invariant SSM learns something"),
        (dict(lti=0.5, lti_longest=0.3), "about what the best guess blind to order gets, below the pass line"),
        (dict(blind=0.6, line=0.67), "about what the best guess blind to order gets"),
        (dict(s6=0.5), "selective SSM stays visibly above"),
        (dict(lti=0.7, blind=0.7, line=0.77), "selective SSM stays visibly above"),
        (dict(mlstm=0.45), "mLSTM gets there too"),
        (dict(lstm=0.4), "LSTM stays near chance"),
        (dict(lti_longest=0.5), "time-invariant SSM falls at the longest length"),
        (dict(s6_longest=0.25), "at the longest length the selective SSM and the mLSTM stay visibly above"),
        (dict(recall=(0.6, 0.49, 0.89, 0.5)), "on recall s6 goes visibly above"),
        (dict(recall_longest=(0.88, 0.54, 0.55, 0.48)), "on recall mlstm goes visibly above"),
        (dict(recall=(0.97, 0.7, 0.89, 0.5)), "time-invariant SSM and the LSTM stay near"),
        (dict(recall=(0.97, 0.49, 0.89, 0.3)), "time-invariant SSM and the LSTM stay near"),
    ],
)
def test_ssm_conclusions_are_checked(contradiction, claim):
    labs.check_ssm(_ssm_result())
    with pytest.raises(labs.ClaimError, match=claim):
        labs.check_ssm(_ssm_result(**contradiction))
