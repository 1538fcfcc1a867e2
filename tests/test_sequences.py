"""The chapter's other pieces: embedding, padded batches, the negation grammar, the book's sentences,
the PyTorch models that use packing, and the two experiments behind the labs (tiny runs)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rnnbook import experiments, layers, sequence_tasks
from rnnbook.__main__ import main
from rnnbook.torch_sequences import BagOfEmbeddings, RecurrentClassifier, RecurrentTagger

TINY = ["--steps", "2", "--eval-every", "1", "--no-progress"]


# --- numpy embedding ---------------------------------------------------------------


def test_embedding_equals_torch():
    rng = np.random.default_rng(0)
    W = layers.embedding_init(7, 3, rng=rng)
    ids = rng.integers(0, 7, size=(5, 4))
    ids[0, 0] = ids[1, 0] = 2  # a repeated token: its gradients must add up
    xs, cache = layers.embedding_forward(ids, W)
    dxs = rng.standard_normal(xs.shape)
    module = torch.nn.Embedding(7, 3, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(W))
    out = module(torch.from_numpy(ids))
    (out * torch.from_numpy(dxs)).sum().backward()
    np.testing.assert_array_equal(xs, out.detach().numpy())
    np.testing.assert_allclose(layers.embedding_backward(dxs, cache), module.weight.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(xs, np.eye(7)[ids] @ W, rtol=1e-15)  # a lookup is a product with one-hots


def test_embedding_errors():
    W = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"ids: expected token ids in \[0, V - 1\] = \[0, 3\], got values in \[0, 4\]"):
        layers.embedding_forward(np.array([0, 4]), W)
    with pytest.raises(TypeError, match="ids: expected an integer numpy array, got float64"):
        layers.embedding_forward(np.array([0.0]), W)


# --- data ------------------------------------------------------------------------------


def test_pad_batch():
    ids, lengths = sequence_tasks.pad_batch([[1], [2, 3, 4], [5, 6]])
    assert ids.shape == (3, 3) and lengths.tolist() == [1, 3, 2]
    assert ids[:, 0].tolist() == [1, 0, 0] and ids[:, 2].tolist() == [5, 6, 0]
    with pytest.raises(
        ValueError, match=r"sequences: expected at least one sequence, each of length >= 1, got lengths \[1, 0\]"
    ):
        sequence_tasks.pad_batch([[1], []])


@pytest.mark.parametrize("language", ["it", "en"])
def test_negation_grammar(language):
    rng = np.random.default_rng(1)
    vocab = set(sequence_tasks.negation_vocab(language))
    lexicon = sequence_tasks.LEXICON[language]
    for _ in range(300):
        s = sequence_tasks.negation_sentence(language, rng)
        assert set(s.tokens) <= vocab and len(s.tags) == len(s.tokens)
        assert s.label == s.tags[-1]
        # Recompute the last clause's polarity from its words: adjective, flipped by a negation.
        words = s.tokens[s.tokens.index(lexicon["but"]) + 1 :] if lexicon["but"] in s.tokens else s.tokens
        positive = words[-1] in lexicon["positive"]
        negation_words = {w for pair in lexicon["negations"] for part in pair for w in part.split()}
        assert s.label == int(positive != bool(negation_words & set(words)))


def test_bag_of_words_cannot_tell_some_sentences_apart():
    """Two clauses swapped: the same bag of words, opposite labels."""
    rng = np.random.default_rng(2)
    found = False
    for _ in range(200):
        s = sequence_tasks.negation_sentence("en", rng, two_clauses=1.0)
        i = s.tokens.index("but")
        swapped = s.tokens[i + 1 :] + ["but"] + s.tokens[:i]
        if sorted(swapped) == sorted(s.tokens) and s.tags[0] != s.tags[-1]:
            found = True  # the swapped sentence's label is s.tags[0] != s.label
            break
    assert found


def test_book_sentences(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("Una rete ricorrente ricorda il passato. Il costo è $x$. Corta.\n", encoding="utf-8")
    (docs / "a.en.md").write_text("A recurrent network remembers the past. Same words here.\n", encoding="utf-8")
    assert sequence_tasks.book_sentences(docs, min_chars=10) == [
        ("una rete ricorrente ricorda il passato.", 0),
        ("a recurrent network remembers the past.", 1),
        ("same words here.", 1),
    ]
    real = sequence_tasks.book_sentences()
    texts = [t for t, _ in real]
    assert len(real) > 500 and {label for _, label in real} == {0, 1}
    assert len({t for t, label in real if label == 0} & {t for t, label in real if label == 1}) == 0
    assert all(20 <= len(t) <= 60 for t in texts)


# --- PyTorch models with packing: each sequence as if it were alone ---------------------


def _batch(rng, lengths, vocab=9):
    ids, lengths = sequence_tasks.pad_batch([rng.integers(1, vocab, size=n) for n in lengths])
    return torch.from_numpy(ids), torch.from_numpy(lengths)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_models_see_each_sequence_alone(cell, bidirectional):
    rng = np.random.default_rng(3)
    torch.manual_seed(0)
    ids, lengths = _batch(rng, [3, 5, 1, 4])
    classifier = RecurrentClassifier(9, 3, num_layers=2, bidirectional=bidirectional, cell=cell).double().eval()
    tagger = RecurrentTagger(9, 3, num_layers=2, bidirectional=bidirectional, cell=cell).double().eval()
    with torch.no_grad():
        logits, _ = classifier(ids, lengths=lengths)
        tags, _ = tagger(ids, lengths=lengths)
        for b, n in enumerate(lengths.tolist()):
            alone = ids[:n, b : b + 1]  # no padding at all
            torch.testing.assert_close(classifier(alone)[0][0], logits[b], rtol=1e-12, atol=1e-12)
            torch.testing.assert_close(tagger(alone)[0][:, 0], tags[:n, b], rtol=1e-12, atol=1e-12)


def test_bag_ignores_padding_and_order():
    rng = np.random.default_rng(4)
    ids, lengths = _batch(rng, [3, 5])
    model = BagOfEmbeddings(9, 2)
    other = ids.clone()
    other[3:, 0] = 7  # different padding
    other[:3, 0] = other[:3, 0].flip(0)  # and the tokens in reverse order
    with torch.no_grad():
        torch.testing.assert_close(model(ids, lengths=lengths)[0], model(other, lengths=lengths)[0])


def test_model_errors():
    model = RecurrentClassifier(9, 2)
    with pytest.raises(ValueError, match=r"ids: expected an int64 tensor \(T, B\), got torch.float32 \(2, 3\)"):
        model(torch.zeros(2, 3))
    with pytest.raises(
        ValueError, match=r"lengths: expected \(B,\) = \(2,\) integers in \[1, T\] = \[1, 3\], got \[4, 1\]"
    ):
        model(torch.ones(3, 2, dtype=torch.long), lengths=torch.tensor([4, 1]))


# --- the experiments, tiny ------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        ["--task", "classify", "--direction", "uni"],
        ["--task", "tag", "--direction", "bi", "--num-layers", "2", "--model", "gru"],
        ["--task", "tag", "--direction", "bag", "--language", "it"],
    ],
)
def test_run_negation(extra, tmp_path, capsys):
    argv = ["run", "negation", *extra, "--train-size", "20", "--test-size", "10", "--batch-size", "4"]
    assert main([*argv, "--out", str(tmp_path), *TINY]) == 0
    assert "synthetic" in capsys.readouterr().out
    result = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))
    assert 0 <= result["history"]["eval"][-1]["test_accuracy"] <= 1


@pytest.mark.parametrize("direction", ["uni", "bag"])
def test_run_langid(direction, tmp_path, capsys):
    assert main(["run", "langid", "--direction", direction, "--batch-size", "4", "--out", str(tmp_path), *TINY]) == 0
    assert "Italian or English" in capsys.readouterr().out


def test_sequence_results_are_plain_data():
    result = experiments.run_negation(task="tag", steps=1, train_size=8, test_size=4, batch_size=2, progress=False)
    assert json.loads(json.dumps(result)) == result
    assert 3 <= len(result["accuracy_by_position"]) <= 15  # the longest sentence: two clauses of 7 words and "but"
    assert all(0 <= a <= 1 for a in result["accuracy_by_position"])


# --- the labs' computations, tiny ------------------------------------------------------


def test_negation_lab_runs_every_task_and_direction(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path / "cache"))
    from rnnbook import labs

    result = labs.negation_lab(steps=2, hidden=4, batch_size=4, eval_every=1, train_size=8, test_size=6)
    assert set(result["runs"]) == {"classify", "tag"}
    assert all(set(runs) == {"bag", "uni", "bi"} for runs in result["runs"].values())
    assert result["runs"]["tag"]["bi"]["accuracy_by_position"]
    assert result["runs"]["classify"]["uni"]["two_clause_accuracy"] is not None


def test_langid_lab_is_cached_per_text(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path / "cache"))
    from rnnbook import labs

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("Una rete ricorrente ricorda il passato. " * 10, encoding="utf-8")
    (docs / "a.en.md").write_text("A recurrent network remembers the past well. " * 10, encoding="utf-8")
    result = labs.langid_lab(docs=docs, steps=2, hidden=4, batch_size=4, eval_every=1)
    assert set(result["runs"]) == {"bag", "uni"} and result["runs"]["uni"]["test_size"] == 4
    assert labs.langid_lab_for_text.is_cached(
        labs.book_text_digest(docs), docs=docs, steps=2, hidden=4, batch_size=4, eval_every=1
    )
