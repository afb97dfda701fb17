"""The submission file: writing it in the challenge's CSV format and checking it as Spotify's verifier does.

A submission starts with ``team_info,<team name>,<main|creative>,<contact email>`` and then has one
line per challenge playlist: ``pid, track_uri_1, ..., track_uri_500``. Blank lines and lines
starting with ``#`` are ignored. It is uploaded gzipped, so :func:`write` leaves both copies.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mpd_helpers.errors import MPDInputError

N_TRACKS = 500
TRACKS = ("main", "creative")
TRACK_URI = re.compile(r"spotify:track:[0-9A-Za-z]{22}")
WELL_FORMED_LINE = re.compile(r"[^,]*(?:,\s*spotify:track:[0-9A-Za-z]{22}\s*)*")  # pid, then URIs
EXAMPLES = 3  # offending values quoted in one message


@dataclass(frozen=True)
class Problem:
    """One reason the verifier rejects a submission, located by line (1-based) and pid."""

    line: int | None
    pid: object
    message: str

    def __str__(self) -> str:
        where = [f"line {self.line}" if self.line is not None else None,
                 f"pid {self.pid}" if self.pid is not None else None]
        where = ", ".join(w for w in where if w)
        return f"{where}: {self.message}" if where else self.message


# --- writing -----------------------------------------------------------------------------------

def _atomic_write(files: Sequence[tuple[Path, Callable[[io.BufferedWriter], None]]]) -> None:
    """Fill a temporary file beside each target, then rename them all into place (none on failure)."""
    temporaries: list[tuple[str, Path]] = []
    try:
        for target, fill in files:
            handle = tempfile.NamedTemporaryFile("wb", dir=target.parent, prefix=f".{target.name}.",
                                                 suffix=".tmp", delete=False)
            temporaries.append((handle.name, target))
            with handle:
                fill(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(handle.name, 0o644)
        for temporary, target in temporaries:
            os.replace(temporary, target)
    except BaseException:
        for temporary, _ in temporaries:
            Path(temporary).unlink(missing_ok=True)
        raise


def _check_team_field(value: str, field: str) -> str:
    """A team_info field as written, refusing characters that would break the line."""
    value = str(value).strip()
    if not value or any(c in value for c in ",\r\n"):
        raise MPDInputError("must be non-empty and free of commas and line breaks",
                            field=field)
    return value


def team_info_line(team_name: str, contact_email: str, track: str = "main") -> str:
    """The first line of a submission."""
    if track not in TRACKS:
        raise MPDInputError(f"{track!r} is not one of {', '.join(TRACKS)}", field="track")
    name = _check_team_field(team_name, "team_name")
    email = _check_team_field(contact_email, "contact_email")
    return f"team_info,{name},{track},{email}"


def _lines(pids: Sequence[int], tracks: Iterable[Sequence[str]]) -> Iterable[str]:
    """One text line per playlist: the pid, then its tracks in rank order."""
    rows = list(tracks) if not hasattr(tracks, "__len__") else tracks
    if len(rows) != len(pids):
        raise MPDInputError(f"{len(pids)} pids but {len(rows)} rows of tracks", field="tracks")
    for pid, row in zip(pids, rows):
        values = row.tolist() if hasattr(row, "tolist") else row
        try:
            yield f"{int(pid)}, " + ", ".join(values) + "\n"
        except TypeError:  # not all strings
            yield f"{int(pid)}, " + ", ".join(map(str, values)) + "\n"


def write(path: str | Path, pids: Sequence[int], tracks: Iterable[Sequence[str]],
          team_name: str, contact_email: str, track: str = "main") -> Path:
    """Write the submission CSV and its gzipped copy (path + ".gz"); returns the CSV's path."""
    path = Path(path)
    header = (team_info_line(team_name, contact_email, track) + "\n").encode("utf-8")
    body = "".join(_lines(pids, tracks)).encode("utf-8")

    def fill_plain(handle: io.BufferedWriter) -> None:
        handle.write(header)
        handle.write(body)

    def fill_gzip(handle: io.BufferedWriter) -> None:
        # level 1: about 12 % larger than the default level and several times faster
        with gzip.GzipFile(filename=path.name, mode="wb", fileobj=handle, mtime=0,
                           compresslevel=1) as packed:
            fill_plain(packed)

    _atomic_write([(path, fill_plain), (path.with_name(path.name + ".gz"), fill_gzip)])
    return path


# --- reading -----------------------------------------------------------------------------------

def _open_lines(path: str | Path) -> io.TextIOBase:
    """A text reader over a plain or gzipped file (told apart by its first bytes)."""
    path = Path(path)
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    raw = gzip.open(path, "rb") if gzipped else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline=None)


def content_lines(path: str | Path) -> Iterable[tuple[int, str]]:
    """(line number, stripped text) of every line that is neither blank nor a '#' comment."""
    with _open_lines(path) as handle:
        for number, text in enumerate(handle, start=1):
            text = text.strip()
            if text and not text.startswith("#"):
                yield number, text


def read_challenge(path: str | Path) -> dict[int, set[str]]:
    """The challenge playlists of a challenge_set.json: pid -> set of seed track URIs."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
        playlists = document["playlists"]
        return {int(p["pid"]): {t["track_uri"] for t in p.get("tracks", [])} for p in playlists}
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise MPDInputError(f"not a JSON document ({err})", file=path) from None
    except (KeyError, TypeError, ValueError) as err:
        raise MPDInputError(f"not a challenge set: missing or bad {err}", file=path) from None


# --- verifying ---------------------------------------------------------------------------------

def _quote(values: Iterable[str]) -> str:
    """A few offending values for a message."""
    values = sorted(values)
    shown = ", ".join(values[:EXAMPLES])
    return shown + (f" and {len(values) - EXAMPLES} more" if len(values) > EXAMPLES else "")


def _check_team_info(line: int, text: str) -> list[Problem]:
    """Problems with the team_info line itself."""
    fields = [f.strip() for f in text.split(",")]
    if len(fields) != 4 or not all(fields) or not set(fields[1:3]) & set(TRACKS):
        return [Problem(line, None, "team_info line must be "
                        "'team_info,<team name>,<main|creative>,<contact email>'")]
    return []


def _check_tracks(line: int, pid: object, tracks: list[str], seeds: set[str],
                  known_tracks: set[str] | None, well_formed: bool = False) -> list[Problem]:
    """Problems with the tracks of one playlist line (`well_formed`: every URI already checked)."""
    problems = []
    if len(tracks) != N_TRACKS:
        problems.append(Problem(line, pid, f"has {len(tracks)} tracks, expected {N_TRACKS}"))
    unique = set(tracks)
    if len(unique) != len(tracks):
        seen: set[str] = set()
        repeated = {t for t in tracks if t in seen or seen.add(t)}
        problems.append(Problem(line, pid, f"{len(tracks) - len(unique)} duplicate tracks: "
                                f"{_quote(repeated)}"))
    malformed = set() if well_formed else {t for t in unique if not TRACK_URI.fullmatch(t)}
    if malformed:
        problems.append(Problem(line, pid, f"{len(malformed)} malformed track URIs: "
                                f"{_quote(repr(t) for t in malformed)}"))
    seeded = unique & seeds
    if seeded:
        problems.append(Problem(line, pid, f"{len(seeded)} seed tracks of this playlist: "
                                f"{_quote(seeded)}"))
    if known_tracks is not None:
        unknown = unique - known_tracks - malformed
        if unknown:
            problems.append(Problem(line, pid, f"{len(unknown)} unknown tracks: {_quote(unknown)}"))
    return problems


def verify(challenge_path: str | Path, submission_path: str | Path,
           known_tracks: set[str] | None = None) -> list[Problem]:
    """Every reason Spotify's verifier would reject the submission (empty list: valid)."""
    challenge = read_challenge(challenge_path)
    if not Path(submission_path).is_file():
        raise FileNotFoundError(f"no such submission file: {submission_path}")
    problems: list[Problem] = []
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
        try:
            pid: object = int(fields[0])
        except ValueError:
            problems.append(Problem(line, fields[0], f"pid {fields[0]!r} is not an integer"))
            continue
        if pid not in challenge:
            problems.append(Problem(line, pid, "pid is not in the challenge set"))
        elif pid in first_line:
            problems.append(Problem(line, pid, f"duplicate line for this pid (first on line "
                                    f"{first_line[pid]})"))
        else:
            first_line[pid] = line
        problems.extend(_check_tracks(line, pid, fields[1:], challenge.get(pid, set()),
                                      known_tracks, WELL_FORMED_LINE.fullmatch(text) is not None))
    if not team_info_seen and not n_lines:
        problems.append(Problem(None, None, "missing team_info line (the file has no content)"))
    missing = sorted(set(challenge) - set(first_line))
    if n_lines != len(challenge) or missing:
        message = f"{n_lines} playlist lines, the challenge set has {len(challenge)} playlists"
        if missing:
            message += f"; {len(missing)} challenge pids have no line: {_quote(map(str, missing))}"
        problems.append(Problem(None, None, message))
    return problems


def format_report(problems: Sequence[Problem]) -> str:
    """One line per problem and a total."""
    lines = [str(problem) for problem in problems]
    if problems:
        lines.append(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found: "
                     "the submission would be rejected")
    else:
        lines.append("0 problems found: the submission is valid")
    return "\n".join(lines)


# --- command line ------------------------------------------------------------------------------

def known_tracks_from(mpd_dir: str | Path) -> set[str]:
    """Every track URI in the MPD slice files of a directory."""
    mpd_dir = Path(mpd_dir)
    if not mpd_dir.is_dir():
        raise FileNotFoundError(f"no such MPD directory: {mpd_dir}")
    slices = sorted(mpd_dir.glob("mpd.slice.*.json"))
    if not slices:
        raise MPDInputError("no mpd.slice.*.json files", file=mpd_dir)
    known: set[str] = set()
    for path in slices:
        with open(path, encoding="utf-8") as handle:
            try:
                playlists = json.load(handle)["playlists"]
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                raise MPDInputError(f"not an MPD slice ({err})", file=path) from None
        known.update(t["track_uri"] for p in playlists for t in p.get("tracks", []))
    return known


def _run_verify(args: argparse.Namespace) -> int:
    """Verify a submission and print the report; 0 when valid, 1 otherwise."""
    known = known_tracks_from(args.mpd) if args.mpd else None
    problems = verify(args.challenge_set, args.submission, known_tracks=known)
    print(format_report(problems))
    return 1 if problems else 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``verify`` sub-command."""
    parser = subparsers.add_parser(
        "verify", help="check a submission file against the challenge's rules",
        description="Apply the rules of Spotify's submission verifier; exit 0 when valid, "
                    "1 when the submission would be rejected.")
    parser.add_argument("challenge_set", metavar="CHALLENGE_SET", help="challenge_set.json")
    parser.add_argument("submission", metavar="SUBMISSION", help="submission CSV (optionally .gz)")
    parser.add_argument("--mpd", metavar="MPD_DIR",
                        help="MPD directory; when given, tracks not in it are reported")
    parser.set_defaults(func=_run_verify)
