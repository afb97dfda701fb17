"""The loader builds the write-up's representation and names file, pid and field on bad input."""

import warnings

import numpy as np
import orjson
import pytest
from mpd_data import challenge_build, copy_dir, mpd_dir

from mpd_helpers import cli
from mpd_helpers.data import challenge_set, dataset, matrix, rules, slices, stats
from mpd_helpers.errors import MPDInputError

SLICE = "mpd.slice.0-999.json"


def test_representation():
    ds = dataset.load(mpd_dir(), progress=False)
    e = ds.entries
    assert list(e.columns) == ["trackid", "artist_name", "track_name", "pid", "num_holdouts", "track_index", "pos"]
    assert ds.n_playlists == 1000 and len(e) == ds.playlists["num_tracks"].sum()
    # the dense track index is the code of the URI among the sorted distinct URIs
    assert ds.tracks["track_uri"].is_monotonic_increasing and ds.tracks["track_uri"].is_unique
    assert (ds.tracks["track_uri"].to_numpy()[e["track_index"].to_numpy()] == e["trackid"].to_numpy()).all()
    assert e["num_holdouts"].isna().all()


def test_challenge_rows_follow_training_rows():
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, b.truth_path), progress=False)
    rows = ds.challenge_rows
    assert (rows == np.arange(ds.n_playlists - 100, ds.n_playlists)).all()
    assert ds.playlists.loc[rows, "mpd_pid"].tolist() == list(range(1_000_000, 1_000_100))
    assert ds.playlists.loc[rows, "name"].isna().sum() == 20  # categories 4 and 6 have no title
    seeds = ds.entries[ds.entries["pid"].isin(rows)]
    assert len(seeds) == ds.playlists.loc[rows, "num_samples"].sum()
    assert seeds["num_holdouts"].notna().all()


def test_utility_matrix():
    ds = dataset.load(mpd_dir(), progress=False)
    m = matrix.utility_matrix(ds.entries, ds.n_playlists, ds.n_tracks)
    assert ds.matrix is ds.matrix and (ds.matrix != m).nnz == 0  # the dataset's own, built once
    assert m.shape == (1000, ds.n_tracks) and m.nnz == len(ds.entries)
    assert set(np.unique(m.data)) == {1.0}
    row = ds.entries[ds.entries["pid"] == 7]["track_index"].to_numpy()
    assert sorted(m[7].indices) == sorted(row)
    assert matrix.popularity(m).sum() == m.nnz and 0.99 < matrix.sparsity(m) < 1


def _broken(tmp_path, mutate, name=SLICE):
    d = copy_dir(mpd_dir(), tmp_path / "mpd")
    doc = orjson.loads((d / name).read_bytes())
    mutate(doc["playlists"])
    (d / name).write_bytes(orjson.dumps(doc))
    return d


@pytest.mark.parametrize(
    "mutate, pid, field",
    [
        (lambda pls: pls[3].pop("num_followers"), 3, "num_followers"),
        (lambda pls: pls[4].update(pid="4"), "4", "pid"),
        (lambda pls: pls[5]["tracks"][2].update(duration_ms="200000"), 5, "tracks[2].duration_ms"),
        (lambda pls: pls[6]["tracks"][0].pop("album_uri"), 6, "tracks[0].album_uri"),
        (lambda pls: pls[7].update(num_edits=3.0), 7, "num_edits"),
        (lambda pls: pls[8].update(colour="red"), 8, "colour"),
        (lambda pls: pls[9].update(pid=2), 2, "pid"),
        (lambda pls: pls[10].update(num_tracks=pls[10]["num_tracks"] + 1), 10, "num_tracks"),
        (lambda pls: pls[11].update(num_albums=pls[11]["num_albums"] + 1), 11, "num_albums"),
        (lambda pls: pls[12].update(num_artists=1), 12, "num_artists"),
        (lambda pls: pls[13].update(duration_ms=5), 13, "duration_ms"),
        (lambda pls: pls[14]["tracks"][1].update(pos=7), 14, "tracks.pos"),
    ],
)
def test_bad_playlists_are_named_or_skipped(tmp_path, mutate, pid, field):
    d = _broken(tmp_path, mutate)
    with pytest.raises(MPDInputError) as err:
        slices.read_slices(d, progress=False)
    assert err.value.pid == pid and err.value.field == field
    assert SLICE in str(err.value) and f"pid {pid}" in str(err.value) and field in str(err.value)
    with pytest.warns(UserWarning, match="skipped 1 malformed playlist"):
        part = slices.read_slices(d, lenient=True, progress=False)
    assert len(part.playlists) == 999 and part.skipped == 1
    assert len(part.entries) == part.playlists["n_entries"].sum()


def test_malformed_json_names_file_and_line(tmp_path):
    d = copy_dir(mpd_dir(), tmp_path / "mpd")
    text = (d / SLICE).read_bytes()
    (d / SLICE).write_bytes(text[: len(text) // 2])
    with pytest.raises(MPDInputError, match=rf"{SLICE}, line \d+: malformed JSON"):
        slices.read_slices(d, progress=False)


def test_challenge_sample_count_must_match(tmp_path):
    b = challenge_build()
    doc = orjson.loads(b.challenge_path.read_bytes())
    victim = next(p for p in doc["playlists"] if p["num_samples"] == 5)
    victim["num_samples"] = 4
    path = tmp_path / "challenge_set.json"
    path.write_bytes(orjson.dumps(doc))
    with pytest.raises(MPDInputError) as err:
        challenge_set.read(path)
    assert err.value.pid == victim["pid"] and err.value.field == "num_samples"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(challenge_set.read(path, lenient=True).part.playlists) == 99


def test_cli_exit_codes(tmp_path, capsys):
    assert cli.main(["check", str(mpd_dir())]) == 0
    assert "1000 playlists" in capsys.readouterr().out
    d = _broken(tmp_path, lambda pls: pls[3].update(num_tracks=0))
    assert cli.main(["check", str(d)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress bar: one line
    assert err.startswith("error: ") and str(d / SLICE) in err and "pid 3" in err and "num_tracks" in err
    assert cli.main(["check", str(tmp_path / "nowhere")]) == 2


def test_checker_flags_rule_violations(tmp_path):
    d = _broken(tmp_path, lambda pls: (pls[20].update(modified_at=1600000000), pls[21].update(num_followers=0)))
    problems = rules.check_rules(slices.read_slices(d, progress=False))
    assert any("pid 20" in p and "modified_at" in p for p in problems)
    assert any("pid 21" in p and "num_followers" in p for p in problems)


def test_stats_in_the_programs_form():
    figures = stats.compute(slices.read_slices(mpd_dir(), progress=False))
    text = stats.format_stats(figures)
    assert text.startswith("number of playlists 1000\nnumber of tracks ")
    assert "top playlist titles" in text and "num followers histogram" in text
    ref = stats.read_reference()
    assert ref["number of unique tracks"] == 2262292 and ref["top playlist titles"]["country"] == 10000
    table = stats.against_reference(figures, ref)
    assert table.loc["number of playlists", "MPD scaled"] == 1000


def test_held_out_playlists_leave_training_without_counting_as_skipped():
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, b.truth_path), progress=False)
    assert ds.skipped == 0
    assert (~ds.playlists["is_challenge"]).sum() == 5000 - 100


def test_a_truth_without_source_pids_drops_nothing(tmp_path):
    # as with held-out tracks of playlists that are not in these slices (the official set's)
    b = challenge_build()
    doc = orjson.loads(b.truth_path.read_bytes())
    for record in doc["playlists"]:
        del record["source_pid"]
    truth = tmp_path / "truth.json"
    truth.write_bytes(orjson.dumps(doc))
    ds = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, truth), progress=False)
    assert (~ds.playlists["is_challenge"]).sum() == 5000 and ds.skipped == 0


def test_a_truth_from_other_slices_never_makes_skipped_negative():
    b = challenge_build()  # built from 5 slices; held-out pids beyond the first slice are absent
    ds = dataset.load(mpd_dir(1), challenge_set.read(b.challenge_path, b.truth_path), progress=False)
    in_first_slice = sum(p["source_pid"] < 1000 for p in orjson.loads(b.truth_path.read_bytes())["playlists"])
    assert ds.skipped == 0
    assert (~ds.playlists["is_challenge"]).sum() == 1000 - in_first_slice


def test_a_bad_source_pid_is_named(tmp_path):
    b = challenge_build()
    doc = orjson.loads(b.truth_path.read_bytes())
    doc["playlists"][3]["source_pid"] = "12"
    truth = tmp_path / "truth.json"
    truth.write_bytes(orjson.dumps(doc))
    with pytest.raises(MPDInputError, match=r"truth.json, pid \d+, field 'source_pid': expected int"):
        dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, truth), progress=False)


def test_the_lean_loader_keeps_every_entry_as_read_with_each_string_once(tmp_path):
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, b.truth_path), progress=False, workers=2)
    # what the full reader gives, less the held-out playlists, then the challenge playlists
    part = slices.read_slices(mpd_dir(5), progress=False)
    held_out = {p["source_pid"] for p in orjson.loads(b.truth_path.read_bytes())["playlists"]}
    kept = ~part.playlists["pid"].isin(held_out).to_numpy()
    read = part.entries[kept[part.entries["row"].to_numpy()]]
    given = challenge_set.read(b.challenge_path).part.entries
    e = ds.entries
    for column, source in (
        ("trackid", "track_uri"),
        ("artist_name", "artist_name"),
        ("track_name", "track_name"),
        ("pos", "pos"),
    ):
        expected = np.concatenate([read[source].to_numpy(), given[source].to_numpy()])
        assert (e[column].to_numpy() == expected).all(), column
    uris = np.unique(np.concatenate([read["track_uri"].to_numpy(), given["track_uri"].to_numpy()]).astype(str))
    assert (ds.tracks["track_uri"].to_numpy() == uris).all()
    assert (e["track_index"].to_numpy() == np.searchsorted(uris, e["trackid"].to_numpy().astype(str))).all()
    # each distinct string is stored once, each entry keeps a code
    for column in ("trackid", "artist_name", "track_name"):
        assert e[column].dtype == "category" and len(e[column].cat.categories) <= ds.n_tracks
    # the same dataset with one reader, and after a round trip through Parquet
    alone = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, b.truth_path), progress=False, workers=1)
    again = dataset.read_saved(dataset.save(ds, tmp_path / "saved"))
    for other in (alone, again):
        for name in ("entries", "tracks", "playlists"):
            assert getattr(other, name).equals(getattr(ds, name)), name


def test_the_lean_loader_names_a_pid_repeated_in_another_slice(tmp_path):
    d = copy_dir(mpd_dir(2), tmp_path / "mpd")
    second = d / "mpd.slice.1000-1999.json"
    doc = orjson.loads(second.read_bytes())
    doc["playlists"][0]["pid"] = 5
    second.write_bytes(orjson.dumps(doc))
    with pytest.raises(MPDInputError, match=rf"{second}, pid 5, field 'pid': duplicate pid, first in .*{SLICE}"):
        dataset.load(d, progress=False)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        ds = dataset.load(d, lenient=True, progress=False)
    assert ds.n_playlists == 1999 and ds.skipped == 1
