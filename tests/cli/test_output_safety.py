"""Safe with the user's files and honest in its grades.

Nothing the tool did not write is deleted or overwritten; an output that is an input, a
folder or a device is refused before any work; a submission's two files are one output;
OS errors name the file the user asked for; a fitted model is kept as data and a stale one
is refitted; a grade is refused when the truth does not belong to what is graded.
"""

from __future__ import annotations

import errno
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from mpd_data import ROOT, SLICE, challenge_build, copy_dir, last_line, mpd_dir, popular_rows, run_cli

from mpd_helpers import cli, files, pipeline
from mpd_helpers.data import challenge_set, embedded, recipe
from mpd_helpers.grading import submission
from mpd_helpers.models import store


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def popular_submission(path: Path, b: recipe.Build, record: bool = True, skip: int = 0) -> Path:
    """A valid submission for the build's challenge set (the same tracks for each playlist, after ``skip``)."""
    challenge = challenge_set.read(b.challenge_path)
    seeds = challenge.seeds()
    rows = popular_rows(seeds, skip)
    path.parent.mkdir(exist_ok=True)
    answers = challenge.identity if record else None
    return submission.write(path, list(seeds), rows, "team", "a@b.c", challenge=answers)


# --- 1. nothing the tool did not make is deleted or overwritten ------------------------------


def test_synth_refuses_a_folder_of_real_slices(tmp_path, capsys):
    real = tmp_path / "real"
    real.mkdir()
    for p in sorted(mpd_dir(5).glob("mpd.slice.*.json"))[:3]:  # copies of slices, without the generator's stamp
        shutil.copy(p, real / p.name)
    before = snapshot(real)
    code, _, err = run_cli(capsys, "synth", real, "--slices", "1")
    assert code == 2 and last_line(err).startswith(f"error: {real}: exists and holds files this tool did not write")
    assert snapshot(real) == before


def test_synth_replaces_its_own_folder_and_an_empty_one(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli(capsys, "synth", empty, "--slices", "1")[0] == 0
    assert files.read_stamp(empty)["kind"] == "synthetic MPD"
    assert run_cli(capsys, "synth", empty, "--slices", "1", "--seed", "1")[0] == 0
    assert files.read_stamp(empty)["seed"] == 1


@pytest.mark.parametrize("where", ["notes", "mpd"])
def test_continue_never_replaces_a_folder_it_did_not_write(tmp_path, capsys, where):
    mpd = copy_dir(mpd_dir(), tmp_path / "mpd")
    if where == "notes":
        target = tmp_path / "notes"
        target.mkdir()
        (target / "thesis.tex").write_text("three years of work")
    else:
        target = mpd  # the MPD folder itself
    before = snapshot(target)
    code, _, err = run_cli(capsys, "continue", mpd, "--title", "rock", "--model-dir", target, "--quiet")
    assert code == 2 and last_line(err).startswith(f"error: {target}: exists and holds files this tool did not write")
    assert snapshot(target) == before


def _recommend(capsys, out, *extra, truth=None):
    """`recommend` of the popular tracks for the shared challenge set, graded by ``truth`` (its own by default)."""
    b = challenge_build()
    truth = b.truth_path if truth is None else truth
    return run_cli(
        capsys,
        "recommend",
        mpd_dir(5),
        b.challenge_path,
        "--truth",
        truth,
        "--method",
        "popularity",
        "--out",
        out,
        "--quiet",
        *extra,
    )


def test_recommend_refuses_to_write_over_its_inputs(tmp_path, capsys):
    b = challenge_build()
    for out in (b.challenge_path, b.truth_path, mpd_dir(5) / SLICE):
        before = Path(out).read_bytes()
        code, _, err = _recommend(capsys, out)
        assert code == 2 and last_line(err).startswith(f"error: {out}: is an input of this run")
        assert Path(out).read_bytes() == before
        assert "load:" not in err  # refused before anything was read


def test_recommend_refuses_an_input_reached_through_its_gz_name_or_a_link(tmp_path, capsys):
    b = challenge_build()
    link = tmp_path / "link.csv"
    link.symlink_to(b.challenge_path)
    code, _, err = _recommend(capsys, link)
    assert code == 2 and "is an input of this run" in err
    gz_twin = tmp_path / "sub.csv"
    (tmp_path / "sub.csv.gz").symlink_to(b.truth_path)
    code, _, err = _recommend(capsys, gz_twin)
    assert code == 2 and last_line(err).startswith(f"error: {gz_twin}.gz: is an input of this run")


def test_recommend_refuses_devices_and_folders(tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    (tmp_path / "dev.csv.gz").symlink_to("/dev/null")
    for out, message in (
        (Path("/dev/null"), "exists and is not a regular file"),
        (tmp_path / "folder", "is a directory"),
        (tmp_path / "dev.csv", "exists and is not a regular file"),
    ):
        code, _, err = _recommend(capsys, out)
        assert code == 2 and message in last_line(err) and "load:" not in err
    assert Path("/dev/null").is_char_device()


def test_a_write_error_names_the_file_asked_for_not_the_temporary(tmp_path, capsys):
    out = tmp_path / "missing-folder" / "sub.csv"
    code, _, err = _recommend(capsys, out)
    assert code == 2 and last_line(err) == f"error: {out}: No such file or directory"
    assert ".partial-" not in err

    def full(handle):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as caught:
        files.write_files([(tmp_path / "a.csv", full)])
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(tmp_path / "a.csv")
    assert files.leftovers(tmp_path) == []


def test_a_read_only_folder_is_named(tmp_path, monkeypatch):
    def refused(*args, dir=None, prefix="", **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", os.path.join(dir, prefix + "x1"))

    monkeypatch.setattr(files.tempfile, "mkstemp", refused)
    with pytest.raises(PermissionError) as caught:
        files.write_json(tmp_path / "out.json", {})
    assert caught.value.filename == str(tmp_path / "out.json")


def test_a_submissions_two_files_are_replaced_together_or_not_at_all(tmp_path, monkeypatch):
    b = challenge_build()
    path = popular_submission(tmp_path / "sub.csv", b)
    before = snapshot(tmp_path)
    real_replace = os.replace
    calls = []

    def second_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", second_fails)
    with pytest.raises(OSError):
        popular_submission(path, b, record=False)
    monkeypatch.undo()
    assert snapshot(tmp_path) == before  # the .csv renamed first was put back


def test_verify_refuses_a_csv_whose_gz_is_from_another_run(tmp_path, capsys):
    b = challenge_build()
    path = popular_submission(tmp_path / "sub.csv", b)
    assert run_cli(capsys, "verify", b.challenge_path, path)[0] == 0
    # a later run, with other tracks, killed between its two renames: its .csv beside the old .gz
    newer = popular_submission(tmp_path / "newer" / "sub.csv", b, skip=1)
    shutil.copy(newer, path)
    for target in (path, tmp_path / "sub.csv.gz"):
        code, out, _ = run_cli(capsys, "verify", b.challenge_path, target)
        assert code == 1 and "is not from the same run as" in out


def test_verify_refuses_a_submission_of_another_challenge_set(tmp_path, capsys):
    b, other = challenge_build(), challenge_build(seed=1)
    path = popular_submission(tmp_path / "sub.csv", b)
    code, out, _ = run_cli(capsys, "verify", other.challenge_path, path)
    assert code == 1 and f"answers another challenge set ({challenge_set.read(b.challenge_path).identity}" in out


# --- 2. no code runs from a file the tool reads ------------------------------------------------


class _Payload:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _continue(capsys, mpd, model_dir, *extra):
    return run_cli(capsys, "continue", mpd, "--title", "rock", "--model-dir", model_dir, "--quiet", "-n", "5", *extra)


def test_a_crafted_pickle_in_the_model_cache_is_never_run(tmp_path, capsys, monkeypatch):
    mpd = copy_dir(mpd_dir(), tmp_path / "mpd")
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    marker = tmp_path / "ran"
    folder = pipeline.model_dir_for(mpd, "playlist-knn")
    for version in (2, pipeline.MODEL_VERSION):  # the stamp of an older version, and of this one
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "model.pickle").write_bytes(pickle.dumps(_Payload(str(marker))))
        signature = {"version": version, "method": "playlist-knn", "slices": pipeline._slices_signature(mpd)}
        files.write_json(folder / files.STAMP, {"kind": pipeline.MODEL_KIND, "signature": signature})
        code, out, _ = run_cli(capsys, "continue", mpd, "--title", "rock", "--quiet", "-n", "5")
        assert code == 0 and len(out.splitlines()) == 7  # a header of two lines, then 5 tracks
        assert not marker.exists()
    assert not (folder / "model.pickle").exists() and (folder / "model").is_dir()
    assert "import pickle" not in (ROOT / "mpd_helpers" / "pipeline.py").read_text()


@pytest.mark.parametrize(
    "damage", ["truncated array", "garbage json", "no stamp", "truncated stamp", "stamp a list", "tracks gone"]
)
def test_a_damaged_model_cache_is_refitted_with_one_warning(tmp_path, capsys, damage):
    mpd = copy_dir(mpd_dir(), tmp_path / "mpd")
    folder = tmp_path / "model"
    code, first, _ = _continue(capsys, mpd, folder)
    assert code == 0
    if damage == "truncated array":
        npz = next(folder.rglob("*.npz"))
        npz.write_bytes(npz.read_bytes()[:100])
    elif damage == "garbage json":
        next(folder.rglob("model.json")).write_text("[1, 2")
    elif damage == "no stamp":
        (folder / files.STAMP).unlink()
    elif damage == "truncated stamp":
        (folder / files.STAMP).write_text('{"kind": "fitted')
    elif damage == "stamp a list":
        (folder / files.STAMP).write_text("[]")
    else:
        (folder / "tracks.parquet").write_bytes(b"PAR1 nothing")
    code, out, err = _continue(capsys, mpd, folder)
    warnings_ = [line for line in err.splitlines() if line.startswith("warning:")]
    assert code == 0 and out == first and len(warnings_) == 1 and "Traceback" not in err
    code, out, err = _continue(capsys, mpd, folder)  # replaced: loaded without a word
    assert code == 0 and out == first and "warning" not in err and "fit:" not in err


def test_a_model_that_cannot_be_saved_still_answers(tmp_path, capsys, monkeypatch):
    mpd = copy_dir(mpd_dir(), tmp_path / "mpd")

    def full(model, folder):
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "arrays.npz"))

    monkeypatch.setattr(store, "save", full)
    code, out, err = _continue(capsys, mpd, tmp_path / "model")
    assert code == 0 and len(out.splitlines()) == 7  # a header of two lines, then 5 tracks
    assert "warning: could not save the fitted model" in err and "No space left on device" in err
    assert not (tmp_path / "model").exists() and files.leftovers(tmp_path) == []


# --- 3. no silent wrong grade ----------------------------------------------------------------


def test_a_built_challenge_set_without_its_truth_is_refused(tmp_path, capsys):
    b = challenge_build()
    out = tmp_path / "sub.csv"
    code, _, err = run_cli(
        capsys, "recommend", mpd_dir(5), b.challenge_path, "--method", "popularity", "--out", out, "--quiet"
    )
    assert code == 2 and "was built from MPD slices" in last_line(err) and "field 'build'" in last_line(err)
    assert not out.exists()
    code, _, err = run_cli(
        capsys,
        "recommend",
        mpd_dir(5),
        b.challenge_path,
        "--method",
        "popularity",
        "--out",
        out,
        "--quiet",
        "--train-on-sources",
    )
    assert code == 0 and "warning:" in err and "a grade of it is inflated" in err


def test_the_official_challenge_set_needs_no_truth(tmp_path, capsys):
    b = challenge_build()
    doc = orjson.loads(b.challenge_path.read_bytes())
    del doc["build"]
    official = tmp_path / "challenge_set.json"
    official.write_bytes(orjson.dumps(doc))
    code, _, err = run_cli(
        capsys, "recommend", mpd_dir(5), official, "--method", "popularity", "--out", tmp_path / "sub.csv", "--quiet"
    )
    assert code == 0 and "warning" not in err
    assert submission.record(tmp_path / "sub.csv")["challenge"].startswith("sha256 ")


def test_evaluate_refuses_the_truth_of_another_challenge_set(tmp_path, capsys):
    b, other = challenge_build(), challenge_build(seed=1)
    path = popular_submission(tmp_path / "sub.csv", b)
    assert run_cli(capsys, "evaluate", path, "--truth", b.truth_path)[0] == 0
    code, _, err = run_cli(capsys, "evaluate", path, "--truth", other.truth_path)
    assert code == 2 and "answers the challenge set build" in last_line(err) and "field 'challenge_set'" in err


def _truth_variant(tmp_path: Path, change) -> Path:
    doc = orjson.loads(challenge_build().truth_path.read_bytes())
    change(doc)
    path = tmp_path / "truth.json"
    path.write_bytes(orjson.dumps(doc))
    return path


def test_recommend_refuses_a_truth_whose_playlists_are_not_in_the_challenge_set(tmp_path, capsys):
    def foreign(doc):
        del doc["build"]
        for p in doc["playlists"]:
            p["pid"] += 500_000

    truth = _truth_variant(tmp_path, foreign)
    code, _, err = _recommend(capsys, tmp_path / "sub.csv", truth=truth)
    assert code == 2 and "it belongs to another challenge set" in last_line(err) and "field 'pid'" in err


def test_a_truth_covering_part_of_the_challenge_set_is_graded_with_a_warning(tmp_path, capsys):
    truth = _truth_variant(tmp_path, lambda doc: doc.update(playlists=doc["playlists"][:50]))
    code, out, err = _recommend(capsys, tmp_path / "sub.csv", truth=truth)
    assert code == 0 and "warning:" in err and "50 of the 100 challenge playlists have no held-out tracks" in err


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["playlists"].append(dict(d["playlists"][0])), "pid 1000000, field 'pid': appears twice"),
        (lambda d: d.update(playlists=[]), "field 'playlists': holds no playlists"),
        (lambda d: d.update(playlists=None), "field 'playlists': expected an object with a 'playlists' list"),
        (lambda d: d.update(playlists={"a": 1}), "field 'playlists': expected an object with a 'playlists' list"),
        (lambda d: d["playlists"][0]["tracks"][0].update(track_uri=7), "field 'tracks[0].track_uri': expected str"),
        (lambda d: d["playlists"][0].update(pid="x"), "field 'pid': expected int, got str"),
        (lambda d: d["playlists"].__setitem__(0, None), "field 'playlists': a playlist is a NoneType"),
    ],
)
def test_a_malformed_truth_is_refused_naming_pid_and_field(tmp_path, capsys, change, message):
    b = challenge_build()
    path = popular_submission(tmp_path / "sub.csv", b)
    truth = _truth_variant(tmp_path, change)
    code, _, err = run_cli(capsys, "evaluate", path, "--truth", truth)
    assert code == 2 and message in last_line(err) and str(truth) in last_line(err)


def test_a_submission_with_a_second_line_for_a_playlist_is_not_graded(tmp_path, capsys):
    b = challenge_build()
    path = popular_submission(tmp_path / "sub.csv", b, record=False)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[-1]]) + "\n")
    code, _, err = run_cli(capsys, "evaluate", path, "--truth", b.truth_path)
    assert code == 2 and f"line {len(lines) + 1}" in last_line(err) and "a second line for this playlist" in err


# --- 4. arguments and stamps: one line, never a traceback ------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("synth", "{tmp}/out", "--seed", "-1"),
        ("synth", "{tmp}/out", "--seed", str(10**29)),
        ("challenge", "{mpd}", "{tmp}/c", "--seed", "-1"),
        ("challenge", "{mpd}", "{tmp}/c", "--seed", str(10**29)),
        ("embedded", "--root", "{tmp}/e", "--seed", "-1"),
        ("embedded", "--root", "{tmp}/e", "--seed", str(10**29)),
        ("embedded", "--root", "{tmp}/e", "--per-category", "0"),
        ("embedded", "--root", "{tmp}/e", "--slices", "0"),
    ],
)
def test_bad_seeds_and_sizes_are_usage_errors(tmp_path, capsys, argv):
    argv = [a.format(tmp=tmp_path, mpd=mpd_dir()) for a in argv]
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and ("is not a seed in" in err or "is not a positive integer" in err)
    assert list(tmp_path.iterdir()) == []  # nothing half-built


@pytest.mark.parametrize("stamp", [b'{"generator": 4, "sli', b"[4]", b"", b"\xff\xfe"])
def test_an_unreadable_stamp_stamps_nothing(tmp_path, stamp):
    (tmp_path / files.STAMP).write_bytes(stamp)
    assert files.read_stamp(tmp_path) is None and not files.is_complete(tmp_path)


def test_the_embedded_data_is_made_anew_when_its_stamp_is_damaged(tmp_path, monkeypatch):
    made = []
    monkeypatch.setattr(embedded.synthetic, "generate", lambda *a, **k: made.append(a))
    monkeypatch.setattr(
        embedded.recipe,
        "build",
        lambda *a, **k: type("B", (), {"coverage": __import__("pandas").DataFrame({"mean_coverage": [1.0]})})(),
    )
    folder = tmp_path / "synthetic-1x1000-c1-s0"
    folder.mkdir()
    (folder / files.STAMP).write_text('{"generator": 4, "sli')
    embedded.ensure(tmp_path, n_slices=1, per_category=1, progress=False)
    assert len(made) == 1 and files.read_stamp(folder)["kind"] == "embedded data"


@pytest.mark.parametrize("command", ["stats", "verify", "recommend"])
def test_a_closed_stdout_is_no_traceback(tmp_path, command):
    b = challenge_build()
    if command == "verify":
        argv = ["verify", b.challenge_path, popular_submission(tmp_path / "sub.csv", b)]
    elif command == "stats":
        argv = ["stats", mpd_dir()]
    else:
        argv = [
            "recommend",
            mpd_dir(5),
            b.challenge_path,
            "--truth",
            b.truth_path,
            "--method",
            "popularity",
            "--out",
            tmp_path / "r.csv",
            "--quiet",
        ]
    done = subprocess.run(
        [sys.executable, "-m", "mpd_helpers", *map(str, argv)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.close(1),
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr


def test_challenge_never_replaces_a_challenge_set_it_did_not_build(tmp_path, capsys):
    official = tmp_path / "challenge_set.json"
    doc = orjson.loads(challenge_build().challenge_path.read_bytes())
    del doc["build"]
    official.write_bytes(orjson.dumps(doc))
    before = official.read_bytes()
    code, _, err = run_cli(capsys, "challenge", mpd_dir(5), tmp_path, "--per-category", "5")
    assert code == 2 and last_line(err).startswith(f"error: {official}: exists and was not written by a challenge")
    assert official.read_bytes() == before and not (tmp_path / "challenge_truth.json").exists()
    built = tmp_path / "built"
    assert run_cli(capsys, "challenge", mpd_dir(5), built, "--per-category", "5")[0] == 0
    assert run_cli(capsys, "challenge", mpd_dir(5), built, "--per-category", "5", "--seed", "3")[0] == 0


def test_verify_prints_a_hostile_pid_escaped(tmp_path, capsys):
    b = challenge_build()
    path = popular_submission(tmp_path / "sub.csv", b, record=False)
    lines = path.read_text().splitlines()
    lines[1] = "\x1b[2J\x1b[31mgotcha" + lines[1][lines[1].index(",") :]
    path.write_text("\n".join(lines) + "\n")
    code, out, _ = run_cli(capsys, "verify", b.challenge_path, path)
    assert code == 1 and "\x1b" not in out and "pid \\x1b[2J\\x1b[31mgotcha" in out


def test_recommend_refuses_an_mpd_too_small_for_500_tracks(tmp_path, capsys):
    mpd = tmp_path / "mpd"
    mpd.mkdir()
    doc = orjson.loads((mpd_dir() / SLICE).read_bytes())
    doc["playlists"] = doc["playlists"][:3]
    (mpd / SLICE).write_bytes(orjson.dumps(doc))
    official = tmp_path / "challenge_set.json"
    seeds = doc["playlists"][0]["tracks"][:1]
    official.write_bytes(
        orjson.dumps(
            {
                "playlists": [
                    {
                        "pid": 1_000_000,
                        "name": "x",
                        "num_holdouts": 9,
                        "num_samples": 1,
                        "num_tracks": 10,
                        "tracks": seeds,
                    }
                ]
            }
        )
    )
    code, _, err = run_cli(
        capsys, "recommend", mpd, official, "--method", "popularity", "--out", tmp_path / "sub.csv", "--quiet"
    )
    assert code == 2 and "distinct tracks; a submission needs 500 per playlist" in last_line(err)
    assert not (tmp_path / "sub.csv").exists()
