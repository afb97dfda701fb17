r"""Clean a freshly executed notebook before it becomes a tracked reference notebook.

Removes what changes from run to run without saying anything about the results, so that
`make reference` gives quiet diffs: papermill's notebook and cell metadata (paths, timings,
status), the kernel's per-cell execution timestamps, stderr stream outputs (warnings,
progress bars, TensorFlow's start-up log), and the intermediate states of progress bars
redrawn in place on stdout (consecutive stream pieces are joined and the text that a \r or
\b overwrote is dropped, as a terminal or nbval would). Execution counts stay: nbval only
compares the outputs of cells that have one.
With --book, for a chapter executed for the book: stderr stays (a warning is for the reader
to see), less the native log lines TensorFlow and absl print at start-up, and papermill's
metadata stays too.

Usage: python tools/clean_reference.py [--book] NOTEBOOK.ipynb
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat

VOLATILE_CELL_METADATA = ("papermill", "execution", "ExecuteTime")
OVERWRITTEN_BY_BACKSPACE = re.compile(r"[^\n]\x08")
OVERWRITTEN_BY_RETURN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)
# Lines TensorFlow's C++ runtime and absl write straight to the process's stderr.
NATIVE_LOG_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] .*"
    r"|[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.)\n?",
    re.MULTILINE,
)


def resolve_redraws(text: str) -> str:
    """The text as it finally reads once backspaces and carriage returns are applied."""
    previous = None
    while previous != text:
        previous, text = text, OVERWRITTEN_BY_BACKSPACE.sub("", text)
    return OVERWRITTEN_BY_RETURN.sub("", text)


def merge_streams(outputs: list) -> list:
    """Join consecutive stream outputs of the same stream and resolve their redraws."""
    merged: list = []
    for out in outputs:
        if (
            out.output_type == "stream"
            and merged
            and merged[-1].output_type == "stream"
            and merged[-1].name == out.name
        ):
            merged[-1].text += out.text
        else:
            merged.append(out)
    for out in merged:
        if out.output_type == "stream":
            out.text = resolve_redraws(out.text)
    return merged


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop volatile metadata and stderr outputs from a notebook, in place."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            raise SystemExit("a papermill injected-parameters cell must not enter a reference notebook")
        if cell.cell_type == "code":
            cell.outputs = merge_streams(
                [out for out in cell.outputs if not (out.output_type == "stream" and out.name == "stderr")]
            )
    return nb


def drop_native_logs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove TensorFlow's and absl's log lines from stderr, and streams left empty, in place."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = merge_streams(cell.outputs)
        for out in outputs:
            if out.output_type == "stream" and out.name == "stderr":
                out.text = NATIVE_LOG_LINE.sub("", out.text)
        cell.outputs = [out for out in outputs if not (out.output_type == "stream" and not out.text)]
    return nb


def main(path: str, book: bool = False) -> int:
    """Rewrite the notebook at path, cleaned, through a temporary file."""
    target = Path(path)
    nb = nbformat.read(target, as_version=4)
    nb = drop_native_logs(nb) if book else clean(nb)
    tmp = target.with_name(f".{target.name}.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, target)
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    book = args[:1] == ["--book"]
    if len(args) != 1 + book:
        raise SystemExit(__doc__)
    raise SystemExit(main(args[-1], book=book))
