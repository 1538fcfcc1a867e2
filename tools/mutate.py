"""Mutation check: put realistic bugs into a copy of the book, one at a time, and see
whether the tests meant to guard that code catch each of them.

Each mutant is a file, an exact piece of its text, the buggy replacement, and the
pytest arguments (a few files or ``-k`` selections, kept small so the whole run takes
minutes) that must fail once the bug is in. The repository is copied once into a
temporary folder (without ``.venv``, ``site``, ``.cache``, ``.git``); each mutant is
applied there, its tests run with ``PYTHONPATH`` pointing at the copy, and the file is
restored. First a control run checks that each mutant's selection passes without any bug
(the selection, not its whole files: a failure elsewhere in a file is not this script's).

    .venv/bin/python tools/mutate.py            # all mutants; exit 1 if one survives
    .venv/bin/python tools/mutate.py clip reber  # only mutants whose name contains a word

When code moves, update ``path`` and ``original`` here: ``tests/test_mutate.py``
checks that every original text is still in its file, exactly once.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = (".venv", "site", ".cache", ".git", "__pycache__", "screenshots", "*.egg-info", ".pytest_cache")
TIMEOUT_S = 600


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # relative to the repository root
    original: str  # exact text, found exactly once in the file
    replacement: str
    tests: tuple[str, ...]  # pytest arguments that must fail with the bug in


BACKWARD_TESTS = ("tests/test_gradcheck.py", "tests/test_bptt.py", "-k", "finite or full_bptt")

MUTANTS = [
    # --- the training loop (PyTorch) ---
    Mutant(
        "train_step clips after the optimizer step",
        "rnnbook/torch_train.py",
        "    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)\n    optimizer.step()\n",
        "    optimizer.step()\n    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)\n",
        ("tests/test_torch_train.py", "-k", "clip"),
    ),
    Mutant(
        "train ignores its clip argument",
        "rnnbook/torch_train.py",
        "train_step(model, optimizer, batch, loss_fn, state, max_norm, device)",
        "train_step(model, optimizer, batch, loss_fn, state, float('inf'), device)",
        ("tests/test_torch_train.py", "-k", "clip"),
    ),
    Mutant(
        "train forgets the state between chunks",
        "rnnbook/torch_train.py",
        "                elif state is not None:\n                    state = detach_state(state)  # truncated",
        "                elif state is not None:\n                    state = None  # truncated",
        ("tests/test_torch_train.py", "-k", "truncated"),
    ),
    # --- the labs ---
    Mutant(
        "numpy char-RNN resets its state at every chunk",
        "rnnbook/labs.py",
        "state = None if chunk.reset else state  # a new pass",
        "state = None  # a new pass",
        ("tests/test_labs.py", "-k", "char_rnn"),
    ),
    Mutant(
        "is_cached('charlm') looks up another key",
        "rnnbook/labs.py",
        "return charlm_lab_for_text.is_cached(book_text_digest())",
        "return charlm_lab_for_text.is_cached(book_text_digest(), numpy_language='en')",
        ("tests/test_labs.py", "tests/test_cache.py", "-k", "is_cached"),
    ),
    Mutant(
        "Reber lab check forgets that the Elman network is slower",
        "rnnbook/labs.py",
        "_claim(rnn_median > lstm_median",
        "_claim(rnn_median > 0",
        ("tests/test_labs.py", "-k", "reber_conclusions"),
    ),
    Mutant(
        "sine lab check forgets the noise floor",
        "rnnbook/labs.py",
        'v > result["noise_floor"] for',
        "v > 0 for",
        ("tests/test_labs.py", "-k", "sine_conclusions"),
    ),
    Mutant(
        "adding lab check accepts an Elman network that learned",
        "rnnbook/labs.py",
        "0.8 * baseline < rnn_final",
        "0 < rnn_final",
        ("tests/test_labs.py", "-k", "adding_conclusions"),
    ),
    Mutant(
        "adding lab check accepts a gated network that did not learn",
        "rnnbook/labs.py",
        "gated_final < ADDING_SOLVED_MSE for",
        "gated_final < 1.0 for",
        ("tests/test_labs.py", "-k", "adding_conclusions"),
    ),
    # --- tasks ---
    Mutant(
        "Reber correctness ignores the lengths",
        "rnnbook/tasks.py",
        "return np.all((worst_legal > best_illegal) | ~valid, axis=0)",
        "return np.all(worst_legal > best_illegal, axis=0)",
        ("tests/test_tasks.py", "-k", "reber"),
    ),
    Mutant(
        "H&S adding target halves instead of quarters",
        "rnnbook/tasks.py",
        "ys = 0.5 + (values[p1, seqs] + values[p2, seqs]) / 4.0",
        "ys = 0.5 + (values[p1, seqs] + values[p2, seqs]) / 2.0",
        ("tests/test_tasks.py", "-k", "adding"),
    ),
    Mutant(
        "modern adding target averages instead of adding",
        "rnnbook/tasks.py",
        "ys = (xs[:, :, 0] * xs[:, :, 1]).sum(axis=0, keepdims=True).T",
        "ys = (xs[:, :, 0] * xs[:, :, 1]).mean(axis=0, keepdims=True).T",
        ("tests/test_tasks.py", "-k", "adding"),
    ),
    Mutant(
        "associative recall answers with the key instead of its value",
        "rnnbook/tasks.py",
        "np.put_along_axis(ys, asked_at, np.take_along_axis(values, order, axis=0), axis=0)",
        "np.put_along_axis(ys, asked_at, np.take_along_axis(keys, order, axis=0), axis=0)",
        ("tests/test_tasks.py", "-k", "recall"),
    ),
    Mutant(
        "the order-blind guess takes the rarest symbol",
        "rnnbook/tasks.py",
        "guess = counts.argmax(axis=-1) + 1",
        "guess = counts.argmin(axis=-1) + 1",
        ("tests/test_baselines.py",),
    ),
    Mutant(
        "the bag of tokens without add-one smoothing",
        "rnnbook/sequence_tasks.py",
        "counts = np.ones((len(labels), vocab_size))",
        "counts = np.full((len(labels), vocab_size), 1e-9)",
        ("tests/test_baselines.py", "-k", "bag_of_tokens"),
    ),
    # --- numpy cells: backward passes (finite differences and autograd) ---
    Mutant(
        "RNN backward reads tanh' at the previous state",
        "rnnbook/rnn.py",
        "das[t] = dh * (1 - hs[t + 1] ** 2)",
        "das[t] = dh * (1 - hs[t] ** 2)",
        BACKWARD_TESTS,
    ),
    Mutant(
        "LSTM backward: forget gate times the new cell",
        "rnnbook/lstm.py",
        "np.multiply(dc, cs[t], out=da_f)",
        "np.multiply(dc, cs[t + 1], out=da_f)",
        BACKWARD_TESTS,
    ),
    Mutant(
        "LSTM backward: carousel through the output gate",
        "rnnbook/lstm.py",
        "        dc *= f  # ∂L/∂c_prev",
        "        dc *= o  # ∂L/∂c_prev",
        BACKWARD_TESTS,
    ),
    Mutant(
        "GRU backward: update gate sign flipped",
        "rnnbook/gru.py",
        "dax_z[:] = dh * (hs[t] - n) * z * (1 - z)  # ∂h/∂z",
        "dax_z[:] = dh * (n - hs[t]) * z * (1 - z)  # ∂h/∂z",
        BACKWARD_TESTS,
    ),
    # --- BPTT ---
    Mutant(
        "backprop_times off by one",
        "rnnbook/bptt.py",
        "return list(range(k1, T, k1)) + [T]",
        "return list(range(k1 + 1, T, k1)) + [T]",
        ("tests/test_bptt.py", "-k", "definition"),
    ),
    Mutant(
        "truncated window one step short",
        "rnnbook/bptt.py",
        "start = max(0, t - k2)  # the window",
        "start = max(0, t - k2 + 1)  # the window",
        ("tests/test_bptt.py", "-k", "definition"),
    ),
    Mutant(
        "clipping to 1.1 times the threshold",
        "rnnbook/bptt.py",
        "            g *= max_norm / norm",
        "            g *= 1.1 * max_norm / norm",
        ("rnnbook/bptt.py", "tests/test_bptt.py", "-k", "clip"),
    ),
    # --- optimisers and layers ---
    Mutant(
        "Adam without bias correction of the first moment",
        "rnnbook/optim.py",
        "m_hat = m / (1 - self.beta1**self.t)",
        "m_hat = m",
        ("tests/test_optim.py",),
    ),
    Mutant(
        "cross-entropy averaged over classes",
        "rnnbook/layers.py",
        "loss = -log_probs[rows, y].sum() / N",
        "loss = -log_probs[rows, y].sum() / V",
        ("tests/test_layers.py",),
    ),
    Mutant(
        "softmax without its normalisation",
        "rnnbook/layers.py",
        "    return e / e.sum(axis=axis, keepdims=True)",
        "    return e / e.max(axis=axis, keepdims=True)",
        ("tests/test_layers.py",),
    ),
    # --- the vanishing-gradient chapter ---
    Mutant(
        "orthogonal() loses its QR sign fix",
        "rnnbook/vanishing.py",
        "    Q = Q * np.sign(np.diag(R))\n",
        "",
        ("tests/test_vanishing.py", "docs/vanishing.md", "docs/vanishing.en.md"),
    ),
    Mutant(
        "spectral rescale 5 % too large",
        "rnnbook/vanishing.py",
        "return W * (s / spectral_norm(W))",
        "return W * (1.05 * s / spectral_norm(W))",
        ("rnnbook/vanishing.py", "tests/test_vanishing.py"),
    ),
    Mutant(
        "Pascanu's bound with gamma of tanh for the sigmoid",
        "rnnbook/vanishing.py",
        'GAMMA = {"tanh": 1.0, "sigmoid": 0.25}',
        'GAMMA = {"tanh": 1.0, "sigmoid": 1.0}',
        ("tests/test_vanishing.py", "tests/test_figures.py"),
    ),
    # --- figures ---
    Mutant(
        "activations figure draws 1 - sigma^2 as tanh'",
        "rnnbook/figures/vanishing.py",
        "right.plot(a, 1 - tanh**2,",
        "right.plot(a, 1 - sigma**2,",
        ("tests/test_figures.py",),
    ),
    Mutant(
        "activations figure draws sigma' as sigma (1 - tanh)",
        "rnnbook/figures/vanishing.py",
        "right.plot(a, sigma * (1 - sigma),",
        "right.plot(a, sigma * (1 - tanh),",
        ("tests/test_figures.py",),
    ),
    Mutant(
        "sine_states figure rescales W_hh",
        "rnnbook/figures/rnn.py",
        "    params = rnn.init(1, HIDDEN, rng=3)\n    hs, _, _ = rnn.forward(xs, None, params)",
        "    params = scaled(rnn.init(1, HIDDEN, rng=3), 0.9)\n    hs, _, _ = rnn.forward(xs, None, params)",
        ("tests/test_figures.py",),
    ),
    Mutant(
        "clipping_cliff descends without clipping",
        "rnnbook/figures/vanishing.py",
        "        norm = bptt.clip_grad_norm([grad], max_norm) if max_norm else",
        "        norm = float(np.linalg.norm(grad)) if max_norm else",
        ("tests/test_figures.py",),
    ),
    Mutant(
        "truncated_gradient_by_lag cuts one step late",
        "rnnbook/figures/bptt.py",
        "norms = bptt.input_gradient_by_lag(rnn, params, out, xs, target, truncation=k)",
        "norms = bptt.input_gradient_by_lag(rnn, params, out, xs, target, truncation=k + 1)",
        ("tests/test_figures.py", "-k", "truncated"),
    ),
    Mutant(
        "lstm_cell_path follows every path instead of the carousel",
        "rnnbook/figures/lstm.py",
        'cell_path_norms(_lstm_params(b), xs, path="carousel")',
        'cell_path_norms(_lstm_params(b), xs, path="full")',
        ("tests/test_figures.py", "-k", "cell_path"),
    ),
    Mutant(
        "GRU lag figure reads the inputs backwards",
        "rnnbook/figures/gru.py",
        "logs.append(np.log10(hidden_gradient_norms(module, params, xs)))",
        "logs.append(np.log10(hidden_gradient_norms(module, params, xs[::-1])))",
        ("tests/test_figures.py", "-k", "gru"),
    ),
    Mutant(
        "LSTM state Jacobian drops the cell-to-hidden block",
        "rnnbook/vanishing.py",
        "norms.append(np.linalg.norm(P[:H, :H], 2))",
        "norms.append(np.linalg.norm(P[:H, :H] * 0.99, 2))",
        ("tests/test_figures.py", "-k", "lstm_vs_rnn"),
    ),
    # --- batches of different lengths, deep and bidirectional networks ---
    Mutant(
        "bidirectional net reverses the padded batch, not each sequence",
        "rnnbook/deep.py",
        "inputs = xs if k == 0 else masking.reverse_padded(xs, lengths)",
        "inputs = xs if k == 0 else masking.reverse_padded(xs)",
        ("tests/test_deep.py", "-k", "lengths or starts_at"),
    ),
    Mutant(
        "a padded step updates the state",
        "rnnbook/masking.py",
        "state = _map(lambda new_a, old_a: np.where(m, new_a, old_a), new, state)",
        "state = new  # every step, padded or not",
        ("tests/test_deep.py", "-k", "lengths or padding"),
    ),
    # --- attention and decoding ---
    Mutant(
        "attention forgets its mask",
        "rnnbook/attention.py",
        "    scores = np.where(mask, scores, -np.inf)\n",
        "",
        ("tests/test_attention.py", "-k", "masked"),
    ),
    Mutant(
        "attention softmax over the batch axis",
        "rnnbook/attention.py",
        "    return e / e.sum(axis=0)\n",
        "    return e / e.sum(axis=1, keepdims=True)\n",
        ("tests/test_attention.py", "-k", "torch_autograd"),
    ),
    Mutant(
        "beam search stops at the first finished hypothesis",
        "rnnbook/decoding.py",
        "        if not alive:\n            break",
        "        if finished:\n            break",
        ("tests/test_decoding.py", "-k", "exhaustive"),
    ),
    Mutant(
        "length penalty multiplies instead of dividing",
        "rnnbook/decoding.py",
        "finished.sort(key=lambda h: -h[1] / gnmt_penalty(len(h[0]), alpha))",
        "finished.sort(key=lambda h: -h[1] * gnmt_penalty(len(h[0]), alpha))",
        ("tests/test_decoding.py", "-k", "exhaustive or length_penalty"),
    ),
    # --- parallel scans and the linear recurrent layers ---
    Mutant(
        "scan composes a1 b2 instead of a2 b1",
        "rnnbook/scan.py",
        "np.multiply(A[right], h[left], out=tmp[:n])",
        "np.multiply(A[left], h[right], out=tmp[:n])",
        ("tests/test_scan.py", "-k", "plain_python"),
    ),
    Mutant(
        "scan backward uses a_t instead of a_{t+1}",
        "rnnbook/scan.py",
        "linear_recurrence(a[:0:-1], dh[-2::-1], h0=dh[-1])",
        "linear_recurrence(a[-2::-1], dh[-2::-1], h0=dh[-1])",
        ("tests/test_scan.py", "-k", "backward_equals"),
    ),
    Mutant(
        "minGRU backward: z and 1 - z swapped",
        "rnnbook/mingru.py",
        "        d_candidate = db * z\n",
        "        d_candidate = db * (1 - z)\n",
        ("tests/test_mingru.py", "-k", "autograd or gradient_check"),
    ),
    Mutant(
        "LRU without its gamma normalisation",
        "rnnbook/lru.py",
        "gamma_log=np.log(np.sqrt(1 - modulus**2)),",
        "gamma_log=np.zeros_like(modulus),",
        ("tests/test_lru.py", "-k", "gamma"),
    ),
    Mutant(
        "linear attention without its normaliser",
        "rnnbook/linear_attention.py",
        "    return y / A.sum(axis=2).T[:, :, None]\n",
        "    return y\n",
        ("tests/test_linear_attention.py", "-k", "parallel_equals"),
    ),
    # --- the parity hook ---
    Mutant(
        "parity skips its last compared part",
        "hooks/parity.py",
        "                for part in own\n                if own[part] != theirs[part]\n",
        "                for part in list(own)[:-1]\n                if own[part] != theirs[part]\n",
        ("tests/test_parity.py",),
    ),
    Mutant(
        "parity counts equations instead of comparing them",
        "hooks/parity.py",
        'found["equations"].append(_formula(equation))',
        'found["equations"].append("$$")',
        ("tests/test_parity.py",),
    ),
    Mutant(
        "parity ignores admonitions",
        "hooks/parity.py",
        'found["blocks"].append(block if block == "===" else f"{block} {label}")',
        "pass",
        ("tests/test_parity.py",),
    ),
    # --- the cache ---
    Mutant(
        "cache key ignores keyword arguments",
        "rnnbook/cache.py",
        "fn.__qualname__, sorted(bound.arguments.items())))",
        "fn.__qualname__, bound.args))",
        ("tests/test_cache.py",),
    ),
    Mutant(
        "cache key ignores the package's source",
        "rnnbook/cache.py",
        "        digest.update(path.read_bytes())\n",
        "",
        ("tests/test_cache.py",),
    ),
    # --- mkdocs serve's render cache ---
    Mutant(
        "an API block kept by its own module only",
        "hooks/render_cache.py",
        'digest = cache.source_hash(*(".".join(parts[:k]) for k in range(1, len(parts) + 1)))',
        "digest = cache.module_path(identifier).read_bytes()",
        ("tests/test_machinery.py", "-k", "served_rebuild"),
    ),
    Mutant(
        "a kept page does not register its anchors again",
        "hooks/render_cache.py",
        '    _register(config.plugins["autorefs"], page, kept["anchors registered"])\n',
        "",
        ("tests/test_machinery.py", "-k", "served_rebuild"),
    ),
    Mutant(
        "background work outlives a killed server",
        "hooks/_book.py",
        "        os.killpg(os.getpgrp(), signal.SIGTERM)\n",
        "        pass\n",
        ("tests/test_parity.py", "-k", "killed"),
    ),
    Mutant(
        "background work in a session of its own, where nice counts for nothing",
        "hooks/_book.py",
        'group = {"process_group": 0} if hasattr(os, "killpg") else {}',
        'group = {"start_new_session": True}',
        ("tests/test_parity.py", "-k", "lower_priority"),
    ),
]


def copy_repository(target: Path) -> Path:
    """A copy of the working tree without environments, builds and caches."""
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(*SKIP), symlinks=True)
    return target


def run_tests(copy: Path, tests: tuple[str, ...]) -> tuple[int, str, float]:
    env = dict(os.environ, PYTHONPATH=str(copy), RNNBOOK_CACHE=str(copy / ".cache" / "rnnbook"))
    env.pop("RNNBOOK_STRICT", None)
    start = time.perf_counter()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        code, output = result.returncode, result.stdout + result.stderr
    except subprocess.TimeoutExpired:
        code, output = -1, f"timed out after {TIMEOUT_S} s"
    return code, output, time.perf_counter() - start


def paths(tests: tuple[str, ...]) -> list[str]:
    """The files (or node ids) among pytest arguments: neither options nor ``-k`` expressions."""
    return [a for i, a in enumerate(tests) if not a.startswith("-") and (i == 0 or tests[i - 1] != "-k")]


def apply(copy: Path, mutant: Mutant) -> str:
    """Put the bug in; return the file's original text (to restore it)."""
    path = copy / mutant.path
    text = path.read_text(encoding="utf-8")
    if text.count(mutant.original) != 1:
        raise ValueError(f"the original text is not exactly once in {mutant.path}; update MUTANTS")
    path.write_text(text.replace(mutant.original, mutant.replacement), encoding="utf-8")
    return text


def main(words: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the temporary copy is removed
    chosen = [m for m in MUTANTS if not words or any(w.lower() in m.name.lower() for w in words)]
    survivors, errors = [], []
    with tempfile.TemporaryDirectory(prefix="rnnbook-mutants-") as tmp:
        copy = copy_repository(Path(tmp) / "book")
        for selection in dict.fromkeys(m.tests for m in chosen):  # no bug: each selection passes
            code, output, seconds = run_tests(copy, selection)
            print(
                f"control   {seconds:5.1f} s  {' '.join(selection)}: {'passes' if code == 0 else 'FAILS'}", flush=True
            )
            if code != 0:
                errors.append(f"the control run of {' '.join(selection)} fails without any bug:\n{output[-3000:]}")
        if errors:
            print("\n".join(errors))
            return 2
        for mutant in chosen:
            try:
                original = apply(copy, mutant)
            except ValueError as error:
                errors.append(f"{mutant.name}: {error}")
                print(f"ERROR     {mutant.name}: {error}", flush=True)
                continue
            try:
                code, output, seconds = run_tests(copy, mutant.tests)
            finally:
                (copy / mutant.path).write_text(original, encoding="utf-8")
            if code == 1:
                verdict = "caught"
            elif code == 0:
                verdict, _ = "SURVIVED", survivors.append(mutant.name)
            else:
                verdict, _ = f"ERROR (pytest exit {code})", errors.append(f"{mutant.name}:\n{output[-2000:]}")
            print(f"{verdict:9} {seconds:5.1f} s  {mutant.name}  [{mutant.path}]", flush=True)
    print(
        f"\n{len(chosen)} mutants: {len(chosen) - len(survivors) - len(errors)} caught, "
        f"{len(survivors)} survived, {len(errors)} errors"
    )
    for name in survivors:
        print(f"  survived: {name}")
    for error in errors:
        print(f"  error: {error}")
    return 1 if survivors or errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
