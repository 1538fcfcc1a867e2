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


def test_source_hash_changes_with_any_byte_of_any_module(tmp_path, monkeypatch):
    """Recomputed over a small package: one character edited in a nested module changes it."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    monkeypatch.setattr(cache, "PACKAGE_DIR", tmp_path)

    def digest():
        cache.source_hash.cache_clear()
        return cache.source_hash()

    try:
        first = digest()
        (tmp_path / "sub" / "b.py").write_text("y = 3\n")
        second = digest()
        (tmp_path / "sub" / "b.py").rename(tmp_path / "b.py")  # the same bytes under another path
        third = digest()
    finally:
        cache.source_hash.cache_clear()
    assert len({first, second, third}) == 3


def test_keyword_arguments_are_part_of_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path))

    @cache.memoize
    def power(x, *, n=2):
        return x**n

    assert power(3) == 9 and power(3, n=3) == 27 and power(3, n=2) == 9
    assert power.is_cached(3, n=3) and not power.is_cached(3, n=4)
