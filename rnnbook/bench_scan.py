"""Benchmark: the parallel scan against the sequential loop, in numpy and PyTorch.

    python -m rnnbook.bench_scan [--repeat 5] [--dtype float32] [--quick]

For each length T and width N = B·H (the number of independent recurrences, the
axes after time), both functions compute h_t = a_t ⊙ h_{t-1} + b_t on the same
random coefficients (a_t uniform in (0, 1)): :func:`rnnbook.scan.linear_recurrence`
against :func:`rnnbook.scan.linear_recurrence_loop`, and the same pair of
:mod:`rnnbook.torch_scan` (forward only, without autograd). The runs alternate
(:func:`rnnbook.bench.alternate`) and the table reports medians and the ratio
loop/scan: above 1 the scan is faster.

The loop does T − 1 combines one after the other, each one vectorised over the N
recurrences; the scan does about 2T combines in about 2 log₂ T vectorised levels.
On a CPU with few cores the scan gains when the loop's cost is the Python
overhead of its T steps (small N), and loses when each step already keeps the
CPU busy (large N), because it does twice the arithmetic.
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from rnnbook import scan
from rnnbook._validate import check_int
from rnnbook.bench import alternate, environment

LENGTHS = (256, 1024, 4096, 16384)
WIDTHS = (1, 64, 1024)
MAX_ELEMENTS = 2**22  # T·N: skip sizes whose arrays would not fit comfortably in memory
QUICK_LENGTHS, QUICK_WIDTHS = (8, 33), (1, 3)


def problem(T, N, dtype, seed=0):
    """Coefficients a (T, N) uniform in (0, 1) and inputs b (T, N) standard normal."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (T, N)).astype(dtype), rng.standard_normal((T, N)).astype(dtype)


def runners(backend, T, N, dtype, seed=0):
    """``(run_loop, run_scan, difference)``: two functions of no argument and their largest difference."""
    a, b = problem(T, N, dtype, seed)
    if backend == "numpy":

        def run_loop():
            return scan.linear_recurrence_loop(a, b)

        def run_scan():
            return scan.linear_recurrence(a, b)
    else:
        import torch

        from rnnbook import torch_scan

        a, b = torch.from_numpy(a), torch.from_numpy(b)

        def run_loop():
            with torch.no_grad():
                return torch_scan.linear_recurrence_loop(a, b).numpy()

        def run_scan():
            with torch.no_grad():
                return torch_scan.linear_recurrence(a, b).numpy()

    difference = float(np.max(np.abs(run_loop() - run_scan())))
    return run_loop, run_scan, difference


def measure(lengths, widths, *, backends=("numpy", "torch"), dtype="float32", repeat=5):
    """Median times of loop and scan for every backend, T and N with T·N ≤ MAX_ELEMENTS.

    Returns a list of dicts ``{"backend", "T", "N", "loop_s", "scan_s", "difference"}``.
    """
    rows = []
    for backend, T, N in itertools.product(backends, lengths, widths):
        if T * N > MAX_ELEMENTS:
            continue
        run_loop, run_scan, difference = runners(backend, T, N, dtype)
        t_loop, t_scan = alternate([run_loop, run_scan], repeat)
        rows.append({"backend": backend, "T": T, "N": N, "loop_s": t_loop, "scan_s": t_scan, "difference": difference})
    return rows


def main(argv=None):
    """Run the benchmark and print the table; return the rows."""
    parser = argparse.ArgumentParser(prog="python -m rnnbook.bench_scan", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each side per size (default 5)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    args = parser.parse_args(argv)
    repeat = check_int("--repeat", args.repeat, minimum=1)
    lengths, widths = (QUICK_LENGTHS, QUICK_WIDTHS) if args.quick else (LENGTHS, WIDTHS)
    print(f"rnnbook.bench_scan: h_t = a_t h_(t-1) + b_t, {args.dtype}, medians of {repeat} alternated runs")
    print(environment())
    print()
    header = f"{'backend':8} {'T':>6} {'B·H':>6} {'loop ms':>10} {'scan ms':>10} {'loop/scan':>10} {'max diff':>9}"
    print(header)
    print("-" * len(header))
    rows = measure(lengths, widths, dtype=args.dtype, repeat=repeat)
    for row in rows:
        print(
            f"{row['backend']:8} {row['T']:6d} {row['N']:6d} {row['loop_s'] * 1e3:10.2f} "
            f"{row['scan_s'] * 1e3:10.2f} {row['loop_s'] / row['scan_s']:10.2f} {row['difference']:9.1e}",
            flush=True,
        )
    return rows


if __name__ == "__main__":
    main()
