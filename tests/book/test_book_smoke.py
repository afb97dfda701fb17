"""Every chapter, executed with papermill on a tiny MPD, and the book built from them.

Two runs, as `make book` does them with a real-layout MPD directory: one with the held-out
tracks of a locally built challenge set (graded), one with the challenge set alone, as with
the official one (no grade, yet every chapter must run). The book built from the graded run
must pass Sphinx with warnings as errors, load no remote script or stylesheet, serve MathJax
itself and show no TensorFlow log lines.
"""

from __future__ import annotations

import html as html_text
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import orjson
import pytest
from mpd_data import challenge_build, included, mpd_dir, package_object

papermill = pytest.importorskip("papermill")

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
SMALL = {  # parameters that make each chapter quick; every chapter ignores the ones it lacks
    "n_slices": 5,
    "per_category": 10,
    "epochs": 1,
    "batch_size": 4096,
    "latent_dim": 8,
    "dense_layers": [32, 16, 8],
    "n_clusters": 8,
    "validation_per_category": 10,
    "depth": 100,
}
sys.path.insert(0, str(ROOT / "tools"))
from clean_reference import drop_native_logs  # noqa: E402


def _execute(out: Path, work: Path, truth: bool, monkeypatch) -> dict[str, Path]:
    """Run every chapter in order, as `make book` does; returns chapter -> executed notebook."""
    build = challenge_build()
    monkeypatch.setenv("MPD_BOOK_DATA", str(out / "embedded"))  # chapter 0's own data, kept small
    out.mkdir(parents=True, exist_ok=True)
    challenge_path = build.challenge_path
    if not truth:  # as the official set: no build id, and no truth that would name its source playlists
        doc = orjson.loads(build.challenge_path.read_bytes())
        del doc["build"]
        challenge_path = out / "challenge_set.json"
        challenge_path.write_bytes(orjson.dumps(doc))
    data = {
        "data_dir": str(mpd_dir(5)),
        "challenge_path": str(challenge_path),
        "truth_path": str(build.truth_path) if truth else None,
        "work_dir": str(work),
    }
    done = {}
    for chapter in CHAPTERS:
        source = out / f".{chapter}.ipynb"
        nbformat.write(jupytext.read(ROOT / "notebooks" / f"{chapter}.py"), source)
        declared = set(papermill.inspect_notebook(str(source)))
        params = {k: v for k, v in {**SMALL, **data}.items() if k in declared}
        target = out / f"{chapter}.ipynb"
        papermill.execute_notebook(
            str(source),
            str(target),
            parameters=params,
            cwd=str(ROOT / "notebooks"),
            kernel_name="python3",
            progress_bar=False,
        )
        drop_native_logs_in_place(target)
        done[chapter] = target
    return done


def drop_native_logs_in_place(path: Path) -> None:
    """What `make book` does to each executed chapter."""
    nbformat.write(drop_native_logs(nbformat.read(path, as_version=4)), path)


def _text(path: Path) -> str:
    """All outputs of a notebook as one string."""
    nb = nbformat.read(path, as_version=4)
    return "\n".join(
        str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )


@pytest.mark.slow
def test_every_chapter_runs_without_held_out_tracks(tmp_path, monkeypatch):
    done = _execute(tmp_path / "nb", tmp_path / "work", truth=False, monkeypatch=monkeypatch)
    assert set(done) == set(CHAPTERS)
    evaluation = _text(done["06_evaluation"])
    assert "cannot be graded" in evaluation
    assert "R-precision vs item-kNN" not in evaluation  # no grade is made up
    assert "by R-precision" not in _text(done["07_beyond"])  # nor a ranking by one
    assert (tmp_path / "work" / "submission.csv").is_file()


@pytest.mark.slow
def test_every_chapter_runs_graded_and_the_book_builds_offline(tmp_path, monkeypatch):
    done = _execute(tmp_path / "book" / "book" / "generated", tmp_path / "work", truth=True, monkeypatch=monkeypatch)
    assert "R-precision vs item-kNN" in _text(done["06_evaluation"])
    assert {"02_neumf", "03_clustering", "04_application", "06_evaluation"} <= {
        p.stem for p in (tmp_path / "work" / "figures").glob("*.json")
    }
    site = tmp_path / "book"
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, site / name)
    for page in [*(ROOT / "book").glob("*.md"), ROOT / "book" / "references.bib"]:
        shutil.copy(page, site / "book" / page.name)
    shutil.copytree(ROOT / "mpd_helpers", site / "mpd_helpers")  # the chapters include its code
    shutil.copytree(ROOT / "book" / "_static", site / "book" / "_static")
    shutil.copytree(ROOT / "book" / "_ext", site / "book" / "_ext")  # the book's own Sphinx extensions
    for hidden in (site / "book" / "generated").glob(".*.ipynb"):
        hidden.unlink()
    jb = Path(sys.executable).with_name("jupyter-book")
    built = subprocess.run(
        [str(jb), "build", "--all", "-W", "-n", "--keep-going", str(site)], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    html = site / "_build" / "html"
    pages = {p.relative_to(html).as_posix(): p.read_text() for p in html.rglob("*.html")}
    assert {f"book/generated/{c}.html" for c in CHAPTERS} <= set(pages)
    remote = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//", re.I)
    offenders = {name: remote.findall(text) for name, text in pages.items() if remote.search(text)}
    assert not offenders, f"pages load remote scripts or styles: {offenders}"
    mathjax = [p for p in pages.values() if "mathjax/tex-chtml.js" in p]
    assert mathjax and (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    native = ("absl::InitializeLog", "oneDNN custom operations", "rebuild TensorFlow with the appropriate")
    logs = {name for name, text in pages.items() if any(s in text for s in native)}
    assert not logs, f"TensorFlow log lines on {sorted(logs)}"
    noise = {name for name, text in pages.items() if "IProgress not found" in text}  # tqdm.auto, on import
    assert not noise, f"library warnings on {sorted(noise)}"
    for name, chapters in included().items():
        for chapter in chapters:
            text = _visible_text(pages[f"book/generated/{chapter}.html"])
            missing = [line for line in _source_lines(name) if line not in text]
            assert not missing, f"{chapter} does not show {name}: {missing[:3]}"
    neumf_page = pages["book/generated/02_neumf.html"]
    assert 'id="equation-eq-bce"' in neumf_page and 'href="#equation-eq-bce"' in neumf_page
    assert "references.html#id" in neumf_page  # a citation links to the bibliography
    assert "neural collaborative filtering" in _visible_text(pages["book/references.html"]).lower()
    assert "[Chen et al., 2018]" in _visible_text(pages["book/references.html"])  # labelled as the text cites
    repeated = {name for name, text in pages.items() if text.count("const THEBE_JS_URL") > 1}
    assert not repeated, f"pages declaring THEBE_JS_URL twice (an error in the browser): {sorted(repeated)}"


def _source_lines(dotted: str) -> list[str]:
    """The non-blank lines of a package object's source, stripped."""
    return [line.strip() for line in inspect.getsource(package_object(dotted)).splitlines() if line.strip()]


def _visible_text(page: str) -> str:
    """A page's text without tags, one stripped line per source line."""
    text = html_text.unescape(re.sub(r"<[^>]+>", "", page))
    return "\n".join(line.strip() for line in text.splitlines())
