"""The challenge's recipe applied to any MPD directory: a challenge set and its held-out truth.

Spotify built the official challenge set by taking playlists out of the MPD, keeping a
few seed tracks of each (none, the first 1, 5, 10, 25 or 100, or 25 or 100 at random),
hiding the rest, and making sure every hidden track still occurs in the remaining
playlists. :func:`build` does the same to synthetic or real slices, so the book can grade
itself on tracks it has never seen, along the very code path a real MPD takes.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from mpd_helpers import io as files
from mpd_helpers.dataset import TRACK_COLUMNS, Lean, read_lean
from mpd_helpers.errors import MPDInputError

FIRST_CHALLENGE_PID = 1_000_000
# A seed track in the challenge set's schema (the MPD's, keeping its position); a held-out one in the truth file.
SEED_FIELDS = ("pos", "artist_name", "track_uri", "artist_uri", "track_name", "album_uri", "duration_ms", "album_name")
TRUTH_FIELDS = ("pos", "track_uri", "artist_uri")


@dataclass(frozen=True)
class Category:
    """One of the challenge's ten kinds of incomplete playlist."""

    number: int
    n_seeds: int
    random_seeds: bool
    title: bool
    min_tracks: int
    max_tracks: int

    @property
    def label(self) -> str:
        """A short description such as 'random 25, title'."""
        seeds = "no seeds" if self.n_seeds == 0 else f"{'random' if self.random_seeds else 'first'} {self.n_seeds}"
        return f"{seeds}, {'title' if self.title else 'no title'}"


CATEGORIES = (
    Category(1, 0, False, True, 10, 50),
    Category(2, 1, False, True, 10, 40),
    Category(3, 5, False, True, 10, 100),
    Category(4, 5, False, False, 40, 100),
    Category(5, 10, False, True, 40, 100),
    Category(6, 10, False, False, 40, 100),
    Category(7, 25, False, True, 101, 250),
    Category(8, 25, True, True, 101, 250),
    Category(9, 100, False, True, 150, 250),
    Category(10, 100, True, True, 150, 250),
)


def categories_frame() -> pd.DataFrame:
    """The ten categories as a table."""
    return pd.DataFrame([{**c.__dict__, "label": c.label} for c in CATEGORIES]).set_index("number")


@dataclass
class Build:
    """What :func:`build` wrote and how well the held-out tracks are covered."""

    challenge_path: Path
    truth_path: Path
    coverage: pd.DataFrame  # per category: playlists, mean and minimum held-out coverage


def _seed_mask(rng: np.random.Generator, lengths: np.ndarray, cat: Category) -> np.ndarray:
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
    seeds = _seed_mask(rng, lengths[eligible], cat)
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
    # tell a truth file that belongs to another challenge set (see check_pair).
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


def identity(challenge_path: str | Path) -> str:
    """What a submission records of the challenge set it answers: ``build <id>`` for a set
    built by :func:`build`, else ``sha256 <digest>`` of the file (the official set has no build id)."""
    doc = files.read_json(challenge_path)
    build_id = doc.get("build") if isinstance(doc, dict) else None
    if isinstance(build_id, str) and build_id:
        return f"build {build_id}"
    return f"sha256 {hashlib.sha256(files.regular_file(challenge_path).read_bytes()).hexdigest()[:16]}"


def build_of(challenge_path: str | Path) -> str | None:
    """The build id of a challenge set made by :func:`build`; None for any other (the official one)."""
    found = identity(challenge_path)
    return found.removeprefix("build ") if found.startswith("build ") else None


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


def check_pair(challenge_path: str | Path, truth_path: str | Path, truth: pd.DataFrame | None = None) -> None:
    """Refuse a truth file that belongs to another challenge set: another build id, or pids the
    challenge set does not have; warn when some challenge playlists have no held-out tracks."""
    doc = files.read_json(truth_path)
    truth_build = doc.get("build") if isinstance(doc, dict) else None
    challenge_build = build_of(challenge_path)
    if truth_build is not None and challenge_build is not None and truth_build != challenge_build:
        raise MPDInputError(
            f"belongs to another challenge set (build {truth_build}, while "
            f"{challenge_path} is build {challenge_build}); rebuild both together",
            file=truth_path,
            field="build",
        )
    if truth_build is not None and challenge_build is None:
        raise MPDInputError(
            f"was built with a challenge set of build {truth_build}, while {challenge_path} "
            "was not built here (it has no build id)",
            file=truth_path,
            field="build",
        )
    truth = read_truth(truth_path) if truth is None else truth
    challenge_doc = files.read_json(challenge_path)
    pids = (
        {p.get("pid") for p in challenge_doc.get("playlists", []) if isinstance(p, dict)}
        if isinstance(challenge_doc, dict) and isinstance(challenge_doc.get("playlists"), list)
        else set()
    )
    graded = set(truth["pid"].unique().tolist())
    foreign = sorted(graded - pids)
    if foreign:
        raise MPDInputError(
            f"{len(foreign)} of its {len(graded)} playlists are not in {challenge_path} "
            f"(pids {', '.join(map(str, foreign[:3]))}{' ...' if len(foreign) > 3 else ''}): "
            "it belongs to another challenge set",
            file=truth_path,
            field="pid",
        )
    ungraded = len(pids - graded)
    if ungraded:
        warnings.warn(
            f"{truth_path}: {ungraded} of the {len(pids)} challenge playlists have no held-out "
            "tracks in it; only the others are graded",
            stacklevel=2,
        )


def _track_records(
    columns: dict[str, np.ndarray], track: np.ndarray, pos: np.ndarray, fields: tuple[str, ...]
) -> list[dict]:
    """Tracks (rows of the track table, at positions ``pos``) as records with ``fields``, in that order."""
    values = [pos.tolist() if f == "pos" else columns[f][track].tolist() for f in fields]
    return [dict(zip(fields, record)) for record in zip(*values)]


def read_truth(path: str | Path) -> pd.DataFrame:
    """The held-out tracks: pid, category, pos, track_uri, artist_uri, in playlist order.

    Each playlist is checked: an integer pid, seen once; a category; a list of tracks, each
    with an integer pos and string URIs. A problem is named by file, pid and field.
    """
    doc = files.read_json(path)
    playlists = doc.get("playlists") if isinstance(doc, dict) else None
    if not isinstance(playlists, list):
        raise MPDInputError(
            f"expected an object with a 'playlists' list, got {type(playlists).__name__}", file=path, field="playlists"
        )
    if not playlists:
        raise MPDInputError("holds no playlists: there is nothing to grade against", file=path, field="playlists")
    rows, seen = [], set()
    for record in playlists:
        if not isinstance(record, dict):
            raise MPDInputError(f"a playlist is a {type(record).__name__}, not an object", file=path, field="playlists")
        pid = record.get("pid")
        for field, kind in (("pid", int), ("category", int), ("tracks", list)):
            value = record.get(field)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise MPDInputError(
                    f"expected {kind.__name__}, got {type(value).__name__} {value!r:.40}",
                    file=path,
                    pid=pid if field != "pid" else None,
                    field=field,
                )
        if pid in seen:
            raise MPDInputError("appears twice", file=path, pid=pid, field="pid")
        seen.add(pid)
        for i, track in enumerate(record["tracks"]):
            problem = _truth_track_problem(track)
            if problem:
                raise MPDInputError(problem[1], file=path, pid=pid, field=f"tracks[{i}].{problem[0]}")
            rows.append((pid, record["category"], track["pos"], track["track_uri"], track["artist_uri"]))
    frame = pd.DataFrame(rows, columns=["pid", "category", "pos", "track_uri", "artist_uri"])
    return frame.sort_values(["pid", "pos"], kind="stable").reset_index(drop=True)


def _truth_track_problem(track: object) -> tuple[str, str] | None:
    """The first problem of one held-out track record, as (field, message), or None."""
    if not isinstance(track, dict):
        return "", f"expected an object, got {type(track).__name__}"
    for field, kind in (("pos", int), ("track_uri", str), ("artist_uri", str)):
        value = track.get(field)
        if not isinstance(value, kind) or isinstance(value, bool):
            return field, f"expected {kind.__name__}, got {type(value).__name__} {value!r:.40}"
    return None


def add_cli(subparsers) -> None:
    """``challenge``: build a challenge set from an MPD directory."""
    from mpd_helpers.cli import positive_int, seed, share

    p = subparsers.add_parser(
        "challenge",
        help="build a challenge set and its held-out truth from MPD slices",
        description="Apply the challenge's 10-category recipe to an MPD directory.",
    )
    p.add_argument("mpd_dir")
    p.add_argument("out_dir", help="where challenge_set.json and challenge_truth.json go")
    p.add_argument(
        "--per-category", type=positive_int, default=100, help="playlists per category (1000 = official size)"
    )
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument(
        "--min-coverage",
        type=share,
        default=0.9,
        help="least share of a playlist's held-out tracks that must occur in training (default 0.9)",
    )
    p.set_defaults(func=_cli)


def _cli(args) -> int:
    """Run ``challenge`` and print the coverage table."""
    result = build(args.mpd_dir, args.out_dir, args.per_category, args.seed, args.min_coverage)
    print(result.coverage.to_string(float_format="{:.3f}".format))
    print(f"wrote {result.challenge_path} and {result.truth_path}")
    return 0
