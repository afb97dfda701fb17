"""Make the chapters' recorded figures the reference that `make test` checks them against.

Usage: python tools/record_figures.py RECORDS_DIR REFERENCE_JSON CHAPTER [CHAPTER ...]

Reads RECORDS_DIR/<chapter>.json for each chapter given (the ones `make reference` has just
executed) and writes them into REFERENCE_JSON, keeping the other chapters' entries.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from mpd_helpers import recorded


def main(records: str, reference: str, *chapters: str) -> int:
    """Merge the given chapters' records into the reference file, through a temporary file."""
    target = Path(reference)
    merged = json.loads(target.read_text()) if target.is_file() else {}
    for chapter in chapters:
        path = Path(records) / f"{chapter}.json"
        if path.is_file():
            merged[chapter] = recorded.read(path)
        else:
            merged.pop(chapter, None)  # the chapter records nothing (any more)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")
    os.replace(tmp, target)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    raise SystemExit(main(*sys.argv[1:]))
