"""k-means over the playlists' MLP embeddings: the write-up's 'neighbours'."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

from mpd_helpers.dataset import Dataset
from mpd_helpers.titles import normalize_titles


def fit_kmeans(embeddings: np.ndarray, n_clusters: int = 250, seed: int = 0) -> KMeans:
    """k-means with the write-up's 250 clusters (scikit-learn, seeded)."""
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
