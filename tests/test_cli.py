"""Tests of the command line and the experiments behind it, with tiny runs."""

import json
import re
import subprocess
import sys

import pytest
import torch

from rnnbook import experiments
from rnnbook.__main__ import main

TINY = ["--steps", "2", "--eval-every", "1", "--no-progress"]


@pytest.fixture
def docs(tmp_path):
    pages = tmp_path / "docs"
    pages.mkdir()
    (pages / "index.md").write_text("# Libro\n\nUna rete ricorrente ricorda. " * 20, encoding="utf-8")
    (pages / "index.en.md").write_text("# Book\n\nA recurrent net remembers. " * 20, encoding="utf-8")
    return pages


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("adding", "charlm", "reber", "sine", "copy"):
        assert f"\n{name} " in "\n" + out


def test_python_dash_m(tmp_path):
    done = subprocess.run([sys.executable, "-m", "rnnbook", "list"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0 and "adding" in done.stdout


def test_help_states_the_expected_time(capsys):
    assert main(["run", "adding", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Expected time: 1 to 1.5 minutes on a 2-core CPU" in out
    assert "--seq-len" in out and "(default: 100)" in out


def test_run_adding_end_to_end(tmp_path, capsys):
    out_dir = tmp_path / "run"
    argv = ["run", "adding", "--model", "rnn", "--seq-len", "10", "--batch-size", "4", "--test-size", "8",
            "--out", str(out_dir), *TINY]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Adding problem (modern form), RNN, T = 10" in out
    assert re.search(r"trivial baseline \(always predict 1\) +0\.16667", out)
    assert re.search(r"pass line \(LSTM, measured in about 55 s\) +0\.0015", out)
    assert "pass line reached: no" in out and str(out_dir / "learning_curve.png") in out
    assert (out_dir / "learning_curve.png").stat().st_size > 10_000
    result = json.loads((out_dir / "result.json").read_text())
    assert result["settings"]["seq_len"] == 10 and len(result["history"]["loss"]) == 2


def test_default_out_dir_is_under_the_current_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["run", "adding", "--form", "hs", "--seq-len", "20", "--batch-size", "2", "--test-size", "4",
            *TINY]
    assert main(argv) == 0
    assert "test sequences with |error| < 0.04" in capsys.readouterr().out
    assert (tmp_path / "rnnbook-runs" / "adding-lstm-T20-seed0" / "learning_curve.png").exists()


def test_run_charlm_on_a_given_corpus(docs, tmp_path, capsys):
    argv = ["run", "charlm", "--docs", str(docs), "--batch-size", "2", "--chunk-len", "8", "--hidden", "8",
            "--sample-len", "20", "--temperatures", "0.5", "2", "--out", str(tmp_path / "lm"), *TINY]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "validation bits per character" in out and "unigram entropy" in out
    assert "sample at temperature 0.5" in out and "sample at temperature 2.0" in out


def test_charlm_without_pages_is_a_clear_error(tmp_path, capsys):
    assert main(["run", "charlm", "--docs", str(tmp_path / "none"), *TINY]) == 1
    assert "docs_dir: expected a folder of Markdown pages" in capsys.readouterr().err


@pytest.mark.parametrize("name, extra", [
    ("reber", ["--train-size", "4", "--test-size", "4", "--batch-size", "2", "--hidden", "4"]),
    ("sine", ["--seq-len", "12", "--horizon", "3", "--test-size", "4", "--batch-size", "2"]),
    ("sine", ["--seq-len", "12", "--test-size", "4", "--batch-size", "2", "--model", "gru"]),
    ("copy", ["--seq-len", "5", "--test-size", "4", "--batch-size", "2", "--hidden", "4",
              "--forget-bias", "none"]),
    ("dates", ["--test-size", "3", "--batch-size", "2", "--hidden", "4", "--beam-size", "2"]),
    ("numbers", ["--test-size", "4", "--batch-size", "2", "--hidden", "4", "--max-digits", "6",
                 "--attention", "none"]),
    ("scan", ["--seq-len", "6", "--test-size", "4", "--batch-size", "2", "--hidden", "4", "--model", "lru"]),
    ("adding", ["--seq-len", "6", "--test-size", "4", "--batch-size", "2", "--hidden", "4", "--model", "mingru"]),
])
def test_other_experiments_run(name, extra, tmp_path, capsys):
    assert main(["run", name, *extra, "--out", str(tmp_path), *TINY]) == 0
    assert "pass line reached" in capsys.readouterr().out
    assert (tmp_path / "learning_curve.png").exists()
    assert (tmp_path / "forecast.png").exists() == (name == "sine")


@pytest.mark.parametrize("argv, message", [
    (["run", "adding", "--model", "transformer"], "argument --model: invalid choice: 'transformer'"),
    (["run", "sine", "--model", "mingru"], "argument --model: invalid choice: 'mingru'"),
    (["run", "adding", "--steps", "0"], "argument --steps: expected a number >= 1, got 0"),
    (["run", "adding", "--lr", "fast"], "argument --lr: expected a finite number, got 'fast'"),
    (["run", "sine", "--noise", "-1"], "argument --noise: expected a number >= 0, got -1"),
    (["run", "sine", "--lr", "nan"], "argument --lr: expected a finite number, got 'nan'"),
    (["run", "adding", "--forget-bias", "big"], "argument --forget-bias: expected a finite number, got 'big'"),
    (["run", "adding", "--device", "tpu"],
     "argument --device: expected 'cpu', 'cuda' or 'cuda:N', got 'tpu'"),
    (["run", "reber", "--seq-len", "10"], "unrecognized arguments: --seq-len 10"),
    (["run", "nothing"], "argument EXPERIMENT: invalid choice: 'nothing'"),
    ([], "the following arguments are required: command"),
])
def test_bad_arguments_name_the_argument(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_cuda_asked_but_absent(capsys):
    assert main(["run", "adding", "--device", "cuda"]) == 2
    assert "argument --device: got 'cuda', but no CUDA device is available" in capsys.readouterr().err


def test_hs_form_needs_a_long_enough_sequence(capsys):
    assert main(["run", "adding", "--form", "hs", "--seq-len", "10", *TINY]) == 1
    assert "seq_len: expected an integer >= 20, got 10" in capsys.readouterr().err


def test_experiments_are_plain_data_and_documented():
    for name, experiment in experiments.EXPERIMENTS.items():
        assert experiment.name == name and experiment.description and "CPU" in experiment.expected_time
    result = experiments.run_sine(seq_len=8, steps=1, batch_size=2, test_size=2, progress=False)
    assert json.loads(json.dumps(result)) == result
    assert result["passed"] in (True, False)
