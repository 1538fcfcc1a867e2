"""Tests of the command line and the experiments behind it, with tiny runs."""

import json
import math
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import rnnbook
from rnnbook import experiments, torch_train
from rnnbook.__main__ import build_parser, main

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
    for name in ("adding", "charlm", "reber", "sine"):
        assert f"\n{name} " in "\n" + out


def test_python_dash_m(tmp_path):
    done = subprocess.run([sys.executable, "-m", "rnnbook", "list"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and "adding" in done.stdout


def test_help_states_no_guessed_time_and_what_seq_len_means(capsys):
    assert main(["run", "adding", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "time" not in out.lower() and "minute" not in out
    assert "--seq-len T sequence length T: the markers fall in it" in out and "(default: 100)" in out
    assert main(["run", "sine", "--help"]) == 0
    assert "steps of each series the model reads" in " ".join(capsys.readouterr().out.split())


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == f"rnnbook {rnnbook.__version__}\n"


def test_run_adding_end_to_end(tmp_path, capsys):
    out_dir = tmp_path / "run"
    argv = [
        "run",
        "adding",
        "--model",
        "rnn",
        "--seq-len",
        "10",
        "--batch-size",
        "4",
        "--test-size",
        "8",
        "--out",
        str(out_dir),
        *TINY,
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Adding problem (modern form), RNN, T = 10" in out
    assert re.search(r"trivial baseline \(always predict 1\) +0\.16667", out)
    assert re.search(r"pass line \(reached by an LSTM with the defaults\) +0\.0015", out)
    assert "pass line reached: no" in out and str(out_dir / "learning_curve.png") in out
    assert (out_dir / "learning_curve.png").stat().st_size > 10_000
    result = json.loads((out_dir / "result.json").read_text())
    assert result["settings"]["seq_len"] == 10 and len(result["history"]["loss"]) == 2


def test_default_out_dir_is_under_the_current_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["run", "adding", "--form", "hs", "--seq-len", "20", "--batch-size", "2", "--test-size", "4", *TINY]
    assert main(argv) == 0
    assert "test sequences with |error| < 0.04" in capsys.readouterr().out
    runs = tmp_path / "rnnbook-runs"
    name = "adding-lstm-seq_len=20-form=hs-steps=2-batch_size=2-eval_every=1-test_size=4-seed0"
    assert (runs / name / "learning_curve.png").exists()
    assert main(argv) == 0  # the same settings again: a new folder, the first run kept
    assert (runs / (name + "-2") / "result.json").exists() and (runs / name / "result.json").exists()


def test_runs_differing_in_one_setting_get_their_own_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for horizon in ("1", "10"):
        assert main(["run", "sine", "--seq-len", "12", "--horizon", horizon, *TINY]) == 0
    names = sorted(p.name for p in (tmp_path / "rnnbook-runs").iterdir())
    assert names == [
        "sine-lstm-seq_len=12-horizon=10-steps=2-eval_every=1-seed0",
        "sine-lstm-seq_len=12-steps=2-eval_every=1-seed0",
    ]


def test_out_is_checked_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(experiments, "train", None)  # training would fail: it must not start
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    assert main(["run", "sine", "--out", str(a_file), *TINY]) == 2
    assert f"argument --out: expected a folder, got the existing file '{a_file}'" in capsys.readouterr().err
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "result.json").write_text("{}")
    assert main(["run", "sine", "--out", str(tmp_path / "old"), *TINY]) == 2
    assert "already holds a run (result.json)" in capsys.readouterr().err
    assert a_file.read_text() == "mine" and (tmp_path / "old" / "result.json").read_text() == "{}"


def test_ctrl_c_saves_the_steps_done_and_exits_cleanly(tmp_path, capsys, monkeypatch):
    real_step = torch_train.train_step
    calls = []

    def interrupted_at_the_third_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # what Ctrl-C raises in the main thread
        return real_step(*args, **kwargs)

    monkeypatch.setattr(torch_train, "train_step", interrupted_at_the_third_step)
    argv = [
        "run",
        "sine",
        "--seq-len",
        "12",
        "--steps",
        "50",
        "--eval-every",
        "100",
        "--no-progress",
        "--out",
        str(tmp_path / "run"),
    ]
    assert main(argv) == 130
    captured = capsys.readouterr()
    assert "2 steps in" in captured.out and "(interrupted)" in captured.out
    assert "interrupted; saved the steps done" in captured.err and "Traceback" not in captured.err
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert len(result["history"]["loss"]) == 2 and result["history"]["eval"][-1]["step"] == 2


def test_ctrl_c_before_the_first_step_saves_nothing(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch_train, "train_step", interrupted)
    assert main(["run", "sine", "--seq-len", "12", *TINY, "--out", str(tmp_path / "run")]) == 130
    assert "nothing to save" in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_run_charlm_on_a_given_corpus(docs, tmp_path, capsys):
    argv = [
        "run",
        "charlm",
        "--docs",
        str(docs),
        "--batch-size",
        "2",
        "--chunk-len",
        "8",
        "--hidden",
        "8",
        "--sample-len",
        "20",
        "--temperatures",
        "0.5",
        "2",
        "--out",
        str(tmp_path / "lm"),
        *TINY,
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "validation bits per character" in out and "unigram entropy" in out
    assert "sample at temperature 0.5" in out and "sample at temperature 2.0" in out


def test_charlm_without_pages_is_a_clear_error(tmp_path, capsys):
    assert main(["run", "charlm", "--docs", str(tmp_path / "none"), *TINY]) == 2
    assert "argument --docs: expected a folder of Markdown pages" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, extra",
    [
        ("reber", ["--train-size", "4", "--test-size", "4", "--batch-size", "2", "--hidden", "4"]),
        ("sine", ["--seq-len", "12", "--horizon", "3", "--test-size", "4", "--batch-size", "2"]),
        ("sine", ["--seq-len", "12", "--test-size", "4", "--batch-size", "2", "--model", "gru"]),
        ("dates", ["--test-size", "3", "--batch-size", "2", "--hidden", "4", "--beam-size", "2"]),
        (
            "numbers",
            ["--test-size", "4", "--batch-size", "2", "--hidden", "4", "--max-digits", "6", "--attention", "none"],
        ),
        ("scan", ["--seq-len", "6", "--test-size", "4", "--batch-size", "2", "--hidden", "4", "--model", "lru"]),
        ("adding", ["--seq-len", "6", "--test-size", "4", "--batch-size", "2", "--hidden", "4", "--model", "mingru"]),
        ("sine", ["--seq-len", "12", "--test-size", "4", "--batch-size", "2", "--forget-bias", "none"]),
    ],
)
def test_other_experiments_run(name, extra, tmp_path, capsys):
    assert main(["run", name, *extra, "--out", str(tmp_path), *TINY]) == 0
    assert "pass line reached" in capsys.readouterr().out
    assert (tmp_path / "learning_curve.png").exists()
    assert (tmp_path / "forecast.png").exists() == (name == "sine")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "adding", "--model", "transformer"], "argument --model: invalid choice: 'transformer'"),
        (["run", "sine", "--model", "mingru"], "argument --model: invalid choice: 'mingru'"),
        (["run", "adding", "--steps", "0"], "argument --steps: expected a number >= 1, got 0"),
        (["run", "adding", "--lr", "fast"], "argument --lr: expected a finite number, got 'fast'"),
        (["run", "sine", "--noise", "-1"], "argument --noise: expected a number >= 0, got -1"),
        (["run", "sine", "--lr", "nan"], "argument --lr: expected a finite number, got 'nan'"),
        (
            ["run", "adding", "--forget-bias", "big"],
            "argument --forget-bias: expected a finite number or 'none', got 'big'",
        ),
        (
            ["run", "adding", "--model", "rnn", "--forget-bias", "2"],
            "argument --forget-bias: only the LSTM has a forget gate, got --model rnn",
        ),
        (
            ["run", "sine", "--model", "gru", "--forget-bias", "none"],
            "argument --forget-bias: only the LSTM has a forget gate, got --model gru",
        ),
        (["run", "sine", "--seq-len", "1"], "argument --seq-len: expected an integer >= 2, got 1"),
        (["run", "adding", "--seq-len", "1"], "argument --seq-len: expected an integer >= 2, got 1"),
        (["run", "copy"], "argument EXPERIMENT: invalid choice: 'copy'"),
        (["run", "adding", "--device", "tpu"], "argument --device: expected 'cpu', 'cuda' or 'cuda:N', got 'tpu'"),
        (["run", "reber", "--seq-len", "10"], "unrecognized arguments: --seq-len 10"),
        (["run", "nothing"], "argument EXPERIMENT: invalid choice: 'nothing'"),
        ([], "the following arguments are required: command"),
    ],
)
def test_bad_arguments_name_the_argument(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_cuda_asked_but_absent(capsys):
    assert main(["run", "adding", "--device", "cuda"]) == 2
    assert "argument --device: got 'cuda', but no CUDA device is available" in capsys.readouterr().err


def test_hs_form_needs_a_long_enough_sequence(capsys):
    assert main(["run", "adding", "--form", "hs", "--seq-len", "10", *TINY]) == 2
    assert "argument --seq-len: expected an integer >= 20, got 10" in capsys.readouterr().err


def test_experiments_are_plain_data_and_documented():
    for name, experiment in experiments.EXPERIMENTS.items():
        assert experiment.name == name and experiment.description
    result = experiments.run_sine(seq_len=8, steps=1, batch_size=2, test_size=2, progress=False)
    assert json.loads(json.dumps(result)) == result
    assert result["passed"] in (True, False)


# One step of training must never pass: each pass line is at least the strongest simple baseline.
ONE_STEP = [
    ("adding", {}),
    ("adding", {"form": "hs"}),
    ("adding", {"model": "rnn", "seq_len": 2}),
    ("reber", {}),
    ("charlm", {}),
    ("sine", {}),
    ("sine", {"horizon": 10}),
    ("sine", {"noise": 0.0}),
    ("sine", {"horizon": 10, "noise": 0.0}),
    ("sine", {"model": "rnn", "horizon": 3, "seq_len": 20}),
    ("scan", {}),
    ("scan", {"model": "lru"}),
    ("adding", {"model": "mingru", "seq_len": 2}),
    ("negation", {}),
    ("negation", {"direction": "bag", "task": "classify"}),
    ("negation", {"direction": "uni", "task": "classify"}),
    ("langid", {}),
    ("langid", {"direction": "bag"}),
    ("dates", {"test_size": 50}),
    ("numbers", {}),
    ("numbers", {"attention": "none"}),
    ("ssm", {}),
    ("ssm", {"model": "lti"}),
    ("ssm", {"model": "mlstm"}),
    ("recall", {}),
    ("recall", {"model": "mlstm"}),
    ("recall", {"model": "lstm"}),
]


@pytest.mark.parametrize("name, settings", ONE_STEP, ids=[f"{n}-{s}" for n, s in ONE_STEP])
def test_one_step_of_training_does_not_pass(name, settings):
    for seed in (0, 1):
        run = experiments.EXPERIMENTS[name].run
        result = run(**settings, steps=1, eval_every=1, seed=seed, progress=False)
        assert result["passed"] is False, result["summary"]


def test_every_experiment_is_checked_after_one_step():
    assert {name for name, _ in ONE_STEP} == set(experiments.EXPERIMENTS)


def test_the_sine_pass_line_is_the_strongest_simple_baseline():
    result = experiments.run_sine(horizon=10, steps=1, eval_every=1, progress=False)
    metrics = result["metrics"]
    baselines = [metrics["persistence_mse"], metrics["mean_mse"], metrics["linear_ar_mse"]]
    assert metrics["pass_line"] == min(baselines) < metrics["mean_mse"] < metrics["persistence_mse"]


# An accuracy's pass line: the strongest simple baseline (every line drawn but the pass line) + 1/sqrt(n).
ACCURACY = [
    ("negation", {}, 1000),
    ("negation", {"task": "classify"}, 1000),
    ("ssm", {}, 500),
    ("dates", {"test_size": 50}, 50),
    ("numbers", {}, 500),
]


@pytest.mark.parametrize("name, settings, n", ACCURACY, ids=[f"{n}-{s}" for n, s, _ in ACCURACY])
def test_an_accuracy_pass_line_is_the_strongest_simple_baseline_and_a_margin(name, settings, n):
    result = experiments.EXPERIMENTS[name].run(**settings, steps=1, eval_every=1, progress=False)
    baselines = dict(result["lines"])
    pass_line = baselines.pop("pass line")
    assert pass_line == pytest.approx(max(baselines.values()) + 1 / math.sqrt(n))
    assert result["metrics"]["pass_line"] == pass_line
    assert f"pass line (the best of these + 1/sqrt({n}))" in result["summary"]


def test_the_langid_pass_line_asks_to_match_the_bag_of_characters_and_says_so():
    result = experiments.run_langid(steps=1, eval_every=1, progress=False)
    lines, n = result["lines"], result["test_size"]
    assert lines["bag of characters"] > lines["best constant answer"] + 2 / math.sqrt(n)
    assert lines["pass line"] == pytest.approx(lines["bag of characters"] - 1 / math.sqrt(n))
    assert "not expected to beat the bag of characters" in result["summary"]["note"]


def test_the_numbers_summary_shows_the_exact_lookup_table_beside_the_pass_line():
    result = experiments.run_numbers(steps=1, eval_every=1, test_size=20, progress=False)
    assert result["metrics"]["lookup_table"] == 1.0
    assert result["summary"]["word-by-word lookup (exact: not to be beaten)"] == "100.0%"


# Every `rnnbook` command the README and the pages show, run with tiny settings.
ROOT = Path(__file__).resolve().parents[1]
SHOWN = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
TINY_FOR = {
    "adding": ["--test-size", "4", "--batch-size", "2"],
    "charlm": ["--batch-size", "2", "--chunk-len", "8", "--hidden", "4", "--sample-len", "5"],
    "reber": ["--train-size", "4", "--test-size", "4", "--batch-size", "2", "--hidden", "4"],
    "sine": ["--test-size", "4", "--batch-size", "2"],
    "scan": ["--seq-len", "6", "--test-size", "4", "--batch-size", "2", "--hidden", "4"],
    "negation": ["--train-size", "8", "--test-size", "4", "--batch-size", "2", "--hidden", "4"],
    "langid": ["--batch-size", "2", "--hidden", "4"],
    "dates": ["--test-size", "3", "--batch-size", "2", "--hidden", "4", "--beam-size", "2"],
    "numbers": ["--test-size", "4", "--batch-size", "2", "--hidden", "4", "--max-digits", "6"],
    "ssm": ["--seq-len", "12", "--test-size", "4", "--batch-size", "2", "--hidden", "4"],
    "recall": ["--seq-len", "12", "--test-size", "4", "--batch-size", "2", "--hidden", "4"],
}


def shown_commands():
    """(page, command) for each `rnnbook ...` line of a bash/console block and each `rnnbook run` inline."""
    found = set()
    for path in SHOWN:
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"^```(?:bash|console)\n(.*?)^```", text, flags=re.M | re.S):
            for line in block.splitlines():
                command = line.removeprefix("$ ").split(" #")[0].strip()
                if command.startswith("rnnbook "):
                    found.add((path.relative_to(ROOT).as_posix(), command))
        for command in re.findall(r"`(rnnbook (?:run|list)[^`]*)`", text):
            if "NAME" not in command and "NOME" not in command:
                found.add((path.relative_to(ROOT).as_posix(), command))
    return sorted(found)


def test_the_pages_show_one_way_to_run_the_experiments():
    """`rnnbook ...` after `source .venv/bin/activate`: never `python -m rnnbook` or `.venv/bin/...`."""
    for path in SHOWN:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"python -m rnnbook\b(?!\.)", text) and ".venv/bin/rnnbook" not in text, path
    assert len(shown_commands()) >= 10


@pytest.mark.parametrize("page, command", shown_commands())
def test_every_command_the_pages_show_runs(page, command, docs, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(command)[1:]
    if argv[0] == "run" and "--help" not in argv:
        name = argv[1]
        argv += [*TINY_FOR[name], *TINY] + (["--docs", str(docs)] if name == "charlm" else [])
    assert main(argv) == 0, capsys.readouterr().err
