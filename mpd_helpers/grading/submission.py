"""The submission file: writing it in the challenge's CSV format and checking it as Spotify's verifier does.

A submission starts with a ``team_info`` line and then has one line per challenge playlist:
``pid, track_uri_1, ..., track_uri_500``. Blank lines and lines starting with ``#`` are ignored.
It is uploaded gzipped, so :func:`write` leaves both copies.

The ``team_info`` line has two forms (:data:`FORMS`). The challenge's current rules (the open
continuation of the 2018 challenge) want ``team_info,<team name>,<contact email>``, which
:func:`write` writes by default; the 2018 challenge's form names the track between them,
``team_info,<team name>,<main|creative>,<contact email>`` (``track="main"``). The verifier
accepts both and :func:`team_info_form` says which one a file has.

A comment line records what the file answers (:data:`RECORD`): the challenge set (its build id,
or a digest of the official file) and a digest of the file's own content. The verifier
uses it to refuse a submission checked against another challenge set, and a ``.csv`` whose
``.csv.gz`` is from another run; the grader, to refuse the truth of another challenge set.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import numbers
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from mpd_helpers import files
from mpd_helpers.data.challenge_set import ChallengeSet
from mpd_helpers.errors import MPDInputError, printable

N_TRACKS = 500
TRACKS = ("main", "creative")
# The two forms of the team_info line, by name: the current rules' form and the 2018 challenge's.
FORMS = {
    "current": "team_info,<team name>,<contact email>",
    "2018": "team_info,<team name>,<main|creative>,<contact email>",
}
TRACK_URI = re.compile(r"spotify:track:[0-9A-Za-z]{22}")
WELL_FORMED_LINE = re.compile(r"[^,]*(?:,\s*spotify:track:[0-9A-Za-z]{22}\s*)*")  # pid, then URIs
EXAMPLES = 3  # offending values quoted in one message
PID = re.compile(r"[0-9]+")
RECORD = "# challenge_set "  # the comment line: "# challenge_set <build id|sha256 digest>; content <digest>"
RECORD_LINE = re.compile(r"# challenge_set (?P<challenge>build \S+|sha256 \S+); content (?P<content>[0-9a-f]+)")


@dataclass(frozen=True)
class Problem:
    """One reason the verifier rejects a submission, located by line (1-based) and pid."""

    line: int | None
    pid: object
    message: str

    def __str__(self) -> str:
        """The problem as one line, with any control characters of the file escaped."""
        where = [
            f"line {self.line}" if self.line is not None else None,
            f"pid {printable(str(self.pid), keep_newlines=False)}" if self.pid is not None else None,
        ]
        where = ", ".join(w for w in where if w)
        message = printable(self.message, keep_newlines=False)
        return f"{where}: {message}" if where else message


# --- writing -----------------------------------------------------------------------------------


def _check_team_field(value: str, field: str) -> str:
    """A team_info field as written, refusing characters that would break the line."""
    value = str(value).strip()
    if not value or any(c in value for c in ",\r\n"):
        raise MPDInputError("must be non-empty and free of commas and line breaks", field=field)
    return value


def team_info_line(team_name: str, contact_email: str, track: str | None = None) -> str:
    """The first line of a submission: the current form, or with ``track`` the 2018 challenge's."""
    if track is not None and track not in TRACKS:
        raise MPDInputError(f"{track!r} is not one of {', '.join(TRACKS)}", field="track")
    name = _check_team_field(team_name, "team_name")
    email = _check_team_field(contact_email, "contact_email")
    return f"team_info,{name},{email}" if track is None else f"team_info,{name},{track},{email}"


def _pid(value: object) -> int:
    """A pid as an int; a float, a bool or a string is refused, not truncated."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise MPDInputError(f"pid {value!r} is not an integer", field="pid")


def _lines(pids: Sequence[int], tracks: Iterable[Sequence[str]]) -> Iterable[str]:
    """One text line per playlist: the pid, then its tracks in rank order (each a track URI)."""
    rows = list(tracks) if not hasattr(tracks, "__len__") else tracks
    if len(rows) != len(pids):
        raise MPDInputError(f"{len(pids)} pids but {len(rows)} rows of tracks", field="tracks")
    for pid, row in zip(pids, rows):
        values = row.tolist() if hasattr(row, "tolist") else list(row)
        pid = _pid(pid)
        bad = [v for v in values if not (isinstance(v, str) and TRACK_URI.fullmatch(v))]
        if bad:  # a comma or a line break in a "URI" would change the file's structure
            raise MPDInputError(
                f"{len(bad)} values are not track URIs: {_quote(repr(v) for v in bad)}", pid=pid, field="tracks"
            )
        yield f"{pid}, " + ", ".join(values) + "\n"


def write(
    path: str | Path,
    pids: Sequence[int],
    tracks: Iterable[Sequence[str]],
    team_name: str,
    contact_email: str,
    track: str | None = None,
    challenge: str | None = None,
) -> Path:
    """Write the submission CSV and its gzipped copy (path + ".gz"); returns the CSV's path.

    The ``team_info`` line takes the current rules' form, or with ``track`` ("main" or
    "creative") the 2018 challenge's.

    ``challenge`` (:attr:`ChallengeSet.identity` of the challenge set answered) is
    recorded in a comment line with a digest of the content; both files are renamed into
    place together.

    Shown in the book: 05_submission.
    """
    path = Path(path)
    header = (team_info_line(team_name, contact_email, track) + "\n").encode("utf-8")
    body = "".join(_lines(pids, tracks)).encode("utf-8")
    if challenge is not None:
        digest = hashlib.sha256(header + body).hexdigest()[:16]
        header += f"{RECORD}{challenge}; content {digest}\n".encode()

    def fill_plain(handle: io.BufferedWriter) -> None:
        handle.write(header)
        handle.write(body)

    def fill_gzip(handle: io.BufferedWriter) -> None:
        # level 1: about 12 % larger than the default level and several times faster
        with gzip.GzipFile(filename=path.name, mode="wb", fileobj=handle, mtime=0, compresslevel=1) as packed:
            fill_plain(packed)

    files.write_files([(path, fill_plain), (path.with_name(path.name + ".gz"), fill_gzip)])
    return path


def record(path: str | Path) -> dict[str, str] | None:
    """What a submission's comment line records (``challenge``, ``content``), or None without one."""
    try:
        with _open_lines(path) as handle:
            for _, text in zip(range(5), handle):  # the record follows the team_info line
                found = RECORD_LINE.fullmatch(text.strip())
                if found:
                    return found.groupdict()
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error, MPDInputError):
        return None
    return None


def sibling(path: str | Path) -> Path:
    """The other file of a submission: the ``.csv.gz`` of a ``.csv``, and the other way round."""
    path = Path(path)
    return (
        path.with_name(path.name.removesuffix(".gz"))
        if path.name.endswith(".gz")
        else path.with_name(path.name + ".gz")
    )


# --- reading -----------------------------------------------------------------------------------


def _open_lines(path: str | Path) -> io.TextIOBase:
    """A text reader over a plain or gzipped file (told apart by its first bytes)."""
    path = files.regular_file(path, "a submission file")
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    raw = gzip.open(path, "rb") if gzipped else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline=None)


def content_lines(path: str | Path) -> Iterable[tuple[int, str]]:
    """(line number, stripped text) of every line that is neither blank nor a '#' comment."""
    number = 0
    try:
        with _open_lines(path) as handle:
            for number, text in enumerate(handle, start=1):
                text = text.strip()
                if text and not text.startswith("#"):
                    yield number, text
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise MPDInputError(f"damaged gzip data after line {number} ({err})", file=path) from None


def read(path: str | Path) -> pd.DataFrame:
    """A submission CSV (plain or gzipped) as rows pid, track_uri in rank order."""
    pids: list[int] = []
    tracks: list[str] = []
    first_line: dict[int, int] = {}
    for line, text in content_lines(path):
        fields = [field.strip() for field in text.split(",")]
        if fields[0] == "team_info":
            continue
        if not PID.fullmatch(fields[0]):
            raise MPDInputError(f"pid {fields[0]!r} is not an integer", file=path, line=line, field="pid")
        pid = int(fields[0])
        if pid in first_line:
            raise MPDInputError(
                f"a second line for this playlist (the first is line {first_line[pid]}); which one would be graded?",
                file=path,
                line=line,
                pid=pid,
                field="pid",
            )
        first_line[pid] = line
        uris = [uri for uri in fields[1:] if uri]
        pids.extend([pid] * len(uris))
        tracks.extend(uris)
    return pd.DataFrame(
        {
            "pid": np.asarray(pids, dtype=np.int64),
            "track_uri": pd.array(pa.array(tracks, type=pa.large_string()), dtype="str"),
        }
    )


# --- verifying ---------------------------------------------------------------------------------


def _quote(values: Iterable[str]) -> str:
    """A few offending values for a message."""
    values = sorted(values)
    shown = ", ".join(values[:EXAMPLES])
    return shown + (f" and {len(values) - EXAMPLES} more" if len(values) > EXAMPLES else "")


def _form(text: str) -> str | None:
    """The form (a key of :data:`FORMS`) of a team_info line, or None for neither."""
    fields = [f.strip() for f in text.split(",")]
    if fields[0] != "team_info" or not all(fields):
        return None
    if len(fields) == 3:
        return "current"
    if len(fields) == 4 and set(fields[1:3]) & set(TRACKS):  # the track may also stand second
        return "2018"
    return None


def team_info_form(path: str | Path) -> str | None:
    """Which form of the team_info line a submission has (a key of :data:`FORMS`), or None."""
    for _, text in content_lines(path):
        return _form(text) if text.split(",")[0].strip() == "team_info" else None
    return None


def _check_team_info(line: int, text: str) -> list[Problem]:
    """Problems with the team_info line itself (in either form)."""
    if _form(text) is None:
        return [Problem(line, None, "team_info line must be " + " or ".join(f"'{f}'" for f in FORMS.values()))]
    return []


def _check_tracks(
    line: int, pid: object, tracks: list[str], seeds: set[str], known_tracks: set[str] | None, well_formed: bool = False
) -> list[Problem]:
    """Problems with the tracks of one playlist line (`well_formed`: every URI already checked).

    Shown in the book: 05_submission.
    """
    problems = []
    if len(tracks) != N_TRACKS:
        problems.append(Problem(line, pid, f"has {len(tracks)} tracks, expected {N_TRACKS}"))
    unique = set(tracks)
    if len(unique) != len(tracks):
        seen: set[str] = set()
        repeated = {t for t in tracks if t in seen or seen.add(t)}
        problems.append(Problem(line, pid, f"{len(tracks) - len(unique)} duplicate tracks: {_quote(repeated)}"))
    malformed = set() if well_formed else {t for t in unique if not TRACK_URI.fullmatch(t)}
    if malformed:
        problems.append(
            Problem(line, pid, f"{len(malformed)} malformed track URIs: {_quote(repr(t) for t in malformed)}")
        )
    seeded = unique & seeds
    if seeded:
        problems.append(Problem(line, pid, f"{len(seeded)} seed tracks of this playlist: {_quote(seeded)}"))
    if known_tracks is not None:
        unknown = unique - known_tracks - malformed
        if unknown:
            problems.append(Problem(line, pid, f"{len(unknown)} unknown tracks: {_quote(unknown)}"))
    return problems


def verify(
    challenge_set: ChallengeSet, submission_path: str | Path, known_tracks: set[str] | None = None
) -> list[Problem]:
    """Every reason Spotify's verifier would reject the submission (empty list: valid).

    Shown in the book: 05_submission.
    """
    challenge = challenge_set.seeds()
    files.regular_file(submission_path, "a submission file")
    problems = _check_record(challenge_set, submission_path)
    first_line: dict[int, int] = {}
    team_info_seen = False
    n_lines = 0
    for line, text in content_lines(submission_path):
        fields = [f.strip() for f in text.split(",")]
        if fields[0] == "team_info":
            if team_info_seen or n_lines:
                problems.append(Problem(line, None, "team_info line repeated or not first"))
            else:
                problems.extend(_check_team_info(line, text))
            team_info_seen = True
            continue
        if not team_info_seen and not n_lines:
            problems.append(Problem(line, None, "missing team_info line before the playlists"))
        n_lines += 1
        if not PID.fullmatch(fields[0]):  # plain ASCII digits: no sign, no 1_000, no full-width digits
            problems.append(Problem(line, fields[0], f"pid {fields[0]!r} is not an integer"))
            continue
        pid: object = int(fields[0])
        if pid not in challenge:
            problems.append(Problem(line, pid, "pid is not in the challenge set"))
        elif pid in first_line:
            problems.append(Problem(line, pid, f"duplicate line for this pid (first on line {first_line[pid]})"))
        else:
            first_line[pid] = line
        problems.extend(
            _check_tracks(
                line,
                pid,
                fields[1:],
                challenge.get(pid, set()),
                known_tracks,
                WELL_FORMED_LINE.fullmatch(text) is not None,
            )
        )
    if not team_info_seen and not n_lines:
        problems.append(Problem(None, None, "missing team_info line (the file has no content)"))
    missing = sorted(set(challenge) - set(first_line))
    if n_lines != len(challenge) or missing:
        message = f"{n_lines} playlist lines, the challenge set has {len(challenge)} playlists"
        if missing:
            message += f"; {len(missing)} challenge pids have no line: {_quote(map(str, missing))}"
        problems.append(Problem(None, None, message))
    return problems


def _check_record(challenge_set: ChallengeSet, submission_path: str | Path) -> list[Problem]:
    """The file's record against the challenge set checked, and against its ``.gz`` (or ``.csv``) pair."""
    problems = []
    own = record(submission_path)
    if own is not None and own["challenge"] != (expected := challenge_set.identity):
        problems.append(
            Problem(
                None,
                None,
                f"answers another challenge set ({own['challenge']}; {challenge_set.path.name} is {expected})",
            )
        )
    other = sibling(submission_path)
    if other.is_file():
        theirs = record(other)
        if (own or theirs) and own != theirs:
            problems.append(
                Problem(
                    None,
                    None,
                    f"{other.name} is not from the same run as "
                    f"{Path(submission_path).name} (an interrupted write?): "
                    "the two files are not one submission",
                )
            )
    return problems


def format_report(problems: Sequence[Problem], form: str | None = None) -> str:
    """One line per problem and a total; first, with ``form``, the team_info line's form seen."""
    lines = [f"team_info line: the {form} form, {FORMS[form]}"] if form is not None else []
    lines += [str(problem) for problem in problems]
    if problems:
        lines.append(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found: the submission would be rejected"
        )
    else:
        lines.append("0 problems found: the submission is valid")
    return "\n".join(lines)
