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

from . import __version__
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
    try:
        return _checked(float)(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a finite number or 'none', got {text!r}") from None


def _device(text):
    """An argparse ``type`` for --device: 'cpu', or 'cuda' when a CUDA device is available."""
    try:
        resolve_device(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("device: ")) from None
    return text


class _Given(argparse.Action):
    """Store the value and note that it was given (``NAME_given``), to tell it from the default."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        setattr(namespace, self.dest + "_given", True)


# Every option any experiment takes; an experiment gets those its run function accepts,
# with the help of HELP[experiment][option] where an option means something particular.
OPTIONS = {
    "model": dict(choices=("rnn", "lstm", "gru"), help="recurrent cell"),
    "attention": dict(choices=("additive", "dot", "general", "none"), help="attention score, or none"),
    "beam_size": dict(type=_checked(int, 1), metavar="K", help="beam width"),
    "min_digits": dict(type=_checked(int, 1), metavar="N", help="fewest digits in a number"),
    "max_digits": dict(type=_checked(int, 1), metavar="N", help="most digits in a number"),
    "seq_len": dict(type=_checked(int, 1), metavar="T", help="sequence length"),
    "form": dict(choices=("modern", "hs"), help="modern (a marker in each half) or H&S 1997's original"),
    "steps": dict(type=_checked(int, 1), metavar="N", help="training steps (batches)"),
    "hidden": dict(type=_checked(int, 1), metavar="H", help="hidden units"),
    "forget_bias": dict(
        type=_forget_bias,
        action=_Given,
        metavar="BIAS",
        help="LSTM only: initial forget-gate bias, or 'none' for PyTorch's initialisation",
    ),
    "lr": dict(type=_checked(float, 0, strict=True), help="Adam learning rate"),
    "batch_size": dict(type=_checked(int, 1), metavar="B", help="sequences per batch"),
    "chunk_len": dict(type=_checked(int, 1), metavar="K", help="truncated BPTT chunk length"),
    "clip": dict(type=_checked(float, 0), help="gradient-norm clipping threshold (0: no clipping)"),
    "eval_every": dict(type=_checked(int, 1), metavar="N", help="steps between evaluations"),
    "train_size": dict(type=_checked(int, 1), metavar="N", help="training strings"),
    "test_size": dict(type=_checked(int, 1), metavar="N", help="test sequences"),
    "horizon": dict(type=_checked(int, 1), metavar="K", help="future values predicted at each step"),
    "noise": dict(type=_checked(float, 0), help="standard deviation of the observation noise"),
    "docs": dict(
        type=Path, metavar="DIR", help="folder of Markdown pages (default: the book's text, shipped with the package)"
    ),
    "language": dict(choices=("it", "en", "both"), help="pages to read: Italian, English or both"),
    "sample_len": dict(type=_checked(int, 0), metavar="N", help="characters per sample"),
    "temperatures": dict(
        type=_checked(float, 0, strict=True), nargs="+", metavar="TEMP", help="sampling temperatures (> 0)"
    ),
    "direction": dict(
        choices=("uni", "bi", "bag"), help="one direction, two (bidirectional), or a bag of embeddings (no order)"
    ),
    "task": dict(choices=("classify", "tag"), help="one label per sentence, or one per token"),
    "num_layers": dict(type=_checked(int, 1), metavar="L", help="stacked recurrent layers"),
    "max_chars": dict(type=_checked(int, 20), metavar="N", help="characters kept of each sentence"),
    "seed": dict(type=_checked(int, 0), help="random seed (data, initialisation)"),
    "device": dict(type=_device, help="'cpu' or 'cuda'"),
}


HELP = {
    "adding": {
        "seq_len": "sequence length T: the markers fall in it, the answer comes at its end",
        "model": "recurrent cell (one layer), or two minGRU or LRU layers trained through the scan",
    },
    "scan": {
        "seq_len": "sequence length T of the adding problem: the markers fall in it",
        "model": "two minGRU or LRU layers trained through the scan, or one LSTM or GRU layer",
    },
    "sine": {"seq_len": "steps of each series the model reads (a forecast at every step)"},
    "negation": {
        "language": "language of the generated sentences: Italian, English or both",
        "train_size": "training sentences",
        "test_size": "test sentences",
        "hidden": "hidden units (unused by the bag of embeddings)",
    },
    "langid": {
        "hidden": "hidden units (unused by the bag of characters)",
        "docs": "folder of Markdown pages whose sentences are classified (default: the book's text)",
    },
    "dates": {"test_size": "test dates"},
    "numbers": {"language": "language of the digit words (it or en)", "test_size": "test numbers"},
    "ssm": {
        "seq_len": "sequence length T: the symbols to copy are scattered in it among noise",
        "model": "the residual layers (--num-layers): LSTM, time-invariant SSM (lti), selective SSM (s6) or mLSTM",
    },
    "recall": {
        "seq_len": "steps after the key-value pairs: each key comes back once among them",
        "model": "the residual layers (--num-layers): LSTM, time-invariant SSM (lti), selective SSM (s6) or mLSTM",
    },
}


def _add_experiment(subparsers, experiment):
    """A ``run NAME`` parser whose options and defaults come from ``experiment.run``."""
    parser = subparsers.add_parser(
        experiment.name, help=experiment.description, description=f"{experiment.description}."
    )
    for name, param in inspect.signature(experiment.run).parameters.items():
        if name in OPTIONS:
            option = dict(OPTIONS[name])
            if name == "model":
                option["choices"] = experiment.models
            option["help"] = HELP.get(experiment.name, {}).get(name, option["help"]) + " (default: %(default)s)"
            parser.add_argument("--" + name.replace("_", "-"), default=param.default, **option)
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="an empty or new folder for the figures and result.json (default: "
        "./rnnbook-runs/ named after the experiment and every setting you changed; "
        "-2, -3, ... appended if that folder exists)",
    )
    parser.add_argument(
        "--threads",
        type=_checked(int, 1),
        default=1,
        metavar="N",
        help="CPU threads for PyTorch (default: 1, the fastest for these small nets, "
        "and much faster than 2 when other programs share the CPU)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(experiment=experiment, run_parser=parser)


def build_parser():
    """The ``rnnbook`` argument parser.

    >>> build_parser().parse_args(["run", "adding", "--seq-len", "50"]).seq_len
    50
    """
    parser = argparse.ArgumentParser(
        prog="rnnbook", description="Run the experiments of the rnnbook textbook on recurrent networks."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the book's experiments")
    run = commands.add_parser("run", help="run one experiment", description="Run one experiment.")
    names = run.add_subparsers(dest="name", required=True, metavar="EXPERIMENT")
    for experiment in EXPERIMENTS.values():
        _add_experiment(names, experiment)
    return parser


def default_out_dir(name, kwargs, defaults):
    """``rnnbook-runs/NAME-MODEL[-SETTING=VALUE...]-seedS``: every setting that differs from ``defaults``.

    >>> default_out_dir("sine", {"model": "lstm", "horizon": 10, "seed": 0},
    ...                 {"model": "lstm", "horizon": 1, "seed": 0}).as_posix()
    'rnnbook-runs/sine-lstm-horizon=10-seed0'
    """

    def text(value):
        if isinstance(value, (list, tuple)):
            return ",".join(map(str, value))
        return Path(value).name if isinstance(value, Path) else str(value)

    changed = [
        f"{key}={text(value)}"
        for key, value in kwargs.items()
        if key not in ("model", "seed", "device") and value != defaults[key]
    ]
    return Path("rnnbook-runs") / "-".join([name, kwargs["model"], *changed, f"seed{kwargs['seed']}"])


def _unused(folder):
    """``folder``, or the first of ``folder-2``, ``folder-3``, ... that does not exist."""
    candidate, n = folder, 1
    while candidate.exists():
        n += 1
        candidate = folder.with_name(f"{folder.name}-{n}")
    return candidate


def _destination(parser, args, kwargs):
    """Where the run is saved, checked before training: never overwrite a run or a file."""
    if args.out is None:
        defaults = {name: p.default for name, p in inspect.signature(args.experiment.run).parameters.items()}
        return _unused(default_out_dir(args.experiment.name, kwargs, defaults))
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: expected a folder, got the existing file {str(args.out)!r}")
    if (args.out / "result.json").exists():
        parser.error(
            f"argument --out: {str(args.out)!r} already holds a run (result.json); "
            "choose another folder or delete that one"
        )
    return args.out


def _usage_error(parser, error):
    """Exit 2 with argparse's message; ``seq_len: ...`` from the experiment names the option ``--seq-len``."""
    message = str(error)
    name, colon, rest = message.partition(": ")
    name = {"docs_dir": "docs"}.get(name, name)
    if colon and name in OPTIONS:
        message = f"argument --{name.replace('_', '-')}: {rest}"
    parser.error(message)


def _run(parser, args):
    """Run the chosen experiment, print its summary and where the figures went; the exit code."""
    experiment = args.experiment
    kwargs = {name: getattr(args, name) for name in inspect.signature(experiment.run).parameters if name in OPTIONS}
    if "temperatures" in kwargs:
        kwargs["temperatures"] = tuple(kwargs["temperatures"])
    if getattr(args, "forget_bias_given", False) and kwargs["model"] != "lstm":
        parser.error(f"argument --forget-bias: only the LSTM has a forget gate, got --model {kwargs['model']}")
    out = _destination(parser, args, kwargs)
    try:
        with torch_threads(args.threads):
            result = experiment.run(**kwargs, progress=not args.no_progress)
    except (ValueError, FileNotFoundError) as error:
        _usage_error(parser, error)
    except KeyboardInterrupt:
        print(f"rnnbook run {experiment.name}: interrupted before the first step; nothing to save", file=sys.stderr)
        return 130
    print(format_summary(result))
    for temperature, text in result.get("samples", {}).items():
        print(f"\n--- sample at temperature {temperature} ---\n{text}")
    paths = save_figures(result, out)
    print("\nsaved: " + ", ".join(str(p) for p in paths))
    if result["history"].get("interrupted"):
        print(f"rnnbook run {experiment.name}: interrupted; saved the steps done", file=sys.stderr)
        return 130
    return 0


def main(argv=None):
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command, return the exit code.

    A wrong argument, also one found by the experiment before it trains, exits with 2;
    Ctrl-C during training saves what was computed and exits with 130.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "list":
            width = max(map(len, EXPERIMENTS))
            for name, experiment in EXPERIMENTS.items():
                print(f"{name:<{width}}  {experiment.description}")
            return 0
        return _run(args.run_parser, args)
    except SystemExit as exit_:  # argparse has printed the usage and the error
        return int(exit_.code or 0)


if __name__ == "__main__":
    sys.exit(main())
