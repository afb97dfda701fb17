"""The dataset checker's per-playlist rules, applied to whole columns at once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mpd_helpers.arrays import nunique_per_row
from mpd_helpers.data.slices import Part
from mpd_helpers.errors import printable

CUTOFF = 1509494400  # 2017-11-01 00:00 GMT: no playlist was modified later
URI_RE = {kind: rf"^spotify:{kind}:[0-9A-Za-z]{{22}}$" for kind in ("track", "album", "artist")}


def check_rules(part: Part) -> list[str]:
    """Every violation of the MPD checker's rules, one line each naming file, pid and field."""
    pl = part.playlists
    rows = part.entries["row"].to_numpy()
    n_artists = nunique_per_row(rows, part.entries["artist_uri"], len(pl))
    n_albums = nunique_per_row(rows, part.entries["album_uri"], len(pl))
    per_playlist = {
        ("pid", "negative"): pl["pid"].to_numpy() < 0,
        ("num_tracks", "not within 5..250"): ~pl["num_tracks"].between(5, 250).to_numpy(),
        ("num_artists", "fewer than 3 artists"): n_artists < 3,
        ("num_albums", "fewer than 2 albums"): n_albums < 2,
        ("name", "empty title"): pl["name"].str.strip().str.len().to_numpy() == 0,
        ("num_followers", "fewer than 1 follower"): pl["num_followers"].to_numpy() < 1,
        ("num_edits", "no edit"): pl["num_edits"].to_numpy() < 1,
        ("modified_at", "later than 2017-11-01"): pl["modified_at"].to_numpy() > CUTOFF,
        ("modified_at", "before 1970 (negative)"): pl["modified_at"].to_numpy() < 0,
        ("modified_at", "not rounded to midnight GMT"): pl["modified_at"].to_numpy() % 86_400 != 0,
        ("collaborative", "not 'true' or 'false'"): ~pl["collaborative"].isin(["true", "false"]).to_numpy(),
    }
    negative = part.entries["duration_ms"].to_numpy() < 0
    per_playlist[("tracks.duration_ms", "negative")] = np.bincount(rows[negative], minlength=len(pl)) > 0
    for kind in URI_RE:
        bad = ~part.entries[f"{kind}_uri"].str.match(URI_RE[kind]).to_numpy()
        per_playlist[(f"tracks.{kind}_uri", "malformed URI")] = np.bincount(rows[bad], minlength=len(pl)) > 0
    names = {"track_uri": "track_name", "album_uri": "album_name", "artist_uri": "artist_name"}
    for uri, name in names.items():
        pairs = part.entries[[uri, name]].drop_duplicates()
        clash = pairs[uri][pairs[uri].duplicated()].unique()
        bad = part.entries[uri].isin(clash).to_numpy()
        per_playlist[(f"tracks.{name}", "one URI carries several names")] = (
            np.bincount(rows[bad], minlength=len(pl)) > 0
        )
    return _listed(pl, per_playlist)


def check_challenge_rules(part: Part) -> list[str]:
    """Every violation of the rules a challenge set's playlists keep that reading it does not
    enforce (their counts already agree with their track lists), one line each."""
    pl = part.playlists
    return _listed(
        pl,
        {
            ("pid", "negative"): pl["pid"].to_numpy() < 0,
            ("num_holdouts", "negative: fewer tracks than seeds"): pl["num_holdouts"].to_numpy() < 0,
        },
    )


def _listed(pl, per_playlist: dict[tuple[str, str], np.ndarray]) -> list[str]:
    """One line per failed (field, message) and playlist: ``file: pid N: field 'x': message``."""
    problems = []
    for (field, message), failed in per_playlist.items():
        for row in np.flatnonzero(failed):
            problems.append(_line(pl["file"].iat[row], pl["pid"].iat[row], field, message))
    return problems


def _line(file: object, pid: object, field: str, message: str) -> str:
    where = printable(str(file), keep_newlines=False) + (
        f": pid {printable(str(pid), keep_newlines=False)}" if pid is not None else ""
    )
    return f"{where}: field '{printable(field, keep_newlines=False)}': {message}"


class _Repeated(dict):
    """A JSON object that gave some key more than once (``repeated``: those keys)."""

    repeated: list[str]


def _object(pairs: list[tuple[str, object]]) -> dict:
    """``object_pairs_hook``: a dict, as a plain parse would give (the last value of a key wins),
    marked when a key came more than once."""
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    marked = _Repeated(obj)
    marked.repeated = sorted({key for key, _ in pairs if key in seen or seen.add(key)})
    return marked


def duplicate_keys(path: str | Path) -> list[str]:
    """Keys given twice in one object of a slice or challenge set: the file itself, a playlist or
    one of its tracks. The normal reader (orjson) silently keeps the last value; the standard
    library's parser, told to keep every pair, sees both. One line each, as
    :func:`check_rules` gives its violations; a file this parser cannot read gives none
    (its reader reports it)."""
    message = "key given more than once (the last value is the one read)"
    try:
        with open(path, "rb") as handle:
            doc = json.load(handle, object_pairs_hook=_object)
    except (ValueError, RecursionError, OSError):
        return []
    problems = []
    if isinstance(doc, _Repeated):
        problems += [_line(path, None, key, message) for key in doc.repeated]
    playlists = doc.get("playlists") if isinstance(doc, dict) else None
    for playlist in playlists if isinstance(playlists, list) else []:
        if not isinstance(playlist, dict):
            continue
        pid = playlist.get("pid")
        if isinstance(playlist, _Repeated):
            problems += [_line(path, pid, key, message) for key in playlist.repeated]
        tracks = playlist.get("tracks")
        for i, track in enumerate(tracks if isinstance(tracks, list) else []):
            if isinstance(track, _Repeated):
                problems += [_line(path, pid, f"tracks[{i}].{key}", message) for key in track.repeated]
    return problems
