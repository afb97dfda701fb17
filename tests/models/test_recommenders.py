"""One contract for every recommender, then what each kind adds.

The contract (as ``implicit``'s recommender test mixin does for its models): for every
challenge playlist, ``n`` distinct tracks, none a seed; playlists without seeds are served
(by the fallback where there is one, else by the popular fill); the same data give the
same output; and the batch size never changes a result.
"""

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from mpd_data import challenge_build, mpd_dir

from mpd_helpers.data import challenge_set, dataset
from mpd_helpers.models import blend, catalogue, clustering, factorization, neighbours, ranker, titles
from mpd_helpers.models.ranking import top_k_per_row


def _score(users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """A deterministic stand-in for NeuMF's probabilities."""
    return ((users.astype(np.int64) * 7 + items * 13) % 101) / 101.0


def _labels(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 20, n)


def _blend(**kwargs) -> blend.Blend:
    return catalogue.neighbour_blend(**kwargs)


def _small_sources() -> dict:
    return {
        "item-kNN": neighbours.ItemKNN,
        "playlist-kNN": neighbours.PlaylistKNN,
        "title": titles.TitleModel,
        "iALS": lambda: factorization.ALS(factors=16, iterations=3, k=100),
        "successors": neighbours.Successors,
    }


def _small_first_stage(models: dict) -> blend.Blend:
    return blend.Blend(
        [models["item-kNN"], models["iALS"], models["title"]], blend.seed_weights(title_until=1, seeded=(1.0, 1.0))
    )


def test_two_stage_ranks_each_pooled_source_best_and_shares_its_models(data):
    ds, m = data
    rows = ds.challenge_rows
    ranker = FACTORIES["two-stage"](ds.n_playlists).fit(ds)
    assert ranker.candidate_model.components[0] is ranker.models["item-kNN"]  # fitted once, shared
    i, c, _, _ = ranker._features(rows, m, ranker.has_title)
    ranked = sp.csr_matrix((np.ones(len(i)), (i, c)), shape=(len(rows), m.shape[1]))
    for best in (
        top_k_per_row(ranker.models["playlist-kNN"].candidates(rows), 30),
        top_k_per_row(ranker.candidate_model.candidates(rows), 60),
    ):
        assert (best - best.multiply(ranked)).nnz == 0  # nothing of a pooled source's best is left out
    new = ranker.add_playlists(ds.track_lists(rows[:3]), ds.playlists["name"].iloc[rows[:3]])
    assert all(model.matrix.shape[0] == ds.n_playlists + 3 for model in ranker._tree())  # each part once
    assert (ranker.recommend(new, n=20, progress=False) >= 0).all()


def test_two_stage_fits_its_sources_again_only_when_asked_or_when_the_validation_playlists_weigh(data):
    ds, m = data
    rows = ds.challenge_rows
    once = SMALLER["two-stage"](ds.n_playlists).fit(ds)  # at most 50 validation playlists of ~4,900: 1 %
    assert once.refit is None and not once.refitted
    # the sources learnt without the validation playlists' hidden tracks, and serve from the whole matrix
    assert once.models["item-kNN"].train.nnz < once.train.nnz
    assert all(part.matrix is once.matrix for part in once._tree())
    twice = SMALLER["two-stage"](ds.n_playlists)
    twice.refit = True
    twice.fit(ds)
    assert twice.refitted and twice.models["item-kNN"].train.nnz == twice.train.nnz
    for model in (once, twice):
        assert (model.recommend(rows, n=50, progress=False) >= 0).all()


# Every system of the book's catalogue, as the book builds it, except the three costliest,
# which keep their names and classes with fewer factors, trees and validation playlists; then
# variants the catalogue does not name.
SMALLER = {
    "iALS": lambda n: factorization.ALS(factors=16, iterations=3, k=300, fallback=titles.TitleModel()),
    "first stage": lambda n: catalogue.first_stage({name: make() for name, make in _small_sources().items()}),
    "two-stage": lambda n: ranker.LearnedRanker(
        _small_sources(), _small_first_stage, pool={"playlist-kNN": 30}, depth=60, per_category=5, n_estimators=20
    ),
}
FACTORIES = {
    **{name: SMALLER.get(name, lambda n, name=name: catalogue.make(name)) for name in catalogue.SYSTEMS},
    "item-kNN, no fallback": lambda n: neighbours.ItemKNN(),
    "NeuMF + k-means": lambda n: clustering.NeuMFClusters(_score, _labels(n), titles.TitleModel()),
    "blend + re-ranker": lambda n: _blend(reranker=_score, rerank_weight=0.3),
    "RP3beta, pruned": lambda n: neighbours.RP3beta(prune=50),
    "item-kNN, damped, length-weighted": lambda n: neighbours.ItemKNN(damping=0.7, length_weight=True),
}


def test_the_catalogue_names_each_system_once_and_the_command_line_offers_its_own():
    assert all(system.name == name for name, system in catalogue.SYSTEMS.items())
    assert set(catalogue.COMMANDS) == {"popularity", "item-knn", "playlist-knn", "blend", "ials", "two-stage"}
    for command, system in catalogue.COMMANDS.items():
        assert type(catalogue.make(command)) is type(catalogue.make(system.name)) is type(system.make(0))
    with pytest.raises(KeyError, match="no system called"):
        catalogue.make("item-knn-but-not")


@pytest.fixture(scope="module")
def data():
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, b.truth_path), progress=False)
    return ds, ds.matrix


@pytest.mark.parametrize("kind", FACTORIES)
def test_contract(data, kind):
    ds, m = data
    rows = ds.challenge_rows
    seedless = m[rows].getnnz(axis=1) == 0
    assert seedless.any() and (~seedless).any()
    model = FACTORIES[kind](ds.n_playlists).fit(ds)
    out = model.recommend(rows, n=500, batch_size=200, progress=False)
    assert out.shape == (len(rows), 500) and out.dtype == np.int32
    assert ((out >= 0) & (out < ds.n_tracks)).all()
    for i, row in enumerate(rows):
        assert len(np.unique(out[i])) == 500, f"row {row}: repeated tracks"
        assert not np.isin(out[i], m[row].indices).any(), f"row {row}: a seed is recommended"
    # seedless playlists: the fallback's list, or else the most popular tracks
    served = model.fallback.recommend(rows[seedless], n=500, progress=False) if model.fallback else None
    if model.needs_seeds:
        expected = served if served is not None else np.tile(model.popular[:500], (seedless.sum(), 1))
        assert (out[seedless] == expected).all()
    # batch size never matters, and a second fit gives the same lists
    assert (model.recommend(rows, n=500, batch_size=7, progress=False) == out).all()
    again = FACTORIES[kind](ds.n_playlists).fit(ds).recommend(rows, n=500, progress=False)
    assert (again == out).all()


def test_served_by_names_the_route_of_each_playlist(data):
    ds, m = data
    rows = ds.challenge_rows
    seedless = m[rows].getnnz(axis=1) == 0
    model = FACTORIES["NeuMF + k-means"](ds.n_playlists).fit(ds)
    served = model.served_by(rows)
    assert (served[seedless] == "title tf-idf").all() and (served[~seedless] == "NeuMF + k-means").all()
    assert (neighbours.ItemKNN().fit(ds).served_by(rows)[seedless] == "popularity").all()
    assert (titles.TitleModel().fit(ds).served_by(rows) == "title tf-idf").all()


def test_neumf_clusters_rank_by_the_model_score(data):
    ds, m = data
    rows = ds.challenge_rows
    seedless = m[rows].getnnz(axis=1) == 0
    one_cluster = np.zeros(ds.n_playlists, int)  # every training track is a candidate

    def best_is_5(u, i):
        return (i == 5).astype(float)

    out = clustering.NeuMFClusters(best_is_5, one_cluster, titles.TitleModel()).fit(ds).recommend(rows, progress=False)
    has5 = np.asarray(m[rows][:, 5].todense()).ravel() > 0
    assert (out[~seedless & ~has5, 0] == 5).all()


def test_blend_serves_seedless_playlists_by_title_and_reranker_reorders(data):
    ds, m = data
    rows = ds.challenge_rows
    seedless = m[rows].getnnz(axis=1) == 0
    assert blend.seed_weights(title_until=1)(np.array([0, 1, 5])).tolist() == [[0, 0, 1], [1, 1, 1], [1, 1, 0]]
    plain = _blend().fit(ds)
    a = plain.recommend(rows[seedless], n=50, progress=False)
    b = titles.TitleModel().fit(ds).recommend(rows[seedless], n=50, progress=False)
    assert (a == b).all()  # the title model alone, scaled: the same order

    def favourite(u, i):
        return (i % 97 == 0).astype(np.float32)  # a re-ranker that loves some tracks

    reranked = _blend(reranker=favourite, rerank_weight=5.0).fit(ds)
    seeded = rows[~seedless][:20]
    top = reranked.recommend(seeded, n=500, progress=False)
    base = plain.recommend(seeded, n=500, progress=False)
    assert (top[:, 0] % 97 == 0).mean() > (base[:, 0] % 97 == 0).mean()


def test_new_playlists_must_name_fitted_tracks_and_match_their_titles(data):
    ds, m = data
    model = neighbours.Successors().fit(ds)
    with pytest.raises(ValueError, match=rf"0..{ds.n_tracks - 1}"):
        model.add_playlists([[0, ds.n_tracks]], ["x"])
    with pytest.raises(ValueError, match="2 track lists and 1 titles"):
        model.add_playlists([[0], [1]], ["x"])
    assert model.matrix.shape[0] == ds.n_playlists  # nothing was added
    new = model.add_playlists([[3, 1, 3], []], ["x", "y"])
    assert model.matrix[new[0]].indices.tolist() == [1, 3] and model.matrix[new[1]].nnz == 0
    assert model.order.last[new[0], 0] == 3 and model.order.from_start[new].tolist() == [True, False]


def test_a_blend_given_its_components_scores_combines_them_as_it_would_itself(data):
    ds, m = data
    rows = ds.challenge_rows
    blend = _blend().fit(ds)
    known = {id(c): c.candidates(rows) for c in blend.components}
    given, own = blend.combine(rows, known), blend.scores(rows)
    assert (given != own).nnz == 0 and given.nnz == own.nnz


def _pruned_two_stage(**options) -> ranker.LearnedRanker:
    sources = {**_small_sources(), "item-kNN": lambda: neighbours.ItemKNN(prune=40)}
    return ranker.LearnedRanker(
        sources, _small_first_stage, pool={"playlist-kNN": 30}, depth=60, per_category=5, n_estimators=20, **options
    )


def test_two_stage_similarity_features_are_the_seeds_own_similarities(data):
    ds, m = data
    model = _pruned_two_stage().fit(ds)
    rows = ds.challenge_rows[:40]
    i, c, features, _ = model._features(rows, m, model.has_title)
    similar = model.models["item-kNN"].similar.tocsc()
    factors = model.models["iALS"].item_factors().astype(np.float64)
    unit = factors / np.maximum(np.linalg.norm(factors, axis=1, keepdims=True), 1e-12)
    seeded = 0
    for k in range(0, len(i), 97):  # a sample of the pairs, each checked against its seeds by hand
        seeds = m[rows[i[k]]].indices
        got = features.iloc[k]
        if len(seeds) == 0:
            assert np.isnan(got["item-kNN max over seeds"]) and np.isnan(got["iALS mean over seeds"])
            continue
        seeded += 1
        column = similar[:, [c[k]]][seeds].toarray().ravel()
        cos = unit[seeds] @ unit[c[k]]
        assert got["item-kNN max over seeds"] == pytest.approx(column.max(), abs=1e-6)
        assert got["item-kNN share of seeds"] == pytest.approx((column > 0).mean(), abs=1e-6)
        assert (got["iALS max over seeds"], got["iALS mean over seeds"], got["iALS min over seeds"]) == pytest.approx(
            (cos.max(), cos.mean(), cos.min()), abs=1e-4
        )
    assert seeded > 5
    assert {ranker._group(name, model.sources) for name in features.columns} == set(ranker.PIPELINE_GROUPS)


def test_two_stage_artist_and_album_features_are_the_seeds_own_cooccurrence(data):
    ds, m = data
    model = _pruned_two_stage(groups=(*ranker.PIPELINE_GROUPS, "artists and albums")).fit(ds)
    rows = ds.challenge_rows[:40]
    i, c, features, _ = model._features(rows, m, model.has_title)
    assert {ranker._group(name, model.sources) for name in features.columns} == set(ranker.GROUPS)
    seeded = 0
    for level, of in (("artist", model.artist_of), ("album", model.album_of)):
        similar = model.linked[level].similar.tocsc()
        for k in range(0, len(i), 97):  # a sample of the pairs: the candidate's artist against each seed's
            seeds = m[rows[i[k]]].indices
            got = features.iloc[k][f"its {level} with the seeds' {level}s"]
            if len(seeds) == 0:
                assert np.isnan(got)
                continue
            seeded += 1
            column = similar[:, [of.indices[c[k]]]][of.indices[seeds]].toarray().ravel()
            assert got == pytest.approx(column.mean(), abs=1e-6)
    assert seeded > 10


@pytest.fixture(scope="module")
def kept(data):
    """A small two-stage pipeline that keeps its validation features."""
    return _pruned_two_stage(keep_training=True).fit(data[0])


def test_two_stage_pair_scores_learn_from_validation_pairs_and_serve_the_served(data, kept):
    ds, _ = data
    calls = {"learned": [], "served": []}

    def scorer(kind):
        def score(users, items):
            calls[kind].append(np.unique(users))
            return _score(users, items)

        return score

    variant = kept.with_pair_scores({"stand-in": scorer("learned")}, {"stand-in": scorer("served")})
    assert variant.feature_names == [*kept.feature_names, "stand-in"] and not kept.pair_scorers
    _, val_rows, _ = ranker.validation_split(ds, kept.per_category, kept.seed)
    assert set(np.concatenate(calls["learned"])) == set(val_rows)  # never a challenge playlist
    rows = ds.challenge_rows
    assert not calls["served"]
    recs = variant.recommend(rows, n=50, progress=False)
    assert set(np.concatenate(calls["served"])) <= set(rows) and (recs >= 0).all()
    assert "pair scores" in variant.group_importance().index
    again = variant.with_groups(ranker.BASE_GROUPS)  # the pair scores stay
    assert again.feature_names[-1] == "stand-in" and "stand-in" not in again.feature_names[:-1]


def test_two_stage_averages_differently_seeded_rankers(kept):
    three = kept.with_groups(kept.groups, average=3)
    X = kept.training[0][kept.feature_names]
    each = [r.predict(X, num_threads=1) for r in three.ranker.rankers]
    assert len(each) == 3 and not np.allclose(each[0], each[1])  # the seed draws XE-NDCG's gains
    np.testing.assert_allclose(three.ranker.predict(X, num_threads=1), np.mean(each, axis=0))
    np.testing.assert_array_equal(each[0], kept.ranker.predict(X, num_threads=1))  # the first: the ranker's own seed


def test_two_stage_variants_share_the_sources_and_learn_only_their_groups(data):
    ds, _ = data
    with pytest.raises(ValueError, match="unknown feature groups"):
        _pruned_two_stage(groups=("scores", "colour"))
    full = _pruned_two_stage(keep_training=True).fit(ds)
    base = full.with_groups(ranker.BASE_GROUPS)
    assert base.models is full.models and base.candidate_model is full.candidate_model
    assert {ranker._group(name, full.sources) for name in base.feature_names} == set(ranker.BASE_GROUPS)
    assert set(base.feature_names) < set(full.feature_names)
    assert full.group_importance().sum() == pytest.approx(1.0)
    assert set(full.group_importance().index) <= set(ranker.GROUPS)
    assert (base.recommend(ds.challenge_rows, n=50, progress=False) >= 0).all()
    assert not hasattr(_pruned_two_stage().fit(ds), "training")  # kept only when asked


def test_validation_ndcg_charges_a_pool_for_the_hidden_tracks_it_misses():
    scores = np.array([0.9, 0.1, 0.5, 0.3, 0.2])
    labels = np.array([1, 0, 1, 0, 1])
    # the first list holds 2 of its 3 hidden tracks, ranked 1st and 2nd; the second hides none
    expected = (1 + 1 / np.log2(3)) / (1 + 1 / np.log2(3) + 1 / np.log2(4))
    assert ranker._ndcg(scores, labels, np.array([3, 2]), np.array([3, 0])) == pytest.approx(expected)
    # a list that holds its only hidden track second
    assert ranker._ndcg(scores[3:], labels[3:], np.array([2]), np.array([1])) == pytest.approx(1 / np.log2(3))


def test_two_stage_settings_are_validated_on_validation_playlists_alone(data):
    ds, _ = data
    model = _pruned_two_stage(keep_training=True).fit(ds)
    table = model.validate({"few trees": {"n_estimators": 5}, "more leaves": {"num_leaves": 7}})
    assert list(table.index) == ["few trees", "more leaves"]
    assert table["validation NDCG"].between(0, 1).all() and table.loc["few trees", "n_estimators"] == 5
    assert model.params["n_estimators"] == 20  # the fitted ranker is left as it was


def test_two_stage_validates_feature_groups_on_their_own_columns(kept, monkeypatch):
    learned = []
    learn = ranker.LearnedRanker._learn

    def spy(self, features, labels, group):
        learned.append(list(features.columns))
        return learn(self, features, labels, group)

    monkeypatch.setattr(ranker.LearnedRanker, "_learn", spy)
    table = kept.validate({"first features": {"groups": ranker.BASE_GROUPS}, "as fitted": {}})
    assert learned[1] == kept.feature_names
    assert learned[0] == [n for n in kept.feature_names if ranker._group(n, kept.sources) in ranker.BASE_GROUPS]
    assert len(learned[0]) < len(learned[1]) and table["validation NDCG"].between(0, 1).all()


def test_two_stage_learns_from_training_playlists_only_never_from_the_held_out_truth():
    b = challenge_build()
    truth = challenge_set.read_truth(b.truth_path)
    uris = truth.tracks["track_uri"].unique()  # every held-out track renamed to another: a different truth
    renamed = dict(zip(uris, np.roll(uris, 7)))
    other = dataclasses.replace(truth, tracks=truth.tracks.assign(track_uri=truth.tracks["track_uri"].map(renamed)))
    real = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, truth), progress=False)
    val, val_rows, hidden = ranker.validation_split(real, per_category=5)
    assert not real.playlists["is_challenge"].to_numpy()[val_rows].any()  # cut from training playlists
    assert (hidden - hidden.multiply(real.training[val_rows])).nnz == 0  # labels: their own tracks
    rows = real.challenge_rows
    every = (*ranker.PIPELINE_GROUPS, "artists and albums")  # every group of features
    assert np.array_equal(
        _pruned_two_stage(groups=every).fit(real).recommend(rows, n=100, progress=False),
        _pruned_two_stage(groups=every)
        .fit(dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, other), progress=False))
        .recommend(rows, n=100, progress=False),
    )
