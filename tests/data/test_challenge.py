"""The challenge builder follows the ten categories and keeps held-out tracks learnable."""

import orjson
import pytest
from mpd_data import challenge_build, mpd_dir

from mpd_helpers.data import challenge_set, dataset, recipe, slices
from mpd_helpers.errors import MPDInputError


@pytest.fixture(scope="module")
def built():
    b = challenge_build()
    return b, orjson.loads(b.challenge_path.read_bytes()), challenge_set.read_truth(b.truth_path).tracks


def test_official_schema_and_size(built):
    b, doc, truth = built
    # the official fields, plus the build id the truth file shares (see test_a_mismatched_pair_is_refused)
    assert set(doc) == {"date", "version", "name", "description", "playlists", "build"}
    assert len(doc["playlists"]) == 100
    for p in doc["playlists"]:
        assert set(p) - {"name"} == {"pid", "num_holdouts", "num_samples", "num_tracks", "tracks"}
        assert p["num_samples"] == len(p["tracks"]) and p["num_tracks"] == p["num_samples"] + p["num_holdouts"]
    challenge_set.read(b.challenge_path)  # the strict reader accepts it


def test_category_rules(built):
    _, doc, truth = built
    category = truth.groupby("pid")["category"].first()
    for p in doc["playlists"]:
        cat = challenge_set.CATEGORIES[category[p["pid"]] - 1]
        assert p["num_samples"] == cat.n_seeds
        assert cat.min_tracks <= p["num_tracks"] <= cat.max_tracks
        assert ("name" in p) == cat.title
        pos = [t["pos"] for t in p["tracks"]]
        assert pos == sorted(pos)
        if not cat.random_seeds:
            assert pos == list(range(cat.n_seeds))
    gaps = [
        p
        for p in doc["playlists"]
        if category[p["pid"]] in (8, 10) and [t["pos"] for t in p["tracks"]] != list(range(p["num_samples"]))
    ]
    assert len(gaps) == 20  # random seeds keep their original positions, with gaps
    assert category.value_counts().to_dict() == {c: 10 for c in range(1, 11)}


def test_seeds_and_held_out_tracks_make_the_playlist(built):
    _, doc, truth = built
    part = slices.read_slices(mpd_dir(5), progress=False)
    source = {}
    with open(built[0].truth_path, "rb") as f:
        for p in orjson.loads(f.read())["playlists"]:
            source[p["pid"]] = p["source_pid"]
    by_pid = part.entries.groupby("row")["track_uri"].apply(list)
    row_of = dict(zip(part.playlists["pid"], range(len(part.playlists))))
    held = truth.groupby("pid")
    for p in doc["playlists"][::7]:
        original = by_pid[row_of[source[p["pid"]]]]
        seeds = {t["pos"]: t["track_uri"] for t in p["tracks"]}
        hidden = dict(zip(held.get_group(p["pid"])["pos"], held.get_group(p["pid"])["track_uri"]))
        assert {**seeds, **hidden} == dict(enumerate(original))


def test_held_out_tracks_occur_in_training_and_challenge_playlists_leave_it(built):
    b, doc, truth = built
    ds = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, b.truth_path), progress=False)
    assert ds.playlists["is_challenge"].sum() == 100
    assert ds.n_playlists == 5000  # 4,900 training playlists + 100 challenge playlists
    train_uris = set(ds.entries.loc[~ds.entries["pid"].isin(ds.challenge_rows), "trackid"])
    covered = truth["track_uri"].isin(train_uris).groupby(truth["pid"]).mean()
    assert covered.min() >= 0.9
    assert b.coverage["playlists"].eq(10).all() and (b.coverage["min_coverage"] >= 0.9).all()
    assert covered.mean() > 0.97


def test_deterministic(tmp_path, built):
    again = recipe.build(mpd_dir(5), tmp_path, per_category=10, seed=0, progress=False)
    assert again.challenge_path.read_bytes() == built[0].challenge_path.read_bytes()
    assert again.truth_path.read_bytes() == built[0].truth_path.read_bytes()


def test_refuses_when_too_few_playlists_qualify(tmp_path):
    with pytest.raises(MPDInputError, match=r"category 9 .*only \d+ playlists qualify"):
        recipe.build(mpd_dir(1), tmp_path, per_category=200, seed=0, progress=False)
    assert not (tmp_path / "challenge_set.json").exists()


def test_truth_frame(built):
    _, doc, truth = built
    assert list(truth.columns) == ["pid", "category", "pos", "track_uri", "artist_uri"]
    assert len(truth) == sum(p["num_holdouts"] for p in doc["playlists"])
    assert truth.groupby("pid")["pos"].apply(lambda s: s.is_monotonic_increasing).all()
