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
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import orjson

from mpd_helpers.errors import MPDInputError

PARTIAL = ".partial-"
STAMP = "complete.json"


def regular_file(path: str | Path, expected: str = "a JSON file") -> Path:
    """``path`` if it is a regular file (links followed); a directory, a FIFO or a device is
    refused before it is opened, so that reading it can neither hang nor exhaust memory."""
    path = Path(path)
    mode = path.stat().st_mode  # FileNotFoundError, naming the path, when it is missing
    if stat.S_ISDIR(mode):
        raise MPDInputError(f"is a directory, expected {expected}", file=path)
    if not stat.S_ISREG(mode):
        raise MPDInputError(f"is not a regular file (a pipe, socket or device), expected {expected}", file=path)
    return path


def read_json(path: str | Path) -> object:
    """A JSON document, or an error naming the file and, for bad JSON, the line."""
    path = regular_file(path)
    return parse_json(path.read_bytes(), path)


def parse_json(data: bytes, path: str | Path) -> object:
    """The JSON document ``data`` read from ``path``, or an error naming the file and, for bad JSON, the line."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as err:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:  # orjson places these at the start of the file
            line = data.count(b"\n", 0, bad.start) + 1
            column = bad.start - (data.rfind(b"\n", 0, bad.start) + 1) + 1
            raise MPDInputError(
                f"not UTF-8: byte 0x{data[bad.start]:02x} (column {column})", file=path, line=line
            ) from None
        raise MPDInputError(f"malformed JSON: {err.msg} (column {err.colno})", file=path, line=err.lineno) from None


def _partial_name(target: Path) -> str:
    """The prefix of a temporary file or folder beside ``target``."""
    return f".{target.name}{PARTIAL}"


def _naming(err: OSError, target: Path) -> OSError:
    """The same OS error, naming ``target`` where it named a temporary file or nothing."""
    if err.filename is not None and PARTIAL not in str(err.filename) and ".old-" not in str(err.filename):
        return err
    return OSError(err.errno, err.strerror or str(err), str(target))


def replaceable(target: str | Path) -> Path:
    """``target`` if writing it would replace nothing but a regular file (or nothing at all)."""
    target = Path(target)
    if target.is_dir():
        raise MPDInputError("is a directory; the output must be a file", file=target)
    if target.exists() and not target.is_file():
        raise MPDInputError(
            "exists and is not a regular file (a device, pipe or socket); it is left alone", file=target
        )
    return target


def write_files(files: Sequence[tuple[str | Path, Callable[[BinaryIO], None]]]) -> list[Path]:
    """Write several files together: each ``fill(handle)`` fills a temporary file beside its target;
    only when all are complete are they renamed into place, and should one rename fail the
    others are put back as they were. On any error (an interrupt included) every temporary
    file is removed. An OS error names the target, never the temporary file.
    """
    temporaries: list[tuple[Path, Path]] = []
    target = Path()
    try:
        for target, fill in files:
            target = replaceable(target)
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=_partial_name(target))
            temporaries.append((Path(name), target))
            with os.fdopen(fd, "wb") as handle:
                fill(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(name, 0o644)
        _replace_together(temporaries)
    except BaseException as err:
        for temporary, _ in temporaries:
            temporary.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise _naming(err, target) from None
        raise
    return [target for _, target in temporaries]


def _replace_together(pairs: list[tuple[Path, Path]]) -> None:
    """Rename each temporary file onto its target; all of them or, on a failure, none."""
    if len(pairs) == 1:
        os.replace(*pairs[0])  # one rename is atomic by itself
        return
    old: dict[Path, Path] = {}  # target -> a hard link to the file it replaces
    done: list[Path] = []  # targets renamed onto
    try:
        for temporary, target in pairs:
            if target.exists():
                old[target] = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
                os.link(target, old[target])
            os.replace(temporary, target)
            done.append(target)
    except BaseException:
        for target in reversed(done):
            if target in old:
                os.replace(old.pop(target), target)
            else:
                target.unlink(missing_ok=True)
        raise
    finally:
        for link in old.values():
            link.unlink(missing_ok=True)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file renamed into place."""
    return write_files([(path, lambda handle: handle.write(data))])[0]


def write_json(path: str | Path, obj: object, indent: bool = True) -> Path:
    """Write ``obj`` as JSON (indented by two spaces) through a temporary file."""
    return write_bytes(path, orjson.dumps(obj, option=orjson.OPT_INDENT_2 if indent else 0))


def write_with(path: str | Path, save: Callable[[Path], None], suffix: str = "") -> Path:
    """Let ``save(tmp_path)`` write a file (a library's own writer), then rename it into place."""
    target = replaceable(path)
    name = ""
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=_partial_name(target), suffix=suffix)
        os.close(fd)
        save(Path(name))
        os.replace(name, target)
    except BaseException as err:
        if name:
            Path(name).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise _naming(err, target) from None
        raise
    return target


def read_stamp(folder: str | Path) -> dict | None:
    """The completion stamp of a folder written by :func:`atomic_folder`; None when there is
    none, or it is not a readable JSON object (a stamp that cannot be read stamps nothing)."""
    try:
        stamp = read_json(Path(folder) / STAMP)
    except (OSError, MPDInputError):
        return None
    return stamp if isinstance(stamp, dict) else None


def claim(
    path: str | Path, kind: str, owns: Callable[[dict], bool] | None = None, names: frozenset[str] = frozenset()
) -> Path:
    """``path`` if :func:`atomic_folder` may replace it: it is missing, empty, stamped as a
    folder of ``kind`` (or ``owns(stamp)``), or holds nothing but ``names`` (what such a folder
    holds, when its stamp was lost); otherwise an error naming it, with nothing touched."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise MPDInputError("exists and is not a directory", file=target)
    if target.is_dir() and any(target.iterdir()):
        found = read_stamp(target)
        ours = found is not None and (found.get("kind") == kind or (owns is not None and owns(found)))
        if not ours and not (names and {p.name for p in target.iterdir()} <= names):
            raise MPDInputError(
                f"exists and holds files this tool did not write as a {kind} (no {STAMP} "
                f"stamp of one); it is left alone: choose a new or an empty folder",
                file=target,
            )
    return target


@contextlib.contextmanager
def atomic_folder(
    path: str | Path,
    kind: str,
    stamp: dict | None = None,
    owns: Callable[[dict], bool] | None = None,
    names: frozenset[str] = frozenset(),
) -> Iterator[Path]:
    """Build a folder in a temporary folder beside it; on success stamp it complete and move it in.

    The stamp records ``kind`` (what the folder holds, say "synthetic MPD"). An existing
    folder of that name is replaced only if it is empty or its own stamp says it is of the
    same ``kind`` (see :func:`claim`): a folder this tool did not write is refused before any
    work, with nothing touched. It is replaced only once the
    new one is whole; on an error or an interrupt the temporary folder is removed and the old
    folder stays as it was.
    """
    target = claim(path, kind, owns, names)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=target.parent, prefix=_partial_name(target)))
    try:
        yield building
        write_json(building / STAMP, {"kind": kind, **(stamp or {})})
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
            os.replace(target, old / target.name)
            os.replace(building, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(building, target)
    except BaseException as err:
        shutil.rmtree(building, ignore_errors=True)
        if isinstance(err, OSError):
            raise _naming(err, target) from None
        raise


def is_complete(folder: str | Path) -> bool:
    """Whether a folder written by :func:`atomic_folder` is there and whole."""
    return read_stamp(folder) is not None


def leftovers(folder: str | Path) -> list[Path]:
    """Temporary files and folders an interrupted writer left in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.startswith(".") and (PARTIAL in p.name or ".old-" in p.name))
