"""The command line: ``rnnbook list`` and ``rnnbook run NAME [options]``.

Also reachable as ``python -m rnnbook``. Each experiment's options are read off
the signature of its ``run_*`` function in :mod:`rnnbook.experiments`, with the
same defaults, so the command line and the Python API cannot disagree.

>>> main(["list"])  # doctest: +ELLIPSIS
adding  ...
0
"""

from __future__ import annotations

import argparse
import inspect
import math
import sys
from pathlib import Path


from .experiments import EXPERIMENTS, format_summary, save_figures
from .threads import torch_threads
from .torch_train import resolve_device


def _checked(convert, minimum=None, strict=False):
    """An argparse ``type`` that converts, then checks a lower bound, with a clear message."""
    def parse(text):
        try:
            value = convert(text)
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            kind = "an integer" if convert is int else "a finite number"
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if minimum is not None and (value <= minimum if strict else value < minimum):
            bound = f"{'>' if strict else '>='} {minimum}"
            raise argparse.ArgumentTypeError(f"expected a number {bound}, got {text}")
        return value
    return parse


def _forget_bias(text):
    """An argparse ``type`` for --forget-bias: a number, or 'none' for PyTorch's initialisation."""
    if text.lower() == "none":
        return None
    return _checked(float)(text)


def _device(text):
    """An argparse ``type`` for --device: 'cpu', or 'cuda' when a CUDA device is available."""
    try:
        resolve_device(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("device: ")) from None
    return text


# Every option any experiment takes; an experiment gets those its run function accepts.
OPTIONS = {
    "model": dict(choices=("rnn", "lstm", "gru"), help="recurrent cell"),
    "attention": dict(choices=("additive", "dot", "general", "none"), help="attention score, or none"),
    "beam_size": dict(type=_checked(int, 1), metavar="K", help="beam width"),
    "min_digits": dict(type=_checked(int, 1), metavar="N", help="fewest digits in a number"),
    "max_digits": dict(type=_checked(int, 1), metavar="N", help="most digits in a number"),
    "seq_len": dict(type=_checked(int, 1), metavar="T", help="sequence length (copy: the delay)"),
    "form": dict(choices=("modern", "hs"), help="modern (a marker in each half) or H&S 1997's original"),
    "steps": dict(type=_checked(int, 1), metavar="N", help="training steps (batches)"),
    "hidden": dict(type=_checked(int, 1), metavar="H", help="hidden units"),
    "forget_bias": dict(type=_forget_bias, metavar="BIAS",
                        help="LSTM only: initial forget-gate bias, or 'none' for PyTorch's initialisation"),
    "lr": dict(type=_checked(float, 0, strict=True), help="Adam learning rate"),
    "batch_size": dict(type=_checked(int, 1), metavar="B", help="sequences per batch"),
    "chunk_len": dict(type=_checked(int, 1), metavar="K", help="truncated BPTT chunk length"),
    "clip": dict(type=_checked(float, 0), help="gradient-norm clipping threshold (0: no clipping)"),
    "eval_every": dict(type=_checked(int, 1), metavar="N", help="steps between evaluations"),
    "train_size": dict(type=_checked(int, 1), metavar="N", help="training strings"),
    "test_size": dict(type=_checked(int, 1), metavar="N", help="test sequences"),
    "horizon": dict(type=_checked(int, 1), metavar="K", help="future values predicted at each step"),
    "noise": dict(type=_checked(float, 0), help="standard deviation of the observation noise"),
    "docs": dict(type=Path, metavar="DIR",
                 help="folder of Markdown pages (default: the book's text, shipped with the package)"),
    "language": dict(choices=("it", "en", "both"), help="pages to read: Italian, English or both"),
    "sample_len": dict(type=_checked(int, 0), metavar="N", help="characters per sample"),
    "temperatures": dict(type=_checked(float, 0, strict=True), nargs="+", metavar="TEMP",
                         help="sampling temperatures (> 0)"),
    "direction": dict(choices=("uni", "bi", "bag"),
                      help="one direction, two (bidirectional), or a bag of embeddings (no order)"),
    "task": dict(choices=("classify", "tag"), help="one label per sentence, or one per token"),
    "num_layers": dict(type=_checked(int, 1), metavar="L", help="stacked recurrent layers"),
    "max_chars": dict(type=_checked(int, 20), metavar="N", help="characters kept of each sentence"),
    "seed": dict(type=_checked(int, 0), help="random seed (data, initialisation)"),
    "device": dict(type=_device, help="'cpu' or 'cuda'"),
}


def _add_experiment(subparsers, experiment):
    """A ``run NAME`` parser whose options and defaults come from ``experiment.run``."""
    parser = subparsers.add_parser(
        experiment.name, help=experiment.description,
        description=f"{experiment.description}. Expected time: {experiment.expected_time}.")
    for name, param in inspect.signature(experiment.run).parameters.items():
        if name in OPTIONS:
            option = dict(OPTIONS[name])
            if name == "model":
                option["choices"] = experiment.models
            if "default" not in option["help"]:
                option["help"] += " (default: %(default)s)"
            parser.add_argument("--" + name.replace("_", "-"), default=param.default, **option)
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where to save the figures and result.json "
                             "(default: ./rnnbook-runs/NAME-MODEL-...)")
    parser.add_argument("--threads", type=_checked(int, 1), default=1, metavar="N",
                        help="CPU threads for PyTorch (default: 1, the fastest for these small nets, "
                             "and much faster than 2 when other programs share the CPU)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(experiment=experiment)


def build_parser():
    """The ``rnnbook`` argument parser.

    >>> build_parser().parse_args(["run", "adding", "--seq-len", "50"]).seq_len
    50
    """
    parser = argparse.ArgumentParser(
        prog="rnnbook", description="Run the experiments of the rnnbook textbook on recurrent networks.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the book's experiments")
    run = commands.add_parser("run", help="run one experiment", description="Run one experiment.")
    names = run.add_subparsers(dest="name", required=True, metavar="EXPERIMENT")
    for experiment in EXPERIMENTS.values():
        _add_experiment(names, experiment)
    return parser


def default_out_dir(name, kwargs):
    """``rnnbook-runs/NAME-MODEL[-TN]-seedS`` under the current directory.

    >>> default_out_dir("adding", {"model": "lstm", "seq_len": 100, "seed": 0}).as_posix()
    'rnnbook-runs/adding-lstm-T100-seed0'
    """
    parts = [name, kwargs["model"]] + ([f"T{kwargs['seq_len']}"] if "seq_len" in kwargs else [])
    parts += [kwargs["attention"]] if "attention" in kwargs else []
    parts += [kwargs[key] for key in ("task", "direction") if key in kwargs]
    return Path("rnnbook-runs") / "-".join(parts + [f"seed{kwargs['seed']}"])


def _run(args):
    """Run the chosen experiment, print its summary and where the figures went."""
    experiment = args.experiment
    kwargs = {name: getattr(args, name) for name in inspect.signature(experiment.run).parameters
              if name in OPTIONS}
    if "temperatures" in kwargs:
        kwargs["temperatures"] = tuple(kwargs["temperatures"])
    with torch_threads(args.threads):
        result = experiment.run(**kwargs, progress=not args.no_progress)
    print(format_summary(result))
    for temperature, text in result.get("samples", {}).items():
        print(f"\n--- sample at temperature {temperature} ---\n{text}")
    paths = save_figures(result, args.out or default_out_dir(experiment.name, kwargs))
    print("\nsaved: " + ", ".join(str(p) for p in paths))


def main(argv=None):
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command, return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage and the error
        return int(exit_.code or 0)
    if args.command == "list":
        width = max(map(len, EXPERIMENTS))
        for name, experiment in EXPERIMENTS.items():
            print(f"{name:<{width}}  {experiment.description}")
        return 0
    try:
        _run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"rnnbook run {args.name}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
