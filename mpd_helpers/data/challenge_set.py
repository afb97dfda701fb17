"""A challenge set and its truth: the one reader of ``challenge_set.json`` and ``challenge_truth.json``.

A challenge set lists incomplete playlists: a pid, the number of tracks hidden, the seed
tracks given (none to 100) and, in most categories, a title. The official one (Spotify's,
10,000 playlists) has no answers; one built from MPD slices (:mod:`mpd_helpers.data.recipe`)
carries a build id, and its truth file names the held-out tracks of each playlist and the
MPD playlist it was cut from. :func:`read` reads and checks both files once, and the
:class:`ChallengeSet` it returns is what loading, verifying and grading are given.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mpd_helpers import files
from mpd_helpers.data import slices
from mpd_helpers.errors import MPDInputError

CHALLENGE_FIELDS = {"pid": int, "num_holdouts": int, "num_samples": int, "num_tracks": int, "tracks": list}
TRUTH_TRACK_FIELDS = (("pos", int), ("track_uri", str), ("artist_uri", str))


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


@dataclass(frozen=True)
class Truth:
    """The held-out tracks of a challenge set built from MPD slices."""

    path: Path
    tracks: pd.DataFrame  # pid, category, pos, track_uri, artist_uri, in playlist order
    build: str | None  # the build id it shares with its challenge set
    source_pids: np.ndarray  # the MPD playlists the challenge playlists were cut from (int64)


@dataclass(frozen=True)
class ChallengeSet:
    """The playlists of a challenge set, checked, with what identifies it and, when given, its truth."""

    path: Path
    part: slices.Part  # the challenge playlists (pid, name, num_holdouts, ...) and their seed tracks
    build: str | None  # the build id of a set built from slices; None for any other (the official one)
    digest: str  # the first 16 hex digits of the file's SHA-256
    truth: Truth | None = None

    @property
    def identity(self) -> str:
        """What a submission records of the set it answers: ``build <id>``, else ``sha256 <digest>``."""
        return f"build {self.build}" if self.build is not None else f"sha256 {self.digest}"

    @property
    def pids(self) -> np.ndarray:
        """The challenge playlists' pids, in the file's order."""
        return self.part.playlists["pid"].to_numpy(np.int64)

    @property
    def held_out(self) -> np.ndarray:
        """The MPD pids the build took out of the training data (none without a truth)."""
        return self.truth.source_pids if self.truth is not None else np.empty(0, np.int64)

    def seeds(self) -> dict[int, set[str]]:
        """pid -> the set of its seed track URIs."""
        found: dict[int, set[str]] = {int(pid): set() for pid in self.pids}
        owners = self.pids[self.part.entries["row"].to_numpy()]
        for pid, uri in zip(owners.tolist(), self.part.entries["track_uri"].tolist()):
            found[pid].add(uri)
        return found


def read(path: str | Path, truth: str | Path | Truth | None = None, lenient: bool = False) -> ChallengeSet:
    """A challenge set, checked (sample and holdout counts, pids, positions), and its truth when
    given (a path, or a :class:`Truth` already read).

    The truth must belong to the set: the same build id, and only pids the set has.
    """
    path = files.regular_file(path, "a challenge set")
    data = path.read_bytes()
    doc = files.parse_json(data, path)
    if not isinstance(doc, dict) or not isinstance(doc.get("playlists"), list):
        raise MPDInputError("expected an object with a 'playlists' list", file=path, field="playlists")
    part = slices.parse_playlists(path, doc["playlists"], CHALLENGE_FIELDS, {"name"}, lenient)
    pl = part.playlists
    rows = part.entries["row"].to_numpy()
    pos = part.entries["pos"].to_numpy()
    prev_ok = np.ones(len(pos), bool)
    prev_ok[1:] = (rows[1:] != rows[:-1]) | (pos[1:] > pos[:-1])  # random seeds keep gaps
    checks = {
        "pid": slices.duplicate_pids(part),
        "num_samples": pl["num_samples"].to_numpy() != pl["n_entries"].to_numpy(),
        "num_holdouts": pl["num_holdouts"].to_numpy() != pl["num_tracks"].to_numpy() - pl["num_samples"].to_numpy(),
        "tracks.pos": np.bincount(rows[~prev_ok], minlength=len(pl)) > 0,
    }
    part = slices.report_skipped(slices.drop_failing(part, checks, lenient), path)
    build = doc.get("build")
    challenge = ChallengeSet(
        path,
        part,
        build if isinstance(build, str) and build else None,
        hashlib.sha256(data).hexdigest()[:16],
    )
    if truth is None:
        return challenge
    truth = truth if isinstance(truth, Truth) else read_truth(truth)
    _check_pair(challenge, truth)
    return ChallengeSet(challenge.path, challenge.part, challenge.build, challenge.digest, truth)


def _check_pair(challenge: ChallengeSet, truth: Truth) -> None:
    """Refuse a truth file that belongs to another challenge set: another build id, or pids the
    challenge set does not have; warn when some challenge playlists have no held-out tracks."""
    if truth.build is not None and challenge.build is not None and truth.build != challenge.build:
        raise MPDInputError(
            f"belongs to another challenge set (build {truth.build}, while "
            f"{challenge.path} is build {challenge.build}); rebuild both together",
            file=truth.path,
            field="build",
        )
    if truth.build is not None and challenge.build is None:
        raise MPDInputError(
            f"was built with a challenge set of build {truth.build}, while {challenge.path} "
            "was not built here (it has no build id)",
            file=truth.path,
            field="build",
        )
    pids = set(challenge.pids.tolist())
    graded = set(truth.tracks["pid"].unique().tolist())
    foreign = sorted(graded - pids)
    if foreign:
        raise MPDInputError(
            f"{len(foreign)} of its {len(graded)} playlists are not in {challenge.path} "
            f"(pids {', '.join(map(str, foreign[:3]))}{' ...' if len(foreign) > 3 else ''}): "
            "it belongs to another challenge set",
            file=truth.path,
            field="pid",
        )
    ungraded = len(pids - graded)
    if ungraded:
        warnings.warn(
            f"{truth.path}: {ungraded} of the {len(pids)} challenge playlists have no held-out "
            "tracks in it; only the others are graded",
            stacklevel=3,
        )


def read_truth(path: str | Path) -> Truth:
    """The held-out tracks of a built challenge set, with its build id and source pids.

    Each playlist is checked: an integer pid, seen once; a category; a list of tracks, each
    with an integer pos and string URIs; an integer ``source_pid`` when there is one (a truth
    held out of other slices, as the official set's would be, names none). A problem is named
    by file, pid and field.
    """
    path = Path(path)
    doc = files.read_json(path)
    playlists = doc.get("playlists") if isinstance(doc, dict) else None
    if not isinstance(playlists, list):
        raise MPDInputError(
            f"expected an object with a 'playlists' list, got {type(playlists).__name__}", file=path, field="playlists"
        )
    if not playlists:
        raise MPDInputError("holds no playlists: there is nothing to grade against", file=path, field="playlists")
    rows, seen, sources = [], set(), []
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
        source = record.get("source_pid")
        if source is not None:
            if not isinstance(source, int) or isinstance(source, bool):
                raise MPDInputError(
                    f"expected int, got {type(source).__name__} {source!r:.40}", file=path, pid=pid, field="source_pid"
                )
            sources.append(source)
        for i, track in enumerate(record["tracks"]):
            problem = _truth_track_problem(track)
            if problem:
                raise MPDInputError(problem[1], file=path, pid=pid, field=f"tracks[{i}].{problem[0]}")
            rows.append((pid, record["category"], track["pos"], track["track_uri"], track["artist_uri"]))
    frame = pd.DataFrame(rows, columns=["pid", "category", "pos", "track_uri", "artist_uri"])
    build = doc.get("build")
    return Truth(
        path,
        frame.sort_values(["pid", "pos"], kind="stable").reset_index(drop=True),
        build if isinstance(build, str) else None,
        np.array(sources, dtype=np.int64),
    )


def _truth_track_problem(track: object) -> tuple[str, str] | None:
    """The first problem of one held-out track record, as (field, message), or None."""
    if not isinstance(track, dict):
        return "", f"expected an object, got {type(track).__name__}"
    for field, kind in TRUTH_TRACK_FIELDS:
        value = track.get(field)
        if not isinstance(value, kind) or isinstance(value, bool):
            return field, f"expected {kind.__name__}, got {type(value).__name__} {value!r:.40}"
    return None
