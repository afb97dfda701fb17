"""The training and challenge playlists indexed in the write-up's representation, and saved.

The write-up keeps one row per playlist-track entry and numbers the tracks densely; the
utility matrix (playlists x tracks, 1 where a playlist holds a track) follows from those
rows. A :class:`Dataset` holds the rows, the track table and the playlist table, and gives
its utility matrix, built once.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mpd_helpers.data.challenge_set import ChallengeSet
from mpd_helpers.data.matrix import utility_matrix
from mpd_helpers.data.slices import Lean, lean, merge, read_lean
from mpd_helpers.errors import MPDInputError
from mpd_helpers.files import write_json, write_with


@dataclass
class Dataset:
    """Training and challenge playlists in the write-up's one-row-per-entry form."""

    entries: pd.DataFrame  # pid (dense row), pos, track_index, trackid, artist_name, track_name, num_holdouts
    tracks: pd.DataFrame  # indexed by track_index: track_uri, track_name, artist_name, artist_uri, album_...
    playlists: pd.DataFrame  # indexed by dense pid: mpd_pid, name, num_tracks, num_samples, num_holdouts, is_challenge
    skipped: int = 0

    @property
    def n_playlists(self) -> int:
        """Number of playlists (rows of the utility matrix)."""
        return len(self.playlists)

    @property
    def n_tracks(self) -> int:
        """Number of distinct tracks (columns of the utility matrix)."""
        return len(self.tracks)

    @property
    def challenge_rows(self) -> np.ndarray:
        """Dense pids of the challenge playlists, in challenge-set order."""
        return np.flatnonzero(self.playlists["is_challenge"].to_numpy())

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """The utility matrix (playlists x tracks, float32 CSR, 1 where a playlist holds a track), built once."""
        return utility_matrix(self.entries, self.n_playlists, self.n_tracks)

    @cached_property
    def training(self) -> sp.csr_matrix:
        """The training playlists' rows of the utility matrix (challenge playlists left out), built once
        and shared by every model fitted on this dataset."""
        return self.matrix[np.flatnonzero(~self.playlists["is_challenge"].to_numpy())]

    def track_lists(self, rows: np.ndarray) -> list[np.ndarray]:
        """The track indices of each playlist row, in playlist order."""
        e = self.entries[self.entries["pid"].isin(rows)].sort_values(["pid", "pos"], kind="stable")
        lists = dict(zip(*np.unique(e["pid"].to_numpy(), return_index=True)))
        split = np.split(e["track_index"].to_numpy(np.int64), list(lists.values())[1:])
        by_row = dict(zip(lists, split))
        return [by_row.get(r, np.empty(0, np.int64)) for r in rows]


def load(
    mpd_dir: str | Path,
    challenge: ChallengeSet | None = None,
    lenient: bool = False,
    progress: bool = True,
    workers: int | None = None,
    train_on_sources: bool = False,
) -> Dataset:
    """Slices (less the playlists a challenge build held out) plus a challenge set, indexed.

    A challenge set built from MPD slices (it carries a build id) was cut from whole
    playlists that are still in the slices: without its truth, which names them, they
    would be trained on, and any grade would be inflated. So it is refused without its
    truth, unless ``train_on_sources`` says to train on every playlist knowingly.
    """
    if challenge is not None and challenge.truth is None and challenge.build is not None:
        if not train_on_sources:
            raise MPDInputError(
                f"was built from MPD slices (build {challenge.build}): the whole playlists it was cut from are "
                "still in the slices, so without its truth file (which names them) they would be trained on "
                "and any grade inflated. Give the truth file, or choose to train on them knowingly",
                file=challenge.path,
                field="build",
            )
        warnings.warn(
            f"{challenge.path} (build {challenge.build}) is answered by a model trained on every playlist "
            f"of {mpd_dir}, the whole playlists it was cut from included: a grade of it is inflated",
            stacklevel=2,
        )
    held_out = challenge.held_out if challenge is not None else None
    parts = [read_lean(mpd_dir, lenient=lenient, progress=progress, workers=workers, leave_out=held_out)]
    if challenge is not None:
        parts.append(lean(challenge.part))
    return index(parts, skipped=sum(p.skipped for p in parts))


def index(parts: list[Lean], skipped: int = 0) -> Dataset:
    """Number playlists densely (training first, then challenge) and tracks by sorted URI.

    The entries' names are categorical columns: each distinct string is stored once, each
    entry holds a code (an entry's names are its track's, as the track table gives them).
    """
    is_challenge = [np.full(len(p.playlists), "num_holdouts" in p.playlists) for p in parts]
    merged = merge(parts)
    playlists = merged.playlists
    present = np.zeros(len(merged.tracks), bool)
    present[merged.track] = True  # tracks only a left-out playlist held are gone
    kept = np.flatnonzero(present)
    order = kept[np.argsort(merged.tracks["track_uri"].to_numpy()[kept], kind="stable")]
    number = np.full(len(merged.tracks), -1, np.int32)
    number[order] = np.arange(len(order))
    track_index = number[merged.track]
    tracks = merged.tracks.iloc[order].reset_index(drop=True)
    tracks.index.name = "track_index"
    rows = merged.row
    holdouts = playlists.get("num_holdouts", pd.Series(np.nan, index=playlists.index)).to_numpy(float)
    frame = pd.DataFrame(
        {
            "trackid": _per_entry(tracks["track_uri"], track_index),
            "artist_name": _per_entry(tracks["artist_name"], track_index),
            "track_name": _per_entry(tracks["track_name"], track_index),
            "pid": rows,
            "num_holdouts": holdouts[rows],
            "track_index": track_index,
            "pos": merged.pos,
        }
    )
    n_samples = playlists["n_entries"].to_numpy()
    table = pd.DataFrame(
        {
            "mpd_pid": playlists["pid"].to_numpy(np.int64),
            "name": playlists["name"],
            "num_tracks": playlists["num_tracks"].to_numpy(np.int64),
            "num_samples": n_samples,
            "num_holdouts": np.nan_to_num(holdouts, nan=0).astype(np.int64),
            "is_challenge": np.concatenate(is_challenge),
        }
    )
    table.index.name = "pid"
    return Dataset(frame, tracks, table, skipped=skipped)


def _per_entry(values: pd.Series, track_index: np.ndarray) -> pd.Categorical:
    """A track attribute for every entry, each distinct value stored once."""
    codes, uniques = pd.factorize(values)
    return pd.Categorical.from_codes(codes.astype(np.int32)[track_index], uniques)


def save(ds: Dataset, folder: str | Path, **source: str | Path | None) -> Path:
    """Write the three tables of ``ds`` as Parquet files into ``folder`` (each renamed into place).

    ``source`` (mpd_dir, challenge_path, truth_path) is recorded beside them, so that later
    steps find the files this dataset was read from.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "source.json", {k: (str(Path(v).resolve()) if v is not None else None) for k, v in source.items()})
    for name in ("entries", "tracks", "playlists"):
        write_with(out / f"{name}.parquet", getattr(ds, name).to_parquet)
    return out


def read_source(folder: str | Path) -> dict[str, Path | None]:
    """The paths a saved dataset was read from (see :func:`save`)."""
    path = Path(folder) / "source.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; run the representation chapter first")
    return {k: (Path(v) if v else None) for k, v in json.loads(path.read_text()).items()}


def read_saved(folder: str | Path) -> Dataset:
    """A dataset written by :func:`save`."""
    folder = Path(folder)
    missing = [n for n in ("entries", "tracks", "playlists") if not (folder / f"{n}.parquet").is_file()]
    if missing:
        raise FileNotFoundError(f"{folder}: no {', '.join(missing)}.parquet; run the representation chapter first")
    return Dataset(*(pd.read_parquet(folder / f"{n}.parquet") for n in ("entries", "tracks", "playlists")))
