"""k-means clusters of the playlist embeddings, and how they are described."""

import numpy as np
import pandas as pd
from mpd_data import challenge_build, mpd_dir

from mpd_helpers.data import challenge_set, dataset
from mpd_helpers.models import clustering, titles


def _setup():
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, b.truth_path), progress=False)
    return ds, ds.matrix


def test_kmeans_is_seeded_and_clusters_are_described():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 8)) * 10
    points = np.repeat(centres, 40, axis=0) + rng.normal(size=(200, 8))
    a = clustering.fit_kmeans(points, n_clusters=5, seed=0).labels_
    b = clustering.fit_kmeans(points, n_clusters=5, seed=0).labels_
    assert (a == b).all()
    truth = np.repeat(np.arange(5), 40)
    pairs = set(zip(a.tolist(), truth.tolist()))
    assert len(pairs) == 5 and len({p[0] for p in pairs}) == 5  # each planted group is one cluster
    assert clustering.project_2d(points).shape == (200, 2)


def test_cluster_description_and_title_purity():
    ds, m = _setup()
    names = titles.normalize_titles(ds.playlists["name"])
    by_title = pd.factorize(names)[0]  # clusters that are exactly the titles
    assert clustering.title_purity(ds, by_title) == 1.0
    shuffled = np.random.default_rng(0).permutation(by_title)
    assert clustering.title_purity(ds, shuffled) < 0.5
    table = clustering.describe(ds, by_title % 7)
    assert list(table.columns) == ["playlists", "top titles", "top artists"]
    assert table["playlists"].sum() == ds.n_playlists
