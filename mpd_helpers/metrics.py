"""The challenge's grade: R-precision, NDCG and Recommended Songs clicks, per playlist and per category.

Every metric is computed for all playlists at once on flat arrays (one row per recommendation),
so grading 10,000 playlists of 500 recommendations takes about a second.

Conventions, following Spotify's own grading code:

- the recommendations of a playlist are cut to the first 500, then repeated tracks are dropped
  (the first occurrence keeps its place and the later ones are removed, closing the gap);
- G, the held-out tracks, is a set: a track held out twice counts once (``n_truth`` = |G|);
- a challenge playlist with no recommendations scores 0 and 51 clicks.

Two NDCG variants are available:

- ``"rules"`` (the challenge's rules page): DCG = rel_1 + sum_{i>=2} rel_i / log2(i),
  IDCG = 1 + sum_{i=2}^{|G ∩ R|} 1 / log2(i), and 0 where nothing relevant was recommended;
- ``"spotify"`` (Spotify's published metrics code): every rank i is discounted by
  1 / log2(i + 1) and the ideal ranking holds min(|G|, 500) relevant tracks.

R-precision with artist credit (``r_precision_artist``): within the first |G| recommendations a
track in G counts 1; a track not in G whose artist is one of G's artists counts 0.25, and each
such artist earns that credit at most once per playlist.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

from mpd_helpers.errors import MPDInputError

MAX_RECOMMENDATIONS = 500
NO_HIT_CLICKS = MAX_RECOMMENDATIONS // 10 + 1
ARTIST_CREDIT = 0.25
NDCG_VARIANTS = ("rules", "spotify")
METRICS = ("r_precision", "r_precision_artist", "ndcg", "clicks")


def discounts(variant: str, n: int = MAX_RECOMMENDATIONS) -> np.ndarray:
    """The NDCG gain of a relevant track at 0-based ranks 0..n-1 for one variant."""
    rank = np.arange(1, n + 1, dtype=np.float64)
    if variant == "rules":
        weights = np.ones(n)
        weights[1:] = 1.0 / np.log2(rank[1:])
        return weights
    if variant == "spotify":
        return 1.0 / np.log2(rank + 1.0)
    raise ValueError(f"unknown NDCG variant {variant!r}; expected one of {', '.join(NDCG_VARIANTS)}")


def _ranked(recommendations: pd.DataFrame, pid_codes: pd.Index) -> pd.DataFrame:
    """Recommendations cut to 500 per playlist, de-duplicated, with dense pid codes and 0-based ranks."""
    rec = pd.DataFrame({
        "pid": pd.to_numeric(recommendations["pid"]).to_numpy(np.int64),
        "track_uri": recommendations["track_uri"].to_numpy(),
    })
    rec["code"] = pid_codes.get_indexer(rec["pid"])
    rec = rec[rec["code"] >= 0]
    rec = rec[rec.groupby("code", sort=False).cumcount().to_numpy() < MAX_RECOMMENDATIONS]
    rec = rec.drop_duplicates(["code", "track_uri"], keep="first")
    rec["rank"] = rec.groupby("code", sort=False).cumcount().to_numpy()
    return rec


def _pair_keys(codes: np.ndarray, values: pd.Series, vocabulary: pd.Index) -> np.ndarray:
    """One int64 key per (playlist code, value) pair; -1 where the value is missing or unknown."""
    value_codes = vocabulary.get_indexer(values)
    keys = codes.astype(np.int64) * (len(vocabulary) + 1) + value_codes
    return np.where(value_codes >= 0, keys, -1)


def _artist_credit(top: pd.DataFrame, truth: pd.DataFrame, pid_codes: pd.Index,
                   track_artists: pd.Series, n_playlists: int) -> np.ndarray:
    """Per playlist, how many distinct G artists the track-level misses in the first |G| bring."""
    lookup = track_artists[~track_artists.index.duplicated(keep="first")]
    artists = pd.Series(top["track_uri"].to_numpy()).map(lookup)
    vocabulary = pd.Index(pd.unique(truth["artist_uri"].dropna()))
    truth_keys = _pair_keys(pid_codes.get_indexer(truth["pid"]), truth["artist_uri"], vocabulary)
    keys = _pair_keys(top["code"].to_numpy(), artists, vocabulary)
    credited = np.unique(keys[(keys >= 0) & pd.Series(keys).isin(truth_keys).to_numpy()])
    return np.bincount(credited // (len(vocabulary) + 1), minlength=n_playlists)


def evaluate(recommendations: pd.DataFrame, truth: pd.DataFrame,
             track_artists: pd.Series | None = None, ndcg: str = "rules") -> pd.DataFrame:
    """Per challenge playlist: r_precision, r_precision_artist, ndcg, clicks, n_truth and category."""
    weights = discounts(ndcg)
    truth = truth.assign(pid=pd.to_numeric(truth["pid"]).astype(np.int64))
    held_out = truth.drop_duplicates(["pid", "track_uri"])
    per_pid = held_out.groupby("pid", sort=True).agg(category=("category", "first"),
                                                     n_truth=("track_uri", "size"))
    pid_codes = pd.Index(per_pid.index)
    n_playlists = len(pid_codes)
    n_truth = per_pid["n_truth"].to_numpy(np.int64)

    rec = _ranked(recommendations, pid_codes)
    codes = rec["code"].to_numpy()
    ranks = rec["rank"].to_numpy()
    tracks = pd.Index(pd.unique(held_out["track_uri"]))
    truth_keys = _pair_keys(pid_codes.get_indexer(held_out["pid"]), held_out["track_uri"], tracks)
    rec_keys = _pair_keys(codes, rec["track_uri"], tracks)
    hit = (rec_keys >= 0) & pd.Series(rec_keys).isin(truth_keys).to_numpy()
    in_top = ranks < n_truth[codes]

    top_hits = np.bincount(codes[hit & in_top], minlength=n_playlists)
    r_precision = top_hits / n_truth

    if track_artists is None:
        r_precision_artist = np.full(n_playlists, np.nan)
    else:
        misses = rec.loc[in_top & ~hit, ["code", "track_uri"]]
        credit = _artist_credit(misses, truth, pid_codes, track_artists, n_playlists)
        r_precision_artist = (top_hits + ARTIST_CREDIT * credit) / n_truth

    dcg = np.bincount(codes[hit], weights=weights[ranks[hit]], minlength=n_playlists)
    cumulative = np.concatenate([[0.0], np.cumsum(weights)])
    if ndcg == "rules":
        ideal_hits = np.bincount(codes[hit], minlength=n_playlists)
    else:
        ideal_hits = np.minimum(n_truth, MAX_RECOMMENDATIONS)
    idcg = cumulative[ideal_hits]
    ndcg_values = np.divide(dcg, idcg, out=np.zeros(n_playlists), where=idcg > 0)

    first_hit = np.full(n_playlists, MAX_RECOMMENDATIONS * 10, dtype=np.int64)
    np.minimum.at(first_hit, codes[hit], ranks[hit])
    clicks = np.where(first_hit < MAX_RECOMMENDATIONS, first_hit // 10, NO_HIT_CLICKS)

    return pd.DataFrame({
        "pid": pid_codes.to_numpy(),
        "category": per_pid["category"].to_numpy(),
        "n_truth": n_truth,
        "r_precision": r_precision,
        "r_precision_artist": r_precision_artist,
        "ndcg": ndcg_values,
        "clicks": clicks.astype(np.int64),
    })


def summarize(per_playlist: pd.DataFrame) -> pd.DataFrame:
    """Mean of each metric over all playlists (row "all") and per category, with a count column."""
    columns = [c for c in METRICS if c in per_playlist.columns]
    overall = per_playlist[columns].mean().to_frame("all").T
    overall.insert(0, "count", len(per_playlist))
    groups = per_playlist.groupby("category", sort=True)
    by_category = groups[columns].mean()
    by_category.insert(0, "count", groups.size())
    table = pd.concat([overall, by_category.set_axis(by_category.index.tolist())])
    table["count"] = table["count"].astype(np.int64)
    table.index.name = "category"
    return table


def _open_text(path: str | Path) -> io.TextIOBase:
    """Open a CSV file for reading as text, decompressing it when it is gzipped."""
    path = Path(path)
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_submission(path: str | Path) -> pd.DataFrame:
    """A submission CSV (plain or gzipped) as rows pid, track_uri in rank order."""
    pids: list[int] = []
    tracks: list[str] = []
    with _open_text(path) as handle:
        for line_no, row in enumerate(csv.reader(handle), start=1):
            fields = [field.strip() for field in row]
            if not fields or not any(fields) or fields[0].startswith("#"):
                continue
            if fields[0] == "team_info":
                continue
            try:
                pid = int(fields[0])
            except ValueError:
                raise MPDInputError(f"pid {fields[0]!r} is not an integer",
                                    file=path, line=line_no, field="pid") from None
            uris = [uri for uri in fields[1:] if uri]
            pids.extend([pid] * len(uris))
            tracks.extend(uris)
    return pd.DataFrame({"pid": np.asarray(pids, dtype=np.int64), "track_uri": tracks})


def format_table(summary: pd.DataFrame) -> str:
    """The summary table as aligned text, leaving out metrics that were not computed."""
    shown = summary.dropna(axis=1, how="all")
    return shown.to_string(float_format=lambda value: f"{value:.4f}")


def _run_evaluate(args: argparse.Namespace) -> int:
    """Grade a submission file against held-out tracks and print the table."""
    from mpd_helpers.challenge import read_truth

    truth = read_truth(args.truth)
    recommendations = read_submission(args.submission)
    per_playlist = evaluate(recommendations, truth, ndcg=args.ndcg)
    print(f"NDCG variant: {args.ndcg}")
    print(format_table(summarize(per_playlist)))
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` sub-command."""
    parser = subparsers.add_parser(
        "evaluate", help="grade a submission against held-out tracks",
        description="Print R-precision, NDCG and clicks overall and per challenge category.")
    parser.add_argument("submission", metavar="SUBMISSION", help="submission CSV (optionally .gz)")
    parser.add_argument("--truth", required=True, help="challenge_truth.json with the held-out tracks")
    parser.add_argument("--ndcg", choices=NDCG_VARIANTS, default="rules",
                        help="NDCG variant: the rules page's formula or Spotify's code (default: rules)")
    parser.set_defaults(func=_run_evaluate)
