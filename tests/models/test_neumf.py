"""Tests of the NeuMF model, its negative sampling, its training step, scoring and files."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from mpd_helpers.errors import MPDInputError  # noqa: E402
from mpd_helpers.models import neumf  # noqa: E402

SMALL = dict(latent_dim=4, dense_layers=(16, 8, 4))


def random_matrix(n_rows: int, n_cols: int, density: float, seed: int) -> sp.csr_matrix:
    """A random binary utility matrix."""
    mat = sp.random(n_rows, n_cols, density=density, format="csr", random_state=seed, dtype=np.float32)
    mat.data[:] = 1.0
    return mat


def planted(seed: int = 0, n_playlists: int = 300, n_groups: int = 6, pool: int = 40, length: int = 14, held: int = 2):
    """Playlists in groups, each drawing from its group's own track pool; some tracks held out."""
    rng = np.random.default_rng(seed)
    group = np.arange(n_playlists) % n_groups
    picks = np.argsort(rng.random((n_playlists, pool)), axis=1)[:, :length]
    tracks = group[:, None] * pool + picks
    rows = np.repeat(np.arange(n_playlists), length - held)
    train = sp.csr_matrix(
        (np.ones(rows.size, np.float32), (rows, tracks[:, held:].ravel())), shape=(n_playlists, n_groups * pool)
    )
    return train, tracks[:, :held]


def test_model_structure_and_parameter_count():
    model = neumf.build_model(50, 120, **SMALL)
    tables = neumf.embeddings(model)
    assert {k: v.shape for k, v in tables.items()} == {
        "mf_user": (50, 4),
        "mf_item": (120, 4),
        "mlp_user": (50, 8),
        "mlp_item": (120, 8),
    }
    names = {layer.name for layer in model.layers}
    assert {
        "mf_user_embedding",
        "mf_item_embedding",
        "mlp_user_embedding",
        "mlp_item_embedding",
        "layer1",
        "layer2",
        "result",
    } <= names
    assert [i.dtype for i in model.inputs] == ["int32", "int32"]
    assert model.get_layer("layer1").units == 8 and model.get_layer("layer2").units == 4
    # embeddings + dense layers (16 -> 8 -> 4) + the sigmoid unit over [GMF (4), MLP (4)]
    expected = (50 + 120) * (4 + 8) + (16 * 8 + 8) + (8 * 4 + 4) + (4 + 4 + 1)
    assert model.count_params() == neumf.parameter_count(50, 120, **SMALL) == expected
    # the write-up's architecture at 10,000 playlists x 180,000 tracks
    assert neumf.parameter_count(10_000, 180_000) == 190_000 * 160 + 57_761
    out = model.predict([np.array([[0], [49]]), np.array([[0], [119]])], verbose=0)
    assert out.shape == (2, 1) and np.all((out > 0) & (out < 1))


def test_negatives_are_absent_and_counted():
    mat = random_matrix(40, 60, 0.2, seed=1).tolil()
    mat[3, :58] = 1.0  # a nearly full playlist forces many redraws
    mat = mat.tocsr()
    users, items, labels = neumf.sample_negatives(mat, 4, np.random.default_rng(0))
    pos, neg = labels == 1, labels == 0
    assert pos.sum() == mat.nnz and neg.sum() == 4 * mat.nnz
    assert np.all(np.asarray(mat[users[pos], items[pos]]).ravel() == 1)
    assert np.all(np.asarray(mat[users[neg], items[neg]]).ravel() == 0)
    assert np.array_equal(np.bincount(users[neg], minlength=40), 4 * np.diff(mat.indptr))
    assert users.dtype == items.dtype == np.int32 and labels.dtype == np.float32
    full = sp.csr_matrix(np.ones((2, 5), np.float32))
    with pytest.raises(MPDInputError):
        neumf.sample_negatives(full, 1, 0)


def test_negatives_are_deterministic_and_fresh():
    mat = random_matrix(30, 200, 0.05, seed=2)
    a = neumf.sample_negatives(mat, 4, np.random.default_rng(7))
    b = neumf.sample_negatives(mat, 4, np.random.default_rng(7))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    rng = np.random.default_rng(7)
    first, second = (neumf.sample_negatives(mat, 4, rng)[1] for _ in range(2))
    assert not np.array_equal(first, second)


def test_step_matches_dense_adam_when_every_row_is_in_the_batch():
    users = np.array([0, 1, 2, 0, 1, 2, 0, 1], np.int32)  # rows repeat within the batch
    items = np.array([0, 1, 2, 3, 0, 1, 2, 3], np.int32)
    labels = np.array([1, 0, 1, 0, 1, 1, 0, 0], np.float32)
    ours, ref = (neumf.build_model(3, 4, seed=3, **SMALL) for _ in range(2))
    trainer = neumf.Trainer(ours)
    adam = keras.optimizers.Adam(learning_rate=0.001)
    x, y = [users[:, None], items[:, None]], labels[:, None]
    for _ in range(3):
        trainer.fit_arrays(users, items, labels, batch_size=8)
        with tf.GradientTape() as tape:
            loss = ref.compute_loss(x=x, y=y, y_pred=ref(x, training=True))
        grads = tape.gradient(loss, ref.trainable_variables)
        adam.apply([tf.convert_to_tensor(g) for g in grads], ref.trainable_variables)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_rows_absent_from_a_batch_are_untouched():
    model = neumf.build_model(5, 6, **SMALL)
    before = neumf.embeddings(model)
    trainer = neumf.Trainer(model)
    trainer.fit_arrays(np.array([0, 1, 0]), np.array([2, 3, 3]), np.array([1, 0, 1], np.float32), batch_size=3)
    after = neumf.embeddings(model)
    for key, seen in (("mf_user", [0, 1]), ("mlp_user", [0, 1]), ("mf_item", [2, 3]), ("mlp_item", [2, 3])):
        unseen = np.setdiff1d(np.arange(len(before[key])), seen)
        assert np.array_equal(before[key][unseen], after[key][unseen])
        assert np.all(before[key][seen] != after[key][seen])


def test_training_is_deterministic_for_a_seed():
    mat = random_matrix(60, 90, 0.1, seed=3)
    config = neumf.NeuMFConfig(epochs=2, batch_size=64, seed=5, **SMALL)
    _, first = neumf.train(mat, config, progress=False)
    _, second = neumf.train(mat, config, progress=False)
    assert len(first["loss"]) == 2 and len(first["accuracy"]) == 2
    np.testing.assert_allclose(first["loss"], second["loss"], atol=1e-6)
    assert first["accuracy"] == second["accuracy"]


def test_score_matches_predict_and_survives_save_and_load(tmp_path):
    mat = random_matrix(25, 70, 0.1, seed=4)
    model, history = neumf.train(mat, neumf.NeuMFConfig(epochs=1, **SMALL), progress=False)
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 25, 500), rng.integers(0, 70, 500)
    scores = neumf.score(model, users, items, batch_size=128)
    predicted = model.predict([users[:, None], items[:, None]], verbose=0)[:, 0]
    np.testing.assert_allclose(scores, predicted, atol=1e-5)
    for project in (False, True):
        direct = neumf.Scorer(model, project=project)(users, items, batch_size=64)
        np.testing.assert_allclose(direct, predicted, atol=1e-5)
    with pytest.raises(MPDInputError):
        neumf.score(model, [25], [0])
    paths = neumf.save(model, history, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())
    loaded, loaded_history = neumf.load(tmp_path)
    assert np.array_equal(neumf.score(loaded, users, items), neumf.score(model, users, items))
    assert loaded_history["loss"] == pytest.approx(history["loss"])
    stored = neumf.load_embeddings(tmp_path)
    assert np.array_equal(stored["mlp_user"], neumf.embeddings(model)["mlp_user"])


def test_held_out_tracks_outscore_random_non_members():
    train, held = planted()
    config = neumf.NeuMFConfig(
        latent_dim=8,
        dense_layers=(32, 16, 8),
        reg_layers=(0, 0, 0),
        learning_rate=0.01,
        epochs=6,
        batch_size=256,
        seed=0,
    )
    model, history = neumf.train(train, config, progress=False)
    assert history["loss"][-1] < history["loss"][0]
    rng = np.random.default_rng(1)
    n_playlists, n_tracks = train.shape
    users = np.repeat(np.arange(n_playlists), held.shape[1])
    positive = neumf.score(model, users, held.ravel())
    members = train.toarray().astype(bool)
    members[np.arange(n_playlists)[:, None], held] = True
    candidates = rng.integers(0, n_tracks, size=(users.size, 20))
    keep = ~members[users[:, None], candidates]
    negative = neumf.score(model, np.repeat(users, 20), candidates.ravel()).reshape(-1, 20)
    auc = (positive[:, None] > negative)[keep].mean()
    print(f"AUC {auc:.3f}")
    assert auc > 0.8, auc


def test_a_sample_of_playlists_trains_only_their_rows():
    mat = random_matrix(80, 60, 0.15, seed=4)
    config = neumf.NeuMFConfig(epochs=1, batch_size=64, seed=2, sample_playlists=20, **SMALL)
    model, history = neumf.train(mat, config, progress=False)
    initial = neumf.build_model(80, 60, seed=2, **SMALL)
    trained = neumf.embeddings(model)["mlp_user"]
    untouched = np.all(trained == neumf.embeddings(initial)["mlp_user"], axis=1)
    assert history["trained_playlists"] == 20 and (~untouched).sum() == 20
    _, all_rows = neumf.train(mat, neumf.NeuMFConfig(epochs=1, batch_size=64, seed=2, **SMALL), progress=False)
    assert all_rows["trained_playlists"] == int((mat.getnnz(axis=1) > 0).sum())
    # an epoch is each trained playlist's positives and n_negatives negatives per positive
    assert all_rows["samples"] == [mat.nnz * 5]
    assert history["samples"][0] < mat.nnz * 5
    with pytest.raises(MPDInputError, match="sample_playlists"):
        neumf.train(mat, neumf.NeuMFConfig(epochs=1, sample_playlists=0, **SMALL), progress=False)
