"""tools/mutate.py stays current: every mutant's original text is still in its file, exactly
once, and its tests exist. (Running the mutants takes minutes: `python tools/mutate.py`.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("mutate", ROOT / "tools" / "mutate.py")
mutate = sys.modules.setdefault("mutate", importlib.util.module_from_spec(spec))
spec.loader.exec_module(mutate)


@pytest.mark.parametrize("mutant", mutate.MUTANTS, ids=lambda m: m.name)
def test_the_mutant_still_applies(mutant):
    text = (ROOT / mutant.path).read_text(encoding="utf-8")
    assert text.count(mutant.original) == 1, f"update tools/mutate.py: {mutant.original!r} in {mutant.path}"
    assert mutant.replacement != mutant.original
    paths = [path.split("::")[0] for path in mutate.paths(mutant.tests)]
    assert paths and all((ROOT / p).exists() for p in paths), mutant.tests


def test_mutant_names_are_unique_and_cover_the_modules_that_matter():
    names = [m.name for m in mutate.MUTANTS]
    assert len(names) == len(set(names))
    covered = {m.path for m in mutate.MUTANTS}
    for module in (
        "rnn",
        "lstm",
        "gru",
        "bptt",
        "optim",
        "layers",
        "tasks",
        "vanishing",
        "labs",
        "cache",
        "deep",
        "masking",
        "attention",
        "decoding",
        "scan",
        "mingru",
        "lru",
        "linear_attention",
    ):
        assert f"rnnbook/{module}.py" in covered, module
    assert "hooks/parity.py" in covered and any(p.startswith("rnnbook/figures/") for p in covered)
    assert any("train" in p for p in covered)
