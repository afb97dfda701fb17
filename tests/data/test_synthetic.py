"""The generator writes the MPD's schema, passes the checker's rules, is deterministic, and
knows its artists' genres."""

import filecmp

import numpy as np
import orjson
import pytest
from mpd_data import mpd_dir

from mpd_helpers.data import rules, slices, synthetic
from mpd_helpers.data.slices import PLAYLIST_FIELDS, TRACK_FIELDS
from mpd_helpers.errors import MPDInputError


@pytest.fixture(scope="module")
def doc():
    return orjson.loads((mpd_dir() / "mpd.slice.0-999.json").read_bytes())


def test_file_names_and_info_block(doc):
    assert sorted(p.name for p in mpd_dir().iterdir()) == ["complete.json", "mpd.slice.0-999.json"]
    assert set(doc) == {"info", "playlists"}
    assert set(doc["info"]) == {"generated_on", "slice", "version"}
    assert doc["info"]["slice"] == "0-999"
    assert [p["pid"] for p in doc["playlists"]] == list(range(1000))


def test_exact_schema(doc):
    for pl in doc["playlists"]:
        assert set(pl) - {"description"} == set(PLAYLIST_FIELDS)
        for name, typ in PLAYLIST_FIELDS.items():
            assert type(pl[name]) is typ, name
        for tr in pl["tracks"]:
            assert set(tr) == set(TRACK_FIELDS)
            assert all(type(tr[k]) is t for k, t in TRACK_FIELDS.items())


def test_every_checker_rule_holds():
    part = slices.read_slices(mpd_dir(), progress=False)  # strict: counts, pos, durations
    assert rules.check_rules(part) == []
    lengths = part.playlists["num_tracks"]
    assert lengths.between(5, 250).all()
    assert (part.playlists["num_followers"] >= 1).all() and (part.playlists["num_edits"] > 0).all()


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    synthetic.generate(tmp_path / "a", n_slices=1, seed=0, progress=False)
    assert filecmp.cmp(tmp_path / "a" / "mpd.slice.0-999.json", mpd_dir() / "mpd.slice.0-999.json", shallow=False)
    synthetic.generate(tmp_path / "b", n_slices=1, seed=1, progress=False)
    assert not filecmp.cmp(tmp_path / "b" / "mpd.slice.0-999.json", mpd_dir() / "mpd.slice.0-999.json", shallow=False)


def test_each_slice_is_the_same_whatever_the_number_of_workers(tmp_path):
    alone = synthetic.generate(tmp_path / "one", n_slices=3, seed=5, progress=False, workers=1)
    shared = synthetic.generate(tmp_path / "two", n_slices=3, seed=5, progress=False, workers=2)
    assert [p.name for p in alone] == [p.name for p in shared] == [synthetic.slice_name(i * 1000) for i in range(3)]
    for a, b in zip(alone, shared):
        assert filecmp.cmp(a, b, shallow=False), a.name
    # Slices are drawn from streams of their own: no two share their playlists.
    docs = [orjson.loads(p.read_bytes())["playlists"] for p in alone]
    assert [pl["pid"] for pl in docs[2]] == list(range(2000, 3000))
    firsts = [[t["track_uri"] for t in d[0]["tracks"]] for d in docs]
    assert firsts[0] != firsts[1] != firsts[2]


def test_the_catalogue_grows_with_the_playlists_as_the_mpds_does():
    small, large = (
        synthetic.Catalogue(np.random.default_rng(0), n, synthetic.SynthConfig()) for n in (10_000, 1_000_000)
    )
    assert len(small.artist_uri) == 36_000  # 1,500 per genre up to 10,000 playlists
    assert 290_000 <= len(large.artist_uri) <= 310_000  # the MPD: 295,860 artists played at 1M playlists
    assert len(np.unique(large.track_uri)) == len(large.track_uri)
    assert (
        large.track_artist[np.searchsorted(large.track_album, np.arange(len(large.album_uri)))] == large.album_artist
    ).all()


def test_shape_of_the_data_follows_the_mpd(doc):
    pls = doc["playlists"]
    lengths = np.array([p["num_tracks"] for p in pls])
    assert 55 <= lengths.mean() <= 78  # the MPD: 66.3
    assert 12 <= np.median(lengths) <= 60 and lengths.max() > 150
    ones = np.mean([p["num_followers"] == 1 for p in pls])
    assert 0.65 <= ones <= 0.85  # the MPD: 0.754
    assert 0.002 <= np.mean(["description" in p for p in pls]) <= 0.05
    assert all(p["modified_at"] <= synthetic.CUTOFF and p["modified_at"] % 86_400 == 0 for p in pls)


def test_structure_a_recommender_can_learn(doc):
    pls = doc["playlists"]
    same_album = np.mean([a["album_uri"] == b["album_uri"] for p in pls for a, b in zip(p["tracks"], p["tracks"][1:])])
    assert same_album > 0.2  # runs through an album, in order
    counts = {}
    for p in pls:
        for t in p["tracks"]:
            counts[t["track_uri"]] = counts.get(t["track_uri"], 0) + 1
    c = np.sort(np.array(list(counts.values())))[::-1]
    assert c[0] > 20 * np.median(c)  # long-tailed popularity

    # Playlists with the same plain title share far more artists than random pairs.
    def artists(p):
        return {t["artist_uri"] for t in p["tracks"]}

    country = [artists(p) for p in pls if p["name"].lower() == "country"]
    rap = [artists(p) for p in pls if p["name"].lower() == "rap"]
    within = np.mean([len(a & b) > 0 for i, a in enumerate(country) for b in country[i + 1 :]])
    across = np.mean([len(a & b) > 0 for a in country for b in rap])
    assert within > 3 * across


def test_uris_are_22_base62_characters():
    uris = synthetic.random_uris(np.random.default_rng(0), "track", 1000)
    assert len(set(uris.tolist())) == 1000
    assert all(u.startswith("spotify:track:") and len(u) == 36 and u[14:].isalnum() for u in uris.tolist())


def test_the_artists_genres_are_known_for_generated_data_only(tmp_path):
    genres = synthetic.artist_genres(mpd_dir())
    part = slices.read_slices(mpd_dir(), progress=False)
    assert part.entries["artist_uri"].isin(genres.index).all()
    assert set(genres.unique()) == set(range(len(synthetic.GENRES)))
    # Slices that the generator did not stamp (real ones, say) have no known genres.
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "mpd.slice.0-999.json").write_bytes((mpd_dir() / "mpd.slice.0-999.json").read_bytes())
    assert synthetic.artist_genres(plain) is None
    # Another version of the generator drew other genres: the data must be generated again.
    older = tmp_path / "older"
    older.mkdir()
    stamp = orjson.loads((mpd_dir() / "complete.json").read_bytes())
    (older / "complete.json").write_bytes(orjson.dumps({**stamp, "generator": synthetic.GENERATOR_VERSION - 1}))
    with pytest.raises(MPDInputError, match="complete.json.*generator"):
        synthetic.artist_genres(older)
