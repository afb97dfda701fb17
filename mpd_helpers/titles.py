"""Title models: the tracks of training playlists whose titles resemble the challenge playlist's.

A title is all that a category-1 challenge playlist has, and it helps any playlist with few
seeds. These models need no seeds, so they serve every playlist themselves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from mpd_helpers.dataset import Dataset
from mpd_helpers.ranking import top_k_per_row
from mpd_helpers.recommend import Recommender


def normalize_titles(titles: pd.Series) -> pd.Series:
    """Titles for matching: lower case, emoji and punctuation dropped, spaces collapsed."""
    out = titles.fillna("").astype(str).str.lower()
    out = out.str.replace(r"[^\w\s&]", " ", regex=True)
    return out.str.replace(r"\s+", " ", regex=True).str.strip()


class TitleModel(Recommender):
    """Tracks of training playlists with similar titles (TF-IDF over character n-grams).

    A playlist's candidates are the tracks of its ``k`` most similar training titles, each
    scored by the summed similarity of the playlists that hold it; character n-grams let
    "coutry" find "country".
    """

    name = "title tf-idf"
    needs_seeds = False

    def __init__(self, k: int = 100):
        self.k = k

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> "TitleModel":
        """Vectorise the training titles."""
        super().fit(ds, matrix)
        self.titles = normalize_titles(ds.playlists["name"])
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4),
                                          sublinear_tf=True, min_df=2)
        self.train_vectors = self.vectorizer.fit_transform(self.titles.iloc[self.train_rows])
        return self

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """Track scores summed over each playlist's most similar training titles."""
        query = self.vectorizer.transform(self.titles.iloc[rows])
        sim = top_k_per_row((query @ self.train_vectors.T).tocsr(), self.k)
        return (sim @ self.train).tocsr()

    def _add_rows(self, titles: pd.Series, tracks: list[np.ndarray]) -> None:
        """Normalise the new playlists' titles."""
        self.titles = pd.concat([self.titles, normalize_titles(titles)], ignore_index=True)


class SameTitle(Recommender):
    """Tracks of training playlists whose normalised title is the same, by how many hold them."""

    name = "same title"
    needs_seeds = False

    def fit(self, ds: Dataset, matrix: sp.csr_matrix) -> "SameTitle":
        """Group training playlists by normalised title."""
        super().fit(ds, matrix)
        self.codes, self.vocab = normalize_titles(ds.playlists["name"]).factorize()
        group = self.codes[self.train_rows]
        member = sp.csr_matrix((np.ones(len(group), np.float32), (group, np.arange(len(group)))),
                               shape=(len(self.vocab) + 1, len(group)))  # the last row: unknown titles
        self.title_tracks = (member @ self.train).tocsr()
        return self

    def _add_rows(self, titles: pd.Series, tracks: list[np.ndarray]) -> None:
        """Look the new titles up; a title no training playlist has gets no candidates."""
        codes = self.vocab.get_indexer(normalize_titles(titles))
        self.codes = np.concatenate([self.codes, np.where(codes >= 0, codes, len(self.vocab))])

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """Counts of the playlists with the same title that hold each track."""
        return self.title_tracks[self.codes[rows]].tocsr()
