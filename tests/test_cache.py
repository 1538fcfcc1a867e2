"""The build cache is keyed by the package's source: never stale."""

from rnnbook import cache


def test_results_persist_and_depend_on_the_source(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path))
    calls = []

    @cache.memoize
    def double(x):
        calls.append(x)
        return 2 * x

    assert double(4) == 8 and double(4) == 8
    assert calls == [4]
    assert len(list(tmp_path.glob("double-*.pkl"))) == 1

    monkeypatch.setattr(cache, "source_hash", lambda: "edited package")
    assert double(4) == 8
    assert calls == [4, 4], "a change to the package's source must recompute"


def test_source_hash_covers_every_module():
    assert len(cache.source_hash()) == 64
    assert cache.PACKAGE_DIR.joinpath("cache.py").exists()
