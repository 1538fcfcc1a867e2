"""A smoke test of the benchmark on tiny sizes: it runs, and both sides agree."""

from __future__ import annotations

import pytest

from rnnbook import bench, gru, lstm, rnn


def test_quick_benchmark_runs(capsys):
    rows = bench.main(["--quick", "--repeat", "1", "--dtype", "float64"])
    out = capsys.readouterr().out
    assert "numpy/torch" in out and "fraction of peak" in out
    assert len(rows) == 2  # one size, and the peak line
    assert all(row["numpy_s"] > 0 for row in rows)
    assert 0 < rows[-1]["fraction"]


@pytest.mark.parametrize("model", [rnn, lstm, gru])
def test_both_sides_do_the_same_work(model):
    _, _, difference = bench.make_work(model, 2, 3, 4, 5, "float64")
    assert difference < 1e-12


def test_matmul_flops():
    # forward: 2TB(GH)(D) + 2TB(GH)(H); backward: 2TB(GH)H + 2(GH)(TB)D + 2(GH)(TB)H + 2TB(GH)D
    B, D, H, T = 2, 3, 4, 5
    assert bench.matmul_flops(lstm, B, D, H, T) == 6 * T * B * 4 * H * (D + H)


def test_bad_repeat():
    with pytest.raises(ValueError, match="--repeat: expected an integer >= 1, got 0"):
        bench.main(["--quick", "--repeat", "0"])


def test_thread_clock_warns_without_single_threads(capsys, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    bench.main(["--quick", "--repeat", "1", "--dtype", "float64", "--no-peak", "--clock", "thread"])
    out = capsys.readouterr().out
    assert "thread clock" in out and "warning: the thread clock misses" in out
