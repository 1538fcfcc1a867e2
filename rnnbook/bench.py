"""Benchmark: the numpy models against PyTorch on the same work.

    python -m rnnbook.bench [--model lstm] [--repeat 9] [--dtype float32 float64] [--quick]
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python -m rnnbook.bench --clock thread

For each size (B, D, H, T) and dtype, both sides run forward and full BPTT with
the same weights and the same loss L = Σ_t <dhs_t, h_t>: numpy with ``forward``
and ``backward``, PyTorch with ``nn.LSTM`` (or ``nn.RNN``/``nn.GRU``) and
autograd, computing the same gradients (weights, inputs, initial state). The two
runs alternate in one process (A, B, A, B, ...) so that a busy machine slows both
alike, and the table reports medians and the ratio numpy/torch.

On a machine shared with other work, elapsed times swing widely, and libraries
that synchronise threads at every step suffer most. The second command line above
gives both sides one thread and counts the CPU time of that thread only, which
other processes do not inflate.

At the largest size it also measures the machine's matmul speed with numpy
(the best of a few representative shapes, same dtype) and the fraction of it
that the numpy model reaches, counting the matrix products of forward and
backward: 6·T·B·G·H·(D + H) flops (forward: the input and recurrent products;
backward: the recurrent product, the two weight gradients and the input gradient).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

from rnnbook import gru, lstm, rnn
from rnnbook._validate import check_int
from rnnbook.threads import BLAS_THREAD_VARIABLES

MODELS = {"rnn": rnn, "lstm": lstm, "gru": gru}
SIZES = [(1, 32, 64, 100), (32, 64, 128, 50), (64, 128, 256, 100)]  # (B, D, H, T)
PEAK_SIZE = (128, 256, 512, 100)
QUICK_SIZES = [(2, 3, 4, 5)]
QUICK_PEAK_SIZE = (4, 8, 16, 5)
TARGETS = {  # issue 3, LSTM: the largest ratio numpy/torch allowed
    ("float32", (32, 64, 128, 50)): 1.5,
    ("float32", (64, 128, 256, 100)): 1.1,
    ("float64", (32, 64, 128, 50)): 1.0,
    ("float64", (64, 128, 256, 100)): 1.0,
}
PEAK_TARGET = 0.60
CLOCKS = {"wall": time.perf_counter, "thread": time.thread_time}


def matmul_flops(model, B, D, H, T):
    """Flops of the matrix products in forward + backward: 6·T·B·G·H·(D + H)."""
    return 6 * T * B * model.Params.G * H * (D + H)


def problem(model, B, D, H, T, dtype, seed=0):
    """Random weights, inputs xs (T, B, D) and output gradients dhs (T, B, H)."""
    rng = np.random.default_rng(seed)
    params = model.init(D, H, rng=rng, dtype=dtype)
    xs = rng.standard_normal((T, B, D)).astype(dtype)
    dhs = rng.standard_normal((T, B, H)).astype(dtype)
    return params, xs, dhs


def numpy_runner(model, params, xs, dhs):
    """A function running the numpy forward + backward from a zero state."""
    _, B, _ = xs.shape
    zeros = np.zeros((B, params.hidden_size), dtype=xs.dtype)
    state = (zeros, zeros) if model is lstm else zeros

    def run_numpy():
        hs, _, cache = model.forward(xs, state, params)
        return model.backward(dhs, cache)

    return run_numpy


def torch_runner(model, params, xs, dhs):
    """A function running the same work with the torch module and autograd; and the module."""
    import torch

    _, B, _ = xs.shape
    module = params.to_torch()
    xs_t = torch.from_numpy(xs).requires_grad_()
    dhs_t = torch.from_numpy(dhs)
    n_states = 2 if model is lstm else 1
    states = tuple(torch.zeros(1, B, params.hidden_size, dtype=xs_t.dtype, requires_grad=True) for _ in range(n_states))

    def run_torch():
        module.zero_grad(set_to_none=True)
        for tensor in (xs_t, *states):
            tensor.grad = None
        hs, _ = module(xs_t, states if model is lstm else states[0])
        hs.backward(dhs_t)

    return run_torch, module


def make_work(model, B, D, H, T, dtype, seed=0):
    """Two functions doing the same forward + backward, in numpy and in PyTorch.

    Returns ``(run_numpy, run_torch, difference)``; ``difference`` is the largest
    relative difference between the two W_hh gradients (a check that both sides
    compute the same thing).
    """
    params, xs, dhs = problem(model, B, D, H, T, dtype, seed)
    run_numpy = numpy_runner(model, params, xs, dhs)
    run_torch, module = torch_runner(model, params, xs, dhs)
    grads, _, _ = run_numpy()
    run_torch()
    reference = module.weight_hh_l0.grad.numpy()
    difference = float(np.max(np.abs(grads.W_hh - reference)) / np.max(np.abs(reference)))
    return run_numpy, run_torch, difference


def alternate(runs, repeat, warmup=1, clock=time.perf_counter):
    """Time functions in turn (A, B, A, B, ...); return their median times in seconds."""
    for _ in range(warmup):
        for run in runs:
            run()
    times = [[] for _ in runs]
    for _ in range(repeat):
        for run, record in zip(runs, times):
            start = clock()
            run()
            record.append(clock() - start)
    return [statistics.median(record) for record in times]


def matmul_runners(model, B, D, H, T, dtype):
    """Numpy matrix products of representative shapes, to measure the machine's peak.

    The shapes (m, k, n) are the model's own at this size, the per-step recurrent
    product (B, H) @ (H, G·H) and a weight gradient (G·H, T·B) @ (T·B, H), and a
    square one of side G·H. Returns ``{(m, k, n): (run, flops of one run)}``; a
    run repeats its product to reach about 2 GFLOP.
    """
    G = model.Params.G
    rng = np.random.default_rng(0)
    runners = {}
    for m, k, n in [(B, H, G * H), (G * H, T * B, H), (G * H, G * H, G * H)]:
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        reps = max(1, min(1000, round(2e9 / (2 * m * k * n))))

        def run(a=a, b=b, reps=reps):
            for _ in range(reps):
                a @ b

        runners[(m, k, n)] = (run, 2 * m * k * n * reps)
    return runners


def peak_fraction(model, size, dtype, repeat, clock=time.perf_counter):
    """The numpy model's matmul GFLOP/s at ``size`` and the machine's peak, timed in turn.

    Returns ``(seconds, achieved, peak, shape)``: the median time of forward +
    backward, its GFLOP/s, the best GFLOP/s of :func:`matmul_runners` and its shape.
    """
    run_model = numpy_runner(model, *problem(model, *size, dtype))
    runners = matmul_runners(model, *size, dtype)
    runs = [run_model, *(run for run, _ in runners.values())]
    seconds, *matmul_seconds = alternate(runs, repeat, clock=clock)
    rates = {shape: flops / t / 1e9 for (shape, (_, flops)), t in zip(runners.items(), matmul_seconds)}
    shape = max(rates, key=rates.get)
    return seconds, matmul_flops(model, *size) / seconds / 1e9, rates[shape], shape


def cpu_name():
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment():
    """One line on the machine and the libraries."""
    import torch

    threads = ", ".join(f"{name}={os.environ[name]}" for name in BLAS_THREAD_VARIABLES if name in os.environ)
    return (
        f"{cpu_name()}, {os.cpu_count()} CPUs; numpy {np.__version__}; "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads); {threads or 'default threads'}"
    )


def main(argv=None):
    """Run the benchmark and print the table; return the rows as a list of dicts."""
    parser = argparse.ArgumentParser(prog="python -m rnnbook.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=list(MODELS), default="lstm")
    parser.add_argument("--repeat", type=int, default=9, help="timed runs of each side per size (default 9)")
    parser.add_argument("--dtype", nargs="+", choices=["float32", "float64"], default=["float32", "float64"])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument("--no-peak", action="store_true", help="skip the matmul-peak measurement")
    parser.add_argument(
        "--clock",
        choices=list(CLOCKS),
        default="wall",
        help="wall: elapsed time (default); thread: CPU time of this thread, which a busy machine "
        "does not inflate, but which counts only single-threaded work: use it with OMP_NUM_THREADS=1 "
        "OPENBLAS_NUM_THREADS=1",
    )
    args = parser.parse_args(argv)
    repeat = check_int("--repeat", args.repeat, minimum=1)
    model = MODELS[args.model]
    clock = CLOCKS[args.clock]
    sizes, peak_size = (QUICK_SIZES, QUICK_PEAK_SIZE) if args.quick else (SIZES, PEAK_SIZE)

    print(f"rnnbook.bench: {args.model}, forward + BPTT, medians of {repeat} alternated runs, {args.clock} clock")
    print(environment())
    if args.clock == "thread" and any(os.environ.get(name) != "1" for name in BLAS_THREAD_VARIABLES[:2]):
        print(
            "warning: the thread clock misses the work of other threads; set OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1"
        )
    print()
    header = (
        f"{'dtype':8} {'(B, D, H, T)':20} {'numpy ms':>10} {'torch ms':>10} {'numpy/torch':>12} "
        f"{'target':>8}  {'grad diff':>9}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for dtype in args.dtype:
        for size in sizes:
            run_numpy, run_torch, difference = make_work(model, *size, dtype)
            t_numpy, t_torch = alternate([run_numpy, run_torch], repeat, clock=clock)
            target = TARGETS.get((dtype, size)) if args.model == "lstm" else None
            ratio = t_numpy / t_torch
            verdict = "" if target is None else f"≤ {target:.1f} {'ok' if ratio <= target else 'MISS'}"
            print(
                f"{dtype:8} {str(size):20} {t_numpy * 1e3:10.2f} {t_torch * 1e3:10.2f} {ratio:12.2f} "
                f"{verdict:>8}  {difference:9.1e}",
                flush=True,
            )
            rows.append(
                {"dtype": dtype, "size": size, "numpy_s": t_numpy, "torch_s": t_torch, "ratio": ratio, "target": target}
            )

    if not args.no_peak:
        dtype = "float32"
        seconds, achieved, peak, shape = peak_fraction(model, peak_size, dtype, repeat, clock=clock)
        fraction = achieved / peak
        print()
        print(f"{dtype} at (B, D, H, T) = {peak_size}, timed in turn with plain matrix products:")
        gflop = matmul_flops(model, *peak_size) / 1e9
        print(f"  numpy {args.model}: {seconds * 1e3:.1f} ms for {gflop:.2f} GFLOP of matmul = {achieved:.1f} GFLOP/s")
        print(f"  numpy matmul peak: {peak:.1f} GFLOP/s (best shape (m, k, n) = {shape})")
        print(f"  fraction of peak: {fraction:.0%} (target ≥ {PEAK_TARGET:.0%})")
        rows.append(
            {
                "dtype": dtype,
                "size": peak_size,
                "numpy_s": seconds,
                "gflops": achieved,
                "peak_gflops": peak,
                "fraction": fraction,
            }
        )
    return rows


if __name__ == "__main__":
    main()
