"""The computations behind the book's labs, one function per lab, cached on disk.

Each lab page (``docs/labs/NAME.md`` and its English twin) is a notebook executed
while the site is built. Its heavy work is one call to a function of this module,
decorated with :func:`rnnbook.cache.memoize`: the Italian page computes it, the
English page reads the same result from the cache, and a rebuild retrains
nothing until the source of a module it uses changes (:mod:`rnnbook.cache`). Seeds are fixed, so the numbers in
the pages are the same at every build.

The settings are smaller than those of ``rnnbook run NAME`` (the full-size runs):
each lab computes in about a minute or less on a 2-core CPU.
Every function returns plain data (dicts, lists, floats, strings), ready for a
table or a plot:

* :func:`adding_lab`: the adding problem, RNN against LSTM and GRU, in both forms;
* :func:`charlm_lab`: a character language model on the book's text, first the
  numpy RNN of :mod:`rnnbook.rnn` with truncated BPTT, then a PyTorch LSTM;
* :func:`reber_lab`: the embedded Reber grammar over several seeds;
* :func:`sine_lab`: forecasting a noisy sine, one step and several steps ahead;
* :func:`langid_lab`: Italian or English, the book's own sentences, with packing;
* :func:`negation_lab`: synthetic reviews with negation, uni- vs bidirectional vs bag of words;
* :func:`seq2seq_lab`: encoder–decoders on dates and on numbers spelled in words;
* :func:`scan_lab`: the parallel scan against the loop, then minGRU against the LSTM
  on the adding problem at a length where the LSTM stays on its plateau;
* :func:`ssm_lab`: selective copying and associative recall with an LSTM, a time-invariant
  SSM, the selective SSM of Mamba and the mLSTM, and their accuracy at other lengths.

Each lab runs the ``run_*`` functions of :mod:`rnnbook.experiments`, the same code as
``rnnbook run NAME``, and reads the numbers they return (``metrics``, ``history``).
PyTorch runs on one thread while a lab computes (:func:`rnnbook.threads.torch_threads`):
these networks are small, and one thread is the fastest when other programs share the CPU.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from itertools import islice

import numpy as np

from . import bench_scan, bptt, corpus, layers, optim, rnn, tasks
from ._validate import check_int
from .cache import memoize
from .experiments import (
    ADDING_PASS_MSE,
    HS_STOP_MSE,
    HS_TOLERANCE,
    plain_settings,
    run_adding,
    run_charlm,
    run_dates,
    run_langid,
    run_negation,
    run_numbers,
    run_reber,
    run_recall,
    run_scan,
    run_sine,
    run_ssm,
)
from .threads import ONE_BLAS_THREAD, environment, torch_threads

__all__ = [
    "adding_lab",
    "charlm_lab",
    "charlm_lab_for_text",
    "book_text_digest",
    "numpy_char_rnn",
    "reber_lab",
    "sine_lab",
    "langid_lab",
    "langid_lab_for_text",
    "negation_lab",
    "seq2seq_lab",
    "scan_lab",
    "ssm_lab",
    "MAMBA_SELECTIVE_COPYING",
    "selective_copying_rows",
    "LABS",
    "is_cached",
    "precompute",
    "markdown_table",
    "check_adding",
    "check_charlm",
    "check_reber",
    "check_sine",
    "check_langid",
    "check_negation",
    "check_seq2seq",
    "check_scan",
    "check_ssm",
    "ClaimError",
]


def markdown_table(headers, rows):
    """A Markdown table from a header row and rows of cells (converted with ``str``).

    >>> from rnnbook.labs import markdown_table
    >>> print(markdown_table(["model", "MSE"], [["LSTM", 0.001]]))
    | model | MSE |
    |---|---|
    | LSTM | 0.001 |
    """
    lines = ["| " + " | ".join(map(str, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def _curve(result):
    """The part of a ``run_*`` result a lab keeps: settings, history, metrics, summary, lines."""
    keep = ("settings", "history", "metric", "lines", "metrics", "summary", "passed")
    return {key: result[key] for key in keep} | {"final": result["history"]["eval"][-1]}


# ---------------------------------------------------------------------------
# Lab 1: the adding problem
# ---------------------------------------------------------------------------


@memoize
def adding_lab(
    *,
    seq_len=100,
    steps=(("rnn", 800), ("lstm", 800), ("gru", 400)),
    hidden=32,
    batch_size=64,
    lr=1e-2,
    eval_every=50,
    test_size=500,
    hs_steps=300,
    seed=0,
):
    """The adding problem at T = ``seq_len``: a tanh RNN, an LSTM and a GRU, same data, same seed.

    Each model named in ``steps`` runs :func:`~rnnbook.experiments.run_adding` in
    the modern form (one marker in each half) for its number of steps (the GRU
    is the slowest per step on a CPU). Then an LSTM runs ``hs_steps`` steps on
    Hochreiter & Schmidhuber's original form. Smaller than the full run
    (H = 32 instead of 64, 800 steps instead of 3500) but with a larger batch
    (64) and learning rate (1e-2), which shorten the LSTM's plateau.

    Returns:
        ``{"settings", "baseline", "pass_line", "runs": {model: curve}, "hs": curve,
        "hs_baseline", "hs_stop", "hs_tolerance"}``, where a curve holds the run's
        ``history`` (loss per step, evaluations), ``summary`` and ``final`` evaluation;
        the H&S curve also holds ``accuracy``, the fraction of test sequences with
        absolute error below ``hs_tolerance``.
    """
    common = dict(
        seq_len=seq_len,
        hidden=hidden,
        batch_size=batch_size,
        lr=lr,
        eval_every=eval_every,
        test_size=test_size,
        seed=seed,
        progress=False,
    )
    with torch_threads(1):
        runs = {m: _curve(run_adding(model=m, form="modern", steps=n, **common)) for m, n in steps}
        hs = _curve(run_adding(model="lstm", form="hs", steps=hs_steps, **common))
    hs["accuracy"] = hs["metrics"]["accuracy"]  # H&S's criterion, |error| < HS_TOLERANCE
    return {
        "settings": plain_settings(common | {"steps": dict(steps), "hs_steps": hs_steps}),
        "baseline": tasks.adding_baseline("modern").mse,
        "pass_line": ADDING_PASS_MSE,
        "runs": runs,
        "hs": hs,
        "hs_baseline": tasks.adding_baseline("hs", seq_len).mse,
        "hs_stop": HS_STOP_MSE,
        "hs_tolerance": HS_TOLERANCE,
    }


# ---------------------------------------------------------------------------
# Lab 2: a character language model on the book's text
# ---------------------------------------------------------------------------


def _bits(nats):
    return nats / math.log(2)


def _one_hot_chunk(codes, vocab_size):
    return tasks.one_hot(codes, vocab_size, dtype=np.float32)


def _numpy_stream_bpc(params, out, chunks, vocab_size):
    """Bits per character of the numpy model over a stream of chunks, state carried."""
    total, count, state = 0.0, 0, None
    for chunk in chunks:
        state = None if chunk.reset else state
        hs, state, _ = rnn.forward(_one_hot_chunk(chunk.xs, vocab_size), state, params)
        logits, _ = layers.linear_forward(hs, out)
        log_p = layers.log_softmax(logits.astype(np.float64))
        total -= np.take_along_axis(log_p, chunk.ys[..., None], axis=-1).sum()
        count += chunk.ys.size
    return _bits(total / count)


def _numpy_sample(params, out, vocab, prime, length, temperature, seed):
    """Sample ``length`` characters from the numpy model after ``prime``."""
    rng = np.random.default_rng(seed)
    V, h = len(vocab), None
    for code in vocab.encode(prime):
        h = rnn.step(_one_hot_chunk(np.array([code]), V), h, params)
    text = []
    for _ in range(length):
        logits = (h @ out.W.T + out.b)[0].astype(np.float64)
        p = layers.softmax(logits / temperature)
        code = int(rng.choice(V, p=p))
        text.append(code)
        h = rnn.step(_one_hot_chunk(np.array([code]), V), h, params)
    return vocab.decode(text)


def numpy_char_rnn(
    train_codes,
    valid_codes,
    vocab_size,
    *,
    hidden=128,
    steps=300,
    batch_size=32,
    chunk_len=25,
    lr=3e-3,
    clip=5.0,
    eval_every=100,
    seed=0,
):
    """Train the numpy Elman network as a character model, min-char-rnn style.

    The text is laid out as ``batch_size`` parallel streams and read in chunks
    of ``chunk_len`` characters: truncated BPTT, one Adam update per chunk, the
    state carried from chunk to chunk (a plain array: the gradient stops at the
    border by itself). All numpy: :mod:`rnnbook.rnn`, the output layer of
    :mod:`rnnbook.layers`, :func:`rnnbook.bptt.loss_and_grads`, :mod:`rnnbook.optim`.

    Returns:
        ``(params, out_params, history)``, with ``history = {"loss_bits": [...],
        "eval": [{"step", "valid_bpc"}, ...]}``.
    """
    rng = np.random.default_rng(seed)
    params = rnn.init(vocab_size, hidden, rng=rng, dtype=np.float32)
    out = layers.linear_init(hidden, vocab_size, rng=rng, dtype=np.float32)
    optimizer = optim.Adam([params, out], lr=lr)
    streams = corpus.stream_layout(train_codes, batch_size)
    chunks = islice(corpus.endless_chunks(streams, chunk_len), steps)
    valid_streams = corpus.stream_layout(valid_codes, batch_size)
    valid = list(corpus.tbptt_chunks(valid_streams, chunk_len))
    history, state = {"loss_bits": [], "eval": []}, None
    for step, chunk in enumerate(chunks, start=1):
        state = None if chunk.reset else state  # a new pass over the text
        xs = _one_hot_chunk(chunk.xs, vocab_size)  # (k, B, V)
        loss, grads, out_grads, state = bptt.loss_and_grads(rnn, params, out, xs, chunk.ys, state=state)
        bptt.clip_grad_norm([grads, out_grads], clip)
        optimizer.step([grads, out_grads])
        history["loss_bits"].append(_bits(loss))
        if step % eval_every == 0 or step == steps:
            bpc = _numpy_stream_bpc(params, out, valid, vocab_size)
            history["eval"].append({"step": step, "valid_bpc": bpc})
    return params, out, history


def book_text_digest(docs=None):
    """SHA-256 of the book's prose: :func:`charlm_lab` is cached per version of the text.

    >>> from rnnbook.labs import book_text_digest
    >>> len(book_text_digest())
    64
    """
    return hashlib.sha256(corpus.load_book_text(docs, "both").encode()).hexdigest()


def charlm_lab(*, docs=None, **settings):
    """A character language model on the book's own prose, in each language.

    The result depends on the text as well as on the code, so the cache key
    includes the text's digest: edit a chapter and the lab trains again. The
    settings and the result are those of :func:`charlm_lab_for_text`.
    """
    return charlm_lab_for_text(book_text_digest(docs), docs=docs, **settings)


def _language_data(docs, language):
    text = corpus.load_book_text(docs, language)
    vocab = corpus.Vocab.from_text(text)
    train_codes, valid_codes = corpus.split(vocab.encode(text), 0.1)
    return vocab, train_codes, valid_codes


@memoize
def charlm_lab_for_text(
    digest,
    *,
    docs=None,
    numpy_language="it",
    numpy_steps=300,
    numpy_hidden=128,
    numpy_chunk=25,
    numpy_lr=1e-2,
    lstm_steps=400,
    lstm_hidden=128,
    lstm_chunk=64,
    lstm_lr=1e-2,
    batch_size=32,
    clip=1.0,
    eval_every=50,
    primes=(("it", "La rete ricorrente "), ("en", "The recurrent network ")),
    temperatures=(0.5, 1.0, 1.5),
    sample_len=240,
    seed=0,
):
    """Train the numpy RNN on one language, then a PyTorch LSTM on each language of the book.

    ``digest`` (from :func:`book_text_digest`) only makes the cache key depend on
    the text. Each language's prose (:func:`rnnbook.corpus.load_book_text`) is
    split 90/10 into training and validation text with its own vocabulary. The
    numpy model (:func:`numpy_char_rnn`) reads ``numpy_language`` for
    ``numpy_steps`` chunks of ``numpy_chunk`` characters; each LSTM (forget bias
    1, as ``rnnbook run charlm``) reads its language for ``lstm_steps`` chunks of
    ``lstm_chunk``; all read ``batch_size`` parallel streams. Each model's samples
    start from its language's prime, at each temperature.

    Returns:
        ``{"settings", "data": {language: {"train", "valid", "vocabulary", "unigram_bits"}},
        "numpy": run, "lstm": {language: run}}``, a run being ``{"language",
        "history": {"loss_bits", "eval": [{"step", "valid_bpc"}]}, "prime",
        "samples": {temperature: text}}`` (temperatures as strings).
    """
    primes = dict(primes)
    result = {
        "settings": {
            "numpy_language": numpy_language,
            "numpy_steps": numpy_steps,
            "numpy_hidden": numpy_hidden,
            "numpy_chunk": numpy_chunk,
            "numpy_lr": numpy_lr,
            "lstm_steps": lstm_steps,
            "lstm_hidden": lstm_hidden,
            "lstm_chunk": lstm_chunk,
            "lstm_lr": lstm_lr,
            "batch_size": batch_size,
            "seed": seed,
        },
        "data": {},
        "lstm": {},
    }
    vocab, train_codes, valid_codes = _language_data(docs, numpy_language)
    prime = primes[numpy_language]
    params, out, history = numpy_char_rnn(
        train_codes,
        valid_codes,
        len(vocab),
        hidden=numpy_hidden,
        steps=numpy_steps,
        batch_size=batch_size,
        chunk_len=numpy_chunk,
        lr=numpy_lr,
        clip=5.0,
        eval_every=eval_every,
        seed=seed,
    )
    result["numpy"] = {
        "language": numpy_language,
        "history": history,
        "prime": prime,
        "samples": {str(t): _numpy_sample(params, out, vocab, prime, sample_len, t, seed) for t in temperatures},
    }
    with torch_threads(1):
        for language, prime in primes.items():
            run = run_charlm(
                model="lstm",
                docs=docs,
                language=language,
                steps=lstm_steps,
                hidden=lstm_hidden,
                lr=lstm_lr,
                batch_size=batch_size,
                chunk_len=lstm_chunk,
                clip=clip,
                eval_every=eval_every,
                sample_len=sample_len,
                temperatures=temperatures,
                prime=prime,
                seed=seed,
                progress=False,
            )
            result["data"][language] = _charlm_data(run["metrics"])
            history = {"loss_bits": [_bits(x) for x in run["history"]["loss"]], "eval": run["history"]["eval"]}
            result["lstm"][language] = {
                "language": language,
                "history": history,
                "prime": prime,
                "samples": run["samples"],
            }
    return result


def _charlm_data(metrics):
    """The size of a language's text, from the metrics of :func:`~rnnbook.experiments.run_charlm`."""
    return {
        "train": metrics["train_chars"],
        "valid": metrics["valid_chars"],
        "vocabulary": metrics["vocabulary"],
        "unigram_bits": metrics["unigram_bits"],
    }


# ---------------------------------------------------------------------------
# Lab 3: the embedded Reber grammar
# ---------------------------------------------------------------------------


@memoize
def reber_lab(
    *,
    models=("rnn", "lstm"),
    seeds=(0, 1, 2, 3, 4),
    steps=800,
    hidden=16,
    lr=1e-2,
    batch_size=16,
    eval_every=25,
    train_size=256,
    test_size=256,
):
    """Next-symbol prediction on the embedded Reber grammar, each model over several seeds.

    Each trial is :func:`~rnnbook.experiments.run_reber` with its own seed (data
    and initialisation); it succeeds when all training and test strings are
    predicted correctly (H&S 1997's criterion) at some evaluation.

    Returns:
        ``{"settings", "trials": {model: [trial, ...]}, "success": {model: fraction}}``,
        a trial being ``{"seed", "solved_at_sequences" (None if never), "eval", "final"}``.
    """
    trials = {}
    with torch_threads(1):
        for model in models:
            trials[model] = []
            for seed in seeds:
                r = run_reber(
                    model=model,
                    steps=steps,
                    hidden=hidden,
                    lr=lr,
                    batch_size=batch_size,
                    eval_every=eval_every,
                    train_size=train_size,
                    test_size=test_size,
                    seed=seed,
                    progress=False,
                )
                solved = r["metrics"]["solved_at_step"]
                trials[model].append(
                    {
                        "seed": seed,
                        "solved_at_sequences": None if solved is None else solved * batch_size,
                        "eval": r["history"]["eval"],
                        "final": r["history"]["eval"][-1],
                    }
                )
    success = {m: sum(t["solved_at_sequences"] is not None for t in ts) / len(ts) for m, ts in trials.items()}
    settings = {
        "steps": steps,
        "hidden": hidden,
        "lr": lr,
        "batch_size": batch_size,
        "seeds": list(seeds),
        "train_size": train_size,
        "test_size": test_size,
    }
    return {"settings": settings, "trials": trials, "success": success}


# ---------------------------------------------------------------------------
# Lab 4: forecasting a noisy sine
# ---------------------------------------------------------------------------


@memoize
def sine_lab(
    *,
    models=("rnn", "lstm", "gru"),
    horizon=10,
    seq_len=100,
    noise=0.1,
    steps=250,
    hidden=32,
    lr=1e-2,
    batch_size=32,
    eval_every=25,
    test_size=256,
    seed=0,
):
    """Noisy-sine forecasting with each model: one step ahead, and ``horizon`` steps ahead at once.

    Each model runs :func:`~rnnbook.experiments.run_sine` twice: trained on
    one-step targets (then also rolled out in closed loop, feeding its own
    forecasts back in) and trained on the next ``horizon`` values (a direct
    multi-step forecast).

    Returns:
        ``{"settings", "noise_floor", "one_step": {model: curve}, "multi_step": {model: curve}}``;
        a one-step curve also holds the ``example`` forecast on the first test sequence.
    """
    common = dict(
        seq_len=seq_len,
        noise=noise,
        steps=steps,
        hidden=hidden,
        lr=lr,
        batch_size=batch_size,
        eval_every=eval_every,
        test_size=test_size,
        seed=seed,
        progress=False,
    )
    one, multi = {}, {}
    with torch_threads(1):
        for model in models:
            r = run_sine(model=model, horizon=1, **common)
            one[model] = _curve(r) | {"example": r["example"]}
            multi[model] = _curve(run_sine(model=model, horizon=horizon, **common))
    return {
        "settings": plain_settings(common | {"horizon": horizon}),
        "noise_floor": noise**2,
        "one_step": one,
        "multi_step": multi,
    }


# ---------------------------------------------------------------------------
# Lab 5: encoder-decoders, dates and numbers
# ---------------------------------------------------------------------------


@memoize
def seq2seq_lab(
    *,
    date_steps=200,
    date_hidden=64,
    number_steps=300,
    number_hidden=96,
    batch_size=64,
    max_digits=24,
    test_size=300,
    beam_size=5,
    examples=4,
    eval_every=50,
    seed=0,
):
    """Dates to ISO 8601 with attention, then numbers in words to digits with and without attention.

    Runs :func:`~rnnbook.experiments.run_dates` (a GRU with additive attention,
    greedy against beam search, the attention weights of ``examples`` test dates)
    and :func:`~rnnbook.experiments.run_numbers` twice, with additive attention
    and without, on the same data (English words, 4 to ``max_digits`` digits).
    Smaller than ``rnnbook run dates`` and ``rnnbook run numbers``.

    Returns:
        ``{"settings", "dates": run, "numbers": {"additive": run, "none": run}}``, each run the
        experiment's result (``history``, ``summary``, ...) with ``seconds``, the time it took.
    """
    common = dict(batch_size=batch_size, eval_every=eval_every, test_size=test_size, seed=seed, progress=False)
    with torch_threads(1):
        dates = run_dates(steps=date_steps, hidden=date_hidden, beam_size=beam_size, examples=examples, **common)
        numbers = {
            attention: run_numbers(
                attention=attention, steps=number_steps, hidden=number_hidden, max_digits=max_digits, **common
            )
            for attention in ("additive", "none")
        }
    settings = plain_settings(
        common
        | dict(
            date_steps=date_steps,
            date_hidden=date_hidden,
            number_steps=number_steps,
            number_hidden=number_hidden,
            max_digits=max_digits,
            beam_size=beam_size,
        )
    )
    return {"settings": settings, "dates": dates, "numbers": numbers}


# ---------------------------------------------------------------------------
# Labs 5 and 6: real sequences (variable lengths, packing, bidirectional nets)
# ---------------------------------------------------------------------------


def _sequence_curve(result, *extra):
    """A ``run_negation`` / ``run_langid`` result as a lab keeps it."""
    return _curve(result) | {key: result[key] for key in extra} | {"seconds": result["seconds"]}


def langid_lab(*, docs=None, **settings):
    """Italian or English, on the book's own sentences; cached per version of the text.

    The settings and the result are those of :func:`langid_lab_for_text`.
    """
    return langid_lab_for_text(book_text_digest(docs), docs=docs, **settings)


@memoize
def langid_lab_for_text(
    digest,
    *,
    docs=None,
    directions=("bag", "uni"),
    model="lstm",
    steps=300,
    hidden=32,
    lr=1e-2,
    batch_size=32,
    eval_every=25,
    max_chars=60,
    seed=0,
):
    """:func:`~rnnbook.experiments.run_langid` for each of ``directions``, on the same split.

    Returns:
        ``{"settings", "runs": {direction: curve}}``, a curve also holding a few
        ``mistakes`` (test sentences it got wrong) and ``test_size``.
    """
    common = dict(
        model=model,
        docs=docs,
        steps=steps,
        hidden=hidden,
        lr=lr,
        batch_size=batch_size,
        eval_every=eval_every,
        max_chars=max_chars,
        seed=seed,
        progress=False,
    )
    with torch_threads(1):
        runs = {d: _sequence_curve(run_langid(direction=d, **common), "mistakes", "test_size") for d in directions}
    return {"settings": plain_settings(common | {"docs": None if docs is None else str(docs)}), "runs": runs}


@memoize
def negation_lab(
    *,
    directions=("bag", "uni", "bi"),
    tasks=("classify", "tag"),
    model="lstm",
    steps=300,
    hidden=32,
    lr=1e-2,
    batch_size=32,
    eval_every=25,
    train_size=2000,
    test_size=1000,
    seed=0,
):
    """:func:`~rnnbook.experiments.run_negation` for each task and direction, on the same sentences.

    Returns:
        ``{"settings", "runs": {task: {direction: curve}}, "examples"}``; a classification
        curve also holds ``two_clause_accuracy``, a tagging curve ``accuracy_by_position``.
    """
    common = dict(
        model=model,
        steps=steps,
        hidden=hidden,
        lr=lr,
        batch_size=batch_size,
        eval_every=eval_every,
        train_size=train_size,
        test_size=test_size,
        seed=seed,
        progress=False,
    )
    runs, examples = {}, None
    with torch_threads(1):
        for task in tasks:
            runs[task] = {}
            for d in directions:
                r = run_negation(direction=d, task=task, **common)
                runs[task][d] = _sequence_curve(r, "two_clause_accuracy", "accuracy_by_position")
                examples = r["examples"]
    return {"settings": plain_settings(common), "runs": runs, "examples": examples}


# ---------------------------------------------------------------------------
# Lab 5: the parallel scan, and a long-range task
# ---------------------------------------------------------------------------


@memoize
def scan_lab(
    *,
    lengths=(128, 512, 2048, 8192),
    widths=(1, 64, 1024),
    repeat=3,
    seq_len=200,
    steps=(("mingru", 250), ("lstm", 250)),
    hidden=32,
    batch_size=32,
    lr=1e-2,
    eval_every=25,
    test_size=200,
    seed=0,
):
    """Times of loop and scan, then the adding problem at T = ``seq_len``, minGRU against LSTM.

    First :func:`rnnbook.bench_scan.measure` times :func:`rnnbook.scan.linear_recurrence`
    and its loop (numpy), and the same pair of :mod:`rnnbook.torch_scan`, at every T in
    ``lengths`` and N = B·H in ``widths`` (float32, medians of ``repeat`` runs). Then each
    model of ``steps`` runs :func:`~rnnbook.experiments.run_scan` for its number of steps,
    with the same data and settings. The times are those of the machine that builds the
    book, measured once and cached with the rest.

    Returns:
        ``{"settings", "timing": rows of measure(), "baseline", "runs": {model: curve}}``,
        where a curve is as in :func:`adding_lab`, with ``seconds`` of training.
    """
    settings = dict(
        lengths=lengths,
        widths=widths,
        repeat=repeat,
        seq_len=seq_len,
        steps=dict(steps),
        hidden=hidden,
        batch_size=batch_size,
        lr=lr,
        eval_every=eval_every,
        test_size=test_size,
        seed=seed,
    )
    common = dict(
        seq_len=seq_len,
        hidden=hidden,
        batch_size=batch_size,
        lr=lr,
        eval_every=eval_every,
        test_size=test_size,
        seed=seed,
        progress=False,
    )
    with torch_threads(1):
        timing = bench_scan.measure(lengths, widths, repeat=repeat)
        runs = {}
        for model, n in steps:
            result = run_scan(model=model, steps=n, **common)
            runs[model] = _curve(result) | {"seconds": result["seconds"]}
    return {"settings": settings, "timing": timing, "baseline": tasks.adding_baseline("modern").mse, "runs": runs}


# ---------------------------------------------------------------------------
# Lab: selective copying, SSMs and xLSTM
# ---------------------------------------------------------------------------


@memoize
def ssm_lab(
    *,
    seq_len=32,
    n_copy=4,
    n_symbols=8,
    steps=(("s6", 250), ("lti", 250), ("mlstm", 250), ("lstm", 250)),
    recall_len=8,
    n_pairs=2,
    n_keys=4,
    n_values=4,
    recall_steps=(("s6", 500), ("lti", 500), ("mlstm", 500), ("lstm", 500)),
    lengths=(16, 32, 64, 128),
    recall_lengths=(8, 16, 32, 64),
    hidden=32,
    batch_size=32,
    lr=1e-2,
    eval_every=50,
    test_size=200,
    seed=0,
):
    """Selective copying and associative recall: the four models of :func:`~rnnbook.experiments.run_ssm`.

    Selective copying at T = ``seq_len`` (:func:`~rnnbook.experiments.run_ssm`), then
    multi-query associative recall with ``n_pairs`` pairs and ``recall_len`` steps after
    them (:func:`~rnnbook.experiments.run_recall`). Same seed and settings for every model;
    each trains for its number of steps, then is tested at each length of ``lengths``
    (copying) or ``recall_lengths`` (recall) without further training.

    Returns:
        ``{"settings", "chance", "runs": {model: curve}, "recall": {"chance", "seen", "runs"}}``,
        a curve as in :func:`adding_lab`, with ``seconds`` of training and ``by_length``
        (``{"seq_len": [...], "token_accuracy": [...]}``); ``seen`` is the accuracy of
        guessing one of the values seen in the sequence, 1 / ``n_pairs``.
    """
    settings = plain_settings(locals() | {"steps": dict(steps), "recall_steps": dict(recall_steps)})
    common = dict(
        hidden=hidden,
        batch_size=batch_size,
        lr=lr,
        eval_every=eval_every,
        test_size=test_size,
        seed=seed,
        progress=False,
    )
    copying = dict(seq_len=seq_len, n_copy=n_copy, n_symbols=n_symbols, lengths=lengths)
    recall = dict(seq_len=recall_len, n_pairs=n_pairs, n_keys=n_keys, n_values=n_values, lengths=recall_lengths)

    def curve(result):
        return _curve(result) | {"seconds": result["seconds"], "by_length": result["by_length"]}

    with torch_threads(1):
        runs = {model: curve(run_ssm(model=model, steps=n, **copying, **common)) for model, n in steps}
        recall_runs = {model: curve(run_recall(model=model, steps=n, **recall, **common)) for model, n in recall_steps}
    return {
        "settings": settings,
        "chance": 1 / n_symbols,
        "runs": runs,
        "recall": {"chance": 1 / n_values, "seen": 1 / n_pairs, "runs": recall_runs},
    }


# ---------------------------------------------------------------------------
# What the pages say, checked on the results they show
# ---------------------------------------------------------------------------
# Each lab page calls its check right after its tables: if a new run contradicts
# the text, the notebook raises and the build fails, so the page cannot be published.

ADDING_SOLVED_MSE = 0.01  # the adding page's threshold, its table's column "< 0.01"
REBER_PUBLISHED_SEQUENCES = (8_440, 39_740)  # H&S 1997, Table 1: LSTM successes after this many


class ClaimError(AssertionError):
    """A lab's results contradict what its page says about them."""


def _claim(holds, claim, shown):
    if not holds:
        raise ClaimError(f"the page says {claim}, but the results show {shown}")


def check_adding(result):
    """The adding page: the Elman network stays near the trivial 1/6 (slightly below), the LSTM
    and the GRU go below 0.01, and on H&S's original form the LSTM stays on the plateau.

    >>> from rnnbook.labs import check_adding
    >>> runs = {"rnn": 0.15, "lstm": 0.002, "gru": 0.002}
    >>> result = {"baseline": 1 / 6, "runs": {m: {"final": {"test_mse": v}} for m, v in runs.items()},
    ...           "hs": {"final": {"test_mse": 0.038}}, "hs_baseline": 0.039, "hs_stop": 0.01}
    >>> check_adding(result)
    >>> result["runs"]["gru"]["final"]["test_mse"] = 0.02
    >>> check_adding(result)
    Traceback (most recent call last):
    ...
    rnnbook.labs.ClaimError: the page says the gated networks go below 0.01, but the results show ...
    """
    final = {m: run["final"]["test_mse"] for m, run in result["runs"].items()}
    rnn_final, baseline = final["rnn"], result["baseline"]
    _claim(
        0.8 * baseline < rnn_final < 1.05 * baseline,
        f"the Elman network stays near the trivial MSE {baseline:.4f}",
        f"{rnn_final:.4f}",
    )
    gated = {m: v for m, v in final.items() if m != "rnn"}
    _claim(
        all(gated_final < ADDING_SOLVED_MSE for gated_final in gated.values()),
        f"the gated networks go below {ADDING_SOLVED_MSE}",
        gated,
    )
    hs_final = result["hs"]["final"]["test_mse"]
    _claim(
        hs_final > max(result["hs_stop"], 0.8 * result["hs_baseline"]),
        f"the LSTM stays at the trivial error {result['hs_baseline']:.4f} on the original form",
        f"{hs_final:.4f}",
    )


def check_charlm(result):
    """The charlm page: all three networks beat the unigram entropy of their language, and the
    LSTM on the Italian text goes further down than the numpy Elman network."""
    runs = {"numpy": result["numpy"], **{f"lstm {lang}": run for lang, run in result["lstm"].items()}}
    for name, run in runs.items():
        bpc = run["history"]["eval"][-1]["valid_bpc"]
        unigram = result["data"][run["language"]]["unigram_bits"]
        _claim(bpc < unigram, f"{name} beats the unigram line", f"{bpc:.3f} against {unigram:.3f} bits")
    numpy_bpc = result["numpy"]["history"]["eval"][-1]["valid_bpc"]
    lstm_bpc = result["lstm"][result["numpy"]["language"]]["history"]["eval"][-1]["valid_bpc"]
    _claim(
        lstm_bpc < numpy_bpc,
        "the LSTM goes further down than the numpy network",
        f"{lstm_bpc:.3f} against {numpy_bpc:.3f} bits",
    )


def check_reber(result):
    """The Reber page: the LSTM always succeeds, after a number of sequences near the lower end
    of H&S's table (8,440) or below it; the Elman network succeeds nearly always, later."""
    solved = {m: [t["solved_at_sequences"] for t in trials] for m, trials in result["trials"].items()}
    _claim(result["success"]["lstm"] == 1.0, "the LSTM always succeeds", solved["lstm"])
    low, high = REBER_PUBLISHED_SEQUENCES
    lstm_median = float(np.median(solved["lstm"]))
    _claim(
        lstm_median <= 1.25 * low and max(solved["lstm"]) <= high,
        f"the LSTM succeeds close to {low:,} sequences or sooner",
        solved["lstm"],
    )
    _claim(result["success"]["rnn"] >= 0.6, "the Elman network succeeds nearly always", solved["rnn"])
    rnn_median = float(np.median([n for n in solved["rnn"] if n is not None]))
    _claim(rnn_median > lstm_median, "the Elman network succeeds later than the LSTM", solved)


def check_sine(result):
    """The sine page: every network beats persistence by far (one step and ten), none reaches
    the noise floor, and the Elman network stays close to the gated ones."""
    for key in ("one_step", "multi_step"):
        final = {m: run["final"]["test_mse"] for m, run in result[key].items()}
        persistence = next(iter(result[key].values()))["lines"]["persistence"]
        _claim(
            all(v < 0.5 * persistence for v in final.values()),
            f"every network beats persistence ({persistence:.4f}) by far, {key}",
            final,
        )
        _claim(all(v > result["noise_floor"] for v in final.values()), "none reaches the noise floor", final)
        gated = min(v for m, v in final.items() if m != "rnn")
        _claim(final["rnn"] < 2 * gated, f"the Elman network stays close to the gated networks, {key}", final)


LANGID_SMALL_GAP = 0.05  # "a few test sentences" of the langid page


def check_langid(result):
    """The langid page: both models are far above chance (one half) after a few dozen steps,
    and the difference between the LSTM and the bag of characters is small (a few test
    sentences, of either sign)."""
    for direction, run in result["runs"].items():
        early = max(e["test_accuracy"] for e in run["history"]["eval"] if e["step"] <= 100)
        _claim(
            early > 0.75, f"{direction} is far above chance after a few dozen steps", f"{early:.3f} at most by step 100"
        )
    final = {d: run["final"]["test_accuracy"] for d, run in result["runs"].items()}
    _claim(
        abs(final["uni"] - final["bag"]) < LANGID_SMALL_GAP,
        f"the LSTM and the bag of characters differ by little (under {LANGID_SMALL_GAP})",
        final,
    )


def check_negation(result):
    """The negation page: the bag of words stays near chance on both tasks; the unidirectional
    LSTM is enough for the sentence label, and so is the bidirectional one; on the word labels
    the unidirectional LSTM can only guess the first words, the bidirectional one labels them
    as well as the last ones."""
    runs = result["runs"]
    final = {
        task: {d: run["final"]["test_accuracy"] for d, run in by_direction.items()}
        for task, by_direction in runs.items()
    }
    for task in final:
        _claim(abs(final[task]["bag"] - 0.5) < 0.15, f"the bag of words stays near chance, {task}", final[task])
    _claim(
        min(final["classify"]["uni"], final["classify"]["bi"]) > 0.9,
        "one direction is enough for the sentence label, and two do the same",
        final["classify"],
    )
    _claim(final["tag"]["bi"] > final["tag"]["uni"], "two directions beat one on the word labels", final["tag"])
    first = {d: runs["tag"][d]["accuracy_by_position"][0] for d in ("uni", "bi")}
    _claim(
        first["uni"] < 0.7 < 0.9 < first["bi"],
        "at the first word one direction can only guess and two label it well",
        first,
    )


def check_seq2seq(result):
    """The seq2seq page: the model learns the dates (greedy search) and the two searches almost
    always agree; on numbers, without attention accuracy collapses with length, with attention
    it is higher overall and at the longest numbers, and length matters much less."""
    dates = result["dates"]
    _claim(
        dates["metrics"]["greedy"] > 0.9,
        "the model learns to rewrite the dates",
        f"greedy exact match {dates['metrics']['greedy']:.3f}",
    )
    test_size = result["settings"]["test_size"]
    _claim(
        len(dates["disagreements"]) <= 0.05 * test_size,
        "greedy and beam search almost always agree",
        f"{len(dates['disagreements'])} disagreements in {test_size} dates",
    )
    numbers = result["numbers"]
    overall = {name: run["metrics"]["exact_match"] for name, run in numbers.items()}
    _claim(overall["additive"] > overall["none"], "attention beats no attention", overall)
    ends = {}
    for name, run in numbers.items():
        digits, accuracy = np.array(run["by_length"]["digits"]), np.array(run["by_length"]["exact_match"])
        ends[name] = (
            float(accuracy[digits <= digits.min() + 5].mean()),
            float(accuracy[digits >= digits.max() - 4].mean()),
        )
    _claim(
        ends["additive"][1] > ends["none"][1],
        "attention beats no attention on the longest numbers",
        f"(shortest, longest) {ends}",
    )
    _claim(
        ends["none"][1] < 0.5 * ends["none"][0],
        "without attention accuracy collapses with length",
        f"(shortest, longest) {ends}",
    )
    drop = {name: short - long for name, (short, long) in ends.items()}
    _claim(
        drop["additive"] < drop["none"],
        "with attention length matters much less",
        f"drops from the shortest to the longest {drop}",
    )


def check_scan(result):
    """The scan page: in numpy the scan wins by far with one recurrence and falls behind the loop
    with the widest batch (the printed row); the minGRU goes below 0.01 while the LSTM stays near
    the trivial error; each step of the minGRU costs more than one of the LSTM."""

    def ratio(T, N):
        row = next(r for r in result["timing"] if (r["backend"], r["T"], r["N"]) == ("numpy", T, N))
        return row["loop_s"] / row["scan_s"]

    settings = result["settings"]
    T_max, N_max = max(settings["lengths"]), max(settings["widths"])
    _claim(
        ratio(T_max, 1) > 2, f"the numpy scan wins by far at T = {T_max}, N = 1", f"loop / scan = {ratio(T_max, 1):.2f}"
    )
    _claim(
        ratio(2048, N_max) < 1,
        f"the numpy scan falls behind at T = 2048, N = {N_max}",
        f"loop / scan = {ratio(2048, N_max):.2f}",
    )
    final = {m: run["final"]["test_mse"] for m, run in result["runs"].items()}
    _claim(final["mingru"] < ADDING_SOLVED_MSE, f"the minGRU goes below {ADDING_SOLVED_MSE}", final)
    _claim(
        final["lstm"] > 0.8 * result["baseline"],
        f"the LSTM stays near the trivial error {result['baseline']:.4f}",
        final,
    )
    ms = {m: 1e3 * run["seconds"] / run["final"]["step"] for m, run in result["runs"].items()}
    _claim(ms["mingru"] > ms["lstm"], "each step of the minGRU costs more than one of the LSTM", f"ms per step {ms}")


# Gu & Dao (2023), "Mamba: linear-time sequence modeling with selective state spaces", arXiv:2312.00752v2,
# Table 1 (§4.1.1, p. 11 of the PDF): selective copying, accuracy (%) of two-layer networks, by architecture
# (the block around the sequence layer) and inner sequence layer; App. E.1: sequences of length 4096,
# 16 tokens (the noise token included), 16 data tokens to memorise, model dimension 64, 400K steps
# at learning rate 1e-4 with batch 64. The only place where the book types these numbers.
MAMBA_SELECTIVE_COPYING = (  # (model, architecture, layer, accuracy %)
    ("S4", "No gate", "S4", 18.3),
    ("-", "No gate", "S6", 97.0),
    ("H3", "H3", "S4", 57.0),
    ("Hyena", "H3", "Hyena", 30.1),
    ("-", "H3", "S6", 99.7),
    ("-", "Mamba", "S4", 56.4),
    ("-", "Mamba", "Hyena", 28.4),
    ("Mamba", "Mamba", "S6", 99.8),
)
MAMBA_SELECTIVE_COPYING_SETTING = {"seq_len": 4096, "n_copy": 16, "steps": 400_000}  # App. E.1


OUR_LAYERS = {"s6": "S6", "lti": "LTI", "mlstm": "mLSTM", "lstm": "LSTM"}  # the lab's cells, by name


def selective_copying_rows(result):
    """Gu & Dao's Table 1 (:data:`MAMBA_SELECTIVE_COPYING`) and this lab's networks, one row each.

    A row is ``[source, model, architecture, layer, T, symbols to copy, steps, accuracy]``,
    the accuracy a fraction. The published rows have source ``"Gu & Dao (2023)"``, the
    table's model name (``"-"`` where it gives none) and the setting of their App. E.1;
    the lab's rows (from ``result`` of :func:`ssm_lab`) have source ``"lab"``, the cell's
    name as model and architecture ``None`` (the page names the lab's residual blocks in
    its language).

    >>> from rnnbook.labs import selective_copying_rows
    >>> run = {"final": {"step": 300, "token_accuracy": 0.5}}
    >>> rows = selective_copying_rows({"settings": {"seq_len": 32, "n_copy": 4}, "runs": {"s6": run}})
    >>> rows[0]
    ['Gu & Dao (2023)', 'S4', 'No gate', 'S4', 4096, 16, 400000, 0.183]
    >>> rows[-1]
    ['lab', 's6', None, 'S6', 32, 4, 300, 0.5]
    """
    if not (isinstance(result, dict) and {"settings", "runs"} <= result.keys()):
        raise TypeError(f"result: expected the dict ssm_lab returns, with settings and runs, got {result!r:.60}")
    published = [MAMBA_SELECTIVE_COPYING_SETTING[key] for key in ("seq_len", "n_copy", "steps")]
    rows = [
        ["Gu & Dao (2023)", model, arch, layer, *published, round(accuracy / 100, 4)]
        for model, arch, layer, accuracy in MAMBA_SELECTIVE_COPYING
    ]
    ours = result["settings"]
    rows += [
        [
            "lab",
            model,
            None,
            OUR_LAYERS[model],
            ours["seq_len"],
            ours["n_copy"],
            run["final"]["step"],
            run["final"]["token_accuracy"],
        ]
        for model, run in result["runs"].items()
    ]
    return rows


SSM_VISIBLE_GAP = 0.15  # "visible distance" between two accuracy curves on the ssm page: 15 points
SSM_NEAR = 0.1  # "near" a line on the ssm page: within 10 points


def check_ssm(result):
    """The ssm page. Selective copying: the time-invariant SSM learns something (well above chance),
    about what the best guess blind to order gets, below the experiment's pass line, and stays
    visibly below the selective SSM; the mLSTM gets there too, by a different road; the LSTM stays
    near chance; at the longest length tested the time-invariant SSM falls and the selective SSM
    and the mLSTM stay visibly above it. Associative recall: the selective SSM and the mLSTM go
    visibly above the line of guessing one of the values seen, also at the longest length; the
    time-invariant SSM and the LSTM stay near that line."""
    accuracy = {m: run["final"]["token_accuracy"] for m, run in result["runs"].items()}
    chance = result["chance"]
    _claim(accuracy["lti"] > 2 * chance, f"the time-invariant SSM learns something (chance {chance:.3f})", accuracy)
    lines = result["runs"]["lti"]["lines"]
    _claim(
        lines["best guess blind to order"] - SSM_VISIBLE_GAP < accuracy["lti"] < lines["pass line"],
        "the time-invariant SSM gets about what the best guess blind to order gets, below the pass line",
        f"{accuracy} against {lines}",
    )
    _claim(
        accuracy["s6"] > accuracy["lti"] + SSM_VISIBLE_GAP,
        "the selective SSM stays visibly above the time-invariant one",
        accuracy,
    )
    _claim(
        accuracy["mlstm"] > accuracy["lti"] + SSM_VISIBLE_GAP,
        "the mLSTM gets there too, visibly above the time-invariant SSM",
        accuracy,
    )
    _claim(accuracy["lstm"] < 1.5 * chance, f"the LSTM stays near chance {chance:.3f}", accuracy)
    longest = {m: run["by_length"]["token_accuracy"][-1] for m, run in result["runs"].items()}
    _claim(
        longest["lti"] < accuracy["lti"],
        "the time-invariant SSM falls at the longest length",
        f"{longest['lti']:.3f} against {accuracy['lti']:.3f} at the training length",
    )
    _claim(
        min(longest["s6"], longest["mlstm"]) > longest["lti"] + SSM_VISIBLE_GAP,
        "at the longest length the selective SSM and the mLSTM stay visibly above the time-invariant SSM",
        longest,
    )
    recall, seen = result["recall"]["runs"], result["recall"]["seen"]
    for model in ("s6", "mlstm"):
        reached = (recall[model]["final"]["token_accuracy"], recall[model]["by_length"]["token_accuracy"][-1])
        _claim(
            min(reached) > seen + SSM_VISIBLE_GAP,
            f"on recall {model} goes visibly above the line of a seen value {seen:.3f}, also at the longest length",
            reached,
        )
    stuck = {m: recall[m]["final"]["token_accuracy"] for m in ("lti", "lstm")}
    _claim(
        all(abs(v - seen) < SSM_NEAR for v in stuck.values()),
        f"on recall the time-invariant SSM and the LSTM stay near the line of a seen value {seen:.3f}",
        stuck,
    )


# ---------------------------------------------------------------------------
# All the labs at once, before the book is built
# ---------------------------------------------------------------------------

LABS = {
    "adding": adding_lab,
    "charlm": charlm_lab,
    "reber": reber_lab,
    "sine": sine_lab,
    "langid": langid_lab,
    "negation": negation_lab,
    "seq2seq": seq2seq_lab,
    "scan": scan_lab,
    "ssm": ssm_lab,
}


def is_cached(name):
    """Whether lab ``name`` (a key of :data:`LABS`), with the settings its page uses, is on disk.

    >>> from rnnbook.labs import is_cached
    >>> is_cached("sine") in (True, False)
    True
    """
    if name not in LABS:
        raise ValueError(f"name: expected one of {', '.join(LABS)}, got {name!r}")
    if name == "charlm":
        return charlm_lab_for_text.is_cached(book_text_digest())
    if name == "langid":
        return langid_lab_for_text.is_cached(book_text_digest())
    return LABS[name].is_cached()


def precompute(names=None, processes=2):
    """Compute the labs ``names`` (default: all) not cached yet, ``processes`` at a time.

    The site's build calls this first (``hooks/notebooks.py``): each lab runs
    PyTorch on one thread, so two labs in two processes use both cores of a
    laptop, and the notebooks then read the results from the cache. Each
    process is also limited to one BLAS thread, so that the two do not fight
    over the cores. Returns the names of the labs it computed.

    >>> from rnnbook.labs import precompute
    >>> precompute(["nonsense"])
    Traceback (most recent call last):
    ...
    ValueError: name: expected one of adding, charlm, reber, sine, langid, negation, seq2seq, scan, ssm, got 'nonsense'
    """
    processes = check_int("processes", processes, minimum=1)
    todo = [name for name in (LABS if names is None else names) if not is_cached(name)]
    if processes == 1 or len(todo) < 2:
        for name in todo:
            _compute(name)
        return todo
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: safe with torch's threads
    with environment(ONE_BLAS_THREAD), ProcessPoolExecutor(min(processes, len(todo)), mp_context=context) as pool:
        list(pool.map(_compute, todo))  # the new processes inherit the environment
    return todo


def _compute(name):
    """Run lab ``name`` for its cache entry (in a worker process: nothing is sent back)."""
    LABS[name]()
