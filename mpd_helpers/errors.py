"""The one error type for bad input: it names the file, the playlist and the field."""

from __future__ import annotations

import re
from pathlib import Path

# Characters that must not reach a terminal raw: C0 controls (the newline aside, see
# :func:`printable`), DEL, C1 controls, the line and paragraph separators, the bidirectional
# overrides and isolates that can make text read differently from what it is, and lone
# surrogates (bytes of a file name that were not UTF-8).
_UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNPRINTABLE_OR_NEWLINE = re.compile(_UNPRINTABLE.pattern.replace("\x0b", "\x0a\x0b"))


def _escape(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that os.fsdecode could not decode: show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` safe to print: control characters (ESC, the other C0 and C1 characters, DEL),
    line separators, bidirectional overrides and lone surrogates written as ``\\xNN`` or
    ``\\uNNNN`` escapes. Newlines are kept (they shape a multi-line message) unless
    ``keep_newlines`` is false: a value that should stay on one line (a file name, a pid)."""
    text = str(text)
    return (_UNPRINTABLE if keep_newlines else _UNPRINTABLE_OR_NEWLINE).sub(_escape, text)


class MPDInputError(ValueError):
    """Malformed or inconsistent input, located by file, pid and field.

    The message is made printable (:func:`printable`): a file name, pid or field taken from
    untrusted input cannot put control characters on the user's terminal, nor a line break
    into the one line that names them.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        pid: object = None,
        field: str | None = None,
        line: int | None = None,
    ):
        if isinstance(pid, float) and pid.is_integer() and abs(pid) >= 2**63:
            pid = "(beyond 64 bits)"  # the JSON parser could only give it as a rounded float
        self.file, self.pid, self.field, self.line = file, pid, field, line
        where = []
        if file is not None:
            where.append(printable(str(file), keep_newlines=False))
        if line is not None:
            where.append(f"line {line}")
        if pid is not None:
            where.append(f"pid {printable(str(pid), keep_newlines=False)}")
        if field is not None:
            where.append(f"field '{printable(str(field), keep_newlines=False)}'")
        message = printable(str(message))
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")
