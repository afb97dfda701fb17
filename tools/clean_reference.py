"""Clean a freshly executed notebook before it becomes a tracked reference notebook.

Removes what changes from run to run without saying anything about the results, so that
`make reference` gives quiet diffs: papermill's notebook and cell metadata (paths, timings,
status), the kernel's per-cell execution timestamps, and stderr stream outputs (warnings,
progress bars, TensorFlow's start-up log). Execution counts stay: nbval only compares the
outputs of cells that have one. Usage: python tools/clean_reference.py NOTEBOOK.ipynb
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat

VOLATILE_CELL_METADATA = ("papermill", "execution", "ExecuteTime")


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
            cell.outputs = [out for out in cell.outputs
                            if not (out.output_type == "stream" and out.name == "stderr")]
    return nb


def main(path: str) -> int:
    """Rewrite the notebook at path, cleaned, through a temporary file."""
    target = Path(path)
    nb = clean(nbformat.read(target, as_version=4))
    tmp = target.with_name(f".{target.name}.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, target)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    raise SystemExit(main(sys.argv[1]))
