"""Title models: the tracks of training playlists whose titles resemble the challenge playlist's.

A title is all that a category-1 challenge playlist has, and it helps any playlist with few
seeds. These models need no seeds, so they serve every playlist themselves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from mpd_helpers.arrays import ranges
from mpd_helpers.data.dataset import Dataset
from mpd_helpers.data.matrix import binary
from mpd_helpers.errors import MPDInputError
from mpd_helpers.models.base import Recommender
from mpd_helpers.models.ranking import top_k_per_row


def normalize_titles(titles: pd.Series) -> pd.Series:
    """Titles for matching: lower case, emoji and punctuation dropped, spaces collapsed."""
    out = titles.fillna("").astype(str).str.lower()
    out = out.str.replace(r"[^\w\s&]", " ", regex=True)
    return out.str.replace(r"\s+", " ", regex=True).str.strip()


class TitleModel(Recommender):
    """Tracks of training playlists with similar titles (TF-IDF over character n-grams).

    A playlist's candidates are the tracks of the ``k`` training playlists with the most
    similar titles, each scored by the summed similarity of the playlists that hold it;
    character n-grams let "coutry" find "country". Titles repeat (ten thousand playlists of
    the full MPD are called "country"), so a batch is compared with each distinct title
    once, and only the titles that can reach a playlist's ``k`` best are expanded to their
    playlists: the memory of a batch grows with the distinct titles, not with the playlists.

    An n-gram counts only when two training titles share it: with too few titles (a tiny
    MPD) there may be none, and then the model has no candidates for anyone.

    Shown in the book: 06_evaluation.
    """

    name = "title tf-idf"
    needs_seeds = False

    def __init__(self, k: int = 100):
        self.k = k

    def fit(self, ds: Dataset) -> TitleModel:
        """Vectorise the training titles; group the training playlists by title."""
        super().fit(ds)
        self.titles = normalize_titles(ds.playlists["name"])
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2)
        codes, distinct = pd.factorize(self.titles.iloc[self.train_rows])
        try:
            self.vectorizer.fit(self.titles.iloc[self.train_rows])
        except ValueError:  # no n-gram in two titles (fewer than two titles, or none alike): no vocabulary
            self.vectorizer = None
        self.title_vectors = (
            self.vectorizer.transform(distinct)
            if self.vectorizer is not None
            else sp.csr_matrix((len(distinct), 0), dtype=np.float64)
        )
        # distinct title x training playlist (its position among the training rows), in row order
        self.members = binary(codes, np.arange(len(codes)), (len(distinct), len(codes)))
        return self

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """Track scores summed over each playlist's most similar training titles (none without a vocabulary)."""
        if self.vectorizer is None:
            return sp.csr_matrix((len(rows), self.train.shape[1]), dtype=np.float32)
        query = self.vectorizer.transform(self.titles.iloc[rows])
        return (self.nearest(query) @ self.train).tocsr()

    def nearest(self, query: sp.csr_matrix) -> sp.csr_matrix:
        """Each query's ``k`` most similar training playlists (ties to the earlier one), weighted by similarity."""
        sim = (query @ self.title_vectors.T).tocoo()
        order = np.lexsort((-sim.data, sim.row))  # each row's titles, most similar first
        row, title, value = sim.row[order], sim.col[order], sim.data[order]
        size = np.diff(self.members.indptr)[title]
        # Keep the titles down to the one at which a row has k playlists, and any tied with it.
        total = np.cumsum(size)
        start = np.searchsorted(row, row)  # where each row's run begins
        reached = total - np.concatenate([[0], total])[start] >= self.k
        first = np.full(query.shape[0], len(row))
        np.minimum.at(first, row[reached], np.flatnonzero(reached))
        bound = np.full(query.shape[0], -np.inf)
        has = first < len(row)
        bound[has] = value[first[has]]
        keep = value >= bound[row]
        # A kept title's first k playlists are all that can be among a row's k best.
        take = np.minimum(size[keep], self.k)
        at = np.repeat(self.members.indptr[title[keep]], take) + ranges(take)
        near = sp.csr_matrix(
            (np.repeat(value[keep], take), (np.repeat(row[keep], take), self.members.indices[at])),
            shape=(query.shape[0], self.members.shape[1]),
        )
        return top_k_per_row(near, self.k)

    def _add_rows(self, titles: pd.Series, tracks: list[np.ndarray]) -> None:
        """Normalise the new playlists' titles."""
        self.titles = pd.concat([self.titles, normalize_titles(titles)], ignore_index=True)


class SameTitle(Recommender):
    """Tracks of training playlists whose normalised title is the same, by how many hold them."""

    name = "same title"
    needs_seeds = False

    def fit(self, ds: Dataset) -> SameTitle:
        """Group training playlists by normalised title."""
        super().fit(ds)
        self.codes, self.vocab = normalize_titles(ds.playlists["name"]).factorize()
        group = self.codes[self.train_rows]
        member = sp.csr_matrix(
            (np.ones(len(group), np.float32), (group, np.arange(len(group)))), shape=(len(self.vocab) + 1, len(group))
        )  # the last row: unknown titles
        self.title_tracks = (member @ self.train).tocsr()
        return self

    def _add_rows(self, titles: pd.Series, tracks: list[np.ndarray]) -> None:
        """Look the new titles up; a title no training playlist has gets no candidates."""
        codes = self.vocab.get_indexer(normalize_titles(titles))
        self.codes = np.concatenate([self.codes, np.where(codes >= 0, codes, len(self.vocab))])

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """Counts of the playlists with the same title that hold each track."""
        return self.title_tracks[self.codes[rows]].tocsr()


class KnownGenre(Recommender):
    """What a title could tell at best, where the genres are known: each playlist is handed the
    genre that leads its first ten tracks (on the embedded data, the genre its title was drawn
    from, whatever words the title has) and gets the tracks most often held by the training
    playlists that genre leads. It reads the held-out tracks, so it is a bound to measure
    title models against, never a system to serve.

    ``genres`` maps artist URIs to genre indices (:func:`synthetic.artist_genres`); ``truth``
    holds the challenge playlists' held-out tracks (pid, pos, artist_uri).

    Shown in the book: 07_beyond.
    """

    name = "known genre"
    needs_seeds = False

    def __init__(self, genres: pd.Series, truth: pd.DataFrame):
        self.genres, self.truth = genres, truth

    def fit(self, ds: Dataset) -> KnownGenre:
        """Each playlist's lead genre, and each genre's tracks by how many training playlists it leads hold them."""
        super().fit(ds)
        n_rows, n_genres = ds.matrix.shape[0], int(self.genres.max()) + 1
        first = ds.entries[ds.entries["pos"] < 10]
        held = self.truth[self.truth["pos"] < 10]
        row_of = pd.Series(np.arange(n_rows), index=ds.playlists["mpd_pid"].to_numpy())
        held_rows = row_of.reindex(held["pid"].to_numpy())
        if held_rows.isna().any():
            unknown = held["pid"].to_numpy()[held_rows.isna().to_numpy()][0]
            raise MPDInputError("held-out tracks of a playlist the dataset does not have", pid=unknown, field="pid")
        artists = pd.concat([ds.tracks["artist_uri"].iloc[first["track_index"].to_numpy()], held["artist_uri"]])
        genre = artists.map(self.genres)
        if genre.isna().any():
            raise MPDInputError(
                f"{artists[genre.isna()].nunique()} artists have no genre: the genres are not this data's",
                field="artist_uri",
            )
        rows = np.concatenate([first["pid"].to_numpy(), held_rows.to_numpy(np.int64)])
        counts = np.bincount(rows * n_genres + genre.to_numpy(np.int64), minlength=n_rows * n_genres)
        self.lead = counts.reshape(n_rows, n_genres).argmax(axis=1)  # ties to the earlier genre
        led = binary(self.lead[self.train_rows], np.arange(len(self.train_rows)), (n_genres, len(self.train_rows)))
        self.genre_tracks = (led @ self.train).tocsr()
        return self

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """The tracks of the lead genre's training playlists, by how many hold them."""
        return self.genre_tracks[self.lead[rows]].tocsr()
