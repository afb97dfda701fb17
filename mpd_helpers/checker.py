"""The dataset checker's per-playlist rules, applied to whole columns at once."""

from __future__ import annotations

import numpy as np

from mpd_helpers.dataset import Part, nunique_per_row

CUTOFF = 1509494400  # 2017-11-01 00:00 GMT: no playlist was modified later
URI_RE = {kind: rf"^spotify:{kind}:[0-9A-Za-z]{{22}}$" for kind in ("track", "album", "artist")}


def check_rules(part: Part) -> list[str]:
    """Every violation of the MPD checker's rules, one line each naming file, pid and field."""
    pl = part.playlists
    rows = part.entries["row"].to_numpy()
    n_artists = nunique_per_row(rows, part.entries["artist_uri"], len(pl))
    n_albums = nunique_per_row(rows, part.entries["album_uri"], len(pl))
    per_playlist = {
        ("num_tracks", "not within 5..250"): ~pl["num_tracks"].between(5, 250).to_numpy(),
        ("num_artists", "fewer than 3 artists"): n_artists < 3,
        ("num_albums", "fewer than 2 albums"): n_albums < 2,
        ("name", "empty title"): pl["name"].str.strip().str.len().to_numpy() == 0,
        ("num_followers", "fewer than 1 follower"): pl["num_followers"].to_numpy() < 1,
        ("num_edits", "no edit"): pl["num_edits"].to_numpy() < 1,
        ("modified_at", "later than 2017-11-01"): pl["modified_at"].to_numpy() > CUTOFF,
        ("modified_at", "not rounded to midnight GMT"): pl["modified_at"].to_numpy() % 86_400 != 0,
        ("collaborative", "not 'true' or 'false'"): ~pl["collaborative"].isin(["true", "false"]).to_numpy(),
    }
    for kind in URI_RE:
        bad = ~part.entries[f"{kind}_uri"].str.match(URI_RE[kind]).to_numpy()
        per_playlist[(f"tracks.{kind}_uri", "malformed URI")] = np.bincount(rows[bad], minlength=len(pl)) > 0
    names = {"track_uri": "track_name", "album_uri": "album_name", "artist_uri": "artist_name"}
    for uri, name in names.items():
        pairs = part.entries[[uri, name]].drop_duplicates()
        clash = pairs[uri][pairs[uri].duplicated()].unique()
        bad = part.entries[uri].isin(clash).to_numpy()
        per_playlist[(f"tracks.{name}", "one URI carries several names")] = np.bincount(rows[bad], minlength=len(pl)) > 0
    problems = []
    for (field, message), failed in per_playlist.items():
        for row in np.flatnonzero(failed):
            problems.append(f"{pl['file'].iat[row]}: pid {pl['pid'].iat[row]}: field '{field}': {message}")
    return problems
