"""The one error type for bad input: it names the file, the playlist and the field."""

from __future__ import annotations

from pathlib import Path


class MPDInputError(ValueError):
    """Malformed or inconsistent input, located by file, pid and field."""

    def __init__(self, message: str, *, file: str | Path | None = None,
                 pid: object = None, field: str | None = None, line: int | None = None):
        if isinstance(pid, float) and pid.is_integer() and abs(pid) >= 2 ** 63:
            pid = "(beyond 64 bits)"  # the JSON parser could only give it as a rounded float
        self.file, self.pid, self.field, self.line = file, pid, field, line
        where = []
        if file is not None:
            where.append(str(file))
        if line is not None:
            where.append(f"line {line}")
        if pid is not None:
            where.append(f"pid {pid}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")
