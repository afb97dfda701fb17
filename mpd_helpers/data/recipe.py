"""The challenge's recipe applied to any MPD directory: a challenge set and its held-out truth.

Spotify built the official challenge set by taking playlists out of the MPD, keeping a
few seed tracks of each (none, the first 1, 5, 10, 25 or 100, or 25 or 100 at random),
hiding the rest, and making sure every hidden track still occurs in the remaining
playlists. :func:`build` does the same to synthetic or real slices, so the book can grade
itself on tracks it has never seen, along the very code path a real MPD takes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from mpd_helpers import files
from mpd_helpers.data.challenge_set import CATEGORIES, Category
from mpd_helpers.data.slices import TRACK_COLUMNS, Lean, read_lean
from mpd_helpers.errors import MPDInputError

FIRST_CHALLENGE_PID = 1_000_000
# A seed track in the challenge set's schema (the MPD's, keeping its position); a held-out one in the truth file.
SEED_FIELDS = ("pos", "artist_name", "track_uri", "artist_uri", "track_name", "album_uri", "duration_ms", "album_name")
TRUTH_FIELDS = ("pos", "track_uri", "artist_uri")


@dataclass
class Build:
    """What :func:`build` wrote and how well the held-out tracks are covered."""

    challenge_path: Path
    truth_path: Path
    coverage: pd.DataFrame  # per category: playlists, mean and minimum held-out coverage


def seed_mask(rng: np.random.Generator, lengths: np.ndarray, cat: Category) -> np.ndarray:
    """Which entries of the chosen playlists (concatenated) are given as seeds."""
    within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    if not cat.random_seeds:
        return within < cat.n_seeds
    # A random key per entry; the n smallest keys of each playlist are its seeds.
    key = rng.random(len(within))
    owner = np.repeat(np.arange(len(lengths)), lengths)
    order = np.lexsort((key, owner))
    rank = np.empty(len(order), int)
    rank[order] = within
    return rank < cat.n_seeds


def _select(
    rng: np.random.Generator,
    part: Lean,
    counts: np.ndarray,
    taken: np.ndarray,
    protected: np.ndarray,
    cat: Category,
    n: int,
    min_coverage: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pick ``n`` playlists of a category whose held-out tracks stay covered by the rest.

    ``counts`` (occurrences of each track code among playlists still in training),
    ``taken`` and ``protected`` (tracks held out by playlists already chosen, whose last
    training copy must stay) are updated in place. Returns the chosen rows, their seed masks and coverage.
    """
    pl = part.playlists
    codes = part.track
    starts = np.concatenate([[0], np.cumsum(pl["n_entries"].to_numpy())[:-1]])
    lengths = pl["num_tracks"].to_numpy()
    eligible = np.flatnonzero(~taken & (lengths >= cat.min_tracks) & (lengths <= cat.max_tracks))
    if cat.title:
        eligible = eligible[pl["name"].to_numpy()[eligible] != ""]
    eligible = rng.permutation(eligible)
    seeds = seed_mask(rng, lengths[eligible], cat)
    seed_parts = np.split(seeds, np.cumsum(lengths[eligible])[:-1])
    chosen, chosen_seeds, coverage = [], [], []
    pending = []  # (row, seed mask, coverage) of candidates below full coverage, for a second pass

    def cover(row: int, mask: np.ndarray) -> float:
        """Share of held-out tracks left in training after removing ``row``; -1 if it
        would take away the last training copy of a track held out earlier."""
        own = codes[starts[row] : starts[row] + lengths[row]]
        if (protected[own] & (counts[own] == 1)).any():
            return -1.0
        held = own[~mask]
        return float((counts[held] >= 2).mean()) if len(held) else 1.0

    def take(row: int, mask: np.ndarray, cov: float) -> None:
        own = codes[starts[row] : starts[row] + lengths[row]]
        counts[own] -= 1
        protected[own[~mask][counts[own[~mask]] >= 1]] = True
        taken[row] = True
        chosen.append(row), chosen_seeds.append(mask), coverage.append(cov)

    for row, mask in zip(eligible, seed_parts):
        if len(chosen) == n:
            break
        cov = cover(row, mask)
        if cov == 1.0:
            take(row, mask, cov)
        elif cov >= min_coverage:
            pending.append((row, mask))
    if len(chosen) < n:
        rescored = sorted(((cover(r, m), i) for i, (r, m) in enumerate(pending)), reverse=True)
        for _, i in rescored:
            row, mask = pending[i]
            cov = cover(row, mask)  # counts moved since the candidate was scored
            if len(chosen) == n:
                break
            if cov >= min_coverage:
                take(row, mask, cov)
    if len(chosen) < n:
        raise MPDInputError(
            f"category {cat.number} ({cat.label}, {cat.min_tracks}-{cat.max_tracks} tracks): only {len(chosen)} "
            f"playlists qualify with at least {min_coverage:.0%} of their held-out tracks elsewhere, {n} wanted; "
            "use more slices or fewer playlists per category",
            field="num_tracks",
        )
    return np.array(chosen), chosen_seeds, np.array(coverage)


def build(
    mpd_dir: str | Path,
    out_dir: str | Path,
    per_category: int = 100,
    seed: int = 0,
    min_coverage: float = 0.9,
    progress: bool = True,
) -> Build:
    """Write ``challenge_set.json`` and ``challenge_truth.json`` built from ``mpd_dir``.

    Either file may replace one that an earlier build wrote (it carries a build id), never
    another file: an official challenge set in ``out_dir`` is refused before any work.
    """
    _claim(out_dir)
    part = read_lean(mpd_dir, progress=progress)
    return build_from(part, out_dir, per_category, seed, min_coverage)


def build_from(
    part: Lean, out_dir: str | Path, per_category: int = 100, seed: int = 0, min_coverage: float = 0.9
) -> Build:
    """:func:`build` on playlists already read (lean: tracks numbered as they first appear)."""
    rng = np.random.default_rng(seed)
    counts = np.bincount(part.track, minlength=len(part.tracks))
    taken = np.zeros(len(part.playlists), bool)
    protected = np.zeros(len(counts), bool)
    picked = {}
    # The longest categories are the scarcest: choose them first.
    for cat in sorted(CATEGORIES, key=lambda c: (-c.min_tracks, c.number)):
        picked[cat.number] = _select(rng, part, counts, taken, protected, cat, per_category, min_coverage)
    out = _claim(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    challenge, truth, summary = [], [], []
    starts = np.concatenate([[0], np.cumsum(part.playlists["n_entries"].to_numpy())[:-1]])
    lengths, names = part.playlists["n_entries"].to_numpy(), part.playlists["name"].to_numpy(object)
    pids, num_tracks = part.playlists["pid"].to_numpy(), part.playlists["num_tracks"].to_numpy()
    columns = {c: part.tracks[c].to_numpy() for c in TRACK_COLUMNS}  # each distinct track's fields, once
    for cat in CATEGORIES:
        rows, masks, cov = picked[cat.number]
        summary.append(
            {
                "category": cat.number,
                "label": cat.label,
                "playlists": len(rows),
                "mean_coverage": cov.mean(),
                "min_coverage": cov.min(),
                "fully_covered": int((cov == 1).sum()),
            }
        )
        for row, mask in zip(rows, masks):
            pid = FIRST_CHALLENGE_PID + len(challenge)
            span = slice(starts[row], starts[row] + lengths[row])
            track, pos = part.track[span], part.pos[span]
            entry = {"name": names[row]} if cat.title else {}
            entry.update(
                {
                    "num_holdouts": int((~mask).sum()),
                    "pid": pid,
                    "num_tracks": int(num_tracks[row]),
                    "tracks": _track_records(columns, track[mask], pos[mask], SEED_FIELDS),
                    "num_samples": int(mask.sum()),
                }
            )
            challenge.append(entry)
            truth.append(
                {
                    "pid": pid,
                    "category": cat.number,
                    "source_pid": int(pids[row]),
                    "tracks": _track_records(columns, track[~mask], pos[~mask], TRUTH_FIELDS),
                }
            )
    challenge_path, truth_path = out / "challenge_set.json", out / "challenge_truth.json"
    # Both files carry the same build id, and are renamed into place together: a reader can
    # tell a truth file that belongs to another challenge set (see :func:`mpd_helpers.data.challenge_set.read`).
    build_id = hashlib.sha256(orjson.dumps(challenge) + orjson.dumps(truth)).hexdigest()[:16]
    challenge_doc = {
        "date": "2018-01-16 08:47:28.198015",
        "version": "v1",
        "name": "challenge_set",
        "description": f"{len(challenge)} playlists in 10 categories built from an MPD directory with seed {seed}",
        "build": build_id,
        "playlists": challenge,
    }
    truth_doc = {"build": build_id, "playlists": truth}
    files.write_files(
        [
            (path, lambda handle, doc=doc: handle.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2)))
            for path, doc in ((challenge_path, challenge_doc), (truth_path, truth_doc))
        ]
    )
    return Build(challenge_path, truth_path, pd.DataFrame(summary).set_index("category"))


def _claim(out_dir: str | Path) -> Path:
    """``out_dir`` if the challenge set and truth file written there would replace only earlier builds."""
    out = Path(out_dir)
    for name in ("challenge_set.json", "challenge_truth.json"):
        path = files.replaceable(out / name)
        if path.exists():
            try:
                doc = files.read_json(path)
            except MPDInputError:
                doc = None
            if not (isinstance(doc, dict) and isinstance(doc.get("build"), str)):
                raise MPDInputError(
                    "exists and was not written by a challenge build (it has no build id); "
                    "it is left alone: choose another folder",
                    file=path,
                )
    return out


def _track_records(
    columns: dict[str, np.ndarray], track: np.ndarray, pos: np.ndarray, fields: tuple[str, ...]
) -> list[dict]:
    """Tracks (rows of the track table, at positions ``pos``) as records with ``fields``, in that order."""
    values = [pos.tolist() if f == "pos" else columns[f][track].tolist() for f in fields]
    return [dict(zip(fields, record)) for record in zip(*values)]
