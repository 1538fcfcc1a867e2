"""Benchmark: the numpy models against PyTorch on the same work.

    python -m rnnbook.bench [--model lstm] [--repeat 9] [--dtype float32 float64] [--quick]
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python -m rnnbook.bench   # one thread each

For each size (B, D, H, T) and dtype, both sides run forward and full BPTT with
the same weights and the same loss L = Σ_t <dhs_t, h_t>: numpy with ``forward``
and ``backward``, PyTorch with ``nn.LSTM`` (or ``nn.RNN``/``nn.GRU``) and
autograd, computing the same gradients (weights, inputs, initial state). The two
runs alternate in one process (A, B, A, B, ...) so that a busy machine slows both
alike, and the table reports medians and the ratio numpy/torch.

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
# Set these before starting Python to choose the threads of numpy's BLAS and of torch.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


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


def alternate(run_a, run_b, repeat, warmup=1):
    """Time two functions alternately; return their median times in seconds."""
    for _ in range(warmup):
        run_a()
        run_b()
    times_a, times_b = [], []
    for _ in range(repeat):
        for run, times in ((run_a, times_a), (run_b, times_b)):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return statistics.median(times_a), statistics.median(times_b)


def median_time(run, repeat, warmup=1):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_peak(model, B, D, H, T, dtype, repeat):
    """This machine's numpy matmul speed, GFLOP/s: the best of representative shapes.

    The shapes are the model's own products at this size (the per-step recurrent
    product, the weight gradient over all steps) and a square one of side 4H.
    Returns ``(gflops, shape)``.
    """
    G = model.Params.G
    rng = np.random.default_rng(0)
    shapes = [(B, H, G * H), (G * H, T * B, H), (G * H, G * H, G * H)]  # (m, k, n)
    best = (0.0, None)
    for m, k, n in shapes:
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        reps = max(1, min(100, int(2e8 // (2 * m * k * n))))  # about 0.2 GFLOP per timing

        def run(a=a, b=b, reps=reps):
            for _ in range(reps):
                a @ b

        seconds = median_time(run, repeat) / reps
        best = max(best, (2 * m * k * n / seconds / 1e9, (m, k, n)), key=lambda r: r[0])
    return best


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

    threads = ", ".join(f"{name}={os.environ[name]}" for name in THREAD_VARIABLES if name in os.environ)
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
    args = parser.parse_args(argv)
    repeat = check_int("--repeat", args.repeat, minimum=1)
    model = MODELS[args.model]
    sizes, peak_size = (QUICK_SIZES, QUICK_PEAK_SIZE) if args.quick else (SIZES, PEAK_SIZE)

    print(f"rnnbook.bench: {args.model}, forward + BPTT, medians of {repeat} alternated runs")
    print(environment())
    print()
    header = f"{'dtype':8} {'(B, D, H, T)':20} {'numpy ms':>10} {'torch ms':>10} {'numpy/torch':>12} {'target':>8}  {'grad diff':>9}"
    print(header)
    print("-" * len(header))
    rows = []
    for dtype in args.dtype:
        for size in sizes:
            run_numpy, run_torch, difference = make_work(model, *size, dtype)
            t_numpy, t_torch = alternate(run_numpy, run_torch, repeat)
            target = TARGETS.get((dtype, size)) if args.model == "lstm" else None
            ratio = t_numpy / t_torch
            verdict = "" if target is None else f"≤ {target:.1f} {'ok' if ratio <= target else 'MISS'}"
            print(
                f"{dtype:8} {str(size):20} {t_numpy * 1e3:10.2f} {t_torch * 1e3:10.2f} {ratio:12.2f} {verdict:>8}  {difference:9.1e}",
                flush=True,
            )
            rows.append({"dtype": dtype, "size": size, "numpy_s": t_numpy, "torch_s": t_torch, "ratio": ratio, "target": target})

    if not args.no_peak:
        dtype = "float32"
        run_numpy = numpy_runner(model, *problem(model, *peak_size, dtype))
        seconds = median_time(run_numpy, max(3, repeat // 2))
        achieved = matmul_flops(model, *peak_size) / seconds / 1e9
        peak, shape = matmul_peak(model, *peak_size, dtype, max(3, repeat // 2))
        fraction = achieved / peak
        print()
        print(f"{dtype} at (B, D, H, T) = {peak_size}:")
        print(f"  numpy {args.model}: {seconds * 1e3:.1f} ms for {matmul_flops(model, *peak_size) / 1e9:.2f} GFLOP of matmul = {achieved:.1f} GFLOP/s")
        print(f"  numpy matmul peak: {peak:.1f} GFLOP/s (best shape (m, k, n) = {shape})")
        print(f"  fraction of peak: {fraction:.0%} (target ≥ {PEAK_TARGET:.0%})")
        rows.append({"dtype": dtype, "size": peak_size, "numpy_s": seconds, "gflops": achieved, "peak_gflops": peak, "fraction": fraction})
    return rows


if __name__ == "__main__":
    main()
