"""The MPD's slice files, read strictly into whole columns: the format's one reader.

The write-up flattens every playlist into one row per playlist-track entry (track URI,
artist, track name, pid, num_holdouts). Here the same rows are built from whole columns:
each slice is parsed once (orjson), each field is pulled out as one array and type-checked
as a whole (pyarrow), and the per-playlist rules are checked with group-wise array
operations. A problem is reported with its file, pid and field; ``lenient=True`` skips bad
playlists instead and counts them. :func:`read_lean` streams the slices into integer arrays,
each distinct track's strings kept once, which is what loading the whole MPD keeps.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from mpd_helpers import parallel
from mpd_helpers.arrays import nunique_per_row
from mpd_helpers.errors import MPDInputError
from mpd_helpers.files import read_json, regular_file

# The whole name, in ASCII digits: not "._mpd.slice.0-999.json" (a macOS AppleDouble file) nor "...json\n".
SLICE_RE = re.compile(r"^mpd\.slice\.([0-9]+)-([0-9]+)\.json\Z")
TRACK_FIELDS = {
    "pos": int,
    "artist_name": str,
    "track_uri": str,
    "artist_uri": str,
    "track_name": str,
    "album_uri": str,
    "duration_ms": int,
    "album_name": str,
}
PLAYLIST_FIELDS = {
    "name": str,
    "collaborative": str,
    "pid": int,
    "modified_at": int,
    "num_tracks": int,
    "num_albums": int,
    "num_followers": int,
    "tracks": list,
    "num_edits": int,
    "duration_ms": int,
    "num_artists": int,
}
OPTIONAL_FIELDS = {"description": str, "name": str}
ARROW = {int: pa.int64(), str: pa.string()}


@dataclass
class Part:
    """Playlists and their entries as read from one or more files, before indexing."""

    playlists: pd.DataFrame  # one row per playlist; column ``file`` says where it came from
    entries: pd.DataFrame  # one row per playlist-track entry; ``row`` points into playlists
    skipped: int = 0  # playlists dropped by the lenient reader
    skipped_files: list[str] = field(default_factory=list)  # whole files it could not read

    def drop(self, bad: np.ndarray) -> Part:
        """Without the playlists flagged in the boolean array ``bad`` (counted as skipped)."""
        keep, kept, row = _renumber(bad, self.entries["row"].to_numpy())
        return Part(
            self.playlists[keep].reset_index(drop=True),
            self.entries[kept].assign(row=row).reset_index(drop=True),
            self.skipped + int(bad.sum()),
            self.skipped_files,
        )


def _renumber(bad: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dropping the playlists flagged in ``bad``: the playlists kept, the entries kept (of
    entries pointing at playlist ``row``), and those entries' new playlist rows."""
    keep = ~bad
    kept = keep[row]
    return keep, kept, (np.cumsum(keep) - 1)[row[kept]]


TRACK_COLUMNS = ["track_uri", "track_name", "artist_name", "artist_uri", "album_name", "album_uri", "duration_ms"]


@dataclass
class Lean:
    """Playlists and entries with each distinct track's strings kept once: what loading keeps.

    Entries are integer arrays; ``track`` points into ``tracks``, one row per distinct track
    URI (its names as it first appears).
    """

    playlists: pd.DataFrame  # pid, name, num_tracks, n_entries, file (and num_holdouts: a challenge set)
    row: np.ndarray  # entry -> playlist row (int32, as are the next two)
    pos: np.ndarray  # entry -> position in its playlist
    track: np.ndarray  # entry -> row of ``tracks``
    tracks: pd.DataFrame  # TRACK_COLUMNS
    skipped: int = 0
    skipped_files: list[str] = field(default_factory=list)

    def drop(self, bad: np.ndarray) -> Lean:
        """Without the playlists flagged in the boolean array ``bad`` (counted as skipped)."""
        keep, kept, row = _renumber(bad, self.row)
        return Lean(
            self.playlists[keep].reset_index(drop=True),
            row.astype(np.int32),
            self.pos[kept],
            self.track[kept],
            self.tracks,
            self.skipped + int(bad.sum()),
            self.skipped_files,
        )


def lean(part: Part) -> Lean:
    """A part with its entries as integer arrays and its distinct tracks' strings kept once."""
    codes, _ = pd.factorize(part.entries["track_uri"])
    first = np.unique(codes, return_index=True)[1]  # codes number tracks as they first appear
    columns = [c for c in ("pid", "name", "num_tracks", "n_entries", "num_holdouts", "file") if c in part.playlists]
    return Lean(
        part.playlists[columns].reset_index(drop=True),
        part.entries["row"].to_numpy(np.int32),
        part.entries["pos"].to_numpy(np.int32),
        codes.astype(np.int32),
        part.entries.iloc[first][TRACK_COLUMNS].reset_index(drop=True),
        part.skipped,
        part.skipped_files,
    )


def merge(parts: Iterable[Lean]) -> Lean:
    """Lean parts as one, consumed as they come: rows renumbered, tracks numbered as they first appear."""
    number: dict[str, int] = {}
    playlists, rows, positions, tracks, tables = [], [], [], [], []
    offset, skipped, skipped_files = 0, 0, []
    for part in parts:
        before = len(number)
        uris = part.tracks["track_uri"].to_numpy(object)
        codes = np.fromiter((number.setdefault(uri, len(number)) for uri in uris), np.int64, len(uris))
        tables.append(part.tracks[codes >= before])
        rows.append(part.row + offset)
        positions.append(part.pos)
        tracks.append(codes.astype(np.int32)[part.track])
        playlists.append(part.playlists)
        offset += len(part.playlists)
        skipped += part.skipped
        skipped_files += part.skipped_files
    if not playlists:
        return Lean(pd.DataFrame(), *(np.empty(0, np.int32) for _ in range(3)), pd.DataFrame(columns=TRACK_COLUMNS))
    return Lean(
        pd.concat(playlists, ignore_index=True),
        np.concatenate(rows),
        np.concatenate(positions),
        np.concatenate(tracks),
        pd.concat(tables, ignore_index=True),
        skipped,
        skipped_files,
    )


def slice_files(mpd_dir: str | Path, regular: bool = True) -> list[Path]:
    """The slice files of an MPD directory (named exactly ``mpd.slice.<first>-<last>.json``), in pid order.

    Each is looked at once (one ``stat``): a directory, a pipe or a device named like a slice
    (or a link to one, say ``/dev/zero``) is refused naming the file, before anything opens it
    (``regular=False`` leaves that to the caller).
    """
    root = Path(mpd_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such MPD directory")
    files = []
    for path in root.iterdir():
        match = SLICE_RE.fullmatch(path.name)
        if match is None:
            continue
        files.append((int(match.group(1)), path.name, regular_file(path) if regular else path))
    if not files:
        raise MPDInputError("no mpd.slice.*.json files here", file=root)
    return [path for _, _, path in sorted(files)]


def _record_problem(record: object, fields: dict, optional: set[str], nested: dict | None) -> tuple[str, str] | None:
    """The first schema problem of one record, as (field, message), or None."""
    if not isinstance(record, dict):
        return None, "not a JSON object"
    for name, typ in fields.items():
        if name not in record:
            return name, "missing"
        value = record[name]
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            if typ is int and isinstance(value, float) and value.is_integer() and abs(value) >= 2**63:
                return name, "expected int, got an integer too large for 64 bits"
            return name, f"expected {typ.__name__}, got {type(value).__name__} {value!r:.40}"
        if typ is int and not -(2**63) <= value < 2**63:  # orjson gives ints up to 2**64 - 1
            return name, "expected int, got an integer too large for 64 bits"
    for name in record.keys() - fields.keys():
        if name not in optional:
            return name, "unexpected field"
        if not isinstance(record[name], OPTIONAL_FIELDS[name]):
            return name, f"expected str, got {type(record[name]).__name__}"
    if nested is not None:
        for i, track in enumerate(record["tracks"]):
            problem = _record_problem(track, nested, set(), None)
            if problem:
                return f"tracks[{i}]" + (f".{problem[0]}" if problem[0] else ""), problem[1]
    return None


def _columns(records: list, fields: dict) -> dict[str, pa.Array]:
    """Each field of ``records`` as one typed Arrow array; KeyError/TypeError on a bad record."""
    cols = {}
    for name, typ in fields.items():
        if typ is list:
            continue
        values = list(map(itemgetter(name), records))
        if set(map(type, values)) - {typ}:  # exact types: no bool for int, no float, no null
            raise TypeError(name)
        cols[name] = pa.array(values, type=ARROW[typ])
    return cols


def _read_records(
    path: Path,
    records: list,
    fields: dict,
    optional: set[str],
    lenient: bool,
    pid_of=lambda r: r.get("pid") if isinstance(r, dict) else None,
) -> tuple[list, int]:
    """The records of one file that pass the schema (all of them, or an error, when strict)."""
    bad = []
    for record in records:
        problem = _record_problem(record, fields, optional, TRACK_FIELDS)
        if problem:
            if not lenient:
                raise MPDInputError(problem[1], file=path, pid=pid_of(record), field=problem[0])
            bad.append(id(record))
    bad_ids = set(bad)
    return [r for r in records if id(r) not in bad_ids], len(bad)


def parse_playlists(path: Path, records: list, fields: dict, optional: set[str], lenient: bool) -> Part:
    """Flatten the playlists of one file into a playlist frame and an entry frame."""
    skipped = 0
    try:
        (opt,) = optional
        lengths = list(map(len, records))
        if set(lengths) - {len(fields), len(fields) + 1} or sum(opt in r for r in records) != lengths.count(
            len(fields) + 1
        ):
            raise KeyError("field count")
        pl_cols = _columns(records, fields)
        if {type(r[opt]) for r in records if opt in r} - {str}:
            raise TypeError(opt)
        tracks = [t for r in records for t in r["tracks"]]
        if set(map(len, tracks)) - {len(TRACK_FIELDS)}:
            raise KeyError("track field count")
        tr_cols = _columns(tracks, TRACK_FIELDS)
    except (KeyError, TypeError, AttributeError, OverflowError, pa.ArrowInvalid, pa.ArrowTypeError):
        records, skipped = _read_records(path, records, fields, optional, lenient)
        part = parse_playlists(path, records, fields, optional, lenient)
        part.skipped += skipped
        return part
    playlists = pa.table(pl_cols).to_pandas()
    for name in optional:
        if name in fields:
            continue
        playlists[name] = pd.Series([r.get(name) for r in records], dtype="str")
    playlists["file"] = str(path)
    lengths = np.fromiter((len(r["tracks"]) for r in records), np.int64, len(records))
    entries = pa.table(tr_cols).to_pandas()
    entries.insert(0, "row", np.repeat(np.arange(len(records)), lengths))
    playlists["n_entries"] = lengths
    return Part(playlists, entries, skipped)


def _concat(parts: list[Part]) -> Part:
    """Parts of several files as one, with ``row`` renumbered."""
    offsets = np.cumsum([0] + [len(p.playlists) for p in parts[:-1]])
    entries = [p.entries.assign(row=p.entries["row"].to_numpy() + off) for p, off in zip(parts, offsets)]
    return Part(
        pd.concat([p.playlists for p in parts], ignore_index=True),
        pd.concat(entries, ignore_index=True),
        sum(p.skipped for p in parts),
        [f for p in parts for f in p.skipped_files],
    )


def drop_failing(part: Part | Lean, checks: dict[str, np.ndarray], lenient: bool) -> Part | Lean:
    """Apply per-playlist consistency checks (field -> boolean array of failures)."""
    bad = np.zeros(len(part.playlists), bool)
    for name, failed in checks.items():
        if failed.any() and not lenient:
            row = int(np.flatnonzero(failed)[0])
            pl = part.playlists.iloc[row]
            if name == "pid":
                first = part.playlists["file"].iloc[
                    int(np.flatnonzero(part.playlists["pid"].to_numpy() == pl["pid"])[0])
                ]
                raise MPDInputError(f"duplicate pid, first in {first}", file=pl["file"], pid=int(pl["pid"]), field=name)
            raise MPDInputError(
                f"disagrees with the track list ({_observed(part, row, name)})",
                file=pl["file"],
                pid=int(pl["pid"]),
                field=name,
            )
        bad |= failed
    return part.drop(bad) if bad.any() else part


def _observed(part: Part, row: int, name: str) -> str:
    """What the track list of playlist ``row`` says about field ``name``, for messages."""
    tracks = part.entries[part.entries["row"] == row]
    actual = {
        "num_tracks": len(tracks),
        "num_samples": len(tracks),
        "num_albums": tracks["album_uri"].nunique(),
        "num_artists": tracks["artist_uri"].nunique(),
        "duration_ms": int(tracks["duration_ms"].sum()),
        "tracks.pos": "positions not 0.. in order",
        "pid": "duplicate pid",
        "num_holdouts": "num_tracks - num_samples",
    }.get(name)
    given = part.playlists.iloc[row].get(name.replace("tracks.", ""), "")
    return (
        f"given {given}, track list gives {actual}"
        if name in ("num_tracks", "num_samples", "num_albums", "num_artists", "duration_ms")
        else str(actual)
    )


def _pos_in_order(part: Part) -> np.ndarray:
    """Per playlist: True where the tracks' ``pos`` is not 0, 1, 2, ... in order."""
    rows = part.entries["row"].to_numpy()
    n = len(part.playlists)
    starts = np.concatenate([[0], np.cumsum(part.playlists["n_entries"].to_numpy())[:-1]])
    expected = np.arange(len(rows)) - starts[rows]
    wrong = part.entries["pos"].to_numpy() != expected
    return np.bincount(rows[wrong], minlength=n) > 0


def duplicate_pids(part: Part | Lean) -> np.ndarray:
    """True for the second and later playlists that reuse a pid."""
    return part.playlists["pid"].duplicated().to_numpy()


def _read_slice(path: Path, lenient: bool) -> Part | str:
    """One slice file as a Part; when lenient, the reason it could not be read instead.

    (It runs in a worker process: a warning raised there would be lost, so the reason goes
    back to the caller, which reports it.)
    """
    try:
        doc = read_json(path)
        if not isinstance(doc, dict) or not isinstance(doc.get("playlists"), list):
            raise MPDInputError("expected an object with a 'playlists' list", file=path, field="playlists")
    except (MPDInputError, OSError) as err:
        if not lenient:
            raise
        return str(err) if isinstance(err, MPDInputError) else f"{path}: {err.strerror or err}"
    return _check_slice(parse_playlists(path, doc["playlists"], PLAYLIST_FIELDS, {"description"}, lenient), lenient)


def _check_slice(part: Part, lenient: bool) -> Part:
    """Check each playlist's counts, positions and duration against its own track list."""
    pl, n = part.playlists, len(part.playlists)
    rows = part.entries["row"].to_numpy()
    checks = {
        "num_tracks": pl["num_tracks"].to_numpy() != pl["n_entries"].to_numpy(),
        "tracks.pos": _pos_in_order(part),
        "num_albums": pl["num_albums"].to_numpy() != nunique_per_row(rows, part.entries["album_uri"], n),
        "num_artists": pl["num_artists"].to_numpy() != nunique_per_row(rows, part.entries["artist_uri"], n),
        "duration_ms": pl["duration_ms"].to_numpy()
        != np.bincount(rows, part.entries["duration_ms"].to_numpy(), minlength=n).astype(np.int64),
    }
    return drop_failing(part, checks, lenient)


def _each_slice(
    mpd_dir: str | Path, read: Callable[[Path], object], progress: bool, workers: int | None, lenient: bool = False
) -> Iterator:
    """``read`` applied to every slice file, in order, by ``workers`` processes (default: the CPUs, at most 4).

    A file that is not a regular file is refused, or, when ``lenient``, given as the reason
    it was not read (as ``read`` gives the reason for a file it could not read).
    """
    files, refused = [], []
    for path in slice_files(mpd_dir, regular=False):
        try:
            files.append(regular_file(path))
        except (MPDInputError, OSError) as err:
            if not lenient:
                raise
            refused.append(str(err) if isinstance(err, MPDInputError) else f"{path}: {err.strerror or err}")
    yield from refused
    if not files:
        return
    with parallel.pool(parallel.count(len(files), workers, most=4)) as pool:
        yield from tqdm(
            pool.map(read, files), total=len(files), desc="reading slices", disable=not progress, unit="slice"
        )


def read_slices(mpd_dir: str | Path, lenient: bool = False, progress: bool = True, workers: int | None = None) -> Part:
    """Every playlist of an MPD directory, checked against the dataset's per-playlist rules."""
    parts = list(_each_slice(mpd_dir, partial(_read_slice, lenient=lenient), progress, workers, lenient))
    unreadable = [p for p in parts if isinstance(p, str)]
    parts = [p for p in parts if not isinstance(p, str)]
    if not parts:
        raise MPDInputError("no readable slice" + (f" ({unreadable[0]})" if unreadable else ""), file=mpd_dir)
    part = _concat(parts)
    part.skipped_files = unreadable
    checks = {"pid": duplicate_pids(part)}
    return report_skipped(drop_failing(part, checks, lenient), mpd_dir)


def _read_slice_lean(path: Path, lenient: bool, leave_out: np.ndarray) -> Lean | str:
    """One slice, checked, less the playlists ``leave_out`` names, kept lean (in a worker process)."""
    part = _read_slice(path, lenient)
    if isinstance(part, str):
        return part
    out = part.playlists["pid"].isin(leave_out).to_numpy()
    if out.any():
        part = part.drop(out)
        part.skipped -= int(out.sum())  # left out on purpose, not skipped as malformed
    return lean(part)


def read_lean(
    mpd_dir: str | Path,
    lenient: bool = False,
    progress: bool = True,
    workers: int | None = None,
    leave_out: np.ndarray | None = None,
) -> Lean:
    """:func:`read_slices`, less the pids in ``leave_out``, streamed into integer arrays.

    Each worker checks one slice and sends back its entries as integers and its distinct
    tracks once; no frame of per-entry strings is ever built.

    Shown in the book: 01_representation.
    """
    leave_out = np.empty(0, np.int64) if leave_out is None else leave_out
    unreadable = []

    def readable() -> Iterator[Lean]:
        for part in _each_slice(
            mpd_dir, partial(_read_slice_lean, lenient=lenient, leave_out=leave_out), progress, workers, lenient
        ):
            if isinstance(part, str):
                unreadable.append(part)
            else:
                yield part

    merged = merge(readable())
    if not len(merged.playlists):
        raise MPDInputError("no readable slice" + (f" ({unreadable[0]})" if unreadable else ""), file=mpd_dir)
    merged.skipped_files = unreadable
    return report_skipped(drop_failing(merged, {"pid": duplicate_pids(merged)}, lenient), mpd_dir)


def report_skipped(part: Part | Lean, source: str | Path) -> Part | Lean:
    """Warn, naming the source, when the lenient reader dropped playlists or whole files."""
    for reason in part.skipped_files:
        warnings.warn(f"skipped an unreadable file: {reason}", stacklevel=3)
    if part.skipped:
        warnings.warn(f"{source}: skipped {part.skipped} malformed playlist(s)", stacklevel=3)
    return part
