"""Files in and out: JSON read strictly, and every output written whole or not at all.

A single file is written to a temporary file beside its target, flushed to disk and renamed
into place, so a reader sees the old file or the new one, never half of one. Files that
belong together (the slices of an MPD, a challenge set and its held-out tracks) are written
the same way all together, renamed only once every one of them is complete, and a folder of
them carries a completion stamp (``complete.json``) that readers check. A temporary file or
folder has a name that says what it is (``.<target>.partial-<random>``), is removed when the
writing fails or is interrupted, and is reported by :func:`leftovers` if a killed process left
one behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Sequence

import orjson

from mpd_helpers.errors import MPDInputError

PARTIAL = ".partial-"
STAMP = "complete.json"


def read_json(path: str | Path) -> object:
    """A JSON document, or an error naming the file and, for bad JSON, the line."""
    path = Path(path)
    if path.is_dir():
        raise MPDInputError("is a directory, expected a JSON file", file=path)
    data = path.read_bytes()
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as err:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:  # orjson places these at the start of the file
            line = data.count(b"\n", 0, bad.start) + 1
            column = bad.start - (data.rfind(b"\n", 0, bad.start) + 1) + 1
            raise MPDInputError(f"not UTF-8: byte 0x{data[bad.start]:02x} (column {column})", file=path,
                                line=line) from None
        raise MPDInputError(f"malformed JSON: {err.msg} (column {err.colno})", file=path, line=err.lineno) from None


def _partial_name(target: Path) -> str:
    """The prefix of a temporary file or folder beside ``target``."""
    return f".{target.name}{PARTIAL}"


def write_files(files: Sequence[tuple[str | Path, Callable[[BinaryIO], None]]]) -> list[Path]:
    """Write several files together: each ``fill(handle)`` fills a temporary file beside its target;
    only when all are complete are they renamed into place. On any error (an interrupt
    included) every temporary file is removed and no target is touched.
    """
    temporaries: list[tuple[Path, Path]] = []
    try:
        for target, fill in files:
            target = Path(target)
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=_partial_name(target))
            temporaries.append((Path(name), target))
            with os.fdopen(fd, "wb") as handle:
                fill(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(name, 0o644)
        for temporary, target in temporaries:
            os.replace(temporary, target)
    except BaseException:
        for temporary, _ in temporaries:
            temporary.unlink(missing_ok=True)
        raise
    return [target for _, target in temporaries]


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file renamed into place."""
    return write_files([(path, lambda handle: handle.write(data))])[0]


def write_json(path: str | Path, obj: object, indent: bool = True) -> Path:
    """Write ``obj`` as JSON (indented by two spaces) through a temporary file."""
    return write_bytes(path, orjson.dumps(obj, option=orjson.OPT_INDENT_2 if indent else 0))


def write_with(path: str | Path, save: Callable[[Path], None], suffix: str = "") -> Path:
    """Let ``save(tmp_path)`` write a file (a library's own writer), then rename it into place."""
    target = Path(path)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=_partial_name(target), suffix=suffix)
    os.close(fd)
    try:
        save(Path(name))
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return target


@contextlib.contextmanager
def atomic_folder(path: str | Path, stamp: dict | None = None) -> Iterator[Path]:
    """Build a folder in a temporary folder beside it; on success stamp it complete and move it in.

    An existing folder of that name is replaced only once the new one is whole. On an error
    or an interrupt the temporary folder is removed and the old folder stays as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_dir():
        raise MPDInputError("exists and is not a directory", file=target)
    building = Path(tempfile.mkdtemp(dir=target.parent, prefix=_partial_name(target)))
    try:
        yield building
        write_json(building / STAMP, stamp or {})
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
            os.replace(target, old / target.name)
            os.replace(building, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(building, target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def is_complete(folder: str | Path) -> bool:
    """Whether a folder written by :func:`atomic_folder` is there and whole."""
    return (Path(folder) / STAMP).is_file()


def leftovers(folder: str | Path) -> list[Path]:
    """Temporary files and folders an interrupted writer left in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.startswith(".") and (PARTIAL in p.name or ".old-" in p.name))
