"""The challenge's grade: R-precision, NDCG and Recommended Songs clicks, per playlist and per category.

Every metric is computed for all playlists at once on flat arrays (one row per recommendation),
never playlist by playlist. Track URIs are reduced to 64-bit hashes read straight from the
column's Arrow buffers, matched by sorting and binary search, and every match is then confirmed
by comparing the strings themselves, so a hash collision can cost time but never change a score.

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

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mpd_helpers.data.challenge_set import Truth
from mpd_helpers.errors import MPDInputError
from mpd_helpers.grading.submission import record

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


_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


def _avalanche(keys: np.ndarray) -> np.ndarray:
    """Spread every input bit over all 64 output bits (the splitmix64 finaliser)."""
    keys = keys ^ (keys >> 30)
    keys *= _MIX[1]
    keys ^= keys >> 27
    keys *= _MIX[2]
    keys ^= keys >> 31
    return keys


def _fixed_width_hashes(chunk: pa.Array, width: int) -> np.ndarray:
    """64-bit hashes of an arrow string array whose values all have `width` bytes, read in place."""
    offset_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    start = int(np.frombuffer(chunk.buffers()[1], dtype=offset_type)[chunk.offset])
    data, n = chunk.buffers()[2], len(chunk)
    keys = np.full(n, width, dtype=np.uint64)
    for at in sorted({*range(0, width - 7, 8), width - 8}):
        word = np.ndarray((n,), dtype="<u8", buffer=data, offset=start + at, strides=(width,))
        keys ^= word
        keys *= _MIX[0]
        keys ^= keys >> 29
    return _avalanche(keys)


def _chunk_hashes(chunk: pa.Array) -> np.ndarray:
    """64-bit hashes of one arrow string array; a value's hash depends only on its bytes."""
    lengths = pc.binary_length(chunk).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    if len(chunk) and lengths.min() == lengths.max() >= 8:
        return _fixed_width_hashes(chunk, int(lengths[0]))
    keys = np.empty(len(chunk), dtype=np.uint64)
    short = lengths < 8
    for width in np.flatnonzero(np.bincount(lengths[~short], minlength=8)):
        rows = lengths == width
        keys[rows] = _fixed_width_hashes(pc.filter(chunk, pa.array(rows)), int(width))
    if short.any():
        others = np.asarray(pc.filter(chunk, pa.array(short)).to_pylist(), dtype=object)
        keys[short] = pd.util.hash_array(others, categorize=False)
    return keys


def uri_hashes(values: pd.Series | np.ndarray) -> np.ndarray:
    """A 64-bit hash per string (equal strings, equal hashes), fast for 36-byte track URIs."""
    array = pa.array(values, from_pandas=True)
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    chunks = [
        c if pa.types.is_string(c.type) or pa.types.is_large_string(c.type) else pc.cast(c, pa.large_string())
        for c in chunks
    ]
    if not chunks:
        return np.zeros(0, dtype=np.uint64)
    return np.concatenate([_chunk_hashes(c) for c in chunks])


def _pair_keys(codes: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """A 64-bit key per (playlist code, string hash) pair."""
    return _avalanche(hashes ^ (codes.astype(np.uint64) * _MIX[0]))


def _first_occurrences(keys: np.ndarray, identity: Callable[[np.ndarray], pd.DataFrame]) -> np.ndarray:
    """True for rows not exactly repeating an earlier row; `identity(rows)` gives the exact values."""
    keep = np.ones(len(keys), dtype=bool)
    ordered = np.sort(keys)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    repeated = repeated[np.r_[True, repeated[1:] != repeated[:-1]]] if len(repeated) else repeated
    if len(repeated):
        rows = np.flatnonzero(_sorted_member(keys, repeated))
        keep[rows[identity(rows).duplicated(keep="first").to_numpy()]] = False
    return keep


def _sorted_member(keys: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """True where a key is in `ordered` (sorted, non-empty)."""
    member = _maybe_in(keys, ordered)
    rows = np.flatnonzero(member)
    at = np.minimum(np.searchsorted(ordered, keys[rows]), len(ordered) - 1)
    member[rows] = ordered[at] == keys[rows]
    return member


def _maybe_in(keys: np.ndarray, reference: np.ndarray, bits: int = 25) -> np.ndarray:
    """A quick filter: False only where a key is certainly not among the reference keys."""
    words = np.zeros(1 << (bits - 6), dtype=np.uint64)
    np.bitwise_or.at(
        words,
        (reference >> (64 - bits + 6)).astype(np.intp),
        np.uint64(1) << ((reference >> (64 - bits)) & np.uint64(63)),
    )
    found = words[(keys >> (64 - bits + 6)).astype(np.intp)] >> ((keys >> (64 - bits)) & np.uint64(63))
    return (found & np.uint64(1)).astype(bool)


def _match(keys: np.ndarray, reference: np.ndarray, same: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Per key, the row of an exactly equal reference entry (checked by `same(rows, refs)`), or -1."""
    found = np.full(len(keys), -1, dtype=np.int64)
    if len(keys) == 0 or len(reference) == 0:
        return found
    order = np.argsort(reference, kind="stable")
    ordered = reference[order]
    candidates = np.flatnonzero(_maybe_in(keys, ordered))
    by_key = np.argsort(keys[candidates])  # sorted queries make the binary searches cache-friendly
    candidates = candidates[by_key]
    low = np.searchsorted(ordered, keys[candidates])
    candidates, low = candidates[low < len(ordered)], low[low < len(ordered)]
    # equal keys of different entries are possible, so try every reference entry sharing the key
    step = 0
    while len(candidates):
        rows, refs = candidates, order[low + step]
        equal = np.asarray(same(rows, refs), dtype=bool)
        found[rows[equal]] = refs[equal]
        step += 1
        more = (low + step < len(ordered)) & ~equal
        more[more] = ordered[np.minimum(low[more] + step, len(ordered) - 1)] == keys[rows[more]]
        candidates, low = candidates[more], low[more]
    return found


def _block_ranks(codes: np.ndarray) -> np.ndarray:
    """0-based position of each row among the earlier rows with the same code."""
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    if len(starts) == len(np.unique(codes[starts])):  # each playlist is one contiguous block
        return np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    return pd.Series(codes).groupby(codes, sort=False).cumcount().to_numpy()


class _Strings:
    """Exact string values of a column, fetched only for the rows that need them."""

    def __init__(self, values: pd.Series):
        self.values = values.reset_index(drop=True)

    def at(self, rows: np.ndarray) -> np.ndarray:
        """The values at the given positions as an object array."""
        return self.values.iloc[rows].to_numpy(dtype=object)


def _deduplicated(codes: np.ndarray, keys: np.ndarray, rows: np.ndarray, strings: _Strings) -> np.ndarray:
    """A mask keeping the first occurrence of every (code, string) pair, given their pair keys."""
    return _first_occurrences(keys, lambda sub: pd.DataFrame({"code": codes[sub], "value": strings.at(rows[sub])}))


def _ranked(recommendations: pd.DataFrame, pid_codes: pd.Index) -> dict:
    """Recommendations of the challenge playlists, cut to 500 and de-duplicated, with 0-based ranks."""
    present = recommendations["track_uri"].notna().to_numpy()
    rows = np.flatnonzero(present)
    pids = pd.to_numeric(recommendations["pid"]).to_numpy()[rows].astype(np.int64)
    codes = pid_codes.get_indexer(pids)
    rows, codes = rows[codes >= 0], codes[codes >= 0]
    first = _block_ranks(codes) < MAX_RECOMMENDATIONS
    rows, codes = rows[first], codes[first]
    strings = _Strings(recommendations["track_uri"])
    hashes = uri_hashes(recommendations["track_uri"])[rows]
    keys = _pair_keys(codes, hashes)
    unique = _deduplicated(codes, keys, rows, strings)
    if not unique.all():
        rows, codes, hashes, keys = rows[unique], codes[unique], hashes[unique], keys[unique]
    return {
        "rows": rows,
        "codes": codes,
        "hashes": hashes,
        "keys": keys,
        "ranks": _block_ranks(codes),
        "strings": strings,
    }


def _held_out(truth: pd.DataFrame, pid_codes: pd.Index) -> dict:
    """The distinct held-out (playlist, track) pairs with their codes and hashes."""
    rows = np.flatnonzero(truth["track_uri"].notna().to_numpy())
    codes = pid_codes.get_indexer(truth["pid"].to_numpy()[rows])
    strings = _Strings(truth["track_uri"])
    keys = _pair_keys(codes, uri_hashes(truth["track_uri"].iloc[rows]))
    unique = _deduplicated(codes, keys, rows, strings)
    return {"rows": rows[unique], "codes": codes[unique], "keys": keys[unique], "strings": strings}


def _hits(rec: dict, held: dict) -> np.ndarray:
    """True for each recommendation that is one of its playlist's held-out tracks."""

    def same(rows: np.ndarray, refs: np.ndarray) -> np.ndarray:
        return (rec["codes"][rows] == held["codes"][refs]) & (
            rec["strings"].at(rec["rows"][rows]) == held["strings"].at(held["rows"][refs])
        )

    return _match(rec["keys"], held["keys"], same) >= 0


def _artist_credit(
    rec: dict, misses: np.ndarray, truth: pd.DataFrame, pid_codes: pd.Index, track_artists: pd.Series, n_playlists: int
) -> np.ndarray:
    """Per playlist, how many distinct held-out artists the track-level misses in the first |G| bring."""
    lookup = track_artists[~track_artists.index.duplicated(keep="first") & track_artists.notna()]
    lookup_tracks, lookup_artists = _Strings(lookup.index.to_series()), _Strings(lookup)
    miss_tracks = rec["strings"].at(rec["rows"][misses])
    matched = _match(
        rec["hashes"][misses],
        uri_hashes(lookup_tracks.values),
        lambda rows, refs: miss_tracks[rows] == lookup_tracks.at(refs),
    )
    known = matched >= 0
    codes, artists = rec["codes"][misses][known], lookup_artists.at(matched[known])
    hashes = uri_hashes(artists)

    truth_rows = np.flatnonzero(truth["artist_uri"].notna().to_numpy())
    truth_codes = pid_codes.get_indexer(truth["pid"].to_numpy()[truth_rows])
    truth_artists = _Strings(truth["artist_uri"])
    truth_hashes = uri_hashes(truth["artist_uri"])[truth_rows]
    credited = (
        _match(
            _pair_keys(codes, hashes),
            _pair_keys(truth_codes, truth_hashes),
            lambda rows, refs: (
                (codes[rows] == truth_codes[refs]) & (artists[rows] == truth_artists.at(truth_rows[refs]))
            ),
        )
        >= 0
    )
    codes, artists, hashes = codes[credited], artists[credited], hashes[credited]
    once = _first_occurrences(
        _pair_keys(codes, hashes), lambda sub: pd.DataFrame({"code": codes[sub], "artist": artists[sub]})
    )
    return np.bincount(codes[once], minlength=n_playlists)


def evaluate(
    recommendations: pd.DataFrame, truth: pd.DataFrame, track_artists: pd.Series | None = None, ndcg: str = "rules"
) -> pd.DataFrame:
    """Per challenge playlist: r_precision, r_precision_artist, ndcg, clicks, n_truth and category.

    `recommendations` holds pid, track_uri rows in rank order within each pid; `truth` is what
    `challenge.read_truth` returns, and every pid in it is graded (pids absent from the
    recommendations score 0 and 51 clicks; pids not in `truth` are ignored). `track_artists`
    (track URI -> artist URI) gives the recommended tracks' artists for the artist credit, G's
    artists come from `truth`; without it ``r_precision_artist`` is NaN. `ndcg` picks the
    variant: "rules" or "spotify".

    Shown in the book: 06_evaluation.
    """
    weights = discounts(ndcg)
    truth = truth.assign(pid=pd.to_numeric(truth["pid"]).astype(np.int64)).reset_index(drop=True)
    categories = truth.groupby("pid", sort=True)["category"].first()
    pid_codes = pd.Index(categories.index)
    n_playlists = len(pid_codes)

    held = _held_out(truth, pid_codes)
    n_truth = np.bincount(held["codes"], minlength=n_playlists)
    rec = _ranked(recommendations, pid_codes)
    codes, ranks = rec["codes"], rec["ranks"]
    hit = _hits(rec, held)
    in_top = ranks < n_truth[codes]

    top_hits = np.bincount(codes[hit & in_top], minlength=n_playlists)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_precision = np.where(n_truth > 0, top_hits / np.maximum(n_truth, 1), 0.0)
    if track_artists is None:
        r_precision_artist = np.full(n_playlists, np.nan)
    else:
        credit = _artist_credit(rec, np.flatnonzero(in_top & ~hit), truth, pid_codes, track_artists, n_playlists)
        r_precision_artist = (top_hits + ARTIST_CREDIT * credit) / np.maximum(n_truth, 1)

    dcg = np.bincount(codes[hit], weights=weights[ranks[hit]], minlength=n_playlists)
    cumulative = np.concatenate([[0.0], np.cumsum(weights)])
    if ndcg == "rules":
        ideal_hits = np.bincount(codes[hit], minlength=n_playlists)
    else:
        ideal_hits = np.minimum(n_truth, MAX_RECOMMENDATIONS)
    idcg = cumulative[ideal_hits]
    ndcg_values = np.divide(dcg, idcg, out=np.zeros(n_playlists), where=idcg > 0)

    first_hit = np.full(n_playlists, MAX_RECOMMENDATIONS, dtype=np.int64)
    np.minimum.at(first_hit, codes[hit], ranks[hit])
    clicks = np.where(first_hit < MAX_RECOMMENDATIONS, first_hit // 10, NO_HIT_CLICKS)

    return pd.DataFrame(
        {
            "pid": pid_codes.to_numpy(),
            "category": categories.to_numpy(),
            "n_truth": n_truth.astype(np.int64),
            "r_precision": r_precision,
            "r_precision_artist": r_precision_artist,
            "ndcg": ndcg_values,
            "clicks": clicks.astype(np.int64),
        }
    )


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


def coverage(
    recommendations: pd.DataFrame, truth: pd.DataFrame, seeds: dict[int, set[str]] | None = None
) -> dict[str, list[int]]:
    """What a grade would hide: truth pids without recommendations, lists shorter than 500
    distinct tracks, pids the truth does not know, and (given the seeds) lists holding seeds."""
    graded = set(pd.to_numeric(truth["pid"]).astype(np.int64).tolist())
    distinct = recommendations.drop_duplicates().groupby("pid").size()
    report = {
        "missing": sorted(graded - set(distinct.index.tolist())),
        "short": sorted(distinct.index[distinct < MAX_RECOMMENDATIONS].tolist()),
        "unknown": sorted(set(distinct.index.tolist()) - graded),
    }
    if seeds is not None:
        pairs = recommendations.itertuples(index=False)
        report["with seeds"] = sorted({int(pid) for pid, uri in pairs if uri in seeds.get(int(pid), ())})
    return report


def format_table(summary: pd.DataFrame) -> str:
    """The summary table as aligned text, leaving out metrics that were not computed."""
    shown = summary.dropna(axis=1, how="all")
    return shown.to_string(float_format=lambda value: f"{value:.4f}")


def check_answers(submission_path: str | Path, truth: Truth) -> None:
    """Refuse a truth of another challenge set than the one the submission records it answers."""
    answered = record(submission_path)
    if answered is None or truth.build is None or answered["challenge"] == f"build {truth.build}":
        return
    raise MPDInputError(
        f"answers the challenge set {answered['challenge']}, while the truth file {truth.path} "
        f"belongs to build {truth.build}",
        file=submission_path,
        field="challenge_set",
    )
