"""Title models: similar titles find the right tracks; normalisation drops noise."""

import numpy as np
import pandas as pd

from mpd_data import challenge_build, mpd_dir
from mpd_helpers import dataset, matrix, titles


def test_title_model_finds_playlists_with_similar_titles():
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), b.challenge_path, b.truth_path, progress=False)
    m = matrix.utility_matrix(ds.entries, ds.n_playlists, ds.n_tracks)
    title = titles.TitleModel(k=20).fit(ds, m)
    train = np.flatnonzero(~ds.playlists["is_challenge"].to_numpy())
    norm = titles.normalize_titles(ds.playlists["name"])
    row = train[norm.iloc[train].eq("country").to_numpy()][0]
    s = title.scores(np.array([row])).tocsr()
    best = s.indices[np.argsort(-s.data)[:50]]
    country_rows = train[norm.iloc[train].str.contains("country").to_numpy()]
    in_country = np.asarray(m[country_rows].sum(axis=0)).ravel() > 0
    assert in_country[best].mean() > 0.9


def test_normalize_titles():
    got = titles.normalize_titles(pd.Series(["Country 🤠!!", None, "  Rock  &  Roll "]))
    assert got.tolist() == ["country", "", "rock & roll"]
