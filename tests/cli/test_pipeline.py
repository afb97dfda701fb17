"""The command line's main job (`recommend`) and continuing one new playlist (`continue`)."""

import os

import numpy as np
import orjson
import pandas as pd
import pytest
from mpd_data import challenge_build, copy_dir, mpd_dir

from mpd_helpers import cli, pipeline
from mpd_helpers.data import challenge_set, dataset, slices
from mpd_helpers.grading import metrics, submission
from mpd_helpers.models import base, catalogue, clustering, store, titles


@pytest.fixture(scope="module")
def data():
    b = challenge_build()
    ds = dataset.load(mpd_dir(5), challenge_set.read(b.challenge_path, b.truth_path), progress=False)
    return b, ds, ds.matrix


def test_recommend_writes_a_verified_submission_and_grades_it_as_the_library_does(data, tmp_path, capsys):
    b, ds, m = data
    out = tmp_path / "sub.csv"
    args = [
        "recommend",
        str(mpd_dir(5)),
        str(b.challenge_path),
        "--method",
        "playlist-knn",
        "--out",
        str(out),
        "--truth",
        str(b.truth_path),
        "--workers",
        "1",
        "--quiet",
    ]
    assert cli.main(args) == 0
    printed = capsys.readouterr()
    assert submission.verify(challenge_set.read(b.challenge_path), out) == [] and (tmp_path / "sub.csv.gz").is_file()
    for name in ("load", "fit", "recommend", "write", "verify", "grade"):
        assert f"{name}:" in printed.err and "GiB" in printed.err
    recs = pipeline.METHODS["playlist-knn"].make(0).fit(ds).recommend(ds.challenge_rows, progress=False)
    expected = metrics.evaluate(
        base.as_frame(ds, ds.challenge_rows, recs), challenge_set.read_truth(b.truth_path).tracks, ndcg="spotify"
    )["r_precision"].mean()
    all_row = next(line for line in printed.out.splitlines() if line.startswith("all "))
    assert f"{expected:.4f}" in all_row


def test_the_run_reports_the_training_datas_size_as_read_from_the_slices(data, tmp_path):
    b, ds, m = data
    run = pipeline.recommend_all(
        mpd_dir(5), b.challenge_path, "popularity", tmp_path / "s.csv", b.truth_path, workers=1, progress=False
    )
    assert list(run.stages["stage"]) == ["load", "fit", "recommend", "write", "verify", "grade"]
    assert run.grade.loc["all", "count"] == 100
    part = slices.read_slices(mpd_dir(5), progress=False)
    held_out = {p["source_pid"] for p in orjson.loads(b.truth_path.read_bytes())["playlists"]}
    training = part.entries[~part.playlists["pid"].isin(held_out).to_numpy()[part.entries["row"].to_numpy()]]
    assert run.sizes == {
        "playlists": len(part.playlists) - len(held_out),
        "entries": len(training),
        "tracks": training["track_uri"].nunique(),
        "albums": training["album_uri"].nunique(),
        "artists": training["artist_uri"].nunique(),
    }


@pytest.mark.parametrize(
    "bad, message",
    [
        (["--method", "svd"], "invalid choice"),
        (["--workers", "0"], "not a positive integer"),
    ],
)
def test_recommend_rejects_bad_arguments(data, tmp_path, capsys, bad, message):
    b, _, _ = data
    with pytest.raises(SystemExit) as stop:
        cli.main(["recommend", str(mpd_dir(5)), str(b.challenge_path), "--out", str(tmp_path / "s.csv"), *bad])
    assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_recommend_names_a_missing_challenge_set_and_writes_nothing(tmp_path, capsys):
    missing = tmp_path / "nowhere.json"
    assert cli.main(["recommend", str(mpd_dir(5)), str(missing), "--out", str(tmp_path / "s.csv"), "--quiet"]) == 2
    assert str(missing) in capsys.readouterr().err
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("method", list(pipeline.METHODS))
def test_a_new_playlist_is_served_as_a_fitted_one(data, method, tmp_path):
    b, ds, m = data
    # the command line's system; the two-stage pipeline with a small validation challenge, to fit faster
    system = catalogue.two_stage(per_category=10) if method == "two-stage" else pipeline.METHODS[method].make(0)
    model = system.fit(ds)
    rows = ds.challenge_rows[::7]
    fitted = model.recommend(rows, n=100, progress=False)
    store.save(model, tmp_path)  # as `continue` keeps it between calls
    model = store.load(tmp_path)
    new = model.add_playlists(ds.track_lists(rows), ds.playlists["name"].iloc[rows])
    assert (new >= ds.n_playlists).all()
    served = model.recommend(new, n=100, progress=False)
    if not pipeline.METHODS[method].solved_for_new:
        assert (served == fitted).all()
    else:  # factors solved from the seeds: nearly the same tracks
        overlap = [len(np.intersect1d(a, b)) / 100 for a, b in zip(served, fitted)]
        assert np.mean(overlap) > 0.8, overlap


def test_neumf_cannot_serve_a_new_playlist(data):
    _, ds, m = data
    model = clustering.NeuMFClusters(
        lambda u, i: np.zeros(len(u)), np.zeros(ds.n_playlists, int), titles.TitleModel()
    ).fit(ds)
    with pytest.raises(NotImplementedError):
        model.add_playlists([[0]], pd.Series(["x"]))


def test_continue_fits_once_then_reuses_the_saved_model(tmp_path, capsys):
    data_dir = copy_dir(mpd_dir(1), tmp_path / "mpd")
    cache = tmp_path / "model"
    base = ["continue", str(data_dir), "--model-dir", str(cache), "--quiet"]
    assert cli.main([*base, "--title", "country", "-n", "7"]) == 0
    first = capsys.readouterr()
    assert "load:" in first.err and len(first.out.splitlines()) == 2 + 7
    saved = (cache / "model" / "arrays.npz").stat().st_mtime_ns
    assert cli.main([*base, "--title", "country", "-n", "7"]) == 0
    second = capsys.readouterr()
    assert "load:" not in second.err and second.out == first.out
    assert (cache / "model" / "arrays.npz").stat().st_mtime_ns == saved
    uri = slices.read_slices(data_dir, progress=False).entries["track_uri"].iloc[0]
    assert cli.main([*base, "--track", uri, "-n", "5", "--uris"]) == 0
    assert uri not in capsys.readouterr().out  # a seed is never recommended back
    slice_file = slices.slice_files(data_dir)[0]
    os.utime(slice_file, ns=(saved + 10**9, saved + 10**9))  # the data changed: fit again
    assert cli.main([*base, "--title", "country"]) == 0
    assert "load:" in capsys.readouterr().err


@pytest.mark.parametrize(
    "bad, message",
    [
        ([], "give a title, seed tracks, or both"),
        (["--track", "spotify:track:0000000000000000000000"], "not in the dataset"),
    ],
)
def test_continue_names_what_is_wrong(tmp_path, capsys, bad, message):
    assert cli.main(["continue", str(mpd_dir(1)), "--model-dir", str(tmp_path / "m"), "--quiet", *bad]) == 2
    assert message in capsys.readouterr().err
