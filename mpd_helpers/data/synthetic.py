"""A generator of MPD-format slices: the embedded synthetic Million Playlist Dataset.

The generated files have the MPD's exact schema and pass every per-playlist rule of the
dataset's checker. Their statistics are calibrated against the full MPD's (playlist
lengths, followers, edits, modification dates, titles) and they carry the structure a
recommender learns from: genres hold scenes, scenes hold artists, artists hold albums,
albums hold tracks; track popularity is long-tailed; a playlist mixes a few scenes, its
title follows its main genre, and its tracks come in runs of one album or artist whose
theme drifts from the first track to the last, so that "first N" and "random N" seeds
differ as they do in the real data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from mpd_helpers import files, parallel
from mpd_helpers.arrays import nunique_per_row, ranges
from mpd_helpers.errors import MPDInputError

GENERATOR_VERSION = 4  # bump when the generator's output changes, so cached data is remade
KIND = "synthetic MPD"  # what the stamp of a generated folder says it holds
SLICE_SIZE = 1000
BASE62 = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
CUTOFF = int(dt.datetime(2017, 11, 1, tzinfo=dt.UTC).timestamp())
DAY = 86_400
GENERATED_ON = dt.datetime(2017, 12, 3, 8, 41, 42, 57563).isoformat(sep=" ")

# Genres with their title vocabulary; the first titles are the MPD's most frequent ones.
# Weights are the genre's share of playlists (roughly the MPD's top-title counts).
GENRES: dict[str, tuple[float, tuple[str, ...]]] = {
    "country": (10.0, ("country", "Country", "country music", "COUNTRY", "country 🤠", "Country Jams", "coutry")),
    "chill": (10.0, ("chill", "Chill", "chill vibes", "chillin", "CHILL", "chill 🌴", "chil")),
    "rap": (8.5, ("rap", "Rap", "RAP", "rap 🔥", "hip hop", "Rap Caviar", "rapp")),
    "workout": (8.5, ("workout", "Workout", "gym", "WORKOUT", "workout 💪", "Gym Playlist", "work out")),
    "oldies": (8.1, ("oldies", "Oldies", "oldies but goodies", "OLDIES", "classics", "olides")),
    "christmas": (8.0, ("christmas", "Christmas", "Christmas Music", "CHRISTMAS", "christmas 🎄", "xmas")),
    "rock": (6.8, ("rock", "Rock", "classic rock", "ROCK", "rock 🤘", "Classic Rock", "rok")),
    "party": (6.2, ("party", "Party", "party 🎉", "PARTY", "party mix", "partyy")),
    "throwback": (10.0, ("throwback", "Throwbacks", "throwbacks", "THROWBACK", "throwback 🙌", "throwbak")),
    "worship": (5.1, ("worship", "Worship", "praise", "WORSHIP", "worship 🙏", "Praise & Worship")),
    "summer": (4.9, ("summer", "Summer", "summer 2017", "SUMMER", "summer ☀️", "sumer")),
    "feels": (4.6, ("feels", "Feels", "sad", "FEELS", "feels 💔", "sad songs")),
    "disney": (4.2, ("disney", "Disney", "DISNEY", "disney ✨", "Disney Songs", "disny")),
    "sleep": (3.5, ("sleep", "Sleep", "SLEEP", "sleep 😴", "sleepy", "slep")),
    "edm": (3.4, ("edm", "EDM", "dance", "Dance", "edm 🎧", "electronic")),
    "indie": (3.2, ("indie", "Indie", "INDIE", "indie 🌙", "alternative", "indi")),
    "latin": (2.8, ("latin", "Latin", "reggaeton", "LATIN", "latin 💃", "Reggaeton")),
    "rnb": (2.8, ("r&b", "R&B", "rnb", "RnB", "r&b 💜", "slow jams")),
    "pop": (4.0, ("pop", "Pop", "POP", "pop ✨", "Top Hits", "popp")),
    "jazz": (1.5, ("jazz", "Jazz", "JAZZ", "jazz 🎷", "smooth jazz", "jaz")),
    "metal": (1.5, ("metal", "Metal", "METAL", "metal 🤘", "heavy metal", "metl")),
    "classical": (1.2, ("classical", "Classical", "piano", "CLASSICAL", "study", "classicl")),
    "road trip": (2.5, ("road trip", "Road Trip", "roadtrip", "ROAD TRIP", "road trip 🚗", "road tirp")),
    "love": (2.0, ("love", "Love", "love songs", "LOVE", "love ❤️", "luv")),
}
# Titles that say little about the content; a share of playlists of any genre uses them.
GENERIC_TITLES = (
    "jams",
    "Jams",
    "new",
    "New",
    "music",
    "Music",
    "vibes",
    "Vibes",
    "lit",
    "Lit 🔥",
    "my playlist",
    "good songs",
    "favorites",
    "Favs",
    "songs",
    "random",
    "mix",
    "car",
)
WORDS = (
    "love",
    "night",
    "heart",
    "fire",
    "summer",
    "dream",
    "road",
    "light",
    "river",
    "gold",
    "home",
    "wild",
    "blue",
    "dance",
    "rain",
    "girl",
    "baby",
    "time",
    "sky",
    "city",
    "soul",
    "moon",
    "young",
    "forever",
    "stars",
    "money",
    "gone",
    "sweet",
    "fade",
    "holy",
    "lost",
    "alive",
    "ocean",
    "storm",
    "fever",
    "glow",
    "echo",
    "paper",
    "ghost",
    "shadow",
    "honey",
)
SYLLABLES = (
    "ka",
    "ri",
    "mo",
    "la",
    "ven",
    "to",
    "sa",
    "bel",
    "dor",
    "mi",
    "na",
    "zo",
    "lu",
    "ter",
    "an",
    "el",
    "jo",
    "ray",
    "son",
    "ky",
    "da",
    "vi",
    "ro",
    "nel",
    "ta",
    "gra",
    "fin",
    "le",
)
DESCRIPTIONS = (
    "songs for the drive",
    "my favorites",
    "good vibes only",
    "for the gym",
    "on repeat",
    "late nights",
    "sunday morning",
    "turn it up",
)


@dataclass(frozen=True)
class SynthConfig:
    """The generator's knobs; the defaults are calibrated against the MPD's statistics."""

    scenes_per_genre: int = 12
    # Artists: 1,500 per genre up to 10,000 playlists, growing as n^0.46 beyond (the MPD has
    # 295,860 artists at 1M playlists).
    artists_per_genre: int = 1500
    artist_growth: float = 0.46
    # Catalogue size: 270,000 tracks for 10,000 playlists, growing as n^0.474, so that distinct
    # tracks per entry fall with scale as in the MPD (0.23 at 10,000 playlists; 2.26 M distinct
    # tracks in 66 M entries, 0.034, at 1M).
    catalogue_at_10k: float = 270_000
    catalogue_growth: float = 0.474
    artist_zipf: float = 0.95  # artist popularity within a genre
    track_zipf: float = 0.8  # track popularity within an artist
    scene_share: float = 0.6  # share of picks drawn from the playlist's own scenes
    run_prob: float = 0.35  # chance that a pick starts a run of one album
    generic_title_share: float = 0.12
    personal_title_share: float = 0.25
    flavoured_title_share: float = 0.25
    description_share: float = 0.019
    collaborative_share: float = 0.023
    length_median: float = 52.0
    length_sigma: float = 0.85


def slice_name(first: int) -> str:
    """The MPD's file name of the slice that starts at ``first``."""
    return f"mpd.slice.{first}-{first + SLICE_SIZE - 1}.json"


def random_uris(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    """``n`` distinct Spotify URIs of one kind with 22 base-62 characters."""
    chars = BASE62[rng.integers(0, 62, size=(n, 22))]
    ids = chars.view("<U22").ravel()
    if len(np.unique(ids)) != n:  # astronomically rare; keep the contract anyway
        return random_uris(rng, kind, n)
    return np.char.add(f"spotify:{kind}:", ids)


def _word(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` made-up capitalised words of two or three syllables."""
    pool = np.array(SYLLABLES)
    out = np.char.add(pool[rng.integers(0, len(pool), n)], pool[rng.integers(0, len(pool), n)])
    third = rng.random(n) < 0.5
    out[third] = np.char.add(out[third], pool[rng.integers(0, len(pool), third.sum())])
    return np.char.capitalize(out)


def _names(rng: np.random.Generator, n: int, words: int) -> np.ndarray:
    """``n`` title-cased names of ``words`` random words."""
    pool = np.array([w.title() for w in WORDS])
    out = pool[rng.integers(0, len(pool), n)]
    for _ in range(words - 1):
        out = np.char.add(np.char.add(out, " "), pool[rng.integers(0, len(pool), n)])
    return out


class Catalogue:
    """Genres -> scenes -> artists -> albums -> tracks, with long-tailed popularity."""

    def __init__(self, rng: np.random.Generator, n_playlists: int, cfg: SynthConfig):
        self.genres = list(GENRES)
        n_genres = len(self.genres)
        n_tracks_target = int(cfg.catalogue_at_10k * (max(n_playlists, 1000) / 10_000) ** cfg.catalogue_growth)
        self.per_genre = per_genre = int(
            round(cfg.artists_per_genre * (max(n_playlists, 10_000) / 10_000) ** cfg.artist_growth)
        )
        n_artists = per_genre * n_genres
        # Albums per artist and tracks per album; trimmed so the catalogue has the target size.
        albums_per_artist = 1 + rng.poisson(1.5, n_artists)
        n_albums = int(albums_per_artist.sum())
        tracks_per_album = np.clip(rng.poisson(9, n_albums), 2, 25)
        scale = n_tracks_target / tracks_per_album.sum()
        tracks_per_album = np.maximum(2, np.round(tracks_per_album * scale)).astype(int)
        self.artist_genre = np.repeat(np.arange(n_genres), per_genre)
        self.artist_scene = rng.integers(0, cfg.scenes_per_genre, n_artists)
        # Artist popularity: Zipf within each genre, in a random order.
        rank = np.tile(np.arange(1, per_genre + 1), n_genres)
        self.artist_weight = rank**-cfg.artist_zipf
        self.album_artist = np.repeat(np.arange(n_artists), albums_per_artist)
        self.track_album = np.repeat(np.arange(n_albums), tracks_per_album)
        self.track_artist = self.album_artist[self.track_album]
        n_tracks = len(self.track_album)
        # Tracks of one artist are contiguous; their popularity falls with a per-artist rank.
        artist_start = np.searchsorted(self.track_artist, np.arange(n_artists))
        self.artist_start = artist_start
        self.artist_ntracks = np.diff(np.append(artist_start, n_tracks))
        album_start = np.searchsorted(self.track_album, np.arange(n_albums))
        self.album_start, self.album_ntracks = album_start, tracks_per_album
        within = np.arange(n_tracks) - artist_start[self.track_artist]
        hit_rank = rng.permutation(n_tracks)  # shuffle ranks within each artist below
        order = np.lexsort((hit_rank, self.track_artist))
        within_rank = np.empty(n_tracks, int)
        within_rank[order] = within
        self.track_weight = (1 + within_rank) ** -cfg.track_zipf
        # Per-artist cumulative weights, for vectorised sampling of a track given an artist.
        self.track_cum = _segment_cumsum(self.track_weight, artist_start)
        self.artist_uri = random_uris(rng, "artist", n_artists)
        self.album_uri = random_uris(rng, "album", n_albums)
        self.track_uri = random_uris(rng, "track", n_tracks)
        self.artist_name = np.char.add(np.char.add(_word(rng, n_artists), " "), _word(rng, n_artists))
        self.album_name = _names(rng, n_albums, 2)
        self.track_name = _names(rng, n_tracks, 3)
        self.track_ms = np.clip(rng.normal(215_000, 55_000, n_tracks), 30_000, 900_000).astype(np.int64)
        # Per genre and scene: the artists to draw from, with cumulative weights.
        key = self.artist_genre * cfg.scenes_per_genre + self.artist_scene
        self.scene_order = np.argsort(key, kind="stable")
        self.scene_start = np.searchsorted(key[self.scene_order], np.arange(n_genres * cfg.scenes_per_genre + 1))
        self.scene_cum = _segment_cumsum(self.artist_weight[self.scene_order], self.scene_start[:-1])
        self.genre_cum = _segment_cumsum(self.artist_weight, np.arange(n_genres) * per_genre)
        self.cfg = cfg

    def sample_artists(self, rng: np.random.Generator, genres: np.ndarray, scenes: np.ndarray) -> np.ndarray:
        """One artist per pick: from the pick's scene, or from its whole genre."""
        cfg = self.cfg
        from_scene = rng.random(len(genres)) < cfg.scene_share
        out = np.empty(len(genres), int)
        g = genres[~from_scene]
        out[~from_scene] = _draw(rng, self.genre_cum, g * self.per_genre, np.full(len(g), self.per_genre))
        sc = genres[from_scene] * cfg.scenes_per_genre + scenes[from_scene]
        start, stop = self.scene_start[sc], self.scene_start[sc + 1]
        out[from_scene] = self.scene_order[_draw(rng, self.scene_cum, start, stop - start)]
        return out

    def sample_tracks(self, rng: np.random.Generator, artists: np.ndarray) -> np.ndarray:
        """One track per artist, by the artist's hit ranking."""
        return _draw(rng, self.track_cum, self.artist_start[artists], self.artist_ntracks[artists])


def _segment_cumsum(weights: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sums of ``weights`` that restart at each of ``starts``."""
    total = np.cumsum(weights)
    before = np.concatenate([[0.0], total])[starts]
    seg = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(weights))))
    return total - before[seg]


def _draw(rng: np.random.Generator, cum: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Vectorised weighted draws: one index from each segment ``cum[start:start+length]``."""
    if len(start) == 0:
        return np.empty(0, int)
    total = cum[start + length - 1]
    u = rng.random(len(start)) * total
    # Binary search inside each segment at once.
    lo, hi = start.copy(), start + length - 1
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        go_right = active & (cum[mid] <= u)
        lo = np.where(go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)


def playlist_lengths(rng: np.random.Generator, n: int, cfg: SynthConfig) -> np.ndarray:
    """Lengths with the MPD's shape: mode near 20, mean near 66, within 5..250."""
    out = np.exp(rng.normal(np.log(cfg.length_median), cfg.length_sigma, n))
    bad = (out < 5) | (out > 250)
    while bad.any():
        out[bad] = np.exp(rng.normal(np.log(cfg.length_median), cfg.length_sigma, bad.sum()))
        bad = (out < 5) | (out > 250)
    return np.round(out).astype(int)


def _draw_playlists(rng: np.random.Generator, cat: Catalogue, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ordered, unique tracks of playlists of the given lengths, drawn all at once.

    Returns (owner, track): each drawn entry's playlist (0, 0, ..., 1, ...) and track id, in
    playlist order. A playlist may come out short of its length (its picks repeated
    themselves); :func:`_slice_tracks` draws it again.

    Shown in the book: 00_embedded_data.
    """
    cfg, n, n_genres = cat.cfg, len(lengths), len(cat.genres)
    k = rng.choice([1, 2, 3], size=n, p=[0.5, 0.33, 0.17])
    # k genres without replacement, weighted by GENRE_P: the k largest Gumbel-perturbed log weights.
    genres = np.argsort(np.log(GENRE_P) - np.log(-np.log(rng.random((n, n_genres)))), axis=1)[:, ::-1][:, :3]
    scenes = rng.integers(0, cfg.scenes_per_genre, (n, 3))
    active = np.arange(3) < k[:, None]
    start_mix = rng.gamma(2.0, size=(n, 3)) * active  # Dirichlet(2, ..., 2) over the k genres
    start_mix /= start_mix.sum(axis=1, keepdims=True)
    start_mix[:, 0] += 1.0  # the first genre leads, and gives the title
    start_mix /= start_mix.sum(axis=1, keepdims=True)
    end_mix = rng.gamma(2.0, size=(n, 3)) * active
    end_mix /= end_mix.sum(axis=1, keepdims=True)
    picks = (lengths * 1.6).astype(int) + 6
    owner = np.repeat(np.arange(n), picks)
    t = (ranges(picks) / (picks[owner] - 1))[:, None]  # 0 at a playlist's first pick, 1 at its last
    mix = (1 - t) * start_mix[owner] + t * end_mix[owner]
    which = np.minimum((rng.random((len(owner), 1)) > np.cumsum(mix, axis=1)).sum(axis=1), k[owner] - 1)
    artists = cat.sample_artists(rng, genres[owner, which], scenes[owner, which])
    tracks = cat.sample_tracks(rng, artists)
    # Some picks start a run through one album, in album order.
    run = rng.random(len(owner)) < cfg.run_prob
    album = cat.track_album[tracks[run]]
    n_album = cat.album_ntracks[album]
    run_len = np.minimum(rng.integers(2, 7, run.sum()), n_album)
    offs = rng.integers(0, n_album - run_len + 1)
    starts, lens = tracks.copy(), np.ones(len(owner), int)
    starts[run], lens[run] = cat.album_start[album] + offs, run_len
    tracks, owner = np.repeat(starts, lens) + ranges(lens), np.repeat(owner, lens)
    # Each track once per playlist, where it first comes; then the playlist's first `length` of them.
    first = np.sort(np.unique(owner.astype(np.int64) * len(cat.track_album) + tracks, return_index=True)[1])
    owner, tracks = owner[first], tracks[first]
    keep = ranges(np.bincount(owner, minlength=n)) < lengths[owner]
    return owner[keep], tracks[keep]


def _slice_tracks(rng: np.random.Generator, cat: Catalogue, lengths: np.ndarray) -> list[np.ndarray]:
    """Each playlist's ordered, unique track ids, redrawn until it passes the checker's rules
    that depend on the track list (its length, at least 3 artists and 2 albums)."""
    out: list[np.ndarray] = [np.empty(0, int)] * len(lengths)
    todo = np.arange(len(lengths))
    while len(todo):
        owner, tracks = _draw_playlists(rng, cat, lengths[todo])
        n = len(todo)
        valid = (
            (np.bincount(owner, minlength=n) == lengths[todo])
            & (nunique_per_row(owner, cat.track_artist[tracks], n) >= 3)
            & (nunique_per_row(owner, cat.track_album[tracks], n) >= 2)
        )
        for i, ok, own in zip(todo, valid, np.split(tracks, np.cumsum(np.bincount(owner, minlength=n))[:-1])):
            if ok:
                out[i] = own
        todo = todo[~valid]
    return out


GENRE_P = np.array([w for w, _ in GENRES.values()]) / sum(w for w, _ in GENRES.values())


def _title(rng: np.random.Generator, genre: str, cfg: SynthConfig) -> str:
    """A title for a playlist led by ``genre``, with the MPD's case, emoji and spelling noise."""
    u = rng.random()
    if u < cfg.generic_title_share:
        return str(rng.choice(GENERIC_TITLES))
    if u < cfg.generic_title_share + cfg.personal_title_share:  # one-off titles: words, years, moods
        words = rng.choice(WORDS, size=rng.integers(1, 3)).tolist()
        extra = [str(rng.integers(2010, 2018))] if rng.random() < 0.25 else []
        title = " ".join(words + extra)
        return title.title() if rng.random() < 0.4 else title
    if u < cfg.generic_title_share + cfg.personal_title_share + cfg.flavoured_title_share:
        # the genre's word with a word of the user's own: "country roads", "Chill Night"
        word, plain = str(rng.choice(WORDS)), GENRES[genre][1][0]
        title = f"{plain} {word}" if rng.random() < 0.5 else f"{word} {plain}"
        return title.title() if rng.random() < 0.4 else title
    titles = GENRES[genre][1]
    weights = 0.55 ** np.arange(len(titles))  # the plain form dominates, variants taper off
    return titles[rng.choice(len(titles), p=weights / weights.sum())]


def generate_slice(cat: Catalogue, index: int, seed: int = 0) -> list[dict]:
    """The 1,000 playlists of slice ``index`` (pids ``1000 * index`` on) as dictionaries in the MPD's schema.

    A slice draws from a random stream of its own, ``SeedSequence(seed, spawn_key=(index,))``,
    and the catalogue is drawn from ``seed`` alone: a slice is the same whichever process
    draws it, and in whatever order.
    """
    cfg = cat.cfg
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
    lengths = playlist_lengths(rng, SLICE_SIZE, cfg)
    followers = np.minimum(rng.zipf(2.6, SLICE_SIZE), 50_000)
    # Most playlists were edited shortly before the snapshot; the rest spread over years.
    recent = rng.random(SLICE_SIZE) < 0.3
    days_back = np.where(recent, rng.exponential(25, SLICE_SIZE), rng.exponential(420, SLICE_SIZE))
    days_back = np.minimum(days_back, 365 * 7.5).astype(int)
    modified = (CUTOFF // DAY - 1 - days_back) * DAY
    every = _slice_tracks(rng, cat, lengths)
    flat, owner = np.concatenate(every), np.repeat(np.arange(SLICE_SIZE), lengths)
    pos = ranges(lengths)
    records = _track_dicts(cat, flat, pos)
    ends = np.cumsum(lengths).tolist()
    n_albums = nunique_per_row(owner, cat.track_album[flat], SLICE_SIZE)
    n_artists = nunique_per_row(owner, cat.track_artist[flat], SLICE_SIZE)
    duration = np.bincount(owner, cat.track_ms[flat], minlength=SLICE_SIZE).astype(np.int64)
    # The genre a playlist's first ten tracks mostly come from leads it, and gives its title.
    first = pos < 10
    leads = (
        np.bincount(
            owner[first] * len(cat.genres) + cat.artist_genre[cat.track_artist[flat[first]]],
            minlength=SLICE_SIZE * len(cat.genres),
        )
        .reshape(SLICE_SIZE, -1)
        .argmax(axis=1)
    )
    playlists = []
    for j in range(SLICE_SIZE):
        length = int(lengths[j])
        edits = 1 if rng.random() < 0.01 else 2 + int(rng.geometric(1 / (3 + length / 8)) - 1)
        pl = {
            "name": _title(rng, cat.genres[leads[j]], cfg),
            "collaborative": "true" if rng.random() < cfg.collaborative_share else "false",
            "pid": index * SLICE_SIZE + j,
            "modified_at": int(modified[j]),
            "num_tracks": length,
            "num_albums": int(n_albums[j]),
            "num_followers": int(followers[j]),
            "tracks": records[ends[j] - length : ends[j]],
            "num_edits": min(edits, length),
            "duration_ms": int(duration[j]),
            "num_artists": int(n_artists[j]),
        }
        if rng.random() < cfg.description_share:
            pl["description"] = str(rng.choice(DESCRIPTIONS))
        playlists.append(pl)
    return playlists


def _track_dicts(cat: Catalogue, tracks: np.ndarray, pos: np.ndarray) -> list[dict]:
    """The MPD's track records of the given tracks at the given positions."""
    art, alb = cat.track_artist[tracks], cat.track_album[tracks]
    return [
        {
            "pos": i,
            "artist_name": a_name,
            "track_uri": t_uri,
            "artist_uri": a_uri,
            "track_name": t_name,
            "album_uri": al_uri,
            "duration_ms": ms,
            "album_name": al_name,
        }
        for i, a_name, t_uri, a_uri, t_name, al_uri, ms, al_name in zip(
            pos.tolist(),
            cat.artist_name[art].tolist(),
            cat.track_uri[tracks].tolist(),
            cat.artist_uri[art].tolist(),
            cat.track_name[tracks].tolist(),
            cat.album_uri[alb].tolist(),
            cat.track_ms[tracks].tolist(),
            cat.album_name[alb].tolist(),
        )
    ]


_catalogue: Catalogue | None = None  # a worker's catalogue, drawn once per process


def _use_catalogue(n_playlists: int, seed: int, cfg: SynthConfig) -> None:
    """Draw this process's catalogue (a worker's initializer; the same in every process)."""
    global _catalogue
    _catalogue = Catalogue(np.random.default_rng(seed), n_playlists, cfg)


def _write_slice(folder: Path, index: int, seed: int) -> str:
    """Draw slice ``index`` from this process's catalogue and write it into ``folder``."""
    first = index * SLICE_SIZE
    body = {
        "info": {"generated_on": GENERATED_ON, "slice": f"{first}-{first + SLICE_SIZE - 1}", "version": "v1"},
        "playlists": generate_slice(_catalogue, index, seed),
    }
    files.write_json(folder / slice_name(first), body)
    return slice_name(first)


def generate(
    out_dir: str | Path,
    n_slices: int = 10,
    seed: int = 0,
    cfg: SynthConfig = SynthConfig(),
    progress: bool = True,
    workers: int | None = None,
) -> list[Path]:
    """Write ``n_slices`` slice files of 1,000 playlists each into the folder ``out_dir``.

    ``workers`` processes (default: one per CPU) each draw the catalogue, then draw and write
    slices one at a time, so memory stays at a catalogue and a slice per process; the files
    do not depend on the number of workers. The slices are written into a temporary folder
    that replaces ``out_dir`` only once all of them are complete (with a ``complete.json``
    stamp), so an interrupted run leaves no partial MPD. An existing ``out_dir`` is replaced
    only if it is empty or stamped as a synthetic MPD: any other folder (real slices, say) is
    refused, untouched.
    """
    if n_slices < 1:
        raise MPDInputError(f"n_slices must be at least 1, got {n_slices}", field="n_slices")
    out = Path(out_dir)
    start = (n_slices * SLICE_SIZE, seed, cfg)
    stamp = {"generator": GENERATOR_VERSION, "slices": n_slices, "seed": seed}
    with files.atomic_folder(out, KIND, stamp, owns=lambda old: "generator" in old) as building:
        write = partial(_write_slice, building, seed=seed)
        with parallel.pool(parallel.count(n_slices, workers), _use_catalogue, start) as running:
            names = list(
                tqdm(
                    running.map(write, range(n_slices)),
                    total=n_slices,
                    desc="slices",
                    unit="slice",
                    disable=not progress,
                )
            )
    return [out / name for name in names]


def artist_genres(folder: str | Path) -> pd.Series | None:
    """Each artist's genre (artist URI -> index into ``GENRES``) in a synthetic MPD that
    :func:`generate` wrote into ``folder``, from the seed and size its stamp records; None for
    a folder it did not write (real slices have no such truth).

    The catalogue is drawn again as every worker drew it, with the default ``SynthConfig``;
    a model given these genres checks that they cover the data's artists.
    """
    stamp = files.read_stamp(folder)
    if stamp is None or stamp.get("kind") != KIND:
        return None
    if stamp.get("generator") != GENERATOR_VERSION:
        raise MPDInputError(
            f"written by version {stamp.get('generator')} of the generator, and this is version "
            f"{GENERATOR_VERSION}: generate the data again",
            file=Path(folder) / files.STAMP,
            field="generator",
        )
    cat = Catalogue(np.random.default_rng(stamp["seed"]), stamp["slices"] * SLICE_SIZE, SynthConfig())
    return pd.Series(cat.artist_genre, index=pd.Index(cat.artist_uri, name="artist_uri"), name="genre")
