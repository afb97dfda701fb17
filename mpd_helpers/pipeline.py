"""The main job outside the notebooks: load, fit, recommend, write, verify and grade; and
continuing one new playlist with a fitted model saved for the next call.

The recommenders are the chapters' own, from :mod:`mpd_helpers.models.catalogue`; every
stage reports its wall time and its peak resident memory.
"""

from __future__ import annotations

import hashlib
import os
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mpd_helpers import files
from mpd_helpers.data import challenge_set, dataset, slices
from mpd_helpers.errors import MPDInputError, printable
from mpd_helpers.grading import metrics, submission
from mpd_helpers.models import base, catalogue, store

# The systems the command line offers, by their command-line names (catalogue.COMMANDS).
METHODS = catalogue.COMMANDS
MODEL_VERSION = 6  # bump when a saved model would no longer load or mean the same
MODEL_KIND = "fitted model"  # what the stamp of a folder of saved models says it holds
# What such a folder holds (model.pickle: older versions, never read); one holding nothing else
# is replaced even when its stamp cannot be read.
MODEL_FILES = frozenset({files.STAMP, "model", "tracks.parquet", "model.pickle"})


def peak_rss() -> int:
    """Peak resident memory in bytes since the last :func:`reset_peak` (this process and its children)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    try:
        with open("/proc/self/status") as status:
            line = next(t for t in status if t.startswith("VmHWM:"))
        own = int(line.split()[1]) * 1024
    except (OSError, StopIteration):  # not Linux: the peak since the process started
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return max(own, children)


def reset_peak() -> None:
    """Start a new peak-memory measurement (Linux; elsewhere peaks only grow)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


@contextmanager
def stage(name: str, report: list[dict] | None = None) -> Iterator[None]:
    """Time a stage and measure its peak memory; print both when it ends."""
    reset_peak()
    start = time.perf_counter()
    yield
    seconds, peak = time.perf_counter() - start, peak_rss()
    print(f"{name:>10s}: {seconds:7.1f} s, peak {peak / 2**30:5.2f} GiB", file=sys.stderr)
    if report is not None:
        report.append({"stage": name, "seconds": seconds, "peak_gib": peak / 2**30})


@dataclass
class Run:
    """What :func:`recommend_all` did: each stage's cost, the data's size, and the grade."""

    stages: pd.DataFrame  # stage, seconds, peak_gib
    sizes: dict[str, int]  # training playlists, entries and distinct tracks, albums and artists
    grade: pd.DataFrame | None  # overall and per category, when a truth file was given
    model: base.Recommender | None = None  # the fitted model


def recommend_all(
    mpd_dir: str | Path,
    challenge_path: str | Path,
    method: str,
    out: str | Path,
    truth_path: str | Path | None = None,
    workers: int | None = None,
    team_name: str = "mpd-book",
    contact_email: str = "team@example.org",
    progress: bool = True,
    train_on_sources: bool = False,
) -> Run:
    """Load, fit, recommend 500 tracks per challenge playlist, write and verify the CSV, grade.

    The output is checked before anything is read: it may replace a regular file, never an
    input (a slice, the challenge set, the truth file) nor a folder, device or pipe.
    ``train_on_sources``: see :func:`mpd_helpers.data.dataset.load`.

    Shown in the book: 08_scale.
    """
    if method not in METHODS:
        raise MPDInputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}", field="method")
    check_output(out, [*slices.slice_files(mpd_dir), challenge_path, *([truth_path] if truth_path else [])])
    report: list[dict] = []
    with stage("load", report):
        challenge = challenge_set.read(challenge_path, truth_path)
        ds = dataset.load(mpd_dir, challenge, progress=progress, workers=workers, train_on_sources=train_on_sources)
        ds.matrix  # noqa: B018 - the utility matrix is built here, as part of loading
    rows = ds.challenge_rows
    training = ~ds.playlists["is_challenge"].to_numpy()
    in_training = training[ds.entries["pid"].to_numpy()]
    played = ds.tracks.iloc[
        np.flatnonzero(np.bincount(ds.entries["track_index"].to_numpy()[in_training], minlength=ds.n_tracks))
    ]
    sizes = {
        "playlists": int(training.sum()),
        "entries": int(in_training.sum()),
        "tracks": len(played),
        "albums": played["album_uri"].nunique(),
        "artists": played["artist_uri"].nunique(),
    }
    if sizes["tracks"] < submission.N_TRACKS:
        raise MPDInputError(
            f"the training playlists hold {sizes['tracks']} distinct tracks; a submission needs "
            f"{submission.N_TRACKS} per playlist",
            file=mpd_dir,
            field="tracks",
        )
    pids = ds.playlists["mpd_pid"].to_numpy()[rows]
    if (pids < 0).any():
        raise MPDInputError(
            "negative: a submission's pids are integers from 0",
            file=challenge_path,
            pid=int(pids[pids < 0][0]),
            field="pid",
        )
    with stage("fit", report):
        model = METHODS[method].make(0).fit(ds)
    with stage("recommend", report):
        recs = model.recommend(rows, progress=progress)
    if (recs < 0).any():  # seeds and the popular fill leave too few tracks
        raise MPDInputError(
            f"fewer than {submission.N_TRACKS} tracks to recommend to some playlists", file=mpd_dir, field="tracks"
        )
    with stage("write", report):
        path = submission.write(
            out,
            pids,
            base.to_uris(ds, recs),
            team_name,
            contact_email,
            challenge=challenge.identity,
        )
    with stage("verify", report):
        problems = submission.verify(challenge, path)
    if problems:
        raise MPDInputError(
            f"the written submission breaks the challenge's rules:\n{submission.format_report(problems)}", file=path
        )
    grade = None
    if challenge.truth is not None:
        with stage("grade", report):
            per_playlist = metrics.evaluate(
                base.as_frame(ds, rows, recs),
                challenge.truth.tracks,
                ds.tracks.set_index("track_uri")["artist_uri"],
                ndcg="spotify",
            )
            grade = metrics.summarize(per_playlist)
    return Run(pd.DataFrame(report), sizes, grade, model)


def check_output(out: str | Path, inputs: list[str | Path]) -> None:
    """Refuse a submission path (or its ``.gz``) that is one of ``inputs`` or is not a regular file."""
    for path in (Path(out), Path(f"{out}.gz")):
        files.replaceable(path)
        for source in inputs:
            if path.exists() and Path(source).exists() and os.path.samefile(path, source):
                raise MPDInputError(f"is an input of this run ({source}); the submission must go elsewhere", file=path)


# --- continuing one playlist -----------------------------------------------------------------


def model_dir_for(mpd_dir: str | Path, method: str) -> Path:
    """Where the fitted model of an MPD directory is kept between calls (a user cache folder)."""
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mpd-book"
    key = hashlib.sha256(str(Path(mpd_dir).resolve()).encode()).hexdigest()[:16]
    return root / f"{method}-{key}"


def _slices_signature(mpd_dir: str | Path) -> list[list]:
    """Names, sizes and modification times of the slices: a saved model is stale when they change."""
    return [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in slices.slice_files(mpd_dir)]


def fitted_model(
    mpd_dir: str | Path,
    method: str = "playlist-knn",
    model_dir: str | Path | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> tuple[base.Recommender, pd.DataFrame]:
    """The model fitted on every playlist of ``mpd_dir`` and its track table: loaded if saved, else fitted and saved.

    The model is kept as data (arrays and JSON, :mod:`mpd_helpers.models.store`), never as
    code. A saved model that cannot be read is stale: it is refitted and replaced, with a
    warning. The folder is replaced only if it is missing, empty or stamped as a model of
    this tool; a model that cannot be saved is still used, with a warning.
    """
    if method not in METHODS:
        raise MPDInputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}", field="method")
    folder = files.claim(
        Path(model_dir) if model_dir is not None else model_dir_for(mpd_dir, method),
        MODEL_KIND,
        _older_model,
        MODEL_FILES,
    )
    signature = {"version": MODEL_VERSION, "method": method, "slices": _slices_signature(mpd_dir)}
    stamp = files.read_stamp(folder)
    if stamp is not None and stamp.get("signature") == signature:
        try:
            return store.load(folder / "model"), _read_tracks(folder / "tracks.parquet")
        except (store.StaleModel, StaleTracks) as err:
            _warn(f"the saved model in {folder} cannot be used ({err}); fitting it again")
    elif stamp is not None:
        _warn(f"the saved model in {folder} was fitted on other slices or by another version; fitting it again")
    elif folder.is_dir() and any(folder.iterdir()):
        _warn(f"the saved model in {folder} is incomplete (its stamp cannot be read); fitting it again")
    with stage("load"):
        ds = dataset.load(mpd_dir, progress=progress, workers=workers)
        ds.matrix  # noqa: B018 - the utility matrix is built here, as part of loading
    with stage("fit"):
        model = METHODS[method].make(0).fit(ds)
    with stage("save"):
        try:
            with files.atomic_folder(
                folder, MODEL_KIND, {"signature": signature}, _older_model, MODEL_FILES
            ) as building:
                (building / "model").mkdir()
                store.save(model, building / "model")
                ds.tracks.to_parquet(building / "tracks.parquet")
        except (OSError, MPDInputError) as err:
            where = f"{err.filename}: " if isinstance(err, OSError) and err.filename else ""
            reason = err.strerror if isinstance(err, OSError) and err.strerror else err
            _warn(f"could not save the fitted model ({where}{reason}); the next call fits it again")
    return model, ds.tracks


def _older_model(stamp: dict) -> bool:
    """Whether a stamp is that of a model saved by an earlier version (it has a signature)."""
    return "signature" in stamp


class StaleTracks(Exception):
    """The saved track table cannot be read."""


def _read_tracks(path: Path) -> pd.DataFrame:
    """The saved track table, or :class:`StaleTracks` when it cannot be read."""
    try:
        tracks = pd.read_parquet(path)
    except Exception as err:  # noqa: BLE001 - whatever the Parquet reader raises, the cache is stale
        raise StaleTracks(f"tracks.parquet: {type(err).__name__}") from None
    if "track_uri" not in tracks:
        raise StaleTracks("tracks.parquet has no track_uri column")
    return tracks


def _warn(message: str) -> None:
    """One warning line on stderr (control characters escaped)."""
    print(f"warning: {printable(message)}", file=sys.stderr)


def continue_playlist(
    model: base.Recommender, tracks: pd.DataFrame, title: str | None = None, seeds: list[str] = (), n: int = 20
) -> pd.DataFrame:
    """The next ``n`` tracks for a new playlist (a title, seed track URIs, or both), with names."""
    if not title and not seeds:
        raise MPDInputError("give a title, seed tracks, or both", field="title/track")
    where = pd.Index(tracks["track_uri"]).get_indexer(list(seeds))
    unknown = [uri for uri, k in zip(seeds, where) if k < 0]
    if unknown:
        raise MPDInputError(f"{len(unknown)} seed track(s) not in the dataset: {', '.join(unknown[:3])}", field="track")
    rows = model.add_playlists([pd.unique(where)], pd.Series([title or ""]))
    picked = model.recommend(rows, n=n, progress=False)[0]
    shown = tracks.iloc[picked[picked >= 0]][["track_name", "artist_name", "album_name", "track_uri"]]
    return (
        shown.reset_index(drop=True)
        .rename_axis("rank")
        .set_axis(["track", "artist", "album", "uri"], axis=1)
        .set_index(pd.RangeIndex(1, len(shown) + 1, name="rank"))
    )
