"""Publishing: the workflows and CITATION.cff pass their schemas, one version number
everywhere, and the links that depend on where the book is published (repo_url and
site_url in mkdocs.yml) appear when they are set and not at all when they are not."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

import rnnbook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hooks"))
import notebooks  # noqa: E402

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def check_jsonschema(schema, *paths):
    """check-jsonschema with one of its vendored schemas (no network)."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
    )


def test_workflows_pass_the_github_workflow_schema():
    assert [p.name for p in WORKFLOWS] == ["pages.yml", "test.yml"]
    result = check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_bites(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\njobs:\n  a:\n    runs-on: ubuntu-latest\n    step: []\n", encoding="utf-8")
    assert check_jsonschema("vendor.github-workflows", broken).returncode == 1


def steps(workflow):
    jobs = yaml.safe_load((ROOT / ".github" / "workflows" / workflow).read_text(encoding="utf-8"))["jobs"]
    return [step for job in jobs.values() for step in job["steps"]]


def test_the_workflows_test_then_publish():
    """Both run make test (.ci/run: Chromium from apt, then make test); pages.yml then deploys."""
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for workflow in ("test.yml", "pages.yml"):
        used = [step.get("uses", "").split("@")[0] for step in steps(workflow)]
        runs = [step["run"].split("#")[0].strip() for step in steps(workflow) if "run" in step]
        assert used[:2] == ["actions/checkout", "actions/setup-python"], workflow
        assert steps(workflow)[1]["with"]["cache"] == "pip"
        assert ".ci/run" in runs, workflow
    used = [step.get("uses", "").split("@")[0] for step in steps("pages.yml")]
    assert used[-2:] == ["actions/upload-pages-artifact", "actions/deploy-pages"]


def test_citation_file_passes_its_schema():
    result = check_jsonschema("vendor.citation-file-format", ROOT / "CITATION.cff")
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_version_everywhere():
    """rnnbook.__version__ is the source; the others state it."""
    version = rnnbook.__version__
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject and 'attr = "rnnbook.__version__"' in pyproject
    assert yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))["version"] == version
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(r"^## (\S+)", changelog, flags=re.M)[1] == version, "CHANGELOG.md: the newest entry"
    for page in ("coursework.md", "coursework.en.md"):
        note = re.search(r"note\s*=\s*\{.*?(\S+)\},", (ROOT / "docs" / page).read_text(encoding="utf-8"))
        assert note[1] == version, f"{page}: the BibTeX entry's version"


# ---------------------------------------------------------------------------
# Links from repo_url and site_url (hooks/notebooks.py)
# ---------------------------------------------------------------------------


def lab_page(url="labs/charlm/", src_uri="labs/charlm.md"):
    return SimpleNamespace(url=url, file=SimpleNamespace(src_uri=src_uri))


@pytest.mark.parametrize(
    "repo_url, colab",
    [
        (None, None),
        ("", None),
        ("https://gitlab.com/someone/book", None),  # Colab opens notebooks from GitHub only
        ("https://github.com/someone/book/", "https://colab.research.google.com/github/someone/book/blob/gh-pages/"),
        (
            "https://github.com/some-one/my.book.git",
            "https://colab.research.google.com/github/some-one/my.book/blob/gh-pages/",
        ),
    ],
)
def test_colab_url_comes_from_repo_url(repo_url, colab):
    config = {"repo_url": repo_url}
    assert notebooks.colab_url(config, lab_page()) == (colab and colab + "labs/charlm/charlm.ipynb")
    english = lab_page("en/labs/charlm/", "labs/charlm.en.md")
    assert notebooks.colab_url(config, english) == (colab and colab + "en/labs/charlm/charlm.ipynb")
    assert notebooks.repository(config) == ((repo_url or "").rstrip("/") or None)


def test_without_repo_url_a_lab_offers_only_its_download():
    config = {"repo_url": None, "theme": {"language": "it"}}
    page = lab_page()
    page.file.abs_src_path = str(ROOT / "docs" / "labs" / "charlm.md")
    html = notebooks.on_page_content("<h1>Titolo</h1><p>x</p>", page, config, None)
    links = re.findall(r'<a [^>]*href="([^"]+)"', html)
    assert links == ["charlm.ipynb"]


def test_a_lab_download_is_the_same_file_at_every_build(tmp_path):
    """Two builds write byte-identical .ipynb files (nbformat would give each cell a new random id)."""
    config = {"repo_url": "https://github.com/someone/book", "theme": {"language": "en"}}
    page = lab_page("en/labs/charlm/", "labs/charlm.en.md")
    page.file.abs_src_path = str(ROOT / "docs" / "labs" / "charlm.en.md")
    page.canonical_url = "https://someone.github.io/book/en/labs/charlm/"
    written = []
    for build in ("first", "second"):
        notebooks.on_post_page("<html></html>", page, {**config, "site_dir": str(tmp_path / build)})
        written.append((tmp_path / build / "en" / "labs" / "charlm" / "charlm.ipynb").read_bytes())
    assert written[0] == written[1]


@pytest.mark.slow
def test_a_build_with_repo_url_and_site_url_links_to_them(tmp_path, monkeypatch):
    """The real configuration and hooks on a small book, published at made-up addresses."""
    import nbformat
    from test_machinery import build, make_book

    monkeypatch.setenv("RNNBOOK_REPO_URL", "https://github.com/someone/book")
    monkeypatch.setenv("RNNBOOK_SITE_URL", "https://someone.github.io/book/")
    book = make_book(tmp_path)
    result = build(book)
    assert result.returncode == 0, result.stderr[-3000:]
    site = book / "site"
    for prefix, intro in (("", "Questo notebook"), ("en/", "This notebook")):
        html = (site / prefix / "labs" / "lab" / "index.html").read_text(encoding="utf-8")
        links = re.search(r'<p class="rnnbook-notebook-links">(.*?)</p>', html)[1]
        assert re.findall(r'href="([^"]+)"', links) == [
            "lab.ipynb",
            f"https://colab.research.google.com/github/someone/book/blob/gh-pages/{prefix}labs/lab/lab.ipynb",
        ]
        assert 'href="https://github.com/someone/book" title=' in html  # the header's repository link
        assert 'data-md-component="source"' not in html  # nothing fetched from GitHub's API
        notebook = nbformat.read(site / prefix / "labs" / "lab" / "lab.ipynb", as_version=4)
        first, install = notebook.cells[:2]
        assert first.cell_type == "markdown" and first.source.startswith(intro)
        assert f"https://someone.github.io/book/{prefix}labs/lab/" in first.source
        assert '%pip install --quiet "rnnbook @ git+https://github.com/someone/book"' in install.source
