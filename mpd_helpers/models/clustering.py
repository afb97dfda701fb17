"""k-means over the playlists' MLP embeddings (the write-up's 'neighbours'), and the write-up's
recommender: candidates from a playlist's cluster, ranked by NeuMF."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

from mpd_helpers.data.dataset import Dataset
from mpd_helpers.models.base import Recommender
from mpd_helpers.models.titles import normalize_titles


def fit_kmeans(embeddings: np.ndarray, n_clusters: int = 250, seed: int = 0) -> KMeans:
    """k-means with the write-up's 250 clusters (scikit-learn, seeded).

    Shown in the book: 03_clustering.
    """
    return KMeans(n_clusters=n_clusters, random_state=seed, n_init=1).fit(embeddings)


def project_2d(embeddings: np.ndarray, seed: int = 0) -> np.ndarray:
    """A 2-D projection of the embeddings (PCA) for plotting."""
    return PCA(n_components=2, random_state=seed).fit_transform(embeddings)


def describe(ds: Dataset, labels: np.ndarray, top: int = 3) -> pd.DataFrame:
    """Per cluster: its size, its most common normalised titles and its most common artists."""
    titles = normalize_titles(ds.playlists["name"])
    frame = pd.DataFrame({"cluster": labels, "title": titles.to_numpy()})
    size = frame.groupby("cluster").size().rename("playlists")
    common_titles = (
        frame[frame["title"] != ""]
        .groupby("cluster")["title"]
        .agg(lambda s: ", ".join(s.value_counts().head(top).index))
    )
    entries = pd.DataFrame(
        {"cluster": labels[ds.entries["pid"].to_numpy()], "artist": ds.entries["artist_name"].to_numpy()}
    )
    common_artists = entries.groupby("cluster")["artist"].agg(lambda s: ", ".join(s.value_counts().head(top).index))
    return pd.concat([size, common_titles.rename("top titles"), common_artists.rename("top artists")], axis=1)


def title_purity(ds: Dataset, labels: np.ndarray) -> float:
    """Share of titled playlists whose normalised title is their cluster's most common one."""
    titles = normalize_titles(ds.playlists["name"])
    frame = pd.DataFrame({"cluster": labels, "title": titles.to_numpy()})
    frame = frame[frame["title"] != ""]
    top = frame.groupby("cluster")["title"].agg(lambda s: s.value_counts().index[0])
    return float((frame["title"].to_numpy() == top.loc[frame["cluster"]].to_numpy()).mean())


@dataclass
class NeuMFClusters(Recommender):
    """The write-up's procedure: candidates from the playlist's k-means cluster, ranked by NeuMF.

    ``scorer(users, items)`` returns NeuMF's probabilities for pairs of playlist rows and
    track indices; ``labels`` is the k-means cluster of every playlist row. Playlists with
    no seed track have no trained embedding; they are served by ``fallback`` (the title
    model), as the write-up proposed.

    Shown in the book: 04_application.
    """

    scorer: Callable[[np.ndarray, np.ndarray], np.ndarray]
    labels: np.ndarray
    fallback: Recommender | None = None
    name: str = "NeuMF + k-means"

    def fit(self, ds: Dataset) -> NeuMFClusters:
        """Build the cluster x track table of candidates."""
        super().fit(ds)
        n_clusters = int(self.labels.max()) + 1
        member = sp.csr_matrix(
            (np.ones(len(self.labels), np.float32), (self.labels, np.arange(len(self.labels)))),
            shape=(n_clusters, len(self.labels)),
        )
        self.cluster_tracks = (member @ self.matrix).tocsr()
        self.cluster_tracks.data[:] = 1.0
        return self

    def _add_rows(self, titles: pd.Series, tracks: list[np.ndarray]) -> None:
        """A new playlist has no embedding and no cluster: NeuMF cannot serve it."""
        raise NotImplementedError("NeuMF + k-means serves only playlists it was trained with")

    def scores(self, rows: np.ndarray) -> sp.csr_matrix:
        """NeuMF's probability for every track of each playlist's cluster."""
        cand = self.cluster_tracks[self.labels[rows]].tocoo()
        users = np.asarray(rows)[cand.row].astype(np.int32)
        s = np.asarray(self.scorer(users, cand.col.astype(np.int32)), np.float32).ravel()
        return sp.csr_matrix((s, (cand.row, cand.col)), shape=(len(rows), self.matrix.shape[1]))
