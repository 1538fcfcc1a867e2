"""The build cache is keyed by the source a result is computed with: never stale, never
recomputed for an edit elsewhere."""

import shutil

import pytest

from rnnbook import cache, labs
from rnnbook.figures import FIGURES, render_svg


def test_results_persist_and_depend_on_the_source(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path))
    calls = []

    @cache.memoize
    def double(x, factor=2):
        calls.append(x)
        return factor * x

    assert double(4) == 8 and double(4) == 8 and double(4, factor=2) == 8
    assert calls == [4], "f(x) and f(x, default) are one entry"
    assert len(list(tmp_path.glob("double-*.pkl"))) == 1

    monkeypatch.setattr(cache, "source_hash", lambda *modules: "edited package")
    assert double(4) == 8
    assert calls == [4, 4], "a change to the source must recompute"


def test_a_lab_uses_what_it_imports_and_nothing_else():
    used = cache.modules_used("rnnbook.labs")
    assert {"rnnbook.labs", "rnnbook.experiments", "rnnbook.rnn", "rnnbook.cell", "rnnbook.torch_train"} <= set(used)
    assert not {"rnnbook.gradcheck", "rnnbook.vanishing", "rnnbook.attention", "rnnbook.figures.rnn"} & set(used)


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the package whose source the cache hashes, to edit."""
    copy = tmp_path / "rnnbook"
    shutil.copytree(cache.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "PACKAGE_DIR", copy)
    return copy


def edit(path):
    path.write_text(path.read_text(encoding="utf-8") + "\n# an edited comment\n", encoding="utf-8")


@pytest.mark.parametrize("lab", ["adding", "reber", "sine"])
def test_a_lab_key_changes_with_a_module_it_uses_only(package_copy, lab):
    fn = labs.LABS[lab].__wrapped__

    def key():
        return cache.key(fn, (), {})

    before = key()
    for unused in ("gradcheck.py", "attention.py", "vanishing.py", "figures/rnn.py", "__main__.py"):
        edit(package_copy / unused)
    assert key() == before, "an edit in a module the lab does not use keeps its results"
    edit(package_copy / "torch_train.py")
    assert key() != before, "an edit in a module the lab uses computes it again"


def test_a_figure_key_follows_the_module_that_draws_it(package_copy):
    assert FIGURES["activations"].__module__ == "rnnbook.figures.vanishing"

    def key():
        return cache.key(render_svg.__wrapped__, ("activations",), {}, uses=lambda name: [FIGURES[name].__module__])

    before = key()
    edit(package_copy / "figures" / "rnn.py")
    assert key() == before
    edit(package_copy / "vanishing.py")  # imported by figures/vanishing.py
    assert key() != before


def test_is_cached_sees_the_charlm_lab_its_page_computes(tmp_path, monkeypatch):
    """labs.is_cached("charlm") asks for the call the lab makes (it used to miss ``docs``)."""
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path))
    assert not labs.is_cached("charlm")
    digest = labs.book_text_digest()
    key = cache.key(labs.charlm_lab_for_text.__wrapped__, (digest,), {"docs": None})
    path = tmp_path / f"charlm_lab_for_text-{key}.pkl"
    path.write_bytes(b"")
    assert labs.is_cached("charlm")


def test_keyword_arguments_are_part_of_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path))

    @cache.memoize
    def power(x, *, n=2):
        return x**n

    assert power(3) == 9 and power(3, n=3) == 27 and power(3, n=2) == 9
    assert power.is_cached(3, n=3) and not power.is_cached(3, n=4)
